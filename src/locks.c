/*
 * locks.c - the /api/locks routes.
 *
 * Each handler checks its input (validate, slot: pure), makes one script
 * call that decides and writes atomically (store), and shapes the answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "locks.h"


/* ---------------------------------------------------------------------
 * A lock named by its lockId, and perhaps by slot fields
 * ------------------------------------------------------------------- */

/*
 * Reads lockId (from the path when path_id is set, from the body otherwise)
 * and whichever slot fields the body carries; need says which are required.
 * The lock key is known when all four fields that name it are there.
 */
static void read_lock_ref(json_t *body, const char *path_id, unsigned need,
                          lock_request_t *ref, json_t *errors)
{
    if (path_id != NULL) {
        if (validate_uuid(path_id)) {
            strcpy(ref->lock_id, path_id);
        } else {
            validate_error(errors, "lockId",
                           "must be a UUID in lowercase 8-4-4-4-12 form");
        }
    } else {
        validate_lock_id(body, true, ref->lock_id, errors);
    }
    if (body != NULL) {
        validate_slot(body, "resourceId", need, false, &ref->slot,
                      &ref->present, errors);
    }
    if (json_array_size(errors) > 0) {
        return;
    }
    slot_lockid_key(ref->lock_id, ref->lockid_key, sizeof(ref->lockid_key));

    const slot_t *s = &ref->slot;
    if ((ref->present & VALIDATE_NEED_SLOT) == VALIDATE_NEED_SLOT) {
        slot_keys_t keys;

        slot_keys(s, &keys);
        strcpy(ref->lock_key, keys.lock);
    }

    json_t *expected = json_object();
    if (ref->present & VALIDATE_NEED_TENANT) {
        json_object_set_new(expected, "tenantId", json_string(s->tenant));
    }
    if (ref->present & VALIDATE_NEED_RESOURCE) {
        json_object_set_new(expected, "resourceId", json_string(s->resource));
    }
    if (ref->present & VALIDATE_NEED_DATE) {
        json_object_set_new(expected, "date", json_string(s->date));
    }
    if (ref->present & VALIDATE_NEED_START) {
        json_object_set_new(expected, "startTime", json_string(s->start));
    }
    if (ref->present & VALIDATE_NEED_DURATION) {
        json_object_set_new(expected, "duration",
                            json_integer(s->duration_min));
    }
    ref->expected = json_object_size(expected) > 0
                    ? json_dumps(expected, JSON_COMPACT) : strdup("");
    json_decref(expected);
}

/* Reads the optional ttl of acquire and refresh into req->ttl_ms. */
static void read_ttl(const config_t *cfg, json_t *body, lock_request_t *req,
                     json_t *errors)
{
    validate_int_field(body, "ttl", 1000, cfg->lock_max_hold_ms, false,
                       false, "must be a whole number of milliseconds from "
                       "1000 to LOCK_MAX_HOLD", &req->ttl_ms, errors);
}

bool lock_request_parse(route_t route, const config_t *cfg, json_t *body,
                        const char *path_id, lock_request_t *req,
                        json_t *errors)
{
    memset(req, 0, sizeof(*req));
    req->ttl_ms = cfg->lock_ttl_ms;

    switch (route) {
    case ROUTE_ACQUIRE:
        validate_slot(body, "resourceId",
                      VALIDATE_NEED_SLOT | VALIDATE_NEED_DURATION, false,
                      &req->slot, &req->present, errors);
        req->holder = validate_id_field(body, "holderId", false, errors);
        read_ttl(cfg, body, req, errors);
        break;
    case ROUTE_VERIFY:
        read_lock_ref(body, NULL, VALIDATE_NEED_SLOT, req, errors);
        break;
    case ROUTE_REFRESH:
        read_lock_ref(body, NULL, 0, req, errors);
        read_ttl(cfg, body, req, errors);
        break;
    case ROUTE_RELEASE:
        read_lock_ref(body, NULL, 0, req, errors);
        break;
    default:
        /* GET and DELETE /api/locks/{lockId}: the path names the lock. */
        read_lock_ref(NULL, path_id, 0, req, errors);
        break;
    }
    return json_array_size(errors) == 0;
}

