/*
 * db_int.h - what the data layer's files share behind db.h.
 *
 * A layout (db_one.c, db_cluster.c) says where the keys outside a
 * {tenant|resource} hash tag are kept and who keeps them: with one Redis
 * (or Sentinel's primary) the scripts keep every index themselves, in the
 * same atomic call; in a Redis Cluster a script can reach one slot only,
 * so the layout makes ids that land on the resource's slot, keeps the
 * holder sets with calls of their own, finds a lock's slot before its
 * script runs, and adds the counters up over the primaries. db_init picks
 * one; the operations in db.c and db_book.c call it without asking which.
 */
#ifndef SLOTLOCK_DB_INT_H
#define SLOTLOCK_DB_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "keys.h"
#include "scripts.h"

/* Room for a number written as a script argument. */
#define DB_NUM_MAX 24

/*
 * The two capped sets an acquire takes a place in: its holder's (when it
 * sent a holderId) and its client address's. held is what the acquire
 * script is told of each set's live locks: "" when it counts them itself,
 * "0" when a place was reserved for the new lock, the cap when none was
 * left; reserved says whether a place must be given back if no lock is
 * made.
 */
typedef struct db_place_s {
    char held[DB_NUM_MAX];
    bool reserved;
} db_place_t;

typedef struct db_places_s {
    db_place_t holder, client;
} db_places_t;

/*
 * One live-lock set, with the counters and the event stream beside it
 * (events "" with one Redis, where each hold names its own). fn returns
 * false to stop.
 */
typedef bool (*db_live_fn)(db_t *db, const char *live, const char *stats,
                           const char *events, void *arg);

typedef struct db_layout_s {
    /* The first argument of every script: "shared" when it may keep the
     * keys outside its hash tag too, "slot" when it keeps to KEYS. */
    const char *scope;
    /* The counters and live-lock set a script on keys' slot updates. */
    const char *(*stats_key)(const keys_t *keys);
    const char *(*live_key)(const keys_t *keys);
    /*
     * A new id (37 bytes into out) whose index key, prefix followed by the
     * id, a script on near_key's slot can write.
     */
    void (*new_id)(char *out, const char *prefix, const char *near_key);
    /*
     * Before an acquire: takes a place for lock_id in the holder's and the
     * client address's sets when they are kept apart (see db_places_t).
     */
    db_status_t (*reserve)(db_t *db, const lock_request_t *in,
                           const char *lock_id, db_places_t *places);
    /*
     * After a script renewed ("add") or removed ("remove") a lock, from its
     * answer (tenantId, holderId, clientAddr, expiresAt): the same in the
     * holder's and the address's sets when they are kept apart. A failure
     * is only logged: the entry then leaves the set when the lock would
     * have expired.
     */
    void (*follow)(db_t *db, json_t *answer, const char *op,
                          const char *lock_id);
    /*
     * The lock key of a request that names only a lockId, into lock_key:
     * left "" when the script can find it itself. *found is false when
     * no index knows the lockId.
     */
    db_status_t (*find_lock)(db_t *db, const char *lockid_key,
                             char *lock_key, size_t len, bool *found);
    /*
     * After a script on one slot found no lock with lock_id: *elsewhere
     * is true when a live lock has that id on another slot (a mismatch,
     * not a missing lock). Always false where scripts see every lock.
     */
    db_status_t (*live_elsewhere)(db_t *db, const char *lock_id,
                                  bool *elsewhere);
    /* The counters of every resource, as metrics.lua answers them. */
    db_status_t (*stats)(db_t *db, json_t **out);
    /*
     * Calls fn with every live-lock set: with one Redis the one they all
     * share; in a cluster each resource's, found by SCAN on every primary
     * (one pass over the keyspace per call).
     */
    db_status_t (*live_sets)(db_t *db, db_live_fn fn, void *arg);
} db_layout_t;

extern const db_layout_t db_one_layout;
extern const db_layout_t db_cluster_layout;

/* Runs script id with the layout's scope in front of args. */
db_status_t db_script(db_t *db, script_id_t id, int nkeys,
                      const char *const *keys, int nargs,
                      const char *const *args, json_t **out);

/* The status a store call ended with. */
db_status_t db_status_of(int store_status);

/* A random lowercase UUID (37 bytes into out). */
void db_new_uuid(char *out);

/* Formats n as a script argument into buf (DB_NUM_MAX bytes). */
const char *db_num(char *buf, long n);

/*
 * Calls fn with each JSON object stored under the keys SCAN finds for
 * pattern (read in batches, one script per hash slot), with its remaining
 * life and Redis's time in ms. fn returns false to stop early.
 */
typedef bool (*db_value_fn)(const char *key, json_t *value,
                            json_int_t pttl_ms, json_int_t now_ms,
                            void *arg);
db_status_t db_scan_values(db_t *db, const char *pattern, db_value_fn fn,
                           void *arg);

/*
 * A script on one slot cannot tell a lockId whose lock is on another slot
 * from one with no lock at all: when answer is the refusal missing_reason,
 * the layout is asked, and a lock that lives elsewhere makes it
 * lock_mismatch.
 */
db_status_t db_mismatch_elsewhere(db_t *db, const char *lock_id,
                                  const char *missing_reason, json_t *answer);

/* Sorts a JSON array in place with cmp (qsort's comparison of json_t *). */
void db_sort(json_t *array, int (*cmp)(const void *, const void *));

/* Orders two JSON objects by the string values of fields, in turn (a
 * missing value sorts first). */
int db_compare_fields(json_t *x, json_t *y, const char *const *fields,
                      size_t count);

#endif
