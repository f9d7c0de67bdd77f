/*
 * admin.c - the admin lock routes: active locks, force-release, metrics.
 * Every one of them needs the admin token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "app.h"
#include "log.h"
#include "validate.h"

#define ACTIVE_LIMIT_DEFAULT 100
#define ACTIVE_LIMIT_MAX 1000

/* What admin/active collects while it scans. */
typedef struct active_scan_s {
    json_t *locks;
    long limit;
} active_scan_t;

/* Adds one live lock to the answer, until there are limit of them. */
static bool collect_lock(const char *key, json_t *lock, json_int_t pttl,
                         json_int_t now, void *arg)
{
    active_scan_t *scan = arg;

    if (pttl > 0) {
        json_t *holder = json_object_get(lock, "holderId");

        json_array_append_new(scan->locks, json_pack(
            "{s:s, s:O, s:O, s:O, s:O, s:O, s:O, s:I, s:I}",
            "key", key,
            "lockId", json_object_get(lock, "lockId"),
            "resourceId", json_object_get(lock, "resourceId"),
            "date", json_object_get(lock, "date"),
            "startTime", json_object_get(lock, "startTime"),
            "duration", json_object_get(lock, "duration"),
            "holderId", holder ? holder : json_null(),
            "remainingTTL", pttl,
            "expiresAt", now + pttl));
    }
    return (long) json_array_size(scan->locks) < scan->limit;
}

/* Orders locks by resource, date and start time. */
static int compare_locks(const void *a, const void *b)
{
    static const char *const order[] = { "resourceId", "date", "startTime" };

    return app_compare_fields(*(json_t *const *) a, *(json_t *const *) b,
                              order, sizeof(order) / sizeof(order[0]));
}

void lock_admin_active(worker_t *w, const http_request_t *req,
                       const route_match_t *match, http_response_t *res)
{
    (void) match;
    json_t *errors = json_array();
    json_t *query = validate_query(req->query, errors);
    slot_t slot;
    unsigned present;
    long limit = ACTIVE_LIMIT_DEFAULT;

    if (!app_require_admin(w, req, res)) {
        goto done;
    }
    validate_slot(query, "resourceId", VALIDATE_NEED_TENANT, true, &slot,
                  &present, errors);
    validate_int_field(query, "limit", 1, ACTIVE_LIMIT_MAX, false, true,
                       "must be a whole number from 1 to 1000", &limit,
                       errors);
    if (app_invalid(errors, res)) {
        goto done;
    }

    char pattern[SLOT_KEY_MAX];
    snprintf(pattern, sizeof(pattern), "booking_lock:{%s|%s}:%s:*",
             slot.tenant, present & VALIDATE_NEED_RESOURCE ? slot.resource
                                                           : "*",
             present & VALIDATE_NEED_DATE ? slot.date : "*");

    active_scan_t scan = { json_array(), limit };
    if (app_scan_values(w, pattern, collect_lock, &scan, res)) {
        app_sort(scan.locks, compare_locks);
        json_t *ok = http_ok(res, 200);
        json_object_set_new(ok, "tenantId", json_string(slot.tenant));
        json_object_set_new(ok, "count",
                            json_integer((json_int_t)
                                         json_array_size(scan.locks)));
        json_object_set(ok, "locks", scan.locks);
    }
    json_decref(scan.locks);
done:
    json_decref(query);
    json_decref(errors);
}

void lock_admin_force_release(worker_t *w, const http_request_t *req,
                              const route_match_t *match,
                              http_response_t *res)
{
    (void) match;
    json_t *body;
    json_t *errors = json_array();
    slot_t slot;
    unsigned present;

    if (!app_require_admin(w, req, res)
        || (body = http_json_body(req, res)) == NULL)
    {
        json_decref(errors);
        return;
    }
    validate_slot(body, "resourceId", VALIDATE_NEED_SLOT, false, &slot,
                  &present, errors);
    if (!app_invalid(errors, res)) {
        slot_keys_t keys;

        slot_keys(&slot, &keys);
        const char *script_keys[] = { keys.lock, app_live_key(w, &keys),
                                      app_stats_key(w, &keys) };
        const char *args[] = { store_is_cluster(&w->store) ? "" : "1" };
        json_t *answer = app_script(w, SCRIPT_FORCE_RELEASE, 3, script_keys,
                                    1, args, res);
        if (answer != NULL) {
            json_t *err = app_script_error(answer, 404, res);

            if (err != NULL) {
                json_object_set_new(err, "released", json_false());
            } else {
                app_holder_index(w, answer, "remove",
                                 json_string_value(json_object_get(answer,
                                                                   "lockId")));
                json_object_set_new(http_ok(res, 200), "released",
                                    json_true());
            }
            json_decref(answer);
        }
    }
    json_decref(errors);
    json_decref(body);
}

