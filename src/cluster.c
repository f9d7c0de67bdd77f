/*
 * cluster.c - where each hash slot lives in a Redis Cluster. See cluster.h.
 */
#include "cluster.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cluster_init(cluster_t *cl, const config_t *cfg)
{
    char host[CLUSTER_HOST_MAX];
    int port;

    memset(cl, 0, sizeof(*cl));
    for (int i = 0; i < KEYSLOT_COUNT; i++) {
        cl->owner[i] = -1;
    }
    for (const char *p = cfg->redis_cluster_nodes;
         (p = config_next_host_port(p, host, sizeof(host), &port)) != NULL;)
    {
        cluster_node(cl, host, strlen(host), port);
    }
}

int cluster_node(cluster_t *cl, const char *host, size_t host_len, int port)
{
    for (int i = 0; i < cl->count; i++) {
        cluster_node_t *n = &cl->node[i];

        if (n->port == port && strlen(n->host) == host_len
            && memcmp(n->host, host, host_len) == 0)
        {
            return i;
        }
    }
    if (cl->count == CLUSTER_NODES_MAX || host_len >= CLUSTER_HOST_MAX) {
        return -1;
    }
    cluster_node_t *n = &cl->node[cl->count];
    memcpy(n->host, host, host_len);
    n->host[host_len] = '\0';
    n->port = port;
    return cl->count++;
}

/* The primary of one CLUSTER SLOTS entry: [start, end, [host, port, ...]]. */
static int entry_primary(cluster_t *cl, const redisReply *e, long long *from,
                         long long *to)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 3
        || e->element[0]->type != REDIS_REPLY_INTEGER
        || e->element[1]->type != REDIS_REPLY_INTEGER
        || e->element[2]->type != REDIS_REPLY_ARRAY
        || e->element[2]->elements < 2)
    {
        return -1;
    }
    const redisReply *addr = e->element[2];
    *from = e->element[0]->integer;
    *to = e->element[1]->integer;
    if (addr->element[0]->type != REDIS_REPLY_STRING
        || addr->element[1]->type != REDIS_REPLY_INTEGER
        || *from < 0 || *to >= KEYSLOT_COUNT || *from > *to
        || addr->element[1]->integer < 1 || addr->element[1]->integer > 65535)
    {
        return -1;
    }
    return cluster_node(cl, addr->element[0]->str, addr->element[0]->len,
                        (int) addr->element[1]->integer);
}

bool cluster_load_slots(cluster_t *cl, const void *reply)
{
    const redisReply *r = reply;
    short owner[KEYSLOT_COUNT];
    int covered = 0;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
        return false;
    }
    for (int i = 0; i < KEYSLOT_COUNT; i++) {
        owner[i] = -1;
    }
    for (size_t i = 0; i < r->elements; i++) {
        long long from, to;
        int node = entry_primary(cl, r->element[i], &from, &to);

        if (node < 0) {
            return false;
        }
        for (long long s = from; s <= to; s++) {
            covered += owner[s] < 0;
            owner[s] = (short) node;
        }
    }
    if (covered == 0) {
        return false;
    }
    memcpy(cl->owner, owner, sizeof(owner));
    for (int i = 0; i < cl->count; i++) {
        cl->node[i].slots = 0;
    }
    for (int s = 0; s < KEYSLOT_COUNT; s++) {
        if (owner[s] >= 0) {
            cl->node[owner[s]].slots++;
        }
    }
    return true;
}

cluster_redirect_t cluster_redirect(cluster_t *cl, const char *error,
                                    unsigned *slot, int *node)
{
    cluster_redirect_t kind;
    const char *p;

    if (strncmp(error, "MOVED ", 6) == 0) {
        kind = CLUSTER_MOVED;
        p = error + 6;
    } else if (strncmp(error, "ASK ", 4) == 0) {
        kind = CLUSTER_ASK;
        p = error + 4;
    } else {
        return CLUSTER_NO_REDIRECT;
    }

    char *end;
    unsigned long s = strtoul(p, &end, 10);
    if (end == p || *end != ' ' || s >= KEYSLOT_COUNT) {
        return CLUSTER_NO_REDIRECT;
    }
    /* host:port, where host may itself hold colons (IPv6): split at the
     * last one. */
    const char *addr = end + 1;
    const char *colon = strrchr(addr, ':');
    if (colon == NULL || colon == addr) {
        return CLUSTER_NO_REDIRECT;
    }
    long port = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end != '\0' || port < 1 || port > 65535) {
        return CLUSTER_NO_REDIRECT;
    }
    int n = cluster_node(cl, addr, (size_t) (colon - addr), (int) port);
    if (n < 0) {
        return CLUSTER_NO_REDIRECT;
    }
    *slot = (unsigned) s;
    *node = n;
    return kind;
}

void cluster_set_owner(cluster_t *cl, unsigned slot, int node)
{
    int old = cl->owner[slot];

    if (old >= 0) {
        cl->node[old].slots--;
    }
    cl->owner[slot] = (short) node;
    cl->node[node].slots++;
}
