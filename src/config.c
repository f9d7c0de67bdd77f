/*
 * config.c - the service's configuration. See config.h.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cors.h"

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

static bool read_str_max(config_lookup_fn lookup, const char *name,
                         const char *def, char *out, size_t max, char *err,
                         size_t err_len)
{
    const char *v = lookup_value(lookup, name);

    if (v == NULL) {
        v = def;
    }
    if (strlen(v) >= max) {
        snprintf(err, err_len, "%s is longer than %zu characters", name,
                 max - 1);
        return false;
    }
    strcpy(out, v);
    return true;
}

static bool read_str(config_lookup_fn lookup, const char *name,
                     const char *def, char *out, char *err, size_t err_len)
{
    return read_str_max(lookup, name, def, out, CONFIG_STR_MAX, err,
                        err_len);
}

/*
 * One origin as a browser sends it: scheme "http" or "https", "://", a
 * host of letters, digits, '-' and '.', an optional ":port"; no path, no
 * trailing slash, no wildcard.
 */
static bool valid_origin(const char *p, size_t len)
{
    size_t i;

    if (len > 8 && strncmp(p, "https://", 8) == 0) {
        i = 8;
    } else if (len > 7 && strncmp(p, "http://", 7) == 0) {
        i = 7;
    } else {
        return false;
    }
    size_t host = i;
    while (i < len && (isalnum((unsigned char) p[i]) || p[i] == '-'
                       || p[i] == '.')) {
        i++;
    }
    if (i == host) {
        return false;
    }
    if (i < len && p[i] == ':') {
        size_t port = ++i;
        while (i < len && isdigit((unsigned char) p[i])) {
            i++;
        }
        if (i == port || i - port > 5) {
            return false;
        }
    }
    return i == len;
}

