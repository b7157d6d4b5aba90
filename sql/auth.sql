/*
 * sql/auth.sql
 *		Authentication: login (POST /api/v1/clients/login) answering a token,
 *		the signing key, HS256 tokens signed and checked in SQL, authorize()
 *		(the policy of auth_mode = required) and rotate_auth_key().
 *
 * A piece of the install script (see sql/conventions.sql).
 */

/* =========================================================================
 * Login answers a token (contract section 5)
 * =========================================================================
 */

-- POST /api/v1/clients/login.  Unknown email, guest record and wrong password
-- all answer the same 401, and take the same time: when there is no hash to
-- check, one is checked anyway (a fixed cost-8 hash of a random string), so
-- the response time does not tell which emails are registered.  Answers
-- {id_key, name, token}: the token (section 12, below) in either auth mode.
CREATE FUNCTION ecommerce_api.api_clients_login(body text) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
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
    IF ecommerce_api.crypt(doc ->> 'password', coalesce(v_client.password, '$2a$08$El7MgMau/o/BQusHQxkSB.zfDj0QPPqGEr/RDOVDfxvUTBXJPAfZm'))
       IS DISTINCT FROM v_client.password THEN
        RAISE EXCEPTION USING ERRCODE = 'EA401', MESSAGE = 'Invalid credentials';
    END IF;
    RETURN json_build_object('id_key', v_client.id_key, 'name', v_client.name,
                             'token', ecommerce_api._token_issue(v_client.id_key, v_client.is_admin))::text;
END
$$;


/* =========================================================================
 * 12. Authentication (contract section 5)
 *
 * Login answers a bearer token: a standard JWT signed with HMAC-SHA256
 * (HS256), header.payload.signature, each part base64url without padding:
 *
 *     header   {"alg":"HS256","typ":"JWT"}
 *     payload  {"sub" : "<client id>", "admin" : true|false,
 *               "iat" : <unix seconds>, "exp" : <unix seconds>}
 *
 * so any JWT library holding the key can check one.  Tokens are stateless:
 * nothing is stored per token, a request proves who it is by the signature
 * alone, and what it carries (the admin flag) holds until it expires.  The
 * lifetime is the setting ecommerce_api.token_lifetime (default 1 h).
 *
 * The signing key is 32 random bytes made by CREATE EXTENSION, in a one-row
 * table nobody but its owner may read.  The two functions that need it,
 * _token_sign and _token_verify, are SECURITY DEFINER (they run as the
 * extension's owner), so a least-privilege API role signs and verifies
 * without being able to read the key; nothing else is SECURITY DEFINER.
 * They run with search_path = pg_catalog, pg_temp and call pgcrypto's
 * hmac() as ecommerce_api.hmac (section "pgcrypto, by its schema"), so
 * no function a user creates can stand in for one they call.  Their EXECUTE
 * is revoked from PUBLIC: who can run _token_sign can mint any token.
 *
 * The key table is not registered with pg_extension_config_dump: a dump does
 * not carry the key, a restored database makes a new one, and tokens issued
 * before stop working there (clients log in again).  A hot standby replays
 * the row, so a token issued on the primary verifies on its standbys.
 * rotate_auth_key() replaces the key, which invalidates every token at once.
 *
 * With ecommerce_api.auth_mode = required the gateway runs every SQL route
 * through authorize(), which checks the token and applies the policy below
 * (see the README's table) before the route function runs.
 * ========================================================================= */

CREATE TABLE auth_key (
    -- one row: the key in use
    id         boolean PRIMARY KEY DEFAULT true,
    key        bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT auth_key_one_row CHECK (id),
    CONSTRAINT auth_key_length CHECK (octet_length(key) = 32)
);
COMMENT ON TABLE auth_key IS 'ecommerce_api: the key that signs login tokens (HS256); readable only by its owner, not dumped';
REVOKE ALL ON auth_key FROM PUBLIC;

INSERT INTO auth_key (key) VALUES (ecommerce_api.gen_random_bytes(32));

-- base64url without padding (RFC 7515, section 2): encode() writes base64
-- with a newline every 76 characters; translate maps +/ to -_ and drops the
-- padding and the newlines.
CREATE FUNCTION ecommerce_api._b64url(data bytea) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.translate(pg_catalog.encode(data, 'base64'), E'+/=\n', '-_')
$$;

-- The bytes of base64url text (padding restored).  Only ever given parts of
-- a token whose signature checked, which are well-formed.
CREATE FUNCTION ecommerce_api._b64url_decode(s text) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.decode(pg_catalog.rpad(pg_catalog.translate(s, '-_', '+/'),
                                             (pg_catalog.length(s) + 3) / 4 * 4, '='),
                             'base64')
$$;

-- header.payload.signature for a payload (the caller chooses the claims).
-- The header is always {"alg":"HS256","typ":"JWT"}, whose base64url is the
-- constant below.
CREATE FUNCTION ecommerce_api._token_sign(payload json) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_input text := 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.'
                    || ecommerce_api._b64url(convert_to(payload::text, 'UTF8'));
    v_key   bytea;
BEGIN
    SELECT k.key INTO STRICT v_key FROM ecommerce_api.auth_key k;
    RETURN v_input || '.'
        || ecommerce_api._b64url(ecommerce_api.hmac(convert_to(v_input, 'UTF8'), v_key, 'sha256'::text));
END
$$;

