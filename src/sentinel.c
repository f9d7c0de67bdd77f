/*
 * sentinel.c - finds the current Redis primary through Sentinel. See
 * sentinel.h.
 *
 * A sentinel is asked only when a worker (re)connects: after start-up,
 * after the connection to the primary broke, or after the server it was
 * talking to turned out to be a replica. Each question is one short-lived
 * connection, so no sentinel connection has to be kept healthy.
 */
#include "sentinel.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct timeval ms_to_timeval(long ms)
{
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

    return tv;
}

/* Runs one command on c; the reply, or NULL with the reason in err. */
static redisReply *ask(redisContext *c, int argc, const char **argv,
                       const char *where, char *err, size_t err_len)
{
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);

    if (r == NULL) {
        snprintf(err, err_len, "sentinel %s: %s: %s", where, argv[0],
                 c->errstr[0] ? c->errstr : "no answer");
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(err, err_len, "sentinel %s: %s: %s", where, argv[0],
                 r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

/* Asks the one sentinel at sentinel_host:sentinel_port. */
static bool ask_sentinel(const config_t *cfg, const char *sentinel_host,
                         int sentinel_port, char *host, size_t host_len,
                         int *port, char *err, size_t err_len)
{
    char where[CONFIG_STR_MAX + 16];
    redisContext *c;
    redisReply *r;
    bool found = false;

    snprintf(where, sizeof(where), "%s:%d", sentinel_host, sentinel_port);
    c = redisConnectWithTimeout(sentinel_host, sentinel_port,
                                ms_to_timeval(cfg->redis_connect_timeout_ms));
    if (c == NULL || c->err) {
        snprintf(err, err_len, "sentinel %s: connect: %s", where,
                 c ? c->errstr : "out of memory");
        redisFree(c);
        return false;
    }
    if (redisSetTimeout(c, ms_to_timeval(cfg->redis_command_timeout_ms))
        != REDIS_OK)
    {
        snprintf(err, err_len, "sentinel %s: set timeout", where);
        redisFree(c);
        return false;
    }
    if (cfg->redis_sentinel_password[0] != '\0') {
        const char *argv[] = { "AUTH", cfg->redis_sentinel_password };

        r = ask(c, 2, argv, where, err, err_len);
        if (r == NULL) {
            redisFree(c);
            return false;
        }
        freeReplyObject(r);
    }

    const char *argv[] = { "SENTINEL", "get-master-addr-by-name",
                           cfg->redis_master_name };
    r = ask(c, 3, argv, where, err, err_len);
    if (r == NULL) {
        redisFree(c);
        return false;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2
        && r->element[0]->type == REDIS_REPLY_STRING
        && r->element[1]->type == REDIS_REPLY_STRING)
    {
        char *end;
        long n = strtol(r->element[1]->str, &end, 10);

        if (*end == '\0' && n >= 1 && n <= 65535
            && r->element[0]->len < host_len)
        {
            memcpy(host, r->element[0]->str, r->element[0]->len + 1);
            *port = (int) n;
            found = true;
        }
    }
    if (!found) {
        snprintf(err, err_len, "sentinel %s does not know a primary named "
                 "\"%s\"", where, cfg->redis_master_name);
    }
    freeReplyObject(r);
    redisFree(c);
    return found;
}

bool sentinel_primary(const config_t *cfg, char *host, size_t host_len,
                      int *port, char *err, size_t err_len)
{
    char sentinel_host[CONFIG_STR_MAX];
    int sentinel_port;

    snprintf(err, err_len, "REDIS_SENTINELS is empty");
    for (const char *p = cfg->redis_sentinels;
         (p = config_next_host_port(p, sentinel_host, sizeof(sentinel_host),
                                    &sentinel_port)) != NULL;)
    {
        if (ask_sentinel(cfg, sentinel_host, sentinel_port, host, host_len,
                         port, err, err_len))
        {
            return true;
        }
    }
    return false;
}