/* A comma-separated list of origins (spaces around items allowed). */
static bool valid_origin_list(const char *list)
{
    const char *item;
    size_t len;

    for (const char *p = list; (p = cors_next_item(p, &item, &len)) != NULL;)
    {
        if (!valid_origin(item, len)) {
            return false;
        }
    }
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

/* The Redis settings: where it is, how to reach it, how long to wait;
 * and the workers. */
static bool read_redis(config_t *cfg, config_lookup_fn lookup, char *err,
                        size_t err_len)
{
    /*
     * WORKERS 32: measured with script/bench (docs/performance.md, "Worker
     * model and Redis batching"). A worker spends most of a request
     * waiting on Redis, and with fsync on every write Redis commits all
     * the writes of one event-loop turn with one fsync: 32 workers keep
     * more commands in each turn than 16 (a quarter less Redis CPU per
     * acquire), while 64 cost the app more CPU per request.
     */
    return read_str(lookup, "REDIS_HOST", "localhost", cfg->redis_host, err,
                    err_len)
           && read_int(lookup, "REDIS_PORT", 6379, 1, 65535, &cfg->redis_port,
                       err, err_len)
           && read_str(lookup, "REDIS_PASSWORD", "", cfg->redis_password, err,
                       err_len)
           && read_int(lookup, "REDIS_DB", 0, 0, 1000000, &cfg->redis_db, err,
                       err_len)
           && read_long(lookup, "REDIS_CONNECT_TIMEOUT", 10000, 1, 600000,
                        &cfg->redis_connect_timeout_ms, err, err_len)
           && read_long(lookup, "REDIS_COMMAND_TIMEOUT", 2000, 1, 600000,
                        &cfg->redis_command_timeout_ms, err, err_len)
           && read_int(lookup, "REDIS_MAX_RETRY_PER_REQUEST", 3, 0, 100,
                       &cfg->redis_max_retry, err, err_len)
           && read_int(lookup, "WORKERS", 32, 1, 1024, &cfg->workers, err,
                       err_len)
           && read_str(lookup, "REDIS_SENTINELS", "", cfg->redis_sentinels,
                       err, err_len)
           && read_str(lookup, "REDIS_MASTER_NAME", "slotlock",
                       cfg->redis_master_name, err, err_len)
           && read_str(lookup, "REDIS_SENTINEL_PASSWORD", "",
                       cfg->redis_sentinel_password, err, err_len)
           && read_str(lookup, "REDIS_CLUSTER_NODES", "",
                       cfg->redis_cluster_nodes, err, err_len)
           && read_int(lookup, "BOOKING_MIN_REPLICAS", 0, 0, 100,
                       &cfg->booking_min_replicas, err, err_len);
}

/* The lock settings: lives, caps, the payment phase. */
static bool read_locks(config_t *cfg, config_lookup_fn lookup, char *err,
                       size_t err_len)
{
    return read_long(lookup, "LOCK_TTL", 120000, 1000, 86400000,
                     &cfg->lock_ttl_ms, err, err_len)
           && read_long(lookup, "LOCK_REFRESH_INTERVAL", 30000, 100, 86400000,
                        &cfg->lock_refresh_interval_ms, err, err_len)
           && read_long(lookup, "LOCK_MAX_HOLD", 600000, 1000, 86400000,
                        &cfg->lock_max_hold_ms, err, err_len)
           && read_int(lookup, "LOCK_MAX_PER_HOLDER", 5, 1, 100000,
                       &cfg->lock_max_per_holder, err, err_len)
           && read_int(lookup, "LOCK_MAX_PER_ADDRESS", 20, 0, 100000,
                       &cfg->lock_max_per_address, err, err_len)
           && read_long(lookup, "PAYMENT_HOLD", 600000, 1000, 86400000,
                        &cfg->payment_hold_ms, err, err_len);
}

/* The event streams and the sweeper of expired holds. */
static bool read_events(config_t *cfg, config_lookup_fn lookup, char *err,
                        size_t err_len)
{
    /* SWEEP_INTERVAL at most 1000: a hold's expiry is reported within
     * 2 s of its end; 0 runs no sweeper in this process (another
     * instance's must run). */
    return read_long(lookup, "EVENTS_MAXLEN", 100000, 0, 1000000000,
                     &cfg->events_maxlen, err, err_len)
           && read_long(lookup, "EVENTS_RETENTION", 0, 0, 31622400000L,
                        &cfg->events_retention_ms, err, err_len)
           && read_long(lookup, "SWEEP_INTERVAL", 500, 0, 1000,
                        &cfg->sweep_interval_ms, err, err_len);
}

/* Who may do what: the operator's token, CORS, tenant tokens. */
static bool read_access(config_t *cfg, config_lookup_fn lookup, char *err,
                        size_t err_len)
{
    return read_str(lookup, "ADMIN_TOKEN", "", cfg->admin_token, err,
                    err_len)
           && read_str_max(lookup, "CORS_ALLOWED_ORIGINS", "",
                           cfg->cors_allowed_origins, CONFIG_CORS_MAX, err,
                           err_len)
           && read_str(lookup, "JWT_SECRET", "", cfg->jwt_secret, err,
                       err_len)
           && read_str(lookup, "JWT_PUBLIC_KEY_FILE", "",
                       cfg->jwt_public_key_file, err, err_len)
           && read_str(lookup, "JWT_ISSUER", "", cfg->jwt_issuer, err,
                       err_len)
           && read_str(lookup, "JWT_AUDIENCE", "", cfg->jwt_audience, err,
                       err_len)
           && read_str(lookup, "JWT_TENANT_CLAIM", "tenantId",
                       cfg->jwt_tenant_claim, err, err_len)
           && read_str(lookup, "JWT_ROLE_CLAIM", "role", cfg->jwt_role_claim,
                       err, err_len);
}

static bool read_webhooks(config_t *cfg, config_lookup_fn lookup, char *err,
                          size_t err_len)
{
    return read_str(lookup, "WEBHOOK_URL", "", cfg->webhook_url, err,
                    err_len)
           && read_str(lookup, "WEBHOOK_SECRET", "", cfg->webhook_secret,
                       err, err_len)
           && read_long(lookup, "WEBHOOK_RETRY_FOR", 86400, 1, 2592000,
                        &cfg->webhook_retry_for_s, err, err_len)
           && read_long(lookup, "WEBHOOK_TIMEOUT", 10000, 100, 600000,
                        &cfg->webhook_timeout_ms, err, err_len)
           && read_long(lookup, "WEBHOOK_RETRY_MAX", 3600, 1, 86400,
                        &cfg->webhook_retry_max_s, err, err_len);
}

static bool read_grid(config_t *cfg, config_lookup_fn lookup, char *err,
                      size_t err_len)
{
    if (!read_str(lookup, "GRID_PUBLISH_URL",
                  "http://127.0.0.1:4001/_slotlock/grid/publish",
                  cfg->grid_publish_url, err, err_len))
    {
        return false;
    }
    const char *url = cfg->grid_publish_url;

    if (url[0] != '\0' && strncmp(url, "http://", 7) != 0
        && strncmp(url, "unix:/", 6) != 0)
    {
        snprintf(err, err_len, "GRID_PUBLISH_URL must be http://... or "
                 "unix:/path (nginx's publisher on this machine) or empty");
        return false;
    }
    return true;
}

/* The webhook settings that take more than one variable. */
static bool check_webhooks(const config_t *cfg, char *err, size_t err_len)
{
    const char *url = cfg->webhook_url;

    if (url[0] != '\0' && strncmp(url, "http://", 7) != 0
        && strncmp(url, "https://", 8) != 0)
    {
        snprintf(err, err_len, "WEBHOOK_URL must start with http:// or "
                 "https://");
        return false;
    }
    if (url[0] != '\0' && strlen(cfg->webhook_secret) < 16) {
        snprintf(err, err_len, "WEBHOOK_SECRET must be at least 16 "
                 "characters when WEBHOOK_URL is set");
        return false;
    }
    return true;
}

/* The checks that take more than one variable, or a list's shape. */
static bool check_settings(const config_t *cfg, char *err, size_t err_len)
{
    if (cfg->lock_ttl_ms > cfg->lock_max_hold_ms) {
        snprintf(err, err_len, "LOCK_TTL (%ld) must not be larger than "
                 "LOCK_MAX_HOLD (%ld)", cfg->lock_ttl_ms,
                 cfg->lock_max_hold_ms);
        return false;
    }
    if (cfg->sweep_interval_ms > 0 && cfg->sweep_interval_ms < 50) {
        snprintf(err, err_len, "SWEEP_INTERVAL must be 0 (no sweeper) or "
                 "50 to 1000");
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
    if (!valid_origin_list(cfg->cors_allowed_origins)) {
        snprintf(err, err_len, "CORS_ALLOWED_ORIGINS must be a "
                 "comma-separated list of exact origins such as "
                 "https://shop.example or http://localhost:3000 (no path, "
                 "no *)");
        return false;
    }
    if (cfg->jwt_secret[0] != '\0' && strlen(cfg->jwt_secret) < 32) {
        snprintf(err, err_len, "JWT_SECRET must be at least 32 characters "
                 "(HS256 needs a key as long as its hash)");
        return false;
    }
    if (cfg->jwt_tenant_claim[0] == '\0' || cfg->jwt_role_claim[0] == '\0') {
        snprintf(err, err_len, "JWT_TENANT_CLAIM and JWT_ROLE_CLAIM must "
                 "not be empty");
        return false;
    }
    if (cfg->redis_cluster_nodes[0] != '\0' && cfg->redis_db != 0) {
        snprintf(err, err_len, "REDIS_DB: Redis Cluster has only database 0");
        return false;
    }
    return true;
}

bool config_load(config_t *cfg, config_lookup_fn lookup, char *err,
                 size_t err_len)
{
    memset(cfg, 0, sizeof(*cfg));
    return read_redis(cfg, lookup, err, err_len)
           && read_locks(cfg, lookup, err, err_len)
           && read_events(cfg, lookup, err, err_len)
           && read_access(cfg, lookup, err, err_len)
           && read_webhooks(cfg, lookup, err, err_len)
           && read_grid(cfg, lookup, err, err_len)
           && check_settings(cfg, err, err_len)
           && check_webhooks(cfg, err, err_len);
}

bool config_jwt_enabled(const config_t *cfg)
{
    return cfg->jwt_secret[0] != '\0' || cfg->jwt_public_key[0] != '\0';
}

bool config_load_files(config_t *cfg, char *err, size_t err_len)
{
    const char *path = cfg->jwt_public_key_file;

    cfg->jwt_public_key[0] = '\0';
    if (path[0] == '\0') {
        return true;
    }
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, err_len, "JWT_PUBLIC_KEY_FILE: cannot open %s: %s",
                 path, strerror(errno));
        return false;
    }
    size_t n = fread(cfg->jwt_public_key, 1, sizeof(cfg->jwt_public_key),
                     f);
    bool too_big = n == sizeof(cfg->jwt_public_key);
    fclose(f);
    if (too_big) {
        cfg->jwt_public_key[0] = '\0';
        snprintf(err, err_len, "JWT_PUBLIC_KEY_FILE: %s is larger than %d "
                 "bytes", path, CONFIG_PEM_MAX - 1);
        return false;
    }
    cfg->jwt_public_key[n] = '\0';
    if (strstr(cfg->jwt_public_key, "-----BEGIN PUBLIC KEY-----") == NULL) {
        cfg->jwt_public_key[0] = '\0';
        snprintf(err, err_len, "JWT_PUBLIC_KEY_FILE: %s holds no PEM public "
                 "key (-----BEGIN PUBLIC KEY-----)", path);
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
