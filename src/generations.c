/*-------------------------------------------------------------------------
 *
 * generations.c
 *		Change generations: counters in shared memory that move after every
 *		commit that changed the shop's data, whoever the writer was.
 *
 * Each tracked table has three counters and a row of buckets:
 *
 *	all		moves on every committed INSERT, UPDATE, DELETE, TRUNCATE or COPY
 *			into the table: what a list answer depends on;
 *	rows	moves when existing rows were updated or deleted (or truncated):
 *			what an answer that embeds some row of the table (a product's
 *			category, a line's product) depends on;
 *	wide	moves when existing rows changed and we did not tell which (a
 *			TRUNCATE, or a statement that changed many rows);
 *	buckets[hash(id_key)]	move when that row was updated or deleted.
 *
 * A point read (GET /products/id/7) depends on wide and on bucket(7) of its
 * table, plus rows of the tables it embeds.  An INSERT moves only "all":
 * a new row cannot change an existing one, and only 200 answers are kept.
 *
 * Who moves them: AFTER ... FOR EACH STATEMENT triggers on every tracked
 * table call eapi_track_changes() (this library, so every backend runs it:
 * the API's workers, psql, batch jobs, pg_restore's COPY; ENABLE ALWAYS, so
 * under session_replication_role = replica too).  Logical replication's
 * apply worker fires row triggers only, never statement triggers (the
 * PostgreSQL documentation says so; test/t/019_cache_logical.pl shows the
 * stale answers it left): for it each table also has an AFTER ... FOR EACH
 * ROW trigger, ENABLE REPLICA, which fires only under
 * session_replication_role = replica and so costs ordinary writers nothing.
 * The trigger only notes what changed, in backend-local memory.  The counters
 * move in the transaction callback, at XACT_EVENT_COMMIT; an abort forgets
 * the notes.  A DDL command in the API's database (object_access_hook:
 * create, alter, drop of anything) moves one "schema" counter that every
 * answer depends on, the same way.
 *
 * ---- Why a kept answer is never stale ----
 *
 * Writer W, in CommitTransaction (PostgreSQL 15, access/transam/xact.c):
 * RecordTransactionCommit() writes the commit record, then
 * ProcArrayEndTransaction() removes W's xid from the proc array, which is
 * the moment W becomes visible to every snapshot taken afterwards, and only
 * then CallXactCallbacks(XACT_EVENT_COMMIT) runs our callback, which bumps
 * the counters (atomic fetch-add: a full memory barrier).  So:
 *
 *	(W1) W's bump happens after W is visible to new snapshots;
 *	(W2) W's client is told "done" after the bump (the callback runs before
 *		 CommitTransaction returns; the API's own answers are sent later
 *		 still, after the WAL flush).
 *
 * Reader R (cache.c) reads the counters it depends on, then (barrier) takes
 * its snapshot S and builds answer A, which is kept with those values g.  A
 * later request Q, sent after W was acknowledged, reads the counters g' and
 * reuses A only if g' == g (counters only grow; the epoch tells restarts).
 *
 *	- If W bumped before R read g, W was visible before S was taken (W1):
 *	  A includes W.
 *	- If W bumped after R read g, W bumped before it was acknowledged (W2),
 *	  so before Q was sent and before Q read g': g' != g and A is not
 *	  reused.
 *
 * Either way Q never gets an answer missing a write acknowledged before Q
 * was sent.  The same holds for an ETag: it is made of g, so If-None-Match
 * with it matches only while no such write happened.  Bumping before the
 * commit is visible would break (W1): R could read the bumped g, then take
 * a snapshot that does not see W yet, and keep A without W for ever.
 * test/t/016_cache_freshness.pl catches exactly that, deterministically: a
 * psql commit held by an absent synchronous standby is in the WAL but not
 * visible (SyncRepWaitForLSN runs before ProcArrayEndTransaction), and a GET
 * meanwhile must keep its answer under generations that move once it is
 * (test/mutations/27 moves the bump to PRE_COMMIT and is caught).
 *
 * Two-phase commit: COMMIT PREPARED runs in another backend with no
 * callback of ours, so a transaction that changed tracked data cannot be
 * prepared (an ERROR at PRE_PREPARE).  Hot standbys: replay fires no
 * trigger, so cache.c serves nothing from the cache there.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/objectaccess.h"
#include "commands/dbcommands.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "ecommerce_api.h"
#include "cache.h"

#define EAPI_BUCKETS			1024

/* A statement that changed more rows than this moves "wide" instead. */
#define MAX_BUCKETED_ROWS		64

