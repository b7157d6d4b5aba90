#!/usr/bin/env bash
# make test-matrix [MATRIX="15 17 18"]: the whole suite (scripts/test.sh: build,
# install, pg_regress, isolation, TAP) on each PostgreSQL major version, each in
# a Debian chroot of the suite that ships it as its own:
#
#   15  bookworm (Debian 12)   17  trixie (Debian 13)   18  sid (unstable)
#
# Version 15 runs in a chroot too, although the host is Debian 12: the chroot
# starts from minbase, so it also proves that EAPI_PACKAGES is all a clean
# machine needs, and the host's own PostgreSQL is left alone.
#
# The chroots are cached in $EAPI_CHROOTS (scripts/chroot.sh): the first run
# debootstraps and installs packages; later runs reuse them.  Each version's
# output goes to $EAPI_MATRIX_LOGS/pgNN.log.  Needs root.
#
# scripts/test.sh's selectors pass through, to run part of the suite on each
# version while working on it:
#   MATRIX="17 18" PROVE_TESTS="test/t/020_edges.pl" make test-matrix
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/chroot.sh

[ "$(id -u)" -eq 0 ] || { echo "test-matrix needs root (debootstrap, chroot, mount)" >&2; exit 1; }

versions=${MATRIX:-${*:-15 17 18}}
logs=${EAPI_MATRIX_LOGS:-/tmp/ecommerce_api-matrix}
mkdir -p "$logs"
trap chroot_release EXIT

# the selectors of scripts/test.sh that were given, for the chroot's clean environment
selectors=()
for var in SUITES REGRESS_TESTS PROVE_TESTS; do
	[ -n "${!var:-}" ] && selectors+=("$var=${!var}")
done

# The tree as it is now, tracked and new files, without build products.
tree_files() {
	if [ -d .git ] || [ -f .git ]; then
		git ls-files -z --cached --others --exclude-standard
	else
		find . -path ./.git -prune -o -path ./demo -prune -o -type f -print0
	fi
}

# counts PGNN.log: what ran, from the runners' own closing lines
counts() {
	local log=$1 regress iso tap
	# pg_regress: "All 12 tests passed." (15) or "# All 12 tests passed." (16+),
	# once for the regress run, once for the isolation run
	regress=$(grep -oE 'All [0-9]+ tests passed|[0-9]+ of [0-9]+ tests failed' "$log" | sed -n 1p || true)
	iso=$(grep -oE 'All [0-9]+ tests passed|[0-9]+ of [0-9]+ tests failed' "$log" | sed -n 2p || true)
	tap=$(grep -oE 'Files=[0-9]+, Tests=[0-9]+' "$log" | tail -n 1 || true)
	echo "regress: ${regress:-?}; isolation: ${iso:-?}; TAP: ${tap:-?}"
}

declare -A result
passed=0 failed=0
for v in $versions; do
	suite=$(suite_of "$v")
	log=$logs/pg$v.log
	: > "$log"
	echo "== PostgreSQL $v ($suite)"
	start=$SECONDS
	# what scripts/test.sh needs for this version: EAPI_PACKAGES of common.sh
	pkgs=$(PG_CONFIG=/usr/lib/postgresql/$v/bin/pg_config bash -c '. scripts/common.sh; echo $EAPI_PACKAGES')
	status=0
	if ! dev_chroot "$suite" $pkgs >>"$log" 2>&1; then
		status=1
		echo "   could not prepare the $suite chroot:"; tail -n 20 "$log"
	fi
	prep=$((SECONDS - start))
	if [ $status -eq 0 ]; then
		dir=$CHROOT_DIR
		rm -rf "$dir/build/ecommerce_api"
		mkdir -p "$dir/build/ecommerce_api"
		tree_files | tar --null -T - -cf - | tar -C "$dir/build/ecommerce_api" -xf -
		in_chroot "$dir" env "${selectors[@]}" bash -c "cd /build/ecommerce_api &&
			PG_CONFIG=/usr/lib/postgresql/$v/bin/pg_config bash scripts/test.sh" >>"$log" 2>&1 || status=$?
	fi
	chroot_release
	suite_time=$((SECONDS - start - prep))
	# the team builds with -Wall -Wextra and no warnings, on every version
	warnings=$(grep -c 'warning:' "$log" || true)
	[ "$warnings" -eq 0 ] || status=1
	line="prepare ${prep}s, suite ${suite_time}s; $(counts "$log"); compiler warnings: $warnings"
	if [ $status -eq 0 ]; then
		result[$v]="pass  $line"
		passed=$((passed + 1))
	else
		result[$v]="FAIL  $line (log: $log)"
		failed=$((failed + 1))
		tail -n 60 "$log"
	fi
	echo "   ${result[$v]}"
done

echo
echo "PostgreSQL version matrix:"
for v in $versions; do
	echo "  $v ($(suite_of "$v")): ${result[$v]}"
done
echo "matrix: $passed passed, $failed failed"
[ $failed -eq 0 ]
