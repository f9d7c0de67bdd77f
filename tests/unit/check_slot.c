/* Unit tests for slot.c: calendar and clock rules, intervals, key names. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "slot.h"
#include "unit.h"

START_TEST(real_dates_are_accepted)
{
    ck_assert(slot_parse_date("2025-03-10"));
    ck_assert(slot_parse_date("2028-02-29"));      /* leap year */
    ck_assert(slot_parse_date("2000-02-29"));      /* divisible by 400 */
    ck_assert(slot_parse_date("2025-12-31"));
    ck_assert(slot_parse_date("2025-01-01"));
}
END_TEST

START_TEST(impossible_dates_are_refused)
{
    ck_assert(!slot_parse_date("2025-02-29"));     /* not a leap year */
    ck_assert(!slot_parse_date("1900-02-29"));     /* divisible by 100 */
    ck_assert(!slot_parse_date("2025-04-31"));
    ck_assert(!slot_parse_date("2025-13-01"));
    ck_assert(!slot_parse_date("2025-00-10"));
    ck_assert(!slot_parse_date("2025-01-00"));
    ck_assert(!slot_parse_date("2025-1-10"));
    ck_assert(!slot_parse_date("2025-03-10 "));
    ck_assert(!slot_parse_date("2025/03/10"));
    ck_assert(!slot_parse_date("0000-01-01"));
    ck_assert(!slot_parse_date(""));
}
END_TEST

START_TEST(times_parse_to_minutes)
{
    int m;

    ck_assert(slot_parse_time("00:00", false, &m));
    ck_assert_int_eq(m, 0);
    ck_assert(slot_parse_time("14:30", false, &m));
    ck_assert_int_eq(m, 870);
    ck_assert(slot_parse_time("23:59", false, &m));
    ck_assert_int_eq(m, 1439);
    ck_assert(slot_parse_time("24:00", true, &m));
    ck_assert_int_eq(m, 1440);
}
END_TEST

START_TEST(bad_times_are_refused)
{
    int m;

    ck_assert(!slot_parse_time("24:00", false, &m));
    ck_assert(!slot_parse_time("24:01", true, &m));
    ck_assert(!slot_parse_time("12:60", false, &m));
    ck_assert(!slot_parse_time("9:00", false, &m));
    ck_assert(!slot_parse_time("09:00:00", false, &m));
    ck_assert(!slot_parse_time("ab:cd", false, &m));
    ck_assert(!slot_parse_time("", false, &m));
}
END_TEST

START_TEST(formatted_time_round_trips)
{
    char buf[6];

    slot_format_time(870, buf);
    ck_assert_str_eq(buf, "14:30");
    slot_format_time(0, buf);
    ck_assert_str_eq(buf, "00:00");
    slot_format_time(1440, buf);
    ck_assert_str_eq(buf, "24:00");
}
END_TEST

START_TEST(intervals_overlap_only_when_they_share_a_minute)
{
    /* 14:00-15:00 against others. */
    ck_assert(slot_overlaps(840, 60, 840, 60));     /* same */
    ck_assert(slot_overlaps(840, 60, 870, 60));     /* starts inside */
    ck_assert(slot_overlaps(840, 60, 810, 60));     /* ends inside */
    ck_assert(slot_overlaps(840, 60, 850, 10));     /* inside */
    ck_assert(slot_overlaps(840, 60, 780, 180));    /* around */
    ck_assert(!slot_overlaps(840, 60, 900, 60));    /* adjacent after */
    ck_assert(!slot_overlaps(840, 60, 780, 60));    /* adjacent before */
    ck_assert(!slot_overlaps(840, 60, 0, 10));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("slot");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, real_dates_are_accepted);
    tcase_add_test(tc, impossible_dates_are_refused);
    tcase_add_test(tc, times_parse_to_minutes);
    tcase_add_test(tc, bad_times_are_refused);
    tcase_add_test(tc, formatted_time_round_trips);
    tcase_add_test(tc, intervals_overlap_only_when_they_share_a_minute);
    suite_add_tcase(s, tc);

    return unit_run(s);
}
