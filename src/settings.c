/*-------------------------------------------------------------------------
 *
 * settings.c
 *		The ecommerce_api.* configuration parameters.
 *
 * Everything that sizes or limits the server is a setting, so a deployment
 * is tuned in postgresql.conf like the rest of PostgreSQL.  Settings that
 * shape the processes or the listening socket need a restart; the per-request
 * limits are re-read on SIGHUP and apply to the next request.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#include <sys/socket.h>

#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inet.h"

#include "ecommerce_api.h"

int			eapi_port = 8000;
char	   *eapi_listen_address = NULL;
int			eapi_workers = 4;
char	   *eapi_database = NULL;
char	   *eapi_role = NULL;
int			eapi_max_connections_per_worker = 2500;
int			eapi_idle_timeout = 30;
int			eapi_max_body_size = 1024 * 1024;
int			eapi_statement_timeout = 5000;
char	   *eapi_cors_allowed_origins = NULL;
bool		eapi_log_requests = false;
bool		eapi_group_commit = true;
int			eapi_auth_mode = EAPI_AUTH_OPEN;

/*
 * The lifetime of a login token.  Only the SQL side uses it, through
 * current_setting('ecommerce_api.token_lifetime'), when login signs a token.
 */
static int	eapi_token_lifetime = 3600;

static const struct config_enum_entry auth_mode_options[] = {
	{"open", EAPI_AUTH_OPEN, false},
	{"required", EAPI_AUTH_REQUIRED, false},
	{NULL, 0, false}
};
int			eapi_rate_limit = 0;
int			eapi_rate_limit_window = 60;
char	   *eapi_trusted_proxies = NULL;
int			eapi_rate_limit_clients = 10000;

/* One entry of ecommerce_api.trusted_proxies: an address and a prefix length. */
typedef struct ProxyBlock
{
	EapiInetAddr addr;			/* host bits are zero */
	int			bits;
} ProxyBlock;

/* The parsed list; GUC "extra" data, so malloc'd and owned by guc.c. */
typedef struct TrustedProxies
{
	int			count;
	ProxyBlock	blocks[FLEXIBLE_ARRAY_MEMBER];
} TrustedProxies;

static const TrustedProxies *trusted_proxies = NULL;

/*
 * Parse an IPv4 or IPv6 address, followed by "/bits" when bits is not NULL,
 * with the parser behind PostgreSQL's inet type.  An IPv4-mapped IPv6 address
 * becomes the IPv4 address it carries.  Returns false on anything else
 * (a name, a port, a zone, stray characters).
 */
static bool
parse_inet(const char *text, EapiInetAddr *addr, int *bits)
{
	bool		v6 = strchr(text, ':') != NULL;
	int			nbits;
	static const uint8 v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	memset(addr, 0, sizeof(*addr));
	if (bits == NULL && strchr(text, '/') != NULL)
		return false;
	/* size -1: inet input, where a prefix length is optional */
	nbits = pg_inet_net_pton(v6 ? PGSQL_AF_INET6 : PGSQL_AF_INET, text,
							 addr->bytes, (size_t) -1);
	if (nbits < 0 || nbits > (v6 ? 128 : 32))
		return false;
	addr->family = v6 ? AF_INET6 : AF_INET;
	if (v6 && memcmp(addr->bytes, v4mapped, sizeof(v4mapped)) == 0 &&
		(bits == NULL || nbits >= 96))
	{
		memmove(addr->bytes, addr->bytes + 12, 4);
		memset(addr->bytes + 4, 0, 12);
		addr->family = AF_INET;
		nbits -= 96;
	}
	if (bits)
	{
		/* keep only the network part, so matching compares whole bytes */
		for (int i = 0; i < 16; i++)
		{
			int			keep = Min(Max(nbits - i * 8, 0), 8);

			addr->bytes[i] &= (uint8) (0xff00 >> keep);
		}
		*bits = nbits;
	}
	return true;
}

/* A plain IPv4 or IPv6 address (an X-Forwarded-For entry). */
bool
eapi_parse_address(const char *text, EapiInetAddr *addr)
{
	return parse_inet(text, addr, NULL);
}

/* Is this address one of ecommerce_api.trusted_proxies? */
bool
eapi_is_trusted_proxy(const EapiInetAddr *addr)
{
	if (trusted_proxies == NULL)
		return false;
	for (int i = 0; i < trusted_proxies->count; i++)
	{
		const ProxyBlock *block = &trusted_proxies->blocks[i];
		int			whole = block->bits / 8;
		int			rest = block->bits % 8;

		if (block->addr.family != addr->family ||
			memcmp(block->addr.bytes, addr->bytes, whole) != 0)
			continue;
		if (rest == 0 ||
			(addr->bytes[whole] & (uint8) (0xff00 >> rest)) == block->addr.bytes[whole])
			return true;
	}
	return false;
}

/*
 * Check hook of ecommerce_api.trusted_proxies: a comma-separated list of
 * addresses and CIDR blocks.  A bad entry refuses the whole value (SET,
 * ALTER SYSTEM, or a reload, which then keeps the previous list), naming it.
 */
