/*
 * conn.c - opening a Redis connection ready for requests. See store_int.h.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "store_int.h"

static struct timeval ms_to_timeval(long ms)
{
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

    return tv;
}

void conn_free(store_t *st, redisContext **cp)
{
    if (*cp != NULL) {
        if (st->wrote == *cp) {
            st->wrote = NULL;
        }
        redisFree(*cp);
        *cp = NULL;
    }
}

void conn_drop(store_t *st, redisContext **cp, const char *what)
{
    redisContext *c = *cp;
    int err = errno;

    /* A stalled Redis shows as EAGAIN (command timeout) or ETIMEDOUT. */
    st->timed_out = c != NULL && c->err == REDIS_ERR_IO
                    && (err == EAGAIN || err == EWOULDBLOCK
                        || err == ETIMEDOUT || err == EINPROGRESS);

    snprintf(st->error, sizeof(st->error), "%s: %s", what,
             c && c->errstr[0] ? c->errstr : "connection failed");
    conn_free(st, cp);
}

bool conn_closed_while_idle(redisContext *c)
{
    /* Nothing was asked, so anything to read is the server's EOF or
     * reset. */
    struct pollfd p = { .fd = c->fd, .events = POLLIN };

    return poll(&p, 1, 0) > 0;
}

redisReply *conn_command(redisContext *c, bool asking, int argc,
                         const char **argv, bool *sent)
{
    redisReply *r = NULL;
    int done = 0;

    *sent = false;
    if (asking) {
        redisAppendCommand(c, "ASKING");
    }
    if (redisAppendCommandArgv(c, argc, argv, NULL) != REDIS_OK) {
        return NULL;
    }
    /* Until the last byte has left, Redis has no whole command to run. */
    do {
        if (redisBufferWrite(c, &done) != REDIS_OK) {
            return NULL;
        }
    } while (!done);
    *sent = true;
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

void conn_log_resend(const store_t *st, const char *cmd, const char *what,
                     int attempt)
{
    const char *why = st->error;
    size_t n = strlen(cmd);

    /* st->error reads "<cmd>: <reason>" after a broken connection. */
    if (strncmp(why, cmd, n) == 0 && why[n] == ':' && why[n + 1] == ' ') {
        why += n + 2;
    }
    log_info("worker %d: redis: %s %s (%s), sending again (attempt %d)",
             st->worker_id, cmd, what, why, attempt);
}

void conn_not_resent(store_t *st)
{
    size_t n = strlen(st->error);

    snprintf(st->error + n, sizeof(st->error) - n,
             " (reply lost; it may have run, so it is not sent again)");
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
 * Loads every script and keeps their SHA1s, so that requests can use
 * EVALSHA from the first one on. One script per round trip: sent together
 * they made one command buffer of all the sources (most of a megabyte),
 * which every worker's connection allocated, and glibc's per-thread arenas
 * kept after it was freed (about 0.8 MB of resident memory per arena).
 */
static bool load_scripts(store_t *st, redisContext *c)
{
    for (int i = 0; i < SCRIPT_COUNT; i++) {
        redisReply *r = redisCommand(c, "SCRIPT LOAD %s", script_source[i]);

        if (r == NULL) {
            return false;
        }

        bool ok = r->type == REDIS_REPLY_STRING && r->len == 40;

        if (ok) {
            memcpy(st->sha[i], r->str, 41);
        } else {
            snprintf(st->error, sizeof(st->error), "SCRIPT LOAD: %s",
                     r->type == REDIS_REPLY_ERROR ? r->str : "odd reply");
        }
        freeReplyObject(r);
        if (!ok) {
            return false;
        }
    }
    return true;
}

/*
 * True when the server we reached says it is a primary: a sentinel's
 * answer may be a moment old, and a demoted primary serves reads as if
 * nothing happened.
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

/* AUTH and SELECT, as configured: NULL, or the command that failed. */
static const char *authenticate(store_t *st, redisContext *c)
{
    const config_t *cfg = st->cfg;

    if (cfg->redis_password[0] != '\0') {
        const char *argv[] = { "AUTH", cfg->redis_password };

        if (!setup_command(st, c, 2, argv)) {
            return "AUTH";
        }
    }
    if (cfg->redis_db != 0) {
        char db[16];
        const char *argv[] = { "SELECT", db };

        snprintf(db, sizeof(db), "%d", cfg->redis_db);
        if (!setup_command(st, c, 2, argv)) {
            return "SELECT";
        }
    }
    return NULL;
}

redisContext *conn_open(store_t *st, const char *host, int port,
                        bool need_primary)
{
    const config_t *cfg = st->cfg;
    struct timeval connect_tv = ms_to_timeval(cfg->redis_connect_timeout_ms);
    redisContext *c;

    if (host[0] == '/') {
        c = redisConnectUnixWithTimeout(host, connect_tv);
    } else {
        c = redisConnectWithTimeout(host, port, connect_tv);
    }
    if (c == NULL || c->err) {
        conn_drop(st, &c, "connect");
        return NULL;
    }
    if (redisSetTimeout(c, ms_to_timeval(cfg->redis_command_timeout_ms))
        != REDIS_OK)
    {
        conn_drop(st, &c, "set timeout");
        return NULL;
    }
    /* TCP keepalive finds a peer that vanished; a Unix socket has none
     * (hiredis then fails with EOPNOTSUPP and breaks the connection). */
    if (host[0] != '/' && redisEnableKeepAlive(c) != REDIS_OK) {
        conn_drop(st, &c, "keepalive");
        return NULL;
    }

    const char *failed = authenticate(st, c);
    if (failed != NULL) {
        conn_drop(st, &c, failed);
        return NULL;
    }
    if (need_primary && !is_primary(c)) {
        conn_drop(st, &c, "ROLE: not a primary (yet)");
        return NULL;
    }
    if (!load_scripts(st, c)) {
        conn_drop(st, &c, "SCRIPT LOAD");
        return NULL;
    }
    return c;
}
