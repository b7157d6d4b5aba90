--
-- validation: 422 responses in FastAPI/pydantic-v2 shape (EA422, message =
-- the JSON error array), malformed bodies, path and query parameters, and the
-- lenient input the reference accepted.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/regress_setup.psql

-- Malformed JSON: json_invalid at the character position of the bad token.
SELECT pg_temp.try('api_categories_create', '{"name": x}');
SELECT pg_temp.try('api_categories_create', '{"name": "x",}');
SELECT pg_temp.try('api_categories_create', '{"name": "x"} extra');
SELECT pg_temp.try('api_categories_create', '{"name": "x"');
SELECT pg_temp.try('api_categories_create', E'{\n  "name": "x",\n  "other": tru\n}');
SELECT pg_temp.try('api_categories_create', '   ');
-- malformed JSON wins over every other error, as in FastAPI
SELECT pg_temp.try('api_categories_update', 'abc', '{');

-- No body, JSON null, and JSON that is not an object.
SELECT pg_temp.try('api_categories_create', NULL);
SELECT pg_temp.try('api_categories_create', '');
SELECT pg_temp.try('api_categories_create', 'null');
SELECT pg_temp.try('api_categories_create', '[{"name": "x"}]');
SELECT pg_temp.try('api_categories_create', '"name"');

-- Path ids.
SELECT pg_temp.try('api_categories_get', 'abc');
SELECT pg_temp.try('api_categories_get', '1.5');
SELECT pg_temp.try('api_categories_get', '');
-- integral forms are ids; one beyond bigint is a valid integer naming nothing
SELECT pg_temp.try('api_categories_get', ' 7 ');
SELECT pg_temp.try('api_categories_get', '007.0');
SELECT pg_temp.try('api_categories_get', '99999999999999999999999');
-- path and body errors are reported together
SELECT pg_temp.try('api_categories_update', 'x', '{"name": ""}');
SELECT pg_temp.try('api_categories_update', 'x', NULL);

-- Query parameters of lists: skip >= 0, 1 <= limit <= 1000, parent filter int.
SELECT pg_temp.try('api_categories_list', '-1', '0');
SELECT pg_temp.try('api_categories_list', 'a', '1001');
SELECT pg_temp.try('api_orders_list', '1.5', '2.0', 'abc');
SELECT pg_temp.try('api_categories_list', '0', '1000');

-- Strings: type, required, null, lengths.
SELECT pg_temp.try('api_categories_create', '{}');
SELECT pg_temp.try('api_categories_create', '{"name": null}');
SELECT pg_temp.try('api_categories_create', '{"name": 12}');
SELECT pg_temp.try('api_categories_create', '{"name": ["a"]}');
SELECT pg_temp.try('api_categories_create', format('{"name": "%s"}', repeat('x', 101)));
SELECT pg_temp.try('api_categories_create', format('{"name": "%s"}', repeat('x', 100)));
SELECT pg_temp.try('api_reviews_create', '{"rating": 4, "comment": "too short", "product_id": 1}');

-- All problems of a body are reported at once, in field order; unknown keys
-- and a body id_key are ignored.
SELECT pg_temp.try('api_products_create', '{"id_key": 99, "foo": 1, "name": "", "description": 5, "price": -1, "stock": -1, "category_id": "x"}');

-- Numbers: JSON numbers and numeric strings; ints accept integral floats.
SELECT pg_temp.try('api_products_create', '{"name": "Lamp", "price": "19.99", "stock": "3", "category_id": null}');
SELECT pg_temp.try('api_products_create', '{"name": "Lamp", "price": 1e1, "stock": 4.0}');
SELECT pg_temp.try('api_products_create', '{"name": "Lamp", "price": " 7.5 ", "stock": " 2 "}');
SELECT pg_temp.try('api_products_create', '{"name": "Lamp", "price": "abc", "stock": "2.5"}');
SELECT pg_temp.try('api_products_create', '{"name": "Lamp", "price": true, "stock": false}');
SELECT pg_temp.try('api_products_create', '{"name": "Lamp", "price": "NaN", "stock": 2.5}');
SELECT pg_temp.try('api_products_create', '{"name": "Lamp", "price": "Infinity", "stock": {}}');
SELECT pg_temp.try('api_products_create', '{"name": "Lamp", "price": null, "stock": null}');
-- money is kept in cents: a price that rounds to 0.00 is not > 0
SELECT pg_temp.try('api_products_create', '{"name": "Lamp", "price": 0.004}');
SELECT pg_temp.try('api_products_create', '{"name": "Lamp", "price": 0.005}');
-- column limits are reported as validation errors, not overflows
SELECT pg_temp.try('api_products_create', '{"name": "Lamp", "price": 1e10, "stock": 2147483648}');
SELECT pg_temp.try('api_reviews_create', '{"rating": 0.5, "product_id": 1}');
SELECT pg_temp.try('api_reviews_create', '{"rating": "5.01", "product_id": 1}');

-- Enums travel as integers.
SELECT pg_temp.try('api_orders_create', '{"total": 1, "delivery_method": 0, "status": 5, "client_id": 1, "bill_id": 1}');
SELECT pg_temp.try('api_orders_create', '{"total": 1, "delivery_method": "HOME_DELIVERY", "status": 2.5, "client_id": 1, "bill_id": 1}');
SELECT pg_temp.try('api_bills_create', '{"bill_number": "B", "date": "2024-01-01", "total": 1, "payment_type": 6, "client_id": 1}');