void lock_request_free(lock_request_t *req)
{
    free(req->expected);
    req->expected = NULL;
}

/* The success body that acquire and refresh share. */
static json_t *lock_body(worker_t *w, json_t *answer, http_response_t *res)
{
    json_t *body = http_ok(res, 200);

    json_object_set_new(body, "locked", json_true());
    json_object_set(body, "lockId", json_object_get(answer, "lockId"));
    json_object_set(body, "expiresIn", json_object_get(answer, "expiresIn"));
    json_object_set(body, "expiresAt", json_object_get(answer, "expiresAt"));
    json_object_set(body, "serverTime",
                    json_object_get(answer, "serverTime"));
    json_object_set_new(body, "refreshInterval",
                        json_integer(w->cfg->lock_refresh_interval_ms));
    return body;
}

/* ---------------------------------------------------------------------
 * Routes
 * ------------------------------------------------------------------- */

void lock_health(worker_t *w, const http_request_t *req,
                 const route_match_t *match, http_response_t *res)
{
    (void) req;
    (void) match;
    json_t *answer;
    store_status_t status = store_script(&w->store, SCRIPT_HEALTH, 0, NULL,
                                         0, NULL, &answer);

    if (status != STORE_OK) {
        app_store_failure(w, status, res);
        json_t *body = http_error(res, 503, "service_unavailable",
                                  "Lock service cannot reach Redis");
        json_object_set_new(body, "healthy", json_false());
        res->retry_after = true;
        return;
    }
    json_decref(answer);
    json_t *body = http_ok(res, 200);
    json_object_set_new(body, "healthy", json_true());
    json_object_set_new(body, "message",
                        json_string("Lock service is operational"));
}

/* What a lock route does once its input has been read and checked. */
typedef void (*lock_action_fn)(worker_t *w, const lock_request_t *in,
                               http_response_t *res);

/*
 * The part every lock route shares: read the body (the path routes have
 * none), check it with lock_request_parse, answer 400 with every bad field,
 * or hand the checked request to action.
 */
static void lock_route(worker_t *w, const http_request_t *req,
                       const route_match_t *match, http_response_t *res,
                       lock_action_fn action)
{
    bool takes_body = match->route != ROUTE_LOCK_GET
                      && match->route != ROUTE_LOCK_DELETE;
    json_t *body = NULL;
    json_t *errors;
    lock_request_t in;

    if (takes_body && (body = http_json_body(req, res)) == NULL) {
        return;
    }
    errors = json_array();
    lock_request_parse(match->route, w->cfg, body, match->param, &in,
                       errors);
    if (!app_invalid(errors, res)) {
        action(w, &in, res);
    }
    lock_request_free(&in);
    json_decref(errors);
    json_decref(body);
}


