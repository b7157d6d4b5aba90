/*-------------------------------------------------------------------------
 *
 * cache.c
 *		The per-worker answer cache and the ETags of GET answers.
 *
 * A GET of a public read route (lists, single rows, the product filter) is
 * keyed by its route and arguments.  Before the gateway starts the request's
 * transaction, eapi_cache_begin() reads the change generations the answer
 * depends on (generations.c); they make the answer's ETag, and a kept answer
 * built under the same generations is served as is, with no transaction.
 * Why that can never serve an answer missing an acknowledged write is
 * written at the top of generations.c; the one rule this file must keep is
 * that the generations are read BEFORE the snapshot the answer is built
 * from, so eapi_cache_begin() runs before the gateway and ends with a
 * memory barrier.
 *
 * Not cached, and given no ETag: anything on a hot standby (replay fires no
 * trigger, so its counters never move: nothing could be proven fresh), any
 * answer in auth_mode = required (they depend on the token), routes not in
 * route_deps below (writes, login, health, metrics, the API description),
 * and answers other than 200.
 *
 * Memory: at most ecommerce_api.cache_size per worker (keys, bodies and
 * bookkeeping counted), least recently used answers evicted first.  0 keeps
 * nothing; ETags and 304s still work then, since they need only the
 * counters.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "common/hashfn.h"
#include "lib/ilist.h"
#include "port/atomics.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "ecommerce_api.h"
#include "cache.h"

int			eapi_cache_size = 16384;	/* kB */

/* What a cacheable route's answer is built from. */
typedef struct RouteDeps
{
	const char *function;
	int			point;			/* table of a point read by {id}, or -1 */
	uint32		lists;			/* tables whose any change matters (bits) */
	uint32		embeds;			/* tables with an embedded row (bits) */
} RouteDeps;

#define T(t)	(1u << (t))

static const RouteDeps route_deps[] = {
	{"api_categories_list", -1, T(EAPI_T_CATEGORIES), 0},
	{"api_categories_get", EAPI_T_CATEGORIES, 0, 0},
	{"api_products_list", -1, T(EAPI_T_PRODUCTS) | T(EAPI_T_CATEGORIES), 0},
	{"api_products_filter", -1, T(EAPI_T_PRODUCTS) | T(EAPI_T_CATEGORIES), 0},
	{"api_products_get", EAPI_T_PRODUCTS, 0, T(EAPI_T_CATEGORIES)},
	{"api_clients_list", -1, T(EAPI_T_CLIENTS), 0},
	{"api_clients_get", EAPI_T_CLIENTS, 0, 0},
	{"api_addresses_list", -1, T(EAPI_T_ADDRESSES), 0},
	{"api_addresses_get", EAPI_T_ADDRESSES, 0, 0},
	{"api_bills_list", -1, T(EAPI_T_BILLS), 0},
	{"api_bills_get", EAPI_T_BILLS, 0, 0},
	{"api_orders_list", -1, T(EAPI_T_ORDERS), 0},
	{"api_orders_get", EAPI_T_ORDERS, 0, 0},
	{"api_order_details_list", -1, T(EAPI_T_ORDER_DETAILS) | T(EAPI_T_PRODUCTS), 0},
	{"api_order_details_get", EAPI_T_ORDER_DETAILS, 0, T(EAPI_T_PRODUCTS)},
	{"api_reviews_list", -1, T(EAPI_T_REVIEWS), 0},
	{"api_reviews_get", EAPI_T_REVIEWS, 0, 0},
};

/* Per route index: its deps, or NULL when not cacheable (built once). */
static const RouteDeps **deps_by_route = NULL;

typedef struct CacheEntry
{
	uint64		hash;			/* hash table key: hash of the full key */
	dlist_node	lru;			/* head = most recently used */
	char	   *key;
	int			key_len;
	char	   *body;
	size_t		body_len;
	Size		bytes;			/* what it counts against the cap */
	EapiGenSample sample;
} CacheEntry;

