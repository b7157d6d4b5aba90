/*
 * sql/docs_page.sql
 *		GET /docs/static (api_docs): the OpenAPI document of sql/openapi.sql
 *		rendered as one HTML page; GET /docs (api_docs_swagger): Swagger UI
 *		pointed at /openapi.json, as FastAPI serves it.
 *
 * A piece of the install script (see sql/conventions.sql).
 */

-- Text made safe for HTML element content and attribute values.
CREATE FUNCTION ecommerce_api._html(s text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT replace(replace(replace(replace(replace(s,
               '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;')
$$;

/* ---- GET /docs: the document as an HTML page ----------------------------
 *
 * Every piece of text that comes from the document goes through _html().
 * The page stands alone: its only style is inline and it loads nothing, so
 * it reads the same offline and without JavaScript.
 */

-- The component a "#/components/..." reference points to, or the node
-- itself.  The document comes as jsonb here: a json value is parsed again on
-- every access, and the page resolves a few hundred references.
CREATE FUNCTION ecommerce_api._oa_resolve(doc jsonb, node json) RETURNS json
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN node ->> '$ref' LIKE '#/%'
                THEN (doc #> string_to_array(substr(node ->> '$ref', 3), '/'))::json
                ELSE node END
$$;

-- A schema's type, as HTML: a link for a component, "X or null", "array of X".
CREATE FUNCTION ecommerce_api._docs_type(s json) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    name text := substring(s ->> '$ref' FROM '^#/components/schemas/(.*)$');
BEGIN
    IF name IS NOT NULL THEN
        RETURN format('<a href="#schema-%s">%s</a>', ecommerce_api._html(name), ecommerce_api._html(name));
    ELSIF s -> 'anyOf' IS NOT NULL THEN
        RETURN (SELECT string_agg(ecommerce_api._docs_type(a), ' or ' ORDER BY n)
                  FROM json_array_elements(s -> 'anyOf') WITH ORDINALITY AS e(a, n));
    ELSIF json_typeof(s -> 'type') = 'array' THEN
        RETURN (SELECT string_agg(ecommerce_api._docs_type(json_build_object('type', t, 'items', s -> 'items')),
                                  ' or ' ORDER BY n)
                  FROM json_array_elements_text(s -> 'type') WITH ORDINALITY AS e(t, n));
    ELSIF s ->> 'type' = 'array' THEN
        RETURN 'array of ' || ecommerce_api._docs_type(s -> 'items');
    END IF;
    RETURN ecommerce_api._html(coalesce(s ->> 'type', 'any'));
END
$$;

-- A schema's constraints and description, as HTML (escaped text).
CREATE FUNCTION ecommerce_api._docs_notes(s json) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (
    SELECT ecommerce_api._html(concat_ws('; ',
        nullif(concat_ws(', ',
            'format ' || (s ->> 'format'),
            'one of ' || (SELECT string_agg(v, ', ' ORDER BY n)
                            FROM json_array_elements_text(s -> 'enum') WITH ORDINALITY AS e(v, n)),
            'always ' || (s ->> 'const'),
            'length >= ' || (s ->> 'minLength'),
            'length <= ' || (s ->> 'maxLength'),
            '>= ' || (s ->> 'minimum'),
            '> ' || (s ->> 'exclusiveMinimum'),
            '<= ' || (s ->> 'maximum'),
            'items >= ' || (s ->> 'minItems'),
            'items <= ' || (s ->> 'maxItems'),
            'default ' || (s ->> 'default'),
            CASE WHEN (s ->> 'writeOnly')::boolean THEN 'write-only' END,
            'e.g. ' || (s -> 'examples' ->> 0)), ''),
        s ->> 'description')));
END
$$;

-- An object schema's properties as a table; a nested object gets its own
-- table in its row.
CREATE FUNCTION ecommerce_api._docs_properties(s json) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    IF s -> 'properties' IS NULL THEN
        RETURN '';
    END IF;
    RETURN '<table><tr><th>field</th><th>type</th><th>required</th><th>notes</th></tr>'
        || (SELECT string_agg(format('<tr><td><code>%s</code></td><td>%s</td><td>%s</td><td>%s%s</td></tr>',
                                     ecommerce_api._html(p.key),
                                     ecommerce_api._docs_type(p.value),
                                     CASE WHEN EXISTS (SELECT FROM json_array_elements_text(s -> 'required') AS r(f)
                                                        WHERE r.f = p.key)
                                          THEN 'yes' ELSE '' END,
                                     ecommerce_api._docs_notes(p.value),
                                     ecommerce_api._docs_properties(p.value)), '' ORDER BY p.n)
              FROM json_each(s -> 'properties') WITH ORDINALITY AS p(key, value, n))
        || '</table>';
END
$$;

-- One operation as an HTML section.
CREATE FUNCTION ecommerce_api._docs_operation(doc jsonb, path text, method text, op json) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (
    SELECT format('<section class="op" id="op-%s"><h3><span class="method %s">%s</span> <code>%s</code></h3>',
                  ecommerce_api._html(op ->> 'operationId'), ecommerce_api._html(method),
                  ecommerce_api._html(upper(method)), ecommerce_api._html(path))
        || format('<p><strong>%s</strong></p>', ecommerce_api._html(op ->> 'summary'))
        || coalesce('<p>' || ecommerce_api._html(op ->> 'description') || '</p>', '')
        || CASE WHEN op -> 'security' IS NOT NULL THEN
               '<p class="auth">Needs a bearer token when <code>ecommerce_api.auth_mode = required</code> (see <a href="#authentication">Authentication</a>).</p>'
           ELSE '' END
        || coalesce('<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>type</th><th>required</th><th>notes</th></tr>'
                    || (SELECT string_agg(format('<tr><td><code>%s</code></td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>',
                                                 ecommerce_api._html(q.param ->> 'name'), ecommerce_api._html(q.param ->> 'in'),
                                                 ecommerce_api._docs_type(q.param -> 'schema'),
                                                 CASE WHEN (q.param ->> 'required')::boolean THEN 'yes' ELSE '' END,
                                                 concat_ws('; ', nullif(ecommerce_api._docs_notes(q.param -> 'schema'), ''),
                                                           ecommerce_api._html(q.param ->> 'description'))), '' ORDER BY e.n)
                          FROM json_array_elements(op -> 'parameters') WITH ORDINALITY AS e(p, n),
                               LATERAL ecommerce_api._oa_resolve(doc, e.p) AS q(param))
                    || '</table>', '')
        || coalesce((SELECT format('<h4>Request body</h4><p><code>%s</code>: %s</p>',
                                   ecommerce_api._html(c.key), ecommerce_api._docs_type(c.value -> 'schema'))
                       FROM json_each(op -> 'requestBody' -> 'content') AS c), '')
        || '<h4>Responses</h4><table><tr><th>status</th><th>meaning</th><th>body</th></tr>'
        || (SELECT string_agg(format('<tr><td>%s</td><td>%s</td><td>%s</td></tr>',
                                     ecommerce_api._html(r.key),
                                     ecommerce_api._html(coalesce(r.value ->> 'description', x.resp ->> 'description')),
                                     coalesce((SELECT string_agg(format('<code>%s</code>: %s', ecommerce_api._html(c.key),
                                                                        ecommerce_api._docs_type(c.value -> 'schema')), '<br>')
                                                 FROM json_each(x.resp -> 'content') AS c), 'none')), '' ORDER BY r.n)
              FROM json_each(op -> 'responses') WITH ORDINALITY AS r(key, value, n),
                   LATERAL ecommerce_api._oa_resolve(doc, r.value) AS x(resp))
        || '</table></section>');
END
$$;

-- GET /docs/static
CREATE FUNCTION ecommerce_api.api_docs() RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    doc  json := ecommerce_api._openapi();
    docb jsonb := doc::jsonb;    -- for looking up references
    page text;
BEGIN
    page := format('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>%s %s</title>',
                   ecommerce_api._html(doc -> 'info' ->> 'title'), ecommerce_api._html(doc -> 'info' ->> 'version'))
        || '<style>'
           'body{font-family:system-ui,sans-serif;line-height:1.45;max-width:70em;margin:0 auto;padding:1em 2em;color:#222}'
           'code{font-family:ui-monospace,monospace;background:#f3f3f3;padding:0 .2em}'
           'table{border-collapse:collapse;margin:.4em 0 1em;width:100%}'
           'th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}'
           'th{background:#f0f0f0}td td,td th{font-size:95%}'
           'section.op{border-top:2px solid #ddd;margin-top:1.5em}'
           '.method{display:inline-block;min-width:4.5em;text-align:center;color:#fff;border-radius:3px;padding:0 .3em;font-size:90%}'
           '.get{background:#2f7d32}.post{background:#1565c0}.put{background:#ef6c00}.delete{background:#c62828}'
           '.auth{color:#6a1b9a}nav ul{columns:2}'
           '</style></head><body>'
        || format('<h1>%s <small>%s</small></h1><p>%s</p>',
                  ecommerce_api._html(doc -> 'info' ->> 'title'), ecommerce_api._html(doc -> 'info' ->> 'version'),
                  ecommerce_api._html(doc -> 'info' ->> 'summary'))
        || format('<p>OpenAPI %s document: <a href="/openapi.json">/openapi.json</a>. This page is rendered from it.</p>',
                  ecommerce_api._html(doc ->> 'openapi'))
        -- the description's paragraphs
        || (SELECT string_agg('<p>' || ecommerce_api._html(para) || '</p>', '' ORDER BY n)
              FROM regexp_split_to_table(doc -> 'info' ->> 'description', '\n\s*\n') WITH ORDINALITY AS d(para, n))
        -- contents: the operations by tag
        || '<nav><h2>Operations</h2><ul>'
        || (SELECT string_agg(format('<li><strong>%s</strong>: %s<ul>%s</ul></li>',
                                     ecommerce_api._html(t.tag ->> 'name'), ecommerce_api._html(t.tag ->> 'description'),
                                     (SELECT string_agg(format('<li><a href="#op-%s">%s <code>%s</code></a> %s</li>',
                                                               ecommerce_api._html(o.value ->> 'operationId'),
                                                               ecommerce_api._html(upper(o.key)), ecommerce_api._html(p.key),
                                                               ecommerce_api._html(o.value ->> 'summary')),
                                                        '' ORDER BY p.n, o.n)
                                        FROM json_each(doc -> 'paths') WITH ORDINALITY AS p(key, value, n),
                                             json_each(p.value) WITH ORDINALITY AS o(key, value, n)
                                       WHERE o.value -> 'tags' ->> 0 = t.tag ->> 'name')), '' ORDER BY t.n)
              FROM json_array_elements(doc -> 'tags') WITH ORDINALITY AS t(tag, n))
        || '</ul><p><a href="#schemas">Schemas</a> | <a href="#responses">Shared responses</a> | <a href="#authentication">Authentication</a></p></nav>'
        -- every operation, in the document's order
        || '<h2>Paths</h2>'
        || (SELECT string_agg(ecommerce_api._docs_operation(docb, p.key, o.key, o.value), '' ORDER BY p.n, o.n)
              FROM json_each(doc -> 'paths') WITH ORDINALITY AS p(key, value, n),
                   json_each(p.value) WITH ORDINALITY AS o(key, value, n))
        -- the components
        || '<h2 id="schemas">Schemas</h2>'
        || (SELECT string_agg(format('<section id="schema-%s"><h3>%s</h3><p>%s%s</p>%s</section>',
                                     ecommerce_api._html(s.key), ecommerce_api._html(s.key),
                                     ecommerce_api._docs_type(s.value),
                                     coalesce(': ' || nullif(ecommerce_api._docs_notes(s.value), ''), ''),
                                     ecommerce_api._docs_properties(s.value)), '' ORDER BY s.n)
              FROM json_each(doc -> 'components' -> 'schemas') WITH ORDINALITY AS s(key, value, n))
        || '<h2 id="responses">Shared responses</h2><table><tr><th>name</th><th>meaning</th><th>body</th><th>headers</th></tr>'
        || (SELECT string_agg(format('<tr id="response-%s"><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>',
                                     ecommerce_api._html(r.key), ecommerce_api._html(r.key),
                                     ecommerce_api._html(r.value ->> 'description'),
                                     ecommerce_api._docs_type(r.value -> 'content' -> 'application/json' -> 'schema'),
                                     coalesce((SELECT string_agg('<code>' || ecommerce_api._html(h.key) || '</code>', ', ')
                                                 FROM json_each(r.value -> 'headers') AS h), '')), '' ORDER BY r.n)
              FROM json_each(doc -> 'components' -> 'responses') WITH ORDINALITY AS r(key, value, n))
        || '</table><h2 id="authentication">Authentication</h2>'
        || (SELECT string_agg(format('<p><code>%s</code>: %s %s (%s). %s</p>',
                                     ecommerce_api._html(a.key), ecommerce_api._html(a.value ->> 'type'),
                                     ecommerce_api._html(a.value ->> 'scheme'), ecommerce_api._html(a.value ->> 'bearerFormat'),
                                     ecommerce_api._html(a.value ->> 'description')), '')
              FROM json_each(doc -> 'components' -> 'securitySchemes') AS a)
        || '</body></html>';
    RETURN page;
END
$$;

/* ---- GET /docs: Swagger UI ----------------------------------------------
 *
 * The page FastAPI serves at /docs: Swagger UI's bundle and stylesheet from
 * ecommerce_api.docs_assets_url (default: the CDN FastAPI uses), reading
 * /openapi.json; the Authorize button takes a bearer token (bearerAuth) and
 * keeps it across reloads; the operations can be filtered.  Machines without
 * the CDN: GET /docs/static, or docs_assets_url pointing at a copy of npm's
 * swagger-ui-dist.
 */
CREATE FUNCTION ecommerce_api.api_docs_swagger() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT format($html$<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%1$s - Swagger UI</title>
<link rel="stylesheet" type="text/css" href="%2$s/swagger-ui.css">
</head>
<body>
<noscript>This page needs JavaScript and %2$s; <a href="/docs/static">/docs/static</a> needs neither.</noscript>
<div id="swagger-ui"></div>
<script src="%2$s/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    persistAuthorization: true,
    filter: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]
});
</script>
</body>
</html>
$html$,
        'ecommerce_api',
        ecommerce_api._html(rtrim(coalesce(nullif(current_setting('ecommerce_api.docs_assets_url', true), ''),
                                           'https://cdn.jsdelivr.net/npm/swagger-ui-dist@5'), '/')))
$$;
