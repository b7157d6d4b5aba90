/*
 * ecommerce_api--1.0.sql
 *
 * The SQL half of ecommerce_api: schema, constraints, indexes and one function
 * per HTTP route.  The C gateway is deliberately thin: it maps a request to one
 * api_* function, passes every parameter as the raw text it received (NULL when
 * absent), and sends back the text the function returns.  All validation and
 * every business rule therefore live here, where pg_regress can test them.
 *
 * Conventions
 * -----------
 *  - Route functions are named api_<resource>_<action>, take only text
 *    arguments and return the JSON response body as text (NULL for DELETE).
 *  - Refusals are raised with our own SQLSTATEs, which the gateway maps to
 *    HTTP statuses: EA400, EA401, EA403, EA404, EA409, EA503 carry the human
 *    "detail" message; EA422 carries the JSON text of a FastAPI/pydantic-v2
 *    style error array (the gateway sends {"detail": <that array>}).
 *  - JSON is always built by PostgreSQL (json_build_object, json_agg), with the
 *    keys in the order of the HTTP contract; never by string concatenation.
 *  - Every object of this schema (table, row type, function, sequence) is
 *    named schema-qualified, so a caller's search_path cannot redirect a
 *    function to other objects (built-ins resolve in pg_catalog, searched
 *    first unless a path names it explicitly; pg_temp is never searched for
 *    functions).  The functions therefore carry no SET search_path: that
 *    clause costs every call (the setting is applied and restored and the
 *    namespace path looked up again), measured at 2.4 us of a 36 us point
 *    read.  The exception is what calls pgcrypto, whose schema the script
 *    cannot name (@extschema:pgcrypto@ needs PostgreSQL 16): _hash_password,
 *    api_clients_login and load_demo_data SET search_path FROM CURRENT.
 *    While CREATE EXTENSION runs the script, search_path is "ecommerce_api,
 *    <schemas of pgcrypto and pg_trgm>, pg_temp" (PostgreSQL builds it from
 *    the control file's "requires"), so they find crypt()/gen_salt()
 *    wherever CASCADE or the DBA put pgcrypto.  (schema.sql checks that no
 *    other function names one of our objects unqualified.)
 *  - Small pure helpers (parsing, JSON shapes, most checks) are LANGUAGE sql,
 *    carry no SET clause and schema-qualify what they call.  That keeps them
 *    inlinable: the planner folds them into the calling statement, whose plan
 *    PL/pgSQL caches.  A SQL function that is not inlined costs far more than
 *    it looks: PostgreSQL 15 parses and plans its body again on every call of
 *    the statement that calls it.  Inlining also needs a single SELECT of an
 *    expression (no FROM, no sub-select), a body no more volatile than the
 *    function, and every argument that the body uses more than once must be
 *    cheap (a parameter, a field, an operator or two): given a costly
 *    expression there, the planner calls the function rather than evaluate
 *    the expression several times.  A helper that cannot be inlined is
 *    PL/pgSQL, whose plans are kept per backend: the field validators of
 *    request bodies (section 5 says why), _page_errors, the raising half of
 *    _path_id.
 *  - Route functions check their inputs with PL/pgSQL expressions ("errors :=
 *    ...; IF num_nonnulls(VARIADIC errors) > 0"), which PL/pgSQL evaluates
 *    itself, with one plan for the life of the backend; a PERFORM would run
 *    the executor for them on every call.
 *  - Route functions whose statements take parameters that change their
 *    estimates (OFFSET and LIMIT, lookups in arrays, ...), that is all but
 *    the point reads, SET plan_cache_mode = force_generic_plan: each
 *    statement is planned once per backend (an HTTP worker lives long) and
 *    reused.  Left to itself the plan cache would re-plan some of them on
 *    every call, because a custom plan that knows the values looks cheaper
 *    (a page of 30 rows against the generic plan's guess of a tenth of the
 *    table).  The point reads (api_*_get) carry no SET at all: their one
 *    statement is a primary key lookup, whose generic plan the plan cache
 *    settles on by itself after its first five (custom) plans, and a SET
 *    clause costs every call (1.4 us).  The one statement that needs per-call
 *    plans (the product filter's query) says so with force_custom_plan.
 *  - Lock order (the one global order every writer follows, so concurrent
 *    requests cannot deadlock):
 *        1. orders rows        (ascending id_key)
 *        2. order_details rows
 *        3. products rows      (ascending id_key)
 *    Rows of categories, clients and bills are only locked FOR KEY SHARE when
 *    referenced (which is what the foreign key check would take anyway), or
 *    FOR UPDATE by their own DELETE, which touches nothing else first.
 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION ecommerce_api CASCADE" to load this file. \quit


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


/* =========================================================================
 * 4. Input parsing
 *
 * The API is lenient the way the reference (FastAPI + pydantic v2, lax mode)
 * was: numeric strings are numbers, an integral float is an int, surrounding
 * whitespace in numeric strings is ignored.  These helpers return NULL for
 * anything that does not parse; the validators below turn that into errors.
 * Booleans are not accepted as numbers (pydantic would take true as 1: an API
 * that sells "true" units of something is not being careful).
 * Digits are matched with [0-9], never \d, which may match non-ASCII digits
 * that numeric input would then reject.
 * ========================================================================= */

-- A decimal number written as text, or NULL.  numeric input itself skips
-- surrounding whitespace; the pattern refuses NaN/Infinity and huge exponents.
CREATE FUNCTION ecommerce_api._num_text(s text) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN s ~ '^[ \t\n\r\f\v]*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,4})?[ \t\n\r\f\v]*$'
        THEN s::numeric
    END
$$;

-- An integer written as text ("42", " 42 ", "+42", "42.0"), or NULL.
CREATE FUNCTION ecommerce_api._int_text(s text) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN s ~ '^[ \t\n\r\f\v]*[+-]?[0-9]+(\.0*)?[ \t\n\r\f\v]*$'
        THEN trunc(s::numeric)
    END
$$;

