/*-------------------------------------------------------------------------
 *
 * idempotency.c
 *		Idempotent POSTs: the Idempotency-Key records.
 *
 * A POST that carries an Idempotency-Key runs at most once.  Inside the
 * request's transaction the gateway first claims the key
 * (ecommerce_api.idempotency_claim, which holds the key's advisory lock to
 * the end of the transaction, or refuses at once with 409 while another
 * request holds it), and either replays the stored answer or runs the route
 * and stores its answer (idempotency_record) before committing.  The record
 * and the write commit together, or neither does, and the record replicates
 * with the write: a retry that reaches a promoted standby replays too.
 *
 * A request is identified by a SHA-256 of its method, path and body, so the
 * same key sent with another request is told apart (422).
 *
 * Expired records are deleted by worker 1 in its idle time, a small batch
 * per transaction that skips rows a request holds (eapi_idempotency_sweep).
 *
 * This file runs its statements inside transactions the gateway (or, for
 * the sweep, it) opens; like gateway.c it is database code, not HTTP code.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "ecommerce_api.h"

/* How many expired records one sweep transaction deletes at most. */
#define SWEEP_BATCH				500

/* The longest pause between sweeps, whatever the TTL. */
#define SWEEP_MAX_INTERVAL_MS	60000

/* The pause between sweeps: the TTL, but never more than a minute. */
static long
sweep_interval_ms(void)
{
	return Min((long) eapi_idempotency_ttl * 1000L, (long) SWEEP_MAX_INTERVAL_MS);
}

static SPIPlanPtr scope_plan = NULL;
static SPIPlanPtr claim_plan = NULL;
static SPIPlanPtr record_plan = NULL;
static SPIPlanPtr sweep_plan = NULL;

/*
 * When the last sweep ran (0: never, so the first is due at once), and
 * whether it left expired records behind (a full batch: the next is due at
 * once).  The interval is applied when asked, so a new TTL applies at once.
 */
static TimestampTz last_sweep = 0;
static bool sweep_more = false;

/* When the next sweep is due. */
static TimestampTz
next_sweep(void)
{
	if (last_sweep == 0 || sweep_more)
		return last_sweep;
	return last_sweep + sweep_interval_ms() * 1000L;
}

/*
 * Whether a header value may be an Idempotency-Key: 1 to 255 visible ASCII
 * characters (the IETF draft's key is a string; we keep it printable and
 * bounded, so it can be logged and indexed as it is).
 */
bool
eapi_idempotency_key_is_valid(const char *key)
{
	size_t		len = strlen(key);

	if (len < 1 || len > EAPI_IDEMPOTENCY_KEY_MAX)
		return false;
	for (const char *p = key; *p; p++)
		if (*p < 0x21 || *p > 0x7e)
			return false;
	return true;
}

/* Fill idem for a request; its fingerprint is computed when it is claimed. */
void
eapi_idempotency_init(EapiIdempotency *idem, const char *key, const char *token,
					  const char *method, const char *path,
					  const char *body, size_t body_len)
{
	idem->key = key;
	idem->token = token;
	idem->method = method;
	idem->path = path;
	idem->body = body;
	idem->body_len = body_len;
	idem->scope = NULL;
	idem->request[0] = '\0';
}

/*
 * The request's fingerprint: the hex SHA-256 of method, path and body,
 * NUL-separated so that "ab"+"c" and "a"+"bc" differ.  In a transaction:
 * the hash context belongs to its resource owner.
 */
static void
fingerprint(EapiIdempotency *idem)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	uint8		digest[PG_SHA256_DIGEST_LENGTH];

	if (pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) idem->method, strlen(idem->method) + 1) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) idem->path, strlen(idem->path) + 1) < 0 ||
		(idem->body && pg_cryptohash_update(ctx, (const uint8 *) idem->body, idem->body_len) < 0) ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute the SHA-256 of a request: %s",
			 pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
	hex_encode((const char *) digest, sizeof(digest), idem->request);
	idem->request[2 * PG_SHA256_DIGEST_LENGTH] = '\0';
}

/* The TTL as an interval literal. */
static char *
ttl_text(void)
{
	return psprintf("%d seconds", eapi_idempotency_ttl);
}

/*
 * Claim the request's key.  Returns true, with the stored status and body
 * in *result, when the request is a repeat to replay; false when it is to
 * run.  Raises EA409 (the key is busy) or EA422 (another request's key).
 */
