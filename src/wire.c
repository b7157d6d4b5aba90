/*-------------------------------------------------------------------------
 *
 * wire.c
 *		What bytes from the wire must pass before they become a datum, and
 *		the checks of the headers we read.
 *
 * Everything here is a pure function of its arguments (and of the database
 * encoding): no libmicrohttpd, no SPI, no shared memory, no ERROR raised on
 * bad input.  That is what lets fuzz/ compile this file, with a few stubs,
 * into coverage-guided fuzz targets.
 *
 * Text is checked with PostgreSQL's own encoding verification
 * (pg_verify_mbstr, the check behind every text input function) plus a test
 * for NUL, which a C string would silently cut at.  A body that fails gets a
 * 422 in FastAPI's shape whose loc names the JSON field holding the first bad
 * byte when PostgreSQL's JSON parser (pg_parse_json, run over a copy with the
 * bad bytes replaced) can tell, else just ["body"].
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/jsonapi.h"
#include "mb/pg_wchar.h"
#include "utils/json.h"

#include "compat.h"
#include "wire.h"

/* Longest X-Request-ID we echo. */
#define MAX_REQUEST_ID_LENGTH	128

/* Longest bearer token we pass to the database (tokens we sign are < 300). */
#define MAX_TOKEN_LENGTH		2048

/* pydantic's wording for a string that is not valid text */
#define UNICODE_TYPE	"string_unicode"
#define UNICODE_MSG		"Input should be a valid string, unable to parse raw data as a unicode string"
#define NUL_MSG			"Input should be a valid string without NUL (0x00) characters"

/* ----------------------------------------------------------------------
 * Text
 * ----------------------------------------------------------------------
 */

/*
 * Is this valid text in the database encoding, without NUL?  *offset (when
 * not NULL) receives the offset of the first bad byte.
 */
EapiTextCheck
eapi_check_text(const char *s, size_t len, size_t *offset)
{
	const char *nul = memchr(s, '\0', len);
	int			encoding = GetDatabaseEncoding();
	size_t		valid;

	if (len > (size_t) PG_INT32_MAX)
	{
		if (offset)
			*offset = 0;
		return EAPI_TEXT_BAD_ENCODING;
	}
	if (pg_verify_mbstr(encoding, s, (int) len, true) && nul == NULL)
		return EAPI_TEXT_OK;

	/* pg_verify_mbstr stops at a NUL too: which came first? */
	valid = (size_t) pg_encoding_verifymbstr(encoding, s, (int) len);
	if (offset)
		*offset = valid;
	return (nul != NULL && (size_t) (nul - s) <= valid) ? EAPI_TEXT_NUL : EAPI_TEXT_BAD_ENCODING;
}

/* One validation problem, FastAPI's item: {type, loc, msg, input}. */
static void
append_problem(StringInfo out, const char *type, const char *loc_json,
			   const char *msg, const char *input_json, const char *ctx_json)
{
	if (out->len > 0)
		appendStringInfoChar(out, ',');
	appendStringInfoString(out, "{\"type\":");
	escape_json(out, type);
	appendStringInfo(out, ",\"loc\":%s,\"msg\":", loc_json);
	escape_json(out, msg);
	appendStringInfo(out, ",\"input\":%s", input_json);
	if (ctx_json)
		appendStringInfo(out, ",\"ctx\":%s", ctx_json);
	appendStringInfoChar(out, '}');
}

/*
 * Append the problem of a text argument (query parameter or path id) whose
 * check failed to out, a comma-separated list of items.  The input is not
 * echoed: it is not text we could put in JSON.
 */
void
eapi_text_problem(StringInfo out, EapiTextCheck check, const char *place,
				  const char *name)
{
	StringInfoData loc;

	initStringInfo(&loc);
	appendStringInfoChar(&loc, '[');
	escape_json(&loc, place);
	if (name)
	{
		appendStringInfoChar(&loc, ',');
		escape_json(&loc, name);
	}
	appendStringInfoChar(&loc, ']');
	append_problem(out, UNICODE_TYPE, loc.data,
				   check == EAPI_TEXT_NUL ? NUL_MSG : UNICODE_MSG, "null", NULL);
	pfree(loc.data);
}

/* ----------------------------------------------------------------------
 * Bodies
 * ----------------------------------------------------------------------
 */

/*
 * Where a JSON text is nested deeper than max_depth: the offset of the
 * bracket that goes one level too deep, or -1.  Brackets inside strings do
 * not count.  Not a parser: an upper bound on what the parser would recurse
 * into, so that no body can exhaust the worker's stack.
 */
