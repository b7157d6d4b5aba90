/*-------------------------------------------------------------------------
 *
 * ecommerce_api.h
 *		What the parts of ecommerce_api may use of each other.
 *
 * One concern per file:
 *	worker.c	the background workers' life: registration, main loop, signals
 *	http.c		libmicrohttpd glue: daemon, callbacks, limits, headers, CORS
 *	router.c	method + path template -> route
 *	gateway.c	the only code that touches SPI and transactions
 *	settings.c	the ecommerce_api.* GUCs
 *	shmem.c		shared memory: per-worker state seen by every worker,
 *				and the rate limiter's table of clients
 *
 *-------------------------------------------------------------------------
 */
#ifndef ECOMMERCE_API_H
#define ECOMMERCE_API_H

#include "access/xlogdefs.h"
#include "lib/stringinfo.h"

#define EAPI_EXTENSION_NAME		"ecommerce_api"
#define EAPI_MAX_ROUTE_ARGS		8

/* ---- settings.c ---- */
extern int	eapi_port;
extern char *eapi_listen_address;
extern int	eapi_workers;
extern char *eapi_database;
extern char *eapi_role;
extern int	eapi_max_connections_per_worker;
extern int	eapi_idle_timeout;
extern int	eapi_max_body_size;
extern int	eapi_statement_timeout;
extern char *eapi_cors_allowed_origins;
extern bool eapi_log_requests;
extern bool eapi_group_commit;
extern int	eapi_rate_limit;
extern int	eapi_rate_limit_window;
extern char *eapi_trusted_proxies;
extern int	eapi_rate_limit_clients;

/* ecommerce_api.auth_mode */
typedef enum EapiAuthMode
{
	EAPI_AUTH_OPEN,				/* no route needs a token */
	EAPI_AUTH_REQUIRED			/* every SQL route passes authorize() */
} EapiAuthMode;
extern int	eapi_auth_mode;

extern void eapi_define_settings(void);

/*
 * An IPv4 or IPv6 address.  IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are
 * stored as the IPv4 address they carry, so a client has one form.  It is
 * the rate limiter's hash key: unused bytes are always zero.
 */
typedef struct EapiInetAddr
{
	uint8		family;			/* AF_INET or AF_INET6 */
	uint8		pad[3];
	uint8		bytes[16];		/* network order; IPv4 uses the first 4 */
} EapiInetAddr;

extern bool eapi_parse_address(const char *text, EapiInetAddr *addr);
extern bool eapi_is_trusted_proxy(const EapiInetAddr *addr);

/* ---- shmem.c ---- */
#define EAPI_LATENCY_BUCKETS	12
#define EAPI_STATUS_CLASSES		5	/* 1xx .. 5xx */
extern const double eapi_latency_bounds_ms[EAPI_LATENCY_BUCKETS];

extern void eapi_shmem_init(void);
extern void eapi_shmem_worker_attach(int worker_number);
extern void eapi_shmem_set_busy(bool busy);
extern int	eapi_shmem_busy_workers(void);
extern void eapi_shmem_count_answer(int route_index, int status, double elapsed_ms);
extern void eapi_shmem_count_connection(int delta);
extern void eapi_shmem_totals(uint64 *answers, uint64 *buckets,
							  uint64 *latency_sum_us, int *open_connections);

/* What the rate limiter decided about one request. */
typedef struct EapiRateVerdict
{
	bool		allowed;
	int			limit;			/* N requests ... */
	int			window;			/* ... per W seconds */
	int			remaining;		/* left in this window, >= 0 */
	int64		reset;			/* Unix time (s) when the window ends */
	int			retry_after;	/* seconds until then, >= 1 */
} EapiRateVerdict;

extern void eapi_rate_limit_check(const EapiInetAddr *client,
								  EapiRateVerdict *verdict);
extern void eapi_shmem_rate_limit_totals(uint64 *limited, uint64 *table_full);

/* ---- metrics.c ---- */
extern void eapi_metrics_render(StringInfo out);

/* ---- router.c ---- */

/* Where a route's SQL argument comes from. */
typedef enum RouteArgSource
{
	ARG_PATH_ID,				/* the {id} segment of the path */
	ARG_QUERY,					/* a query-string parameter, by name */
	ARG_BODY					/* the raw request body */
} RouteArgSource;

typedef struct RouteArg
{
	RouteArgSource source;
	const char *name;			/* query parameter name for ARG_QUERY */
} RouteArg;

typedef enum RouteKind
{
	ROUTE_SQL,					/* calls ecommerce_api.<function>(text, ...) */
	ROUTE_HEALTH,				/* GET /health_check/ */
	ROUTE_METRICS				/* GET /metrics, no transaction */
} RouteKind;

typedef struct ApiRoute
{
	const char *method;
	const char *template;		/* canonical path, "{id}" marks the id */
	const char *activity;		/* "METHOD template", for pg_stat_activity */
	RouteKind	kind;
	const char *function;		/* SQL function in schema ecommerce_api */
	int			success_status;
	int			nargs;
	RouteArg	args[EAPI_MAX_ROUTE_ARGS];
	const char *content_type;	/* of the success answer; NULL = JSON */
	bool		same_answer;	/* the answer depends on the extension's objects
								 * alone (no argument, no data): a worker keeps
								 * it until functions change */
} ApiRoute;

typedef enum RouteMatch
{
	ROUTE_FOUND,
	ROUTE_NO_PATH,				/* 404 */
	ROUTE_NO_METHOD				/* 405, see allow */
} RouteMatch;

extern int	eapi_route_count(void);
extern const ApiRoute *eapi_route_at(int index);
extern int	eapi_route_index(const ApiRoute *route);
extern RouteMatch eapi_route_lookup(const char *method, const char *path,
									const ApiRoute **route, char **path_id,
									StringInfo allow);

/* ---- gateway.c ---- */

/* What a request produced: a status and a body (JSON, or empty). */
typedef struct ApiResult
{
	int			status;
	StringInfoData body;
	XLogRecPtr	flush_lsn;		/* valid: not to be sent before WAL is
								 * flushed to here (group commit) */
	const char *challenge;		/* a 401's WWW-Authenticate, NULL = "Bearer" */
} ApiResult;

extern void eapi_gateway_run(const ApiRoute *route, const char *const *argv,
							 const char *token, const char *request_id,
							 ApiResult *result);
extern void eapi_json_error(ApiResult *result, int status, const char *detail);

/* ---- http.c ---- */
extern bool eapi_http_start(int worker_number);
extern int	eapi_http_epoll_fd(void);
extern long eapi_http_timeout_ms(void);
extern void eapi_http_run(void);
extern bool eapi_http_has_held(void);
extern bool eapi_http_release_held(void);
extern void eapi_http_stop(void);

/* ---- worker.c ---- */
extern int	eapi_worker_number;

#endif							/* ECOMMERCE_API_H */
