/*-------------------------------------------------------------------------
 *
 * wire.h
 *		The checks every byte from the wire passes (wire.c).
 *
 * Kept apart from ecommerce_api.h because fuzz/ compiles wire.c on its own:
 * nothing declared here needs libmicrohttpd, SPI or shared memory.
 *
 *-------------------------------------------------------------------------
 */
#ifndef EAPI_WIRE_H
#define EAPI_WIRE_H

#include "lib/stringinfo.h"

/* Deepest JSON body accepted (our bodies nest 3 deep). */
#define EAPI_MAX_JSON_DEPTH		64

/* Query strings: at most this many parameters and bytes, else 414. */
#define EAPI_MAX_QUERY_PARAMS	64
#define EAPI_MAX_QUERY_LENGTH	4096

typedef enum EapiTextCheck
{
	EAPI_TEXT_OK,
	EAPI_TEXT_NUL,				/* holds a NUL byte */
	EAPI_TEXT_BAD_ENCODING		/* not valid in the database encoding */
} EapiTextCheck;

extern EapiTextCheck eapi_check_text(const char *s, size_t len, size_t *offset);
extern void eapi_text_problem(StringInfo out, EapiTextCheck check,
							  const char *place, const char *name);
extern int	eapi_json_depth_exceeded(const char *s, size_t len, int max_depth);
extern bool eapi_check_body(const char *body, size_t len, StringInfo problems);

extern char *eapi_loggable(const char *bytes);
extern bool eapi_request_id_is_sane(const char *id);
extern const char *eapi_bearer_token(const char *value);
extern bool eapi_token_is_wellformed(const char *token);
extern bool eapi_header_list_is_sane(const char *value);
extern bool eapi_cors_origin_allowed(const char *allowed, const char *origin);
extern const char *eapi_cors_list_problem(const char *list);
extern bool eapi_query_too_large(const char *uri);

#endif							/* EAPI_WIRE_H */