/* A transaction that touched more buckets than this moves "wide" too. */
#define MAX_PENDING_BUCKETS		256

typedef struct GenTable
{
	pg_atomic_uint64 all;
	pg_atomic_uint64 rows;
	pg_atomic_uint64 wide;
	pg_atomic_uint64 buckets[EAPI_BUCKETS];
} GenTable;

typedef struct CacheStatsSlot
{
	pg_atomic_uint64 counters[EAPI_CACHE_COUNTERS];
	pg_atomic_uint64 bytes;
	pg_atomic_uint64 entries;
} CacheStatsSlot;

typedef struct GenShared
{
	uint64		epoch;			/* random, new at every shared memory init */
	pg_atomic_uint64 schema;
	GenTable	tables[EAPI_TABLES];
	int			nworkers;
	CacheStatsSlot stats[FLEXIBLE_ARRAY_MEMBER];
} GenShared;

static GenShared *gen_shared = NULL;
static CacheStatsSlot *my_stats = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static object_access_hook_type prev_object_access_hook = NULL;

/* The trigger's argument names the table. */
static const char *const table_names[EAPI_TABLES] = {
	"categories", "products", "clients", "addresses",
	"bills", "orders", "order_details", "reviews"
};

/* ---- what this backend's transaction changed, until it ends ---- */
#define PENDING_ALL		0x01
#define PENDING_ROWS	0x02
#define PENDING_WIDE	0x04

typedef struct PendingBucket
{
	uint8		table;
	uint16		bucket;
} PendingBucket;

static bool callback_registered = false;
static bool pending_any = false;
static bool pending_schema = false;
static uint8 pending_flags[EAPI_TABLES];
static int	npending_buckets = 0;
static PendingBucket pending_buckets[MAX_PENDING_BUCKETS];

/* Whether this backend is connected to ecommerce_api.database: -1 unknown. */
static int	in_api_database = -1;

PG_FUNCTION_INFO_V1(eapi_track_changes);

/* ----------------------------------------------------------------------
 * Shared memory
 * ----------------------------------------------------------------------
 */

static Size
gen_shared_size(void)
{
	return add_size(offsetof(GenShared, stats),
					mul_size(Max(eapi_workers, 1), sizeof(CacheStatsSlot)));
}

static void
gen_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(gen_shared_size());
}

static void
gen_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	gen_shared = ShmemInitStruct("ecommerce_api generations", gen_shared_size(), &found);
	if (!found)
	{
		/*
		 * Counters restart at 1 with the shared memory (a restart, a crash
		 * recovery); the epoch makes the ETags of before never match again.
		 */
		if (!pg_strong_random(&gen_shared->epoch, sizeof(gen_shared->epoch)))
			gen_shared->epoch = (uint64) GetCurrentTimestamp() ^ (uint64) MyProcPid;
		pg_atomic_init_u64(&gen_shared->schema, 1);
		for (int t = 0; t < EAPI_TABLES; t++)
		{
			GenTable   *table = &gen_shared->tables[t];

			pg_atomic_init_u64(&table->all, 1);
			pg_atomic_init_u64(&table->rows, 1);
			pg_atomic_init_u64(&table->wide, 1);
			for (int b = 0; b < EAPI_BUCKETS; b++)
				pg_atomic_init_u64(&table->buckets[b], 1);
		}
		gen_shared->nworkers = Max(eapi_workers, 1);
		for (int w = 0; w < gen_shared->nworkers; w++)
		{
			CacheStatsSlot *slot = &gen_shared->stats[w];

			for (int c = 0; c < EAPI_CACHE_COUNTERS; c++)
				pg_atomic_init_u64(&slot->counters[c], 0);
			pg_atomic_init_u64(&slot->bytes, 0);
			pg_atomic_init_u64(&slot->entries, 0);
		}
	}
	LWLockRelease(AddinShmemInitLock);
}

