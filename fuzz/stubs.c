/*-------------------------------------------------------------------------
 *
 * stubs.c
 *		The few backend functions the fuzzed files call, for a process that
 *		is not a backend.
 *
 * The fuzz targets link src/wire.c and src/router.c, compiled exactly as for
 * the server, against libpgcommon (the frontend build of palloc, StringInfo,
 * PostgreSQL's JSON parser and encoding tables).  What libpgcommon lacks is
 * here, kept as close as possible to what the backend does:
 * pg_verify_mbstr runs the very verifier the backend's does
 * (pg_encoding_verifymbstr, the encoding's mbverifystr); the database
 * encoding is UTF8; escape_json follows utils/adt/json.c's rules.
 * pg_inet_net_pton (the parser behind the inet type, which libpgcommon does
 * not have) is a stand-in: libc's inet_pton plus an optional "/bits".  What
 * fuzz_forwarded exercises is forwarded.c's own code around it: splitting
 * the lists, IPv4-mapped addresses, masks, the walk through X-Forwarded-For.
 * Anything
 * that would raise an ERROR aborts, which the fuzzer reports as a crash: no
 * function under test may raise on bad input.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/inet.h"
#include "utils/json.h"

int
GetDatabaseEncoding(void)
{
	return PG_UTF8;
}

bool
pg_verify_mbstr(int encoding, const char *mbstr, int len, bool noError)
{
	if (!noError)
		abort();				/* an ERROR in a check: a bug */
	return pg_encoding_verifymbstr(encoding, mbstr, len) == len;
}

void
escape_json(StringInfo buf, const char *str)
{
	appendStringInfoCharMacro(buf, '"');
	for (const char *p = str; *p; p++)
	{
		switch (*p)
		{
			case '\b':
				appendStringInfoString(buf, "\\b");
				break;
			case '\f':
				appendStringInfoString(buf, "\\f");
				break;
			case '\n':
				appendStringInfoString(buf, "\\n");
				break;
			case '\r':
				appendStringInfoString(buf, "\\r");
				break;
			case '\t':
				appendStringInfoString(buf, "\\t");
				break;
			case '"':
				appendStringInfoString(buf, "\\\"");
				break;
			case '\\':
				appendStringInfoString(buf, "\\\\");
				break;
			default:
				if ((unsigned char) *p < ' ')
					appendStringInfo(buf, "\\u%04x", (int) *p);
				else
					appendStringInfoCharMacro(buf, *p);
				break;
		}
	}
	appendStringInfoCharMacro(buf, '"');
}

int
pg_inet_net_pton(int af, const char *src, void *dst, size_t size)
{
	char		buf[128];
	const char *slash = strchr(src, '/');
	size_t		len = slash ? (size_t) (slash - src) : strlen(src);
	int			bits = af == PGSQL_AF_INET6 ? 128 : 32;

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, src, len);
	buf[len] = '\0';
	if (inet_pton(af == PGSQL_AF_INET6 ? AF_INET6 : AF_INET, buf, dst) != 1)
		return -1;
	if (slash)
	{
		char	   *end;
		long		b = strtol(slash + 1, &end, 10);

		if (*end != '\0' || end == slash + 1 || b < 0 || b > bits)
			return -1;
		bits = (int) b;
	}
	return bits;
}
