/*
 * sql/conventions.sql
 *		The preamble of the install script: what the SQL half of
 *		ecommerce_api is, and the rules every piece follows.  It defines
 *		nothing.
 *
 * The SQL half of ecommerce_api: schema, constraints, indexes and one function
 * per HTTP route.  The C gateway is deliberately thin: it maps a request to one
 * api_* function, passes every parameter as the raw text it received (NULL when
 * absent), and sends back the text the function returns.  All validation and
 * every business rule therefore live here, where pg_regress can test them.
 *
 * The install script of the current version (ecommerce_api--<version>.sql) is
 * made by make from the pieces in sql/, in the order of SQL_PIECES in the
 * Makefile.  The scripts of released versions are kept as shipped in
 * sql/released/, the upgrade scripts in sql/upgrades/ (that of the version in
 * progress as a template naming the pieces' objects it restates);
 * docs/releasing.md says how a version is cut.
 *
 * Conventions
 * -----------
 *  - Route functions are named api_<resource>_<action>, take only text
 *    arguments and return the JSON response body as text (NULL for DELETE).
 *  - Refusals are raised with our own SQLSTATEs, which the gateway maps to
 *    HTTP statuses: EA400, EA401, EA403, EA404, EA409, EA503 carry the human
 *    "detail" message; EA422 carries the JSON text of a FastAPI/pydantic-v2
 *    style error array (the gateway sends {"detail": <that array>}).
 *  - JSON is always built by PostgreSQL (json_build_object, json_agg), with the
 *    keys in the order of the HTTP contract; never by string concatenation.
 *  - Every object of this schema (table, row type, function, sequence) is
 *    named schema-qualified, so a caller's search_path cannot redirect a
 *    function to other objects (built-ins resolve in pg_catalog, searched
 *    first unless a path names it explicitly; pg_temp is never searched for
 *    functions).  The functions therefore carry no SET search_path: that
 *    clause costs every call (the setting is applied and restored and the
 *    namespace path looked up again), measured at 2.4 us of a 36 us point
 *    read.  The exceptions are the functions that call pgcrypto or run as
 *    SECURITY DEFINER: _hash_password, api_clients_login, _token_sign,
 *    _token_verify and rotate_auth_key run with SET search_path = pg_catalog,
 *    pg_temp, where nothing but the built-ins is found, and reach pgcrypto as
 *    ecommerce_api.crypt(), .gen_salt(), .hmac() and .gen_random_bytes(),
 *    wrappers that name pgcrypto's schema (sql/pgcrypto.sql says why: a path
 *    holding pgcrypto's schema, public as a rule, lets whoever may create
 *    functions there plant a better match for a built-in).  load_demo_data,
 *    whose body names tables and crypt() unqualified, runs with search_path =
 *    pg_catalog, ecommerce_api, pg_temp: only the extension's owner creates
 *    objects in ecommerce_api.  (test/sql/schema.sql checks that no other
 *    function names one of our objects unqualified, and that no pinned path
 *    holds another schema.)
 *  - Small pure helpers (parsing, JSON shapes, most checks) are LANGUAGE sql,
 *    carry no SET clause and schema-qualify what they call.  That keeps them
 *    inlinable: the planner folds them into the calling statement, whose plan
 *    PL/pgSQL caches.  A SQL function that is not inlined costs far more than
 *    it looks: PostgreSQL 15 parses and plans its body again on every call of
 *    the statement that calls it.  Inlining also needs a single SELECT of an
 *    expression (no FROM, no sub-select), a body no more volatile than the
 *    function, and every argument that the body uses more than once must be
 *    cheap (a parameter, a field, an operator or two): given a costly
 *    expression there, the planner calls the function rather than evaluate
 *    the expression several times.  A helper that cannot be inlined is
 *    PL/pgSQL, whose plans are kept per backend: the field validators of
 *    request bodies (section 5, in sql/validation.sql, says why),
 *    _page_errors, the raising half of
 *    _path_id.
 *  - Route functions check their inputs with PL/pgSQL expressions ("errors :=
 *    ...; IF num_nonnulls(VARIADIC errors) > 0"), which PL/pgSQL evaluates
 *    itself, with one plan for the life of the backend; a PERFORM would run
 *    the executor for them on every call.
 *  - Route functions whose statements take parameters that change their
 *    estimates (OFFSET and LIMIT, lookups in arrays, ...), that is all but
 *    the point reads, SET plan_cache_mode = force_generic_plan: each
 *    statement is planned once per backend (an HTTP worker lives long) and
 *    reused.  Left to itself the plan cache would re-plan some of them on
 *    every call, because a custom plan that knows the values looks cheaper
 *    (a page of 30 rows against the generic plan's guess of a tenth of the
 *    table).  The point reads (api_*_get) carry no SET at all: their one
 *    statement is a primary key lookup, whose generic plan the plan cache
 *    settles on by itself after its first five (custom) plans, and a SET
 *    clause costs every call (1.4 us).  The one statement that needs per-call
 *    plans (the product filter's query) says so with force_custom_plan.
 *  - Lock order (the one global order every writer follows, so concurrent
 *    requests cannot deadlock):
 *        1. orders rows        (ascending id_key)
 *        2. order_details rows
 *        3. products rows      (ascending id_key)
 *    Rows of categories, clients and bills are only locked FOR KEY SHARE when
 *    referenced (which is what the foreign key check would take anyway), or
 *    FOR UPDATE by their own DELETE, which touches nothing else first.
 */

/* =========================================================================
 * Routes (sql/categories.sql ... sql/reviews.sql, sql/checkout.sql)
 *
 * Every route function validates everything first (one 422 listing all
 * problems), then checks existence (404), then business rules (409/400),
 * then writes.  Reads are STABLE and a single query after validation.
 *
 * PUT (all resources but orders) takes a full body validated like POST.  A
 * field the contract marks optional keeps its current value when it is absent
 * from the body (an explicit null clears a nullable field): a PUT of a
 * product that omits "stock" must not silently zero the inventory.
 *
 * Lists page by id_key: the page is read in order from the primary key (or
 * the (parent, id_key) index), "ORDER BY id_key OFFSET skip LIMIT limit" on
 * the table itself, and only its rows are joined and turned into JSON.  The
 * generic plan, made once without knowing skip and limit, walks that index
 * (it assumes a page of a tenth of the table, which an index scan still
 * reads cheaper than a sort of all of it) and stops after the page.  A deep
 * skip (more than 1000 rows) first finds the page's first id by walking the
 * index alone (an index-only scan, no heap visits for the skipped rows), then
 * reads the page from there.  json_agg takes the page's rows in that order:
 * the page is an ordered subquery with no join around the aggregate.  A
 * nested object (a product's category, a line's product) is a join in a list
 * (one hash of the 10 categories, or index lookups) and a sub-select for a
 * single row (one index probe).
 * ========================================================================= */
