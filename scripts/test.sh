#!/usr/bin/env bash
# make test: install what is missing, build (warnings are errors), install,
# then run the pg_regress, isolation and TAP suites as an unprivileged user.
# Every suite runs even when an earlier one failed; the script fails at the
# end, after a summary, if any did.
#
#   SUITES="regress isolation tap"   the suites to run (default: all three)
#   REGRESS_TESTS="auth orders"      only these test/sql scripts
#   PROVE_TESTS="test/t/001_core.pl" only these TAP files
#
# The "fuzz" suite is the short run of the coverage-guided fuzz targets
# (fuzz/, make -C fuzz check); make fuzz runs them long.  It is left out when
# only some tests were asked for (REGRESS_TESTS, PROVE_TESTS) and SUITES not.
#
# PostgreSQL refuses to run as root, so as root the suites run as "postgres"
# in a copy of the tree that user can write to.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

if [ -n "${REGRESS_TESTS:-}${PROVE_TESTS:-}" ]; then
	SUITES=${SUITES:-regress isolation tap}
else
	SUITES=${SUITES:-regress isolation tap fuzz}
fi

ensure_packages
# COPT is PGXS's hook for extra compiler flags (Makefile.global adds it to
# CFLAGS): the team's "zero warnings" is enforced, not hoped for.
make -s PG_CONFIG="$PG_CONFIG" COPT=-Werror
make -s PG_CONFIG="$PG_CONFIG" install >/dev/null

if [ "$(id -u)" -eq 0 ]; then
	tree=$(mktemp -d /tmp/ecommerce_api-test.XXXXXX)
	trap 'rm -rf "$tree"' EXIT
	tar --exclude=./.git --exclude=./demo -cf - . | tar -C "$tree" -xf -
	chown -R postgres: "$tree"
else
	tree=$PWD
fi

# run_suite NAME VARIABLES...: make installcheck with the other suites'
# variables emptied (PGXS runs a suite only when its variable is set).
failed=()
summary=()
run_suite() {
	local name=$1 status=0 start=$SECONDS
	shift
	echo "=== $name"
	as_postgres make -C "$tree" PG_CONFIG="$PG_CONFIG" installcheck "$@" || status=$?
	if [ $status -ne 0 ]; then
		failed+=("$name")
		summary+=("$(printf '%-10s FAILED  (%ds)' "$name" $((SECONDS - start)))")
	else
		summary+=("$(printf '%-10s ok      (%ds)' "$name" $((SECONDS - start)))")
	fi
}
# run_fuzz: every fuzz target over its seeds and a bounded number of mutations
run_fuzz() {
	local status=0 start=$SECONDS
	echo "=== fuzz"
	make -s -C fuzz PG_CONFIG="$PG_CONFIG" check || status=$?
	if [ $status -ne 0 ]; then
		failed+=(fuzz)
		summary+=("$(printf '%-10s FAILED  (%ds)' fuzz $((SECONDS - start)))")
	else
		summary+=("$(printf '%-10s ok      (%ds)' fuzz $((SECONDS - start)))")
	fi
}
for suite in $SUITES; do
	case $suite in
		regress) run_suite regress ISOLATION= TAP_TESTS= ${REGRESS_TESTS:+REGRESS="$REGRESS_TESTS"} ;;
		isolation) run_suite isolation REGRESS= TAP_TESTS= ;;
		tap) run_suite tap REGRESS= ISOLATION= ${PROVE_TESTS:+PROVE_TESTS="$PROVE_TESTS"} ;;
		fuzz) run_fuzz ;;
		*) echo "unknown suite: $suite (regress, isolation, tap, fuzz)" >&2; exit 2 ;;
	esac
done

if [ ${#failed[@]} -gt 0 ]; then
	# pg_regress (test/sql) and isolation (test/specs) differences
	for diffs in "$tree/test/regression.diffs" "$tree/output_iso/regression.diffs"; do
		[ -f "$diffs" ] && head -n 200 "$diffs"
	done
	# TAP (test/t): TESTDIR is the top of the tree, so their logs are in tmp_check
	for log in "$tree"/tmp_check/log/regress_log_*; do
		[ -f "$log" ] && { echo "=== $log (tail)"; tail -n 60 "$log"; }
	done
	# the servers' own complaints (failed requests carry their request id)
	grep -hE "ERROR|FATAL|PANIC|request .* failed" "$tree"/tmp_check/log/*.log 2>/dev/null | tail -n 40 || true
fi
echo "=== summary"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
	echo "FAILED: ${failed[*]}"
	exit 1
fi
echo "all suites passed"
