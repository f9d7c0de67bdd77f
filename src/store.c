/*
 * store.c - the service's one door to Redis, over hiredis. See store.h.
 */
#include "store.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster.h"
#include "keyslot.h"
#include "sentinel.h"

#define SCAN_COUNT "500"

static struct timeval ms_to_timeval(long ms)
{
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

    return tv;
}

bool store_init(store_t *st, const config_t *cfg,
                store_redirects_t *redirects)
{
    memset(st, 0, sizeof(*st));
    st->cfg = cfg;
    st->redirects = redirects;
    if (cfg->redis_cluster_nodes[0] != '\0') {
        st->cluster = malloc(sizeof(*st->cluster));
        if (st->cluster == NULL) {
            return false;
        }
        cluster_init(st->cluster, cfg);
    }
    return true;
}

bool store_is_cluster(const store_t *st)
{
    return st->cluster != NULL;
}

/* Frees *cp (and forgets it as the connection WAIT would use). */
static void free_connection(store_t *st, void **cp)
{
    if (*cp != NULL) {
        if (st->wrote == *cp) {
            st->wrote = NULL;
        }
        redisFree(*cp);
        *cp = NULL;
    }
}

void store_close(store_t *st)
{
    free_connection(st, &st->ctx);
    if (st->cluster != NULL) {
        for (int i = 0; i < st->cluster->count; i++) {
            free_connection(st, &st->cluster->node[i].ctx);
        }
        free(st->cluster);
        st->cluster = NULL;
    }
}

/* Records why the connection *cp failed and drops it: it is never reused. */
static void drop(store_t *st, void **cp, const char *what)
{
    redisContext *c = *cp;

    int err = errno;

    /* A stalled Redis shows as EAGAIN (command timeout) or ETIMEDOUT. */
    st->timed_out = c != NULL && c->err == REDIS_ERR_IO
                    && (err == EAGAIN || err == EWOULDBLOCK
                        || err == ETIMEDOUT || err == EINPROGRESS);

    snprintf(st->error, sizeof(st->error), "%s: %s", what,
             c && c->errstr[0] ? c->errstr : "connection failed");
    free_connection(st, cp);
}

/* Runs a command during connection set-up; true when it is not an error. */
static bool setup_command(store_t *st, redisContext *c, int argc,
                          const char **argv)
{
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);
    bool ok = r != NULL && r->type != REDIS_REPLY_ERROR;

    if (r != NULL && !ok) {
        snprintf(st->error, sizeof(st->error), "%s: %s", argv[0], r->str);
    }
    freeReplyObject(r);
    return ok;
}

/*
 * Loads every script with one pipelined round trip and keeps their SHA1s,
 * so that requests can use EVALSHA from the first one on.
 */
static bool load_scripts(store_t *st, redisContext *c)
{
    for (int i = 0; i < SCRIPT_COUNT; i++) {
        redisAppendCommand(c, "SCRIPT LOAD %s", script_source[i]);
    }

    bool ok = true;
    for (int i = 0; i < SCRIPT_COUNT; i++) {
        redisReply *r;

        if (redisGetReply(c, (void **) &r) != REDIS_OK) {
            return false;
        }
        if (r->type == REDIS_REPLY_STRING && r->len == 40) {
            memcpy(st->sha[i], r->str, 41);
        } else {
            snprintf(st->error, sizeof(st->error), "SCRIPT LOAD: %s",
                     r->type == REDIS_REPLY_ERROR ? r->str : "odd reply");
            ok = false;
        }
        freeReplyObject(r);
    }
    return ok;
}

/*
 * In Sentinel mode, true when the server we reached says it is a primary:
 * a sentinel's answer may be a moment old, and a demoted primary serves
 * reads as if nothing happened.
 */