static bool
check_trusted_proxies(char **newval, void **extra, GucSource source)
{
	char	   *copy = pstrdup(*newval);
	int			max_blocks = 1;
	TrustedProxies *list;
	char	   *p;

	for (p = copy; *p; p++)
		if (*p == ',')
			max_blocks++;
	list = malloc(offsetof(TrustedProxies, blocks) + max_blocks * sizeof(ProxyBlock));
	if (list == NULL)
	{
		GUC_check_errcode(ERRCODE_OUT_OF_MEMORY);
		GUC_check_errmsg("out of memory");
		pfree(copy);
		return false;
	}
	list->count = 0;

	for (p = copy; *p;)
	{
		char	   *entry;
		char	   *end;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		entry = p;
		while (*p && *p != ',')
			p++;
		end = p;
		if (*p)
			p++;
		while (end > entry && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		*end = '\0';

		if (!parse_inet(entry, &list->blocks[list->count].addr,
						&list->blocks[list->count].bits))
		{
			GUC_check_errdetail("\"%s\" is not an IPv4 or IPv6 address or CIDR block.",
								entry);
			free(list);
			pfree(copy);
			return false;
		}
		list->count++;
	}
	pfree(copy);
	*extra = list;
	return true;
}

static void
assign_trusted_proxies(const char *newval, void *extra)
{
	trusted_proxies = (const TrustedProxies *) extra;
}

void
eapi_define_settings(void)
{
	DefineCustomIntVariable("ecommerce_api.port",
							"TCP port the HTTP workers listen on.",
							"All workers share the port (SO_REUSEPORT).",
							&eapi_port,
							8000, 1, 65535,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("ecommerce_api.listen_address",
							   "Address the HTTP workers listen on; \"*\" means all IPv4 addresses.",
							   NULL,
							   &eapi_listen_address,
							   "127.0.0.1",
							   PGC_POSTMASTER, 0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("ecommerce_api.workers",
							"Number of HTTP background workers (0 disables the HTTP server).",
							"Each worker is one PostgreSQL backend; size it to the CPU cores.",
							&eapi_workers,
							4, 0, 128,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("ecommerce_api.database",
							   "Database the HTTP workers connect to.",
							   NULL,
							   &eapi_database,
							   "postgres",
							   PGC_POSTMASTER, 0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("ecommerce_api.role",
							   "Role the HTTP workers run as; empty means the bootstrap superuser.",
							   NULL,
							   &eapi_role,
							   "",
							   PGC_POSTMASTER, 0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("ecommerce_api.max_connections_per_worker",
							"Maximum open HTTP connections per worker.",
							NULL,
							&eapi_max_connections_per_worker,
							2500, 1, 1000000,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("ecommerce_api.idle_timeout",
							"Seconds an HTTP connection may stay idle (or stall mid-request) before it is closed.",
							"0 disables the timeout.",
							&eapi_idle_timeout,
							30, 0, INT_MAX / 1000,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("ecommerce_api.max_body_size",
							"Largest accepted request body; larger bodies get 413.",
							NULL,
							&eapi_max_body_size,
							1024 * 1024, 0, 512 * 1024 * 1024,
							PGC_SIGHUP, GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	DefineCustomIntVariable("ecommerce_api.statement_timeout",
							"Longest time one request may run in the database; then it gets 503.",
							"0 disables the timeout.",
							&eapi_statement_timeout,
							5000, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomStringVariable("ecommerce_api.cors_allowed_origins",
							   "Comma-separated origins allowed by CORS, or \"*\" for any.",
							   NULL,
							   &eapi_cors_allowed_origins,
							   "*",
							   PGC_SIGHUP, 0,
							   NULL, NULL, NULL);

	DefineCustomBoolVariable("ecommerce_api.log_requests",
							 "Log one line per HTTP request.",
							 NULL,
							 &eapi_log_requests,
							 false,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("ecommerce_api.group_commit",
							 "Flush the WAL once for all the writes a worker served in one pass.",
							 "Answers to writes still wait for their commit to be on disk; "
							 "off makes each write wait for its own flush.",
							 &eapi_group_commit,
							 true,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);

	DefineCustomEnumVariable("ecommerce_api.auth_mode",
							 "Whether routes need a login token: open (none does) or required.",
							 "In required mode catalog reads, registration, login and health stay public; "
							 "clients reach only their own data, admins everything.",
							 &eapi_auth_mode,
							 EAPI_AUTH_OPEN, auth_mode_options,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("ecommerce_api.token_lifetime",
							"How long a login token is valid.",
							NULL,
							&eapi_token_lifetime,
							3600, 1, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("ecommerce_api.rate_limit",
							"Requests a client address may make per rate-limit window; 0 disables the limit.",
							"Counted across all workers; over the limit a request gets 429.",
							&eapi_rate_limit,
							0, 0, INT_MAX,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("ecommerce_api.rate_limit_window",
							"Length of a client's rate-limit window.",
							NULL,
							&eapi_rate_limit_window,
							60, 1, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomStringVariable("ecommerce_api.trusted_proxies",
							   "Comma-separated addresses or CIDR blocks of proxies whose X-Forwarded-For is believed.",
							   "Empty: the client is always the TCP peer.",
							   &eapi_trusted_proxies,
							   "",
							   PGC_SIGHUP, 0,
							   check_trusted_proxies, assign_trusted_proxies, NULL);

	DefineCustomIntVariable("ecommerce_api.rate_limit_clients",
							"Client addresses the rate limiter tracks at once.",
							"Sizes a shared-memory table; past it, requests from new clients pass unlimited.",
							&eapi_rate_limit_clients,
							10000, 1, 10000000,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("ecommerce_api");
}
