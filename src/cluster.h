/*
 * cluster.h - where each hash slot lives in a Redis Cluster.
 *
 * One cluster_t per worker: the slot map (slot -> primary) read from
 * CLUSTER SLOTS, the primaries and the seeds it knows (each with this
 * worker's own connection, opened by store.c when first needed), and the
 * parsing of MOVED and ASK redirections. store.c does the talking; nothing
 * here does I/O.
 */
#ifndef SLOTLOCK_CLUSTER_H
#define SLOTLOCK_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "keyslot.h"

#define CLUSTER_NODES_MAX 128
#define CLUSTER_HOST_MAX 256

typedef struct cluster_node_s {
    char host[CLUSTER_HOST_MAX];
    int port;
    struct redisContext *ctx;   /* NULL when not connected */
    int slots;              /* slots the map says it serves */
} cluster_node_t;

typedef struct cluster_s {
    int count;
    cluster_node_t node[CLUSTER_NODES_MAX];
    short owner[KEYSLOT_COUNT];     /* index into node, -1 when unknown */
} cluster_t;

/* An empty map that knows the seeds of cfg->redis_cluster_nodes. */
void cluster_init(cluster_t *cl, const config_t *cfg);

/* The index of host:port, added when new; -1 when the table is full. */
int cluster_node(cluster_t *cl, const char *host, size_t host_len, int port);

/*
 * Replaces the map with a CLUSTER SLOTS reply (a redisReply). False, with
 * the map unchanged, when the reply is not a slot map or maps no slot. A
 * map with holes is kept: the missing slots are asked about again.
 */
bool cluster_load_slots(cluster_t *cl, const void *reply);

typedef enum cluster_redirect_e {
    CLUSTER_NO_REDIRECT,
    CLUSTER_MOVED,          /* the slot lives elsewhere now: update the map */
    CLUSTER_ASK             /* this one command goes elsewhere, with ASKING */
} cluster_redirect_t;

/*
 * Reads "MOVED <slot> <host>:<port>" or "ASK <slot> <host>:<port>" (an
 * error reply's text). For either, *slot and *node (the target's index,
 * added when new) are set; the map is left as it is.
 */
cluster_redirect_t cluster_redirect(cluster_t *cl, const char *error,
                                    unsigned *slot, int *node);

/* Records that node serves slot (what a MOVED said). */
void cluster_set_owner(cluster_t *cl, unsigned slot, int node);

#endif
