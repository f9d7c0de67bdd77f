/*
 * resources.h - /api/resources: a resource's settings (capacity, buffers).
 */
#ifndef SLOTLOCK_RESOURCES_H
#define SLOTLOCK_RESOURCES_H

#include "http.h"
#include "router.h"
#include "worker.h"

void resource_get(worker_t *w, const http_request_t *req,
                  const route_match_t *match, http_response_t *res);
void resource_put(worker_t *w, const http_request_t *req,
                  const route_match_t *match, http_response_t *res);

#endif