/* What cluster_stats adds up while it scans. */
typedef struct stats_scan_s {
    worker_t *w;
    json_t *sum;
    bool failed;
} stats_scan_t;

#define STATS_PREFIX "booking_stats:"

/* Runs metrics.lua on each resource's counters and adds them up. */
static bool add_stats(const char **keys, int count, void *arg)
{
    stats_scan_t *scan = arg;

    for (int i = 0; i < count && !scan->failed; i++) {
        char live[SLOT_KEY_MAX];
        const char *key;
        json_t *value, *answer = NULL;

        snprintf(live, sizeof(live), "booking_live:%s",
                 keys[i] + strlen(STATS_PREFIX));
        const char *script_keys[] = { keys[i], live };
        if (store_script(&scan->w->store, SCRIPT_METRICS, 2, script_keys, 0,
                         NULL, &answer) != STORE_OK)
        {
            scan->failed = true;
            break;
        }
        json_object_foreach(json_object_get(answer, "stats"), key, value) {
            json_int_t had = json_integer_value(json_object_get(scan->sum,
                                                                key));

            json_object_set_new(scan->sum, key, json_integer(
                                    had + json_integer_value(value)));
        }
        json_decref(answer);
    }
    return !scan->failed;
}

/*
 * Redis Cluster keeps each resource's counters beside its locks
 * (booking_stats:{t|r}, booking_live:{t|r}): the metrics route adds them up
 * over every primary. The answer has metrics.lua's shape; NULL when the
 * store failed.
 */
static json_t *cluster_stats(worker_t *w)
{
    stats_scan_t scan = { w, json_object(), false };

    json_object_set_new(scan.sum, "activeLocks", json_integer(0));
    if (store_scan(&w->store, STATS_PREFIX "*", add_stats, &scan)
        != STORE_OK || scan.failed)
    {
        log_error("worker %d: metrics: %s", w->id, w->store.error);
        json_decref(scan.sum);
        return NULL;
    }
    return json_pack("{s:b, s:o}", "ok", 1, "stats", scan.sum);
}

/* True when the client asked for the Prometheus text format. */
static bool wants_prometheus(const http_request_t *req, json_t *query,
                             json_t *errors)
{
    const char *format = json_string_value(json_object_get(query, "format"));

    if (format != NULL) {
        if (strcmp(format, "prometheus") == 0) {
            return true;
        }
        if (strcmp(format, "json") != 0) {
            validate_error(errors, "format", "must be json or prometheus");
        }
        return false;
    }
    return req->accept != NULL && strncasecmp(req->accept, "text/plain", 10)
                                  == 0;
}

void lock_metrics(worker_t *w, const http_request_t *req,
                  const route_match_t *match, http_response_t *res)
{
    (void) match;
    json_t *errors = json_array();
    json_t *query = validate_query(req->query, errors);
    bool prometheus = wants_prometheus(req, query, errors);

    if (!app_require_admin(w, req, res) || app_invalid(errors, res)) {
        goto done;
    }

    /* Redis down: still answer, with redisConnected false. */
    json_t *answer = NULL;
    if (store_is_cluster(&w->store)) {
        answer = cluster_stats(w);
    } else {
        const char *keys[] = { SLOT_STATS_KEY, SLOT_LIVE_KEY };

        store_script(&w->store, SCRIPT_METRICS, 2, keys, 0, NULL, &answer);
    }
    json_t *stats = json_object_get(answer, "stats");
    time_t now = time(NULL);

    if (prometheus) {
        res->status = 200;
        res->text = metrics_prometheus(w->metrics, stats, now);
        res->content_type = "text/plain; version=0.0.4; charset=utf-8";
    } else {
        json_object_set_new(http_ok(res, 200), "metrics",
                            metrics_json(w->metrics, stats, now));
    }
    json_decref(answer);
done:
    json_decref(query);
    json_decref(errors);
}
