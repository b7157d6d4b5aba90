#!/usr/bin/env bash
# A hot standby of $PRIMARY_HOST: clone it once with pg_basebackup, then run
# the same server (same workers) read-only.  Its API serves the GET routes;
# writes answer 503 naming the primary.
set -euo pipefail
: "${PRIMARY_HOST:?}" "${REPLICATION_PASSWORD:?}"
export PGPASSWORD=$REPLICATION_PASSWORD
if [ ! -s "$PGDATA/PG_VERSION" ]; then
	until pg_isready -h "$PRIMARY_HOST" -U replicator -d postgres; do sleep 1; done
	gosu postgres pg_basebackup -h "$PRIMARY_HOST" -U replicator -D "$PGDATA" \
		--write-recovery-conf --wal-method=stream --checkpoint=fast
	chmod 700 "$PGDATA"
fi
exec gosu postgres "$@"
