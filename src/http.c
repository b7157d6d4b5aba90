/*-------------------------------------------------------------------------
 *
 * http.c
 *		libmicrohttpd glue: the daemon, its callbacks, limits, headers, CORS.
 *
 * libmicrohttpd runs with no threads of its own (MHD_USE_EPOLL, external
 * event loop): worker.c waits on MHD's epoll fd and calls eapi_http_run(),
 * and every callback below runs in the worker's only thread, where calling
 * PostgreSQL is safe.  No ERROR may unwind through libmicrohttpd's frames,
 * so each callback that can raise one catches it.
 *
 * A request is routed once, as soon as its head is in; it is answered in
 * the callback that sees its last byte: run it through the gateway (one
 * transaction), then queue the response.  A write's answer may be held
 * until its commit is flushed (group commit, told in gateway.c).
 *
 * The rate limiter (ratelimit.c) counts a request as soon as its head is
 * in, so every answer, 404 or 413 included, counts.  A refused request's
 * body is discarded as it arrives, and its 429 goes out when the request is
 * complete: answering earlier would make libmicrohttpd close a keep-alive
 * connection.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "common/pg_prng.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/memutils.h"

#include "ecommerce_api.h"
#include "cache.h"
#include "wire.h"

#define MAX_REQUEST_ID_LENGTH	128

/* What a malformed bearer token is replaced with: a token that never verifies. */
#define MALFORMED_TOKEN			"malformed"
#define CORS_MAX_AGE			"600"
#define CORS_METHODS			"GET, POST, PUT, DELETE, OPTIONS"

/* What we keep about one request between libmicrohttpd's calls. */
typedef struct HttpRequest
{
	instr_time	start;
	StringInfoData body;
	bool		has_body;
	bool		too_large;
	bool		no_memory;		/* refused: max_body_memory is taken */
	size_t		body_memory;	/* bytes it holds of body_memory_used */
	int			route_index;	/* for the metrics: -1 until dispatched */

	/*
	 * Checks of the head (check_head): the raw path as sent, kept by
	 * log_request_target; too many query parameters; a refusal answered as
	 * soon as the head is in; a path that is not valid text (its 422).
	 */
	char	   *raw_path;
	bool		query_too_large;
	bool		head_checked;
	bool		refused_at_head;
	char	   *path_problem;

	/* its route, looked up once when its head is in (not for a preflight) */
	RouteMatch	match;
	const ApiRoute *route;
	char	   *path_id;
	char	   *allow;			/* a 405's Allow header */
	bool		routed;

	/* the rate limiter's verdict, when the request was counted */
	bool		rate_checked;
	EapiRateVerdict rate;
	StringInfoData refusal;		/* the 429 body when it was refused */

	/* an answer held back until its commit is flushed (group commit) */
	struct MHD_Connection *conn;
	struct HttpRequest *next_held;
	int			held_status;
	char	   *held_body;
	size_t		held_len;
	char	   *held_request_id;

	/* what a write's answer says besides its body */
	XLogRecPtr	answer_lsn;		/* X-Consistency-Token, when valid */
	bool		answer_replayed;	/* Idempotent-Replayed: true */
} HttpRequest;

static struct MHD_Daemon *http_daemon = NULL;

/* Holds the HttpRequests of the connections in progress. */
static MemoryContext connection_context = NULL;

/* Reset after each request; the gateway's answers are built in it. */
static MemoryContext request_context = NULL;

/* The answers held for the WAL flush of group commit (see gateway.c). */
static HttpRequest *held_requests = NULL;

/*
 * Bytes of request bodies this worker holds, all connections together, kept
 * under ecommerce_api.max_body_memory.  Past it, a new body is refused with
 * 503 and Retry-After rather than made to wait: a waiting body would still
 * hold its connection, and a client that stalls its body would make every
 * other writer wait for it; a refusal costs nothing to hold, and tells a
 * well-behaved client when to come back.
 */
static size_t body_memory_used = 0;

/*
 * The error answers http.c gives itself, built once by eapi_error_body when
 * the server starts, so that answering after an ERROR allocates nothing.
 */
static char *not_found_body;
static char *method_not_allowed_body;
static char *too_large_body;
static char *no_memory_body;
static char *internal_error_body;

/* ----------------------------------------------------------------------
 * Responses
 * ----------------------------------------------------------------------
 */

/*
 * The response headers a page from another origin may read (CORS exposes
 * only a few "simple" ones unless told): the request id to quote in a bug
 * report, the timing, the rate-limit budget, a 401's challenge, a write's
 * consistency token and whether it was an idempotent replay.
 */
#define CORS_EXPOSED_HEADERS \
	"X-Request-ID, X-Response-Time, X-RateLimit-Limit, X-RateLimit-Remaining, " \
	"X-RateLimit-Reset, Retry-After, WWW-Authenticate, X-Consistency-Token, " \
	"Idempotent-Replayed"

/* The Access-Control-Allow-Origin value for this request, or NULL. */
static const char *
cors_origin(struct MHD_Connection *conn)
{
	const char *origin;

	/* an invalid setting (maybe this one) allows no origin */
	if (eapi_settings_problem())
		return NULL;
	if (strcmp(eapi_cors_allowed_origins, "*") == 0)
		return "*";
	origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
	/* echoed only when it is, byte for byte, a configured origin */
	if (origin == NULL || !eapi_cors_origin_allowed(eapi_cors_allowed_origins, origin))
		return NULL;
	return origin;
}

static void
generate_request_id(char *buf, size_t size)
{
	uint64		a = pg_prng_uint64(&pg_global_prng_state);
	uint64		b = pg_prng_uint64(&pg_global_prng_state);

	/* formatted as a version 4 UUID */
	snprintf(buf, size, "%08x-%04x-4%03x-%04x-%012llx",
			 (unsigned) (a >> 32), (unsigned) (a >> 16) & 0xffff,
			 (unsigned) a & 0x0fff,
			 (unsigned) ((b >> 48) & 0x3fff) | 0x8000,
			 (unsigned long long) (b & UINT64CONST(0xffffffffffff)));
}

