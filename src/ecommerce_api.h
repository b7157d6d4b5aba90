/*-------------------------------------------------------------------------
 *
 * ecommerce_api.h
 *		What the parts of ecommerce_api may use of each other.
 *
 * One concern per file:
 *	worker.c	the background workers' life: registration, main loop, signals
 *	http.c		libmicrohttpd glue: the daemon, its callbacks, and a request
 *				from its head to its answer (checks of the head and path,
 *				route and arguments, the cache, the gateway)
 *	answer.c	sending answers: the headers every answer carries (request
 *				id, timing, CORS, rate limit, consistency token, replay),
 *				typed, cacheable and preflight answers, the fixed error
 *				bodies, and the answers held for group commit
 *	body.c		receiving bodies: framing checks, max_body_size, the
 *				worker's max_body_memory, accumulation
 *	http.h		what http.c, answer.c and body.c share: a request's state
 *	connections.c	the open connections: their count, the deadlines of a
 *				request's head and body, room for new clients
 *	router.c	method + path template -> route
 *	gateway.c	the only code that touches SPI, transactions and the WAL;
 *				SQLSTATE -> HTTP status, every JSON error body, group commit
 *	ratelimit.c	the rate limiter: its settings, the client's address (peer,
 *				trusted proxies, X-Forwarded-For), its shared table of windows,
 *				its headers and 429 body; the open connections by client
 *	settings.c	the ecommerce_api.* GUCs (but the rate limiter's)
 *	shmem.c		shared memory: per-worker state seen by every worker; the
 *				hooks that also set up the rate limiter's table
 *	metrics.c	GET /metrics, from the counters in shared memory
 *	generations.c	change generations: shared counters moved after every
 *				commit that changed the shop's data (triggers, DDL)
 *	cache.c		the per-worker answer cache and the ETags of GET answers
 *	cache.h		what the others may use of generations.c and cache.c
 *	idempotency.c	Idempotency-Key: the records of POSTs' answers, claimed,
 *				replayed and stored inside the gateway's transaction, and
 *				their sweep
 *	consistency.c	read-your-writes: the consistency token, the wait for a
 *				standby's replay, the node's role and replay lag
 *	wire.c		the checks every byte from the wire passes before it becomes
 *				a datum (text, JSON bodies, the headers we read); pure
 *				functions, compiled on their own by fuzz/
 *	wire.h		what the others may use of wire.c (needs no libmicrohttpd)
 *	forwarded.c	client addresses: inet parsing, the trusted-proxy list,
 *				X-Forwarded-For; pure functions, for ratelimit.c and fuzz/
 *	forwarded.h	what ratelimit.c and fuzz/ use of forwarded.c
 *	compat.h	the differences between PostgreSQL 15, 17 and 18, as shims
 *	ecommerce_api.h	this file: what the files may use of each other
 *
 *-------------------------------------------------------------------------
 */
#ifndef ECOMMERCE_API_H
#define ECOMMERCE_API_H

#include "access/xlogdefs.h"
#include "lib/stringinfo.h"
#include "utils/palloc.h"

struct MHD_Connection;
struct MHD_Response;

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
extern int	eapi_lock_timeout;
extern int	eapi_request_timeout;
extern int	eapi_min_body_rate;
extern int	eapi_max_body_memory;
extern int	eapi_max_connections_per_client;
extern int	eapi_listen_backlog;
extern char *eapi_cors_allowed_origins;
extern bool eapi_log_requests;
extern bool eapi_group_commit;
extern int	eapi_idempotency_ttl;
extern int	eapi_replica_wait_timeout;

/* ecommerce_api.auth_mode */
typedef enum EapiAuthMode
{
	EAPI_AUTH_OPEN,				/* no route needs a token */
	EAPI_AUTH_REQUIRED			/* every SQL route passes authorize() */
} EapiAuthMode;
extern int	eapi_auth_mode;

extern void eapi_define_settings(void);
extern const char *eapi_settings_problem(void);
extern bool eapi_port_is_invalid(void);
extern void eapi_log_effective_settings(int worker_number);

/*
 * Settings whose invalid value at server start makes the API refuse to
 * serve (settings.c): ratelimit.c's trusted_proxies reports its own.
 */
typedef enum EapiCheckedSetting
{
	EAPI_CHECKED_PORT,
	EAPI_CHECKED_AUTH_MODE,
	EAPI_CHECKED_CORS,
	EAPI_CHECKED_TRUSTED_PROXIES,
	EAPI_NUM_CHECKED_SETTINGS
} EapiCheckedSetting;

extern char *eapi_raw_setting(const char *name);
extern void eapi_setting_invalid(EapiCheckedSetting which, const char *name,
								 const char *value, const char *why, const char *fix);
extern void eapi_setting_valid(EapiCheckedSetting which);

/* ---- shmem.c ---- */
#define EAPI_LATENCY_BUCKETS	12
#define EAPI_STATUS_CLASSES		5	/* 1xx .. 5xx */
extern const double eapi_latency_bounds_ms[EAPI_LATENCY_BUCKETS];