static bool is_primary(redisContext *c)
{
    redisReply *r = redisCommand(c, "ROLE");
    bool primary = r != NULL && r->type == REDIS_REPLY_ARRAY
                   && r->elements > 0
                   && r->element[0]->type == REDIS_REPLY_STRING
                   && strcmp(r->element[0]->str, "master") == 0;

    freeReplyObject(r);
    return primary;
}

/*
 * Opens a connection to host:port (a Unix socket when host starts with
 * '/'), ready for requests: timeouts set, authenticated, database chosen,
 * scripts loaded. NULL, with st->error set, when that failed.
 */
static void *open_connection(store_t *st, const char *host, int port)
{
    const config_t *cfg = st->cfg;
    struct timeval connect_tv = ms_to_timeval(cfg->redis_connect_timeout_ms);
    void *c;

    if (host[0] == '/') {
        c = redisConnectUnixWithTimeout(host, connect_tv);
    } else {
        c = redisConnectWithTimeout(host, port, connect_tv);
    }
    if (c == NULL || ((redisContext *) c)->err) {
        drop(st, &c, "connect");
        return NULL;
    }
    if (redisSetTimeout(c, ms_to_timeval(cfg->redis_command_timeout_ms))
        != REDIS_OK)
    {
        drop(st, &c, "set timeout");
        return NULL;
    }
    redisEnableKeepAlive(c);

    if (cfg->redis_password[0] != '\0') {
        const char *argv[] = { "AUTH", cfg->redis_password };

        if (!setup_command(st, c, 2, argv)) {
            drop(st, &c, "AUTH");
            return NULL;
        }
    }
    if (cfg->redis_db != 0) {
        char db[16];
        const char *argv[] = { "SELECT", db };

        snprintf(db, sizeof(db), "%d", cfg->redis_db);
        if (!setup_command(st, c, 2, argv)) {
            drop(st, &c, "SELECT");
            return NULL;
        }
    }
    if (cfg->redis_sentinels[0] != '\0' && !is_primary(c)) {
        drop(st, &c, "ROLE: not a primary (yet)");
        return NULL;
    }
    if (!load_scripts(st, c)) {
        drop(st, &c, "SCRIPT LOAD");
        return NULL;
    }
    return c;
}

/* One Redis server, or the primary the sentinels name. */
static bool connect_store(store_t *st)
{
    const config_t *cfg = st->cfg;
    char host[CONFIG_STR_MAX];
    int port = cfg->redis_port;

    snprintf(host, sizeof(host), "%s", cfg->redis_host);
    if (cfg->redis_sentinels[0] != '\0'
        && !sentinel_primary(cfg, host, sizeof(host), &port, st->error,
                             sizeof(st->error)))
    {
        st->timed_out = false;
        return false;
    }
    st->ctx = open_connection(st, host, port);
    return st->ctx != NULL;
}

/*
 * READONLY means the server was demoted since we connected (a failover):
 * nothing was written, so in Sentinel mode the command may go to whichever
 * server the sentinels name now.
 */
static bool demoted(store_t *st, const redisReply *r)
{
    return st->cfg->redis_sentinels[0] != '\0'
           && r->type == REDIS_REPLY_ERROR
           && strncmp(r->str, "READONLY", 8) == 0;
}

/*
 * Sends one command to the single server and returns its reply (NULL when
 * Redis could not be reached). A broken connection is dropped and the
 * command tried again on a new one, REDIS_MAX_RETRY_PER_REQUEST times at
 * most; a timeout is not retried, so a stalled Redis costs one command
 * timeout, not several.
 */
