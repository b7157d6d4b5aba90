/*
 * sql/pgcrypto.sql
 *		ecommerce_api.crypt(), .gen_salt(), .hmac() and .gen_random_bytes():
 *		wrappers that reach pgcrypto by its schema, for the functions that run
 *		with search_path = pg_catalog, pg_temp.
 *
 * A piece of the install script (see sql/conventions.sql).
 */

/* =========================================================================
 * pgcrypto, by its schema
 *
 * In 1.0, the functions that call pgcrypto ran with "SET search_path FROM
 * CURRENT": ecommerce_api, the schema pgcrypto was installed in (public when
 * CREATE EXTENSION ... CASCADE installed it) and pg_temp.  Whoever may create
 * functions in that schema could plant a better match for a built-in those
 * functions call -- convert_to(text, text) beats pg_catalog.convert_to(text,
 * name) for the literal 'UTF8', whatever the order of the path -- and have it
 * run with the caller's rights: a superuser's in the HTTP workers, the
 * owner's in a SECURITY DEFINER function.  From 1.1 they run with
 * search_path = pg_catalog, pg_temp, where nothing but the built-ins is
 * found, and reach pgcrypto as ecommerce_api.crypt(), .gen_salt(), .hmac()
 * and .gen_random_bytes(): wrappers whose bodies name pgcrypto's schema
 * (PostgreSQL 15 has no @extschema:pgcrypto@, so they are written here, with
 * the schema pgcrypto is in now), or pgcrypto's own functions when it was
 * installed into this schema.  Each wrapper calls one pgcrypto function with
 * the exact types of its signature, and is simple enough to be inlined into
 * its caller (no call of its own at run time).
 * =========================================================================
 */

DO $do$
DECLARE
    pgcrypto name := (SELECT n.nspname
                        FROM pg_catalog.pg_extension e
                        JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
                       WHERE e.extname = 'pgcrypto');
BEGIN
    -- installed into this schema, pgcrypto's own functions are the ones
    IF pgcrypto = 'ecommerce_api' THEN
        RETURN;
    END IF;
    EXECUTE format($f$
        CREATE FUNCTION ecommerce_api.crypt(password text, salt text) RETURNS text
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS 'SELECT %I.crypt($1, $2)'$f$, pgcrypto);
    EXECUTE format($f$
        CREATE FUNCTION ecommerce_api.gen_salt(kind text, rounds integer) RETURNS text
        LANGUAGE sql VOLATILE STRICT PARALLEL SAFE
        AS 'SELECT %I.gen_salt($1, $2)'$f$, pgcrypto);
    EXECUTE format($f$
        CREATE FUNCTION ecommerce_api.hmac(data bytea, key bytea, algorithm text) RETURNS bytea
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS 'SELECT %I.hmac($1, $2, $3)'$f$, pgcrypto);
    EXECUTE format($f$
        CREATE FUNCTION ecommerce_api.gen_random_bytes(count integer) RETURNS bytea
        LANGUAGE sql VOLATILE STRICT PARALLEL SAFE
        AS 'SELECT %I.gen_random_bytes($1)'$f$, pgcrypto);
END
$do$;
