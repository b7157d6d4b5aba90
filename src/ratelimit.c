/*-------------------------------------------------------------------------
 *
 * ratelimit.c
 *		The rate limiter: N requests per client address per W seconds,
 *		counted across all workers.
 *
 * Everything about it is here: its settings, the client's identity, the
 * shared table of windows, and what it adds to an answer.
 *
 * - Settings: ecommerce_api.rate_limit (N, 0 turns it off),
 *   rate_limit_window (W), trusted_proxies and rate_limit_clients.
 * - Who the client is: the TCP peer; or, when the peer is one of the
 *   trusted proxies, the address X-Forwarded-For names (read from the
 *   right, see forwarded_client).  An IPv6 client is its /64.
 * - Windows are fixed: a client's first request opens one of W seconds in
 *   which N requests pass; the next request after it opens a new one.
 *   Refused requests do not count.  The windows are in a shared hash table
 *   of rate_limit_clients entries, sized at start, under one LWLock, so
 *   every worker counts into the same windows.  When the table is full,
 *   ended windows are swept out; if none has ended, the oldest windows are
 *   dropped (a sixteenth of the table at a time, so a sweep of new addresses
 *   walks the table once per table/16 of them) and a warning says so.  So a
 *   flood of new addresses cannot turn the limit off: every client is
 *   counted, and only the clients whose windows began longest ago lose
 *   theirs early.
 * - What is counted: every request once its head is in (http.c calls
 *   eapi_rate_limit_request then), so 404s and 413s count too; preflights
 *   and the health check neither count nor carry the headers.
 * - What the client sees: X-RateLimit-Limit/-Remaining/-Reset on every
 *   counted answer; a refusal is a 429 with Retry-After and the body
 *   {"detail": ..., "retry_after": W}.
 * - GET /metrics shows the refusals and the untracked passes.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "port/atomics.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

#include "ecommerce_api.h"
#include "compat.h"
#include "forwarded.h"

#define RATE_LIMIT_TRANCHE		"ecommerce_api rate limiter"

/* How often a worker may warn that the table is full. */
#define TABLE_FULL_WARNING_SECS	60

static int	rate_limit = 0;
static int	rate_limit_window = 60;
static char *trusted_proxies_setting = NULL;
static int	rate_limit_clients = 10000;

/* The parsed ecommerce_api.trusted_proxies (GUC "extra" data, owned by guc.c). */
static const TrustedProxies *trusted_proxies = NULL;


/* One client's fixed window. */
typedef struct RateLimitEntry
{
	ClientAddr	client;			/* hash key */
	uint32		count;			/* requests admitted in this window */
	TimestampTz window_start;
} RateLimitEntry;

/* One client address's open connections, across the workers. */
typedef struct ClientConnections
{
	ClientAddr	client;			/* hash key */
	int32		count;
} ClientConnections;

typedef struct RateLimitState
{
	LWLock	   *lock;			/* guards the table and the sweep fields */
	LWLock	   *connections_lock;	/* guards connections_table */
	/* when the full table may be walked again (see sweep_ended_windows) */
	TimestampTz next_sweep;
	int			sweep_window;	/* the window length next_sweep assumed */
	/* for GET /metrics; rare events, so one shared counter each is enough */
	pg_atomic_uint64 refused;	/* requests refused with 429 */
	pg_atomic_uint64 untracked; /* passed: no room to track their client */
	pg_atomic_uint64 evicted;	/* windows dropped to make room */
} RateLimitState;

static RateLimitState *rate_state = NULL;
static HTAB *rate_table = NULL;

/*
 * The open connections by client address (max_connections_per_client), one
 * entry per address with connections open.  Sized for every connection the
 * workers may hold, up to MAX_CONNECTION_CLIENTS.
 */
#define MAX_CONNECTION_CLIENTS	100000
static HTAB *connections_table = NULL;

/* ----------------------------------------------------------------------
 * Addresses and the trusted proxies
 * ----------------------------------------------------------------------
 */


/*
 * Check hook of ecommerce_api.trusted_proxies: a comma-separated list of
 * addresses and CIDR blocks (eapi_parse_trusted_proxies).  A bad entry
 * refuses the whole value (SET, ALTER SYSTEM, or a reload, which then keeps
 * the previous list), naming it.
 */
