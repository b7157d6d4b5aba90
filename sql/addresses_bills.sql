--
-- addresses and bills: CRUD, referenced client, filters by client,
-- bill numbers unique, a bill used by orders cannot be deleted.
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

INSERT INTO clients (name, lastname, email) VALUES ('Ann', 'Lee', 'ann@example.com'), ('Bob', 'Ray', 'bob@example.com');

-- addresses
SELECT pg_temp.try('api_addresses_create', '{"street": "Main St", "number": "12B", "city": "Springfield", "client_id": 1}');
SELECT pg_temp.try('api_addresses_create', '{"client_id": "2"}');
SELECT pg_temp.try('api_addresses_create', '{"street": "Elm St", "city": "Salem", "client_id": 2}');
SELECT pg_temp.try('api_addresses_create', '{"street": "Elm St", "client_id": 3}');
SELECT pg_temp.try('api_addresses_create', '{"street": "", "number": "123456789012345678901", "city": "", "client_id": 1}');
SELECT pg_temp.try('api_addresses_list', NULL, NULL, NULL);
SELECT pg_temp.try('api_addresses_list', NULL, NULL, '2');
SELECT pg_temp.try('api_addresses_list', '1', '1', '2');
SELECT pg_temp.try('api_addresses_list', NULL, NULL, '3');
SELECT pg_temp.try('api_addresses_get', '1');
SELECT pg_temp.try('api_addresses_update', '2', '{"street": "Oak Ave", "client_id": 1}');
SELECT pg_temp.try('api_addresses_update', '2', '{"city": null, "client_id": 1}');
SELECT pg_temp.try('api_addresses_update', '2', '{"city": "Dover", "client_id": 5}');
SELECT pg_temp.try('api_addresses_update', '8', '{"city": "Dover", "client_id": 1}');
SELECT pg_temp.try('api_addresses_delete', '3');
SELECT pg_temp.try('api_addresses_delete', '3');
SELECT pg_temp.try('api_addresses_list', NULL, NULL, NULL);

-- bills
SELECT pg_temp.try('api_bills_create', '{"bill_number": "INV-1", "discount": 2.5, "date": "2024-03-01", "total": 97.5, "payment_type": 2, "client_id": 1}');
SELECT pg_temp.try('api_bills_create', '{"bill_number": "INV-2", "date": "2024-03-02T00:00:00", "total": "0", "payment_type": "5", "client_id": 2}');
SELECT pg_temp.try('api_bills_create', '{"bill_number": "INV-1", "date": "2024-03-03", "total": 1, "payment_type": 1, "client_id": 1}');
SELECT pg_temp.try('api_bills_create', '{"bill_number": "INV-3", "date": "2024-03-03", "total": 1, "payment_type": 1, "client_id": 7}');
SELECT pg_temp.try('api_bills_create', '{"bill_number": "INV-3", "discount": -1, "date": "2024-03-03", "total": -0.01, "payment_type": 1, "client_id": 1}');
SELECT pg_temp.try('api_bills_list', NULL, NULL, NULL);
SELECT pg_temp.try('api_bills_list', NULL, NULL, '2');
SELECT pg_temp.try('api_bills_get', '2');
SELECT pg_temp.try('api_bills_update', '2', '{"bill_number": "INV-2b", "date": "2024-03-05", "total": 10, "payment_type": 1, "client_id": 2}');
SELECT pg_temp.try('api_bills_update', '2', '{"bill_number": "INV-1", "date": "2024-03-05", "total": 10, "payment_type": 1, "client_id": 2}');
SELECT pg_temp.try('api_bills_update', '2', '{"bill_number": "INV-2b", "discount": null, "date": "2024-03-05", "total": 10, "payment_type": 1, "client_id": 9}');
SELECT pg_temp.try('api_bills_update', '5', '{"bill_number": "INV-5", "date": "2024-03-05", "total": 10, "payment_type": 1, "client_id": 2}');
INSERT INTO orders (total, delivery_method, client_id, bill_id) VALUES (97.5, 1, 1, 1);
SELECT pg_temp.try('api_bills_delete', '1');
SELECT pg_temp.try('api_bills_delete', '2');
SELECT pg_temp.try('api_bills_delete', '2');
SELECT pg_temp.try('api_bills_list', NULL, NULL, NULL);
