-- ecommerce_api 1.1 -> 1.2

\echo Use "ALTER EXTENSION ecommerce_api UPDATE TO '1.2'" to load this file. \quit

-- sql/change_tracking.sql (new in 1.2): the change-tracking triggers

/* =========================================================================
 * Change tracking for the workers' answer caches
 *
 * Every change to the shop's tables, whoever makes it (the API, psql, a
 * batch job, COPY, a restore, TRUNCATE), moves change generations in shared
 * memory after its commit; a worker reuses a kept GET answer, or answers
 * 304 to If-None-Match, only while the generations it was built under have
 * not moved.  The C function only notes what changed; the counters move in
 * a transaction callback once the commit is visible (src/generations.c
 * says why that order makes a stale answer impossible).
 *
 * Statement triggers, so a statement costs one call whatever its row count.
 * UPDATE and DELETE hand over the changed rows (OLD TABLE) so that only the
 * single-row answers of those ids are invalidated; INSERT and TRUNCATE need
 * none.  ENABLE ALWAYS: they fire under session_replication_role = replica
 * too (logical replication's apply worker, some restore tools).
 * ========================================================================= */

CREATE FUNCTION ecommerce_api._track_changes() RETURNS trigger
LANGUAGE c AS '$libdir/ecommerce_api', 'eapi_track_changes';

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['categories', 'products', 'clients', 'addresses',
                             'bills', 'orders', 'order_details', 'reviews'] LOOP
        EXECUTE format('CREATE TRIGGER track_inserts AFTER INSERT ON ecommerce_api.%I'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION ecommerce_api._track_changes(%L)', t, t);
        EXECUTE format('CREATE TRIGGER track_updates AFTER UPDATE ON ecommerce_api.%I'
                       ' REFERENCING OLD TABLE AS changed'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION ecommerce_api._track_changes(%L)', t, t);
        EXECUTE format('CREATE TRIGGER track_deletes AFTER DELETE ON ecommerce_api.%I'
                       ' REFERENCING OLD TABLE AS changed'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION ecommerce_api._track_changes(%L)', t, t);
        EXECUTE format('CREATE TRIGGER track_truncates AFTER TRUNCATE ON ecommerce_api.%I'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION ecommerce_api._track_changes(%L)', t, t);
        EXECUTE format('ALTER TABLE ecommerce_api.%I'
                       ' ENABLE ALWAYS TRIGGER track_inserts, ENABLE ALWAYS TRIGGER track_updates,'
                       ' ENABLE ALWAYS TRIGGER track_deletes, ENABLE ALWAYS TRIGGER track_truncates', t);
    END LOOP;
END
$$;

-- sql/json.sql, sql/categories.sql, sql/products.sql: the product and category
-- shapes concatenated as text (json_build_object looked every argument's type
-- up on every call); the lists aggregate the text with string_agg

CREATE FUNCTION ecommerce_api._json_category_text(c ecommerce_api.categories) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT '{"id_key" : ' || c.id_key || ', "name" : ' || to_json(c.name)::text || '}'
$$;

CREATE OR REPLACE FUNCTION ecommerce_api._json_category(c ecommerce_api.categories) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT ecommerce_api._json_category_text(c)::json
$$;

CREATE FUNCTION ecommerce_api._json_product_text_with(p ecommerce_api.products, category text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT '{"id_key" : ' || p.id_key
        || ', "name" : ' || to_json(p.name)::text
        || ', "description" : ' || coalesce(to_json(p.description)::text, 'null')
        || ', "price" : ' || CASE WHEN p.price <> 'NaN' THEN p.price::text ELSE '"NaN"' END
        || ', "stock" : ' || p.stock
        || ', "category_id" : ' || coalesce(p.category_id::text, 'null')
        || ', "category" : ' || coalesce(category, 'null') || '}'
$$;

CREATE OR REPLACE FUNCTION ecommerce_api._json_product_with(p ecommerce_api.products, category json) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT ecommerce_api._json_product_text_with(p, category::text)::json
$$;

CREATE FUNCTION ecommerce_api._json_product_text(p ecommerce_api.products, c ecommerce_api.categories) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT ecommerce_api._json_product_text_with(p,
        CASE WHEN c.id_key IS NOT NULL THEN ecommerce_api._json_category_text(c) END)
$$;

CREATE OR REPLACE FUNCTION ecommerce_api._json_product(p ecommerce_api.products, c ecommerce_api.categories) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT ecommerce_api._json_product_text(p, c)::json
$$;

CREATE OR REPLACE FUNCTION ecommerce_api.api_categories_list(skip text, lim text) RETURNS text
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
    RETURN (SELECT coalesce('[' || string_agg(ecommerce_api._json_category_text(c), ', ') || ']', '[]')
              FROM (SELECT * FROM ecommerce_api.categories q
                     WHERE q.id_key >= v_from
                     ORDER BY q.id_key OFFSET v_off LIMIT ecommerce_api._page_limit(lim)) c);
END
$$;

CREATE OR REPLACE FUNCTION ecommerce_api.api_categories_get(id text) RETURNS text
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
AS $$
DECLARE
    v_id   numeric := ecommerce_api._path_id(id);
    result text;
BEGIN
    SELECT ecommerce_api._json_category_text(c) INTO result
      FROM ecommerce_api.categories c
     WHERE c.id_key = ecommerce_api._bigint(v_id);
    IF result IS NULL THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    RETURN result;
END
$$;

CREATE OR REPLACE FUNCTION ecommerce_api.api_products_list(skip text, lim text) RETURNS text
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
    RETURN (SELECT coalesce('[' || string_agg(page.product, ', ') || ']', '[]')
              FROM (SELECT ecommerce_api._json_product_text(p, c) AS product
                      FROM (SELECT * FROM ecommerce_api.products q
                             WHERE q.id_key >= v_from
                             ORDER BY q.id_key OFFSET v_off LIMIT ecommerce_api._page_limit(lim)) p
                      LEFT JOIN ecommerce_api.categories c ON c.id_key = p.category_id
                     ORDER BY p.id_key) page);
END
$$;

CREATE OR REPLACE FUNCTION ecommerce_api.api_products_get(id text) RETURNS text
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
AS $$
DECLARE
    v_id   numeric := ecommerce_api._path_id(id);
    result text;
BEGIN
    SELECT ecommerce_api._json_product_text_with(p,
               (SELECT ecommerce_api._json_category_text(c) FROM ecommerce_api.categories c
                 WHERE c.id_key = p.category_id)) INTO result
      FROM ecommerce_api.products p
     WHERE p.id_key = ecommerce_api._bigint(v_id);
    IF result IS NULL THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    RETURN result;
END
$$;

CREATE OR REPLACE FUNCTION ecommerce_api._products_filter_page(p_pattern text, p_category_id bigint,
                                                    p_min numeric, p_max numeric, p_in_stock boolean,
                                                    p_sort text, p_offset bigint, p_limit integer)
RETURNS text
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_custom_plan
AS $$
BEGIN
    RETURN (
        SELECT coalesce('[' || string_agg(ecommerce_api._json_product_text(p, c), ', ' ORDER BY page.n) || ']', '[]')
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

-- point reads walk the primary key, even on a small table
ALTER FUNCTION ecommerce_api.api_addresses_get(text) SET enable_seqscan = off;
ALTER FUNCTION ecommerce_api.api_bills_get(text) SET enable_seqscan = off;
ALTER FUNCTION ecommerce_api.api_clients_get(text) SET enable_seqscan = off;
ALTER FUNCTION ecommerce_api.api_order_details_get(text) SET enable_seqscan = off;
ALTER FUNCTION ecommerce_api.api_orders_get(text) SET enable_seqscan = off;
ALTER FUNCTION ecommerce_api.api_reviews_get(text) SET enable_seqscan = off;

-- sql/validation.sql: a password is never echoed in a 422

-- A password is never echoed: a password field's own item has input null,
-- and the object a "missing" item carries loses its password.
CREATE OR REPLACE FUNCTION ecommerce_api._err(kind text, loc jsonb, msg text, input jsonb, ctx json DEFAULT NULL)
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN ctx IS NULL
        THEN json_build_object('type', kind, 'loc', loc, 'msg', msg, 'input', shown)
        ELSE json_build_object('type', kind, 'loc', loc, 'msg', msg, 'input', shown, 'ctx', ctx)
    END
    FROM (SELECT CASE
                     WHEN jsonb_typeof(input) = 'object' THEN input - 'password'
                     WHEN loc ->> -1 = 'password' THEN NULL
                     ELSE input
                 END AS shown) AS s
$$;

-- sql/auth.sql: a deleted client's token is refused

-- The claims of a request's token, or a 401: "Not authenticated" without a
-- token, "Invalid or expired token" for one that is malformed, not signed
-- with the current key, expired, carries claims of the wrong shape, or names
-- a client that no longer exists.  The
-- HINT is the 401's WWW-Authenticate challenge (RFC 6750, section 3), which
-- the gateway sends; without one it sends plain "Bearer".
CREATE OR REPLACE FUNCTION ecommerce_api._token_claims(token text) RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_claims jsonb;
    v_valid  boolean;
BEGIN
    IF token IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'EA401', MESSAGE = 'Not authenticated';
    END IF;
    v_claims := ecommerce_api._token_verify(token);
    -- CASE, not AND: a cast must not run before the type test guarding it
    v_valid := CASE
        WHEN v_claims IS NULL THEN false
        WHEN jsonb_typeof(v_claims -> 'exp') IS DISTINCT FROM 'number' THEN false
        WHEN (v_claims -> 'exp')::numeric <= extract(epoch FROM now()) THEN false
        WHEN jsonb_typeof(v_claims -> 'admin') IS DISTINCT FROM 'boolean' THEN false
        WHEN jsonb_typeof(v_claims -> 'sub') IS DISTINCT FROM 'string' THEN false
        ELSE (v_claims ->> 'sub') ~ '^[1-9][0-9]{0,17}$'
    END;
    -- a deleted client's tokens die with it
    IF v_valid THEN
        v_valid := EXISTS (SELECT 1 FROM ecommerce_api.clients c
                            WHERE c.id_key = (v_claims ->> 'sub')::bigint);
    END IF;
    IF NOT v_valid THEN
        RAISE EXCEPTION USING ERRCODE = 'EA401', MESSAGE = 'Invalid or expired token',
            HINT = 'Bearer error="invalid_token"';
    END IF;
    RETURN v_claims;
END
$$;

-- sql/openapi.sql: GET /live and GET /ready, and what the health check says now;
-- GET /docs (Swagger UI) and /docs/static; placeholders in code spans (Swagger
-- UI drops a bare <token>)

CREATE OR REPLACE FUNCTION ecommerce_api._openapi() RETURNS json
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (
    SELECT json_strip_nulls(json_build_object(
        'openapi', '3.1.0',
        'info', json_build_object(
            'title', 'ecommerce_api',
            'version', (SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname = 'ecommerce_api'),
            'summary', 'The REST API of a shop, served from inside PostgreSQL.',
            'description', $d$The shop's REST API (clients, addresses, categories, products, bills, orders, order lines, reviews), served by the ecommerce_api extension's background workers. Every request is one transaction.

Paths. Every path is served with and without its trailing slash. /clients/... is the same as /api/v1/clients/...; /R/{id} is the same as /R/id/{id} for every resource, clients included; /order-details/... is the same as /order_details/... These aliases are served directly, with no redirect. An unknown path answers 404 {"detail": "Not Found"}; a path with a method it does not take answers 405 with an Allow header; OPTIONS on any path is a CORS preflight (204).

Input is lenient: unknown keys are ignored, numeric strings are accepted for numbers and integers, an integral float is accepted for an integer (booleans are not numbers), and a body with no Content-Type is parsed as JSON. For an optional field, null means "no value". Money is rounded half-up to cents. An id beyond bigint is a valid integer that names nothing (404).

Output: JSON keys come in the order the schemas list them; an absent value is null; datetimes are ISO-8601 without zone (UTC). Every answer carries X-Request-ID (the one sent when it is 1-128 characters of [A-Za-z0-9._:-], else a generated UUID), X-Response-Time and, per ecommerce_api.cors_allowed_origins, Access-Control-Allow-Origin (with Access-Control-Expose-Headers naming these headers). While the rate limiter is on (ecommerce_api.rate_limit > 0), every answer but the health check's and a preflight's also carries X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset (Unix time, seconds).

Errors are `{"detail": "<message>"}`; a validation failure is 422 {"detail": [{"type", "loc", "msg", "input"}, ...]} in FastAPI's shape, listing every problem at once. Statuses: 400 business rule, 401/403 authentication (see bearerAuth), 404 not found, 405 wrong method, 409 conflict, 413 body too large, 422 invalid, 429 rate limited, 500 unexpected, 503 unavailable.$d$),
        'tags', $j$[
            {"name": "categories", "description": "Product categories."},
            {"name": "products", "description": "The catalog. Stock moves with order lines."},
            {"name": "clients", "description": "Customers, under /api/v1/clients (alias /clients). Registration and login."},
            {"name": "addresses", "description": "Client addresses, deleted with their client."},
            {"name": "bills", "description": "Bills (invoices)."},
            {"name": "orders", "description": "Orders, and the atomic checkout."},
            {"name": "order_details", "description": "Order lines (alias /order-details). Their quantities are taken from stock."},
            {"name": "reviews", "description": "Product reviews, deleted with their product."},
            {"name": "service", "description": "Health, metrics and this description."}
        ]$j$::json,
        'paths', (SELECT json_object_agg(p.path, p.item ORDER BY p.n, p.k) FROM (
            -- the five routes of each resource, and the routes of its own
            SELECT r.n, rp.k, rp.path, rp.item
              FROM (VALUES
                (1, '/categories', 'categories', 'category', 'Category', NULL, NULL, NULL, NULL,
                    'Category with name ''...'' already exists.', 'Category with name ''...'' already exists.',
                    'Cannot delete category N: category has associated products.', NULL, true, false),
                (2, '/products', 'products', 'product', 'Product', NULL, NULL, NULL, 'Category',
                    NULL, NULL, 'Cannot delete product N: product has associated sales history.', NULL, true, false),
                (3, '/api/v1/clients', 'clients', 'client', 'Client', NULL, NULL, NULL, NULL,
                    'Email already registered.', 'Email already registered.',
                    'Cannot delete client N: client has associated orders or bills.', NULL, false, true),
                (4, '/addresses', 'addresses', 'address', 'Address', NULL,
                    'client_id', 'Only the addresses of this client.', 'Client',
                    NULL, NULL, NULL, NULL, false, false),
                (5, '/bills', 'bills', 'bill', 'Bill', NULL,
                    'client_id', 'Only the bills of this client.', 'Client',
                    'Bill number ''...'' already exists.', 'Bill number ''...'' already exists.',
                    'Cannot delete bill N: bill has associated orders.', NULL, false, false),
                (6, '/orders', 'orders', 'order', 'Order', 'OrderUpdate',
                    'client_id', 'Only the orders of this client.', 'Client or Bill',
                    NULL, 'Order N is canceled and cannot be set to status S.', NULL, NULL, false, false),
                (7, '/order_details', 'order_details', 'order line', 'OrderDetail', NULL,
                    'order_id', 'Only the lines of this order.', 'Order or Product',
                    'Insufficient stock for product P. Requested: Q, Available: S; or the order is canceled.',
                    'Insufficient stock for product P. Requested: Q, Available: S; or the order (old or new) is canceled.',
                    NULL, 'Price mismatch. Expected P, got Q.', false, false),
                (8, '/reviews', 'reviews', 'review', 'Review', NULL,
                    'product_id', 'Only the reviews of this product.', 'Product',
                    NULL, NULL, NULL, NULL, true, false)
              ) AS r(n, base, name, one, schema, update_schema, parent_filter, parent_description, refers_to,
                     create_conflict, update_conflict, delete_conflict, bad_request, public_read, public_create),
                   LATERAL ecommerce_api._oa_resource_paths(
                       base => r.base, name => r.name, one => r.one, schema => r.schema,
                       update_schema => r.update_schema, parent_filter => r.parent_filter,
                       parent_description => r.parent_description, refers_to => r.refers_to,
                       create_conflict => r.create_conflict, update_conflict => r.update_conflict,
                       delete_conflict => r.delete_conflict, bad_request => r.bad_request,
                       public_read => r.public_read, public_create => r.public_create) AS rp(path, item, k)
            UNION ALL
            SELECT 2, 3, '/products/filter', json_build_object('get', ecommerce_api._oa_operation(
                'products_filter', 'products', 'Search and filter products', NULL,
                json_build_array(
                    ecommerce_api._oa_query('search', '{"type": "string"}',
                        'Case-insensitive substring of the name (% and _ are literal).'),
                    ecommerce_api._oa_query('category_id', '{"type": "integer", "format": "int64"}', NULL),
                    ecommerce_api._oa_query('min_price', '{"type": "number"}', 'Inclusive.'),
                    ecommerce_api._oa_query('max_price', '{"type": "number"}', 'Inclusive.'),
                    ecommerce_api._oa_query('in_stock_only', '{"type": "boolean", "default": false}',
                        'Only products with stock > 0 (true/false/1/0).'),
                    ecommerce_api._oa_query('sort_by',
                        '{"type": "string", "enum": ["price_asc", "price_desc", "name", "name_asc", "name_desc"]}',
                        'Default: id_key descending. Ties are broken by id_key (ascending for the ascending sorts).'),
                    ecommerce_api._oa_ref('parameters', 'skip'),
                    ecommerce_api._oa_ref('parameters', 'limit')),
                NULL,
                '200', ecommerce_api._oa_success('The matching products, possibly none.', 'application/json',
                           '{"type": "array", "items": {"$ref": "#/components/schemas/Product"}}'),
                '{}', true, false))
            UNION ALL
            SELECT 3, 3, '/api/v1/clients/login', json_build_object('post', ecommerce_api._oa_operation(
                'clients_login', 'clients', 'Log in',
                'Checks the password; the answer carries a bearer token for ecommerce_api.auth_mode = required.',
                NULL, 'LoginRequest',
                '200', ecommerce_api._oa_success('The client.', 'application/json',
                           ecommerce_api._oa_ref('schemas', 'LoginResponse')),
                '{"401": "Invalid credentials: an unknown email, a guest record or a wrong password, all answered alike and in the same time."}',
                true, false))
            UNION ALL
            SELECT 6, 3, '/orders/checkout', json_build_object('post', ecommerce_api._oa_operation(
                'orders_checkout', 'orders', 'Check out a cart',
                'Creates the bill (number `CHK-<yyyymmdd>-<n>`), the order (total computed from the products'' prices) and its lines in one transaction. Any failing item refuses the whole checkout and nothing is written.',
                NULL, 'CheckoutRequest',
                '201', ecommerce_api._oa_success('The order, its bill and its lines.', 'application/json',
                           ecommerce_api._oa_ref('schemas', 'CheckoutResponse')),
                '{"400": "The order total would exceed 999999999999.99.",
                  "404": "Client with id N not found, or Product with id N not found (the first missing product in id order).",
                  "409": "Insufficient stock for product P. Requested: Q, Available: S (the first short product in id order)."}',
                true, true))
            UNION ALL
            SELECT 9, 1, '/health_check/', json_build_object('get', ecommerce_api._oa_operation(
                'health_check', 'service', 'Health check',
                'The database''s latency, the pool (the HTTP workers that serve) and whether the API can serve (checks.api). Status unhealthy, with 503, when the extension is missing or at another version, a setting is invalid, or fewer workers serve than are configured. Never rate limited.',
                NULL, NULL,
                '200', ecommerce_api._oa_success('The health document.', 'application/json',
                           ecommerce_api._oa_ref('schemas', 'Health')),
                '{"500": null, "503": null}', false, false))
            UNION ALL
            SELECT 9, 2, '/metrics', json_build_object('get', ecommerce_api._oa_operation(
                'metrics', 'service', 'Prometheus metrics',
                'ecommerce_api_requests_total{route,status} (status class 2xx..5xx, route "other" when none matched), the ecommerce_api_request_duration_seconds histogram, ecommerce_api_open_connections, ecommerce_api_busy_workers and ecommerce_api_workers, read from shared memory without a transaction.',
                NULL, NULL,
                '200', ecommerce_api._oa_success('The metrics, in Prometheus text format 0.0.4.', 'text/plain',
                           '{"type": "string"}'),
                '{"429": null, "500": null}', false, false))
            UNION ALL
            SELECT 9, 3, '/openapi.json', json_build_object('get', ecommerce_api._oa_operation(
                'openapi', 'service', 'This description', 'The OpenAPI 3.1 document of the API.',
                NULL, NULL,
                '200', ecommerce_api._oa_success('This document.', 'application/json',
                           '{"type": "object", "description": "An OpenAPI 3.1 document."}'),
                '{}', true, false))
            UNION ALL
            SELECT 9, 5, '/live', json_build_object('get', ecommerce_api._oa_operation(
                'live', 'service', 'Liveness',
                'Answers while the worker runs, without a transaction: for a load balancer''s liveness probe. Never rate limited.',
                NULL, NULL,
                '200', ecommerce_api._oa_success('{"status": "alive"}.', 'application/json',
                           '{"type": "object", "required": ["status"], "properties": {"status": {"const": "alive"}}}'),
                '{}', false, false))
            UNION ALL
            SELECT 9, 6, '/ready', json_build_object('get', ecommerce_api._oa_operation(
                'ready', 'service', 'Readiness',
                'Whether this node can serve the API: the extension installed at the library''s version and the settings valid. For a load balancer''s readiness probe. Never rate limited.',
                NULL, NULL,
                '200', ecommerce_api._oa_success('{"status": "ready"}.', 'application/json',
                           '{"type": "object", "required": ["status"], "properties": {"status": {"const": "ready"}}}'),
                '{"503": "Not ready, and why (detail)."}', false, false))
            UNION ALL
            SELECT 9, 4, '/docs', json_build_object('get', ecommerce_api._oa_operation(
                'docs_swagger', 'service', 'This description in Swagger UI',
                'Swagger UI, as FastAPI serves it: try-it-out, Authorize (a bearer token, kept across reloads), a filter. It reads /openapi.json and loads its script and stylesheet from ecommerce_api.docs_assets_url (default: the jsDelivr CDN); /docs/static needs neither.',
                NULL, NULL,
                '200', ecommerce_api._oa_success('The page.', 'text/html', '{"type": "string"}'),
                '{}', true, false))
            UNION ALL
            SELECT 9, 5, '/docs/static', json_build_object('get', ecommerce_api._oa_operation(
                'docs', 'service', 'This description as a static web page',
                'An HTML page rendered from /openapi.json, self-contained (no scripts, styles or fonts from elsewhere): for machines without internet.',
                NULL, NULL,
                '200', ecommerce_api._oa_success('The page.', 'text/html', '{"type": "string"}'),
                '{}', true, false))
        ) AS p(n, k, path, item)),
        'components', json_build_object(
            'schemas', ecommerce_api._oa_schemas(),
            'parameters', $j${
                "id": {"name": "id", "in": "path", "required": true,
                       "description": "The id_key. An integer beyond bigint names nothing (404).",
                       "schema": {"type": "integer", "format": "int64"}},
                "skip": {"name": "skip", "in": "query", "required": false,
                         "description": "Rows to skip.",
                         "schema": {"type": "integer", "minimum": 0, "default": 0}},
                "limit": {"name": "limit", "in": "query", "required": false,
                          "description": "Rows to return at most.",
                          "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}
            }$j$::json,
            'responses', ecommerce_api._oa_responses(),
            'securitySchemes', json_build_object(
                'bearerAuth', json_build_object(
                    'type', 'http',
                    'scheme', 'bearer',
                    'bearerFormat', 'JWT',
                    'description', $d$The token of POST /api/v1/clients/login, signed, carrying the client id, the admin flag and an expiry; send it as `Authorization: Bearer <token>`. It is needed only when ecommerce_api.auth_mode = required; in the default mode (open) no route needs one. In required mode, catalog reads (products, categories, reviews), registration (POST /api/v1/clients/), login, health, metrics and this description are public; a client may read and write only its own client record, addresses, bills, orders, order lines and reviews, and check out; catalog writes and other clients' data need an admin token. A missing or bad token answers 401, a valid token without the right 403. The operations that need a token in required mode list bearerAuth as an alternative to no authentication.$d$))))));
END
$$;

/* ---- GET /docs: Swagger UI ----------------------------------------------
 *
 * The page FastAPI serves at /docs: Swagger UI's bundle and stylesheet from
 * ecommerce_api.docs_assets_url (default: the CDN FastAPI uses), reading
 * /openapi.json; the Authorize button takes a bearer token (bearerAuth) and
 * keeps it across reloads; the operations can be filtered.  Machines without
 * the CDN: GET /docs/static, or docs_assets_url pointing at a copy of npm's
 * swagger-ui-dist.
 */
CREATE FUNCTION ecommerce_api.api_docs_swagger() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT format($html$<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%1$s - Swagger UI</title>
<link rel="stylesheet" type="text/css" href="%2$s/swagger-ui.css">
</head>
<body>
<noscript>This page needs JavaScript and %2$s; <a href="/docs/static">/docs/static</a> needs neither.</noscript>
<div id="swagger-ui"></div>
<script src="%2$s/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    persistAuthorization: true,
    filter: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]
});
</script>
</body>
</html>
$html$,
        'ecommerce_api',
        ecommerce_api._html(rtrim(coalesce(nullif(current_setting('ecommerce_api.docs_assets_url', true), ''),
                                           'https://cdn.jsdelivr.net/npm/swagger-ui-dist@5'), '/')))
$$;

-- sql/openapi.sql: the login token's description puts `Authorization: Bearer
-- <token>` in a code span (Swagger UI drops a bare <token>)
CREATE OR REPLACE FUNCTION ecommerce_api._oa_schemas() RETURNS json
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (
    WITH
    -- the fields of an order's body, shared by POST (OrderCreate) and the
    -- partial PUT (OrderUpdate), which differ only in what they require
    order_fields(props) AS (SELECT $j${
        "date": {"type": ["string", "null"], "examples": ["2026-11-27T21:51:40"],
                 "description": "ISO-8601 datetime without zone, taken as UTC. Default: now."},
        "total": {"type": "number", "minimum": 0, "maximum": 999999999999.99,
                  "description": "Rounded half-up to cents."},
        "delivery_method": {"$ref": "#/components/schemas/DeliveryMethod"},
        "status": {"anyOf": [{"$ref": "#/components/schemas/OrderStatus"}, {"type": "null"}], "default": 1,
                   "description": "Setting 4 (CANCELED) returns the order's stock; a canceled order cannot change status again (409)."},
        "client_id": {"type": "integer", "format": "int64", "description": "An existing client (404 otherwise)."},
        "bill_id": {"type": "integer", "format": "int64", "description": "An existing bill (404 otherwise)."}
    }$j$::json)
    SELECT json_object_agg(s.name, s.schema ORDER BY s.n)
      FROM order_fields o,
           LATERAL (VALUES
    -- errors ---------------------------------------------------------------
    (1, 'HTTPError', $j${
        "type": "object",
        "description": "Every refusal but a validation failure.",
        "required": ["detail"],
        "properties": {"detail": {"type": "string", "examples": ["Entity with id 5 not found"]}}
    }$j$::json),
    (2, 'ValidationErrorItem', $j${
        "type": "object",
        "description": "One problem of a request, as pydantic v2 reports it.",
        "required": ["type", "loc", "msg", "input"],
        "properties": {
            "type": {"type": "string", "examples": ["string_too_short"],
                     "description": "missing, string_type, string_too_short, string_too_long, int_parsing, float_parsing, greater_than, greater_than_equal, less_than_equal, enum, literal_error, value_error, date_parsing, datetime_parsing, model_attributes_type, list_type, too_short, too_long, json_invalid, ..."},
            "loc": {"type": "array", "items": {"type": ["string", "integer"]}, "examples": [["body", "price"]],
                    "description": "Where: [\"body\", field], [\"body\", \"items\", index, field], [\"query\", name], [\"path\", \"id\"]; malformed JSON is [\"body\", character position]."},
            "msg": {"type": "string", "examples": ["String should have at least 1 character"]},
            "input": {"description": "The value refused (for a missing field, the object it is missing from)."},
            "ctx": {"type": "object", "description": "The constraint that failed, e.g. {\"min_length\": 1}."}
        }
    }$j$::json),
    (3, 'ValidationError', $j${
        "type": "object",
        "description": "FastAPI's validation answer: every problem of the request at once, path, query and body together.",
        "required": ["detail"],
        "properties": {"detail": {"type": "array", "items": {"$ref": "#/components/schemas/ValidationErrorItem"}}}
    }$j$::json),
    (4, 'RateLimitError', $j${
        "type": "object",
        "required": ["detail", "retry_after"],
        "properties": {
            "detail": {"type": "string", "examples": ["Rate limit exceeded. Maximum 100 requests per 60 seconds."]},
            "retry_after": {"type": "integer", "description": "Seconds to wait."}
        }
    }$j$::json),
    -- enums: integers on the wire ------------------------------------------
    (5, 'DeliveryMethod', $j${
        "type": "integer", "enum": [1, 2, 3],
        "description": "1 DRIVE_THRU, 2 ON_HAND, 3 HOME_DELIVERY",
        "x-enum-varnames": ["DRIVE_THRU", "ON_HAND", "HOME_DELIVERY"]
    }$j$::json),
    (6, 'OrderStatus', $j${
        "type": "integer", "enum": [1, 2, 3, 4],
        "description": "1 PENDING, 2 IN_PROGRESS, 3 DELIVERED, 4 CANCELED",
        "x-enum-varnames": ["PENDING", "IN_PROGRESS", "DELIVERED", "CANCELED"]
    }$j$::json),
    (7, 'PaymentType', $j${
        "type": "integer", "enum": [1, 2, 3, 4, 5],
        "description": "1 CASH, 2 CARD, 3 DEBIT, 4 CREDIT, 5 BANK_TRANSFER",
        "x-enum-varnames": ["CASH", "CARD", "DEBIT", "CREDIT", "BANK_TRANSFER"]
    }$j$::json),
    -- categories -----------------------------------------------------------
    (10, 'Category', $j${
        "type": "object",
        "required": ["id_key", "name"],
        "properties": {
            "id_key": {"type": "integer", "format": "int64"},
            "name": {"type": "string"}
        }
    }$j$::json),
    (11, 'CategoryCreate', $j${
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 100,
                     "description": "Unique as written (409 otherwise)."}
        }
    }$j$::json),
    -- products -------------------------------------------------------------
    (20, 'Product', $j${
        "type": "object",
        "required": ["id_key", "name", "description", "price", "stock", "category_id", "category"],
        "properties": {
            "id_key": {"type": "integer", "format": "int64"},
            "name": {"type": "string"},
            "description": {"type": ["string", "null"]},
            "price": {"type": "number", "examples": [19.99]},
            "stock": {"type": "integer"},
            "category_id": {"type": ["integer", "null"], "format": "int64"},
            "category": {"anyOf": [{"$ref": "#/components/schemas/Category"}, {"type": "null"}],
                         "description": "The product's category, null when it has none."}
        }
    }$j$::json),
    (21, 'ProductCreate', $j${
        "type": "object",
        "required": ["name", "price"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "description": {"type": ["string", "null"], "maxLength": 2000},
            "price": {"type": "number", "exclusiveMinimum": 0, "maximum": 9999999999.99,
                      "description": "Rounded half-up to cents; the rounded price must be > 0."},
            "stock": {"type": ["integer", "null"], "minimum": 0, "maximum": 2147483647, "default": 0,
                      "description": "On PUT, absent keeps the current stock."},
            "category_id": {"type": ["integer", "null"], "format": "int64",
                            "description": "An existing category (404 otherwise), or null."}
        }
    }$j$::json),
    -- clients --------------------------------------------------------------
    (30, 'Client', $j${
        "type": "object",
        "description": "Never carries the password.",
        "required": ["id_key", "name", "lastname", "email", "telephone", "is_admin"],
        "properties": {
            "id_key": {"type": "integer", "format": "int64"},
            "name": {"type": "string"},
            "lastname": {"type": "string"},
            "email": {"type": "string", "format": "email"},
            "telephone": {"type": ["string", "null"]},
            "is_admin": {"type": "boolean"}
        }
    }$j$::json),
    (31, 'ClientCreate', $j${
        "type": "object",
        "description": "is_admin is ignored on input.",
        "required": ["name", "lastname", "email"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 100},
            "lastname": {"type": "string", "minLength": 1, "maxLength": 100},
            "email": {"type": "string", "format": "email", "maxLength": 254,
                      "description": "One @, a non-empty local part, a dotted domain. The domain is stored lower-case; unique (409 otherwise)."},
            "telephone": {"type": ["string", "null"], "maxLength": 30},
            "password": {"type": ["string", "null"], "minLength": 1, "maxLength": 128, "writeOnly": true,
                         "description": "Stored as a bcrypt hash. A client created without one is a guest that can never log in; on PUT, a password changes it and absent keeps it."}
        }
    }$j$::json),
    -- addresses ------------------------------------------------------------
    (40, 'Address', $j${
        "type": "object",
        "required": ["id_key", "street", "number", "city", "client_id"],
        "properties": {
            "id_key": {"type": "integer", "format": "int64"},
            "street": {"type": ["string", "null"]},
            "number": {"type": ["string", "null"]},
            "city": {"type": ["string", "null"]},
            "client_id": {"type": "integer", "format": "int64"}
        }
    }$j$::json),
    (41, 'AddressCreate', $j${
        "type": "object",
        "required": ["client_id"],
        "properties": {
            "street": {"type": ["string", "null"], "minLength": 1, "maxLength": 200},
            "number": {"type": ["string", "null"], "maxLength": 20},
            "city": {"type": ["string", "null"], "minLength": 1, "maxLength": 100},
            "client_id": {"type": "integer", "format": "int64", "description": "An existing client (404 otherwise)."}
        }
    }$j$::json),
    -- bills ----------------------------------------------------------------
    (50, 'Bill', $j${
        "type": "object",
        "required": ["id_key", "bill_number", "discount", "date", "total", "payment_type", "client_id"],
        "properties": {
            "id_key": {"type": "integer", "format": "int64"},
            "bill_number": {"type": "string"},
            "discount": {"type": ["number", "null"]},
            "date": {"type": "string", "format": "date"},
            "total": {"type": "number"},
            "payment_type": {"$ref": "#/components/schemas/PaymentType"},
            "client_id": {"type": "integer", "format": "int64"}
        }
    }$j$::json),
    (51, 'BillCreate', $j${
        "type": "object",
        "required": ["bill_number", "date", "total", "payment_type", "client_id"],
        "properties": {
            "bill_number": {"type": "string", "minLength": 1, "maxLength": 50,
                            "description": "Unique as written (409 otherwise)."},
            "discount": {"type": ["number", "null"], "minimum": 0, "maximum": 999999999999.99},
            "date": {"type": "string", "format": "date",
                     "description": "YYYY-MM-DD; a datetime whose time is zero is accepted too."},
            "total": {"type": "number", "minimum": 0, "maximum": 999999999999.99},
            "payment_type": {"$ref": "#/components/schemas/PaymentType"},
            "client_id": {"type": "integer", "format": "int64", "description": "An existing client (404 otherwise)."}
        }
    }$j$::json),
    -- orders ---------------------------------------------------------------
    (60, 'Order', $j${
        "type": "object",
        "required": ["id_key", "date", "total", "delivery_method", "status", "client_id", "bill_id"],
        "properties": {
            "id_key": {"type": "integer", "format": "int64"},
            "date": {"type": "string", "examples": ["2026-11-27T21:51:40"],
                     "description": "ISO-8601 datetime without zone (UTC), 'T' separator, fractional seconds only when not zero."},
            "total": {"type": "number"},
            "delivery_method": {"$ref": "#/components/schemas/DeliveryMethod"},
            "status": {"$ref": "#/components/schemas/OrderStatus"},
            "client_id": {"type": "integer", "format": "int64"},
            "bill_id": {"type": "integer", "format": "int64"}
        }
    }$j$::json),
    (61, 'OrderCreate', json_build_object(
        'type', 'object',
        'required', json_build_array('total', 'delivery_method', 'client_id', 'bill_id'),
        'properties', o.props)),
    (62, 'OrderUpdate', json_build_object(
        'type', 'object',
        'description', 'A partial update: only the keys sent change, and none is required; a key that is sent must be valid ("total": null is 422).',
        'properties', o.props)),
    -- order lines ----------------------------------------------------------
    (70, 'LineProduct', $j${
        "type": "object",
        "description": "The product of an order line.",
        "required": ["id_key", "name", "price"],
        "properties": {
            "id_key": {"type": "integer", "format": "int64"},
            "name": {"type": "string"},
            "price": {"type": "number"}
        }
    }$j$::json),
    (71, 'OrderDetail', $j${
        "type": "object",
        "required": ["id_key", "quantity", "price", "order_id", "product_id", "product"],
        "properties": {
            "id_key": {"type": "integer", "format": "int64"},
            "quantity": {"type": "integer"},
            "price": {"type": "number"},
            "order_id": {"type": "integer", "format": "int64"},
            "product_id": {"type": "integer", "format": "int64"},
            "product": {"$ref": "#/components/schemas/LineProduct"}
        }
    }$j$::json),
    (72, 'OrderDetailCreate', $j${
        "type": "object",
        "description": "Taking a line's quantity from stock, or changing it, refuses with 409 when the stock is short; lines of a canceled order cannot be added or changed (409).",
        "required": ["quantity", "order_id", "product_id"],
        "properties": {
            "quantity": {"type": "integer", "exclusiveMinimum": 0, "maximum": 2147483647},
            "price": {"type": ["number", "null"], "exclusiveMinimum": 0, "maximum": 9999999999.99,
                      "description": "Checked, not taken: it must be within 0.01 of the product's price (400 otherwise). The line is priced at the product's price."},
            "order_id": {"type": "integer", "format": "int64", "description": "An existing order (404 otherwise)."},
            "product_id": {"type": "integer", "format": "int64", "description": "An existing product (404 otherwise)."}
        }
    }$j$::json),
    -- reviews --------------------------------------------------------------
    (80, 'Review', $j${
        "type": "object",
        "required": ["id_key", "rating", "comment", "product_id"],
        "properties": {
            "id_key": {"type": "integer", "format": "int64"},
            "rating": {"type": "number"},
            "comment": {"type": ["string", "null"]},
            "product_id": {"type": "integer", "format": "int64"}
        }
    }$j$::json),
    (81, 'ReviewCreate', $j${
        "type": "object",
        "required": ["rating", "product_id"],
        "properties": {
            "rating": {"type": "number", "minimum": 1, "maximum": 5, "description": "Rounded half-up to two decimals."},
            "comment": {"type": ["string", "null"], "minLength": 10, "maxLength": 1000},
            "product_id": {"type": "integer", "format": "int64", "description": "An existing product (404 otherwise)."}
        }
    }$j$::json),
    -- login ----------------------------------------------------------------
    (90, 'LoginRequest', $j${
        "type": "object",
        "required": ["email", "password"],
        "properties": {
            "email": {"type": "string"},
            "password": {"type": "string", "writeOnly": true}
        }
    }$j$::json),
    (91, 'LoginResponse', $j${
        "type": "object",
        "required": ["id_key", "name", "token"],
        "properties": {
            "id_key": {"type": "integer", "format": "int64"},
            "name": {"type": "string"},
            "token": {"type": "string",
                      "description": "A signed bearer token (an HS256 JWT) carrying the client id, the admin flag and an expiry (ecommerce_api.token_lifetime): send it as `Authorization: Bearer <token>` (see bearerAuth)."}
        }
    }$j$::json),
    -- checkout -------------------------------------------------------------
    (100, 'CheckoutItem', $j${
        "type": "object",
        "required": ["product_id", "quantity"],
        "properties": {
            "product_id": {"type": "integer", "format": "int64", "description": "An existing product (404 otherwise)."},
            "quantity": {"type": "integer", "exclusiveMinimum": 0, "maximum": 2147483647}
        }
    }$j$::json),
    (101, 'CheckoutRequest', $j${
        "type": "object",
        "required": ["client_id", "delivery_method", "payment_type", "items"],
        "properties": {
            "client_id": {"type": "integer", "format": "int64", "description": "An existing client (404 otherwise)."},
            "delivery_method": {"$ref": "#/components/schemas/DeliveryMethod"},
            "payment_type": {"$ref": "#/components/schemas/PaymentType"},
            "items": {"type": "array", "minItems": 1, "maxItems": 1000,
                      "items": {"$ref": "#/components/schemas/CheckoutItem"},
                      "description": "Items naming the same product are merged into one line (quantities added)."}
        }
    }$j$::json),
    (102, 'CheckoutResponse', $j${
        "type": "object",
        "required": ["order", "bill", "order_details"],
        "properties": {
            "order": {"$ref": "#/components/schemas/Order"},
            "bill": {"$ref": "#/components/schemas/Bill"},
            "order_details": {"type": "array", "items": {"$ref": "#/components/schemas/OrderDetail"},
                              "description": "One line per product, in product id order, priced at the products' prices."}
        }
    }$j$::json),
    -- health ---------------------------------------------------------------
    (110, 'HealthLevel', $j${"type": "string", "enum": ["healthy", "warning", "critical"]}$j$::json),
    (111, 'Health', $j${
        "type": "object",
        "required": ["status", "timestamp", "checks"],
        "properties": {
            "status": {"$ref": "#/components/schemas/HealthLevel",
                       "description": "The worse of the two checks' levels."},
            "timestamp": {"type": "string", "description": "ISO-8601 datetime without zone (UTC)."},
            "checks": {
                "type": "object",
                "required": ["database", "db_pool"],
                "properties": {
                    "database": {
                        "type": "object",
                        "required": ["status", "health", "latency_ms", "thresholds"],
                        "properties": {
                            "status": {"type": "string", "enum": ["up", "down"]},
                            "health": {"$ref": "#/components/schemas/HealthLevel"},
                            "latency_ms": {"type": "number", "description": "One round trip through the executor."},
                            "thresholds": {
                                "type": "object",
                                "required": ["warning_ms", "critical_ms"],
                                "properties": {
                                    "warning_ms": {"type": "number", "const": 100.0},
                                    "critical_ms": {"type": "number", "const": 500.0}
                                }
                            }
                        }
                    },
                    "db_pool": {
                        "type": "object",
                        "description": "The pool is the set of HTTP workers: size is the configured workers, checked_out the busy ones.",
                        "required": ["health", "size", "checked_in", "checked_out", "overflow", "total_capacity",
                                     "utilization_percent", "thresholds"],
                        "properties": {
                            "health": {"$ref": "#/components/schemas/HealthLevel"},
                            "size": {"type": "integer"},
                            "checked_in": {"type": "integer"},
                            "checked_out": {"type": "integer"},
                            "overflow": {"type": "integer", "const": 0},
                            "total_capacity": {"type": "integer"},
                            "utilization_percent": {"type": "number"},
                            "thresholds": {
                                "type": "object",
                                "required": ["warning_percent", "critical_percent"],
                                "properties": {
                                    "warning_percent": {"type": "number", "const": 70.0},
                                    "critical_percent": {"type": "number", "const": 90.0}
                                }
                            }
                        }
                    }
                }
            }
        }
    }$j$::json)
           ) AS s(n, name, schema));
END
$$;

-- sql/auth.sql: GET /docs/static is public, as /docs
CREATE OR REPLACE FUNCTION ecommerce_api.authorize(route text, token text, args text[]) RETURNS text[]
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_claims  jsonb;
    v_me      numeric;    -- the caller
    v_doc     jsonb;      -- the body
    v_owner   numeric;    -- the client of the row the path names
    v_claimed numeric;    -- the client the body or the query names
    v_bill    numeric;    -- the client of the bill an order's body names
BEGIN
    IF route IN ('GET /categories', 'GET /categories/id/{id}',
                 'GET /products', 'GET /products/id/{id}', 'GET /products/filter',
                 'GET /reviews', 'GET /reviews/id/{id}',
                 'POST /clients', 'POST /clients/login',
                 'GET /openapi.json', 'GET /docs', 'GET /docs/static') THEN
        RETURN args;
    END IF;

    v_claims := ecommerce_api._token_claims(token);
    IF (v_claims -> 'admin')::boolean THEN
        RETURN args;
    END IF;
    v_me := (v_claims ->> 'sub')::numeric;

    CASE route
    WHEN 'POST /reviews' THEN
        RETURN args;

    -- the client record: args = (id[, body])
    WHEN 'GET /clients/id/{id}', 'PUT /clients/id/{id}', 'DELETE /clients/id/{id}' THEN
        v_owner := ecommerce_api._int_text(args[1]);

    -- lists: args = (skip, limit, client_id)
    WHEN 'GET /addresses', 'GET /bills', 'GET /orders' THEN
        IF args[3] IS NULL THEN
            RETURN args[1:2] || v_me::text;
        END IF;
        v_claimed := ecommerce_api._int_text(args[3]);

    -- creates: args = (body), checked below
    WHEN 'POST /addresses', 'POST /bills', 'POST /orders', 'POST /orders/checkout',
         'POST /order_details' THEN
        NULL;

    -- one row: args = (id[, body]); a PUT's body is checked below
    WHEN 'GET /addresses/id/{id}', 'PUT /addresses/id/{id}', 'DELETE /addresses/id/{id}' THEN
        SELECT a.client_id INTO v_owner FROM ecommerce_api.addresses a
         WHERE a.id_key = ecommerce_api._bigint(ecommerce_api._int_text(args[1]));
    WHEN 'GET /bills/id/{id}', 'PUT /bills/id/{id}', 'DELETE /bills/id/{id}' THEN
        SELECT b.client_id INTO v_owner FROM ecommerce_api.bills b
         WHERE b.id_key = ecommerce_api._bigint(ecommerce_api._int_text(args[1]));
    WHEN 'GET /orders/id/{id}', 'PUT /orders/id/{id}', 'DELETE /orders/id/{id}' THEN
        SELECT o.client_id INTO v_owner FROM ecommerce_api.orders o
         WHERE o.id_key = ecommerce_api._bigint(ecommerce_api._int_text(args[1]));

    -- order lines, through their order
    WHEN 'GET /order_details' THEN
        -- the lines of one of the caller's orders: order_id absent, or naming
        -- no order, is owner 0, nobody (not an integer: the route's 422)
        IF args[3] IS NULL OR ecommerce_api._int_text(args[3]) IS NOT NULL THEN
            SELECT coalesce(max(o.client_id), 0) INTO v_owner FROM ecommerce_api.orders o
             WHERE o.id_key = ecommerce_api._bigint(ecommerce_api._int_text(args[3]));
        END IF;
    WHEN 'GET /order_details/id/{id}', 'PUT /order_details/id/{id}',
         'DELETE /order_details/id/{id}' THEN
        SELECT o.client_id INTO v_owner
          FROM ecommerce_api.order_details d JOIN ecommerce_api.orders o ON o.id_key = d.order_id
         WHERE d.id_key = ecommerce_api._bigint(ecommerce_api._int_text(args[1]));

    ELSE
        -- admin only
        RAISE EXCEPTION USING ERRCODE = 'EA403', MESSAGE = 'Not enough permissions';
    END CASE;

    -- the body (a write's last argument) names a client, or an order of one
    IF route IN ('POST /addresses', 'POST /bills', 'POST /orders', 'POST /orders/checkout',
                 'PUT /addresses/id/{id}', 'PUT /bills/id/{id}', 'PUT /orders/id/{id}') THEN
        v_doc := ecommerce_api._body(args[cardinality(args)]);
        v_claimed := ecommerce_api._int_of(v_doc -> 'client_id');
    ELSIF route IN ('POST /order_details', 'PUT /order_details/id/{id}') THEN
        v_doc := ecommerce_api._body(args[cardinality(args)]);
        SELECT o.client_id INTO v_claimed FROM ecommerce_api.orders o
         WHERE o.id_key = ecommerce_api._bigint(ecommerce_api._int_of(v_doc -> 'order_id'));
    END IF;

    -- an order may only name a bill of the caller's
    IF route IN ('POST /orders', 'PUT /orders/id/{id}') THEN
        SELECT b.client_id INTO v_bill FROM ecommerce_api.bills b
         WHERE b.id_key = ecommerce_api._bigint(ecommerce_api._int_of(v_doc -> 'bill_id'));
    END IF;

    -- NULL is nothing to check: absent, not an integer, or naming no row,
    -- which the route itself answers (422, 404)
    IF coalesce(v_owner = v_me, true) AND coalesce(v_claimed = v_me, true)
       AND coalesce(v_bill = v_me, true) THEN
        RETURN args;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'EA403', MESSAGE = 'Not enough permissions';
END
$$;

-- sql/idempotency.sql (new in 1.2): the Idempotency-Key records

/* =========================================================================
 * Idempotent writes (Idempotency-Key)
 *
 * A POST that carries an Idempotency-Key runs once: its answer (status and
 * body) is stored here by the gateway in the same transaction as the write,
 * so the record commits, replicates and survives a failover together with
 * the order it describes.  A repeat of the request replays that answer.
 *
 * Keys are scoped: '' for anonymous clients (auth_mode = open, or no valid
 * token), the token's client id otherwise, so two clients' keys never meet.
 * A record is good for ecommerce_api.idempotency_ttl after it was written;
 * the gateway passes that age in, and a worker deletes older records in
 * small batches in its idle time (idempotency_sweep).
 *
 * Only answers of requests that committed are stored: a request that failed
 * changed nothing and may simply run again.
 * ========================================================================= */

CREATE TABLE ecommerce_api.idempotency_keys (
    scope      text        NOT NULL,
    key        text        NOT NULL,
    request    text        NOT NULL,   -- SHA-256 (hex) of method, path and body
    status     integer     NOT NULL,
    body       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_at ON ecommerce_api.idempotency_keys (created_at);

-- The scope of a request's keys: the client id of a token signed by us
-- (expired or not: it still names the client), else '' (anonymous).
CREATE FUNCTION ecommerce_api._idempotency_scope(token text) RETURNS text
LANGUAGE sql STABLE
AS $$
    SELECT coalesce(ecommerce_api._token_verify(token) ->> 'sub', '')
$$;

/*
 * idempotency_claim(scope, key, request, ttl): called before the route runs,
 * in the request's transaction.  Returns the stored answer to replay (one
 * row), or no row when the request is to run.  Refuses with
 *   EA409 while another request with the key is running: it holds the
 *         key's advisory lock until it commits or aborts, and waiting for
 *         it would tie up this worker (pg_try_advisory_xact_lock: no wait);
 *   EA422 when the key was used for another request (method, path or body).
 * An expired record is deleted, and the request runs again.
 */
CREATE FUNCTION ecommerce_api.idempotency_claim(p_scope text, p_key text, p_request text,
                                                p_ttl interval,
                                                OUT status integer, OUT body text)
RETURNS SETOF record
LANGUAGE plpgsql
AS $$
DECLARE
    v_row ecommerce_api.idempotency_keys;
BEGIN
    -- 'EAPI' as the lock class: our own space among the two-key advisory locks
    IF NOT pg_try_advisory_xact_lock(1161908297, hashtext(p_scope || ':' || p_key)) THEN
        RAISE EXCEPTION USING ERRCODE = 'EA409',
            MESSAGE = 'A request with this Idempotency-Key is still being processed; retry later';
    END IF;
    SELECT * INTO v_row FROM ecommerce_api.idempotency_keys k
     WHERE k.scope = p_scope AND k.key = p_key;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF v_row.created_at <= now() - p_ttl THEN
        DELETE FROM ecommerce_api.idempotency_keys k WHERE k.scope = p_scope AND k.key = p_key;
        RETURN;
    END IF;
    IF v_row.request <> p_request THEN
        RAISE EXCEPTION USING ERRCODE = 'EA422',
            MESSAGE = json_build_array(ecommerce_api._err('idempotency_key_reused',
                '["header", "Idempotency-Key"]'::jsonb,
                'This Idempotency-Key was already used with another request (method, path or body)',
                to_jsonb(p_key)))::text;
    END IF;
    status := v_row.status;
    body := v_row.body;
    RETURN NEXT;
END
$$;

-- Store the answer of a request that ran (same transaction, before commit).
CREATE FUNCTION ecommerce_api.idempotency_record(p_scope text, p_key text, p_request text,
                                                 p_status integer, p_body text)
RETURNS void
LANGUAGE sql
AS $$
    INSERT INTO ecommerce_api.idempotency_keys (scope, key, request, status, body)
    VALUES (p_scope, p_key, p_request, p_status, p_body)
$$;

/*
 * Delete up to p_batch records older than p_ttl; returns how many.  Rows
 * another transaction holds (a request claiming an expired key) are
 * skipped, so the sweep never waits for a request nor makes one wait.
 */
CREATE FUNCTION ecommerce_api.idempotency_sweep(p_ttl interval, p_batch integer)
RETURNS integer
LANGUAGE sql
AS $$
    WITH gone AS (
        DELETE FROM ecommerce_api.idempotency_keys k
         WHERE k.ctid = ANY (ARRAY(
                SELECT o.ctid FROM ecommerce_api.idempotency_keys o
                 WHERE o.created_at <= now() - p_ttl
                 ORDER BY o.created_at
                 LIMIT p_batch
                   FOR UPDATE SKIP LOCKED))
        RETURNING 1)
    SELECT count(*)::integer FROM gone
$$;
