/*
 * sql/reviews.sql
 *		Routes of /reviews: list, get, create, replace, delete.
 *
 * A piece of the install script (see sql/conventions.sql).
 */

CREATE FUNCTION ecommerce_api.api_reviews_list(skip text, lim text, product_id text) RETURNS text
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    errors   json[] := ecommerce_api._page_errors(skip, lim)
                       || ecommerce_api._chk_query_int(product_id, 'product_id');
    v_product numeric := ecommerce_api._int_text(product_id);
    v_off    bigint;
    v_from   bigint := -9223372036854775808;
BEGIN
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_off := ecommerce_api._page_offset(skip);
    IF product_id IS NOT NULL THEN
        RETURN (SELECT coalesce(json_agg(ecommerce_api._json_review(r)), '[]')::text
                  FROM (SELECT * FROM ecommerce_api.reviews q
                         WHERE q.product_id = ecommerce_api._bigint(v_product)
                         ORDER BY q.id_key OFFSET v_off LIMIT ecommerce_api._page_limit(lim)) r);
    END IF;
    IF v_off > 1000 THEN
        -- a deep page: find its first id through the index alone
        SELECT q.id_key INTO v_from FROM ecommerce_api.reviews q ORDER BY q.id_key OFFSET v_off LIMIT 1;
        v_off := 0;
    END IF;
    RETURN (SELECT coalesce(json_agg(ecommerce_api._json_review(r)), '[]')::text
              FROM (SELECT * FROM ecommerce_api.reviews q
                     WHERE q.id_key >= v_from
                     ORDER BY q.id_key OFFSET v_off LIMIT ecommerce_api._page_limit(lim)) r);
END
$$;

-- the primary key, even on a small table (see api_products_get)
CREATE FUNCTION ecommerce_api.api_reviews_get(id text) RETURNS text
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
AS $$
DECLARE
    v_id   numeric := ecommerce_api._path_id(id);
    result text;
BEGIN
    SELECT ecommerce_api._json_review(r)::text INTO result
      FROM ecommerce_api.reviews r
     WHERE r.id_key = ecommerce_api._bigint(v_id);
    IF result IS NULL THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    RETURN result;
END
$$;

CREATE FUNCTION ecommerce_api.api_reviews_create(body text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc          jsonb := ecommerce_api._body(body);
    errors       json[];
    v_product_id numeric;
    result       text;
BEGIN
    errors := ecommerce_api._review_errors(doc);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_product_id := ecommerce_api._int_of(doc -> 'product_id');
    PERFORM FROM ecommerce_api.products p WHERE p.id_key = ecommerce_api._bigint(v_product_id) FOR KEY SHARE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found('Product', v_product_id);
    END IF;
    INSERT INTO ecommerce_api.reviews AS r (rating, comment, product_id)
    VALUES (round(ecommerce_api._num(doc -> 'rating'), 2), doc ->> 'comment', v_product_id)
    RETURNING ecommerce_api._json_review(r)::text INTO result;
    RETURN result;
END
$$;

CREATE FUNCTION ecommerce_api.api_reviews_update(id text, body text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    doc          jsonb := ecommerce_api._body(body);
    errors       json[];
    v_product_id numeric;
    v_id         numeric;
    result       text;
BEGIN
    errors := ARRAY[ecommerce_api._path_error(id)] || ecommerce_api._review_errors(doc);
    IF num_nonnulls(VARIADIC errors) > 0 THEN
        PERFORM ecommerce_api._validate(errors);
    END IF;
    v_id := ecommerce_api._int_text(id);
    v_product_id := ecommerce_api._int_of(doc -> 'product_id');
    PERFORM FROM ecommerce_api.products p WHERE p.id_key = ecommerce_api._bigint(v_product_id) FOR KEY SHARE;
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found('Product', v_product_id);
    END IF;
    UPDATE ecommerce_api.reviews AS r
       SET rating     = round(ecommerce_api._num(doc -> 'rating'), 2),
           comment    = CASE WHEN doc ? 'comment' THEN doc ->> 'comment' ELSE r.comment END,
           product_id = v_product_id
     WHERE r.id_key = ecommerce_api._bigint(v_id)
    RETURNING ecommerce_api._json_review(r)::text INTO result;
    IF result IS NULL THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    RETURN result;
END
$$;

CREATE FUNCTION ecommerce_api.api_reviews_delete(id text) RETURNS text
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_id numeric := ecommerce_api._path_id(id);
BEGIN
    DELETE FROM ecommerce_api.reviews r WHERE r.id_key = ecommerce_api._bigint(v_id);
    IF NOT FOUND THEN
        PERFORM ecommerce_api._not_found(NULL, v_id);
    END IF;
    RETURN NULL;
END
$$;
