/*
 * sql/schema.sql
 *		The shop's tables, their constraints and indexes, and their registration
 *		with pg_dump (pg_extension_config_dump).  (The signing key's table is in
 *		sql/auth.sql: it is not dumped.)
 *
 * A piece of the install script (see sql/conventions.sql).
 */

/* =========================================================================
 * 1. Tables
 *
 * Column order is the order of the fields in the HTTP responses.  Ids are
 * bigint identities; GENERATED ALWAYS because only the server assigns them
 * (an id_key sent in a body is ignored).  Money is numeric(12,2) for prices
 * and numeric(14,2) for totals: exact cents, never binary floats.  Enum-coded
 * columns are smallint with a CHECK on the contract's range.  Every limit the
 * API validates is also a CHECK, so rows written by other means obey them too.
 * ========================================================================= */

CREATE TABLE categories (
    id_key  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name    text NOT NULL,
    CONSTRAINT categories_name_length CHECK (char_length(name) BETWEEN 1 AND 100),
    CONSTRAINT categories_name_key UNIQUE (name)
);

CREATE TABLE products (
    id_key      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL,
    description text,
    price       numeric(12,2) NOT NULL,
    stock       integer NOT NULL DEFAULT 0,
    category_id bigint REFERENCES categories ON DELETE RESTRICT,
    CONSTRAINT products_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT products_description_length CHECK (char_length(description) <= 2000),
    CONSTRAINT products_price_positive CHECK (price > 0),
    -- the last line of defence of the stock rules: whatever happens, never oversell
    CONSTRAINT products_stock_not_negative CHECK (stock >= 0)
)
-- stock changes with every order line; no index covers it, so with free room
-- in the page those updates are HOT (no index churn, less bloat)
WITH (fillfactor = 90);

CREATE TABLE clients (
    id_key    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name      text NOT NULL,
    lastname  text NOT NULL,
    email     text NOT NULL,
    telephone text,
    is_admin  boolean NOT NULL DEFAULT false,
    -- bcrypt hash from pgcrypto's crypt(); NULL for a guest, who can never log in
    password  text,
    CONSTRAINT clients_name_length CHECK (char_length(name) BETWEEN 1 AND 100),
    CONSTRAINT clients_lastname_length CHECK (char_length(lastname) BETWEEN 1 AND 100),
    -- one @, non-empty local part, dotted domain, no whitespace, domain stored
    -- lower-case (so the unique constraint compares normalized addresses)
    CONSTRAINT clients_email_format CHECK (
        char_length(email) <= 254
        AND email ~ '^[^@[:space:]]+@[^@[:space:].]+(\.[^@[:space:].]+)+$'
        AND split_part(email, '@', 2) = lower(split_part(email, '@', 2))),
    CONSTRAINT clients_telephone_length CHECK (char_length(telephone) <= 30),
    -- only ever a hash: a plain-text password cannot be stored by mistake
    CONSTRAINT clients_password_is_bcrypt CHECK (password ~ '^\$2[abxy]\$[0-9]{2}\$[./A-Za-z0-9]{53}$'),
    CONSTRAINT clients_email_key UNIQUE (email)
);

CREATE TABLE addresses (
    id_key    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    street    text,
    number    text,
    city      text,
    -- a client's addresses go with it (deleting a client deletes its addresses)
    client_id bigint NOT NULL REFERENCES clients ON DELETE CASCADE,
    CONSTRAINT addresses_street_length CHECK (char_length(street) BETWEEN 1 AND 200),
    CONSTRAINT addresses_number_length CHECK (char_length(number) <= 20),
    CONSTRAINT addresses_city_length CHECK (char_length(city) BETWEEN 1 AND 100)
);

CREATE TABLE bills (
    id_key       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bill_number  text NOT NULL,
    discount     numeric(14,2),
    date         date NOT NULL,
    total        numeric(14,2) NOT NULL,
    payment_type smallint NOT NULL,
    client_id    bigint NOT NULL REFERENCES clients ON DELETE RESTRICT,
    CONSTRAINT bills_bill_number_length CHECK (char_length(bill_number) BETWEEN 1 AND 50),
    CONSTRAINT bills_discount_not_negative CHECK (discount >= 0),
    CONSTRAINT bills_total_not_negative CHECK (total >= 0),
    -- 1 CASH, 2 CARD, 3 DEBIT, 4 CREDIT, 5 BANK_TRANSFER
    CONSTRAINT bills_payment_type_valid CHECK (payment_type BETWEEN 1 AND 5),
    CONSTRAINT bills_bill_number_key UNIQUE (bill_number)
);

