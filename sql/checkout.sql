--
-- checkout: bill + order + lines in one transaction, all or nothing.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ecommerce_api CASCADE;
RESET client_min_messages;
SET search_path = ecommerce_api, public;
TRUNCATE categories, products, clients, addresses, bills, orders, order_details, reviews RESTART IDENTITY;
\pset tuples_only on
\pset format unaligned
\set SHOW_CONTEXT never

-- try(function, args...): calls ecommerce_api.<function>(args) like the HTTP
-- gateway does (text in, text out); returns the response text, '<NULL>' for a
-- DELETE's empty body, or '[SQLSTATE] message' when the call raises (its
-- effects are then rolled back, as the gateway rolls back the request).
CREATE FUNCTION pg_temp.try(fn text, VARIADIC args text[]) RETURNS text
LANGUAGE plpgsql AS $f$
DECLARE
    result text;
BEGIN
    EXECUTE format('SELECT ecommerce_api.%I(%s)', fn,
                   (SELECT string_agg(format('$1[%s]', i), ', ')
                      FROM generate_subscripts(args, 1) AS i))
       INTO result USING args;
    RETURN coalesce(result, '<NULL>');
EXCEPTION WHEN OTHERS THEN
    RETURN format('[%s] %s', sqlstate, sqlerrm);
END
$f$;
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
