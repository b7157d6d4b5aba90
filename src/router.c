/*-------------------------------------------------------------------------
 *
 * router.c
 *		Method + path -> route.
 *
 * The route table holds each route once, in its canonical form
 * ("/products/id/{id}").  Before matching, a request path is brought to that
 * form, which is how the contract's aliases are served directly, without a
 * redirect:
 *
 *	- a trailing slash is dropped ("/products/" = "/products");
 *	- "/api/v1/clients/..." = "/clients/...";
 *	- "/order-details/..." = "/order_details/...";
 *	- "/R/{id}" = "/R/id/{id}" when "/R/{x}" names no route of its own
 *	  ("/products/filter", "/clients/login" and "/orders/checkout" do).
 *
 * A path that matches some route but not with this method is a 405, and the
 * methods it does accept are collected for the Allow header.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "ecommerce_api.h"

#define Q(n)		{ARG_QUERY, n}
#define PATH_ID		{ARG_PATH_ID, NULL}
#define BODY		{ARG_BODY, NULL}

/* One route; its activity text ("GET /products/id/{id}") is built at compile time. */
#define ROUTE(method, template, kind, function, status, ...) \
	{method, template, method " " template, kind, function, status, \
		sizeof((RouteArg[]){__VA_ARGS__}) / sizeof(RouteArg), {__VA_ARGS__}}

/*
 * The five routes of a resource.  The list route's arguments are skip and
 * limit, and for some resources a parent filter.
 */
