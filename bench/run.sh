#!/usr/bin/env bash
# bench/run.sh [scenario...]: build and install the extension, start a private
# cluster in a temporary folder, load the demo data, warm up, run the load
# scenarios, print one table (also written to bench/results/latest.md), and
# stop everything it started -- also on Ctrl-C.  This script orchestrates;
# every figure is computed by bench/report.py (its docstring lists the steps).
#
# Scenarios (default: all but scale and health):
#   attack       (opt-in) the probe client's latency during each attack of
#                issue 10, from 127.0.0.2 (bench/attack.pl)
#   reference    the reference's Locust scenario: 400 users, spawn 50/s, think 1-3 s
#   capacity     the same task mix, zero think time: wrk, BENCH_CONNECTIONS connections
#   point        wrk, GET /products/id/{random 1-100}
#   fixed        open-loop latency at fixed offered rates (bench/openloop.c)
#   checkout     parallel POST /orders/checkout on a small hot product set,
#                stock conservation checked in SQL afterwards
#   connections  10,000 keep-alive connections held open while requests flow
#   scale        capacity mix on scale BENCH_SCALE vs a >= 1M products / orders
#                dataset (opt-in: generating the data takes minutes; runs last,
#                it reloads the data)
#   health       wrk on GET /health_check/ (opt-in; the health check of a
#                served API: without the extension it answers 503, as it must)
#   features     what the opt-in features cost (opt-in): point reads with the
#                rate limiter off and on, a client's own orders with
#                auth_mode open and required (its token on every request)
#   cache        the answer cache (opt-in): nginx serving a fixed product JSON,
#                then point reads with ecommerce_api.cache_size on and 0, 304
#                revalidations, the capacity mix on and off, and a write-heavy
#                mix on, off, and with the change-tracking triggers disabled;
#                ratios to the rows they compare with in the notes
#
# Environment:
#   BENCH_SCALE=1            load_demo_data scale of the main dataset
#   BENCH_DURATION=15        seconds of load per scenario (per rate for "fixed")
#   BENCH_WARMUP=5           seconds of warm-up before the scenarios
#   BENCH_CONNECTIONS=400    connections for the wrk scenarios and "fixed"
#   BENCH_THREADS=2          wrk threads
#   BENCH_RATES="1000 5000"  offered rates of "fixed" (requests/s)
#   BENCH_FIXED_MIX=reference  request mix of "fixed": reference | point
#   BENCH_HOLD=10000         connections held by "connections"
#   BENCH_HOLD_RATE=2000     requests/s flowing over them
#   BENCH_PROBE_RATE=50      open-loop probe beside Locust in "reference" (req/s),
#   BENCH_PROBE_CONNS=20     over this many connections
#   BENCH_LOCUST_CLIENT=fast Locust's FastHttpUser; "requests" for HttpUser
#   BENCH_LOCUST_SETTLE=2    Locust's statistics start this many seconds after
#                            its ramp (0: right after it, as --reset-stats does)
#   BENCH_COUNT_STATUS=0     1: the mix counts answers by status (slower wrk)
#   BENCH_HOT=5              hot products of "checkout" (ids 1..BENCH_HOT; the
#                            last one has only BENCH_SCARCE_STOCK units so it
#                            sells out and the 409 path runs under contention)
#   BENCH_SCARCE_STOCK=300
#   BENCH_BIG_SCALE          scale of the "scale" dataset (default: computed so
#                            that products and orders both reach 1,000,000)
#   BENCH_WORKERS            ecommerce_api.workers (default: postgresql.conf.sample's)
#   BENCH_PGPORT=15433       PostgreSQL port (unix socket only)
#   BENCH_HTTP_PORT=18433    HTTP port, on 127.0.0.1
#   BENCH_NGINX_PORT=18434   nginx's port in the "cache" scenario, on 127.0.0.1
#   BENCH_KEEP=0             1 keeps the temporary folder (cluster, logs, raw outputs)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

here=$PWD
DEFAULT_SCENARIOS="reference capacity point fixed checkout connections"
KNOWN_SCENARIOS="$DEFAULT_SCENARIOS scale health features cache attack"

