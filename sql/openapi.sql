/*
 * sql/openapi.sql
 *		The API's own description: _openapi() builds the OpenAPI 3.1 document
 *		of every route, GET /openapi.json (api_openapi) sends it.
 *
 * A piece of the install script (see sql/conventions.sql).
 */

/* =========================================================================
 * 11. The API's own description: GET /openapi.json and GET /docs
 *
 * _openapi() is the one source of truth: an OpenAPI 3.1 document of every
 * route router.c serves, with its parameters, bodies, answers and schemas.
 * GET /openapi.json sends it (api_openapi); GET /docs sends an HTML page
 * rendered from that same document (api_docs), so the two cannot disagree.
 *
 *  - The document is json, not jsonb: json keeps keys in the order written,
 *    so schemas list their properties in the contract's order and paths come
 *    in the contract's order.  json_strip_nulls() at the end re-serializes it
 *    compactly (and drops the keys left null by the builders below).
 *  - Schemas are written once, as JSON literals, under components.schemas;
 *    everything else refers to them with $ref.
 *  - The five routes of a resource are generated from one row each, as
 *    router.c's RESOURCE_ROUTES generates them; the other routes are written
 *    out one by one.  operationId is the route's SQL function without "api_".
 *  - Each operation lists every status it may answer: its success, its own
 *    refusals (404, 409, 400, 401 with what they mean there), and the ones
 *    any route may give (413 with a body, 422 with parameters or a body, 429
 *    when the rate limiter is on, 500, 503; 401/403 where auth_mode =
 *    required asks for a token).  test/t/007_openapi.pl calls every operation of
 *    the document and checks that each answer is one the operation lists.
 *  - info.version is the installed extension's version (pg_extension).
 *
 * Nothing here is on a hot path: the document is built on each call (4 ms;
 * the page 30 ms), which keeps it exact after ALTER EXTENSION UPDATE and
 * needs no cache.  The builders that query (FROM, sub-selects) are PL/pgSQL
 * so that their plans are kept by the worker (see sql/conventions.sql): as SQL
 * functions they were planned again on every call (12 ms a document).
 * ========================================================================= */

-- {"$ref": "#/components/<kind>/<name>"}
CREATE FUNCTION ecommerce_api._oa_ref(kind text, name text) RETURNS json
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT json_build_object('$ref', '#/components/' || kind || '/' || name)
$$;

