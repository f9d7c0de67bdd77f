/*
 * keys.c - every Redis key slotlock uses. See keys.h.
 */
#include "keys.h"

#include <stdio.h>
#include <string.h>

void keys_of_slot(const slot_t *slot, keys_t *keys)
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
    snprintf(keys->stats, sizeof(keys->stats), KEYS_STATS_PREFIX "{%s|%s}",
             slot->tenant, slot->resource);
    snprintf(keys->live, sizeof(keys->live), "booking_live:{%s|%s}",
             slot->tenant, slot->resource);
    snprintf(keys->settings, sizeof(keys->settings),
             "booking_resource:{%s|%s}", slot->tenant, slot->resource);
    snprintf(keys->fence, sizeof(keys->fence), "booking_fence:{%s|%s}",
             slot->tenant, slot->resource);
    snprintf(keys->events, sizeof(keys->events),
             KEYS_EVENTS_PREFIX "{%s|%s}", slot->tenant, slot->resource);
}

/*
 * Copies the "{tenant|resource}" hash tag at *p into slot and advances *p
 * past it. Ids never contain '|' or '}', so the split is unambiguous.
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

bool keys_parse_lock(const char *key, slot_t *slot)
{
    const char *p = parse_key_head(key, "booking_lock:", slot);

    if (p == NULL) {
        return false;
    }
    /* date:HH:MM, or date:HH:MM+<lockId> for a further hold at that start
     * minute on a resource of capacity above 1 (common.lua) */
    if (strlen(p) < 16 || (p[16] != '\0' && p[16] != '+') || p[10] != ':') {
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

void keys_lock_map(const slot_t *slot, int hour, char *buf, size_t len)
{
    snprintf(buf, len, "booking_lockmap:{%s|%s}:%s:%02d",
             slot->tenant, slot->resource, slot->date, hour);
}

void keys_lockid(const char *lock_id, char *buf, size_t len)
{
    snprintf(buf, len, KEYS_LOCKID_PREFIX "%s", lock_id);
}

void keys_done(const slot_t *slot, const char *lock_id, char *buf,
               size_t len)
{
    snprintf(buf, len, "booking_done:{%s|%s}:%s",
             slot->tenant, slot->resource, lock_id);
}

void keys_released(const slot_t *slot, const char *lock_id, char *buf,
                   size_t len)
{
    if (slot == NULL) {
        snprintf(buf, len, "booking_released:%s", lock_id);
    } else {
        snprintf(buf, len, "booking_released:{%s|%s}:%s",
                 slot->tenant, slot->resource, lock_id);
    }
}

void keys_appt(const slot_t *slot, const char *appt_id, char *buf,
               size_t len)
{
    snprintf(buf, len, "booking_appt:{%s|%s}:%s:%s",
             slot->tenant, slot->resource, slot->date, appt_id);
}

bool keys_parse_appt(const char *key, slot_t *slot, char *appt_id)
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

void keys_apptid(const char *appt_id, char *buf, size_t len)
{
    snprintf(buf, len, KEYS_APPTID_PREFIX "%s", appt_id);
}

void keys_holder(const char *tenant, const char *holder, char *buf,
                 size_t len)
{
    snprintf(buf, len, "booking_holder:{%s}:%s", tenant, holder);
}

void keys_client(const char *tenant, const char *addr, char *buf,
                 size_t len)
{
    snprintf(buf, len, "booking_client:{%s}:%s", tenant, addr);
}

void keys_lock_pattern(const char *tenant, const char *resource,
                       const char *date, char *buf, size_t len)
{
    snprintf(buf, len, "booking_lock:{%s|%s}:%s:*", tenant,
             resource ? resource : "*", date ? date : "*");
}

void keys_appt_pattern(const char *tenant, const char *resource,
                       const char *date, char *buf, size_t len)
{
    snprintf(buf, len, "booking_appt:{%s|%s}:%s:*", tenant,
             resource ? resource : "*", date ? date : "*");
}

void keys_live_of_stats(const char *stats_key, char *buf, size_t len)
{
    snprintf(buf, len, "booking_live:%s",
             stats_key + strlen(KEYS_STATS_PREFIX));
}

bool keys_of_live(const char *live_key, char *stats, char *events,
                  size_t len)
{
    size_t n = strlen(KEYS_LIVE_PREFIX);
    slot_t slot;
    const char *p = live_key + n;

    if (strncmp(live_key, KEYS_LIVE_PREFIX, n) != 0 || !parse_tag(&p, &slot)
        || *p != '\0')
    {
        return false;
    }
    snprintf(stats, len, KEYS_STATS_PREFIX "{%s|%s}", slot.tenant,
             slot.resource);
    snprintf(events, len, KEYS_EVENTS_PREFIX "{%s|%s}", slot.tenant,
             slot.resource);
    return true;
}

void keys_events_pattern(const char *tenant, char *buf, size_t len)
{
    snprintf(buf, len, KEYS_EVENTS_PREFIX "{%s|*}", tenant);
}

bool keys_parse_events(const char *key, slot_t *slot)
{
    size_t n = strlen(KEYS_EVENTS_PREFIX);
    const char *p = key + n;

    memset(slot, 0, sizeof(*slot));
    return strncmp(key, KEYS_EVENTS_PREFIX, n) == 0 && parse_tag(&p, slot)
           && *p == '\0';
}
