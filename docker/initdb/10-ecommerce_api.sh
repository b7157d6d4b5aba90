#!/usr/bin/env bash
# First start of a primary: the extension, a replication role for standbys,
# and (ECOMMERCE_DEMO_SCALE > 0) the demo catalog.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE EXTENSION IF NOT EXISTS ecommerce_api CASCADE;
SQL
if [ -n "${REPLICATION_PASSWORD:-}" ]; then
	psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
		-c "CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD '${REPLICATION_PASSWORD}'"
	echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
fi
if [ "${ECOMMERCE_DEMO_SCALE:-0}" -gt 0 ]; then
	psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
		-c "SELECT ecommerce_api.load_demo_data(${ECOMMERCE_DEMO_SCALE})"
fi