-- The claims of a token signed with the current key, or NULL: a token of any
-- other shape, another header, or a signature that does not match.  Expiry
-- and the claims themselves are the caller's to judge (_token_claims).
-- The signatures are compared as HMACs of themselves, so the time the
-- comparison takes tells nothing about the expected signature.
CREATE FUNCTION ecommerce_api._token_verify(token text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_input text;
    v_key   bytea;
BEGIN
    -- our header, a payload, and 32 bytes of signature (43 characters).
    -- What is between them need not be checked here: the signature covers
    -- it, and we only ever sign base64url.  (A regular expression for the
    -- whole shape cost more than the three HMACs together.)
    IF token IS NULL OR length(token) NOT BETWEEN 82 AND 2048
       OR left(token, 37) <> 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.'
       OR substr(token, length(token) - 43, 1) <> '.' THEN
        RETURN NULL;
    END IF;
    v_input := left(token, -44);
    SELECT k.key INTO STRICT v_key FROM ecommerce_api.auth_key k;
    IF ecommerce_api.hmac(convert_to(ecommerce_api._b64url(ecommerce_api.hmac(convert_to(v_input, 'UTF8'), v_key, 'sha256'::text)), 'UTF8'),
            v_key, 'sha256'::text)
       <> ecommerce_api.hmac(convert_to(right(token, 43), 'UTF8'), v_key, 'sha256'::text) THEN
        RETURN NULL;
    END IF;
    -- signed by us, so the payload is our JSON
    RETURN convert_from(ecommerce_api._b64url_decode(split_part(v_input, '.', 2)), 'UTF8')::jsonb;
END
$$;

REVOKE EXECUTE ON FUNCTION ecommerce_api._token_sign(json) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION ecommerce_api._token_verify(text) FROM PUBLIC;

-- A new token for a client: sub, admin, issued now, expiring after
-- ecommerce_api.token_lifetime (read here, so a reload applies to the next
-- login; 1 h when the library is not loaded and the setting is unknown).
CREATE FUNCTION ecommerce_api._token_issue(client_id bigint, is_admin boolean) RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_now      bigint := floor(extract(epoch FROM now()));
    v_lifetime bigint := coalesce(extract(epoch FROM current_setting('ecommerce_api.token_lifetime', true)::interval),
                                  3600);
BEGIN
    RETURN ecommerce_api._token_sign(json_build_object('sub', client_id::text, 'admin', is_admin,
                                                       'iat', v_now, 'exp', v_now + v_lifetime));
END
$$;

-- The claims of a request's token, or a 401: "Not authenticated" without a
-- token, "Invalid or expired token" for one that is malformed, not signed
-- with the current key, expired, carries claims of the wrong shape, or names
-- a client that no longer exists.  The
-- HINT is the 401's WWW-Authenticate challenge (RFC 6750, section 3), which
-- the gateway sends; without one it sends plain "Bearer".
CREATE FUNCTION ecommerce_api._token_claims(token text) RETURNS jsonb
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

/*
 * authorize(route, token, args): in required mode, the gate every SQL route
 * passes before its function runs.  route is the canonical "METHOD template"
 * ("GET /orders/id/{id}", see router.c), token the bearer token (NULL when
 * none was sent), args the route function's arguments as the gateway will
 * pass them.  Returns the arguments to run the route with: unchanged, except
 * that a client's list of addresses, bills or orders is scoped to its own
 * rows (its id becomes the client_id filter).  Refuses with EA401 (no token,
 * or not a valid one) or EA403 "Not enough permissions" (valid, no right).
 *
 *   - Public (the token is not looked at): catalog reads (categories,
 *     products and the filter, reviews), registration, login, the API
 *     description.  (Health and metrics do not pass here at all.)
 *   - Admin tokens may do everything.
 *   - Any valid token: POST /reviews (reviews record no author).
 *   - Owner: the client record whose id is the token's sub; addresses, bills
 *     and orders whose client_id is, both the existing row's and the body's;
 *     an order's bill_id must be the caller's bill; order lines through their
 *     order (the existing line's and the body's order_id); checkout for the
 *     caller.  A list needs no filter (it gets the caller's) but may not name
 *     another client; a list of order lines needs an order of the caller's.
 *   - Everything else (category and product writes, the list of clients,
 *     review changes, any route this function does not know): admin only.
 *
 * A path or body id that is not an integer, or names no row, is let through
 * for the route to answer (422, 404): ids are sequential, so existence is no
 * secret worth a 403.  Rows are not locked here: only their owner (who cannot
 * give them away, the body check sees to that) and admins change owners.
 *
 * Each id is looked up into a variable first and compared there: an
 * expression like f((SELECT ...)) would keep a SQL helper from being
 * inlined, and a SQL function that is not inlined is planned on every call.
 */
CREATE FUNCTION ecommerce_api.authorize(route text, token text, args text[]) RETURNS text[]
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

-- Replaces the signing key: every token issued so far stops working at once
-- (on standbys too, when they replay it).  For the key's owner (a superuser
-- as a rule): SELECT ecommerce_api.rotate_auth_key();
CREATE FUNCTION ecommerce_api.rotate_auth_key() RETURNS timestamptz
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_created timestamptz;
BEGIN
    UPDATE ecommerce_api.auth_key k SET key = ecommerce_api.gen_random_bytes(32), created_at = now()
    RETURNING k.created_at INTO STRICT v_created;
    RETURN v_created;
END
$$;
REVOKE EXECUTE ON FUNCTION ecommerce_api.rotate_auth_key() FROM PUBLIC;
COMMENT ON FUNCTION ecommerce_api.rotate_auth_key() IS
    'Replace the key that signs login tokens; every token issued before stops working';
