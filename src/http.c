/*-------------------------------------------------------------------------
 *
 * http.c
 *		libmicrohttpd glue: the daemon and its callbacks, and a request's
 *		way from its head to its answer: its checks, its route and
 *		arguments, the cache or the gateway.
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
 * until its commit is flushed (group commit, told in gateway.c).  How an
 * answer is sent and held is answer.c's; how a body is received, body.c's;
 * the three share the request's state through http.h.
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

#include "common/pg_prng.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "http.h"
#include "cache.h"
#include "wire.h"

/* What a malformed bearer token is replaced with: a token that never verifies. */
#define MALFORMED_TOKEN			"malformed"

static struct MHD_Daemon *http_daemon = NULL;

/* See http.h: the HttpRequests of the connections in progress. */
MemoryContext eapi_http_context = NULL;

/* Reset after each request; the gateway's answers are built in it. */
static MemoryContext request_context = NULL;

/* ----------------------------------------------------------------------
 * Requests
 * ----------------------------------------------------------------------
 */

/* A request id for a request that sent none (or no sane one). */
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

/*
 * Look the request's route up, in eapi_http_context since it is kept until
 * the request completes.  Done once, when its head is in (the rate limiter
 * wants the route then); dispatch asks again only if that failed.
 */
static void
route_request(HttpRequest *req, const char *method, const char *url)
{
	MemoryContext oldcxt;

	if (req->routed)
		return;
	oldcxt = MemoryContextSwitchTo(eapi_http_context);
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
		*ret = eapi_send_cacheable_response(conn, req, MHD_HTTP_NOT_MODIFIED, NULL,
											"", 0, request_id, probe->etag);
		return MHD_HTTP_NOT_MODIFIED;
	}
	if (eapi_cache_lookup(probe, &kept, &kept_len))
	{
		*ret = eapi_send_cacheable_response(conn, req, route->success_status,
											answer_content_type(route, route->success_status),
											kept, kept_len, request_id, probe->etag);
		return route->success_status;
	}
	return 0;
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
		*ret = eapi_send_error(conn, req, MHD_HTTP_BAD_REQUEST,
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
			*ret = eapi_send_error(conn, req, MHD_HTTP_BAD_REQUEST,
								   "X-Consistency-Token is not a token this API issued",
								   request_id, NULL);
			return false;
		case TOKEN_VALID:
			break;
	}
	if (eapi_consistency_wait(lsn))
		return true;
	*ret = eapi_send_error(conn, req, MHD_HTTP_SERVICE_UNAVAILABLE,
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
			return eapi_send_fixed_error(conn, req, FIXED_NOT_FOUND,
										 request_id, NULL);
		case ROUTE_NO_METHOD:
			return eapi_send_fixed_error(conn, req, FIXED_METHOD_NOT_ALLOWED,
										 request_id, req->allow);
		case ROUTE_FOUND:
			break;
	}
	route = req->route;
	req->route_index = eapi_route_index(route);
	initStringInfo(&result.body);

	if (route->kind == ROUTE_LIVE)
		return eapi_send_static_error(conn, req, MHD_HTTP_OK, "{\"status\":\"alive\"}",
									  request_id, NULL);

	/* an invalid security setting: refuse, naming it (health says so too) */
	if (route->kind == ROUTE_SQL && eapi_settings_problem())
	{
		eapi_error_body(&result.body, eapi_settings_problem(), false, 0);
		return eapi_send_response(conn, req, MHD_HTTP_SERVICE_UNAVAILABLE,
								  result.body.data, result.body.len, request_id, NULL);
	}

	if (route->kind == ROUTE_METRICS)
	{
		eapi_metrics_render(&result.body);
		return eapi_send_typed_response(conn, req, MHD_HTTP_OK,
										"text/plain; version=0.0.4; charset=utf-8",
										result.body.data, result.body.len,
										request_id, NULL);
	}

	if ((problems = route_arguments(conn, req, argv)) != NULL)
		return eapi_send_response(conn, req, 422, problems, strlen(problems),
								  request_id, NULL);

	/* a consistency token first: the answer cache judges as of its write */
	if (!consistency_ready(conn, req, request_id, &ret))
		return ret;

	if (strcmp(method, "GET") == 0 && eapi_cache_begin(route, argv, &probe))
	{
		int			status = answer_from_cache(conn, req, &probe, request_id, &ret);

		if (status != 0)
			return ret;
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
		ret = eapi_hold_response(conn, req, &result, request_id);
	else if (cacheable && result.status == route->success_status)
	{
		eapi_cache_store(&probe, result.body.data, result.body.len);
		ret = eapi_send_cacheable_response(conn, req, result.status,
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
		ret = eapi_send_typed_response(conn, req, result.status,
									   answer_content_type(route, result.status),
									   result.body.data, result.body.len,
									   request_id, challenge);
	}
	return ret;
}

/* The request's head is in; req may have been made by log_request_target. */
static HttpRequest *
request_begin(struct MHD_Connection *conn, HttpRequest *req)
{
	if (req == NULL)
	{
		req = MemoryContextAllocZero(eapi_http_context, sizeof(HttpRequest));
		INSTR_TIME_SET_CURRENT(req->start);
		req->route_index = -1;
	}
	/* its body, if it declares one, is judged now (body.c) */
	eapi_body_expect(conn, req);
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
		MemoryContext oldcxt = MemoryContextSwitchTo(eapi_http_context);

		initStringInfo(&req->refusal);
		eapi_rate_limit_refusal(&req->rate, &req->refusal);
		MemoryContextSwitchTo(oldcxt);
	}
}

