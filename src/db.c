/*
 * db.c - the data layer's lock operations, and what every operation
 * shares. See db.h; bookings are in db_book.c, listings in db_scan.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "db_int.h"
#include "log.h"
#include "store.h"

/* How long a release's tombstone answers the same request sent again. */
#define RELEASE_TOMBSTONE_MS "60000"

/* ---------------------------------------------------------------------
 * What every operation shares
 * ------------------------------------------------------------------- */

bool db_init(db_t *db, const config_t *cfg, int worker_id)
{
    memset(db, 0, sizeof(*db));
    db->cfg = cfg;
    db->worker_id = worker_id;
    db->store = store_open(cfg, worker_id);
    if (db->store == NULL) {
        return false;
    }
    /* The one place that asks which Redis this is. */
    db->layout = store_sharded(db->store) ? &db_cluster_layout
                                          : &db_one_layout;
    return true;
}

void db_close(db_t *db)
{
    store_close(db->store);
    db->store = NULL;
}

const char *db_error(const db_t *db)
{
    return store_error(db->store);
}

void db_redirects(unsigned long *moved, unsigned long *ask,
                  unsigned long *tryagain)
{
    store_redirects(moved, ask, tryagain);
}

db_status_t db_status_of(int store_status)
{
    switch ((store_status_t) store_status) {
    case STORE_OK:
        return DB_OK;
    case STORE_OUT_OF_MEMORY:
        return DB_OUT_OF_MEMORY;
    case STORE_FAILED:
        return DB_FAILED;
    default:
        return DB_UNAVAILABLE;
    }
}

db_status_t db_script(db_t *db, script_id_t id, int nkeys,
                      const char *const *keys, int nargs,
                      const char *const *args, json_t **out)
{
    const char *argv[24];
    char maxlen[DB_NUM_MAX], retention[DB_NUM_MAX];

    if (nargs + 3 > (int) (sizeof(argv) / sizeof(argv[0]))) {
        return DB_FAILED;
    }
    /* The scope, then the event streams' caps (common.lua takes all three
     * off ARGV). */
    argv[0] = db->layout->scope;
    argv[1] = db_num(maxlen, db->cfg->events_maxlen);
    argv[2] = db_num(retention, db->cfg->events_retention_ms);
    for (int i = 0; i < nargs; i++) {
        argv[i + 3] = args[i];
    }
    return db_status_of(store_script(db->store, id, nkeys, keys, nargs + 3,
                                     argv, out));
}

void db_new_uuid(char *out)
{
    uuid_t uuid;

    /* libuuid's random (version 4) generator, from the kernel's entropy. */
    uuid_generate_random(uuid);
    uuid_unparse_lower(uuid, out);
}

const char *db_num(char *buf, long n)
{
    snprintf(buf, DB_NUM_MAX, "%ld", n);
    return buf;
}

db_status_t db_health(db_t *db)
{
    json_t *answer = NULL;
    db_status_t status = db_script(db, SCRIPT_HEALTH, 0, NULL, 0, NULL,
                                   &answer);

    json_decref(answer);
    return status;
}

/* ---------------------------------------------------------------------
 * Acquire
 * ------------------------------------------------------------------- */

/*
 * Gives back the places an acquire reserved, unless the lock may have been
 * made: after a timeout or a lost connection it may have.
 */
static void give_back(db_t *db, const lock_request_t *in, const char *lock_id,
                      const db_places_t *places)
{
    json_t *mine = json_pack("{s:s}", "tenantId", in->slot.tenant);

    if (places->holder.reserved) {
        json_object_set_new(mine, "holderId", json_string(in->holder));
    }
    if (places->client.reserved) {
        json_object_set_new(mine, "clientAddr", json_string(in->client));
    }
    db->layout->follow(db, mine, "remove", lock_id);
    json_decref(mine);
}