-- Emails.
SELECT pg_temp.try('api_clients_create', '{"name": "A", "lastname": "B", "email": "no-at-sign"}');
SELECT pg_temp.try('api_clients_create', '{"name": "A", "lastname": "B", "email": "a@b@c.com"}');
SELECT pg_temp.try('api_clients_create', '{"name": "A", "lastname": "B", "email": "@example.com"}');
SELECT pg_temp.try('api_clients_create', '{"name": "A", "lastname": "B", "email": "ann@"}');
SELECT pg_temp.try('api_clients_create', '{"name": "A", "lastname": "B", "email": "ann@localhost"}');
SELECT pg_temp.try('api_clients_create', '{"name": "A", "lastname": "B", "email": "ann@example..com"}');
SELECT pg_temp.try('api_clients_create', '{"name": "A", "lastname": "B", "email": "ann smith@example.com"}');
SELECT pg_temp.try('api_clients_create', '{"name": "A", "lastname": "B", "email": 5, "password": ""}');
SELECT pg_temp.try('api_clients_create', '{"name": "A", "lastname": "B"}');

-- Dates (bills): YYYY-MM-DD, or a datetime at exactly midnight.
SELECT pg_temp.try('api_bills_create', '{"bill_number": "B", "date": "2024-13-01", "total": 1, "payment_type": 1, "client_id": 1}');
SELECT pg_temp.try('api_bills_create', '{"bill_number": "B", "date": "2023-02-29", "total": 1, "payment_type": 1, "client_id": 1}');
SELECT pg_temp.try('api_bills_create', '{"bill_number": "B", "date": "2024-1-1", "total": 1, "payment_type": 1, "client_id": 1}');
SELECT pg_temp.try('api_bills_create', '{"bill_number": "B", "date": "01/02/2024", "total": 1, "payment_type": 1, "client_id": 1}');
SELECT pg_temp.try('api_bills_create', '{"bill_number": "B", "date": "2024-01-01T10:30:00", "total": 1, "payment_type": 1, "client_id": 1}');
SELECT pg_temp.try('api_bills_create', '{"bill_number": "B", "date": "2024-01-01T25:00:00", "total": 1, "payment_type": 1, "client_id": 1}');
SELECT pg_temp.try('api_bills_create', '{"bill_number": "B", "date": "today", "total": 1, "payment_type": 1, "client_id": 1}');
SELECT pg_temp.try('api_bills_create', '{"bill_number": "B", "date": 20240101, "total": 1, "payment_type": 1, "client_id": 1}');

-- Datetimes (orders): ISO 8601; an offset is converted to UTC.
SELECT pg_temp.try('api_orders_create', '{"date": "2024-01-01 10:00", "total": 1, "delivery_method": 1, "client_id": 1, "bill_id": 1}');
SELECT pg_temp.try('api_orders_create', '{"date": "2024-01-01T10:00:00X", "total": 1, "delivery_method": 1, "client_id": 1, "bill_id": 1}');
SELECT pg_temp.try('api_orders_create', '{"date": "2024-01-01T10:61", "total": 1, "delivery_method": 1, "client_id": 1, "bill_id": 1}');
SELECT pg_temp.try('api_orders_create', '{"date": "2024-01-01T10:00:00+25:00", "total": 1, "delivery_method": 1, "client_id": 1, "bill_id": 1}');
SELECT pg_temp.try('api_orders_create', '{"date": "2024-02-30T10:00:00", "total": 1, "delivery_method": 1, "client_id": 1, "bill_id": 1}');
SELECT pg_temp.try('api_orders_create', '{"date": 1700000000, "total": 1, "delivery_method": 1, "client_id": 1, "bill_id": 1}');
SELECT d, (ecommerce_api._datetime_parse(d)).*
  FROM unnest(ARRAY['2024-01-01', '2024-01-01T10:20', '2024-01-01t10:20:30.5', '2024-01-01_10:20:30,25',
                    '2024-01-01T10:20:30.1234567Z', '2024-01-01T23:30:00-03:00', '2024-01-01T01:00:00+0530',
                    '2024-01-01T00:00:00.000+02']) AS d;

-- Checkout bodies: nested locations.
SELECT pg_temp.try('api_orders_checkout', '{"client_id": 1, "delivery_method": 1, "payment_type": 1}');
SELECT pg_temp.try('api_orders_checkout', '{"client_id": 1, "delivery_method": 1, "payment_type": 1, "items": []}');
SELECT pg_temp.try('api_orders_checkout', '{"client_id": 1, "delivery_method": 1, "payment_type": 1, "items": {"product_id": 1}}');
SELECT pg_temp.try('api_orders_checkout', '{"client_id": "c", "delivery_method": 9, "items": [{"product_id": 1, "quantity": 1}, 7, {"quantity": 0}, {"product_id": 1.5, "quantity": "2"}]}');

-- Login bodies.
SELECT pg_temp.try('api_clients_login', '{"email": "a@b.co"}');
SELECT pg_temp.try('api_clients_login', '{"email": 1, "password": null}');

-- Products filter query parameters.
SELECT pg_temp.try('api_products_filter', 'x', 'cat', 'low', '1e2', 'maybe', 'cheapest', '-1', '0');
SELECT pg_temp.try('api_products_filter', NULL, NULL, NULL, NULL, 'yes', 'name_desc', NULL, NULL);
