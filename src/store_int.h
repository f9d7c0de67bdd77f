/*
 * store_int.h - what the store files share behind store.h: the store
 * itself, the transport interface, and opening a ready connection.
 *
 * A transport (store_single.c, store_sentinel.c, store_cluster.c) knows
 * where a command goes and how to follow the server when it moves; store.c
 * runs scripts, GET, SCAN and WAIT over any of them.
 */
#ifndef SLOTLOCK_STORE_INT_H
#define SLOTLOCK_STORE_INT_H

#include <hiredis/hiredis.h>
#include <stdbool.h>

#include "store.h"

struct cluster_s;

typedef struct store_transport_s {
    /* Keys of different slots may be on different servers. */
    bool sharded;
    /* Takes what the transport needs (false when out of memory). */
    bool (*init)(store_t *st);
    /* Closes every connection and frees what init took. */
    void (*close)(store_t *st);
    /*
     * Sends one command to the server of key's slot, or when key is NULL to
     * node (an index from nodes(); -1 for the only server), and returns its
     * reply (NULL when none could be had, st->error saying why). *used
     * receives the connection that answered. A command that never left is
     * sent again on a new connection; one whose reply was lost (it may
     * have run) only with resend, when running it twice answers what the
     * first run would have. Each re-send is logged.
     */
    redisReply *(*command)(store_t *st, const char *key, int node, int argc,
                           const char **argv, bool resend,
                           redisContext **used);
    /* The primaries a command for every one of them goes to, into nodes
     * (room for CLUSTER_NODES_MAX); how many (0: none could be found). */
    int (*nodes)(store_t *st, int *nodes);
    /* Drops connection c (its writes are in doubt). */
    void (*forget)(store_t *st, redisContext *c);
    /* True when fewer replicas than asked may mean the server was cut off
     * and another promoted: the connection is then dropped. */
    bool drop_after_short_wait;
} store_transport_t;

extern const store_transport_t store_single_transport;
extern const store_transport_t store_sentinel_transport;
extern const store_transport_t store_cluster_transport;

struct store_s {
    const config_t *cfg;
    int worker_id;                      /* for log lines */
    const store_transport_t *transport;
    redisContext *ctx;                  /* one server: NULL when closed */
    struct cluster_s *cluster;          /* a cluster's map and nodes */
    redisContext *wrote;                /* where the last script ran */
    char sha[SCRIPT_COUNT][41];         /* of each script, once loaded */
    char error[256];                    /* why the last call failed */
    bool timed_out;                     /* the last failure was a timeout */
};

/* ---- conn.c ------------------------------------------------------------ */

/*
 * Opens a connection to host:port (a Unix socket when host starts with
 * '/'), ready for requests: timeouts set, authenticated, database chosen,
 * scripts loaded; with need_primary, only when the server says it is a
 * primary. NULL, with st->error set, when that failed.
 */
redisContext *conn_open(store_t *st, const char *host, int port,
                        bool need_primary);

/* Records why the connection *cp failed and drops it: it is never reused.
 * Sets st->timed_out when the failure was a timeout. */
void conn_drop(store_t *st, redisContext **cp, const char *what);

/* Frees *cp (and forgets it as the connection WAIT would use). */
void conn_free(store_t *st, redisContext **cp);

/*
 * True when the server closed or reset idle connection c (CLIENT KILL, its
 * idle timeout, a restart) since its last reply: a command sent on it
 * would be lost unread. Such a connection is replaced before the command
 * is sent, which costs no attempt.
 */
bool conn_closed_while_idle(redisContext *c);

/*
 * Sends argv on c (after ASKING when asking) and reads its reply; NULL when
 * there is none (c is then broken). *sent tells the two kinds of NULL
 * apart: false when the command never wholly left, so it cannot have run;
 * true when its reply was lost, and it may have run.
 */
redisReply *conn_command(redisContext *c, bool asking, int argc,
                         const char **argv, bool *sent);

/* Logs that cmd goes out again as attempt (2 for the first re-send), after
 * what befell the last ("reply lost", "not sent", ...); st->error says
 * why. */
void conn_log_resend(const store_t *st, const char *cmd, const char *what,
                     int attempt);

/* Adds to st->error that the reply was lost and the command, which may
 * have run, is not sent again (the caller answers 503). */
void conn_not_resent(store_t *st);

/* ---- store_single.c ---------------------------------------------------- */

/* Where the one server is: host and port into the buffers. False with
 * st->error set when it cannot be found now. */
typedef bool (*store_locate_fn)(store_t *st, char *host, size_t host_len,
                                int *port);

/*
 * Sends one command to the one server (found by locate), reconnecting and
 * retrying on a broken connection, REDIS_MAX_RETRY_PER_REQUEST times at
 * most; a timeout is not retried, nor a lost reply without resend. With
 * follow_demotion, a READONLY answer (the server became a replica) drops
 * the connection and retries too.
 */
redisReply *store_one_server(store_t *st, store_locate_fn locate,
                             bool follow_demotion, int argc,
                             const char **argv, bool resend,
                             redisContext **used);

/* nodes() and forget() of a one-server transport: the server is the only
 * node (-1), and its one connection is st->ctx. */
int store_one_node(store_t *st, int *nodes);
void store_forget_one(store_t *st, redisContext *c);

#endif
