/*
 * metrics.h - request counters and latency histograms of this instance,
 * and the rendering of the metrics route (JSON and Prometheus text 0.0.4).
 *
 * Lock and booking counters live in Redis (the scripts count them in the
 * same call that makes the decision, so every instance and worker agrees and
 * no request pays an extra round trip); request counters live here, shared
 * by every worker thread of the process.
 */
#ifndef SLOTLOCK_METRICS_H
#define SLOTLOCK_METRICS_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "router.h"

#define METRICS_BUCKETS 12

/* Upper bounds of the latency buckets, in microseconds. */
extern const long metrics_bucket_us[METRICS_BUCKETS];

typedef struct metrics_route_s {
    atomic_ulong count;
    atomic_ulong sum_us;
    atomic_ulong buckets[METRICS_BUCKETS];  /* not cumulative */
} metrics_route_t;

typedef struct metrics_s {
    atomic_ulong requests_total;
    atomic_ulong request_errors;            /* 5xx answers */
    metrics_route_t routes[ROUTE_COUNT];
    time_t started;
} metrics_t;

void metrics_init(metrics_t *m, time_t now);

/* Counts one answered request. */
void metrics_observe(metrics_t *m, route_t route, int status,
                     long latency_us);

/*
 * The metrics object of the JSON route. stats is what metrics.lua returned
 * (NULL when Redis could not be asked).
 */
json_t *metrics_json(metrics_t *m, json_t *stats, time_t now);

/* Redis Cluster redirections the process followed (all 0 elsewhere). */
typedef struct metrics_redirects_s {
    unsigned long moved, ask, tryagain;
} metrics_redirects_t;

/* The same numbers, plus the latency histograms and the redirections, as
 * Prometheus text. */
char *metrics_prometheus(metrics_t *m, json_t *stats,
                         const metrics_redirects_t *redirects, time_t now);

/* slotlock-events' counters (db_webhook_stats; NULL: unknown, all 0) as
 * Prometheus text. */
char *metrics_webhooks_prometheus(json_t *stats);

#endif
