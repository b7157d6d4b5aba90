/*-------------------------------------------------------------------------
 *
 * shmem.c
 *		Shared memory: the state of every HTTP worker, visible to all.
 *
 * The health check reports the "pool" of the reference system; here the pool
 * is the set of HTTP workers, so each worker publishes whether it is busy
 * serving a request.  GET /metrics adds up what every worker counted:
 * answers by route and status class, a latency histogram, open connections.
 *
 * One slot per worker, written only by its owner, so no lock is taken on the
 * request path: counters are 64-bit atomics written with plain stores, and
 * readers only need recent values.
 *
 * The shared memory hooks live here; they also ask the rate limiter
 * (ratelimit.c) to request and set up its own table.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#include "ecommerce_api.h"

/* Upper bounds of the latency histogram's buckets, in milliseconds. */
const double eapi_latency_bounds_ms[EAPI_LATENCY_BUCKETS] = {
	0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 5000
};

typedef struct WorkerSlot
{
	pid_t		pid;
	volatile bool busy;
	volatile bool serving;		/* listening and answering */
	uint32		failed_starts;	/* starts in a row that did not get to serve */
	pg_atomic_uint32 open_connections;
	pg_atomic_uint64 latency_buckets[EAPI_LATENCY_BUCKETS + 1];	/* last: +Inf */
	pg_atomic_uint64 latency_sum_us;
	/* answers by [route index, or the last row for no route][status class] */
	pg_atomic_uint64 answers[FLEXIBLE_ARRAY_MEMBER];
} WorkerSlot;

typedef struct EapiSharedState
{
	int			nworkers;
	Size		slot_size;
	char		slots[FLEXIBLE_ARRAY_MEMBER];	/* nworkers WorkerSlots */
} EapiSharedState;

static EapiSharedState *shared_state = NULL;
static WorkerSlot *my_slot = NULL;

#define ANSWER_ROWS		(eapi_route_count() + 1)
#define SLOT(i)			((WorkerSlot *) (shared_state->slots + (i) * shared_state->slot_size))

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static Size
slot_size(void)
{
	return MAXALIGN(add_size(offsetof(WorkerSlot, answers),
							 mul_size(ANSWER_ROWS * EAPI_STATUS_CLASSES,
									  sizeof(pg_atomic_uint64))));
}

static Size
shared_state_size(void)
{
	return add_size(offsetof(EapiSharedState, slots),
					mul_size(Max(eapi_workers, 1), slot_size()));
}

static void
eapi_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(shared_state_size());
	eapi_rate_limit_shmem_request();
}

static void
eapi_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared_state = ShmemInitStruct("ecommerce_api", shared_state_size(), &found);
	if (!found)
	{
		memset(shared_state, 0, shared_state_size());
		shared_state->nworkers = eapi_workers;
		shared_state->slot_size = slot_size();
		for (int i = 0; i < eapi_workers; i++)
		{
			WorkerSlot *slot = SLOT(i);

			pg_atomic_init_u32(&slot->open_connections, 0);
			for (int b = 0; b <= EAPI_LATENCY_BUCKETS; b++)
				pg_atomic_init_u64(&slot->latency_buckets[b], 0);
			pg_atomic_init_u64(&slot->latency_sum_us, 0);
			for (int a = 0; a < ANSWER_ROWS * EAPI_STATUS_CLASSES; a++)
				pg_atomic_init_u64(&slot->answers[a], 0);
		}
	}

	eapi_rate_limit_shmem_startup();
	LWLockRelease(AddinShmemInitLock);
}

/* Called from _PG_init in the postmaster. */
void
eapi_shmem_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = eapi_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = eapi_shmem_startup;
}

/*
 * A worker is about to connect to its database: returns how many of its
 * starts in a row have failed so far (each start counts as failed until it
 * serves), so that it can wait before trying again.  Called before the
 * database connection, which is what usually fails (a FATAL exits at once).
 */
int
eapi_shmem_start_attempt(int worker_number)
{
	WorkerSlot *slot;
	int			failed;

	Assert(shared_state != NULL);
	if (worker_number < 1 || worker_number > shared_state->nworkers)
		return 0;
	slot = SLOT(worker_number - 1);
	failed = (int) slot->failed_starts;
	slot->failed_starts = failed + 1;
	return failed;
}