duration=${BENCH_DURATION:-15}
warmup=${BENCH_WARMUP:-5}
scale=${BENCH_SCALE:-1}
conns=${BENCH_CONNECTIONS:-400}
threads=${BENCH_THREADS:-2}
rates=${BENCH_RATES:-1000 5000}
fixed_mix=${BENCH_FIXED_MIX:-reference}
hold=${BENCH_HOLD:-10000}
hold_rate=${BENCH_HOLD_RATE:-2000}
hot=${BENCH_HOT:-5}
scarce_stock=${BENCH_SCARCE_STOCK:-300}
keep=${BENCH_KEEP:-0}
pgport=${BENCH_PGPORT:-15433}
http_port=${BENCH_HTTP_PORT:-18433}

# ---------------------------------------------------------------- arguments
if [ $# -eq 0 ]; then
	# shellcheck disable=SC2206
	scenarios=($DEFAULT_SCENARIOS)
else
	scenarios=("$@")
fi
for s in "${scenarios[@]}"; do
	case " $KNOWN_SCENARIOS " in
		*" $s "*) ;;
		*) echo "unknown scenario \"$s\"; known: $KNOWN_SCENARIOS" >&2; exit 2 ;;
	esac
done
# scale reloads the data: always last
if printf '%s\n' "${scenarios[@]}" | grep -qx scale; then
	mapfile -t scenarios < <(printf '%s\n' "${scenarios[@]}" | { grep -vx scale || true; }; echo scale)
fi
case "$duration" in ''|*[!0-9]*) echo "BENCH_DURATION must be whole seconds" >&2; exit 2 ;; esac
if [ "$duration" -lt 1 ] || [ "$duration" -gt 300 ]; then
	echo "BENCH_DURATION must be 1..300 seconds" >&2; exit 2
fi

log() { printf '\n== %s\n' "$*"; }

# ---------------------------------------------------------------- tools
ensure_packages wrk python3-locust time iproute2
bindir=$("$PG_CONFIG" --bindir)

# many sockets: the load tools and the server inherit these limits (the
# connections scenario needs BENCH_HOLD descriptors in the load generator,
# and as many spread over the HTTP workers)
want_fds=$((hold + 4 * conns + 1024))
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$want_fds" ]; then
	ulimit -Hn "$want_fds" 2>/dev/null ||
		echo "warning: hard open-file limit $(ulimit -Hn) < $want_fds and cannot be raised here; the connections scenario may fail" >&2
fi
ulimit -Sn "$(ulimit -Hn)"

log "building and installing the extension"
make -s PG_CONFIG="$PG_CONFIG"
make -s PG_CONFIG="$PG_CONFIG" install >/dev/null

work=$(mktemp -d /tmp/ecommerce_api-bench.XXXXXX)
chmod 755 "$work"
data=$work/data
results=$work/results.jsonl
: >"$results"
cc -O2 -Wall -o "$work/openloop" bench/openloop.c

# ---------------------------------------------------------------- cleanup
BG_PID=
SAMPLER_PID=
PROBE_PID=
NGINX_PID=
cluster_started=0
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	for pid in $BG_PID $SAMPLER_PID $PROBE_PID; do
		pkill -P "$pid" 2>/dev/null || true	# a sampler's or probe's sleep
		kill "$pid" 2>/dev/null || true
	done
	for pid in $BG_PID $SAMPLER_PID $PROBE_PID; do
		wait "$pid" 2>/dev/null || true
	done
	[ -z "$NGINX_PID" ] || kill "$NGINX_PID" 2>/dev/null || true
	if [ "$cluster_started" = 1 ] && [ -f "$data/postmaster.pid" ]; then
		as_postgres "$bindir/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
			as_postgres "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	# a failed run keeps its folder for the logs; an interrupted one (130) does not
	if [ "$keep" = 1 ] || { [ $rc -ne 0 ] && [ $rc -ne 130 ]; }; then
		echo "kept $work (cluster stopped; server log: $work/server.log)"
	else
		rm -rf "$work"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'echo " interrupted" >&2; exit 130' INT TERM

