/*
 * slotlock-events.c - the webhook dispatcher: start-up and signals.
 *
 * Reads the same settings as slotlock (Redis: one server, Sentinel or
 * Cluster; WEBHOOK_*), then delivers every resource's events to the
 * endpoints until SIGTERM or SIGINT, and exits 0. The delivery loop is
 * dispatch.c.
 */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dispatch.h"
#include "log.h"
#include "publish.h"

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void) sig;
    stop_requested = 1;
}

static const char *lookup_env(const char *name)
{
    return getenv(name);
}

int main(void)
{
    static config_t cfg;
    char err[512];
    struct sigaction sa;

    if (!config_load(&cfg, lookup_env, err, sizeof(err))) {
        fprintf(stderr, "slotlock-events: configuration: %s\n", err);
        return 2;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        fprintf(stderr, "slotlock-events: libcurl failed to start\n");
        return 1;
    }
    log_info("slotlock-events started: deployment endpoint %s, retries "
             "for %ld s", cfg.webhook_url[0] != '\0' ? "set" : "none",
             cfg.webhook_retry_for_s);
    /* The live grid's publisher (publish.c) runs beside the webhooks. */
    publisher_t *grid = publish_start(&cfg, &stop_requested);
    bool ok = dispatch_run(&cfg, &stop_requested);
    stop_requested = 1;
    publish_join(grid);
    curl_global_cleanup();
    if (!ok) {
        log_error("slotlock-events: cannot start (out of memory)");
        return 1;
    }
    log_info("slotlock-events stopped");
    return 0;
}