static HTAB *cache_table = NULL;
static MemoryContext cache_context = NULL;
static dlist_head cache_lru = DLIST_STATIC_INIT(cache_lru);
static Size cache_bytes = 0;
static uint64 cache_entries = 0;

/* ----------------------------------------------------------------------
 * Keys, generations, ETags
 * ----------------------------------------------------------------------
 */

static const RouteDeps *
deps_of(const ApiRoute *route)
{
	if (deps_by_route == NULL)
	{
		int			n = eapi_route_count();

		deps_by_route = MemoryContextAllocZero(TopMemoryContext, n * sizeof(RouteDeps *));
		for (int i = 0; i < n; i++)
		{
			const ApiRoute *r = eapi_route_at(i);

			if (r->kind != ROUTE_SQL || strcmp(r->method, "GET") != 0 || r->function == NULL)
				continue;
			for (size_t d = 0; d < lengthof(route_deps); d++)
				if (strcmp(r->function, route_deps[d].function) == 0)
					deps_by_route[i] = &route_deps[d];
		}
	}
	return deps_by_route[eapi_route_index(route)];
}

/* A path id of plain digits, as a bigint; false for anything else. */
static bool
parse_point_id(const char *text, int64 *id)
{
	int64		value = 0;
	int			len = 0;

	if (text == NULL)
		return false;
	for (const char *p = text; *p; p++, len++)
	{
		if (*p < '0' || *p > '9' || len >= 18)
			return false;
		value = value * 10 + (*p - '0');
	}
	*id = value;
	return len > 0;
}

/*
 * Is this GET answer cacheable?  If so, fill in its key and read the
 * generations it depends on, now, before the gateway takes its snapshot,
 * and make its ETag.
 */
bool
eapi_cache_begin(const ApiRoute *route, const char *const *argv, EapiCacheProbe *probe)
{
	const RouteDeps *deps;
	EapiGenSample *s = &probe->sample;
	int64		id = 0;
	int			len;

	if (!eapi_generations_available() ||
		eapi_auth_mode != EAPI_AUTH_OPEN ||
		RecoveryInProgress())
		return false;
	deps = deps_of(route);
	if (deps == NULL)
		return false;
	if (deps->point >= 0 && !parse_point_id(argv[0], &id))
		return false;

	probe->route = route;
	initStringInfo(&probe->key);
	appendStringInfo(&probe->key, "%d", eapi_route_index(route));
	for (int i = 0; i < route->nargs; i++)
	{
		/* length-prefixed: no argument can pass for two */
		if (argv[i] == NULL)
			appendStringInfoString(&probe->key, "|-");
		else
		{
			appendStringInfo(&probe->key, "|%zu:", strlen(argv[i]));
			appendStringInfoString(&probe->key, argv[i]);
		}
	}
	probe->key_hash = hash_bytes((const unsigned char *) probe->key.data, probe->key.len);

	s->n = 0;
	s->values[s->n++] = eapi_generation_schema();
	if (deps->point >= 0)
	{
		s->values[s->n++] = eapi_generation_read(deps->point, EAPI_GEN_WIDE, 0);
		s->values[s->n++] = eapi_generation_read(deps->point, EAPI_GEN_BUCKET,
												 eapi_generation_bucket(id));
	}
	for (int t = 0; t < EAPI_TABLES; t++)
	{
		if (deps->lists & T(t))
			s->values[s->n++] = eapi_generation_read(t, EAPI_GEN_ALL, 0);
		if (deps->embeds & T(t))
			s->values[s->n++] = eapi_generation_read(t, EAPI_GEN_ROWS, 0);
	}
	Assert(s->n <= EAPI_MAX_SAMPLE);

	/*
	 * The reads above must not move past the snapshot the gateway takes next
	 * (GetSnapshotData takes ProcArrayLock, a barrier too; this one says it).
	 */
	pg_memory_barrier();

	/* a strong ETag: the instance's epoch, the key, the generations */
	len = snprintf(probe->etag, sizeof(probe->etag), "\"%016llx-%08x",
				   (unsigned long long) eapi_generations_epoch(), probe->key_hash);
	for (int i = 0; i < s->n && len < (int) sizeof(probe->etag) - 2; i++)
		len += snprintf(probe->etag + len, sizeof(probe->etag) - len, "%c%llx",
						i == 0 ? '-' : '.', (unsigned long long) s->values[i]);
	if (len >= (int) sizeof(probe->etag) - 2)
		return false;			/* cannot happen with 6 values */
	probe->etag[len++] = '"';
	probe->etag[len] = '\0';
	return true;
}

