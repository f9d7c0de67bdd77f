/*
 * appointments.h - the /api/appointments routes.
 */
#ifndef SLOTLOCK_APPOINTMENTS_H
#define SLOTLOCK_APPOINTMENTS_H

#include "http.h"
#include "router.h"
#include "worker.h"

void appointment_create(worker_t *w, const http_request_t *req,
                        const route_match_t *match, http_response_t *res);
void appointment_list(worker_t *w, const http_request_t *req,
                      const route_match_t *match, http_response_t *res);
void appointment_get(worker_t *w, const http_request_t *req,
                     const route_match_t *match, http_response_t *res);
void appointment_cancel(worker_t *w, const http_request_t *req,
                        const route_match_t *match, http_response_t *res);

#endif
