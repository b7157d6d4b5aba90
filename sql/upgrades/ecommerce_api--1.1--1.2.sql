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
