/*
 * db_one.c - the layout of one Redis (a single server, or Sentinel's
 * primary): every key is in reach of every script, so the scripts keep the
 * lockId and appointment-id indexes, the holder sets and the shared
 * counters themselves, in the same atomic call. See db_int.h.
 */
#include <string.h>

#include "db_int.h"

static const char *shared_stats(const keys_t *keys)
{
    (void) keys;
    return KEYS_SHARED_STATS;
}

static const char *shared_live(const keys_t *keys)
{
    (void) keys;
    return KEYS_SHARED_LIVE;
}

static void any_id(char *out, const char *prefix, const char *near_key)
{
    (void) prefix;
    (void) near_key;
    db_new_uuid(out);
}

/* The acquire script counts the holder's and the address's sets itself. */
static db_status_t counted_by_script(db_t *db, const lock_request_t *in,
                                     const char *lock_id,
                                     db_places_t *places)
{
    (void) db;
    (void) in;
    (void) lock_id;
    memset(places, 0, sizeof(*places));
    return DB_OK;
}

/* The scripts keep the holder and address sets. */
static void kept_by_script(db_t *db, json_t *answer, const char *op,
                           const char *lock_id)
{
    (void) db;
    (void) answer;
    (void) op;
    (void) lock_id;
}

/* The scripts read the lockId index themselves. */
static db_status_t found_by_script(db_t *db, const char *lockid_key,
                                   char *lock_key, size_t len, bool *found)
{
    (void) db;
    (void) lockid_key;
    (void) len;
    lock_key[0] = '\0';
    *found = true;
    return DB_OK;
}

/* A script sees every lock: none is elsewhere. */
static db_status_t nowhere_else(db_t *db, const char *lock_id,
                                bool *elsewhere)
{
    (void) db;
    (void) lock_id;
    *elsewhere = false;
    return DB_OK;
}

static db_status_t shared_counters(db_t *db, json_t **out)
{
    const char *keys[] = { KEYS_SHARED_STATS, KEYS_SHARED_LIVE };

    return db_script(db, SCRIPT_METRICS, 2, keys, 0, NULL, out);
}

static db_status_t the_shared_set(db_t *db, db_live_fn fn, void *arg)
{
    fn(db, KEYS_SHARED_LIVE, KEYS_SHARED_STATS, "", arg);
    return DB_OK;
}

const db_layout_t db_one_layout = {
    .scope = "shared",
    .stats_key = shared_stats,
    .live_key = shared_live,
    .new_id = any_id,
    .reserve = counted_by_script,
    .follow = kept_by_script,
    .find_lock = found_by_script,
    .live_elsewhere = nowhere_else,
    .stats = shared_counters,
    .live_sets = the_shared_set,
};
