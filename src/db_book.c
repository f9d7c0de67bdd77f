/*
 * db_book.c - the data layer's bookings: make one, read one, cancel one.
 * See db.h.
 *
 * A booking is decided by one script on the specialist's hash slot: the
 * lock is live and is for this slot, no confirmed booking overlaps, the
 * booking is stored and the lock deleted. The lockId is the idempotency
 * key: its record (booking_done) answers every retry with the same
 * appointment.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"
#include "log.h"
#include "store.h"

#define DONE_TTL_S "604800"     /* a lockId's booking is remembered a week */

/* The record a booking stores, as JSON (the caller frees it). */
static char *booking_record(const booking_request_t *in, const char *id)
{
    const slot_t *slot = &in->slot;
    json_t *record = json_pack(
        "{s:s, s:s, s:s, s:O, s:s, s:s, s:O, s:i, s:O, s:O, s:O, s:O, s:s?}",
        "id", id, "tenantId", slot->tenant, "specialistId", slot->resource,
        "serviceId", in->service, "date", slot->date,
        "startTime", slot->start, "endTime", in->end_time,
        "duration", slot->duration_min,
        "customerName", in->customer_name,
        "customerEmail", in->customer_email,
        "customerPhone", in->customer_phone ? in->customer_phone
                                            : json_null(),
        "price", in->price,
        "lockId", in->with_lock ? in->lock_id : NULL);
    char *text = json_dumps(record, VALIDATE_JSON_FLAGS);

    json_decref(record);
    return text;
}

/* The lock fields the booking must match, as JSON (the caller frees it). */
static char *booking_expected(const slot_t *slot)
{
    json_t *expected = json_pack("{s:s, s:s, s:s, s:s, s:i}",
                                 "tenantId", slot->tenant,
                                 "resourceId", slot->resource,
                                 "date", slot->date, "startTime", slot->start,
                                 "duration", slot->duration_min);
    char *text = json_dumps(expected, JSON_COMPACT);

    json_decref(expected);
    return text;
}

/*
 * With BOOKING_MIN_REPLICAS > 0 a booking, new or replayed, is acknowledged
 * only once that many replicas have it: WAIT on the connection that ran the
 * book script. Its last write covers the booking, also on a replay, which
 * renews the lockId's record.
 */
static db_status_t replicated(db_t *db)
{
    int want = db->cfg->booking_min_replicas;
    int acked;

    if (want == 0) {
        return DB_OK;
    }
    db_status_t st = db_status_of(store_wait(db->store, want,
                                             db->cfg->redis_command_timeout_ms,
                                             &acked));
    if (st == DB_OK && acked < want) {
        log_error("worker %d: booking confirmed by %d of %d replicas",
                  db->worker_id, acked, want);
        st = DB_NOT_REPLICATED;
    }
    return st;
}

/* Runs book.lua for in, whose new appointment id is appt_id. */
static db_status_t run_book(db_t *db, const booking_request_t *in,
                            const char *appt_id, const keys_t *keys,
                            json_t **out)
{
    const slot_t *slot = &in->slot;
    char lockid_key[KEYS_MAX] = "", done_key[KEYS_MAX];
    char appt_key[KEYS_MAX], apptid_key[KEYS_MAX];
    char start_min[DB_NUM_MAX], duration[DB_NUM_MAX];
    char *record = booking_record(in, appt_id);
    char *expected = booking_expected(slot);

    if (in->with_lock) {
        keys_lockid(in->lock_id, lockid_key, sizeof(lockid_key));
    }
    /* Unused without a lock, but on the slot's hash tag all the same. */
    keys_done(slot, in->lock_id, done_key, sizeof(done_key));
    keys_appt(slot, appt_id, appt_key, sizeof(appt_key));
    keys_apptid(appt_id, apptid_key, sizeof(apptid_key));

    const char *script_keys[] = {
        keys->lock, keys->lock_index, keys->booked,
        db->layout->stats_key(keys), db->layout->live_key(keys), done_key,
        appt_key, apptid_key, keys->settings, keys->events, lockid_key
    };
    const char *args[] = {
        in->lock_id, record, db_num(start_min, slot->start_min),
        db_num(duration, slot->duration_min), keys->lock_prefix, expected,
        DONE_TTL_S, in->if_still_free ? "1" : ""
    };
    int nkeys = store_one_slot(db->store, keys->lock, lockid_key) ? 11 : 10;
    db_status_t st = db_script(db, SCRIPT_BOOK, nkeys, script_keys, 8, args,
                               out);
    free(record);
    free(expected);
    return st;
}

