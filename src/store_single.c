/*
 * store_single.c - the one-server transport (REDIS_HOST), and the command
 * loop it shares with Sentinel's. See store_int.h.
 */
#include <stdio.h>
#include <string.h>

#include "store_int.h"

/* True, once logged, when attempt (0: the first) leaves room for one more
 * after what befell it. */
static bool another_attempt(store_t *st, const char *cmd, const char *what,
                            int attempt)
{
    if (attempt >= st->cfg->redis_max_retry) {
        return false;
    }
    conn_log_resend(st, cmd, what, attempt + 2);
    return true;
}

redisReply *store_one_server(store_t *st, store_locate_fn locate,
                             bool follow_demotion, int argc,
                             const char **argv, bool resend,
                             redisContext **used)
{
    /* The connection kept from the last request may have been closed by
     * the server since: a new one costs no attempt. */
    if (st->ctx != NULL && conn_closed_while_idle(st->ctx)) {
        conn_free(st, &st->ctx);
    }
    for (int attempt = 0; attempt <= st->cfg->redis_max_retry; attempt++) {
        if (st->ctx == NULL) {
            char host[CONFIG_STR_MAX];
            int port;

            st->timed_out = false;
            if (!locate(st, host, sizeof(host), &port)) {
                if (!another_attempt(st, argv[0], "not sent", attempt)) {
                    break;
                }
                continue;
            }
            st->ctx = conn_open(st, host, port, follow_demotion);
            if (st->ctx == NULL) {
                if (st->timed_out
                    || !another_attempt(st, argv[0], "not sent", attempt))
                {
                    return NULL;
                }
                continue;
            }
        }

        bool sent;
        redisReply *r = conn_command(st->ctx, false, argc, argv, &sent);
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
            if (!another_attempt(st, argv[0], "refused", attempt)) {
                break;
            }
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
        /* It may have run: only a command that recognises its own earlier
         * run goes out again. */
        if (sent && !resend) {
            conn_not_resent(st);
            return NULL;
        }
        if (!another_attempt(st, argv[0], sent ? "reply lost" : "not sent",
                             attempt))
        {
            break;
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
                                  int argc, const char **argv, bool resend,
                                  redisContext **used)
{
    (void) key;
    (void) node;
    return store_one_server(st, locate_configured, false, argc, argv,
                            resend, used);
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