# ---------------------------------------------------------------- cluster
port_busy() { [ -n "$(ss -Hltn "( sport = :$1 )" 2>/dev/null)" ]; }
for p in "$pgport" "$http_port"; do
	if [ "$p" = 8000 ] || [ "$p" = 5432 ]; then
		echo "ports 8000 and 5432 are left to the demo and to Debian's clusters" >&2; exit 2
	fi
	if port_busy "$p"; then
		echo "port $p is in use; set BENCH_PGPORT / BENCH_HTTP_PORT" >&2; exit 2
	fi
done

[ "$(id -u)" -eq 0 ] && chown postgres: "$work"
log "starting a cluster in $data (PostgreSQL port $pgport, HTTP 127.0.0.1:$http_port)"
as_postgres "$bindir/initdb" -D "$data" -A trust -U postgres --no-sync >/dev/null
{
	echo "# --- from postgresql.conf.sample"
	cat postgresql.conf.sample
	echo "# --- bench/run.sh"
	echo "port = $pgport"
	echo "listen_addresses = ''"
	echo "unix_socket_directories = '$work'"
	echo "ecommerce_api.port = $http_port"
	echo "ecommerce_api.listen_address = '127.0.0.1'"
	[ -n "${BENCH_WORKERS:-}" ] && echo "ecommerce_api.workers = $BENCH_WORKERS"
	# SO_REUSEPORT spreads connections by hash, not evenly: leave headroom so
	# that the held connections never meet one worker's limit
	echo "ecommerce_api.max_connections_per_worker = $((hold + 2 * conns))"
	echo "max_worker_processes = 64"
} | as_postgres tee -a "$data/postgresql.conf" >/dev/null
as_postgres "$bindir/pg_ctl" -D "$data" -l "$work/server.log" -w -t 60 start >/dev/null
cluster_started=1
pm_pid=$(head -n 1 "$data/postmaster.pid")

psql_b() { as_postgres "$bindir/psql" -X -q -h "$work" -p "$pgport" -d postgres -v ON_ERROR_STOP=1 "$@"; }
q() { psql_b -At -c "$1"; }
base=http://127.0.0.1:$http_port

# /live: the workers listen (the health check answers 503 until the
# extension exists, which is created below)
for _ in $(seq 1 100); do
	curl -sf "$base/live" >/dev/null && break
	sleep 0.1
done
curl -sf "$base/live" >/dev/null || { echo "the HTTP workers do not answer; see $work/server.log" >&2; tail -n 30 "$work/server.log" >&2; exit 1; }
workers=$(q "SHOW ecommerce_api.workers")

# ---------------------------------------------------------------- data
categories=1 product_ids=100 client_ids=50 dataset="no API data"
dataset_counts() {
	q "SELECT format('%s products, %s clients, %s categories, %s orders, %s order lines',
		(SELECT count(*) FROM ecommerce_api.products), (SELECT count(*) FROM ecommerce_api.clients),
		(SELECT count(*) FROM ecommerce_api.categories), (SELECT count(*) FROM ecommerce_api.orders),
		(SELECT count(*) FROM ecommerce_api.order_details))"
}
# load_data SCALE: replace the shop's data with the demo data at SCALE
load_data() {
	psql_b -c "SELECT ecommerce_api.load_demo_data($1, replace => true)" >/dev/null
	psql_b -c "VACUUM ANALYZE" >/dev/null
	# the load wrote gigabytes of WAL at large scales: without this, the
	# checkpoint it triggered runs (and bills the server's CPU) during the
	# first scenario measured after it
	psql_b -c "CHECKPOINT" >/dev/null
	dataset="scale $1: $(dataset_counts)"
	categories=$(q "SELECT coalesce(max(id_key), 1) FROM ecommerce_api.categories")
	# the reference drew products 1-100 and clients 1-50
	product_ids=$(q "SELECT least(100, count(*)) FROM ecommerce_api.products WHERE id_key <= 100")
	client_ids=$(q "SELECT least(50, count(*)) FROM ecommerce_api.clients WHERE id_key <= 50")
	if [ "$product_ids" -lt 100 ] || [ "$client_ids" -lt 50 ]; then
		echo "warning: the demo data has ids 1..$product_ids products, 1..$client_ids clients; drawing from those" >&2
	fi
	[ "$product_ids" -ge 1 ] || product_ids=1
	[ "$client_ids" -ge 1 ] || client_ids=1
}

