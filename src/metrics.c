/*
 * metrics.c - counters and their two renderings. See metrics.h.
 */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const long metrics_bucket_us[METRICS_BUCKETS] = {
    500, 1000, 2000, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000
};

void metrics_init(metrics_t *m, time_t now)
{
    memset(m, 0, sizeof(*m));
    m->started = now;
}

void metrics_observe(metrics_t *m, route_t route, int status,
                     long latency_us)
{
    metrics_route_t *r = &m->routes[route];
    int b = 0;

    atomic_fetch_add_explicit(&m->requests_total, 1, memory_order_relaxed);
    if (status >= 500) {
        atomic_fetch_add_explicit(&m->request_errors, 1,
                                  memory_order_relaxed);
    }
    while (b < METRICS_BUCKETS && latency_us > metrics_bucket_us[b]) {
        b++;
    }
    atomic_fetch_add_explicit(&r->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->sum_us, (unsigned long) latency_us,
                              memory_order_relaxed);
    if (b < METRICS_BUCKETS) {
        atomic_fetch_add_explicit(&r->buckets[b], 1, memory_order_relaxed);
    }
}

static long stat(json_t *stats, const char *name)
{
    return (long) json_integer_value(json_object_get(stats, name));
}

/* The numbers both renderings show, in one place. */
typedef struct snapshot_s {
    long acquired, failed, released, refreshed, expired, active;
    long duration_total, duration_count;
    long bookings_created, bookings_rejected, bookings_cancelled;
    unsigned long requests_total, request_errors;
    bool redis_connected;
    long uptime_s;
} snapshot_t;

static void take_snapshot(metrics_t *m, json_t *stats, time_t now,
                          snapshot_t *s)
{
    s->acquired = stat(stats, "locksAcquired");
    s->failed = stat(stats, "locksFailed");
    s->released = stat(stats, "locksReleased");
    s->refreshed = stat(stats, "locksRefreshed");
    s->expired = stat(stats, "locksExpired");
    s->active = stat(stats, "activeLocks");
    s->duration_total = stat(stats, "lockDurationTotal");
    s->duration_count = stat(stats, "lockDurationCount");
    s->bookings_created = stat(stats, "bookingsCreated");
    s->bookings_rejected = stat(stats, "bookingsRejected");
    s->bookings_cancelled = stat(stats, "bookingsCancelled");
    s->requests_total = atomic_load(&m->requests_total);
    s->request_errors = atomic_load(&m->request_errors);
    s->redis_connected = stats != NULL;
    s->uptime_s = (long) (now - m->started);
}

static long average_duration(const snapshot_t *s)
{
    return s->duration_count > 0 ? s->duration_total / s->duration_count : 0;
}

json_t *metrics_json(metrics_t *m, json_t *stats, time_t now)
{
    snapshot_t s;
    char rate[16];

    take_snapshot(m, stats, now, &s);
    long attempts = s.acquired + s.failed;
    if (attempts > 0) {
        snprintf(rate, sizeof(rate), "%.2f%%",
                 100.0 * (double) s.acquired / (double) attempts);
    } else {
        strcpy(rate, "0.00%");
    }
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:I, s:I, "
                     "s:I, s:I, s:I, s:I, s:b, s:I}",
                     "locksAcquired", (json_int_t) s.acquired,
                     "locksFailed", (json_int_t) s.failed,
                     "locksReleased", (json_int_t) s.released,
                     "locksRefreshed", (json_int_t) s.refreshed,
                     "locksExpired", (json_int_t) s.expired,
                     "activeLocks", (json_int_t) s.active,
                     "totalAttempts", (json_int_t) attempts,
                     "successRate", rate,
                     "averageLockDuration",
                     (json_int_t) average_duration(&s),
                     "bookingsCreated", (json_int_t) s.bookings_created,
                     "bookingsRejected", (json_int_t) s.bookings_rejected,
                     "bookingsCancelled", (json_int_t) s.bookings_cancelled,
                     "requestsTotal", (json_int_t) s.requests_total,
                     "requestErrors", (json_int_t) s.request_errors,
                     "redisConnected", s.redis_connected,
                     "uptimeSeconds", (json_int_t) s.uptime_s);
}

/* A growing text buffer for the exposition format. */
typedef struct text_s {
    char *buf;
    size_t len, cap;
} text_t;

