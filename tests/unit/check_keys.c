/*
 * Unit tests for keys.c: every Redis key name slotlock uses.
 */
#include <check.h>
#include <string.h>

#include "keys.h"
#include "unit.h"

static void example_slot(slot_t *s)
{
    memset(s, 0, sizeof(*s));
    strcpy(s->tenant, "tenant123");
    strcpy(s->resource, "beautician42");
    strcpy(s->date, "2025-03-10");
    strcpy(s->start, "14:00");
    s->start_min = 840;
}

START_TEST(keys_follow_the_guide_layout)
{
    slot_t s;
    keys_t k;
    char buf[KEYS_MAX];

    example_slot(&s);
    keys_of_slot(&s, &k);
    ck_assert_str_eq(k.lock,
                     "booking_lock:{tenant123|beautician42}:2025-03-10:14:00");
    ck_assert_str_eq(k.lock_index,
                     "booking_locks:{tenant123|beautician42}:2025-03-10");
    ck_assert_str_eq(k.booked,
                     "booking_booked:{tenant123|beautician42}:2025-03-10");
    ck_assert_str_eq(k.lock_prefix,
                     "booking_lock:{tenant123|beautician42}:2025-03-10:");
    keys_lockid("0e0e0e0e-0000-4000-8000-000000000000", buf, sizeof(buf));
    ck_assert_str_eq(buf,
                     "booking_lockid:0e0e0e0e-0000-4000-8000-000000000000");
    keys_done(&s, "x", buf, sizeof(buf));
    ck_assert_str_eq(buf, "booking_done:{tenant123|beautician42}:x");
    keys_released(&s, "x", buf, sizeof(buf));
    ck_assert_str_eq(buf, "booking_released:{tenant123|beautician42}:x");
    keys_released(NULL, "x", buf, sizeof(buf));
    ck_assert_str_eq(buf, "booking_released:x");
    keys_lock_map(&s, 9, buf, sizeof(buf));
    ck_assert_str_eq(buf,
                     "booking_lockmap:{tenant123|beautician42}:2025-03-10:09");
}
END_TEST

START_TEST(lock_keys_parse_back_into_slots)
{
    slot_t s;

    ck_assert(keys_parse_lock(
        "booking_lock:{tenant123|beautician42}:2025-03-10:14:00", &s));
    ck_assert_str_eq(s.tenant, "tenant123");
    ck_assert_str_eq(s.resource, "beautician42");
    ck_assert_str_eq(s.date, "2025-03-10");
    ck_assert_str_eq(s.start, "14:00");
    ck_assert_int_eq(s.start_min, 840);
    ck_assert(keys_parse_lock("booking_lock:{t|r}:2025-03-10:09:30+L-1", &s));
    ck_assert_str_eq(s.start, "09:30");
    ck_assert_int_eq(s.start_min, 570);

    ck_assert(!keys_parse_lock("booking_lock:{t|r}:2025-03-10:14:00x", &s));
    ck_assert(!keys_parse_lock("booking_lock:{t}:2025-03-10:14:00", &s));
    ck_assert(!keys_parse_lock("booking_lock:{t|r}:2025-03-10:1400", &s));
    ck_assert(!keys_parse_lock("other:{t|r}:2025-03-10:14:00", &s));
    ck_assert(!keys_parse_lock("booking_lock:{|r}:2025-03-10:14:00", &s));
}
END_TEST

START_TEST(appointment_keys_parse_back)
{
    slot_t s, back;
    char key[KEYS_MAX], id[40];
    const char *appt = "0e0e0e0e-0000-4000-8000-000000000000";

    example_slot(&s);
    keys_appt(&s, appt, key, sizeof(key));
    ck_assert_str_eq(key, "booking_appt:{tenant123|beautician42}:2025-03-10:"
                     "0e0e0e0e-0000-4000-8000-000000000000");
    ck_assert(keys_parse_appt(key, &back, id));
    ck_assert_str_eq(back.tenant, "tenant123");
    ck_assert_str_eq(back.resource, "beautician42");
    ck_assert_str_eq(back.date, "2025-03-10");
    ck_assert_str_eq(id, appt);
    ck_assert(!keys_parse_appt("booking_appt:{t|r}:2025-03-10:short",
                               &back, id));
}
END_TEST

START_TEST(counters_indexes_and_patterns)
{
    slot_t s;
    keys_t k;
    char buf[KEYS_MAX];

    example_slot(&s);
    keys_of_slot(&s, &k);
    ck_assert_str_eq(k.stats, "booking_stats:{tenant123|beautician42}");
    ck_assert_str_eq(k.live, "booking_live:{tenant123|beautician42}");
    keys_live_of_stats(k.stats, buf, sizeof(buf));
    ck_assert_str_eq(buf, k.live);
    keys_apptid("0e0e0e0e-0000-4000-8000-000000000000", buf, sizeof(buf));
    ck_assert_str_eq(buf,
                     "booking_apptid:0e0e0e0e-0000-4000-8000-000000000000");
    keys_holder("tenant123", "h1", buf, sizeof(buf));
    ck_assert_str_eq(buf, "booking_holder:{tenant123}:h1");
    keys_lock_pattern("t", NULL, NULL, buf, sizeof(buf));
    ck_assert_str_eq(buf, "booking_lock:{t|*}:*:*");
    keys_lock_pattern("t", "r", "2025-03-10", buf, sizeof(buf));
    ck_assert_str_eq(buf, "booking_lock:{t|r}:2025-03-10:*");
    keys_appt_pattern("t", "r", NULL, buf, sizeof(buf));
    ck_assert_str_eq(buf, "booking_appt:{t|r}:*:*");
}
END_TEST

START_TEST(event_streams_beside_the_live_sets)
{
    slot_t s, back;
    keys_t k;
    char stats[KEYS_MAX], events[KEYS_MAX];

    example_slot(&s);
    keys_of_slot(&s, &k);
    ck_assert_str_eq(k.events, "booking_events:{tenant123|beautician42}");
    ck_assert(keys_of_live(k.live, stats, events, sizeof(events)));
    ck_assert_str_eq(stats, k.stats);
    ck_assert_str_eq(events, k.events);
    ck_assert(!keys_of_live("slotlock:live", stats, events, sizeof(events)));
    ck_assert(!keys_of_live("booking_live:{t|r}x", stats, events,
                            sizeof(events)));
    ck_assert(keys_parse_events(k.events, &back));
    ck_assert_str_eq(back.tenant, "tenant123");
    ck_assert_str_eq(back.resource, "beautician42");
    ck_assert(!keys_parse_events("booking_events:{t}", &back));
    ck_assert(!keys_parse_events("booking_live:{t|r}", &back));
    keys_events_pattern("t", events, sizeof(events));
    ck_assert_str_eq(events, "booking_events:{t|*}");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("keys");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, keys_follow_the_guide_layout);
    tcase_add_test(tc, lock_keys_parse_back_into_slots);
    tcase_add_test(tc, appointment_keys_parse_back);
    tcase_add_test(tc, counters_indexes_and_patterns);
    tcase_add_test(tc, event_streams_beside_the_live_sets);
    suite_add_tcase(s, tc);

    return unit_run(s);
}
