/*
 * db_cluster.c - the layout of a Redis Cluster, where a script reaches one
 * hash slot only. See db_int.h.
 *
 * - New lockIds and appointment ids are made so that their index keys
 *   (booking_lockid:<id>, booking_apptid:<id>) land on the resource's slot:
 *   the script that makes the lock or booking then writes the index too.
 * - The holder sets (booking_holder:{tenant}:<holder>) and the client
 *   address sets (booking_client:{tenant}:<address>) live on the tenant's
 *   slot: a place is reserved there before the acquire script runs, and
 *   the sets follow each lock's renewal and removal.
 * - A request that names only a lockId reads the index first, so that the
 *   script goes to the lock's slot.
 * - The counters are each resource's own, added up over every primary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"
#include "keyslot.h"
#include "log.h"
#include "store.h"

static const char *resource_stats(const keys_t *keys)
{
    return keys->stats;
}

static const char *resource_live(const keys_t *keys)
{
    return keys->live;
}

/*
 * The last five hex digits of the UUID are chosen so that prefix + id
 * hashes to near_key's slot; the rest is libuuid's.
 */
static void id_on_slot(char *out, const char *prefix, const char *near_key)
{
    char key[KEYS_MAX];

    db_new_uuid(out);
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

/*
 * Whether lock_id's place in a holder's set is taken by a lock that is
 * gone: its lockId index names a lock key that no longer holds it (DEL'd
 * or overwritten by hand). A place without an index entry is kept: it may
 * be an acquire's, reserved and not made yet.
 */
static db_status_t place_of_gone_lock(db_t *db, const char *lock_id,
                                      bool *gone)
{
    char index_key[KEYS_MAX], *lock_key = NULL, *value = NULL;
    slot_t slot;

    *gone = false;
    keys_lockid(lock_id, index_key, sizeof(index_key));
    db_status_t st = db_status_of(store_get(db->store, index_key,
                                            &lock_key));
    if (st == DB_OK && lock_key != NULL && keys_parse_lock(lock_key, &slot)) {
        st = db_status_of(store_get(db->store, lock_key, &value));
        *gone = st == DB_OK && (value == NULL
                                || strstr(value, lock_id) == NULL);
    }
    free(lock_key);
    free(value);
    return st;
}

/* Frees the places in the holder set at key of locks that are gone; sets
 * *freed when there was one. Runs only when the holder is at the cap. */
static db_status_t free_gone_places(db_t *db, const char *key, bool *freed)
{
    const char *keys[] = { key };
    const char *list[] = { "list" };
    json_t *answer = NULL, *id;
    size_t i;
    db_status_t st = db_script(db, SCRIPT_HOLDER, 1, keys, 1, list, &answer);

    *freed = false;
    json_array_foreach(json_object_get(answer, "lockIds"), i, id) {
        const char *lock_id = json_string_value(id);
        bool gone = false;

        if (st == DB_OK && lock_id != NULL) {
            st = place_of_gone_lock(db, lock_id, &gone);
        }
        if (st == DB_OK && gone) {
            const char *remove[] = { "remove", lock_id };
            json_t *done = NULL;

            st = db_script(db, SCRIPT_HOLDER, 1, keys, 2, remove, &done);
            json_decref(done);
            *freed = *freed || st == DB_OK;
        }
    }
    json_decref(answer);
    return st;
}

/*
 * Takes a place for lock_id in the set at key, capped at max; place->held
 * is "0" when one was reserved, the cap when none was left. With no place
 * left, the script may still renew the caller's own lock, but makes no new
 * one (it is told the set is at the cap).
 */
static db_status_t reserve_in(db_t *db, const char *key, const char *lock_id,
                              long ttl_ms, int max, db_place_t *place)
{
    char ttl[DB_NUM_MAX], cap[DB_NUM_MAX], keep_ms[DB_NUM_MAX];
    json_t *answer = NULL;
    bool freed = false, reserved;
    const char *keys[] = { key };
    const char *args[] = {
        "reserve", lock_id, db_num(ttl, ttl_ms), db_num(cap, max),
        db_num(keep_ms, db->cfg->lock_max_hold_ms)
    };
    db_status_t st = db_script(db, SCRIPT_HOLDER, 1, keys, 5, args, &answer);
    reserved = st == DB_OK
               && json_is_true(json_object_get(answer, "reserved"));
    if (st == DB_OK && !reserved) {
        /* At the cap: once more, when locks DEL'd by hand held places. */
        st = free_gone_places(db, key, &freed);
        if (st == DB_OK && freed) {
            json_decref(answer);
            answer = NULL;
            st = db_script(db, SCRIPT_HOLDER, 1, keys, 5, args, &answer);
            reserved = st == DB_OK
                       && json_is_true(json_object_get(answer, "reserved"));
        }
    }
    if (st == DB_OK) {
        place->reserved = reserved;
        snprintf(place->held, sizeof(place->held), "%d", reserved ? 0 : max);
    }
    json_decref(answer);
    return st;
}

/* Moves lock_id's entry in the set at key: op "add" (a new end, from
 * answer's expiresAt) or "remove". */
static void follow_in(db_t *db, const char *key, json_t *answer,
                      const char *op, const char *lock_id)
{
    char expires_at[DB_NUM_MAX], keep_ms[DB_NUM_MAX];
    json_t *done = NULL;
    const char *keys[] = { key };
    const char *args[] = {
        op, lock_id,
        db_num(expires_at, (long) json_integer_value(
                   json_object_get(answer, "expiresAt"))),
        db_num(keep_ms, db->cfg->lock_max_hold_ms)
    };

    if (db_script(db, SCRIPT_HOLDER, 1, keys, 4, args, &done) != DB_OK) {
        log_error("worker %d: holder or address set %s of a lock: %s",
                  db->worker_id, op, db_error(db));
    }
    json_decref(done);
}

static db_status_t reserve_places(db_t *db, const lock_request_t *in,
                                  const char *lock_id, db_places_t *places)
{
    char key[KEYS_MAX];
    db_status_t st = DB_OK;

    memset(places, 0, sizeof(*places));
    if (in->holder[0] != '\0') {
        keys_holder(in->slot.tenant, in->holder, key, sizeof(key));
        st = reserve_in(db, key, lock_id, in->ttl_ms,
                        db->cfg->lock_max_per_holder, &places->holder);
    }
    if (st == DB_OK && in->client[0] != '\0'
        && db->cfg->lock_max_per_address > 0)
    {
        keys_client(in->slot.tenant, in->client, key, sizeof(key));
        st = reserve_in(db, key, lock_id, in->ttl_ms,
                        db->cfg->lock_max_per_address, &places->client);
    }
    if (st != DB_OK && places->holder.reserved) {
        /* The holder's place goes back: no lock will be made. */
        json_t *mine = json_pack("{s:s, s:s}", "tenantId", in->slot.tenant,
                                 "holderId", in->holder);

        keys_holder(in->slot.tenant, in->holder, key, sizeof(key));
        follow_in(db, key, mine, "remove", lock_id);
        json_decref(mine);
    }
    return st;
}

static void follow_lock(db_t *db, json_t *answer, const char *op,
                        const char *lock_id)
{
    const char *tenant = json_string_value(json_object_get(answer,
                                                           "tenantId"));
    const char *holder = json_string_value(json_object_get(answer,
                                                           "holderId"));
    const char *client = json_string_value(json_object_get(answer,
                                                           "clientAddr"));
    char key[KEYS_MAX];

    if (tenant == NULL || lock_id == NULL) {
        return;
    }
    if (holder != NULL) {
        keys_holder(tenant, holder, key, sizeof(key));
        follow_in(db, key, answer, op, lock_id);
    }
    if (client != NULL) {
        keys_client(tenant, client, key, sizeof(key));
        follow_in(db, key, answer, op, lock_id);
    }
}

static db_status_t read_index(db_t *db, const char *lockid_key,
                              char *lock_key, size_t len, bool *found)
{
    char *key;
    slot_t slot;
    db_status_t st = db_status_of(store_get(db->store, lockid_key, &key));

    lock_key[0] = '\0';
    *found = false;
    if (st != DB_OK) {
        return st;
    }
    /* An index entry we did not write names no lock. */
    if (key != NULL && strlen(key) < len && keys_parse_lock(key, &slot)) {
        strcpy(lock_key, key);
        *found = true;
    }
    free(key);
    return DB_OK;
}

static db_status_t live_on_other_slot(db_t *db, const char *lock_id,
                                      bool *elsewhere)
{
    lock_request_t by_id;
    json_t *answer = NULL;

    memset(&by_id, 0, sizeof(by_id));
    snprintf(by_id.lock_id, sizeof(by_id.lock_id), "%s", lock_id);
    db_status_t st = db_get(db, &by_id, &answer);
    *elsewhere = st == DB_OK && json_is_true(json_object_get(answer, "ok"));
    json_decref(answer);
    return st;
}

/* What sum_counters adds up while it scans. */
typedef struct stats_scan_s {
    db_t *db;
    json_t *sum;
    db_status_t status;
} stats_scan_t;

/* Runs metrics.lua on each resource's counters and adds them up. */
static bool add_counters(const char **keys, int count, void *arg)
{
    stats_scan_t *scan = arg;

    for (int i = 0; i < count && scan->status == DB_OK; i++) {
        char live[KEYS_MAX], stats[KEYS_MAX], events[KEYS_MAX];
        const char *key;
        json_t *value, *answer = NULL;

        keys_live_of_stats(keys[i], live, sizeof(live));
        if (!keys_of_live(live, stats, events, sizeof(events))) {
            continue;
        }
        const char *script_keys[] = { keys[i], live, events };
        scan->status = db_script(scan->db, SCRIPT_METRICS, 3, script_keys,
                                 0, NULL, &answer);
        json_object_foreach(json_object_get(answer, "stats"), key, value) {
            json_int_t had = json_integer_value(json_object_get(scan->sum,
                                                                key));

            json_object_set_new(scan->sum, key, json_integer(
                                    had + json_integer_value(value)));
        }
        json_decref(answer);
    }
    return scan->status == DB_OK;
}

static db_status_t sum_counters(db_t *db, json_t **out)
{
    stats_scan_t scan = { db, json_object(), DB_OK };

    json_object_set_new(scan.sum, "activeLocks", json_integer(0));
    db_status_t st = db_status_of(store_scan(db->store, KEYS_STATS_PREFIX "*",
                                             add_counters, &scan));
    if (st == DB_OK) {
        st = scan.status;
    }
    *out = st == DB_OK ? json_pack("{s:b, s:O}", "ok", 1, "stats", scan.sum)
                       : NULL;
    json_decref(scan.sum);
    return st;
}

/* What each_live_set passes on while it scans. */
typedef struct live_scan_s {
    db_t *db;
    db_live_fn fn;
    void *arg;
} live_scan_t;

static bool live_batch(const char **keys, int count, void *arg)
{
    live_scan_t *scan = arg;

    for (int i = 0; i < count; i++) {
        char stats[KEYS_MAX], events[KEYS_MAX];

        if (keys_of_live(keys[i], stats, events, sizeof(events))
            && !scan->fn(scan->db, keys[i], stats, events, scan->arg))
        {
            return false;
        }
    }
    return true;
}

/* Every resource's live-lock set: a SCAN of every primary. */
static db_status_t each_live_set(db_t *db, db_live_fn fn, void *arg)
{
    live_scan_t scan = { db, fn, arg };

    return db_status_of(store_scan(db->store, KEYS_LIVE_PREFIX "*",
                                   live_batch, &scan));
}

const db_layout_t db_cluster_layout = {
    .scope = "slot",
    .stats_key = resource_stats,
    .live_key = resource_live,
    .new_id = id_on_slot,
    .reserve = reserve_places,
    .follow = follow_lock,
    .find_lock = read_index,
    .live_elsewhere = live_on_other_slot,
    .stats = sum_counters,
    .live_sets = each_live_set,
};
