/*
 * sql/idempotency.sql
 *		Idempotent POSTs (Idempotency-Key): the table of stored answers and
 *		the functions the gateway calls to claim a key, store an answer and
 *		sweep expired records (src/idempotency.c).
 *
 * A piece of the install script (see sql/conventions.sql).
 */

/* =========================================================================
 * Idempotent writes (Idempotency-Key)
 *
 * A POST that carries an Idempotency-Key runs once: its answer (status and
 * body) is stored here by the gateway in the same transaction as the write,
 * so the record commits, replicates and survives a failover together with
 * the order it describes.  A repeat of the request replays that answer.
 *
 * Keys are scoped: '' for anonymous clients (auth_mode = open, or no valid
 * token), the token's client id otherwise, so two clients' keys never meet.
 * A record is good for ecommerce_api.idempotency_ttl after it was written;
 * the gateway passes that age in, and a worker deletes older records in
 * small batches in its idle time (idempotency_sweep).
 *
 * Only answers of requests that committed are stored: a request that failed
 * changed nothing and may simply run again.
 * ========================================================================= */

CREATE TABLE ecommerce_api.idempotency_keys (
    scope      text        NOT NULL,
    key        text        NOT NULL,
    request    text        NOT NULL,   -- SHA-256 (hex) of method, path and body
    status     integer     NOT NULL,
    body       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_at ON ecommerce_api.idempotency_keys (created_at);

-- The scope of a request's keys: the client id of a token signed by us
-- (expired or not: it still names the client), else '' (anonymous).
CREATE FUNCTION ecommerce_api._idempotency_scope(token text) RETURNS text
LANGUAGE sql STABLE
AS $$
    SELECT coalesce(ecommerce_api._token_verify(token) ->> 'sub', '')
$$;

/*
 * idempotency_claim(scope, key, request, ttl): called before the route runs,
 * in the request's transaction.  Returns the stored answer to replay (one
 * row), or no row when the request is to run.  Refuses with
 *   EA409 while another request with the key is running: it holds the
 *         key's advisory lock until it commits or aborts, and waiting for
 *         it would tie up this worker (pg_try_advisory_xact_lock: no wait);
 *   EA422 when the key was used for another request (method, path or body).
 * An expired record is deleted, and the request runs again.
 */
CREATE FUNCTION ecommerce_api.idempotency_claim(p_scope text, p_key text, p_request text,
                                                p_ttl interval,
                                                OUT status integer, OUT body text)
RETURNS SETOF record
LANGUAGE plpgsql
AS $$
DECLARE
    v_row ecommerce_api.idempotency_keys;
BEGIN
    -- 'EAPI' as the lock class: our own space among the two-key advisory locks
    IF NOT pg_try_advisory_xact_lock(1161908297, hashtext(p_scope || ':' || p_key)) THEN
        RAISE EXCEPTION USING ERRCODE = 'EA409',
            MESSAGE = 'A request with this Idempotency-Key is still being processed; retry later';
    END IF;
    SELECT * INTO v_row FROM ecommerce_api.idempotency_keys k
     WHERE k.scope = p_scope AND k.key = p_key;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF v_row.created_at <= now() - p_ttl THEN
        DELETE FROM ecommerce_api.idempotency_keys k WHERE k.scope = p_scope AND k.key = p_key;
        RETURN;
    END IF;
    IF v_row.request <> p_request THEN
        RAISE EXCEPTION USING ERRCODE = 'EA422',
            MESSAGE = json_build_array(ecommerce_api._err('idempotency_key_reused',
                '["header", "Idempotency-Key"]'::jsonb,
                'This Idempotency-Key was already used with another request (method, path or body)',
                to_jsonb(p_key)))::text;
    END IF;
    status := v_row.status;
    body := v_row.body;
    RETURN NEXT;
END
$$;

-- Store the answer of a request that ran (same transaction, before commit).
CREATE FUNCTION ecommerce_api.idempotency_record(p_scope text, p_key text, p_request text,
                                                 p_status integer, p_body text)
RETURNS void
LANGUAGE sql
AS $$
    INSERT INTO ecommerce_api.idempotency_keys (scope, key, request, status, body)
    VALUES (p_scope, p_key, p_request, p_status, p_body)
$$;

/*
 * Delete up to p_batch records older than p_ttl; returns how many.  Rows
 * another transaction holds (a request claiming an expired key) are
 * skipped, so the sweep never waits for a request nor makes one wait.
 */
CREATE FUNCTION ecommerce_api.idempotency_sweep(p_ttl interval, p_batch integer)
RETURNS integer
LANGUAGE sql
AS $$
    WITH gone AS (
        DELETE FROM ecommerce_api.idempotency_keys k
         WHERE k.ctid = ANY (ARRAY(
                SELECT o.ctid FROM ecommerce_api.idempotency_keys o
                 WHERE o.created_at <= now() - p_ttl
                 ORDER BY o.created_at
                 LIMIT p_batch
                   FOR UPDATE SKIP LOCKED))
        RETURNING 1)
    SELECT count(*)::integer FROM gone
$$;
