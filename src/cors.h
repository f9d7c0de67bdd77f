/*
 * cors.h - Cross-Origin Resource Sharing from an allow-list (pure: no I/O).
 *
 * CORS_ALLOWED_ORIGINS lists the exact origins whose pages may call the
 * API from a browser. A listed origin is echoed in
 * Access-Control-Allow-Origin (never "*"), a preflight from it gets 204,
 * and a state-changing request from an unlisted one is refused; see
 * router_handle.
 */
#ifndef SLOTLOCK_CORS_H
#define SLOTLOCK_CORS_H

#include <stdbool.h>
#include <stddef.h>

/* The request headers a preflight may ask for. */
#define CORS_ALLOW_HEADERS "Authorization, Content-Type, X-Request-Id"
/* The answer headers a page's script may read besides the simple ones. */
#define CORS_EXPOSE_HEADERS "Retry-After, WWW-Authenticate, X-Request-Id"
/* How long a browser may keep a preflight's answer, in seconds. */
#define CORS_MAX_AGE "600"

/* True when origin is one of list's comma-separated items, exactly
 * (spaces around an item are ignored). An empty list holds nothing. */
bool cors_listed(const char *list, const char *origin);

/* True for the methods that change state: POST, PUT, PATCH, DELETE. */
bool cors_state_changing(const char *method);

/*
 * Walks a comma-separated list: the item at p, spaces around it left out,
 * into *item and *len; returns where the next one starts, or NULL at the
 * end of the list.
 */
const char *cors_next_item(const char *p, const char **item, size_t *len);

#endif
