/*
 * reply.h - the answers every handler shapes the same way.
 *
 * On top of http.h's bodies: the 400 of a failed parse step, the 503 of a
 * data-layer failure, a refusal's status and message, and the checks of
 * who may call the admin routes.
 */
#ifndef SLOTLOCK_REPLY_H
#define SLOTLOCK_REPLY_H

#include <jansson.h>
#include <stdbool.h>

#include "auth.h"
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
 * Who calls an admin route (the operator's token or a tenant token, into
 * who), and whether their role may do action. False with res filled when
 * the request may not go on: 403 admin_disabled, 401 unauthorized (with
 * error="invalid_token" for a bad tenant token), 403 forbidden.
 */
bool reply_admin(worker_t *w, const http_request_t *req,
                 auth_action_t action, auth_principal_t *who,
                 http_response_t *res);

/*
 * Whether who may act on tenant's data; false with 403 forbidden_tenant in
 * res when not. An empty tenant (a missing tenantId, which its parse step
 * refuses) passes, so that the request gets its validation error.
 */
bool reply_tenant(const auth_principal_t *who, const char *tenant,
                  http_response_t *res);

/* A parse step of an admin list's query string (parse.h). */
typedef bool (*reply_list_parse_fn)(const char *query, list_request_t *in,
                                    json_t *errors);

/*
 * The start of an admin list route (admin/active, appointments): reads the
 * query with parse into in, then checks that the caller may read the
 * tenant named. False with res filled (the auth refusals above, or 400
 * validation_error) when the request may not go on.
 */
bool reply_admin_list(worker_t *w, const http_request_t *req,
                      reply_list_parse_fn parse, list_request_t *in,
                      http_response_t *res);

#endif
