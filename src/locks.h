/*
 * locks.h - the /api/locks routes a customer's page calls.
 */
#ifndef SLOTLOCK_LOCKS_H
#define SLOTLOCK_LOCKS_H

#include "http.h"
#include "router.h"
#include "worker.h"

void lock_health(worker_t *w, const http_request_t *req,
                 const route_match_t *match, http_response_t *res);
void lock_acquire(worker_t *w, const http_request_t *req,
                  const route_match_t *match, http_response_t *res);
void lock_verify(worker_t *w, const http_request_t *req,
                 const route_match_t *match, http_response_t *res);
void lock_refresh(worker_t *w, const http_request_t *req,
                  const route_match_t *match, http_response_t *res);
/* POST /api/locks/release (lockId in the body) and DELETE /api/locks/{id}. */
void lock_release(worker_t *w, const http_request_t *req,
                  const route_match_t *match, http_response_t *res);
/* POST /api/locks/checkout: the payment phase of a hold. */
void lock_checkout(worker_t *w, const http_request_t *req,
                   const route_match_t *match, http_response_t *res);
void lock_get(worker_t *w, const http_request_t *req,
              const route_match_t *match, http_response_t *res);
void lock_status(worker_t *w, const http_request_t *req,
                 const route_match_t *match, http_response_t *res);

#endif
