/*
 * locks.c - the /api/locks routes a customer's page calls.
 *
 * Each handler reads top to bottom: parse (parse.c), one data-layer call
 * (db.c), and the answer.
 */
#include "locks.h"

#include <string.h>
#include <time.h>

#include "auth.h"
#include "parse.h"
#include "reply.h"

/*
 * The part every lock route shares: read the body (the path routes have
 * none) and check it, answering 400 with every bad field. True with in
 * filled when the request may go on.
 */
static bool lock_input(worker_t *w, const http_request_t *req,
                       const route_match_t *match, http_response_t *res,
                       lock_request_t *in)
{
    bool takes_body = match->route != ROUTE_LOCK_GET
                      && match->route != ROUTE_LOCK_DELETE;
    json_t *body = NULL;
    json_t *errors;

    if (takes_body && (body = http_json_body(req, res)) == NULL) {
        return false;
    }
    errors = json_array();
    parse_lock(match->route, w->cfg, body, match->param, in, errors);
    json_decref(body);
    return !reply_invalid(res, errors);
}

/* The success body that acquire and refresh share. */
static json_t *lock_body(worker_t *w, json_t *answer, http_response_t *res)
{
    json_t *body = http_ok(res, 200);

    json_object_set_new(body, "locked", json_true());
    reply_copy(body, answer, "lockId");
    reply_copy(body, answer, "expiresIn");
    reply_copy(body, answer, "expiresAt");
    reply_copy(body, answer, "serverTime");
    reply_copy(body, answer, "fence");
    json_object_set_new(body, "refreshInterval",
                        json_integer(w->cfg->lock_refresh_interval_ms));
    return body;
}

void lock_health(worker_t *w, const http_request_t *req,
                 const route_match_t *match, http_response_t *res)
{
    (void) req;
    (void) match;
    if (!reply_db(w, db_health(&w->db), res)) {
        json_t *body = http_error(res, 503, "service_unavailable",
                                  "Lock service cannot reach Redis");
        json_object_set_new(body, "healthy", json_false());
        res->retry_after = true;
        return;
    }
    json_t *body = http_ok(res, 200);
    json_object_set_new(body, "healthy", json_true());
    json_object_set_new(body, "message",
                        json_string("Lock service is operational"));
}

static bool exempt_from_address_cap(worker_t *w, const http_request_t *req,
                                    const char *tenant)
{
    auth_principal_t who;

    if (req->authorization == NULL
        || auth_identify(w->cfg, req->authorization, time(NULL), &who)
           != AUTH_OK)
    {
        return false;
    }
    return who.role == AUTH_OPERATOR
           || (who.role == AUTH_TENANT_ADMIN
               && auth_may_tenant(&who, tenant) == AUTH_ALLOWED);
}

void lock_acquire(worker_t *w, const http_request_t *req,
                  const route_match_t *match, http_response_t *res)
{
    lock_request_t in;
    json_t *answer;

    if (!lock_input(w, req, match, res, &in)) {
        return;
    }
    /* The operator's and the tenant's admin's tokens are exempt from the
     * cap per address. */
    if (!exempt_from_address_cap(w, req, in.slot.tenant)) {
        parse_client(req->client_addr, &in);
    }
    if (!reply_db(w, db_acquire(&w->db, &in, &answer), res)) {
        return;
    }
    const char *reason = json_string_value(json_object_get(answer, "err"));
    int status = reason && strcmp(reason, "too_many_locks") == 0 ? 429 : 409;
    json_t *err = reply_refused(answer, status, res);
    if (err != NULL) {
        json_object_set_new(err, "locked", json_false());
        reply_copy(err, answer, "remainingTTL");
    } else {
        lock_body(w, answer, res);
    }
    json_decref(answer);
}

