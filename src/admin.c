/*
 * admin.c - the admin lock routes: active locks, force-release, metrics.
 * Every one of them needs the admin token.
 */
#include "admin.h"

#include <time.h>

#include "parse.h"
#include "reply.h"

void lock_admin_active(worker_t *w, const http_request_t *req,
                       const route_match_t *match, http_response_t *res)
{
    (void) match;
    json_t *errors = json_array();
    json_t *answer;
    list_request_t in;

    parse_active(req->query, &in, errors);
    if (!reply_admin(w, req, res)) {
        json_decref(errors);
        return;
    }
    if (reply_invalid(res, errors)
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

    if (!reply_admin(w, req, res)
        || (body = http_json_body(req, res)) == NULL)
    {
        return;
    }
    json_t *errors = json_array();
    parse_force_release(body, &slot, errors);
    json_decref(body);
    if (reply_invalid(res, errors)
        || !reply_db(w, db_force_release(&w->db, &slot, &answer), res))
    {
        return;
    }
    reply_released(answer, res);
    json_decref(answer);
}

void lock_metrics(worker_t *w, const http_request_t *req,
                  const route_match_t *match, http_response_t *res)
{
    (void) match;
    json_t *errors = json_array();
    bool prometheus;

    parse_metrics(req->query, req->accept, &prometheus, errors);
    if (!reply_admin(w, req, res)) {
        json_decref(errors);
        return;
    }
    if (reply_invalid(res, errors)) {
        return;
    }

    /* Redis down: still answer, with redisConnected false. */
    json_t *stats = NULL;
    metrics_redirects_t redirects;
    db_metrics(&w->db, &stats);
    db_redirects(&redirects.moved, &redirects.ask, &redirects.tryagain);
    time_t now = time(NULL);
    if (prometheus) {
        res->status = 200;
        res->text = metrics_prometheus(w->metrics, stats, &redirects, now);
        res->content_type = "text/plain; version=0.0.4; charset=utf-8";
    } else {
        json_object_set_new(http_ok(res, 200), "metrics",
                            metrics_json(w->metrics, stats, now));
    }
    json_decref(stats);
}
