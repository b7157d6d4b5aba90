/*
 * sql/bills.sql
 *		Routes of /bills: list, get, create, replace, delete.
 *
 * A piece of the install script (see sql/conventions.sql).
 */

CREATE FUNCTION ecommerce_api.api_bills_list(skip text, lim text, client_id text) RETURNS text
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
        RETURN (SELECT coalesce(json_agg(ecommerce_api._json_bill(b)), '[]')::text
                  FROM (SELECT * FROM ecommerce_api.bills q
                         WHERE q.client_id = ecommerce_api._bigint(v_client)
                         ORDER BY q.id_key OFFSET v_off LIMIT ecommerce_api._page_limit(lim)) b);
    END IF;
    IF v_off > 1000 THEN
        -- a deep page: find its first id through the index alone
        SELECT q.id_key INTO v_from FROM ecommerce_api.bills q ORDER BY q.id_key OFFSET v_off LIMIT 1;
        v_off := 0;
    END IF;
    RETURN (SELECT coalesce(json_agg(ecommerce_api._json_bill(b)), '[]')::text
              FROM (SELECT * FROM ecommerce_api.bills q
                     WHERE q.id_key >= v_from
                     ORDER BY q.id_key OFFSET v_off LIMIT ecommerce_api._page_limit(lim)) b);
END
$$;

-- the primary key, even on a small table (see api_products_get)
CREATE FUNCTION ecommerce_api.api_bills_get(id text) RETURNS text
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
AS $$
DECLARE
    v_id   numeric := ecommerce_api._path_id(id);
    result text;
BEGIN
    SELECT ecommerce_api._json_bill(b)::text INTO result
      FROM ecommerce_api.bills b
     WHERE b.id_key = ecommerce_api._bigint(v_id);
    IF result IS NULL THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    RETURN result;
END
$$;

CREATE FUNCTION ecommerce_api.api_bills_create(body text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc         jsonb := ecommerce_api._body(body);
    errors      json[];
    v_client_id numeric;
    result      text;
BEGIN
    errors := ecommerce_api._bill_errors(doc);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_client_id := ecommerce_api._int_of(doc -> 'client_id');
    PERFORM FROM ecommerce_api.clients c WHERE c.id_key = ecommerce_api._bigint(v_client_id) FOR KEY SHARE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found('Client', v_client_id);
    END IF;
    INSERT INTO ecommerce_api.bills AS b (bill_number, discount, date, total, payment_type, client_id)
    VALUES (doc ->> 'bill_number',
            round(ecommerce_api._num(doc -> 'discount'), 2),
            ecommerce_api._date_of(doc -> 'date'),
            round(ecommerce_api._num(doc -> 'total'), 2),
            ecommerce_api._int_of(doc -> 'payment_type'),
            v_client_id)
    ON CONFLICT ON CONSTRAINT bills_bill_number_key DO NOTHING
    RETURNING ecommerce_api._json_bill(b)::text INTO result;
    IF result IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'EA409',
            MESSAGE = format('Bill number ''%s'' already exists', doc ->> 'bill_number');
    END IF;
    RETURN result;
END
$$;

CREATE FUNCTION ecommerce_api.api_bills_update(id text, body text) RETURNS text
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
    errors := ARRAY[ecommerce_api._path_error(id)] || ecommerce_api._bill_errors(doc);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_id := ecommerce_api._int_text(id);
    v_client_id := ecommerce_api._int_of(doc -> 'client_id');
    PERFORM FROM ecommerce_api.clients c WHERE c.id_key = ecommerce_api._bigint(v_client_id) FOR KEY SHARE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found('Client', v_client_id);
    END IF;
    BEGIN
        UPDATE ecommerce_api.bills AS b
           SET bill_number  = doc ->> 'bill_number',
               discount     = CASE WHEN doc ? 'discount' THEN round(ecommerce_api._num(doc -> 'discount'), 2) ELSE b.discount END,
               date         = ecommerce_api._date_of(doc -> 'date'),
               total        = round(ecommerce_api._num(doc -> 'total'), 2),
               payment_type = ecommerce_api._int_of(doc -> 'payment_type'),
               client_id    = v_client_id
         WHERE b.id_key = ecommerce_api._bigint(v_id)
        RETURNING ecommerce_api._json_bill(b)::text INTO result;
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION USING ERRCODE = 'EA409',
            MESSAGE = format('Bill number ''%s'' already exists', doc ->> 'bill_number');
    END;
    IF result IS NULL THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    RETURN result;
END
$$;

CREATE FUNCTION ecommerce_api.api_bills_delete(id text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_num numeric := ecommerce_api._path_id(id);
    v_id  bigint := ecommerce_api._bigint(v_num);
BEGIN
    -- locked first, so an order being created on this bill is seen below
    PERFORM FROM ecommerce_api.bills b WHERE b.id_key = v_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found(NULL, v_num);
    END IF;
    IF EXISTS (SELECT FROM ecommerce_api.orders o WHERE o.bill_id = v_id) THEN
        RAISE EXCEPTION USING ERRCODE = 'EA409',
            MESSAGE = format('Cannot delete bill %s: bill has associated orders', v_id);
    END IF;
    DELETE FROM ecommerce_api.bills b WHERE b.id_key = v_id;
    RETURN NULL;
END
$$;
