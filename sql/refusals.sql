/*
 * sql/refusals.sql
 *		Business refusals shared by several routes (404, price and stock
 *		conflicts) and the return of a canceled order's stock.
 *
 * A piece of the install script (see sql/conventions.sql).
 */

/* =========================================================================
 * 7. Business refusals shared by several routes
 *
 * Functions that raise are STABLE, never IMMUTABLE: the planner may run an
 * IMMUTABLE call with constant arguments while it plans a statement.
 * ========================================================================= */

-- 404.  what = NULL for the entity named by the path ("Entity with id 5 not
-- found"), else the resource referenced from a body ("Category with id 9 ...").
CREATE FUNCTION ecommerce_api._not_found(what text, id numeric) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'EA404',
        MESSAGE = format('%s with id %s not found', coalesce(what, 'Entity'), id);
END
$$;

-- 400 when a line's price, if sent, is not within 0.01 of the product's price.
CREATE FUNCTION ecommerce_api._check_price(expected numeric, sent numeric) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF abs(sent - expected) > 0.01 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EA400',
            MESSAGE = format('Price mismatch. Expected %s, got %s', expected, sent);
    END IF;
END
$$;

CREATE FUNCTION ecommerce_api._insufficient_stock(product_id bigint, requested numeric, available numeric)
RETURNS void LANGUAGE plpgsql STABLE AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'EA409',
        MESSAGE = format('Insufficient stock for product %s. Requested: %s, Available: %s',
                         product_id, requested, available);
END
$$;

-- Returns an order's line quantities to stock.  The caller holds the order
-- row lock (every writer of order lines takes it first), so the set of lines
-- cannot change under us; product rows are then locked in ascending id order
-- before any is updated, as the global lock order demands (a multi-row UPDATE
-- alone would lock them in whatever order its plan reads them).
CREATE FUNCTION ecommerce_api._return_stock(p_order_id bigint) RETURNS void
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    PERFORM
       FROM ecommerce_api.products p
      WHERE p.id_key IN (SELECT d.product_id FROM ecommerce_api.order_details d WHERE d.order_id = p_order_id)
      ORDER BY p.id_key
        FOR NO KEY UPDATE;

    UPDATE ecommerce_api.products p
       SET stock = p.stock + l.quantity
      FROM (SELECT d.product_id, sum(d.quantity) AS quantity
              FROM ecommerce_api.order_details d
             WHERE d.order_id = p_order_id
             GROUP BY d.product_id) l
     WHERE p.id_key = l.product_id;
END
$$;
