/*-------------------------------------------------------------------------
 *
 * consistency.c
 *		Read-your-writes on hot standbys: the consistency token.
 *
 * Every answer to a write carries X-Consistency-Token, the end of its
 * commit record in the WAL, written like a pg_lsn ("0/16B3748").  A request
 * that brings the token back (header, or cookie of the same name) to a
 * standby is answered only once that standby has replayed the commit: the
 * worker waits until pg_last_wal_replay_lsn() >= token, for at most
 * ecommerce_api.replica_wait_timeout, then answers 503 with Retry-After
 * rather than stale data.  A primary has every commit it acknowledged and
 * answers at once; so does a standby promoted while the request waited.
 *
 * The startup process does not wake us when it replays a record, so the
 * wait is a sleep on the latch that starts at 1 ms and grows to 10 ms: a
 * standby that is nearly caught up answers within a millisecond or two, and
 * a long wait costs a few wakeups per 10 ms, not a spinning CPU.  The worker
 * serves nothing else meanwhile, which is why the wait is bounded and short
 * by default.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "access/xlogrecovery.h"
#include "miscadmin.h"
#include "replication/walreceiver.h"
#include "storage/latch.h"
#include "utils/pg_lsn.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "ecommerce_api.h"

#define MIN_SLEEP_MS	1
#define MAX_SLEEP_MS	10

/*
 * Parse a token: the text form of a pg_lsn, nothing around it.  Returns
 * false for anything else.
 */
bool
eapi_consistency_parse(const char *text, XLogRecPtr *lsn)
{
	bool		have_error = false;
	size_t		len = strlen(text);

	/* at most "FFFFFFFF/FFFFFFFF"; pg_lsn_in_internal checks the rest */
	if (len < 3 || len > 17)
		return false;
	*lsn = pg_lsn_in_internal(text, &have_error);
	return !have_error;
}

/* Write a token for lsn into buf (EAPI_CONSISTENCY_TOKEN_LEN bytes). */
void
eapi_consistency_format(XLogRecPtr lsn, char *buf)
{
	snprintf(buf, EAPI_CONSISTENCY_TOKEN_LEN, "%X/%X", LSN_FORMAT_ARGS(lsn));
}

/* Whether this node has every commit up to lsn. */
static bool
has_replayed(XLogRecPtr lsn)
{
	return !RecoveryInProgress() || GetXLogReplayRecPtr(NULL) >= lsn;
}

/*
 * Wait until this node has replayed lsn.  Returns true when it has (at
 * once on a primary), false when replica_wait_timeout passed first, or the
 * worker is asked to stop.
 */
bool
eapi_consistency_wait(XLogRecPtr lsn)
{
	TimestampTz deadline;
	long		sleep_ms = MIN_SLEEP_MS;

	if (has_replayed(lsn))
		return true;

	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
										   eapi_replica_wait_timeout);
	for (;;)
	{
		long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
														   deadline);

		if (left <= 0 || ProcDiePending)
			return false;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Min(sleep_ms, left), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		if (has_replayed(lsn))
			return true;
		sleep_ms = Min(sleep_ms * 2, MAX_SLEEP_MS);
	}
}

/*
 * This node's replication role and how far its replay is behind what it
 * has received: lag_bytes is received - replayed WAL, lag_seconds the age
 * of the last replayed commit while replay is behind (0 when caught up).
 * A primary has no lag.
 */
void
eapi_replication_state(bool *standby, int64 *lag_bytes, double *lag_seconds)
{
	XLogRecPtr	receive;
	XLogRecPtr	replay;
	TimestampTz last_commit;

	*standby = RecoveryInProgress();
	*lag_bytes = 0;
	*lag_seconds = 0;
	if (!*standby)
		return;

	receive = GetWalRcvFlushRecPtr(NULL, NULL);
	replay = GetXLogReplayRecPtr(NULL);
	if (receive > replay)
	{
		*lag_bytes = (int64) (receive - replay);
		last_commit = GetLatestXTime();
		if (last_commit != 0)
			*lag_seconds = Max(0.0, (GetCurrentTimestamp() - last_commit) / 1000000.0);
	}
}