int
eapi_json_depth_exceeded(const char *s, size_t len, int max_depth)
{
	int			depth = 0;
	bool		in_string = false;
	bool		escaped = false;

	for (size_t i = 0; i < len; i++)
	{
		char		c = s[i];

		if (in_string)
		{
			if (escaped)
				escaped = false;
			else if (c == '\\')
				escaped = true;
			else if (c == '"')
				in_string = false;
		}
		else if (c == '"')
			in_string = true;
		else if (c == '[' || c == '{')
		{
			if (++depth > max_depth)
				return (int) Min(i, (size_t) PG_INT32_MAX);
		}
		else if ((c == ']' || c == '}') && depth > 0)
			depth--;
	}
	return -1;
}

/* One step of a JSON path: an object's key or an array's index. */
typedef struct PathStep
{
	char	   *key;			/* NULL for an array element */
	int			index;
} PathStep;

/*
 * pg_parse_json's state while looking for the value that holds byte
 * "target": the path to where the parser is, and the loc once found.
 */
typedef struct LocSearch
{
	JsonLexContext *lex;
	int			target;
	int			depth;
	PathStep	steps[EAPI_MAX_JSON_DEPTH + 1];
	StringInfo	loc;			/* set once found */
} LocSearch;

/* Has the parser consumed the token holding the target byte? */
static bool
passed_target(LocSearch *search)
{
	return search->loc == NULL &&
		search->lex->prev_token_terminator - search->lex->input > search->target;
}

/* The loc of the current path, ["body", key or index, ...]. */
static void
found_here(LocSearch *search)
{
	StringInfo	loc = makeStringInfo();
	int			n = Min(search->depth, EAPI_MAX_JSON_DEPTH + 1);

	appendStringInfoString(loc, "[\"body\"");
	for (int i = 0; i < n; i++)
	{
		appendStringInfoChar(loc, ',');
		if (search->steps[i].key)
			escape_json(loc, search->steps[i].key);
		else
			appendStringInfo(loc, "%d", search->steps[i].index);
	}
	appendStringInfoChar(loc, ']');
	search->loc = loc;
}

static void
push_step(LocSearch *search, char *key)
{
	if (search->depth <= EAPI_MAX_JSON_DEPTH)
	{
		search->steps[search->depth].key = key;
		search->steps[search->depth].index = -1;
	}
	search->depth++;
}

static void
pop_step(LocSearch *search)
{
	if (search->depth > 0)
		search->depth--;
}

static EapiJsonAction
loc_field_start(void *state, char *fname, bool isnull)
{
	LocSearch  *search = state;

	/* the key (or its colon) held the byte: the object is the place */
	if (passed_target(search))
		found_here(search);
	push_step(search, fname);
	EAPI_JSON_DONE;
}

static EapiJsonAction
loc_field_end(void *state, char *fname, bool isnull)
{
	pop_step(state);
	if (fname)
		pfree(fname);
	EAPI_JSON_DONE;
}

static EapiJsonAction
loc_array_start(void *state)
{
	push_step(state, NULL);
	EAPI_JSON_DONE;
}

static EapiJsonAction
loc_array_end(void *state)
{
	pop_step(state);
	EAPI_JSON_DONE;
}

static EapiJsonAction
loc_element_start(void *state, bool isnull)
{
	LocSearch  *search = state;
	int			top = search->depth - 1;

	if (top >= 0 && top <= EAPI_MAX_JSON_DEPTH)
		search->steps[top].index++;
	EAPI_JSON_DONE;
}

static EapiJsonAction
loc_scalar(void *state, char *token, JsonTokenType tokentype)
{
	LocSearch  *search = state;

	/* called once the scalar is consumed: did it hold the byte? */
	if (passed_target(search))
		found_here(search);
	pfree(token);
	EAPI_JSON_DONE;
}

/*
 * The loc (["body", ...] as JSON) of the value holding byte target of a
 * body: its field path if the body, with its bad bytes replaced, is JSON,
 * else ["body"].  The copy is valid text, so every key on the path is too.
 */
