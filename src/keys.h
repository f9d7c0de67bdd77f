/*
 * keys.h - every Redis key slotlock writes or reads, in one place.
 *
 * Pure: no I/O. Every key that one lock or booking operation touches on a
 * resource carries the hash tag {tenantId|resourceId}, so each operation is
 * one script on one hash slot. The keys outside it (the lockId and
 * appointment-id indexes, the holder sets, the shared counters) are named
 * here too; the Lua scripts build only the ones this file documents as
 * theirs (see keys_* below and common.lua).
 */
#ifndef SLOTLOCK_KEYS_H
#define SLOTLOCK_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "slot.h"

#define KEYS_MAX 256            /* longest key we build, with room to spare */

/* The counters and live-lock set every resource shares, with one Redis. */
#define KEYS_SHARED_STATS "slotlock:stats"
#define KEYS_SHARED_LIVE "slotlock:live"

/* The prefixes of the indexes from an id to its record, outside any hash
 * tag: booking_lockid:<lockId> and booking_apptid:<id>. */
#define KEYS_LOCKID_PREFIX "booking_lockid:"
#define KEYS_APPTID_PREFIX "booking_apptid:"

/* The per-resource counters (Redis Cluster), for SCAN. */
#define KEYS_STATS_PREFIX "booking_stats:"

/* The per-resource live-lock sets (Redis Cluster) and event streams, for
 * SCAN. */
#define KEYS_LIVE_PREFIX "booking_live:"
#define KEYS_EVENTS_PREFIX "booking_events:"

/* Webhooks: the registered endpoints (hash: id -> JSON), the dead-letter
 * stream, the dispatcher's counters (hash), and the pattern that finds
 * every resource's event stream, booking_events:{t|r}. Each is one key
 * on its own slot; none is touched by a lock or booking script. */
#define KEYS_WEBHOOKS "slotlock:webhooks"
#define KEYS_DEADLETTER "slotlock:deadletter"
#define KEYS_WEBHOOK_STATS "slotlock:webhook_stats"
#define KEYS_EVENTS_PATTERN KEYS_EVENTS_PREFIX "*"

/* The keys one lock or booking operation on a slot works on. */
typedef struct keys_s {
    char lock[KEYS_MAX];        /* booking_lock:{t|r}:date:HH:MM */
    char lock_index[KEYS_MAX];  /* booking_locks:{t|r}:date (zset) */
    char booked[KEYS_MAX];      /* booking_booked:{t|r}:date (zset) */
    char lock_prefix[KEYS_MAX]; /* booking_lock:{t|r}:date: */
    /* The resource's own counters and live-lock set, which Redis Cluster
     * uses instead of KEYS_SHARED_STATS and KEYS_SHARED_LIVE. */
    char stats[KEYS_MAX];       /* booking_stats:{t|r} (hash) */
    char live[KEYS_MAX];        /* booking_live:{t|r} (zset) */
    char settings[KEYS_MAX];    /* booking_resource:{t|r} (hash) */
    char fence[KEYS_MAX];       /* booking_fence:{t|r} (counter) */
    /* The resource's event stream: one entry per change, field "event"
     * (docs/events.md). Beside the live-lock set, the scripts keep what a
     * hold's expiry event needs in booking_holds:{t|r} (Redis Cluster) or
     * slotlock:holds (one Redis), a hash they name after the live set. */
    char events[KEYS_MAX];      /* booking_events:{t|r} (stream) */
} keys_t;

/* Fills keys for the slot's tenant, resource, date and start time. */
void keys_of_slot(const slot_t *slot, keys_t *keys);

/*
 * Reads tenant, resource, date and start back out of a lock key made by
 * keys_of_slot(), or of such a key with "+<lockId>" after it (a further
 * hold at that start minute where the capacity is above 1). False when key
 * is not such a key. duration_min is set to 0.
 */
bool keys_parse_lock(const char *key, slot_t *slot);

/*
 * booking_lockmap:{t|r}:date:HH: the locks of the day that start in hour
 * HH (0-23), as text for the status route (format in common.lua).
 */
void keys_lock_map(const slot_t *slot, int hour, char *buf, size_t len);

/* booking_lockid:<lockId>: the index from a lockId to its lock key. */
void keys_lockid(const char *lock_id, char *buf, size_t len);

/* booking_done:{t|r}:<lockId>: the appointment a lockId was booked as. */
void keys_done(const slot_t *slot, const char *lock_id, char *buf,
               size_t len);

/*
 * booking_released:{t|r}:<lockId>: the tombstone a release leaves for a
 * minute, so that the same request sent again after its reply was lost
 * knows it already removed the lock. slot NULL gives
 * booking_released:<lockId>, for one Redis when the request names only
 * the lockId: the lock's slot is known only after the lookup, and a
 * re-sent release finds neither the lock nor its index.
 */
void keys_released(const slot_t *slot, const char *lock_id, char *buf,
                   size_t len);

/* booking_appt:{t|r}:<date>:<id>: one appointment record. */
void keys_appt(const slot_t *slot, const char *appt_id, char *buf,
               size_t len);

/*
 * Reads tenant, resource and date out of an appointment key; appt_id
 * receives the id (at least 37 bytes). False when key is not one.
 */
bool keys_parse_appt(const char *key, slot_t *slot, char *appt_id);

/* booking_apptid:<id>: the index from an appointment id to its record. */
void keys_apptid(const char *appt_id, char *buf, size_t len);

/* booking_holder:{t}:<holderId>: a holder's live locks in one tenant. */
void keys_holder(const char *tenant, const char *holder, char *buf,
                 size_t len);

/* booking_client:{t}:<address>: the live locks one client address holds
 * in one tenant. */
void keys_client(const char *tenant, const char *addr, char *buf,
                 size_t len);

/*
 * SCAN patterns of one tenant's locks and appointments; resource and date
 * may be NULL for "any".
 */
void keys_lock_pattern(const char *tenant, const char *resource,
                       const char *date, char *buf, size_t len);
void keys_appt_pattern(const char *tenant, const char *resource,
                       const char *date, char *buf, size_t len);

/* The live-lock set beside the per-resource counters at stats_key. */
void keys_live_of_stats(const char *stats_key, char *buf, size_t len);

/*
 * The counters and the event stream beside the per-resource live-lock set
 * at live_key (booking_live:{t|r}); false when live_key is not one.
 */
bool keys_of_live(const char *live_key, char *stats, char *events,
                  size_t len);

/* The SCAN pattern of one tenant's event streams (booking_events:{t|*}). */
void keys_events_pattern(const char *tenant, char *buf, size_t len);

/* Reads tenant and resource out of an event stream key into slot (date
 * and start left empty); false when key is not one. */
bool keys_parse_events(const char *key, slot_t *slot);

#endif
