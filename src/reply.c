/*
 * reply.c - the answers every handler shapes the same way. See reply.h.
 */
#include "reply.h"

#include <string.h>
#include <time.h>

#include "auth.h"
#include "log.h"

bool reply_invalid(http_response_t *res, json_t *errors)
{
    bool invalid = json_array_size(errors) > 0;

    if (invalid) {
        http_validation_error(res, errors);
    }
    json_decref(errors);
    return invalid;
}

bool reply_db(worker_t *w, db_status_t status, http_response_t *res)
{
    if (status == DB_OK) {
        return true;
    }
    log_error("worker %d: redis: %s", w->id, db_error(&w->db));
    switch (status) {
    case DB_OUT_OF_MEMORY:
        http_unavailable(res, "Redis is out of memory; nothing was changed");
        break;
    case DB_NOT_REPLICATED:
        http_unavailable(res, "The booking is not yet confirmed by enough "
                         "replicas; retry with the same lockId");
        break;
    case DB_FAILED:
        http_error(res, 500, "internal_error", "The request failed");
        break;
    default:
        http_unavailable(res, "The lock store is unavailable; try again");
        break;
    }
    return false;
}

/* What a person is told for each reason a refusal can give. */
static const char *reason_message(const char *reason)
{
    static const struct {
        const char *reason, *message;
    } messages[] = {
        { "slot_locked", "Slot is currently locked by another user" },
        { "slot_booked", "Slot is already booked" },
        { "slot_full", "Every place of this interval is taken" },
        { "too_many_locks", "This holder already holds the most locks "
          "allowed; release one first" },
        { "lock_not_found", "No live lock has that lockId" },
        { "lock_mismatch", "The lock is for another slot" },
        { "lock_expired", "Your reservation expired. Please select a time "
          "slot again." },
        { "max_hold_reached", "The lock cannot be extended any further" },
        { "not_found", "No appointment has that id" },
        { "lock_used", "This lockId was already used for another booking" },
        { "checkout_started", "The payment phase of this hold has begun: "
          "it can no longer be extended" },
    };

    for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++) {
        if (strcmp(messages[i].reason, reason) == 0) {
            return messages[i].message;
        }
    }
    return "The request was refused";
}

json_t *reply_refused(json_t *answer, int status, http_response_t *res)
{
    const char *reason = json_string_value(json_object_get(answer, "err"));

    if (reason == NULL) {
        return NULL;
    }
    json_t *body = http_error(res, status, reason, reason_message(reason));
    /* The reason string lives in answer; keep the body's own copy. */
    res->reason = json_string_value(json_object_get(body, "reason"));
    return body;
}

void reply_released(json_t *answer, http_response_t *res)
{
    json_t *err = reply_refused(answer, 404, res);

    if (err != NULL) {
        json_object_set_new(err, "released", json_false());
    } else {
        json_object_set_new(http_ok(res, 200), "released", json_true());
    }
}

void reply_copy(json_t *body, json_t *answer, const char *name)
{
    json_t *v = json_object_get(answer, name);

    if (v != NULL) {
        json_object_set(body, name, v);
    }
}

bool reply_admin(worker_t *w, const http_request_t *req,
                 auth_action_t action, auth_principal_t *who,
                 http_response_t *res)
{
    switch (auth_identify(w->cfg, req->authorization, time(NULL), who)) {
    case AUTH_OK:
        break;
    case AUTH_DISABLED:
        http_error(res, 403, "admin_disabled",
                   "Admin routes are off: neither ADMIN_TOKEN nor tenant "
                   "tokens (JWT_SECRET, JWT_PUBLIC_KEY_FILE) are set");
        return false;
    case AUTH_INVALID_TOKEN:
        http_error(res, 401, "unauthorized",
                   "The token is invalid, expired or not yet valid");
        res->www_authenticate = true;
        res->invalid_token = true;
        return false;
    default:
        http_error(res, 401, "unauthorized",
                   "A valid admin token is required");
        res->www_authenticate = true;
        return false;
    }
    if (auth_may(who, action) != AUTH_ALLOWED) {
        http_error(res, 403, "forbidden",
                   "This token's role may not do that");
        return false;
    }
    return true;
}

bool reply_tenant(const auth_principal_t *who, const char *tenant,
                  http_response_t *res)
{
    if (tenant == NULL || tenant[0] == '\0'
        || auth_may_tenant(who, tenant) == AUTH_ALLOWED)
    {
        return true;
    }
    http_error(res, 403, "forbidden_tenant",
               "This token is for another tenant");
    return false;
}

bool reply_admin_list(worker_t *w, const http_request_t *req,
                      reply_list_parse_fn parse, list_request_t *in,
                      http_response_t *res)
{
    json_t *errors = json_array();
    auth_principal_t who;

    parse(req->query, in, errors);
    if (!reply_admin(w, req, AUTH_READ, &who, res)
        || !reply_tenant(&who, in->slot.tenant, res))
    {
        json_decref(errors);
        return false;
    }
    return !reply_invalid(res, errors);
}
