/*
 * appointments.c - the /api/appointments routes.
 *
 * Creation is where "never double-booked" is decided: one script checks the
 * lock, checks for overlapping bookings, stores the booking and deletes the
 * lock, all on the specialist's hash slot. The lockId is the idempotency
 * key: a retry gets the booking that was made, never a second one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "appointments.h"
#include "log.h"
#include "validate.h"

#define DONE_TTL_S "604800"     /* a lockId's booking is remembered a week */
#define CUSTOMER_NAME_MAX 200

/* Formats epoch milliseconds as ISO 8601 UTC, e.g. 2025-03-10T14:00:00.000Z */
static json_t *iso8601(json_int_t ms)
{
    time_t s = (time_t) (ms / 1000);
    struct tm tm;
    char buf[64];

    gmtime_r(&s, &tm);
    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int) (ms % 1000));
    return json_string(buf);
}

/* The appointment as the API shows it, from the stored record. */
static json_t *appointment_view(json_t *stored)
{
    static const char *const fields[] = {
        "id", "tenantId", "specialistId", "serviceId", "date", "startTime",
        "endTime", "duration", "customerName", "customerEmail",
        "customerPhone", "price", "status"
    };
    json_t *view = json_object();

    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        json_t *v = json_object_get(stored, fields[i]);

        json_object_set(view, fields[i], v ? v : json_null());
    }
    json_object_set_new(view, "createdAt",
                        iso8601(json_integer_value(
                            json_object_get(stored, "createdAt"))));
    return view;
}

/* Counts the characters (not bytes) of a UTF-8 string. */
static size_t utf8_length(const char *s)
{
    size_t n = 0;

    for (; *s; s++) {
        if (((unsigned char) *s & 0xc0) != 0x80) {
            n++;
        }
    }
    return n;
}

/* Checks the fields beyond the slot; see API.md for the rules. */
static void validate_booking(json_t *body, const slot_t *slot,
                             unsigned present, json_t *errors)
{
    validate_id_field(body, "serviceId", true, errors);

    json_t *end = json_object_get(body, "endTime");
    int end_min;
    if (end == NULL || json_is_null(end)) {
        validate_error(errors, "endTime", "is required");
    } else if (!json_is_string(end)
               || !slot_parse_time(json_string_value(end), true, &end_min))
    {
        validate_error(errors, "endTime",
                       "must be a time HH:MM from 00:00 to 24:00");
    } else if ((present & VALIDATE_NEED_START)
               && (present & VALIDATE_NEED_DURATION)
               && end_min != slot->start_min + slot->duration_min)
    {
        validate_error(errors, "endTime",
                       "must equal startTime plus duration");
    }

    json_t *name = json_object_get(body, "customerName");
    if (name == NULL || json_is_null(name)) {
        validate_error(errors, "customerName", "is required");
    } else if (!json_is_string(name)
               || json_string_length(name) == 0
               || utf8_length(json_string_value(name)) > CUSTOMER_NAME_MAX)
    {
        validate_error(errors, "customerName",
                       "must be 1-200 characters");
    }

    json_t *email = json_object_get(body, "customerEmail");
    if (email == NULL || json_is_null(email)) {
        validate_error(errors, "customerEmail", "is required");
    } else if (!json_is_string(email)
               || !validate_email(json_string_value(email)))
    {
        validate_error(errors, "customerEmail",
                       "must be an e-mail address of at most 254 characters");
    }

    json_t *phone = json_object_get(body, "customerPhone");
    if (phone != NULL && !json_is_null(phone)
        && (!json_is_string(phone)
            || !validate_phone(json_string_value(phone))))
    {
        validate_error(errors, "customerPhone",
                       "must be at most 32 of + 0-9 space ( ) -");
    }

    json_t *price = json_object_get(body, "price");
    if (price == NULL || json_is_null(price)) {
        validate_error(errors, "price", "is required");
    } else if (!json_is_number(price) || json_number_value(price) < 0) {
        validate_error(errors, "price", "must be a number of at least 0");
    }
}

/*
 * With BOOKING_MIN_REPLICAS > 0 a booking, new or replayed, is acknowledged
 * only once that many replicas have it: WAIT on the connection that ran the
 * book script. Its last write covers the booking, also on a replay, which
 * renews the lockId's record. False with res filled (503) when they did
 * not confirm in time; the lockId's retry is then answered from the record.
 */
