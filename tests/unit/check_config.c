/* Unit tests for config.c: defaults, and bad values named at start-up. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "unit.h"

/* A fake environment: NULL-terminated name, value pairs. */
static const char *const *fake_env;

static const char *fake_lookup(const char *name)
{
    for (size_t i = 0; fake_env[i] != NULL; i += 2) {
        if (strcmp(fake_env[i], name) == 0) {
            return fake_env[i + 1];
        }
    }
    return NULL;
}

static bool load(const char *const *env, config_t *cfg, char *err)
{
    fake_env = env;
    return config_load(cfg, fake_lookup, err, 512);
}

START_TEST(defaults_match_the_documented_table)
{
    static const char *const env[] = { NULL };
    config_t cfg;
    char err[512];

    ck_assert(load(env, &cfg, err));
    ck_assert_str_eq(cfg.redis_host, "localhost");
    ck_assert_int_eq(cfg.redis_port, 6379);
    ck_assert_str_eq(cfg.redis_password, "");
    ck_assert_int_eq(cfg.redis_db, 0);
    ck_assert_int_eq(cfg.redis_connect_timeout_ms, 10000);
    ck_assert_int_eq(cfg.redis_command_timeout_ms, 2000);
    ck_assert_int_eq(cfg.redis_max_retry, 3);
    ck_assert_int_eq(cfg.lock_ttl_ms, 120000);
    ck_assert_int_eq(cfg.lock_refresh_interval_ms, 30000);
    ck_assert_int_eq(cfg.lock_max_hold_ms, 600000);
    ck_assert_int_eq(cfg.lock_max_per_holder, 5);
    ck_assert_str_eq(cfg.admin_token, "");
    ck_assert_str_eq(cfg.redis_master_name, "slotlock");
    ck_assert_int_eq(cfg.booking_min_replicas, 0);
    ck_assert_int_eq(cfg.workers, 32);
    ck_assert_int_eq(cfg.events_maxlen, 100000);
    ck_assert_int_eq(cfg.events_retention_ms, 0);
    ck_assert_int_eq(cfg.sweep_interval_ms, 500);
}
END_TEST

START_TEST(values_from_the_environment_are_used)
{
    static const char *const env[] = {
        "REDIS_HOST", "10.0.0.5", "REDIS_PORT", "6380", "LOCK_TTL", "90000",
        "LOCK_REFRESH_INTERVAL", "20000", "ADMIN_TOKEN", "s3cret",
        "WORKERS", "12", "REDIS_PASSWORD", "", NULL
    };
    config_t cfg;
    char err[512];

    ck_assert(load(env, &cfg, err));
    ck_assert_str_eq(cfg.redis_host, "10.0.0.5");
    ck_assert_int_eq(cfg.redis_port, 6380);
    ck_assert_int_eq(cfg.lock_ttl_ms, 90000);
    ck_assert_int_eq(cfg.lock_refresh_interval_ms, 20000);
    ck_assert_str_eq(cfg.admin_token, "s3cret");
    ck_assert_int_eq(cfg.workers, 12);
    ck_assert_str_eq(cfg.redis_password, "");
}
END_TEST

/* Each bad setting stops start-up with a message naming it. */
START_TEST(bad_values_name_their_variable)
{
    static const char *const cases[][2] = {
        { "REDIS_PORT", "abc" }, { "REDIS_PORT", "0" },
        { "REDIS_PORT", "70000" }, { "REDIS_DB", "-1" },
        { "LOCK_TTL", "12s" }, { "LOCK_TTL", "" "999" },
        { "LOCK_MAX_HOLD", "1e6" }, { "WORKERS", "0" },
        { "LOCK_MAX_PER_HOLDER", "five" },
        { "REDIS_COMMAND_TIMEOUT", "-5" },
        { "REDIS_MAX_RETRY_PER_REQUEST", "3.5" },
        { "REDIS_CONNECT_TIMEOUT", "99999999999999999999" },
        { "REDIS_SENTINELS", "localhost" },
        { "REDIS_SENTINELS", "a:26379," }, { "REDIS_SENTINELS", ":26379" },
        { "BOOKING_MIN_REPLICAS", "-1" },
        { "REDIS_CLUSTER_NODES", "a:1,b" },
        { "BOOKING_MIN_REPLICAS", "x" },
        { "CORS_ALLOWED_ORIGINS", "*" },
        { "CORS_ALLOWED_ORIGINS", "https://shop.example/" },
        { "CORS_ALLOWED_ORIGINS", "shop.example" },
        { "CORS_ALLOWED_ORIGINS", "https://a.example,,https://b.example" },
        { "CORS_ALLOWED_ORIGINS", "https://a.example:99999999" },
        { "JWT_SECRET", "too-short" },
        { "EVENTS_MAXLEN", "-1" }, { "EVENTS_MAXLEN", "lots" },
        { "EVENTS_RETENTION", "1d" }, { "SWEEP_INTERVAL", "1001" },
        { "SWEEP_INTERVAL", "10" },
        { "WEBHOOK_URL", "ftp://hooks.example" },
        { "WEBHOOK_URL", "https://hooks.example/in" },   /* no secret */
        { "WEBHOOK_RETRY_FOR", "0" }, { "WEBHOOK_RETRY_MAX", "1h" },
        { "WEBHOOK_TIMEOUT", "50" },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *env[] = { cases[i][0], cases[i][1], NULL };
        config_t cfg;
        char err[512] = "";

        ck_assert_msg(!load(env, &cfg, err), "%s=%s accepted", cases[i][0],
                      cases[i][1]);
        ck_assert_msg(strstr(err, cases[i][0]) != NULL,
                      "message \"%s\" does not name %s", err, cases[i][0]);
    }
}
END_TEST

