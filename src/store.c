/*
 * store.c - the service's one door to Redis, over hiredis. See store.h.
 */
#include "store.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCAN_COUNT "500"

static struct timeval ms_to_timeval(long ms)
{
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

    return tv;
}

void store_init(store_t *st, const config_t *cfg)
{
    memset(st, 0, sizeof(*st));
    st->cfg = cfg;
}

void store_close(store_t *st)
{
    if (st->ctx != NULL) {
        redisFree(st->ctx);
        st->ctx = NULL;
    }
}

/* Records why the connection failed and drops it: it is never reused. */
static void drop(store_t *st, const char *what)
{
    redisContext *c = st->ctx;

    int err = errno;

    /* A stalled Redis shows as EAGAIN (command timeout) or ETIMEDOUT. */
    st->timed_out = c != NULL && c->err == REDIS_ERR_IO
                    && (err == EAGAIN || err == EWOULDBLOCK
                        || err == ETIMEDOUT || err == EINPROGRESS);

    snprintf(st->error, sizeof(st->error), "%s: %s", what,
             c && c->errstr[0] ? c->errstr : "connection failed");
    store_close(st);
}

/* Runs a command during connection set-up; true when it is not an error. */
static bool setup_command(store_t *st, int argc, const char **argv)
{
    redisReply *r = redisCommandArgv(st->ctx, argc, argv, NULL);
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
static bool load_scripts(store_t *st)
{
    for (int i = 0; i < SCRIPT_COUNT; i++) {
        redisAppendCommand(st->ctx, "SCRIPT LOAD %s", script_source[i]);
    }

    bool ok = true;
    for (int i = 0; i < SCRIPT_COUNT; i++) {
        redisReply *r;

        if (redisGetReply(st->ctx, (void **) &r) != REDIS_OK) {
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

static bool connect_store(store_t *st)
{
    const config_t *cfg = st->cfg;
    struct timeval connect_tv = ms_to_timeval(cfg->redis_connect_timeout_ms);
    redisContext *c;

    if (cfg->redis_host[0] == '/') {
        c = redisConnectUnixWithTimeout(cfg->redis_host, connect_tv);
    } else {
        c = redisConnectWithTimeout(cfg->redis_host, cfg->redis_port,
                                    connect_tv);
    }
    st->ctx = c;
    if (c == NULL || c->err) {
        drop(st, "connect");
        return false;
    }
    if (redisSetTimeout(c, ms_to_timeval(cfg->redis_command_timeout_ms))
        != REDIS_OK)
    {
        drop(st, "set timeout");
        return false;
    }
    redisEnableKeepAlive(c);

    if (cfg->redis_password[0] != '\0') {
        const char *argv[] = { "AUTH", cfg->redis_password };

        if (!setup_command(st, 2, argv)) {
            drop(st, "AUTH");
            return false;
        }
    }
    if (cfg->redis_db != 0) {
        char db[16];
        const char *argv[] = { "SELECT", db };

        snprintf(db, sizeof(db), "%d", cfg->redis_db);
        if (!setup_command(st, 2, argv)) {
            drop(st, "SELECT");
            return false;
        }
    }
    if (!load_scripts(st)) {
        drop(st, "SCRIPT LOAD");
        return false;
    }
    return true;
}

/*
 * Sends one command and returns its reply (NULL when Redis could not be
 * reached). A broken connection is dropped and the command tried again on a
 * new one, REDIS_MAX_RETRY_PER_REQUEST times at most; a timeout is not
 * retried, so a stalled Redis costs one command timeout, not several.
 */
static redisReply *command(store_t *st, int argc, const char **argv,
                           const size_t *argvlen)
{
    for (int attempt = 0; attempt <= st->cfg->redis_max_retry; attempt++) {
        if (st->ctx == NULL && !connect_store(st)) {
            if (st->timed_out) {
                return NULL;
            }
            continue;
        }

        redisReply *r = redisCommandArgv(st->ctx, argc, argv, argvlen);
        if (r != NULL) {
            return r;
        }
        drop(st, argv[0]);
        if (st->timed_out) {
            return NULL;
        }
    }
    return NULL;
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
        || strncmp(r->str, "TRYAGAIN", 8) == 0)
    {
        return STORE_UNAVAILABLE;
    }
    return STORE_FAILED;
}

store_status_t store_script(store_t *st, script_id_t id, int nkeys,
                            const char *const *keys, int nargs,
                            const char *const *args, json_t **out)
{
    int argc = 3 + nkeys + nargs;
    const char **argv = malloc(sizeof(*argv) * (size_t) argc);
    char numkeys[16];
    store_status_t status;

    *out = NULL;
    if (argv == NULL) {
        snprintf(st->error, sizeof(st->error), "out of memory");
        return STORE_FAILED;
    }
    snprintf(numkeys, sizeof(numkeys), "%d", nkeys);
    argv[2] = numkeys;
    /* keys and args may be NULL when empty, and memcpy from NULL is
     * undefined even for zero bytes. */
    if (nkeys > 0) {
        memcpy(argv + 3, keys, sizeof(*argv) * (size_t) nkeys);
    }
    if (nargs > 0) {
        memcpy(argv + 3 + nkeys, args, sizeof(*argv) * (size_t) nargs);
    }

    /* The SHA1s are known once a connection has loaded the scripts. */
    bool by_sha = st->sha[id][0] != '\0';
    argv[0] = by_sha ? "EVALSHA" : "EVAL";
    argv[1] = by_sha ? st->sha[id] : script_source[id];
    redisReply *r = command(st, argc, argv, NULL);
    if (r != NULL && r->type == REDIS_REPLY_ERROR
        && strncmp(r->str, "NOSCRIPT", 8) == 0)
    {
        /* Redis restarted or SCRIPT FLUSH: EVAL caches it again. */
        freeReplyObject(r);
        argv[0] = "EVAL";
        argv[1] = script_source[id];
        r = command(st, argc, argv, NULL);
    }
    free(argv);

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

store_status_t store_get(store_t *st, const char *key, char **value)
{
    const char *argv[] = { "GET", key };
    redisReply *r = command(st, 2, argv, NULL);
    store_status_t status = STORE_OK;

    *value = NULL;
    if (r == NULL) {
        return STORE_UNAVAILABLE;
    }
    if (r->type == REDIS_REPLY_STRING) {
        *value = strndup(r->str, r->len);
    } else if (r->type == REDIS_REPLY_ERROR) {
        status = error_status(st, r);
    } else if (r->type != REDIS_REPLY_NIL) {
        status = STORE_FAILED;
    }
    freeReplyObject(r);
    return status;
}

store_status_t store_scan(store_t *st, const char *pattern, store_scan_fn fn,
                          void *arg)
{
    char cursor[32] = "0";

    do {
        const char *argv[] = { "SCAN", cursor, "MATCH", pattern, "COUNT",
                               SCAN_COUNT };
        redisReply *r = command(st, 6, argv, NULL);

        if (r == NULL) {
            return STORE_UNAVAILABLE;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            store_status_t status = error_status(st, r);

            freeReplyObject(r);
            return status;
        }
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2
            || r->element[0]->type != REDIS_REPLY_STRING
            || r->element[1]->type != REDIS_REPLY_ARRAY)
        {
            freeReplyObject(r);
            snprintf(st->error, sizeof(st->error), "SCAN: odd reply");
            return STORE_FAILED;
        }
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);

        redisReply *batch = r->element[1];
        const char **keys = malloc(sizeof(*keys) * (batch->elements + 1));
        bool more = keys != NULL;
        for (size_t i = 0; more && i < batch->elements; i++) {
            keys[i] = batch->element[i]->str;
        }
        if (more && batch->elements > 0) {
            more = fn(keys, (int) batch->elements, arg);
        }
        free(keys);
        freeReplyObject(r);
        if (!more) {
            break;
        }
    } while (strcmp(cursor, "0") != 0);
    return STORE_OK;
}
