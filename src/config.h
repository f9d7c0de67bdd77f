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
#define CONFIG_CORS_MAX 2048
#define CONFIG_PEM_MAX 16384

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

    /* The event streams (docs/events.md): a length cap per resource
     * (MAXLEN ~, 0 for none) and an age cap (MINID ~, 0 for none); how
     * often the sweeper reports the holds that ran out. */
    long events_maxlen;
    long events_retention_ms;
    long sweep_interval_ms;

    char admin_token[CONFIG_STR_MAX];   /* "" when admin routes are off */

    /* Browsers on these origins may call the API: exact origins
     * ("https://shop.example", "http://localhost:3000"), comma-separated;
     * "" sends no CORS header at all. */
    char cors_allowed_origins[CONFIG_CORS_MAX];

    /* Tenant tokens (JWT). HS256 with jwt_secret, RS256 and ES256 with the
     * PEM public key read from jwt_public_key_file (by
     * config_load_files); either, both, or neither (tenant tokens off). */
    char jwt_secret[CONFIG_STR_MAX];
    char jwt_public_key_file[CONFIG_STR_MAX];
    char jwt_public_key[CONFIG_PEM_MAX];    /* the file's PEM text */
    char jwt_issuer[CONFIG_STR_MAX];        /* "" when iss is not checked */
    char jwt_audience[CONFIG_STR_MAX];      /* "" when aud is not checked */
    char jwt_tenant_claim[CONFIG_STR_MAX];  /* default "tenantId" */
    char jwt_role_claim[CONFIG_STR_MAX];    /* default "role" */

    /* Webhooks (slotlock-events): the deployment's own endpoint, which
     * gets every tenant's events ("" for none), its HMAC secret, how long
     * a failing delivery is retried before it is dead-lettered, and the
     * time one POST may take. */
    char webhook_url[CONFIG_STR_MAX];
    char webhook_secret[CONFIG_STR_MAX];
    long webhook_retry_for_s;
    long webhook_timeout_ms;
    long webhook_retry_max_s;           /* the longest wait between tries */

    /* The live slot grid (slotlock-events' publisher, publish.c): nginx's
     * internal nchan publisher location every change is POSTed to, an
     * http:// URL or unix:/path of nginx's socket ("" for no grid). */
    char grid_publish_url[CONFIG_STR_MAX];
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
 * Reads the files the configuration names (JWT_PUBLIC_KEY_FILE) into cfg.
 * The only part of the configuration that does I/O; run once at start-up
 * after config_load. False with a message in err when a file cannot be
 * read or does not hold a PEM key.
 */
bool config_load_files(config_t *cfg, char *err, size_t err_len);

/* True when cfg enables tenant tokens (JWT_SECRET or JWT_PUBLIC_KEY_FILE). */
bool config_jwt_enabled(const config_t *cfg);

/*
 * Walks a host:port list that config_load has checked: copies the item at p
 * into host and *port and returns where the next one starts, or NULL at the
 * end of the list.
 */
const char *config_next_host_port(const char *p, char *host, size_t host_len,
                                  int *port);

#endif
