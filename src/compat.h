/*-------------------------------------------------------------------------
 *
 * compat.h
 *		The differences between the PostgreSQL major versions ecommerce_api
 *		builds against (15, 17, 18), in one place.
 *
 * Each shim names the version that changed the API and keeps the call sites
 * written once.  When a version stops being supported, its branch goes.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ECOMMERCE_API_COMPAT_H
#define ECOMMERCE_API_COMPAT_H

/*
 * 18 moved the WaitEventSet API (CreateWaitEventSet, AddWaitEventToSet,
 * WaitEventSetWait, WL_*) out of latch.h into waiteventset.h.
 */
#if PG_VERSION_NUM >= 180000
#include "storage/waiteventset.h"
#endif
#include "storage/latch.h"

/*
 * 17 tracks a WaitEventSet with a ResourceOwner instead of allocating it in a
 * caller's memory context.  The workers' set lives as long as the process:
 * no owner (it is then allocated in TopMemoryContext, as before).
 */
#if PG_VERSION_NUM >= 170000
#define eapi_create_wait_event_set(nevents) CreateWaitEventSet(NULL, (nevents))
#else
#define eapi_create_wait_event_set(nevents) CreateWaitEventSet(TopMemoryContext, (nevents))
#endif

/*
 * A GUC check hook's "extra" is freed by guc.c: with free() up to 15, with
 * guc_free() (pfree in GUC's memory context) from 16, which refuses -- a FATAL
 * at the next reload -- a pointer malloc() returned.  eapi_guc_extra() takes
 * a malloc'd block of size bytes and returns it as guc.c will free it (a copy
 * from 16, then the block is freed), or NULL when out of memory.
 */
#include "utils/guc.h"
static inline void *
eapi_guc_extra(void *block, size_t size)
{
#if PG_VERSION_NUM >= 160000
	void	   *copy = guc_malloc(LOG, size);

	if (copy)
		memcpy(copy, block, size);
	free(block);
	return copy;
#else
	return block;
#endif
}

/*
 * The JSON parser's semantic actions return a JsonParseErrorType from 16 (void
 * before): declare them EapiJsonAction and end them with EAPI_JSON_DONE.  17
 * added a first argument to makeJsonLexContextCstringLen(), a context to fill
 * (NULL: allocate one).
 */
#include "common/jsonapi.h"
#if PG_VERSION_NUM >= 160000
typedef JsonParseErrorType EapiJsonAction;
#define EAPI_JSON_DONE return JSON_SUCCESS
#else
typedef void EapiJsonAction;
#define EAPI_JSON_DONE return
#endif
#if PG_VERSION_NUM >= 170000
#define eapi_json_lex_context(json, len, encoding, need_escapes) \
	makeJsonLexContextCstringLen(NULL, (json), (len), (encoding), (need_escapes))
#else
#define eapi_json_lex_context(json, len, encoding, need_escapes) \
	makeJsonLexContextCstringLen((json), (len), (encoding), (need_escapes))
#endif

#endif							/* ECOMMERCE_API_COMPAT_H */
