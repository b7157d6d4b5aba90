/*
 * sql/checkout.sql
 *		POST /orders/checkout: a bill, an order and its lines in one transaction.
 *
 * A piece of the install script (see sql/conventions.sql).
 */

-- POST /orders/checkout: bill + order + lines in one transaction.
--   - Items naming the same product are merged into one line (their
--     quantities added): a cart may well list a product twice.
--   - Lines are priced at the products' current prices; the order and bill
--     totals are their sum (discount 0); the bill gets a generated number
--     CHK-<UTC date>-<n>.
--   - Product rows are locked in ascending id order, then every item is
--     checked: a missing product is 404, a short one 409 (the first in id
--     order), and nothing has been written yet when that happens.
CREATE FUNCTION ecommerce_api.api_orders_checkout(body text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc         jsonb := ecommerce_api._body(body);
    errors      json[];
    v_client_id numeric;
    v_pids      numeric[];
    v_ids       bigint[];
    v_qtys      numeric[];
    v_missing   numeric;
    v_bad       record;
    v_total     numeric;
    v_now       timestamp := now() AT TIME ZONE 'UTC';
    v_bill      ecommerce_api.bills;
    v_order     ecommerce_api.orders;
BEGIN
    errors := ecommerce_api._checkout_errors(doc)
        || CASE WHEN jsonb_typeof(doc -> 'items') = 'array' AND jsonb_array_length(doc -> 'items') <= 1000
                THEN ARRAY(SELECT e
                             FROM jsonb_array_elements(doc -> 'items') WITH ORDINALITY AS i(item, n),
                                  unnest(ecommerce_api._checkout_item_errors(i.item, i.n - 1)) WITH ORDINALITY AS u(e, k)
                            ORDER BY i.n, u.k)
                ELSE '{}' END;
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;

    v_client_id := ecommerce_api._int_of(doc -> 'client_id');
    PERFORM FROM ecommerce_api.clients c WHERE c.id_key = ecommerce_api._bigint(v_client_id) FOR KEY SHARE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found('Client', v_client_id);
    END IF;

    -- merge the items per product, ascending product id
    SELECT array_agg(i.product_id ORDER BY i.product_id), array_agg(i.quantity ORDER BY i.product_id)
      INTO v_pids, v_qtys
      FROM (SELECT ecommerce_api._int_of(e -> 'product_id') AS product_id, sum(ecommerce_api._int_of(e -> 'quantity')) AS quantity
              FROM jsonb_array_elements(doc -> 'items') AS e
             GROUP BY 1) i;

    PERFORM FROM ecommerce_api.products p
      WHERE p.id_key IN (SELECT ecommerce_api._bigint(x) FROM unnest(v_pids) AS x)
      ORDER BY p.id_key
        FOR NO KEY UPDATE;

    -- the first product that does not exist (an id beyond bigint cannot)
    SELECT i.product_id INTO v_missing
      FROM unnest(v_pids) AS i(product_id)
     WHERE NOT EXISTS (SELECT FROM ecommerce_api.products p WHERE p.id_key = ecommerce_api._bigint(i.product_id))
     ORDER BY i.product_id
     LIMIT 1;
    IF v_missing IS NOT NULL THEN
        PERFORM ecommerce_api._not_found('Product', v_missing);
    END IF;
    v_ids := v_pids::bigint[];

    SELECT p.id_key, i.quantity, p.stock INTO v_bad
      FROM unnest(v_ids, v_qtys) AS i(product_id, quantity)
      JOIN ecommerce_api.products p ON p.id_key = i.product_id
     WHERE p.stock < i.quantity
     ORDER BY p.id_key
     LIMIT 1;
    IF FOUND THEN
        PERFORM ecommerce_api._insufficient_stock(v_bad.id_key, v_bad.quantity, v_bad.stock);
    END IF;

    SELECT sum(i.quantity * p.price) INTO v_total
      FROM unnest(v_ids, v_qtys) AS i(product_id, quantity)
      JOIN ecommerce_api.products p ON p.id_key = i.product_id;
    IF v_total > 999999999999.99 THEN
        RAISE EXCEPTION USING ERRCODE = 'EA400',
            MESSAGE = format('Order total %s exceeds the maximum of 999999999999.99', v_total);
    END IF;

    -- A bill created by hand could already carry the generated number: then
    -- take the next one (ON CONFLICT keeps this free of subtransactions).
    LOOP
        INSERT INTO ecommerce_api.bills AS b (bill_number, discount, date, total, payment_type, client_id)
        VALUES (format('CHK-%s-%s', to_char(v_now, 'YYYYMMDD'), nextval('ecommerce_api.checkout_bill_seq')),
                0, v_now::date, v_total, ecommerce_api._int_of(doc -> 'payment_type'), v_client_id)
        ON CONFLICT ON CONSTRAINT bills_bill_number_key DO NOTHING
        RETURNING * INTO v_bill;
        EXIT WHEN FOUND;
    END LOOP;

    INSERT INTO ecommerce_api.orders AS o (date, total, delivery_method, status, client_id, bill_id)
    VALUES (v_now, v_total, ecommerce_api._int_of(doc -> 'delivery_method'), 1, v_bill.client_id, v_bill.id_key)
    RETURNING * INTO v_order;

    UPDATE ecommerce_api.products p
       SET stock = p.stock - i.quantity
      FROM unnest(v_ids, v_qtys) AS i(product_id, quantity)
     WHERE p.id_key = i.product_id;

    INSERT INTO ecommerce_api.order_details (quantity, price, order_id, product_id)
    SELECT i.quantity, p.price, v_order.id_key, p.id_key
      FROM unnest(v_ids, v_qtys) AS i(product_id, quantity)
      JOIN ecommerce_api.products p ON p.id_key = i.product_id
     ORDER BY p.id_key;

    RETURN json_build_object(
        'order', ecommerce_api._json_order(v_order),
        'bill', ecommerce_api._json_bill(v_bill),
        'order_details', (SELECT json_agg(ecommerce_api._json_order_detail(d, p) ORDER BY d.id_key)
                            FROM ecommerce_api.order_details d
                            JOIN ecommerce_api.products p ON p.id_key = d.product_id
                           WHERE d.order_id = v_order.id_key))::text;
END
$$;