-- The shared answer (components.responses) of a failure status.
CREATE FUNCTION ecommerce_api._oa_response_name(status text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE status
        WHEN '400' THEN 'BadRequest'
        WHEN '401' THEN 'Unauthorized'
        WHEN '403' THEN 'Forbidden'
        WHEN '404' THEN 'NotFound'
        WHEN '405' THEN 'MethodNotAllowed'
        WHEN '409' THEN 'Conflict'
        WHEN '413' THEN 'PayloadTooLarge'
        WHEN '422' THEN 'ValidationFailed'
        WHEN '429' THEN 'TooManyRequests'
        WHEN '500' THEN 'InternalError'
        WHEN '503' THEN 'ServiceUnavailable'
    END
$$;

-- components.schemas: the bodies and answers of the routes, in contract
-- order.  Response schemas require every field (absent values are written
-- as null); request schemas require what the validators of section 6 (in
-- sql/validation.sql) require (test/sql/openapi.sql checks that the two
-- agree) and take null for an optional field ("no value").
CREATE FUNCTION ecommerce_api._oa_schemas() RETURNS json
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (
    WITH
    -- the fields of an order's body, shared by POST (OrderCreate) and the
    -- partial PUT (OrderUpdate), which differ only in what they require
    order_fields(props) AS (SELECT $j${
        "date": {"type": ["string", "null"], "examples": ["2026-11-27T21:51:40"],
                 "description": "ISO-8601 datetime without zone, taken as UTC. Default: now."},
        "total": {"type": "number", "minimum": 0, "maximum": 999999999999.99,
                  "description": "Rounded half-up to cents."},
        "delivery_method": {"$ref": "#/components/schemas/DeliveryMethod"},
        "status": {"anyOf": [{"$ref": "#/components/schemas/OrderStatus"}, {"type": "null"}], "default": 1,
                   "description": "Setting 4 (CANCELED) returns the order's stock; a canceled order cannot change status again (409)."},
        "client_id": {"type": "integer", "format": "int64", "description": "An existing client (404 otherwise)."},
        "bill_id": {"type": "integer", "format": "int64", "description": "An existing bill (404 otherwise)."}
    }$j$::json)
    SELECT json_object_agg(s.name, s.schema ORDER BY s.n)
      FROM order_fields o,
           LATERAL (VALUES
    -- errors ---------------------------------------------------------------
    (1, 'HTTPError', $j${
        "type": "object",
        "description": "Every refusal but a validation failure.",
        "required": ["detail"],
        "properties": {"detail": {"type": "string", "examples": ["Entity with id 5 not found"]}}
    }$j$::json),
    (2, 'ValidationErrorItem', $j${
        "type": "object",
        "description": "One problem of a request, as pydantic v2 reports it.",
        "required": ["type", "loc", "msg", "input"],
        "properties": {
            "type": {"type": "string", "examples": ["string_too_short"],
                     "description": "missing, string_type, string_too_short, string_too_long, int_parsing, float_parsing, greater_than, greater_than_equal, less_than_equal, enum, literal_error, value_error, date_parsing, datetime_parsing, model_attributes_type, list_type, too_short, too_long, json_invalid, ..."},
            "loc": {"type": "array", "items": {"type": ["string", "integer"]}, "examples": [["body", "price"]],
                    "description": "Where: [\"body\", field], [\"body\", \"items\", index, field], [\"query\", name], [\"path\", \"id\"]; malformed JSON is [\"body\", character position]."},
            "msg": {"type": "string", "examples": ["String should have at least 1 character"]},
            "input": {"description": "The value refused (for a missing field, the object it is missing from)."},
            "ctx": {"type": "object", "description": "The constraint that failed, e.g. {\"min_length\": 1}."}
        }
    }$j$::json),
    (3, 'ValidationError', $j${
        "type": "object",
        "description": "FastAPI's validation answer: every problem of the request at once, path, query and body together.",
        "required": ["detail"],
        "properties": {"detail": {"type": "array", "items": {"$ref": "#/components/schemas/ValidationErrorItem"}}}
    }$j$::json),
    (4, 'RateLimitError', $j${
        "type": "object",
        "required": ["detail", "retry_after"],
        "properties": {
            "detail": {"type": "string", "examples": ["Rate limit exceeded. Maximum 100 requests per 60 seconds."]},
            "retry_after": {"type": "integer", "description": "Seconds to wait."}
        }
    }$j$::json),
    -- enums: integers on the wire ------------------------------------------
    (5, 'DeliveryMethod', $j${
        "type": "integer", "enum": [1, 2, 3],
        "description": "1 DRIVE_THRU, 2 ON_HAND, 3 HOME_DELIVERY",
        "x-enum-varnames": ["DRIVE_THRU", "ON_HAND", "HOME_DELIVERY"]
    }$j$::json),
    (6, 'OrderStatus', $j${
        "type": "integer", "enum": [1, 2, 3, 4],
        "description": "1 PENDING, 2 IN_PROGRESS, 3 DELIVERED, 4 CANCELED",
        "x-enum-varnames": ["PENDING", "IN_PROGRESS", "DELIVERED", "CANCELED"]
    }$j$::json),
    (7, 'PaymentType', $j${
        "type": "integer", "enum": [1, 2, 3, 4, 5],
        "description": "1 CASH, 2 CARD, 3 DEBIT, 4 CREDIT, 5 BANK_TRANSFER",
        "x-enum-varnames": ["CASH", "CARD", "DEBIT", "CREDIT", "BANK_TRANSFER"]
    }$j$::json),
    -- categories -----------------------------------------------------------
    (10, 'Category', $j${
        "type": "object",
        "required": ["id_key", "name"],
        "properties": {
            "id_key": {"type": "integer", "format": "int64"},
            "name": {"type": "string"}
        }
    }$j$::json),
    (11, 'CategoryCreate', $j${
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 100,
                     "description": "Unique as written (409 otherwise)."}
        }
    }$j$::json),
    -- products -------------------------------------------------------------
    (20, 'Product', $j${
        "type": "object",
        "required": ["id_key", "name", "description", "price", "stock", "category_id", "category"],
        "properties": {
            "id_key": {"type": "integer", "format": "int64"},
            "name": {"type": "string"},
            "description": {"type": ["string", "null"]},
            "price": {"type": "number", "examples": [19.99]},
            "stock": {"type": "integer"},
            "category_id": {"type": ["integer", "null"], "format": "int64"},
            "category": {"anyOf": [{"$ref": "#/components/schemas/Category"}, {"type": "null"}],
                         "description": "The product's category, null when it has none."}
        }
    }$j$::json),
    (21, 'ProductCreate', $j${
        "type": "object",
        "required": ["name", "price"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "description": {"type": ["string", "null"], "maxLength": 2000},
            "price": {"type": "number", "exclusiveMinimum": 0, "maximum": 9999999999.99,
                      "description": "Rounded half-up to cents; the rounded price must be > 0."},
            "stock": {"type": ["integer", "null"], "minimum": 0, "maximum": 2147483647, "default": 0,
                      "description": "On PUT, absent keeps the current stock."},
            "category_id": {"type": ["integer", "null"], "format": "int64",
                            "description": "An existing category (404 otherwise), or null."}
        }
    }$j$::json),
    -- clients --------------------------------------------------------------
    (30, 'Client', $j${
        "type": "object",
        "description": "Never carries the password.",
        "required": ["id_key", "name", "lastname", "email", "telephone", "is_admin"],
        "properties": {
            "id_key": {"type": "integer", "format": "int64"},
            "name": {"type": "string"},
            "lastname": {"type": "string"},
            "email": {"type": "string", "format": "email"},
            "telephone": {"type": ["string", "null"]},
            "is_admin": {"type": "boolean"}
        }
    }$j$::json),
    (31, 'ClientCreate', $j${
        "type": "object",
        "description": "is_admin is ignored on input.",
        "required": ["name", "lastname", "email"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 100},
            "lastname": {"type": "string", "minLength": 1, "maxLength": 100},
            "email": {"type": "string", "format": "email", "maxLength": 254,
                      "description": "One @, a non-empty local part, a dotted domain. The domain is stored lower-case; unique (409 otherwise)."},
            "telephone": {"type": ["string", "null"], "maxLength": 30},
            "password": {"type": ["string", "null"], "minLength": 1, "maxLength": 128, "writeOnly": true,
                         "description": "Stored as a bcrypt hash. A client created without one is a guest that can never log in; on PUT, a password changes it and absent keeps it."}
        }
    }$j$::json),
    -- addresses ------------------------------------------------------------
    (40, 'Address', $j${
        "type": "object",
        "required": ["id_key", "street", "number", "city", "client_id"],
        "properties": {
            "id_key": {"type": "integer", "format": "int64"},
            "street": {"type": ["string", "null"]},
            "number": {"type": ["string", "null"]},
            "city": {"type": ["string", "null"]},
            "client_id": {"type": "integer", "format": "int64"}
        }
    }$j$::json),
    (41, 'AddressCreate', $j${
        "type": "object",
        "required": ["client_id"],
        "properties": {
            "street": {"type": ["string", "null"], "minLength": 1, "maxLength": 200},
            "number": {"type": ["string", "null"], "maxLength": 20},
            "city": {"type": ["string", "null"], "minLength": 1, "maxLength": 100},
            "client_id": {"type": "integer", "format": "int64", "description": "An existing client (404 otherwise)."}
        }
    }$j$::json),
    -- bills ----------------------------------------------------------------
    (50, 'Bill', $j${
        "type": "object",
        "required": ["id_key", "bill_number", "discount", "date", "total", "payment_type", "client_id"],
        "properties": {
            "id_key": {"type": "integer", "format": "int64"},
            "bill_number": {"type": "string"},
            "discount": {"type": ["number", "null"]},
            "date": {"type": "string", "format": "date"},
            "total": {"type": "number"},
            "payment_type": {"$ref": "#/components/schemas/PaymentType"},
            "client_id": {"type": "integer", "format": "int64"}
        }
    }$j$::json),
    (51, 'BillCreate', $j${
        "type": "object",
        "required": ["bill_number", "date", "total", "payment_type", "client_id"],
        "properties": {
            "bill_number": {"type": "string", "minLength": 1, "maxLength": 50,
                            "description": "Unique as written (409 otherwise)."},
            "discount": {"type": ["number", "null"], "minimum": 0, "maximum": 999999999999.99},
            "date": {"type": "string", "format": "date",
                     "description": "YYYY-MM-DD; a datetime whose time is zero is accepted too."},
            "total": {"type": "number", "minimum": 0, "maximum": 999999999999.99},
            "payment_type": {"$ref": "#/components/schemas/PaymentType"},
            "client_id": {"type": "integer", "format": "int64", "description": "An existing client (404 otherwise)."}
        }
    }$j$::json),
    -- orders ---------------------------------------------------------------
    (60, 'Order', $j${
        "type": "object",
        "required": ["id_key", "date", "total", "delivery_method", "status", "client_id", "bill_id"],
        "properties": {
            "id_key": {"type": "integer", "format": "int64"},
            "date": {"type": "string", "examples": ["2026-11-27T21:51:40"],
                     "description": "ISO-8601 datetime without zone (UTC), 'T' separator, fractional seconds only when not zero."},
            "total": {"type": "number"},
            "delivery_method": {"$ref": "#/components/schemas/DeliveryMethod"},
            "status": {"$ref": "#/components/schemas/OrderStatus"},
            "client_id": {"type": "integer", "format": "int64"},
            "bill_id": {"type": "integer", "format": "int64"}
        }
    }$j$::json),
    (61, 'OrderCreate', json_build_object(
        'type', 'object',
        'required', json_build_array('total', 'delivery_method', 'client_id', 'bill_id'),
        'properties', o.props)),
    (62, 'OrderUpdate', json_build_object(
        'type', 'object',
        'description', 'A partial update: only the keys sent change, and none is required; a key that is sent must be valid ("total": null is 422).',
        'properties', o.props)),
    -- order lines ----------------------------------------------------------
    (70, 'LineProduct', $j${
        "type": "object",
        "description": "The product of an order line.",
        "required": ["id_key", "name", "price"],
        "properties": {
            "id_key": {"type": "integer", "format": "int64"},
            "name": {"type": "string"},
            "price": {"type": "number"}
        }
    }$j$::json),
    (71, 'OrderDetail', $j${
        "type": "object",
        "required": ["id_key", "quantity", "price", "order_id", "product_id", "product"],
        "properties": {
            "id_key": {"type": "integer", "format": "int64"},
            "quantity": {"type": "integer"},
            "price": {"type": "number"},
            "order_id": {"type": "integer", "format": "int64"},
            "product_id": {"type": "integer", "format": "int64"},
            "product": {"$ref": "#/components/schemas/LineProduct"}
        }
    }$j$::json),
    (72, 'OrderDetailCreate', $j${
        "type": "object",
        "description": "Taking a line's quantity from stock, or changing it, refuses with 409 when the stock is short; lines of a canceled order cannot be added or changed (409).",
        "required": ["quantity", "order_id", "product_id"],
        "properties": {
            "quantity": {"type": "integer", "exclusiveMinimum": 0, "maximum": 2147483647},
            "price": {"type": ["number", "null"], "exclusiveMinimum": 0, "maximum": 9999999999.99,
                      "description": "Checked, not taken: it must be within 0.01 of the product's price (400 otherwise). The line is priced at the product's price."},
            "order_id": {"type": "integer", "format": "int64", "description": "An existing order (404 otherwise)."},
            "product_id": {"type": "integer", "format": "int64", "description": "An existing product (404 otherwise)."}
        }
    }$j$::json),
    -- reviews --------------------------------------------------------------
    (80, 'Review', $j${
        "type": "object",
        "required": ["id_key", "rating", "comment", "product_id"],
        "properties": {
            "id_key": {"type": "integer", "format": "int64"},
            "rating": {"type": "number"},
            "comment": {"type": ["string", "null"]},
            "product_id": {"type": "integer", "format": "int64"}
        }
    }$j$::json),
    (81, 'ReviewCreate', $j${
        "type": "object",
        "required": ["rating", "product_id"],
        "properties": {
            "rating": {"type": "number", "minimum": 1, "maximum": 5, "description": "Rounded half-up to two decimals."},
            "comment": {"type": ["string", "null"], "minLength": 10, "maxLength": 1000},
            "product_id": {"type": "integer", "format": "int64", "description": "An existing product (404 otherwise)."}
        }
    }$j$::json),
    -- login ----------------------------------------------------------------
    (90, 'LoginRequest', $j${
        "type": "object",
        "required": ["email", "password"],
        "properties": {
            "email": {"type": "string"},
            "password": {"type": "string", "writeOnly": true}
        }
    }$j$::json),
    (91, 'LoginResponse', $j${
        "type": "object",
        "required": ["id_key", "name", "token"],
        "properties": {
            "id_key": {"type": "integer", "format": "int64"},
            "name": {"type": "string"},
            "token": {"type": "string",
                      "description": "A signed bearer token (an HS256 JWT) carrying the client id, the admin flag and an expiry (ecommerce_api.token_lifetime): send it as `Authorization: Bearer <token>` (see bearerAuth)."}
        }
    }$j$::json),
    -- checkout -------------------------------------------------------------
    (100, 'CheckoutItem', $j${
        "type": "object",
        "required": ["product_id", "quantity"],
        "properties": {
            "product_id": {"type": "integer", "format": "int64", "description": "An existing product (404 otherwise)."},
            "quantity": {"type": "integer", "exclusiveMinimum": 0, "maximum": 2147483647}
        }
    }$j$::json),
    (101, 'CheckoutRequest', $j${
        "type": "object",
        "required": ["client_id", "delivery_method", "payment_type", "items"],
        "properties": {
            "client_id": {"type": "integer", "format": "int64", "description": "An existing client (404 otherwise)."},
            "delivery_method": {"$ref": "#/components/schemas/DeliveryMethod"},
            "payment_type": {"$ref": "#/components/schemas/PaymentType"},
            "items": {"type": "array", "minItems": 1, "maxItems": 1000,
                      "items": {"$ref": "#/components/schemas/CheckoutItem"},
                      "description": "Items naming the same product are merged into one line (quantities added)."}
        }
    }$j$::json),
    (102, 'CheckoutResponse', $j${
        "type": "object",
        "required": ["order", "bill", "order_details"],
        "properties": {
            "order": {"$ref": "#/components/schemas/Order"},
            "bill": {"$ref": "#/components/schemas/Bill"},
            "order_details": {"type": "array", "items": {"$ref": "#/components/schemas/OrderDetail"},
                              "description": "One line per product, in product id order, priced at the products' prices."}
        }
    }$j$::json),
    -- health ---------------------------------------------------------------
    (110, 'HealthLevel', $j${"type": "string", "enum": ["healthy", "warning", "critical"]}$j$::json),
    (111, 'Health', $j${
        "type": "object",
        "required": ["status", "timestamp", "checks"],
        "properties": {
            "status": {"$ref": "#/components/schemas/HealthLevel",
                       "description": "The worse of the two checks' levels."},
            "timestamp": {"type": "string", "description": "ISO-8601 datetime without zone (UTC)."},
            "checks": {
                "type": "object",
                "required": ["database", "db_pool"],
                "properties": {
                    "database": {
                        "type": "object",
                        "required": ["status", "health", "latency_ms", "thresholds"],
                        "properties": {
                            "status": {"type": "string", "enum": ["up", "down"]},
                            "health": {"$ref": "#/components/schemas/HealthLevel"},
                            "latency_ms": {"type": "number", "description": "One round trip through the executor."},
                            "thresholds": {
                                "type": "object",
                                "required": ["warning_ms", "critical_ms"],
                                "properties": {
                                    "warning_ms": {"type": "number", "const": 100.0},
                                    "critical_ms": {"type": "number", "const": 500.0}
                                }
                            }
                        }
                    },
                    "db_pool": {
                        "type": "object",
                        "description": "The pool is the set of HTTP workers: size is the configured workers, checked_out the busy ones.",
                        "required": ["health", "size", "checked_in", "checked_out", "overflow", "total_capacity",
                                     "utilization_percent", "thresholds"],
                        "properties": {
                            "health": {"$ref": "#/components/schemas/HealthLevel"},
                            "size": {"type": "integer"},
                            "checked_in": {"type": "integer"},
                            "checked_out": {"type": "integer"},
                            "overflow": {"type": "integer", "const": 0},
                            "total_capacity": {"type": "integer"},
                            "utilization_percent": {"type": "number"},
                            "thresholds": {
                                "type": "object",
                                "required": ["warning_percent", "critical_percent"],
                                "properties": {
                                    "warning_percent": {"type": "number", "const": 70.0},
                                    "critical_percent": {"type": "number", "const": 90.0}
                                }
                            }
                        }
                    }
                }
            }
        }
    }$j$::json)
           ) AS s(n, name, schema));
