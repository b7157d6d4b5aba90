/*
 * fuzz_route: the router, on any method and path (input: method, a NUL,
 * the path; the path as libmicrohttpd hands it over, a C string).  Checks
 * that a found route's id, when it has one, is a non-empty segment of the
 * path, and that a 405's Allow list is non-empty.
 */
#include "postgres.h"

#include "ecommerce_api.h"

int			LLVMFuzzerTestOneInput(const uint8 *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8 *data, size_t size)
{
	char	   *input = palloc(size + 1);
	char	   *method;
	char	   *path;
	char	   *nul;
	const ApiRoute *route;
	char	   *path_id;
	char	   *allow;
	RouteMatch	match;

	memcpy(input, data, size);
	input[size] = '\0';
	nul = memchr(input, '\0', size);
	method = input;
	path = nul ? nul + 1 : input + size;

	match = eapi_route_lookup(method, path, &route, &path_id, &allow);
	switch (match)
	{
		case ROUTE_FOUND:
			if (route == NULL || strcmp(route->method, method) != 0)
				abort();
			if (path_id != NULL &&
				(path_id[0] == '\0' || strchr(path_id, '/') != NULL ||
				 strstr(path, path_id) == NULL))
				abort();
			if ((path_id != NULL) != (strstr(route->template, "{id}") != NULL))
				abort();
			break;
		case ROUTE_NO_METHOD:
			if (allow == NULL || allow[0] == '\0' || route != NULL)
				abort();
			break;
		case ROUTE_NO_PATH:
			if (route != NULL)
				abort();
			break;
	}
	if (allow)
		pfree(allow);
	if (path_id)
		pfree(path_id);
	pfree(input);
	return 0;
}
