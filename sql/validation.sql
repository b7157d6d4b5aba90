/*
 * sql/validation.sql
 *		Request input: parsing of lenient numbers, dates and emails (section 4),
 *		422 errors in FastAPI's shape and the field validators (section 5), and
 *		one body validator per resource (section 6).
 *
 * A piece of the install script (see sql/conventions.sql).
 */

/* =========================================================================
 * 4. Input parsing
 *
 * The API is lenient the way the reference (FastAPI + pydantic v2, lax mode)
 * was: numeric strings are numbers, an integral float is an int, surrounding
 * whitespace in numeric strings is ignored.  These helpers return NULL for
 * anything that does not parse; the validators below turn that into errors.
 * Booleans are not accepted as numbers (pydantic would take true as 1: an API
 * that sells "true" units of something is not being careful).
 * Digits are matched with [0-9], never \d, which may match non-ASCII digits
 * that numeric input would then reject.
 * ========================================================================= */

-- A decimal number written as text, or NULL.  numeric input itself skips
-- surrounding whitespace; the pattern refuses NaN/Infinity and huge exponents.
CREATE FUNCTION ecommerce_api._num_text(s text) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN s ~ '^[ \t\n\r\f\v]*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,4})?[ \t\n\r\f\v]*$'
        THEN s::numeric
    END
$$;

-- An integer written as text ("42", " 42 ", "+42", "42.0"), or NULL.
CREATE FUNCTION ecommerce_api._int_text(s text) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN s ~ '^[ \t\n\r\f\v]*[+-]?[0-9]+(\.0*)?[ \t\n\r\f\v]*$'
        THEN trunc(s::numeric)
    END
$$;

