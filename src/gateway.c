/*-------------------------------------------------------------------------
 *
 * gateway.c
 *		The database gateway: the only code that touches SPI, transactions
 *		and the WAL.
 *
 * One request is one transaction: start, run the route's statement, commit,
 * and only then does http.c send the answer.  GET routes run read-only.
 * Each route's statement is prepared on first use and kept for the life of
 * the worker; its arguments are always bound as text parameters and the SQL
 * function behind the route validates and casts them.
 *
 * An ERROR inside a request is caught here, the transaction is aborted and
 * the error becomes an HTTP status chosen by its SQLSTATE, so a request can
 * never take its worker down.  The API's SQL raises its own SQLSTATEs of
 * class "EA" for answers that are not bugs (EA404 = 404, EA409 = 409, ...);
 * EA422 carries a ready FastAPI-style JSON array of validation problems.
 * Every JSON error body, the ones answer.c and the rate limiter give too, is
 * built by eapi_error_body.
 *
 * Writes are made durable by group commit: see "Group commit" below, the
 * one place that tells the whole mechanism.
 *
 * With ecommerce_api.auth_mode = required, a SQL route's statement first
 * passes ecommerce_api.authorize(), which checks the bearer token and the
 * caller's right to the route (EA401/EA403) and returns the arguments to
 * run it with.  In open mode nothing of that runs.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "replication/syncrep.h"
#include "replication/walsender.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "ecommerce_api.h"
#include "cache.h"

#define EAPI_SQLSTATE(a,b,c)	MAKE_SQLSTATE('E','A',a,b,c)

/* A route's arguments, and before them authorize()'s route and token. */
#define ROUTE_PLAN_ARGS	(EAPI_MAX_ROUTE_ARGS + 2)
/* ... or the health check's eighteen values */
#define HEALTH_PLAN_ARGS	18
#define MAX_PLAN_ARGS	Max(ROUTE_PLAN_ARGS, HEALTH_PLAN_ARGS)

/*
 * How often a request that lost a serialization or deadlock race is rerun,
 * and the longest pause before its first rerun (doubled before each next
 * one).  The pause is random in [0, longest]: two requests that conflicted
 * would otherwise be rerun in the same instant, in the same order, and could
 * lose the same race again; a random pause of a millisecond or two
 * separates them while costing the rare retried request little.
 */
#define MAX_ATTEMPTS	3
#define RETRY_PAUSE_MAX_US	2000

/* Health thresholds, as the reference reported them. */
#define LATENCY_WARNING_MS		100.0
#define LATENCY_CRITICAL_MS		500.0
#define POOL_WARNING_PERCENT	70.0
#define POOL_CRITICAL_PERCENT	90.0

static SPIPlanPtr *route_plans = NULL;
static SPIPlanPtr *authorized_plans = NULL;
static SPIPlanPtr ping_plan = NULL;
static SPIPlanPtr health_plan = NULL;

/*
 * Whether the extension was installed, at the version of the SQL objects
 * this library serves (EAPI_EXTENSION_VERSION, the control file's
 * default_version), at the last look.  Looking costs a catalog scan, so it is
 * only done while it is not, after any change to pg_proc (CREATE, DROP or
 * ALTER EXTENSION all change functions; see forget_extension_state), or when
 * a statement failed in a way that says its objects may be gone.
 */
static bool extension_ready = false;
static bool extension_watch_registered = false;

/*
 * The kept answers of same_answer routes (the API description), by route
 * index, in TopMemoryContext.  An answer is good while catalog_generation
 * has not moved since it was kept; any change to pg_proc moves it.
 */
typedef struct KeptAnswer
{
	uint64		generation;		/* 0: none kept */
	char	   *body;
	int			len;
} KeptAnswer;

static KeptAnswer *kept_answers = NULL;
static uint64 catalog_generation = 1;

/* When a lock wait last timed out in this worker (see choose_lock_timeout). */
static TimestampTz last_lock_timeout = 0;

static void choose_lock_timeout(void);

/*
 * Every JSON error body there is: {"detail":<detail>}, the detail escaped as
 * a JSON string, or as it is when it is JSON already (detail_is_json: the
 * array of problems of an EA422).  retry_after > 0 adds "retry_after" (the
 * rate limiter's 429).
 */
