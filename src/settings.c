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

#include <microhttpd.h>

#include "utils/guc.h"

#include "ecommerce_api.h"
#include "cache.h"
#include "wire.h"

int			eapi_port = 8000;
char	   *eapi_listen_address = NULL;
int			eapi_workers = 4;
char	   *eapi_database = NULL;
char	   *eapi_role = NULL;
int			eapi_max_connections_per_worker = 2500;
int			eapi_idle_timeout = 30;
int			eapi_max_body_size = 1024 * 1024;
int			eapi_statement_timeout = 5000;
int			eapi_lock_timeout = 500;
int			eapi_request_timeout = 30;
int			eapi_min_body_rate = 1024;
int			eapi_max_body_memory = 64 * 1024;
int			eapi_max_connections_per_client = 1000;
int			eapi_listen_backlog = 4096;
char	   *eapi_cors_allowed_origins = NULL;
bool		eapi_log_requests = false;
bool		eapi_group_commit = true;
int			eapi_idempotency_ttl = 86400;
int			eapi_replica_wait_timeout = 1000;
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

/*
 * Fail closed.  A setting that weakens security or moves the listener must
 * never fall back silently to its default, which is what PostgreSQL does
 * with an invalid value for an extension's setting in postgresql.conf at
 * server start: a WARNING, and the default.  So each of these is validated
 * from its raw text at start too, and an invalid one is kept here: while any
 * is, the workers answer every API route 503 naming it (eapi_settings_problem)
 * and health and readiness say why; an invalid port is not listened on at
 * all.  The server itself starts: the database is more than the API, and a
 * reload could not refuse anyway (docs/settings.md).  At a reload, SET or
 * ALTER SYSTEM an invalid value is refused by the check hooks as usual (the
 * previous value stays, and so does a problem found at start); a valid one
 * clears the problem.  Each process keeps its own copy: the workers inherit
 * the postmaster's, and each applies reloads itself.
 */
static char *setting_problems[EAPI_NUM_CHECKED_SETTINGS];	/* malloc'd, or NULL */

void
eapi_setting_invalid(EapiCheckedSetting which, const char *name, const char *value,
					 const char *why, const char *fix)
{
	char		text[1024];

	snprintf(text, sizeof(text),
			 "Service unavailable: setting %s = '%s' is invalid (%s); the API serves nothing until it is fixed and %s",
			 name, value, why, fix);
	free(setting_problems[which]);
	setting_problems[which] = strdup(text);
	ereport(WARNING,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("ecommerce_api refuses to serve: %s = '%s' is invalid (%s)", name, value, why),
			 errhint("Fix %s in postgresql.conf, then %s.", name, fix)));
}

/* A valid value was assigned: whatever was wrong at start is over. */
void
eapi_setting_valid(EapiCheckedSetting which)
{
	free(setting_problems[which]);
	setting_problems[which] = NULL;
}

/* Why the API must not serve because of its settings, or NULL. */
const char *
eapi_settings_problem(void)
{
	for (int i = 0; i < EAPI_NUM_CHECKED_SETTINGS; i++)
		if (setting_problems[i])
			return setting_problems[i];
	return NULL;
}

/* Is ecommerce_api.port unusable (invalid at start)? */
bool
eapi_port_is_invalid(void)
{
	return setting_problems[EAPI_CHECKED_PORT] != NULL;
}

/*
 * The raw text of a setting in the configuration files, to call before the
 * setting is defined (it is a placeholder until then), or NULL.
 */
char *
eapi_raw_setting(const char *name)
{
	const char *value = GetConfigOption(name, true, false);

	return value ? pstrdup(value) : NULL;
}

/*
 * Check hook of ecommerce_api.cors_allowed_origins: "*", or origins as
 * browsers send them (see eapi_cors_list_problem).
 */
static bool
check_cors_allowed_origins(char **newval, void **extra, GucSource source)
{
	const char *problem = eapi_cors_list_problem(*newval);

	if (problem)
	{
		GUC_check_errdetail("%s.", problem);
		return false;
	}
	return true;
}

static void
assign_cors_allowed_origins(const char *newval, void *extra)
{
	eapi_setting_valid(EAPI_CHECKED_CORS);
}

static void
assign_auth_mode(int newval, void *extra)
{
	eapi_setting_valid(EAPI_CHECKED_AUTH_MODE);
}

/*
 * After the settings are defined: those given an invalid value in the
 * configuration files fell back to their defaults.  Record why instead.
 */
static void
check_raw_settings(const char *port, const char *auth_mode, const char *cors)
{
	int			value;

	if (port && !(parse_int(port, &value, 0, NULL) && value >= 1 && value <= 65535))
		eapi_setting_invalid(EAPI_CHECKED_PORT, "ecommerce_api.port", port,
							 "a TCP port is 1 to 65535", "the server restarted");
	if (auth_mode && pg_strcasecmp(auth_mode, "open") != 0 &&
		pg_strcasecmp(auth_mode, "required") != 0)
		eapi_setting_invalid(EAPI_CHECKED_AUTH_MODE, "ecommerce_api.auth_mode", auth_mode,
							 "it is open or required", "the configuration reloaded");
	if (cors && eapi_cors_list_problem(cors))
		eapi_setting_invalid(EAPI_CHECKED_CORS, "ecommerce_api.cors_allowed_origins", cors,
							 eapi_cors_list_problem(cors), "the configuration reloaded");
}

