/*
 * sql/demo_data.sql
 *		load_demo_data(scale): a deterministic demo shop, set-based.
 *
 * A piece of the install script (see sql/conventions.sql).
 */

/* =========================================================================
 * 10. Demo data
 *
 * load_demo_data(scale) fills the empty schema with a deterministic,
 * realistic shop, set-based (one INSERT ... SELECT per table):
 *
 *     categories      10 (fixed: a shop's taxonomy does not grow with traffic)
 *     products        100 * scale
 *     clients         50 * scale   (client 1 is the admin, admin@example.com)
 *     addresses       1 or 2 per client (75 * scale)
 *     orders, bills   100 * scale  (one bill per order)
 *     order_details   1-4 distinct products per order (~250 * scale)
 *     reviews         0-3 per product (150 * scale)
 *
 * Every client's password is "demo1234" (hashed once and shared: bcrypt per
 * row would take hours at scale 10000).  Order dates spread over the last
 * year; statuses are 60% delivered, 15% pending, 15% in progress, 10%
 * canceled.  Stock is the on-hand quantity after those sales (the lines of
 * non-canceled orders are the goods that left), about 5% of products are out
 * of stock.  Order totals are the sums of their lines; a tenth of the bills
 * carry a 5% discount.  Values come from hashes of the row numbers, not
 * random(), so two loads at the same scale are identical (bar the dates).
 *
 * Tables must be empty (409-style refusal otherwise); replace => true
 * truncates them first.  Ids restart at 1, so scale 1 has products 1-100 and
 * clients 1-50.  Scale 10000 (1M products, 1M orders, 2.5M lines) takes a few
 * minutes.  Returns the row count of each table.
 * ========================================================================= */

