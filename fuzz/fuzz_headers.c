/*
 * fuzz_headers: the header checks of wire.c on any bytes (input: up to the
 * first NUL is one header value, the rest another).  X-Request-ID,
 * Authorization: Bearer, Access-Control-Request-Headers, the request target's
 * query limits, the logged form of request bytes, and CORS: the list check
 * and origin matching.  Checks the
 * promises the callers rely on: an echoed request id or header list is
 * visible ASCII; a well-formed token is base64url and dots; an origin is
 * allowed only by a valid list that holds it; a logged form is visible
 * ASCII, each other byte escaped.
 */
#include "postgres.h"

#include "wire.h"

int			LLVMFuzzerTestOneInput(const uint8 *data, size_t size);

static bool
visible_ascii(const char *s, bool blanks)
{
	for (; *s; s++)
		if (!((*s > ' ' && *s < 0x7f) || (blanks && (*s == ' ' || *s == '\t'))))
			return false;
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8 *data, size_t size)
{
	char	   *a = palloc(size + 1);
	char	   *b;
	const char *token;

	memcpy(a, data, size);
	a[size] = '\0';
	b = a + strlen(a) + (strlen(a) < size ? 1 : 0);

	if (eapi_request_id_is_sane(a) && !visible_ascii(a, false))
		abort();
	if (eapi_header_list_is_sane(a) && !visible_ascii(a, true))
		abort();
	token = eapi_bearer_token(a);
	if (token && eapi_token_is_wellformed(token))
	{
		if (!visible_ascii(token, false) || strspn(token,
												   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") != strlen(token))
			abort();
	}
	(void) eapi_query_too_large(a);
	/* a logged form: visible bytes as they are, each other one as %XX */
	{
		char	   *logged = eapi_loggable(a);
		const char *l = logged;
		char		escape[4];

		for (const unsigned char *p = (const unsigned char *) a; *p; p++)
		{
			if (*p > ' ' && *p < 0x7f)
			{
				if (*l++ != (char) *p)
					abort();
				continue;
			}
			snprintf(escape, sizeof(escape), "%%%02X", *p);
			if (strncmp(l, escape, 3) != 0)
				abort();
			l += 3;
		}
		if (*l != '\0' || !visible_ascii(logged, false))
			abort();
		pfree(logged);
	}

	if (eapi_cors_list_problem(a) == NULL)
	{
		if (eapi_cors_origin_allowed(a, b))
		{
			/* only a listed origin, which a valid list keeps plain */
			if (strcmp(b, "*") != 0 && !visible_ascii(b, false))
				abort();
			if (strstr(a, b) == NULL)
				abort();
		}
	}
	pfree(a);
	return 0;
}