/* ----------------------------------------------------------------------
 * Moving the counters after commit
 * ----------------------------------------------------------------------
 */

static void
forget_pending(void)
{
	pending_any = false;
	pending_schema = false;
	memset(pending_flags, 0, sizeof(pending_flags));
	npending_buckets = 0;
}

/*
 * XACT_EVENT_COMMIT runs after ProcArrayEndTransaction (see the top of this
 * file): the commit is visible to new snapshots when the counters move.
 * Nothing here can fail: the transaction is already committed.
 */
static void
apply_pending(void)
{
	if (pending_schema)
		pg_atomic_fetch_add_u64(&gen_shared->schema, 1);
	for (int i = 0; i < npending_buckets; i++)
		pg_atomic_fetch_add_u64(&gen_shared->tables[pending_buckets[i].table]
								.buckets[pending_buckets[i].bucket], 1);
	for (int t = 0; t < EAPI_TABLES; t++)
	{
		GenTable   *table = &gen_shared->tables[t];

		if (pending_flags[t] & PENDING_WIDE)
			pg_atomic_fetch_add_u64(&table->wide, 1);
		if (pending_flags[t] & PENDING_ROWS)
			pg_atomic_fetch_add_u64(&table->rows, 1);
		if (pending_flags[t] & PENDING_ALL)
			pg_atomic_fetch_add_u64(&table->all, 1);
	}
}

static void
generations_xact_callback(XactEvent event, void *arg)
{
	if (!pending_any)
		return;
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			apply_pending();
			forget_pending();
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			forget_pending();
			break;
		case XACT_EVENT_PRE_PREPARE:
			/* COMMIT PREPARED would run no callback of ours: refuse */
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot PREPARE a transaction that changed the tables of ecommerce_api"),
					 errdetail("The API's answer caches are invalidated when such a transaction commits, which COMMIT PREPARED would not do.")));
			break;
		default:
			break;
	}
}

static void
note_pending(void)
{
	if (!callback_registered)
	{
		RegisterXactCallback(generations_xact_callback, NULL);
		callback_registered = true;
	}
	pending_any = true;
}

static void
note_bucket(int table, uint32 bucket)
{
	if (npending_buckets > 0 &&
		pending_buckets[npending_buckets - 1].table == table &&
		pending_buckets[npending_buckets - 1].bucket == bucket)
		return;
	if (npending_buckets == MAX_PENDING_BUCKETS)
	{
		pending_flags[table] |= PENDING_WIDE;
		return;
	}
	pending_buckets[npending_buckets].table = (uint8) table;
	pending_buckets[npending_buckets].bucket = (uint16) bucket;
	npending_buckets++;
}

uint32
eapi_generation_bucket(int64 key)
{
	uint64		k = (uint64) key;

	return hash_bytes_uint32((uint32) k ^ (uint32) (k >> 32)) % EAPI_BUCKETS;
}

/* The bigint id_key column of a tracked table, or InvalidAttrNumber. */
static AttrNumber
id_key_attnum(TupleDesc tupdesc)
{
	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (!att->attisdropped && att->atttypid == INT8OID &&
			strcmp(NameStr(att->attname), "id_key") == 0)
			return att->attnum;
	}
	return InvalidAttrNumber;
}