-- A JSON number or numeric string, or NULL.
CREATE FUNCTION ecommerce_api._num(v jsonb) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE jsonb_typeof(v)
        WHEN 'number' THEN v::numeric
        WHEN 'string' THEN ecommerce_api._num_text(v #>> '{}')
    END
$$;

-- A JSON integer (3 or 3.0) or integer string, or NULL.
CREATE FUNCTION ecommerce_api._int_of(v jsonb) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE jsonb_typeof(v)
        WHEN 'number' THEN CASE WHEN v::numeric = trunc(v::numeric) THEN trunc(v::numeric) END
        WHEN 'string' THEN ecommerce_api._int_text(v #>> '{}')
    END
$$;

-- An integer as a bigint id, or NULL when it is outside bigint's range (such
-- an id cannot exist, so lookups with NULL find nothing and answer 404).
CREATE FUNCTION ecommerce_api._bigint(n numeric) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN n BETWEEN -9223372036854775808 AND 9223372036854775807 THEN n::bigint END
$$;

-- pydantic's lax boolean strings, or NULL.
CREATE FUNCTION ecommerce_api._bool_text(s text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE lower(btrim(s))
        WHEN 'true' THEN true  WHEN '1' THEN true  WHEN 'yes' THEN true
        WHEN 'on' THEN true    WHEN 't' THEN true  WHEN 'y' THEN true
        WHEN 'false' THEN false WHEN '0' THEN false WHEN 'no' THEN false
        WHEN 'off' THEN false  WHEN 'f' THEN false WHEN 'n' THEN false
    END
$$;

-- Why a string is not a YYYY-MM-DD date (pydantic's wording), or NULL if it is.
CREATE FUNCTION ecommerce_api._date_problem(s text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    -- CASE arms run in order, so each cast below only sees digits
    SELECT CASE
        WHEN char_length(s) < 10 THEN 'input is too short'
        WHEN substr(s, 1, 4) !~ '^[0-9]{4}$' THEN 'invalid character in year'
        WHEN substr(s, 5, 1) <> '-' THEN 'invalid date separator, expected `-`'
        WHEN substr(s, 6, 2) !~ '^[0-9]{2}$' THEN 'invalid character in month'
        WHEN substr(s, 8, 1) <> '-' THEN 'invalid date separator, expected `-`'
        WHEN substr(s, 9, 2) !~ '^[0-9]{2}$' THEN 'invalid character in day'
        WHEN char_length(s) > 10 THEN 'input is too long'
        WHEN substr(s, 1, 4)::int = 0 THEN 'year value is outside expected range'
        WHEN substr(s, 6, 2)::int NOT BETWEEN 1 AND 12 THEN 'month value is outside expected range of 1-12'
        WHEN substr(s, 9, 2)::int NOT BETWEEN 1 AND
             extract(day FROM make_date(substr(s, 1, 4)::int, substr(s, 6, 2)::int, 1)
                              + interval '1 month - 1 day')
            THEN 'day value is outside expected range'
    END
$$;

-- Parses an ISO-8601 datetime the way pydantic does: "YYYY-MM-DD", then
-- optionally [T t _ space] HH:MM[:SS[.fraction]], then optionally Z or an
-- offset.  ts is normalized to UTC (the API stores UTC without zone);
-- zero_time tells whether the written time was midnight (dates accept such
-- datetimes); problem is pydantic's reason when the text does not parse.
CREATE FUNCTION ecommerce_api._datetime_parse(s text, OUT ts timestamp, OUT zero_time boolean, OUT problem text)
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    m   text[];
    iso text;
BEGIN
    m := regexp_match(s, '^([0-9]{4}-[0-9]{2}-[0-9]{2})'
                         '(?:[Tt _]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?)?'
                         '(Z|z|[+-][0-9]{2}(?::?[0-9]{2})?)?$');
    IF m IS NULL THEN
        problem := coalesce(ecommerce_api._date_problem(left(s, 10)), CASE
            WHEN substr(s, 11, 1) NOT IN ('T', 't', '_', ' ')
                THEN 'invalid datetime separator, expected `T`, `t`, `_` or space'
            WHEN substr(s, 12, 2) !~ '^[0-9]{2}$' THEN 'invalid character in hour'
            WHEN substr(s, 14, 1) <> ':' THEN 'invalid time separator, expected `:`'
            WHEN substr(s, 15, 2) !~ '^[0-9]{2}$' THEN 'invalid character in minute'
            ELSE 'unexpected extra characters at the end of the input'
        END);
        RETURN;
    END IF;
    problem := CASE
        WHEN ecommerce_api._date_problem(m[1]) IS NOT NULL THEN ecommerce_api._date_problem(m[1])
        WHEN m[2]::int > 23 THEN 'hour value is outside expected range of 0-23'
        WHEN m[3]::int > 59 THEN 'minute value is outside expected range of 0-59'
        WHEN m[4]::int > 59 THEN 'second value is outside expected range of 0-59'
        WHEN m[6] !~ '^[+-]' THEN NULL
        WHEN substr(m[6], 2, 2)::int > 23 THEN 'timezone offset hour must be less than 24'
        WHEN right(m[6], 2)::int > 59 THEN 'timezone offset minute must be less than 60'
    END;
    IF problem IS NOT NULL THEN
        RETURN;
    END IF;
    zero_time := coalesce(m[2]::int, 0) = 0 AND coalesce(m[3]::int, 0) = 0
             AND coalesce(m[4]::int, 0) = 0 AND coalesce(m[5], '0') ~ '^0+$';
    -- ISO year-first input reads the same under every DateStyle
    iso := format('%s %s:%s:%s.%s', m[1], coalesce(m[2], '00'), coalesce(m[3], '00'),
                  coalesce(m[4], '00'), coalesce(m[5], '0'));
    IF m[6] ~ '^[+-]' THEN
        -- an explicit offset: convert to UTC
        ts := (iso || m[6])::timestamptz AT TIME ZONE 'UTC';
    ELSE
        ts := iso::timestamp;
    END IF;
END
$$;

-- Normalized email: the domain is case-insensitive, so it is stored lower-case.
CREATE FUNCTION ecommerce_api._normalize_email(s text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT split_part(s, '@', 1) || '@' || lower(split_part(s, '@', 2))
$$;

-- Why a string is not an acceptable email address (email-validator's
-- wording), or NULL.  Kept in step with CHECK clients_email_format.
CREATE FUNCTION ecommerce_api._email_problem(s text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN s !~ '^[^@]*@[^@]*$' THEN 'The email address is not valid. It must have exactly one @-sign.'
        WHEN split_part(s, '@', 1) = '' THEN 'There must be something before the @-sign.'
        WHEN split_part(s, '@', 2) = '' THEN 'There must be something after the @-sign.'
        WHEN s ~ '[[:space:]]' THEN 'The email address contains invalid characters (whitespace).'
        WHEN split_part(s, '@', 2) !~ '\.' THEN 'The part after the @-sign is not valid. It should have a period.'
        WHEN split_part(s, '@', 2) !~ '^[^.]+(\.[^.]+)+$' THEN 'The part after the @-sign is not valid. A period cannot start or end it, or follow another period.'
        WHEN char_length(s) > 254 THEN 'The email address is too long.'
    END
$$;


/* =========================================================================
 * 5. Validation errors (422) in FastAPI's shape
 *
 * A validator returns one error item (json) or NULL.  Each resource has an
 * _<resource>_errors(doc) function returning the array of its field
 * validators; _validate() raises EA422 with all non-NULL items, in order, so
 * a client sees every problem of its request at once, like FastAPI reports.
 * Items are {type, loc, msg, input[, ctx]} with pydantic v2's types and
 * messages.  Items are json (not jsonb) so their keys keep FastAPI's order.
 * ========================================================================= */

-- A password is never echoed: a password field's own item has input null,
-- and the object a "missing" item carries loses its password.
CREATE FUNCTION ecommerce_api._err(kind text, loc jsonb, msg text, input jsonb, ctx json DEFAULT NULL)
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN ctx IS NULL
        THEN json_build_object('type', kind, 'loc', loc, 'msg', msg, 'input', shown)
        ELSE json_build_object('type', kind, 'loc', loc, 'msg', msg, 'input', shown, 'ctx', ctx)
    END
    FROM (SELECT CASE
                     WHEN jsonb_typeof(input) = 'object' THEN input - 'password'
                     WHEN loc ->> -1 = 'password' THEN NULL
                     ELSE input
                 END AS shown) AS s
$$;

-- Raises EA422 if any item is not NULL.
CREATE FUNCTION ecommerce_api._validate(errors json[]) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
    item json;
BEGIN
    -- fast path: the request is valid (no query needed)
    FOREACH item IN ARRAY errors LOOP
        IF item IS NOT NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'EA422',
                MESSAGE = (SELECT json_agg(e ORDER BY n)
                             FROM unnest(errors) WITH ORDINALITY AS u(e, n)
                            WHERE e IS NOT NULL)::text;
        END IF;
    END LOOP;
END
$$;

-- The body itself: absent (or JSON null) is "missing"; a JSON value that is
-- not an object cannot hold fields.  NULL when the body is an object.
CREATE FUNCTION ecommerce_api._body_error(doc jsonb) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN doc IS NULL OR doc = 'null' THEN
            ecommerce_api._err('missing', '["body"]', 'Field required', NULL)
        WHEN jsonb_typeof(doc) <> 'object' THEN
            ecommerce_api._err('model_attributes_type', '["body"]',
                'Input should be a valid dictionary or object to extract fields from', doc)
    END
$$;

-- Python's json.JSONDecodeError wording for PostgreSQL's JSON parser detail.
CREATE FUNCTION ecommerce_api._json_error_text(detail text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN detail LIKE 'Expected end of input%' THEN 'Extra data'
        WHEN detail LIKE 'Expected string, but found%' OR detail LIKE 'Expected string or "}"%'
            THEN 'Expecting property name enclosed in double quotes'
        WHEN detail LIKE 'Expected ":"%' THEN 'Expecting '':'' delimiter'
        WHEN detail LIKE 'Expected "," or%' THEN 'Expecting '','' delimiter'
        WHEN detail LIKE 'Escape sequence%' THEN 'Invalid \escape'
        WHEN detail LIKE 'Character with value%' THEN 'Invalid control character'
        WHEN detail LIKE 'Token%' OR detail LIKE 'Expected JSON value%'
          OR detail LIKE 'Expected array element%' OR detail LIKE 'The input string ended%'
            THEN 'Expecting value'
        ELSE coalesce(detail, 'Invalid JSON')
    END
$$;

-- Character offset (0-based, like Python's JSONDecodeError.pos) of the token
-- PostgreSQL's JSON parser choked on, recovered from the error's DETAIL (the
-- token) and CONTEXT ("JSON data, line N: <excerpt ending at the token>").
-- Best effort: 0 when it cannot tell.  Must never raise (it runs inside an
-- exception handler).
CREATE FUNCTION ecommerce_api._json_error_position(body text, detail text, context text) RETURNS integer
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    m          text[];
    line_no    integer;
    excerpt    text;
    line       text;
    token      text;
    line_start integer;
    token_end  integer;
BEGIN
    IF detail LIKE 'The input string ended unexpectedly%' THEN
        RETURN char_length(body);
    END IF;
    m := regexp_match(context, '^JSON data, line ([0-9]{1,9}): (\.\.\.)?(.*)$', 'n');
    token := (regexp_match(detail, '"(.*)"'))[1];
    IF m IS NULL OR token IS NULL THEN
        RETURN 0;
    END IF;
    line_no := m[1]::integer;
    excerpt := m[3];
    -- the excerpt ends at the end of the bad token; "..." follows if more input does
    IF excerpt LIKE '%' || token || '...' THEN
        excerpt := left(excerpt, -3);
    END IF;
    line := split_part(body, E'\n', line_no);
    line_start := CASE WHEN line_no > 1
        THEN char_length(array_to_string((string_to_array(body, E'\n'))[1:line_no - 1], E'\n')) + 1
        ELSE 0 END;
    token_end := CASE WHEN m[2] IS NULL THEN char_length(excerpt)
                      ELSE strpos(line, excerpt) + char_length(excerpt) - 1 END;
    RETURN greatest(line_start + token_end - char_length(token), 0);
END
$$;

-- The request body as jsonb: NULL when absent or empty, any JSON value
-- otherwise (the _<resource>_errors functions judge its shape, so that its
-- errors can be reported together with path and query errors).  Malformed
-- JSON raises at once, as FastAPI does before it validates anything else.
CREATE FUNCTION ecommerce_api._body(body text) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    detail  text;
    context text;
BEGIN
    IF body IS NULL OR body = '' THEN
        RETURN NULL;
    END IF;
    RETURN body::jsonb;
EXCEPTION WHEN data_exception THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL, context = PG_EXCEPTION_CONTEXT;
    RAISE EXCEPTION USING
        ERRCODE = 'EA422',
        MESSAGE = json_build_array(ecommerce_api._err(
            'json_invalid',
            jsonb_build_array('body', ecommerce_api._json_error_position(body, detail, context)),
            'JSON decode error',
            '{}',
            json_build_object('error', ecommerce_api._json_error_text(detail))))::text;
END
$$;

-- Field validators.  All take the object, the key, whether the field is
-- required, the constraints, and the loc prefix (["body"], or
-- ["body","items",3] for a nested object).  An absent optional field is fine,
-- and so is an explicit null for it (null means "no value"); a required field
-- that is null gets the type error, as in pydantic.
--
-- The ones every POST and PUT runs are PL/pgSQL, one test per statement.
-- Inlined, a body's validators are one large expression that PostgreSQL
-- compiles again in every transaction (each request is one) before it
-- evaluates it, error messages included: ~300k instructions for a product,
-- 40% of its POST.  Statement by statement, a valid field only compiles the
-- tests it passes, once per transaction for all the fields that share the
-- validator, and an error item is only built (and compiled) for a field
-- that has one.  Their order is the order of the CASE arms they replace.

CREATE FUNCTION ecommerce_api._chk_str(obj jsonb, key text, required boolean,
                                       min_len integer DEFAULT NULL, max_len integer DEFAULT NULL,
                                       prefix jsonb DEFAULT '["body"]')
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    IF NOT obj ? key THEN
        IF required THEN
            RETURN ecommerce_api._err('missing', prefix || to_jsonb(key), 'Field required', obj);
        END IF;
        RETURN NULL;
    END IF;
    IF obj -> key = 'null' AND NOT required THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(obj -> key) <> 'string' THEN
        RETURN ecommerce_api._err('string_type', prefix || to_jsonb(key), 'Input should be a valid string', obj -> key);
    END IF;
    IF char_length(obj ->> key) < min_len THEN
        RETURN ecommerce_api._err('string_too_short', prefix || to_jsonb(key),
            format('String should have at least %s character%s', min_len, CASE WHEN min_len = 1 THEN '' ELSE 's' END),
            obj -> key, json_build_object('min_length', min_len));
    END IF;
    IF char_length(obj ->> key) > max_len THEN
        RETURN ecommerce_api._err('string_too_long', prefix || to_jsonb(key),
            format('String should have at most %s character%s', max_len, CASE WHEN max_len = 1 THEN '' ELSE 's' END),
            obj -> key, json_build_object('max_length', max_len));
    END IF;
    RETURN NULL;
END
$$;

-- Range checks shared by numbers and integers (value already parsed).
-- Inlined where v is cheap (a parameter or variable, _int_text(param)): v is
-- compared up to three times, and the planner does not inline a SQL function
-- whose argument it would have to evaluate several times when that argument
-- is costly; it calls it instead, and a SQL function called from a cached
-- plan is parsed and planned again on every call.
CREATE FUNCTION ecommerce_api._chk_range(v numeric, loc jsonb, input jsonb,
                                         gt numeric, ge numeric, le numeric)
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN v <= gt THEN ecommerce_api._err('greater_than', loc,
            format('Input should be greater than %s', gt), input, json_build_object('gt', gt))
        WHEN v < ge THEN ecommerce_api._err('greater_than_equal', loc,
            format('Input should be greater than or equal to %s', ge), input, json_build_object('ge', ge))
        WHEN v > le THEN ecommerce_api._err('less_than_equal', loc,
            format('Input should be less than or equal to %s', le), input, json_build_object('le', le))
    END
$$;

-- A number (float in pydantic).  With digits, the value is compared after
-- rounding to that many decimals, because that is what will be stored (a
-- price of 0.001 is 0.00 and therefore not > 0).
CREATE FUNCTION ecommerce_api._chk_num(obj jsonb, key text, required boolean,
                                       gt numeric DEFAULT NULL, ge numeric DEFAULT NULL, le numeric DEFAULT NULL,
                                       digits integer DEFAULT NULL, prefix jsonb DEFAULT '["body"]')
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    v numeric;
BEGIN
    IF NOT obj ? key THEN
        IF required THEN
            RETURN ecommerce_api._err('missing', prefix || to_jsonb(key), 'Field required', obj);
        END IF;
        RETURN NULL;
    END IF;
    IF obj -> key = 'null' AND NOT required THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(obj -> key) NOT IN ('number', 'string') THEN
        RETURN ecommerce_api._err('float_type', prefix || to_jsonb(key), 'Input should be a valid number', obj -> key);
    END IF;
    v := ecommerce_api._num(obj -> key);
    IF v IS NULL THEN
        RETURN ecommerce_api._err('float_parsing', prefix || to_jsonb(key),
            'Input should be a valid number, unable to parse string as a number', obj -> key);
    END IF;
    IF digits IS NOT NULL THEN
        v := round(v, digits);
    END IF;
    IF v <= gt OR v < ge OR v > le THEN
        RETURN ecommerce_api._chk_range(v, prefix || to_jsonb(key), obj -> key, gt, ge, le);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION ecommerce_api._chk_int(obj jsonb, key text, required boolean,
                                       gt numeric DEFAULT NULL, ge numeric DEFAULT NULL, le numeric DEFAULT NULL,
                                       prefix jsonb DEFAULT '["body"]')
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    v numeric;
BEGIN
    IF NOT obj ? key THEN
        IF required THEN
            RETURN ecommerce_api._err('missing', prefix || to_jsonb(key), 'Field required', obj);
        END IF;
        RETURN NULL;
    END IF;
    IF obj -> key = 'null' AND NOT required THEN
        RETURN NULL;
    END IF;
    v := ecommerce_api._int_of(obj -> key);
    IF v IS NOT NULL THEN
        IF v <= gt OR v < ge OR v > le THEN
            RETURN ecommerce_api._chk_range(v, prefix || to_jsonb(key), obj -> key, gt, ge, le);
        END IF;
        RETURN NULL;
    END IF;
    IF jsonb_typeof(obj -> key) = 'number' THEN
        RETURN ecommerce_api._err('int_from_float', prefix || to_jsonb(key),
            'Input should be a valid integer, got a number with a fractional part', obj -> key);
    END IF;
    IF jsonb_typeof(obj -> key) = 'string' THEN
        RETURN ecommerce_api._err('int_parsing', prefix || to_jsonb(key),
            'Input should be a valid integer, unable to parse string as an integer', obj -> key);
    END IF;
    RETURN ecommerce_api._err('int_type', prefix || to_jsonb(key), 'Input should be a valid integer', obj -> key);
END
$$;

-- An integer enum with the values 1..n (n <= 9).  The expected list reads
-- "1, 2 or 3": the first n-1 values (3 characters each in the template) then
-- " or n".
CREATE FUNCTION ecommerce_api._chk_enum(obj jsonb, key text, required boolean, n integer,
                                        prefix jsonb DEFAULT '["body"]')
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    IF NOT obj ? key THEN
        IF required THEN
            RETURN ecommerce_api._err('missing', prefix || to_jsonb(key), 'Field required', obj);
        END IF;
        RETURN NULL;
    END IF;
    IF obj -> key = 'null' AND NOT required THEN
        RETURN NULL;
    END IF;
    IF coalesce(ecommerce_api._int_of(obj -> key) BETWEEN 1 AND n, false) THEN
        RETURN NULL;
    END IF;
    RETURN ecommerce_api._err('enum', prefix || to_jsonb(key),
        format('Input should be %s or %s', left('1, 2, 3, 4, 5, 6, 7, 8', 3 * n - 5), n),
        obj -> key,
        json_build_object('expected', format('%s or %s', left('1, 2, 3, 4, 5, 6, 7, 8', 3 * n - 5), n)));
END
$$;

-- A required email address (pydantic's EmailStr).
CREATE FUNCTION ecommerce_api._chk_email(obj jsonb, key text, prefix jsonb DEFAULT '["body"]')
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    problem text;
BEGIN
    IF NOT obj ? key THEN
        RETURN ecommerce_api._err('missing', prefix || to_jsonb(key), 'Field required', obj);
    END IF;
    IF jsonb_typeof(obj -> key) <> 'string' THEN
        RETURN ecommerce_api._err('string_type', prefix || to_jsonb(key), 'Input should be a valid string', obj -> key);
    END IF;
    problem := ecommerce_api._email_problem(obj ->> key);
    IF problem IS NOT NULL THEN
        RETURN ecommerce_api._err('value_error', prefix || to_jsonb(key),
            'value is not a valid email address: ' || problem,
            obj -> key, json_build_object('reason', problem));
    END IF;
    RETURN NULL;
END
$$;

-- A date: "YYYY-MM-DD", or a datetime whose time is exactly midnight.
CREATE FUNCTION ecommerce_api._chk_date(obj jsonb, key text, required boolean, prefix jsonb DEFAULT '["body"]')
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN NOT obj ? key THEN
            CASE WHEN required THEN ecommerce_api._err('missing', prefix || to_jsonb(key), 'Field required', obj) END
        WHEN obj -> key = 'null' AND NOT required THEN NULL
        WHEN jsonb_typeof(obj -> key) <> 'string' THEN
            ecommerce_api._err('date_type', prefix || to_jsonb(key), 'Input should be a valid date', obj -> key)
        WHEN ecommerce_api._date_problem(obj ->> key) IS NULL THEN NULL
        WHEN char_length(obj ->> key) <= 10 THEN
            ecommerce_api._err('date_parsing', prefix || to_jsonb(key),
                'Input should be a valid date in the format YYYY-MM-DD, ' || ecommerce_api._date_problem(obj ->> key),
                obj -> key, json_build_object('error', ecommerce_api._date_problem(obj ->> key)))
        WHEN (ecommerce_api._datetime_parse(obj ->> key)).problem IS NOT NULL THEN
            ecommerce_api._err('date_from_datetime_parsing', prefix || to_jsonb(key),
                'Input should be a valid date or datetime, ' || (ecommerce_api._datetime_parse(obj ->> key)).problem,
                obj -> key, json_build_object('error', (ecommerce_api._datetime_parse(obj ->> key)).problem))
        WHEN NOT (ecommerce_api._datetime_parse(obj ->> key)).zero_time THEN
            ecommerce_api._err('date_from_datetime_inexact', prefix || to_jsonb(key),
                'Datetimes provided to dates should have zero time - e.g. be exact dates', obj -> key)
    END
$$;

-- The date value of a field that passed _chk_date.  STABLE, as the text to
-- date cast is (an IMMUTABLE function with a STABLE body is not inlined).
CREATE FUNCTION ecommerce_api._date_of(v jsonb) RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT left(v #>> '{}', 10)::date
$$;

CREATE FUNCTION ecommerce_api._chk_datetime(obj jsonb, key text, required boolean, prefix jsonb DEFAULT '["body"]')
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN NOT obj ? key THEN
            CASE WHEN required THEN ecommerce_api._err('missing', prefix || to_jsonb(key), 'Field required', obj) END
        WHEN obj -> key = 'null' AND NOT required THEN NULL
        WHEN jsonb_typeof(obj -> key) <> 'string' THEN
            ecommerce_api._err('datetime_type', prefix || to_jsonb(key), 'Input should be a valid datetime', obj -> key)
        WHEN (ecommerce_api._datetime_parse(obj ->> key)).problem IS NOT NULL THEN
            ecommerce_api._err('datetime_parsing', prefix || to_jsonb(key),
                'Input should be a valid datetime, ' || (ecommerce_api._datetime_parse(obj ->> key)).problem,
                obj -> key, json_build_object('error', (ecommerce_api._datetime_parse(obj ->> key)).problem))
    END
$$;

-- Path and query parameters arrive as text (NULL when absent).

CREATE FUNCTION ecommerce_api._path_error(id text) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN ecommerce_api._int_text(id) IS NULL THEN
        ecommerce_api._err('int_parsing', '["path","id"]',
            'Input should be a valid integer, unable to parse string as an integer', to_jsonb(id))
    END
$$;

-- Raises the EA422 of a path id that is not an integer.
CREATE FUNCTION ecommerce_api._path_id_error(id text) RETURNS numeric
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    PERFORM ecommerce_api._validate(ARRAY[ecommerce_api._path_error(id)]);
    RETURN NULL;    -- not reached
END
$$;

-- The path id as a number (validated: EA422 otherwise).  It is numeric, not
-- bigint: an id beyond bigint is a valid integer that names no entity (404).
-- Inlinable: "v_id numeric := _path_id(id)" in a route is one expression, and
-- only an invalid id calls a function (coalesce stops at its first non-NULL).
CREATE FUNCTION ecommerce_api._path_id(id text) RETURNS numeric
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(ecommerce_api._int_text(id), ecommerce_api._path_id_error(id))
$$;

CREATE FUNCTION ecommerce_api._chk_query_int(value text, name text,
                                             ge numeric DEFAULT NULL, le numeric DEFAULT NULL)
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN value IS NULL THEN NULL
        WHEN ecommerce_api._int_text(value) IS NULL THEN
            ecommerce_api._err('int_parsing', jsonb_build_array('query', name),
                'Input should be a valid integer, unable to parse string as an integer', to_jsonb(value))
        ELSE ecommerce_api._chk_range(ecommerce_api._int_text(value), jsonb_build_array('query', name),
                                      to_jsonb(value), NULL, ge, le)
    END
$$;

CREATE FUNCTION ecommerce_api._chk_query_num(value text, name text) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN value IS NOT NULL AND ecommerce_api._num_text(value) IS NULL THEN
        ecommerce_api._err('float_parsing', jsonb_build_array('query', name),
            'Input should be a valid number, unable to parse string as a number', to_jsonb(value))
    END
$$;

CREATE FUNCTION ecommerce_api._chk_query_bool(value text, name text) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN value IS NOT NULL AND ecommerce_api._bool_text(value) IS NULL THEN
        ecommerce_api._err('bool_parsing', jsonb_build_array('query', name),
            'Input should be a valid boolean, unable to interpret input', to_jsonb(value))
    END
$$;

-- skip (>= 0, default 0) and limit (1..1000, default 100) of every list.
-- PL/pgSQL for its fast path: every list request runs this, in its own
-- transaction, and an expression is compiled anew in each transaction that
-- evaluates it; the two inlined validators make ~60 function calls to set up
-- (~100k instructions, a third of a short list), where plain numbers in range,
-- the usual request, need one test of a few.  Anything else (absent
-- excepted) gets the validators' verdict, the same as before.
CREATE FUNCTION ecommerce_api._page_errors(skip text, lim text) RETURNS json[]
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    IF (skip IS NULL OR skip ~ '^[0-9]{1,18}$')
       AND (lim IS NULL OR CASE WHEN lim ~ '^[0-9]{1,4}$' THEN lim::integer BETWEEN 1 AND 1000 END) THEN
        RETURN '{NULL,NULL}';
    END IF;
    RETURN ARRAY[ecommerce_api._chk_query_int(skip, 'skip', ge => 0),
                 ecommerce_api._chk_query_int(lim, 'limit', ge => 1, le => 1000)];
END
$$;

-- The validated skip (clamped to bigint: no table has that many rows anyway).
CREATE FUNCTION ecommerce_api._page_offset(skip text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT least(coalesce(ecommerce_api._int_text(skip), 0), 9223372036854775807)::bigint
$$;

CREATE FUNCTION ecommerce_api._page_limit(lim text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(ecommerce_api._int_text(lim), 100)::integer
$$;


/* =========================================================================
 * 6. Request bodies, one validator per resource (contract section 1)
 *
 * Field order is the contract's, so errors come out in FastAPI's order.
 * Upper bounds beyond the contract are the column types' limits, reported as
 * less_than_equal instead of failing later with an overflow.
 * ========================================================================= */

CREATE FUNCTION ecommerce_api._category_errors(doc jsonb) RETURNS json[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(doc) = 'object' THEN ARRAY[
        ecommerce_api._chk_str(doc, 'name', true, 1, 100)
    ] ELSE ARRAY[ecommerce_api._body_error(doc)] END
$$;

CREATE FUNCTION ecommerce_api._product_errors(doc jsonb) RETURNS json[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(doc) = 'object' THEN ARRAY[
        ecommerce_api._chk_str(doc, 'name', true, 1, 200),
        ecommerce_api._chk_str(doc, 'description', false, NULL, 2000),
        ecommerce_api._chk_num(doc, 'price', true, gt => 0, le => 9999999999.99, digits => 2),
        ecommerce_api._chk_int(doc, 'stock', false, ge => 0, le => 2147483647),
        ecommerce_api._chk_int(doc, 'category_id', false)
    ] ELSE ARRAY[ecommerce_api._body_error(doc)] END
$$;

CREATE FUNCTION ecommerce_api._client_errors(doc jsonb) RETURNS json[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(doc) = 'object' THEN ARRAY[
        ecommerce_api._chk_str(doc, 'name', true, 1, 100),
        ecommerce_api._chk_str(doc, 'lastname', true, 1, 100),
        ecommerce_api._chk_email(doc, 'email'),
        ecommerce_api._chk_str(doc, 'telephone', false, NULL, 30),
        ecommerce_api._chk_str(doc, 'password', false, 1, 128)
    ] ELSE ARRAY[ecommerce_api._body_error(doc)] END
$$;

CREATE FUNCTION ecommerce_api._address_errors(doc jsonb) RETURNS json[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(doc) = 'object' THEN ARRAY[
        ecommerce_api._chk_str(doc, 'street', false, 1, 200),
        ecommerce_api._chk_str(doc, 'number', false, NULL, 20),
        ecommerce_api._chk_str(doc, 'city', false, 1, 100),
        ecommerce_api._chk_int(doc, 'client_id', true)
    ] ELSE ARRAY[ecommerce_api._body_error(doc)] END
$$;

CREATE FUNCTION ecommerce_api._bill_errors(doc jsonb) RETURNS json[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(doc) = 'object' THEN ARRAY[
        ecommerce_api._chk_str(doc, 'bill_number', true, 1, 50),
        ecommerce_api._chk_num(doc, 'discount', false, ge => 0, le => 999999999999.99, digits => 2),
        ecommerce_api._chk_date(doc, 'date', true),
        ecommerce_api._chk_num(doc, 'total', true, ge => 0, le => 999999999999.99, digits => 2),
        ecommerce_api._chk_enum(doc, 'payment_type', true, 5),
        ecommerce_api._chk_int(doc, 'client_id', true)
    ] ELSE ARRAY[ecommerce_api._body_error(doc)] END
$$;

-- partial: PUT /orders is a true partial update.  Nothing is required there,
-- but a required field that is sent is validated as on POST (null included:
-- a total of null is not "no change", it is not a number).
CREATE FUNCTION ecommerce_api._order_errors(doc jsonb, partial boolean) RETURNS json[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(doc) = 'object' THEN ARRAY[
        ecommerce_api._chk_datetime(doc, 'date', false),
        CASE WHEN NOT partial OR doc ? 'total' THEN
            ecommerce_api._chk_num(doc, 'total', true, ge => 0, le => 999999999999.99, digits => 2) END,
        CASE WHEN NOT partial OR doc ? 'delivery_method' THEN
            ecommerce_api._chk_enum(doc, 'delivery_method', true, 3) END,
        ecommerce_api._chk_enum(doc, 'status', false, 4),
        CASE WHEN NOT partial OR doc ? 'client_id' THEN ecommerce_api._chk_int(doc, 'client_id', true) END,
        CASE WHEN NOT partial OR doc ? 'bill_id' THEN ecommerce_api._chk_int(doc, 'bill_id', true) END
    ] ELSE ARRAY[ecommerce_api._body_error(doc)] END
$$;

CREATE FUNCTION ecommerce_api._order_detail_errors(doc jsonb) RETURNS json[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(doc) = 'object' THEN ARRAY[
        ecommerce_api._chk_int(doc, 'quantity', true, gt => 0, le => 2147483647),
        ecommerce_api._chk_num(doc, 'price', false, gt => 0, le => 9999999999.99, digits => 2),
        ecommerce_api._chk_int(doc, 'order_id', true),
        ecommerce_api._chk_int(doc, 'product_id', true)
    ] ELSE ARRAY[ecommerce_api._body_error(doc)] END
$$;

CREATE FUNCTION ecommerce_api._review_errors(doc jsonb) RETURNS json[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(doc) = 'object' THEN ARRAY[
        ecommerce_api._chk_num(doc, 'rating', true, ge => 1.0, le => 5.0, digits => 2),
        ecommerce_api._chk_str(doc, 'comment', false, 10, 1000),
        ecommerce_api._chk_int(doc, 'product_id', true)
    ] ELSE ARRAY[ecommerce_api._body_error(doc)] END
$$;

CREATE FUNCTION ecommerce_api._login_errors(doc jsonb) RETURNS json[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(doc) = 'object' THEN ARRAY[
        ecommerce_api._chk_str(doc, 'email', true),
        ecommerce_api._chk_str(doc, 'password', true)
    ] ELSE ARRAY[ecommerce_api._body_error(doc)] END
$$;

-- One element of checkout's "items" (index is 0-based, as FastAPI reports it).
CREATE FUNCTION ecommerce_api._checkout_item_errors(item jsonb, index bigint) RETURNS json[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(item) = 'object' THEN ARRAY[
        ecommerce_api._chk_int(item, 'product_id', true, prefix => jsonb_build_array('body', 'items', index)),
        ecommerce_api._chk_int(item, 'quantity', true, gt => 0, le => 2147483647,
                               prefix => jsonb_build_array('body', 'items', index))
    ] ELSE ARRAY[ecommerce_api._err('model_attributes_type', jsonb_build_array('body', 'items', index),
                     'Input should be a valid dictionary or object to extract fields from', item)] END
$$;

-- The checkout body but for the elements of "items" (checked by the caller
-- with _checkout_item_errors: iterating them needs a sub-select, which would
-- stop this function from being inlined into the caller's cached plan).
-- items: a list of 1..1000 objects.
CREATE FUNCTION ecommerce_api._checkout_errors(doc jsonb) RETURNS json[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(doc) = 'object' THEN ARRAY[
        ecommerce_api._chk_int(doc, 'client_id', true),
        ecommerce_api._chk_enum(doc, 'delivery_method', true, 3),
        ecommerce_api._chk_enum(doc, 'payment_type', true, 5),
        CASE
            WHEN NOT doc ? 'items' THEN
                ecommerce_api._err('missing', '["body","items"]', 'Field required', doc)
            WHEN jsonb_typeof(doc -> 'items') <> 'array' THEN
                ecommerce_api._err('list_type', '["body","items"]', 'Input should be a valid list', doc -> 'items')
            WHEN jsonb_array_length(doc -> 'items') = 0 THEN
                ecommerce_api._err('too_short', '["body","items"]',
                    'List should have at least 1 item after validation, not 0', doc -> 'items',
                    json_build_object('field_type', 'List', 'min_length', 1, 'actual_length', 0))
            WHEN jsonb_array_length(doc -> 'items') > 1000 THEN
                ecommerce_api._err('too_long', '["body","items"]',
                    format('List should have at most 1000 items after validation, not %s',
                           jsonb_array_length(doc -> 'items')),
                    doc -> 'items',
                    json_build_object('field_type', 'List', 'max_length', 1000,
                                      'actual_length', jsonb_array_length(doc -> 'items')))
        END
    ] ELSE ARRAY[ecommerce_api._body_error(doc)] END
$$;
