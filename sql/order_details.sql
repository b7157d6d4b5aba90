/*
 * sql/order_details.sql
 *		Routes of /order_details, and the stock rules they keep.
 *
 * A piece of the install script (see sql/conventions.sql).
 */

/* ---- order_details ----------------------------------------------------- *
 *
 * The stock rules live here.  Invariant: for every product, stock >= 0 and
 * stock + the quantities of its lines in non-canceled orders only changes
 * through product writes, never through order operations.  Each function
 * takes its locks in the global order (order rows, then line rows, then
 * product rows ascending) before it reads what it decides on.
 *
 * Lines of a canceled order are frozen: their stock was returned by the
 * cancel, so they cannot be added, changed or moved (409); deleting one is
 * allowed and returns nothing.
 */

CREATE FUNCTION ecommerce_api.api_order_details_list(skip text, lim text, order_id text) RETURNS text
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    errors  json[] := ecommerce_api._page_errors(skip, lim)
                      || ecommerce_api._chk_query_int(order_id, 'order_id');
    v_order numeric := ecommerce_api._int_text(order_id);
    v_off   bigint;
    v_from  bigint := -9223372036854775808;
BEGIN
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_off := ecommerce_api._page_offset(skip);
    IF order_id IS NOT NULL THEN
        RETURN (SELECT coalesce(json_agg(page.line), '[]')::text
                  FROM (SELECT ecommerce_api._json_order_detail(d, p) AS line
                          FROM (SELECT * FROM ecommerce_api.order_details q
                                 WHERE q.order_id = ecommerce_api._bigint(v_order)
                                 ORDER BY q.id_key OFFSET v_off LIMIT ecommerce_api._page_limit(lim)) d
                          JOIN ecommerce_api.products p ON p.id_key = d.product_id
                         ORDER BY d.id_key) page);
    END IF;
    IF v_off > 1000 THEN
        -- a deep page: find its first id through the index alone
        SELECT q.id_key INTO v_from FROM ecommerce_api.order_details q ORDER BY q.id_key OFFSET v_off LIMIT 1;
        v_off := 0;
    END IF;
    RETURN (SELECT coalesce(json_agg(page.line), '[]')::text
              FROM (SELECT ecommerce_api._json_order_detail(d, p) AS line
                      FROM (SELECT * FROM ecommerce_api.order_details q
                             WHERE q.id_key >= v_from
                             ORDER BY q.id_key OFFSET v_off LIMIT ecommerce_api._page_limit(lim)) d
                      JOIN ecommerce_api.products p ON p.id_key = d.product_id
                     ORDER BY d.id_key) page);
END
$$;

-- the primary key, even on a small table (see api_products_get)
CREATE FUNCTION ecommerce_api.api_order_details_get(id text) RETURNS text
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
AS $$
DECLARE
    v_id   numeric := ecommerce_api._path_id(id);
    result text;
BEGIN
    SELECT ecommerce_api._json_order_detail_with(d,
               (SELECT ecommerce_api._json_line_product(p) FROM ecommerce_api.products p
                 WHERE p.id_key = d.product_id))::text INTO result
      FROM ecommerce_api.order_details d
     WHERE d.id_key = ecommerce_api._bigint(v_id);
    IF result IS NULL THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    RETURN result;
END
$$;