static bool booking_replicated(worker_t *w, http_response_t *res)
{
    int want = w->cfg->booking_min_replicas;
    int acked;

    if (want == 0) {
        return true;
    }
    store_status_t st = store_wait(&w->store, want,
                                   w->cfg->redis_command_timeout_ms, &acked);
    if (st != STORE_OK) {
        app_store_failure(w, st, res);
        return false;
    }
    if (acked < want) {
        log_error("worker %d: booking confirmed by %d of %d replicas",
                  w->id, acked, want);
        http_unavailable(res, "The booking is not yet confirmed by enough "
                         "replicas; retry with the same lockId");
        return false;
    }
    return true;
}

/*
 * Redis Cluster: drops the lock a new booking consumed from its holder's
 * set, which lives on the tenant's slot, not the specialist's. Nothing to
 * do with one Redis, where the script did it.
 */
static void release_holder_place(worker_t *w, json_t *answer,
                                 const slot_t *slot)
{
    json_t *appt = json_object_get(answer, "appointment");

    if (!store_is_cluster(&w->store)
        || !json_is_true(json_object_get(answer, "created")))
    {
        return;
    }
    json_t *lock = json_pack("{s:s, s:O}", "tenantId", slot->tenant,
                             "holderId", json_object_get(answer, "holderId"));

    app_holder_index(w, lock, "remove",
                     json_string_value(json_object_get(appt, "lockId")));
    json_decref(lock);
}

bool appointment_request_parse(json_t *body, appointment_request_t *req,
                               json_t *errors)
{
    memset(req, 0, sizeof(*req));
    req->with_lock = validate_lock_id(body, false, req->lock_id, errors) == 1;
    validate_slot(body, "specialistId",
                  VALIDATE_NEED_SLOT | VALIDATE_NEED_DURATION, false,
                  &req->slot, &req->present, errors);
    validate_booking(body, &req->slot, req->present, errors);
    return json_array_size(errors) == 0;
}