void
eapi_error_body(StringInfo body, const char *detail, bool detail_is_json,
				int retry_after)
{
	appendStringInfoString(body, "{\"detail\":");
	if (detail_is_json)
		appendStringInfoString(body, detail);
	else
		escape_json(body, detail);
	if (retry_after > 0)
		appendStringInfo(body, ",\"retry_after\":%d", retry_after);
	appendStringInfoChar(body, '}');
}

/* The answer is this status with {"detail": "<detail>"}. */
static void
set_error(ApiResult *result, int status, const char *detail)
{
	result->status = status;
	resetStringInfo(&result->body);
	eapi_error_body(&result->body, detail, false, 0);
}

/* Prepare a statement of text parameters and keep it for the life of the worker. */
SPIPlanPtr
eapi_prepare_kept(const char *sql, int nargs)
{
	Oid			argtypes[MAX_PLAN_ARGS];
	SPIPlanPtr	plan;

	for (int i = 0; i < nargs; i++)
		argtypes[i] = TEXTOID;
	plan = SPI_prepare(sql, nargs, argtypes);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s",
			 sql, SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	return plan;
}

/*
 * The kept plan of a route's statement, prepared on its first use:
 *
 *	SELECT ecommerce_api.api_orders_get($1)
 *
 * or, behind the gate of required mode (gated),
 *
 *	SELECT ecommerce_api.api_orders_get((auth.args)[1])
 *	  FROM ecommerce_api.authorize($1, $2, ARRAY[$3]::text[]) AS auth(args)
 *
 * where $1 is the route ("GET /orders/id/{id}"), $2 the token, then the
 * route's arguments.  One statement, so the gate costs no extra executor
 * round trip; authorize() runs once, as the function scan, and its refusal
 * fails the statement like any other error of the route.
 */
static SPIPlanPtr
route_plan(const ApiRoute *route, bool gated)
{
	SPIPlanPtr **plans = gated ? &authorized_plans : &route_plans;
	int			index = eapi_route_index(route);

	if (*plans == NULL)
		*plans = MemoryContextAllocZero(TopMemoryContext,
										eapi_route_count() * sizeof(SPIPlanPtr));
	if ((*plans)[index] == NULL)
	{
		StringInfoData sql;

		initStringInfo(&sql);
		appendStringInfo(&sql, "SELECT %s.%s(", EAPI_EXTENSION_NAME, route->function);
		for (int i = 0; i < route->nargs; i++)
			appendStringInfo(&sql, gated ? "%s(auth.args)[%d]" : "%s$%d",
							 i > 0 ? ", " : "", i + 1);
		appendStringInfoChar(&sql, ')');
		if (gated)
		{
			appendStringInfo(&sql, " FROM %s.authorize($1, $2, ARRAY[", EAPI_EXTENSION_NAME);
			for (int i = 0; i < route->nargs; i++)
				appendStringInfo(&sql, "%s$%d", i > 0 ? ", " : "", i + 3);
			appendStringInfoString(&sql, "]::text[]) AS auth(args)");
		}
		(*plans)[index] = eapi_prepare_kept(sql.data, route->nargs + (gated ? 2 : 0));
		pfree(sql.data);
	}
	return (*plans)[index];
}

/* Run a kept plan that returns one text datum; append it to the body. */
static bool
run_text_plan(SPIPlanPtr plan, const char *const *argv, int nargs,
			  bool read_only, MemoryContext result_context, StringInfo body)
{
	Datum		values[MAX_PLAN_ARGS];
	char		nulls[MAX_PLAN_ARGS];
	Datum		datum;
	bool		isnull;
	int			rc;

	if (nargs > MAX_PLAN_ARGS)
		elog(ERROR, "too many arguments for a kept plan: %d", nargs);
	for (int i = 0; i < nargs; i++)
	{
		nulls[i] = argv[i] ? ' ' : 'n';
		values[i] = argv[i] ? CStringGetTextDatum(argv[i]) : (Datum) 0;
	}

	rc = SPI_execute_plan(plan, values, nulls, read_only, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "unexpected SPI result %s", SPI_result_code_string(rc));

	datum = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(result_context);
		text	   *t = DatumGetTextPP(datum);

		appendBinaryStringInfo(body, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
		MemoryContextSwitchTo(oldcxt);
	}
	return !isnull;
}

static const char *
health_level(double value, double warning, double critical)
{
	if (value >= critical)
		return "critical";
	if (value >= warning)
		return "warning";
	return "healthy";
}

static char *extension_unready_reason(void);
static void forget_extension_state(Datum arg, int cacheid, uint32 hashvalue);