static double
elapsed_ms(HttpRequest *req)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, req->start);
	return INSTR_TIME_GET_MILLISEC(now);
}

/*
 * A write's consistency token, as a header for API clients and as a cookie
 * for browsers, which send it back with their next requests without any
 * code of the front end's (see consistency.c).  The cookie is for the whole
 * site (Path=/) and is not sent on cross-site subrequests (SameSite=Lax).
 */
static void
add_consistency_token(struct MHD_Response *response, XLogRecPtr lsn)
{
	char		token[EAPI_CONSISTENCY_TOKEN_LEN];
	char		cookie[EAPI_CONSISTENCY_TOKEN_LEN + 64];

	eapi_consistency_format(lsn, token);
	MHD_add_response_header(response, EAPI_CONSISTENCY_TOKEN_NAME, token);
	snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; SameSite=Lax",
			 EAPI_CONSISTENCY_TOKEN_NAME, token);
	MHD_add_response_header(response, MHD_HTTP_HEADER_SET_COOKIE, cookie);
}

/*
 * What every answer gets: the headers it carries (request id, timing, CORS
 * origin), and its count in the metrics.
 */
static void
finish_response(struct MHD_Connection *conn, HttpRequest *req,
				struct MHD_Response *response, const char *request_id,
				int status)
{
	const char *origin = cors_origin(conn);
	double		elapsed = elapsed_ms(req);
	char		timing[32];

	eapi_shmem_count_answer(req->route_index, status, elapsed);
	MHD_add_response_header(response, "X-Request-ID", request_id);
	snprintf(timing, sizeof(timing), "%.2fms", elapsed);
	MHD_add_response_header(response, "X-Response-Time", timing);
	if (origin)
	{
		MHD_add_response_header(response,
								MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN,
								origin);
		MHD_add_response_header(response,
								MHD_HTTP_HEADER_ACCESS_CONTROL_EXPOSE_HEADERS,
								CORS_EXPOSED_HEADERS);
		if (strcmp(origin, "*") != 0)
			MHD_add_response_header(response, MHD_HTTP_HEADER_VARY, "Origin");
	}
	if (req->rate_checked)
		eapi_rate_limit_headers(response, &req->rate);
	if (!XLogRecPtrIsInvalid(req->answer_lsn))
		add_consistency_token(response, req->answer_lsn);
	if (req->answer_replayed)
		MHD_add_response_header(response, "Idempotent-Replayed", "true");
}

/* The header that carries a status's status_header (send_typed_response). */
static const char *
status_header_name(int status)
{
	switch (status)
	{
		case MHD_HTTP_UNAUTHORIZED:
			return MHD_HTTP_HEADER_WWW_AUTHENTICATE;
		case MHD_HTTP_SERVICE_UNAVAILABLE:
			return MHD_HTTP_HEADER_RETRY_AFTER;
		default:
			return MHD_HTTP_HEADER_ALLOW;
	}
}

/*
 * Queue one response with the headers every answer carries.  status_header
 * is the value of the header some statuses carry: a 405's Allow (the methods
 * the path takes), a 401's WWW-Authenticate (its challenge, RFC 7235), a
 * 503's Retry-After (seconds); NULL for none.  Uses no PostgreSQL allocation, so it can also answer after an
 * error.
 */
static enum MHD_Result
send_typed_response(struct MHD_Connection *conn, HttpRequest *req, int status,
					const char *content_type, const char *body, size_t len,
					const char *request_id, const char *status_header)
{
	struct MHD_Response *response;
	enum MHD_Result ret;

	response = MHD_create_response_from_buffer(len, (void *) body,
											   MHD_RESPMEM_MUST_COPY);
	if (response == NULL)
		return MHD_NO;
	if (len > 0)
		MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
								content_type);
	finish_response(conn, req, response, request_id, status);
	if (status_header)
		MHD_add_response_header(response, status_header_name(status),
								status_header);

	ret = MHD_queue_response(conn, status, response);
	MHD_destroy_response(response);
	return ret;
}

/* A JSON answer (or an empty one). */
static enum MHD_Result
send_response(struct MHD_Connection *conn, HttpRequest *req, int status,
			  const char *body, size_t len, const char *request_id,
			  const char *status_header)
{
	return send_typed_response(conn, req, status, "application/json",
							   body, len, request_id, status_header);
}

/*
 * A cacheable GET's answer: 200 with its body, or 304 with none, carrying
 * the ETag its generations make and "Cache-Control: no-cache" (a client may
 * keep it, and must revalidate before using it).
 */
static enum MHD_Result
send_cacheable_response(struct MHD_Connection *conn, HttpRequest *req, int status,
						const char *content_type, const char *body, size_t len,
						const char *request_id, const char *etag)
{
	struct MHD_Response *response;
	enum MHD_Result ret;

	response = MHD_create_response_from_buffer(len, (void *) body,
											   MHD_RESPMEM_MUST_COPY);
	if (response == NULL)
		return MHD_NO;
	if (status != MHD_HTTP_NOT_MODIFIED)
		MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
								content_type);
	finish_response(conn, req, response, request_id, status);
	MHD_add_response_header(response, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	ret = MHD_queue_response(conn, status, response);
	MHD_destroy_response(response);
	return ret;
}

static enum MHD_Result
send_static_error(struct MHD_Connection *conn, HttpRequest *req, int status,
				  const char *body, const char *request_id, const char *status_header)
{
	return send_response(conn, req, status, body, strlen(body), request_id,
						 status_header);
}

