/* Unit tests for router.c: named routes first, then ids; 404 and 405. */
#include <check.h>
#include <stdlib.h>

#include "router.h"
#include "unit.h"

static route_match_t match(const char *method, const char *path)
{
    route_match_t m;

    router_match(method, path, &m);
    return m;
}

START_TEST(named_routes_match_their_method)
{
    ck_assert_int_eq(match("GET", "/api/locks/health").route, ROUTE_HEALTH);
    ck_assert_int_eq(match("POST", "/api/locks/acquire").route,
                     ROUTE_ACQUIRE);
    ck_assert_int_eq(match("POST", "/api/locks/verify").route, ROUTE_VERIFY);
    ck_assert_int_eq(match("POST", "/api/locks/refresh").route,
                     ROUTE_REFRESH);
    ck_assert_int_eq(match("POST", "/api/locks/release").route,
                     ROUTE_RELEASE);
    ck_assert_int_eq(match("GET", "/api/locks/status").route, ROUTE_STATUS);
    ck_assert_int_eq(match("GET", "/api/locks/metrics").route,
                     ROUTE_METRICS);
    ck_assert_int_eq(match("GET", "/api/locks/admin/active").route,
                     ROUTE_ADMIN_ACTIVE);
    ck_assert_int_eq(match("POST", "/api/locks/admin/force-release").route,
                     ROUTE_ADMIN_FORCE_RELEASE);
    ck_assert_int_eq(match("POST", "/api/appointments").route,
                     ROUTE_APPT_CREATE);
    ck_assert_int_eq(match("GET", "/api/appointments").route,
                     ROUTE_APPT_LIST);
    ck_assert_int_eq(match("GET", "/api/events").route, ROUTE_EVENTS);
}
END_TEST

START_TEST(a_named_route_with_another_method_is_405)
{
    route_match_t m = match("GET", "/api/locks/acquire");

    ck_assert_int_eq(m.route, ROUTE_NOT_FOUND);
    ck_assert_str_eq(m.allow, "POST");
    m = match("DELETE", "/api/locks/health");
    ck_assert_str_eq(m.allow, "GET");
    m = match("PUT", "/api/appointments");
    ck_assert_str_eq(m.allow, "GET, POST");
}
END_TEST

START_TEST(other_single_segments_are_lock_ids)
{
    route_match_t m = match("GET", "/api/locks/abc");

    ck_assert_int_eq(m.route, ROUTE_LOCK_GET);
    ck_assert_str_eq(m.param, "abc");
    m = match("DELETE", "/api/locks/abc");
    ck_assert_int_eq(m.route, ROUTE_LOCK_DELETE);
    m = match("POST", "/api/locks/abc");
    ck_assert_int_eq(m.route, ROUTE_NOT_FOUND);
    ck_assert_str_eq(m.allow, "GET, DELETE");
    m = match("GET", "/api/appointments/xyz");
    ck_assert_int_eq(m.route, ROUTE_APPT_GET);
    ck_assert_str_eq(m.param, "xyz");
    ck_assert_int_eq(match("DELETE", "/api/appointments/xyz").route,
                     ROUTE_APPT_CANCEL);
    /* Near-misses of named routes are ids too (then 400 on lockId). */
    ck_assert_int_eq(match("GET", "/api/locks/healthz").route,
                     ROUTE_LOCK_GET);
}
END_TEST

START_TEST(webhook_routes_match)
{
    route_match_t m = match("POST", "/api/webhooks");

    ck_assert_int_eq(m.route, ROUTE_WEBHOOK_CREATE);
    ck_assert_int_eq(match("GET", "/api/webhooks").route, ROUTE_WEBHOOK_LIST);
    ck_assert_int_eq(match("GET", "/api/webhooks/deadletters").route,
                     ROUTE_WEBHOOK_DEADLETTERS);
    m = match("DELETE", "/api/webhooks/wh_1");
    ck_assert_int_eq(m.route, ROUTE_WEBHOOK_DELETE);
    ck_assert_str_eq(m.param, "wh_1");
    m = match("GET", "/api/webhooks/wh_1");
    ck_assert_int_eq(m.route, ROUTE_NOT_FOUND);
    ck_assert_str_eq(m.allow, "DELETE");
    m = match("DELETE", "/api/webhooks");
    ck_assert_str_eq(m.allow, "GET, POST");
    ck_assert_str_eq(router_name(ROUTE_WEBHOOK_DEADLETTERS),
                     "webhook_deadletters");
}
END_TEST

START_TEST(unknown_paths_are_404)
{
    const char *paths[] = { "/", "/api", "/api/locks", "/api/locks/",
                            "/api/locks/a/b", "/api/locks/admin/other",
                            "/api/appointments/", "/api/appointments/a/b" };

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        route_match_t m = match("GET", paths[i]);

        ck_assert_msg(m.route == ROUTE_NOT_FOUND && m.allow == NULL,
                      "%s matched", paths[i]);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("router");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, named_routes_match_their_method);
    tcase_add_test(tc, a_named_route_with_another_method_is_405);
    tcase_add_test(tc, other_single_segments_are_lock_ids);
    tcase_add_test(tc, unknown_paths_are_404);
    tcase_add_test(tc, webhook_routes_match);
    suite_add_tcase(s, tc);

    return unit_run(s);
}
