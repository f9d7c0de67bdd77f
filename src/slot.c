/*
 * slot.c - time slots and intervals. See slot.h.
 */
#include "slot.h"

#include <stdio.h>
#include <string.h>

static bool is_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    return true;
}

static int digits_value(const char *s, size_t n)
{
    int v = 0;

    for (size_t i = 0; i < n; i++) {
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static bool is_leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool slot_parse_date(const char *s)
{
    static const int days_in_month[12] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };

    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-'
        || !is_digits(s, 4) || !is_digits(s + 5, 2) || !is_digits(s + 8, 2))
    {
        return false;
    }

    int year = digits_value(s, 4);
    int month = digits_value(s + 5, 2);
    int day = digits_value(s + 8, 2);

    if (year < 1 || month < 1 || month > 12 || day < 1) {
        return false;
    }
    int last = days_in_month[month - 1];
    if (month == 2 && is_leap_year(year)) {
        last = 29;
    }
    return day <= last;
}

bool slot_parse_time(const char *s, bool allow_24, int *minutes)
{
    if (strlen(s) != 5 || s[2] != ':' || !is_digits(s, 2)
        || !is_digits(s + 3, 2))
    {
        return false;
    }

    int h = digits_value(s, 2);
    int m = digits_value(s + 3, 2);

    if (h == 24 && m == 0 && allow_24) {
        *minutes = SLOT_MINUTES_PER_DAY;
        return true;
    }
    if (h > 23 || m > 59) {
        return false;
    }
    *minutes = h * 60 + m;
    return true;
}

void slot_format_time(int minutes, char *buf)
{
    unsigned m = (unsigned) minutes % (SLOT_MINUTES_PER_DAY + 1);

    snprintf(buf, 6, "%02u:%02u", (m / 60) % 25, m % 60);
}

bool slot_overlaps(int s1, int d1, int s2, int d2)
{
    return s1 < s2 + d2 && s2 < s1 + d1;
}
