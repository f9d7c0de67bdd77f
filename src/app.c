/*
 * app.c - dispatch and the helpers every handler shares. See app.h.
 */
#include "app.h"

#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "auth.h"
#include "keyslot.h"
#include "log.h"
#include "validate.h"

static const handler_fn handlers[ROUTE_COUNT] = {
    [ROUTE_HEALTH] = lock_health,
    [ROUTE_ACQUIRE] = lock_acquire,
    [ROUTE_VERIFY] = lock_verify,
    [ROUTE_REFRESH] = lock_refresh,
    [ROUTE_RELEASE] = lock_release,
    [ROUTE_STATUS] = lock_status,
    [ROUTE_METRICS] = lock_metrics,
    [ROUTE_ADMIN_ACTIVE] = lock_admin_active,
    [ROUTE_ADMIN_FORCE_RELEASE] = lock_admin_force_release,
    [ROUTE_LOCK_GET] = lock_get,
    [ROUTE_LOCK_DELETE] = lock_release,
    [ROUTE_APPT_CREATE] = appointment_create,
    [ROUTE_APPT_LIST] = appointment_list,
    [ROUTE_APPT_GET] = appointment_get,
    [ROUTE_APPT_CANCEL] = appointment_cancel,
};

void app_handle(worker_t *w, const http_request_t *req,
                http_response_t *res, route_match_t *match)
{
    router_match(req->method, req->path, match);
    if (match->route != ROUTE_NOT_FOUND) {
        handlers[match->route](w, req, match, res);
    } else if (match->allow != NULL) {
        http_error(res, 405, "method_not_allowed",
                   "This path does not take that method");
        res->allow = match->allow;
    } else {
        http_error(res, 404, "not_found", "No such route");
    }
    if (res->json == NULL && res->text == NULL) {
        http_error(res, 500, "internal_error", "The request failed");
    }
}

void app_store_failure(worker_t *w, store_status_t status,
                       http_response_t *res)
{
    log_error("worker %d: redis: %s", w->id, w->store.error);
    switch (status) {
    case STORE_OUT_OF_MEMORY:
        http_unavailable(res, "Redis is out of memory; nothing was changed");
        break;
    case STORE_FAILED:
        http_error(res, 500, "internal_error", "The request failed");
        break;
    default:
        http_unavailable(res, "The lock store is unavailable; try again");
        break;
    }
}

bool app_require_admin(worker_t *w, const http_request_t *req,
                       http_response_t *res)
{
    switch (auth_check(w->cfg->admin_token, req->authorization)) {
    case AUTH_OK:
        return true;
    case AUTH_DISABLED:
        http_error(res, 403, "admin_disabled",
                   "Admin routes are off: ADMIN_TOKEN is not set");
        return false;
    default:
        http_error(res, 401, "unauthorized",
                   "A valid admin token is required");
        res->www_authenticate = true;
        return false;
    }
}

void app_new_uuid(char *out)
{
    uuid_t uuid;

    /* libuuid's random (version 4) generator, from the kernel's entropy. */
    uuid_generate_random(uuid);
    uuid_unparse_lower(uuid, out);
}

void app_new_id(const worker_t *w, char *out, const char *prefix,
                const char *near_key)
{
    char key[SLOT_KEY_MAX];

    app_new_uuid(out);
    if (!store_is_cluster(&w->store)) {
        return;
    }
    int len = snprintf(key, sizeof(key), "%s%s", prefix, out);
    size_t at = (size_t) len - KEYSLOT_STEER_DIGITS;
    /* Which of the fitting digit strings: libuuid's randomness decides. */
    unsigned pick = (unsigned) strtoul(out + 24, NULL, 16);
    if (len > 0 && (size_t) len < sizeof(key)
        && keyslot_steer(key, (size_t) len, at,
                         keyslot(near_key, strlen(near_key)), pick))
    {
        memcpy(out + VALIDATE_UUID_LEN - KEYSLOT_STEER_DIGITS, key + at,
               KEYSLOT_STEER_DIGITS);
    }
}

bool app_one_slot(const worker_t *w, const char *a, const char *b)
{
    return !store_is_cluster(&w->store)
           || keyslot(a, strlen(a)) == keyslot(b, strlen(b));
}

