/*
 * config.c - the service's configuration. See config.h.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A blank value counts as unset, as in a .env line "REDIS_PASSWORD=". */
static const char *lookup_value(config_lookup_fn lookup, const char *name)
{
    const char *v = lookup(name);

    return (v != NULL && v[0] != '\0') ? v : NULL;
}

/*
 * Reads name as a whole decimal number in [min, max] into *out, or def when
 * it is unset. False with a message in err when it is set but bad.
 */
static bool read_long(config_lookup_fn lookup, const char *name, long def,
                      long min, long max, long *out, char *err,
                      size_t err_len)
{
    const char *v = lookup_value(lookup, name);
    char *end;

    if (v == NULL) {
        *out = def;
        return true;
    }
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < min || n > max) {
        snprintf(err, err_len, "%s must be a whole number from %ld to %ld, "
                 "not \"%s\"", name, min, max, v);
        return false;
    }
    *out = n;
    return true;
}

static bool read_int(config_lookup_fn lookup, const char *name, int def,
                     int min, int max, int *out, char *err, size_t err_len)
{
    long n;

    if (!read_long(lookup, name, def, min, max, &n, err, err_len)) {
        return false;
    }
    *out = (int) n;
    return true;
}

static bool read_str(config_lookup_fn lookup, const char *name,
                     const char *def, char *out, char *err, size_t err_len)
{
    const char *v = lookup_value(lookup, name);

    if (v == NULL) {
        v = def;
    }
    if (strlen(v) >= CONFIG_STR_MAX) {
        snprintf(err, err_len, "%s is longer than %d characters", name,
                 CONFIG_STR_MAX - 1);
        return false;
    }
    strcpy(out, v);
    return true;
}

/* True when list is empty or a comma-separated list of host:port. */
static bool valid_host_port_list(const char *list)
{
    const char *p = list;

    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t) (comma - p) : strlen(p);
        const char *colon = memchr(p, ':', len);

        if (colon == NULL || colon == p) {
            return false;
        }
        char *end;
        long port = strtol(colon + 1, &end, 10);
        if (end != p + len || end == colon + 1 || port < 1 || port > 65535) {
            return false;
        }
        p += len + (comma ? 1 : 0);
        if (comma && *p == '\0') {
            return false;
        }
    }
    return true;
}

bool config_load(config_t *cfg, config_lookup_fn lookup, char *err,
                 size_t err_len)
{
    memset(cfg, 0, sizeof(*cfg));

    /*
     * WORKERS 16: measured with script/bench --tune (README, Performance).
     * A worker spends most of a request waiting on Redis, so more of them
     * than cores keep Redis busy; 32 measured alike, 64 and 4 slower.
     */
    if (!read_str(lookup, "REDIS_HOST", "localhost", cfg->redis_host, err,
                  err_len)
        || !read_int(lookup, "REDIS_PORT", 6379, 1, 65535, &cfg->redis_port,
                     err, err_len)
        || !read_str(lookup, "REDIS_PASSWORD", "", cfg->redis_password, err,
                     err_len)
        || !read_int(lookup, "REDIS_DB", 0, 0, 1000000, &cfg->redis_db, err,
                     err_len)
        || !read_long(lookup, "REDIS_CONNECT_TIMEOUT", 10000, 1, 600000,
                      &cfg->redis_connect_timeout_ms, err, err_len)
        || !read_long(lookup, "REDIS_COMMAND_TIMEOUT", 2000, 1, 600000,
                      &cfg->redis_command_timeout_ms, err, err_len)
        || !read_int(lookup, "REDIS_MAX_RETRY_PER_REQUEST", 3, 0, 100,
                     &cfg->redis_max_retry, err, err_len)
        || !read_int(lookup, "WORKERS", 16, 1, 1024, &cfg->workers, err,
                     err_len)
        || !read_str(lookup, "REDIS_SENTINELS", "", cfg->redis_sentinels,
                     err, err_len)
        || !read_str(lookup, "REDIS_MASTER_NAME", "slotlock",
                     cfg->redis_master_name, err, err_len)
        || !read_str(lookup, "REDIS_SENTINEL_PASSWORD", "",
                     cfg->redis_sentinel_password, err, err_len)
        || !read_str(lookup, "REDIS_CLUSTER_NODES", "",
                     cfg->redis_cluster_nodes, err, err_len)
        || !read_int(lookup, "BOOKING_MIN_REPLICAS", 0, 0, 100,
                     &cfg->booking_min_replicas, err, err_len)
        || !read_long(lookup, "LOCK_TTL", 120000, 1000, 86400000,
                      &cfg->lock_ttl_ms, err, err_len)
        || !read_long(lookup, "LOCK_REFRESH_INTERVAL", 30000, 100, 86400000,
                      &cfg->lock_refresh_interval_ms, err, err_len)
        || !read_long(lookup, "LOCK_MAX_HOLD", 600000, 1000, 86400000,
                      &cfg->lock_max_hold_ms, err, err_len)
        || !read_int(lookup, "LOCK_MAX_PER_HOLDER", 5, 1, 100000,
                     &cfg->lock_max_per_holder, err, err_len)
        || !read_int(lookup, "LOCK_MAX_PER_ADDRESS", 20, 0, 100000,
                     &cfg->lock_max_per_address, err, err_len)
        || !read_long(lookup, "PAYMENT_HOLD", 600000, 1000, 86400000,
                      &cfg->payment_hold_ms, err, err_len)
        || !read_str(lookup, "ADMIN_TOKEN", "", cfg->admin_token, err,
                     err_len))
    {
        return false;
    }

    if (cfg->lock_ttl_ms > cfg->lock_max_hold_ms) {
        snprintf(err, err_len, "LOCK_TTL (%ld) must not be larger than "
                 "LOCK_MAX_HOLD (%ld)", cfg->lock_ttl_ms,
                 cfg->lock_max_hold_ms);
        return false;
    }
    if (!valid_host_port_list(cfg->redis_sentinels)) {
        snprintf(err, err_len, "REDIS_SENTINELS must be a comma-separated "
                 "list of host:port");
        return false;
    }
    if (!valid_host_port_list(cfg->redis_cluster_nodes)) {
        snprintf(err, err_len, "REDIS_CLUSTER_NODES must be a "
                 "comma-separated list of host:port");
        return false;
    }
    if (cfg->redis_cluster_nodes[0] != '\0'
        && cfg->redis_sentinels[0] != '\0')
    {
        snprintf(err, err_len, "REDIS_CLUSTER_NODES and REDIS_SENTINELS: "
                 "set one of them, not both");
        return false;
    }
    if (cfg->redis_cluster_nodes[0] != '\0' && cfg->redis_db != 0) {
        snprintf(err, err_len, "REDIS_DB: Redis Cluster has only database 0");
        return false;
    }
    return true;
}

const char *config_next_host_port(const char *p, char *host, size_t host_len,
                                  int *port)
{
    if (*p == '\0') {
        return NULL;
    }
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t) (comma - p) : strlen(p);
    const char *colon = memchr(p, ':', len);

    snprintf(host, host_len, "%.*s", (int) (colon - p), p);
    *port = atoi(colon + 1);
    return p + len + (comma ? 1 : 0);
}
