#!/usr/bin/env bash
# package-smoke.sh VERSION DEB PGPORT HTTPPORT: run by scripts/test-package.sh
# inside a clean Debian chroot, as root.  Installs the package as a user would
# (apt resolves its dependencies), makes a cluster with Debian's tools, preloads
# the library, creates the extension and checks two answers over HTTP.
set -euo pipefail
v=$1 deb=$2 pgport=$3 httpport=$4

apt-get install -y -q --no-install-recommends "$deb" >/dev/null
dpkg-query -W -f='installed ${Package} ${Version}\n' "postgresql-$v-ecommerce-api"
ls "/usr/lib/postgresql/$v/lib/ecommerce_api.so" "/usr/share/postgresql/$v/extension/ecommerce_api.control" >/dev/null

pg_createcluster -p "$pgport" "$v" main >/dev/null
cat >> "/etc/postgresql/$v/main/postgresql.conf" <<CONF
shared_preload_libraries = 'ecommerce_api'
listen_addresses = ''
ecommerce_api.port = $httpport
ecommerce_api.listen_address = '127.0.0.1'
ecommerce_api.workers = 2
ecommerce_api.database = 'postgres'
CONF
pg_ctlcluster "$v" main start
trap 'pg_ctlcluster "$v" main stop -m fast || true' EXIT

psql() { runuser -u postgres -- psql -X -q -At -p "$pgport" -d postgres "$@"; }
psql -c "CREATE EXTENSION ecommerce_api CASCADE" -c "SELECT ecommerce_api.load_demo_data(1)" >/dev/null
echo "extension $(psql -c "SELECT extversion FROM pg_extension WHERE extname = 'ecommerce_api'") on $(psql -c 'SHOW server_version')"

# the workers serve once the extension exists: wait for them, 30 s at most
code=000
for _ in $(seq 1 60); do
	code=$(curl -s -o /tmp/health -w '%{http_code}' "http://127.0.0.1:$httpport/health_check/" || true)
	[ "$code" = 200 ] && break
	sleep 0.5
done
echo "GET /health_check/ -> $code $(head -c 120 /tmp/health)"
[ "$code" = 200 ] && grep -q '"database"' /tmp/health

code=$(curl -s -o /tmp/products -w '%{http_code}' "http://127.0.0.1:$httpport/products/?limit=2")
echo "GET /products/?limit=2 -> $code $(head -c 120 /tmp/products)"
[ "$code" = 200 ] && grep -q '"id_key"' /tmp/products
