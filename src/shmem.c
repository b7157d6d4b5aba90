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
 * The rate limiter keeps a fixed window per client address in a shared hash
 * table (ecommerce_api.rate_limit_clients entries, sized at start), under
 * one LWLock of its own tranche: every worker counts into the same windows.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

#include "ecommerce_api.h"

/* Upper bounds of the latency histogram's buckets, in milliseconds. */
const double eapi_latency_bounds_ms[EAPI_LATENCY_BUCKETS] = {
	0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 5000
};

typedef struct WorkerSlot
{
	pid_t		pid;
	volatile bool busy;
	pg_atomic_uint32 open_connections;
	pg_atomic_uint64 latency_buckets[EAPI_LATENCY_BUCKETS + 1];	/* last: +Inf */
	pg_atomic_uint64 latency_sum_us;
	pg_atomic_uint64 rate_limited;	/* requests refused with 429 */
	pg_atomic_uint64 rate_limit_table_full;	/* passed: no room to track */
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

/* ---- the rate limiter ---- */

#define RATE_LIMIT_TRANCHE		"ecommerce_api rate limiter"

/* How often a worker may warn that the table is full. */
#define TABLE_FULL_WARNING_SECS	60

/* One client's fixed window. */
typedef struct RateLimitEntry
{
	EapiInetAddr client;		/* hash key */
	uint32		count;			/* requests admitted in this window */
	TimestampTz window_start;
} RateLimitEntry;

typedef struct RateLimitState
{
	LWLock	   *lock;			/* guards the table and this struct */
	/* when the full table may be walked again (see sweep_ended_windows) */
	TimestampTz next_sweep;
	int			sweep_window;	/* the window length next_sweep assumed */
} RateLimitState;

static RateLimitState *rate_state = NULL;
static HTAB *rate_table = NULL;

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
	RequestAddinShmemSpace(add_size(MAXALIGN(sizeof(RateLimitState)),
									hash_estimate_size(eapi_rate_limit_clients,
													   sizeof(RateLimitEntry))));
	RequestNamedLWLockTranche(RATE_LIMIT_TRANCHE, 1);
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
			pg_atomic_init_u64(&slot->rate_limited, 0);
			pg_atomic_init_u64(&slot->rate_limit_table_full, 0);
			for (int a = 0; a < ANSWER_ROWS * EAPI_STATUS_CLASSES; a++)
				pg_atomic_init_u64(&slot->answers[a], 0);
		}
	}

	rate_state = ShmemInitStruct("ecommerce_api rate limiter state",
								 sizeof(RateLimitState), &found);
	if (!found)
	{
		rate_state->lock = &(GetNamedLWLockTranche(RATE_LIMIT_TRANCHE))->lock;
		rate_state->next_sweep = 0;
		rate_state->sweep_window = 0;
	}
	{
		HASHCTL		info;

		info.keysize = sizeof(EapiInetAddr);
		info.entrysize = sizeof(RateLimitEntry);
		/* every entry is allocated now: the table never takes more */
		rate_table = ShmemInitHash("ecommerce_api rate limiter",
								   eapi_rate_limit_clients, eapi_rate_limit_clients,
								   &info, HASH_ELEM | HASH_BLOBS | HASH_FIXED_SIZE);
	}
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

