/*
 * store.h - the service's one door to Redis.
 *
 * store.c, with sentinel.c and cluster.c beside it, is the only code that
 * knows hiredis. Each worker owns one store_t (a hiredis context is not
 * thread-safe), kept open across requests and re-opened by itself after
 * Redis comes back.
 *
 * Three ways to reach Redis, chosen by the configuration: one server
 * (REDIS_HOST), the primary that Sentinel names (REDIS_SENTINELS), or a
 * Redis Cluster (REDIS_CLUSTER_NODES). In a cluster every command goes to
 * the primary that serves its key's hash slot, one connection per primary;
 * MOVED and ASK are followed and TRYAGAIN is waited out, all inside the call.
 */
#ifndef SLOTLOCK_STORE_H
#define SLOTLOCK_STORE_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "config.h"
#include "scripts.h"

typedef enum store_status_e {
    STORE_OK,
    STORE_UNAVAILABLE,      /* unreachable, timed out, loading, read-only */
    STORE_OUT_OF_MEMORY,    /* maxmemory reached with noeviction */
    STORE_FAILED            /* an answer we did not expect: a bug */
} store_status_t;

/* Cluster redirections met, counted over every worker of the process. */
typedef struct store_redirects_s {
    atomic_ulong moved;
    atomic_ulong ask;
    atomic_ulong tryagain;
} store_redirects_t;

struct cluster_s;

typedef struct store_s {
    const config_t *cfg;
    void *ctx;                          /* redisContext, NULL when closed */
    struct cluster_s *cluster;          /* Cluster mode only, else NULL */
    void *wrote;                        /* where the last script ran */
    store_redirects_t *redirects;
    char sha[SCRIPT_COUNT][41];         /* of each script, once loaded */
    char error[256];                    /* why the last call failed */
    bool timed_out;                     /* the last failure was a timeout */
} store_t;

/* False when out of memory. redirects is shared by every worker. */
bool store_init(store_t *st, const config_t *cfg,
                store_redirects_t *redirects);

/* Closes every connection and frees what store_init took: the end. */
void store_close(store_t *st);

/* True in Cluster mode, where keys outside a hash tag are written apart. */
bool store_is_cluster(const store_t *st);

/*
 * Runs script id with nkeys keys and nargs args: EVALSHA, re-sent as EVAL
 * when Redis has lost the script. Every script answers a JSON object; on
 * STORE_OK *out holds it (the caller owns it). In a cluster the script goes
 * to the primary of keys[0] (every key must share its slot); a script with
 * no keys runs on every primary, and the last answer is returned.
 */
store_status_t store_script(store_t *st, script_id_t id, int nkeys,
                            const char *const *keys, int nargs,
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
 * scan ends or fn returns false; in a cluster, on every primary in turn.
 * Never uses KEYS.
 */
typedef bool (*store_scan_fn)(const char **keys, int count, void *arg);
store_status_t store_scan(store_t *st, const char *pattern, store_scan_fn fn,
                          void *arg);

#endif