db_status_t db_acquire(db_t *db, const lock_request_t *in, json_t **out)
{
    const config_t *cfg = db->cfg;
    const db_layout_t *layout = db->layout;
    const slot_t *slot = &in->slot;
    char lock_id[VALIDATE_UUID_LEN + 1], lockid_key[KEYS_MAX];
    char start_min[DB_NUM_MAX], duration[DB_NUM_MAX], ttl_ms[DB_NUM_MAX];
    char max_hold[DB_NUM_MAX], max_per_holder[DB_NUM_MAX];
    char max_per_client[DB_NUM_MAX];
    db_places_t places;
    keys_t keys;

    *out = NULL;
    keys_of_slot(slot, &keys);
    layout->new_id(lock_id, KEYS_LOCKID_PREFIX, keys.lock);
    db_status_t st = layout->reserve(db, in, lock_id, &places);
    if (st != DB_OK) {
        return st;
    }
    keys_lockid(lock_id, lockid_key, sizeof(lockid_key));

    const char *script_keys[] = {
        keys.lock, keys.lock_index, keys.booked, layout->stats_key(&keys),
        layout->live_key(&keys), keys.settings, keys.fence, keys.events,
        lockid_key
    };
    const char *args[] = {
        lock_id, in->holder, slot->tenant, slot->resource, slot->date,
        slot->start, db_num(start_min, slot->start_min),
        db_num(duration, slot->duration_min), db_num(ttl_ms, in->ttl_ms),
        db_num(max_hold, cfg->lock_max_hold_ms),
        db_num(max_per_holder, cfg->lock_max_per_holder), keys.lock_prefix,
        places.holder.held,
        cfg->lock_max_per_address > 0 ? in->client : "",
        places.client.held, db_num(max_per_client, cfg->lock_max_per_address)
    };
    int nkeys = store_one_slot(db->store, keys.lock, lockid_key) ? 9 : 8;
    st = db_script(db, SCRIPT_ACQUIRE, nkeys, script_keys, 16, args, out);

    const char *got = json_string_value(json_object_get(*out, "lockId"));
    bool made = st == DB_OK ? got != NULL && strcmp(got, lock_id) == 0
                            : st == DB_UNAVAILABLE;
    if (!made && (places.holder.reserved || places.client.reserved)) {
        give_back(db, in, lock_id, &places);
    }
    if (st == DB_OK && got != NULL && !made) {
        /* The holder's own lock, renewed: its end moves in the sets too
         * (a new lock's places were reserved above). */
        layout->follow(db, *out, "add", got);
    }
    return st;
}

/* ---------------------------------------------------------------------
 * The routes on an existing lock
 * ------------------------------------------------------------------- */

/* The keys a script on an existing lock works on. */
typedef struct lock_target_s {
    char lock[KEYS_MAX];        /* "" when the script finds it itself */
    char lockid_key[KEYS_MAX];
    keys_t keys;                /* of the lock's slot, when known */
    /* lock, live set, stats, event stream ("" when the lock is not
     * known), lockId index */
    const char *keyv[5];
    int nkeys;
    bool found;                 /* false: no index knows the lockId */
} lock_target_t;

/* The fields the request sent, as the JSON the scripts compare the lock
 * with; "" when none. The caller frees it. */
static char *expected_fields(const lock_request_t *in)
{
    const slot_t *s = &in->slot;
    json_t *expected = json_object();

    if (in->present & VALIDATE_NEED_TENANT) {
        json_object_set_new(expected, "tenantId", json_string(s->tenant));
    }
    if (in->present & VALIDATE_NEED_RESOURCE) {
        json_object_set_new(expected, "resourceId", json_string(s->resource));
    }
    if (in->present & VALIDATE_NEED_DATE) {
        json_object_set_new(expected, "date", json_string(s->date));
    }
    if (in->present & VALIDATE_NEED_START) {
        json_object_set_new(expected, "startTime", json_string(s->start));
    }
    if (in->present & VALIDATE_NEED_DURATION) {
        json_object_set_new(expected, "duration",
                            json_integer(s->duration_min));
    }
    char *text = json_object_size(expected) > 0
                 ? json_dumps(expected, JSON_COMPACT) : strdup("");
    json_decref(expected);
    return text;
}

