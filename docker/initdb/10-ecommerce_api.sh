#!/usr/bin/env bash
# First start of a primary (the official image runs this from
# /docker-entrypoint-initdb.d, against its temporary socket-only server, with
# its environment: POSTGRES_USER, POSTGRES_DB, ...):
#
#  - the extension, in POSTGRES_DB;
#  - $PGDATA/ecommerce_api.conf, included from postgresql.conf: the tuned
#    postgresql.conf.sample, then what this container needs (the workers
#    listen on all addresses and serve POSTGRES_DB).  The temporary server
#    was started before this file existed, so it runs no HTTP worker: nothing
#    listens on the network until the real server starts;
#  - with REPLICATION_PASSWORD: a replication role and a physical slot
#    (REPLICATION_SLOT, default "standby1") that keeps the WAL a standby has
#    not received yet, so a standby that was down catches up;
#  - with ECOMMERCE_DEMO_SCALE > 0 (opt-in): the demo catalog, whose clients
#    have a published password.
#
# Values from the environment never become SQL text: they are psql variables
# (:'name' quotes a literal, :"name" an identifier), and the database name is
# quoted for the configuration file.
set -euo pipefail

: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
conf_sample=${ECOMMERCE_API_CONF_SAMPLE:-/usr/share/postgresql/ecommerce_api.conf.sample}
slot=${REPLICATION_SLOT:-standby1}
demo_scale=${ECOMMERCE_DEMO_SCALE:-0}

case $demo_scale in
	''|*[!0-9]*) echo "ECOMMERCE_DEMO_SCALE=$demo_scale: a whole number is expected" >&2; exit 1 ;;
esac

psql_db() {
	psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" "$@"
}

# A string as a postgresql.conf value: quoted, ' doubled, \ escaped.
conf_quote() {
	local s=${1//\\/\\\\}
	printf "'%s'" "${s//\'/\'\'}"
}

psql_db -q <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ecommerce_api CASCADE;
SQL

{
	echo "# ecommerce_api in this container (written by 10-ecommerce_api.sh at initdb)."
	echo "# The tuned setup first, then what the container changes."
	cat "$conf_sample"
	echo
	echo "# --- the container"
	echo "ecommerce_api.listen_address = '*'		# the container's network; publish the port, or not"
	echo "ecommerce_api.database = $(conf_quote "$POSTGRES_DB")		# POSTGRES_DB"
	echo "max_slot_wal_keep_size = 10GB		# a standby gone for good does not fill the disk"
} > "$PGDATA/ecommerce_api.conf"
echo "include = 'ecommerce_api.conf'		# ecommerce_api's settings" >> "$PGDATA/postgresql.conf"

if [ -n "${REPLICATION_PASSWORD:-}" ]; then
	psql_db -q -v pw="$REPLICATION_PASSWORD" -v slot="$slot" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'pw';
SELECT 1 FROM pg_create_physical_replication_slot(:'slot', true);
SQL
	echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
fi

if [ "$demo_scale" -gt 0 ]; then
	echo "10-ecommerce_api.sh: loading the demo catalog (ECOMMERCE_DEMO_SCALE=$demo_scale); its clients' password is public (demo1234)" >&2
	psql_db -q -v scale="$demo_scale" <<'SQL'
SELECT ecommerce_api.load_demo_data(:'scale'::int);
SQL
fi
