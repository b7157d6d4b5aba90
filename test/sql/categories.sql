--
-- categories: CRUD, uniqueness, delete refused while products use it.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/regress_setup.psql

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