/*
 * Why this node cannot serve the API, as a 503's detail, or NULL when it
 * can: a setting found invalid at start, or the extension missing or at
 * another version than this library's.  Looking at the extension costs a
 * catalog scan, so it is only done while it was not ready, or after a change
 * to pg_proc (see forget_extension_state).  In a transaction.
 */
static char *
api_unready_reason(void)
{
	const char *settings = eapi_settings_problem();
	char	   *unready = NULL;

	if (!extension_watch_registered)
	{
		CacheRegisterSyscacheCallback(PROCOID, forget_extension_state, (Datum) 0);
		extension_watch_registered = true;
	}
	/* see DDL committed since the last request before deciding */
	AcceptInvalidationMessages();
	if (!extension_ready)
	{
		unready = extension_unready_reason();
		extension_ready = (unready == NULL);
	}
	if (settings)
		return pstrdup(settings);
	return unready;
}

/*
 * GET /ready: 200 when this node can serve the API, else 503 saying why
 * (Kubernetes' readiness probe, PostgREST's /ready).
 */
static void
run_ready(MemoryContext result_context, ApiResult *result)
{
	char	   *unready = api_unready_reason();
	MemoryContext oldcxt = MemoryContextSwitchTo(result_context);

	if (unready)
		set_error(result, 503, unready);
	else
	{
		result->status = 200;
		appendStringInfoString(&result->body, "{\"status\":\"ready\"}");
	}
	MemoryContextSwitchTo(oldcxt);
}

/*
 * GET /health_check/: the database's latency (a round trip through the
 * executor), the "pool", which is the set of HTTP workers, and whether the
 * API can serve at all.  Its shape is the reference's, with the "api" check
 * added; it is "unhealthy", with a 503, when the API cannot serve (see
 * api_unready_reason) or fewer workers serve than are configured.  The pool
 * counts the workers that are actually serving.  checks.replication gives the
 * node's role and replay lag, for a load balancer to route writes to the
 * primary and reads away from a lagging standby.
 */