END
$$;

-- components.responses: the failures, each with its body.  An operation
-- refers to them and may say what one means there ("description" beside
-- "$ref", which OpenAPI 3.1 lets override the shared one).
CREATE FUNCTION ecommerce_api._oa_responses() RETURNS json
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (
    SELECT json_object_agg(ecommerce_api._oa_response_name(r.status),
                           json_build_object(
                               'description', r.description,
                               'headers', r.headers,
                               'content', json_build_object('application/json', json_build_object(
                                   'schema', ecommerce_api._oa_ref('schemas', r.schema))))
                           ORDER BY r.status)
      FROM (VALUES
        ('400', 'A business rule refused the request.', 'HTTPError', NULL::json),
        ('401', 'Missing or invalid bearer token (only when ecommerce_api.auth_mode = required), or wrong login credentials.', 'HTTPError',
         $j${"WWW-Authenticate": {"schema": {"type": "string"}, "description": "The challenge (RFC 6750): Bearer, or Bearer error=\"invalid_token\" when a token was sent and refused."}}$j$::json),
        ('403', 'The token''s client may not do this (only when ecommerce_api.auth_mode = required).', 'HTTPError', NULL),
        ('404', 'Not found: "Entity with id N not found" for the id of the path, "<Resource> with id N not found" for an id named in the body.', 'HTTPError', NULL),
        ('405', 'The path exists but does not take this method; the Allow header lists the methods it takes. No operation lists it: it is the answer to the methods a path does not document.',
         'HTTPError', $j${"Allow": {"schema": {"type": "string"}, "description": "The methods of the path, e.g. \"GET, POST, OPTIONS\"."}}$j$::json),
        ('409', 'Conflict with the data: a duplicate, stock that is short, a row still referenced, a canceled order.', 'HTTPError', NULL),
        ('413', 'The request body is larger than ecommerce_api.max_body_size.', 'HTTPError', NULL),
        ('422', 'The request is invalid: every problem of its path, query and body.', 'ValidationError', NULL),
        ('429', 'Too many requests from this client (only when the rate limiter is on).', 'RateLimitError',
         $j${
            "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."},
            "X-RateLimit-Limit": {"schema": {"type": "integer"}},
            "X-RateLimit-Remaining": {"schema": {"type": "integer"}},
            "X-RateLimit-Reset": {"schema": {"type": "integer"}}
         }$j$::json),
        ('500', 'An unexpected failure, logged with the request id ({"detail": "Internal Server Error"}).', 'HTTPError', NULL),
        ('503', 'Try again later or elsewhere: the request ran past ecommerce_api.statement_timeout, the server is overloaded or lost a concurrency race, the extension is not installed, or a write reached a read-only standby.', 'HTTPError', NULL)
      ) AS r(status, description, schema, headers));
