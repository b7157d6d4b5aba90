/*-------------------------------------------------------------------------
 *
 * answer.c
 *		Sending a request's answer: the headers every answer carries, the
 *		kinds of answer (JSON or typed, cacheable with its ETag, a CORS
 *		preflight, a fixed error), and the answers held for group commit.
 *
 * Every answer goes out through finish_response, so that no kind of answer
 * can forget the request id, the timing, the CORS origin, the rate-limit
 * budget or a write's consistency token, and every answer is counted once
 * in the metrics.  The eapi_send_* calls but eapi_send_error make no
 * PostgreSQL allocation, so http.c can answer with them after an ERROR;
 * that is why the fixed error bodies are built once, at start.
 *
 * A write's answer may be held until its commit is flushed (group commit,
 * told in gateway.c): its connection is suspended, and the worker's loop
 * calls eapi_http_release_held at the end of its pass.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "http.h"
#include "wire.h"

#define CORS_MAX_AGE			"600"
#define CORS_METHODS			"GET, POST, PUT, DELETE, OPTIONS"

/* The answers held for the WAL flush of group commit (see gateway.c). */
static HttpRequest *held_requests = NULL;

/*
 * The error answers the HTTP layer gives itself, built once by
 * eapi_answers_init when the server starts, so that answering after an
 * ERROR allocates nothing.
 */
static const struct
{
	int			status;
	const char *detail;
}			fixed_errors[NUM_FIXED_ERRORS] = {
	[FIXED_NOT_FOUND] = {MHD_HTTP_NOT_FOUND, "Not Found"},
	[FIXED_METHOD_NOT_ALLOWED] = {MHD_HTTP_METHOD_NOT_ALLOWED, "Method Not Allowed"},
	[FIXED_TOO_LARGE] = {MHD_HTTP_CONTENT_TOO_LARGE, "Request body too large"},
	[FIXED_NO_MEMORY] = {MHD_HTTP_SERVICE_UNAVAILABLE,
	"Server busy: too many request bodies in progress, retry"},
	[FIXED_INTERNAL_ERROR] = {MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal Server Error"},
};
static char *fixed_error_bodies[NUM_FIXED_ERRORS];

/* ----------------------------------------------------------------------
 * The headers every answer carries
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
 * The access log line (ecommerce_api.log_requests), written for every
 * answer, refusals at the head included.  Method and path as the client
 * sent them, escaped (eapi_loggable): they are its bytes.
 */
static void
log_answer(HttpRequest *req, int status, double elapsed, const char *request_id)
{
	char	   *method;
	char	   *path;

	if (!eapi_log_requests)
		return;
	/* answers are sent from long-lived contexts too: free what is made here */
	method = eapi_loggable(req->method ? req->method : "-");
	path = eapi_loggable(req->raw_path ? req->raw_path : "-");
	elog(LOG, "%s %s %d %.2fms request_id=%s",
		 method, path, status, elapsed, request_id);
	pfree(method);
	pfree(path);
}

/*
 * What every answer gets: the headers it carries (request id, timing, CORS
 * origin), its count in the metrics and its access log line.
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
	log_answer(req, status, elapsed, request_id);
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

/* The header that carries a status's status_header (eapi_send_typed_response). */
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

/* ----------------------------------------------------------------------
 * The kinds of answer
 * ----------------------------------------------------------------------
 */

/*
 * Queue one response with the headers every answer carries.  status_header
 * is the value of the header some statuses carry: a 405's Allow (the methods
 * the path takes), a 401's WWW-Authenticate (its challenge, RFC 7235), a
 * 503's Retry-After (seconds); NULL for none.  Uses no PostgreSQL
 * allocation, so it can also answer after an error.
 */
enum MHD_Result
eapi_send_typed_response(struct MHD_Connection *conn, HttpRequest *req, int status,
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
enum MHD_Result
eapi_send_response(struct MHD_Connection *conn, HttpRequest *req, int status,
				   const char *body, size_t len, const char *request_id,
				   const char *status_header)
{
	return eapi_send_typed_response(conn, req, status, "application/json",
									body, len, request_id, status_header);
}

/*
 * A cacheable GET's answer: 200 with its body, or 304 with none, carrying
 * the ETag its generations make and "Cache-Control: no-cache" (a client may
 * keep it, and must revalidate before using it).
 */
enum MHD_Result
eapi_send_cacheable_response(struct MHD_Connection *conn, HttpRequest *req, int status,
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

/* An error answer whose JSON body is already made. */
enum MHD_Result
eapi_send_static_error(struct MHD_Connection *conn, HttpRequest *req, int status,
					   const char *body, const char *request_id, const char *status_header)
{
	return eapi_send_response(conn, req, status, body, strlen(body), request_id,
							  status_header);
}

/* OPTIONS on any path: a CORS preflight answer. */
enum MHD_Result
eapi_send_preflight(struct MHD_Connection *conn, HttpRequest *req, const char *request_id)
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

/* An error answer {"detail": detail}, built in the request's context. */
enum MHD_Result
eapi_send_error(struct MHD_Connection *conn, HttpRequest *req, int status,
				const char *detail, const char *request_id, const char *status_header)
{
	StringInfoData body;

	initStringInfo(&body);
	eapi_error_body(&body, detail, false, 0);
	return eapi_send_response(conn, req, status, body.data, body.len, request_id,
							  status_header);
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

/* Build the fixed error bodies; once, when the server starts. */
void
eapi_answers_init(void)
{
	for (int i = 0; i < NUM_FIXED_ERRORS; i++)
		fixed_error_bodies[i] = fixed_error_body(fixed_errors[i].detail);
}

/* One of the fixed error answers, with its own status. */
enum MHD_Result
eapi_send_fixed_error(struct MHD_Connection *conn, HttpRequest *req,
					  FixedError which, const char *request_id,
					  const char *status_header)
{
	return eapi_send_static_error(conn, req, fixed_errors[which].status,
								  fixed_error_bodies[which], request_id,
								  status_header);
}

/* ----------------------------------------------------------------------
 * The answers held for group commit
 * ----------------------------------------------------------------------
 */

/* Keep an answer until its commit is flushed; see held_requests. */
enum MHD_Result
eapi_hold_response(struct MHD_Connection *conn, HttpRequest *req, ApiResult *result,
				   const char *request_id)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(eapi_http_context);

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
enum MHD_Result
eapi_send_held_response(struct MHD_Connection *conn, HttpRequest *req)
{
	enum MHD_Result ret;

	ret = eapi_send_response(conn, req, req->held_status, req->held_body,
							 req->held_len, req->held_request_id, NULL);
	pfree(req->held_body);
	pfree(req->held_request_id);
	req->held_body = NULL;
	req->held_request_id = NULL;
	return ret;
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
			req->held_body = MemoryContextStrdup(eapi_http_context,
												 fixed_error_bodies[FIXED_INTERNAL_ERROR]);
			req->held_len = strlen(fixed_error_bodies[FIXED_INTERNAL_ERROR]);
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