void lock_verify(worker_t *w, const http_request_t *req,
                 const route_match_t *match, http_response_t *res)
{
    lock_request_t in;
    json_t *answer;

    if (!lock_input(w, req, match, res, &in)
        || !reply_db(w, db_verify(&w->db, &in, &answer), res))
    {
        return;
    }
    json_t *err = reply_refused(answer, 409, res);
    if (err != NULL) {
        json_object_set_new(err, "valid", json_false());
    } else {
        json_t *ok = http_ok(res, 200);
        json_object_set_new(ok, "valid", json_true());
        reply_copy(ok, answer, "remainingTTL");
        reply_copy(ok, answer, "fence");
    }
    json_decref(answer);
}

void lock_refresh(worker_t *w, const http_request_t *req,
                  const route_match_t *match, http_response_t *res)
{
    lock_request_t in;
    json_t *answer;

    if (!lock_input(w, req, match, res, &in)
        || !reply_db(w, db_refresh(&w->db, &in, &answer), res))
    {
        return;
    }
    const char *reason = json_string_value(json_object_get(answer, "err"));
    int status = reason && (strcmp(reason, "max_hold_reached") == 0
                            || strcmp(reason, "checkout_started") == 0)
                 ? 409 : 404;
    json_t *err = reply_refused(answer, status, res);
    if (err != NULL) {
        json_object_set_new(err, "refreshed", json_false());
    } else {
        json_object_set_new(lock_body(w, answer, res), "refreshed",
                            json_true());
    }
    json_decref(answer);
}

void lock_release(worker_t *w, const http_request_t *req,
                  const route_match_t *match, http_response_t *res)
{
    lock_request_t in;
    json_t *answer;

    if (!lock_input(w, req, match, res, &in)
        || !reply_db(w, db_release(&w->db, &in, &answer), res))
    {
        return;
    }
    reply_released(answer, res);
    json_decref(answer);
}

void lock_checkout(worker_t *w, const http_request_t *req,
                   const route_match_t *match, http_response_t *res)
{
    lock_request_t in;
    json_t *answer;

    if (!lock_input(w, req, match, res, &in)
        || !reply_db(w, db_checkout(&w->db, &in, &answer), res))
    {
        return;
    }
    const char *reason = json_string_value(json_object_get(answer, "err"));
    int status = reason && strcmp(reason, "checkout_started") == 0 ? 409
                                                                   : 404;
    json_t *err = reply_refused(answer, status, res);
    if (err != NULL) {
        json_object_set_new(err, "checkout", json_false());
    } else {
        json_t *ok = http_ok(res, 200);

        json_object_set_new(ok, "checkout", json_true());
        reply_copy(ok, answer, "lockId");
        reply_copy(ok, answer, "expiresIn");
        reply_copy(ok, answer, "expiresAt");
        reply_copy(ok, answer, "serverTime");
    }
    json_decref(answer);
}

void lock_get(worker_t *w, const http_request_t *req,
              const route_match_t *match, http_response_t *res)
{
    static const char *const fields[] = {
        "lockId", "tenantId", "resourceId", "date", "startTime",
        "duration", "expiresIn", "expiresAt", "serverTime", "state",
        "fence"
    };
    lock_request_t in;
    json_t *answer;

    if (!lock_input(w, req, match, res, &in)
        || !reply_db(w, db_get(&w->db, &in, &answer), res))
    {
        return;
    }
    if (reply_refused(answer, 404, res) == NULL) {
        json_t *ok = http_ok(res, 200);

        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
            reply_copy(ok, answer, fields[i]);
        }
    }
    json_decref(answer);
}

void lock_status(worker_t *w, const http_request_t *req,
                 const route_match_t *match, http_response_t *res)
{
    (void) match;
    json_t *errors = json_array();
    json_t *answer;
    slot_t day;

    parse_status(req->query, &day, errors);
    if (reply_invalid(res, errors)
        || !reply_db(w, db_status(&w->db, &day, &answer), res))
    {
        return;
    }
    json_t *ok = http_ok(res, 200);
    json_object_set_new(ok, "tenantId", json_string(day.tenant));
    json_object_set_new(ok, "resourceId", json_string(day.resource));
    json_object_set_new(ok, "date", json_string(day.date));
    reply_copy(ok, answer, "capacity");
    reply_copy(ok, answer, "locked");
    reply_copy(ok, answer, "booked");
    json_decref(answer);
}
