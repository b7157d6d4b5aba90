#!/usr/bin/env bash
# bench/replication.sh: what issue 13's features cost, measured on loopback.
#
#   1. checkout with and without an Idempotency-Key (unique per request), the
#      same wrk run alternated 3 times, so the ratio compares figures of the
#      same minutes;
#   2. GET /products/id/{id} on a caught-up hot standby, with and without an
#      X-Consistency-Token (one the standby has replayed), alternated too;
#   3. failover time over N runs (default 5) of test/t/015_failover.pl:
#      kill -9 of the primary's node to the first accepted write, as the test
#      prints it.
#
# Usage: PG_CONFIG=... bash bench/replication.sh [seconds per run] [rounds]
# Runs as root (the servers as postgres) or as an unprivileged user.  The
# servers listen on 127.0.0.1, on random ports, and are stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

SECS=${1:-10}
ROUNDS=${2:-5}
CONNS=${BENCH_CONNS:-32}
BIN=$("$PG_CONFIG" --bindir)
make -s PG_CONFIG="$PG_CONFIG" >/dev/null
make -s PG_CONFIG="$PG_CONFIG" install >/dev/null

DIR=$(mktemp -d /tmp/eapi-repl-bench.XXXXXX)
chmod 755 "$DIR"
[ "$(id -u)" -eq 0 ] && chown postgres: "$DIR"
PORT=$((20000 + RANDOM % 30000)); HTTP=$((PORT + 1)); SPORT=$((PORT + 2)); SHTTP=$((PORT + 3))
pgc() { as_postgres "$BIN/pg_ctl" "$@" >/dev/null; }
psql_p() { as_postgres "$BIN/psql" -X -At -h 127.0.0.1 -p "$PORT" -d postgres -c "$1"; }
cleanup() {
	pgc -D "$DIR/standby" stop -m immediate 2>/dev/null || true
	pgc -D "$DIR/primary" stop -m immediate 2>/dev/null || true
	rm -rf "$DIR"
}
trap cleanup EXIT

as_postgres "$BIN/initdb" -D "$DIR/primary" -A trust >/dev/null
cat >> "$DIR/primary/postgresql.conf" <<EOC
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR'
shared_preload_libraries = 'ecommerce_api'
ecommerce_api.port = $HTTP
ecommerce_api.workers = 2
max_worker_processes = 16
wal_level = replica
EOC
pgc -D "$DIR/primary" -l "$DIR/primary.log" start
psql_p "CREATE EXTENSION ecommerce_api CASCADE" >/dev/null
psql_p "SELECT ecommerce_api.load_demo_data(1)" >/dev/null
psql_p "UPDATE ecommerce_api.products SET stock = 1000000000" >/dev/null
PRODUCTS=$(psql_p "SELECT max(id_key) FROM ecommerce_api.products")
as_postgres "$BIN/pg_basebackup" -h 127.0.0.1 -p "$PORT" -D "$DIR/standby" -R >/dev/null
cat >> "$DIR/standby/postgresql.conf" <<EOC
port = $SPORT
ecommerce_api.port = $SHTTP
EOC
pgc -D "$DIR/standby" -l "$DIR/standby.log" start
for i in $(seq 100); do curl -sf "http://127.0.0.1:$SHTTP/health_check/" >/dev/null && break; sleep 0.2; done

# wrk's requests/s and mean latency of one run
wrk_run() {
	wrk -t2 -c"$CONNS" -d"${SECS}s" --latency "$@" 2>&1 |
		awk '/Requests\/sec/ {rps=$2} /^    Latency/ {lat=$2} / 99%/ {p99=$2}
		     END {printf "%s req/s, mean %s, p99 %s\n", rps, lat, p99}'
}

echo "== checkout, $CONNS connections, ${SECS}s runs, alternated"
for round in 1 2 3; do
	printf 'round %d without key: ' "$round"
	wrk_run -s bench/lua/checkout_keys.lua "http://127.0.0.1:$HTTP" -- "$PRODUCTS" nokeys
	printf 'round %d with key:    ' "$round"
	wrk_run -s bench/lua/checkout_keys.lua "http://127.0.0.1:$HTTP" -- "$PRODUCTS" keys
done
echo "idempotency records stored: $(psql_p 'SELECT count(*) FROM ecommerce_api.idempotency_keys')"

# a token the standby has replayed: the primary's position, once caught up
TOKEN=$(psql_p "SELECT pg_current_wal_lsn()")
for i in $(seq 100); do
	[ "$(as_postgres "$BIN/psql" -X -At -h 127.0.0.1 -p "$SPORT" -d postgres \
		-c "SELECT pg_last_wal_replay_lsn() >= '$TOKEN'")" = t ] && break
	sleep 0.1
done
echo "== GET /products/id/1 on the caught-up standby, $CONNS connections, alternated (token $TOKEN)"
for round in 1 2 3; do
	printf 'round %d without token: ' "$round"
	wrk_run "http://127.0.0.1:$SHTTP/products/id/1"
	printf 'round %d with token:    ' "$round"
	wrk_run -H "X-Consistency-Token: $TOKEN" "http://127.0.0.1:$SHTTP/products/id/1"
done
cleanup
trap - EXIT

echo "== failover time, $ROUNDS runs of test/t/015_failover.pl (fresh clusters each)"
times=()
for run in $(seq "$ROUNDS"); do
	line=$(PROVE_TESTS=test/t/015_failover.pl PG_CONFIG="$PG_CONFIG" bash scripts/test.sh 2>&1 |
		grep -a -E "kill -9 of the primary to the first accepted write" | head -1 || true)
	echo "run $run: ${line:-no figure (the test failed)}"
	t=$(sed -n 's/.*accepted write: \([0-9.]*\) s.*/\1/p' <<<"$line")
	[ -n "$t" ] && times+=("$t")
done
printf '%s\n' "${times[@]}" | sort -n |
	awk '{v[NR]=$1} END {if (NR) printf "failover time over %d runs: min %.2f s, median %.2f s, max %.2f s\n", NR, v[1], v[int((NR+1)/2)], v[NR]}'
