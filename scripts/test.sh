#!/usr/bin/env bash
# make test: install what is missing, build, install, then run the pg_regress
# and TAP suites (make installcheck) as an unprivileged user.
#
# PostgreSQL refuses to run as root, so as root the suites run as "postgres"
# in a copy of the tree that user can write to.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

ensure_packages
make -s PG_CONFIG="$PG_CONFIG"
make -s PG_CONFIG="$PG_CONFIG" install >/dev/null

if [ "$(id -u)" -eq 0 ]; then
	tree=$(mktemp -d /tmp/ecommerce_api-test.XXXXXX)
	trap 'rm -rf "$tree"' EXIT
	tar --exclude=./.git --exclude=./demo -cf - . | tar -C "$tree" -xf -
	chown -R postgres: "$tree"
else
	tree=$PWD
fi

status=0
as_postgres make -C "$tree" PG_CONFIG="$PG_CONFIG" installcheck ${PROVE_TESTS:+PROVE_TESTS="$PROVE_TESTS"} || status=$?
if [ $status -ne 0 ]; then
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
exit $status