static db_status_t lock_target(db_t *db, const lock_request_t *in,
                               lock_target_t *t)
{
    const db_layout_t *layout = db->layout;
    slot_t slot;

    memset(t, 0, sizeof(*t));
    t->found = true;
    keys_lockid(in->lock_id, t->lockid_key, sizeof(t->lockid_key));
    if ((in->present & VALIDATE_NEED_SLOT) == VALIDATE_NEED_SLOT) {
        keys_of_slot(&in->slot, &t->keys);
        strcpy(t->lock, t->keys.lock);
    } else {
        db_status_t st = layout->find_lock(db, t->lockid_key, t->lock,
                                           sizeof(t->lock), &t->found);
        if (st != DB_OK) {
            return st;
        }
        if (t->lock[0] != '\0' && keys_parse_lock(t->lock, &slot)) {
            keys_of_slot(&slot, &t->keys);
        }
    }
    t->keyv[0] = t->lock;
    t->keyv[1] = layout->live_key(&t->keys);
    t->keyv[2] = layout->stats_key(&t->keys);
    t->keyv[3] = t->keys.events;
    t->keyv[4] = t->lockid_key;
    t->nkeys = store_one_slot(db->store, t->lock, t->lockid_key) ? 5 : 4;
    return DB_OK;
}

/*
 * Runs script on the lock in names, with the lockId and args after it; a
 * lockId no index knows is answered lock_not_found without a script.
 */
static db_status_t lock_script(db_t *db, const lock_request_t *in,
                               script_id_t script, int nargs,
                               const char *const *args, json_t **out)
{
    lock_target_t t;
    const char *argv[4] = { in->lock_id };
    db_status_t st = lock_target(db, in, &t);

    *out = NULL;
    if (st != DB_OK) {
        return st;
    }
    if (!t.found) {
        *out = json_pack("{s:s}", "err", "lock_not_found");
        return DB_OK;
    }
    for (int i = 0; i < nargs && i < 3; i++) {
        argv[i + 1] = args[i];
    }
    return db_script(db, script, t.nkeys, t.keyv, nargs + 1, argv, out);
}

db_status_t db_mismatch_elsewhere(db_t *db, const char *lock_id,
                                  const char *missing_reason, json_t *answer)
{
    const char *reason = json_string_value(json_object_get(answer, "err"));
    bool elsewhere = false;

    if (reason == NULL || strcmp(reason, missing_reason) != 0) {
        return DB_OK;
    }
    db_status_t st = db->layout->live_elsewhere(db, lock_id, &elsewhere);
    if (st == DB_OK && elsewhere) {
        json_object_set_new(answer, "err", json_string("lock_mismatch"));
    }
    return st;
}

db_status_t db_verify(db_t *db, const lock_request_t *in, json_t **out)
{
    char *expected = expected_fields(in);
    const char *args[] = { expected };
    db_status_t st = lock_script(db, in, SCRIPT_VERIFY, 1, args, out);

    free(expected);
    if (st == DB_OK) {
        st = db_mismatch_elsewhere(db, in->lock_id, "lock_not_found", *out);
    }
    return st;
}

db_status_t db_refresh(db_t *db, const lock_request_t *in, json_t **out)
{
    char ttl_ms[DB_NUM_MAX];
    char *expected = expected_fields(in);
    const char *args[] = { db_num(ttl_ms, in->ttl_ms), expected };
    db_status_t st = lock_script(db, in, SCRIPT_REFRESH, 2, args, out);

    free(expected);
    if (st == DB_OK && json_object_get(*out, "err") == NULL) {
        db->layout->follow(db, *out, "add", in->lock_id);
    }
    return st;
}

db_status_t db_checkout(db_t *db, const lock_request_t *in, json_t **out)
{
    char hold_ms[DB_NUM_MAX];
    char *expected = expected_fields(in);
    const char *args[] = { db_num(hold_ms, db->cfg->payment_hold_ms),
                           expected };
    db_status_t st = lock_script(db, in, SCRIPT_CHECKOUT, 2, args, out);

    free(expected);
    if (st == DB_OK && json_object_get(*out, "err") == NULL) {
        db->layout->follow(db, *out, "add", in->lock_id);
    }
    return st;
}

/*
 * A release leaves a tombstone holding a token made for this request: the
 * store may send the script again when its reply was lost, and the copy
 * that finds its own token answers as the run that removed the lock.
 */