/* OPTIONS on any path: a CORS preflight answer. */
static enum MHD_Result
send_preflight(struct MHD_Connection *conn, HttpRequest *req, const char *request_id)
{
	struct MHD_Response *response;
	const char *req_headers;
	enum MHD_Result ret;

	response = MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT);
	if (response == NULL)
		return MHD_NO;
	finish_response(conn, req, response, request_id, MHD_HTTP_NO_CONTENT);
	MHD_add_response_header(response, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_METHODS,
							CORS_METHODS);
	req_headers = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
											  MHD_HTTP_HEADER_ACCESS_CONTROL_REQUEST_HEADERS);
	/* echoed only when it is a plain list of header names */
	if (req_headers && eapi_header_list_is_sane(req_headers))
		MHD_add_response_header(response, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_HEADERS,
								req_headers);
	MHD_add_response_header(response, MHD_HTTP_HEADER_ACCESS_CONTROL_MAX_AGE,
							CORS_MAX_AGE);
	ret = MHD_queue_response(conn, MHD_HTTP_NO_CONTENT, response);
	MHD_destroy_response(response);
	return ret;
}

/* ----------------------------------------------------------------------
 * Requests
 * ----------------------------------------------------------------------
 */

/*
 * A route's answer is JSON unless the route says otherwise (GET /docs is
 * HTML); that applies to its success only, since its errors are JSON.
 * (Held answers are writes' and always JSON.)
 */
static const char *
answer_content_type(const ApiRoute *route, int status)
{
	if (route->content_type && status == route->success_status)
		return route->content_type;
	return "application/json";
}

/* Keep an answer until its commit is flushed; see held_requests. */
static enum MHD_Result
hold_response(struct MHD_Connection *conn, HttpRequest *req, ApiResult *result,
			  const char *request_id)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(connection_context);

	req->conn = conn;
	req->held_status = result->status;
	req->held_body = pnstrdup(result->body.data, result->body.len);
	req->held_len = result->body.len;
	req->held_request_id = pstrdup(request_id);
	MemoryContextSwitchTo(oldcxt);

	req->next_held = held_requests;
	held_requests = req;
	MHD_suspend_connection(conn);
	return MHD_YES;
}

/* Called again after its connection resumed: send the held answer. */
static enum MHD_Result
send_held_response(struct MHD_Connection *conn, HttpRequest *req)
{
	enum MHD_Result ret;

	ret = send_response(conn, req, req->held_status, req->held_body,
						req->held_len, req->held_request_id, NULL);
	pfree(req->held_body);
	pfree(req->held_request_id);
	req->held_body = NULL;
	req->held_request_id = NULL;
	return ret;
}

/*
 * The token of an "Authorization: Bearer <token>" header (the scheme is
 * case-insensitive), or NULL when the request carries none.
 */
static const char *
bearer_token(struct MHD_Connection *conn)
{
	const char *token = eapi_bearer_token(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
																	  MHD_HTTP_HEADER_AUTHORIZATION));

	/*
	 * A token that cannot be one of ours (a byte outside base64url, say) does
	 * not go to the database as text: it becomes one that never verifies, so
	 * a route that needs a token answers 401 invalid_token and a public one
	 * ignores it, as for any other bad token.
	 */
	if (token && !eapi_token_is_wellformed(token))
		return MALFORMED_TOKEN;
	return token;
}

static void
log_request(const char *method, const char *url, int status, HttpRequest *req,
			const char *request_id)
{
	if (eapi_log_requests)
		elog(LOG, "%s %s %d %.2fms request_id=%s",
			 method, url, status, elapsed_ms(req), request_id);
}

/*
 * Look the request's route up, in connection_context since it is kept until
 * the request completes.  Done once, when its head is in (the rate limiter
 * wants the route then); dispatch asks again only if that failed.
 */
static void
route_request(HttpRequest *req, const char *method, const char *url)
{
	MemoryContext oldcxt;

	if (req->routed)
		return;
	oldcxt = MemoryContextSwitchTo(connection_context);
	req->match = eapi_route_lookup(method, url, &req->route, &req->path_id,
								   &req->allow);
	req->routed = true;
	MemoryContextSwitchTo(oldcxt);
}

/*
 * The values of a route's SQL arguments, from the request.  No byte goes to
 * the database unchecked: each query parameter the route takes and the body
 * must be valid text in the database encoding, without NUL (a C string would
 * end at it), the body at most EAPI_MAX_JSON_DEPTH deep (the path was checked
 * with the head).  Returns NULL when they are, else the 422's body naming
 * each bad place.
 */
static char *
route_arguments(struct MHD_Connection *conn, HttpRequest *req,
				const char **argv)
{
	StringInfoData problems;

	initStringInfo(&problems);
	for (int i = 0; i < req->route->nargs; i++)
	{
		const RouteArg *arg = &req->route->args[i];
		size_t		len;
		EapiTextCheck check;

		switch (arg->source)
		{
			case ARG_PATH_ID:
				argv[i] = req->path_id;
				break;
			case ARG_QUERY:
				if (MHD_lookup_connection_value_n(conn, MHD_GET_ARGUMENT_KIND,
												  arg->name, strlen(arg->name),
												  &argv[i], &len) != MHD_YES)
					argv[i] = NULL;
				else if (argv[i] &&
						 (check = eapi_check_text(argv[i], len, NULL)) != EAPI_TEXT_OK)
					eapi_text_problem(&problems, check, "query", arg->name);
				break;
			case ARG_BODY:
				argv[i] = req->has_body ? req->body.data : NULL;
				if (req->has_body)
					(void) eapi_check_body(req->body.data, req->body.len, &problems);
				break;
		}
	}
	if (problems.len == 0)
		return NULL;
	return psprintf("{\"detail\":[%s]}", problems.data);
}

/*
 * A path that is not valid text or holds a NUL: the 422 naming it, ["path",
 * "id"] when it routes to a route with an id and the id holds the bad byte,
 * else ["path"].  NULL when the path is fine.  The path is decoded from the
 * raw one with libmicrohttpd's own decoder, since the url libmicrohttpd
 * hands over is a C string, cut at a %00.
 */