#define RESOURCE_ROUTES(r, ...) \
	ROUTE("GET", "/" #r, ROUTE_SQL, "api_" #r "_list", 200, __VA_ARGS__), \
	ROUTE("POST", "/" #r, ROUTE_SQL, "api_" #r "_create", 201, BODY), \
	ROUTE("GET", "/" #r "/id/{id}", ROUTE_SQL, "api_" #r "_get", 200, PATH_ID), \
	ROUTE("PUT", "/" #r "/id/{id}", ROUTE_SQL, "api_" #r "_update", 200, PATH_ID, BODY), \
	ROUTE("DELETE", "/" #r "/id/{id}", ROUTE_SQL, "api_" #r "_delete", 204, PATH_ID)

static const ApiRoute routes[] = {
	{"GET", "/health_check", "GET /health_check", ROUTE_HEALTH, NULL, 200, 0},
	{"GET", "/metrics", "GET /metrics", ROUTE_METRICS, NULL, 200, 0},
	/* for load balancers: the process answers; this node can serve the API */
	{"GET", "/live", "GET /live", ROUTE_LIVE, NULL, 200, 0},
	{"GET", "/ready", "GET /ready", ROUTE_READY, NULL, 200, 0},
	/* literal routes first: they win over "/R/{id}" */
	ROUTE("GET", "/products/filter", ROUTE_SQL, "api_products_filter", 200,
		  Q("search"), Q("category_id"), Q("min_price"), Q("max_price"),
		  Q("in_stock_only"), Q("sort_by"), Q("skip"), Q("limit")),
	ROUTE("POST", "/clients/login", ROUTE_SQL, "api_clients_login", 200, BODY),
	ROUTE("POST", "/orders/checkout", ROUTE_SQL, "api_orders_checkout", 201, BODY),
	RESOURCE_ROUTES(categories, Q("skip"), Q("limit")),
	RESOURCE_ROUTES(products, Q("skip"), Q("limit")),
	RESOURCE_ROUTES(clients, Q("skip"), Q("limit")),
	RESOURCE_ROUTES(addresses, Q("skip"), Q("limit"), Q("client_id")),
	RESOURCE_ROUTES(bills, Q("skip"), Q("limit"), Q("client_id")),
	RESOURCE_ROUTES(orders, Q("skip"), Q("limit"), Q("client_id")),
	RESOURCE_ROUTES(order_details, Q("skip"), Q("limit"), Q("order_id")),
	RESOURCE_ROUTES(reviews, Q("skip"), Q("limit"), Q("product_id")),
	/*
	 * The API's own description; /docs shows it in Swagger UI, /docs/static
	 * is an HTML page rendered from it (no script, nothing loaded).
	 * Building them costs milliseconds and they change only with the
	 * extension's functions: each worker keeps its answer (same_answer).
	 */
	{.method = "GET", .template = "/openapi.json", .activity = "GET /openapi.json",
	 .kind = ROUTE_SQL, .function = "api_openapi", .success_status = 200,
	 .same_answer = true},
	{.method = "GET", .template = "/docs/static", .activity = "GET /docs/static",
	 .kind = ROUTE_SQL, .function = "api_docs", .success_status = 200,
	 .content_type = "text/html; charset=utf-8", .same_answer = true},
	/* Swagger UI; not kept: it names ecommerce_api.docs_assets_url (reload) */
	{.method = "GET", .template = "/docs", .activity = "GET /docs",
	 .kind = ROUTE_SQL, .function = "api_docs_swagger", .success_status = 200,
	 .content_type = "text/html; charset=utf-8"},
};

#define NUM_ROUTES	lengthof(routes)
#define MAX_SEGMENTS 8

int
eapi_route_count(void)
{
	return NUM_ROUTES;
}

const ApiRoute *
eapi_route_at(int index)
{
	return &routes[index];
}

int
eapi_route_index(const ApiRoute *route)
{
	return route - routes;
}

/*
 * Split a path into its segments, in place.  Empty segments ("//", a
 * trailing "/") are skipped.  Returns the number of segments, or -1 when
 * there are more than MAX_SEGMENTS (no route is that deep).
 */
static int
split_path(char *path, char **segments)
{
	int			n = 0;
	char	   *p = path;

	while (*p)
	{
		while (*p == '/')
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (n == MAX_SEGMENTS)
			return -1;
		segments[n++] = p;
		while (*p && *p != '/')
			p++;
	}
	return n;
}

/* Does the template match these segments?  Sets *id from "{id}". */
static bool
template_matches(const char *template, char **segments, int nsegments,
				 char **id)
{
	const char *t = template;
	int			i = 0;

	while (*t)
	{
		const char *end;
		size_t		len;

		t++;					/* skip the '/' */
		end = strchrnul(t, '/');
		len = end - t;
		if (i >= nsegments)
			return false;
		if (len == 4 && strncmp(t, "{id}", 4) == 0)
			*id = segments[i];
		else if (strlen(segments[i]) != len || strncmp(t, segments[i], len) != 0)
			return false;
		i++;
		t = end;
	}
	return i == nsegments;
}

/*
 * Collect the routes that match the segments.  Returns the route for the
 * method if there is one; otherwise appends the accepted methods to allow
 * (set up on its first use: most requests never need it) and returns NULL.
 * *path_matched tells whether any route matched at all.
 */
static const ApiRoute *
match_segments(const char *method, char **segments, int nsegments,
			   char **path_id, StringInfo allow, bool *path_matched)
{
	*path_matched = false;
	for (int i = 0; i < (int) NUM_ROUTES; i++)
	{
		char	   *id = NULL;

		if (!template_matches(routes[i].template, segments, nsegments, &id))
			continue;
		*path_matched = true;
		if (strcmp(routes[i].method, method) == 0)
		{
			*path_id = id;
			return &routes[i];
		}
		if (allow->data == NULL)
			initStringInfo(allow);
		appendStringInfo(allow, "%s%s", allow->len > 0 ? ", " : "",
						 routes[i].method);
	}
	return NULL;
}

/*
 * The route of method + path.  Sets *path_id to the {id} segment when the
 * route has one, and for a 405 *allow to the methods the path accepts (the
 * Allow header); else they are NULL.  They are the only allocations left in
 * the caller's memory context: callers keep them for the request's life.
 */
RouteMatch
eapi_route_lookup(const char *method, const char *path,
				  const ApiRoute **route, char **path_id, char **allow)
{
	char	   *copy = pstrdup(path);
	char	   *parts[MAX_SEGMENTS + 1];
	char	  **segments = parts;
	int			n;
	bool		path_matched;
	StringInfoData methods = {0};

	*route = NULL;
	*path_id = NULL;
	*allow = NULL;

	n = split_path(copy, parts);
	if (n <= 0)
	{
		pfree(copy);
		return ROUTE_NO_PATH;
	}

	/* aliases: /api/v1/clients/... and /order-details/... */
	if (n >= 3 && strcmp(segments[0], "api") == 0 &&
		strcmp(segments[1], "v1") == 0 && strcmp(segments[2], "clients") == 0)
	{
		segments += 2;
		n -= 2;
	}
	if (strcmp(segments[0], "order-details") == 0)
		segments[0] = "order_details";

	*route = match_segments(method, segments, n, path_id, &methods, &path_matched);

	/* /R/{id} is /R/id/{id} unless /R/{x} is a route of its own */
	if (!path_matched && n == 2)
	{
		char	   *expanded[3] = {segments[0], "id", segments[1]};

		*route = match_segments(method, expanded, 3, path_id, &methods,
								&path_matched);
	}

	/* the copy becomes the id, which it holds: one allocation, not two */
	if (*path_id)
	{
		memmove(copy, *path_id, strlen(*path_id) + 1);
		*path_id = copy;
	}
	else
		pfree(copy);

	if (*route == NULL && path_matched)
	{
		appendStringInfoString(&methods, ", OPTIONS");
		*allow = methods.data;
		return ROUTE_NO_METHOD;
	}
	if (methods.data)
		pfree(methods.data);
	return *route ? ROUTE_FOUND : ROUTE_NO_PATH;
}
