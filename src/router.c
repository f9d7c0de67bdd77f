/*
 * router.c - which handler a method and path go to. See router.h.
 *
 * The named routes come first, so GET /api/locks/acquire is a 405 rather
 * than a lookup of a lock called "acquire"; any other single segment under
 * /api/locks/ is a lockId.
 */
#include "router.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "resources.h"
#include "appointments.h"
#include "cors.h"
#include "events.h"
#include "http.h"
#include "locks.h"
#include "webhooks.h"
#include "worker.h"

/* docs/openapi.json, embedded at build time (src/openapi_gen.c). */
extern const char openapi_json[];

/* GET /api/openapi.json: the API's own description. */
static void openapi_document(worker_t *w, const http_request_t *req,
                             const route_match_t *match,
                             http_response_t *res)
{
    (void) w;
    (void) req;
    (void) match;
    res->text = strdup(openapi_json);
    if (res->text != NULL) {
        res->status = 200;
        res->content_type = "application/json; charset=utf-8";
    }
}

typedef void (*handler_fn)(worker_t *w, const http_request_t *req,
                           const route_match_t *match, http_response_t *res);

static const handler_fn handlers[ROUTE_COUNT] = {
    [ROUTE_HEALTH] = lock_health,
    [ROUTE_ACQUIRE] = lock_acquire,
    [ROUTE_VERIFY] = lock_verify,
    [ROUTE_REFRESH] = lock_refresh,
    [ROUTE_RELEASE] = lock_release,
    [ROUTE_STATUS] = lock_status,
    [ROUTE_METRICS] = lock_metrics,
    [ROUTE_ADMIN_ACTIVE] = lock_admin_active,
    [ROUTE_ADMIN_FORCE_RELEASE] = lock_admin_force_release,
    [ROUTE_LOCK_GET] = lock_get,
    [ROUTE_LOCK_DELETE] = lock_release,
    [ROUTE_APPT_CREATE] = appointment_create,
    [ROUTE_APPT_LIST] = appointment_list,
    [ROUTE_APPT_GET] = appointment_get,
    [ROUTE_APPT_CANCEL] = appointment_cancel,
    [ROUTE_CHECKOUT] = lock_checkout,
    [ROUTE_RESOURCE_GET] = resource_get,
    [ROUTE_RESOURCE_PUT] = resource_put,
    [ROUTE_OPENAPI] = openapi_document,
    [ROUTE_WEBHOOK_CREATE] = webhook_create,
    [ROUTE_WEBHOOK_LIST] = webhook_list,
    [ROUTE_WEBHOOK_DELETE] = webhook_delete,
    [ROUTE_WEBHOOK_DEADLETTERS] = webhook_deadletters,
    [ROUTE_EVENTS] = events_list,
};

typedef struct route_entry_s {
    const char *path;
    const char *method;
    route_t route;
    const char *allow;
} route_entry_t;

static const route_entry_t fixed_routes[] = {
    { "/api/locks/health", "GET", ROUTE_HEALTH, "GET" },
    { "/api/locks/acquire", "POST", ROUTE_ACQUIRE, "POST" },
    { "/api/locks/verify", "POST", ROUTE_VERIFY, "POST" },
    { "/api/locks/refresh", "POST", ROUTE_REFRESH, "POST" },
    { "/api/locks/release", "POST", ROUTE_RELEASE, "POST" },
    { "/api/locks/checkout", "POST", ROUTE_CHECKOUT, "POST" },
    { "/api/locks/status", "GET", ROUTE_STATUS, "GET" },
    { "/api/locks/metrics", "GET", ROUTE_METRICS, "GET" },
    { "/api/locks/admin/active", "GET", ROUTE_ADMIN_ACTIVE, "GET" },
    { "/api/locks/admin/force-release", "POST", ROUTE_ADMIN_FORCE_RELEASE,
      "POST" },
    { "/api/appointments", "GET", ROUTE_APPT_LIST, "GET, POST" },
    { "/api/appointments", "POST", ROUTE_APPT_CREATE, "GET, POST" },
    { "/api/resources", "GET", ROUTE_RESOURCE_GET, "GET, PUT" },
    { "/api/resources", "PUT", ROUTE_RESOURCE_PUT, "GET, PUT" },
    { "/api/openapi.json", "GET", ROUTE_OPENAPI, "GET" },
    { "/api/webhooks", "GET", ROUTE_WEBHOOK_LIST, "GET, POST" },
    { "/api/webhooks", "POST", ROUTE_WEBHOOK_CREATE, "GET, POST" },
    { "/api/webhooks/deadletters", "GET", ROUTE_WEBHOOK_DEADLETTERS, "GET" },
    { "/api/events", "GET", ROUTE_EVENTS, "GET" },
};

