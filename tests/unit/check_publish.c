/*
 * check_publish.c - the live grid's message for each event (publish.c):
 * the status-shaped fields and the channel, never a lock, holder,
 * appointment or customer field, and nothing for what is not an event the
 * grid shows.
 */
#include <jansson.h>
#include <string.h>

#include "publish.h"
#include "unit.h"

static json_t *message(const char *event, char *channel, size_t len)
{
    char *text = publish_message(event, channel, len);
    json_t *out = text != NULL ? json_loads(text, 0, NULL) : NULL;

    free(text);
    return out;
}

START_TEST(a_hold_is_held_with_its_end_and_no_ids)
{
    char channel[PUBLISH_CHANNEL_MAX];
    static const char event[] =
        "{\"id\":\"L1:hold.acquired\",\"type\":\"hold.acquired\","
        "\"createdAt\":\"2025-03-10T13:58:02.125Z\","
        "\"tenantId\":\"t-1\",\"resourceId\":\"r.2\","
        "\"date\":\"2025-03-10\",\"startTime\":\"14:00\","
        "\"duration\":60,\"lockId\":\"L1\",\"holderId\":\"h\","
        "\"fence\":7,\"expiresAt\":1741615202125}";
    json_t *m = message(event, channel, sizeof(channel));

    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(channel, "t-1/r.2/2025-03-10");
    ck_assert_str_eq(json_string_value(json_object_get(m, "type")),
                     "hold.acquired");
    ck_assert_str_eq(json_string_value(json_object_get(m, "status")), "held");
    ck_assert_str_eq(json_string_value(json_object_get(m, "startTime")),
                     "14:00");
    ck_assert_int_eq(json_integer_value(json_object_get(m, "duration")), 60);
    ck_assert_int_eq(json_integer_value(json_object_get(m, "expiresIn")),
                     120000);
    ck_assert(json_integer_value(json_object_get(m, "expiresAt"))
              == 1741615202125LL);
    static const char *const never[] = { "id", "lockId", "holderId", "fence",
                                         "tenantId", "resourceId" };
    for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
        ck_assert_msg(json_object_get(m, never[i]) == NULL, "%s", never[i]);
    }
    json_decref(m);
}
END_TEST

START_TEST(each_type_says_what_the_slot_is_now)
{
    static const struct {
        const char *type;
        const char *status;
    } cases[] = {
        { "hold.refreshed", "held" }, { "hold.checkout", "held" },
        { "hold.released", "free" }, { "hold.force_released", "free" },
        { "hold.expired", "free" }, { "booking.created", "booked" },
        { "booking.cancelled", "free" },
    };
    char event[512], channel[PUBLISH_CHANNEL_MAX];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(event, sizeof(event), "{\"type\":\"%s\",\"tenantId\":\"t\","
                 "\"resourceId\":\"r\",\"date\":\"2025-03-10\","
                 "\"startTime\":\"09:30\",\"duration\":30,"
                 "\"appointmentId\":\"A\",\"lockId\":\"L\"}", cases[i].type);
        json_t *m = message(event, channel, sizeof(channel));

        ck_assert_ptr_nonnull(m);
        ck_assert_str_eq(json_string_value(json_object_get(m, "status")),
                         cases[i].status);
        ck_assert_ptr_null(json_object_get(m, "appointmentId"));
        ck_assert_ptr_null(json_object_get(m, "lockId"));
        ck_assert_ptr_null(json_object_get(m, "expiresIn"));
        json_decref(m);
    }
}
END_TEST

START_TEST(what_is_not_a_grid_event_is_nothing)
{
    static const char *const bad[] = {
        "", "null", "[]", "{\"type\":\"hold.acquired\"}",
        "{\"type\":\"webhook.test\",\"tenantId\":\"t\",\"resourceId\":\"r\","
        "\"date\":\"d\",\"startTime\":\"09:00\",\"duration\":1}",
        "{\"type\":\"hold.acquired\",\"tenantId\":\"a/b\","
        "\"resourceId\":\"r\",\"date\":\"d\",\"startTime\":\"09:00\","
        "\"duration\":1}",
        "{\"type\":\"hold.acquired\",\"tenantId\":\"t\",\"resourceId\":\"r\","
        "\"date\":\"d\",\"startTime\":\"09:00\",\"duration\":\"1\"}",
    };
    char channel[PUBLISH_CHANNEL_MAX];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(publish_message(bad[i], channel, sizeof(channel))
                      == NULL, "%s", bad[i]);
    }
    /* A channel that does not fit is no message either. */
    ck_assert_ptr_null(publish_message(
        "{\"type\":\"hold.released\",\"tenantId\":\"tenant\",\"resourceId\":"
        "\"r\",\"date\":\"2025-03-10\",\"startTime\":\"09:00\","
        "\"duration\":1}", channel, 8));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("publish");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, a_hold_is_held_with_its_end_and_no_ids);
    tcase_add_test(tc, each_type_says_what_the_slot_is_now);
    tcase_add_test(tc, what_is_not_a_grid_event_is_nothing);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