void appointment_create(worker_t *w, const http_request_t *req,
                        const route_match_t *match, http_response_t *res)
{
    (void) match;
    json_t *body = http_json_body(req, res);
    json_t *errors = json_array();
    appointment_request_t in;

    if (body == NULL) {
        json_decref(errors);
        return;
    }
    appointment_request_parse(body, &in, errors);
    if (app_invalid(errors, res)) {
        goto done;
    }
    const slot_t slot = in.slot;
    const bool with_lock = in.with_lock;
    const char *lock_id = in.lock_id;

    if (!with_lock) {
        /* Only an admin may book without holding the slot first. */
        if (req->authorization == NULL) {
            http_error(res, 400, "lock_required",
                       "A lockId from POST /api/locks/acquire is required");
            goto done;
        }
        if (!app_require_admin(w, req, res)) {
            goto done;
        }
    }

    char appt_id[VALIDATE_UUID_LEN + 1];
    slot_keys_t keys;

    slot_keys(&slot, &keys);
    app_new_id(w, appt_id, "booking_apptid:", keys.lock);
    json_t *phone = json_object_get(body, "customerPhone");
    json_t *record = json_pack(
        "{s:s, s:s, s:s, s:O, s:s, s:s, s:O, s:i, s:O, s:O, s:O, s:O, s:s?}",
        "id", appt_id, "tenantId", slot.tenant, "specialistId", slot.resource,
        "serviceId", json_object_get(body, "serviceId"),
        "date", slot.date, "startTime", slot.start,
        "endTime", json_object_get(body, "endTime"),
        "duration", slot.duration_min,
        "customerName", json_object_get(body, "customerName"),
        "customerEmail", json_object_get(body, "customerEmail"),
        "customerPhone", phone && json_is_string(phone) ? phone : json_null(),
        "price", json_object_get(body, "price"),
        "lockId", with_lock ? lock_id : NULL);
    json_t *expected = json_pack("{s:s, s:s, s:s, s:s, s:i}",
                                 "tenantId", slot.tenant,
                                 "resourceId", slot.resource,
                                 "date", slot.date, "startTime", slot.start,
                                 "duration", slot.duration_min);
    char *record_json = json_dumps(record, JSON_COMPACT);
    char *expected_json = json_dumps(expected, JSON_COMPACT);
    json_decref(record);
    json_decref(expected);

    char lockid_key[SLOT_KEY_MAX] = "", done_key[SLOT_KEY_MAX];
    char appt_key[SLOT_KEY_MAX], apptid_key[SLOT_KEY_MAX];
    char start_min[APP_NUM_MAX], duration[APP_NUM_MAX];
    const bool cluster = store_is_cluster(&w->store);

    if (with_lock) {
        slot_lockid_key(lock_id, lockid_key, sizeof(lockid_key));
    }
    /* Unused without a lock, but on the slot's hash tag all the same. */
    slot_done_key(&slot, lock_id, done_key, sizeof(done_key));
    slot_appt_key(&slot, appt_id, appt_key, sizeof(appt_key));
    slot_apptid_key(appt_id, apptid_key, sizeof(apptid_key));
    snprintf(start_min, sizeof(start_min), "%d", slot.start_min);
    snprintf(duration, sizeof(duration), "%d", slot.duration_min);

    const char *script_keys[] = {
        keys.lock, keys.lock_index, keys.booked, app_stats_key(w, &keys),
        app_live_key(w, &keys), done_key, appt_key, apptid_key, lockid_key
    };
    const char *args[] = {
        lock_id, record_json, start_min, duration, keys.lock_prefix,
        expected_json, DONE_TTL_S
    };
    json_t *answer = app_script(w, SCRIPT_BOOK,
                                app_one_slot(w, keys.lock, lockid_key)
                                ? 9 : 8, script_keys, 7, args, res);
    free(record_json);
    free(expected_json);
    if (answer == NULL) {
        goto done;
    }

    /* A cluster's script saw only this slot: is the lock on another one? */
    const char *reason = json_string_value(json_object_get(answer, "err"));
    bool live;
    if (cluster && with_lock && reason != NULL
        && strcmp(reason, "lock_expired") == 0)
    {
        if (!lock_live_anywhere(w, lock_id, &live, res)) {
            json_decref(answer);
            goto done;
        }
        if (live) {
            json_object_set_new(answer, "err", json_string("lock_mismatch"));
        }
    }

    json_t *err = app_script_error(answer, 409, res);
    if (err != NULL) {
        json_t *remaining = json_object_get(answer, "remainingTTL");
        if (remaining != NULL) {
            json_object_set(err, "remainingTTL", remaining);
        }
    } else if (booking_replicated(w, res)) {
        release_holder_place(w, answer, &slot);
        bool created = json_is_true(json_object_get(answer, "created"));
        json_object_set_new(http_ok(res, created ? 201 : 200), "appointment",
                            appointment_view(json_object_get(answer,
                                                             "appointment")));
    }
    json_decref(answer);
done:
    json_decref(errors);
    json_decref(body);
}

/* ---------------------------------------------------------------------
 * Admin: list, get, cancel
 * ------------------------------------------------------------------- */

/* What the appointment list collects while it scans. */
typedef struct list_scan_s {
    json_t *list;
    const char *status;     /* NULL for every status */
} list_scan_t;

static bool collect_appointment(const char *key, json_t *stored,
                                json_int_t pttl, json_int_t now, void *arg)
{
    (void) key;
    (void) pttl;
    (void) now;
    list_scan_t *scan = arg;
    const char *status = json_string_value(json_object_get(stored,
                                                           "status"));

    if (status != NULL
        && (scan->status == NULL || strcmp(status, scan->status) == 0))
    {
        json_array_append_new(scan->list, appointment_view(stored));
    }
    return true;
}

/* Orders appointments by date, start time, then creation. */
static int compare_appointments(const void *a, const void *b)
{
    static const char *const order[] = { "date", "startTime", "createdAt",
                                         "id" };

    return app_compare_fields(*(json_t *const *) a, *(json_t *const *) b,
                              order, sizeof(order) / sizeof(order[0]));
}

