/*-------------------------------------------------------------------------
 *
 * http.h
 *		What the HTTP layer's files share: a request's state, and the calls
 *		between http.c (libmicrohttpd's callbacks and the request's dispatch),
 *		answer.c (sending answers) and body.c (receiving bodies).
 *
 * Kept apart from ecommerce_api.h because it needs libmicrohttpd's header
 * and nothing outside these three files uses it: the rest of the module
 * sees the HTTP layer through the eapi_http_* calls there.
 *
 *-------------------------------------------------------------------------
 */
#ifndef EAPI_HTTP_H
#define EAPI_HTTP_H

#include <microhttpd.h>

#include "portability/instr_time.h"

#include "ecommerce_api.h"

#define MAX_REQUEST_ID_LENGTH	128

/* What we keep about one request between libmicrohttpd's calls. */
typedef struct HttpRequest
{
	instr_time	start;
	StringInfoData body;
	bool		has_body;
	bool		too_large;
	bool		no_memory;		/* refused: max_body_memory is taken */
	size_t		body_memory;	/* bytes it holds of max_body_memory (body.c) */
	int			route_index;	/* for the metrics: -1 until dispatched */

	/*
	 * Checks of the head (check_head): the raw path as sent, kept by
	 * log_request_target; too many query parameters; a refusal answered as
	 * soon as the head is in; a path that is not valid text (its 422).
	 */
	char	   *raw_path;
	const char *method;			/* libmicrohttpd's, for the access log */
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

/*
 * Holds the HttpRequests of the connections in progress, their bodies and
 * their held answers (http.c creates it).
 */
extern MemoryContext eapi_http_context;

/* ---- answer.c ---- */

/* The error answers the HTTP layer gives itself, built once at start. */
typedef enum FixedError
{
	FIXED_NOT_FOUND,			/* 404 */
	FIXED_METHOD_NOT_ALLOWED,	/* 405, with the path's Allow */
	FIXED_TOO_LARGE,			/* 413 */
	FIXED_NO_MEMORY,			/* 503: max_body_memory is taken */
	FIXED_INTERNAL_ERROR,		/* 500 */
	NUM_FIXED_ERRORS
} FixedError;

extern void eapi_answers_init(void);
extern enum MHD_Result eapi_send_typed_response(struct MHD_Connection *conn,
												HttpRequest *req, int status,
												const char *content_type,
												const char *body, size_t len,
												const char *request_id,
												const char *status_header);
extern enum MHD_Result eapi_send_response(struct MHD_Connection *conn,
										  HttpRequest *req, int status,
										  const char *body, size_t len,
										  const char *request_id,
										  const char *status_header);
extern enum MHD_Result eapi_send_cacheable_response(struct MHD_Connection *conn,
													HttpRequest *req, int status,
													const char *content_type,
													const char *body, size_t len,
													const char *request_id,
													const char *etag);
extern enum MHD_Result eapi_send_static_error(struct MHD_Connection *conn,
											  HttpRequest *req, int status,
											  const char *body,
											  const char *request_id,
											  const char *status_header);
extern enum MHD_Result eapi_send_fixed_error(struct MHD_Connection *conn,
											 HttpRequest *req, FixedError which,
											 const char *request_id,
											 const char *status_header);
extern enum MHD_Result eapi_send_error(struct MHD_Connection *conn,
									   HttpRequest *req, int status,
									   const char *detail,
									   const char *request_id,
									   const char *status_header);
extern enum MHD_Result eapi_send_preflight(struct MHD_Connection *conn,
										   HttpRequest *req,
										   const char *request_id);
extern enum MHD_Result eapi_hold_response(struct MHD_Connection *conn,
										  HttpRequest *req, ApiResult *result,
										  const char *request_id);
extern enum MHD_Result eapi_send_held_response(struct MHD_Connection *conn,
											   HttpRequest *req);

/* ---- body.c ---- */
extern int	eapi_body_framing_refusal(struct MHD_Connection *conn,
									  const char **body);
extern void eapi_body_expect(struct MHD_Connection *conn, HttpRequest *req);
extern void eapi_body_append(HttpRequest *req, const char *data, size_t size);
extern void eapi_body_free(HttpRequest *req);

#endif							/* EAPI_HTTP_H */
