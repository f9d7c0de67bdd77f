/*
 * sweeper.c - the background thread that reports holds that ran out.
 * See sweeper.h.
 */
#include "sweeper.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "log.h"

static pthread_t thread;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static bool running, stopping;
static db_t db;

/* The monotonic time interval_ms from now. */
static struct timespec after_ms(long interval_ms)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += interval_ms / 1000;
    t.tv_nsec += (interval_ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

static void *sweeper_main(void *arg)
{
    const config_t *cfg = arg;
    bool failing = false;

    pthread_mutex_lock(&lock);
    while (!stopping) {
        struct timespec until = after_ms(cfg->sweep_interval_ms);

        pthread_mutex_unlock(&lock);
        long expired = 0;
        db_status_t st = db_sweep(&db, &expired);
        /* One line when sweeping starts failing and one when it works
         * again, not one per interval while Redis is away. */
        if (st != DB_OK && !failing) {
            log_error("sweeper: %s", db_error(&db));
        } else if (st == DB_OK && failing) {
            log_info("sweeper: working again");
        }
        failing = st != DB_OK;
        pthread_mutex_lock(&lock);
        while (!stopping
               && pthread_cond_timedwait(&wake, &lock, &until) != ETIMEDOUT)
        {
        }
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

bool sweeper_start(const config_t *cfg, int id)
{
    pthread_condattr_t attr;

    if (cfg->sweep_interval_ms == 0) {
        return true;
    }
    if (!db_init(&db, cfg, id)) {
        return false;
    }
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&wake, &attr);
    pthread_condattr_destroy(&attr);
    stopping = false;
    if (pthread_create(&thread, NULL, sweeper_main, (void *) cfg) != 0) {
        log_error("cannot start the sweeper: %s", strerror(errno));
        db_close(&db);
        return false;
    }
    running = true;
    return true;
}

void sweeper_stop(void)
{
    if (!running) {
        return;
    }
    pthread_mutex_lock(&lock);
    stopping = true;
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&lock);
    pthread_join(thread, NULL);
    db_close(&db);
    running = false;
}