db_status_t db_book(db_t *db, const booking_request_t *in, json_t **out)
{
    char appt_id[VALIDATE_UUID_LEN + 1];
    keys_t keys;

    keys_of_slot(&in->slot, &keys);
    db->layout->new_id(appt_id, KEYS_APPTID_PREFIX, keys.lock);
    db_status_t st = run_book(db, in, appt_id, &keys, out);
    if (st == DB_OK && in->with_lock) {
        st = db_mismatch_elsewhere(db, in->lock_id, "lock_expired", *out);
    }
    if (st == DB_OK && json_object_get(*out, "err") == NULL) {
        st = replicated(db);
        if (st == DB_OK && json_is_true(json_object_get(*out, "created"))) {
            /* The lock it consumed leaves its holder's and address's
             * sets. */
            json_t *lock = json_pack("{s:s, s:O?, s:O?}", "tenantId",
                                     in->slot.tenant, "holderId",
                                     json_object_get(*out, "holderId"),
                                     "clientAddr",
                                     json_object_get(*out, "clientAddr"));

            db->layout->follow(db, lock, "remove", in->lock_id);
            json_decref(lock);
        }
    }
    if (st != DB_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return st;
}

/*
 * The record key of appointment id, through the id index, into *key (the
 * caller frees it); NULL when there is none.
 */
static db_status_t find_appointment(db_t *db, const char *id, char **key)
{
    char index_key[KEYS_MAX];

    *key = NULL;
    if (!validate_uuid(id)) {
        return DB_OK;
    }
    keys_apptid(id, index_key, sizeof(index_key));
    return db_status_of(store_get(db->store, index_key, key));
}

static json_t *not_found(void)
{
    return json_pack("{s:s}", "err", "not_found");
}

db_status_t db_appointment(db_t *db, const char *id, json_t **out)
{
    char *key;
    json_t *answer = NULL;
    db_status_t st = find_appointment(db, id, &key);

    *out = NULL;
    if (st != DB_OK || key == NULL) {
        *out = st == DB_OK ? not_found() : NULL;
        return st;
    }
    const char *keys[] = { key };
    st = db_script(db, SCRIPT_READ_KEYS, 1, keys, 0, NULL, &answer);
    free(key);
    if (st != DB_OK) {
        return st;
    }
    json_t *item = json_array_get(json_object_get(answer, "items"), 0);
    const char *raw = json_string_value(json_array_get(item, 0));
    json_t *stored = raw ? json_loads(raw, 0, NULL) : NULL;
    *out = json_is_object(stored)
           ? json_pack("{s:O}", "appointment", stored) : not_found();
    json_decref(stored);
    json_decref(answer);
    return DB_OK;
}

db_status_t db_cancel(db_t *db, const char *id, json_t **out)
{
    char *key;
    char appt_id[VALIDATE_UUID_LEN + 1];
    slot_t slot;
    keys_t keys;
    db_status_t st = find_appointment(db, id, &key);

    *out = NULL;
    if (st != DB_OK || key == NULL || !keys_parse_appt(key, &slot, appt_id)) {
        free(key);
        *out = st == DB_OK ? not_found() : NULL;
        return st;
    }
    keys_of_slot(&slot, &keys);
    const char *script_keys[] = { key, keys.booked,
                                  db->layout->stats_key(&keys), keys.events };
    st = db_script(db, SCRIPT_CANCEL, 4, script_keys, 0, NULL, out);
    free(key);
    return st;
}
