/*
 * fuzz_body: a request body, as eapi_check_body sees it before the database
 * does.  Besides "no crash, no leak, no undefined behaviour", it checks what
 * the gateway relies on:
 *	- a body that passes is valid UTF-8 without NUL, nested at most
 *	  EAPI_MAX_JSON_DEPTH deep;
 *	- a body that fails gets problems that are themselves valid JSON text,
 *	  whatever bytes the body held (they go out in the 422).
 */
#include "postgres.h"

#include "common/jsonapi.h"
#include "mb/pg_wchar.h"

#include "compat.h"
#include "wire.h"

int			LLVMFuzzerTestOneInput(const uint8 *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8 *data, size_t size)
{
	const char *body = (const char *) data;
	StringInfoData problems;
	bool		ok;

	initStringInfo(&problems);
	ok = eapi_check_body(body, size, &problems);
	if (ok)
	{
		if (problems.len != 0 ||
			memchr(body, '\0', size) != NULL ||
			pg_encoding_verifymbstr(PG_UTF8, body, (int) size) != (int) size ||
			eapi_json_depth_exceeded(body, size, EAPI_MAX_JSON_DEPTH) >= 0)
			abort();
	}
	else
	{
		StringInfoData array;
		JsonLexContext *lex;

		initStringInfo(&array);
		appendStringInfo(&array, "[%s]", problems.data);
		if (pg_encoding_verifymbstr(PG_UTF8, array.data, array.len) != array.len)
			abort();
		lex = eapi_json_lex_context(array.data, array.len, PG_UTF8, true);
		if (pg_parse_json(lex, &nullSemAction) != JSON_SUCCESS)
			abort();
		pfree(lex->strval->data);
		pfree(lex->strval);
		pfree(lex);
		pfree(array.data);
	}
	pfree(problems.data);
	return 0;
}