extern void eapi_shmem_init(void);
extern void eapi_shmem_worker_attach(int worker_number);
extern int	eapi_shmem_start_attempt(int worker_number);
extern void eapi_shmem_set_serving(bool serving);
extern int	eapi_shmem_serving_workers(void);
extern void eapi_shmem_set_busy(bool busy);
extern int	eapi_shmem_busy_workers(void);
extern void eapi_shmem_count_answer(int route_index, int status, double elapsed_ms);
extern void eapi_shmem_count_connection(int delta);
extern void eapi_shmem_totals(uint64 *answers, uint64 *buckets,
							  uint64 *latency_sum_us, int *open_connections);

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
	ROUTE_METRICS,				/* GET /metrics, no transaction */
	ROUTE_LIVE,					/* GET /live, no transaction */
	ROUTE_READY					/* GET /ready */
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
									char **allow);

/* ---- gateway.c ---- */

/* What a request produced: a status and a body (JSON, or empty). */
typedef struct ApiResult
{
	int			status;
	StringInfoData body;
	bool		await_flush;	/* not to be sent before
								 * eapi_gateway_flush_commits (group commit) */
	const char *challenge;		/* a 401's WWW-Authenticate, NULL = "Bearer" */
	XLogRecPtr	commit_lsn;		/* valid: a write's answer, consistent as of
								 * here (its X-Consistency-Token) */
	bool		replayed;		/* the stored answer of an Idempotency-Key */
} ApiResult;

/* A POST's Idempotency-Key, and what identifies its request (idempotency.c). */
#define EAPI_IDEMPOTENCY_KEY_MAX	255
typedef struct EapiIdempotency
{
	const char *key;
	const char *token;			/* bearer token, when auth_mode = required */
	const char *method;
	const char *path;
	const char *body;			/* NULL: none */
	size_t		body_len;
	/* set by the claim */
	const char *scope;			/* "" or the client's id */
	char		request[65];	/* hex SHA-256 of method, path and body */
} EapiIdempotency;

extern void eapi_gateway_run(const ApiRoute *route, const char *const *argv,
							 const char *token, EapiIdempotency *idem,
							 const char *request_id, ApiResult *result);
extern struct _SPI_plan *eapi_prepare_kept(const char *sql, int nargs);
extern void eapi_gateway_abort(void);
extern void eapi_gateway_apply_settings(void);
extern bool eapi_gateway_flush_commits(void);
extern void eapi_error_body(StringInfo body, const char *detail,
							bool detail_is_json, int retry_after);

/* ---- ratelimit.c ---- */

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

extern void eapi_rate_limit_define_settings(void);
extern void eapi_rate_limit_describe(StringInfo out);
extern void eapi_rate_limit_shmem_request(void);
extern void eapi_rate_limit_shmem_startup(void);
extern bool eapi_rate_limit_request(struct MHD_Connection *conn, const char *method,
									const ApiRoute *route, EapiRateVerdict *verdict);
extern void eapi_rate_limit_headers(struct MHD_Response *response,
									const EapiRateVerdict *verdict);
extern void eapi_rate_limit_refusal(const EapiRateVerdict *verdict, StringInfo body);
extern void eapi_rate_limit_totals(uint64 *refused, uint64 *untracked,
								   uint64 *evicted);
extern void *eapi_client_connection_acquire(struct MHD_Connection *conn, bool *refused);
extern void eapi_client_connection_release(void *handle);

/* ---- idempotency.c ---- */
extern bool eapi_idempotency_key_is_valid(const char *key);
extern void eapi_idempotency_init(EapiIdempotency *idem, const char *key,
								  const char *token, const char *method,
								  const char *path, const char *body,
								  size_t body_len);
extern bool eapi_idempotency_claim(EapiIdempotency *idem,
								   MemoryContext result_context,
								   ApiResult *result);
extern void eapi_idempotency_record(const EapiIdempotency *idem,
									const ApiResult *result);
extern long eapi_idempotency_sweep_due_ms(void);
extern bool eapi_idempotency_sweep_overdue(void);
extern void eapi_idempotency_sweep(void);

/* ---- consistency.c ---- */
#define EAPI_CONSISTENCY_TOKEN_NAME	"X-Consistency-Token"
#define EAPI_CONSISTENCY_TOKEN_LEN	18	/* "FFFFFFFF/FFFFFFFF" + NUL */
extern bool eapi_consistency_parse(const char *text, XLogRecPtr *lsn);
extern void eapi_consistency_format(XLogRecPtr lsn, char *buf);
extern bool eapi_consistency_wait(XLogRecPtr lsn);
extern void eapi_replication_state(bool *standby, int64 *lag_bytes,
								   double *lag_seconds);

/* ---- http.c ---- */
extern bool eapi_http_start(int worker_number);
extern int	eapi_http_epoll_fd(void);
extern long eapi_http_timeout_ms(void);
extern void eapi_http_run(void);
extern void eapi_http_stop(void);

/* ---- answer.c (the rest of it is in http.h) ---- */
extern bool eapi_http_has_held(void);
extern bool eapi_http_release_held(void);

/* ---- connections.c ---- */
extern void eapi_connections_init(void);
extern void *eapi_connection_opened(struct MHD_Connection *conn);
extern void eapi_connection_closed(void *state);
extern void eapi_connection_head_in(struct MHD_Connection *conn);
extern void eapi_connection_body_progress(struct MHD_Connection *conn, size_t bytes);
extern void eapi_connection_request_in(struct MHD_Connection *conn);
extern void eapi_connection_answered(struct MHD_Connection *conn);
extern long eapi_connections_timeout_ms(void);
extern void eapi_connections_close_stalled(void);

/* ---- worker.c ---- */
extern int	eapi_worker_number;

#endif							/* ECOMMERCE_API_H */