static void
request_free(HttpRequest *req)
{
	eapi_body_free(req);
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

/*
 * What must be refused as soon as a request's head is in, before any of its
 * body is read: a status and a body, or 0.  Answering now makes
 * libmicrohttpd close the connection after the answer, which is what these
 * need: the rest of the stream cannot be trusted to be framed as we think.
 *
 *	- 414: too many query parameters or too long a query string (seen on
 *	  the raw target by log_request_target);
 *	- 400 or 501: framing a proxy could read otherwise, or that
 *	  libmicrohttpd would read until the connection closes (body.c).
 */
static int
check_head(struct MHD_Connection *conn, HttpRequest *req, const char **body)
{
	if (req->query_too_large)
	{
		*body = "{\"detail\":\"URI Too Long: at most " CppAsString2(EAPI_MAX_QUERY_PARAMS)
			" query parameters and " CppAsString2(EAPI_MAX_QUERY_LENGTH) " bytes of query string\"}";
		return MHD_HTTP_URI_TOO_LONG;
	}
	return eapi_body_framing_refusal(conn, body);
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
		return eapi_send_held_response(conn, req);
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
			req->method = method;	/* libmicrohttpd keeps it for the request */
			req->head_checked = true;
			if ((refusal = check_head(conn, req, &refusal_body)) != 0)
			{
				generate_request_id(request_id, sizeof(request_id));
				req->refused_at_head = true;
				ret = eapi_send_static_error(conn, req, refusal, refusal_body, request_id, NULL);
			}
			else
			{
				MemoryContext oldcxt = MemoryContextSwitchTo(eapi_http_context);

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
			eapi_body_append(req, upload_data, *upload_data_size);
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
		return eapi_send_response(conn, req, MHD_HTTP_TOO_MANY_REQUESTS,
								  req->refusal.data, req->refusal.len, request_id, NULL);
	if (req->too_large)
		return eapi_send_fixed_error(conn, req, FIXED_TOO_LARGE, request_id, NULL);
	if (req->path_problem)
		return eapi_send_static_error(conn, req, 422, req->path_problem, request_id, NULL);
	if (req->no_memory)
		return eapi_send_fixed_error(conn, req, FIXED_NO_MEMORY, request_id, "1");
	if (strcmp(method, "OPTIONS") == 0)
	{
		if (eapi_settings_problem())
		{
			StringInfoData body;

			initStringInfo(&body);
			eapi_error_body(&body, eapi_settings_problem(), false, 0);
			return eapi_send_response(conn, req, MHD_HTTP_SERVICE_UNAVAILABLE,
									  body.data, body.len, request_id, NULL);
		}
		return eapi_send_preflight(conn, req, request_id);
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
		ret = eapi_send_fixed_error(conn, req, FIXED_INTERNAL_ERROR,
									request_id, NULL);
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
	req = MemoryContextAllocExtended(eapi_http_context, sizeof(HttpRequest),
									 MCXT_ALLOC_NO_OOM | MCXT_ALLOC_ZERO);
	if (req == NULL || uri == NULL)
		return req;
	INSTR_TIME_SET_CURRENT(req->start);
	req->route_index = -1;
	query = strchr(uri, '?');
	path_len = query ? (size_t) (query - uri) : strlen(uri);
	req->raw_path = MemoryContextAllocExtended(eapi_http_context, path_len + 1,
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

bool
eapi_http_start(int worker_number)
{
	int			fd;

	if (eapi_http_context == NULL)
	{
		eapi_http_context = AllocSetContextCreate(TopMemoryContext,
												  "ecommerce_api connections",
												  ALLOCSET_DEFAULT_SIZES);
		request_context = AllocSetContextCreate(TopMemoryContext,
												"ecommerce_api request",
												ALLOCSET_DEFAULT_SIZES);
		eapi_connections_init();
		eapi_answers_init();
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

void
eapi_http_stop(void)
{
	(void) eapi_http_release_held();
	if (http_daemon)
		MHD_stop_daemon(http_daemon);
	http_daemon = NULL;
}