json_t *app_list(json_t *v)
{
    if (json_is_array(v)) {
        return json_incref(v);
    }
    return json_array();
}

json_t *app_script(worker_t *w, script_id_t id, int nkeys,
                   const char *const *keys, int nargs,
                   const char *const *args, http_response_t *res)
{
    json_t *answer;
    store_status_t status = store_script(&w->store, id, nkeys, keys, nargs,
                                         args, &answer);

    if (status != STORE_OK) {
        app_store_failure(w, status, res);
        return NULL;
    }
    return answer;
}

/* What a person is told for each reason a script can give. */
static const char *reason_message(const char *reason)
{
    static const struct {
        const char *reason, *message;
    } messages[] = {
        { "slot_locked", "Slot is currently locked by another user" },
        { "slot_booked", "Slot is already booked" },
        { "too_many_locks", "This holder already holds the most locks "
          "allowed; release one first" },
        { "lock_not_found", "No live lock has that lockId" },
        { "lock_mismatch", "The lock is for another slot" },
        { "lock_expired", "Your reservation expired. Please select a time "
          "slot again." },
        { "max_hold_reached", "The lock cannot be extended any further" },
        { "not_found", "No appointment has that id" },
    };

    for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++) {
        if (strcmp(messages[i].reason, reason) == 0) {
            return messages[i].message;
        }
    }
    return "The request was refused";
}

json_t *app_script_error(json_t *answer, int status, http_response_t *res)
{
    const char *reason = json_string_value(json_object_get(answer, "err"));

    if (reason == NULL) {
        return NULL;
    }
    json_t *body = http_error(res, status, reason, reason_message(reason));
    /* The reason string lives in answer; keep the body's own copy. */
    res->reason = json_string_value(json_object_get(body, "reason"));
    return body;
}

bool app_invalid(json_t *errors, http_response_t *res)
{
    if (json_array_size(errors) == 0) {
        return false;
    }
    http_validation_error(res, errors);
    return true;
}

int app_compare_fields(json_t *x, json_t *y, const char *const *fields,
                       size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const char *sx = json_string_value(json_object_get(x, fields[i]));
        const char *sy = json_string_value(json_object_get(y, fields[i]));
        int c = strcmp(sx ? sx : "", sy ? sy : "");

        if (c != 0) {
            return c;
        }
    }
    return 0;
}

void app_sort(json_t *array, int (*cmp)(const void *, const void *))
{
    size_t n = json_array_size(array);
    json_t **items = malloc(sizeof(*items) * (n + 1));

    if (items == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        items[i] = json_incref(json_array_get(array, i));
    }
    qsort(items, n, sizeof(*items), cmp);
    json_array_clear(array);
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(array, items[i]);
    }
    free(items);
}

const char *app_stats_key(const worker_t *w, const slot_keys_t *keys)
{
    return store_is_cluster(&w->store) ? keys->stats : SLOT_STATS_KEY;
}

const char *app_live_key(const worker_t *w, const slot_keys_t *keys)
{
    return store_is_cluster(&w->store) ? keys->live : SLOT_LIVE_KEY;
}

bool app_holder_reserve(worker_t *w, const char *tenant, const char *holder,
                        const char *lock_id, long ttl_ms, bool *reserved,
                        http_response_t *res)
{
    char key[SLOT_KEY_MAX], ttl[APP_NUM_MAX], max[APP_NUM_MAX];
    char keep_ms[APP_NUM_MAX];

    slot_holder_key(tenant, holder, key, sizeof(key));
    snprintf(ttl, sizeof(ttl), "%ld", ttl_ms);
    snprintf(max, sizeof(max), "%d", w->cfg->lock_max_per_holder);
    snprintf(keep_ms, sizeof(keep_ms), "%ld", w->cfg->lock_max_hold_ms);
    const char *keys[] = { key };
    const char *args[] = { "reserve", lock_id, ttl, max, keep_ms };
    json_t *answer = app_script(w, SCRIPT_HOLDER, 1, keys, 5, args, res);
    if (answer == NULL) {
        return false;
    }
    *reserved = json_is_true(json_object_get(answer, "reserved"));
    json_decref(answer);
    return true;
}