static void acquire(worker_t *w, const lock_request_t *in,
                    http_response_t *res)
{
    const config_t *cfg = w->cfg;
    const slot_t *slot = &in->slot;
    const bool cluster = store_is_cluster(&w->store);
    char lock_id[VALIDATE_UUID_LEN + 1];
    char lockid_key[SLOT_KEY_MAX];
    slot_keys_t keys;
    char start_min[APP_NUM_MAX], duration[APP_NUM_MAX], ttl_ms[APP_NUM_MAX];
    char max_hold[APP_NUM_MAX], max_per_holder[APP_NUM_MAX];
    char held[APP_NUM_MAX] = "";
    bool reserved = false;

    slot_keys(slot, &keys);
    app_new_id(w, lock_id, "booking_lockid:", keys.lock);
    /* A cluster takes the holder's place first, on the tenant's slot. With
     * none left, the script may still renew the holder's own lock on this
     * slot, but makes no new one (it is told the holder is at the cap). */
    if (cluster && in->holder != NULL) {
        if (!app_holder_reserve(w, slot->tenant, in->holder, lock_id,
                                in->ttl_ms, &reserved, res))
        {
            return;
        }
        snprintf(held, sizeof(held), "%d",
                 reserved ? 0 : cfg->lock_max_per_holder);
    }

    slot_lockid_key(lock_id, lockid_key, sizeof(lockid_key));
    snprintf(start_min, sizeof(start_min), "%d", slot->start_min);
    snprintf(duration, sizeof(duration), "%d", slot->duration_min);
    snprintf(ttl_ms, sizeof(ttl_ms), "%ld", in->ttl_ms);
    snprintf(max_hold, sizeof(max_hold), "%ld", cfg->lock_max_hold_ms);
    snprintf(max_per_holder, sizeof(max_per_holder), "%d",
             cfg->lock_max_per_holder);

    const char *script_keys[] = {
        keys.lock, keys.lock_index, keys.booked, app_stats_key(w, &keys),
        app_live_key(w, &keys), lockid_key
    };
    const char *args[] = {
        lock_id, in->holder ? in->holder : "", slot->tenant, slot->resource,
        slot->date, slot->start, start_min, duration, ttl_ms, max_hold,
        max_per_holder, keys.lock_prefix, held
    };
    json_t *answer = NULL;
    store_status_t st = store_script(&w->store, SCRIPT_ACQUIRE,
                                     app_one_slot(w, keys.lock, lockid_key)
                                     ? 6 : 5, script_keys, 13, args,
                                     &answer);
    /* A reserved place goes back unless the lock may have been made: after
     * a timeout or a lost connection it may have. */
    const char *got = json_string_value(json_object_get(answer, "lockId"));
    bool made = st == STORE_OK ? got != NULL && strcmp(got, lock_id) == 0
                               : st == STORE_UNAVAILABLE;
    if (reserved && !made) {
        /* No new lock: the place goes back. */
        json_t *mine = json_pack("{s:s, s:s}", "tenantId", slot->tenant,
                                 "holderId", in->holder);

        app_holder_index(w, mine, "remove", lock_id);
        json_decref(mine);
    }
    if (st != STORE_OK) {
        app_store_failure(w, st, res);
        return;
    }

    const char *reason = json_string_value(json_object_get(answer, "err"));
    int status = reason && strcmp(reason, "too_many_locks") == 0 ? 429 : 409;
    json_t *err = app_script_error(answer, status, res);
    if (err != NULL) {
        json_object_set_new(err, "locked", json_false());
        json_t *remaining = json_object_get(answer, "remainingTTL");
        if (remaining != NULL) {
            json_object_set(err, "remainingTTL", remaining);
        }
    } else {
        /* The holder's own lock, renewed: its end moves in the holder's
         * set too (a new lock's place was reserved above). */
        if (!made) {
            app_holder_index(w, answer, "add", got);
        }
        lock_body(w, answer, res);
    }
    json_decref(answer);
}

/*
 * The keys a script on an existing lock works on. With one Redis a lock
 * named only by its lockId is found by the script itself (lock ''); in a
 * cluster the lockId index is read first, so that the script can be sent to
 * the lock's slot. found is false when the index knows no such lockId.
 */
typedef struct lock_target_s {
    char lock[SLOT_KEY_MAX];
    slot_keys_t keys;           /* of the lock's slot, when known */
    const char *keyv[4];        /* lock, live set, stats, lockId index */
    int nkeys;
    bool found;
} lock_target_t;