static char *
check_path(HttpRequest *req, const char *method, const char *url)
{
	char	   *path = req->raw_path ? pstrdup(req->raw_path) : pstrdup(url);
	size_t		len = MHD_http_unescape(path);
	EapiTextCheck check = eapi_check_text(path, len, NULL);
	StringInfoData problems;
	const ApiRoute *route;
	char	   *path_id;
	char	   *allow;
	bool		in_id = false;

	if (check == EAPI_TEXT_OK)
		return NULL;

	/* route it with its NULs as DEL, to see which segment is bad */
	for (size_t i = 0; i < len; i++)
		if (path[i] == '\0')
			path[i] = '\x7f';
	if (eapi_route_lookup(method, path, &route, &path_id, &allow) != ROUTE_NO_PATH &&
		path_id != NULL)
		in_id = strchr(path_id, '\x7f') != NULL ||
			eapi_check_text(path_id, strlen(path_id), NULL) != EAPI_TEXT_OK;

	initStringInfo(&problems);
	eapi_text_problem(&problems, check, "path", in_id ? "id" : NULL);
	return psprintf("{\"detail\":[%s]}", problems.data);
}

/*
 * A cacheable GET, whose generations eapi_cache_begin has just read, before
 * the gateway takes the snapshot its answer would be built from (cache.c).
 * A current If-None-Match is answered 304 and a kept answer is sent as is,
 * both with no transaction.  Returns the status sent, or 0 when the gateway
 * must build the answer.
 */
static int
answer_from_cache(struct MHD_Connection *conn, HttpRequest *req,
				  EapiCacheProbe *probe, const char *request_id,
				  enum MHD_Result *ret)
{
	const ApiRoute *route = req->route;
	const char *inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
												  MHD_HTTP_HEADER_IF_NONE_MATCH);
	const char *kept;
	size_t		kept_len;

	if (inm && eapi_etag_matches(inm, probe->etag))
	{
		eapi_cache_count(EAPI_CACHE_NOT_MODIFIED);
		*ret = send_cacheable_response(conn, req, MHD_HTTP_NOT_MODIFIED, NULL,
									   "", 0, request_id, probe->etag);
		return MHD_HTTP_NOT_MODIFIED;
	}
	if (eapi_cache_lookup(probe, &kept, &kept_len))
	{
		*ret = send_cacheable_response(conn, req, route->success_status,
									   answer_content_type(route, route->success_status),
									   kept, kept_len, request_id, probe->etag);
		return route->success_status;
	}
	return 0;
}

/* An error answer {"detail": detail}, built in the request's context. */
static enum MHD_Result
send_error(struct MHD_Connection *conn, HttpRequest *req, int status,
		   const char *detail, const char *request_id, const char *status_header)
{
	StringInfoData body;

	initStringInfo(&body);
	eapi_error_body(&body, detail, false, 0);
	return send_response(conn, req, status, body.data, body.len, request_id,
						 status_header);
}

typedef enum TokenPresence
{
	TOKEN_NONE,
	TOKEN_MALFORMED,
	TOKEN_VALID
} TokenPresence;

/*
 * The request's consistency token: the X-Consistency-Token header, else
 * the cookie of that name.  A malformed token is refused (400) rather than
 * ignored, since ignoring it could serve the stale data it guards against.
 */
static TokenPresence
consistency_token(struct MHD_Connection *conn, XLogRecPtr *lsn)
{
	const char *value;

	value = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
										EAPI_CONSISTENCY_TOKEN_NAME);
	if (value == NULL)
		value = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND,
											EAPI_CONSISTENCY_TOKEN_NAME);
	if (value == NULL)
		return TOKEN_NONE;
	return eapi_consistency_parse(value, lsn) ? TOKEN_VALID : TOKEN_MALFORMED;
}

/*
 * A POST's Idempotency-Key, if it sent one: *key and idem are set.  Returns
 * false, after answering 400 (*ret), when the key is malformed.
 */
static bool
idempotency_key(struct MHD_Connection *conn, HttpRequest *req,
				const char *method, const char *url, const char *token,
				EapiIdempotency *idem, const char **key,
				const char *request_id, enum MHD_Result *ret)
{
	*key = NULL;
	if (strcmp(method, "POST") != 0 || req->route->kind != ROUTE_SQL)
		return true;
	*key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Idempotency-Key");
	if (*key == NULL)
		return true;
	if (!eapi_idempotency_key_is_valid(*key))
	{
		*ret = send_error(conn, req, MHD_HTTP_BAD_REQUEST,
						  "Idempotency-Key must be 1 to 255 visible ASCII characters",
						  request_id, NULL);
		return false;
	}
	eapi_idempotency_init(idem, *key, token, method, url,
						  req->has_body ? req->body.data : NULL,
						  req->has_body ? req->body.len : 0);
	return true;
}

/*
 * A consistency token asks for a node that has replayed the write it came
 * from: on a standby, wait for that here.  Returns false, after answering
 * (*ret), for a malformed token (400) or one this standby did not replay
 * in ecommerce_api.replica_wait_timeout (503, Retry-After).
 */
static bool
consistency_ready(struct MHD_Connection *conn, HttpRequest *req,
				  const char *request_id, enum MHD_Result *ret)
{
	XLogRecPtr	lsn;

	switch (consistency_token(conn, &lsn))
	{
		case TOKEN_NONE:
			return true;
		case TOKEN_MALFORMED:
			*ret = send_error(conn, req, MHD_HTTP_BAD_REQUEST,
							  "X-Consistency-Token is not a token this API issued",
							  request_id, NULL);
			return false;
		case TOKEN_VALID:
			break;
	}
	if (eapi_consistency_wait(lsn))
		return true;
	*ret = send_error(conn, req, MHD_HTTP_SERVICE_UNAVAILABLE,
					  "This standby has not replayed your last write yet; retry, or read from the primary",
					  request_id, "1");
	return false;
}