static void
run_health(MemoryContext result_context, ApiResult *result)
{
	TimestampTz start;
	long		secs;
	int			usecs;
	double		latency_ms;
	int			size = eapi_shmem_serving_workers();
	int			busy = Min(eapi_shmem_busy_workers(), size);
	char	   *unready = api_unready_reason();
	char		configured_text[16];
	double		utilization = size > 0 ? 100.0 * busy / size : 0.0;
	const char *db_health;
	const char *pool_health;
	const char *status;
	char		latency_text[32];
	char		size_text[16];
	char		idle_text[16];
	char		busy_text[16];
	char		utilization_text[32];
	const char *argv[HEALTH_PLAN_ARGS];
	uint64		cache_counters[EAPI_CACHE_COUNTERS];
	uint64		cache_bytes;
	uint64		cache_entries;
	char		cache_size_text[16];
	char		cache_bytes_text[32];
	char		cache_entries_text[32];
	bool		standby;
	int64		lag_bytes;
	double		lag_seconds;
	char		lag_bytes_text[32];
	char		lag_seconds_text[32];

	if (ping_plan == NULL)
		ping_plan = eapi_prepare_kept("SELECT 1", 0);
	if (health_plan == NULL)
		health_plan = eapi_prepare_kept(
			"SELECT pg_catalog.json_build_object("
			"  'status', $1,"
			"  'timestamp', pg_catalog.to_json(pg_catalog.clock_timestamp() AT TIME ZONE 'UTC'),"
			"  'checks', pg_catalog.json_build_object("
			"    'database', pg_catalog.json_build_object("
			"      'status', 'up', 'health', $2, 'latency_ms', $3::numeric,"
			"      'thresholds', pg_catalog.json_build_object("
			"        'warning_ms', 100.0, 'critical_ms', 500.0)),"
			"    'db_pool', pg_catalog.json_build_object("
			"      'health', $4, 'size', $5::int, 'checked_in', $6::int,"
			"      'checked_out', $7::int, 'overflow', 0,"
			"      'total_capacity', $15::int, 'utilization_percent', $8::numeric,"
			"      'thresholds', pg_catalog.json_build_object("
			"        'warning_percent', 70.0, 'critical_percent', 90.0)),"
			"    'answer_cache', pg_catalog.json_build_object("
			"      'enabled', $9::boolean, 'size_kb_per_worker', $10::int,"
			"      'bytes', $11::bigint, 'entries', $12::bigint),"
			"    'api', pg_catalog.json_build_object("
			"      'status', $13, 'detail', $14, 'workers_running', $5::int,"
			"      'workers_configured', $15::int),"
			"    'replication', pg_catalog.json_build_object("
			"      'role', $16, 'replay_lag_bytes', $17::bigint,"
			"      'replay_lag_seconds', $18::numeric)))::text",
			HEALTH_PLAN_ARGS);

	start = GetCurrentTimestamp();
	if (SPI_execute_plan(ping_plan, NULL, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "health ping failed");
	TimestampDifference(start, GetCurrentTimestamp(), &secs, &usecs);
	latency_ms = secs * 1000.0 + usecs / 1000.0;

	db_health = health_level(latency_ms, LATENCY_WARNING_MS, LATENCY_CRITICAL_MS);
	pool_health = health_level(utilization, POOL_WARNING_PERCENT, POOL_CRITICAL_PERCENT);
	if (size < eapi_workers)
		pool_health = "critical";
	status = strcmp(db_health, "critical") == 0 || strcmp(pool_health, "critical") == 0 ? "critical" :
		strcmp(db_health, "warning") == 0 || strcmp(pool_health, "warning") == 0 ? "warning" :
		"healthy";
	if (unready == NULL && size < eapi_workers)
		unready = psprintf("%d of %d workers are serving", size, eapi_workers);
	if (unready)
		status = "unhealthy";

	snprintf(latency_text, sizeof(latency_text), "%.2f", latency_ms);
	snprintf(size_text, sizeof(size_text), "%d", size);
	snprintf(idle_text, sizeof(idle_text), "%d", Max(size - busy, 0));
	snprintf(busy_text, sizeof(busy_text), "%d", busy);
	snprintf(utilization_text, sizeof(utilization_text), "%.1f", utilization);
	argv[0] = status;
	argv[1] = db_health;
	argv[2] = latency_text;
	argv[3] = pool_health;
	argv[4] = size_text;
	argv[5] = idle_text;
	argv[6] = busy_text;
	argv[7] = utilization_text;

	/* the answer caches: their size, all workers added up */
	eapi_cache_totals(cache_counters, &cache_bytes, &cache_entries);
	snprintf(cache_size_text, sizeof(cache_size_text), "%d", eapi_cache_size);
	snprintf(cache_bytes_text, sizeof(cache_bytes_text), UINT64_FORMAT, cache_bytes);
	snprintf(cache_entries_text, sizeof(cache_entries_text), UINT64_FORMAT, cache_entries);
	argv[8] = eapi_cache_size > 0 ? "true" : "false";
	argv[9] = cache_size_text;
	argv[10] = cache_bytes_text;
	argv[11] = cache_entries_text;
	argv[12] = unready ? "down" : "up";
	argv[13] = unready;
	snprintf(configured_text, sizeof(configured_text), "%d", eapi_workers);
	argv[14] = configured_text;

	/* for a load balancer: where writes go, how stale reads here are */
	eapi_replication_state(&standby, &lag_bytes, &lag_seconds);
	snprintf(lag_bytes_text, sizeof(lag_bytes_text), INT64_FORMAT, lag_bytes);
	snprintf(lag_seconds_text, sizeof(lag_seconds_text), "%.3f", lag_seconds);
	argv[15] = standby ? "standby" : "primary";
	argv[16] = lag_bytes_text;
	argv[17] = lag_seconds_text;

	run_text_plan(health_plan, argv, HEALTH_PLAN_ARGS, true, result_context, &result->body);
	result->status = unready ? 503 : 200;
}

/* ----------------------------------------------------------------------
 * Group commit
 *
 * A write's answer must not leave before its commit is on disk; but one WAL
 * flush per write would make a worker serving many writers pay one disk
 * sync each.  So a worker flushes once for all the writes of a pass over its
 * ready connections:
 *
 * 1. try_route commits a write with synchronous_commit off for that
 *    transaction (the commit does not wait for its flush), raises
 *    pending_flush_lsn to the commit's end, and marks the result
 *    await_flush.
 * 2. http.c does not send such an answer: answer.c keeps it with its
 *    request and suspends the connection (eapi_hold_response).
 * 3. The worker's loop (worker.c), after each pass (eapi_http_run), calls
 *    eapi_http_release_held: one eapi_gateway_flush_commits covers every
 *    held commit, then their connections resume and the next pass sends the
 *    answers.  While answers are held the loop does not sleep.
 *
 * An Idempotency-Key's replayed answer is held the same way (its original
 * may have committed in this very pass, its flush still to come), at the
 * WAL's insert position, which covers that commit.
 *
 * If the flush fails, the commits' durability is unknown and the held
 * answers become 500s.  ecommerce_api.group_commit = off makes every write
 * wait for its own flush, as do the cases commit_flush_deferrable names.
 * ----------------------------------------------------------------------
 */

/* The end of the last deferred commit not yet known to be flushed. */
static XLogRecPtr pending_flush_lsn = InvalidXLogRecPtr;

/*
 * Whether a write may commit without waiting for its WAL flush.  Not when
 * the server is configured not to wait anyway (synchronous_commit = off:
 * nothing to hold), nor when commits must also wait for a synchronous
 * standby, which only the commit itself does.
 */
static bool
commit_flush_deferrable(void)
{
	if (!eapi_group_commit || synchronous_commit == SYNCHRONOUS_COMMIT_OFF)
		return false;
	if (SyncRepRequested() && SyncRepStandbyNames && SyncRepStandbyNames[0])
		return false;
	return true;
}

/*
 * Flush the WAL past every deferred commit (step 3 above).  Returns false,
 * after logging the error, if the flush failed.
 */
bool
eapi_gateway_flush_commits(void)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	volatile bool flushed = true;

	PG_TRY();
	{
		if (!XLogRecPtrIsInvalid(pending_flush_lsn))
			XLogFlush(pending_flush_lsn);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		EmitErrorReport();
		FlushErrorState();
		flushed = false;
	}
	PG_END_TRY();
	pending_flush_lsn = InvalidXLogRecPtr;
	return flushed;
}