static bool
check_trusted_proxies(char **newval, void **extra, GucSource source)
{
	char	   *bad_entry = NULL;
	TrustedProxies *list = eapi_parse_trusted_proxies(*newval, &bad_entry);

	if (list == NULL)
	{
		if (bad_entry)
			GUC_check_errdetail("\"%s\" is not an IPv4 or IPv6 address or CIDR block.",
								bad_entry);
		else
		{
			GUC_check_errcode(ERRCODE_OUT_OF_MEMORY);
			GUC_check_errmsg("out of memory");
		}
		return false;
	}
	*extra = eapi_guc_extra(list, offsetof(TrustedProxies, blocks) +
							list->count * sizeof(ProxyBlock));
	if (*extra == NULL)
	{
		GUC_check_errcode(ERRCODE_OUT_OF_MEMORY);
		GUC_check_errmsg("out of memory");
		return false;
	}
	return true;
}

/* Is this address one of ecommerce_api.trusted_proxies? */
static bool
is_trusted_proxy(const ClientAddr *addr)
{
	return eapi_proxies_contain(trusted_proxies, addr);
}

static void
assign_trusted_proxies(const char *newval, void *extra)
{
	trusted_proxies = (const TrustedProxies *) extra;
	eapi_setting_valid(EAPI_CHECKED_TRUSTED_PROXIES);
}

/* The rate limiter's settings, for the line each worker logs at start. */
void
eapi_rate_limit_describe(StringInfo out)
{
	appendStringInfo(out, "rate_limit=%d per %d s, trusted_proxies='%s'",
					 rate_limit, rate_limit_window, trusted_proxies_setting);
}

