/*
 * appointments.c - the /api/appointments routes.
 *
 * Creation is where "never double-booked" is decided, in one script below
 * db_book: the lockId is the idempotency key, so a retry gets the booking
 * that was made, never a second one. Listing, reading and cancelling need
 * the operator's token or a tenant token for the appointment's tenant.
 */
#include "appointments.h"

#include <stdio.h>
#include <time.h>

#include "parse.h"
#include "reply.h"

/* Formats epoch milliseconds as ISO 8601 UTC, e.g. 2025-03-10T14:00:00.000Z */
static json_t *iso8601(json_int_t ms)
{
    time_t s = (time_t) (ms / 1000);
    struct tm tm;
    char buf[64];

    gmtime_r(&s, &tm);
    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int) (ms % 1000));
    return json_string(buf);
}

/* The appointment as the API shows it, from the stored record. */
static json_t *appointment_view(json_t *stored)
{
    static const char *const fields[] = {
        "id", "tenantId", "specialistId", "serviceId", "date", "startTime",
        "endTime", "duration", "customerName", "customerEmail",
        "customerPhone", "price", "status", "fence"
    };
    json_t *view = json_object();

    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        json_t *v = json_object_get(stored, fields[i]);

        json_object_set(view, fields[i], v ? v : json_null());
    }
    json_object_set_new(view, "createdAt",
                        iso8601(json_integer_value(
                            json_object_get(stored, "createdAt"))));
    return view;
}

/* Answers status with {"appointment": view}, or the refusal (404). */
static void answer_appointment(json_t *answer, int status,
                               http_response_t *res)
{
    if (reply_refused(answer, 404, res) == NULL) {
        json_object_set_new(http_ok(res, status), "appointment",
                            appointment_view(json_object_get(answer,
                                                             "appointment")));
    }
}

/* Only the operator or the tenant's admin may book without holding the
 * slot first, or book late (ifStillFree) once the hold is gone: customers
 * cannot skip holds. */
static bool may_book(worker_t *w, const http_request_t *req,
                     const booking_request_t *in, http_response_t *res)
{
    auth_principal_t who;

    if (in->with_lock && !in->if_still_free) {
        return true;
    }
    if (req->authorization == NULL && !in->if_still_free) {
        http_error(res, 400, "lock_required",
                   "A lockId from POST /api/locks/acquire is required");
        return false;
    }
    return reply_admin(w, req, AUTH_MANAGE, &who, res)
           && reply_tenant(&who, in->slot.tenant, res);
}

/* The path's appointment id, or false with 404 not_found in res. */
static bool appointment_id(const route_match_t *match, http_response_t *res)
{
    if (parse_appointment_id(match->param)) {
        return true;
    }
    http_error(res, 404, "not_found", "No appointment has that id");
    return false;
}

/* The tenant of an answer's stored appointment; "" for a refusal. */
static const char *answer_tenant(json_t *answer)
{
    const char *tenant = json_string_value(json_object_get(
        json_object_get(answer, "appointment"), "tenantId"));

    return tenant ? tenant : "";
}

void appointment_create(worker_t *w, const http_request_t *req,
                        const route_match_t *match, http_response_t *res)
{
    (void) match;
    json_t *body = http_json_body(req, res);
    json_t *answer;
    booking_request_t in;

    if (body == NULL) {
        return;
    }
    json_t *errors = json_array();
    parse_booking(body, &in, errors);
    if (!reply_invalid(res, errors) && may_book(w, req, &in, res)
        && reply_db(w, db_book(&w->db, &in, &answer), res))
    {
        json_t *err = reply_refused(answer, 409, res);

        if (err != NULL) {
            reply_copy(err, answer, "remainingTTL");
        } else {
            bool created = json_is_true(json_object_get(answer, "created"));
            json_t *appt = json_object_get(answer, "appointment");

            answer_appointment(answer, created ? 201 : 200, res);
            reply_copy(res->json, answer, "lateBooking");
            /* What a checkout reads first: the id, at the top. */
            json_object_set(res->json, "appointmentId",
                            json_object_get(appt, "id"));
        }
        json_decref(answer);
    }
    json_decref(body);
}

void appointment_list(worker_t *w, const http_request_t *req,
                      const route_match_t *match, http_response_t *res)
{
    (void) match;
    json_t *answer;
    list_request_t in;

    if (!reply_admin_list(w, req, parse_appointments, &in, res)
        || !reply_db(w, db_appointments(&w->db, &in, &answer), res))
    {
        return;
    }
    json_t *list = json_array();
    size_t i;
    json_t *stored;
    json_array_foreach(json_object_get(answer, "appointments"), i, stored) {
        json_array_append_new(list, appointment_view(stored));
    }
    json_t *ok = http_ok(res, 200);
    json_object_set_new(ok, "count",
                        json_integer((json_int_t) json_array_size(list)));
    json_object_set_new(ok, "appointments", list);
    json_decref(answer);
}

void appointment_get(worker_t *w, const http_request_t *req,
                     const route_match_t *match, http_response_t *res)
{
    json_t *answer;
    auth_principal_t who;

    if (reply_admin(w, req, AUTH_READ, &who, res) && appointment_id(match, res)
        && reply_db(w, db_appointment(&w->db, match->param, &answer), res))
    {
        if (reply_tenant(&who, answer_tenant(answer), res)) {
            answer_appointment(answer, 200, res);
        }
        json_decref(answer);
    }
}

/*
 * A tenant token's cancel first reads the appointment, to refuse another
 * tenant's before anything changes; an appointment never changes tenant,
 * so the cancel that follows acts on the one that was checked.
 */
void appointment_cancel(worker_t *w, const http_request_t *req,
                        const route_match_t *match, http_response_t *res)
{
    json_t *answer;
    auth_principal_t who;

    if (!reply_admin(w, req, AUTH_MANAGE, &who, res)
        || !appointment_id(match, res))
    {
        return;
    }
    if (who.role != AUTH_OPERATOR) {
        if (!reply_db(w, db_appointment(&w->db, match->param, &answer),
                      res))
        {
            return;
        }
        bool refused = json_object_get(answer, "err") != NULL;
        bool mine = !refused
                    && reply_tenant(&who, answer_tenant(answer), res);
        if (refused) {
            answer_appointment(answer, 200, res);   /* 404 not_found */
        }
        json_decref(answer);
        if (!mine) {
            return;
        }
    }
    if (reply_db(w, db_cancel(&w->db, match->param, &answer), res)) {
        answer_appointment(answer, 200, res);
        json_decref(answer);
    }
}