/* Run and answer a request whose body has fully arrived. */
static enum MHD_Result
dispatch(struct MHD_Connection *conn, HttpRequest *req, const char *url,
		 const char *method, const char *request_id)
{
	const ApiRoute *route;
	ApiResult	result;
	const char *argv[EAPI_MAX_ROUTE_ARGS];
	const char *token = NULL;
	EapiCacheProbe probe;
	bool		cacheable = false;
	EapiIdempotency idem;
	const char *idem_key;
	enum MHD_Result ret;
	char	   *problems;

	route_request(req, method, url);
	switch (req->match)
	{
		case ROUTE_NO_PATH:
			return send_static_error(conn, req, MHD_HTTP_NOT_FOUND,
									 not_found_body, request_id, NULL);
		case ROUTE_NO_METHOD:
			return send_static_error(conn, req, MHD_HTTP_METHOD_NOT_ALLOWED,
									 method_not_allowed_body, request_id, req->allow);
		case ROUTE_FOUND:
			break;
	}
	route = req->route;
	req->route_index = eapi_route_index(route);
	initStringInfo(&result.body);

	if (route->kind == ROUTE_LIVE)
		return send_static_error(conn, req, MHD_HTTP_OK, "{\"status\":\"alive\"}",
								 request_id, NULL);

	/* an invalid security setting: refuse, naming it (health says so too) */
	if (route->kind == ROUTE_SQL && eapi_settings_problem())
	{
		eapi_error_body(&result.body, eapi_settings_problem(), false, 0);
		return send_response(conn, req, MHD_HTTP_SERVICE_UNAVAILABLE,
							 result.body.data, result.body.len, request_id, NULL);
	}

	if (route->kind == ROUTE_METRICS)
	{
		eapi_metrics_render(&result.body);
		return send_typed_response(conn, req, MHD_HTTP_OK,
								   "text/plain; version=0.0.4; charset=utf-8",
								   result.body.data, result.body.len,
								   request_id, NULL);
	}

	if ((problems = route_arguments(conn, req, argv)) != NULL)
		return send_response(conn, req, 422, problems, strlen(problems),
							 request_id, NULL);

	/* a consistency token first: the answer cache judges as of its write */
	if (!consistency_ready(conn, req, request_id, &ret))
		return ret;

	if (strcmp(method, "GET") == 0 && eapi_cache_begin(route, argv, &probe))
	{
		int			status = answer_from_cache(conn, req, &probe, request_id, &ret);

		if (status != 0)
		{
			log_request(method, url, status, req, request_id);
			return ret;
		}
		cacheable = true;
	}

	/* only required mode looks for a token */
	if (eapi_auth_mode == EAPI_AUTH_REQUIRED)
		token = bearer_token(conn);

	if (!idempotency_key(conn, req, method, url, token, &idem, &idem_key,
						 request_id, &ret))
		return ret;

	eapi_gateway_run(route, argv, token, idem_key ? &idem : NULL,
					 request_id, &result);
	req->answer_lsn = result.commit_lsn;
	req->answer_replayed = result.replayed;

	if (result.await_flush)
		ret = hold_response(conn, req, &result, request_id);
	else if (cacheable && result.status == route->success_status)
	{
		eapi_cache_store(&probe, result.body.data, result.body.len);
		ret = send_cacheable_response(conn, req, result.status,
									  answer_content_type(route, result.status),
									  result.body.data, result.body.len,
									  request_id, probe.etag);
	}
	else
	{
		/*
		 * a 401 says how to authenticate: "Bearer", or why the token failed;
		 * a 503 (a timeout, a lock wait, a conflict) when to try again
		 */
		const char *challenge = NULL;

		if (result.status == MHD_HTTP_UNAUTHORIZED)
			challenge = result.challenge ? result.challenge : "Bearer";
		else if (result.status == MHD_HTTP_SERVICE_UNAVAILABLE)
			challenge = "1";
		ret = send_typed_response(conn, req, result.status,
								  answer_content_type(route, result.status),
								  result.body.data, result.body.len,
								  request_id, challenge);
	}
	log_request(method, url, result.status, req, request_id);
	return ret;
}

/*
 * Make the request's body buffer hold size bytes, within max_body_memory.
 * Returns false, changing nothing, when that would pass the cap.
 */
static bool
body_reserve(HttpRequest *req, size_t size)
{
	size_t		cap = (size_t) eapi_max_body_memory * 1024;
	size_t		more;

	if (size <= req->body_memory)
		return true;
	more = size - req->body_memory;
	if (body_memory_used + more > cap)
		return false;
	if (!req->has_body)
	{
		req->body.data = MemoryContextAlloc(connection_context, size);
		req->body.len = 0;
		req->body.data[0] = '\0';
		req->body.cursor = 0;
		req->has_body = true;
	}
	else
		req->body.data = repalloc(req->body.data, size);
	req->body.maxlen = (int) size;
	req->body_memory = size;
	body_memory_used += more;
	return true;
}

/* The request's head is in; req may have been made by log_request_target. */
static HttpRequest *
request_begin(struct MHD_Connection *conn, HttpRequest *req)
{
	const char *length;

	if (req == NULL)
	{
		req = MemoryContextAllocZero(connection_context, sizeof(HttpRequest));
		INSTR_TIME_SET_CURRENT(req->start);
		req->route_index = -1;
	}

	/*
	 * Refuse a declared oversized body before reading any of it, and one
	 * there is no memory for now; otherwise take all it needs at once, so
	 * the buffer does not grow by doubling (a 1 MB body would take 2 MB).
	 */
	length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
										 MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (length)
	{
		unsigned long long declared = strtoull(length, NULL, 10);

		if (declared > (unsigned long long) eapi_max_body_size)
			req->too_large = true;
		else if (declared > 0 && !body_reserve(req, (size_t) declared + 1))
			req->no_memory = true;
	}
	return req;
}

/*
 * Count the request against its client's window (ratelimit.c decides
 * whether it is counted).  A refused request gets its 429 body now; it is
 * sent once the request is complete.
 */
static void
rate_limit_request(struct MHD_Connection *conn, HttpRequest *req,
				   const char *method)
{
	req->rate_checked = eapi_rate_limit_request(conn, method, req->route,
												&req->rate);
	if (req->rate_checked && !req->rate.allowed)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(connection_context);

		initStringInfo(&req->refusal);
		eapi_rate_limit_refusal(&req->rate, &req->refusal);
		MemoryContextSwitchTo(oldcxt);
	}
}

