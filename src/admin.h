/*
 * admin.h - the admin lock routes: active locks, force-release, metrics.
 * Every one of them needs the admin token.
 */
#ifndef SLOTLOCK_ADMIN_H
#define SLOTLOCK_ADMIN_H

#include "http.h"
#include "router.h"
#include "worker.h"

void lock_admin_active(worker_t *w, const http_request_t *req,
                       const route_match_t *match, http_response_t *res);
void lock_admin_force_release(worker_t *w, const http_request_t *req,
                              const route_match_t *match,
                              http_response_t *res);
void lock_metrics(worker_t *w, const http_request_t *req,
                  const route_match_t *match, http_response_t *res);

#endif
