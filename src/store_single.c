/*
 * store_single.c - the one-server transport (REDIS_HOST), and the command
 * loop it shares with Sentinel's. See store_int.h.
 */
#include <stdio.h>
#include <string.h>

#include "store_int.h"

redisReply *store_one_server(store_t *st, store_locate_fn locate,
                             bool follow_demotion, int argc,
                             const char **argv, redisContext **used)
{
    for (int attempt = 0; attempt <= st->cfg->redis_max_retry; attempt++) {
        if (st->ctx == NULL) {
            char host[CONFIG_STR_MAX];
            int port;

            st->timed_out = false;
            if (!locate(st, host, sizeof(host), &port)) {
                continue;
            }
            st->ctx = conn_open(st, host, port, follow_demotion);
            if (st->ctx == NULL) {
                if (st->timed_out) {
                    return NULL;
                }
                continue;
            }
        }

        redisReply *r = redisCommandArgv(st->ctx, argc, argv, NULL);
        /* READONLY: the server was demoted since we connected (a
         * failover). Nothing was written, so the command may go to
         * whichever server is the primary now. */
        if (r != NULL && follow_demotion && r->type == REDIS_REPLY_ERROR
            && strncmp(r->str, "READONLY", 8) == 0)
        {
            snprintf(st->error, sizeof(st->error), "%s", r->str);
            freeReplyObject(r);
            conn_free(st, &st->ctx);
            st->timed_out = false;
            continue;
        }
        if (r != NULL) {
            *used = st->ctx;
            return r;
        }
        conn_drop(st, &st->ctx, argv[0]);
        if (st->timed_out) {
            return NULL;
        }
    }
    return NULL;
}

static bool locate_configured(store_t *st, char *host, size_t host_len,
                              int *port)
{
    snprintf(host, host_len, "%s", st->cfg->redis_host);
    *port = st->cfg->redis_port;
    return true;
}

static bool single_init(store_t *st)
{
    (void) st;
    return true;
}

static void single_close(store_t *st)
{
    conn_free(st, &st->ctx);
}

static redisReply *single_command(store_t *st, const char *key, int node,
                                  int argc, const char **argv,
                                  redisContext **used)
{
    (void) key;
    (void) node;
    return store_one_server(st, locate_configured, false, argc, argv, used);
}

int store_one_node(store_t *st, int *nodes)
{
    (void) st;
    nodes[0] = -1;
    return 1;
}

void store_forget_one(store_t *st, redisContext *c)
{
    (void) c;
    conn_free(st, &st->ctx);
}

const store_transport_t store_single_transport = {
    .sharded = false,
    .init = single_init,
    .close = single_close,
    .command = single_command,
    .nodes = store_one_node,
    .forget = store_forget_one,
    .drop_after_short_wait = false,
};
