/*-------------------------------------------------------------------------
 *
 * shmem.c
 *		Shared memory: the state of every HTTP worker, visible to all.
 *
 * The health check reports the "pool" of the reference system; here the pool
 * is the set of HTTP workers, so each worker publishes whether it is busy
 * serving a request.  One slot per worker, written only by its owner, so a
 * plain store of a bool is enough: readers only need a recent value.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#include "ecommerce_api.h"

typedef struct WorkerSlot
{
	pid_t		pid;
	volatile bool busy;
} WorkerSlot;

typedef struct EapiSharedState
{
	int			nworkers;
	WorkerSlot	slots[FLEXIBLE_ARRAY_MEMBER];
} EapiSharedState;

static EapiSharedState *shared_state = NULL;
static WorkerSlot *my_slot = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static Size
shared_state_size(void)
{
	return add_size(offsetof(EapiSharedState, slots),
					mul_size(Max(eapi_workers, 1), sizeof(WorkerSlot)));
}

static void
eapi_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(shared_state_size());
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
	my_slot = &shared_state->slots[worker_number - 1];
	my_slot->pid = MyProcPid;
	my_slot->busy = false;
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
		if (shared_state->slots[i].busy)
			busy++;
	return busy;
}
