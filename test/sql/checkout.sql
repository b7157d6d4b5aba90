--
-- checkout: bill + order + lines in one transaction, all or nothing.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/regress_setup.psql
ALTER SEQUENCE checkout_bill_seq RESTART;

INSERT INTO clients (name, lastname, email) VALUES ('Ann', 'Lee', 'ann@example.com');
INSERT INTO products (name, price, stock) VALUES ('Pen', 1.50, 10), ('Ink', 10.00, 5), ('Pad', 3.99, 0), ('Cap', 0.35, 100);

-- The generated date and bill number depend on the day: masked.
CREATE FUNCTION pg_temp.masked(response text) RETURNS text LANGUAGE sql AS $f$
    SELECT regexp_replace(regexp_replace(response,
               '"date" : "[0-9T:.-]*"', '"date" : <today>', 'g'),
               'CHK-[0-9]{8}-', 'CHK-<yyyymmdd>-', 'g')
$f$;
CREATE FUNCTION pg_temp.counts() RETURNS text LANGUAGE sql AS $f$
    SELECT format('bills %s, orders %s, lines %s, stock %s',
                  (SELECT count(*) FROM ecommerce_api.bills), (SELECT count(*) FROM ecommerce_api.orders),
                  (SELECT count(*) FROM ecommerce_api.order_details),
                  (SELECT string_agg(format('%s:%s', id_key, stock), ' ' ORDER BY id_key) FROM ecommerce_api.products))
$f$;

-- Items naming the same product are merged into one line; lines come in
-- product id order; totals are computed from the products' prices.
SELECT pg_temp.masked(pg_temp.try('api_orders_checkout',
    '{"client_id": 1, "delivery_method": 3, "payment_type": 2,
      "items": [{"product_id": 4, "quantity": 3}, {"product_id": 1, "quantity": 2}, {"product_id": 4, "quantity": "1"}]}'));
SELECT pg_temp.counts();
SELECT o.total = b.total AND o.bill_id = b.id_key AND o.client_id = b.client_id AND o.date::date = b.date AS consistent
  FROM orders o JOIN bills b ON b.id_key = o.bill_id;

-- Any failing item: 409 and nothing is written (Ink is fine, Pad is out of stock).
SELECT pg_temp.try('api_orders_checkout',
    '{"client_id": 1, "delivery_method": 1, "payment_type": 1,
      "items": [{"product_id": 2, "quantity": 5}, {"product_id": 3, "quantity": 1}]}');
-- merged quantities are what is checked
SELECT pg_temp.try('api_orders_checkout',
    '{"client_id": 1, "delivery_method": 1, "payment_type": 1,
      "items": [{"product_id": 2, "quantity": 3}, {"product_id": 2, "quantity": 3}]}');
SELECT pg_temp.try('api_orders_checkout',
    '{"client_id": 1, "delivery_method": 1, "payment_type": 1,
      "items": [{"product_id": 2, "quantity": 1}, {"product_id": 99, "quantity": 1}, {"product_id": 98, "quantity": 1}]}');
SELECT pg_temp.try('api_orders_checkout',
    '{"client_id": 1, "delivery_method": 1, "payment_type": 1,
      "items": [{"product_id": 99999999999999999999, "quantity": 1}]}');
SELECT pg_temp.try('api_orders_checkout',
    '{"client_id": 7, "delivery_method": 1, "payment_type": 1, "items": [{"product_id": 2, "quantity": 1}]}');
SELECT pg_temp.counts();

-- A hand-made bill holding the next generated number does not break checkout.
INSERT INTO bills (bill_number, date, total, payment_type, client_id)
VALUES ('CHK-' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD') || '-2', '2024-01-01', 0, 1, 1);
SELECT pg_temp.masked(pg_temp.try('api_orders_checkout',
    '{"client_id": 1, "delivery_method": 2, "payment_type": 5, "items": [{"product_id": 2, "quantity": 5}]}'));
SELECT pg_temp.counts();

-- The order behaves like any other: canceling returns its stock.
SELECT pg_temp.masked(pg_temp.try('api_orders_update', '1', '{"status": 4}'));
SELECT pg_temp.counts();
