--
-- openapi: the API's own description (GET /openapi.json and GET /docs).
-- Facts about the document, and its agreement with what the server does:
-- the request schemas against the validators (required fields, bounds,
-- nulls), the response schemas against the JSON the routes write (keys in
-- order, types), the HTML page against the document.  test/t/007_openapi.pl
-- checks the statuses over HTTP.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/regress_setup.psql

-- The document, as json (keys in the order written) and as jsonb.
CREATE TEMP TABLE d AS SELECT ecommerce_api.api_openapi()::json AS j, ecommerce_api.api_openapi()::jsonb AS doc;

-- OpenAPI 3.1; info.version is the installed extension's version.
SELECT doc ->> 'openapi',
       doc -> 'info' ->> 'version' = (SELECT extversion FROM pg_extension WHERE extname = 'ecommerce_api')
  FROM d;

-- Every route of the contract (section 2, and section 4's /metrics,
-- /openapi.json, /docs) is documented, and nothing else: both differences
-- are empty.
CREATE TEMP TABLE contract_routes (method text, path text);
INSERT INTO contract_routes
SELECT m.method, r.base || m.suffix
  FROM (VALUES ('/categories'), ('/products'), ('/api/v1/clients'), ('/addresses'), ('/bills'),
               ('/orders'), ('/order_details'), ('/reviews')) AS r(base),
       (VALUES ('get', '/'), ('post', '/'), ('get', '/id/{id}'), ('put', '/id/{id}'),
               ('delete', '/id/{id}')) AS m(method, suffix)
UNION ALL
VALUES ('post', '/api/v1/clients/login'), ('get', '/products/filter'), ('post', '/orders/checkout'),
       ('get', '/health_check/'), ('get', '/metrics'), ('get', '/openapi.json'), ('get', '/docs'), ('get', '/docs/static'),
       ('get', '/live'), ('get', '/ready');
CREATE TEMP VIEW operations AS
SELECT p.key AS path, o.key AS method, o.value AS op
  FROM d, jsonb_each(doc -> 'paths') AS p, jsonb_each(p.value) AS o;
SELECT 'undocumented', method, path FROM contract_routes
EXCEPT SELECT 'undocumented', method, path FROM operations;
SELECT 'not in the contract', method, path FROM operations
EXCEPT SELECT 'not in the contract', method, path FROM contract_routes;
SELECT count(*) AS operations FROM operations;

-- operationIds are unique and name the route's SQL function (api_<id>;
-- health, liveness, readiness and metrics are answered in C).
SELECT op ->> 'operationId', count(*) FROM operations GROUP BY 1 HAVING count(*) > 1;
SELECT op ->> 'operationId' AS no_function
  FROM operations
 WHERE op ->> 'operationId' NOT IN ('health_check', 'metrics', 'live', 'ready')
   AND to_regproc('ecommerce_api.api_' || (op ->> 'operationId')) IS NULL;

-- Every $ref resolves, and every component is used (405 excepted: no
-- operation answers it, it is what a method a path does not list gets).
SELECT DISTINCT r #>> '{}' AS unresolved
  FROM d, jsonb_path_query(doc, 'strict $.**."$ref"') AS r
 WHERE doc #> string_to_array(substr(r #>> '{}', 3), '/') IS NULL;
