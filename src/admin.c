/*
 * admin.c - the admin lock routes: active locks, force-release, metrics.
 * Every one of them needs the operator's token or a tenant token for the
 * tenant concerned (reply_admin, reply_tenant).
 */
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parse.h"
#include "reply.h"

void lock_admin_active(worker_t *w, const http_request_t *req,
                       const route_match_t *match, http_response_t *res)
{
    (void) match;
    json_t *answer;
    list_request_t in;

    if (!reply_admin_list(w, req, parse_active, &in, res)
        || !reply_db(w, db_active(&w->db, &in, &answer), res))
    {
        return;
    }
    json_t *locks = json_object_get(answer, "locks");
    json_t *ok = http_ok(res, 200);
    json_object_set_new(ok, "tenantId", json_string(in.slot.tenant));
    json_object_set_new(ok, "count",
                        json_integer((json_int_t) json_array_size(locks)));
    json_object_set(ok, "locks", locks);
    reply_copy(ok, answer, "nextCursor");
    json_decref(answer);
}

void lock_admin_force_release(worker_t *w, const http_request_t *req,
                              const route_match_t *match,
                              http_response_t *res)
{
    (void) match;
    json_t *body, *answer;
    slot_t slot;
    auth_principal_t who;

    if (!reply_admin(w, req, AUTH_MANAGE, &who, res)
        || (body = http_json_body(req, res)) == NULL)
    {
        return;
    }
    json_t *errors = json_array();
    parse_force_release(body, &slot, errors);
    json_decref(body);
    if (!reply_tenant(&who, slot.tenant, res)) {
        json_decref(errors);
        return;
    }
    if (reply_invalid(res, errors)
        || !reply_db(w, db_force_release(&w->db, &slot, &answer), res))
    {
        return;
    }
    reply_released(answer, res);
    json_decref(answer);
}

/* Most pages of holds counted for one tenant's metrics (1000 each). */
#define TENANT_METRICS_PAGES 100

/*
 * The live holds of one tenant, counted page by page through the same
 * listing admin/active answers; false (res filled) when Redis fails.
 */
static bool count_tenant_locks(worker_t *w, const char *tenant,
                               json_int_t *count, http_response_t *res)
{
    char query[SLOT_ID_MAX * 3 + 64];
    char cursor[SLOT_ID_MAX * 3 + 32] = "";

    *count = 0;
    for (int page = 0; page < TENANT_METRICS_PAGES; page++) {
        json_t *errors = json_array();
        json_t *answer;
        list_request_t in;

        snprintf(query, sizeof(query), "tenantId=%s&limit=%d%s%s", tenant,
                 PARSE_ACTIVE_LIMIT_MAX, cursor[0] ? "&cursor=" : "",
                 cursor);
        parse_active(query, &in, errors);
        json_decref(errors);
        if (!reply_db(w, db_active(&w->db, &in, &answer), res)) {
            return false;
        }
        *count += (json_int_t) json_array_size(json_object_get(answer,
                                                               "locks"));
        const char *next = json_string_value(json_object_get(answer,
                                                             "nextCursor"));
        bool more = next != NULL && strlen(next) < sizeof(cursor);
        if (more) {
            strcpy(cursor, next);
        }
        json_decref(answer);
        if (!more) {
            break;
        }
    }
    return true;
}

/*
 * One tenant's metrics: its live holds and its appointments by status,
 * read from the data itself (the counters of the whole instance are not
 * kept per tenant, and are not shown to a tenant).
 */
