/*
 * dispatch.h - slotlock-events' delivery loop: every resource's event
 * stream to every webhook endpoint that should see it.
 *
 * One lane per (endpoint, stream): a consumer group named
 * "webhook:<endpointId>" on the stream, one event in hand at a time, so an
 * endpoint gets a resource's events in order. The lanes' POSTs run
 * side by side (libcurl's multi interface), so a slow endpoint holds up
 * only its own lanes. An event is acknowledged (XACK) after a 2xx answer
 * or after it went to the dead-letter stream; anything else is retried
 * with exponential backoff, and a restart delivers the pending ones again.
 */
#ifndef SLOTLOCK_DISPATCH_H
#define SLOTLOCK_DISPATCH_H

#include <signal.h>
#include <stdbool.h>

#include "config.h"

/*
 * Delivers until *stop is set (by a signal handler), then abandons the
 * POSTs in flight (their events stay pending, so they are sent again
 * after the next start) and frees everything. False when it could not
 * start (out of memory, libcurl).
 */
bool dispatch_run(const config_t *cfg, volatile sig_atomic_t *stop);

/*
 * The wait before retry number attempt (1 for the first retry) in ms:
 * 1 s doubling, at most max_ms, the upper half of it chosen by random
 * (r in [0, 1)) so that endpoints coming back are not hit all at once.
 */
long dispatch_backoff_ms(int attempt, long max_ms, double r);

#endif