static char *
body_loc(const char *body, size_t len, int target)
{
	char	   *copy = palloc(len + 1);
	int			encoding = GetDatabaseEncoding();
	size_t		pos = 0;
	LocSearch	search = {0};
	JsonSemAction sem = {0};

	memcpy(copy, body, len);
	copy[len] = '\0';
	while (pos < len)
	{
		size_t		valid = pg_encoding_verifymbstr(encoding, copy + pos, (int) (len - pos));

		pos += valid;
		if (pos >= len)
			break;
		copy[pos++] = '?';
	}

	/* it did not go too deep: the caller checked */
	search.lex = eapi_json_lex_context(copy, (int) len, encoding, true);
	search.target = target;
	sem.semstate = &search;
	sem.object_field_start = loc_field_start;
	sem.object_field_end = loc_field_end;
	sem.array_start = loc_array_start;
	sem.array_end = loc_array_end;
	sem.array_element_start = loc_element_start;
	sem.scalar = loc_scalar;
	(void) pg_parse_json(search.lex, &sem);

	/*
	 * In the server all this goes with the request's memory context; freed
	 * here anyway, so that the fuzz harness, which has none, runs long.
	 */
	for (int i = 0; i < Min(search.depth, EAPI_MAX_JSON_DEPTH + 1); i++)
		if (search.steps[i].key)
			pfree(search.steps[i].key);
	if (search.lex->strval)
	{
		pfree(search.lex->strval->data);
		pfree(search.lex->strval);
	}
	pfree(search.lex);
	pfree(copy);
	if (search.loc)
	{
		char	   *loc = search.loc->data;

		pfree(search.loc);
		return loc;
	}
	return pstrdup("[\"body\"]");
}

/* Characters (not bytes) before offset in valid text: Python's pos. */
static int
char_position(const char *s, size_t offset)
{
	int			encoding = GetDatabaseEncoding();
	int			chars = 0;

	for (size_t i = 0; i < offset; i += pg_encoding_mblen(encoding, s + i))
		chars++;
	return chars;
}

/*
 * Check a request body before it goes to the database: valid text without
 * NUL, nested at most EAPI_MAX_JSON_DEPTH deep.  Returns true when it may go;
 * else false with the 422's items (a comma-separated list) appended to
 * problems.
 */
bool
eapi_check_body(const char *body, size_t len, StringInfo problems)
{
	size_t		offset;
	EapiTextCheck check = eapi_check_text(body, len, &offset);
	int			deep;

	if (check != EAPI_TEXT_OK)
	{
		char	   *loc = NULL;

		/* a body too deep to look into is only ["body"] */
		if (eapi_json_depth_exceeded(body, len, EAPI_MAX_JSON_DEPTH) < 0 &&
			offset <= (size_t) PG_INT32_MAX)
			loc = body_loc(body, len, (int) offset);
		append_problem(problems, UNICODE_TYPE, loc ? loc : "[\"body\"]",
					   check == EAPI_TEXT_NUL ? NUL_MSG : UNICODE_MSG, "null", NULL);
		if (loc)
			pfree(loc);
		return false;
	}

	deep = eapi_json_depth_exceeded(body, len, EAPI_MAX_JSON_DEPTH);
	if (deep >= 0)
	{
		char		loc[32];

		/* what FastAPI says of JSON it cannot decode */
		snprintf(loc, sizeof(loc), "[\"body\",%d]", char_position(body, deep));
		append_problem(problems, "json_invalid", loc, "JSON decode error", "{}",
					   "{\"error\":\"Nesting too deep: at most "
					   CppAsString2(EAPI_MAX_JSON_DEPTH) " levels\"}");
		return false;
	}
	return true;
}

/* ----------------------------------------------------------------------
 * Headers
 * ----------------------------------------------------------------------
 */

/*
 * A request target as a log line may show it: visible ASCII as it is, every
 * other byte as %XX.  Only these bytes are escaped, not '%' itself: the
 * target is logged as sent, where %XX already means that byte, so the logged
 * form is the same percent-encoded target.  Written raw, a client's control
 * bytes would start forged lines in the server log, and bytes not valid in
 * its encoding would reach it.  Palloc'd in the current memory context.
 */
char *
eapi_loggable(const char *bytes)
{
	StringInfoData out;

	initStringInfo(&out);
	for (const unsigned char *p = (const unsigned char *) bytes; *p; p++)
	{
		if (*p > ' ' && *p < 0x7f)
			appendStringInfoChar(&out, (char) *p);
		else
			appendStringInfo(&out, "%%%02X", *p);
	}
	return out.data;
}

/* An X-Request-ID we echo must be short and plain; others are replaced. */
bool
eapi_request_id_is_sane(const char *id)
{
	size_t		len = strlen(id);

	if (len == 0 || len > MAX_REQUEST_ID_LENGTH)
		return false;
	for (const char *p = id; *p; p++)
		if (!isalnum((unsigned char) *p) && !strchr("-_.:", *p))
			return false;
	return true;
}

/*
 * The token of an "Authorization: Bearer <token>" value (the scheme is
 * case-insensitive), or NULL when it carries none.
 */