db_status_t db_release(db_t *db, const lock_request_t *in, json_t **out)
{
    lock_target_t t;
    slot_t slot;
    char token[VALIDATE_UUID_LEN + 1], tombstone[KEYS_MAX];
    db_status_t st = lock_target(db, in, &t);

    *out = NULL;
    if (st != DB_OK) {
        return st;
    }
    if (!t.found) {
        *out = json_pack("{s:s}", "err", "lock_not_found");
        return DB_OK;
    }
    keys_released(t.lock[0] != '\0' && keys_parse_lock(t.lock, &slot)
                  ? &slot : NULL, in->lock_id, tombstone, sizeof(tombstone));
    db_new_uuid(token);

    char *expected = expected_fields(in);
    const char *keyv[] = { t.keyv[0], t.keyv[1], t.keyv[2], tombstone,
                           t.keyv[3], t.keyv[4] };
    const char *args[] = { in->lock_id, expected, token,
                           RELEASE_TOMBSTONE_MS };
    st = db_script(db, SCRIPT_RELEASE, t.nkeys + 1, keyv, 4, args, out);
    free(expected);
    if (st == DB_OK && json_object_get(*out, "err") == NULL) {
        db->layout->follow(db, *out, "remove", in->lock_id);
    }
    return st;
}

db_status_t db_get(db_t *db, const lock_request_t *in, json_t **out)
{
    return lock_script(db, in, SCRIPT_LOCK_GET, 0, NULL, out);
}

db_status_t db_force_release(db_t *db, const slot_t *slot, json_t **out)
{
    keys_t keys;

    keys_of_slot(slot, &keys);
    const char *script_keys[] = { keys.lock, db->layout->live_key(&keys),
                                  db->layout->stats_key(&keys),
                                  keys.events };
    db_status_t st = db_script(db, SCRIPT_FORCE_RELEASE, 4, script_keys, 0,
                               NULL, out);
    if (st == DB_OK && json_object_get(*out, "err") == NULL) {
        db->layout->follow(db, *out, "remove",
                                  json_string_value(json_object_get(
                                      *out, "lockId")));
    }
    return st;
}

/* ---------------------------------------------------------------------
 * One day of a resource
 * ------------------------------------------------------------------- */

/* A JSON list from a script's answer: cjson writes an empty list as {}. */
static void as_list(json_t *answer, const char *name)
{
    if (!json_is_array(json_object_get(answer, name))) {
        json_object_set_new(answer, name, json_array());
    }
}

#define MAP_RECORD 9

/* A lock map record (common.lua) as a number; false when it is none. */
static bool map_record(const char *text, unsigned long long *n)
{
    static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "abcdefghijklmnopqrstuvwxyz-_";

    *n = 0;
    for (int i = 0; i < MAP_RECORD; i++) {
        const char *d = text[i] != '\0' ? strchr(digits, text[i]) : NULL;

        if (d == NULL) {
            return false;
        }
        *n = *n * 64 + (unsigned long long) (d - digits);
    }
    return true;
}

/*
 * The live locks of a day's 24 lock maps (see common.lua): in the map of
 * hour h, a record of 9 characters per start minute, '.' for none, else
 * the duration (2 digits) and expiresAt (7 digits) in base 64. Records
 * that ran out are left out.
 */
static json_t *locks_of_maps(json_t *maps, long long now)
{
    json_t *locked = json_array();

    for (int i = 0; i < 24 * 60; i++) {
        json_t *map = json_array_get(maps, (size_t) (i / 60));
        size_t at = (size_t) (i % 60) * MAP_RECORD;
        unsigned long long n;
        char hhmm[8];

        if (json_string_length(map) < at + MAP_RECORD
            || !map_record(json_string_value(map) + at, &n)) {
            continue;
        }
        long long duration = (long long) (n >> 42);
        long long expires_at = (long long) (n & ((1ULL << 42) - 1));

        if (duration <= 0 || expires_at <= now) {
            continue;
        }
        snprintf(hhmm, sizeof(hhmm), "%02d:%02d", i / 60, i % 60);
        json_array_append_new(locked, json_pack(
            "{s:s, s:I, s:I}", "startTime", hhmm,
            "duration", (json_int_t) duration,
            "expiresIn", (json_int_t) (expires_at - now)));
    }
    return locked;
}

/*
 * The live locks where holds may overlap, as status.lua counts them per
 * interval: "<start>/<duration>/<first expiresAt>/<holds>". holds says how
 * many hold that interval, expiresIn is the first of them to run out.
 * Entries of another form and those that ran out are left out.
 */
