/* Unit tests for metrics.c: the JSON names and the Prometheus text. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "unit.h"

static json_t *example_stats(void)
{
    return json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, "
                     "s:i}",
                     "locksAcquired", 97, "locksFailed", 3,
                     "locksReleased", 40, "locksRefreshed", 7,
                     "locksExpired", 5, "activeLocks", 2,
                     "lockDurationTotal", 90000, "lockDurationCount", 60,
                     "bookingsCreated", 20, "bookingsRejected", 4,
                     "bookingsCancelled", 1);
}

START_TEST(json_keeps_the_original_names_and_derived_values)
{
    metrics_t m;
    json_t *stats = example_stats();

    metrics_init(&m, 1000);
    metrics_observe(&m, ROUTE_ACQUIRE, 200, 800);
    metrics_observe(&m, ROUTE_ACQUIRE, 503, 2000000);
    json_t *j = metrics_json(&m, stats, 1042);

    ck_assert_int_eq(json_integer_value(json_object_get(j, "locksAcquired")),
                     97);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "totalAttempts")),
                     100);
    ck_assert_str_eq(json_string_value(json_object_get(j, "successRate")),
                     "97.00%");
    ck_assert_int_eq(json_integer_value(json_object_get(
                         j, "averageLockDuration")), 1500);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "requestsTotal")),
                     2);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "requestErrors")),
                     1);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "uptimeSeconds")),
                     42);
    ck_assert(json_is_true(json_object_get(j, "redisConnected")));
    json_decref(j);
    json_decref(stats);
}
END_TEST

START_TEST(success_rate_before_any_attempt_is_zero)
{
    metrics_t m;

    metrics_init(&m, 0);
    json_t *j = metrics_json(&m, NULL, 0);
    ck_assert_str_eq(json_string_value(json_object_get(j, "successRate")),
                     "0.00%");
    ck_assert(json_is_false(json_object_get(j, "redisConnected")));
    json_decref(j);
}
END_TEST

START_TEST(prometheus_text_has_help_type_and_cumulative_buckets)
{
    metrics_t m;
    json_t *stats = example_stats();

    metrics_init(&m, 0);
    metrics_observe(&m, ROUTE_HEALTH, 200, 300);      /* <= 0.5 ms */
    metrics_observe(&m, ROUTE_HEALTH, 200, 1500);     /* <= 2 ms */
    metrics_observe(&m, ROUTE_HEALTH, 200, 9000000);  /* past every bound */
    metrics_redirects_t redirects = { 3, 2, 1 };
    char *text = metrics_prometheus(&m, stats, &redirects, 10);

    ck_assert_ptr_nonnull(strstr(text,
        "# TYPE slotlock_locks_acquired_total counter\n"
        "slotlock_locks_acquired_total 97\n"));
    ck_assert_ptr_nonnull(strstr(text, "# HELP slotlock_active_locks "));
    ck_assert_ptr_nonnull(strstr(text,
        "slotlock_request_duration_seconds_bucket{route=\"health\","
        "le=\"0.0005\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(text,
        "slotlock_request_duration_seconds_bucket{route=\"health\","
        "le=\"0.002\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(text,
        "slotlock_request_duration_seconds_bucket{route=\"health\","
        "le=\"+Inf\"} 3\n"));
    ck_assert_ptr_nonnull(strstr(text,
        "slotlock_request_duration_seconds_count{route=\"health\"} 3\n"));
    ck_assert_ptr_nonnull(strstr(text,
        "slotlock_redis_redirects_total{kind=\"moved\"} 3\n"
        "slotlock_redis_redirects_total{kind=\"ask\"} 2\n"
        "slotlock_redis_redirects_total{kind=\"tryagain\"} 1\n"));
    free(text);
    json_decref(stats);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, json_keeps_the_original_names_and_derived_values);
    tcase_add_test(tc, success_rate_before_any_attempt_is_zero);
    tcase_add_test(tc, prometheus_text_has_help_type_and_cumulative_buckets);
    suite_add_tcase(s, tc);

    return unit_run(s);
}
