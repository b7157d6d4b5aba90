/*
 * sql/categories.sql
 *		Routes of /categories: list, get, create, replace, delete.
 *
 * A piece of the install script (see sql/conventions.sql).
 */

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
    RETURN (SELECT coalesce('[' || string_agg(ecommerce_api._json_category_text(c), ', ') || ']', '[]')
              FROM (SELECT * FROM ecommerce_api.categories q
                     WHERE q.id_key >= v_from
                     ORDER BY q.id_key OFFSET v_off LIMIT ecommerce_api._page_limit(lim)) c);
END
$$;

-- the primary key, even on a small table (see api_products_get)
CREATE FUNCTION ecommerce_api.api_categories_get(id text) RETURNS text
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
