/*
 * store.h - the data layer's one door to Redis.
 *
 * The store files (store*.c, conn.c, sentinel.c, cluster.c) are the only
 * code that knows hiredis. Each worker owns one store (a hiredis context is
 * not thread-safe), kept open across requests and re-opened by itself after
 * Redis comes back.
 *
 * Three transports, chosen once by store_open from the configuration: one
 * server (REDIS_HOST, store_single.c), the primary that Sentinel names
 * (REDIS_SENTINELS, store_sentinel.c), or a Redis Cluster
 * (REDIS_CLUSTER_NODES, store_cluster.c), where every command goes to the
 * primary that serves its key's hash slot and MOVED, ASK and TRYAGAIN are
 * dealt with inside the call. The functions below never ask which.
 */
#ifndef SLOTLOCK_STORE_H
#define SLOTLOCK_STORE_H

#include <jansson.h>
#include <stdbool.h>

#include "config.h"
#include "scripts.h"

typedef enum store_status_e {
    STORE_OK,
    STORE_UNAVAILABLE,      /* unreachable, timed out, loading, read-only */
    STORE_OUT_OF_MEMORY,    /* maxmemory reached with noeviction */
    STORE_FAILED            /* an answer we did not expect: a bug */
} store_status_t;

typedef struct store_s store_t;

/* A store for cfg's Redis, for worker worker_id (named in its log lines);
 * NULL when out of memory. Connects when first used. */
store_t *store_open(const config_t *cfg, int worker_id);

/* Closes every connection and frees the store. */
void store_close(store_t *st);

/* True when keys in different hash slots may live on different servers
 * (a cluster), so that one script can only take keys of one slot. */
bool store_sharded(const store_t *st);

/* True when one script may take both keys. */
bool store_one_slot(const store_t *st, const char *a, const char *b);

/* Why the last call failed. */
const char *store_error(const store_t *st);

/*
 * Runs script id with nkeys keys and nargs args: EVALSHA, re-sent as EVAL
 * when Redis has lost the script. Every script answers a JSON object; on
 * STORE_OK *out holds it (the caller owns it). The script goes to the
 * server of keys[0] (every key must share its slot); a script with no
 * keys runs on every primary, and the last answer is returned.
 */
store_status_t store_script(store_t *st, script_id_t id, int nkeys,
                            const char *const *keys, int nargs,
                            const char *const *args, json_t **out);

/*
 * Runs script id, with no keys, on every primary; on STORE_OK *out is a
 * JSON array of their answers (the caller owns it).
 */
store_status_t store_script_each(store_t *st, script_id_t id, int nargs,
                                 const char *const *args, json_t **out);

/*
 * WAIT replicas timeout_ms on the connection the last write went through:
 * *acked is how many replicas confirmed every write made on it so far.
 * Never reconnects, since a new connection would prove nothing about the
 * old one's writes; with no connection the answer is STORE_UNAVAILABLE.
 */
store_status_t store_wait(store_t *st, int replicas, long timeout_ms,
                          int *acked);

/* GET key. On STORE_OK *value is a new string, or NULL when missing. */
store_status_t store_get(store_t *st, const char *key, char **value);

/*
 * Calls fn with each batch of keys that SCAN finds for pattern, until the
 * scan ends or fn returns false; on every primary in turn. Never KEYS.
 */
typedef bool (*store_scan_fn)(const char **keys, int count, void *arg);
store_status_t store_scan(store_t *st, const char *pattern, store_scan_fn fn,
                          void *arg);

/*
 * Runs one plain command, argv[0] its name, on the server of key (every
 * key the command names must share key's slot). resend: the command may be
 * sent again after its reply was lost (running it twice changes nothing
 * the caller minds). On STORE_OK *out is the reply as JSON, owned by the
 * caller: strings as strings (null when not UTF-8), integers as integers,
 * arrays as arrays, nil as null. An error reply is not STORE_OK, and
 * store_error starts with Redis's own words ("NOGROUP ...").
 */
store_status_t store_command(store_t *st, const char *key, int argc,
                             const char *const *argv, bool resend,
                             json_t **out);

/* Redis Cluster redirections followed so far by every store of the
 * process. */
void store_redirects(unsigned long *moved, unsigned long *ask,
                     unsigned long *tryagain);

#endif
