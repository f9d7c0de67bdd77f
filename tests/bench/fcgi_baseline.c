/*
 * fcgi_baseline.c - the floor that script/bench compares slotlock with.
 *
 * The smallest FastCGI program that does what every slotlock request must
 * do at least: take a request from nginx, make one Redis round trip (SET NX
 * PX on a key of its own), answer a short JSON body. It is laid out like
 * slotlock (WORKERS threads, each with its own FastCGI request and Redis
 * connection, accept under a mutex), so that the difference between the
 * two is what slotlock does beyond the round trip: parsing, validation, the
 * Lua script and building the answer.
 *
 * Settings: REDIS_HOST (default 127.0.0.1), REDIS_PORT (6379), WORKERS (32,
 * slotlock's default too, so that both run alike unless told otherwise),
 * KEY_PREFIX (bench_baseline: how every key starts; script/bench --cluster
 * makes it the hash tag {bench_baseline}, so that every key is in one slot,
 * served by the cluster node the program talks to).
 * Run under spawn-fcgi, like slotlock. Not installed; built by
 * `make tests/bench/fcgi_baseline` (and by `make check`, so that it keeps
 * compiling).
 */
#include <fcgiapp.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LISTEN_FD 0

static pthread_mutex_t accept_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *redis_host;
static int redis_port;
static const char *key_prefix;

/* Reads a positive number from the environment, or def when unset. */
static int env_int(const char *name, int def)
{
    const char *v = getenv(name);
    int n = v ? atoi(v) : def;

    return n > 0 ? n : def;
}

static redisContext *connect_redis(void)
{
    struct timeval tv = { 2, 0 };
    redisContext *c = redis_host[0] == '/'
                      ? redisConnectUnixWithTimeout(redis_host, tv)
                      : redisConnectWithTimeout(redis_host, redis_port, tv);

    if (c != NULL && c->err) {
        fprintf(stderr, "fcgi_baseline: redis: %s\n", c->errstr);
        redisFree(c);
        return NULL;
    }
    return c;
}

static void *worker_main(void *arg)
{
    long id = (long) arg;
    unsigned long n = 0;
    redisContext *redis = NULL;
    FCGX_Request fcgi;
    char key[128];

    if (FCGX_InitRequest(&fcgi, LISTEN_FD, 0) != 0) {
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&accept_lock);
        int rc = FCGX_Accept_r(&fcgi);
        pthread_mutex_unlock(&accept_lock);
        if (rc < 0) {
            break;
        }
        if (redis == NULL) {
            redis = connect_redis();
        }

        /* A key no other request uses, as a new lock would be. */
        snprintf(key, sizeof(key), "%s:%d:%ld:%lu", key_prefix,
                 (int) getpid(), id, n++);
        redisReply *r = redis ? redisCommand(redis, "SET %s 1 NX PX 10000",
                                             key) : NULL;
        int ok = r != NULL && r->type == REDIS_REPLY_STATUS;
        if (r == NULL && redis != NULL) {
            redisFree(redis);
            redis = NULL;
        }
        freeReplyObject(r);

        if (ok) {
            FCGX_PutS("Status: 200 OK\r\n"
                      "Content-Type: application/json; charset=utf-8\r\n"
                      "Content-Length: 16\r\n\r\n"
                      "{\"success\":true}", fcgi.out);
        } else {
            FCGX_PutS("Status: 503 Service Unavailable\r\n"
                      "Content-Length: 0\r\n\r\n", fcgi.out);
        }
        FCGX_Finish_r(&fcgi);
    }
    FCGX_Free(&fcgi, 1);
    if (redis != NULL) {
        redisFree(redis);
    }
    return NULL;
}

int main(void)
{
    redis_host = getenv("REDIS_HOST") ? getenv("REDIS_HOST") : "127.0.0.1";
    redis_port = env_int("REDIS_PORT", 6379);
    key_prefix = getenv("KEY_PREFIX") ? getenv("KEY_PREFIX")
                                      : "bench_baseline";
    if (strlen(key_prefix) > 64) {
        fprintf(stderr, "fcgi_baseline: KEY_PREFIX is longer than 64\n");
        return 2;
    }
    int workers = env_int("WORKERS", 32);

    if (FCGX_Init() != 0 || FCGX_IsCGI()) {
        fprintf(stderr, "fcgi_baseline: run it under spawn-fcgi\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    pthread_t *threads = calloc((size_t) workers, sizeof(*threads));
    if (threads == NULL) {
        return 1;
    }
    for (long i = 0; i < workers; i++) {
        if (pthread_create(&threads[i], NULL, worker_main, (void *) i) != 0) {
            fprintf(stderr, "fcgi_baseline: cannot start worker %ld\n", i);
            return 1;
        }
    }
    /* Runs until killed; nothing is kept that a kill would lose. */
    for (long i = 0; i < workers; i++) {
        pthread_join(threads[i], NULL);
    }
    free(threads);
    return 0;
}
