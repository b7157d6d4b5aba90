/*-------------------------------------------------------------------------
 *
 * cache.h
 *		Change generations (generations.c) and the per-worker answer cache
 *		(cache.c): what the rest of ecommerce_api may use of them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef EAPI_CACHE_H
#define EAPI_CACHE_H

#include "lib/stringinfo.h"

struct ApiRoute;

/* The shop's tables whose changes are tracked, in this order. */
typedef enum EapiTable
{
	EAPI_T_CATEGORIES,
	EAPI_T_PRODUCTS,
	EAPI_T_CLIENTS,
	EAPI_T_ADDRESSES,
	EAPI_T_BILLS,
	EAPI_T_ORDERS,
	EAPI_T_ORDER_DETAILS,
	EAPI_T_REVIEWS,
	EAPI_TABLES
} EapiTable;

/* Which counter of a table an answer depends on. */
typedef enum EapiGenKind
{
	EAPI_GEN_ALL,				/* any committed change: a list's rows */
	EAPI_GEN_ROWS,				/* any existing row changed or removed */
	EAPI_GEN_WIDE,				/* rows changed that were not told by bucket */
	EAPI_GEN_BUCKET				/* rows whose key hashes to one bucket */
} EapiGenKind;

#define EAPI_MAX_SAMPLE		6

/*
 * The counters an answer depends on, read before its snapshot was taken.
 * Equal samples (same epoch) mean no change to those data was committed in
 * between.
 */
typedef struct EapiGenSample
{
	int			n;
	uint64		values[EAPI_MAX_SAMPLE];
} EapiGenSample;

/* ---- generations.c ---- */
extern void eapi_generations_init(void);
extern bool eapi_generations_available(void);
extern uint64 eapi_generations_epoch(void);
extern uint64 eapi_generation_schema(void);
extern uint64 eapi_generation_read(EapiTable table, EapiGenKind kind, uint32 bucket);
extern uint32 eapi_generation_bucket(int64 key);

/* Per-worker cache statistics, in shared memory for /metrics and health. */
typedef enum EapiCacheCounter
{
	EAPI_CACHE_HITS,
	EAPI_CACHE_MISSES,
	EAPI_CACHE_EVICTIONS,
	EAPI_CACHE_INVALIDATIONS,
	EAPI_CACHE_NOT_MODIFIED,
	EAPI_CACHE_COUNTERS
} EapiCacheCounter;

extern void eapi_cache_stats_attach(int worker_number);
extern void eapi_cache_count(EapiCacheCounter counter);
extern void eapi_cache_publish_size(uint64 bytes, uint64 entries);
extern void eapi_cache_totals(uint64 *counters, uint64 *bytes, uint64 *entries);

/* ---- cache.c ---- */

/*
 * A GET of a cacheable route: its key, the generations it depends on, read
 * before any snapshot, and the ETag they make.
 */
typedef struct EapiCacheProbe
{
	const struct ApiRoute *route;
	StringInfoData key;
	uint32		key_hash;
	EapiGenSample sample;
	char		etag[128];
} EapiCacheProbe;

extern int	eapi_cache_size;	/* kB per worker, 0 = no answers kept */

extern bool eapi_cache_begin(const struct ApiRoute *route, const char *const *argv,
							 EapiCacheProbe *probe);
extern bool eapi_cache_lookup(EapiCacheProbe *probe, const char **body, size_t *len);
extern void eapi_cache_store(EapiCacheProbe *probe, const char *body, size_t len);
extern bool eapi_etag_matches(const char *if_none_match, const char *etag);
extern void eapi_cache_metrics_render(StringInfo out);

#endif							/* EAPI_CACHE_H */