/*
 * One line per worker when it starts serving: where, the settings that
 * decide who may do what, and the libmicrohttpd it runs with: versions
 * refuse some malformed requests differently (1.0 answers some itself,
 * before the extension sees them; test/t/EcommerceApi.pm,
 * mhd_case), so the version is part of how this server behaves.
 */
void
eapi_log_effective_settings(int worker_number)
{
	StringInfoData rate_limit;

	initStringInfo(&rate_limit);
	eapi_rate_limit_describe(&rate_limit);
	ereport(LOG,
			(errmsg("ecommerce_api worker %d serving HTTP on %s:%d: auth_mode=%s, cors_allowed_origins='%s', %s, max_body_size=%d, max_connections_per_worker=%d, idle_timeout=%d s, statement_timeout=%d ms, role='%s', libmicrohttpd=%s",
					worker_number, eapi_listen_address, eapi_port,
					eapi_auth_mode == EAPI_AUTH_REQUIRED ? "required" : "open",
					eapi_cors_allowed_origins, rate_limit.data, eapi_max_body_size,
					eapi_max_connections_per_worker, eapi_idle_timeout,
					eapi_statement_timeout, eapi_role, MHD_get_version())));
	pfree(rate_limit.data);
}

/*
 * ecommerce_api.docs_assets_url: read by the SQL of GET /docs
 * (current_setting), so C keeps it only for the check.  The page loads
 * scripts from it: only an http(s) URL or a path on this host, never a
 * "javascript:" or "data:" one.
 */
static char *docs_assets_url = NULL;

static bool
check_docs_assets_url(char **newval, void **extra, GucSource source)
{
	const char *v = *newval;

	if (pg_strncasecmp(v, "https://", 8) == 0 || pg_strncasecmp(v, "http://", 7) == 0 ||
		(v[0] == '/' && v[1] != '/'))
		return true;
	GUC_check_errdetail("It must start with https://, http:// or / (a path on this host).");
	return false;
}

void
eapi_define_settings(void)
{
	char	   *raw_port = eapi_raw_setting("ecommerce_api.port");
	char	   *raw_auth_mode = eapi_raw_setting("ecommerce_api.auth_mode");
	char	   *raw_cors = eapi_raw_setting("ecommerce_api.cors_allowed_origins");

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

	DefineCustomIntVariable("ecommerce_api.lock_timeout",
							"Longest time a request waits for a lock; then it gets 503 with Retry-After.",
							"Keep it well below statement_timeout: a worker serves one request at a time, "
							"so a request waiting for a lock delays the requests queued behind it. 0 disables it.",
							&eapi_lock_timeout,
							500, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("ecommerce_api.request_timeout",
							"Longest time a request's body may take to arrive once its head is in; then the connection gets 408 and is closed.",
							"0 disables the deadline (the minimum body rate still applies).",
							&eapi_request_timeout,
							30, 0, INT_MAX / 1000,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("ecommerce_api.min_body_rate",
							"Slowest rate, in bytes per second, at which a request body may arrive; a slower one gets 408 and its connection is closed.",
							"Measured from the end of the request head, after a grace of 2 seconds. 0 disables the check.",
							&eapi_min_body_rate,
							1024, 0, INT_MAX,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("ecommerce_api.max_body_memory",
							"Memory each worker may hold request bodies in, all its connections together; past it new bodies get 503 with Retry-After.",
							NULL,
							&eapi_max_body_memory,
							64 * 1024, 64, INT_MAX / 1024,
							PGC_SIGHUP, GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("ecommerce_api.max_connections_per_client",
							"Open HTTP connections one client address may hold, counted across all workers (0 = no limit).",
							"Past it a new connection gets 503 and is closed. Connections from ecommerce_api.trusted_proxies are not limited.",
							&eapi_max_connections_per_client,
							1000, 0, 1000000,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("ecommerce_api.listen_backlog",
							"Length of each worker's queue of connections not yet accepted (listen(2) backlog).",
							"The kernel caps it at net.core.somaxconn.",
							&eapi_listen_backlog,
							4096, 1, INT_MAX,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("ecommerce_api.cors_allowed_origins",
							   "Comma-separated origins allowed by CORS, or \"*\" for any.",
							   NULL,
							   &eapi_cors_allowed_origins,
							   "*",
							   PGC_SIGHUP, 0,
							   check_cors_allowed_origins, assign_cors_allowed_origins, NULL);

	DefineCustomStringVariable("ecommerce_api.docs_assets_url",
							   "Base URL GET /docs loads Swagger UI from (swagger-ui-bundle.js, swagger-ui.css).",
							   "http(s):// or a path on this host; GET /docs/static needs none.",
							   &docs_assets_url,
							   "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5",
							   PGC_SIGHUP, 0,
							   check_docs_assets_url, NULL, NULL);

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
							 NULL, assign_auth_mode, NULL);

	DefineCustomIntVariable("ecommerce_api.idempotency_ttl",
							"How long the answer to a POST with an Idempotency-Key is kept for its repeats.",
							"Past it the key may be used again; expired records are deleted in the background.",
							&eapi_idempotency_ttl,
							86400, 1, INT_MAX / 1000,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("ecommerce_api.replica_wait_timeout",
							"Longest wait of a request with a consistency token for this standby to replay it.",
							"Past it the request gets 503 with Retry-After; 0 answers 503 at once when behind.",
							&eapi_replica_wait_timeout,
							1000, 0, 60000,
							PGC_SIGHUP, GUC_UNIT_MS,
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

	check_raw_settings(raw_port, raw_auth_mode, raw_cors);
}