static bool lock_target(worker_t *w, const lock_request_t *in,
                        lock_target_t *t, http_response_t *res)
{
    const bool cluster = store_is_cluster(&w->store);
    slot_t slot;

    memset(t, 0, sizeof(*t));
    t->found = true;
    snprintf(t->lock, sizeof(t->lock), "%s", in->lock_key);
    if (cluster && t->lock[0] == '\0') {
        char *key;
        store_status_t st = store_get(&w->store, in->lockid_key, &key);

        if (st != STORE_OK) {
            app_store_failure(w, st, res);
            return false;
        }
        t->found = key != NULL && strlen(key) < sizeof(t->lock);
        if (t->found) {
            strcpy(t->lock, key);
        }
        free(key);
    }
    if (t->lock[0] != '\0' && slot_parse_lock_key(t->lock, &slot)) {
        slot_keys(&slot, &t->keys);
    } else if (cluster) {
        t->found = false;       /* an index entry we did not write */
    }
    t->keyv[0] = t->lock;
    t->keyv[1] = app_live_key(w, &t->keys);
    t->keyv[2] = app_stats_key(w, &t->keys);
    t->keyv[3] = in->lockid_key;
    t->nkeys = app_one_slot(w, t->lock, in->lockid_key) ? 4 : 3;
    return true;
}

/*
 * Runs script on the lock in names, with args; a lockId no index knows is
 * answered lock_not_found without a script. NULL with res filled when the
 * store failed.
 */
static json_t *lock_script(worker_t *w, const lock_request_t *in,
                           script_id_t script, int nargs,
                           const char *const *args, http_response_t *res)
{
    lock_target_t t;

    if (!lock_target(w, in, &t, res)) {
        return NULL;
    }
    if (!t.found) {
        return json_pack("{s:s}", "err", "lock_not_found");
    }
    return app_script(w, script, t.nkeys, t.keyv, nargs, args, res);
}

bool lock_live_anywhere(worker_t *w, const char *lock_id, bool *live,
                        http_response_t *res)
{
    lock_request_t by_id;

    memset(&by_id, 0, sizeof(by_id));
    snprintf(by_id.lock_id, sizeof(by_id.lock_id), "%s", lock_id);
    slot_lockid_key(lock_id, by_id.lockid_key, sizeof(by_id.lockid_key));
    by_id.expected = "";

    const char *args[] = { by_id.lock_id };
    json_t *answer = lock_script(w, &by_id, SCRIPT_LOCK_GET, 1, args, res);
    if (answer == NULL) {
        return false;
    }
    *live = json_is_true(json_object_get(answer, "ok"));
    json_decref(answer);
    return true;
}

static void verify(worker_t *w, const lock_request_t *in,
                   http_response_t *res)
{
    const bool cluster = store_is_cluster(&w->store);
    const char *args[] = { in->lock_id, in->expected };
    json_t *answer = lock_script(w, in, SCRIPT_VERIFY, 2, args, res);

    if (answer == NULL) {
        return;
    }
    /* A cluster's script saw only this slot: is the lockId live elsewhere? */
    const char *reason = json_string_value(json_object_get(answer, "err"));
    if (cluster && reason != NULL && strcmp(reason, "lock_not_found") == 0) {
        bool live;

        if (!lock_live_anywhere(w, in->lock_id, &live, res)) {
            json_decref(answer);
            return;
        }
        if (live) {
            json_object_set_new(answer, "err", json_string("lock_mismatch"));
        }
    }
    json_t *err = app_script_error(answer, 409, res);
    if (err != NULL) {
        json_object_set_new(err, "valid", json_false());
    } else {
        json_t *ok = http_ok(res, 200);
        json_object_set_new(ok, "valid", json_true());
        json_object_set(ok, "remainingTTL",
                        json_object_get(answer, "remainingTTL"));
    }
    json_decref(answer);
}

static void refresh(worker_t *w, const lock_request_t *in,
                    http_response_t *res)
{
    char ttl_ms[APP_NUM_MAX];

    snprintf(ttl_ms, sizeof(ttl_ms), "%ld", in->ttl_ms);
    const char *args[] = { in->lock_id, ttl_ms, in->expected };
    json_t *answer = lock_script(w, in, SCRIPT_REFRESH, 3, args, res);
    if (answer == NULL) {
        return;
    }
    const char *reason = json_string_value(json_object_get(answer, "err"));
    int status = reason && strcmp(reason, "max_hold_reached") == 0 ? 409 : 404;
    json_t *err = app_script_error(answer, status, res);
    if (err != NULL) {
        json_object_set_new(err, "refreshed", json_false());
    } else {
        app_holder_index(w, answer, "add", in->lock_id);
        json_t *ok = lock_body(w, answer, res);
        json_object_set_new(ok, "refreshed", json_true());
    }
    json_decref(answer);
}