static void
request_append(HttpRequest *req, const char *data, size_t size)
{
	size_t		needed;

	/* neither a body too large nor that of a refused request is kept */
	if (req->too_large || req->no_memory || req->refusal.data)
		return;
	needed = (req->has_body ? (size_t) req->body.len : 0) + size;
	if (needed > (size_t) eapi_max_body_size)
	{
		req->too_large = true;
		return;
	}
	/* a body of undeclared length (chunked) grows by doubling, up to the cap */
	if (needed + 1 > req->body_memory &&
		!body_reserve(req, Min(Max(needed + 1, req->body_memory * 2),
							   (size_t) eapi_max_body_size + 1)))
	{
		req->no_memory = true;
		return;
	}
	appendBinaryStringInfo(&req->body, data, size);
}

static void
request_free(HttpRequest *req)
{
	if (req->has_body)
		pfree(req->body.data);
	body_memory_used -= req->body_memory;
	if (req->held_body)
		pfree(req->held_body);
	if (req->held_request_id)
		pfree(req->held_request_id);
	if (req->refusal.data)
		pfree(req->refusal.data);
	if (req->path_id)
		pfree(req->path_id);
	if (req->allow)
		pfree(req->allow);
	if (req->raw_path)
		pfree(req->raw_path);
	pfree(req);
}

/* MHD_get_connection_values iterator: the framing headers of a request. */
typedef struct FramingHeaders
{
	int			content_lengths;
	const char *content_length;
	bool		conflicting_lengths;
	int			transfer_encodings;
	const char *transfer_encoding;
} FramingHeaders;

static enum MHD_Result
collect_framing(void *cls, enum MHD_ValueKind kind, const char *key,
				const char *value)
{
	FramingHeaders *framing = cls;

	if (pg_strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
	{
		if (framing->content_lengths++ > 0 &&
			strcmp(framing->content_length, value ? value : "") != 0)
			framing->conflicting_lengths = true;
		framing->content_length = value ? value : "";
	}
	else if (pg_strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
	{
		framing->transfer_encodings++;
		framing->transfer_encoding = value ? value : "";
	}
	return MHD_YES;
}

/*
 * What must be refused as soon as a request's head is in, before any of its
 * body is read: a status and a body, or 0.  Answering now makes
 * libmicrohttpd close the connection after the answer, which is what these
 * need: the rest of the stream cannot be trusted to be framed as we think.
 *
 *	- 414: too many query parameters or too long a query string (seen on
 *	  the raw target by log_request_target);
 *	- 400: Content-Length twice with different values, or together with
 *	  Transfer-Encoding (RFC 9112 section 6.3): behind a proxy that frames
 *	  the request otherwise, the rest would be read as another request;
 *	- 501: a Transfer-Encoding other than chunked, which libmicrohttpd would
 *	  read until the connection closes (RFC 9112 section 6.1).
 */
static int
check_head(struct MHD_Connection *conn, HttpRequest *req, const char **body)
{
	FramingHeaders framing = {0};

	if (req->query_too_large)
	{
		*body = "{\"detail\":\"URI Too Long: at most " CppAsString2(EAPI_MAX_QUERY_PARAMS)
			" query parameters and " CppAsString2(EAPI_MAX_QUERY_LENGTH) " bytes of query string\"}";
		return MHD_HTTP_URI_TOO_LONG;
	}
	MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_framing, &framing);
	if (framing.conflicting_lengths ||
		(framing.content_lengths > 0 && framing.transfer_encodings > 0))
	{
		*body = "{\"detail\":\"Bad Request: conflicting Content-Length or Transfer-Encoding headers\"}";
		return MHD_HTTP_BAD_REQUEST;
	}
	if (framing.transfer_encodings > 1 ||
		(framing.transfer_encodings == 1 &&
		 pg_strcasecmp(framing.transfer_encoding, "chunked") != 0))
	{
		*body = "{\"detail\":\"Not Implemented: the only Transfer-Encoding accepted is chunked\"}";
		return MHD_HTTP_NOT_IMPLEMENTED;
	}
	return 0;
}

/*
 * libmicrohttpd's access handler.  The first call for a request only creates
 * its state; the calls with upload data collect the body; the last call
 * (no more data) answers.
 */
static enum MHD_Result
handle_request(void *cls, struct MHD_Connection *conn, const char *url,
			   const char *method, const char *version,
			   const char *upload_data, size_t *upload_data_size,
			   void **con_cls)
{
	HttpRequest *volatile req = *con_cls;
	volatile bool answer = false;
	volatile enum MHD_Result ret;
	char		request_id[MAX_REQUEST_ID_LENGTH + 1];
	const char *sent_id;

	if (req && req->held_body)
		return send_held_response(conn, req);
	if (req && req->refused_at_head)
	{
		/* answered already; libmicrohttpd closes after the answer */
		*upload_data_size = 0;
		return MHD_YES;
	}

	PG_TRY();
	{
		if (req == NULL || !req->head_checked)
		{
			const char *refusal_body;
			int			refusal;

			/* the request head is in: no longer waiting for one */
			eapi_connection_head_in(conn);
			req = request_begin(conn, req);
			*con_cls = req;
			req->head_checked = true;
			if ((refusal = check_head(conn, req, &refusal_body)) != 0)
			{
				generate_request_id(request_id, sizeof(request_id));
				req->refused_at_head = true;
				ret = send_static_error(conn, req, refusal, refusal_body, request_id, NULL);
			}
			else
			{
				MemoryContext oldcxt = MemoryContextSwitchTo(connection_context);

				req->path_problem = check_path(req, method, url);
				MemoryContextSwitchTo(oldcxt);
				/* a preflight needs no route, nor does a path that is no text */
				if (strcmp(method, "OPTIONS") != 0 && req->path_problem == NULL)
					route_request(req, method, url);
				rate_limit_request(conn, req, method);
				answer = req->too_large || req->no_memory;
			}
		}
		else if (*upload_data_size > 0)
		{
			eapi_connection_body_progress(conn, *upload_data_size);
			request_append(req, upload_data, *upload_data_size);
			*upload_data_size = 0;
		}
		else
			answer = true;		/* the body is complete */
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(TopMemoryContext);
		EmitErrorReport();
		FlushErrorState();
		answer = false;
	}
	PG_END_TRY();

	if (req && req->refused_at_head)
	{
		eapi_connection_request_in(conn);
		return ret;
	}
	if (!answer)
		return req ? MHD_YES : MHD_NO;
	/* nothing more is due from the client */
	eapi_connection_request_in(conn);

	sent_id = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-ID");
	if (sent_id && eapi_request_id_is_sane(sent_id))
		strlcpy(request_id, sent_id, sizeof(request_id));
	else
		generate_request_id(request_id, sizeof(request_id));

	if (req->refusal.data)
		return send_response(conn, req, MHD_HTTP_TOO_MANY_REQUESTS,
							 req->refusal.data, req->refusal.len, request_id, NULL);
	if (req->too_large)
		return send_static_error(conn, req, MHD_HTTP_CONTENT_TOO_LARGE,
								 too_large_body, request_id, NULL);
	if (req->path_problem)
		return send_static_error(conn, req, 422, req->path_problem, request_id, NULL);
	if (req->no_memory)
		return send_static_error(conn, req, MHD_HTTP_SERVICE_UNAVAILABLE,
								 no_memory_body, request_id, "1");
	if (strcmp(method, "OPTIONS") == 0)
	{
		if (eapi_settings_problem())
		{
			StringInfoData body;

			initStringInfo(&body);
			eapi_error_body(&body, eapi_settings_problem(), false, 0);
			return send_response(conn, req, MHD_HTTP_SERVICE_UNAVAILABLE,
								 body.data, body.len, request_id, NULL);
		}
		return send_preflight(conn, req, request_id);
	}

	PG_TRY();
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(request_context);

		ret = dispatch(conn, req, url, method, request_id);
		MemoryContextSwitchTo(oldcxt);
	}
	PG_CATCH();
	{
		/* not a failure of the request's SQL (the gateway catches those) */
		MemoryContextSwitchTo(TopMemoryContext);
		EmitErrorReport();
		FlushErrorState();
		eapi_gateway_abort();
		ret = send_static_error(conn, req, MHD_HTTP_INTERNAL_SERVER_ERROR,
								internal_error_body, request_id, NULL);
	}
	PG_END_TRY();

	MemoryContextReset(request_context);
	return ret;
}