/* Called by eapi_define_settings, among the other ecommerce_api.* settings. */
void
eapi_rate_limit_define_settings(void)
{
	/* an invalid list at start must not fall back to none (settings.c) */
	char	   *raw_proxies = eapi_raw_setting("ecommerce_api.trusted_proxies");

	DefineCustomIntVariable("ecommerce_api.rate_limit",
							"Requests a client address may make per rate-limit window; 0 disables the limit.",
							"Counted across all workers; over the limit a request gets 429.",
							&rate_limit,
							0, 0, INT_MAX,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("ecommerce_api.rate_limit_window",
							"Length of a client's rate-limit window.",
							NULL,
							&rate_limit_window,
							60, 1, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomStringVariable("ecommerce_api.trusted_proxies",
							   "Comma-separated addresses or CIDR blocks of proxies whose X-Forwarded-For is believed.",
							   "Empty: the client is always the TCP peer.",
							   &trusted_proxies_setting,
							   "",
							   PGC_SIGHUP, 0,
							   check_trusted_proxies, assign_trusted_proxies, NULL);

	DefineCustomIntVariable("ecommerce_api.rate_limit_clients",
							"Client addresses the rate limiter tracks at once.",
							"Sizes a shared-memory table; past it, the oldest windows are dropped to count new clients.",
							&rate_limit_clients,
							10000, 1, 10000000,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);

	if (raw_proxies && strcmp(raw_proxies, trusted_proxies_setting) != 0)
		eapi_setting_invalid(EAPI_CHECKED_TRUSTED_PROXIES, "ecommerce_api.trusted_proxies",
							 raw_proxies, "it is a list of IPv4 or IPv6 addresses or CIDR blocks",
							 "the configuration reloaded");
}

/* ----------------------------------------------------------------------
 * Who the client is
 * ----------------------------------------------------------------------
 */

/* The TCP peer's address; false if the connection has none we know. */
static bool
peer_address(struct MHD_Connection *conn, ClientAddr *addr)
{
	const union MHD_ConnectionInfo *info;

	info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (info == NULL || info->client_addr == NULL)
		return false;
	memset(addr, 0, sizeof(*addr));
	if (info->client_addr->sa_family == AF_INET)
	{
		const struct sockaddr_in *in4 = (const struct sockaddr_in *) info->client_addr;

		addr->family = AF_INET;
		memcpy(addr->bytes, &in4->sin_addr, 4);
		return true;
	}
	if (info->client_addr->sa_family == AF_INET6)
	{
		const struct in6_addr *in6 =
			&((const struct sockaddr_in6 *) info->client_addr)->sin6_addr;

		/* a dual-stack socket's IPv4 client is the IPv4 address */
		if (IN6_IS_ADDR_V4MAPPED(in6))
		{
			addr->family = AF_INET;
			memcpy(addr->bytes, in6->s6_addr + 12, 4);
		}
		else
		{
			addr->family = AF_INET6;
			memcpy(addr->bytes, in6->s6_addr, 16);
		}
		return true;
	}
	return false;
}

/*
 * The last MAX_FORWARDED_HEADERS X-Forwarded-For lines of a request, as a
 * ring: line i (in the order they came) is values[i % MAX_FORWARDED_HEADERS].
 * The list is read from the right, so the lines a client may have sent
 * before the proxies' own are the ones that are dropped.
 */
typedef struct ForwardedHeaders
{
	int			count;			/* lines seen */
	const char *values[MAX_FORWARDED_HEADERS];
} ForwardedHeaders;

/*
 * MHD_get_connection_values iterator.  It runs inside libmicrohttpd, so it
 * calls nothing that could raise an ERROR.
 */
static enum MHD_Result
collect_forwarded(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *value)
{
	ForwardedHeaders *headers = cls;

	if (pg_strcasecmp(key, "X-Forwarded-For") == 0)
	{
		headers->values[headers->count % MAX_FORWARDED_HEADERS] = value;
		headers->count++;
	}
	return MHD_YES;
}


/*
 * The client behind a trusted proxy, from the request's X-Forwarded-For
 * lines (eapi_forwarded_client).  False, and the peer stays the client, when
 * there is none or an entry is not a plain IP address.
 */
static bool
forwarded_client(struct MHD_Connection *conn, ClientAddr *client)
{
	ForwardedHeaders headers = {0};

	MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_forwarded, &headers);
	return eapi_forwarded_client(headers.values, headers.count, trusted_proxies, client);
}

/*
 * The client a request is counted for: the TCP peer, or, when the peer is a
 * trusted proxy, the address X-Forwarded-For names.  False when the
 * connection has no address we know (the request is then not counted).
 */
static bool
client_address(struct MHD_Connection *conn, ClientAddr *client)
{
	if (!peer_address(conn, client))
		return false;
	if (is_trusted_proxy(client))
		(void) forwarded_client(conn, client);

	/*
	 * An IPv6 host has a /64 at least (RFC 4291's interface identifiers):
	 * counted by address, it could take a fresh one for every few requests,
	 * escape its budget and fill the table.  Its budget is its /64's.
	 */
	if (client->family == AF_INET6)
		memset(client->bytes + 8, 0, 8);
	return true;
}

/* ----------------------------------------------------------------------
 * The shared table of windows
 * ----------------------------------------------------------------------
 */

/* Entries of the table of open connections by client address. */
static long
connection_clients(void)
{
	return Min((long) Max(eapi_workers, 1) * eapi_max_connections_per_worker,
			   MAX_CONNECTION_CLIENTS);
}

/* From shmem.c's shmem_request_hook. */
void
eapi_rate_limit_shmem_request(void)
{
	Size		size;

	size = add_size(MAXALIGN(sizeof(RateLimitState)),
					hash_estimate_size(rate_limit_clients, sizeof(RateLimitEntry)));
	size = add_size(size, hash_estimate_size(connection_clients(),
											 sizeof(ClientConnections)));
	RequestAddinShmemSpace(size);
	RequestNamedLWLockTranche(RATE_LIMIT_TRANCHE, 2);
}

/* From shmem.c's shmem_startup_hook, which holds AddinShmemInitLock. */
void
eapi_rate_limit_shmem_startup(void)
{
	bool		found;
	HASHCTL		info;

	rate_state = ShmemInitStruct("ecommerce_api rate limiter state",
								 sizeof(RateLimitState), &found);
	if (!found)
	{
		LWLockPadded *locks = GetNamedLWLockTranche(RATE_LIMIT_TRANCHE);

		rate_state->lock = &locks[0].lock;
		rate_state->connections_lock = &locks[1].lock;
		rate_state->next_sweep = 0;
		rate_state->sweep_window = 0;
		pg_atomic_init_u64(&rate_state->refused, 0);
		pg_atomic_init_u64(&rate_state->untracked, 0);
		pg_atomic_init_u64(&rate_state->evicted, 0);
	}

	info.keysize = sizeof(ClientAddr);
	info.entrysize = sizeof(RateLimitEntry);
	/* every entry is allocated now: the table never takes more */
	rate_table = ShmemInitHash("ecommerce_api rate limiter",
							   rate_limit_clients, rate_limit_clients,
							   &info, HASH_ELEM | HASH_BLOBS | HASH_FIXED_SIZE);

	info.keysize = sizeof(ClientAddr);
	info.entrysize = sizeof(ClientConnections);
	connections_table = ShmemInitHash("ecommerce_api connections by client",
									  connection_clients(), connection_clients(),
									  &info, HASH_ELEM | HASH_BLOBS | HASH_FIXED_SIZE);
}

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

	if (rate_state->sweep_window == rate_limit_window &&
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
	rate_state->sweep_window = rate_limit_window;
	return freed;
}

/*
 * The table is full of live windows: drop the oldest sixteenth of them (at
 * least one).  Two walks: the first finds the span of the windows' starts,
 * the second drops those that began in its first sixteenth.  Returns how
 * many were dropped.  Caller holds the lock.
 */
static int
evict_oldest_windows(void)
{
	HASH_SEQ_STATUS scan;
	RateLimitEntry *entry;
	TimestampTz oldest = PG_INT64_MAX;
	TimestampTz newest = PG_INT64_MIN;
	TimestampTz threshold;
	long		want = Max(hash_get_num_entries(rate_table) / 16, 1);
	int			dropped = 0;

	hash_seq_init(&scan, rate_table);
	while ((entry = hash_seq_search(&scan)) != NULL)
	{
		oldest = Min(oldest, entry->window_start);
		newest = Max(newest, entry->window_start);
	}
	if (oldest > newest)
		return 0;
	threshold = oldest + (newest - oldest) / 16;

	hash_seq_init(&scan, rate_table);
	while ((entry = hash_seq_search(&scan)) != NULL)
	{
		if (entry->window_start > threshold)
			continue;
		(void) hash_search(rate_table, &entry->client, HASH_REMOVE, NULL);
		if (++dropped >= want)
		{
			hash_seq_term(&scan);
			break;
		}
	}
	pg_atomic_fetch_add_u64(&rate_state->evicted, dropped);
	return dropped;
}

/* At most one warning per worker and TABLE_FULL_WARNING_SECS. */
static void
warn_table_full(TimestampTz now, int dropped)
{
	static TimestampTz last_warning = 0;
	static uint64 evicted = 0;

	evicted += dropped;
	if (last_warning != 0 &&
		!TimestampDifferenceExceeds(last_warning, now, TABLE_FULL_WARNING_SECS * 1000))
		return;
	ereport(WARNING,
			(errmsg("ecommerce_api rate limiter is tracking its maximum of %d clients; the oldest windows are dropped to count new clients",
					rate_limit_clients),
			 last_warning != 0 ?
			 errdetail("Windows this worker dropped since its previous warning: " UINT64_FORMAT ".",
					   evicted) : 0,
			 errhint("Raise ecommerce_api.rate_limit_clients, or shorten ecommerce_api.rate_limit_window.")));
	last_warning = now;
	evicted = 0;
}

/*
 * Count a request of this client against its window and say whether it may
 * pass.  Settings apply as they are now, so a reload that changes the limit
 * or the window acts on open windows at once.
 *
 * Nothing between LWLockAcquire and LWLockRelease can raise an ERROR (the
 * callers' error paths do not release LWLocks).
 */
static void
count_request(const ClientAddr *client, EapiRateVerdict *verdict)
{
	TimestampTz now = GetCurrentTimestamp();
	int			limit = rate_limit;
	int			window = rate_limit_window;
	int64		window_us = (int64) window * USECS_PER_SEC;
	TimestampTz window_end;
	int64		unix_end;		/* window_end in microseconds since 1970 */
	RateLimitEntry *entry;
	bool		found;
	int			dropped = 0;

	verdict->limit = limit;
	verdict->window = window;

	LWLockAcquire(rate_state->lock, LW_EXCLUSIVE);
	entry = hash_search(rate_table, client, HASH_ENTER_NULL, &found);
	if (entry == NULL && sweep_ended_windows(now, window_us))
		entry = hash_search(rate_table, client, HASH_ENTER_NULL, &found);
	if (entry == NULL && (dropped = evict_oldest_windows()) > 0)
		entry = hash_search(rate_table, client, HASH_ENTER_NULL, &found);
	if (entry == NULL)
	{
		LWLockRelease(rate_state->lock);

		/*
		 * No room even so (the table cannot have been empty): let it pass
		 * untracked, as if opening a window
		 */
		verdict->allowed = true;
		verdict->remaining = limit - 1;
		window_end = now + window_us;
		pg_atomic_fetch_add_u64(&rate_state->untracked, 1);
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

		if (!verdict->allowed)
			pg_atomic_fetch_add_u64(&rate_state->refused, 1);
	}
	if (dropped > 0)
		warn_table_full(now, dropped);

	/* whole seconds, rounded up: at Reset the window has surely ended */
	unix_end = window_end +
		(int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
	verdict->reset = (unix_end + USECS_PER_SEC - 1) / USECS_PER_SEC;
	verdict->retry_after =
		(int) Max((window_end - now + USECS_PER_SEC - 1) / USECS_PER_SEC, 1);
}

/* ----------------------------------------------------------------------
 * What http.c asks
 * ----------------------------------------------------------------------
 */

/*
 * Count a request whose head is in.  route is its route, NULL when it has
 * none (or is a preflight, which http.c does not route).  Returns whether
 * the request was counted, and then *verdict says whether it may pass.
 */
bool
eapi_rate_limit_request(struct MHD_Connection *conn, const char *method,
						const ApiRoute *route, EapiRateVerdict *verdict)
{
	ClientAddr	client;

	if (rate_limit <= 0)
		return false;
	/* preflights and the health check are never limited, nor counted */
	if (strcmp(method, "OPTIONS") == 0 ||
		(route != NULL && (route->kind == ROUTE_HEALTH || route->kind == ROUTE_LIVE ||
						   route->kind == ROUTE_READY)))
		return false;
	if (!client_address(conn, &client))
		return false;
	count_request(&client, verdict);
	return true;
}

/* X-RateLimit-* on every counted answer, and Retry-After on a refusal. */
void
eapi_rate_limit_headers(struct MHD_Response *response, const EapiRateVerdict *verdict)
{
	char		value[32];

	snprintf(value, sizeof(value), "%d", verdict->limit);
	MHD_add_response_header(response, "X-RateLimit-Limit", value);
	snprintf(value, sizeof(value), "%d", verdict->remaining);
	MHD_add_response_header(response, "X-RateLimit-Remaining", value);
	snprintf(value, sizeof(value), INT64_FORMAT, verdict->reset);
	MHD_add_response_header(response, "X-RateLimit-Reset", value);
	if (!verdict->allowed)
	{
		snprintf(value, sizeof(value), "%d", verdict->retry_after);
		MHD_add_response_header(response, MHD_HTTP_HEADER_RETRY_AFTER, value);
	}
}

/* A refusal's 429 body, appended to body. */
void
eapi_rate_limit_refusal(const EapiRateVerdict *verdict, StringInfo body)
{
	char		detail[128];

	snprintf(detail, sizeof(detail),
			 "Rate limit exceeded. Maximum %d requests per %d seconds.",
			 verdict->limit, verdict->window);
	eapi_error_body(body, detail, false, verdict->window);
}

/* ----------------------------------------------------------------------
 * Open connections by client (max_connections_per_client)
 * ----------------------------------------------------------------------
 */

/*
 * A connection opened: count it for its client address, the TCP peer's
 * (its headers are not in yet; an IPv6 peer is its /64, as for the rate
 * limit).  Returns the count's handle, for eapi_client_connection_release,
 * or NULL when it is not counted: no limit, a trusted proxy's connection
 * (it carries many clients), no address, or no room in the table (fail
 * open).  *refused says the client already holds its limit; the connection
 * is then not counted either.  Runs in libmicrohttpd's callback: raises no
 * ERROR.
 */
void *
eapi_client_connection_acquire(struct MHD_Connection *conn, bool *refused)
{
	ClientAddr	client;
	ClientConnections *entry;
	bool		found;
	int			limit = eapi_max_connections_per_client;

	*refused = false;
	if (limit <= 0 || connections_table == NULL || !peer_address(conn, &client) ||
		is_trusted_proxy(&client))
		return NULL;
	if (client.family == AF_INET6)
		memset(client.bytes + 8, 0, 8);

	LWLockAcquire(rate_state->connections_lock, LW_EXCLUSIVE);
	entry = hash_search(connections_table, &client, HASH_ENTER_NULL, &found);
	if (entry != NULL)
	{
		if (!found)
			entry->count = 0;
		if (entry->count >= limit)
		{
			*refused = true;
			entry = NULL;
		}
		else
			entry->count++;
	}
	LWLockRelease(rate_state->connections_lock);
	return entry;
}

/* A counted connection closed.  Shared entries do not move while in use. */
void
eapi_client_connection_release(void *handle)
{
	ClientConnections *entry = handle;

	LWLockAcquire(rate_state->connections_lock, LW_EXCLUSIVE);
	if (--entry->count <= 0)
		(void) hash_search(connections_table, &entry->client, HASH_REMOVE, NULL);
	LWLockRelease(rate_state->connections_lock);
}

/*
 * All workers' refusals, untracked passes and windows dropped to make room,
 * for GET /metrics.
 */
void
eapi_rate_limit_totals(uint64 *refused, uint64 *untracked, uint64 *evicted)
{
	*refused = 0;
	*untracked = 0;
	*evicted = 0;
	if (rate_state == NULL)
		return;
	*refused = pg_atomic_read_u64(&rate_state->refused);
	*untracked = pg_atomic_read_u64(&rate_state->untracked);
	*evicted = pg_atomic_read_u64(&rate_state->evicted);
}