/* Errors that mean the extension's objects may have gone away. */
static bool
is_missing_object_error(int sqlerrcode)
{
	return sqlerrcode == ERRCODE_UNDEFINED_FUNCTION ||
		sqlerrcode == ERRCODE_INVALID_SCHEMA_NAME ||
		sqlerrcode == ERRCODE_UNDEFINED_TABLE ||
		sqlerrcode == ERRCODE_UNDEFINED_OBJECT;
}

static bool
is_retryable_error(int sqlerrcode)
{
	return sqlerrcode == ERRCODE_T_R_SERIALIZATION_FAILURE ||
		sqlerrcode == ERRCODE_T_R_DEADLOCK_DETECTED;
}

/* Turn a caught error into the HTTP answer. */
static void
map_error(ErrorData *edata, const char *request_id, ApiResult *result)
{
	int			code = edata->sqlerrcode;

	/* a 401's challenge comes as the error's hint (RFC 6750, section 3) */
	if (code == EAPI_SQLSTATE('4', '0', '1'))
		result->challenge = edata->hint;

	switch (code)
	{
		case EAPI_SQLSTATE('4', '0', '0'):
		case EAPI_SQLSTATE('4', '0', '1'):
		case EAPI_SQLSTATE('4', '0', '3'):
		case EAPI_SQLSTATE('4', '0', '4'):
		case EAPI_SQLSTATE('4', '0', '9'):
		case EAPI_SQLSTATE('5', '0', '3'):
			set_error(result, atoi(unpack_sql_state(code) + 2), edata->message);
			return;
		case EAPI_SQLSTATE('4', '2', '2'):
			/* the message is already the JSON array of problems */
			result->status = 422;
			resetStringInfo(&result->body);
			eapi_error_body(&result->body, edata->message, true, 0);
			return;
		case ERRCODE_UNIQUE_VIOLATION:
			set_error(result, 409, "Conflict: a record with this value already exists");
			return;
		case ERRCODE_FOREIGN_KEY_VIOLATION:
			set_error(result, 404, "Referenced entity not found");
			return;
		case ERRCODE_CHECK_VIOLATION:
		case ERRCODE_NOT_NULL_VIOLATION:
		case ERRCODE_INVALID_TEXT_REPRESENTATION:
		case ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE:
		case ERRCODE_STRING_DATA_RIGHT_TRUNCATION:
		case ERRCODE_INVALID_DATETIME_FORMAT:
		case ERRCODE_DATETIME_VALUE_OUT_OF_RANGE:
			set_error(result, 422, "Request violates a data constraint");
			return;
		case ERRCODE_QUERY_CANCELED:
			set_error(result, 503, "Request timed out");
			return;
		case ERRCODE_READ_ONLY_SQL_TRANSACTION:
			set_error(result, 503,
							"This server is a read-only standby: send writes to the primary");
			return;
		case ERRCODE_T_R_SERIALIZATION_FAILURE:
		case ERRCODE_T_R_DEADLOCK_DETECTED:
			set_error(result, 503, "Concurrent update conflict, please retry");
			return;
		case ERRCODE_LOCK_NOT_AVAILABLE:
			/* ecommerce_api.lock_timeout: another transaction holds what it needs */
			set_error(result, 503, "Busy: data this request needs is locked by another transaction, please retry");
			return;
	}

	if (ERRCODE_TO_CATEGORY(code) == ERRCODE_INSUFFICIENT_RESOURCES)
	{
		set_error(result, 503, "Server overloaded, please retry");
		return;
	}

	ereport(LOG,
			(errmsg("ecommerce_api request %s failed: %s", request_id, edata->message),
			 edata->detail ? errdetail_internal("%s", edata->detail) : 0,
			 errhidecontext(true)));
	set_error(result, 500, "Internal Server Error");
}