static void text_add(text_t *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void text_add(text_t *t, const char *fmt, ...)
{
    va_list ap;

    for (;;) {
        size_t room = t->cap - t->len;

        va_start(ap, fmt);
        int n = vsnprintf(t->buf ? t->buf + t->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            return;
        }
        if ((size_t) n < room) {
            t->len += (size_t) n;
            return;
        }
        size_t cap = (t->cap ? t->cap * 2 : 4096) + (size_t) n;
        char *grown = realloc(t->buf, cap);
        if (grown == NULL) {
            return;
        }
        t->buf = grown;
        t->cap = cap;
    }
}

static void metric(text_t *t, const char *name, const char *type,
                   const char *help, double value)
{
    text_add(t, "# HELP slotlock_%s %s\n# TYPE slotlock_%s %s\n"
             "slotlock_%s %.17g\n", name, help, name, type, name, value);
}

char *metrics_prometheus(metrics_t *m, json_t *stats,
                         const metrics_redirects_t *redirects, time_t now)
{
    snapshot_t s;
    text_t t = { NULL, 0, 0 };

    take_snapshot(m, stats, now, &s);
    metric(&t, "locks_acquired_total", "counter", "Locks acquired.",
           (double) s.acquired);
    metric(&t, "locks_failed_total", "counter",
           "Acquires refused (slot_locked, slot_booked, slot_full, "
           "too_many_locks).",
           (double) s.failed);
    metric(&t, "locks_released_total", "counter", "Locks released.",
           (double) s.released);
    metric(&t, "locks_refreshed_total", "counter", "Locks refreshed.",
           (double) s.refreshed);
    metric(&t, "locks_expired_total", "counter",
           "Locks that ended by their TTL.", (double) s.expired);
    metric(&t, "active_locks", "gauge", "Live locks now.",
           (double) s.active);
    metric(&t, "lock_duration_average_milliseconds", "gauge",
           "Mean time from acquire to release or booking.",
           (double) average_duration(&s));
    metric(&t, "bookings_created_total", "counter", "Bookings created.",
           (double) s.bookings_created);
    metric(&t, "bookings_rejected_total", "counter",
           "Appointment creations answered 409.",
           (double) s.bookings_rejected);
    metric(&t, "bookings_cancelled_total", "counter",
           "Appointments cancelled.", (double) s.bookings_cancelled);
    metric(&t, "requests_total", "counter",
           "Requests answered by this instance.", (double) s.requests_total);
    metric(&t, "request_errors_total", "counter",
           "Requests answered with a 5xx status.",
           (double) s.request_errors);
    metric(&t, "redis_connected", "gauge", "1 when Redis answered.",
           s.redis_connected ? 1 : 0);
    metric(&t, "uptime_seconds", "gauge", "Seconds since start.",
           (double) s.uptime_s);
    text_add(&t, "# HELP slotlock_redis_redirects_total Redis Cluster "
             "redirections followed (MOVED, ASK) and TRYAGAIN waits.\n"
             "# TYPE slotlock_redis_redirects_total counter\n"
             "slotlock_redis_redirects_total{kind=\"moved\"} %lu\n"
             "slotlock_redis_redirects_total{kind=\"ask\"} %lu\n"
             "slotlock_redis_redirects_total{kind=\"tryagain\"} %lu\n",
             redirects->moved, redirects->ask, redirects->tryagain);

    text_add(&t, "# HELP slotlock_request_duration_seconds "
             "Request latency by route.\n"
             "# TYPE slotlock_request_duration_seconds histogram\n");
    for (int r = 1; r < ROUTE_COUNT; r++) {
        metrics_route_t *rt = &m->routes[r];
        unsigned long count = atomic_load(&rt->count);
        unsigned long cumulative = 0;
        const char *name = router_name((route_t) r);

        for (int b = 0; b < METRICS_BUCKETS; b++) {
            cumulative += atomic_load(&rt->buckets[b]);
            text_add(&t, "slotlock_request_duration_seconds_bucket"
                     "{route=\"%s\",le=\"%g\"} %lu\n", name,
                     (double) metrics_bucket_us[b] / 1e6, cumulative);
        }
        /* Read apart from the buckets; never let +Inf fall below them. */
        if (count < cumulative) {
            count = cumulative;
        }
        text_add(&t, "slotlock_request_duration_seconds_bucket"
                 "{route=\"%s\",le=\"+Inf\"} %lu\n"
                 "slotlock_request_duration_seconds_sum{route=\"%s\"} %g\n"
                 "slotlock_request_duration_seconds_count{route=\"%s\"} "
                 "%lu\n", name, count, name,
                 (double) atomic_load(&rt->sum_us) / 1e6, name, count);
    }
    return t.buf;
}

char *metrics_webhooks_prometheus(json_t *stats)
{
    text_t t = { NULL, 0, 0 };

    metric(&t, "webhook_deliveries_total", "counter",
           "Webhook events delivered (a 2xx answer).",
           (double) stat(stats, "delivered"));
    metric(&t, "webhook_failed_attempts_total", "counter",
           "Webhook POSTs that failed (timeout, connection, non-2xx).",
           (double) stat(stats, "failed_attempts"));
    metric(&t, "webhook_dead_letters_total", "counter",
           "Webhook events given up on and moved to the dead letters.",
           (double) stat(stats, "dead_lettered"));
    metric(&t, "webhook_backlog_events", "gauge",
           "Events not yet delivered to some endpoint, at the "
           "dispatcher's last look.", (double) stat(stats, "backlog"));
    metric(&t, "webhook_oldest_undelivered_seconds", "gauge",
           "Age of the oldest event the dispatcher is still trying to "
           "deliver.", (double) stat(stats, "oldest_ms") / 1000.0);
    metric(&t, "webhook_dispatcher_seen_seconds", "gauge",
           "Unix time of the dispatcher's last report (0: never).",
           (double) stat(stats, "updated_ms") / 1000.0);
    return t.buf;
}
