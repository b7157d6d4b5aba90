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

-- sql/openapi.sql: GET /live and GET /ready, and what the health check says now

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

Errors are {"detail": "<message>"}; a validation failure is 422 {"detail": [{"type", "loc", "msg", "input"}, ...]} in FastAPI's shape, listing every problem at once. Statuses: 400 business rule, 401/403 authentication (see bearerAuth), 404 not found, 405 wrong method, 409 conflict, 413 body too large, 422 invalid, 429 rate limited, 500 unexpected, 503 unavailable.$d$),
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
                'Creates the bill (number CHK-<yyyymmdd>-<n>), the order (total computed from the products'' prices) and its lines in one transaction. Any failing item refuses the whole checkout and nothing is written.',
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
                'docs', 'service', 'This description as a web page',
                'An HTML page rendered from /openapi.json, self-contained (no scripts, styles or fonts from elsewhere).',
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
                    'description', $d$The token of POST /api/v1/clients/login, signed, carrying the client id, the admin flag and an expiry; send it as "Authorization: Bearer <token>". It is needed only when ecommerce_api.auth_mode = required; in the default mode (open) no route needs one. In required mode, catalog reads (products, categories, reviews), registration (POST /api/v1/clients/), login, health, metrics and this description are public; a client may read and write only its own client record, addresses, bills, orders, order lines and reviews, and check out; catalog writes and other clients' data need an admin token. A missing or bad token answers 401, a valid token without the right 403. The operations that need a token in required mode list bearerAuth as an alternative to no authentication.$d$))))));
END
$$;