void
eapi_shmem_worker_attach(int worker_number)
{
	Assert(shared_state != NULL);
	if (worker_number < 1 || worker_number > shared_state->nworkers)
		elog(ERROR, "ecommerce_api worker number %d out of range", worker_number);
	my_slot = SLOT(worker_number - 1);
	my_slot->pid = MyProcPid;
	my_slot->busy = false;
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

/* ----------------------------------------------------------------------
 * The rate limiter
 * ----------------------------------------------------------------------
 */

/*
 * The table is full: drop the entries whose window has ended.  Returns
 * whether that made room.  A table full of live windows is not walked again
 * until the first of them can have ended, nor one that was just swept before
 * a sixteenth of a window, so a flood of new addresses costs a few walks per
 * window, not one per request.  Caller holds the lock.
 */
static bool
sweep_ended_windows(TimestampTz now, int64 window_us)
{
	HASH_SEQ_STATUS scan;
	RateLimitEntry *entry;
	TimestampTz first_end = PG_INT64_MAX;
	bool		freed = false;

	if (rate_state->sweep_window == eapi_rate_limit_window &&
		now < rate_state->next_sweep)
		return false;

	hash_seq_init(&scan, rate_table);
	while ((entry = hash_seq_search(&scan)) != NULL)
	{
		TimestampTz end = entry->window_start + window_us;

		/* removing the entry just returned is safe during a scan */
		if (now >= end)
		{
			(void) hash_search(rate_table, &entry->client, HASH_REMOVE, NULL);
			freed = true;
		}
		else if (end < first_end)
			first_end = end;
	}
	/*
	 * Not again before the first live window can end; and after a sweep
	 * that made room, not before a sixteenth of a window (a flood of new
	 * addresses would otherwise walk the table under the lock, every worker
	 * waiting, for each address it adds).  New clients pass untracked
	 * meanwhile, as when nothing could be freed.
	 */
	rate_state->next_sweep = freed ? now + window_us / 16 : first_end;
	rate_state->sweep_window = eapi_rate_limit_window;
	return freed;
}

/* At most one warning per worker and TABLE_FULL_WARNING_SECS. */
static void
warn_table_full(TimestampTz now)
{
	static TimestampTz last_warning = 0;
	static uint64 passed = 0;

	passed++;
	if (last_warning != 0 &&
		!TimestampDifferenceExceeds(last_warning, now, TABLE_FULL_WARNING_SECS * 1000))
		return;
	ereport(WARNING,
			(errmsg("ecommerce_api rate limiter is tracking its maximum of %d clients; requests from new clients pass unlimited",
					eapi_rate_limit_clients),
			 last_warning != 0 ?
			 errdetail("Requests this worker let pass untracked since its previous warning: " UINT64_FORMAT ".",
					   passed) : 0,
			 errhint("Raise ecommerce_api.rate_limit_clients, or shorten ecommerce_api.rate_limit_window.")));
	last_warning = now;
	passed = 0;
}

/*
 * Count a request of this client against its window and say whether it may
 * pass.  Windows are fixed: a client's first request opens one of
 * ecommerce_api.rate_limit_window seconds in which ecommerce_api.rate_limit
 * requests pass; the next request after it opens a new one.  Refused
 * requests do not count.  Settings apply as they are now, so a reload that
 * changes the limit or the window acts on open windows at once.
 *
 * Nothing between LWLockAcquire and LWLockRelease can raise an ERROR (the
 * callers' error paths do not release LWLocks).
 */
void
eapi_rate_limit_check(const EapiInetAddr *client, EapiRateVerdict *verdict)
{
	TimestampTz now = GetCurrentTimestamp();
	int			limit = eapi_rate_limit;
	int			window = eapi_rate_limit_window;
	int64		window_us = (int64) window * USECS_PER_SEC;
	TimestampTz window_end;
	int64		unix_end;		/* window_end in microseconds since 1970 */
	RateLimitEntry *entry;
	bool		found;

	verdict->limit = limit;
	verdict->window = window;

	LWLockAcquire(rate_state->lock, LW_EXCLUSIVE);
	entry = hash_search(rate_table, client, HASH_ENTER_NULL, &found);
	if (entry == NULL && sweep_ended_windows(now, window_us))
		entry = hash_search(rate_table, client, HASH_ENTER_NULL, &found);
	if (entry == NULL)
	{
		LWLockRelease(rate_state->lock);

		/* fail open: an untracked client is treated as opening a window */
		verdict->allowed = true;
		verdict->remaining = limit - 1;
		window_end = now + window_us;
		if (my_slot)
			bump_u64(&my_slot->rate_limit_table_full, 1);
		warn_table_full(now);
	}
	else
	{
		if (!found || now >= entry->window_start + window_us)
		{
			entry->window_start = now;
			entry->count = 0;
		}
		window_end = entry->window_start + window_us;
		verdict->allowed = entry->count < (uint32) limit;
		if (verdict->allowed)
			entry->count++;
		verdict->remaining = verdict->allowed ? limit - (int) entry->count : 0;
		LWLockRelease(rate_state->lock);

		if (!verdict->allowed && my_slot)
			bump_u64(&my_slot->rate_limited, 1);
	}

	/* whole seconds, rounded up: at Reset the window has surely ended */
	unix_end = window_end +
		(int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
	verdict->reset = (unix_end + USECS_PER_SEC - 1) / USECS_PER_SEC;
	verdict->retry_after =
		(int) Max((window_end - now + USECS_PER_SEC - 1) / USECS_PER_SEC, 1);
}

/* All workers' rate-limiter counters, for GET /metrics. */
void
eapi_shmem_rate_limit_totals(uint64 *limited, uint64 *table_full)
{
	*limited = 0;
	*table_full = 0;
	if (shared_state == NULL)
		return;
	for (int i = 0; i < shared_state->nworkers; i++)
	{
		*limited += pg_atomic_read_u64(&SLOT(i)->rate_limited);
		*table_full += pg_atomic_read_u64(&SLOT(i)->rate_limit_table_full);
	}
}
