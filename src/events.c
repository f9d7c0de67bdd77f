/*
 * events.c - GET /api/events?tenantId=&after=&limit=: a page of the
 * tenant's events (docs/events.md), for the operator's token or a tenant
 * token of that tenant (reply_admin, reply_tenant).
 */
#include "events.h"

#include "parse.h"
#include "reply.h"

void events_list(worker_t *w, const http_request_t *req,
                 const route_match_t *match, http_response_t *res)
{
    (void) match;
    json_t *errors = json_array();
    json_t *answer;
    events_request_t in;
    auth_principal_t who;

    parse_events(req->query, &in, errors);
    /* The operator or the tenant's admins, not its staff: every hold and
     * booking of the tenant, as the metrics are. */
    if (!reply_admin(w, req, AUTH_MANAGE, &who, res)
        || !reply_tenant(&who, in.tenant, res))
    {
        json_decref(errors);
        return;
    }
    if (reply_invalid(res, errors)
        || !reply_db(w, db_events(&w->db, &in, &answer), res))
    {
        return;
    }
    json_t *events = json_object_get(answer, "events");
    json_t *ok = http_ok(res, 200);
    json_object_set_new(ok, "tenantId", json_string(in.tenant));
    json_object_set_new(ok, "count",
                        json_integer((json_int_t) json_array_size(events)));
    json_object_set(ok, "events", events);
    json_object_set(ok, "next", json_object_get(answer, "next"));
    json_decref(answer);
}