static json_t *locks_of_index(json_t *groups, long long now)
{
    json_t *locked = json_array();
    size_t i;
    json_t *g;

    json_array_foreach(groups, i, g) {
        const char *text = json_string_value(g);
        int start, duration, holds;
        long long expires_at;
        char hhmm[8];

        if (text == NULL
            || sscanf(text, "%4d/%4d/%lld/%d", &start, &duration,
                      &expires_at, &holds) != 4
            || start < 0 || start >= 24 * 60 || duration <= 0 || holds <= 0
            || expires_at <= now) {
            continue;
        }
        snprintf(hhmm, sizeof(hhmm), "%02d:%02d", start / 60, start % 60);
        json_array_append_new(locked, json_pack(
            "{s:s, s:I, s:I, s:i}", "startTime", hhmm,
            "duration", (json_int_t) duration,
            "expiresIn", (json_int_t) (expires_at - now), "holds", holds));
    }
    return locked;
}

/* The start and end minute of an interval of a status's lists, clipped to
 * the day. */
static void interval_of(json_t *entry, int *start, int *end)
{
    const char *hhmm = json_string_value(json_object_get(entry, "startTime"));
    json_int_t duration = json_integer_value(json_object_get(entry,
                                                             "duration"));

    *start = *end = 0;
    if (hhmm != NULL && strlen(hhmm) == 5) {
        *start = (hhmm[0] - '0') * 600 + (hhmm[1] - '0') * 60
                 + (hhmm[3] - '0') * 10 + (hhmm[4] - '0');
    }
    if (*start < 0 || *start >= 24 * 60) {
        *start = 0;
    }
    *end = duration < 0 ? *start
           : duration > 24 * 60 - *start ? 24 * 60 : *start + (int) duration;
}

/*
 * Sets taken on each interval of locked and booked: the most places in use
 * (live holds and bookings) at one minute of it, itself included. Only
 * where holds may overlap: with capacity 1 it is always 1.
 */
static void set_taken(json_t *locked, json_t *booked)
{
    static const int day = 24 * 60;
    int cover[24 * 60 + 1] = { 0 };
    json_t *lists[] = { locked, booked };
    size_t i;
    json_t *e;
    int start, end;

    for (int l = 0; l < 2; l++) {
        json_array_foreach(lists[l], i, e) {
            json_t *holds = json_object_get(e, "holds");
            int n = holds != NULL ? (int) json_integer_value(holds) : 1;

            interval_of(e, &start, &end);
            cover[start] += n;
            cover[end] -= n;
        }
    }
    for (int m = 1; m <= day; m++) {
        cover[m] += cover[m - 1];
    }
    for (int l = 0; l < 2; l++) {
        json_array_foreach(lists[l], i, e) {
            int most = 0;

            interval_of(e, &start, &end);
            for (int m = start; m < end; m++) {
                most = cover[m] > most ? cover[m] : most;
            }
            json_object_set_new(e, "taken", json_integer(most));
        }
    }
}

db_status_t db_status(db_t *db, const slot_t *day, json_t **out)
{
    keys_t keys;
    char maps[24][KEYS_MAX];
    const char *script_keys[2 + 24 + 1];

    keys_of_slot(day, &keys);
    script_keys[0] = keys.lock_index;
    script_keys[1] = keys.booked;
    for (int h = 0; h < 24; h++) {
        keys_lock_map(day, h, maps[h], sizeof(maps[h]));
        script_keys[2 + h] = maps[h];
    }
    script_keys[2 + 24] = keys.settings;
    const char *args[] = { keys.lock_prefix };
    db_status_t st = db_script(db, SCRIPT_STATUS, 2 + 24 + 1, script_keys, 1,
                               args, out);
    if (st == DB_OK) {
        long long now = json_integer_value(json_object_get(*out,
                                                           "serverTime"));
        json_t *held = json_object_get(*out, "held");

        json_object_set_new(*out, "locked", held != NULL
            ? locks_of_index(held, now)
            : locks_of_maps(json_object_get(*out, "lockMaps"), now));
        json_object_del(*out, "lockMaps");
        as_list(*out, "booked");
        if (held != NULL) {
            set_taken(json_object_get(*out, "locked"),
                      json_object_get(*out, "booked"));
            json_object_del(*out, "held");
        }
    }
    return st;
}

db_status_t db_metrics(db_t *db, json_t **out)
{
    json_t *answer = NULL;
    db_status_t st = db->layout->stats(db, &answer);

    *out = NULL;
    if (st != DB_OK) {
        log_error("worker %d: metrics: %s", db->worker_id, db_error(db));
    } else {
        *out = json_incref(json_object_get(answer, "stats"));
    }
    json_decref(answer);
    return st;
}
