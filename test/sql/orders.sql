--
-- orders and order_details: the stock rules.  After every step the
-- invariant is checked: for each product, stock + quantities in lines of
-- non-canceled orders equals what it was at the start (and stock >= 0).
--
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/regress_setup.psql

INSERT INTO clients (name, lastname, email) VALUES ('Ann', 'Lee', 'ann@example.com'), ('Bob', 'Ray', 'bob@example.com');
INSERT INTO bills (bill_number, date, total, payment_type, client_id)
VALUES ('B-1', '2024-01-01', 100, 1, 1), ('B-2', '2024-01-02', 50, 2, 2);
INSERT INTO products (name, price, stock) VALUES ('Pen', 1.50, 10), ('Ink', 10.00, 5), ('Pad', 3.99, 0);

CREATE TEMP TABLE initial AS SELECT id_key, stock AS units FROM products;
-- "stock" of every product, then whether the invariant holds
CREATE FUNCTION pg_temp.stock() RETURNS text LANGUAGE sql AS $f$
    SELECT string_agg(format('%s:%s', p.id_key, p.stock), ' ' ORDER BY p.id_key)
           || CASE WHEN bool_and(p.stock >= 0 AND p.stock + coalesce(l.units, 0) = i.units)
                   THEN '  (conserved)' ELSE '  (NOT CONSERVED)' END
      FROM ecommerce_api.products p
      JOIN initial i USING (id_key)
      LEFT JOIN (SELECT d.product_id, sum(d.quantity) AS units
                   FROM ecommerce_api.order_details d
                   JOIN ecommerce_api.orders o ON o.id_key = d.order_id
                  WHERE o.status <> 4
                  GROUP BY d.product_id) l ON l.product_id = p.id_key
$f$;
SELECT pg_temp.stock();

-- Orders: date defaults to now (UTC), status to 1; referenced ids must exist.
SELECT pg_temp.try('api_orders_create', '{"date": "2024-05-01T12:00:00", "total": 42, "delivery_method": 3, "client_id": 1, "bill_id": 1}');
SELECT regexp_replace(pg_temp.try('api_orders_create', '{"total": 0, "delivery_method": "1", "client_id": 2, "bill_id": 2}'),
                      '"date" : "[^"]*"', '"date" : <now>');
SELECT date_trunc('minute', date) = date_trunc('minute', now() AT TIME ZONE 'UTC') AS utc_now FROM orders WHERE id_key = 2;
SELECT pg_temp.try('api_orders_create', '{"total": 1, "delivery_method": 1, "client_id": 3, "bill_id": 1}');
SELECT pg_temp.try('api_orders_create', '{"total": 1, "delivery_method": 1, "client_id": 1, "bill_id": 3}');
SELECT pg_temp.try('api_orders_create', '{"total": 1, "client_id": 1}');
SELECT pg_temp.try('api_orders_get', '1');
SELECT pg_temp.try('api_orders_list', NULL, NULL, '1');
SELECT pg_temp.try('api_orders_list', NULL, NULL, '99999999999999999999');

-- Lines: stock is taken, the price is the product's.
SELECT pg_temp.try('api_order_details_create', '{"quantity": 3, "order_id": 1, "product_id": 1}');
SELECT pg_temp.try('api_order_details_create', '{"quantity": 2, "price": 10.01, "order_id": 1, "product_id": 2}');
SELECT pg_temp.stock();
-- a price sent must be within 0.01 of the product's
SELECT pg_temp.try('api_order_details_create', '{"quantity": 1, "price": 9.98, "order_id": 1, "product_id": 2}');
SELECT pg_temp.try('api_order_details_create', '{"quantity": 1, "price": "12.5", "order_id": 1, "product_id": 2}');
-- not enough stock: 409, nothing taken
SELECT pg_temp.try('api_order_details_create', '{"quantity": 4, "order_id": 1, "product_id": 2}');
SELECT pg_temp.try('api_order_details_create', '{"quantity": 1, "order_id": 1, "product_id": 3}');
SELECT pg_temp.try('api_order_details_create', '{"quantity": 1, "order_id": 7, "product_id": 1}');
SELECT pg_temp.try('api_order_details_create', '{"quantity": 1, "order_id": 1, "product_id": 7}');
SELECT pg_temp.try('api_order_details_create', '{"quantity": 0, "order_id": 1, "product_id": 1}');
SELECT pg_temp.stock();
SELECT pg_temp.try('api_order_details_get', '1');
SELECT pg_temp.try('api_order_details_list', NULL, NULL, '1');
SELECT pg_temp.try('api_order_details_list', NULL, NULL, '2');