log "CREATE EXTENSION ecommerce_api; load_demo_data($scale)"
psql_b -c "CREATE EXTENSION ecommerce_api CASCADE" >/dev/null
t_load=$(date +%s)
load_data "$scale"
echo "$dataset (loaded in $(( $(date +%s) - t_load )) s)"
main_dataset=$dataset

# ---------------------------------------------------------------- measuring
export BENCH_LUA_DIR=$here/bench/lua
seq_no=0

# sample_mid SECONDS FILE: mid-run view of the server (backends, sockets)
sample_mid() {
	sleep "$1"
	{
		q "SELECT 'backends=' || count(*) - 1 FROM pg_stat_activity" || true
		q "SELECT 'http_workers=' || count(*) FROM pg_stat_activity WHERE backend_type = 'ecommerce_api worker'" || true
		echo "http_established=$(ss -Htn state established "( sport = :$http_port )" | wc -l)"
	} >"$2" 2>/dev/null
}

# measure SCENARIO LABEL KIND OUTPUT SECONDS_UNTIL_SAMPLE CMD...
#   runs CMD (the load tool) in the background, timed, with CPU snapshots of
#   the server around it and a mid-run sample; appends a record to $results
measure() {
	local scenario=$1 label=$2 kind=$3 out=$4 sample_at=$5 rc=0 tag
	shift 5
	seq_no=$((seq_no + 1))
	tag=$work/m$seq_no
	echo "-- $scenario: $label"
	python3 bench/report.py cpu-snap "$pm_pid" "$tag.cpu0"
	sample_mid "$sample_at" "$tag.sample" &
	SAMPLER_PID=$!
	/usr/bin/time -f '%U %S %e' -o "$tag.time" "$@" >"$tag.out" 2>"$tag.err" &
	BG_PID=$!
	wait "$BG_PID" || rc=$?
	BG_PID=
	python3 bench/report.py cpu-snap "$pm_pid" "$tag.cpu1"
	wait "$SAMPLER_PID" 2>/dev/null || true
	SAMPLER_PID=
	if [ $rc -ne 0 ]; then
		echo "   $1 failed (exit $rc):" >&2
		tail -n 20 "$tag.err" >&2
		return 1
	fi
	[ "$kind" = locust ] || cp "$tag.out" "$out"
	python3 bench/report.py add "$results" "$scenario" "$label" "$kind" "$out" \
		"$tag.cpu0" "$tag.cpu1" "$tag.time" "$tag.sample"
	python3 bench/report.py summary "$results"
}

wrk_header=	# a header wrk_run adds to every request, when set
wrk_run() {	# wrk_run SCENARIO LABEL SCRIPT ARGS...
	local scenario=$1 label=$2 script=$3 non2xx
	shift 3
	measure "$scenario" "$label" wrk "$work/$scenario.$seq_no.wrk" $((duration / 2)) \
		wrk -t"$threads" -c"$conns" -d"${duration}s" --timeout 10s \
		${wrk_header:+-H "$wrk_header"} -s "bench/lua/$script" "$base" "$@"
	[ "$script" = mix.lua ] || return 0
	non2xx=$(python3 bench/report.py last "$results" non2xx)
	[ "$non2xx" -gt 0 ] || return 0
	# which answers were they?  A short second pass that counts statuses
	echo "   non-2xx answers: a 3 s pass counting statuses"
	BENCH_COUNT_STATUS=1 wrk -t"$threads" -c"$conns" -d3s --timeout 10s -s "bench/lua/$script" \
		"$base" "$@" >"$work/diag.out" 2>"$work/diag.err" &
	BG_PID=$!
	wait "$BG_PID" || true
	BG_PID=
	python3 bench/report.py statuses "$results" "$work/diag.out" "$work/diag.err"
}

