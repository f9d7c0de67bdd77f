/*
 * store.c - scripts, GET, SCAN and WAIT over the transport chosen at
 * start-up. See store.h; the transports are store_single.c,
 * store_sentinel.c and store_cluster.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "keyslot.h"
#include "store_int.h"

#define SCAN_COUNT "500"

store_t *store_open(const config_t *cfg, int worker_id)
{
    store_t *st = calloc(1, sizeof(*st));

    if (st == NULL) {
        return NULL;
    }
    st->cfg = cfg;
    st->worker_id = worker_id;
    if (cfg->redis_cluster_nodes[0] != '\0') {
        st->transport = &store_cluster_transport;
    } else if (cfg->redis_sentinels[0] != '\0') {
        st->transport = &store_sentinel_transport;
    } else {
        st->transport = &store_single_transport;
    }
    if (!st->transport->init(st)) {
        free(st);
        return NULL;
    }
    return st;
}

void store_close(store_t *st)
{
    if (st != NULL) {
        st->transport->close(st);
        free(st);
    }
}

bool store_sharded(const store_t *st)
{
    return st->transport->sharded;
}

bool store_one_slot(const store_t *st, const char *a, const char *b)
{
    return !st->transport->sharded
           || keyslot(a, strlen(a)) == keyslot(b, strlen(b));
}

const char *store_error(const store_t *st)
{
    return st->error;
}

/* Sorts an error reply into a status; Redis's own words go to st->error. */
static store_status_t error_status(store_t *st, const redisReply *r)
{
    static const char *const unavailable[] = {
        "READONLY", "LOADING", "BUSY", "MASTERDOWN", "NOREPLICAS",
        "TRYAGAIN", "CLUSTERDOWN"
    };

    snprintf(st->error, sizeof(st->error), "%s", r->str);
    if (strncmp(r->str, "OOM", 3) == 0) {
        return STORE_OUT_OF_MEMORY;
    }
    for (size_t i = 0; i < sizeof(unavailable) / sizeof(unavailable[0]);
         i++)
    {
        if (strncmp(r->str, unavailable[i], strlen(unavailable[i])) == 0) {
            return STORE_UNAVAILABLE;
        }
    }
    return STORE_FAILED;
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
 * The scripts that may be sent again when their reply was lost (the
 * connection broke after the command left, so it may have run): a second
 * run answers what the first would have. The reads; acquire (a live lock
 * with the request's own lockId is its own), release (the tombstone with
 * the request's own token), book (the appointment under the request's
 * own id), holder (a reserve finds its own lockId; add and remove are the
 * same twice) and cancel (twice answers the same). Not refresh, whose
 * second run may find the lock at its maximum hold, nor force_release,
 * whose second run finds no lock: a lost reply is a 503 for them.
 */
static const bool resend_safe[SCRIPT_COUNT] = {
    [SCRIPT_HEALTH] = true, [SCRIPT_ACQUIRE] = true, [SCRIPT_VERIFY] = true,
    [SCRIPT_REFRESH] = false, [SCRIPT_RELEASE] = true,
    [SCRIPT_FORCE_RELEASE] = false, [SCRIPT_LOCK_GET] = true,
    [SCRIPT_STATUS] = true, [SCRIPT_BOOK] = true, [SCRIPT_CANCEL] = true,
    [SCRIPT_METRICS] = true, [SCRIPT_READ_KEYS] = true,
    [SCRIPT_HOLDER] = true, [SCRIPT_SWEEP] = true,
    [SCRIPT_EVENTS_READ] = true,
};

/*
 * Runs the script whose EVALSHA/EVAL arguments argv[2...] holds, on the
 * server of key (NULL key: on node), and reads its answer.
 */
static store_status_t run_script(store_t *st, script_id_t id, int argc,
                                 const char **argv, const char *key,
                                 int node, json_t **out)
{
    const store_transport_t *t = st->transport;
    /* The SHA1s are known once a connection has loaded the scripts. */
    bool by_sha = st->sha[id][0] != '\0';

    argv[0] = by_sha ? "EVALSHA" : "EVAL";
    argv[1] = by_sha ? st->sha[id] : script_source[id];
    redisReply *r = t->command(st, key, node, argc, argv, resend_safe[id],
                               &st->wrote);
    if (r != NULL && r->type == REDIS_REPLY_ERROR
        && strncmp(r->str, "NOSCRIPT", 8) == 0)
    {
        /* Redis restarted or SCRIPT FLUSH: EVAL caches it again. NOSCRIPT
         * ran nothing, so this is no retry. */
        freeReplyObject(r);
        argv[0] = "EVAL";
        argv[1] = script_source[id];
        r = t->command(st, key, node, argc, argv, resend_safe[id],
                       &st->wrote);
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

    if (nkeys == 0) {
        /* A script without keys proves something of every primary. */
        int nodes[CLUSTER_NODES_MAX];
        int n = st->transport->nodes(st, nodes);

        status = n > 0 ? STORE_OK : STORE_UNAVAILABLE;
        for (int i = 0; i < n && status == STORE_OK; i++) {
            json_decref(*out);
            status = run_script(st, id, argc, argv, NULL, nodes[i], out);
        }
    } else {
        status = run_script(st, id, argc, argv, keys[0], -1, out);
    }
    free(argv);
    if (status != STORE_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return status;
}

store_status_t store_script_each(store_t *st, script_id_t id, int nargs,
                                 const char *const *args, json_t **out)
{
    int argc = 3 + nargs;
    const char **argv = malloc(sizeof(*argv) * (size_t) argc);
    int nodes[CLUSTER_NODES_MAX];
    store_status_t status = STORE_OK;

    *out = NULL;
    if (argv == NULL) {
        snprintf(st->error, sizeof(st->error), "out of memory");
        return STORE_FAILED;
    }
    argv[2] = "0";
    for (int i = 0; i < nargs; i++) {
        argv[3 + i] = args[i];
    }
    int n = st->transport->nodes(st, nodes);
    json_t *answers = json_array();
    status = n > 0 ? STORE_OK : STORE_UNAVAILABLE;
    for (int i = 0; i < n && status == STORE_OK; i++) {
        json_t *one = NULL;

        status = run_script(st, id, argc, argv, NULL, nodes[i], &one);
        if (status == STORE_OK) {
            json_array_append_new(answers, one);
        }
    }
    free(argv);
    if (status == STORE_OK) {
        *out = answers;
    } else {
        json_decref(answers);
    }
    return status;
}

/* Closes the connection WAIT would have used: its writes are in doubt. */
static void forget_wrote(store_t *st)
{
    if (st->wrote != NULL) {
        st->transport->forget(st, st->wrote);
    }
}

static struct timeval ms_to_timeval(long ms)
{
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

    return tv;
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
        forget_wrote(st);
        return STORE_UNAVAILABLE;
    }
    redisSetTimeout(c, ms_to_timeval(st->cfg->redis_command_timeout_ms));
    if (r->type == REDIS_REPLY_INTEGER) {
        *acked = (int) r->integer;
        if (*acked < replicas && st->transport->drop_after_short_wait) {
            forget_wrote(st);
        }
    } else {
        /* E.g. "WAIT cannot be used with replica instances": the write is
         * in doubt, so this is a 503 to retry, on a fresh connection. */
        snprintf(st->error, sizeof(st->error), "WAIT: %s",
                 r->type == REDIS_REPLY_ERROR ? r->str : "odd reply");
        status = STORE_UNAVAILABLE;
        forget_wrote(st);
    }
    freeReplyObject(r);
    return status;
}

store_status_t store_get(store_t *st, const char *key, char **value)
{
    const char *argv[] = { "GET", key };
    redisContext *used;
    redisReply *r = st->transport->command(st, key, -1, 2, argv, true,
                                           &used);
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

/* Hands one SCAN reply's batch of keys to fn; false when fn said stop. */
static bool hand_batch(const redisReply *batch, store_scan_fn fn, void *arg)
{
    const char **keys = malloc(sizeof(*keys) * (batch->elements + 1));
    bool more = keys != NULL;

    for (size_t i = 0; more && i < batch->elements; i++) {
        keys[i] = batch->element[i]->str;
    }
    if (more && batch->elements > 0) {
        more = fn(keys, (int) batch->elements, arg);
    }
    free(keys);
    return more;
}

/* SCAN on one server (node, or the single one when node is negative). */
static store_status_t scan_node(store_t *st, int node, const char *pattern,
                                store_scan_fn fn, void *arg, bool *more)
{
    char cursor[32] = "0";

    do {
        const char *argv[] = { "SCAN", cursor, "MATCH", pattern, "COUNT",
                               SCAN_COUNT };
        redisContext *used;
        redisReply *r = st->transport->command(st, NULL, node, 6, argv,
                                               true, &used);

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
        *more = hand_batch(r->element[1], fn, arg);
        freeReplyObject(r);
    } while (*more && strcmp(cursor, "0") != 0);
    return STORE_OK;
}

store_status_t store_scan(store_t *st, const char *pattern, store_scan_fn fn,
                          void *arg)
{
    int nodes[CLUSTER_NODES_MAX];
    int n = st->transport->nodes(st, nodes);
    store_status_t status = n > 0 ? STORE_OK : STORE_UNAVAILABLE;
    bool more = true;

    for (int i = 0; i < n && more && status == STORE_OK; i++) {
        status = scan_node(st, nodes[i], pattern, fn, arg, &more);
    }
    return status;
}

/* A plain command's reply as JSON (RESP2, which is all the store
 * speaks); NULL when out of memory. */
static json_t *reply_json(const redisReply *r)
{
    switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS: {
        json_t *s = json_stringn(r->str, r->len);

        return s != NULL ? s : json_null();
    }
    case REDIS_REPLY_INTEGER:
        return json_integer(r->integer);
    case REDIS_REPLY_ARRAY: {
        json_t *a = json_array();

        for (size_t i = 0; a != NULL && i < r->elements; i++) {
            json_t *item = reply_json(r->element[i]);

            if (item == NULL || json_array_append_new(a, item) != 0) {
                json_decref(a);
                a = NULL;
            }
        }
        return a;
    }
    default:
        return json_null();
    }
}

store_status_t store_command(store_t *st, const char *key, int argc,
                             const char *const *argv, bool resend,
                             json_t **out)
{
    redisContext *used;
    redisReply *r = st->transport->command(st, key, -1, argc,
                                           (const char **) argv, resend,
                                           &used);
    store_status_t status = STORE_OK;

    *out = NULL;
    if (r == NULL) {
        return STORE_UNAVAILABLE;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        status = error_status(st, r);
    } else {
        *out = reply_json(r);
        if (*out == NULL) {
            snprintf(st->error, sizeof(st->error), "%s: out of memory",
                     argv[0]);
            status = STORE_FAILED;
        }
    }
    freeReplyObject(r);
    return status;
}
