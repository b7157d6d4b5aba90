--
-- schema: tables, constraints, indexes, pg_dump registration, and the
-- properties of the route functions the C gateway relies on.
--
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/regress_setup.psql

-- The eight tables, columns in the order of the JSON responses.
SELECT c.relname, string_agg(format('%s %s', a.attname, format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY a.attnum)
  FROM pg_class c
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relnamespace = 'ecommerce_api'::regnamespace AND c.relkind = 'r'
 GROUP BY c.relname
 ORDER BY c.relname;

-- Constraints (CHECKs hold every limit the API validates).  Not the NOT NULL
-- ones PostgreSQL 18 catalogs too (contype 'n'), so each version lists the same.
SELECT conrelid::regclass, conname, pg_get_constraintdef(oid)
  FROM pg_constraint
 WHERE connamespace = 'ecommerce_api'::regnamespace AND contype <> 'n'
 ORDER BY conrelid::regclass::text, conname;

-- Indexes.
SELECT indexrelid::regclass, pg_get_indexdef(indexrelid)
  FROM pg_index
 WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'ecommerce_api'::regnamespace)
 ORDER BY indexrelid::regclass::text;

-- Every foreign key has an index leading with its column.
SELECT c.conrelid::regclass, c.conname
  FROM pg_constraint c
 WHERE c.connamespace = 'ecommerce_api'::regnamespace AND c.contype = 'f'
   AND NOT EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1]);

-- pg_dump keeps the rows and the identity sequences.
SELECT unnest(extconfig)::regclass::text AS dumped FROM pg_extension WHERE extname = 'ecommerce_api' ORDER BY 1;

-- The route functions: text arguments, text result, reads STABLE.  Only the
-- one that calls pgcrypto pins its search_path (the others name everything
-- schema-qualified, see below); all but the point reads plan their
-- statements once.
SELECT p.oid::regprocedure, p.prorettype::regtype, p.provolatile,
       (SELECT c FROM unnest(p.proconfig) AS c WHERE c LIKE 'search\_path=%') AS pinned_path,
       (SELECT c FROM unnest(p.proconfig) AS c WHERE c LIKE 'plan\_cache\_mode=%') AS plans
  FROM pg_proc p
 WHERE p.pronamespace = 'ecommerce_api'::regnamespace AND p.proname LIKE 'api\_%'
 ORDER BY p.proname;

-- No caller's search_path can redirect a function: the functions that name a
-- table, row type, function or sequence of the schema without the schema all
-- pin their search_path; every other function schema-qualifies them.
SELECT p.proname, (SELECT c FROM unnest(p.proconfig) AS c WHERE c LIKE 'search\_path=%') AS pinned_path
  FROM pg_proc p
 WHERE p.pronamespace = 'ecommerce_api'::regnamespace
   AND (p.prosrc ~* '\m(from|into|update|truncate|join)\s+(categories|products|clients|addresses|bills|orders|order_details|reviews)\M'
        OR p.prosrc ~ '(^|[^.\w])_[a-z][a-z0-9_]*\('
        OR p.prosrc ~ '[^.\w](categories|products|clients|addresses|bills|orders|order_details|reviews)\s*;'
        OR p.prosrc ~ 'nextval\(''checkout')
 ORDER BY 1;

-- A pinned search_path holds only schemas nobody but a superuser or the
-- extension's owner creates objects in, pg_catalog first, so no function
-- planted elsewhere can stand in for a built-in they call; the SECURITY
-- DEFINER functions (they run as the owner) see pg_catalog alone.  No rows.
SELECT p.oid::regprocedure, p.prosecdef, c AS path
  FROM pg_proc p, unnest(p.proconfig) AS c
 WHERE p.pronamespace = 'ecommerce_api'::regnamespace AND c LIKE 'search\_path=%'
   AND (c NOT IN ('search_path=pg_catalog, pg_temp', 'search_path=pg_catalog, ecommerce_api, pg_temp')
        OR (p.prosecdef AND c <> 'search_path=pg_catalog, pg_temp'));
SELECT p.oid::regprocedure FROM pg_proc p
 WHERE p.pronamespace = 'ecommerce_api'::regnamespace AND p.prosecdef
   AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false);

-- The JSON helpers are inlined into the calling query (no function call per
-- row): the plan's output is the json_build_object expression itself.
CREATE FUNCTION pg_temp.output_of(query text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
    line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || query LOOP
        IF line ~ '^\s*Output: ' THEN
            RETURN btrim(line);    -- the top node's output
        END IF;
    END LOOP;
END
$f$;
SELECT pg_temp.output_of('SELECT ecommerce_api._json_category(c) FROM ecommerce_api.categories c');
SELECT pg_temp.output_of('SELECT ecommerce_api._json_product(p, c) FROM ecommerce_api.products p
                            LEFT JOIN ecommerce_api.categories c ON c.id_key = p.category_id');
SELECT pg_temp.output_of('SELECT ecommerce_api._json_order_detail(d, p) FROM ecommerce_api.order_details d
                            JOIN ecommerce_api.products p ON p.id_key = d.product_id');

-- Passwords can only ever be stored hashed.
INSERT INTO clients (name, lastname, email, password) VALUES ('A', 'B', 'a@b.co', 'plain-text');
-- Stock can never go negative, whatever writes it.
INSERT INTO products (name, price, stock) VALUES ('x', 1, -1);
-- Emails are stored with a lower-case domain.
INSERT INTO clients (name, lastname, email) VALUES ('A', 'B', 'a@B.co');
