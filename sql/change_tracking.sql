/*
 * sql/change_tracking.sql
 *		Change tracking for the workers' answer caches: the statement
 *		triggers that move the change generations (src/generations.c).
 *
 * A piece of the install script (see sql/conventions.sql).
 */

/* =========================================================================
 * Change tracking for the workers' answer caches
 *
 * Every change to the shop's tables, whoever makes it (the API, psql, a
 * batch job, COPY, a restore, TRUNCATE), moves change generations in shared
 * memory after its commit; a worker reuses a kept GET answer, or answers
 * 304 to If-None-Match, only while the generations it was built under have
 * not moved.  The C function only notes what changed; the counters move in
 * a transaction callback once the commit is visible (src/generations.c
 * says why that order makes a stale answer impossible).
 *
 * Statement triggers, so a statement costs one call whatever its row count.
 * UPDATE and DELETE hand over the changed rows (OLD TABLE) so that only the
 * single-row answers of those ids are invalidated; INSERT and TRUNCATE need
 * none.  ENABLE ALWAYS: they fire under session_replication_role = replica
 * too (some restore tools).  Logical replication's apply worker fires no
 * statement trigger, only row triggers: track_replica_rows, a row trigger
 * that fires only under session_replication_role = replica (ENABLE REPLICA),
 * so that ordinary writers pay nothing for it.
 * ========================================================================= */

CREATE FUNCTION ecommerce_api._track_changes() RETURNS trigger
LANGUAGE c AS '$libdir/ecommerce_api', 'eapi_track_changes';

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['categories', 'products', 'clients', 'addresses',
                             'bills', 'orders', 'order_details', 'reviews'] LOOP
        EXECUTE format('CREATE TRIGGER track_inserts AFTER INSERT ON ecommerce_api.%I'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION ecommerce_api._track_changes(%L)', t, t);
        EXECUTE format('CREATE TRIGGER track_updates AFTER UPDATE ON ecommerce_api.%I'
                       ' REFERENCING OLD TABLE AS changed'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION ecommerce_api._track_changes(%L)', t, t);
        EXECUTE format('CREATE TRIGGER track_deletes AFTER DELETE ON ecommerce_api.%I'
                       ' REFERENCING OLD TABLE AS changed'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION ecommerce_api._track_changes(%L)', t, t);
        EXECUTE format('CREATE TRIGGER track_truncates AFTER TRUNCATE ON ecommerce_api.%I'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION ecommerce_api._track_changes(%L)', t, t);
        EXECUTE format('CREATE TRIGGER track_replica_rows AFTER INSERT OR UPDATE OR DELETE ON ecommerce_api.%I'
                       ' FOR EACH ROW EXECUTE FUNCTION ecommerce_api._track_changes(%L)', t, t);
        EXECUTE format('ALTER TABLE ecommerce_api.%I'
                       ' ENABLE ALWAYS TRIGGER track_inserts, ENABLE ALWAYS TRIGGER track_updates,'
                       ' ENABLE ALWAYS TRIGGER track_deletes, ENABLE ALWAYS TRIGGER track_truncates,'
                       ' ENABLE REPLICA TRIGGER track_replica_rows', t);
    END LOOP;
END
$$;