static void
request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
				  enum MHD_RequestTerminationCode toe)
{
	if (*con_cls)
		request_free(*con_cls);
	*con_cls = NULL;
	/* answered: the idle time to the next request head starts now */
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		eapi_connection_answered(conn);
}

/* Open and close the connection's state (connections.c). */
static void
connection_notified(void *cls, struct MHD_Connection *conn, void **socket_context,
					enum MHD_ConnectionNotificationCode toe)
{
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		*socket_context = eapi_connection_opened(conn);
	else if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
	{
		eapi_connection_closed(*socket_context);
		*socket_context = NULL;
	}
}

/*
 * libmicrohttpd's URI log callback: it sees the request target as sent,
 * before libmicrohttpd splits off and decodes the query parameters (the url
 * the access handler gets is decoded, and cut at a %00), and what it returns
 * is the request's state from then on (*con_cls).  It keeps the raw path.
 *
 * Too many query parameters would make libmicrohttpd 0.9.75 run out of its
 * per-connection memory while it stores them, and leave the request without
 * an answer until the idle timeout.  So they are counted here, and when
 * there are too many (or the query string is too long) the request is marked
 * for a 414 and its query string cut at the '?', so that there is nothing to
 * store.  The target is libmicrohttpd's own read buffer, which it goes on to
 * modify in place itself: cutting it is safe.  If a later version copied it
 * first, the cut would do nothing and the edges TAP test (020_edges.pl)
 * would catch the hang.
 */
static void *
log_request_target(void *cls, const char *uri, struct MHD_Connection *conn)
{
	HttpRequest *req;
	const char *query;
	size_t		path_len;

	/* no ERROR may leave a libmicrohttpd callback */
	req = MemoryContextAllocExtended(connection_context, sizeof(HttpRequest),
									 MCXT_ALLOC_NO_OOM | MCXT_ALLOC_ZERO);
	if (req == NULL || uri == NULL)
		return req;
	INSTR_TIME_SET_CURRENT(req->start);
	req->route_index = -1;
	query = strchr(uri, '?');
	path_len = query ? (size_t) (query - uri) : strlen(uri);
	req->raw_path = MemoryContextAllocExtended(connection_context, path_len + 1,
											   MCXT_ALLOC_NO_OOM);
	if (req->raw_path)
		strlcpy(req->raw_path, uri, path_len + 1);
	if (eapi_query_too_large(uri))
	{
		req->query_too_large = true;
		((char *) query)[1] = '\0';
	}
	return req;
}

/* fmt and ap are a printf format and its arguments (gcc 14 asks to say so) */
static void log_mhd_message(void *cls, const char *fmt, va_list ap) pg_attribute_printf(2, 0);

static void
log_mhd_message(void *cls, const char *fmt, va_list ap)
{
	char		message[1024];

	vsnprintf(message, sizeof(message), fmt, ap);
	elog(DEBUG1, "libmicrohttpd: %s", message);
}

/* ----------------------------------------------------------------------
 * The daemon
 * ----------------------------------------------------------------------
 */

/*
 * Open this worker's listening socket.  Every worker binds the same port
 * with SO_REUSEPORT and the kernel spreads new connections among them.
 * Returns -1, after logging why, when it cannot.
 */
