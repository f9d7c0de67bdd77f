/*
 * Fuzz target: the configuration, read from variables as config_load reads
 * the environment at start-up.
 *
 * Input: KEY=VALUE entries separated by NUL or newline bytes, as in
 * /proc/<pid>/environ or a .env file; the first entry for a name wins, as
 * with getenv. corpus/config/ holds a few such files.
 */
#include "fuzz.h"

#include <stdbool.h>

#include "config.h"

#define ENTRIES_MAX 64

static const char *const variables[] = {
    "REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "REDIS_DB",
    "REDIS_CONNECT_TIMEOUT", "REDIS_COMMAND_TIMEOUT",
    "REDIS_MAX_RETRY_PER_REQUEST", "WORKERS", "REDIS_SENTINELS",
    "REDIS_MASTER_NAME", "REDIS_SENTINEL_PASSWORD", "REDIS_CLUSTER_NODES",
    "BOOKING_MIN_REPLICAS", "LOCK_TTL", "LOCK_REFRESH_INTERVAL",
    "LOCK_MAX_HOLD", "LOCK_MAX_PER_HOLDER", "ADMIN_TOKEN",
    "LOCK_MAX_PER_ADDRESS", "PAYMENT_HOLD", "CORS_ALLOWED_ORIGINS",
    "JWT_SECRET", "JWT_PUBLIC_KEY_FILE", "JWT_ISSUER", "JWT_AUDIENCE",
    "JWT_TENANT_CLAIM", "JWT_ROLE_CLAIM", "EVENTS_MAXLEN",
    "EVENTS_RETENTION", "SWEEP_INTERVAL", "WEBHOOK_URL", "WEBHOOK_SECRET",
    "WEBHOOK_TIMEOUT", "WEBHOOK_RETRY_FOR", "WEBHOOK_RETRY_MAX",
    "GRID_PUBLISH_URL",
};

/* The current input's entries; config_lookup_fn takes no context. */
static char *entries[ENTRIES_MAX];
static size_t entry_count;

static const char *lookup(const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; i < entry_count; i++) {
        if (strncmp(entries[i], name, n) == 0 && entries[i][n] == '=') {
            return entries[i] + n + 1;
        }
    }
    return NULL;
}

/* A string setting holds what was set, or its default when unset. */
static void check_string(const char *name, const char *value,
                         const char *def)
{
    const char *set = lookup(name);

    FUZZ_CHECK(strlen(value) < CONFIG_STR_MAX);
    FUZZ_CHECK(strcmp(value, set != NULL && set[0] != '\0' ? set : def)
               == 0);
}

static void check_config(const config_t *cfg)
{
    check_string("REDIS_HOST", cfg->redis_host, "localhost");
    check_string("REDIS_PASSWORD", cfg->redis_password, "");
    check_string("REDIS_MASTER_NAME", cfg->redis_master_name, "slotlock");
    check_string("REDIS_SENTINEL_PASSWORD", cfg->redis_sentinel_password, "");
    check_string("ADMIN_TOKEN", cfg->admin_token, "");
    FUZZ_CHECK(cfg->redis_port >= 1 && cfg->redis_port <= 65535);
    FUZZ_CHECK(cfg->redis_db >= 0);
    FUZZ_CHECK(cfg->redis_connect_timeout_ms >= 1);
    FUZZ_CHECK(cfg->redis_command_timeout_ms >= 1);
    FUZZ_CHECK(cfg->redis_max_retry >= 0 && cfg->redis_max_retry <= 100);
    FUZZ_CHECK(cfg->workers >= 1 && cfg->workers <= 1024);
    FUZZ_CHECK(cfg->lock_ttl_ms >= 1000);
    FUZZ_CHECK(cfg->lock_ttl_ms <= cfg->lock_max_hold_ms);
    FUZZ_CHECK(cfg->lock_refresh_interval_ms >= 100);
    FUZZ_CHECK(cfg->lock_max_per_holder >= 1);
    FUZZ_CHECK(cfg->lock_max_per_address >= 0);
    FUZZ_CHECK(cfg->payment_hold_ms >= 1000);
    FUZZ_CHECK(cfg->sweep_interval_ms == 0
               || (cfg->sweep_interval_ms >= 50
                   && cfg->sweep_interval_ms <= 1000));
    FUZZ_CHECK(cfg->booking_min_replicas >= 0
               && cfg->booking_min_replicas <= 100);
    /* One way to reach Redis; a cluster has only database 0. */
    FUZZ_CHECK(cfg->redis_cluster_nodes[0] == '\0'
               || (cfg->redis_sentinels[0] == '\0' && cfg->redis_db == 0));
    /* Every item of an accepted list walks to a host and a real port. */
    const char *lists[] = { cfg->redis_cluster_nodes, cfg->redis_sentinels };
    for (int i = 0; i < 2; i++) {
        char host[CONFIG_STR_MAX];
        int port;

        for (const char *p = lists[i];
             (p = config_next_host_port(p, host, sizeof(host), &port))
             != NULL;)
        {
            FUZZ_CHECK(host[0] != '\0' && port >= 1 && port <= 65535);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);

    FUZZ_CHECK(copy != NULL);
    memcpy(copy, data, size);
    copy[size] = '\0';

    /* Split at NUL and newline bytes. */
    entry_count = 0;
    char *start = copy;
    for (size_t i = 0; i <= size && entry_count < ENTRIES_MAX; i++) {
        if (copy[i] == '\0' || copy[i] == '\n') {
            copy[i] = '\0';
            if (copy + i > start) {
                entries[entry_count++] = start;
            }
            start = copy + i + 1;
        }
    }

    config_t cfg;
    char err[512];
    memset(err, 0, sizeof(err));
    if (config_load(&cfg, lookup, err, sizeof(err))) {
        check_config(&cfg);
    } else {
        /* The message names the variable that is wrong. */
        bool named = false;

        FUZZ_CHECK(err[0] != '\0');
        FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
        for (size_t i = 0; i < sizeof(variables) / sizeof(variables[0]); i++) {
            named |= strstr(err, variables[i]) == err;
        }
        FUZZ_CHECK(named);
    }
    free(copy);
    return 0;
}
