/*
 * store_cluster.c - the Redis Cluster transport (REDIS_CLUSTER_NODES): each
 * command goes to the primary that serves its key's hash slot, over this
 * worker's own connection to it. See store_int.h.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster.h"
#include "keyslot.h"
#include "store_int.h"

/* Redirections one command may follow before we call it a loop. */
#define CLUSTER_MAX_HOPS 16
/* The first pause after TRYAGAIN (a slot half-way through a migration). */
#define CLUSTER_TRYAGAIN_MS 5

/* Redirections met, counted over every worker of the process. */
static atomic_ulong redirects_moved, redirects_ask, redirects_tryagain;

void store_redirects(unsigned long *moved, unsigned long *ask,
                     unsigned long *tryagain)
{
    *moved = atomic_load(&redirects_moved);
    *ask = atomic_load(&redirects_ask);
    *tryagain = atomic_load(&redirects_tryagain);
}

static bool cluster_store_init(store_t *st)
{
    st->cluster = malloc(sizeof(*st->cluster));
    if (st->cluster == NULL) {
        return false;
    }
    cluster_init(st->cluster, st->cfg);
    return true;
}

static void cluster_store_close(store_t *st)
{
    if (st->cluster == NULL) {
        return;
    }
    for (int i = 0; i < st->cluster->count; i++) {
        conn_free(st, &st->cluster->node[i].ctx);
    }
    free(st->cluster);
    st->cluster = NULL;
}

/* This worker's connection to node i, opened when needed (again when the
 * node closed it while it was idle). */
static redisContext *node_ctx(store_t *st, int i)
{
    cluster_node_t *n = &st->cluster->node[i];

    if (n->ctx != NULL && conn_closed_while_idle(n->ctx)) {
        conn_free(st, &n->ctx);
    }
    if (n->ctx == NULL) {
        n->ctx = conn_open(st, n->host, n->port, false);
    }
    return n->ctx;
}

static void drop_node(store_t *st, int i, const char *what)
{
    conn_drop(st, &st->cluster->node[i].ctx, what);
}

/*
 * Reads the slot map again (CLUSTER SLOTS), from a node we are connected
 * to when there is one, else from any node we know, seeds included.
 */
static bool refresh_map(store_t *st)
{
    cluster_t *cl = st->cluster;

    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < cl->count; i++) {
            if ((cl->node[i].ctx != NULL) != (pass == 0)) {
                continue;
            }
            redisContext *c = node_ctx(st, i);
            if (c == NULL) {
                continue;
            }
            redisReply *r = redisCommand(c, "CLUSTER SLOTS");
            if (r == NULL) {
                drop_node(st, i, "CLUSTER SLOTS");
                continue;
            }
            bool ok = cluster_load_slots(cl, r);
            if (!ok) {
                snprintf(st->error, sizeof(st->error), "CLUSTER SLOTS: %s",
                         r->type == REDIS_REPLY_ERROR ? r->str
                                                      : "no slot map");
            }
            freeReplyObject(r);
            if (ok) {
                return true;
            }
        }
    }
    st->timed_out = false;
    return false;
}

/* Where one command is going, and what it has met on the way. */
typedef struct route_state_s {
    int slot;               /* negative: to node, whatever its slots */
    int node;
    bool asking;
    int failures;
    long waited_ms, pause_ms;
} route_state_t;

/*
 * Follows an error reply that says the command did not run here: MOVED
 * (the map is updated and the command goes to the new owner), ASK (once
 * to the slot's new home, after ASKING), TRYAGAIN (a multi-key command
 * while its slot moves: retried after a short pause, within one command
 * timeout) and READONLY (a replica now: the map is old). True when the
 * command should be sent again; r is freed then.
 */
