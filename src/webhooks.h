/*
 * webhooks.h - /api/webhooks: the endpoints slotlock-events delivers
 * events to, and the events it gave up on (dead letters).
 */
#ifndef SLOTLOCK_WEBHOOKS_H
#define SLOTLOCK_WEBHOOKS_H

#include "http.h"
#include "router.h"
#include "worker.h"

void webhook_create(worker_t *w, const http_request_t *req,
                    const route_match_t *match, http_response_t *res);
void webhook_list(worker_t *w, const http_request_t *req,
                  const route_match_t *match, http_response_t *res);
void webhook_delete(worker_t *w, const http_request_t *req,
                    const route_match_t *match, http_response_t *res);
void webhook_deadletters(worker_t *w, const http_request_t *req,
                         const route_match_t *match, http_response_t *res);

#endif