/*
 * If-None-Match: a list of entity tags or "*" (RFC 9110, 13.1.2).  It uses
 * the weak comparison, so W/"x" matches "x".  "*" is not taken as a match:
 * whether the resource exists is only known by running it.
 */
bool
eapi_etag_matches(const char *if_none_match, const char *etag)
{
	size_t		etag_len = strlen(etag);
	const char *p = if_none_match;

	while (*p)
	{
		const char *end;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (*p != '"')
			return false;
		end = strchr(p + 1, '"');
		if (end == NULL)
			return false;
		if ((size_t) (end + 1 - p) == etag_len && strncmp(p, etag, etag_len) == 0)
			return true;
		p = end + 1;
	}
	return false;
}

/* ----------------------------------------------------------------------
 * The cache
 * ----------------------------------------------------------------------
 */

static void
cache_publish(void)
{
	eapi_cache_publish_size(cache_bytes, cache_entries);
}

static void
entry_free(CacheEntry *entry)
{
	dlist_delete(&entry->lru);
	cache_bytes -= entry->bytes;
	cache_entries--;
	pfree(entry->key);
	pfree(entry->body);
	hash_search(cache_table, &entry->hash, HASH_REMOVE, NULL);
}

/* Evict least recently used answers until the cache holds at most cap. */
static void
evict_to(Size cap)
{
	while (cache_bytes > cap && !dlist_is_empty(&cache_lru))
	{
		CacheEntry *oldest = dlist_tail_element(CacheEntry, lru, &cache_lru);

		entry_free(oldest);
		eapi_cache_count(EAPI_CACHE_EVICTIONS);
	}
}

static Size
cache_cap(void)
{
	return (Size) eapi_cache_size * 1024;
}

/*
 * The kept answer for this probe, when it was built under the same
 * generations.  A kept answer of other generations is dropped (counted as
 * an invalidation).  Counts a hit or a miss while the cache is on.
 */
bool
eapi_cache_lookup(EapiCacheProbe *probe, const char **body, size_t *len)
{
	CacheEntry *entry;
	uint64		hash;

	if (eapi_cache_size <= 0)
	{
		/* turned off by a reload: give the memory back */
		if (cache_entries > 0)
		{
			evict_to(0);
			cache_publish();
		}
		return false;
	}
	if (cache_table == NULL)
	{
		eapi_cache_count(EAPI_CACHE_MISSES);
		return false;
	}

	hash = hash_bytes_extended((const unsigned char *) probe->key.data, probe->key.len, 0);
	entry = hash_search(cache_table, &hash, HASH_FIND, NULL);
	if (entry == NULL ||
		entry->key_len != probe->key.len ||
		memcmp(entry->key, probe->key.data, probe->key.len) != 0)
	{
		eapi_cache_count(EAPI_CACHE_MISSES);
		return false;
	}
	if (entry->sample.n != probe->sample.n ||
		memcmp(entry->sample.values, probe->sample.values,
			   probe->sample.n * sizeof(uint64)) != 0)
	{
		entry_free(entry);
		cache_publish();
		eapi_cache_count(EAPI_CACHE_INVALIDATIONS);
		eapi_cache_count(EAPI_CACHE_MISSES);
		return false;
	}

	dlist_move_head(&cache_lru, &entry->lru);
	eapi_cache_count(EAPI_CACHE_HITS);
	*body = entry->body;
	*len = entry->body_len;
	return true;
}