-- A deterministic pseudo-random integer in [0, m) for row i and stream seed.
CREATE FUNCTION ecommerce_api._demo_pick(i bigint, seed integer, m integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ((hashint8extended(i, seed) & 9223372036854775807) % m)::integer
$$;

-- Product i's category (round-robin over the 10 categories).
CREATE FUNCTION ecommerce_api._demo_category(i bigint) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (1 + (i - 1) % 10)::integer
$$;

-- Product i's price: a band per category, ending in .99.
CREATE FUNCTION ecommerce_api._demo_price(i bigint) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT greatest(round((ARRAY[300, 20, 60, 45, 70, 35, 25, 50, 40, 12])[ecommerce_api._demo_category(i)]
                          * (0.3 + ecommerce_api._demo_pick(i, 1, 1000) / 588.0)) - 0.01,
                    0.99)::numeric(12,2)
$$;

-- Order o's k-th line (k = 0..3): its product and quantity.  The products of
-- one order are a quarter of the catalog apart, hence distinct.
CREATE FUNCTION ecommerce_api._demo_line_product(o bigint, k integer, n_products bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT 1 + (ecommerce_api._demo_pick(o, 7, n_products::integer) + k * (n_products / 4)) % n_products
$$;

CREATE FUNCTION ecommerce_api._demo_line_quantity(o bigint, k integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT 1 + ecommerce_api._demo_pick(o * 4 + k, 8, 3)
$$;

CREATE FUNCTION ecommerce_api.load_demo_data(scale integer DEFAULT 1, replace boolean DEFAULT false)
RETURNS json
LANGUAGE plpgsql
-- its body names the tables, and pgcrypto's crypt() and gen_salt(), without a
-- schema, so its path holds ecommerce_api, where only the extension's owner
-- creates objects and where the wrappers of sql/pgcrypto.sql are
SET search_path = pg_catalog, ecommerce_api, pg_temp
AS $$
DECLARE
    n_products bigint := 100::bigint * scale;
    n_clients  bigint := 50::bigint * scale;
    n_orders   bigint := 100::bigint * scale;
    v_now      timestamp := date_trunc('second', now() AT TIME ZONE 'UTC');
    v_hash     text := crypt('demo1234', gen_salt('bf', 8));
BEGIN
    IF scale IS NULL OR scale < 1 OR scale > 1000000 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('scale must be between 1 and 1000000, not %s', scale);
    END IF;
    IF NOT replace AND (EXISTS (SELECT FROM categories) OR EXISTS (SELECT FROM products)
                        OR EXISTS (SELECT FROM clients) OR EXISTS (SELECT FROM addresses)
                        OR EXISTS (SELECT FROM bills) OR EXISTS (SELECT FROM orders)
                        OR EXISTS (SELECT FROM order_details) OR EXISTS (SELECT FROM reviews)) THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = 'ecommerce_api already holds data',
            HINT = 'Use load_demo_data(scale, replace => true) to replace it.';
    END IF;
    -- also on empty tables: restart the ids at 1
    TRUNCATE categories, products, clients, addresses, bills, orders, order_details, reviews
        RESTART IDENTITY;

    INSERT INTO categories (id_key, name) OVERRIDING SYSTEM VALUE
    SELECT i, name
      FROM unnest(ARRAY['Electronics', 'Books', 'Home & Kitchen', 'Clothing', 'Sports & Outdoors',
                        'Toys & Games', 'Beauty & Personal Care', 'Garden', 'Automotive', 'Grocery'])
           WITH ORDINALITY AS c(name, i);

    INSERT INTO products (id_key, name, description, price, stock, category_id) OVERRIDING SYSTEM VALUE
    SELECT i,
           format('%s %s %s %s-%s', brand, adjective, noun, chr(65 + _demo_pick(i, 4, 26)), 100 + i),
           rtrim(format('The %s %s by %s is %s. %s',
                  lower(adjective), lower(noun), brand,
                  (ARRAY['built to last for years of daily use',
                         'a customer favourite with consistently great ratings',
                         'designed with attention to every detail',
                         'the smart choice for value and quality',
                         'made from carefully selected materials',
                         'lightweight, reliable and easy to use'])[1 + _demo_pick(i, 5, 6)],
                  (ARRAY['Ships within 24 hours.',
                         'Backed by a two-year warranty.',
                         'Free returns within 30 days.',
                         'Eco-friendly packaging.',
                         ''])[1 + _demo_pick(i, 6, 5)])),
           _demo_price(i),
           CASE WHEN _demo_pick(i, 2, 20) = 0 THEN 0 ELSE 1 + _demo_pick(i, 3, 500) END,
           _demo_category(i)
      FROM generate_series(1, n_products) AS i,
           LATERAL (SELECT
               (ARRAY['Acme', 'Nordic', 'Zenith', 'Orion', 'Apex', 'Summit', 'Vertex', 'Lumen',
                      'Atlas', 'Nova', 'Terra', 'Polar'])[1 + _demo_pick(i, 9, 12)] AS brand,
               (ARRAY['Premium', 'Classic', 'Compact', 'Deluxe', 'Eco', 'Ergonomic', 'Essential',
                      'Lightweight', 'Modern', 'Portable', 'Pro', 'Rugged', 'Smart', 'Ultra',
                      'Vintage', 'Signature'])[1 + _demo_pick(i, 10, 16)] AS adjective,
               (ARRAY[['Headphones', 'Smartphone', 'Laptop', 'Tablet', 'Smartwatch', 'Speaker', 'Monitor', 'Keyboard'],
                      ['Novel', 'Cookbook', 'Biography', 'Travel Guide', 'Poetry Collection', 'History Book', 'Science Handbook', 'Comic Anthology'],
                      ['Coffee Maker', 'Blender', 'Knife Set', 'Frying Pan', 'Toaster', 'Dinnerware Set', 'Kettle', 'Storage Jars'],
                      ['T-Shirt', 'Jacket', 'Jeans', 'Sweater', 'Dress', 'Hoodie', 'Scarf', 'Sneakers'],
                      ['Yoga Mat', 'Tent', 'Backpack', 'Water Bottle', 'Bike Helmet', 'Dumbbell Set', 'Running Shoes', 'Sleeping Bag'],
                      ['Puzzle', 'Board Game', 'Building Blocks', 'Plush Bear', 'RC Car', 'Card Game', 'Doll House', 'Train Set'],
                      ['Shampoo', 'Face Cream', 'Perfume', 'Hair Dryer', 'Lip Balm', 'Toothbrush', 'Body Lotion', 'Sunscreen'],
                      ['Garden Hose', 'Pruning Shears', 'Planter', 'Lawn Mower', 'Bird Feeder', 'Watering Can', 'Garden Gloves', 'Patio Chair'],
                      ['Car Charger', 'Floor Mats', 'Tire Inflator', 'Dash Cam', 'Seat Cover', 'Jump Starter', 'Wiper Blades', 'Car Wax'],
                      ['Coffee Beans', 'Green Tea', 'Olive Oil', 'Dark Chocolate', 'Pasta', 'Honey', 'Granola', 'Spice Set']]
               )[_demo_category(i)][1 + _demo_pick(i, 11, 8)] AS noun) AS words;

    INSERT INTO clients (id_key, name, lastname, email, telephone, is_admin, password) OVERRIDING SYSTEM VALUE
    SELECT i,
           CASE WHEN i = 1 THEN 'Admin' ELSE first_name END,
           CASE WHEN i = 1 THEN 'User' ELSE last_name END,
           CASE WHEN i = 1 THEN 'admin@example.com'
                ELSE lower(format('%s.%s%s@example.com', first_name, last_name, i)) END,
           format('+1-555-%s-%s', lpad(_demo_pick(i, 12, 1000)::text, 3, '0'),
                                  lpad(_demo_pick(i, 13, 10000)::text, 4, '0')),
           i = 1,
           v_hash
      FROM generate_series(1, n_clients) AS i,
           LATERAL (SELECT
               (ARRAY['Emma', 'Liam', 'Olivia', 'Noah', 'Ava', 'Lucas', 'Sofia', 'Mateo', 'Mia', 'Leo',
                      'Isabella', 'Hugo', 'Valentina', 'Martin', 'Lucia', 'Diego', 'Chloe', 'Adam',
                      'Zoe', 'Daniel', 'Camila', 'Samuel', 'Elena', 'Tomas'])[1 + _demo_pick(i, 14, 24)] AS first_name,
               (ARRAY['Smith', 'Garcia', 'Martinez', 'Johnson', 'Lopez', 'Brown', 'Gonzalez', 'Miller',
                      'Fernandez', 'Davis', 'Rodriguez', 'Wilson', 'Perez', 'Moore', 'Sanchez', 'Taylor',
                      'Romero', 'Anderson', 'Torres', 'Thomas', 'Diaz', 'Jackson', 'Alvarez', 'White'])[1 + _demo_pick(i, 15, 24)] AS last_name
           ) AS names;

    INSERT INTO addresses (street, number, city, client_id)
    SELECT (ARRAY['Main Street', 'Oak Avenue', 'Maple Drive', 'Cedar Lane', 'Park Road', 'Elm Street',
                  'Lake View', 'Hill Crescent', 'River Walk', 'Station Road', 'Church Street', 'Mill Lane'])
               [1 + _demo_pick(c * 2 + k, 16, 12)],
           (1 + _demo_pick(c * 2 + k, 17, 2500))::text,
           (ARRAY['Springfield', 'Riverside', 'Fairview', 'Madison', 'Georgetown', 'Franklin', 'Clinton',
                  'Arlington', 'Salem', 'Ashland', 'Bristol', 'Dover'])[1 + _demo_pick(c * 2 + k, 18, 12)],
           c
      FROM generate_series(1, n_clients) AS c,
           generate_series(1, 1 + c % 2) AS k;

    -- Orders and their bills share the number o and the total of o's lines.
    INSERT INTO bills (id_key, bill_number, discount, date, total, payment_type, client_id) OVERRIDING SYSTEM VALUE
    SELECT o,
           'INV-' || lpad(o::text, greatest(8, length(o::text)), '0'),
           discount,
           (v_now - make_interval(secs => _demo_pick(o, 19, 365 * 86400)))::date,
           total - discount,
           1 + _demo_pick(o, 20, 5),
           1 + _demo_pick(o, 21, n_clients::integer)
      FROM generate_series(1, n_orders) AS o,
           LATERAL (SELECT sum(_demo_line_quantity(o, k) * _demo_price(_demo_line_product(o, k, n_products))) AS total
                      FROM generate_series(0, _demo_pick(o, 22, 4)) AS k) AS t,
           LATERAL (SELECT CASE WHEN _demo_pick(o, 23, 10) = 0 THEN round(t.total * 0.05, 2) ELSE 0 END AS discount) AS d;

    INSERT INTO orders (id_key, date, total, delivery_method, status, client_id, bill_id) OVERRIDING SYSTEM VALUE
    SELECT o,
           v_now - make_interval(secs => _demo_pick(o, 19, 365 * 86400)),
           total,
           1 + _demo_pick(o, 24, 3),
           CASE WHEN _demo_pick(o, 25, 20) < 2 THEN 4     -- 10% canceled
                WHEN _demo_pick(o, 25, 20) < 5 THEN 1     -- 15% pending
                WHEN _demo_pick(o, 25, 20) < 8 THEN 2     -- 15% in progress
                ELSE 3 END,                                -- 60% delivered
           1 + _demo_pick(o, 21, n_clients::integer),
           o
      FROM generate_series(1, n_orders) AS o,
           LATERAL (SELECT sum(_demo_line_quantity(o, k) * _demo_price(_demo_line_product(o, k, n_products))) AS total
                      FROM generate_series(0, _demo_pick(o, 22, 4)) AS k) AS t;

    INSERT INTO order_details (quantity, price, order_id, product_id)
    SELECT _demo_line_quantity(o, k), _demo_price(_demo_line_product(o, k, n_products)), o,
           _demo_line_product(o, k, n_products)
      FROM generate_series(1, n_orders) AS o,
           generate_series(0, _demo_pick(o, 22, 4)) AS k;

    INSERT INTO reviews (rating, comment, product_id)
    SELECT r.rating,
           CASE WHEN _demo_pick(p * 4 + k, 27, 5) = 0 THEN NULL     -- a rating without a comment
                WHEN r.rating >= 4 THEN (ARRAY['Exactly as described, very happy with it.',
                                               'Excellent! I would buy it again.',
                                               'My family loves it, highly recommended.',
                                               'Great quality and arrived quickly.'])[1 + _demo_pick(p * 4 + k, 28, 4)]
                WHEN r.rating = 3 THEN (ARRAY['Decent for the price, nothing special.',
                                              'Works fine, but the packaging was damaged.'])[1 + _demo_pick(p * 4 + k, 28, 2)]
                ELSE (ARRAY['Not what I expected, returning it.',
                            'Stopped working after a week.'])[1 + _demo_pick(p * 4 + k, 28, 2)]
           END,
           p
      FROM generate_series(1, n_products) AS p,
           generate_series(1, p % 4) AS k,
           LATERAL (SELECT (ARRAY[1, 2, 3, 4, 4, 4, 5, 5, 5, 5])[1 + _demo_pick(p * 4 + k, 26, 10)] AS rating) AS r;

    -- explicit ids bypassed the identity sequences: move them past the rows
    PERFORM setval(pg_get_serial_sequence('ecommerce_api.' || t, 'id_key'), n)
       FROM (VALUES ('categories', 10::bigint), ('products', n_products), ('clients', n_clients),
                    ('bills', n_orders), ('orders', n_orders)) AS s(t, n);

    ANALYZE categories, products, clients, addresses, bills, orders, order_details, reviews;

    RETURN json_build_object(
        'categories', (SELECT count(*) FROM categories),
        'products', (SELECT count(*) FROM products),
        'clients', (SELECT count(*) FROM clients),
        'addresses', (SELECT count(*) FROM addresses),
        'bills', (SELECT count(*) FROM bills),
        'orders', (SELECT count(*) FROM orders),
        'order_details', (SELECT count(*) FROM order_details),
        'reviews', (SELECT count(*) FROM reviews));
END
$$;

COMMENT ON FUNCTION ecommerce_api.load_demo_data(integer, boolean) IS
    'Fill the empty ecommerce_api tables with demo data (100*scale products, 50*scale clients, 100*scale orders); password of every client: demo1234';
