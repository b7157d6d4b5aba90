--
-- categories: CRUD, uniqueness, delete refused while products use it.
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

SELECT pg_temp.try('api_categories_list', NULL, NULL);
SELECT pg_temp.try('api_categories_create', '{"name": "Books"}');
SELECT pg_temp.try('api_categories_create', '{"name": "Garden", "id_key": 42}');
SELECT pg_temp.try('api_categories_create', '{"name": "Toys"}');
-- duplicate name: 409, and nothing written
SELECT pg_temp.try('api_categories_create', '{"name": "Books"}');
SELECT pg_temp.try('api_categories_list', NULL, NULL);
SELECT pg_temp.try('api_categories_list', '1', '1');
SELECT pg_temp.try('api_categories_list', '10', NULL);
SELECT pg_temp.try('api_categories_get', '2');
SELECT pg_temp.try('api_categories_get', '5');

SELECT pg_temp.try('api_categories_update', '2', '{"name": "Garden & Patio"}');
-- renaming to its own name is fine, to another's is 409
SELECT pg_temp.try('api_categories_update', '2', '{"name": "Garden & Patio"}');
SELECT pg_temp.try('api_categories_update', '2', '{"name": "Books"}');
SELECT pg_temp.try('api_categories_update', '9', '{"name": "Nope"}');
SELECT pg_temp.try('api_categories_get', '2');

-- a category with products cannot be deleted
INSERT INTO products (name, price, category_id) VALUES ('Atlas', 10, 1);
SELECT pg_temp.try('api_categories_delete', '1');
SELECT pg_temp.try('api_categories_delete', '3');
SELECT pg_temp.try('api_categories_delete', '3');
SELECT pg_temp.try('api_categories_delete', 'x');
SELECT pg_temp.try('api_categories_list', NULL, NULL);