# ---------------------------------------------------------------- scenarios
scenario_health() {
	wrk_run health "wrk -c$conns, GET /health_check/" health.lua
}

scenario_reference() {
	local spawn_s=$(( (400 + 49) / 50 )) probe_rate=${BENCH_PROBE_RATE:-50} settle=${BENCH_LOCUST_SETTLE:-2}
	local run_s=$((spawn_s + settle + duration))
	export BENCH_PRODUCT_IDS=$product_ids BENCH_CLIENT_IDS=$client_ids BENCH_CATEGORY_IDS=$categories
	# Locust resets its statistics $settle s after the last user started (the
	# locustfile says why); it also writes the whole run's response times
	export BENCH_LOCUST_SETTLE=$settle BENCH_LOCUST_SAMPLES=$work/locust_samples.json
	# alongside Locust, for the whole run (ramp included), a light open-loop
	# probe with the same mix: the server's latency without Python's in the way
	"$work/openloop" --port "$http_port" --rate "$probe_rate" \
		--duration "$run_s" --connections "${BENCH_PROBE_CONNS:-20}" --mix reference --products "$product_ids" \
		--clients "$client_ids" --categories "$categories" >"$work/probe.json" 2>"$work/probe.err" &
	PROBE_PID=$!
	measure reference "Locust 400 users, spawn 50/s, think 1-3 s" locust "$work/locust" \
		$((spawn_s + settle + duration / 2)) \
		locust -f bench/locustfile.py --headless -u 400 -r 50 \
		-t "${run_s}s" --host "$base" --csv "$work/locust" \
		--only-summary --loglevel WARNING --exit-code-on-error 0 --stop-timeout 5
	wait "$PROBE_PID" || true
	PROBE_PID=
	if [ -s "$work/probe.json" ]; then
		python3 bench/report.py add "$results" reference-probe \
			"open loop $probe_rate req/s beside Locust, reference mix" openloop "$work/probe.json" \
			"$work/m$seq_no.cpu0" "$work/m$seq_no.cpu1" /dev/null "$work/m$seq_no.sample"
	fi
}

# set_conf "NAME = VALUE" | "NAME": ALTER SYSTEM SET (or RESET) and reload;
# the workers read it at the next pass of their event loop
set_conf() {
	case "$1" in
		*=*) psql_b -c "ALTER SYSTEM SET $1" >/dev/null ;;
		*) psql_b -c "ALTER SYSTEM RESET $1" >/dev/null ;;
	esac
	psql_b -c "SELECT pg_reload_conf()" >/dev/null
	sleep 1
}