static int
open_listen_socket(void)
{
	struct addrinfo hints = {0};
	struct addrinfo *addrs;
	char		port[16];
	const char *host = eapi_listen_address;
	int			fd;
	int			one = 1;
	int			rc;

	if (strcmp(host, "*") == 0 || host[0] == '\0')
		host = "0.0.0.0";
	snprintf(port, sizeof(port), "%d", eapi_port);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &addrs);
	if (rc != 0)
	{
		ereport(LOG,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ecommerce_api cannot listen: ecommerce_api.listen_address = '%s' is not an address: %s",
						eapi_listen_address, gai_strerror(rc)),
				 errhint("Set ecommerce_api.listen_address to an IP address or host name of this machine, or \"*\".")));
		return -1;
	}

	fd = socket(addrs->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
		bind(fd, addrs->ai_addr, addrs->ai_addrlen) < 0 ||
		listen(fd, eapi_listen_backlog) < 0)
	{
		int			save_errno = errno;

		errno = save_errno;
		ereport(LOG,
				(errcode_for_socket_access(),
				 errmsg("ecommerce_api cannot listen on %s:%d (ecommerce_api.listen_address, ecommerce_api.port): %m",
						host, eapi_port),
				 save_errno == EACCES ?
				 errhint("Ports below 1024 need a privilege the server does not have: set ecommerce_api.port to 1024 or above, or grant CAP_NET_BIND_SERVICE.") :
				 save_errno == EADDRINUSE ?
				 errhint("Another process is using port %d on this address: stop it, or set ecommerce_api.port.", eapi_port) :
				 save_errno == EADDRNOTAVAIL ?
				 errhint("\"%s\" is not an address of this machine: set ecommerce_api.listen_address.", host) : 0));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(addrs);
	return fd;
}

/* An error answer's body, built once for the life of the worker. */
static char *
fixed_error_body(const char *detail)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	StringInfoData body;

	initStringInfo(&body);
	eapi_error_body(&body, detail, false, 0);
	MemoryContextSwitchTo(oldcxt);
	return body.data;
}

bool
eapi_http_start(int worker_number)
{
	int			fd;

	if (connection_context == NULL)
	{
		connection_context = AllocSetContextCreate(TopMemoryContext,
												   "ecommerce_api connections",
												   ALLOCSET_DEFAULT_SIZES);
		request_context = AllocSetContextCreate(TopMemoryContext,
												"ecommerce_api request",
												ALLOCSET_DEFAULT_SIZES);
		eapi_connections_init();
		not_found_body = fixed_error_body("Not Found");
		method_not_allowed_body = fixed_error_body("Method Not Allowed");
		too_large_body = fixed_error_body("Request body too large");
		no_memory_body = fixed_error_body("Server busy: too many request bodies in progress, retry");
		internal_error_body = fixed_error_body("Internal Server Error");
	}

	fd = open_listen_socket();
	if (fd < 0)
		return false;

	http_daemon = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
								   MHD_ALLOW_SUSPEND_RESUME,
								   0, NULL, NULL,
								   handle_request, NULL,
								   MHD_OPTION_LISTEN_SOCKET, fd,
								   MHD_OPTION_CONNECTION_LIMIT,
								   (unsigned int) eapi_max_connections_per_worker,
								   MHD_OPTION_CONNECTION_TIMEOUT,
								   (unsigned int) eapi_idle_timeout,
								   MHD_OPTION_NOTIFY_COMPLETED, request_completed, NULL,
								   MHD_OPTION_NOTIFY_CONNECTION, connection_notified, NULL,
								   MHD_OPTION_URI_LOG_CALLBACK, log_request_target, NULL,
								   MHD_OPTION_EXTERNAL_LOGGER, log_mhd_message, NULL,
								   MHD_OPTION_END);
	if (http_daemon == NULL)
	{
		close(fd);
		ereport(LOG,
				(errmsg("ecommerce_api worker %d could not start its HTTP server",
						worker_number)));
		return false;
	}
	return true;
}

int
eapi_http_epoll_fd(void)
{
	const union MHD_DaemonInfo *info;

	info = MHD_get_daemon_info(http_daemon, MHD_DAEMON_INFO_EPOLL_FD);
	return info ? info->epoll_fd : -1;
}

/* Milliseconds until libmicrohttpd needs to run again, -1 for never. */
long
eapi_http_timeout_ms(void)
{
	MHD_UNSIGNED_LONG_LONG timeout;

	long		stalled = eapi_connections_timeout_ms();

	if (MHD_get_timeout(http_daemon, &timeout) != MHD_YES)
		return stalled;
	if (timeout > LONG_MAX)
		timeout = LONG_MAX;
	return stalled >= 0 && stalled < (long) timeout ? stalled : (long) timeout;
}

void
eapi_http_run(void)
{
	eapi_connections_close_stalled();
	MHD_run(http_daemon);
}

bool
eapi_http_has_held(void)
{
	return held_requests != NULL;
}

/*
 * The end of a pass (group commit, told in gateway.c): one flush for every
 * held answer's commit, then let them go: their connections resume and the
 * next eapi_http_run() sends them.  Returns whether there was anything to
 * release.  If the flush failed the commits' durability is unknown, and the
 * held answers become 500s.
 */
bool
eapi_http_release_held(void)
{
	HttpRequest *req;

	if (held_requests == NULL)
		return false;

	if (!eapi_gateway_flush_commits())
	{
		for (req = held_requests; req; req = req->next_held)
		{
			pfree(req->held_body);
			req->held_body = MemoryContextStrdup(connection_context,
												 internal_error_body);
			req->held_len = strlen(internal_error_body);
			req->held_status = MHD_HTTP_INTERNAL_SERVER_ERROR;
			req->answer_lsn = InvalidXLogRecPtr;
			req->answer_replayed = false;
		}
	}

	for (req = held_requests; req; req = req->next_held)
		MHD_resume_connection(req->conn);
	held_requests = NULL;
	return true;
}

void
eapi_http_stop(void)
{
	(void) eapi_http_release_held();
	if (http_daemon)
		MHD_stop_daemon(http_daemon);
	http_daemon = NULL;
}