void appointment_list(worker_t *w, const http_request_t *req,
                      const route_match_t *match, http_response_t *res)
{
    (void) match;
    json_t *errors = json_array();
    json_t *query = validate_query(req->query, errors);
    slot_t slot;
    unsigned present;

    if (!app_require_admin(w, req, res)) {
        goto done;
    }
    validate_slot(query, "specialistId", VALIDATE_NEED_TENANT, true, &slot,
                  &present, errors);
    const char *status = json_string_value(json_object_get(query, "status"));
    if (status != NULL && strcmp(status, "confirmed") != 0
        && strcmp(status, "cancelled") != 0)
    {
        validate_error(errors, "status", "must be confirmed or cancelled");
    }
    if (app_invalid(errors, res)) {
        goto done;
    }

    char pattern[SLOT_KEY_MAX];
    snprintf(pattern, sizeof(pattern), "booking_appt:{%s|%s}:%s:*",
             slot.tenant, present & VALIDATE_NEED_RESOURCE ? slot.resource
                                                           : "*",
             present & VALIDATE_NEED_DATE ? slot.date : "*");

    list_scan_t scan = { json_array(), status };
    if (app_scan_values(w, pattern, collect_appointment, &scan, res)) {
        app_sort(scan.list, compare_appointments);
        json_t *ok = http_ok(res, 200);
        json_object_set_new(ok, "count",
                            json_integer((json_int_t)
                                         json_array_size(scan.list)));
        json_object_set(ok, "appointments", scan.list);
    }
    json_decref(scan.list);
done:
    json_decref(query);
    json_decref(errors);
}

/*
 * Finds the record key of appointment id through the id index. False with
 * res filled (404, or a store failure) when there is none.
 */
static bool find_appointment(worker_t *w, const char *id, char **key,
                             http_response_t *res)
{
    char index_key[SLOT_KEY_MAX];

    *key = NULL;
    if (!validate_uuid(id)) {
        http_error(res, 404, "not_found", "No appointment has that id");
        return false;
    }
    slot_apptid_key(id, index_key, sizeof(index_key));
    store_status_t st = store_get(&w->store, index_key, key);
    if (st != STORE_OK) {
        app_store_failure(w, st, res);
        return false;
    }
    if (*key == NULL) {
        http_error(res, 404, "not_found", "No appointment has that id");
        return false;
    }
    return true;
}

void appointment_get(worker_t *w, const http_request_t *req,
                     const route_match_t *match, http_response_t *res)
{
    char *key;

    if (!app_require_admin(w, req, res)
        || !find_appointment(w, match->param, &key, res))
    {
        return;
    }
    const char *keys[] = { key };
    json_t *answer = app_script(w, SCRIPT_READ_KEYS, 1, keys, 0, NULL, res);
    free(key);
    if (answer == NULL) {
        return;
    }
    json_t *item = json_array_get(json_object_get(answer, "items"), 0);
    const char *raw = json_string_value(json_array_get(item, 0));
    json_t *stored = raw ? json_loads(raw, 0, NULL) : NULL;
    if (json_is_object(stored)) {
        json_object_set_new(http_ok(res, 200), "appointment",
                            appointment_view(stored));
    } else {
        http_error(res, 404, "not_found", "No appointment has that id");
    }
    json_decref(stored);
    json_decref(answer);
}

void appointment_cancel(worker_t *w, const http_request_t *req,
                        const route_match_t *match, http_response_t *res)
{
    char *key;
    char appt_id[VALIDATE_UUID_LEN + 1];
    slot_t slot;
    slot_keys_t keys;

    if (!app_require_admin(w, req, res)
        || !find_appointment(w, match->param, &key, res))
    {
        return;
    }
    if (!slot_parse_appt_key(key, &slot, appt_id)) {
        free(key);
        http_error(res, 404, "not_found", "No appointment has that id");
        return;
    }
    slot_keys(&slot, &keys);
    const char *script_keys[] = { key, keys.booked,
                                  app_stats_key(w, &keys) };
    json_t *answer = app_script(w, SCRIPT_CANCEL, 3, script_keys, 0, NULL,
                                res);
    free(key);
    if (answer == NULL) {
        return;
    }
    if (app_script_error(answer, 404, res) == NULL) {
        json_object_set_new(http_ok(res, 200), "appointment",
                            appointment_view(json_object_get(answer,
                                                             "appointment")));
    }
    json_decref(answer);
}
