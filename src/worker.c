/*-------------------------------------------------------------------------
 *
 * worker.c
 *		The HTTP workers' life: registration, main loop, signals.
 *
 * _PG_init (run in the postmaster, via shared_preload_libraries) defines the
 * settings and registers ecommerce_api.workers static background workers.
 * Each one connects to ecommerce_api.database, opens the shared HTTP port
 * and runs libmicrohttpd from a WaitEventSet that also holds its latch and
 * the postmaster-death event.  The postmaster restarts a worker that dies.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <malloc.h>
#include <sys/resource.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "ecommerce_api.h"
#include "cache.h"
#include "compat.h"

PG_MODULE_MAGIC;

/* Seconds the postmaster waits before restarting a worker that died. */
#define WORKER_RESTART_SECONDS	1

/*
 * A worker that cannot start (no such database or role, an address it
 * cannot listen on) tries again after 1 s, then 2, 4, ... up to this.
 */
#define MAX_RETRY_SECONDS		60

int			eapi_worker_number = 0;

void		_PG_init(void);
PGDLLEXPORT void eapi_worker_main(Datum main_arg);

void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;

	eapi_define_settings();
	eapi_shmem_init();
	eapi_generations_init();

	for (int i = 1; i <= eapi_workers; i++)
	{
		BackgroundWorker worker = {0};

		worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
			BGWORKER_BACKEND_DATABASE_CONNECTION;
		/* also on hot standbys, which serve the read routes */
		worker.bgw_start_time = BgWorkerStart_ConsistentState;
		worker.bgw_restart_time = WORKER_RESTART_SECONDS;
		strlcpy(worker.bgw_library_name, "ecommerce_api", BGW_MAXLEN);
		strlcpy(worker.bgw_function_name, "eapi_worker_main", BGW_MAXLEN);
		snprintf(worker.bgw_name, BGW_MAXLEN, "ecommerce_api worker %d", i);
		strlcpy(worker.bgw_type, "ecommerce_api worker", BGW_MAXLEN);
		worker.bgw_main_arg = Int32GetDatum(i);
		RegisterBackgroundWorker(&worker);
	}
}

/*
 * Many keep-alive clients mean many sockets: lift the soft limit on open
 * files to the hard one.  PostgreSQL's own file accounting (fd.c) keeps to
 * max_files_per_process regardless.
 */
static void
raise_open_file_limit(void)
{
	struct rlimit rlim;

	if (getrlimit(RLIMIT_NOFILE, &rlim) == 0 && rlim.rlim_cur < rlim.rlim_max)
	{
		rlim.rlim_cur = rlim.rlim_max;
		(void) setrlimit(RLIMIT_NOFILE, &rlim);
	}
}

/*
 * Every request allocates and frees the same few hundred kilobytes (plans'
 * executor state, JSON text, response buffers).  By default glibc gives the
 * top of the heap back to the kernel as soon as 128 kB are free, and takes
 * it again on the next request: a brk() pair per request whose munmap side
 * flushes the TLB of every CPU.  Profiling the product list showed 8% of the
 * worker's time there.  Keep up to 16 MB of free heap per worker instead,
 * and serve allocations below 4 MB from the heap rather than mmap().
 */
static void
tune_malloc(void)
{
	(void) mallopt(M_TRIM_THRESHOLD, 16 * 1024 * 1024);
	(void) mallopt(M_TOP_PAD, 1024 * 1024);
	(void) mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
}

/* Exit cleanly when asked to (SIGTERM sets ProcDiePending through die()). */
static void
exit_if_asked(void)
{
	if (ProcDiePending)
	{
		eapi_http_stop();
		ereport(DEBUG1,
				(errmsg("ecommerce_api worker %d shutting down", eapi_worker_number)));
		/* exit code 1: if the server is not shutting down, come back */
		proc_exit(1);
	}
	CHECK_FOR_INTERRUPTS();
}

static void
reload_settings_if_asked(void)
{
	if (ConfigReloadPending)
	{
		ConfigReloadPending = false;
		ProcessConfigFile(PGC_SIGHUP);
		eapi_gateway_apply_settings();
	}
}

/* Seconds to wait after failures in a row: 0, then 1, 2, 4 ... MAX_RETRY_SECONDS. */
static int
retry_delay(int failures)
{
	if (failures <= 0)
		return 0;
	return Min(1 << Min(failures - 1, 6), MAX_RETRY_SECONDS);
}

/* Wait, answering shutdown and reload meanwhile. */
static void
wait_seconds(int seconds)
{
	TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), seconds * 1000);

	for (;;)
	{
		long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), until);

		if (left <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 left, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		exit_if_asked();
		reload_settings_if_asked();
	}
}

/* What a failing connection attempt adds to its FATAL: which settings, and when again. */
typedef struct ConnectAttempt
{
	int			failures;		/* before this attempt */
} ConnectAttempt;

static void
connect_error_context(void *arg)
{
	ConnectAttempt *attempt = arg;

	errcontext("ecommerce_api worker %d connecting to ecommerce_api.database = '%s' as ecommerce_api.role = '%s' (empty: the bootstrap superuser); attempt %d, the next in %d s",
			   eapi_worker_number, eapi_database, eapi_role,
			   attempt->failures + 1, retry_delay(attempt->failures + 1) + WORKER_RESTART_SECONDS);
}