/*
 * Note the buckets of the rows of a transition table, by their id_key; more
 * rows than MAX_BUCKETED_ROWS (or no id_key) make it "wide".  The table may
 * be read by other triggers: it is read through a read pointer of our own,
 * as a NamedTuplestoreScan does.
 */
static void
note_row_buckets(int table, Relation rel, Tuplestorestate *rows)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	AttrNumber	attnum;
	TupleTableSlot *slot;
	int			readptr;
	int			seen = 0;

	if (rows == NULL || tuplestore_tuple_count(rows) > MAX_BUCKETED_ROWS)
	{
		pending_flags[table] |= PENDING_WIDE;
		return;
	}
	attnum = id_key_attnum(tupdesc);
	if (attnum == InvalidAttrNumber)
	{
		pending_flags[table] |= PENDING_WIDE;
		return;
	}

	readptr = tuplestore_alloc_read_pointer(rows, EXEC_FLAG_REWIND);
	tuplestore_select_read_pointer(rows, readptr);
	tuplestore_rescan(rows);
	slot = MakeSingleTupleTableSlot(tupdesc, &TTSOpsMinimalTuple);
	while (tuplestore_gettupleslot(rows, true, false, slot))
	{
		bool		isnull;
		Datum		id = slot_getattr(slot, attnum, &isnull);

		if (++seen > MAX_BUCKETED_ROWS || isnull)
		{
			pending_flags[table] |= PENDING_WIDE;
			break;
		}
		note_bucket(table, eapi_generation_bucket(DatumGetInt64(id)));
	}
	ExecDropSingleTupleTableSlot(slot);
	/* leave pointer 0 active, as we found it, for any other reader */
	tuplestore_select_read_pointer(rows, 0);
}

/*
 * One row changed (a row trigger: logical replication's apply worker): its
 * bucket, by the old row's id_key, when it was updated or deleted.
 */
static void
note_row(int table, TriggerData *trigdata)
{
	TupleDesc	tupdesc = RelationGetDescr(trigdata->tg_relation);
	AttrNumber	attnum;
	bool		isnull;
	Datum		id;

	if (!TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) &&
		!TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		return;
	pending_flags[table] |= PENDING_ROWS;
	attnum = id_key_attnum(tupdesc);
	id = attnum == InvalidAttrNumber ? (Datum) 0 :
		heap_getattr(trigdata->tg_trigtuple, attnum, tupdesc, &isnull);
	if (attnum == InvalidAttrNumber || isnull)
		pending_flags[table] |= PENDING_WIDE;
	else
		note_bucket(table, eapi_generation_bucket(DatumGetInt64(id)));
}

/*
 * ecommerce_api._track_changes(): AFTER ... FOR EACH STATEMENT trigger of a
 * tracked table, its argument the table's name.  UPDATE and DELETE triggers
 * carry the changed rows as their OLD TABLE (id_key never changes: it is
 * GENERATED ALWAYS).  Also an AFTER ... FOR EACH ROW trigger, for logical
 * replication's apply worker (see the top of this file).  Only notes; the
 * counters move after commit.
 */
