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
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/wait_event.h"

#include "ecommerce_api.h"
#include "cache.h"

PG_MODULE_MAGIC;

/* Seconds the postmaster waits before restarting a worker that died. */
#define WORKER_RESTART_SECONDS	1

/* How long a worker that cannot listen waits before it tries again. */
#define LISTEN_RETRY_MS			5000

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
	}
}

/*
 * Open the HTTP server, retrying while the port is taken: a clear log line
 * and a wait, not an exit, so a busy port does not become a restart loop.
 */
static void
start_http_server(void)
{
	int			attempts = 0;

	while (!eapi_http_start(eapi_worker_number))
	{
		if (attempts++ == 0)
			ereport(WARNING,
					(errmsg("ecommerce_api worker %d cannot serve HTTP yet; retrying every %d s",
							eapi_worker_number, LISTEN_RETRY_MS / 1000)));
		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 LISTEN_RETRY_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		exit_if_asked();
		reload_settings_if_asked();
	}
	if (attempts > 0)
		ereport(LOG,
				(errmsg("ecommerce_api worker %d is now serving on port %d",
						eapi_worker_number, eapi_port)));
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

	BackgroundWorkerInitializeConnection(eapi_database,
										 eapi_role[0] ? eapi_role : NULL, 0);

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

	eapi_shmem_worker_attach(eapi_worker_number);
	eapi_cache_stats_attach(eapi_worker_number);
	raise_open_file_limit();
	tune_malloc();
	start_http_server();

	events = CreateWaitEventSet(TopMemoryContext, 3);
	AddWaitEventToSet(events, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(events, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	AddWaitEventToSet(events, WL_SOCKET_READABLE, eapi_http_epoll_fd(), NULL, NULL);

	for (;;)
	{
		WaitEvent	event;

		/* flush table and function statistics now and then */
		pgstat_report_stat(false);

		/* answers held for group commit (gateway.c) do not wait for events */
		(void) WaitEventSetWait(events,
								eapi_http_has_held() ? 0 : eapi_http_timeout_ms(),
								&event, 1, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		exit_if_asked();
		reload_settings_if_asked();

		/* serves ready connections and runs due timeouts, without blocking */
		eapi_http_run();

		/* group commit: one WAL flush for the pass's writes, then their answers */
		if (eapi_http_release_held())
			eapi_http_run();
	}
}