-- Changing the quantity moves exactly the difference.
SELECT pg_temp.try('api_order_details_update', '1', '{"quantity": 5, "order_id": 1, "product_id": 1}');
SELECT pg_temp.stock();
SELECT pg_temp.try('api_order_details_update', '1', '{"quantity": 1, "order_id": 1, "product_id": 1}');
SELECT pg_temp.stock();
-- the line may take what it holds plus the stock: Available counts both
SELECT pg_temp.try('api_order_details_update', '2', '{"quantity": 6, "order_id": 1, "product_id": 2}');
SELECT pg_temp.try('api_order_details_update', '2', '{"quantity": 5, "order_id": 1, "product_id": 2}');
SELECT pg_temp.stock();
-- Changing the product credits the old one and debits the new one; the line
-- takes the new product's price.
SELECT pg_temp.try('api_order_details_update', '1', '{"quantity": 2, "order_id": 1, "product_id": 2}');
SELECT pg_temp.try('api_order_details_update', '2', '{"quantity": 4, "order_id": 1, "product_id": 1}');
SELECT pg_temp.stock();
SELECT pg_temp.try('api_order_details_update', '2', '{"quantity": 4, "price": 1.49, "order_id": 1, "product_id": 1}');
SELECT pg_temp.try('api_order_details_update', '2', '{"quantity": 4, "price": 2, "order_id": 1, "product_id": 1}');
SELECT pg_temp.try('api_order_details_update', '2', '{"quantity": 4, "order_id": 1, "product_id": 9}');
SELECT pg_temp.try('api_order_details_update', '2', '{"quantity": 4, "order_id": 9, "product_id": 1}');
SELECT pg_temp.try('api_order_details_update', '9', '{"quantity": 4, "order_id": 1, "product_id": 1}');
-- a line can move to another order
SELECT pg_temp.try('api_order_details_update', '2', '{"quantity": 4, "order_id": 2, "product_id": 1}');
SELECT pg_temp.stock();

-- Deleting a line returns its quantity.
SELECT pg_temp.try('api_order_details_create', '{"quantity": 1, "order_id": 2, "product_id": 1}');
SELECT pg_temp.try('api_order_details_delete', '3');
SELECT pg_temp.try('api_order_details_delete', '3');
SELECT pg_temp.stock();

-- Orders PUT is a partial update.
SELECT pg_temp.try('api_orders_update', '1', '{}');
SELECT pg_temp.try('api_orders_update', '1', '{"total": 45.5, "status": 2}');
SELECT pg_temp.try('api_orders_update', '1', '{"delivery_method": 1, "date": "2024-05-02T08:30:00Z", "status": null}');
SELECT pg_temp.try('api_orders_update', '1', '{"total": null, "client_id": 5, "bill_id": "x"}');
SELECT pg_temp.try('api_orders_update', '1', '{"client_id": 5}');
SELECT pg_temp.try('api_orders_update', '1', '{"bill_id": 5}');
SELECT pg_temp.try('api_orders_update', '1', '{"client_id": 2, "bill_id": 2}');
SELECT pg_temp.try('api_orders_update', '8', '{"total": 1}');

-- Canceling returns the stock of the order's lines, once.
SELECT pg_temp.stock();
SELECT pg_temp.try('api_orders_update', '1', '{"status": 4}');
SELECT pg_temp.stock();
SELECT pg_temp.try('api_orders_update', '1', '{"status": 4}');
SELECT pg_temp.stock();
-- a canceled order stays canceled, though its other fields may change
SELECT pg_temp.try('api_orders_update', '1', '{"status": 1}');
SELECT pg_temp.try('api_orders_update', '1', '{"total": 0}');
-- its lines are frozen: no new line, no change, no move in or out
SELECT pg_temp.try('api_order_details_create', '{"quantity": 1, "order_id": 1, "product_id": 1}');
SELECT pg_temp.try('api_order_details_update', '1', '{"quantity": 1, "order_id": 1, "product_id": 2}');
SELECT pg_temp.try('api_order_details_update', '1', '{"quantity": 2, "order_id": 2, "product_id": 2}');
SELECT pg_temp.try('api_order_details_update', '2', '{"quantity": 4, "order_id": 1, "product_id": 1}');
-- deleting a line of a canceled order returns nothing (the cancel did)
SELECT pg_temp.try('api_order_details_delete', '1');
SELECT pg_temp.stock();

-- Deleting an order returns its lines' stock and deletes the lines...
SELECT pg_temp.try('api_order_details_create', '{"quantity": 2, "order_id": 2, "product_id": 2}');
SELECT pg_temp.stock();
SELECT pg_temp.try('api_orders_delete', '2');
SELECT pg_temp.stock();
SELECT count(*) AS lines_left FROM order_details;
-- ... but a canceled order's stock went back at the cancel already.
SELECT pg_temp.try('api_orders_create', '{"date": "2024-06-01T09:00:00", "total": 0, "delivery_method": 2, "client_id": 1, "bill_id": 1}');
SELECT pg_temp.try('api_order_details_create', '{"quantity": 10, "order_id": 3, "product_id": 1}');
SELECT pg_temp.stock();
SELECT pg_temp.try('api_orders_update', '3', '{"status": 4}');
SELECT pg_temp.stock();
SELECT pg_temp.try('api_orders_delete', '3');
SELECT pg_temp.stock();
SELECT pg_temp.try('api_orders_delete', '3');
SELECT pg_temp.try('api_orders_list', NULL, NULL, NULL);
SELECT pg_temp.try('api_order_details_list', NULL, NULL, NULL);
