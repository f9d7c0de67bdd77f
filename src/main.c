/*
 * main.c - start-up, worker threads and shutdown.
 *
 * spawn-fcgi hands us the listening socket as fd 0. WORKERS threads each
 * own one FastCGI request and one Redis connection, and take turns in
 * accept(); one more thread, the sweeper (sweeper.c), reports the holds
 * that ran out. SIGTERM or SIGINT: refuse new connections, serve the ones
 * already queued on the socket and every request in flight, exit 0.
 */
#include <errno.h>
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "log.h"
#include "router.h"
#include "sweeper.h"
#include "worker.h"

#define LISTEN_FD 0

static pthread_mutex_t accept_lock = PTHREAD_MUTEX_INITIALIZER;

static long elapsed_us(const struct timespec *start)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - start->tv_sec) * 1000000L
           + (now.tv_nsec - start->tv_nsec) / 1000;
}

/* Reads, answers, logs and counts one request. */
static void serve(worker_t *w, FCGX_Request *fcgi)
{
    struct timespec start;
    http_request_t req;
    http_response_t res = { 0 };
    route_match_t match = { ROUTE_NOT_FOUND, NULL, NULL, "not_found" };

    clock_gettime(CLOCK_MONOTONIC, &start);
    if (!http_read_request(fcgi, &req)) {
        http_error(&res, 500, "internal_error", "Out of memory");
    } else {
        router_handle(w, &req, &res, &match);
    }
    http_send(fcgi, &res);

    long us = elapsed_us(&start);
    metrics_observe(w->metrics, match.route, res.status, us);
    /* Method and path are bounded by nginx; no body, token, customer
     * field or id is ever logged: a lockId or appointment id in the path
     * is written as {id}. */
    int path_len = req.path ? (int) strlen(req.path) : 1;
    if (match.param != NULL && req.path != NULL) {
        path_len = (int) (match.param - req.path);
    }
    log_info("%s %s %.*s%s %s %d %ld.%03ldms%s%s", req.request_id,
             req.method ? req.method : "-",
             path_len > 200 ? 200 : path_len, req.path ? req.path : "-",
             match.param != NULL ? "{id}" : "", match.name, res.status,
             us / 1000, us % 1000, res.reason ? " " : "",
             res.reason ? res.reason : "");
    http_request_free(&req);
    http_response_free(&res);
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    FCGX_Request fcgi;

    if (FCGX_InitRequest(&fcgi, LISTEN_FD, 0) != 0) {
        log_error("worker %d: cannot set up a FastCGI request", w->id);
        return NULL;
    }
    /*
     * After the stop signal accept() still hands out the connections that
     * were queued, then fails: that ends the loop.
     */
    for (;;) {
        pthread_mutex_lock(&accept_lock);
        int rc = FCGX_Accept_r(&fcgi);
        pthread_mutex_unlock(&accept_lock);
        if (rc < 0) {
            break;
        }
        serve(w, &fcgi);
        FCGX_Finish_r(&fcgi);
    }
    FCGX_Free(&fcgi, 1);
    db_close(&w->db);
    return NULL;
}

static const char *lookup_env(const char *name)
{
    return getenv(name);
}

int main(void)
{
    config_t cfg;
    char err[512];
    metrics_t metrics;
    sigset_t signals;

    if (!config_load(&cfg, lookup_env, err, sizeof(err))
        || !config_load_files(&cfg, err, sizeof(err)))
    {
        fprintf(stderr, "slotlock: configuration: %s\n", err);
        return 2;
    }
    if (FCGX_Init() != 0 || FCGX_IsCGI()) {
        fprintf(stderr, "slotlock: not started as a FastCGI application "
                "(run it under spawn-fcgi, listening socket on fd 0)\n");
        return 2;
    }
    metrics_init(&metrics, time(NULL));

    /* Workers never see SIGTERM/SIGINT: main waits for them with sigwait. */
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    worker_t *workers = calloc((size_t) cfg.workers, sizeof(*workers));
    pthread_t *threads = calloc((size_t) cfg.workers, sizeof(*threads));
    if (workers == NULL || threads == NULL) {
        fprintf(stderr, "slotlock: out of memory\n");
        return 1;
    }
    int started = 0;
    for (int i = 0; i < cfg.workers; i++) {
        workers[i].id = i;
        workers[i].cfg = &cfg;
        workers[i].metrics = &metrics;
        if (!db_init(&workers[i].db, &cfg, i)) {
            log_error("cannot start worker %d: out of memory", i);
            break;
        }
        if (pthread_create(&threads[i], NULL, worker_main, &workers[i])
            != 0)
        {
            log_error("cannot start worker %d: %s", i, strerror(errno));
            break;
        }
        started++;
    }
    if (started == 0) {
        return 1;
    }
    /* Its data-layer handle is named after the last worker's. */
    if (!sweeper_start(&cfg, cfg.workers)) {
        log_error("the sweeper did not start: hold.expired events wait "
                  "for the next acquire or metrics call");
    }
    if (cfg.redis_sentinels[0] != '\0') {
        log_info("slotlock started: %d workers, primary \"%s\" from "
                 "sentinels %s, bookings wait for %d replicas", started,
                 cfg.redis_master_name, cfg.redis_sentinels,
                 cfg.booking_min_replicas);
    } else if (cfg.redis_cluster_nodes[0] != '\0') {
        log_info("slotlock started: %d workers, Redis Cluster seeds %s, "
                 "bookings wait for %d replicas", started,
                 cfg.redis_cluster_nodes, cfg.booking_min_replicas);
    } else {
        log_info("slotlock started: %d workers, redis %s:%d", started,
                 cfg.redis_host, cfg.redis_port);
    }

    int sig = 0;
    sigwait(&signals, &sig);
    log_info("signal %d: finishing requests in flight", sig);
    /*
     * On the Unix socket this refuses new connections at once (nginx then
     * tries the next instance, if any, or answers 502) but keeps the ones
     * queued: nginx has already sent their requests, so they are served.
     * accept() then fails once the queue is empty, which also wakes the
     * worker blocked in it. Requests being served go on.
     */
    shutdown(LISTEN_FD, SHUT_RDWR);
    for (int i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
    }
    sweeper_stop();
    free(threads);
    free(workers);
    log_info("slotlock stopped");
    return 0;
}
