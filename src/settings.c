/*-------------------------------------------------------------------------
 *
 * settings.c
 *		The ecommerce_api.* configuration parameters.
 *
 * The rate limiter's settings are defined in ratelimit.c, with the rest of
 * that feature; eapi_define_settings asks it for them, so every setting is
 * still defined here, at one moment, before the prefix is reserved.
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

#include "utils/guc.h"

#include "ecommerce_api.h"
#include "cache.h"

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

	/* the rate limiter's own: rate_limit, rate_limit_window, trusted_proxies, rate_limit_clients */
	eapi_rate_limit_define_settings();

	DefineCustomIntVariable("ecommerce_api.cache_size",
							"Memory each worker may keep GET answers in (0 = keep none).",
							"Kept answers are never stale: they are reused only while the data they were built from is unchanged.",
							&eapi_cache_size,
							16384, 0, INT_MAX / 1024,
							PGC_SIGHUP, GUC_UNIT_KB,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("ecommerce_api");
}
