/*
 * sql/json.sql
 *		The JSON representation of each resource, keys in the contract's order.
 *
 * A piece of the install script (see sql/conventions.sql).
 */

/* =========================================================================
 * 8. JSON representations (contract section 1, keys in the contract's order)
 *
 * Inlinable: a list's json_agg(_json_x(t)) compiles to plain field access.
 * ========================================================================= */

-- The product and category shapes are concatenated as text, byte for byte
-- what json_build_object wrote: json_build_object looks up the type of each
-- of its arguments, keys included, on every call (about 40 catalog cache
-- probes for one product), which dominated the lists.  Here only to_json of
-- a text looks a type up.  The _text functions feed lists (string_agg) and
-- single rows; the json ones are for callers that want json.
CREATE FUNCTION ecommerce_api._json_category_text(c ecommerce_api.categories) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT '{"id_key" : ' || c.id_key || ', "name" : ' || to_json(c.name)::text || '}'
$$;

CREATE FUNCTION ecommerce_api._json_category(c ecommerce_api.categories) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT ecommerce_api._json_category_text(c)::json
$$;

-- category: the JSON of the product's category, NULL when it has none.  A
-- single product takes it from a sub-select (one index probe of categories;
-- the argument is used once, so the sub-select does not stop inlining), a
-- list from a join (below).
-- (A NaN price is written as the string "NaN", as json_build_object does.)
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

CREATE FUNCTION ecommerce_api._json_product_with(p ecommerce_api.products, category json) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT ecommerce_api._json_product_text_with(p, category::text)::json
$$;

-- c: the product's category row, NULL (or all-NULL) when it has none.
CREATE FUNCTION ecommerce_api._json_product_text(p ecommerce_api.products, c ecommerce_api.categories) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT ecommerce_api._json_product_text_with(p,
        CASE WHEN c.id_key IS NOT NULL THEN ecommerce_api._json_category_text(c) END)
$$;

CREATE FUNCTION ecommerce_api._json_product(p ecommerce_api.products, c ecommerce_api.categories) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT ecommerce_api._json_product_text(p, c)::json
$$;

-- Never the password.
CREATE FUNCTION ecommerce_api._json_client(c ecommerce_api.clients) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id_key', c.id_key,
        'name', c.name,
        'lastname', c.lastname,
        'email', c.email,
        'telephone', c.telephone,
        'is_admin', c.is_admin)
$$;

CREATE FUNCTION ecommerce_api._json_address(a ecommerce_api.addresses) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id_key', a.id_key,
        'street', a.street,
        'number', a.number,
        'city', a.city,
        'client_id', a.client_id)
$$;

CREATE FUNCTION ecommerce_api._json_bill(b ecommerce_api.bills) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id_key', b.id_key,
        'bill_number', b.bill_number,
        'discount', b.discount,
        'date', b.date,
        'total', b.total,
        'payment_type', b.payment_type,
        'client_id', b.client_id)
$$;

-- to_json(timestamp) writes ISO 8601 with a 'T' and fractional seconds only
-- when they are not zero, which is the contract's format.
CREATE FUNCTION ecommerce_api._json_order(o ecommerce_api.orders) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id_key', o.id_key,
        'date', o.date,
        'total', o.total,
        'delivery_method', o.delivery_method,
        'status', o.status,
        'client_id', o.client_id,
        'bill_id', o.bill_id)
$$;

-- A product as an order line shows it.
CREATE FUNCTION ecommerce_api._json_line_product(p ecommerce_api.products) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object('id_key', p.id_key, 'name', p.name, 'price', p.price)
$$;

-- product: the JSON of the line's product (_json_line_product), from a
-- sub-select for a single line, as _json_product_with.
CREATE FUNCTION ecommerce_api._json_order_detail_with(d ecommerce_api.order_details, product json) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id_key', d.id_key,
        'quantity', d.quantity,
        'price', d.price,
        'order_id', d.order_id,
        'product_id', d.product_id,
        'product', product)
$$;

-- p: the line's product.
CREATE FUNCTION ecommerce_api._json_order_detail(d ecommerce_api.order_details, p ecommerce_api.products) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT ecommerce_api._json_order_detail_with(d, ecommerce_api._json_line_product(p))
$$;

CREATE FUNCTION ecommerce_api._json_review(r ecommerce_api.reviews) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'id_key', r.id_key,
        'rating', r.rating,
        'comment', r.comment,
        'product_id', r.product_id)
$$;