void app_holder_index(worker_t *w, json_t *answer, const char *op,
                      const char *lock_id)
{
    const char *tenant = json_string_value(json_object_get(answer,
                                                           "tenantId"));
    const char *holder = json_string_value(json_object_get(answer,
                                                           "holderId"));
    char key[SLOT_KEY_MAX], expires_at[APP_NUM_MAX], keep_ms[APP_NUM_MAX];

    if (!store_is_cluster(&w->store) || tenant == NULL || holder == NULL) {
        return;
    }
    slot_holder_key(tenant, holder, key, sizeof(key));
    snprintf(expires_at, sizeof(expires_at), "%" JSON_INTEGER_FORMAT,
             json_integer_value(json_object_get(answer, "expiresAt")));
    snprintf(keep_ms, sizeof(keep_ms), "%ld", w->cfg->lock_max_hold_ms);
    const char *keys[] = { key };
    const char *args[] = { op, lock_id, expires_at, keep_ms };
    json_t *done = NULL;
    if (store_script(&w->store, SCRIPT_HOLDER, 1, keys, 4, args, &done)
        != STORE_OK)
    {
        log_error("worker %d: holder index %s of lock %s: %s", w->id, op,
                  lock_id, w->store.error);
    }
    json_decref(done);
}

/* The state app_scan_values hands to store_scan. */
typedef struct value_scan_s {
    worker_t *w;
    http_response_t *res;
    app_value_fn fn;
    void *arg;
    bool failed;
} value_scan_t;

/* Reads count keys that share one hash slot, and hands each value on. */
static bool read_keys(value_scan_t *scan, const char *const *keys, int count)
{
    json_t *answer = app_script(scan->w, SCRIPT_READ_KEYS, count, keys, 0,
                                NULL, scan->res);
    bool more = true;

    if (answer == NULL) {
        scan->failed = true;
        return false;
    }
    json_int_t now = json_integer_value(json_object_get(answer,
                                                        "serverTime"));
    json_t *items = json_object_get(answer, "items");
    for (int i = 0; more && i < count; i++) {
        json_t *item = json_array_get(items, (size_t) i);
        const char *raw = json_string_value(json_array_get(item, 0));
        json_t *value = raw ? json_loads(raw, 0, NULL) : NULL;

        /* A key that expired between SCAN and the read has no value. */
        if (json_is_object(value)) {
            more = scan->fn(keys[i], value,
                            json_integer_value(json_array_get(item, 1)),
                            now, scan->arg);
        }
        json_decref(value);
    }
    json_decref(answer);
    return more;
}

static int compare_slots(const void *a, const void *b)
{
    const char *x = *(const char *const *) a, *y = *(const char *const *) b;
    unsigned sx = keyslot(x, strlen(x)), sy = keyslot(y, strlen(y));

    return sx < sy ? -1 : sx > sy;
}

/*
 * One SCAN batch. With one Redis it is read with one script call; in a
 * cluster a script may only touch one slot, so the batch is sorted by slot
 * and read one run of same-slot keys at a time.
 */
static bool read_batch(const char **keys, int count, void *arg)
{
    value_scan_t *scan = arg;

    if (!store_is_cluster(&scan->w->store)) {
        return read_keys(scan, keys, count);
    }
    qsort(keys, (size_t) count, sizeof(*keys), compare_slots);
    bool more = true;
    for (int i = 0, j; more && i < count; i = j) {
        unsigned slot = keyslot(keys[i], strlen(keys[i]));

        for (j = i + 1; j < count && keyslot(keys[j], strlen(keys[j]))
                                     == slot; j++) {
        }
        more = read_keys(scan, keys + i, j - i);
    }
    return more;
}

bool app_scan_values(worker_t *w, const char *pattern, app_value_fn fn,
                     void *arg, http_response_t *res)
{
    value_scan_t scan = { w, res, fn, arg, false };
    store_status_t status = store_scan(&w->store, pattern, read_batch,
                                       &scan);

    if (status != STORE_OK) {
        app_store_failure(w, status, res);
        return false;
    }
    return !scan.failed;
}
