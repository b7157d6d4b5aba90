--
-- products: CRUD, category reference, PUT semantics, /products/filter,
-- delete rules.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/regress_setup.psql

INSERT INTO categories (name) VALUES ('Lighting'), ('Office');

SELECT pg_temp.try('api_products_create', '{"name": "Desk Lamp", "description": "LED, warm light", "price": 24.5, "stock": 10, "category_id": 1}');
SELECT pg_temp.try('api_products_create', '{"name": "Floor lamp", "price": 89.99, "stock": 0, "category_id": "1"}');
SELECT pg_temp.try('api_products_create', '{"name": "Stapler", "price": 7, "category_id": 2}');
SELECT pg_temp.try('api_products_create', '{"name": "100% Cotton Lampshade", "price": 15, "stock": 3}');
SELECT pg_temp.try('api_products_create', '{"name": "Lamp_Bulb E27", "price": 3.25, "stock": 100, "category_id": 1}');
-- unknown category: 404 naming it
SELECT pg_temp.try('api_products_create', '{"name": "Chair", "price": 50, "category_id": 9}');
SELECT pg_temp.try('api_products_create', '{"name": "Chair", "price": 50, "category_id": 99999999999999999999}');

SELECT pg_temp.try('api_products_get', '1');
SELECT pg_temp.try('api_products_get', '4');
SELECT pg_temp.try('api_products_get', '6');
SELECT pg_temp.try('api_products_list', '1', '2');

-- PUT: full body validated like POST; optional fields absent keep their value
SELECT pg_temp.try('api_products_update', '1', '{"name": "Desk Lamp Pro", "price": 29.9}');
-- ... an explicit null clears a nullable field
SELECT pg_temp.try('api_products_update', '1', '{"name": "Desk Lamp Pro", "price": 29.9, "description": null, "category_id": null, "stock": 12}');
SELECT pg_temp.try('api_products_update', '1', '{"name": "Desk Lamp Pro", "price": 29.9, "category_id": 2}');
SELECT pg_temp.try('api_products_update', '1', '{"price": 29.9}');
SELECT pg_temp.try('api_products_update', '1', '{"name": "X", "price": 1, "category_id": 7}');
SELECT pg_temp.try('api_products_update', '77', '{"name": "X", "price": 1}');

-- /products/filter: search (case-insensitive substring, % and _ literal),
-- category, price range (inclusive), in_stock_only, sort orders, paging.
CREATE FUNCTION pg_temp.ids(response text) RETURNS text LANGUAGE sql AS $f$
    SELECT CASE WHEN response LIKE '[%' AND response <> '[]'
                THEN (SELECT string_agg(e ->> 'id_key', ',' ORDER BY n)
                        FROM json_array_elements(response::json) WITH ORDINALITY AS a(e, n))
                ELSE response END
$f$;
SELECT pg_temp.ids(pg_temp.try('api_products_filter', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL));
SELECT pg_temp.ids(pg_temp.try('api_products_filter', 'LAMP', NULL, NULL, NULL, NULL, NULL, NULL, NULL));
SELECT pg_temp.ids(pg_temp.try('api_products_filter', '100%', NULL, NULL, NULL, NULL, NULL, NULL, NULL));
SELECT pg_temp.ids(pg_temp.try('api_products_filter', '%', NULL, NULL, NULL, NULL, NULL, NULL, NULL));
SELECT pg_temp.ids(pg_temp.try('api_products_filter', 'p_b', NULL, NULL, NULL, NULL, NULL, NULL, NULL));
SELECT pg_temp.ids(pg_temp.try('api_products_filter', 'p\', NULL, NULL, NULL, NULL, NULL, NULL, NULL));
SELECT pg_temp.ids(pg_temp.try('api_products_filter', NULL, '1', NULL, NULL, NULL, NULL, NULL, NULL));
SELECT pg_temp.ids(pg_temp.try('api_products_filter', NULL, '99999999999999999999', NULL, NULL, NULL, NULL, NULL, NULL));
SELECT pg_temp.ids(pg_temp.try('api_products_filter', NULL, NULL, '7', '24.5', NULL, 'price_asc', NULL, NULL));
SELECT pg_temp.ids(pg_temp.try('api_products_filter', NULL, NULL, NULL, NULL, 'true', NULL, NULL, NULL));
SELECT pg_temp.ids(pg_temp.try('api_products_filter', NULL, NULL, NULL, NULL, '0', NULL, NULL, NULL));
SELECT pg_temp.ids(pg_temp.try('api_products_filter', NULL, NULL, NULL, NULL, NULL, 'price_asc', NULL, NULL));
SELECT pg_temp.ids(pg_temp.try('api_products_filter', NULL, NULL, NULL, NULL, NULL, 'price_desc', NULL, NULL));
SELECT pg_temp.ids(pg_temp.try('api_products_filter', NULL, NULL, NULL, NULL, NULL, 'name', NULL, NULL));
SELECT pg_temp.ids(pg_temp.try('api_products_filter', NULL, NULL, NULL, NULL, NULL, 'name_asc', NULL, NULL));
SELECT pg_temp.ids(pg_temp.try('api_products_filter', NULL, NULL, NULL, NULL, NULL, 'name_desc', NULL, NULL));
SELECT pg_temp.ids(pg_temp.try('api_products_filter', 'lamp', '1', '1', '100', 'yes', 'name_desc', '1', '1'));
SELECT pg_temp.try('api_products_filter', 'lamp', '2', NULL, NULL, NULL, NULL, NULL, NULL);
SELECT pg_temp.try('api_products_filter', 'stapler', NULL, NULL, NULL, NULL, NULL, NULL, NULL);
-- price ties are broken by id (ascending sorts ascending, descending ones descending)
INSERT INTO products (name, price) VALUES ('Same Price A', 7), ('Same Price B', 7);
SELECT pg_temp.ids(pg_temp.try('api_products_filter', NULL, NULL, '7', '7', NULL, 'price_asc', NULL, NULL));
SELECT pg_temp.ids(pg_temp.try('api_products_filter', NULL, NULL, '7', '7', NULL, 'price_desc', NULL, NULL));

-- Delete: a product with sales history is refused; otherwise it goes with its reviews.
INSERT INTO clients (name, lastname, email) VALUES ('Ann', 'Lee', 'ann@example.com');
INSERT INTO bills (bill_number, date, total, payment_type, client_id) VALUES ('B-1', '2024-01-01', 10, 1, 1);
INSERT INTO orders (total, delivery_method, client_id, bill_id) VALUES (10, 1, 1, 1);
INSERT INTO order_details (quantity, price, order_id, product_id) VALUES (1, 7, 1, 3);
INSERT INTO reviews (rating, comment, product_id) VALUES (5, 'Bright and cheap', 2), (4, 'Staples well', 3);
SELECT pg_temp.try('api_products_delete', '3');
SELECT pg_temp.try('api_products_delete', '2');
SELECT pg_temp.try('api_products_delete', '2');
SELECT id_key, product_id FROM reviews ORDER BY id_key;
-- even a canceled order's line is sales history
UPDATE orders SET status = 4;
SELECT pg_temp.try('api_products_delete', '3');
