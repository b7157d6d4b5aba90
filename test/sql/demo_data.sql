--
-- demo data: load_demo_data(scale) on an empty schema, its counts and its
-- consistency, refusal on a non-empty schema, replace.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/regress_setup.psql

SELECT ecommerce_api.load_demo_data(1);
-- not on data already there
SELECT ecommerce_api.load_demo_data(1);
SELECT ecommerce_api.load_demo_data(0, replace => true);

-- ids 1-100 and 1-50 exist, the sequences continue after them
SELECT min(id_key), max(id_key), count(*) FROM products;
SELECT min(id_key), max(id_key), count(*) FROM clients;
SELECT pg_temp.try('api_categories_create', '{"name": "New"}');
SELECT pg_temp.try('api_clients_create', '{"name": "New", "lastname": "Client", "email": "new@example.com"}');

-- a realistic spread
SELECT count(DISTINCT category_id) AS categories_used, min(price) > 0 AS priced,
       count(*) FILTER (WHERE stock = 0) BETWEEN 1 AND 20 AS some_out_of_stock,
       count(*) FILTER (WHERE description IS NULL) AS without_description
  FROM products;
SELECT status, count(*) > 0 AS present FROM orders GROUP BY status ORDER BY status;
SELECT count(*) FILTER (WHERE n NOT BETWEEN 1 AND 2) AS clients_without_1_or_2_addresses
  FROM (SELECT c.id_key, count(a.id_key) AS n FROM clients c LEFT JOIN addresses a ON a.client_id = c.id_key
         WHERE c.id_key <= 50 GROUP BY c.id_key) x;

-- consistent: every order's total is the sum of its lines, lines are priced
-- at their product's price, every bill's total plus discount is its order's
SELECT count(*) AS orders_total_mismatch
  FROM orders o
 WHERE o.total <> (SELECT sum(d.quantity * d.price) FROM order_details d WHERE d.order_id = o.id_key);
SELECT count(*) AS lines_mispriced
  FROM order_details d JOIN products p ON p.id_key = d.product_id WHERE d.price <> p.price;
SELECT count(*) AS orders_without_lines FROM orders o WHERE NOT EXISTS (SELECT FROM order_details d WHERE d.order_id = o.id_key);
SELECT count(*) AS bills_mismatch
  FROM orders o JOIN bills b ON b.id_key = o.bill_id
 WHERE b.total + b.discount <> o.total OR b.client_id <> o.client_id OR b.date <> o.date::date;
SELECT count(*) AS duplicate_products_in_an_order
  FROM (SELECT order_id, product_id FROM order_details GROUP BY 1, 2 HAVING count(*) > 1) x;

-- every demo client logs in with demo1234; client 1 is the admin
SELECT regexp_replace(pg_temp.try('api_clients_login', '{"email": "admin@example.com", "password": "demo1234"}'),
                      '"token" : "[A-Za-z0-9_.-]+"', '"token" : "<jwt>"');
SELECT is_admin, count(*) FROM clients GROUP BY is_admin ORDER BY is_admin;
SELECT pg_temp.try('api_clients_login', format('{"email": "%s", "password": "demo1234"}', email)) LIKE '{"id_key" : 50,%' AS client_50_logs_in
  FROM clients WHERE id_key = 50;

-- the API serves it
SELECT json_array_length(pg_temp.try('api_products_list', NULL, NULL)::json) AS products_page,
       json_array_length(pg_temp.try('api_orders_list', NULL, '1000', NULL)::json) AS orders_page;

-- replace: wipes everything (including rows added since) and reloads
SELECT ecommerce_api.load_demo_data(2, replace => true);
SELECT count(*) FROM categories WHERE name = 'New';