/*
 * Connect to ecommerce_api.database as ecommerce_api.role.  When that fails
 * (no such database or role, too many connections) the worker exits with a
 * FATAL, whose context names the settings, and the postmaster starts it
 * again after bgw_restart_time, which is fixed at registration.  So the
 * back-off is here: a worker whose previous starts failed (counted in shared
 * memory, which outlives it) waits 1 s, 2 s, 4 s ... up to a minute before
 * it tries again, instead of a tight loop of log lines.
 */
static void
connect_database(void)
{
	ConnectAttempt attempt;
	ErrorContextCallback callback;

	attempt.failures = eapi_shmem_start_attempt(eapi_worker_number);
	wait_seconds(retry_delay(attempt.failures));

	callback.callback = connect_error_context;
	callback.arg = &attempt;
	callback.previous = error_context_stack;
	error_context_stack = &callback;
	BackgroundWorkerInitializeConnection(eapi_database,
										 eapi_role[0] ? eapi_role : NULL, 0);
	error_context_stack = callback.previous;
}

/*
 * An invalid ecommerce_api.port is not listened on at all (nor is the
 * default port in its place): wait for shutdown.  The log said why at start
 * (settings.c); only a restart can change the port.
 */
static void
idle_without_port(void)
{
	ereport(LOG,
			(errmsg("ecommerce_api worker %d is not listening: %s",
					eapi_worker_number, eapi_settings_problem())));
	for (;;)
		wait_seconds(3600);
}

/*
 * Open the HTTP server.  When the address cannot be listened on, the reason
 * and its hint are logged (http.c) and the worker stays alive and tries
 * again after 1 s, 2 s, 4 s ... up to a minute: exiting would have the
 * postmaster restart it every bgw_restart_time, a tight loop, and a port
 * taken by another process may well be freed.
 */
static void
start_http_server(void)
{
	int			failures = 0;

	if (eapi_port_is_invalid())
		idle_without_port();
	while (!eapi_http_start(eapi_worker_number))
	{
		failures++;
		ereport(LOG,
				(errmsg("ecommerce_api worker %d cannot serve HTTP (attempt %d); trying again in %d s",
						eapi_worker_number, failures, retry_delay(failures))));
		wait_seconds(retry_delay(failures));
	}
	eapi_shmem_set_serving(true);
	eapi_log_effective_settings(eapi_worker_number);
}

void
eapi_worker_main(Datum main_arg)
{
	WaitEventSet *events;
	char		appname[NAMEDATALEN];

	eapi_worker_number = DatumGetInt32(main_arg);

	/* die() interrupts a running query and lets the loop exit cleanly */
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	eapi_shmem_worker_attach(eapi_worker_number);
	connect_database();

	snprintf(appname, sizeof(appname), "ecommerce_api worker %d", eapi_worker_number);
	SetConfigOption("application_name", appname, PGC_USERSET, PGC_S_SESSION);
	pgstat_report_appname(appname);

	/*
	 * The API's SQL names its own objects by schema and leaves only built-ins
	 * unqualified.  A search_path holding a schema others may create in
	 * (public, "$user") would let them plant a better match for a built-in
	 * (cardinality(text[]) beats pg_catalog.cardinality(anyarray)) and have
	 * it run with the workers' rights, a superuser's by default.  Whatever
	 * the role's or database's settings say, the workers see pg_catalog only.
	 */
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION);
	pgstat_report_activity(STATE_IDLE, NULL);
	eapi_gateway_apply_settings();

	eapi_cache_stats_attach(eapi_worker_number);
	raise_open_file_limit();
	tune_malloc();
	start_http_server();

	events = eapi_create_wait_event_set(3);
	AddWaitEventToSet(events, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(events, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	AddWaitEventToSet(events, WL_SOCKET_READABLE, eapi_http_epoll_fd(), NULL, NULL);

	for (;;)
	{
		WaitEvent	event;
		long		timeout;
		long		sweep_due = -1;
		int			nevents;

		/* flush table and function statistics now and then */
		pgstat_report_stat(false);

		/* answers held for group commit (gateway.c) do not wait for events */
		timeout = eapi_http_has_held() ? 0 : eapi_http_timeout_ms();
		/* worker 1 also deletes expired Idempotency-Key records */
		if (eapi_worker_number == 1)
			sweep_due = eapi_idempotency_sweep_due_ms();
		if (sweep_due >= 0 && (timeout < 0 || sweep_due < timeout))
			timeout = sweep_due;
		nevents = WaitEventSetWait(events, timeout, &event, 1, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		exit_if_asked();
		reload_settings_if_asked();

		/*
		 * The sweep runs when nothing else is to be done (the wait timed
		 * out), or between passes once a whole interval late, so a worker
		 * that is never idle still sweeps.
		 */
		if (eapi_worker_number == 1 && !eapi_http_has_held() &&
			eapi_idempotency_sweep_due_ms() == 0 &&
			(nevents == 0 || eapi_idempotency_sweep_overdue()))
			eapi_idempotency_sweep();

		/* serves ready connections and runs due timeouts, without blocking */
		eapi_http_run();

		/* group commit: one WAL flush for the pass's writes, then their answers */
		if (eapi_http_release_held())
			eapi_http_run();
	}
}