static redisReply *single_command(store_t *st, int argc, const char **argv)
{
    for (int attempt = 0; attempt <= st->cfg->redis_max_retry; attempt++) {
        if (st->ctx == NULL && !connect_store(st)) {
            if (st->timed_out) {
                return NULL;
            }
            continue;
        }

        redisReply *r = redisCommandArgv(st->ctx, argc, argv, NULL);
        if (r != NULL && demoted(st, r)) {
            snprintf(st->error, sizeof(st->error), "%s", r->str);
            freeReplyObject(r);
            free_connection(st, &st->ctx);
            st->timed_out = false;
            continue;
        }
        if (r != NULL) {
            return r;
        }
        drop(st, &st->ctx, argv[0]);
        if (st->timed_out) {
            return NULL;
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------------
 * Redis Cluster
 * ------------------------------------------------------------------- */

/* Redirections one command may follow before we call it a loop. */
#define CLUSTER_MAX_HOPS 16
/* The first pause after TRYAGAIN (a slot half-way through a migration). */
#define CLUSTER_TRYAGAIN_MS 5

/* This worker's connection to node i, opened when needed. */
static redisContext *node_ctx(store_t *st, int i)
{
    cluster_node_t *n = &st->cluster->node[i];

    if (n->ctx == NULL) {
        n->ctx = open_connection(st, n->host, n->port);
    }
    return n->ctx;
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
                drop(st, &cl->node[i].ctx, "CLUSTER SLOTS");
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

/* Sends argv to node c, after ASKING when asking; the reply or NULL. */
static redisReply *send_to(redisContext *c, bool asking, int argc,
                           const char **argv)
{
    redisReply *r = NULL;

    if (asking) {
        redisAppendCommand(c, "ASKING");
    }
    redisAppendCommandArgv(c, argc, argv, NULL);
    if (asking) {
        if (redisGetReply(c, (void **) &r) != REDIS_OK) {
            return NULL;
        }
        freeReplyObject(r);
    }
    if (redisGetReply(c, (void **) &r) != REDIS_OK) {
        return NULL;
    }
    return r;
}

/*
 * Sends one command to the primary that serves slot, or to node when slot
 * is negative, and returns its reply (NULL when it could not be had).
 * MOVED updates the map and goes on to the new owner; ASK sends the command
 * once to the slot's new home after ASKING; TRYAGAIN (a multi-key command
 * while its slot moves) is retried after a short pause, within one command
 * timeout. None of these ran the command, so following them is safe.
 * *used is the node that answered.
 */
static redisReply *cluster_command(store_t *st, int slot, int node,
                                   int argc, const char **argv, int *used)
{
    cluster_t *cl = st->cluster;
    const config_t *cfg = st->cfg;
    bool asking = false;
    int failures = 0;
    long waited_ms = 0, pause_ms = CLUSTER_TRYAGAIN_MS;

    for (int hop = 0; hop < CLUSTER_MAX_HOPS; hop++) {
        if (slot >= 0 && !asking) {
            if (cl->owner[slot] < 0 && !refresh_map(st)) {
                return NULL;
            }
            node = cl->owner[slot];
            if (node < 0) {
                snprintf(st->error, sizeof(st->error), "hash slot %d is "
                         "served by no primary", slot);
                return NULL;
            }
        }
        redisContext *c = node_ctx(st, node);
        redisReply *r = c ? send_to(c, asking, argc, argv) : NULL;
        if (r == NULL) {
            if (c != NULL) {
                drop(st, &cl->node[node].ctx, argv[0]);
            }
            if (st->timed_out || ++failures > cfg->redis_max_retry) {
                return NULL;
            }
            /* The primary may have failed over: ask where the slot is. */
            asking = false;
            if (slot >= 0) {
                refresh_map(st);
            }
            continue;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            unsigned moved_slot;
            int target;
            cluster_redirect_t kind = cluster_redirect(cl, r->str,
                                                       &moved_slot, &target);

            if (kind == CLUSTER_MOVED) {
                atomic_fetch_add(&st->redirects->moved, 1);
                freeReplyObject(r);
                refresh_map(st);
                /* The MOVED is newer than any map a node may hand out. */
                cluster_set_owner(cl, moved_slot, target);
                asking = false;
                node = target;
                continue;
            }
            if (kind == CLUSTER_ASK) {
                atomic_fetch_add(&st->redirects->ask, 1);
                freeReplyObject(r);
                asking = true;
                node = target;
                continue;
            }
            if (strncmp(r->str, "TRYAGAIN", 8) == 0 && slot >= 0
                && waited_ms < cfg->redis_command_timeout_ms)
            {
                atomic_fetch_add(&st->redirects->tryagain, 1);
                freeReplyObject(r);
                struct timespec pause = { 0, pause_ms * 1000000L };
                nanosleep(&pause, NULL);
                waited_ms += pause_ms;
                pause_ms = pause_ms < 100 ? pause_ms * 2 : pause_ms;
                asking = false;
                hop--;
                continue;
            }
            if (strncmp(r->str, "READONLY", 8) == 0 && slot >= 0
                && ++failures <= cfg->redis_max_retry)
            {
                /* A replica now: the map is old. Nothing was written. */
                freeReplyObject(r);
                asking = false;
                refresh_map(st);
                continue;
            }
        }
        *used = node;
        return r;
    }
    snprintf(st->error, sizeof(st->error), "%s: more than %d redirections",
             argv[0], CLUSTER_MAX_HOPS);
    st->timed_out = false;
    return NULL;
}

/* The primaries of the map (refreshed when empty), into nodes; how many. */
static int primaries(store_t *st, int *nodes)
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

/*
 * Sends one command: in a cluster to the owner of key's slot (NULL key: to
 * node), else to the single server. *wrote (when not NULL) receives the
 * connection that answered.
 */
static redisReply *command(store_t *st, const char *key, int node, int argc,
                           const char **argv, void **wrote)
{
    redisReply *r;

    if (st->cluster == NULL) {
        r = single_command(st, argc, argv);
        if (wrote != NULL) {
            *wrote = st->ctx;
        }
        return r;
    }
    int slot = key ? (int) keyslot(key, strlen(key)) : -1;
    int used = node;
    r = cluster_command(st, slot, node, argc, argv, &used);
    if (wrote != NULL && r != NULL) {
        *wrote = st->cluster->node[used].ctx;
    }
    return r;
}

/* Sorts an error reply into a status; Redis's own words go to st->error. */
static store_status_t error_status(store_t *st, const redisReply *r)
{
    snprintf(st->error, sizeof(st->error), "%s", r->str);
    if (strncmp(r->str, "OOM", 3) == 0) {
        return STORE_OUT_OF_MEMORY;
    }
    if (strncmp(r->str, "READONLY", 8) == 0
        || strncmp(r->str, "LOADING", 7) == 0
        || strncmp(r->str, "BUSY", 4) == 0
        || strncmp(r->str, "MASTERDOWN", 10) == 0
        || strncmp(r->str, "NOREPLICAS", 10) == 0
        || strncmp(r->str, "TRYAGAIN", 8) == 0
        || strncmp(r->str, "CLUSTERDOWN", 11) == 0)
    {
        return STORE_UNAVAILABLE;
    }
    return STORE_FAILED;
}

/* Reads a script's reply into *out; the status. Frees r. */
static store_status_t script_answer(store_t *st, script_id_t id,
                                    redisReply *r, json_t **out)
{
    store_status_t status;

    if (r == NULL) {
        return STORE_UNAVAILABLE;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        status = error_status(st, r);
    } else if (r->type != REDIS_REPLY_STRING) {
        snprintf(st->error, sizeof(st->error), "script %d: odd reply type %d",
                 (int) id, r->type);
        status = STORE_FAILED;
    } else {
        json_error_t error;

        *out = json_loadb(r->str, r->len, 0, &error);
        status = *out != NULL ? STORE_OK : STORE_FAILED;
        if (*out == NULL) {
            snprintf(st->error, sizeof(st->error), "script %d: %s",
                     (int) id, error.text);
        }
    }
    freeReplyObject(r);
    return status;
}

/*
 * Runs the script whose EVALSHA/EVAL arguments argv[2...] holds, on the
 * owner of key (NULL key: on node), and reads its answer.
 */
static store_status_t run_script(store_t *st, script_id_t id, int argc,
                                 const char **argv, const char *key,
                                 int node, json_t **out)
{
    /* The SHA1s are known once a connection has loaded the scripts. */
    bool by_sha = st->sha[id][0] != '\0';
    argv[0] = by_sha ? "EVALSHA" : "EVAL";
    argv[1] = by_sha ? st->sha[id] : script_source[id];
    redisReply *r = command(st, key, node, argc, argv, &st->wrote);
    if (r != NULL && r->type == REDIS_REPLY_ERROR
        && strncmp(r->str, "NOSCRIPT", 8) == 0)
    {
        /* Redis restarted or SCRIPT FLUSH: EVAL caches it again. */
        freeReplyObject(r);
        argv[0] = "EVAL";
        argv[1] = script_source[id];
        r = command(st, key, node, argc, argv, &st->wrote);
    }
    *out = NULL;
    return script_answer(st, id, r, out);
}

store_status_t store_script(store_t *st, script_id_t id, int nkeys,
                            const char *const *keys, int nargs,
                            const char *const *args, json_t **out)
{
    int argc = 3 + nkeys + nargs;
    const char **argv = malloc(sizeof(*argv) * (size_t) argc);
    char numkeys[16];
    store_status_t status = STORE_OK;

    *out = NULL;
    if (argv == NULL) {
        snprintf(st->error, sizeof(st->error), "out of memory");
        return STORE_FAILED;
    }
    snprintf(numkeys, sizeof(numkeys), "%d", nkeys);
    argv[2] = numkeys;
    /* keys or args may be NULL when their count is 0. */
    for (int i = 0; i < nkeys; i++) {
        argv[3 + i] = keys[i];
    }
    for (int i = 0; i < nargs; i++) {
        argv[3 + nkeys + i] = args[i];
    }

    if (st->cluster != NULL && nkeys == 0) {
        int nodes[CLUSTER_NODES_MAX];
        int n = primaries(st, nodes);

        status = n > 0 ? STORE_OK : STORE_UNAVAILABLE;
        for (int i = 0; i < n && status == STORE_OK; i++) {
            json_decref(*out);
            status = run_script(st, id, argc, argv, NULL, nodes[i], out);
        }
    } else {
        status = run_script(st, id, argc, argv, nkeys > 0 ? keys[0] : NULL,
                            -1, out);
    }
    free(argv);
    if (status != STORE_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return status;
}

/* Closes the connection WAIT would have used: its writes are in doubt. */
static void close_wrote(store_t *st)
{
    if (st->cluster == NULL) {
        free_connection(st, &st->ctx);
        return;
    }
    for (int i = 0; i < st->cluster->count; i++) {
        if (st->cluster->node[i].ctx == st->wrote) {
            free_connection(st, &st->cluster->node[i].ctx);
        }
    }
}

store_status_t store_wait(store_t *st, int replicas, long timeout_ms,
                          int *acked)
{
    redisContext *c = st->wrote;
    char n[16], ms[24];
    const char *argv[] = { "WAIT", n, ms };
    store_status_t status = STORE_OK;

    *acked = 0;
    if (c == NULL) {
        snprintf(st->error, sizeof(st->error), "WAIT: the connection that "
                 "wrote is gone");
        return STORE_UNAVAILABLE;
    }
    snprintf(n, sizeof(n), "%d", replicas);
    snprintf(ms, sizeof(ms), "%ld", timeout_ms);

    /* Redis answers after timeout_ms at the latest: give the reply a
     * command timeout on top before calling the server stalled. */
    long read_ms = timeout_ms + st->cfg->redis_command_timeout_ms;
    redisSetTimeout(c, ms_to_timeval(read_ms));
    redisReply *r = redisCommandArgv(c, 3, argv, NULL);
    if (r == NULL) {
        snprintf(st->error, sizeof(st->error), "WAIT: %s",
                 c->errstr[0] ? c->errstr : "no answer");
        close_wrote(st);
        return STORE_UNAVAILABLE;
    }
    redisSetTimeout(c, ms_to_timeval(st->cfg->redis_command_timeout_ms));
    if (r->type == REDIS_REPLY_INTEGER) {
        *acked = (int) r->integer;
        /* Too few replicas may mean this server was cut off and another
         * promoted: the next request asks the sentinels again. */
        if (*acked < replicas && st->cfg->redis_sentinels[0] != '\0') {
            close_wrote(st);
        }
    } else {
        /* E.g. "WAIT cannot be used with replica instances": the write is
         * in doubt, so this is a 503 to retry, on a fresh connection. */
        snprintf(st->error, sizeof(st->error), "WAIT: %s",
                 r->type == REDIS_REPLY_ERROR ? r->str : "odd reply");
        status = STORE_UNAVAILABLE;
        close_wrote(st);
    }
    freeReplyObject(r);
    return status;
}

/* The status of a reply that is not what a plain command expected. */
static store_status_t odd_reply(store_t *st, const char *what,
                                const redisReply *r)
{
    if (r->type == REDIS_REPLY_ERROR) {
        return error_status(st, r);
    }
    snprintf(st->error, sizeof(st->error), "%s: odd reply", what);
    return STORE_FAILED;
}

store_status_t store_get(store_t *st, const char *key, char **value)
{
    const char *argv[] = { "GET", key };
    redisReply *r = command(st, key, -1, 2, argv, NULL);
    store_status_t status = STORE_OK;

    *value = NULL;
    if (r == NULL) {
        return STORE_UNAVAILABLE;
    }
    if (r->type == REDIS_REPLY_STRING) {
        *value = strndup(r->str, r->len);
    } else if (r->type != REDIS_REPLY_NIL) {
        status = odd_reply(st, "GET", r);
    }
    freeReplyObject(r);
    return status;
}

/* SCAN on one server (node, or the single one when node is negative). */
static store_status_t scan_node(store_t *st, int node, const char *pattern,
                                store_scan_fn fn, void *arg, bool *more)
{
    char cursor[32] = "0";

    do {
        const char *argv[] = { "SCAN", cursor, "MATCH", pattern, "COUNT",
                               SCAN_COUNT };
        redisReply *r = command(st, NULL, node, 6, argv, NULL);

        if (r == NULL) {
            return STORE_UNAVAILABLE;
        }
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2
            || r->element[0]->type != REDIS_REPLY_STRING
            || r->element[1]->type != REDIS_REPLY_ARRAY)
        {
            store_status_t status = odd_reply(st, "SCAN", r);

            freeReplyObject(r);
            return status;
        }
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);

        redisReply *batch = r->element[1];
        const char **keys = malloc(sizeof(*keys) * (batch->elements + 1));
        *more = keys != NULL;
        for (size_t i = 0; *more && i < batch->elements; i++) {
            keys[i] = batch->element[i]->str;
        }
        if (*more && batch->elements > 0) {
            *more = fn(keys, (int) batch->elements, arg);
        }
        free(keys);
        freeReplyObject(r);
    } while (*more && strcmp(cursor, "0") != 0);
    return STORE_OK;
}

store_status_t store_scan(store_t *st, const char *pattern, store_scan_fn fn,
                          void *arg)
{
    bool more = true;

    if (st->cluster == NULL) {
        return scan_node(st, -1, pattern, fn, arg, &more);
    }

    int nodes[CLUSTER_NODES_MAX];
    int n = primaries(st, nodes);
    store_status_t status = n > 0 ? STORE_OK : STORE_UNAVAILABLE;
    for (int i = 0; i < n && more && status == STORE_OK; i++) {
        status = scan_node(st, nodes[i], pattern, fn, arg, &more);
    }
    return status;
}
