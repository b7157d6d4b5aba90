/*
 * sql/clients.sql
 *		Routes of /clients: list, get, create, replace, delete, and the password
 *		hash they store.  (Login is in sql/auth.sql.)
 *
 * A piece of the install script (see sql/conventions.sql).
 */

CREATE FUNCTION ecommerce_api.api_clients_list(skip text, lim text) RETURNS text
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    errors json[] := ecommerce_api._page_errors(skip, lim);
    v_off  bigint;
    v_from bigint := -9223372036854775808;
BEGIN
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_off := ecommerce_api._page_offset(skip);
    IF v_off > 1000 THEN
        -- a deep page: find its first id through the index alone
        SELECT q.id_key INTO v_from FROM ecommerce_api.clients q ORDER BY q.id_key OFFSET v_off LIMIT 1;
        v_off := 0;
    END IF;
    RETURN (SELECT coalesce(json_agg(ecommerce_api._json_client(c)), '[]')::text
              FROM (SELECT * FROM ecommerce_api.clients q
                     WHERE q.id_key >= v_from
                     ORDER BY q.id_key OFFSET v_off LIMIT ecommerce_api._page_limit(lim)) c);
END
$$;

-- the primary key, even on a small table (see api_products_get)
CREATE FUNCTION ecommerce_api.api_clients_get(id text) RETURNS text
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
AS $$
DECLARE
    v_id   numeric := ecommerce_api._path_id(id);
    result text;
BEGIN
    SELECT ecommerce_api._json_client(c)::text INTO result
      FROM ecommerce_api.clients c
     WHERE c.id_key = ecommerce_api._bigint(v_id);
    IF result IS NULL THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    RETURN result;
END
$$;

-- Passwords are stored as bcrypt hashes (pgcrypto).  Cost 8 takes ~15 ms on
-- the development machine: slow enough to make offline guessing expensive,
-- fast enough not to stall the HTTP worker that runs it.  STRICT: no password
-- (a guest) is no hash, and not even a call (gen_salt alone is not free).
-- It reaches pgcrypto through the wrappers of sql/pgcrypto.sql, with nothing
-- but the built-ins on its path (see sql/conventions.sql).
CREATE FUNCTION ecommerce_api._hash_password(pw text) RETURNS text
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN ecommerce_api.crypt(pw, ecommerce_api.gen_salt('bf', 8));
END
$$;

CREATE FUNCTION ecommerce_api.api_clients_create(body text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc    jsonb := ecommerce_api._body(body);
    errors json[];
    result text;
BEGIN
    errors := ecommerce_api._client_errors(doc);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    INSERT INTO ecommerce_api.clients AS c (name, lastname, email, telephone, password)
    VALUES (doc ->> 'name',
            doc ->> 'lastname',
            ecommerce_api._normalize_email(doc ->> 'email'),
            doc ->> 'telephone',
            ecommerce_api._hash_password(doc ->> 'password'))    -- NULL password: a guest
    ON CONFLICT ON CONSTRAINT clients_email_key DO NOTHING
    RETURNING ecommerce_api._json_client(c)::text INTO result;
    IF result IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'EA409', MESSAGE = 'Email already registered';
    END IF;
    RETURN result;
END
$$;

-- A password absent or null leaves the current one (a PUT never turns a
-- client into a guest); is_admin is never taken from a body.
CREATE FUNCTION ecommerce_api.api_clients_update(id text, body text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc    jsonb := ecommerce_api._body(body);
    errors json[];
    v_id   numeric;
    result text;
BEGIN
    errors := ARRAY[ecommerce_api._path_error(id)] || ecommerce_api._client_errors(doc);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_id := ecommerce_api._int_text(id);
    BEGIN
        UPDATE ecommerce_api.clients AS c
           SET name      = doc ->> 'name',
               lastname  = doc ->> 'lastname',
               email     = ecommerce_api._normalize_email(doc ->> 'email'),
               telephone = CASE WHEN doc ? 'telephone' THEN doc ->> 'telephone' ELSE c.telephone END,
               password  = coalesce(ecommerce_api._hash_password(doc ->> 'password'), c.password)
         WHERE c.id_key = ecommerce_api._bigint(v_id)
        RETURNING ecommerce_api._json_client(c)::text INTO result;
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION USING ERRCODE = 'EA409', MESSAGE = 'Email already registered';
    END;
    IF result IS NULL THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    RETURN result;
END
$$;

CREATE FUNCTION ecommerce_api.api_clients_delete(id text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_num numeric := ecommerce_api._path_id(id);
    v_id  bigint := ecommerce_api._bigint(v_num);
BEGIN
    -- Locked first, so an order or bill being created for this client (which
    -- holds KEY SHARE on it until commit) is visible to the checks below.
    PERFORM FROM ecommerce_api.clients c WHERE c.id_key = v_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found(NULL, v_num);
    END IF;
    IF EXISTS (SELECT FROM ecommerce_api.orders o WHERE o.client_id = v_id)
       OR EXISTS (SELECT FROM ecommerce_api.bills b WHERE b.client_id = v_id) THEN
        RAISE EXCEPTION USING ERRCODE = 'EA409',
            MESSAGE = format('Cannot delete client %s: client has associated orders or bills', v_id);
    END IF;
    DELETE FROM ecommerce_api.clients c WHERE c.id_key = v_id;    -- addresses cascade
    RETURN NULL;
END
$$;
