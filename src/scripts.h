/*
 * scripts.h - the Lua scripts, embedded at build time from src/scripts/.
 * Each lock or booking decision is one of these, run on one hash slot.
 */
#ifndef SLOTLOCK_SCRIPTS_H
#define SLOTLOCK_SCRIPTS_H

typedef enum script_id_e {
    SCRIPT_HEALTH,
    SCRIPT_ACQUIRE,
    SCRIPT_VERIFY,
    SCRIPT_REFRESH,
    SCRIPT_RELEASE,
    SCRIPT_FORCE_RELEASE,
    SCRIPT_LOCK_GET,
    SCRIPT_STATUS,
    SCRIPT_BOOK,
    SCRIPT_CANCEL,
    SCRIPT_METRICS,
    SCRIPT_READ_KEYS,
    SCRIPT_HOLDER,
    SCRIPT_CHECKOUT,
    SCRIPT_RESOURCE,
    SCRIPT_SWEEP,
    SCRIPT_EVENTS_READ,
    SCRIPT_COUNT
} script_id_t;

/* The source of each script, common.lua included. */
extern const char *const script_source[SCRIPT_COUNT];

#endif
