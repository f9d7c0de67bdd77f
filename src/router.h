/*
 * router.h - which handler a method and path go to.
 *
 * router_match is pure (no I/O): method and path in, route out.
 * router_handle then calls the route's handler, or answers 404 or 405.
 */
#ifndef SLOTLOCK_ROUTER_H
#define SLOTLOCK_ROUTER_H

typedef enum route_e {
    ROUTE_NOT_FOUND,
    ROUTE_HEALTH,
    ROUTE_ACQUIRE,
    ROUTE_VERIFY,
    ROUTE_REFRESH,
    ROUTE_RELEASE,
    ROUTE_STATUS,
    ROUTE_METRICS,
    ROUTE_ADMIN_ACTIVE,
    ROUTE_ADMIN_FORCE_RELEASE,
    ROUTE_LOCK_GET,
    ROUTE_LOCK_DELETE,
    ROUTE_APPT_CREATE,
    ROUTE_APPT_LIST,
    ROUTE_APPT_GET,
    ROUTE_APPT_CANCEL,
    ROUTE_CHECKOUT,
    ROUTE_RESOURCE_GET,
    ROUTE_RESOURCE_PUT,
    ROUTE_OPENAPI,
    ROUTE_WEBHOOK_CREATE,
    ROUTE_WEBHOOK_LIST,
    ROUTE_WEBHOOK_DELETE,
    ROUTE_WEBHOOK_DEADLETTERS,
    ROUTE_EVENTS,
    ROUTE_COUNT
} route_t;

typedef struct route_match_s {
    route_t route;          /* ROUTE_NOT_FOUND when nothing matched */
    const char *allow;      /* set when the path exists but not the method */
    const char *param;      /* the {lockId} or {id} segment, into path */
    const char *name;       /* short name for logs and metrics */
} route_match_t;

/* Matches method and path; param points into path. */
void router_match(const char *method, const char *path, route_match_t *m);

/* The short name of a route ("acquire", "lock_get", ...). */
const char *router_name(route_t route);

struct worker_s;
struct http_request_s;
struct http_response_s;

/* Answers one request: route it, call its handler, and fill res (a 404,
 * 405 or 500 when no handler answered). */
void router_handle(struct worker_s *w, const struct http_request_s *req,
                   struct http_response_s *res, route_match_t *match);

#endif
