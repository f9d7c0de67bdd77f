/*
 * appointments.h - a booking request's body, checked (pure: no I/O).
 *
 * POST /api/appointments turns its body into an appointment_request_t
 * before anything touches Redis. That step stands on its own so that unit
 * tests and fuzzers can run it on any bytes without a store.
 */
#ifndef SLOTLOCK_APPOINTMENTS_H
#define SLOTLOCK_APPOINTMENTS_H

#include <jansson.h>
#include <stdbool.h>

#include "slot.h"
#include "validate.h"

typedef struct appointment_request_s {
    char lock_id[VALIDATE_UUID_LEN + 1];    /* "" when none was sent */
    bool with_lock;                         /* a lockId was sent */
    slot_t slot;
    unsigned present;                       /* VALIDATE_NEED_* bits */
} appointment_request_t;

/*
 * Checks every field of a booking body (see API.md for the rules). Fills
 * req and returns true when errors stayed empty; otherwise errors lists
 * every bad field. The other fields (serviceId, endTime, customer*, price)
 * stay in body, checked.
 */
bool appointment_request_parse(json_t *body, appointment_request_t *req,
                               json_t *errors);

#endif