/*
 * Syscache callback: a function was created, changed or dropped somewhere in
 * the database.  The extension may have been dropped, re-created at another
 * version or updated: look again before the next request.
 */
static void
forget_extension_state(Datum arg, int cacheid, uint32 hashvalue)
{
	extension_ready = false;
	catalog_generation++;
}

/* The kept answer of this route, or NULL. */
static KeptAnswer *
kept_answer(const ApiRoute *route)
{
	KeptAnswer *kept;

	if (kept_answers == NULL)
		return NULL;
	kept = &kept_answers[eapi_route_index(route)];
	return kept->generation == catalog_generation ? kept : NULL;
}

/*
 * Keep this answer of a same_answer route for the next requests, as of
 * generation, the catalog_generation read before the answer was built (a
 * function changed while it was built makes it stale at once).
 */
static void
keep_answer(const ApiRoute *route, StringInfo body, uint64 generation)
{
	KeptAnswer *kept;

	if (kept_answers == NULL)
		kept_answers = MemoryContextAllocZero(TopMemoryContext,
											  eapi_route_count() * sizeof(KeptAnswer));
	kept = &kept_answers[eapi_route_index(route)];
	if (kept->body)
		pfree(kept->body);
	kept->body = MemoryContextAlloc(TopMemoryContext, body->len + 1);
	memcpy(kept->body, body->data, body->len + 1);
	kept->len = body->len;
	kept->generation = generation;
}

/*
 * Why the API's SQL objects cannot serve requests, as the 503's detail, or
 * NULL when the extension is installed at the version this library serves.
 * A library newer than the database's objects (a package upgrade before
 * ALTER EXTENSION ... UPDATE) would call functions that do not exist yet, or
 * older ones that answer differently: it says so rather than half-serving.
 */
static char *
extension_unready_reason(void)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	char	   *version = NULL;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum(EAPI_EXTENSION_NAME));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;
		Datum		datum = heap_getattr(tuple, Anum_pg_extension_extversion,
										 RelationGetDescr(rel), &isnull);

		if (!isnull)
			version = TextDatumGetCString(datum);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	if (version == NULL)
		return psprintf("Service unavailable: extension \"%s\" is not installed in database \"%s\"; run CREATE EXTENSION %s CASCADE",
						EAPI_EXTENSION_NAME, eapi_database, EAPI_EXTENSION_NAME);
	if (strcmp(version, EAPI_EXTENSION_VERSION) != 0)
		return psprintf("Service unavailable: extension \"%s\" is at version %s in database \"%s\" and this server's library serves version %s; run ALTER EXTENSION %s UPDATE",
						EAPI_EXTENSION_NAME, version, eapi_database,
						EAPI_EXTENSION_VERSION, EAPI_EXTENSION_NAME);
	return NULL;
}

/*
 * The statement of a SQL route, inside try_route's transaction: unless the
 * extension is not ready to serve (503), or a kept answer is still good, run
 * the route's kept plan, behind authorize() in required mode.
 */