static bool follow(store_t *st, route_state_t *rs, redisReply *r, int *hop)
{
    cluster_t *cl = st->cluster;
    unsigned moved_slot;
    int target;
    cluster_redirect_t kind = cluster_redirect(cl, r->str, &moved_slot,
                                               &target);

    if (kind == CLUSTER_MOVED) {
        atomic_fetch_add(&redirects_moved, 1);
        refresh_map(st);
        /* The MOVED is newer than any map a node may hand out. */
        cluster_set_owner(cl, moved_slot, target);
        rs->asking = false;
        rs->node = target;
    } else if (kind == CLUSTER_ASK) {
        atomic_fetch_add(&redirects_ask, 1);
        rs->asking = true;
        rs->node = target;
    } else if (strncmp(r->str, "TRYAGAIN", 8) == 0 && rs->slot >= 0
               && rs->waited_ms < st->cfg->redis_command_timeout_ms)
    {
        atomic_fetch_add(&redirects_tryagain, 1);
        struct timespec pause = { 0, rs->pause_ms * 1000000L };
        nanosleep(&pause, NULL);
        rs->waited_ms += rs->pause_ms;
        rs->pause_ms = rs->pause_ms < 100 ? rs->pause_ms * 2 : rs->pause_ms;
        rs->asking = false;
        (*hop)--;
    } else if (strncmp(r->str, "READONLY", 8) == 0 && rs->slot >= 0
               && ++rs->failures <= st->cfg->redis_max_retry)
    {
        rs->asking = false;
        refresh_map(st);
    } else {
        return false;
    }
    freeReplyObject(r);
    return true;
}

/* Points rs->node at the owner of rs->slot; false when none is known. */
static bool find_owner(store_t *st, route_state_t *rs)
{
    cluster_t *cl = st->cluster;

    if (rs->slot < 0 || rs->asking) {
        return true;
    }
    if (cl->owner[rs->slot] < 0 && !refresh_map(st)) {
        return false;
    }
    rs->node = cl->owner[rs->slot];
    if (rs->node < 0) {
        snprintf(st->error, sizeof(st->error), "hash slot %d is served by "
                 "no primary", rs->slot);
        return false;
    }
    return true;
}

/*
 * Sends one command to the primary that serves key's slot, or to node when
 * key is NULL. None of the redirections it follows ran the command, so
 * following them is safe, and they are not retries; a broken connection
 * is retried on the slot's owner as the map says after a refresh (the
 * primary may have failed over), when the command never left or, with
 * resend, when its reply was lost.
 */
static redisReply *cluster_store_command(store_t *st, const char *key,
                                         int node, int argc,
                                         const char **argv, bool resend,
                                         redisContext **used)
{
    route_state_t rs = {
        key ? (int) keyslot(key, strlen(key)) : -1, node, false, 0, 0,
        CLUSTER_TRYAGAIN_MS
    };

    for (int hop = 0; hop < CLUSTER_MAX_HOPS; hop++) {
        if (!find_owner(st, &rs)) {
            return NULL;
        }
        redisContext *c = node_ctx(st, rs.node);
        bool sent = false;
        redisReply *r = c ? conn_command(c, rs.asking, argc, argv, &sent)
                          : NULL;
        if (r == NULL) {
            if (c != NULL) {
                drop_node(st, rs.node, argv[0]);
            }
            if (st->timed_out) {
                return NULL;
            }
            /* It may have run: only a command that recognises its own
             * earlier run goes out again. */
            if (sent && !resend) {
                conn_not_resent(st);
                return NULL;
            }
            if (++rs.failures > st->cfg->redis_max_retry) {
                return NULL;
            }
            conn_log_resend(st, argv[0], sent ? "reply lost" : "not sent",
                            rs.failures + 1);
            rs.asking = false;
            if (rs.slot >= 0) {
                refresh_map(st);
            }
            continue;
        }
        if (r->type == REDIS_REPLY_ERROR && follow(st, &rs, r, &hop)) {
            continue;
        }
        *used = c;
        return r;
    }
    snprintf(st->error, sizeof(st->error), "%s: more than %d redirections",
             argv[0], CLUSTER_MAX_HOPS);
    st->timed_out = false;
    return NULL;
}

/* The primaries of the map (refreshed when empty). */
static int cluster_store_nodes(store_t *st, int *nodes)
{
    cluster_t *cl = st->cluster;
    int n = 0;

    for (int pass = 0; pass < 2 && n == 0; pass++) {
        if (pass == 1 && !refresh_map(st)) {
            return 0;
        }
        for (int i = 0; i < cl->count; i++) {
            if (cl->node[i].slots > 0) {
                nodes[n++] = i;
            }
        }
    }
    return n;
}

static void cluster_store_forget(store_t *st, redisContext *c)
{
    for (int i = 0; i < st->cluster->count; i++) {
        if (st->cluster->node[i].ctx == c) {
            conn_free(st, &st->cluster->node[i].ctx);
        }
    }
}

const store_transport_t store_cluster_transport = {
    .sharded = true,
    .init = cluster_store_init,
    .close = cluster_store_close,
    .command = cluster_store_command,
    .nodes = cluster_store_nodes,
    .forget = cluster_store_forget,
    .drop_after_short_wait = false,
};