SELECT count(DISTINCT r #>> '{}') > 40 AS many_refs FROM d, jsonb_path_query(doc, 'strict $.**."$ref"') AS r;
SELECT k.kind || '/' || c.key AS unused
  FROM d, (VALUES ('schemas'), ('parameters'), ('responses')) AS k(kind),
       jsonb_each(doc -> 'components' -> k.kind) AS c
 WHERE NOT EXISTS (SELECT FROM jsonb_path_query(doc, 'strict $.**."$ref"') AS r
                    WHERE r #>> '{}' = '#/components/' || k.kind || '/' || c.key)
 ORDER BY 1;

-- Answers: each operation has exactly one success; a body brings 413 and
-- 422, a parameter 422, an id in the path 404; an operation that needs a
-- token in required mode lists 401 and 403.
SELECT path, method, array_agg(s ORDER BY s) AS successes
  FROM operations, jsonb_object_keys(op -> 'responses') AS s
 WHERE s LIKE '2%'
 GROUP BY 1, 2 HAVING count(*) <> 1;
SELECT path, method, 'missing ' || need
  FROM operations,
       LATERAL (VALUES ('413', op ? 'requestBody'), ('422', op ? 'requestBody' OR op ? 'parameters'),
                       ('404', path LIKE '%{id}%'),
                       ('401', op ? 'security'), ('403', op ? 'security')) AS n(need, applies)
 WHERE applies AND NOT op -> 'responses' ? need;
SELECT method, path, op -> 'responses' -> '404' ->> 'description' AS "404", op -> 'responses' -> '409' ->> 'description' AS "409"
  FROM operations
 WHERE path LIKE '/categories/%' OR path LIKE '/order_details/%'
 ORDER BY path, method;
SELECT method, path FROM operations WHERE op ? 'security' ORDER BY path, method;

-- The list parameters: skip >= 0 (default 0), limit 1..1000 (default 100).
SELECT key, value -> 'schema' FROM d, jsonb_each(doc -> 'components' -> 'parameters') ORDER BY key;
SELECT p ->> 'name', p -> 'schema'
  FROM operations, jsonb_array_elements(op -> 'parameters') AS p
 WHERE path = '/products/filter' AND p ? 'name';

-- The request schemas agree with the validators (section 6): the fields
-- they require are the ones an empty object is missing.
CREATE FUNCTION pg_temp.errors_of(schema text, body jsonb) RETURNS jsonb
LANGUAGE sql AS $f$
    SELECT coalesce(jsonb_agg(e::jsonb), '[]')
      FROM unnest(CASE schema
               WHEN 'CategoryCreate' THEN ecommerce_api._category_errors(body)
               WHEN 'ProductCreate' THEN ecommerce_api._product_errors(body)
               WHEN 'ClientCreate' THEN ecommerce_api._client_errors(body)
               WHEN 'AddressCreate' THEN ecommerce_api._address_errors(body)
               WHEN 'BillCreate' THEN ecommerce_api._bill_errors(body)
               WHEN 'OrderCreate' THEN ecommerce_api._order_errors(body, false)
               WHEN 'OrderUpdate' THEN ecommerce_api._order_errors(body, true)
               WHEN 'OrderDetailCreate' THEN ecommerce_api._order_detail_errors(body)
               WHEN 'ReviewCreate' THEN ecommerce_api._review_errors(body)
               WHEN 'LoginRequest' THEN ecommerce_api._login_errors(body)
               WHEN 'CheckoutRequest' THEN ecommerce_api._checkout_errors(body)
               WHEN 'CheckoutItem' THEN ecommerce_api._checkout_item_errors(body, 0)
           END) AS e
     WHERE e IS NOT NULL
$f$;
-- The request schemas: what the operations send, and what they refer to.
CREATE TEMP VIEW request_schemas AS
SELECT s.key AS schema, s.value AS def
  FROM d, jsonb_each(doc -> 'components' -> 'schemas') AS s
 WHERE s.key IN (SELECT substring(op #>> '{requestBody,content,application/json,schema,$ref}' FROM '[^/]*$')
                   FROM operations)
    OR s.key = 'CheckoutItem';
SELECT schema, documented = enforced AS agree, documented
  FROM request_schemas,
       LATERAL (SELECT coalesce(array_agg(f ORDER BY f), '{}')
                  FROM jsonb_array_elements_text(def -> 'required') AS f) AS a(documented),
       LATERAL (SELECT coalesce(array_agg(e -> 'loc' ->> -1 ORDER BY e -> 'loc' ->> -1), '{}')
                  FROM jsonb_array_elements(pg_temp.errors_of(schema, '{}')) AS e
                 WHERE e ->> 'type' = 'missing') AS b(enforced)
 ORDER BY schema;

-- Every documented bound and enum is the validator's: one step past it is
-- refused for that field (with the error type shown), the bound itself is
-- accepted (empty); null is accepted exactly where the schema allows it.
CREATE FUNCTION pg_temp.problem(schema text, field text, value jsonb) RETURNS text
LANGUAGE sql AS $f$
    SELECT string_agg(e ->> 'type', ',')
      FROM jsonb_array_elements(pg_temp.errors_of(schema, jsonb_build_object(field, value))) AS e
     WHERE e -> 'loc' ->> -1 = field
$f$;
WITH props AS (
    SELECT r.schema, p.key AS field,
           -- an enum is a component, possibly "or null"
           coalesce(doc #> string_to_array(substr(coalesce(p.value ->> '$ref', p.value #>> '{anyOf,0,$ref}'), 3), '/'),
                    p.value) AS def,
           p.value AS prop
      FROM d, request_schemas AS r, jsonb_each(r.def -> 'properties') AS p),
cases (schema, field, rule, bad, good) AS (
    SELECT schema, field, 'maxLength',
           to_jsonb(CASE WHEN def ->> 'format' = 'email'
                         THEN repeat('x', (def ->> 'maxLength')::int - 11) || '@example.com'
                         ELSE repeat('x', (def ->> 'maxLength')::int + 1) END),
           to_jsonb(CASE WHEN def ->> 'format' = 'email'
                         THEN repeat('x', (def ->> 'maxLength')::int - 12) || '@example.com'
                         ELSE repeat('x', (def ->> 'maxLength')::int) END)
      FROM props WHERE def ? 'maxLength'
    UNION ALL
    SELECT schema, field, 'minLength', to_jsonb(repeat('x', (def ->> 'minLength')::int - 1)),
           to_jsonb(repeat('x', (def ->> 'minLength')::int))
      FROM props WHERE def ? 'minLength'
    UNION ALL
    SELECT schema, field, 'minimum', to_jsonb((def ->> 'minimum')::numeric - 1), def -> 'minimum'
      FROM props WHERE def ? 'minimum'
    UNION ALL
    SELECT schema, field, 'exclusiveMinimum', def -> 'exclusiveMinimum',
           to_jsonb((def ->> 'exclusiveMinimum')::numeric + 1)
      FROM props WHERE def ? 'exclusiveMinimum'
    UNION ALL
    SELECT schema, field, 'maximum',
           to_jsonb((def ->> 'maximum')::numeric + CASE WHEN def -> 'type' @> '"integer"' THEN 1 ELSE 0.01 END),
           def -> 'maximum'
      FROM props WHERE def ? 'maximum'
    UNION ALL
    SELECT schema, field, 'enum', to_jsonb((SELECT max(v::int) + 1 FROM jsonb_array_elements_text(def -> 'enum') AS v)),
           to_jsonb((SELECT max(v::int) FROM jsonb_array_elements_text(def -> 'enum') AS v))
      FROM props WHERE def ? 'enum'
    UNION ALL
    SELECT schema, field, 'minItems', '[]', '[{"product_id": 1, "quantity": 1}]'
      FROM props WHERE def ? 'minItems'
    UNION ALL
    SELECT schema, field, 'maxItems',
           (SELECT jsonb_agg('{"product_id": 1, "quantity": 1}'::jsonb)
              FROM generate_series(1, (def ->> 'maxItems')::int + 1)),
           (SELECT jsonb_agg('{"product_id": 1, "quantity": 1}'::jsonb)
              FROM generate_series(1, (def ->> 'maxItems')::int))
      FROM props WHERE def ? 'maxItems'
    UNION ALL
    -- null: refused where the schema's types do not include it
    SELECT schema, field, CASE WHEN nullable THEN 'null allowed' ELSE 'null refused' END,
           CASE WHEN NOT nullable THEN 'null'::jsonb END, CASE WHEN nullable THEN 'null'::jsonb END
      FROM props,
           LATERAL (SELECT coalesce(prop -> 'type' ? 'null', false)
                        OR coalesce(prop -> 'anyOf' @> '[{"type": "null"}]', false)) AS n(nullable))
SELECT schema, field, rule,
       CASE WHEN bad IS NULL THEN '-' ELSE coalesce(pg_temp.problem(schema, field, bad), 'NOT REFUSED') END AS refused,
       CASE WHEN good IS NULL THEN '-' ELSE coalesce(pg_temp.problem(schema, field, good), '') END AS accepted
  FROM cases
 ORDER BY schema, field, rule;

-- The response schemas agree with the JSON the routes write: the same keys
-- in the same order (section 1's order), every required key, values of the
-- documented types, nested objects included.
DO $$
BEGIN
    PERFORM ecommerce_api.api_categories_create('{"name": "Garden"}');
    PERFORM ecommerce_api.api_products_create('{"name": "Rake", "price": 12.5, "stock": 10, "category_id": 1}');
    PERFORM ecommerce_api.api_products_create('{"name": "Loose", "price": 1}');
    PERFORM ecommerce_api.api_clients_create('{"name": "Ann", "lastname": "Lee", "email": "ann@example.com", "password": "secret1"}');
    PERFORM ecommerce_api.api_addresses_create('{"client_id": 1, "city": "Lyon"}');
    PERFORM ecommerce_api.api_bills_create('{"bill_number": "B-1", "date": "2026-01-02", "total": 25, "payment_type": 2, "client_id": 1}');
    PERFORM ecommerce_api.api_orders_create('{"total": 25, "delivery_method": 3, "client_id": 1, "bill_id": 1}');
    PERFORM ecommerce_api.api_order_details_create('{"quantity": 2, "order_id": 1, "product_id": 1}');
    PERFORM ecommerce_api.api_reviews_create('{"rating": 4.5, "product_id": 1}');
END
$$;
CREATE TEMP TABLE answers AS
SELECT * FROM (VALUES
    ('Category', api_categories_get('1')::json),
    ('Product', api_products_get('1')::json),
    ('Product', api_products_get('2')::json),
    ('Client', api_clients_get('1')::json),
    ('Address', api_addresses_get('1')::json),
    ('Bill', api_bills_get('1')::json),
    ('Order', api_orders_get('1')::json),
    ('OrderDetail', api_order_details_get('1')::json),
    ('Review', api_reviews_get('1')::json),
    ('LoginResponse', api_clients_login('{"email": "ann@example.com", "password": "secret1"}')::json),
    ('CheckoutResponse', api_orders_checkout('{"client_id": 1, "delivery_method": 1, "payment_type": 1,
                                                "items": [{"product_id": 1, "quantity": 1}]}')::json)
  ) AS a(schema, value);
-- The problems of a value against a schema ($ref, "X or null", type,
-- required keys, properties and items, recursively).
CREATE FUNCTION pg_temp.shape_problems(doc jsonb, schema jsonb, value json, at text) RETURNS SETOF text
LANGUAGE plpgsql AS $f$
DECLARE
    s     jsonb := schema;
    t     text := json_typeof(value);
    types jsonb;
    p     record;
BEGIN
    LOOP
        IF s ? '$ref' THEN
            s := doc #> string_to_array(substr(s ->> '$ref', 3), '/');
        ELSIF s ? 'anyOf' THEN
            -- "X or null": the branch for this value
            s := CASE WHEN t = 'null' THEN '{"type": "null"}' ELSE s #> '{anyOf,0}' END;
        ELSE
            EXIT;
        END IF;
    END LOOP;
    types := CASE jsonb_typeof(s -> 'type') WHEN 'array' THEN s -> 'type' ELSE jsonb_build_array(s -> 'type') END;
    IF NOT (types ? t OR (t = 'number' AND types ? 'integer' AND value::text ~ '^-?[0-9]+$')) THEN
        RETURN NEXT format('%s: %s is not %s', at, t, types);
        RETURN;
    END IF;
    IF t = 'object' THEN
        RETURN QUERY SELECT format('%s: %s missing', at, r.f)
                       FROM jsonb_array_elements_text(s -> 'required') AS r(f)
                      WHERE value -> r.f IS NULL;
        FOR p IN SELECT key, v FROM jsonb_each(s -> 'properties') AS e(key, v) LOOP
            IF value -> p.key IS NOT NULL THEN
                RETURN QUERY SELECT pg_temp.shape_problems(doc, p.v, value -> p.key, at || '.' || p.key);
            END IF;
        END LOOP;
    ELSIF t = 'array' AND s ? 'items' THEN
        FOR p IN SELECT e.n, e.v FROM json_array_elements(value) WITH ORDINALITY AS e(v, n) LOOP
            RETURN QUERY SELECT pg_temp.shape_problems(doc, s -> 'items', p.v, at || '[' || p.n || ']');
        END LOOP;
    END IF;
END
$f$;
-- keys: in the documented order (json keeps both orders), none undocumented
SELECT a.schema,
       array(SELECT k FROM json_object_keys(props) AS k WHERE a.value::jsonb ? k)
           = array(SELECT json_object_keys(a.value)) AS keys_in_order,
       NOT EXISTS (SELECT FROM json_object_keys(a.value) AS k WHERE NOT props::jsonb ? k) AS all_documented
  FROM answers AS a, d, LATERAL (SELECT d.j #> ARRAY['components', 'schemas', a.schema, 'properties']) AS s(props);
SELECT a.schema, pg_temp.shape_problems(d.doc, d.doc #> ARRAY['components', 'schemas', a.schema], a.value, a.schema)
  FROM answers AS a, d;
SELECT count(*) AS answers_checked FROM answers WHERE value IS NOT NULL;
-- nested objects in order too: a product's category, a line's product
SELECT array(SELECT json_object_keys(api_products_get('1')::json -> 'category'))
       = array(SELECT json_object_keys(j #> '{components,schemas,Category,properties}')),
       array(SELECT json_object_keys(api_order_details_get('1')::json -> 'product'))
       = array(SELECT json_object_keys(j #> '{components,schemas,LineProduct,properties}'))
  FROM d;

-- GET /docs: HTML rendered from the document, escaped, self-contained.
SELECT ecommerce_api._html('<a href="x">Tom & Jerry''s</a>');
CREATE TEMP TABLE page AS SELECT ecommerce_api.api_docs() AS html;
SELECT html LIKE '<!DOCTYPE html>%</html>' FROM page;
-- every operation is on the page, with its anchor
SELECT method, path FROM operations, page
 WHERE strpos(html, format('<code>%s</code>', path)) = 0
    OR strpos(html, format('id="op-%s"', op ->> 'operationId')) = 0;
-- every schema has its section, every internal link a target
SELECT s.key FROM d, page, jsonb_each(doc -> 'components' -> 'schemas') AS s
 WHERE strpos(html, format('id="schema-%s"', s.key)) = 0;
SELECT DISTINCT m[1] AS broken_link FROM page, regexp_matches(html, 'href="#([^"]*)"', 'g') AS m
 WHERE strpos(html, format('id="%s"', m[1])) = 0;
-- nothing loaded from elsewhere, nothing run
SELECT html ~* '<script|<link|<iframe|<img|src=|@import|url\(|https?:' AS loads_something FROM page;
-- the document's text arrives escaped: "Bearer <token>" of the security scheme
SELECT strpos(html, 'Bearer &lt;token&gt;') > 0 AS escaped, strpos(html, '<token>') = 0 AS nothing_raw FROM page;
