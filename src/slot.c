/*
 * slot.c - time slots, intervals and Redis key names. See slot.h.
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

void slot_keys(const slot_t *slot, slot_keys_t *keys)
{
    snprintf(keys->lock, sizeof(keys->lock), "booking_lock:{%s|%s}:%s:%s",
             slot->tenant, slot->resource, slot->date, slot->start);
    snprintf(keys->lock_index, sizeof(keys->lock_index),
             "booking_locks:{%s|%s}:%s",
             slot->tenant, slot->resource, slot->date);
    snprintf(keys->booked, sizeof(keys->booked),
             "booking_booked:{%s|%s}:%s",
             slot->tenant, slot->resource, slot->date);
    snprintf(keys->lock_prefix, sizeof(keys->lock_prefix),
             "booking_lock:{%s|%s}:%s:",
             slot->tenant, slot->resource, slot->date);
    snprintf(keys->stats, sizeof(keys->stats), "booking_stats:{%s|%s}",
             slot->tenant, slot->resource);
    snprintf(keys->live, sizeof(keys->live), "booking_live:{%s|%s}",
             slot->tenant, slot->resource);
}

/*
 * Copies the "{tenant|resource}" hash tag at *p into slot and advances *p past
 * it. Ids never contain '|' or '}', so the split is unambiguous.
 */
static bool parse_tag(const char **p, slot_t *slot)
{
    const char *s = *p;

    if (*s != '{') {
        return false;
    }
    const char *bar = strchr(s, '|');
    const char *close = strchr(s, '}');
    if (bar == NULL || close == NULL || bar > close) {
        return false;
    }

    size_t tlen = (size_t) (bar - s - 1);
    size_t rlen = (size_t) (close - bar - 1);
    if (tlen == 0 || tlen > SLOT_ID_MAX || rlen == 0 || rlen > SLOT_ID_MAX) {
        return false;
    }
    memcpy(slot->tenant, s + 1, tlen);
    slot->tenant[tlen] = '\0';
    memcpy(slot->resource, bar + 1, rlen);
    slot->resource[rlen] = '\0';
    *p = close + 1;
    return true;
}

/*
 * Reads "<prefix>{tenant|resource}:" at the start of key into slot; returns
 * what follows, or NULL when key does not start that way.
 */
static const char *parse_key_head(const char *key, const char *prefix,
                                  slot_t *slot)
{
    size_t n = strlen(prefix);
    const char *p;

    if (strncmp(key, prefix, n) != 0) {
        return NULL;
    }
    p = key + n;
    if (!parse_tag(&p, slot) || *p != ':') {
        return NULL;
    }
    return p + 1;
}

bool slot_parse_lock_key(const char *key, slot_t *slot)
{
    const char *p = parse_key_head(key, "booking_lock:", slot);

    if (p == NULL) {
        return false;
    }
    /* date:HH:MM */
    if (strlen(p) != 16 || p[10] != ':') {
        return false;
    }
    memcpy(slot->date, p, 10);
    slot->date[10] = '\0';
    memcpy(slot->start, p + 11, 5);
    slot->start[5] = '\0';
    slot->duration_min = 0;
    return slot_parse_date(slot->date)
           && slot_parse_time(slot->start, false, &slot->start_min);
}

void slot_lockid_key(const char *lock_id, char *buf, size_t len)
{
    snprintf(buf, len, "booking_lockid:%s", lock_id);
}

void slot_done_key(const slot_t *slot, const char *lock_id, char *buf,
                   size_t len)
{
    snprintf(buf, len, "booking_done:{%s|%s}:%s",
             slot->tenant, slot->resource, lock_id);
}

void slot_appt_key(const slot_t *slot, const char *appt_id, char *buf,
                   size_t len)
{
    snprintf(buf, len, "booking_appt:{%s|%s}:%s:%s",
             slot->tenant, slot->resource, slot->date, appt_id);
}

bool slot_parse_appt_key(const char *key, slot_t *slot, char *appt_id)
{
    const char *p = parse_key_head(key, "booking_appt:", slot);

    if (p == NULL) {
        return false;
    }
    /* date:<36-char id> */
    if (strlen(p) != 10 + 1 + 36 || p[10] != ':') {
        return false;
    }
    memcpy(slot->date, p, 10);
    slot->date[10] = '\0';
    memcpy(appt_id, p + 11, 36);
    appt_id[36] = '\0';
    slot->start[0] = '\0';
    slot->start_min = 0;
    slot->duration_min = 0;
    return slot_parse_date(slot->date);
}

void slot_apptid_key(const char *appt_id, char *buf, size_t len)
{
    snprintf(buf, len, "booking_apptid:%s", appt_id);
}

void slot_holder_key(const char *tenant, const char *holder, char *buf,
                     size_t len)
{
    snprintf(buf, len, "booking_holder:{%s}:%s", tenant, holder);
}