# The opt-in features against the same requests without them.  The rate
# limiter counts every request in shared memory under one lock; from one
# client address all workers contend for the same entry (its worst case).
# Required auth checks the client's token (three HMACs) and looks up the
# order's owner on every request.
scenario_features() {
	local client email order_ids token
	client=$(q "SELECT client_id FROM ecommerce_api.orders WHERE client_id <> 1
		GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
	email=$(q "SELECT email FROM ecommerce_api.clients WHERE id_key = $client")
	order_ids=$(q "SELECT string_agg(id_key::text, ',' ORDER BY id_key) FROM ecommerce_api.orders
		WHERE client_id = $client")
	# every demo client's password is demo1234
	token=$(curl -sf -X POST "$base/api/v1/clients/login" -H 'Content-Type: application/json' \
		-d "{\"email\": \"$email\", \"password\": \"demo1234\"}" |
		python3 bench/report.py field token)

	wrk_run features "wrk -c$conns, GET /products/id/{1-$product_ids}, rate limit off" point.lua "$product_ids"
	set_conf "ecommerce_api.rate_limit = 2000000000"
	curl -sf -D - -o /dev/null "$base/products/id/1" | grep -qi '^X-RateLimit-Limit: 2000000000' ||
		{ echo "the rate limiter did not turn on" >&2; return 1; }
	wrk_run features "wrk -c$conns, GET /products/id/{1-$product_ids}, rate limit on, one client address" \
		point.lua "$product_ids"
	set_conf ecommerce_api.rate_limit

	wrk_run features "wrk -c$conns, GET /orders/id/{one client's}, auth_mode open" orders.lua "$order_ids"
	set_conf "ecommerce_api.auth_mode = required"
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/orders/id/${order_ids%%,*}")" = 401 ] ||
		{ echo "auth_mode = required did not take effect" >&2; return 1; }
	wrk_header="Authorization: Bearer $token"
	wrk_run features "wrk -c$conns, GET /orders/id/{one client's}, auth_mode required, its token" \
		orders.lua "$order_ids"
	wrk_header=
	set_conf ecommerce_api.auth_mode
}

# last_rps: req/s of the last measured row
last_rps() {
	python3 bench/report.py last "$results" rps
}

# ratio_note BASE_RPS TEXT: "x.xx × TEXT" into the last row's notes
ratio_note() {
	python3 bench/report.py ratio "$results" "$1" "$2"
}

# track_triggers on | off: the change-tracking triggers of every table (the
# statement triggers ENABLE ALWAYS, the row trigger for logical replication's
# apply worker ENABLE REPLICA, as sql/change_tracking.sql makes them)
track_triggers() {
	local t always=DISABLE replica=DISABLE
	if [ "$1" = on ]; then always="ENABLE ALWAYS" replica="ENABLE REPLICA"; fi
	for t in categories products clients addresses bills orders order_details reviews; do
		q "ALTER TABLE ecommerce_api.$t $always TRIGGER track_inserts, $always TRIGGER track_updates,
			$always TRIGGER track_deletes, $always TRIGGER track_truncates,
			$replica TRIGGER track_replica_rows" >/dev/null
	done
}

# The answer cache against nginx's fixed answer and against itself turned
# off (ecommerce_api.cache_size = 0), all in one run: only ratios between
# rows of the same run mean anything on a shared machine.
scenario_cache() {
	local nginx_port=${BENCH_NGINX_PORT:-18434} nginx_rps on_rps tag body
	command -v nginx >/dev/null || ensure_packages nginx-light
	if port_busy "$nginx_port"; then
		echo "port $nginx_port (BENCH_NGINX_PORT) is in use" >&2; return 1
	fi
	mkdir -p "$work/nginx"
	# the fixed answer from nginx's memory (return 200): a product's JSON,
	# escaped for an nginx quoted string
	body=$(curl -sf "$base/products/id/1" | sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g")
	cat >"$work/nginx/nginx.conf" <<EOF
worker_processes $workers;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
	access_log off;
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:$nginx_port reuseport;
		default_type application/json;
		location / { return 200 '$body'; }
	}
}
EOF
	nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" -g 'daemon off;' &
	NGINX_PID=$!
	sleep 1
	measure cache "nginx ($workers processes), fixed product JSON, wrk -c$conns" wrk "$work/nginx.wrk" \
		$((duration / 2)) wrk -t"$threads" -c"$conns" -d"${duration}s" --timeout 10s \
		-s bench/lua/point.lua "http://127.0.0.1:$nginx_port" "$product_ids"
	nginx_rps=$(last_rps)
	if [ "$(python3 bench/report.py last "$results" non2xx)" != 0 ]; then
		echo "nginx answered errors: see $work/nginx/error.log" >&2; return 1
	fi
	kill "$NGINX_PID"
	wait "$NGINX_PID" 2>/dev/null || true
	NGINX_PID=

	set_conf ecommerce_api.cache_size
	wrk_run cache "wrk -c$conns, GET /products/id/{1-$product_ids}, cache on" point.lua "$product_ids"
	ratio_note "$nginx_rps" "nginx's fixed answer (target >= 0.85)"
	set_conf "ecommerce_api.cache_size = 0"
	wrk_run cache "wrk -c$conns, GET /products/id/{1-$product_ids}, cache_size = 0" point.lua "$product_ids"
	ratio_note "$nginx_rps" "nginx's fixed answer (target >= 0.55)"
	set_conf ecommerce_api.cache_size

	tag=$(curl -sf -D - -o /dev/null "$base/products/id/1" | sed -n 's/^ETag: *//Ip' | tr -d '\r')
	if [ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $tag" "$base/products/id/1")" != 304 ]; then
		echo "no 304 for If-None-Match: $tag" >&2; return 1
	fi
	wrk_header="If-None-Match: $tag"
	wrk_run cache "wrk -c$conns, GET /products/id/1 with a current If-None-Match (304)" point.lua 1
	wrk_header=
	ratio_note "$nginx_rps" "nginx's fixed answer"

	wrk_run cache "wrk -c$conns, reference mix, no think time, cache on" mix.lua \
		"$product_ids" "$client_ids" "$categories"
	on_rps=$(last_rps)
	set_conf "ecommerce_api.cache_size = 0"
	wrk_run cache "wrk -c$conns, reference mix, no think time, cache_size = 0" mix.lua \
		"$product_ids" "$client_ids" "$categories"
	ratio_note "$on_rps" "the mix with the cache on"

	# writers: 40% PUT, 30% POST, 30% GET of the same products
	set_conf ecommerce_api.cache_size
	wrk_run cache "wrk -c$conns, write-heavy mix (70% writes), cache on" writes.lua \
		"$product_ids" "$client_ids" "$categories"
	on_rps=$(last_rps)
	set_conf "ecommerce_api.cache_size = 0"
	wrk_run cache "wrk -c$conns, write-heavy mix (70% writes), cache_size = 0" writes.lua \
		"$product_ids" "$client_ids" "$categories"
	ratio_note "$on_rps" "the write-heavy mix with the cache on"
	track_triggers off
	wrk_run cache "wrk -c$conns, write-heavy mix (70% writes), cache_size = 0, change-tracking triggers disabled" \
		writes.lua "$product_ids" "$client_ids" "$categories"
	ratio_note "$on_rps" "the write-heavy mix with the cache on"
	track_triggers on
	set_conf ecommerce_api.cache_size
}

