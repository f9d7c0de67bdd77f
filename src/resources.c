/*
 * resources.c - /api/resources: a resource's settings, read by every lock
 * and booking script of the resource. The operator reads and writes any
 * tenant's; a tenant token its own tenant's (staff may read them).
 */
#include "resources.h"

#include "parse.h"
#include "reply.h"

/* {"success": true, "tenantId", "resourceId", "capacity", "bufferBefore",
 * "bufferAfter"} from the stored settings. */
static void answer_settings(const slot_t *slot, json_t *answer,
                            http_response_t *res)
{
    json_t *ok = http_ok(res, 200);

    json_object_set_new(ok, "tenantId", json_string(slot->tenant));
    json_object_set_new(ok, "resourceId", json_string(slot->resource));
    reply_copy(ok, answer, "capacity");
    reply_copy(ok, answer, "bufferBefore");
    reply_copy(ok, answer, "bufferAfter");
}

void resource_get(worker_t *w, const http_request_t *req,
                  const route_match_t *match, http_response_t *res)
{
    (void) match;
    json_t *errors = json_array();
    json_t *answer;
    resource_request_t in;

    auth_principal_t who;

    parse_resource_get(req->query, &in, errors);
    if (!reply_admin(w, req, AUTH_READ, &who, res)) {
        json_decref(errors);
        return;
    }
    if (reply_invalid(res, errors) || !reply_tenant(&who, in.slot.tenant, res)
        || !reply_db(w, db_resource_get(&w->db, &in.slot, &answer), res))
    {
        return;
    }
    answer_settings(&in.slot, answer, res);
    json_decref(answer);
}

void resource_put(worker_t *w, const http_request_t *req,
                  const route_match_t *match, http_response_t *res)
{
    (void) match;
    json_t *body, *answer;
    resource_request_t in;
    auth_principal_t who;

    if (!reply_admin(w, req, AUTH_MANAGE, &who, res)
        || (body = http_json_body(req, res)) == NULL)
    {
        return;
    }
    json_t *errors = json_array();
    parse_resource_put(body, &in, errors);
    json_decref(body);
    if (reply_invalid(res, errors) || !reply_tenant(&who, in.slot.tenant, res)
        || !reply_db(w, db_resource_put(&w->db, &in, &answer), res))
    {
        return;
    }
    answer_settings(&in.slot, answer, res);
    json_decref(answer);
}
