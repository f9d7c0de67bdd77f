/*
 * app.h - what a worker carries, and the handlers' shared helpers.
 */
#ifndef SLOTLOCK_APP_H
#define SLOTLOCK_APP_H

#include <jansson.h>

#include "config.h"
#include "http.h"
#include "metrics.h"
#include "router.h"
#include "slot.h"
#include "store.h"

/* Room for a number written as a script argument. */
#define APP_NUM_MAX 24

typedef struct worker_s {
    int id;
    const config_t *cfg;
    metrics_t *metrics;
    store_t store;          /* this worker's own Redis connection */
} worker_t;

typedef void (*handler_fn)(worker_t *w, const http_request_t *req,
                           const route_match_t *match, http_response_t *res);

/* Answers one request: route, handle, and fill res. */
void app_handle(worker_t *w, const http_request_t *req,
                http_response_t *res, route_match_t *match);

/* Answers a store call that did not succeed: 503, or 500 for a bug. */
void app_store_failure(worker_t *w, store_status_t status,
                       http_response_t *res);

/*
 * Checks the admin token. False with res filled (403 admin_disabled or 401
 * unauthorized) when the request may not go on.
 */
bool app_require_admin(worker_t *w, const http_request_t *req,
                       http_response_t *res);

/* Writes a new random lowercase UUID into out (37 bytes). */
void app_new_uuid(char *out);

/* A JSON list from a script's answer: cjson writes an empty list as {}. */
json_t *app_list(json_t *v);

/* Route handlers (locks.c, appointments.c). */
void lock_health(worker_t *, const http_request_t *, const route_match_t *,
                 http_response_t *);
void lock_acquire(worker_t *, const http_request_t *, const route_match_t *,
                  http_response_t *);
void lock_verify(worker_t *, const http_request_t *, const route_match_t *,
                 http_response_t *);
void lock_refresh(worker_t *, const http_request_t *, const route_match_t *,
                  http_response_t *);
void lock_release(worker_t *, const http_request_t *, const route_match_t *,
                  http_response_t *);
void lock_get(worker_t *, const http_request_t *, const route_match_t *,
              http_response_t *);
void lock_status(worker_t *, const http_request_t *, const route_match_t *,
                 http_response_t *);
void lock_metrics(worker_t *, const http_request_t *, const route_match_t *,
                  http_response_t *);
void lock_admin_active(worker_t *, const http_request_t *,
                       const route_match_t *, http_response_t *);
void lock_admin_force_release(worker_t *, const http_request_t *,
                              const route_match_t *, http_response_t *);
void appointment_create(worker_t *, const http_request_t *,
                        const route_match_t *, http_response_t *);
void appointment_list(worker_t *, const http_request_t *,
                      const route_match_t *, http_response_t *);
void appointment_get(worker_t *, const http_request_t *,
                     const route_match_t *, http_response_t *);
void appointment_cancel(worker_t *, const http_request_t *,
                        const route_match_t *, http_response_t *);


/*
 * Runs a script. Returns its answer (caller owns), or NULL with res filled
 * when the store failed.
 */
json_t *app_script(worker_t *w, script_id_t id, int nkeys,
                   const char *const *keys, int nargs,
                   const char *const *args, http_response_t *res);

/*
 * When a script answered {"err": reason}, fills res with status and the
 * reason's message and returns the body (for extra fields); NULL when the
 * script succeeded.
 */
json_t *app_script_error(json_t *answer, int status, http_response_t *res);

/*
 * Calls fn with each JSON object stored under the keys that SCAN finds for
 * pattern (read with one read_keys script call per batch), with its
 * remaining life and Redis's time in ms. fn returns false to stop early.
 * Returns false with res filled when the store failed.
 */
typedef bool (*app_value_fn)(const char *key, json_t *value,
                             json_int_t pttl_ms, json_int_t now_ms,
                             void *arg);
bool app_scan_values(worker_t *w, const char *pattern, app_value_fn fn,
                     void *arg, http_response_t *res);

/*
 * Orders two JSON objects by the string values of fields, in turn (a
 * missing value sorts first); for the comparison functions of app_sort.
 */
int app_compare_fields(json_t *x, json_t *y, const char *const *fields,
                       size_t count);

/* Sorts a JSON array in place with cmp (qsort's comparison of json_t *). */
void app_sort(json_t *array, int (*cmp)(const void *, const void *));

/*
 * The counters and live-lock set a script on keys' slot updates: the shared
 * ones with one Redis, the resource's own in Redis Cluster.
 */
const char *app_stats_key(const worker_t *w, const slot_keys_t *keys);
const char *app_live_key(const worker_t *w, const slot_keys_t *keys);

/*
 * Redis Cluster keeps the holder index (booking_holder:{tenant}:<holder>)
 * apart from the lock scripts. app_holder_count counts a holder's live
 * locks before an acquire (false with res filled when the store failed).
 * app_holder_index follows a script that added ("add") or removed
 * ("remove") a lock, from its answer (tenantId, holderId, expiresAt); it
 * does nothing with one Redis or for a lock without a holder, and a failure
 * is only logged: the entry then leaves the index when the lock expires.
 */
bool app_holder_count(worker_t *w, const char *tenant, const char *holder,
                      int *count, http_response_t *res);
void app_holder_index(worker_t *w, json_t *answer, const char *op,
                      const char *lock_id);

/* Answers 400 validation_error when errors is not empty; true if it did. */
bool app_invalid(json_t *errors, http_response_t *res);

#endif
