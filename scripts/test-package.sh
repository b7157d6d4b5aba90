#!/usr/bin/env bash
# make test-package [PACKAGE_VERSIONS="15"]: for each PostgreSQL major version,
#  1. builds the Debian package as a user would (debian/, pg_buildext,
#     `dpkg-buildpackage -us -uc -b`) in that version's build chroot
#     (scripts/chroot.sh: bookworm for 15, trixie for 17, sid for 18);
#  2. installs the .deb with apt into a fresh copy of the suite's minbase
#     chroot, which pulls in the PostgreSQL server and libmicrohttpd it depends on;
#  3. creates a cluster with Debian's tools, preloads the library, starts it,
#     creates the extension and checks that the API answers over HTTP.
# The .debs are left in $EAPI_PACKAGES_OUT (/tmp/ecommerce_api-packages).  Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/chroot.sh

[ "$(id -u)" -eq 0 ] || { echo "test-package needs root (debootstrap, chroot, mount)" >&2; exit 1; }

versions=${PACKAGE_VERSIONS:-${*:-15}}
out=${EAPI_PACKAGES_OUT:-/tmp/ecommerce_api-packages}
mkdir -p "$out"

scratch=
cleanup() {
	chroot_release
	[ -n "$scratch" ] && rm -rf "$scratch"
	return 0
}
trap cleanup EXIT

tree_files() {
	if [ -d .git ] || [ -f .git ]; then
		git ls-files -z --cached --others --exclude-standard
	else
		find . -path ./.git -prune -o -path ./demo -prune -o -path './build-*' -prune -o -type f -print0
	fi
}

# a port nothing listens on, in 20000-60000
free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

declare -A result
passed=0 failed=0
for v in $versions; do
	suite=$(suite_of "$v")
	log=$out/test-package-pg$v.log
	: > "$log"
	echo "== postgresql-$v-ecommerce-api ($suite)"
	start=$SECONDS status=0 deb=

	# --- 1. build
	if dev_chroot "$suite" build-essential debhelper postgresql-server-dev-all \
		"postgresql-server-dev-$v" libmicrohttpd-dev >>"$log" 2>&1; then
		dir=$CHROOT_DIR
		rm -rf "$dir/build/pkg"
		mkdir -p "$dir/build/pkg/ecommerce-api"
		tree_files | tar --null -T - -cf - | tar -C "$dir/build/pkg/ecommerce-api" -xf -
		if in_chroot "$dir" sh -c 'cd /build/pkg/ecommerce-api && dpkg-buildpackage -us -uc -b' >>"$log" 2>&1; then
			deb=$(ls "$dir"/build/pkg/postgresql-"$v"-ecommerce-api_*.deb 2>/dev/null | grep -v dbgsym | head -n 1 || true)
		fi
		if [ -n "$deb" ]; then
			cp "$deb" "$out/"
			deb=$out/$(basename "$deb")
			echo "   built $(basename "$deb")"
		else
			echo "   dpkg-buildpackage did not yield postgresql-$v-ecommerce-api_*.deb"
			status=1
		fi
	else
		status=1
	fi
	chroot_release
	build_time=$((SECONDS - start))

	# --- 2. install into a clean chroot, 3. serve
	if [ $status -eq 0 ]; then
		base=$(base_chroot "$suite")
		scratch=$(mktemp -d "$EAPI_CHROOTS/$suite-pkgtest.XXXXXX")
		cp -a "$base/." "$scratch/"
		chroot_mount "$scratch" "$suite"
		pgport=$(free_port) httpport=$(free_port)
		cp "$deb" scripts/package-smoke.sh "$scratch/tmp/"
		if prepare_chroot "$scratch" curl >>"$log" 2>&1; then
			in_chroot "$scratch" bash /tmp/package-smoke.sh "$v" "/tmp/$(basename "$deb")" \
				"$pgport" "$httpport" >>"$log" 2>&1 || status=$?
		else
			status=1
		fi
		grep -E '^(installed|extension|GET) ' "$log" | sed 's/^/   /'
		chroot_release
		rm -rf "$scratch"
		scratch=
	fi
	total=$((SECONDS - start))
	line="build ${build_time}s, install and serve $((total - build_time))s"
	if [ $status -eq 0 ]; then
		result[$v]="pass  $line"
		passed=$((passed + 1))
	else
		result[$v]="FAIL  $line (log: $log)"
		failed=$((failed + 1))
		tail -n 40 "$log"
	fi
	echo "   ${result[$v]}"
done

echo
echo "Debian packages:"
for v in $versions; do
	echo "  postgresql-$v-ecommerce-api ($(suite_of "$v")): ${result[$v]}"
done
echo "packages: $passed passed, $failed failed"
[ $failed -eq 0 ]
