/*
 * publish.h - slotlock-events' grid publisher: every resource's events,
 * as slot-grid changes, to nginx's nchan publisher location.
 *
 * One consumer group, "grid", on each booking_events:{t|r} stream; each
 * event becomes one message on the channel "<tenantId>/<resourceId>/<date>"
 * (what GET /api/locks/stream subscribes to), shaped like one entry of GET
 * /api/locks/status plus the change's type, and is acknowledged (XACK)
 * only after nginx accepted it. A failed POST is tried again, in order,
 * after a short wait; a restart sends the unacknowledged ones again. The
 * publisher runs in a thread of its own, so a slow webhook endpoint never
 * delays the grid, nor the grid a webhook.
 */
#ifndef SLOTLOCK_PUBLISH_H
#define SLOTLOCK_PUBLISH_H

#include <signal.h>
#include <stddef.h>

#include "config.h"

#define PUBLISH_GROUP "grid"
/* The publisher location's path in the shipped nginx site. */
#define PUBLISH_PATH "/_slotlock/grid/publish"
#define PUBLISH_CHANNEL_MAX 256

typedef struct publisher_s publisher_t;

/*
 * Starts the publisher's thread when cfg names a publisher location
 * (GRID_PUBLISH_URL); it runs until *stop is set. NULL when there is
 * nothing to start, or it could not start (logged).
 */
publisher_t *publish_start(const config_t *cfg, volatile sig_atomic_t *stop);

/* Waits for the thread to end (after *stop was set) and frees it. NULL is
 * fine. */
void publish_join(publisher_t *p);

/*
 * The grid message for one event (its JSON from the stream) and its
 * channel: a new string (caller frees), or NULL when the text is not an
 * event the grid shows. Never copies lockId, holderId, appointmentId,
 * the event's id or anything else of the hold or customer.
 */
char *publish_message(const char *event_json, char *channel,
                      size_t channel_len);

#endif
