--
-- reviews: list (paged, by product), get, create, replace, delete.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/regress_setup.psql

INSERT INTO categories (name) VALUES ('Tools');
INSERT INTO products (name, price, stock, category_id) VALUES ('Hammer', 10, 5, 1), ('Saw', 20, 5, 1);

SELECT pg_temp.try('api_reviews_list', NULL, NULL, NULL);
SELECT pg_temp.try('api_reviews_create', '{"rating": 4.5, "comment": "Solid and well balanced", "product_id": 1}');
SELECT pg_temp.try('api_reviews_create', '{"rating": 2, "product_id": 1}');
SELECT pg_temp.try('api_reviews_create', '{"rating": 5, "comment": "Cuts straight every time", "product_id": 2}');
-- refused: a product that does not exist, a rating out of range
SELECT pg_temp.try('api_reviews_create', '{"rating": 3, "product_id": 9}');
SELECT pg_temp.try('api_reviews_create', '{"rating": 6, "product_id": 1}');

-- list: all, paged, by product, bad parameters
SELECT pg_temp.try('api_reviews_list', NULL, NULL, NULL);
SELECT pg_temp.try('api_reviews_list', '1', '1', NULL);
SELECT pg_temp.try('api_reviews_list', NULL, NULL, '1');
SELECT pg_temp.try('api_reviews_list', NULL, NULL, '2');
SELECT pg_temp.try('api_reviews_list', NULL, NULL, '9');
SELECT pg_temp.try('api_reviews_list', NULL, NULL, 'x');
SELECT pg_temp.try('api_reviews_list', '-1', '0', NULL);
-- limit is 1..1000: each bound, and one past it
SELECT pg_temp.try('api_reviews_list', NULL, '0', NULL);
SELECT pg_temp.try('api_reviews_list', NULL, '1', NULL);
SELECT pg_temp.try('api_reviews_list', NULL, '1000', '2');
SELECT pg_temp.try('api_reviews_list', NULL, '1001', NULL);

-- replace: the rating and product change, a comment left out is kept
SELECT pg_temp.try('api_reviews_update', '1', '{"rating": 3.25, "product_id": 2}');
SELECT pg_temp.try('api_reviews_get', '1');
SELECT pg_temp.try('api_reviews_update', '1', '{"rating": 3, "comment": "Heavier than it looks", "product_id": 2}');
SELECT pg_temp.try('api_reviews_get', '1');
-- refused, and nothing changed: no such review, no such product, bad rating, bad id
SELECT pg_temp.try('api_reviews_update', '9', '{"rating": 3, "product_id": 1}');
SELECT pg_temp.try('api_reviews_update', '1', '{"rating": 3, "product_id": 9}');
SELECT pg_temp.try('api_reviews_update', '1', '{"rating": 0, "product_id": 1}');
SELECT pg_temp.try('api_reviews_update', 'x', '{"rating": 3, "product_id": 1}');
SELECT pg_temp.try('api_reviews_get', '1');

-- delete: once, then it is gone; the others stay
SELECT pg_temp.try('api_reviews_delete', '2');
SELECT pg_temp.try('api_reviews_delete', '2');
SELECT pg_temp.try('api_reviews_get', '2');
SELECT pg_temp.try('api_reviews_delete', 'x');
SELECT pg_temp.try('api_reviews_list', NULL, NULL, NULL);