static void
run_sql_route(const ApiRoute *route, const char *const *argv, const char *token,
			  EapiIdempotency *idem, bool read_only,
			  MemoryContext request_context, ApiResult *result)
{
	char	   *unready;
	KeptAnswer *kept = NULL;
	uint64		generation;

	unready = api_unready_reason();
	generation = catalog_generation;
	if (unready == NULL && route->same_answer)
		kept = kept_answer(route);
	if (unready)
		set_error(result, 503, unready);
	else if (idem && eapi_idempotency_claim(idem, request_context, result))
	{
		/* a repeat: its stored answer, and nothing runs */
	}
	else if (kept)
	{
		/* public in either auth mode, as authorize() says too */
		appendBinaryStringInfo(&result->body, kept->body, kept->len);
		result->status = route->success_status;
	}
	else if (eapi_auth_mode == EAPI_AUTH_REQUIRED)
	{
		const char *auth_argv[MAX_PLAN_ARGS];

		auth_argv[0] = route->activity;
		auth_argv[1] = token;
		memcpy(auth_argv + 2, argv, route->nargs * sizeof(char *));
		run_text_plan(route_plan(route, true), auth_argv,
					  route->nargs + 2, read_only,
					  request_context, &result->body);
		result->status = route->success_status;
	}
	else
	{
		run_text_plan(route_plan(route, false), argv, route->nargs, read_only,
					  request_context, &result->body);
		result->status = route->success_status;
	}
	if (route->same_answer && unready == NULL && kept == NULL)
		keep_answer(route, &result->body, generation);

	/* the first answer to a key commits with the write it reports */
	if (idem && unready == NULL && !result->replayed &&
		result->status >= 200 && result->status < 300)
		eapi_idempotency_record(idem, result);
}

/*
 * One try at a route, in one transaction.  Returns NULL on success, else the
 * caught error (the transaction is then aborted).
 */
static ErrorData *
try_route(const ApiRoute *route, const char *const *argv, const char *token,
		  EapiIdempotency *idem, bool read_only, MemoryContext request_context,
		  ApiResult *result)
{
	ErrorData  *volatile edata = NULL;
	bool		defer_flush = !read_only && commit_flush_deferrable();
	XLogRecPtr	last_commit = XactLastCommitEnd;

	resetStringInfo(&result->body);
	result->await_flush = false;
	result->challenge = NULL;
	result->commit_lsn = InvalidXLogRecPtr;
	result->replayed = false;

	PG_TRY();
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		if (read_only)
			XactReadOnly = true;
		else if (defer_flush)
			(void) set_config_option("synchronous_commit", "off",
									 PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_LOCAL, true, 0, false);
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		if (eapi_statement_timeout > 0)
			enable_timeout_after(STATEMENT_TIMEOUT, eapi_statement_timeout);

		if (route->kind == ROUTE_HEALTH)
			run_health(request_context, result);
		else if (route->kind == ROUTE_READY)
			run_ready(request_context, result);
		else
			run_sql_route(route, argv, token, idem, read_only, request_context, result);

		disable_timeout(STATEMENT_TIMEOUT, false);
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();

		/*
		 * A commit that waited for a synchronous standby and stopped waiting
		 * because the postmaster died or the worker was told to stop is
		 * committed here only, maybe on no standby.  PostgreSQL then sets
		 * ProcDiePending and tells its client nothing (SyncRepWaitForLSN);
		 * a 2xx here could be a write a failover loses.  Its outcome is
		 * unknown: 503, and the worker exits at its next look.
		 */
		if (XactLastCommitEnd != last_commit && ProcDiePending)
			set_error(result, 503,
					  "The server is stopping and this write may not have reached a standby; retry it (with its Idempotency-Key)");

		/*
		 * A write's answer is consistent as of its commit record's end: the
		 * token a client brings to a standby to read its write there.  One
		 * that wrote nothing (a replayed answer, a change to nothing) names
		 * the WAL inserted so far, which covers whatever it reports.
		 */
		if (!read_only && result->status >= 200 && result->status < 300 &&
			!RecoveryInProgress())
			result->commit_lsn = XactLastCommitEnd != last_commit ?
				XactLastCommitEnd : GetXLogInsertRecPtr();

		/* a commit record was written: its answer waits for the flush */
		if (defer_flush &&
			(XactLastCommitEnd != last_commit ||
			 (result->replayed && !XLogRecPtrIsInvalid(result->commit_lsn))))
		{
			XLogRecPtr	flush_to = XactLastCommitEnd != last_commit ?
				XactLastCommitEnd : result->commit_lsn;

			result->await_flush = true;
			if (flush_to > pending_flush_lsn)
				pending_flush_lsn = flush_to;
		}
	}
	PG_CATCH();
	{
		disable_timeout(STATEMENT_TIMEOUT, false);
		MemoryContextSwitchTo(request_context);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
	}
	PG_END_TRY();

	/* a timeout that fired after the statement ended must not hit the next */
	QueryCancelPending = false;
	MemoryContextSwitchTo(request_context);
	return edata;
}