CREATE TABLE orders (
    id_key          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- timestamp without time zone, always UTC (the API's datetimes carry no zone)
    date            timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    total           numeric(14,2) NOT NULL,
    delivery_method smallint NOT NULL,
    status          smallint NOT NULL DEFAULT 1,
    client_id       bigint NOT NULL REFERENCES clients ON DELETE RESTRICT,
    bill_id         bigint NOT NULL REFERENCES bills ON DELETE RESTRICT,
    CONSTRAINT orders_total_not_negative CHECK (total >= 0),
    -- 1 DRIVE_THRU, 2 ON_HAND, 3 HOME_DELIVERY
    CONSTRAINT orders_delivery_method_valid CHECK (delivery_method BETWEEN 1 AND 3),
    -- 1 PENDING, 2 IN_PROGRESS, 3 DELIVERED, 4 CANCELED
    CONSTRAINT orders_status_valid CHECK (status BETWEEN 1 AND 4)
)
WITH (fillfactor = 90);    -- status updates: room for HOT updates, as for products

CREATE TABLE order_details (
    id_key     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    quantity   integer NOT NULL,
    price      numeric(12,2) NOT NULL,
    -- lines belong to their order; the API returns their stock before deleting
    order_id   bigint NOT NULL REFERENCES orders ON DELETE CASCADE,
    -- sales history pins the product: a sold product cannot be deleted
    product_id bigint NOT NULL REFERENCES products ON DELETE RESTRICT,
    CONSTRAINT order_details_quantity_positive CHECK (quantity > 0),
    CONSTRAINT order_details_price_positive CHECK (price > 0)
);

CREATE TABLE reviews (
    id_key     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rating     numeric(3,2) NOT NULL,
    comment    text,
    -- reviews are catalog content of the product: they go with it
    product_id bigint NOT NULL REFERENCES products ON DELETE CASCADE,
    CONSTRAINT reviews_rating_range CHECK (rating BETWEEN 1 AND 5),
    CONSTRAINT reviews_comment_length CHECK (char_length(comment) BETWEEN 10 AND 1000)
);

-- Numbers for the bills that checkout generates (CHK-<yyyymmdd>-<n>).
CREATE SEQUENCE checkout_bill_seq;

COMMENT ON TABLE categories IS 'ecommerce_api: product categories (GET/POST/PUT/DELETE /categories)';
COMMENT ON TABLE products IS 'ecommerce_api: catalog; stock is kept consistent with order lines by the api_* functions';
COMMENT ON TABLE clients IS 'ecommerce_api: customers; password is a bcrypt hash, NULL for guests';
COMMENT ON TABLE addresses IS 'ecommerce_api: client addresses (deleted with their client)';
COMMENT ON TABLE bills IS 'ecommerce_api: bills (invoices)';
COMMENT ON TABLE orders IS 'ecommerce_api: orders; status 4 (CANCELED) is final and has returned its stock';
COMMENT ON TABLE order_details IS 'ecommerce_api: order lines; their quantities are taken from products.stock';
COMMENT ON TABLE reviews IS 'ecommerce_api: product reviews (deleted with their product)';


/* =========================================================================
 * 2. Indexes
 *
 * Every foreign key is indexed (deletes of the parent and the RESTRICT checks
 * would otherwise scan the child).  Where a list is filtered by its parent and
 * paged by id_key, the index is (parent, id_key) so the page is read in order.
 * ========================================================================= */

CREATE INDEX products_category_id_idx ON products (category_id, id_key);
-- /products/filter sort orders: price_asc/price_desc and name/name_desc, each
-- with id_key as the tie-breaker so pages are stable; and the same within a
-- category (browsing one category by price or name is the common case, and
-- prices correlate with categories, so filtering a global price walk by
-- category can read most of the table)
CREATE INDEX products_price_idx ON products (price, id_key);
CREATE INDEX products_name_idx ON products (name, id_key);
CREATE INDEX products_category_price_idx ON products (category_id, price, id_key);
CREATE INDEX products_category_name_idx ON products (category_id, name, id_key);
-- /products/filter?search=: case-insensitive substring (ILIKE '%x%'); trigram
-- GIN indexes answer ILIKE directly (pg_trgm folds case itself)
CREATE INDEX products_name_trgm_idx ON products USING gin (name gin_trgm_ops);
-- The planner estimates "name ILIKE '%x%'" by matching the pattern against the
-- column's histogram.  With the default 100 entries a term in 2% of the names
-- often matches none of them, the estimate collapses to ~100 rows, and a
-- search sorted by id reads and sorts every match instead of walking the
-- primary key (1M products: 140 ms instead of 3 ms).  1000 entries make that
-- estimate reliable; the planning cost was not measurable.
ALTER TABLE products ALTER COLUMN name SET STATISTICS 1000;

CREATE INDEX addresses_client_id_idx ON addresses (client_id, id_key);
CREATE INDEX bills_client_id_idx ON bills (client_id, id_key);
CREATE INDEX orders_client_id_idx ON orders (client_id, id_key);
CREATE INDEX orders_bill_id_idx ON orders (bill_id);
CREATE INDEX order_details_order_id_idx ON order_details (order_id, id_key);
CREATE INDEX order_details_product_id_idx ON order_details (product_id);
CREATE INDEX reviews_product_id_idx ON reviews (product_id, id_key);


/* =========================================================================
 * 3. pg_dump support
 *
 * Rows of extension member tables are not dumped unless the table is
 * registered as configuration; the identity sequences must be registered too
 * or a restored database would hand out ids that already exist.
 * ========================================================================= */

SELECT pg_catalog.pg_extension_config_dump('ecommerce_api.categories', '');
SELECT pg_catalog.pg_extension_config_dump('ecommerce_api.products', '');
SELECT pg_catalog.pg_extension_config_dump('ecommerce_api.clients', '');
SELECT pg_catalog.pg_extension_config_dump('ecommerce_api.addresses', '');
SELECT pg_catalog.pg_extension_config_dump('ecommerce_api.bills', '');
SELECT pg_catalog.pg_extension_config_dump('ecommerce_api.orders', '');
SELECT pg_catalog.pg_extension_config_dump('ecommerce_api.order_details', '');
SELECT pg_catalog.pg_extension_config_dump('ecommerce_api.reviews', '');
SELECT pg_catalog.pg_extension_config_dump('ecommerce_api.categories_id_key_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ecommerce_api.products_id_key_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ecommerce_api.clients_id_key_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ecommerce_api.addresses_id_key_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ecommerce_api.bills_id_key_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ecommerce_api.orders_id_key_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ecommerce_api.order_details_id_key_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ecommerce_api.reviews_id_key_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ecommerce_api.checkout_bill_seq', '');
