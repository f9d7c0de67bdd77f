/*
 * config.h - the service's configuration, read from the environment.
 *
 * Every value is checked at start-up; a bad one stops the program with a
 * message naming the variable, never a silent default.
 */
#ifndef SLOTLOCK_CONFIG_H
#define SLOTLOCK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_STR_MAX 512

typedef struct config_s {
    char redis_host[CONFIG_STR_MAX];
    int redis_port;
    char redis_password[CONFIG_STR_MAX];
    int redis_db;
    long redis_connect_timeout_ms;
    long redis_command_timeout_ms;
    int redis_max_retry;

    int workers;

    char redis_sentinels[CONFIG_STR_MAX];
    char redis_master_name[CONFIG_STR_MAX];
    char redis_sentinel_password[CONFIG_STR_MAX];
    char redis_cluster_nodes[CONFIG_STR_MAX];
    int booking_min_replicas;

    long lock_ttl_ms;
    long lock_refresh_interval_ms;
    long lock_max_hold_ms;
    int lock_max_per_holder;
    int lock_max_per_address;           /* 0: no cap per address */
    long payment_hold_ms;               /* a hold's life from checkout */

    char admin_token[CONFIG_STR_MAX];   /* "" when admin routes are off */
} config_t;

/* Looks a variable up; NULL when it is not set. getenv fits. */
typedef const char *(*config_lookup_fn)(const char *name);

/*
 * Fills cfg from the variables lookup finds, defaults for the unset ones.
 * On a bad value returns false with a message naming the variable in err.
 */
bool config_load(config_t *cfg, config_lookup_fn lookup, char *err,
                 size_t err_len);

/*
 * Walks a host:port list that config_load has checked: copies the item at p
 * into host and *port and returns where the next one starts, or NULL at the
 * end of the list.
 */
const char *config_next_host_port(const char *p, char *host, size_t host_len,
                                  int *port);

#endif
