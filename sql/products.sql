/*
 * sql/products.sql
 *		Routes of /products: list, get, filter, create, replace, delete.
 *
 * A piece of the install script (see sql/conventions.sql).
 */

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
    RETURN (SELECT coalesce('[' || string_agg(page.product, ', ') || ']', '[]')
              FROM (SELECT ecommerce_api._json_product_text(p, c) AS product
                      FROM (SELECT * FROM ecommerce_api.products q
                             WHERE q.id_key >= v_from
                             ORDER BY q.id_key OFFSET v_off LIMIT ecommerce_api._page_limit(lim)) p
                      LEFT JOIN ecommerce_api.categories c ON c.id_key = p.category_id
                     ORDER BY p.id_key) page);
END
$$;

-- Point reads walk the primary key: on a small table (the demo's 100 products)
-- the planner prefers a sequential scan, which reads and tests every row on
-- each call (callgrind: 250k -> 209k instructions per call with the index).
CREATE FUNCTION ecommerce_api.api_products_get(id text) RETURNS text
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
