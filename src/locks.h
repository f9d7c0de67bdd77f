/*
 * locks.h - a lock route's input, checked (pure: no I/O).
 *
 * Every lock route turns its body or path into a lock_request_t before
 * anything touches Redis. That step stands on its own so that unit tests
 * and fuzzers can run it on any bytes without a store.
 */
#ifndef SLOTLOCK_LOCKS_H
#define SLOTLOCK_LOCKS_H

#include <jansson.h>
#include <stdbool.h>

#include "config.h"
#include "router.h"
#include "slot.h"
#include "validate.h"

typedef struct lock_request_s {
    char lock_id[VALIDATE_UUID_LEN + 1];    /* "" for acquire */
    slot_t slot;
    unsigned present;                       /* VALIDATE_NEED_* bits */
    const char *holder;                     /* into body; NULL when none */
    long ttl_ms;                            /* acquire and refresh */
    char lock_key[SLOT_KEY_MAX];            /* "" unless the fields name it */
    char lockid_key[SLOT_KEY_MAX];          /* "" for acquire */
    char *expected;                         /* owned: the fields sent, as
                                               JSON; NULL for acquire */
} lock_request_t;

/*
 * Checks the input of route (ROUTE_ACQUIRE, ROUTE_VERIFY, ROUTE_REFRESH,
 * ROUTE_RELEASE, ROUTE_LOCK_GET or ROUTE_LOCK_DELETE): body is the parsed
 * JSON body (NULL for the routes that take none), path_id the {lockId} of
 * the path routes. Fills req and returns true when errors stayed empty;
 * otherwise errors lists every bad field. Call lock_request_free either way.
 */
bool lock_request_parse(route_t route, const config_t *cfg, json_t *body,
                        const char *path_id, lock_request_t *req,
                        json_t *errors);

void lock_request_free(lock_request_t *req);

#endif