scenario_capacity() {
	wrk_run capacity "wrk -c$conns, reference mix, no think time" mix.lua \
		"$product_ids" "$client_ids" "$categories"
}

scenario_point() {
	wrk_run point "wrk -c$conns, GET /products/id/{1-$product_ids}" point.lua "$product_ids"
}

scenario_fixed() {
	local rate
	for rate in $rates; do
		measure fixed "open loop $rate req/s, $fixed_mix mix" openloop "$work/fixed.$rate.json" \
			$((duration / 2)) \
			"$work/openloop" --port "$http_port" --rate "$rate" --duration "$duration" \
			--connections "$conns" --mix "$fixed_mix" --products "$product_ids" \
			--clients "$client_ids" --categories "$categories"
	done
}

# per hot product: stock, and stock + units in non-canceled order lines
conservation_sql="SELECT string_agg(format('%s:%s:%s', p.id_key, p.stock, p.stock + coalesce((
		SELECT sum(d.quantity) FROM ecommerce_api.order_details d
		  JOIN ecommerce_api.orders o ON o.id_key = d.order_id
		 WHERE d.product_id = p.id_key AND o.status <> 4), 0)), ' ' ORDER BY p.id_key)
	FROM ecommerce_api.products p WHERE p.id_key <= $hot"