END
$$;

-- One operation.  parameters: a JSON array or NULL; body_schema: the
-- component of its JSON body, or NULL; success: the response object of
-- success_status.  failures: {"status": "what it means here" or null for
-- the shared description, ...}; with common, the statuses any operation may
-- answer are added: 413 with a body, 422 with parameters or a body, 401 and
-- 403 when it is protected, 429, 500 and 503.  protected: it needs a token
-- when ecommerce_api.auth_mode = required (either no token or a bearer token
-- otherwise, hence the empty requirement beside bearerAuth).
CREATE FUNCTION ecommerce_api._oa_operation(
    operation_id text, tag text, summary text, description text,
    parameters json, body_schema text,
    success_status text, success json,
    failures json, common boolean, protected boolean)
RETURNS json
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (
    SELECT json_build_object(
        'tags', json_build_array(tag),
        'summary', summary,
        'description', description,
        'operationId', operation_id,
        'security', CASE WHEN protected THEN '[{}, {"bearerAuth": []}]'::json END,
        'parameters', parameters,
        'requestBody', CASE WHEN body_schema IS NOT NULL THEN
            json_build_object('required', true,
                              'content', json_build_object('application/json', json_build_object(
                                  'schema', ecommerce_api._oa_ref('schemas', body_schema)))) END,
        'responses', (
            SELECT json_object_agg(a.status,
                       CASE WHEN a.status = success_status THEN success
                            ELSE json_build_object(
                                     '$ref', '#/components/responses/' || ecommerce_api._oa_response_name(a.status),
                                     'description', a.description) END
                       ORDER BY a.status)
              FROM (SELECT s.status, max(s.description) AS description
                      FROM (SELECT success_status, NULL::text
                            UNION ALL
                            SELECT f.key, f.value FROM json_each_text(failures) AS f
                            UNION ALL
                            SELECT c, NULL
                              FROM unnest(ARRAY[
                                       CASE WHEN protected THEN '401' END,
                                       CASE WHEN protected THEN '403' END,
                                       CASE WHEN body_schema IS NOT NULL THEN '413' END,
                                       CASE WHEN parameters IS NOT NULL OR body_schema IS NOT NULL THEN '422' END,
                                       '429', '500', '503']) AS c
                             WHERE common AND c IS NOT NULL) AS s(status, description)
                     GROUP BY s.status) a)));
