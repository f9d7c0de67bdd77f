/*
 * router.h - which handler a method and path go to (pure: no I/O).
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

#endif
