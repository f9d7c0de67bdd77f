/*
 * slot.h - time slots and intervals (pure: no I/O). Key names: keys.h.
 */
#ifndef SLOTLOCK_SLOT_H
#define SLOTLOCK_SLOT_H

#include <stdbool.h>
#include <stddef.h>

#define SLOT_ID_MAX 64          /* tenantId, resourceId, ... */
#define SLOT_MINUTES_PER_DAY 1440

typedef struct slot_s {
    char tenant[SLOT_ID_MAX + 1];
    char resource[SLOT_ID_MAX + 1];
    char date[11];              /* YYYY-MM-DD */
    char start[6];              /* HH:MM */
    int start_min;              /* minutes since midnight */
    int duration_min;           /* 0 when not given */
} slot_t;

/* Parses "YYYY-MM-DD"; true when it is a real Gregorian date. */
bool slot_parse_date(const char *s);

/*
 * Parses "HH:MM" (00:00-23:59, or 24:00 when allow_24 is true) into minutes
 * since midnight. True on success.
 */
bool slot_parse_time(const char *s, bool allow_24, int *minutes);

/* Formats minutes since midnight as "HH:MM" into buf (at least 6 bytes). */
void slot_format_time(int minutes, char *buf);

/* True when [s1, s1+d1) and [s2, s2+d2) share at least one minute. */
bool slot_overlaps(int s1, int d1, int s2, int d2);

#endif