static const char *const route_names[ROUTE_COUNT] = {
    [ROUTE_NOT_FOUND] = "not_found",
    [ROUTE_HEALTH] = "health",
    [ROUTE_ACQUIRE] = "acquire",
    [ROUTE_VERIFY] = "verify",
    [ROUTE_REFRESH] = "refresh",
    [ROUTE_RELEASE] = "release",
    [ROUTE_STATUS] = "status",
    [ROUTE_METRICS] = "metrics",
    [ROUTE_ADMIN_ACTIVE] = "admin_active",
    [ROUTE_ADMIN_FORCE_RELEASE] = "admin_force_release",
    [ROUTE_LOCK_GET] = "lock_get",
    [ROUTE_LOCK_DELETE] = "lock_delete",
    [ROUTE_APPT_CREATE] = "appointment_create",
    [ROUTE_APPT_LIST] = "appointment_list",
    [ROUTE_APPT_GET] = "appointment_get",
    [ROUTE_APPT_CANCEL] = "appointment_cancel",
    [ROUTE_CHECKOUT] = "checkout",
    [ROUTE_RESOURCE_GET] = "resource_get",
    [ROUTE_RESOURCE_PUT] = "resource_put",
    [ROUTE_OPENAPI] = "openapi",
    [ROUTE_WEBHOOK_CREATE] = "webhook_create",
    [ROUTE_WEBHOOK_LIST] = "webhook_list",
    [ROUTE_WEBHOOK_DELETE] = "webhook_delete",
    [ROUTE_WEBHOOK_DEADLETTERS] = "webhook_deadletters",
    [ROUTE_EVENTS] = "events",
};

const char *router_name(route_t route)
{
    return route < ROUTE_COUNT ? route_names[route] : "unknown";
}

/*
 * When path is prefix followed by one non-empty segment, returns that
 * segment; NULL otherwise.
 */
static const char *one_segment(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);

    if (strncmp(path, prefix, n) != 0) {
        return NULL;
    }
    const char *seg = path + n;
    if (seg[0] == '\0' || strchr(seg, '/') != NULL) {
        return NULL;
    }
    return seg;
}

static void set(route_match_t *m, route_t route, const char *allow,
                const char *param)
{
    m->route = route;
    m->allow = allow;
    m->param = param;
    m->name = router_name(route);
}

void router_match(const char *method, const char *path, route_match_t *m)
{
    bool path_known = false;
    const char *allow = NULL;
    const char *seg;

    for (size_t i = 0; i < sizeof(fixed_routes) / sizeof(fixed_routes[0]);
         i++)
    {
        const route_entry_t *e = &fixed_routes[i];

        if (strcmp(path, e->path) != 0) {
            continue;
        }
        path_known = true;
        allow = e->allow;
        if (strcmp(method, e->method) == 0) {
            set(m, e->route, NULL, NULL);
            return;
        }
    }
    if (path_known) {
        set(m, ROUTE_NOT_FOUND, allow, NULL);
        return;
    }

    /* /api/locks/admin/<anything else> is not a lockId. */
    if (strncmp(path, "/api/locks/admin/", 17) != 0
        && (seg = one_segment(path, "/api/locks/")) != NULL)
    {
        if (strcmp(method, "GET") == 0) {
            set(m, ROUTE_LOCK_GET, NULL, seg);
        } else if (strcmp(method, "DELETE") == 0) {
            set(m, ROUTE_LOCK_DELETE, NULL, seg);
        } else {
            set(m, ROUTE_NOT_FOUND, "GET, DELETE", seg);
        }
        return;
    }
    if ((seg = one_segment(path, "/api/appointments/")) != NULL) {
        if (strcmp(method, "GET") == 0) {
            set(m, ROUTE_APPT_GET, NULL, seg);
        } else if (strcmp(method, "DELETE") == 0) {
            set(m, ROUTE_APPT_CANCEL, NULL, seg);
        } else {
            set(m, ROUTE_NOT_FOUND, "GET, DELETE", seg);
        }
        return;
    }
    if ((seg = one_segment(path, "/api/webhooks/")) != NULL) {
        if (strcmp(method, "DELETE") == 0) {
            set(m, ROUTE_WEBHOOK_DELETE, NULL, seg);
        } else {
            set(m, ROUTE_NOT_FOUND, "DELETE", seg);
        }
        return;
    }
    set(m, ROUTE_NOT_FOUND, NULL, NULL);
}

/*
 * CORS, when CORS_ALLOWED_ORIGINS is set: every answer says Vary: Origin
 * and names a listed origin in Access-Control-Allow-Origin; OPTIONS on a
 * known path is a preflight (204, and for a listed origin the path's
 * methods and the headers it may send); a request that changes state and
 * carries an unlisted Origin is refused before any handler runs. True
 * when res is then the whole answer.
 */
static bool cors_answer(const char *list, const http_request_t *req,
                        const route_match_t *match, http_response_t *res)
{
    if (list[0] == '\0') {
        return false;
    }
    bool listed = cors_listed(list, req->origin);

    res->vary_origin = true;
    if (listed) {
        res->cors_origin = req->origin;
    }
    if (strcmp(req->method, "OPTIONS") == 0 && match->allow != NULL) {
        res->status = 204;
        res->allow = match->allow;
        if (listed && req->cors_method != NULL) {
            res->cors_methods = match->allow;
        }
        return true;
    }
    if (req->origin != NULL && !listed && cors_state_changing(req->method)) {
        http_error(res, 403, "origin_not_allowed",
                   "Requests from this origin are not allowed");
        return true;
    }
    return false;
}

void router_handle(worker_t *w, const http_request_t *req,
                   http_response_t *res, route_match_t *match)
{
    router_match(req->method, req->path, match);
    if (cors_answer(w->cfg->cors_allowed_origins, req, match, res)) {
        return;
    }
    if (match->route != ROUTE_NOT_FOUND) {
        handlers[match->route](w, req, match, res);
    } else if (match->allow != NULL) {
        http_error(res, 405, "method_not_allowed",
                   "This path does not take that method");
        res->allow = match->allow;
    } else {
        http_error(res, 404, "not_found", "No such route");
    }
    if (res->json == NULL && res->text == NULL) {
        http_error(res, 500, "internal_error", "The request failed");
    }
}
