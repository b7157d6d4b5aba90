/*-------------------------------------------------------------------------
 *
 * metrics.c
 *		GET /metrics: the workers' counters in Prometheus' text format.
 *
 * Everything comes from shared memory (shmem.c, and ratelimit.c for what
 * the rate limiter counted), so the answer needs no
 * transaction and stays cheap to scrape: answers by route and status class,
 * a latency histogram over all answers, open connections, busy workers, and
 * what the rate limiter refused or could not track.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "ecommerce_api.h"
#include "cache.h"

/* The label for answers that matched no route (404, 405, 413, preflights). */
#define NO_ROUTE_LABEL	"other"

static void
render_answers(StringInfo out, const uint64 *answers, uint64 *total)
{
	int			nroutes = eapi_route_count();

	appendStringInfoString(out,
						   "# HELP ecommerce_api_requests_total HTTP answers, by route and status class.\n"
						   "# TYPE ecommerce_api_requests_total counter\n");
	*total = 0;
	for (int r = 0; r <= nroutes; r++)
	{
		const char *label = r < nroutes ? eapi_route_at(r)->activity : NO_ROUTE_LABEL;

		for (int c = 0; c < EAPI_STATUS_CLASSES; c++)
		{
			uint64		n = answers[r * EAPI_STATUS_CLASSES + c];

			if (n == 0)
				continue;
			appendStringInfo(out,
							 "ecommerce_api_requests_total{route=\"%s\",status=\"%dxx\"} " UINT64_FORMAT "\n",
							 label, c + 1, n);
			*total += n;
		}
	}
}

static void
render_latency(StringInfo out, const uint64 *buckets, uint64 sum_us, uint64 total)
{
	uint64		cumulative = 0;

	appendStringInfoString(out,
						   "# HELP ecommerce_api_request_duration_seconds Time from a request's first byte to its answer.\n"
						   "# TYPE ecommerce_api_request_duration_seconds histogram\n");
	for (int b = 0; b < EAPI_LATENCY_BUCKETS; b++)
	{
		cumulative += buckets[b];
		appendStringInfo(out,
						 "ecommerce_api_request_duration_seconds_bucket{le=\"%g\"} " UINT64_FORMAT "\n",
						 eapi_latency_bounds_ms[b] / 1000.0, cumulative);
	}
	cumulative += buckets[EAPI_LATENCY_BUCKETS];
	appendStringInfo(out,
					 "ecommerce_api_request_duration_seconds_bucket{le=\"+Inf\"} " UINT64_FORMAT "\n"
					 "ecommerce_api_request_duration_seconds_sum %.6f\n"
					 "ecommerce_api_request_duration_seconds_count " UINT64_FORMAT "\n",
					 cumulative, sum_us / 1000000.0, total);
}

static void
render_rate_limit(StringInfo out)
{
	uint64		limited;
	uint64		table_full;
	uint64		evicted;

	eapi_rate_limit_totals(&limited, &table_full, &evicted);
	appendStringInfo(out,
					 "# HELP ecommerce_api_rate_limited_total Requests refused with 429 by the rate limiter.\n"
					 "# TYPE ecommerce_api_rate_limited_total counter\n"
					 "ecommerce_api_rate_limited_total " UINT64_FORMAT "\n"
					 "# HELP ecommerce_api_rate_limit_table_full_total Requests let through unlimited because the rate limiter's table of clients was full.\n"
					 "# TYPE ecommerce_api_rate_limit_table_full_total counter\n"
					 "ecommerce_api_rate_limit_table_full_total " UINT64_FORMAT "\n"
					 "# HELP ecommerce_api_rate_limit_evictions_total Windows of other clients the rate limiter dropped to count new ones, its table being full.\n"
					 "# TYPE ecommerce_api_rate_limit_evictions_total counter\n"
					 "ecommerce_api_rate_limit_evictions_total " UINT64_FORMAT "\n",
					 limited, table_full, evicted);
}

void
eapi_metrics_render(StringInfo out)
{
	uint64	   *answers = palloc((eapi_route_count() + 1) * EAPI_STATUS_CLASSES * sizeof(uint64));
	uint64		buckets[EAPI_LATENCY_BUCKETS + 1];
	uint64		latency_sum_us;
	uint64		total;
	int			open_connections;

	eapi_shmem_totals(answers, buckets, &latency_sum_us, &open_connections);
	render_answers(out, answers, &total);
	render_latency(out, buckets, latency_sum_us, total);
	appendStringInfo(out,
					 "# HELP ecommerce_api_open_connections Open HTTP connections, all workers.\n"
					 "# TYPE ecommerce_api_open_connections gauge\n"
					 "ecommerce_api_open_connections %d\n"
					 "# HELP ecommerce_api_busy_workers Workers serving a request right now.\n"
					 "# TYPE ecommerce_api_busy_workers gauge\n"
					 "ecommerce_api_busy_workers %d\n"
					 "# HELP ecommerce_api_workers Configured HTTP workers.\n"
					 "# TYPE ecommerce_api_workers gauge\n"
					 "ecommerce_api_workers %d\n",
					 open_connections, eapi_shmem_busy_workers(), eapi_workers);
	render_rate_limit(out);
	eapi_cache_metrics_render(out);
	pfree(answers);
}