START_TEST(webhook_settings_have_their_defaults_and_need_a_secret)
{
    static const char *const none[] = { NULL };
    static const char *const set[] = {
        "WEBHOOK_URL", "https://hooks.example/in",
        "WEBHOOK_SECRET", "0123456789abcdef", "WEBHOOK_RETRY_FOR", "60",
        "WEBHOOK_RETRY_MAX", "5", "WEBHOOK_TIMEOUT", "1500", NULL
    };
    static const char *const short_secret[] = {
        "WEBHOOK_URL", "https://hooks.example/in",
        "WEBHOOK_SECRET", "0123456789abcde", NULL
    };
    config_t cfg;
    char err[512];

    ck_assert(load(none, &cfg, err));
    ck_assert_str_eq(cfg.webhook_url, "");
    ck_assert_int_eq(cfg.webhook_retry_for_s, 86400);
    ck_assert_int_eq(cfg.webhook_retry_max_s, 3600);
    ck_assert_int_eq(cfg.webhook_timeout_ms, 10000);
    ck_assert(load(set, &cfg, err));
    ck_assert_str_eq(cfg.webhook_secret, "0123456789abcdef");
    ck_assert_int_eq(cfg.webhook_retry_for_s, 60);
    ck_assert_int_eq(cfg.webhook_retry_max_s, 5);
    ck_assert_int_eq(cfg.webhook_timeout_ms, 1500);
    ck_assert(!load(short_secret, &cfg, err));
    ck_assert(strstr(err, "WEBHOOK_SECRET") != NULL);
}
END_TEST

START_TEST(sentinel_mode_and_replica_count_are_accepted)
{
    static const char *const env[] = {
        "REDIS_SENTINELS", "10.0.0.1:26379,sentinel-b:26380",
        "REDIS_MASTER_NAME", "bookings", "REDIS_SENTINEL_PASSWORD", "pw",
        "BOOKING_MIN_REPLICAS", "1", NULL
    };
    config_t cfg;
    char err[512] = "";

    ck_assert_msg(load(env, &cfg, err), "refused: %s", err);
    ck_assert_str_eq(cfg.redis_sentinels, "10.0.0.1:26379,sentinel-b:26380");
    ck_assert_str_eq(cfg.redis_master_name, "bookings");
    ck_assert_str_eq(cfg.redis_sentinel_password, "pw");
    ck_assert_int_eq(cfg.booking_min_replicas, 1);
}
END_TEST

START_TEST(cluster_seeds_are_accepted_and_walked)
{
    static const char *const env[] = {
        "REDIS_CLUSTER_NODES", "10.0.0.1:7000,redis-b:7001,localhost:7002", NULL
    };
    static const char *const hosts[] = { "10.0.0.1", "redis-b", "localhost" };
    config_t cfg;
    char err[512] = "", host[CONFIG_STR_MAX];
    int port, n = 0;

    ck_assert_msg(load(env, &cfg, err), "refused: %s", err);
    for (const char *p = cfg.redis_cluster_nodes;
         (p = config_next_host_port(p, host, sizeof(host), &port)) != NULL;
         n++)
    {
        ck_assert_int_lt(n, 3);
        ck_assert_str_eq(host, hosts[n]);
        ck_assert_int_eq(port, 7000 + n);
    }
    ck_assert_int_eq(n, 3);
}
END_TEST

/* Cluster mode excludes Sentinel mode and any database but 0. */
START_TEST(cluster_with_sentinels_or_a_database_is_refused)
{
    static const char *const with_sentinels[] = {
        "REDIS_CLUSTER_NODES", "a:7000", "REDIS_SENTINELS", "b:26379", NULL
    };
    static const char *const with_db[] = {
        "REDIS_CLUSTER_NODES", "a:7000", "REDIS_DB", "2", NULL
    };
    config_t cfg;
    char err[512] = "";

    ck_assert(!load(with_sentinels, &cfg, err));
    ck_assert_ptr_nonnull(strstr(err, "REDIS_SENTINELS"));
    ck_assert(!load(with_db, &cfg, err));
    ck_assert_ptr_nonnull(strstr(err, "REDIS_DB"));
}
END_TEST

START_TEST(ttl_longer_than_max_hold_is_refused)
{
    static const char *const env[] = { "LOCK_TTL", "700000", NULL };
    config_t cfg;
    char err[512];

    ck_assert(!load(env, &cfg, err));
    ck_assert_ptr_nonnull(strstr(err, "LOCK_TTL"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, defaults_match_the_documented_table);
    tcase_add_test(tc, values_from_the_environment_are_used);
    tcase_add_test(tc, bad_values_name_their_variable);
    tcase_add_test(tc, sentinel_mode_and_replica_count_are_accepted);
    tcase_add_test(tc, cluster_seeds_are_accepted_and_walked);
    tcase_add_test(tc, cluster_with_sentinels_or_a_database_is_refused);
    tcase_add_test(tc, ttl_longer_than_max_hold_is_refused);
    tcase_add_test(tc, webhook_settings_have_their_defaults_and_need_a_secret);
    suite_add_tcase(s, tc);

    return unit_run(s);
}
