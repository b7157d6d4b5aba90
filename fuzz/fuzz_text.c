/*
 * fuzz_text: a query parameter or path id, as eapi_check_text sees it, and
 * the 422 item for it.  Checks that OK means valid UTF-8 without NUL, that
 * the reported offset is where the first bad byte is, and that the problem
 * item is valid JSON text.  The first byte picks the place and name.
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
	const char *s = (const char *) data;
	size_t		offset = (size_t) -1;
	EapiTextCheck check = eapi_check_text(s, size, &offset);
	int			valid = pg_encoding_verifymbstr(PG_UTF8, s, (int) size);
	const char *nul = memchr(s, '\0', size);

	if (check == EAPI_TEXT_OK)
	{
		if (nul != NULL || valid != (int) size || offset != (size_t) -1)
			abort();
	}
	else
	{
		StringInfoData item;
		JsonLexContext *lex;

		if (offset != (size_t) valid)
			abort();
		if ((check == EAPI_TEXT_NUL) != (s[offset] == '\0'))
			abort();
		initStringInfo(&item);
		eapi_text_problem(&item, check, size > 0 && data[0] & 1 ? "query" : "path",
						  size > 0 && data[0] & 2 ? "search" : NULL);
		lex = eapi_json_lex_context(item.data, item.len, PG_UTF8, true);
		if (pg_parse_json(lex, &nullSemAction) != JSON_SUCCESS)
			abort();
		pfree(lex->strval->data);
		pfree(lex->strval);
		pfree(lex);
		pfree(item.data);
	}
	return 0;
}