/*
 * Keep a 200 answer built after eapi_cache_begin() read the probe's
 * generations.  An answer larger than a quarter of the cache is not kept.
 */
void
eapi_cache_store(EapiCacheProbe *probe, const char *body, size_t len)
{
	CacheEntry *entry;
	uint64		hash;
	bool		found;
	Size		bytes = sizeof(CacheEntry) + probe->key.len + len + 64;

	if (eapi_cache_size <= 0 || bytes > cache_cap() / 4)
		return;

	if (cache_table == NULL)
	{
		HASHCTL		ctl;

		cache_context = AllocSetContextCreate(TopMemoryContext,
											  "ecommerce_api answer cache",
											  ALLOCSET_DEFAULT_SIZES);
		ctl.keysize = sizeof(uint64);
		ctl.entrysize = sizeof(CacheEntry);
		ctl.hcxt = cache_context;
		cache_table = hash_create("ecommerce_api answer cache", 1024, &ctl,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}

	hash = hash_bytes_extended((const unsigned char *) probe->key.data, probe->key.len, 0);
	entry = hash_search(cache_table, &hash, HASH_FIND, NULL);
	if (entry)
		entry_free(entry);		/* another key of the same hash, or older */
	evict_to(cache_cap() - bytes);

	entry = hash_search(cache_table, &hash, HASH_ENTER, &found);
	Assert(!found);
	entry->hash = hash;
	entry->key = MemoryContextAlloc(cache_context, probe->key.len);
	memcpy(entry->key, probe->key.data, probe->key.len);
	entry->key_len = probe->key.len;
	entry->body = MemoryContextAlloc(cache_context, Max(len, 1));
	memcpy(entry->body, body, len);
	entry->body_len = len;
	entry->bytes = bytes;
	entry->sample = probe->sample;
	dlist_push_head(&cache_lru, &entry->lru);
	cache_bytes += bytes;
	cache_entries++;
	cache_publish();
}

/* The cache's lines of GET /metrics, all workers added up. */
void
eapi_cache_metrics_render(StringInfo out)
{
	uint64		counters[EAPI_CACHE_COUNTERS];
	uint64		bytes;
	uint64		entries;
	static const char *const names[EAPI_CACHE_COUNTERS][2] = {
		{"hits", "GET answers served from a worker's answer cache"},
		{"misses", "Cacheable GET answers built by a transaction while the cache was on"},
		{"evictions", "Kept answers dropped to stay within cache_size"},
		{"invalidations", "Kept answers found stale (their data changed) and dropped"},
		{"not_modified", "304 Not Modified answers to If-None-Match"},
	};

	eapi_cache_totals(counters, &bytes, &entries);
	for (int c = 0; c < EAPI_CACHE_COUNTERS; c++)
		appendStringInfo(out,
						 "# HELP ecommerce_api_cache_%s_total %s.\n"
						 "# TYPE ecommerce_api_cache_%s_total counter\n"
						 "ecommerce_api_cache_%s_total " UINT64_FORMAT "\n",
						 names[c][0], names[c][1], names[c][0], names[c][0],
						 counters[c]);
	appendStringInfo(out,
					 "# HELP ecommerce_api_cache_bytes Memory held by the answer caches, all workers.\n"
					 "# TYPE ecommerce_api_cache_bytes gauge\n"
					 "ecommerce_api_cache_bytes " UINT64_FORMAT "\n"
					 "# HELP ecommerce_api_cache_entries Answers kept, all workers.\n"
					 "# TYPE ecommerce_api_cache_entries gauge\n"
					 "ecommerce_api_cache_entries " UINT64_FORMAT "\n",
					 bytes, entries);
}
