#!/usr/bin/env bash
# A hot standby of $PRIMARY_HOST: clone it once with pg_basebackup through
# the replication slot the primary made for it (REPLICATION_SLOT, default
# "standby1"; -R writes primary_conninfo and primary_slot_name), then run the
# same server read-only.  The clone brings the primary's ecommerce_api.conf:
# the same workers, serving the GET routes; writes answer 503 naming the
# primary.  Like the official entrypoint, it refuses to start without its
# password, and drops root for the postgres user.
set -euo pipefail
: "${PRIMARY_HOST:?PRIMARY_HOST names the primary}"
: "${REPLICATION_PASSWORD:?REPLICATION_PASSWORD must be set, as on the primary}"
: "${PGDATA:?}"
slot=${REPLICATION_SLOT:-standby1}
primary_port=${PRIMARY_PORT:-5432}

if [ "$(id -u)" = 0 ]; then
	mkdir -p "$PGDATA"
	chown postgres: "$PGDATA"
	chmod 700 "$PGDATA"
	exec gosu postgres "$BASH_SOURCE" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	# pg_basebackup -R writes the password into primary_conninfo, quoted
	# the way both libpq and postgresql.conf want it
	export PGPASSWORD=$REPLICATION_PASSWORD
	until pg_isready -q -h "$PRIMARY_HOST" -p "$primary_port" -U replicator -d postgres; do sleep 1; done
	pg_basebackup -h "$PRIMARY_HOST" -p "$primary_port" -U replicator \
		-D "$PGDATA" -S "$slot" --write-recovery-conf --wal-method=stream --checkpoint=fast
	chmod 700 "$PGDATA"
	unset PGPASSWORD
fi
exec "$@"
