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

/*
 * A new id (37 bytes into out) whose index key, prefix followed by the id,
 * lives in the same hash slot as near_key. With one Redis it is any new
 * UUID. In Redis Cluster the last five hex digits are chosen for it (the
 * rest is libuuid's), so that the script on near_key's slot can write the
 * index too, and find it again from the id alone.
 */
void app_new_id(const worker_t *w, char *out, const char *prefix,
                const char *near_key);

/* True when one script may take both keys: always with one Redis, and in
 * Redis Cluster when they hash to the same slot. */
bool app_one_slot(const worker_t *w, const char *a, const char *b);

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
 * Redis Cluster: a script sees one slot only, so it cannot tell a lockId
 * whose lock is on another slot from one with no lock at all. *live says
 * whether lock_id names a live lock anywhere, found through the lockId
 * index. False with res filled when the store failed. (locks.c)
 */
bool lock_live_anywhere(worker_t *w, const char *lock_id, bool *live,
                        http_response_t *res);

/*
 * The counters and live-lock set a script on keys' slot updates: the shared
 * ones with one Redis, the resource's own in Redis Cluster.
 */
const char *app_stats_key(const worker_t *w, const slot_keys_t *keys);
const char *app_live_key(const worker_t *w, const slot_keys_t *keys);

/*
 * Redis Cluster keeps the holder index (booking_holder:{tenant}:<holder>)
 * apart from the lock scripts. app_holder_reserve takes a place in it for
 * lock_id before the acquire script runs, so that the cap holds even for
 * concurrent acquires: *reserved is false when the holder is at the cap
 * (false with res filled when the store failed). app_holder_index follows
 * a script that renewed ("add") or removed ("remove") a lock, from its
 * answer (tenantId, holderId, expiresAt); it does nothing with one Redis or
 * for a lock without a holder, and a failure is only logged: the entry then
 * leaves the index when the lock would have expired.
 */
bool app_holder_reserve(worker_t *w, const char *tenant, const char *holder,
                        const char *lock_id, long ttl_ms, bool *reserved,
                        http_response_t *res);
void app_holder_index(worker_t *w, json_t *answer, const char *op,
                      const char *lock_id);

/* Answers 400 validation_error when errors is not empty; true if it did. */
bool app_invalid(json_t *errors, http_response_t *res);

#endif