static void tenant_metrics(worker_t *w, const char *tenant, bool prometheus,
                           http_response_t *res)
{
    json_t *errors = json_array();
    json_t *answer;
    list_request_t in;
    json_int_t active, confirmed = 0, cancelled = 0;
    char query[SLOT_ID_MAX + 16];

    if (!count_tenant_locks(w, tenant, &active, res)) {
        json_decref(errors);
        return;
    }
    snprintf(query, sizeof(query), "tenantId=%s", tenant);
    parse_appointments(query, &in, errors);
    json_decref(errors);
    if (!reply_db(w, db_appointments(&w->db, &in, &answer), res)) {
        return;
    }
    size_t i;
    json_t *appt;
    json_array_foreach(json_object_get(answer, "appointments"), i, appt) {
        const char *status = json_string_value(json_object_get(appt,
                                                               "status"));
        if (status != NULL && strcmp(status, "cancelled") == 0) {
            cancelled++;
        } else {
            confirmed++;
        }
    }
    json_decref(answer);
    if (prometheus) {
        char *text = NULL;
        if (asprintf(&text,
                     "# HELP slotlock_tenant_active_locks Live holds of the "
                     "tenant.\n"
                     "# TYPE slotlock_tenant_active_locks gauge\n"
                     "slotlock_tenant_active_locks{tenant=\"%s\"} %lld\n"
                     "# HELP slotlock_tenant_appointments Appointments of "
                     "the tenant by status.\n"
                     "# TYPE slotlock_tenant_appointments gauge\n"
                     "slotlock_tenant_appointments{tenant=\"%s\","
                     "status=\"confirmed\"} %lld\n"
                     "slotlock_tenant_appointments{tenant=\"%s\","
                     "status=\"cancelled\"} %lld\n",
                     tenant, (long long) active, tenant,
                     (long long) confirmed, tenant,
                     (long long) cancelled) < 0)
        {
            http_error(res, 500, "internal_error", "Out of memory");
            return;
        }
        res->status = 200;
        res->text = text;
        res->content_type = "text/plain; version=0.0.4; charset=utf-8";
        return;
    }
    json_t *m = json_pack("{s:s, s:I, s:I, s:I, s:I}", "tenantId", tenant,
                          "activeLocks", active,
                          "appointmentsConfirmed", confirmed,
                          "appointmentsCancelled", cancelled,
                          "timestamp", (json_int_t) time(NULL));
    json_object_set_new(http_ok(res, 200), "metrics", m);
}

void lock_metrics(worker_t *w, const http_request_t *req,
                  const route_match_t *match, http_response_t *res)
{
    (void) match;
    json_t *errors = json_array();
    bool prometheus;
    char tenant[SLOT_ID_MAX + 1];
    auth_principal_t who;

    parse_metrics(req->query, req->accept, &prometheus, tenant, errors);
    if (!reply_admin(w, req, AUTH_MANAGE, &who, res)
        || !reply_tenant(&who, tenant, res))
    {
        json_decref(errors);
        return;
    }
    if (reply_invalid(res, errors)) {
        return;
    }
    /* A tenant token sees its own tenant, named or not. */
    if (tenant[0] == '\0' && who.role != AUTH_OPERATOR) {
        strcpy(tenant, who.tenant);
    }
    if (tenant[0] != '\0') {
        tenant_metrics(w, tenant, prometheus, res);
        return;
    }

    /* Redis down: still answer, with redisConnected false. */
    json_t *stats = NULL;
    metrics_redirects_t redirects;
    db_metrics(&w->db, &stats);
    db_redirects(&redirects.moved, &redirects.ask, &redirects.tryagain);
    time_t now = time(NULL);
    if (prometheus) {
        json_t *webhooks = NULL;
        char *text = metrics_prometheus(w->metrics, stats, &redirects, now);

        /* The webhook dispatcher's counters, which it keeps in Redis. */
        db_webhook_stats(&w->db, &webhooks);
        char *more = metrics_webhooks_prometheus(webhooks);
        json_decref(webhooks);
        if (text != NULL && more != NULL) {
            char *both = NULL;

            if (asprintf(&both, "%s%s", text, more) >= 0) {
                free(text);
                text = both;
            }
        }
        free(more);
        res->status = 200;
        res->text = text;
        res->content_type = "text/plain; version=0.0.4; charset=utf-8";
    } else {
        json_object_set_new(http_ok(res, 200), "metrics",
                            metrics_json(w->metrics, stats, now));
    }
    json_decref(stats);
}
