#!/usr/bin/env bash
# make demo / make demo-stop: a local cluster in ./demo serving the API on a
# demo database.  Running "start" again is harmless.
#
#   DEMO_PGPORT   PostgreSQL port of the demo cluster (default 54329)
#   DEMO_SCALE    load_demo_data scale (default 1)
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
bindir=$("$PG_CONFIG" --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)

psql_demo() { as_postgres "$bindir/psql" -X -q -h "$demo" -p "$pgport" -d postgres -v ON_ERROR_STOP=1 "$@"; }

start() {
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
	if ! as_postgres "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		as_postgres "$bindir/pg_ctl" -D "$data" -l "$demo/server.log" -w start >/dev/null
	fi

	psql_demo -c "CREATE EXTENSION IF NOT EXISTS ecommerce_api CASCADE"
	# a demo cluster made by an older checkout: bring its SQL objects to the
	# version of the library just installed (the workers answer 503 until then)
	psql_demo -c "SET client_min_messages = warning" -c "ALTER EXTENSION ecommerce_api UPDATE"
	if [ "$(psql_demo -At -c 'SELECT count(*) FROM ecommerce_api.products')" = 0 ]; then
		psql_demo -c "SELECT ecommerce_api.load_demo_data($scale)" >/dev/null
	fi

	local http_port
	http_port=$(psql_demo -At -c "SHOW ecommerce_api.port")
	for _ in $(seq 1 100); do
		curl -sf "http://127.0.0.1:$http_port/health_check/" >/dev/null && break
		sleep 0.1
	done
	cat <<EOT
ecommerce_api demo is serving on http://127.0.0.1:$http_port  (cluster: $data, log: $demo/server.log)

  curl -s http://127.0.0.1:$http_port/health_check/
  curl -s 'http://127.0.0.1:$http_port/products/?limit=3'
  curl -s http://127.0.0.1:$http_port/products/id/1
  curl -s 'http://127.0.0.1:$http_port/products/filter?search=pro&sort_by=price_asc&limit=5'
  curl -s -X POST http://127.0.0.1:$http_port/categories/ -H 'Content-Type: application/json' -d '{"name":"Garden"}'
  psql -h $demo -p $pgport -U postgres postgres

stop it with: make demo-stop
EOT
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