-- The line is priced at the product's price: a price sent in the body is
-- only checked against it (within 0.01), the server stays the price authority.
CREATE FUNCTION ecommerce_api.api_order_details_create(body text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc          jsonb := ecommerce_api._body(body);
    errors       json[];
    v_order_id   numeric;
    v_quantity   numeric;
    v_product_id numeric;
    v_status     smallint;
    v_product    ecommerce_api.products;
    result       text;
BEGIN
    errors := ecommerce_api._order_detail_errors(doc);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_order_id := ecommerce_api._int_of(doc -> 'order_id');
    v_quantity := ecommerce_api._int_of(doc -> 'quantity');
    v_product_id := ecommerce_api._int_of(doc -> 'product_id');

    -- lock 1: the order (serializes with a concurrent cancel or delete)
    SELECT o.status INTO v_status FROM ecommerce_api.orders o WHERE o.id_key = ecommerce_api._bigint(v_order_id) FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found('Order', v_order_id);
    END IF;
    IF v_status = 4 THEN
        RAISE EXCEPTION USING ERRCODE = 'EA409',
            MESSAGE = format('Cannot add lines to order %s: order is canceled', v_order_id);
    END IF;

    -- lock 3: the product
    SELECT * INTO v_product FROM ecommerce_api.products p
     WHERE p.id_key = ecommerce_api._bigint(v_product_id) FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found('Product', v_product_id);
    END IF;
    PERFORM ecommerce_api._check_price(v_product.price, ecommerce_api._num(doc -> 'price'));
    IF v_product.stock < v_quantity THEN
        PERFORM ecommerce_api._insufficient_stock(v_product.id_key, v_quantity, v_product.stock);
    END IF;

    UPDATE ecommerce_api.products p SET stock = p.stock - v_quantity
     WHERE p.id_key = v_product.id_key
    RETURNING * INTO v_product;
    INSERT INTO ecommerce_api.order_details AS d (quantity, price, order_id, product_id)
    VALUES (v_quantity, v_product.price, v_order_id, v_product.id_key)
    RETURNING ecommerce_api._json_order_detail(d, v_product)::text INTO result;
    RETURN result;
END
$$;

-- Full-body PUT.  The old product is credited the old quantity and the new
-- one debited the new quantity (the same product: the difference); a price
-- sent is checked against the new product; without one the line keeps its
-- price unless the product changes.
CREATE FUNCTION ecommerce_api.api_order_details_update(id text, body text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc            jsonb := ecommerce_api._body(body);
    errors         json[];
    v_num          numeric;
    v_id           bigint;
    v_new_order    numeric;
    v_new_product  numeric;
    v_quantity     numeric;
    v_old_order_id bigint;
    v_line         ecommerce_api.order_details;
    v_old_status   smallint;
    v_new_status   smallint;
    v_product      ecommerce_api.products;
    v_available    numeric;
    result         text;
BEGIN
    errors := ARRAY[ecommerce_api._path_error(id)] || ecommerce_api._order_detail_errors(doc);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_num := ecommerce_api._int_text(id);
    v_id := ecommerce_api._bigint(v_num);
    v_new_order := ecommerce_api._int_of(doc -> 'order_id');
    v_new_product := ecommerce_api._int_of(doc -> 'product_id');
    v_quantity := ecommerce_api._int_of(doc -> 'quantity');

    -- Locks 1 and 2: the line's current order and the target order (ascending),
    -- then the line.  The line's order is read before it is locked, so make
    -- sure the line did not move in between; if it did (a concurrent PUT),
    -- go round again with its new order.
    LOOP
        SELECT d.order_id INTO v_old_order_id FROM ecommerce_api.order_details d WHERE d.id_key = v_id;
        IF NOT FOUND THEN
            PERFORM ecommerce_api._not_found(NULL, v_num);
        END IF;
        PERFORM FROM ecommerce_api.orders o
          WHERE o.id_key IN (v_old_order_id, ecommerce_api._bigint(v_new_order))
          ORDER BY o.id_key
            FOR NO KEY UPDATE;
        SELECT * INTO v_line FROM ecommerce_api.order_details d WHERE d.id_key = v_id FOR UPDATE;
        IF NOT FOUND THEN
            PERFORM ecommerce_api._not_found(NULL, v_num);
        END IF;
        EXIT WHEN v_line.order_id = v_old_order_id;
    END LOOP;

    SELECT o.status INTO v_new_status FROM ecommerce_api.orders o WHERE o.id_key = ecommerce_api._bigint(v_new_order);
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found('Order', v_new_order);
    END IF;
    SELECT o.status INTO v_old_status FROM ecommerce_api.orders o WHERE o.id_key = v_line.order_id;
    IF v_old_status = 4 THEN
        RAISE EXCEPTION USING ERRCODE = 'EA409',
            MESSAGE = format('Cannot modify order line %s: order %s is canceled', v_line.id_key, v_line.order_id);
    END IF;
    IF v_new_status = 4 THEN
        RAISE EXCEPTION USING ERRCODE = 'EA409',
            MESSAGE = format('Cannot add lines to order %s: order is canceled', v_new_order);
    END IF;

    -- lock 3: old and new product, ascending
    PERFORM FROM ecommerce_api.products p
      WHERE p.id_key IN (v_line.product_id, ecommerce_api._bigint(v_new_product))
      ORDER BY p.id_key
        FOR NO KEY UPDATE;
    SELECT * INTO v_product FROM ecommerce_api.products p WHERE p.id_key = ecommerce_api._bigint(v_new_product);
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found('Product', v_new_product);
    END IF;
    PERFORM ecommerce_api._check_price(v_product.price, ecommerce_api._num(doc -> 'price'));
    -- what this line may take: the product's stock plus what the line holds already
    v_available := v_product.stock
                 + CASE WHEN v_product.id_key = v_line.product_id THEN v_line.quantity ELSE 0 END;
    IF v_available < v_quantity THEN
        PERFORM ecommerce_api._insufficient_stock(v_product.id_key, v_quantity, v_available);
    END IF;

    UPDATE ecommerce_api.products p SET stock = p.stock + v_line.quantity WHERE p.id_key = v_line.product_id;
    UPDATE ecommerce_api.products p SET stock = p.stock - v_quantity
     WHERE p.id_key = v_product.id_key
    RETURNING * INTO v_product;

    UPDATE ecommerce_api.order_details AS d
       SET quantity   = v_quantity,
           price      = CASE WHEN doc -> 'price' IS NOT NULL AND doc -> 'price' <> 'null'
                               OR v_product.id_key <> d.product_id
                             THEN v_product.price ELSE d.price END,
           order_id   = v_new_order,
           product_id = v_product.id_key
     WHERE d.id_key = v_id
    RETURNING ecommerce_api._json_order_detail(d, v_product)::text INTO result;
    RETURN result;
END
$$;

CREATE FUNCTION ecommerce_api.api_order_details_delete(id text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_num          numeric := ecommerce_api._path_id(id);
    v_id           bigint := ecommerce_api._bigint(v_num);
    v_old_order_id bigint;
    v_status       smallint;
    v_line         ecommerce_api.order_details;
BEGIN
    -- lock 1 the line's order, lock 2 the line (by deleting it); retry if the
    -- line moved to another order between the two
    LOOP
        SELECT d.order_id INTO v_old_order_id FROM ecommerce_api.order_details d WHERE d.id_key = v_id;
        IF NOT FOUND THEN
            PERFORM ecommerce_api._not_found(NULL, v_num);
        END IF;
        SELECT o.status INTO v_status FROM ecommerce_api.orders o WHERE o.id_key = v_old_order_id FOR NO KEY UPDATE;
        DELETE FROM ecommerce_api.order_details d
         WHERE d.id_key = v_id AND d.order_id = v_old_order_id
        RETURNING * INTO v_line;
        EXIT WHEN FOUND;
    END LOOP;
    -- lock 3: the product; a canceled order's lines hold no stock any more
    IF v_status <> 4 THEN
        UPDATE ecommerce_api.products p SET stock = p.stock + v_line.quantity WHERE p.id_key = v_line.product_id;
    END IF;
    RETURN NULL;
END
$$;