bool
eapi_idempotency_claim(EapiIdempotency *idem, MemoryContext result_context,
					   ApiResult *result)
{
	const char *argv[4];
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	bool		isnull;
	int			rc;
	bool		replay = false;

	fingerprint(idem);

	/* the client's scope: its id when auth_mode = required and it sent a token */
	if (idem->token)
	{
		if (scope_plan == NULL)
			scope_plan = eapi_prepare_kept("SELECT ecommerce_api._idempotency_scope($1)", 1);
		values[0] = CStringGetTextDatum(idem->token);
		rc = SPI_execute_plan(scope_plan, values, NULL, true, 1);
		if (rc != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "unexpected SPI result %s", SPI_result_code_string(rc));
		idem->scope = MemoryContextStrdup(result_context,
										  SPI_getvalue(SPI_tuptable->vals[0],
													   SPI_tuptable->tupdesc, 1));
	}
	else
		idem->scope = "";

	if (claim_plan == NULL)
		claim_plan = eapi_prepare_kept(
			"SELECT c.status, c.body FROM ecommerce_api.idempotency_claim($1, $2, $3, $4::interval) c",
			4);
	argv[0] = idem->scope;
	argv[1] = idem->key;
	argv[2] = idem->request;
	argv[3] = ttl_text();
	for (int i = 0; i < 4; i++)
		values[i] = CStringGetTextDatum(argv[i]);
	rc = SPI_execute_plan(claim_plan, values, nulls, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "unexpected SPI result %s", SPI_result_code_string(rc));
	if (SPI_processed == 1)
	{
		HeapTuple	tuple = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		int			status = DatumGetInt32(SPI_getbinval(tuple, desc, 1, &isnull));
		Datum		body = SPI_getbinval(tuple, desc, 2, &isnull);
		MemoryContext oldcxt = MemoryContextSwitchTo(result_context);
		text	   *t = DatumGetTextPP(body);

		resetStringInfo(&result->body);
		appendBinaryStringInfo(&result->body, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
		MemoryContextSwitchTo(oldcxt);
		result->status = status;
		result->replayed = true;
		replay = true;
	}
	return replay;
}

/* Store the answer of a request that ran, in its transaction. */
void
eapi_idempotency_record(const EapiIdempotency *idem, const ApiResult *result)
{
	Datum		values[5];
	int			rc;

	if (record_plan == NULL)
		record_plan = eapi_prepare_kept(
			"SELECT ecommerce_api.idempotency_record($1, $2, $3, $4::integer, $5)", 5);
	values[0] = CStringGetTextDatum(idem->scope);
	values[1] = CStringGetTextDatum(idem->key);
	values[2] = CStringGetTextDatum(idem->request);
	values[3] = CStringGetTextDatum(psprintf("%d", result->status));
	values[4] = PointerGetDatum(cstring_to_text_with_len(result->body.data,
														 result->body.len));
	rc = SPI_execute_plan(record_plan, values, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "unexpected SPI result %s", SPI_result_code_string(rc));
}

/*
 * Milliseconds until the next sweep is due (0: now), or -1 when this node
 * does not sweep (a standby replays the primary's deletions).
 */
long
eapi_idempotency_sweep_due_ms(void)
{
	TimestampTz now;

	if (RecoveryInProgress())
		return -1;
	now = GetCurrentTimestamp();
	if (next_sweep() <= now)
		return 0;
	return (long) ((next_sweep() - now) / 1000) + 1;
}

/*
 * Whether the sweep is late by a whole interval: a worker that is never idle
 * sweeps anyway, between two passes.
 */
bool
eapi_idempotency_sweep_overdue(void)
{
	return !RecoveryInProgress() &&
		GetCurrentTimestamp() >= next_sweep() + sweep_interval_ms() * 1000L;
}

/*
 * Delete one batch of expired records in a transaction of its own.  A full
 * batch means there may be more: the next one is due at once, else after an
 * interval.  A failure (the extension is not installed, ...) is logged at
 * DEBUG1 and tried again an interval later; it never ends the worker.
 */
void
eapi_idempotency_sweep(void)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	volatile int deleted = 0;

	PG_TRY();
	{
		Datum		values[2];
		bool		isnull;
		int			rc;

		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, "idempotency sweep");

		if (sweep_plan == NULL)
			sweep_plan = eapi_prepare_kept(
				"SELECT ecommerce_api.idempotency_sweep($1::interval, $2::integer)", 2);
		values[0] = CStringGetTextDatum(ttl_text());
		values[1] = CStringGetTextDatum(psprintf("%d", SWEEP_BATCH));
		rc = SPI_execute_plan(sweep_plan, values, NULL, false, 1);
		if (rc != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "unexpected SPI result %s", SPI_result_code_string(rc));
		deleted = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
											  SPI_tuptable->tupdesc, 1, &isnull));
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		ereport(DEBUG1,
				(errmsg("ecommerce_api idempotency sweep failed: %s", edata->message)));
		FreeErrorData(edata);
	}
	PG_END_TRY();

	MemoryContextSwitchTo(oldcxt);
	pgstat_report_activity(STATE_IDLE, NULL);
	if (deleted > 0)
		elog(DEBUG1, "ecommerce_api deleted %d expired idempotency keys", deleted);
	last_sweep = GetCurrentTimestamp();
	sweep_more = deleted >= SWEEP_BATCH;
}