const char *
eapi_bearer_token(const char *value)
{
	if (value == NULL || pg_strncasecmp(value, "Bearer ", 7) != 0)
		return NULL;
	value += 7;
	while (*value == ' ')
		value++;
	return *value ? value : NULL;
}

/*
 * Could this be a token we signed: base64url segments separated by dots, at
 * most MAX_TOKEN_LENGTH characters?  Anything else (a byte outside ASCII, a
 * control character) is refused as an invalid token before it becomes text
 * in the database.
 */
bool
eapi_token_is_wellformed(const char *token)
{
	size_t		len = 0;

	for (const char *p = token; *p; p++, len++)
	{
		unsigned char c = (unsigned char) *p;

		if (len >= MAX_TOKEN_LENGTH)
			return false;
		if (!(isascii(c) && (isalnum(c) || c == '-' || c == '_' || c == '.')))
			return false;
	}
	return len > 0;
}

/*
 * Is a header value a plain list of header names ("X-Foo, Content-Type"):
 * RFC 9110 tokens, commas and spaces?  A preflight echoes
 * Access-Control-Request-Headers only when it is.
 */
bool
eapi_header_list_is_sane(const char *value)
{
	size_t		len = 0;

	for (const char *p = value; *p; p++, len++)
	{
		unsigned char c = (unsigned char) *p;

		if (len >= 1024)
			return false;
		if (!(isascii(c) && (isalnum(c) || strchr("!#$%&'*+-.^_`|~, \t", c))))
			return false;
	}
	return true;
}

/*
 * The length of an entry of a comma-separated list starting at *p, with the
 * separators and blanks around it skipped: *p is left at the entry, the
 * return value is its length (0 at the end of the list).
 */
static size_t
next_list_entry(const char **p)
{
	const char *s = *p;
	const char *end;

	while (*s == ' ' || *s == '\t' || *s == ',')
		s++;
	end = s;
	while (*end && *end != ',')
		end++;
	*p = s;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	return end - s;
}

/*
 * Is origin one of the allowed list (ecommerce_api.cors_allowed_origins,
 * already checked by eapi_cors_list_problem)?  Exact, case-sensitive
 * comparison, as browsers send the origin serialized.
 */
bool
eapi_cors_origin_allowed(const char *allowed, const char *origin)
{
	size_t		origin_len = strlen(origin);
	const char *p = allowed;
	size_t		len;

	while ((len = next_list_entry(&p)) > 0)
	{
		if (len == origin_len && strncmp(p, origin, len) == 0)
			return true;
		p += len;
	}
	return false;
}

/*
 * What is wrong with a value of ecommerce_api.cors_allowed_origins, or NULL:
 * "*" alone, or a comma-separated list of origins as browsers send them,
 * scheme "://" host [":" port], with no path and nothing else.  An empty
 * list allows no other origin.
 */
const char *
eapi_cors_list_problem(const char *list)
{
	const char *p = list;
	size_t		len;
	int			entries = 0;
	bool		star = false;

	while ((len = next_list_entry(&p)) > 0)
	{
		const char *e = p;
		const char *end = p + len;
		const char *host;
		bool		port = false;

		entries++;
		if (len == 1 && *e == '*')
		{
			star = true;
			p += len;
			continue;
		}
		if (strncmp(e, "http://", 7) == 0)
			host = e + 7;
		else if (strncmp(e, "https://", 8) == 0)
			host = e + 8;
		else
			return "an origin starts with http:// or https://";
		if (host >= end)
			return "an origin needs a host";
		for (const char *c = host; c < end; c++)
		{
			unsigned char ch = (unsigned char) *c;

			if (ch == ':' && !port && c > host && c + 1 < end)
				port = true;
			else if (port && !isdigit(ch))
				return "an origin's port is digits";
			else if (!port && !(isascii(ch) && (isalnum(ch) || ch == '-' || ch == '.')))
				return "an origin is scheme://host[:port], without path, query or spaces";
		}
		p += len;
	}
	if (star && entries > 1)
		return "\"*\" must be the only entry";
	return NULL;
}

/*
 * Too many query parameters, or too long a query string?  Counted on the raw
 * request target, before libmicrohttpd splits it into parameters: every
 * route takes at most EAPI_MAX_ROUTE_ARGS.
 */
bool
eapi_query_too_large(const char *uri)
{
	const char *query = strchr(uri, '?');
	int			params = 1;

	if (query == NULL)
		return false;
	if (strlen(query + 1) > EAPI_MAX_QUERY_LENGTH)
		return true;
	for (const char *p = query + 1; *p; p++)
		if (*p == '&')
			params++;
	return params > EAPI_MAX_QUERY_PARAMS;
}
