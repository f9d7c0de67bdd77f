/*
 * slot.h - time slots, intervals and Redis key names.
 *
 * Pure functions: no I/O. Every key that one lock or booking operation
 * touches carries the hash tag {tenantId|resourceId}, so each operation is
 * one script on one hash slot.
 */
#ifndef SLOTLOCK_SLOT_H
#define SLOTLOCK_SLOT_H

#include <stdbool.h>
#include <stddef.h>

#define SLOT_ID_MAX 64          /* tenantId, resourceId, ... */
#define SLOT_KEY_MAX 256        /* longest key we build, with room to spare */
#define SLOT_MINUTES_PER_DAY 1440

/* Keys shared by every resource, with one Redis. */
#define SLOT_STATS_KEY "slotlock:stats"
#define SLOT_LIVE_KEY "slotlock:live"

typedef struct slot_s {
    char tenant[SLOT_ID_MAX + 1];
    char resource[SLOT_ID_MAX + 1];
    char date[11];              /* YYYY-MM-DD */
    char start[6];              /* HH:MM */
    int start_min;              /* minutes since midnight */
    int duration_min;           /* 0 when not given */
} slot_t;

/* The keys one lock or booking operation on a slot works on. */
typedef struct slot_keys_s {
    char lock[SLOT_KEY_MAX];        /* booking_lock:{t|r}:date:HH:MM */
    char lock_index[SLOT_KEY_MAX];  /* booking_locks:{t|r}:date (zset) */
    char booked[SLOT_KEY_MAX];      /* booking_booked:{t|r}:date (zset) */
    char lock_prefix[SLOT_KEY_MAX]; /* booking_lock:{t|r}:date: */
    /* In Redis Cluster, the resource's own counters and live-lock set
     * stand in for SLOT_STATS_KEY and SLOT_LIVE_KEY. */
    char stats[SLOT_KEY_MAX];       /* booking_stats:{t|r} (hash) */
    char live[SLOT_KEY_MAX];        /* booking_live:{t|r} (zset) */
} slot_keys_t;

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

/* Fills keys for the slot's tenant, resource, date and start time. */
void slot_keys(const slot_t *slot, slot_keys_t *keys);

/*
 * Reads tenant, resource, date and start back out of a lock key made by
 * slot_keys(). False when key is not such a key. duration_min is set to 0.
 */
bool slot_parse_lock_key(const char *key, slot_t *slot);

/* booking_lockid:<lockId>: the index from a lockId to its lock key. */
void slot_lockid_key(const char *lock_id, char *buf, size_t len);

/* booking_done:{t|r}:<lockId>: the appointment a lockId was booked as. */
void slot_done_key(const slot_t *slot, const char *lock_id, char *buf,
                   size_t len);

/* booking_appt:{t|r}:<date>:<id>: one appointment record. */
void slot_appt_key(const slot_t *slot, const char *appt_id, char *buf,
                   size_t len);

/*
 * Reads tenant, resource and date out of an appointment key; appt_id
 * receives the id (at least 37 bytes). False when key is not one.
 */
bool slot_parse_appt_key(const char *key, slot_t *slot, char *appt_id);

/* booking_apptid:<id>: the index from an appointment id to its record. */
void slot_apptid_key(const char *appt_id, char *buf, size_t len);

/* booking_holder:{t}:<holderId>: a holder's live locks in one tenant. */
void slot_holder_key(const char *tenant, const char *holder, char *buf,
                     size_t len);

#endif