/* The random pause before rerun number attempt; see MAX_ATTEMPTS. */
static void
pause_before_retry(int attempt)
{
	uint64		longest = (uint64) RETRY_PAUSE_MAX_US << (attempt - 1);

	pg_usleep((long) pg_prng_uint64_range(&pg_global_prng_state, 0, longest));
}

/*
 * Run one route and leave its answer in *result.  The caller's memory
 * context receives the body.  A request that lost a serialization or
 * deadlock race is run again, as is one whose statement failed because the
 * extension may have been dropped (then it answers 503).  token is the
 * request's bearer token (NULL when it sent none); only required mode
 * looks at it.  idem is a POST's Idempotency-Key, or NULL: the request runs
 * once, and its repeats replay its answer (idempotency.c).
 */
void
eapi_gateway_run(const ApiRoute *route, const char *const *argv,
				 const char *token, EapiIdempotency *idem,
				 const char *request_id, ApiResult *result)
{
	MemoryContext request_context = CurrentMemoryContext;
	bool		read_only = strcmp(route->method, "GET") == 0;

	eapi_shmem_set_busy(true);
	pgstat_report_activity(STATE_RUNNING, route->activity);
	choose_lock_timeout();

	for (int attempt = 1;; attempt++)
	{
		ErrorData  *edata = try_route(route, argv, token, idem, read_only,
									  request_context, result);

		if (edata == NULL)
			break;
		if (edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE)
			last_lock_timeout = GetCurrentTimestamp();
		if (attempt < MAX_ATTEMPTS)
		{
			if (is_missing_object_error(edata->sqlerrcode) && extension_ready)
			{
				extension_ready = false;
				continue;
			}
			if (is_retryable_error(edata->sqlerrcode))
			{
				pause_before_retry(attempt);
				continue;
			}
		}
		map_error(edata, request_id, result);
		break;
	}

	pgstat_report_activity(STATE_IDLE, NULL);
	eapi_shmem_set_busy(false);
}

/*
 * Lock waits.  A worker serves one request at a time, so a request waiting
 * for a row lock held by a stuck transaction (a paused backend, a session
 * left open) holds up every request queued on its worker, reads included,
 * which take no row locks themselves.  ecommerce_api.lock_timeout turns that
 * wait into a 503 with Retry-After.  And once a wait has timed out, the
 * holder is likely stuck and the next waiters would only time out too: for
 * STUCK_LOCK_MEMORY_MS after the last time-out, this worker's requests wait
 * STUCK_LOCK_WAIT_MS at most, so the requests queued behind them are held up
 * for that, not for lock_timeout each.  Requests that need no contended lock
 * are not affected.
 */
#define STUCK_LOCK_WAIT_MS		50
#define STUCK_LOCK_MEMORY_MS	2000

static int	applied_lock_timeout = -1;

/* Set the session's lock_timeout to ms, unless it is that already. */
static void
set_lock_timeout(int ms)
{
	char		value[32];

	if (ms == applied_lock_timeout)
		return;
	snprintf(value, sizeof(value), "%d", ms);
	SetConfigOption("lock_timeout", value, PGC_SUSET, PGC_S_SESSION);
	applied_lock_timeout = ms;
}

/* Before a request: the lock wait it may have; see above. */
static void
choose_lock_timeout(void)
{
	int			ms = eapi_lock_timeout;

	if (ms > STUCK_LOCK_WAIT_MS && last_lock_timeout != 0 &&
		!TimestampDifferenceExceeds(last_lock_timeout, GetCurrentTimestamp(),
									STUCK_LOCK_MEMORY_MS))
		ms = STUCK_LOCK_WAIT_MS;
	set_lock_timeout(ms);
}

/*
 * The session settings the gateway's transactions run with, from the
 * ecommerce_api.* ones; at start and after each reload (worker.c).
 */
void
eapi_gateway_apply_settings(void)
{
	applied_lock_timeout = -1;
	choose_lock_timeout();
}

/*
 * An ERROR escaped the caller's code (http.c's own, around the gateway: the
 * gateway catches its own).  Abort whatever transaction it left open, and
 * say the worker is idle again.
 */
void
eapi_gateway_abort(void)
{
	AbortCurrentTransaction();
	pgstat_report_activity(STATE_IDLE, NULL);
	eapi_shmem_set_busy(false);
}
