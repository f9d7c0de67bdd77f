/*
 * store_sentinel.c - the Sentinel transport (REDIS_SENTINELS): one server,
 * the primary the sentinels name, asked again whenever the connection
 * breaks or the server turns out to be a replica. See store_int.h.
 */
#include "sentinel.h"
#include "store_int.h"

static bool locate_primary(store_t *st, char *host, size_t host_len,
                           int *port)
{
    return sentinel_primary(st->cfg, host, host_len, port, st->error,
                            sizeof(st->error));
}

static bool sentinel_init(store_t *st)
{
    (void) st;
    return true;
}

static void sentinel_close(store_t *st)
{
    conn_free(st, &st->ctx);
}

static redisReply *sentinel_command(store_t *st, const char *key, int node,
                                    int argc, const char **argv,
                                    bool resend, redisContext **used)
{
    (void) key;
    (void) node;
    return store_one_server(st, locate_primary, true, argc, argv, resend,
                            used);
}

const store_transport_t store_sentinel_transport = {
    .sharded = false,
    .init = sentinel_init,
    .close = sentinel_close,
    .command = sentinel_command,
    .nodes = store_one_node,
    .forget = store_forget_one,
    /* Too few replicas may mean this primary was cut off and another
     * promoted: the next request asks the sentinels again. */
    .drop_after_short_wait = true,
};
