#!/usr/bin/env bash
# make demo / make demo-stop: a local cluster in ./demo serving the API on a
# demo database.  Running "start" again is harmless.
#
#   PORT          HTTP port of the API (default 8000; make demo PORT=8001)
#   DEMO_PGPORT   PostgreSQL port of the demo cluster (default 54329)
#   DEMO_SCALE    load_demo_data scale (default 1)
#
# It says "serving" only once it has seen OUR server answer on PORT: the
# health check's shape, from a socket held by this cluster's workers.  A port
# held by anything else (say, the FastAPI app this replaces) is an error that
# names the holder, and the exit status is not 0.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

here=$PWD
demo=$here/demo
# PostgreSQL runs as "postgres": if that user cannot reach this checkout
# (say, a clone under /root), the cluster lives in its home instead.
if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$here" 2>/dev/null; then
	demo=~postgres/ecommerce_api-demo
fi
data=$demo/data
pgport=${DEMO_PGPORT:-54329}
scale=${DEMO_SCALE:-1}
http_port=${PORT:-8000}
bindir=$("$PG_CONFIG" --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)

psql_demo() { as_postgres "$bindir/psql" -X -q -h "$demo" -p "$pgport" -d postgres -v ON_ERROR_STOP=1 "$@"; }

start() {
	case $http_port in
		''|*[!0-9]*) die "PORT=$http_port is not a port number" ;;
	esac
	[ "$http_port" -ge 1 ] && [ "$http_port" -le 65535 ] || die "PORT=$http_port is not a port number (1-65535)"
	ensure_packages
	make -s PG_CONFIG="$PG_CONFIG"
	make -s PG_CONFIG="$PG_CONFIG" install >/dev/null
	bindir=$("$PG_CONFIG" --bindir)

	mkdir -p "$demo"
	[ "$(id -u)" -eq 0 ] && chown postgres: "$demo"
	if [ ! -f "$data/PG_VERSION" ]; then
		as_postgres "$bindir/initdb" -D "$data" -A trust -U postgres >/dev/null
		{
			echo "# --- from postgresql.conf.sample"
			cat postgresql.conf.sample
			echo "# --- demo cluster"
			echo "port = $pgport"
			echo "listen_addresses = ''"
			echo "unix_socket_directories = '$demo'"
		} | as_postgres tee -a "$data/postgresql.conf" >/dev/null
	fi
	# The HTTP port is make demo's PORT, kept in a file of its own (clusters
	# made before PORT existed get the include too).
	if ! grep -q "^include_if_exists = 'demo_port.conf'" "$data/postgresql.conf"; then
		echo "include_if_exists = 'demo_port.conf'	# make demo's PORT" | as_postgres tee -a "$data/postgresql.conf" >/dev/null
	fi

	local running=false serving_port=
	if as_postgres "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		running=true
		serving_port=$(psql_demo -At -c "SHOW ecommerce_api.port")
	fi
	if [ "$serving_port" != "$http_port" ]; then
		# the port must be free before the workers try it: a worker that
		# cannot bind only logs and retries, which is no answer for a human
		check_port_free "$http_port"
		echo "ecommerce_api.port = $http_port" | as_postgres tee "$data/demo_port.conf" >/dev/null
		if $running; then
			echo "restarting the demo cluster: its API moves from :$serving_port to :$http_port"
			as_postgres "$bindir/pg_ctl" -D "$data" -l "$demo/server.log" -m fast -w restart >/dev/null
		fi
	fi
	if ! $running; then
		as_postgres "$bindir/pg_ctl" -D "$data" -l "$demo/server.log" -w start >/dev/null
	fi

	psql_demo -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS ecommerce_api CASCADE"
	# a demo cluster made by an older checkout: bring its SQL objects to the
	# version of the library just installed (the workers answer 503 until then)
	psql_demo -c "SET client_min_messages = warning" -c "ALTER EXTENSION ecommerce_api UPDATE"
	if [ "$(psql_demo -At -c 'SELECT count(*) FROM ecommerce_api.products')" = 0 ]; then
		psql_demo -c "SELECT ecommerce_api.load_demo_data($scale)" >/dev/null
	fi

	check_ours "$http_port"
	cat <<EOT
ecommerce_api demo is serving on http://127.0.0.1:$http_port  (cluster: $data, log: $demo/server.log)

  curl -s http://127.0.0.1:$http_port/health_check/
  curl -s 'http://127.0.0.1:$http_port/products/?limit=3'
  curl -s http://127.0.0.1:$http_port/products/id/1
  curl -s 'http://127.0.0.1:$http_port/products/filter?search=pro&sort_by=price_asc&limit=5'
  curl -s -X POST http://127.0.0.1:$http_port/categories/ -H 'Content-Type: application/json' -d '{"name":"Stationery"}'
  psql -h $demo -p $pgport -U postgres postgres

stop it with: make demo-stop
EOT
}

die() {
	echo "make demo: $*" >&2
	exit 1
}

# Who listens on TCP port $1 (ss -ltnp's lines), or nothing.
port_holders() {
	ss -Hltnp "sport = :$1" 2>/dev/null || true
}

check_port_free() {
	local holders
	holders=$(port_holders "$1")
	[ -z "$holders" ] && return 0
	{
		echo "make demo: port $1 is already in use, by:"
		echo "$holders" | sed 's/^/  /'
		echo "stop that, or pick another port: make demo PORT=<port>"
	} >&2
	exit 1
}

# Wait until OUR server answers on port $1: every socket listening there is
# held by a child of this cluster's postmaster, and GET /health_check/
# answers 200 with the health check's shape (checks.database, checks.db_pool).
check_ours() {
	local port=$1 postmaster body holders pid ours
	postmaster=$(head -1 "$data/postmaster.pid")
	for _ in $(seq 1 100); do
		holders=$(port_holders "$port")
		ours=true
		[ -n "$holders" ] || ours=false
		for pid in $(echo "$holders" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
			[ "$(awk '/^PPid:/ {print $2}' "/proc/$pid/status" 2>/dev/null)" = "$postmaster" ] || ours=false
		done
		if $ours; then
			body=$(curl -sf --max-time 2 "http://127.0.0.1:$port/health_check/" || true)
			if echo "$body" | grep -q '"database"' && echo "$body" | grep -q '"db_pool"'; then
				return 0
			fi
		fi
		sleep 0.2
	done
	{
		echo "make demo: the demo cluster is up but its API does not answer on port $port."
		if [ -n "$holders" ]; then
			echo "port $port is held by:"
			echo "$holders" | sed 's/^/  /'
		fi
		echo "the end of $demo/server.log:"
		tail -n 15 "$demo/server.log" | sed 's/^/  /'
	} >&2
	exit 1
}

stop() {
	if [ -f "$data/PG_VERSION" ] && as_postgres "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		as_postgres "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null
		echo "ecommerce_api demo stopped"
	else
		echo "ecommerce_api demo is not running"
	fi
}

case "${1:-start}" in
	start) start ;;
	stop) stop ;;
	*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