/* Not serving any more, whatever the way out. */
static void
stop_serving(int code, Datum arg)
{
	if (my_slot)
		my_slot->serving = false;
}

/* This worker now answers HTTP (or no longer does). */
void
eapi_shmem_set_serving(bool serving)
{
	if (my_slot == NULL)
		return;
	my_slot->serving = serving;
	if (serving)
		my_slot->failed_starts = 0;
}

/* Workers listening and answering right now. */
int
eapi_shmem_serving_workers(void)
{
	int			n = 0;

	for (int i = 0; shared_state && i < shared_state->nworkers; i++)
		if (SLOT(i)->serving)
			n++;
	return n;
}

void
eapi_shmem_worker_attach(int worker_number)
{
	Assert(shared_state != NULL);
	if (worker_number < 1 || worker_number > shared_state->nworkers)
		elog(ERROR, "ecommerce_api worker number %d out of range", worker_number);
	my_slot = SLOT(worker_number - 1);
	my_slot->pid = MyProcPid;
	my_slot->busy = false;
	my_slot->serving = false;
	before_shmem_exit(stop_serving, (Datum) 0);
	/* a restarted worker starts with no connections; its counts go on */
	pg_atomic_write_u32(&my_slot->open_connections, 0);
}

/* Only the owner writes its slot: a read and a store, no locked instruction. */
static inline void
bump_u64(pg_atomic_uint64 *counter, uint64 by)
{
	pg_atomic_write_u64(counter, pg_atomic_read_u64(counter) + by);
}

/* Count one answer; route_index is -1 when no route matched. */
void
eapi_shmem_count_answer(int route_index, int status, double elapsed_ms)
{
	int			row = route_index >= 0 ? route_index : ANSWER_ROWS - 1;
	int			class = Min(Max(status / 100, 1), 5) - 1;
	int			bucket = 0;

	if (my_slot == NULL)
		return;
	bump_u64(&my_slot->answers[row * EAPI_STATUS_CLASSES + class], 1);
	while (bucket < EAPI_LATENCY_BUCKETS && elapsed_ms > eapi_latency_bounds_ms[bucket])
		bucket++;
	bump_u64(&my_slot->latency_buckets[bucket], 1);
	bump_u64(&my_slot->latency_sum_us, (uint64) (elapsed_ms * 1000.0));
}

void
eapi_shmem_count_connection(int delta)
{
	if (my_slot)
		pg_atomic_write_u32(&my_slot->open_connections,
							pg_atomic_read_u32(&my_slot->open_connections) + delta);
}

/*
 * Add up every worker's counters.  answers must hold (routes + 1) *
 * EAPI_STATUS_CLASSES values, buckets EAPI_LATENCY_BUCKETS + 1.
 */
void
eapi_shmem_totals(uint64 *answers, uint64 *buckets, uint64 *latency_sum_us,
				  int *open_connections)
{
	int			nanswers = ANSWER_ROWS * EAPI_STATUS_CLASSES;

	memset(answers, 0, nanswers * sizeof(uint64));
	memset(buckets, 0, (EAPI_LATENCY_BUCKETS + 1) * sizeof(uint64));
	*latency_sum_us = 0;
	*open_connections = 0;
	if (shared_state == NULL)
		return;
	for (int i = 0; i < shared_state->nworkers; i++)
	{
		WorkerSlot *slot = SLOT(i);

		for (int a = 0; a < nanswers; a++)
			answers[a] += pg_atomic_read_u64(&slot->answers[a]);
		for (int b = 0; b <= EAPI_LATENCY_BUCKETS; b++)
			buckets[b] += pg_atomic_read_u64(&slot->latency_buckets[b]);
		*latency_sum_us += pg_atomic_read_u64(&slot->latency_sum_us);
		*open_connections += (int32) pg_atomic_read_u32(&slot->open_connections);
	}
}

void
eapi_shmem_set_busy(bool busy)
{
	if (my_slot)
		my_slot->busy = busy;
}

int
eapi_shmem_busy_workers(void)
{
	int			busy = 0;

	if (shared_state == NULL)
		return 0;
	for (int i = 0; i < shared_state->nworkers; i++)
		if (SLOT(i)->busy)
			busy++;
	return busy;
}
