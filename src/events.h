/*
 * events.h - GET /api/events: a tenant's events, for sites that poll.
 */
#ifndef SLOTLOCK_EVENTS_H
#define SLOTLOCK_EVENTS_H

#include "http.h"
#include "router.h"
#include "worker.h"

void events_list(worker_t *w, const http_request_t *req,
                 const route_match_t *match, http_response_t *res);

#endif
