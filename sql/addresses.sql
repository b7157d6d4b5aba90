/*
 * sql/addresses.sql
 *		Routes of /addresses: list, get, create, replace, delete.
 *
 * A piece of the install script (see sql/conventions.sql).
 */

CREATE FUNCTION ecommerce_api.api_addresses_list(skip text, lim text, client_id text) RETURNS text
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    errors   json[] := ecommerce_api._page_errors(skip, lim)
                       || ecommerce_api._chk_query_int(client_id, 'client_id');
    v_client numeric := ecommerce_api._int_text(client_id);
    v_off    bigint;
    v_from   bigint := -9223372036854775808;
BEGIN
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_off := ecommerce_api._page_offset(skip);
    IF client_id IS NOT NULL THEN
        RETURN (SELECT coalesce(json_agg(ecommerce_api._json_address(a)), '[]')::text
                  FROM (SELECT * FROM ecommerce_api.addresses q
                         WHERE q.client_id = ecommerce_api._bigint(v_client)
                         ORDER BY q.id_key OFFSET v_off LIMIT ecommerce_api._page_limit(lim)) a);
    END IF;
    IF v_off > 1000 THEN
        -- a deep page: find its first id through the index alone
        SELECT q.id_key INTO v_from FROM ecommerce_api.addresses q ORDER BY q.id_key OFFSET v_off LIMIT 1;
        v_off := 0;
    END IF;
    RETURN (SELECT coalesce(json_agg(ecommerce_api._json_address(a)), '[]')::text
              FROM (SELECT * FROM ecommerce_api.addresses q
                     WHERE q.id_key >= v_from
                     ORDER BY q.id_key OFFSET v_off LIMIT ecommerce_api._page_limit(lim)) a);
END
$$;

-- the primary key, even on a small table (see api_products_get)
CREATE FUNCTION ecommerce_api.api_addresses_get(id text) RETURNS text
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
AS $$
DECLARE
    v_id   numeric := ecommerce_api._path_id(id);
    result text;
BEGIN
    SELECT ecommerce_api._json_address(a)::text INTO result
      FROM ecommerce_api.addresses a
     WHERE a.id_key = ecommerce_api._bigint(v_id);
    IF result IS NULL THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    RETURN result;
END
$$;

CREATE FUNCTION ecommerce_api.api_addresses_create(body text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc         jsonb := ecommerce_api._body(body);
    errors      json[];
    v_client_id numeric;
    result      text;
BEGIN
    errors := ecommerce_api._address_errors(doc);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_client_id := ecommerce_api._int_of(doc -> 'client_id');
    PERFORM FROM ecommerce_api.clients c WHERE c.id_key = ecommerce_api._bigint(v_client_id) FOR KEY SHARE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found('Client', v_client_id);
    END IF;
    INSERT INTO ecommerce_api.addresses AS a (street, number, city, client_id)
    VALUES (doc ->> 'street', doc ->> 'number', doc ->> 'city', v_client_id)
    RETURNING ecommerce_api._json_address(a)::text INTO result;
    RETURN result;
END
$$;

CREATE FUNCTION ecommerce_api.api_addresses_update(id text, body text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc         jsonb := ecommerce_api._body(body);
    errors      json[];
    v_client_id numeric;
    v_id        numeric;
    result      text;
BEGIN
    errors := ARRAY[ecommerce_api._path_error(id)] || ecommerce_api._address_errors(doc);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_id := ecommerce_api._int_text(id);
    v_client_id := ecommerce_api._int_of(doc -> 'client_id');
    PERFORM FROM ecommerce_api.clients c WHERE c.id_key = ecommerce_api._bigint(v_client_id) FOR KEY SHARE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found('Client', v_client_id);
    END IF;
    UPDATE ecommerce_api.addresses AS a
       SET street    = CASE WHEN doc ? 'street' THEN doc ->> 'street' ELSE a.street END,
           number    = CASE WHEN doc ? 'number' THEN doc ->> 'number' ELSE a.number END,
           city      = CASE WHEN doc ? 'city' THEN doc ->> 'city' ELSE a.city END,
           client_id = v_client_id
     WHERE a.id_key = ecommerce_api._bigint(v_id)
    RETURNING ecommerce_api._json_address(a)::text INTO result;
    IF result IS NULL THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    RETURN result;
END
$$;

CREATE FUNCTION ecommerce_api.api_addresses_delete(id text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_id numeric := ecommerce_api._path_id(id);
BEGIN
    DELETE FROM ecommerce_api.addresses a WHERE a.id_key = ecommerce_api._bigint(v_id);
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    RETURN NULL;
END
$$;