static void release(worker_t *w, const lock_request_t *in,
                    http_response_t *res)
{
    const char *args[] = { in->lock_id, in->expected };
    json_t *answer = lock_script(w, in, SCRIPT_RELEASE, 2, args, res);

    if (answer == NULL) {
        return;
    }
    json_t *err = app_script_error(answer, 404, res);
    if (err != NULL) {
        json_object_set_new(err, "released", json_false());
    } else {
        app_holder_index(w, answer, "remove", in->lock_id);
        json_object_set_new(http_ok(res, 200), "released", json_true());
    }
    json_decref(answer);
}

static void get(worker_t *w, const lock_request_t *in, http_response_t *res)
{
    static const char *const fields[] = {
        "lockId", "tenantId", "resourceId", "date", "startTime",
        "duration", "expiresIn", "expiresAt", "serverTime"
    };
    const char *args[] = { in->lock_id };
    json_t *answer = lock_script(w, in, SCRIPT_LOCK_GET, 1, args, res);

    if (answer == NULL) {
        return;
    }
    if (app_script_error(answer, 404, res) == NULL) {
        json_t *ok = http_ok(res, 200);

        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
            json_object_set(ok, fields[i], json_object_get(answer, fields[i]));
        }
    }
    json_decref(answer);
}

void lock_acquire(worker_t *w, const http_request_t *req,
                  const route_match_t *match, http_response_t *res)
{
    lock_route(w, req, match, res, acquire);
}

void lock_verify(worker_t *w, const http_request_t *req,
                 const route_match_t *match, http_response_t *res)
{
    lock_route(w, req, match, res, verify);
}

void lock_refresh(worker_t *w, const http_request_t *req,
                  const route_match_t *match, http_response_t *res)
{
    lock_route(w, req, match, res, refresh);
}

/* POST /api/locks/release (lockId in the body) and DELETE /api/locks/{id}. */
void lock_release(worker_t *w, const http_request_t *req,
                  const route_match_t *match, http_response_t *res)
{
    lock_route(w, req, match, res, release);
}

void lock_get(worker_t *w, const http_request_t *req,
              const route_match_t *match, http_response_t *res)
{
    lock_route(w, req, match, res, get);
}

void lock_status(worker_t *w, const http_request_t *req,
                 const route_match_t *match, http_response_t *res)
{
    (void) match;
    json_t *errors = json_array();
    json_t *query = validate_query(req->query, errors);
    slot_t slot;
    unsigned present;

    validate_slot(query, "resourceId",
                  VALIDATE_NEED_TENANT | VALIDATE_NEED_RESOURCE
                  | VALIDATE_NEED_DATE, true, &slot, &present, errors);
    if (app_invalid(errors, res)) {
        goto done;
    }

    slot_keys_t keys;
    slot_keys(&slot, &keys);
    const char *script_keys[] = { keys.lock_index, keys.booked };
    const char *args[] = { keys.lock_prefix };
    json_t *answer = app_script(w, SCRIPT_STATUS, 2, script_keys, 1, args,
                                res);
    if (answer == NULL) {
        goto done;
    }
    json_t *ok = http_ok(res, 200);
    json_object_set_new(ok, "tenantId", json_string(slot.tenant));
    json_object_set_new(ok, "resourceId", json_string(slot.resource));
    json_object_set_new(ok, "date", json_string(slot.date));
    json_object_set_new(ok, "locked",
                        app_list(json_object_get(answer, "locked")));
    json_object_set_new(ok, "booked",
                        app_list(json_object_get(answer, "booked")));
    json_decref(answer);
done:
    json_decref(query);
    json_decref(errors);
}
