--
-- auth: login tokens (HS256 JWT signed in SQL), their refusals, the signing
-- key and its rotation, the policy of required mode (authorize), and a
-- least-privilege role signing and verifying without reading the key.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/regress_setup.psql

-- check(token): what a request with this token is taken for ("sub=2
-- admin=false"), or '[SQLSTATE] message (hint)' when it is refused; the
-- hint is the WWW-Authenticate challenge the gateway sends with the 401.
CREATE FUNCTION pg_temp.check(token text) RETURNS text
LANGUAGE plpgsql AS $f$
DECLARE
    claims jsonb;
    hint   text;
BEGIN
    claims := ecommerce_api._token_claims(token);
    RETURN format('sub=%s admin=%s', claims ->> 'sub', claims ->> 'admin');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
    RETURN format('[%s] %s', sqlstate, sqlerrm) || coalesce(nullif(format(' (%s)', nullif(hint, '')), ' ()'), '');
END
$f$;

-- auth(route, token, args): authorize()'s verdict, "ok" when the route runs
-- with the arguments unchanged, "ok {...}" with the arguments it runs with
-- otherwise, or the SQLSTATE of the refusal.
CREATE FUNCTION pg_temp.auth(route text, token text, args text[]) RETURNS text
LANGUAGE plpgsql AS $f$
DECLARE
    result text[];
BEGIN
    result := ecommerce_api.authorize(route, token, args);
    RETURN CASE WHEN result IS NOT DISTINCT FROM args THEN 'ok' ELSE 'ok ' || result::text END;
EXCEPTION WHEN OTHERS THEN
    RETURN sqlstate;
END
$f$;

-- The signing key: one row of 32 random bytes, no privilege for PUBLIC, not
-- dumped with the data (a restored database makes its own).
SELECT count(*) AS keys, max(octet_length(key)) AS key_bytes FROM auth_key;
SELECT count(*) AS public_grants
  FROM pg_class c, aclexplode(c.relacl) a
 WHERE c.oid = 'ecommerce_api.auth_key'::regclass AND a.grantee = 0;
SELECT 'ecommerce_api.auth_key'::regclass = ANY (extconfig) AS key_dumped
  FROM pg_extension WHERE extname = 'ecommerce_api';
-- Exactly sign and verify run as the key's owner, with a pinned search_path;
-- PUBLIC may not run them, nor rotate the key.
SELECT p.oid::regprocedure, coalesce(p.proconfig::text LIKE '%search_path=%', false) AS pinned_path
  FROM pg_proc p
 WHERE p.pronamespace = 'ecommerce_api'::regnamespace AND p.prosecdef
 ORDER BY 1;
SELECT p.oid::regprocedure,
       EXISTS (SELECT FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE') AS public_execute
  FROM pg_proc p
 WHERE p.oid IN ('ecommerce_api._token_sign(json)'::regprocedure, 'ecommerce_api._token_verify(text)'::regprocedure,
                 'ecommerce_api.rotate_auth_key()'::regprocedure, 'ecommerce_api.authorize(text,text,text[])'::regprocedure)
 ORDER BY 1;

-- A shop: client 1 the admin, Ann (2) and Bob (3), each with an address, a
-- bill, an order and an order line.
SELECT pg_temp.try('api_clients_create', '{"name": "Root", "lastname": "Admin", "email": "root@example.com", "password": "root-pw"}');
SELECT pg_temp.try('api_clients_create', '{"name": "Ann", "lastname": "Lee", "email": "ann@example.com", "password": "ann-pw"}');
SELECT pg_temp.try('api_clients_create', '{"name": "Bob", "lastname": "Ray", "email": "bob@example.com", "password": "bob-pw"}');
UPDATE clients SET is_admin = true WHERE id_key = 1;
INSERT INTO categories (name) VALUES ('Tools');
INSERT INTO products (name, price, stock, category_id) VALUES ('Hammer', 10, 100, 1);
INSERT INTO reviews (rating, comment, product_id) VALUES (5, 'A fine hammer indeed.', 1);
INSERT INTO addresses (street, city, client_id) VALUES ('Ann Street', 'Annville', 2), ('Bob Street', 'Bobville', 3);
INSERT INTO bills (bill_number, date, total, payment_type, client_id)
VALUES ('B-ANN', '2026-01-01', 10, 1, 2), ('B-BOB', '2026-01-01', 10, 1, 3);
INSERT INTO orders (total, delivery_method, client_id, bill_id) VALUES (10, 1, 2, 1), (10, 1, 3, 2);
INSERT INTO order_details (quantity, price, order_id, product_id) VALUES (1, 10, 1, 1), (1, 10, 2, 1);

-- Login answers {id_key, name, token}; wrong password and unknown email 401.
SELECT r::json ->> 'id_key' AS id_key, r::json ->> 'name' AS name,
       (SELECT string_agg(k, ',') FROM json_object_keys(r::json) AS k) AS keys
  FROM pg_temp.try('api_clients_login', '{"email": "ann@example.com", "password": "ann-pw"}') AS r;
SELECT pg_temp.try('api_clients_login', '{"email": "ann@example.com", "password": "bob-pw"}');
SELECT pg_temp.try('api_clients_login', '{"email": "nobody@example.com", "password": "ann-pw"}');
SELECT r::json ->> 'token' AS ann_token
  FROM pg_temp.try('api_clients_login', '{"email": "ann@example.com", "password": "ann-pw"}') AS r \gset
SELECT r::json ->> 'token' AS bob_token
  FROM pg_temp.try('api_clients_login', '{"email": "bob@example.com", "password": "bob-pw"}') AS r \gset
SELECT r::json ->> 'token' AS admin_token
  FROM pg_temp.try('api_clients_login', '{"email": "root@example.com", "password": "root-pw"}') AS r \gset

-- The token is a JWT: three base64url parts without padding, the HS256
-- header, the claims sub (a string), admin, iat and exp (iat + the lifetime,
-- 1 h by default), signed with HMAC-SHA256 over "header.payload" with the
-- stored key, as any JWT library would check it.
SELECT array_length(string_to_array(:'ann_token', '.'), 1) AS parts,
       :'ann_token' ~ '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' AS base64url,
       convert_from(_b64url_decode(split_part(:'ann_token', '.', 1)), 'UTF8') AS header;
SELECT (SELECT string_agg(k, ',') FROM json_object_keys(p) AS k) AS claims,
       p ->> 'sub' AS sub, p ->> 'admin' AS admin, json_typeof(p -> 'sub') AS sub_type,
       (p ->> 'exp')::bigint - (p ->> 'iat')::bigint AS lifetime,
       abs((p ->> 'iat')::bigint - extract(epoch FROM now())) < 5 AS issued_now
  FROM (SELECT convert_from(_b64url_decode(split_part(:'ann_token', '.', 2)), 'UTF8')::json AS p) x;
SELECT _b64url(hmac(convert_to(left(:'ann_token', -44), 'UTF8'), (SELECT key FROM auth_key), 'sha256')) = right(:'ann_token', 43)
       AS hs256_signature;
SELECT convert_from(_b64url_decode(split_part(:'admin_token', '.', 2)), 'UTF8')::json ->> 'admin' AS admin_flag;

-- Round trip: the tokens verify and name their clients.
SELECT pg_temp.check(:'ann_token');
SELECT pg_temp.check(:'bob_token');
SELECT pg_temp.check(:'admin_token');

-- Refused: no token (401 "Not authenticated", plain challenge), and every
-- kind of bad token (401 "Invalid or expired token", error="invalid_token").
SELECT pg_temp.check(NULL);
-- tampered signature, payload (admin: true with the old signature), header
SELECT pg_temp.check(left(:'ann_token', -1) || CASE WHEN right(:'ann_token', 1) = 'A' THEN 'B' ELSE 'A' END);
SELECT pg_temp.check(split_part(:'ann_token', '.', 1) || '.'
                     || _b64url(convert_to(replace(convert_from(_b64url_decode(split_part(:'ann_token', '.', 2)), 'UTF8'),
                                                   '"admin" : false', '"admin" : true'), 'UTF8'))
                     || '.' || split_part(:'ann_token', '.', 3));
SELECT pg_temp.check(_b64url(convert_to('{"alg":"HS256","typ":"JWT","kid":"x"}', 'UTF8')) || substr(:'ann_token', 37));
-- alg "none" without a signature
SELECT pg_temp.check(_b64url(convert_to('{"alg":"none","typ":"JWT"}', 'UTF8')) || '.'
                     || split_part(:'ann_token', '.', 2) || '.');
-- signed with another key
SELECT pg_temp.check(left(:'ann_token', -43)
                     || _b64url(hmac(convert_to(left(:'ann_token', -44), 'UTF8'), gen_random_bytes(32), 'sha256')));
-- malformed
SELECT pg_temp.check('');
SELECT pg_temp.check('not-a-token');
SELECT pg_temp.check('a.b.c');
SELECT pg_temp.check(:'ann_token' || '=');
SELECT pg_temp.check(' ' || :'ann_token');
SELECT pg_temp.check(:'ann_token' || '.' || split_part(:'ann_token', '.', 3));
SELECT pg_temp.check(left(:'ann_token', -1) || '!');
SELECT pg_temp.check(left(:'ann_token', 37) || repeat('A', 2000) || right(:'ann_token', 44));
-- expired (exp in the past, or now), though correctly signed.  "Now" is
-- exactly now(), microseconds included (the check compares numerics, and a
-- whole second would be up to a second in the past).
SELECT pg_temp.check(_token_sign(json_build_object('sub', '2', 'admin', false,
                     'iat', floor(extract(epoch FROM now())) - 7200, 'exp', floor(extract(epoch FROM now())) - 3600)));
SELECT pg_temp.check(_token_sign(json_build_object('sub', '2', 'admin', false,
                     'iat', floor(extract(epoch FROM now())) - 3600, 'exp', extract(epoch FROM now()))));
-- a microsecond later it is still valid
SELECT pg_temp.check(_token_sign(json_build_object('sub', '2', 'admin', false,
                     'iat', floor(extract(epoch FROM now())) - 3600, 'exp', extract(epoch FROM now()) + 0.000001)));
SELECT pg_temp.check(_token_sign(json_build_object('sub', '2', 'admin', false,
                     'iat', floor(extract(epoch FROM now())), 'exp', floor(extract(epoch FROM now())) + 60)));
-- correctly signed, claims of the wrong shape
SELECT pg_temp.check(_token_sign('{"sub": 2, "admin": false, "exp": 9999999999}'));
SELECT pg_temp.check(_token_sign('{"sub": "2", "admin": "true", "exp": 9999999999}'));
SELECT pg_temp.check(_token_sign('{"sub": "2", "admin": false}'));
SELECT pg_temp.check(_token_sign('{"sub": "2", "admin": false, "exp": "9999999999"}'));
SELECT pg_temp.check(_token_sign('{"sub": "0", "admin": false, "exp": 9999999999}'));
SELECT pg_temp.check(_token_sign('{"admin": true, "exp": 9999999999}'));
SELECT pg_temp.check(_token_sign('[1, 2]'));

-- The policy of required mode: route x (no token, the owner Ann, another
-- client Bob, an admin).  The rows named are Ann's (address 1, bill 1,
-- order 1, line 1); Bob's are number 2.  "ok {...}": the route runs with
-- these arguments (a client's list is scoped to its own rows).
CREATE TEMP TABLE callers (ord integer, token text);
INSERT INTO callers VALUES (1, NULL), (2, :'ann_token'), (3, :'bob_token'), (4, :'admin_token');
SELECT format('%-30s %-42s %s', r.route, r.args::text,
              string_agg(pg_temp.auth(r.route, c.token, r.args), ' | ' ORDER BY c.ord))
  FROM (VALUES
    -- public
    (1, 'GET /categories', '{NULL,NULL}'::text[]),
    (2, 'GET /categories/id/{id}', '{1}'),
    (3, 'GET /products', '{NULL,NULL}'),
    (4, 'GET /products/id/{id}', '{1}'),
    (5, 'GET /products/filter', '{NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL}'),
    (6, 'GET /reviews', '{NULL,NULL,1}'),
    (7, 'GET /reviews/id/{id}', '{1}'),
    (8, 'POST /clients', '{"{\"name\": \"X\"}"}'),
    (9, 'POST /clients/login', '{"{}"}'),
    (10, 'GET /openapi.json', '{}'),
    (11, 'GET /docs', '{}'),
    -- admin only
    (20, 'POST /categories', '{"{\"name\": \"X\"}"}'),
    (21, 'PUT /categories/id/{id}', '{1,"{\"name\": \"X\"}"}'),
    (22, 'DELETE /categories/id/{id}', '{1}'),
    (23, 'POST /products', '{"{}"}'),
    (24, 'PUT /products/id/{id}', '{1,"{}"}'),
    (25, 'DELETE /products/id/{id}', '{1}'),
    (26, 'GET /clients', '{NULL,NULL}'),
    (27, 'PUT /reviews/id/{id}', '{1,"{}"}'),
    (28, 'DELETE /reviews/id/{id}', '{1}'),
    (29, 'GET /nowhere', '{1}'),
    -- any valid token
    (30, 'POST /reviews', '{"{\"product_id\": 1}"}'),
    -- the client record
    (40, 'GET /clients/id/{id}', '{2}'),
    (41, 'GET /clients/id/{id}', '{" +2.0 "}'),
    (42, 'PUT /clients/id/{id}', '{2,"{}"}'),
    (43, 'DELETE /clients/id/{id}', '{2}'),
    (44, 'GET /clients/id/{id}', '{abc}'),
    -- lists: scoped, or filtered by the caller's own id
    (50, 'GET /addresses', '{NULL,NULL,NULL}'),
    (51, 'GET /addresses', '{0,10,2}'),
    (52, 'GET /bills', '{NULL,NULL,NULL}'),
    (53, 'GET /bills', '{NULL,NULL,2}'),
    (54, 'GET /orders', '{NULL,NULL,NULL}'),
    (55, 'GET /orders', '{NULL,NULL,2}'),
    (56, 'GET /orders', '{NULL,NULL,x}'),
    (57, 'GET /order_details', '{NULL,NULL,1}'),
    (58, 'GET /order_details', '{NULL,NULL,NULL}'),
    (59, 'GET /order_details', '{NULL,NULL,999}'),
    -- one row, by its owner
    (60, 'GET /addresses/id/{id}', '{1}'),
    (61, 'PUT /addresses/id/{id}', '{1,"{\"client_id\": 2}"}'),
    (62, 'PUT /addresses/id/{id}', '{1,"{\"client_id\": 3}"}'),
    (63, 'DELETE /addresses/id/{id}', '{1}'),
    (64, 'GET /bills/id/{id}', '{1}'),
    (65, 'PUT /bills/id/{id}', '{1,"{\"client_id\": \"2\"}"}'),
    (66, 'DELETE /bills/id/{id}', '{1}'),
    (67, 'GET /orders/id/{id}', '{1}'),
    (68, 'PUT /orders/id/{id}', '{1,"{\"status\": 2}"}'),
    (69, 'PUT /orders/id/{id}', '{1,"{\"bill_id\": 2}"}'),
    (70, 'PUT /orders/id/{id}', '{1,"{\"client_id\": 3}"}'),
    (71, 'DELETE /orders/id/{id}', '{1}'),
    (72, 'GET /order_details/id/{id}', '{1}'),
    (73, 'PUT /order_details/id/{id}', '{1,"{\"order_id\": 1}"}'),
    (74, 'PUT /order_details/id/{id}', '{1,"{\"order_id\": 2}"}'),
    (75, 'DELETE /order_details/id/{id}', '{1}'),
    -- a missing row or a bad id: the route answers (404, 422)
    (80, 'GET /orders/id/{id}', '{999}'),
    (81, 'DELETE /addresses/id/{id}', '{abc}'),
    -- creates, for the caller only
    (90, 'POST /addresses', '{"{\"client_id\": 2}"}'),
    (91, 'POST /bills', '{"{\"client_id\": 2.0}"}'),
    (92, 'POST /orders', '{"{\"client_id\": 2, \"bill_id\": 1}"}'),
    (93, 'POST /orders', '{"{\"client_id\": 2, \"bill_id\": 2}"}'),
    (94, 'POST /order_details', '{"{\"order_id\": 1}"}'),
    (95, 'POST /orders/checkout', '{"{\"client_id\": 2}"}'),
    (96, 'POST /orders/checkout', '{"{\"items\": []}"}'),
    (97, 'POST /addresses', '{"{bad json"}')
  ) AS r(n, route, args)
  CROSS JOIN callers c
 GROUP BY r.n, r.route, r.args
 ORDER BY r.n;

-- The gateway's statement in required mode: the route function runs on what
-- authorize() returns, so Ann's list of orders holds only hers.
SELECT (SELECT string_agg(format('order %s of client %s', o ->> 'id_key', o ->> 'client_id'), ', ')
          FROM json_array_elements(ecommerce_api.api_orders_list((auth.args)[1], (auth.args)[2], (auth.args)[3])::json) AS o)
  FROM ecommerce_api.authorize('GET /orders', :'ann_token', ARRAY[NULL, NULL, NULL]::text[]) AS auth(args);
SELECT (SELECT string_agg(format('order %s of client %s', o ->> 'id_key', o ->> 'client_id'), ', ')
          FROM json_array_elements(ecommerce_api.api_orders_list((auth.args)[1], (auth.args)[2], (auth.args)[3])::json) AS o)
  FROM ecommerce_api.authorize('GET /orders', :'admin_token', ARRAY[NULL, NULL, NULL]::text[]) AS auth(args);

-- Key rotation: a new key, every earlier token refused, new logins work.
SELECT encode(key, 'hex') AS old_key FROM auth_key \gset
SELECT rotate_auth_key() = now() AS rotated;
SELECT count(*) AS keys, bool_and(encode(key, 'hex') <> :'old_key') AS new_key, min(octet_length(key)) AS key_bytes FROM auth_key;
SELECT pg_temp.check(:'ann_token');
SELECT pg_temp.check(:'admin_token');
SELECT pg_temp.check(r::json ->> 'token')
  FROM pg_temp.try('api_clients_login', '{"email": "ann@example.com", "password": "ann-pw"}') AS r;

-- search_path hijacking: a better match for a built-in planted in public
-- (convert_to(text, text) beats pg_catalog.convert_to(text, name) for
-- 'UTF8') is never called by the functions that sign, verify and check
-- passwords, even for a caller whose search_path starts with public: they run
-- with search_path = pg_catalog, pg_temp.
CREATE FUNCTION public.convert_to(text, text) RETURNS bytea LANGUAGE plpgsql AS
    $$BEGIN RAISE EXCEPTION 'hijacked convert_to'; END$$;
CREATE FUNCTION public.convert_from(bytea, text) RETURNS text LANGUAGE plpgsql AS
    $$BEGIN RAISE EXCEPTION 'hijacked convert_from'; END$$;
SET search_path = public, ecommerce_api;
SELECT pg_temp.check(r::json ->> 'token')
  FROM pg_temp.try('api_clients_login', '{"email": "ann@example.com", "password": "ann-pw"}') AS r;
SELECT pg_temp.check(ecommerce_api._token_sign('{"sub": "3", "admin": false, "exp": 9999999999}'));
SELECT left(ecommerce_api._hash_password('pw'), 7);
RESET search_path;
SET search_path = ecommerce_api, public;
DROP FUNCTION public.convert_to(text, text), public.convert_from(bytea, text);

-- A least-privilege API role (the README's grants): it signs and verifies
-- through the SECURITY DEFINER pair without reading the key; a role without
-- those grants can do neither.
CREATE ROLE regress_auth_api;
CREATE ROLE regress_auth_nobody;
GRANT USAGE ON SCHEMA ecommerce_api TO regress_auth_api, regress_auth_nobody;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ecommerce_api TO regress_auth_api;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA ecommerce_api TO regress_auth_api;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ecommerce_api TO regress_auth_api;
REVOKE ALL ON ecommerce_api.auth_key FROM regress_auth_api;
REVOKE EXECUTE ON FUNCTION ecommerce_api.rotate_auth_key() FROM regress_auth_api;
SET ROLE regress_auth_api;
SELECT key FROM ecommerce_api.auth_key;
SELECT ecommerce_api.rotate_auth_key();
SELECT r::json ->> 'token' AS api_token
  FROM pg_temp.try('api_clients_login', '{"email": "bob@example.com", "password": "bob-pw"}') AS r \gset
SELECT pg_temp.check(:'api_token');
SELECT pg_temp.auth('GET /orders/id/{id}', :'api_token', '{2}'), pg_temp.auth('GET /orders/id/{id}', :'api_token', '{1}');
RESET ROLE;
SET ROLE regress_auth_nobody;
SELECT ecommerce_api._token_sign('{"sub": "1", "admin": true, "exp": 9999999999}');
SELECT ecommerce_api._token_verify(:'api_token');
SELECT key FROM ecommerce_api.auth_key;
RESET ROLE;
DROP OWNED BY regress_auth_api, regress_auth_nobody;
DROP ROLE regress_auth_api, regress_auth_nobody;
