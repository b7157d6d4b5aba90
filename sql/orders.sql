/*
 * sql/orders.sql
 *		Routes of /orders: list, get, create, update, delete (a canceled
 *		order returns its stock).  Checkout is in sql/checkout.sql.
 *
 * A piece of the install script (see sql/conventions.sql).
 */

CREATE FUNCTION ecommerce_api.api_orders_list(skip text, lim text, client_id text) RETURNS text
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
        RETURN (SELECT coalesce(json_agg(ecommerce_api._json_order(o)), '[]')::text
                  FROM (SELECT * FROM ecommerce_api.orders q
                         WHERE q.client_id = ecommerce_api._bigint(v_client)
                         ORDER BY q.id_key OFFSET v_off LIMIT ecommerce_api._page_limit(lim)) o);
    END IF;
    IF v_off > 1000 THEN
        -- a deep page: find its first id through the index alone
        SELECT q.id_key INTO v_from FROM ecommerce_api.orders q ORDER BY q.id_key OFFSET v_off LIMIT 1;
        v_off := 0;
    END IF;
    RETURN (SELECT coalesce(json_agg(ecommerce_api._json_order(o)), '[]')::text
              FROM (SELECT * FROM ecommerce_api.orders q
                     WHERE q.id_key >= v_from
                     ORDER BY q.id_key OFFSET v_off LIMIT ecommerce_api._page_limit(lim)) o);
END
$$;

-- the primary key, even on a small table (see api_products_get)
CREATE FUNCTION ecommerce_api.api_orders_get(id text) RETURNS text
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
AS $$
DECLARE
    v_id   numeric := ecommerce_api._path_id(id);
    result text;
BEGIN
    SELECT ecommerce_api._json_order(o)::text INTO result
      FROM ecommerce_api.orders o
     WHERE o.id_key = ecommerce_api._bigint(v_id);
    IF result IS NULL THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    RETURN result;
END
$$;

-- An order is created empty (its lines come through /order_details, or use
-- /orders/checkout); total is the client's figure, as in the reference.
CREATE FUNCTION ecommerce_api.api_orders_create(body text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc         jsonb := ecommerce_api._body(body);
    errors      json[];
    v_client_id numeric;
    v_bill_id   numeric;
    v_date      timestamp;
    result      text;
BEGIN
    errors := ecommerce_api._order_errors(doc, partial => false);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_client_id := ecommerce_api._int_of(doc -> 'client_id');
    v_bill_id := ecommerce_api._int_of(doc -> 'bill_id');
    IF doc ->> 'date' IS NOT NULL THEN
        v_date := (ecommerce_api._datetime_parse(doc ->> 'date')).ts;
    END IF;
    PERFORM FROM ecommerce_api.clients c WHERE c.id_key = ecommerce_api._bigint(v_client_id) FOR KEY SHARE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found('Client', v_client_id);
    END IF;
    PERFORM FROM ecommerce_api.bills b WHERE b.id_key = ecommerce_api._bigint(v_bill_id) FOR KEY SHARE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found('Bill', v_bill_id);
    END IF;
    INSERT INTO ecommerce_api.orders AS o (date, total, delivery_method, status, client_id, bill_id)
    VALUES (coalesce(v_date, now() AT TIME ZONE 'UTC'),  -- = column default
            round(ecommerce_api._num(doc -> 'total'), 2),
            ecommerce_api._int_of(doc -> 'delivery_method'),
            coalesce(ecommerce_api._int_of(doc -> 'status'), 1),
            v_client_id,
            v_bill_id)
    RETURNING ecommerce_api._json_order(o)::text INTO result;
    RETURN result;
END
$$;

-- PUT /orders/id/{id}: a true partial update, only the keys sent change.
-- Status 4 (CANCELED) returns the lines' stock, exactly once: the order row
-- is locked first, so of two concurrent cancels the second waits, then sees
-- status 4 and returns nothing.  A canceled order stays canceled.
CREATE FUNCTION ecommerce_api.api_orders_update(id text, body text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc         jsonb := ecommerce_api._body(body);
    errors      json[];
    v_client_id numeric;
    v_bill_id   numeric;
    v_date      timestamp;
    v_id        numeric;
    v_order     ecommerce_api.orders;
    v_status    smallint;
    result      text;
BEGIN
    errors := ARRAY[ecommerce_api._path_error(id)] || ecommerce_api._order_errors(doc, partial => true);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_id := ecommerce_api._int_text(id);
    v_client_id := ecommerce_api._int_of(doc -> 'client_id');
    v_bill_id := ecommerce_api._int_of(doc -> 'bill_id');
    IF doc ->> 'date' IS NOT NULL THEN
        v_date := (ecommerce_api._datetime_parse(doc ->> 'date')).ts;
    END IF;

    SELECT * INTO v_order FROM ecommerce_api.orders o WHERE o.id_key = ecommerce_api._bigint(v_id) FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    IF v_client_id IS NOT NULL THEN
        PERFORM FROM ecommerce_api.clients c WHERE c.id_key = ecommerce_api._bigint(v_client_id) FOR KEY SHARE;
        IF NOT FOUND THEN
            PERFORM ecommerce_api._not_found('Client', v_client_id);
        END IF;
    END IF;
    IF v_bill_id IS NOT NULL THEN
        PERFORM FROM ecommerce_api.bills b WHERE b.id_key = ecommerce_api._bigint(v_bill_id) FOR KEY SHARE;
        IF NOT FOUND THEN
            PERFORM ecommerce_api._not_found('Bill', v_bill_id);
        END IF;
    END IF;

    v_status := coalesce(ecommerce_api._int_of(doc -> 'status'), v_order.status);
    IF v_order.status = 4 AND v_status <> 4 THEN
        RAISE EXCEPTION USING ERRCODE = 'EA409',
            MESSAGE = format('Order %s is canceled and cannot be set to status %s', v_order.id_key, v_status);
    END IF;
    IF v_status = 4 AND v_order.status <> 4 THEN
        PERFORM ecommerce_api._return_stock(v_order.id_key);
    END IF;

    -- absent keys (and null for the optional date and status) keep their value
    UPDATE ecommerce_api.orders AS o
       SET date            = coalesce(v_date, o.date),
           total           = coalesce(round(ecommerce_api._num(doc -> 'total'), 2), o.total),
           delivery_method = coalesce(ecommerce_api._int_of(doc -> 'delivery_method'), o.delivery_method),
           status          = v_status,
           client_id       = coalesce(v_client_id, o.client_id),
           bill_id         = coalesce(v_bill_id, o.bill_id)
     WHERE o.id_key = v_order.id_key
    RETURNING ecommerce_api._json_order(o)::text INTO result;
    RETURN result;
END
$$;

-- Deleting an order deletes its lines and, unless it was canceled (whose
-- stock has already gone back), returns their quantities to stock.
CREATE FUNCTION ecommerce_api.api_orders_delete(id text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_num    numeric := ecommerce_api._path_id(id);
    v_id     bigint := ecommerce_api._bigint(v_num);
    v_status smallint;
BEGIN
    SELECT o.status INTO v_status FROM ecommerce_api.orders o WHERE o.id_key = v_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found(NULL, v_num);
    END IF;
    IF v_status <> 4 THEN
        PERFORM ecommerce_api._return_stock(v_id);
    END IF;
    DELETE FROM ecommerce_api.orders o WHERE o.id_key = v_id;    -- lines cascade
    RETURN NULL;
END
$$;