-- A JSON number or numeric string, or NULL.
CREATE FUNCTION ecommerce_api._num(v jsonb) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE jsonb_typeof(v)
        WHEN 'number' THEN v::numeric
        WHEN 'string' THEN ecommerce_api._num_text(v #>> '{}')
    END
$$;

-- A JSON integer (3 or 3.0) or integer string, or NULL.
CREATE FUNCTION ecommerce_api._int_of(v jsonb) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE jsonb_typeof(v)
        WHEN 'number' THEN CASE WHEN v::numeric = trunc(v::numeric) THEN trunc(v::numeric) END
        WHEN 'string' THEN ecommerce_api._int_text(v #>> '{}')
    END
$$;

-- An integer as a bigint id, or NULL when it is outside bigint's range (such
-- an id cannot exist, so lookups with NULL find nothing and answer 404).
CREATE FUNCTION ecommerce_api._bigint(n numeric) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN n BETWEEN -9223372036854775808 AND 9223372036854775807 THEN n::bigint END
$$;

-- pydantic's lax boolean strings, or NULL.
CREATE FUNCTION ecommerce_api._bool_text(s text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE lower(btrim(s))
        WHEN 'true' THEN true  WHEN '1' THEN true  WHEN 'yes' THEN true
        WHEN 'on' THEN true    WHEN 't' THEN true  WHEN 'y' THEN true
        WHEN 'false' THEN false WHEN '0' THEN false WHEN 'no' THEN false
        WHEN 'off' THEN false  WHEN 'f' THEN false WHEN 'n' THEN false
    END
$$;

-- Why a string is not a YYYY-MM-DD date (pydantic's wording), or NULL if it is.
CREATE FUNCTION ecommerce_api._date_problem(s text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    -- CASE arms run in order, so each cast below only sees digits
    SELECT CASE
        WHEN char_length(s) < 10 THEN 'input is too short'
        WHEN substr(s, 1, 4) !~ '^[0-9]{4}$' THEN 'invalid character in year'
        WHEN substr(s, 5, 1) <> '-' THEN 'invalid date separator, expected `-`'
        WHEN substr(s, 6, 2) !~ '^[0-9]{2}$' THEN 'invalid character in month'
        WHEN substr(s, 8, 1) <> '-' THEN 'invalid date separator, expected `-`'
        WHEN substr(s, 9, 2) !~ '^[0-9]{2}$' THEN 'invalid character in day'
        WHEN char_length(s) > 10 THEN 'input is too long'
        WHEN substr(s, 1, 4)::int = 0 THEN 'year value is outside expected range'
        WHEN substr(s, 6, 2)::int NOT BETWEEN 1 AND 12 THEN 'month value is outside expected range of 1-12'
        WHEN substr(s, 9, 2)::int NOT BETWEEN 1 AND
             extract(day FROM make_date(substr(s, 1, 4)::int, substr(s, 6, 2)::int, 1)
                              + interval '1 month - 1 day')
            THEN 'day value is outside expected range'
    END
$$;

-- Parses an ISO-8601 datetime the way pydantic does: "YYYY-MM-DD", then
-- optionally [T t _ space] HH:MM[:SS[.fraction]], then optionally Z or an
-- offset.  ts is normalized to UTC (the API stores UTC without zone);
-- zero_time tells whether the written time was midnight (dates accept such
-- datetimes); problem is pydantic's reason when the text does not parse.
CREATE FUNCTION ecommerce_api._datetime_parse(s text, OUT ts timestamp, OUT zero_time boolean, OUT problem text)
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    m   text[];
    iso text;
BEGIN
    m := regexp_match(s, '^([0-9]{4}-[0-9]{2}-[0-9]{2})'
                         '(?:[Tt _]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?)?'
                         '(Z|z|[+-][0-9]{2}(?::?[0-9]{2})?)?$');
    IF m IS NULL THEN
        problem := coalesce(ecommerce_api._date_problem(left(s, 10)), CASE
            WHEN substr(s, 11, 1) NOT IN ('T', 't', '_', ' ')
                THEN 'invalid datetime separator, expected `T`, `t`, `_` or space'
            WHEN substr(s, 12, 2) !~ '^[0-9]{2}$' THEN 'invalid character in hour'
            WHEN substr(s, 14, 1) <> ':' THEN 'invalid time separator, expected `:`'
            WHEN substr(s, 15, 2) !~ '^[0-9]{2}$' THEN 'invalid character in minute'
            ELSE 'unexpected extra characters at the end of the input'
        END);
        RETURN;
    END IF;
    problem := CASE
        WHEN ecommerce_api._date_problem(m[1]) IS NOT NULL THEN ecommerce_api._date_problem(m[1])
        WHEN m[2]::int > 23 THEN 'hour value is outside expected range of 0-23'
        WHEN m[3]::int > 59 THEN 'minute value is outside expected range of 0-59'
        WHEN m[4]::int > 59 THEN 'second value is outside expected range of 0-59'
        WHEN m[6] !~ '^[+-]' THEN NULL
        WHEN substr(m[6], 2, 2)::int > 23 THEN 'timezone offset hour must be less than 24'
        WHEN right(m[6], 2)::int > 59 THEN 'timezone offset minute must be less than 60'
    END;
    IF problem IS NOT NULL THEN
        RETURN;
    END IF;
    zero_time := coalesce(m[2]::int, 0) = 0 AND coalesce(m[3]::int, 0) = 0
             AND coalesce(m[4]::int, 0) = 0 AND coalesce(m[5], '0') ~ '^0+$';
    -- ISO year-first input reads the same under every DateStyle
    iso := format('%s %s:%s:%s.%s', m[1], coalesce(m[2], '00'), coalesce(m[3], '00'),
                  coalesce(m[4], '00'), coalesce(m[5], '0'));
    IF m[6] ~ '^[+-]' THEN
        -- an explicit offset: convert to UTC
        ts := (iso || m[6])::timestamptz AT TIME ZONE 'UTC';
    ELSE
        ts := iso::timestamp;
    END IF;
END
$$;

-- Normalized email: the domain is case-insensitive, so it is stored lower-case.
CREATE FUNCTION ecommerce_api._normalize_email(s text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT split_part(s, '@', 1) || '@' || lower(split_part(s, '@', 2))
$$;

-- Why a string is not an acceptable email address (email-validator's
-- wording), or NULL.  Kept in step with CHECK clients_email_format.
CREATE FUNCTION ecommerce_api._email_problem(s text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN s !~ '^[^@]*@[^@]*$' THEN 'The email address is not valid. It must have exactly one @-sign.'
        WHEN split_part(s, '@', 1) = '' THEN 'There must be something before the @-sign.'
        WHEN split_part(s, '@', 2) = '' THEN 'There must be something after the @-sign.'
        WHEN s ~ '[[:space:]]' THEN 'The email address contains invalid characters (whitespace).'
        WHEN split_part(s, '@', 2) !~ '\.' THEN 'The part after the @-sign is not valid. It should have a period.'
        WHEN split_part(s, '@', 2) !~ '^[^.]+(\.[^.]+)+$' THEN 'The part after the @-sign is not valid. A period cannot start or end it, or follow another period.'
        WHEN char_length(s) > 254 THEN 'The email address is too long.'
    END
$$;


/* =========================================================================
 * 5. Validation errors (422) in FastAPI's shape
 *
 * A validator returns one error item (json) or NULL.  Each resource has an
 * _<resource>_errors(doc) function returning the array of its field
 * validators; _validate() raises EA422 with all non-NULL items, in order, so
 * a client sees every problem of its request at once, like FastAPI reports.
 * Items are {type, loc, msg, input[, ctx]} with pydantic v2's types and
 * messages.  Items are json (not jsonb) so their keys keep FastAPI's order.
 * ========================================================================= */

CREATE FUNCTION ecommerce_api._err(kind text, loc jsonb, msg text, input jsonb, ctx json DEFAULT NULL)
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN ctx IS NULL
        THEN json_build_object('type', kind, 'loc', loc, 'msg', msg, 'input', input)
        ELSE json_build_object('type', kind, 'loc', loc, 'msg', msg, 'input', input, 'ctx', ctx)
    END
$$;

-- Raises EA422 if any item is not NULL.
CREATE FUNCTION ecommerce_api._validate(errors json[]) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
    item json;
BEGIN
    -- fast path: the request is valid (no query needed)
    FOREACH item IN ARRAY errors LOOP
        IF item IS NOT NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'EA422',
                MESSAGE = (SELECT json_agg(e ORDER BY n)
                             FROM unnest(errors) WITH ORDINALITY AS u(e, n)
                            WHERE e IS NOT NULL)::text;
        END IF;
    END LOOP;
END
$$;

-- The body itself: absent (or JSON null) is "missing"; a JSON value that is
-- not an object cannot hold fields.  NULL when the body is an object.
CREATE FUNCTION ecommerce_api._body_error(doc jsonb) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN doc IS NULL OR doc = 'null' THEN
            ecommerce_api._err('missing', '["body"]', 'Field required', NULL)
        WHEN jsonb_typeof(doc) <> 'object' THEN
            ecommerce_api._err('model_attributes_type', '["body"]',
                'Input should be a valid dictionary or object to extract fields from', doc)
    END
$$;

-- Python's json.JSONDecodeError wording for PostgreSQL's JSON parser detail.
CREATE FUNCTION ecommerce_api._json_error_text(detail text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN detail LIKE 'Expected end of input%' THEN 'Extra data'
        WHEN detail LIKE 'Expected string, but found%' OR detail LIKE 'Expected string or "}"%'
            THEN 'Expecting property name enclosed in double quotes'
        WHEN detail LIKE 'Expected ":"%' THEN 'Expecting '':'' delimiter'
        WHEN detail LIKE 'Expected "," or%' THEN 'Expecting '','' delimiter'
        WHEN detail LIKE 'Escape sequence%' THEN 'Invalid \escape'
        WHEN detail LIKE 'Character with value%' THEN 'Invalid control character'
        WHEN detail LIKE 'Token%' OR detail LIKE 'Expected JSON value%'
          OR detail LIKE 'Expected array element%' OR detail LIKE 'The input string ended%'
            THEN 'Expecting value'
        ELSE coalesce(detail, 'Invalid JSON')
    END
$$;

-- Character offset (0-based, like Python's JSONDecodeError.pos) of the token
-- PostgreSQL's JSON parser choked on, recovered from the error's DETAIL (the
-- token) and CONTEXT ("JSON data, line N: <excerpt ending at the token>").
-- Best effort: 0 when it cannot tell.  Must never raise (it runs inside an
-- exception handler).
CREATE FUNCTION ecommerce_api._json_error_position(body text, detail text, context text) RETURNS integer
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    m          text[];
    line_no    integer;
    excerpt    text;
    line       text;
    token      text;
    line_start integer;
    token_end  integer;
BEGIN
    IF detail LIKE 'The input string ended unexpectedly%' THEN
        RETURN char_length(body);
    END IF;
    m := regexp_match(context, '^JSON data, line ([0-9]{1,9}): (\.\.\.)?(.*)$', 'n');
    token := (regexp_match(detail, '"(.*)"'))[1];
    IF m IS NULL OR token IS NULL THEN
        RETURN 0;
    END IF;
    line_no := m[1]::integer;
    excerpt := m[3];
    -- the excerpt ends at the end of the bad token; "..." follows if more input does
    IF excerpt LIKE '%' || token || '...' THEN
        excerpt := left(excerpt, -3);
    END IF;
    line := split_part(body, E'\n', line_no);
    line_start := CASE WHEN line_no > 1
        THEN char_length(array_to_string((string_to_array(body, E'\n'))[1:line_no - 1], E'\n')) + 1
        ELSE 0 END;
    token_end := CASE WHEN m[2] IS NULL THEN char_length(excerpt)
                      ELSE strpos(line, excerpt) + char_length(excerpt) - 1 END;
    RETURN greatest(line_start + token_end - char_length(token), 0);
END
$$;

-- The request body as jsonb: NULL when absent or empty, any JSON value
-- otherwise (the _<resource>_errors functions judge its shape, so that its
-- errors can be reported together with path and query errors).  Malformed
-- JSON raises at once, as FastAPI does before it validates anything else.
CREATE FUNCTION ecommerce_api._body(body text) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    detail  text;
    context text;
BEGIN
    IF body IS NULL OR body = '' THEN
        RETURN NULL;
    END IF;
    RETURN body::jsonb;
EXCEPTION WHEN data_exception THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL, context = PG_EXCEPTION_CONTEXT;
    RAISE EXCEPTION USING
        ERRCODE = 'EA422',
        MESSAGE = json_build_array(ecommerce_api._err(
            'json_invalid',
            jsonb_build_array('body', ecommerce_api._json_error_position(body, detail, context)),
            'JSON decode error',
            '{}',
            json_build_object('error', ecommerce_api._json_error_text(detail))))::text;
END
$$;

-- Field validators.  All take the object, the key, whether the field is
-- required, the constraints, and the loc prefix (["body"], or
-- ["body","items",3] for a nested object).  An absent optional field is fine,
-- and so is an explicit null for it (null means "no value"); a required field
-- that is null gets the type error, as in pydantic.
--
-- The ones every POST and PUT runs are PL/pgSQL, one test per statement.
-- Inlined, a body's validators are one large expression that PostgreSQL
-- compiles again in every transaction (each request is one) before it
-- evaluates it, error messages included: ~300k instructions for a product,
-- 40% of its POST.  Statement by statement, a valid field only compiles the
-- tests it passes, once per transaction for all the fields that share the
-- validator, and an error item is only built (and compiled) for a field
-- that has one.  Their order is the order of the CASE arms they replace.

CREATE FUNCTION ecommerce_api._chk_str(obj jsonb, key text, required boolean,
                                       min_len integer DEFAULT NULL, max_len integer DEFAULT NULL,
                                       prefix jsonb DEFAULT '["body"]')
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    IF NOT obj ? key THEN
        IF required THEN
            RETURN ecommerce_api._err('missing', prefix || to_jsonb(key), 'Field required', obj);
        END IF;
        RETURN NULL;
    END IF;
    IF obj -> key = 'null' AND NOT required THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(obj -> key) <> 'string' THEN
        RETURN ecommerce_api._err('string_type', prefix || to_jsonb(key), 'Input should be a valid string', obj -> key);
    END IF;
    IF char_length(obj ->> key) < min_len THEN
        RETURN ecommerce_api._err('string_too_short', prefix || to_jsonb(key),
            format('String should have at least %s character%s', min_len, CASE WHEN min_len = 1 THEN '' ELSE 's' END),
            obj -> key, json_build_object('min_length', min_len));
    END IF;
    IF char_length(obj ->> key) > max_len THEN
        RETURN ecommerce_api._err('string_too_long', prefix || to_jsonb(key),
            format('String should have at most %s character%s', max_len, CASE WHEN max_len = 1 THEN '' ELSE 's' END),
            obj -> key, json_build_object('max_length', max_len));
    END IF;
    RETURN NULL;
END
$$;

-- Range checks shared by numbers and integers (value already parsed).
-- Inlined where v is cheap (a parameter or variable, _int_text(param)): v is
-- compared up to three times, and the planner does not inline a SQL function
-- whose argument it would have to evaluate several times when that argument
-- is costly; it calls it instead, and a SQL function called from a cached
-- plan is parsed and planned again on every call.
CREATE FUNCTION ecommerce_api._chk_range(v numeric, loc jsonb, input jsonb,
                                         gt numeric, ge numeric, le numeric)
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN v <= gt THEN ecommerce_api._err('greater_than', loc,
            format('Input should be greater than %s', gt), input, json_build_object('gt', gt))
        WHEN v < ge THEN ecommerce_api._err('greater_than_equal', loc,
            format('Input should be greater than or equal to %s', ge), input, json_build_object('ge', ge))
        WHEN v > le THEN ecommerce_api._err('less_than_equal', loc,
            format('Input should be less than or equal to %s', le), input, json_build_object('le', le))
    END
$$;

-- A number (float in pydantic).  With digits, the value is compared after
-- rounding to that many decimals, because that is what will be stored (a
-- price of 0.001 is 0.00 and therefore not > 0).
CREATE FUNCTION ecommerce_api._chk_num(obj jsonb, key text, required boolean,
                                       gt numeric DEFAULT NULL, ge numeric DEFAULT NULL, le numeric DEFAULT NULL,
                                       digits integer DEFAULT NULL, prefix jsonb DEFAULT '["body"]')
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    v numeric;
BEGIN
    IF NOT obj ? key THEN
        IF required THEN
            RETURN ecommerce_api._err('missing', prefix || to_jsonb(key), 'Field required', obj);
        END IF;
        RETURN NULL;
    END IF;
    IF obj -> key = 'null' AND NOT required THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(obj -> key) NOT IN ('number', 'string') THEN
        RETURN ecommerce_api._err('float_type', prefix || to_jsonb(key), 'Input should be a valid number', obj -> key);
    END IF;
    v := ecommerce_api._num(obj -> key);
    IF v IS NULL THEN
        RETURN ecommerce_api._err('float_parsing', prefix || to_jsonb(key),
            'Input should be a valid number, unable to parse string as a number', obj -> key);
    END IF;
    IF digits IS NOT NULL THEN
        v := round(v, digits);
    END IF;
    IF v <= gt OR v < ge OR v > le THEN
        RETURN ecommerce_api._chk_range(v, prefix || to_jsonb(key), obj -> key, gt, ge, le);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION ecommerce_api._chk_int(obj jsonb, key text, required boolean,
                                       gt numeric DEFAULT NULL, ge numeric DEFAULT NULL, le numeric DEFAULT NULL,
                                       prefix jsonb DEFAULT '["body"]')
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    v numeric;
BEGIN
    IF NOT obj ? key THEN
        IF required THEN
            RETURN ecommerce_api._err('missing', prefix || to_jsonb(key), 'Field required', obj);
        END IF;
        RETURN NULL;
    END IF;
    IF obj -> key = 'null' AND NOT required THEN
        RETURN NULL;
    END IF;
    v := ecommerce_api._int_of(obj -> key);
    IF v IS NOT NULL THEN
        IF v <= gt OR v < ge OR v > le THEN
            RETURN ecommerce_api._chk_range(v, prefix || to_jsonb(key), obj -> key, gt, ge, le);
        END IF;
        RETURN NULL;
    END IF;
    IF jsonb_typeof(obj -> key) = 'number' THEN
        RETURN ecommerce_api._err('int_from_float', prefix || to_jsonb(key),
            'Input should be a valid integer, got a number with a fractional part', obj -> key);
    END IF;
    IF jsonb_typeof(obj -> key) = 'string' THEN
        RETURN ecommerce_api._err('int_parsing', prefix || to_jsonb(key),
            'Input should be a valid integer, unable to parse string as an integer', obj -> key);
    END IF;
    RETURN ecommerce_api._err('int_type', prefix || to_jsonb(key), 'Input should be a valid integer', obj -> key);
END
$$;

-- An integer enum with the values 1..n (n <= 9).  The expected list reads
-- "1, 2 or 3": the first n-1 values (3 characters each in the template) then
-- " or n".
CREATE FUNCTION ecommerce_api._chk_enum(obj jsonb, key text, required boolean, n integer,
                                        prefix jsonb DEFAULT '["body"]')
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    IF NOT obj ? key THEN
        IF required THEN
            RETURN ecommerce_api._err('missing', prefix || to_jsonb(key), 'Field required', obj);
        END IF;
        RETURN NULL;
    END IF;
    IF obj -> key = 'null' AND NOT required THEN
        RETURN NULL;
    END IF;
    IF coalesce(ecommerce_api._int_of(obj -> key) BETWEEN 1 AND n, false) THEN
        RETURN NULL;
    END IF;
    RETURN ecommerce_api._err('enum', prefix || to_jsonb(key),
        format('Input should be %s or %s', left('1, 2, 3, 4, 5, 6, 7, 8', 3 * n - 5), n),
        obj -> key,
        json_build_object('expected', format('%s or %s', left('1, 2, 3, 4, 5, 6, 7, 8', 3 * n - 5), n)));
END
$$;

-- A required email address (pydantic's EmailStr).
CREATE FUNCTION ecommerce_api._chk_email(obj jsonb, key text, prefix jsonb DEFAULT '["body"]')
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    problem text;
BEGIN
    IF NOT obj ? key THEN
        RETURN ecommerce_api._err('missing', prefix || to_jsonb(key), 'Field required', obj);
    END IF;
    IF jsonb_typeof(obj -> key) <> 'string' THEN
        RETURN ecommerce_api._err('string_type', prefix || to_jsonb(key), 'Input should be a valid string', obj -> key);
    END IF;
    problem := ecommerce_api._email_problem(obj ->> key);
    IF problem IS NOT NULL THEN
        RETURN ecommerce_api._err('value_error', prefix || to_jsonb(key),
            'value is not a valid email address: ' || problem,
            obj -> key, json_build_object('reason', problem));
    END IF;
    RETURN NULL;
END
$$;

-- A date: "YYYY-MM-DD", or a datetime whose time is exactly midnight.
CREATE FUNCTION ecommerce_api._chk_date(obj jsonb, key text, required boolean, prefix jsonb DEFAULT '["body"]')
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN NOT obj ? key THEN
            CASE WHEN required THEN ecommerce_api._err('missing', prefix || to_jsonb(key), 'Field required', obj) END
        WHEN obj -> key = 'null' AND NOT required THEN NULL
        WHEN jsonb_typeof(obj -> key) <> 'string' THEN
            ecommerce_api._err('date_type', prefix || to_jsonb(key), 'Input should be a valid date', obj -> key)
        WHEN ecommerce_api._date_problem(obj ->> key) IS NULL THEN NULL
        WHEN char_length(obj ->> key) <= 10 THEN
            ecommerce_api._err('date_parsing', prefix || to_jsonb(key),
                'Input should be a valid date in the format YYYY-MM-DD, ' || ecommerce_api._date_problem(obj ->> key),
                obj -> key, json_build_object('error', ecommerce_api._date_problem(obj ->> key)))
        WHEN (ecommerce_api._datetime_parse(obj ->> key)).problem IS NOT NULL THEN
            ecommerce_api._err('date_from_datetime_parsing', prefix || to_jsonb(key),
                'Input should be a valid date or datetime, ' || (ecommerce_api._datetime_parse(obj ->> key)).problem,
                obj -> key, json_build_object('error', (ecommerce_api._datetime_parse(obj ->> key)).problem))
        WHEN NOT (ecommerce_api._datetime_parse(obj ->> key)).zero_time THEN
            ecommerce_api._err('date_from_datetime_inexact', prefix || to_jsonb(key),
                'Datetimes provided to dates should have zero time - e.g. be exact dates', obj -> key)
    END
$$;

-- The date value of a field that passed _chk_date.  STABLE, as the text to
-- date cast is (an IMMUTABLE function with a STABLE body is not inlined).
CREATE FUNCTION ecommerce_api._date_of(v jsonb) RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT left(v #>> '{}', 10)::date
$$;

CREATE FUNCTION ecommerce_api._chk_datetime(obj jsonb, key text, required boolean, prefix jsonb DEFAULT '["body"]')
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN NOT obj ? key THEN
            CASE WHEN required THEN ecommerce_api._err('missing', prefix || to_jsonb(key), 'Field required', obj) END
        WHEN obj -> key = 'null' AND NOT required THEN NULL
        WHEN jsonb_typeof(obj -> key) <> 'string' THEN
            ecommerce_api._err('datetime_type', prefix || to_jsonb(key), 'Input should be a valid datetime', obj -> key)
        WHEN (ecommerce_api._datetime_parse(obj ->> key)).problem IS NOT NULL THEN
            ecommerce_api._err('datetime_parsing', prefix || to_jsonb(key),
                'Input should be a valid datetime, ' || (ecommerce_api._datetime_parse(obj ->> key)).problem,
                obj -> key, json_build_object('error', (ecommerce_api._datetime_parse(obj ->> key)).problem))
    END
$$;

-- Path and query parameters arrive as text (NULL when absent).

CREATE FUNCTION ecommerce_api._path_error(id text) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN ecommerce_api._int_text(id) IS NULL THEN
        ecommerce_api._err('int_parsing', '["path","id"]',
            'Input should be a valid integer, unable to parse string as an integer', to_jsonb(id))
    END
$$;

-- Raises the EA422 of a path id that is not an integer.
CREATE FUNCTION ecommerce_api._path_id_error(id text) RETURNS numeric
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    PERFORM ecommerce_api._validate(ARRAY[ecommerce_api._path_error(id)]);
    RETURN NULL;    -- not reached
END
$$;

-- The path id as a number (validated: EA422 otherwise).  It is numeric, not
-- bigint: an id beyond bigint is a valid integer that names no entity (404).
-- Inlinable: "v_id numeric := _path_id(id)" in a route is one expression, and
-- only an invalid id calls a function (coalesce stops at its first non-NULL).
CREATE FUNCTION ecommerce_api._path_id(id text) RETURNS numeric
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(ecommerce_api._int_text(id), ecommerce_api._path_id_error(id))
$$;

CREATE FUNCTION ecommerce_api._chk_query_int(value text, name text,
                                             ge numeric DEFAULT NULL, le numeric DEFAULT NULL)
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN value IS NULL THEN NULL
        WHEN ecommerce_api._int_text(value) IS NULL THEN
            ecommerce_api._err('int_parsing', jsonb_build_array('query', name),
                'Input should be a valid integer, unable to parse string as an integer', to_jsonb(value))
        ELSE ecommerce_api._chk_range(ecommerce_api._int_text(value), jsonb_build_array('query', name),
                                      to_jsonb(value), NULL, ge, le)
    END
$$;

CREATE FUNCTION ecommerce_api._chk_query_num(value text, name text) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN value IS NOT NULL AND ecommerce_api._num_text(value) IS NULL THEN
        ecommerce_api._err('float_parsing', jsonb_build_array('query', name),
            'Input should be a valid number, unable to parse string as a number', to_jsonb(value))
    END
$$;

CREATE FUNCTION ecommerce_api._chk_query_bool(value text, name text) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN value IS NOT NULL AND ecommerce_api._bool_text(value) IS NULL THEN
        ecommerce_api._err('bool_parsing', jsonb_build_array('query', name),
            'Input should be a valid boolean, unable to interpret input', to_jsonb(value))
    END
$$;

-- skip (>= 0, default 0) and limit (1..1000, default 100) of every list.
-- PL/pgSQL for its fast path: every list request runs this, in its own
-- transaction, and an expression is compiled anew in each transaction that
-- evaluates it; the two inlined validators make ~60 function calls to set up
-- (~100k instructions, a third of a short list), where plain numbers in range,
-- the usual request, need one test of a few.  Anything else (absent
-- excepted) gets the validators' verdict, the same as before.
CREATE FUNCTION ecommerce_api._page_errors(skip text, lim text) RETURNS json[]
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    IF (skip IS NULL OR skip ~ '^[0-9]{1,18}$')
       AND (lim IS NULL OR CASE WHEN lim ~ '^[0-9]{1,4}$' THEN lim::integer BETWEEN 1 AND 1000 END) THEN
        RETURN '{NULL,NULL}';
    END IF;
    RETURN ARRAY[ecommerce_api._chk_query_int(skip, 'skip', ge => 0),
                 ecommerce_api._chk_query_int(lim, 'limit', ge => 1, le => 1000)];
END
$$;

-- The validated skip (clamped to bigint: no table has that many rows anyway).
CREATE FUNCTION ecommerce_api._page_offset(skip text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT least(coalesce(ecommerce_api._int_text(skip), 0), 9223372036854775807)::bigint
$$;

CREATE FUNCTION ecommerce_api._page_limit(lim text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(ecommerce_api._int_text(lim), 100)::integer
$$;


/* =========================================================================
 * 6. Request bodies, one validator per resource (contract section 1)
 *
 * Field order is the contract's, so errors come out in FastAPI's order.
 * Upper bounds beyond the contract are the column types' limits, reported as
 * less_than_equal instead of failing later with an overflow.
 * ========================================================================= */

CREATE FUNCTION ecommerce_api._category_errors(doc jsonb) RETURNS json[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(doc) = 'object' THEN ARRAY[
        ecommerce_api._chk_str(doc, 'name', true, 1, 100)
    ] ELSE ARRAY[ecommerce_api._body_error(doc)] END
$$;

CREATE FUNCTION ecommerce_api._product_errors(doc jsonb) RETURNS json[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(doc) = 'object' THEN ARRAY[
        ecommerce_api._chk_str(doc, 'name', true, 1, 200),
        ecommerce_api._chk_str(doc, 'description', false, NULL, 2000),
        ecommerce_api._chk_num(doc, 'price', true, gt => 0, le => 9999999999.99, digits => 2),
        ecommerce_api._chk_int(doc, 'stock', false, ge => 0, le => 2147483647),
        ecommerce_api._chk_int(doc, 'category_id', false)
    ] ELSE ARRAY[ecommerce_api._body_error(doc)] END
$$;

CREATE FUNCTION ecommerce_api._client_errors(doc jsonb) RETURNS json[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(doc) = 'object' THEN ARRAY[
        ecommerce_api._chk_str(doc, 'name', true, 1, 100),
        ecommerce_api._chk_str(doc, 'lastname', true, 1, 100),
        ecommerce_api._chk_email(doc, 'email'),
        ecommerce_api._chk_str(doc, 'telephone', false, NULL, 30),
        ecommerce_api._chk_str(doc, 'password', false, 1, 128)
    ] ELSE ARRAY[ecommerce_api._body_error(doc)] END
$$;

CREATE FUNCTION ecommerce_api._address_errors(doc jsonb) RETURNS json[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(doc) = 'object' THEN ARRAY[
        ecommerce_api._chk_str(doc, 'street', false, 1, 200),
        ecommerce_api._chk_str(doc, 'number', false, NULL, 20),
        ecommerce_api._chk_str(doc, 'city', false, 1, 100),
        ecommerce_api._chk_int(doc, 'client_id', true)
    ] ELSE ARRAY[ecommerce_api._body_error(doc)] END
$$;

CREATE FUNCTION ecommerce_api._bill_errors(doc jsonb) RETURNS json[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(doc) = 'object' THEN ARRAY[
        ecommerce_api._chk_str(doc, 'bill_number', true, 1, 50),
        ecommerce_api._chk_num(doc, 'discount', false, ge => 0, le => 999999999999.99, digits => 2),
        ecommerce_api._chk_date(doc, 'date', true),
        ecommerce_api._chk_num(doc, 'total', true, ge => 0, le => 999999999999.99, digits => 2),
        ecommerce_api._chk_enum(doc, 'payment_type', true, 5),
        ecommerce_api._chk_int(doc, 'client_id', true)
    ] ELSE ARRAY[ecommerce_api._body_error(doc)] END
$$;

-- partial: PUT /orders is a true partial update.  Nothing is required there,
-- but a required field that is sent is validated as on POST (null included:
-- a total of null is not "no change", it is not a number).
CREATE FUNCTION ecommerce_api._order_errors(doc jsonb, partial boolean) RETURNS json[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(doc) = 'object' THEN ARRAY[
        ecommerce_api._chk_datetime(doc, 'date', false),
        CASE WHEN NOT partial OR doc ? 'total' THEN
            ecommerce_api._chk_num(doc, 'total', true, ge => 0, le => 999999999999.99, digits => 2) END,
        CASE WHEN NOT partial OR doc ? 'delivery_method' THEN
            ecommerce_api._chk_enum(doc, 'delivery_method', true, 3) END,
        ecommerce_api._chk_enum(doc, 'status', false, 4),
        CASE WHEN NOT partial OR doc ? 'client_id' THEN ecommerce_api._chk_int(doc, 'client_id', true) END,
        CASE WHEN NOT partial OR doc ? 'bill_id' THEN ecommerce_api._chk_int(doc, 'bill_id', true) END
    ] ELSE ARRAY[ecommerce_api._body_error(doc)] END
$$;

CREATE FUNCTION ecommerce_api._order_detail_errors(doc jsonb) RETURNS json[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(doc) = 'object' THEN ARRAY[
        ecommerce_api._chk_int(doc, 'quantity', true, gt => 0, le => 2147483647),
        ecommerce_api._chk_num(doc, 'price', false, gt => 0, le => 9999999999.99, digits => 2),
        ecommerce_api._chk_int(doc, 'order_id', true),
        ecommerce_api._chk_int(doc, 'product_id', true)
    ] ELSE ARRAY[ecommerce_api._body_error(doc)] END
$$;

CREATE FUNCTION ecommerce_api._review_errors(doc jsonb) RETURNS json[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(doc) = 'object' THEN ARRAY[
        ecommerce_api._chk_num(doc, 'rating', true, ge => 1.0, le => 5.0, digits => 2),
        ecommerce_api._chk_str(doc, 'comment', false, 10, 1000),
        ecommerce_api._chk_int(doc, 'product_id', true)
    ] ELSE ARRAY[ecommerce_api._body_error(doc)] END
$$;

CREATE FUNCTION ecommerce_api._login_errors(doc jsonb) RETURNS json[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(doc) = 'object' THEN ARRAY[
        ecommerce_api._chk_str(doc, 'email', true),
        ecommerce_api._chk_str(doc, 'password', true)
    ] ELSE ARRAY[ecommerce_api._body_error(doc)] END
$$;

-- One element of checkout's "items" (index is 0-based, as FastAPI reports it).
CREATE FUNCTION ecommerce_api._checkout_item_errors(item jsonb, index bigint) RETURNS json[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(item) = 'object' THEN ARRAY[
        ecommerce_api._chk_int(item, 'product_id', true, prefix => jsonb_build_array('body', 'items', index)),
        ecommerce_api._chk_int(item, 'quantity', true, gt => 0, le => 2147483647,
                               prefix => jsonb_build_array('body', 'items', index))
    ] ELSE ARRAY[ecommerce_api._err('model_attributes_type', jsonb_build_array('body', 'items', index),
                     'Input should be a valid dictionary or object to extract fields from', item)] END
$$;

-- The checkout body but for the elements of "items" (checked by the caller
-- with _checkout_item_errors: iterating them needs a sub-select, which would
-- stop this function from being inlined into the caller's cached plan).
-- items: a list of 1..1000 objects.
CREATE FUNCTION ecommerce_api._checkout_errors(doc jsonb) RETURNS json[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(doc) = 'object' THEN ARRAY[
        ecommerce_api._chk_int(doc, 'client_id', true),
        ecommerce_api._chk_enum(doc, 'delivery_method', true, 3),
        ecommerce_api._chk_enum(doc, 'payment_type', true, 5),
        CASE
            WHEN NOT doc ? 'items' THEN
                ecommerce_api._err('missing', '["body","items"]', 'Field required', doc)
            WHEN jsonb_typeof(doc -> 'items') <> 'array' THEN
                ecommerce_api._err('list_type', '["body","items"]', 'Input should be a valid list', doc -> 'items')
            WHEN jsonb_array_length(doc -> 'items') = 0 THEN
                ecommerce_api._err('too_short', '["body","items"]',
                    'List should have at least 1 item after validation, not 0', doc -> 'items',
                    json_build_object('field_type', 'List', 'min_length', 1, 'actual_length', 0))
            WHEN jsonb_array_length(doc -> 'items') > 1000 THEN
                ecommerce_api._err('too_long', '["body","items"]',
                    format('List should have at most 1000 items after validation, not %s',
                           jsonb_array_length(doc -> 'items')),
                    doc -> 'items',
                    json_build_object('field_type', 'List', 'max_length', 1000,
                                      'actual_length', jsonb_array_length(doc -> 'items')))
        END
    ] ELSE ARRAY[ecommerce_api._body_error(doc)] END
$$;


/* =========================================================================
 * 7. Business refusals shared by several routes
 *
 * Functions that raise are STABLE, never IMMUTABLE: the planner may run an
 * IMMUTABLE call with constant arguments while it plans a statement.
 * ========================================================================= */

-- 404.  what = NULL for the entity named by the path ("Entity with id 5 not
-- found"), else the resource referenced from a body ("Category with id 9 ...").
CREATE FUNCTION ecommerce_api._not_found(what text, id numeric) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'EA404',
        MESSAGE = format('%s with id %s not found', coalesce(what, 'Entity'), id);
END
$$;

-- 400 when a line's price, if sent, is not within 0.01 of the product's price.
CREATE FUNCTION ecommerce_api._check_price(expected numeric, sent numeric) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF abs(sent - expected) > 0.01 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EA400',
            MESSAGE = format('Price mismatch. Expected %s, got %s', expected, sent);
    END IF;
END
$$;

CREATE FUNCTION ecommerce_api._insufficient_stock(product_id bigint, requested numeric, available numeric)
RETURNS void LANGUAGE plpgsql STABLE AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'EA409',
        MESSAGE = format('Insufficient stock for product %s. Requested: %s, Available: %s',
                         product_id, requested, available);
END
$$;

-- Returns an order's line quantities to stock.  The caller holds the order
-- row lock (every writer of order lines takes it first), so the set of lines
-- cannot change under us; product rows are then locked in ascending id order
-- before any is updated, as the global lock order demands (a multi-row UPDATE
-- alone would lock them in whatever order its plan reads them).
CREATE FUNCTION ecommerce_api._return_stock(p_order_id bigint) RETURNS void
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    PERFORM
       FROM ecommerce_api.products p
      WHERE p.id_key IN (SELECT d.product_id FROM ecommerce_api.order_details d WHERE d.order_id = p_order_id)
      ORDER BY p.id_key
        FOR NO KEY UPDATE;

    UPDATE ecommerce_api.products p
       SET stock = p.stock + l.quantity
      FROM (SELECT d.product_id, sum(d.quantity) AS quantity
              FROM ecommerce_api.order_details d
             WHERE d.order_id = p_order_id
             GROUP BY d.product_id) l
     WHERE p.id_key = l.product_id;
END
$$;


/* =========================================================================
 * 8. JSON representations (contract section 1, keys in the contract's order)
 *
 * Inlinable: a list's json_agg(_json_x(t)) compiles to plain field access.
 * ========================================================================= */

CREATE FUNCTION ecommerce_api._json_category(c ecommerce_api.categories) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object('id_key', c.id_key, 'name', c.name)
$$;

-- category: the JSON of the product's category, NULL when it has none.  A
-- single product takes it from a sub-select (one index probe of categories;
-- the argument is used once, so the sub-select does not stop inlining), a
-- list from a join (below).
CREATE FUNCTION ecommerce_api._json_product_with(p ecommerce_api.products, category json) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id_key', p.id_key,
        'name', p.name,
        'description', p.description,
        'price', p.price,
        'stock', p.stock,
        'category_id', p.category_id,
        'category', category)
$$;

-- c: the product's category row, NULL (or all-NULL) when it has none.
CREATE FUNCTION ecommerce_api._json_product(p ecommerce_api.products, c ecommerce_api.categories) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT ecommerce_api._json_product_with(p,
        CASE WHEN c.id_key IS NOT NULL THEN ecommerce_api._json_category(c) END)
$$;

-- Never the password.
CREATE FUNCTION ecommerce_api._json_client(c ecommerce_api.clients) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id_key', c.id_key,
        'name', c.name,
        'lastname', c.lastname,
        'email', c.email,
        'telephone', c.telephone,
        'is_admin', c.is_admin)
$$;

CREATE FUNCTION ecommerce_api._json_address(a ecommerce_api.addresses) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id_key', a.id_key,
        'street', a.street,
        'number', a.number,
        'city', a.city,
        'client_id', a.client_id)
$$;

CREATE FUNCTION ecommerce_api._json_bill(b ecommerce_api.bills) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id_key', b.id_key,
        'bill_number', b.bill_number,
        'discount', b.discount,
        'date', b.date,
        'total', b.total,
        'payment_type', b.payment_type,
        'client_id', b.client_id)
$$;

-- to_json(timestamp) writes ISO 8601 with a 'T' and fractional seconds only
-- when they are not zero, which is the contract's format.
CREATE FUNCTION ecommerce_api._json_order(o ecommerce_api.orders) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id_key', o.id_key,
        'date', o.date,
        'total', o.total,
        'delivery_method', o.delivery_method,
        'status', o.status,
        'client_id', o.client_id,
        'bill_id', o.bill_id)
$$;

-- A product as an order line shows it.
CREATE FUNCTION ecommerce_api._json_line_product(p ecommerce_api.products) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object('id_key', p.id_key, 'name', p.name, 'price', p.price)
$$;

-- product: the JSON of the line's product (_json_line_product), from a
-- sub-select for a single line, as _json_product_with.
CREATE FUNCTION ecommerce_api._json_order_detail_with(d ecommerce_api.order_details, product json) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id_key', d.id_key,
        'quantity', d.quantity,
        'price', d.price,
        'order_id', d.order_id,
        'product_id', d.product_id,
        'product', product)
$$;

-- p: the line's product.
CREATE FUNCTION ecommerce_api._json_order_detail(d ecommerce_api.order_details, p ecommerce_api.products) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT ecommerce_api._json_order_detail_with(d, ecommerce_api._json_line_product(p))
$$;

CREATE FUNCTION ecommerce_api._json_review(r ecommerce_api.reviews) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id_key', r.id_key,
        'rating', r.rating,
        'comment', r.comment,
        'product_id', r.product_id)
$$;


/* =========================================================================
 * 9. Routes
 *
 * Every route function validates everything first (one 422 listing all
 * problems), then checks existence (404), then business rules (409/400),
 * then writes.  Reads are STABLE and a single query after validation.
 *
 * PUT (all resources but orders) takes a full body validated like POST.  A
 * field the contract marks optional keeps its current value when it is absent
 * from the body (an explicit null clears a nullable field): a PUT of a
 * product that omits "stock" must not silently zero the inventory.
 *
 * Lists page by id_key: the page is read in order from the primary key (or
 * the (parent, id_key) index), "ORDER BY id_key OFFSET skip LIMIT limit" on
 * the table itself, and only its rows are joined and turned into JSON.  The
 * generic plan, made once without knowing skip and limit, walks that index
 * (it assumes a page of a tenth of the table, which an index scan still
 * reads cheaper than a sort of all of it) and stops after the page.  A deep
 * skip (more than 1000 rows) first finds the page's first id by walking the
 * index alone (an index-only scan, no heap visits for the skipped rows), then
 * reads the page from there.  json_agg takes the page's rows in that order:
 * the page is an ordered subquery with no join around the aggregate.  A
 * nested object (a product's category, a line's product) is a join in a list
 * (one hash of the 10 categories, or index lookups) and a sub-select for a
 * single row (one index probe).
 * ========================================================================= */

/* ---- categories -------------------------------------------------------- */

CREATE FUNCTION ecommerce_api.api_categories_list(skip text, lim text) RETURNS text
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    errors json[] := ecommerce_api._page_errors(skip, lim);
    v_off  bigint;
    v_from bigint := -9223372036854775808;
BEGIN
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_off := ecommerce_api._page_offset(skip);
    IF v_off > 1000 THEN
        -- a deep page: find its first id through the index alone
        SELECT q.id_key INTO v_from FROM ecommerce_api.categories q ORDER BY q.id_key OFFSET v_off LIMIT 1;
        v_off := 0;
    END IF;
    RETURN (SELECT coalesce(json_agg(ecommerce_api._json_category(c)), '[]')::text
              FROM (SELECT * FROM ecommerce_api.categories q
                     WHERE q.id_key >= v_from
                     ORDER BY q.id_key OFFSET v_off LIMIT ecommerce_api._page_limit(lim)) c);
END
$$;

CREATE FUNCTION ecommerce_api.api_categories_get(id text) RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_id   numeric := ecommerce_api._path_id(id);
    result text;
BEGIN
    SELECT ecommerce_api._json_category(c)::text INTO result
      FROM ecommerce_api.categories c
     WHERE c.id_key = ecommerce_api._bigint(v_id);
    IF result IS NULL THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    RETURN result;
END
$$;

CREATE FUNCTION ecommerce_api.api_categories_create(body text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc    jsonb := ecommerce_api._body(body);
    errors json[];
    result text;
BEGIN
    errors := ecommerce_api._category_errors(doc);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    -- ON CONFLICT instead of a pre-check: race-free, and no subtransaction
    INSERT INTO ecommerce_api.categories AS c (name)
    VALUES (doc ->> 'name')
    ON CONFLICT ON CONSTRAINT categories_name_key DO NOTHING
    RETURNING ecommerce_api._json_category(c)::text INTO result;
    IF result IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'EA409',
            MESSAGE = format('Category with name ''%s'' already exists', doc ->> 'name');
    END IF;
    RETURN result;
END
$$;

CREATE FUNCTION ecommerce_api.api_categories_update(id text, body text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc    jsonb := ecommerce_api._body(body);
    errors json[];
    v_id   numeric;
    result text;
BEGIN
    errors := ARRAY[ecommerce_api._path_error(id)] || ecommerce_api._category_errors(doc);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_id := ecommerce_api._int_text(id);
    BEGIN
        UPDATE ecommerce_api.categories AS c
           SET name = doc ->> 'name'
         WHERE c.id_key = ecommerce_api._bigint(v_id)
        RETURNING ecommerce_api._json_category(c)::text INTO result;
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION USING ERRCODE = 'EA409',
            MESSAGE = format('Category with name ''%s'' already exists', doc ->> 'name');
    END;
    IF result IS NULL THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    RETURN result;
END
$$;

CREATE FUNCTION ecommerce_api.api_categories_delete(id text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_id  bigint;
    v_num numeric := ecommerce_api._path_id(id);
BEGIN
    v_id := ecommerce_api._bigint(v_num);
    -- Lock the category before looking for its products: a product being
    -- inserted with this category holds a KEY SHARE lock on it until commit,
    -- so once we have the row, every product that references it is visible.
    PERFORM FROM ecommerce_api.categories c WHERE c.id_key = v_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found(NULL, v_num);
    END IF;
    IF EXISTS (SELECT FROM ecommerce_api.products p WHERE p.category_id = v_id) THEN
        RAISE EXCEPTION USING ERRCODE = 'EA409',
            MESSAGE = format('Cannot delete category %s: category has associated products', v_id);
    END IF;
    DELETE FROM ecommerce_api.categories c WHERE c.id_key = v_id;
    RETURN NULL;
END
$$;


/* ---- products ---------------------------------------------------------- */

CREATE FUNCTION ecommerce_api.api_products_list(skip text, lim text) RETURNS text
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    errors json[] := ecommerce_api._page_errors(skip, lim);
    v_off  bigint;
    v_from bigint := -9223372036854775808;
BEGIN
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_off := ecommerce_api._page_offset(skip);
    IF v_off > 1000 THEN
        -- a deep page: find its first id through the index alone
        SELECT q.id_key INTO v_from FROM ecommerce_api.products q ORDER BY q.id_key OFFSET v_off LIMIT 1;
        v_off := 0;
    END IF;
    RETURN (SELECT coalesce(json_agg(page.product), '[]')::text
              FROM (SELECT ecommerce_api._json_product(p, c) AS product
                      FROM (SELECT * FROM ecommerce_api.products q
                             WHERE q.id_key >= v_from
                             ORDER BY q.id_key OFFSET v_off LIMIT ecommerce_api._page_limit(lim)) p
                      LEFT JOIN ecommerce_api.categories c ON c.id_key = p.category_id
                     ORDER BY p.id_key) page);
END
$$;

CREATE FUNCTION ecommerce_api.api_products_get(id text) RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_id   numeric := ecommerce_api._path_id(id);
    result text;
BEGIN
    SELECT ecommerce_api._json_product_with(p,
               (SELECT ecommerce_api._json_category(c) FROM ecommerce_api.categories c
                 WHERE c.id_key = p.category_id))::text INTO result
      FROM ecommerce_api.products p
     WHERE p.id_key = ecommerce_api._bigint(v_id);
    IF result IS NULL THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    RETURN result;
END
$$;

-- The page of /products/filter, its arguments validated.  The WHERE clause
-- has a "param IS NULL OR ..." arm per filter and the ORDER BY a CASE per sort
-- order, so that one static query serves every combination.
-- plan_cache_mode = force_custom_plan makes each call plan with the actual
-- values: the unused arms and CASEs fold away, and the planner sees e.g.
-- "ORDER BY price, id_key" and walks products_price_idx, or "name ILIKE
-- '%x%'" and weighs the trigram index.  A generic plan could do neither;
-- planning this query costs far less than the scans it avoids.  (A function
-- of its own, so that only this statement is planned on every call.)
CREATE FUNCTION ecommerce_api._products_filter_page(p_pattern text, p_category_id bigint,
                                                    p_min numeric, p_max numeric, p_in_stock boolean,
                                                    p_sort text, p_offset bigint, p_limit integer)
RETURNS text
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_custom_plan
AS $$
BEGIN
    RETURN (
        SELECT coalesce(json_agg(ecommerce_api._json_product(p, c) ORDER BY page.n), '[]')::text
          FROM unnest(ARRAY(
                   SELECT q.id_key
                     FROM ecommerce_api.products q
                    WHERE (p_pattern IS NULL OR q.name ILIKE p_pattern)
                      AND (p_category_id IS NULL OR q.category_id = p_category_id)
                      AND (p_min IS NULL OR q.price >= p_min)
                      AND (p_max IS NULL OR q.price <= p_max)
                      AND (NOT p_in_stock OR q.stock > 0)
                    ORDER BY
                      CASE WHEN p_sort = 'price_asc' THEN q.price END,
                      CASE WHEN p_sort = 'price_desc' THEN q.price END DESC,
                      CASE WHEN p_sort IN ('name', 'name_asc') THEN q.name END,
                      CASE WHEN p_sort = 'name_desc' THEN q.name END DESC,
                      -- ties: ascending sorts by id ascending, the others (and
                      -- the default order) by id descending
                      CASE WHEN p_sort IN ('price_asc', 'name', 'name_asc') THEN q.id_key END,
                      q.id_key DESC
                   OFFSET p_offset LIMIT p_limit))
               WITH ORDINALITY AS page(id_key, n)
          JOIN ecommerce_api.products p ON p.id_key = page.id_key
          LEFT JOIN ecommerce_api.categories c ON c.id_key = p.category_id);
END
$$;

-- GET /products/filter: search (case-insensitive substring of the name, % and
-- _ literal), category_id, min_price and max_price (inclusive), in_stock_only,
-- sort_by (default: id descending), skip, limit.
CREATE FUNCTION ecommerce_api.api_products_filter(search text, category_id text, min_price text,
                                                  max_price text, in_stock_only text, sort_by text,
                                                  skip text, lim text) RETURNS text
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_category numeric := ecommerce_api._int_text(category_id);
    errors     json[];
BEGIN
    errors := ARRAY[
        ecommerce_api._chk_query_int(category_id, 'category_id'),
        ecommerce_api._chk_query_num(min_price, 'min_price'),
        ecommerce_api._chk_query_num(max_price, 'max_price'),
        ecommerce_api._chk_query_bool(in_stock_only, 'in_stock_only'),
        CASE WHEN sort_by IS NOT NULL
              AND sort_by NOT IN ('price_asc', 'price_desc', 'name', 'name_asc', 'name_desc') THEN
            ecommerce_api._err('literal_error', '["query","sort_by"]',
                 'Input should be ''price_asc'', ''price_desc'', ''name'', ''name_asc'' or ''name_desc''',
                 to_jsonb(sort_by),
                 json_build_object('expected', '''price_asc'', ''price_desc'', ''name'', ''name_asc'' or ''name_desc'''))
        END]
        || ecommerce_api._page_errors(skip, lim);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;

    IF v_category IS NOT NULL AND ecommerce_api._bigint(v_category) IS NULL THEN
        RETURN '[]';    -- a category id beyond bigint names no category
    END IF;
    RETURN ecommerce_api._products_filter_page(
        -- a substring match where % and _ are literal: escape them (and the escape character)
        '%' || replace(replace(replace(search, '\', '\\'), '%', '\%'), '_', '\_') || '%',
        ecommerce_api._bigint(v_category),
        ecommerce_api._num_text(min_price),
        ecommerce_api._num_text(max_price),
        coalesce(ecommerce_api._bool_text(in_stock_only), false),
        sort_by,
        ecommerce_api._page_offset(skip),
        ecommerce_api._page_limit(lim));
END
$$;

CREATE FUNCTION ecommerce_api.api_products_create(body text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc           jsonb := ecommerce_api._body(body);
    errors        json[];
    v_category_id numeric;
    v_category    ecommerce_api.categories;
    result        text;
BEGIN
    errors := ecommerce_api._product_errors(doc);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_category_id := ecommerce_api._int_of(doc -> 'category_id');
    IF v_category_id IS NOT NULL THEN
        -- KEY SHARE, as the foreign key check would take: the category cannot
        -- be deleted before we commit, so this 404 decision stays true
        SELECT * INTO v_category FROM ecommerce_api.categories c
         WHERE c.id_key = ecommerce_api._bigint(v_category_id) FOR KEY SHARE;
        IF NOT FOUND THEN
            PERFORM ecommerce_api._not_found('Category', v_category_id);
        END IF;
    END IF;
    INSERT INTO ecommerce_api.products AS p (name, description, price, stock, category_id)
    VALUES (doc ->> 'name',
            doc ->> 'description',
            round(ecommerce_api._num(doc -> 'price'), 2),
            coalesce(ecommerce_api._int_of(doc -> 'stock'), 0),
            v_category.id_key)
    RETURNING ecommerce_api._json_product(p, v_category)::text INTO result;
    RETURN result;
END
$$;

CREATE FUNCTION ecommerce_api.api_products_update(id text, body text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc           jsonb := ecommerce_api._body(body);
    errors        json[];
    v_category_id numeric;
    v_id          numeric;
    v_category    ecommerce_api.categories;
    v_product     ecommerce_api.products;
BEGIN
    errors := ARRAY[ecommerce_api._path_error(id)] || ecommerce_api._product_errors(doc);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_id := ecommerce_api._int_text(id);
    v_category_id := ecommerce_api._int_of(doc -> 'category_id');
    IF v_category_id IS NOT NULL THEN
        SELECT * INTO v_category FROM ecommerce_api.categories c
         WHERE c.id_key = ecommerce_api._bigint(v_category_id) FOR KEY SHARE;
        IF NOT FOUND THEN
            PERFORM ecommerce_api._not_found('Category', v_category_id);
        END IF;
    END IF;
    UPDATE ecommerce_api.products AS p
       SET name        = doc ->> 'name',
           description = CASE WHEN doc ? 'description' THEN doc ->> 'description' ELSE p.description END,
           price       = round(ecommerce_api._num(doc -> 'price'), 2),
           stock       = coalesce(ecommerce_api._int_of(doc -> 'stock'), p.stock),
           category_id = CASE WHEN doc ? 'category_id' THEN v_category.id_key ELSE p.category_id END
     WHERE p.id_key = ecommerce_api._bigint(v_id)
    RETURNING p.* INTO v_product;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    IF v_category.id_key IS NULL AND v_product.category_id IS NOT NULL THEN
        SELECT * INTO v_category FROM ecommerce_api.categories c WHERE c.id_key = v_product.category_id;
    END IF;
    RETURN ecommerce_api._json_product(v_product, v_category)::text;
END
$$;

-- A product with sales history is refused; one without is deleted together
-- with its reviews (they describe nothing once the product is gone).
CREATE FUNCTION ecommerce_api.api_products_delete(id text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_num numeric := ecommerce_api._path_id(id);
    v_id  bigint := ecommerce_api._bigint(v_num);
BEGIN
    -- Product rows are locked before anything looks at their lines: a line
    -- being added holds the product's lock until commit, so after we get it
    -- the line is visible to the check below (or we hold it first and the
    -- line insert finds the product gone: 404).
    PERFORM FROM ecommerce_api.products p WHERE p.id_key = v_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found(NULL, v_num);
    END IF;
    IF EXISTS (SELECT FROM ecommerce_api.order_details d WHERE d.product_id = v_id) THEN
        RAISE EXCEPTION USING ERRCODE = 'EA409',
            MESSAGE = format('Cannot delete product %s: product has associated sales history', v_id);
    END IF;
    DELETE FROM ecommerce_api.products p WHERE p.id_key = v_id;
    RETURN NULL;
END
$$;


/* ---- clients ----------------------------------------------------------- */

CREATE FUNCTION ecommerce_api.api_clients_list(skip text, lim text) RETURNS text
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    errors json[] := ecommerce_api._page_errors(skip, lim);
    v_off  bigint;
    v_from bigint := -9223372036854775808;
BEGIN
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_off := ecommerce_api._page_offset(skip);
    IF v_off > 1000 THEN
        -- a deep page: find its first id through the index alone
        SELECT q.id_key INTO v_from FROM ecommerce_api.clients q ORDER BY q.id_key OFFSET v_off LIMIT 1;
        v_off := 0;
    END IF;
    RETURN (SELECT coalesce(json_agg(ecommerce_api._json_client(c)), '[]')::text
              FROM (SELECT * FROM ecommerce_api.clients q
                     WHERE q.id_key >= v_from
                     ORDER BY q.id_key OFFSET v_off LIMIT ecommerce_api._page_limit(lim)) c);
END
$$;

CREATE FUNCTION ecommerce_api.api_clients_get(id text) RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_id   numeric := ecommerce_api._path_id(id);
    result text;
BEGIN
    SELECT ecommerce_api._json_client(c)::text INTO result
      FROM ecommerce_api.clients c
     WHERE c.id_key = ecommerce_api._bigint(v_id);
    IF result IS NULL THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    RETURN result;
END
$$;

-- Passwords are stored as bcrypt hashes (pgcrypto).  Cost 8 takes ~15 ms on
-- the development machine: slow enough to make offline guessing expensive,
-- fast enough not to stall the HTTP worker that runs it.  STRICT: no password
-- (a guest) is no hash, and not even a call (gen_salt alone is not free).
-- It calls pgcrypto, whose schema the script cannot name: its search_path is
-- the one CREATE EXTENSION ran with (see the header).
CREATE FUNCTION ecommerce_api._hash_password(pw text) RETURNS text
LANGUAGE plpgsql VOLATILE STRICT
SET search_path FROM CURRENT
AS $$
BEGIN
    RETURN crypt(pw, gen_salt('bf', 8));
END
$$;

CREATE FUNCTION ecommerce_api.api_clients_create(body text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc    jsonb := ecommerce_api._body(body);
    errors json[];
    result text;
BEGIN
    errors := ecommerce_api._client_errors(doc);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    INSERT INTO ecommerce_api.clients AS c (name, lastname, email, telephone, password)
    VALUES (doc ->> 'name',
            doc ->> 'lastname',
            ecommerce_api._normalize_email(doc ->> 'email'),
            doc ->> 'telephone',
            ecommerce_api._hash_password(doc ->> 'password'))    -- NULL password: a guest
    ON CONFLICT ON CONSTRAINT clients_email_key DO NOTHING
    RETURNING ecommerce_api._json_client(c)::text INTO result;
    IF result IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'EA409', MESSAGE = 'Email already registered';
    END IF;
    RETURN result;
END
$$;

-- A password absent or null leaves the current one (a PUT never turns a
-- client into a guest); is_admin is never taken from a body.
CREATE FUNCTION ecommerce_api.api_clients_update(id text, body text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc    jsonb := ecommerce_api._body(body);
    errors json[];
    v_id   numeric;
    result text;
BEGIN
    errors := ARRAY[ecommerce_api._path_error(id)] || ecommerce_api._client_errors(doc);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_id := ecommerce_api._int_text(id);
    BEGIN
        UPDATE ecommerce_api.clients AS c
           SET name      = doc ->> 'name',
               lastname  = doc ->> 'lastname',
               email     = ecommerce_api._normalize_email(doc ->> 'email'),
               telephone = CASE WHEN doc ? 'telephone' THEN doc ->> 'telephone' ELSE c.telephone END,
               password  = coalesce(ecommerce_api._hash_password(doc ->> 'password'), c.password)
         WHERE c.id_key = ecommerce_api._bigint(v_id)
        RETURNING ecommerce_api._json_client(c)::text INTO result;
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION USING ERRCODE = 'EA409', MESSAGE = 'Email already registered';
    END;
    IF result IS NULL THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    RETURN result;
END
$$;

CREATE FUNCTION ecommerce_api.api_clients_delete(id text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_num numeric := ecommerce_api._path_id(id);
    v_id  bigint := ecommerce_api._bigint(v_num);
BEGIN
    -- Locked first, so an order or bill being created for this client (which
    -- holds KEY SHARE on it until commit) is visible to the checks below.
    PERFORM FROM ecommerce_api.clients c WHERE c.id_key = v_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found(NULL, v_num);
    END IF;
    IF EXISTS (SELECT FROM ecommerce_api.orders o WHERE o.client_id = v_id)
       OR EXISTS (SELECT FROM ecommerce_api.bills b WHERE b.client_id = v_id) THEN
        RAISE EXCEPTION USING ERRCODE = 'EA409',
            MESSAGE = format('Cannot delete client %s: client has associated orders or bills', v_id);
    END IF;
    DELETE FROM ecommerce_api.clients c WHERE c.id_key = v_id;    -- addresses cascade
    RETURN NULL;
END
$$;

-- POST /api/v1/clients/login.  Unknown email, guest record and wrong password
-- all answer the same 401, and take the same time: when there is no hash to
-- check, one is checked anyway (a fixed cost-8 hash of a random string), so
-- the response time does not tell which emails are registered.
CREATE FUNCTION ecommerce_api.api_clients_login(body text) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path FROM CURRENT
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc      jsonb := ecommerce_api._body(body);
    errors   json[];
    v_client ecommerce_api.clients;
BEGIN
    errors := ecommerce_api._login_errors(doc);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    SELECT * INTO v_client FROM ecommerce_api.clients c WHERE c.email = ecommerce_api._normalize_email(doc ->> 'email');
    IF crypt(doc ->> 'password', coalesce(v_client.password, '$2a$08$El7MgMau/o/BQusHQxkSB.zfDj0QPPqGEr/RDOVDfxvUTBXJPAfZm'))
       IS DISTINCT FROM v_client.password THEN
        RAISE EXCEPTION USING ERRCODE = 'EA401', MESSAGE = 'Invalid credentials';
    END IF;
    RETURN json_build_object('id_key', v_client.id_key, 'name', v_client.name)::text;
END
$$;


/* ---- addresses --------------------------------------------------------- */

CREATE FUNCTION ecommerce_api.api_addresses_list(skip text, lim text, client_id text) RETURNS text
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    errors   json[] := ecommerce_api._page_errors(skip, lim)
                       || ecommerce_api._chk_query_int(client_id, 'client_id');
    v_client numeric := ecommerce_api._int_text(client_id);
    v_off    bigint;
    v_from   bigint := -9223372036854775808;
BEGIN
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_off := ecommerce_api._page_offset(skip);
    IF client_id IS NOT NULL THEN
        RETURN (SELECT coalesce(json_agg(ecommerce_api._json_address(a)), '[]')::text
                  FROM (SELECT * FROM ecommerce_api.addresses q
                         WHERE q.client_id = ecommerce_api._bigint(v_client)
                         ORDER BY q.id_key OFFSET v_off LIMIT ecommerce_api._page_limit(lim)) a);
    END IF;
    IF v_off > 1000 THEN
        -- a deep page: find its first id through the index alone
        SELECT q.id_key INTO v_from FROM ecommerce_api.addresses q ORDER BY q.id_key OFFSET v_off LIMIT 1;
        v_off := 0;
    END IF;
    RETURN (SELECT coalesce(json_agg(ecommerce_api._json_address(a)), '[]')::text
              FROM (SELECT * FROM ecommerce_api.addresses q
                     WHERE q.id_key >= v_from
                     ORDER BY q.id_key OFFSET v_off LIMIT ecommerce_api._page_limit(lim)) a);
END
$$;

CREATE FUNCTION ecommerce_api.api_addresses_get(id text) RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_id   numeric := ecommerce_api._path_id(id);
    result text;
BEGIN
    SELECT ecommerce_api._json_address(a)::text INTO result
      FROM ecommerce_api.addresses a
     WHERE a.id_key = ecommerce_api._bigint(v_id);
    IF result IS NULL THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    RETURN result;
END
$$;

CREATE FUNCTION ecommerce_api.api_addresses_create(body text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc         jsonb := ecommerce_api._body(body);
    errors      json[];
    v_client_id numeric;
    result      text;
BEGIN
    errors := ecommerce_api._address_errors(doc);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_client_id := ecommerce_api._int_of(doc -> 'client_id');
    PERFORM FROM ecommerce_api.clients c WHERE c.id_key = ecommerce_api._bigint(v_client_id) FOR KEY SHARE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found('Client', v_client_id);
    END IF;
    INSERT INTO ecommerce_api.addresses AS a (street, number, city, client_id)
    VALUES (doc ->> 'street', doc ->> 'number', doc ->> 'city', v_client_id)
    RETURNING ecommerce_api._json_address(a)::text INTO result;
    RETURN result;
END
$$;

CREATE FUNCTION ecommerce_api.api_addresses_update(id text, body text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc         jsonb := ecommerce_api._body(body);
    errors      json[];
    v_client_id numeric;
    v_id        numeric;
    result      text;
BEGIN
    errors := ARRAY[ecommerce_api._path_error(id)] || ecommerce_api._address_errors(doc);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_id := ecommerce_api._int_text(id);
    v_client_id := ecommerce_api._int_of(doc -> 'client_id');
    PERFORM FROM ecommerce_api.clients c WHERE c.id_key = ecommerce_api._bigint(v_client_id) FOR KEY SHARE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found('Client', v_client_id);
    END IF;
    UPDATE ecommerce_api.addresses AS a
       SET street    = CASE WHEN doc ? 'street' THEN doc ->> 'street' ELSE a.street END,
           number    = CASE WHEN doc ? 'number' THEN doc ->> 'number' ELSE a.number END,
           city      = CASE WHEN doc ? 'city' THEN doc ->> 'city' ELSE a.city END,
           client_id = v_client_id
     WHERE a.id_key = ecommerce_api._bigint(v_id)
    RETURNING ecommerce_api._json_address(a)::text INTO result;
    IF result IS NULL THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    RETURN result;
END
$$;

CREATE FUNCTION ecommerce_api.api_addresses_delete(id text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_id numeric := ecommerce_api._path_id(id);
BEGIN
    DELETE FROM ecommerce_api.addresses a WHERE a.id_key = ecommerce_api._bigint(v_id);
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    RETURN NULL;
END
$$;


/* ---- bills ------------------------------------------------------------- */

CREATE FUNCTION ecommerce_api.api_bills_list(skip text, lim text, client_id text) RETURNS text
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    errors   json[] := ecommerce_api._page_errors(skip, lim)
                       || ecommerce_api._chk_query_int(client_id, 'client_id');
    v_client numeric := ecommerce_api._int_text(client_id);
    v_off    bigint;
    v_from   bigint := -9223372036854775808;
BEGIN
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_off := ecommerce_api._page_offset(skip);
    IF client_id IS NOT NULL THEN
        RETURN (SELECT coalesce(json_agg(ecommerce_api._json_bill(b)), '[]')::text
                  FROM (SELECT * FROM ecommerce_api.bills q
                         WHERE q.client_id = ecommerce_api._bigint(v_client)
                         ORDER BY q.id_key OFFSET v_off LIMIT ecommerce_api._page_limit(lim)) b);
    END IF;
    IF v_off > 1000 THEN
        -- a deep page: find its first id through the index alone
        SELECT q.id_key INTO v_from FROM ecommerce_api.bills q ORDER BY q.id_key OFFSET v_off LIMIT 1;
        v_off := 0;
    END IF;
    RETURN (SELECT coalesce(json_agg(ecommerce_api._json_bill(b)), '[]')::text
              FROM (SELECT * FROM ecommerce_api.bills q
                     WHERE q.id_key >= v_from
                     ORDER BY q.id_key OFFSET v_off LIMIT ecommerce_api._page_limit(lim)) b);
END
$$;

CREATE FUNCTION ecommerce_api.api_bills_get(id text) RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_id   numeric := ecommerce_api._path_id(id);
    result text;
BEGIN
    SELECT ecommerce_api._json_bill(b)::text INTO result
      FROM ecommerce_api.bills b
     WHERE b.id_key = ecommerce_api._bigint(v_id);
    IF result IS NULL THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    RETURN result;
END
$$;

CREATE FUNCTION ecommerce_api.api_bills_create(body text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc         jsonb := ecommerce_api._body(body);
    errors      json[];
    v_client_id numeric;
    result      text;
BEGIN
    errors := ecommerce_api._bill_errors(doc);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_client_id := ecommerce_api._int_of(doc -> 'client_id');
    PERFORM FROM ecommerce_api.clients c WHERE c.id_key = ecommerce_api._bigint(v_client_id) FOR KEY SHARE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found('Client', v_client_id);
    END IF;
    INSERT INTO ecommerce_api.bills AS b (bill_number, discount, date, total, payment_type, client_id)
    VALUES (doc ->> 'bill_number',
            round(ecommerce_api._num(doc -> 'discount'), 2),
            ecommerce_api._date_of(doc -> 'date'),
            round(ecommerce_api._num(doc -> 'total'), 2),
            ecommerce_api._int_of(doc -> 'payment_type'),
            v_client_id)
    ON CONFLICT ON CONSTRAINT bills_bill_number_key DO NOTHING
    RETURNING ecommerce_api._json_bill(b)::text INTO result;
    IF result IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'EA409',
            MESSAGE = format('Bill number ''%s'' already exists', doc ->> 'bill_number');
    END IF;
    RETURN result;
END
$$;

CREATE FUNCTION ecommerce_api.api_bills_update(id text, body text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc         jsonb := ecommerce_api._body(body);
    errors      json[];
    v_client_id numeric;
    v_id        numeric;
    result      text;
BEGIN
    errors := ARRAY[ecommerce_api._path_error(id)] || ecommerce_api._bill_errors(doc);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_id := ecommerce_api._int_text(id);
    v_client_id := ecommerce_api._int_of(doc -> 'client_id');
    PERFORM FROM ecommerce_api.clients c WHERE c.id_key = ecommerce_api._bigint(v_client_id) FOR KEY SHARE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found('Client', v_client_id);
    END IF;
    BEGIN
        UPDATE ecommerce_api.bills AS b
           SET bill_number  = doc ->> 'bill_number',
               discount     = CASE WHEN doc ? 'discount' THEN round(ecommerce_api._num(doc -> 'discount'), 2) ELSE b.discount END,
               date         = ecommerce_api._date_of(doc -> 'date'),
               total        = round(ecommerce_api._num(doc -> 'total'), 2),
               payment_type = ecommerce_api._int_of(doc -> 'payment_type'),
               client_id    = v_client_id
         WHERE b.id_key = ecommerce_api._bigint(v_id)
        RETURNING ecommerce_api._json_bill(b)::text INTO result;
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION USING ERRCODE = 'EA409',
            MESSAGE = format('Bill number ''%s'' already exists', doc ->> 'bill_number');
    END;
    IF result IS NULL THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    RETURN result;
END
$$;

CREATE FUNCTION ecommerce_api.api_bills_delete(id text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_num numeric := ecommerce_api._path_id(id);
    v_id  bigint := ecommerce_api._bigint(v_num);
BEGIN
    -- locked first, so an order being created on this bill is seen below
    PERFORM FROM ecommerce_api.bills b WHERE b.id_key = v_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found(NULL, v_num);
    END IF;
    IF EXISTS (SELECT FROM ecommerce_api.orders o WHERE o.bill_id = v_id) THEN
        RAISE EXCEPTION USING ERRCODE = 'EA409',
            MESSAGE = format('Cannot delete bill %s: bill has associated orders', v_id);
    END IF;
    DELETE FROM ecommerce_api.bills b WHERE b.id_key = v_id;
    RETURN NULL;
END
$$;


/* ---- orders ------------------------------------------------------------ */

CREATE FUNCTION ecommerce_api.api_orders_list(skip text, lim text, client_id text) RETURNS text
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    errors   json[] := ecommerce_api._page_errors(skip, lim)
                       || ecommerce_api._chk_query_int(client_id, 'client_id');
    v_client numeric := ecommerce_api._int_text(client_id);
    v_off    bigint;
    v_from   bigint := -9223372036854775808;
BEGIN
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_off := ecommerce_api._page_offset(skip);
    IF client_id IS NOT NULL THEN
        RETURN (SELECT coalesce(json_agg(ecommerce_api._json_order(o)), '[]')::text
                  FROM (SELECT * FROM ecommerce_api.orders q
                         WHERE q.client_id = ecommerce_api._bigint(v_client)
                         ORDER BY q.id_key OFFSET v_off LIMIT ecommerce_api._page_limit(lim)) o);
    END IF;
    IF v_off > 1000 THEN
        -- a deep page: find its first id through the index alone
        SELECT q.id_key INTO v_from FROM ecommerce_api.orders q ORDER BY q.id_key OFFSET v_off LIMIT 1;
        v_off := 0;
    END IF;
    RETURN (SELECT coalesce(json_agg(ecommerce_api._json_order(o)), '[]')::text
              FROM (SELECT * FROM ecommerce_api.orders q
                     WHERE q.id_key >= v_from
                     ORDER BY q.id_key OFFSET v_off LIMIT ecommerce_api._page_limit(lim)) o);
END
$$;

CREATE FUNCTION ecommerce_api.api_orders_get(id text) RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_id   numeric := ecommerce_api._path_id(id);
    result text;
BEGIN
    SELECT ecommerce_api._json_order(o)::text INTO result
      FROM ecommerce_api.orders o
     WHERE o.id_key = ecommerce_api._bigint(v_id);
    IF result IS NULL THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    RETURN result;
END
$$;

-- An order is created empty (its lines come through /order_details, or use
-- /orders/checkout); total is the client's figure, as in the reference.
CREATE FUNCTION ecommerce_api.api_orders_create(body text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc         jsonb := ecommerce_api._body(body);
    errors      json[];
    v_client_id numeric;
    v_bill_id   numeric;
    v_date      timestamp;
    result      text;
BEGIN
    errors := ecommerce_api._order_errors(doc, partial => false);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_client_id := ecommerce_api._int_of(doc -> 'client_id');
    v_bill_id := ecommerce_api._int_of(doc -> 'bill_id');
    IF doc ->> 'date' IS NOT NULL THEN
        v_date := (ecommerce_api._datetime_parse(doc ->> 'date')).ts;
    END IF;
    PERFORM FROM ecommerce_api.clients c WHERE c.id_key = ecommerce_api._bigint(v_client_id) FOR KEY SHARE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found('Client', v_client_id);
    END IF;
    PERFORM FROM ecommerce_api.bills b WHERE b.id_key = ecommerce_api._bigint(v_bill_id) FOR KEY SHARE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found('Bill', v_bill_id);
    END IF;
    INSERT INTO ecommerce_api.orders AS o (date, total, delivery_method, status, client_id, bill_id)
    VALUES (coalesce(v_date, now() AT TIME ZONE 'UTC'),  -- = column default
            round(ecommerce_api._num(doc -> 'total'), 2),
            ecommerce_api._int_of(doc -> 'delivery_method'),
            coalesce(ecommerce_api._int_of(doc -> 'status'), 1),
            v_client_id,
            v_bill_id)
    RETURNING ecommerce_api._json_order(o)::text INTO result;
    RETURN result;
END
$$;

-- PUT /orders/id/{id}: a true partial update, only the keys sent change.
-- Status 4 (CANCELED) returns the lines' stock, exactly once: the order row
-- is locked first, so of two concurrent cancels the second waits, then sees
-- status 4 and returns nothing.  A canceled order stays canceled.
CREATE FUNCTION ecommerce_api.api_orders_update(id text, body text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc         jsonb := ecommerce_api._body(body);
    errors      json[];
    v_client_id numeric;
    v_bill_id   numeric;
    v_date      timestamp;
    v_id        numeric;
    v_order     ecommerce_api.orders;
    v_status    smallint;
    result      text;
BEGIN
    errors := ARRAY[ecommerce_api._path_error(id)] || ecommerce_api._order_errors(doc, partial => true);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_id := ecommerce_api._int_text(id);
    v_client_id := ecommerce_api._int_of(doc -> 'client_id');
    v_bill_id := ecommerce_api._int_of(doc -> 'bill_id');
    IF doc ->> 'date' IS NOT NULL THEN
        v_date := (ecommerce_api._datetime_parse(doc ->> 'date')).ts;
    END IF;

    SELECT * INTO v_order FROM ecommerce_api.orders o WHERE o.id_key = ecommerce_api._bigint(v_id) FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    IF v_client_id IS NOT NULL THEN
        PERFORM FROM ecommerce_api.clients c WHERE c.id_key = ecommerce_api._bigint(v_client_id) FOR KEY SHARE;
        IF NOT FOUND THEN
            PERFORM ecommerce_api._not_found('Client', v_client_id);
        END IF;
    END IF;
    IF v_bill_id IS NOT NULL THEN
        PERFORM FROM ecommerce_api.bills b WHERE b.id_key = ecommerce_api._bigint(v_bill_id) FOR KEY SHARE;
        IF NOT FOUND THEN
            PERFORM ecommerce_api._not_found('Bill', v_bill_id);
        END IF;
    END IF;

    v_status := coalesce(ecommerce_api._int_of(doc -> 'status'), v_order.status);
    IF v_order.status = 4 AND v_status <> 4 THEN
        RAISE EXCEPTION USING ERRCODE = 'EA409',
            MESSAGE = format('Order %s is canceled and cannot be set to status %s', v_order.id_key, v_status);
    END IF;
    IF v_status = 4 AND v_order.status <> 4 THEN
        PERFORM ecommerce_api._return_stock(v_order.id_key);
    END IF;

    -- absent keys (and null for the optional date and status) keep their value
    UPDATE ecommerce_api.orders AS o
       SET date            = coalesce(v_date, o.date),
           total           = coalesce(round(ecommerce_api._num(doc -> 'total'), 2), o.total),
           delivery_method = coalesce(ecommerce_api._int_of(doc -> 'delivery_method'), o.delivery_method),
           status          = v_status,
           client_id       = coalesce(v_client_id, o.client_id),
           bill_id         = coalesce(v_bill_id, o.bill_id)
     WHERE o.id_key = v_order.id_key
    RETURNING ecommerce_api._json_order(o)::text INTO result;
    RETURN result;
END
$$;

-- Deleting an order deletes its lines and, unless it was canceled (whose
-- stock has already gone back), returns their quantities to stock.
CREATE FUNCTION ecommerce_api.api_orders_delete(id text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_num    numeric := ecommerce_api._path_id(id);
    v_id     bigint := ecommerce_api._bigint(v_num);
    v_status smallint;
BEGIN
    SELECT o.status INTO v_status FROM ecommerce_api.orders o WHERE o.id_key = v_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found(NULL, v_num);
    END IF;
    IF v_status <> 4 THEN
        PERFORM ecommerce_api._return_stock(v_id);
    END IF;
    DELETE FROM ecommerce_api.orders o WHERE o.id_key = v_id;    -- lines cascade
    RETURN NULL;
END
$$;

-- POST /orders/checkout: bill + order + lines in one transaction.
--   - Items naming the same product are merged into one line (their
--     quantities added): a cart may well list a product twice.
--   - Lines are priced at the products' current prices; the order and bill
--     totals are their sum (discount 0); the bill gets a generated number
--     CHK-<UTC date>-<n>.
--   - Product rows are locked in ascending id order, then every item is
--     checked: a missing product is 404, a short one 409 (the first in id
--     order), and nothing has been written yet when that happens.
CREATE FUNCTION ecommerce_api.api_orders_checkout(body text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc         jsonb := ecommerce_api._body(body);
    errors      json[];
    v_client_id numeric;
    v_pids      numeric[];
    v_ids       bigint[];
    v_qtys      numeric[];
    v_missing   numeric;
    v_bad       record;
    v_total     numeric;
    v_now       timestamp := now() AT TIME ZONE 'UTC';
    v_bill      ecommerce_api.bills;
    v_order     ecommerce_api.orders;
BEGIN
    errors := ecommerce_api._checkout_errors(doc)
        || CASE WHEN jsonb_typeof(doc -> 'items') = 'array' AND jsonb_array_length(doc -> 'items') <= 1000
                THEN ARRAY(SELECT e
                             FROM jsonb_array_elements(doc -> 'items') WITH ORDINALITY AS i(item, n),
                                  unnest(ecommerce_api._checkout_item_errors(i.item, i.n - 1)) WITH ORDINALITY AS u(e, k)
                            ORDER BY i.n, u.k)
                ELSE '{}' END;
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;

    v_client_id := ecommerce_api._int_of(doc -> 'client_id');
    PERFORM FROM ecommerce_api.clients c WHERE c.id_key = ecommerce_api._bigint(v_client_id) FOR KEY SHARE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found('Client', v_client_id);
    END IF;

    -- merge the items per product, ascending product id
    SELECT array_agg(i.product_id ORDER BY i.product_id), array_agg(i.quantity ORDER BY i.product_id)
      INTO v_pids, v_qtys
      FROM (SELECT ecommerce_api._int_of(e -> 'product_id') AS product_id, sum(ecommerce_api._int_of(e -> 'quantity')) AS quantity
              FROM jsonb_array_elements(doc -> 'items') AS e
             GROUP BY 1) i;

    PERFORM FROM ecommerce_api.products p
      WHERE p.id_key IN (SELECT ecommerce_api._bigint(x) FROM unnest(v_pids) AS x)
      ORDER BY p.id_key
        FOR NO KEY UPDATE;

    -- the first product that does not exist (an id beyond bigint cannot)
    SELECT i.product_id INTO v_missing
      FROM unnest(v_pids) AS i(product_id)
     WHERE NOT EXISTS (SELECT FROM ecommerce_api.products p WHERE p.id_key = ecommerce_api._bigint(i.product_id))
     ORDER BY i.product_id
     LIMIT 1;
    IF v_missing IS NOT NULL THEN
        PERFORM ecommerce_api._not_found('Product', v_missing);
    END IF;
    v_ids := v_pids::bigint[];

    SELECT p.id_key, i.quantity, p.stock INTO v_bad
      FROM unnest(v_ids, v_qtys) AS i(product_id, quantity)
      JOIN ecommerce_api.products p ON p.id_key = i.product_id
     WHERE p.stock < i.quantity
     ORDER BY p.id_key
     LIMIT 1;
    IF FOUND THEN
        PERFORM ecommerce_api._insufficient_stock(v_bad.id_key, v_bad.quantity, v_bad.stock);
    END IF;

    SELECT sum(i.quantity * p.price) INTO v_total
      FROM unnest(v_ids, v_qtys) AS i(product_id, quantity)
      JOIN ecommerce_api.products p ON p.id_key = i.product_id;
    IF v_total > 999999999999.99 THEN
        RAISE EXCEPTION USING ERRCODE = 'EA400',
            MESSAGE = format('Order total %s exceeds the maximum of 999999999999.99', v_total);
    END IF;

    -- A bill created by hand could already carry the generated number: then
    -- take the next one (ON CONFLICT keeps this free of subtransactions).
    LOOP
        INSERT INTO ecommerce_api.bills AS b (bill_number, discount, date, total, payment_type, client_id)
        VALUES (format('CHK-%s-%s', to_char(v_now, 'YYYYMMDD'), nextval('ecommerce_api.checkout_bill_seq')),
                0, v_now::date, v_total, ecommerce_api._int_of(doc -> 'payment_type'), v_client_id)
        ON CONFLICT ON CONSTRAINT bills_bill_number_key DO NOTHING
        RETURNING * INTO v_bill;
        EXIT WHEN FOUND;
    END LOOP;

    INSERT INTO ecommerce_api.orders AS o (date, total, delivery_method, status, client_id, bill_id)
    VALUES (v_now, v_total, ecommerce_api._int_of(doc -> 'delivery_method'), 1, v_bill.client_id, v_bill.id_key)
    RETURNING * INTO v_order;

    UPDATE ecommerce_api.products p
       SET stock = p.stock - i.quantity
      FROM unnest(v_ids, v_qtys) AS i(product_id, quantity)
     WHERE p.id_key = i.product_id;

    INSERT INTO ecommerce_api.order_details (quantity, price, order_id, product_id)
    SELECT i.quantity, p.price, v_order.id_key, p.id_key
      FROM unnest(v_ids, v_qtys) AS i(product_id, quantity)
      JOIN ecommerce_api.products p ON p.id_key = i.product_id
     ORDER BY p.id_key;

    RETURN json_build_object(
        'order', ecommerce_api._json_order(v_order),
        'bill', ecommerce_api._json_bill(v_bill),
        'order_details', (SELECT json_agg(ecommerce_api._json_order_detail(d, p) ORDER BY d.id_key)
                            FROM ecommerce_api.order_details d
                            JOIN ecommerce_api.products p ON p.id_key = d.product_id
                           WHERE d.order_id = v_order.id_key))::text;
END
$$;


/* ---- order_details ----------------------------------------------------- *
 *
 * The stock rules live here.  Invariant: for every product, stock >= 0 and
 * stock + the quantities of its lines in non-canceled orders only changes
 * through product writes, never through order operations.  Each function
 * takes its locks in the global order (order rows, then line rows, then
 * product rows ascending) before it reads what it decides on.
 *
 * Lines of a canceled order are frozen: their stock was returned by the
 * cancel, so they cannot be added, changed or moved (409); deleting one is
 * allowed and returns nothing.
 */

CREATE FUNCTION ecommerce_api.api_order_details_list(skip text, lim text, order_id text) RETURNS text
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    errors  json[] := ecommerce_api._page_errors(skip, lim)
                      || ecommerce_api._chk_query_int(order_id, 'order_id');
    v_order numeric := ecommerce_api._int_text(order_id);
    v_off   bigint;
    v_from  bigint := -9223372036854775808;
BEGIN
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_off := ecommerce_api._page_offset(skip);
    IF order_id IS NOT NULL THEN
        RETURN (SELECT coalesce(json_agg(page.line), '[]')::text
                  FROM (SELECT ecommerce_api._json_order_detail(d, p) AS line
                          FROM (SELECT * FROM ecommerce_api.order_details q
                                 WHERE q.order_id = ecommerce_api._bigint(v_order)
                                 ORDER BY q.id_key OFFSET v_off LIMIT ecommerce_api._page_limit(lim)) d
                          JOIN ecommerce_api.products p ON p.id_key = d.product_id
                         ORDER BY d.id_key) page);
    END IF;
    IF v_off > 1000 THEN
        -- a deep page: find its first id through the index alone
        SELECT q.id_key INTO v_from FROM ecommerce_api.order_details q ORDER BY q.id_key OFFSET v_off LIMIT 1;
        v_off := 0;
    END IF;
    RETURN (SELECT coalesce(json_agg(page.line), '[]')::text
              FROM (SELECT ecommerce_api._json_order_detail(d, p) AS line
                      FROM (SELECT * FROM ecommerce_api.order_details q
                             WHERE q.id_key >= v_from
                             ORDER BY q.id_key OFFSET v_off LIMIT ecommerce_api._page_limit(lim)) d
                      JOIN ecommerce_api.products p ON p.id_key = d.product_id
                     ORDER BY d.id_key) page);
END
$$;

CREATE FUNCTION ecommerce_api.api_order_details_get(id text) RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_id   numeric := ecommerce_api._path_id(id);
    result text;
BEGIN
    SELECT ecommerce_api._json_order_detail_with(d,
               (SELECT ecommerce_api._json_line_product(p) FROM ecommerce_api.products p
                 WHERE p.id_key = d.product_id))::text INTO result
      FROM ecommerce_api.order_details d
     WHERE d.id_key = ecommerce_api._bigint(v_id);
    IF result IS NULL THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    RETURN result;
END
$$;

-- The line is priced at the product's price: a price sent in the body is
-- only checked against it (within 0.01), the server stays the price authority.
CREATE FUNCTION ecommerce_api.api_order_details_create(body text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc          jsonb := ecommerce_api._body(body);
    errors       json[];
    v_order_id   numeric;
    v_quantity   numeric;
    v_product_id numeric;
    v_status     smallint;
    v_product    ecommerce_api.products;
    result       text;
BEGIN
    errors := ecommerce_api._order_detail_errors(doc);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_order_id := ecommerce_api._int_of(doc -> 'order_id');
    v_quantity := ecommerce_api._int_of(doc -> 'quantity');
    v_product_id := ecommerce_api._int_of(doc -> 'product_id');

    -- lock 1: the order (serializes with a concurrent cancel or delete)
    SELECT o.status INTO v_status FROM ecommerce_api.orders o WHERE o.id_key = ecommerce_api._bigint(v_order_id) FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found('Order', v_order_id);
    END IF;
    IF v_status = 4 THEN
        RAISE EXCEPTION USING ERRCODE = 'EA409',
            MESSAGE = format('Cannot add lines to order %s: order is canceled', v_order_id);
    END IF;

    -- lock 3: the product
    SELECT * INTO v_product FROM ecommerce_api.products p
     WHERE p.id_key = ecommerce_api._bigint(v_product_id) FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found('Product', v_product_id);
    END IF;
    PERFORM ecommerce_api._check_price(v_product.price, ecommerce_api._num(doc -> 'price'));
    IF v_product.stock < v_quantity THEN
        PERFORM ecommerce_api._insufficient_stock(v_product.id_key, v_quantity, v_product.stock);
    END IF;

    UPDATE ecommerce_api.products p SET stock = p.stock - v_quantity
     WHERE p.id_key = v_product.id_key
    RETURNING * INTO v_product;
    INSERT INTO ecommerce_api.order_details AS d (quantity, price, order_id, product_id)
    VALUES (v_quantity, v_product.price, v_order_id, v_product.id_key)
    RETURNING ecommerce_api._json_order_detail(d, v_product)::text INTO result;
    RETURN result;
END
$$;

-- Full-body PUT.  The old product is credited the old quantity and the new
-- one debited the new quantity (the same product: the difference); a price
-- sent is checked against the new product; without one the line keeps its
-- price unless the product changes.
CREATE FUNCTION ecommerce_api.api_order_details_update(id text, body text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc            jsonb := ecommerce_api._body(body);
    errors         json[];
    v_num          numeric;
    v_id           bigint;
    v_new_order    numeric;
    v_new_product  numeric;
    v_quantity     numeric;
    v_old_order_id bigint;
    v_line         ecommerce_api.order_details;
    v_old_status   smallint;
    v_new_status   smallint;
    v_product      ecommerce_api.products;
    v_available    numeric;
    result         text;
BEGIN
    errors := ARRAY[ecommerce_api._path_error(id)] || ecommerce_api._order_detail_errors(doc);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_num := ecommerce_api._int_text(id);
    v_id := ecommerce_api._bigint(v_num);
    v_new_order := ecommerce_api._int_of(doc -> 'order_id');
    v_new_product := ecommerce_api._int_of(doc -> 'product_id');
    v_quantity := ecommerce_api._int_of(doc -> 'quantity');

    -- Locks 1 and 2: the line's current order and the target order (ascending),
    -- then the line.  The line's order is read before it is locked, so make
    -- sure the line did not move in between; if it did (a concurrent PUT),
    -- go round again with its new order.
    LOOP
        SELECT d.order_id INTO v_old_order_id FROM ecommerce_api.order_details d WHERE d.id_key = v_id;
        IF NOT FOUND THEN
            PERFORM ecommerce_api._not_found(NULL, v_num);
        END IF;
        PERFORM FROM ecommerce_api.orders o
          WHERE o.id_key IN (v_old_order_id, ecommerce_api._bigint(v_new_order))
          ORDER BY o.id_key
            FOR NO KEY UPDATE;
        SELECT * INTO v_line FROM ecommerce_api.order_details d WHERE d.id_key = v_id FOR UPDATE;
        IF NOT FOUND THEN
            PERFORM ecommerce_api._not_found(NULL, v_num);
        END IF;
        EXIT WHEN v_line.order_id = v_old_order_id;
    END LOOP;

    SELECT o.status INTO v_new_status FROM ecommerce_api.orders o WHERE o.id_key = ecommerce_api._bigint(v_new_order);
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found('Order', v_new_order);
    END IF;
    SELECT o.status INTO v_old_status FROM ecommerce_api.orders o WHERE o.id_key = v_line.order_id;
    IF v_old_status = 4 THEN
        RAISE EXCEPTION USING ERRCODE = 'EA409',
            MESSAGE = format('Cannot modify order line %s: order %s is canceled', v_line.id_key, v_line.order_id);
    END IF;
    IF v_new_status = 4 THEN
        RAISE EXCEPTION USING ERRCODE = 'EA409',
            MESSAGE = format('Cannot add lines to order %s: order is canceled', v_new_order);
    END IF;

    -- lock 3: old and new product, ascending
    PERFORM FROM ecommerce_api.products p
      WHERE p.id_key IN (v_line.product_id, ecommerce_api._bigint(v_new_product))
      ORDER BY p.id_key
        FOR NO KEY UPDATE;
    SELECT * INTO v_product FROM ecommerce_api.products p WHERE p.id_key = ecommerce_api._bigint(v_new_product);
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found('Product', v_new_product);
    END IF;
    PERFORM ecommerce_api._check_price(v_product.price, ecommerce_api._num(doc -> 'price'));
    -- what this line may take: the product's stock plus what the line holds already
    v_available := v_product.stock
                 + CASE WHEN v_product.id_key = v_line.product_id THEN v_line.quantity ELSE 0 END;
    IF v_available < v_quantity THEN
        PERFORM ecommerce_api._insufficient_stock(v_product.id_key, v_quantity, v_available);
    END IF;

    UPDATE ecommerce_api.products p SET stock = p.stock + v_line.quantity WHERE p.id_key = v_line.product_id;
    UPDATE ecommerce_api.products p SET stock = p.stock - v_quantity
     WHERE p.id_key = v_product.id_key
    RETURNING * INTO v_product;

    UPDATE ecommerce_api.order_details AS d
       SET quantity   = v_quantity,
           price      = CASE WHEN doc -> 'price' IS NOT NULL AND doc -> 'price' <> 'null'
                               OR v_product.id_key <> d.product_id
                             THEN v_product.price ELSE d.price END,
           order_id   = v_new_order,
           product_id = v_product.id_key
     WHERE d.id_key = v_id
    RETURNING ecommerce_api._json_order_detail(d, v_product)::text INTO result;
    RETURN result;
END
$$;

CREATE FUNCTION ecommerce_api.api_order_details_delete(id text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_num          numeric := ecommerce_api._path_id(id);
    v_id           bigint := ecommerce_api._bigint(v_num);
    v_old_order_id bigint;
    v_status       smallint;
    v_line         ecommerce_api.order_details;
BEGIN
    -- lock 1 the line's order, lock 2 the line (by deleting it); retry if the
    -- line moved to another order between the two
    LOOP
        SELECT d.order_id INTO v_old_order_id FROM ecommerce_api.order_details d WHERE d.id_key = v_id;
        IF NOT FOUND THEN
            PERFORM ecommerce_api._not_found(NULL, v_num);
        END IF;
        SELECT o.status INTO v_status FROM ecommerce_api.orders o WHERE o.id_key = v_old_order_id FOR NO KEY UPDATE;
        DELETE FROM ecommerce_api.order_details d
         WHERE d.id_key = v_id AND d.order_id = v_old_order_id
        RETURNING * INTO v_line;
        EXIT WHEN FOUND;
    END LOOP;
    -- lock 3: the product; a canceled order's lines hold no stock any more
    IF v_status <> 4 THEN
        UPDATE ecommerce_api.products p SET stock = p.stock + v_line.quantity WHERE p.id_key = v_line.product_id;
    END IF;
    RETURN NULL;
END
$$;


/* ---- reviews ----------------------------------------------------------- */

CREATE FUNCTION ecommerce_api.api_reviews_list(skip text, lim text, product_id text) RETURNS text
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    errors   json[] := ecommerce_api._page_errors(skip, lim)
                       || ecommerce_api._chk_query_int(product_id, 'product_id');
    v_product numeric := ecommerce_api._int_text(product_id);
    v_off    bigint;
    v_from   bigint := -9223372036854775808;
BEGIN
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_off := ecommerce_api._page_offset(skip);
    IF product_id IS NOT NULL THEN
        RETURN (SELECT coalesce(json_agg(ecommerce_api._json_review(r)), '[]')::text
                  FROM (SELECT * FROM ecommerce_api.reviews q
                         WHERE q.product_id = ecommerce_api._bigint(v_product)
                         ORDER BY q.id_key OFFSET v_off LIMIT ecommerce_api._page_limit(lim)) r);
    END IF;
    IF v_off > 1000 THEN
        -- a deep page: find its first id through the index alone
        SELECT q.id_key INTO v_from FROM ecommerce_api.reviews q ORDER BY q.id_key OFFSET v_off LIMIT 1;
        v_off := 0;
    END IF;
    RETURN (SELECT coalesce(json_agg(ecommerce_api._json_review(r)), '[]')::text
              FROM (SELECT * FROM ecommerce_api.reviews q
                     WHERE q.id_key >= v_from
                     ORDER BY q.id_key OFFSET v_off LIMIT ecommerce_api._page_limit(lim)) r);
END
$$;

CREATE FUNCTION ecommerce_api.api_reviews_get(id text) RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_id   numeric := ecommerce_api._path_id(id);
    result text;
BEGIN
    SELECT ecommerce_api._json_review(r)::text INTO result
      FROM ecommerce_api.reviews r
     WHERE r.id_key = ecommerce_api._bigint(v_id);
    IF result IS NULL THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    RETURN result;
END
$$;

CREATE FUNCTION ecommerce_api.api_reviews_create(body text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc          jsonb := ecommerce_api._body(body);
    errors       json[];
    v_product_id numeric;
    result       text;
BEGIN
    errors := ecommerce_api._review_errors(doc);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_product_id := ecommerce_api._int_of(doc -> 'product_id');
    PERFORM FROM ecommerce_api.products p WHERE p.id_key = ecommerce_api._bigint(v_product_id) FOR KEY SHARE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found('Product', v_product_id);
    END IF;
    INSERT INTO ecommerce_api.reviews AS r (rating, comment, product_id)
    VALUES (round(ecommerce_api._num(doc -> 'rating'), 2), doc ->> 'comment', v_product_id)
    RETURNING ecommerce_api._json_review(r)::text INTO result;
    RETURN result;
END
$$;

CREATE FUNCTION ecommerce_api.api_reviews_update(id text, body text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc          jsonb := ecommerce_api._body(body);
    errors       json[];
    v_product_id numeric;
    v_id         numeric;
    result       text;
BEGIN
    errors := ARRAY[ecommerce_api._path_error(id)] || ecommerce_api._review_errors(doc);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_id := ecommerce_api._int_text(id);
    v_product_id := ecommerce_api._int_of(doc -> 'product_id');
    PERFORM FROM ecommerce_api.products p WHERE p.id_key = ecommerce_api._bigint(v_product_id) FOR KEY SHARE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found('Product', v_product_id);
    END IF;
    UPDATE ecommerce_api.reviews AS r
       SET rating     = round(ecommerce_api._num(doc -> 'rating'), 2),
           comment    = CASE WHEN doc ? 'comment' THEN doc ->> 'comment' ELSE r.comment END,
           product_id = v_product_id
     WHERE r.id_key = ecommerce_api._bigint(v_id)
    RETURNING ecommerce_api._json_review(r)::text INTO result;
    IF result IS NULL THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    RETURN result;
END
$$;

CREATE FUNCTION ecommerce_api.api_reviews_delete(id text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_id numeric := ecommerce_api._path_id(id);
BEGIN
    DELETE FROM ecommerce_api.reviews r WHERE r.id_key = ecommerce_api._bigint(v_id);
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    RETURN NULL;
END
$$;


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
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
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
