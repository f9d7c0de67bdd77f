/*
 * webhooks.c - /api/webhooks. The operator registers endpoints for any
 * tenant, or for every tenant (no tenantId); a tenant admin only for its
 * own tenant. Secrets are shown once, in the answer that made them.
 */
#include "webhooks.h"

#include <string.h>

#include "parse.h"
#include "reply.h"
#include "signature.h"

/* The tenant a request is about: the one named, or a tenant token's own
 * when none was named. */
static void own_tenant(const auth_principal_t *who, char *tenant)
{
    if (tenant[0] == '\0' && who->role != AUTH_OPERATOR) {
        strcpy(tenant, who->tenant);
    }
}

void webhook_create(worker_t *w, const http_request_t *req,
                    const route_match_t *match, http_response_t *res)
{
    (void) match;
    json_t *body, *answer;
    webhook_request_t in;
    auth_principal_t who;
    char id[PARSE_WEBHOOK_ID_LEN + 1] = "wh_";
    char secret[PARSE_WEBHOOK_SECRET_MAX + 1];

    if (!reply_admin(w, req, AUTH_MANAGE, &who, res)
        || (body = http_json_body(req, res)) == NULL)
    {
        return;
    }
    json_t *errors = json_array();
    parse_webhook_create(body, &in, errors);
    json_decref(body);
    own_tenant(&who, in.tenant);
    if (!reply_tenant(&who, in.tenant, res)) {
        json_decref(errors);
        return;
    }
    if (reply_invalid(res, errors)) {
        return;
    }
    strcpy(secret, "whsec_");
    if (!signature_random_hex(16, id + 3, sizeof(id) - 3)
        || (in.secret[0] == '\0'
            && !signature_random_hex(24, secret + 6, sizeof(secret) - 6)))
    {
        http_error(res, 500, "internal_error", "No random bytes");
        return;
    }
    if (in.secret[0] != '\0') {
        strcpy(secret, in.secret);
    }
    if (!reply_db(w, db_webhook_create(&w->db, id, &in, secret, &answer),
                  res))
    {
        return;
    }
    json_t *ok = http_ok(res, 201);
    reply_copy(ok, answer, "webhook");
    json_object_set_new(ok, "secret", json_string(secret));
    json_decref(answer);
}

void webhook_list(worker_t *w, const http_request_t *req,
                  const route_match_t *match, http_response_t *res)
{
    (void) match;
    json_t *errors = json_array();
    json_t *answer;
    webhook_list_t in;
    auth_principal_t who;

    parse_webhook_list(req->query, &in, errors);
    if (!reply_admin(w, req, AUTH_MANAGE, &who, res)) {
        json_decref(errors);
        return;
    }
    own_tenant(&who, in.tenant);
    if (!reply_tenant(&who, in.tenant, res)) {
        json_decref(errors);
        return;
    }
    if (reply_invalid(res, errors)
        || !reply_db(w, db_webhook_list(&w->db, in.tenant, &answer), res))
    {
        return;
    }
    json_t *list = json_object_get(answer, "webhooks");
    json_t *ok = http_ok(res, 200);
    json_object_set_new(ok, "count",
                        json_integer((json_int_t) json_array_size(list)));
    json_object_set(ok, "webhooks", list);
    json_decref(answer);
}

void webhook_delete(worker_t *w, const http_request_t *req,
                    const route_match_t *match, http_response_t *res)
{
    json_t *answer;
    auth_principal_t who;

    if (!reply_admin(w, req, AUTH_MANAGE, &who, res)) {
        return;
    }
    if (!parse_webhook_id(match->param)) {
        http_error(res, 404, "not_found", "No webhook endpoint with this id");
        return;
    }
    if (!reply_db(w, db_webhook_get(&w->db, match->param, &answer), res)) {
        return;
    }
    json_t *hook = json_object_get(answer, "webhook");
    if (hook == NULL) {
        json_decref(answer);
        http_error(res, 404, "not_found", "No webhook endpoint with this id");
        return;
    }
    /* A deployment-wide endpoint (no tenantId) is the operator's. */
    const char *owner = json_string_value(json_object_get(hook, "tenantId"));
    if (who.role != AUTH_OPERATOR
        && !reply_tenant(&who, owner != NULL ? owner : "*", res))
    {
        json_decref(answer);
        return;
    }
    json_decref(answer);
    if (!reply_db(w, db_webhook_delete(&w->db, match->param), res)) {
        return;
    }
    json_object_set_new(http_ok(res, 200), "id", json_string(match->param));
}

void webhook_deadletters(worker_t *w, const http_request_t *req,
                         const route_match_t *match, http_response_t *res)
{
    (void) match;
    json_t *errors = json_array();
    json_t *answer;
    webhook_list_t in;
    auth_principal_t who;

    parse_webhook_list(req->query, &in, errors);
    if (!reply_admin(w, req, AUTH_MANAGE, &who, res)) {
        json_decref(errors);
        return;
    }
    own_tenant(&who, in.tenant);
    if (!reply_tenant(&who, in.tenant, res)) {
        json_decref(errors);
        return;
    }
    if (reply_invalid(res, errors)
        || !reply_db(w, db_deadletters(&w->db, &in, &answer), res))
    {
        return;
    }
    json_t *list = json_object_get(answer, "deadLetters");
    json_t *ok = http_ok(res, 200);
    json_object_set_new(ok, "count",
                        json_integer((json_int_t) json_array_size(list)));
    json_object_set(ok, "deadLetters", list);
    json_decref(answer);
}