END
$$;

-- A success answer: its description and, unless it has no body, its
-- content (a component or an inline schema).
CREATE FUNCTION ecommerce_api._oa_success(description text, media_type text DEFAULT NULL,
                                          schema json DEFAULT NULL)
RETURNS json
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'description', description,
        'content', CASE WHEN media_type IS NOT NULL THEN
            json_build_object(media_type, json_build_object('schema', schema)) END)
$$;

-- A query parameter.
CREATE FUNCTION ecommerce_api._oa_query(name text, schema json, description text) RETURNS json
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT json_build_object('name', name, 'in', 'query', 'required', false,
                             'description', description, 'schema', schema)
$$;

-- The five routes of a resource (router.c's RESOURCE_ROUTES) as its two
-- path items, "<base>/" (list, create) and "<base>/id/{id}" (get, replace,
-- delete).  Arguments: see the call in _openapi().
CREATE FUNCTION ecommerce_api._oa_resource_paths(
    base text, name text, one text, schema text, update_schema text,
    parent_filter text, parent_description text, refers_to text,
    create_conflict text, update_conflict text, delete_conflict text, bad_request text,
    public_read boolean, public_create boolean)
RETURNS TABLE (path text, item json, k integer)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    a_one text := CASE WHEN one ~ '^[aeiou]' THEN 'an ' ELSE 'a ' END || one;    -- "an order"
BEGIN
    RETURN QUERY
    SELECT base || '/', json_build_object(
        'get', ecommerce_api._oa_operation(
            name || '_list', name, 'List ' || replace(name, '_', ' '),
            'A page of ' || replace(name, '_', ' ') || ' ordered by id_key.',
            CASE WHEN parent_filter IS NULL THEN
                json_build_array(ecommerce_api._oa_ref('parameters', 'skip'),
                                 ecommerce_api._oa_ref('parameters', 'limit'))
            ELSE
                json_build_array(ecommerce_api._oa_ref('parameters', 'skip'),
                                 ecommerce_api._oa_ref('parameters', 'limit'),
                                 ecommerce_api._oa_query(parent_filter, '{"type": "integer", "format": "int64"}',
                                                         parent_description))
            END,
            NULL,
            '200', ecommerce_api._oa_success('The page, possibly empty.', 'application/json',
                       json_build_object('type', 'array', 'items', ecommerce_api._oa_ref('schemas', schema))),
            '{}', true, NOT public_read),
        'post', ecommerce_api._oa_operation(
            name || '_create', name, 'Create ' || a_one, NULL,
            NULL, schema || 'Create',
            '201', ecommerce_api._oa_success('The created ' || one || '.', 'application/json',
                       ecommerce_api._oa_ref('schemas', schema)),
            json_strip_nulls(json_build_object(
                '400', bad_request,
                '404', CASE WHEN refers_to IS NOT NULL THEN refers_to || ' with id N not found.' END,
                '409', create_conflict)),
            true, NOT public_create)),
           1
    UNION ALL
    SELECT base || '/id/{id}', json_build_object(
        'get', ecommerce_api._oa_operation(
            name || '_get', name, 'Get ' || a_one, NULL,
            json_build_array(ecommerce_api._oa_ref('parameters', 'id')), NULL,
            '200', ecommerce_api._oa_success('The ' || one || '.', 'application/json',
                       ecommerce_api._oa_ref('schemas', schema)),
            '{"404": "Entity with id N not found."}', true, NOT public_read),
        'put', ecommerce_api._oa_operation(
            name || '_update', name,
            CASE WHEN update_schema IS NULL THEN 'Replace ' ELSE 'Update ' END || a_one,
            CASE WHEN update_schema IS NULL
                 THEN 'A full body, validated as for POST. An optional field absent from the body keeps its current value; null clears a nullable one.'
                 ELSE 'A partial update: only the keys sent change.' END,
            json_build_array(ecommerce_api._oa_ref('parameters', 'id')),
            coalesce(update_schema, schema || 'Create'),
            '200', ecommerce_api._oa_success('The updated ' || one || '.', 'application/json',
                       ecommerce_api._oa_ref('schemas', schema)),
            json_strip_nulls(json_build_object(
                '400', bad_request,
                '404', 'Entity with id N not found'
                       || coalesce('; or ' || refers_to || ' with id N not found', '') || '.',
                '409', update_conflict)),
            true, true),
        'delete', ecommerce_api._oa_operation(
            name || '_delete', name, 'Delete ' || a_one, NULL,
            json_build_array(ecommerce_api._oa_ref('parameters', 'id')), NULL,
            '204', ecommerce_api._oa_success('Deleted; no body.'),
            json_strip_nulls(json_build_object(
                '404', 'Entity with id N not found.',
                '409', delete_conflict)),
            true, true)),
           2;
END
$$;

-- The document.
CREATE FUNCTION ecommerce_api._openapi() RETURNS json
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (
    SELECT json_strip_nulls(json_build_object(
        'openapi', '3.1.0',
        'info', json_build_object(
            'title', 'ecommerce_api',
            'version', (SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname = 'ecommerce_api'),
            'summary', 'The REST API of a shop, served from inside PostgreSQL.',
            'description', $d$The shop's REST API (clients, addresses, categories, products, bills, orders, order lines, reviews), served by the ecommerce_api extension's background workers. Every request is one transaction.

Paths. Every path is served with and without its trailing slash. /clients/... is the same as /api/v1/clients/...; /R/{id} is the same as /R/id/{id} for every resource, clients included; /order-details/... is the same as /order_details/... These aliases are served directly, with no redirect. An unknown path answers 404 {"detail": "Not Found"}; a path with a method it does not take answers 405 with an Allow header; OPTIONS on any path is a CORS preflight (204).

Input is lenient: unknown keys are ignored, numeric strings are accepted for numbers and integers, an integral float is accepted for an integer (booleans are not numbers), and a body with no Content-Type is parsed as JSON. For an optional field, null means "no value". Money is rounded half-up to cents. An id beyond bigint is a valid integer that names nothing (404).

Output: JSON keys come in the order the schemas list them; an absent value is null; datetimes are ISO-8601 without zone (UTC). Every answer carries X-Request-ID (the one sent when it is 1-128 characters of [A-Za-z0-9._:-], else a generated UUID), X-Response-Time and, per ecommerce_api.cors_allowed_origins, Access-Control-Allow-Origin (with Access-Control-Expose-Headers naming these headers). While the rate limiter is on (ecommerce_api.rate_limit > 0), every answer but the health check's and a preflight's also carries X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset (Unix time, seconds).

Errors are `{"detail": "<message>"}`; a validation failure is 422 {"detail": [{"type", "loc", "msg", "input"}, ...]} in FastAPI's shape, listing every problem at once. Statuses: 400 business rule, 401/403 authentication (see bearerAuth), 404 not found, 405 wrong method, 409 conflict, 413 body too large, 422 invalid, 429 rate limited, 500 unexpected, 503 unavailable.$d$),
        'tags', $j$[
            {"name": "categories", "description": "Product categories."},
            {"name": "products", "description": "The catalog. Stock moves with order lines."},
            {"name": "clients", "description": "Customers, under /api/v1/clients (alias /clients). Registration and login."},
            {"name": "addresses", "description": "Client addresses, deleted with their client."},
            {"name": "bills", "description": "Bills (invoices)."},
            {"name": "orders", "description": "Orders, and the atomic checkout."},
            {"name": "order_details", "description": "Order lines (alias /order-details). Their quantities are taken from stock."},
            {"name": "reviews", "description": "Product reviews, deleted with their product."},
            {"name": "service", "description": "Health, metrics and this description."}
        ]$j$::json,
        'paths', (SELECT json_object_agg(p.path, p.item ORDER BY p.n, p.k) FROM (
            -- the five routes of each resource, and the routes of its own
            SELECT r.n, rp.k, rp.path, rp.item
              FROM (VALUES
                (1, '/categories', 'categories', 'category', 'Category', NULL, NULL, NULL, NULL,
                    'Category with name ''...'' already exists.', 'Category with name ''...'' already exists.',
                    'Cannot delete category N: category has associated products.', NULL, true, false),
                (2, '/products', 'products', 'product', 'Product', NULL, NULL, NULL, 'Category',
                    NULL, NULL, 'Cannot delete product N: product has associated sales history.', NULL, true, false),
                (3, '/api/v1/clients', 'clients', 'client', 'Client', NULL, NULL, NULL, NULL,
                    'Email already registered.', 'Email already registered.',
                    'Cannot delete client N: client has associated orders or bills.', NULL, false, true),
                (4, '/addresses', 'addresses', 'address', 'Address', NULL,
                    'client_id', 'Only the addresses of this client.', 'Client',
                    NULL, NULL, NULL, NULL, false, false),
                (5, '/bills', 'bills', 'bill', 'Bill', NULL,
                    'client_id', 'Only the bills of this client.', 'Client',
                    'Bill number ''...'' already exists.', 'Bill number ''...'' already exists.',
                    'Cannot delete bill N: bill has associated orders.', NULL, false, false),
                (6, '/orders', 'orders', 'order', 'Order', 'OrderUpdate',
                    'client_id', 'Only the orders of this client.', 'Client or Bill',
                    NULL, 'Order N is canceled and cannot be set to status S.', NULL, NULL, false, false),
                (7, '/order_details', 'order_details', 'order line', 'OrderDetail', NULL,
                    'order_id', 'Only the lines of this order.', 'Order or Product',
                    'Insufficient stock for product P. Requested: Q, Available: S; or the order is canceled.',
                    'Insufficient stock for product P. Requested: Q, Available: S; or the order (old or new) is canceled.',
                    NULL, 'Price mismatch. Expected P, got Q.', false, false),
                (8, '/reviews', 'reviews', 'review', 'Review', NULL,
                    'product_id', 'Only the reviews of this product.', 'Product',
                    NULL, NULL, NULL, NULL, true, false)
              ) AS r(n, base, name, one, schema, update_schema, parent_filter, parent_description, refers_to,
                     create_conflict, update_conflict, delete_conflict, bad_request, public_read, public_create),
                   LATERAL ecommerce_api._oa_resource_paths(
                       base => r.base, name => r.name, one => r.one, schema => r.schema,
                       update_schema => r.update_schema, parent_filter => r.parent_filter,
                       parent_description => r.parent_description, refers_to => r.refers_to,
                       create_conflict => r.create_conflict, update_conflict => r.update_conflict,
                       delete_conflict => r.delete_conflict, bad_request => r.bad_request,
                       public_read => r.public_read, public_create => r.public_create) AS rp(path, item, k)
            UNION ALL
            SELECT 2, 3, '/products/filter', json_build_object('get', ecommerce_api._oa_operation(
                'products_filter', 'products', 'Search and filter products', NULL,
                json_build_array(
                    ecommerce_api._oa_query('search', '{"type": "string"}',
                        'Case-insensitive substring of the name (% and _ are literal).'),
                    ecommerce_api._oa_query('category_id', '{"type": "integer", "format": "int64"}', NULL),
                    ecommerce_api._oa_query('min_price', '{"type": "number"}', 'Inclusive.'),
                    ecommerce_api._oa_query('max_price', '{"type": "number"}', 'Inclusive.'),
                    ecommerce_api._oa_query('in_stock_only', '{"type": "boolean", "default": false}',
                        'Only products with stock > 0 (true/false/1/0).'),
                    ecommerce_api._oa_query('sort_by',
                        '{"type": "string", "enum": ["price_asc", "price_desc", "name", "name_asc", "name_desc"]}',
                        'Default: id_key descending. Ties are broken by id_key (ascending for the ascending sorts).'),
                    ecommerce_api._oa_ref('parameters', 'skip'),
                    ecommerce_api._oa_ref('parameters', 'limit')),
                NULL,
                '200', ecommerce_api._oa_success('The matching products, possibly none.', 'application/json',
                           '{"type": "array", "items": {"$ref": "#/components/schemas/Product"}}'),
                '{}', true, false))
            UNION ALL
            SELECT 3, 3, '/api/v1/clients/login', json_build_object('post', ecommerce_api._oa_operation(
                'clients_login', 'clients', 'Log in',
                'Checks the password; the answer carries a bearer token for ecommerce_api.auth_mode = required.',
                NULL, 'LoginRequest',
                '200', ecommerce_api._oa_success('The client.', 'application/json',
                           ecommerce_api._oa_ref('schemas', 'LoginResponse')),
                '{"401": "Invalid credentials: an unknown email, a guest record or a wrong password, all answered alike and in the same time."}',
                true, false))
            UNION ALL
            SELECT 6, 3, '/orders/checkout', json_build_object('post', ecommerce_api._oa_operation(
                'orders_checkout', 'orders', 'Check out a cart',
                'Creates the bill (number `CHK-<yyyymmdd>-<n>`), the order (total computed from the products'' prices) and its lines in one transaction. Any failing item refuses the whole checkout and nothing is written.',
                NULL, 'CheckoutRequest',
                '201', ecommerce_api._oa_success('The order, its bill and its lines.', 'application/json',
                           ecommerce_api._oa_ref('schemas', 'CheckoutResponse')),
                '{"400": "The order total would exceed 999999999999.99.",
                  "404": "Client with id N not found, or Product with id N not found (the first missing product in id order).",
                  "409": "Insufficient stock for product P. Requested: Q, Available: S (the first short product in id order)."}',
                true, true))
            UNION ALL
            SELECT 9, 1, '/health_check/', json_build_object('get', ecommerce_api._oa_operation(
                'health_check', 'service', 'Health check',
                'The database''s latency, the pool (the HTTP workers that serve) and whether the API can serve (checks.api). Status unhealthy, with 503, when the extension is missing or at another version, a setting is invalid, or fewer workers serve than are configured. Never rate limited.',
                NULL, NULL,
                '200', ecommerce_api._oa_success('The health document.', 'application/json',
                           ecommerce_api._oa_ref('schemas', 'Health')),
                '{"500": null, "503": null}', false, false))
            UNION ALL
            SELECT 9, 2, '/metrics', json_build_object('get', ecommerce_api._oa_operation(
                'metrics', 'service', 'Prometheus metrics',
                'ecommerce_api_requests_total{route,status} (status class 2xx..5xx, route "other" when none matched), the ecommerce_api_request_duration_seconds histogram, ecommerce_api_open_connections, ecommerce_api_busy_workers and ecommerce_api_workers, read from shared memory without a transaction.',
                NULL, NULL,
                '200', ecommerce_api._oa_success('The metrics, in Prometheus text format 0.0.4.', 'text/plain',
                           '{"type": "string"}'),
                '{"429": null, "500": null}', false, false))
            UNION ALL
            SELECT 9, 3, '/openapi.json', json_build_object('get', ecommerce_api._oa_operation(
                'openapi', 'service', 'This description', 'The OpenAPI 3.1 document of the API.',
                NULL, NULL,
                '200', ecommerce_api._oa_success('This document.', 'application/json',
                           '{"type": "object", "description": "An OpenAPI 3.1 document."}'),
                '{}', true, false))
            UNION ALL
            SELECT 9, 5, '/live', json_build_object('get', ecommerce_api._oa_operation(
                'live', 'service', 'Liveness',
                'Answers while the worker runs, without a transaction: for a load balancer''s liveness probe. Never rate limited.',
                NULL, NULL,
                '200', ecommerce_api._oa_success('{"status": "alive"}.', 'application/json',
                           '{"type": "object", "required": ["status"], "properties": {"status": {"const": "alive"}}}'),
                '{}', false, false))
            UNION ALL
            SELECT 9, 6, '/ready', json_build_object('get', ecommerce_api._oa_operation(
                'ready', 'service', 'Readiness',
                'Whether this node can serve the API: the extension installed at the library''s version and the settings valid. For a load balancer''s readiness probe. Never rate limited.',
                NULL, NULL,
                '200', ecommerce_api._oa_success('{"status": "ready"}.', 'application/json',
                           '{"type": "object", "required": ["status"], "properties": {"status": {"const": "ready"}}}'),
                '{"503": "Not ready, and why (detail)."}', false, false))
            UNION ALL
            SELECT 9, 4, '/docs', json_build_object('get', ecommerce_api._oa_operation(
                'docs_swagger', 'service', 'This description in Swagger UI',
                'Swagger UI, as FastAPI serves it: try-it-out, Authorize (a bearer token, kept across reloads), a filter. It reads /openapi.json and loads its script and stylesheet from ecommerce_api.docs_assets_url (default: the jsDelivr CDN); /docs/static needs neither.',
                NULL, NULL,
                '200', ecommerce_api._oa_success('The page.', 'text/html', '{"type": "string"}'),
                '{}', true, false))
            UNION ALL
            SELECT 9, 5, '/docs/static', json_build_object('get', ecommerce_api._oa_operation(
                'docs', 'service', 'This description as a static web page',
                'An HTML page rendered from /openapi.json, self-contained (no scripts, styles or fonts from elsewhere): for machines without internet.',
                NULL, NULL,
                '200', ecommerce_api._oa_success('The page.', 'text/html', '{"type": "string"}'),
                '{}', true, false))
        ) AS p(n, k, path, item)),
        'components', json_build_object(
            'schemas', ecommerce_api._oa_schemas(),
            'parameters', $j${
                "id": {"name": "id", "in": "path", "required": true,
                       "description": "The id_key. An integer beyond bigint names nothing (404).",
                       "schema": {"type": "integer", "format": "int64"}},
                "skip": {"name": "skip", "in": "query", "required": false,
                         "description": "Rows to skip.",
                         "schema": {"type": "integer", "minimum": 0, "default": 0}},
                "limit": {"name": "limit", "in": "query", "required": false,
                          "description": "Rows to return at most.",
                          "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}
            }$j$::json,
            'responses', ecommerce_api._oa_responses(),
            'securitySchemes', json_build_object(
                'bearerAuth', json_build_object(
                    'type', 'http',
                    'scheme', 'bearer',
                    'bearerFormat', 'JWT',
                    'description', $d$The token of POST /api/v1/clients/login, signed, carrying the client id, the admin flag and an expiry; send it as `Authorization: Bearer <token>`. It is needed only when ecommerce_api.auth_mode = required; in the default mode (open) no route needs one. In required mode, catalog reads (products, categories, reviews), registration (POST /api/v1/clients/), login, health, metrics and this description are public; a client may read and write only its own client record, addresses, bills, orders, order lines and reviews, and check out; catalog writes and other clients' data need an admin token. A missing or bad token answers 401, a valid token without the right 403. The operations that need a token in required mode list bearerAuth as an alternative to no authentication.$d$))))));
END
$$;

-- GET /openapi.json
CREATE FUNCTION ecommerce_api.api_openapi() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT ecommerce_api._openapi()::text
$$;