Datum
eapi_track_changes(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	int			table = -1;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_AFTER(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s must be called as an AFTER trigger",
						"ecommerce_api._track_changes()")));
	if (trigdata->tg_trigger->tgnargs == 1)
		for (int t = 0; t < EAPI_TABLES; t++)
			if (strcmp(trigdata->tg_trigger->tgargs[0], table_names[t]) == 0)
				table = t;
	if (table < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ecommerce_api._track_changes() needs the name of a tracked table as its argument")));

	/* without the shared memory (library not preloaded) there is no cache */
	if (gen_shared == NULL)
		return PointerGetDatum(NULL);

	note_pending();
	pending_flags[table] |= PENDING_ALL;
	if (TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		note_row(table, trigdata);
	else if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ||
		TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
	{
		pending_flags[table] |= PENDING_ROWS;
		note_row_buckets(table, trigdata->tg_relation, trigdata->tg_oldtable);
	}
	else if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		pending_flags[table] |= PENDING_ROWS | PENDING_WIDE;

	return PointerGetDatum(NULL);
}

/*
 * Any object created, altered or dropped in the API's database moves the
 * schema counter after commit: a function replaced, a table dropped, the
 * extension updated or dropped, a trigger disabled (pg_restore
 * --disable-triggers: the re-enable, after its COPY, moves it again).
 */
static void
generations_object_access(ObjectAccessType access, Oid classId, Oid objectId,
						  int subId, void *arg)
{
	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);

	if (gen_shared == NULL ||
		(access != OAT_POST_CREATE && access != OAT_POST_ALTER && access != OAT_DROP))
		return;
	if (in_api_database < 0)
	{
		char	   *name = get_database_name(MyDatabaseId);

		in_api_database = name && strcmp(name, eapi_database) == 0;
	}
	if (!in_api_database)
		return;
	note_pending();
	pending_schema = true;
}

/* Called from _PG_init in the postmaster. */
void
eapi_generations_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = gen_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = gen_shmem_startup;
	prev_object_access_hook = object_access_hook;
	object_access_hook = generations_object_access;
}

/* ----------------------------------------------------------------------
 * Reading the counters (cache.c)
 * ----------------------------------------------------------------------
 */

bool
eapi_generations_available(void)
{
	return gen_shared != NULL;
}

uint64
eapi_generations_epoch(void)
{
	return gen_shared->epoch;
}

uint64
eapi_generation_schema(void)
{
	return pg_atomic_read_u64(&gen_shared->schema);
}

uint64
eapi_generation_read(EapiTable table, EapiGenKind kind, uint32 bucket)
{
	GenTable   *t = &gen_shared->tables[table];

	switch (kind)
	{
		case EAPI_GEN_ALL:
			return pg_atomic_read_u64(&t->all);
		case EAPI_GEN_ROWS:
			return pg_atomic_read_u64(&t->rows);
		case EAPI_GEN_WIDE:
			return pg_atomic_read_u64(&t->wide);
		case EAPI_GEN_BUCKET:
			return pg_atomic_read_u64(&t->buckets[bucket % EAPI_BUCKETS]);
	}
	return 0;
}

/* ----------------------------------------------------------------------
 * Cache statistics: one slot per worker, written only by its owner
 * ----------------------------------------------------------------------
 */

void
eapi_cache_stats_attach(int worker_number)
{
	if (gen_shared && worker_number >= 1 && worker_number <= gen_shared->nworkers)
		my_stats = &gen_shared->stats[worker_number - 1];
}

void
eapi_cache_count(EapiCacheCounter counter)
{
	if (my_stats)
		pg_atomic_write_u64(&my_stats->counters[counter],
							pg_atomic_read_u64(&my_stats->counters[counter]) + 1);
}

void
eapi_cache_publish_size(uint64 bytes, uint64 entries)
{
	if (my_stats)
	{
		pg_atomic_write_u64(&my_stats->bytes, bytes);
		pg_atomic_write_u64(&my_stats->entries, entries);
	}
}

/* counters holds EAPI_CACHE_COUNTERS values. */
void
eapi_cache_totals(uint64 *counters, uint64 *bytes, uint64 *entries)
{
	memset(counters, 0, EAPI_CACHE_COUNTERS * sizeof(uint64));
	*bytes = 0;
	*entries = 0;
	if (gen_shared == NULL)
		return;
	for (int w = 0; w < gen_shared->nworkers; w++)
	{
		CacheStatsSlot *slot = &gen_shared->stats[w];

		for (int c = 0; c < EAPI_CACHE_COUNTERS; c++)
			counters[c] += pg_atomic_read_u64(&slot->counters[c]);
		*bytes += pg_atomic_read_u64(&slot->bytes);
		*entries += pg_atomic_read_u64(&slot->entries);
	}
}
