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

#endif							/* ECOMMERCE_API_COMPAT_H */