scenario_checkout() {
	local before after max_order lines_bad orders_new neg
	psql_b -c "UPDATE ecommerce_api.products SET stock = CASE WHEN id_key = $hot
		THEN $scarce_stock ELSE 1000000 END WHERE id_key <= $hot" >/dev/null
	before=$(q "$conservation_sql")
	max_order=$(q "SELECT coalesce(max(id_key), 0) FROM ecommerce_api.orders")
	wrk_run checkout "wrk -c$conns, POST /orders/checkout, hot products 1-$hot" checkout.lua \
		"$product_ids" "$client_ids" "$categories" "$hot"
	after=$(q "$conservation_sql")
	orders_new=$(q "SELECT count(*) FROM ecommerce_api.orders WHERE id_key > $max_order")
	lines_bad=$(q "SELECT count(*) FROM ecommerce_api.orders o WHERE o.id_key > $max_order
		AND NOT EXISTS (SELECT 1 FROM ecommerce_api.order_details d WHERE d.order_id = o.id_key)")
	neg=$(q "SELECT count(*) FROM ecommerce_api.products WHERE stock < 0")
	python3 bench/report.py checkout "$results" "$before" "$after" "$orders_new" "$lines_bad" "$neg" "$conns"
}

# The attacks of issue 10 from 127.0.0.2, a probe client on 127.0.0.1
# meanwhile (bench/attack.pl); its table is bench/results/attack.md.
scenario_attack() {
	log "attack: the probe's latency during each attack (BENCH_ATTACK_SOCKETS=${BENCH_ATTACK_SOCKETS:-10500})"
	perl bench/attack.pl "$http_port" "$bindir/psql" -X -q -h "$work" -p "$pgport" -U postgres -d postgres |
		tee "$work/attack.md"
	mkdir -p bench/results
	cp "$work/attack.md" bench/results/attack.md
}

scenario_connections() {
	local sample_at=$((duration / 2 + 1))	# the connections open in about a second
	# the held connections all come from one address (127.0.0.1): lift the
	# per-client limit (1,000 by default) for them, as for a trusted proxy
	set_conf "ecommerce_api.max_connections_per_client = 0"
	measure connections "$hold keep-alive conns, open loop $hold_rate req/s" openloop \
		"$work/connections.json" "$sample_at" \
		"$work/openloop" --port "$http_port" --rate "$hold_rate" --duration "$duration" \
		--connections "$hold" --hold --mix point --products "$product_ids" --timeout 10
	set_conf ecommerce_api.max_connections_per_client
}

scenario_scale() {
	local big=${BENCH_BIG_SCALE:-} products orders
	log "scale: capacity mix on scale $scale"
	load_data "$scale"
	warm
	wrk_run scale "capacity mix, scale $scale" mix.lua "$product_ids" "$client_ids" "$categories"
	python3 bench/report.py annotate "$results" step=small "dataset=$dataset"
	if [ -z "$big" ]; then
		products=$(q "SELECT count(*) FROM ecommerce_api.products")
		orders=$(q "SELECT count(*) FROM ecommerce_api.orders")
		big=$(python3 bench/report.py big-scale "$products" "$orders" "$scale")
	fi
	log "scale: loading load_demo_data($big) -- this takes a while"
	t_load=$(date +%s)
	load_data "$big"
	echo "$dataset (loaded in $(( $(date +%s) - t_load )) s)"
	warm
	wrk_run scale "capacity mix, scale $big" mix.lua "$product_ids" "$client_ids" "$categories"
	python3 bench/report.py scale-ratio "$results" "$dataset"
}

warm() {
	local script=mix.lua
	echo "-- warm-up: ${warmup}s of the mix"
	wrk -t"$threads" -c"$conns" -d"${warmup}s" -s "bench/lua/$script" "$base" \
		"$product_ids" "$client_ids" "$categories" >/dev/null 2>&1 &
	BG_PID=$!
	wait "$BG_PID" || true
	BG_PID=
}

# ---------------------------------------------------------------- run
loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)
log "warm-up"
warm
log "scenarios: ${scenarios[*]} (${duration}s each)"
for s in "${scenarios[@]}"; do
	"scenario_$s"
done

# ---------------------------------------------------------------- table
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- src sql 2>/dev/null || commit="$commit+dirty"
python3 bench/report.py meta "$work/meta.json" "commit=$commit" \
	"pg_version=$(q 'SHOW server_version' | cut -d' ' -f1)" "workers=$workers" "scale=$scale" \
	"dataset=$main_dataset" "loadavg=$loadavg_before" "duration=$duration" "warmup=$warmup"
if [ ! -s "$results" ]; then
	if [ -s "$work/attack.md" ]; then
		echo; echo "written: bench/results/attack.md"
		exit 0
	fi
	echo "no scenario produced a result" >&2
	exit 1
fi
mkdir -p bench/results
log "results"
python3 bench/report.py render "$results" "$work/meta.json" bench/results/latest.md
cp "$results" bench/results/latest.jsonl
echo
echo "written: bench/results/latest.md"
