/*-------------------------------------------------------------------------
 *
 * body.c
 *		Receiving a request's body: its framing, its size cap
 *		(ecommerce_api.max_body_size) and the memory all bodies of a worker
 *		may hold together (ecommerce_api.max_body_memory).
 *
 * A body is judged before any of it is read, from its head: framing that a
 * proxy could read otherwise is refused, a declared length over the cap is
 * refused, and a declared length is reserved at once, so that its buffer
 * does not grow by doubling (a 1 MB body would take 2 MB).  A body of
 * undeclared length (chunked) is checked against both caps as it grows.
 * How long a body may take to arrive is connections.c's concern.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "http.h"

/*
 * Bytes of request bodies this worker holds, all connections together, kept
 * under ecommerce_api.max_body_memory.  Past it, a new body is refused with
 * 503 and Retry-After rather than made to wait: a waiting body would still
 * hold its connection, and a client that stalls its body would make every
 * other writer wait for it; a refusal costs nothing to hold, and tells a
 * well-behaved client when to come back.
 */
static size_t body_memory_used = 0;

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
 * Framing that must be refused as soon as a request's head is in, before
 * any of its body is read (check_head in http.c): a status and a body, or
 * 0.  The rest of the stream cannot be trusted to be framed as we think.
 *
 *	- 400: Content-Length twice with different values, or together with
 *	  Transfer-Encoding (RFC 9112 section 6.3): behind a proxy that frames
 *	  the request otherwise, the rest would be read as another request;
 *	- 501: a Transfer-Encoding other than chunked, which libmicrohttpd would
 *	  read until the connection closes (RFC 9112 section 6.1).
 *
 * These matter with libmicrohttpd 0.9 (Debian 12), which passes all of them
 * on.  1.0 refuses a Transfer-Encoding it does not know itself, before this
 * is called (1.0.1 with 400, 1.0.10 with 501), and 1.0.10 refuses two
 * Content-Lengths too (400): test/t/EcommerceApi.pm, mhd_case.
 */
int
eapi_body_framing_refusal(struct MHD_Connection *conn, const char **body)
{
	FramingHeaders framing = {0};

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
		req->body.data = MemoryContextAlloc(eapi_http_context, size);
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

/*
 * The request's head is in: refuse a declared oversized body before reading
 * any of it, and one there is no memory for now; otherwise take all it needs
 * at once, so the buffer does not grow by doubling.
 */
void
eapi_body_expect(struct MHD_Connection *conn, HttpRequest *req)
{
	const char *length;

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
}

/* Some more of the body has arrived. */
void
eapi_body_append(HttpRequest *req, const char *data, size_t size)
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

/* The request is done: give its body's memory back. */
void
eapi_body_free(HttpRequest *req)
{
	if (req->has_body)
		pfree(req->body.data);
	body_memory_used -= req->body_memory;
	req->has_body = false;
	req->body_memory = 0;
}
