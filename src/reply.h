/*
 * reply.h - the answers every handler shapes the same way.
 *
 * On top of http.h's bodies: the 400 of a failed parse step, the 503 of a
 * data-layer failure, a refusal's status and message, and the admin check.
 */
#ifndef SLOTLOCK_REPLY_H
#define SLOTLOCK_REPLY_H

#include <jansson.h>
#include <stdbool.h>

#include "db.h"
#include "http.h"
#include "worker.h"

/* Answers 400 validation_error when errors is not empty; true if it did.
 * Takes errors' reference either way. */
bool reply_invalid(http_response_t *res, json_t *errors);

/*
 * True when status is DB_OK. Otherwise fills res (503, or 500 for a bug),
 * logs why, and returns false.
 */
bool reply_db(worker_t *w, db_status_t status, http_response_t *res);

/*
 * When answer is a refusal ({"err": reason}), fills res with status and
 * the reason's message and returns the body (for extra fields); NULL when
 * the operation succeeded.
 */
json_t *reply_refused(json_t *answer, int status, http_response_t *res);

/* The answer of a route that releases a lock: 200 {"released": true}, or
 * the refusal (404) with "released": false. */
void reply_released(json_t *answer, http_response_t *res);

/* Copies answer's field name into body, when answer has it. */
void reply_copy(json_t *body, json_t *answer, const char *name);

/*
 * Checks the admin token. False with res filled (403 admin_disabled or 401
 * unauthorized) when the request may not go on.
 */
bool reply_admin(worker_t *w, const http_request_t *req,
                 http_response_t *res);

#endif
