/*
 * db.h - the data layer: one function per operation, below the handlers.
 *
 * A handler hands a checked request (parse.h) to one db_* call and shapes
 * the answer. Everything about Redis lives below this line: key names
 * (keys.h), new ids, script arguments, and the extra steps a Redis Cluster
 * needs (holder places kept apart, lookups of a lock's slot, fan-out over
 * the primaries). Which Redis it is (one server, Sentinel, Cluster) is
 * decided once, in db_init; no caller ever asks.
 *
 * Every call returns a db_status_t. On DB_OK, *out (when the call has one)
 * is a JSON object the caller owns: either the operation's answer, or
 * {"err": "<reason>", ...} when the operation was refused (slot_locked,
 * lock_not_found, ...; extra fields such as remainingTTL beside it).
 */
#ifndef SLOTLOCK_DB_H
#define SLOTLOCK_DB_H

#include <jansson.h>
#include <stdbool.h>

#include "config.h"
#include "parse.h"

typedef enum db_status_e {
    DB_OK,
    DB_UNAVAILABLE,         /* unreachable, timed out, loading, read-only */
    DB_OUT_OF_MEMORY,       /* maxmemory reached: nothing was changed */
    DB_NOT_REPLICATED,      /* booked, but too few replicas confirmed it */
    DB_FAILED               /* an answer we did not expect: a bug */
} db_status_t;

struct store_s;
struct db_layout_s;

typedef struct db_s {
    const config_t *cfg;
    int worker_id;                      /* for log lines */
    struct store_s *store;              /* this worker's connections */
    const struct db_layout_s *layout;   /* where the keys outside a hash
                                           tag are kept (one Redis or a
                                           cluster) */
} db_t;

/* Opens nothing yet (connections are made when first needed). False when
 * out of memory. */
bool db_init(db_t *db, const config_t *cfg, int worker_id);
void db_close(db_t *db);

/* Why the last call that did not return DB_OK failed, for the log. */
const char *db_error(const db_t *db);

/* Redis Cluster redirections followed by every worker of the process. */
void db_redirects(unsigned long *moved, unsigned long *ask,
                  unsigned long *tryagain);

/* Redis answers our scripts (on every primary of a cluster). */
db_status_t db_health(db_t *db);

/*
 * The lock routes. Answers: acquire and refresh {lockId, expiresIn,
 * expiresAt, serverTime}; verify {remainingTTL}; release {}; get {lockId,
 * tenantId, resourceId, date, startTime, duration, expiresIn, expiresAt,
 * serverTime}.
 */
db_status_t db_acquire(db_t *db, const lock_request_t *in, json_t **out);
db_status_t db_verify(db_t *db, const lock_request_t *in, json_t **out);
db_status_t db_refresh(db_t *db, const lock_request_t *in, json_t **out);
db_status_t db_release(db_t *db, const lock_request_t *in, json_t **out);
db_status_t db_get(db_t *db, const lock_request_t *in, json_t **out);

/* The payment phase of a hold: {lockId, expiresIn, expiresAt,
 * serverTime}; once (checkout_started afterwards). */
db_status_t db_checkout(db_t *db, const lock_request_t *in, json_t **out);

/* A resource's settings: {capacity, bufferBefore, bufferAfter}, the
 * defaults when none were stored. Put stores them and answers the same. */
db_status_t db_resource_get(db_t *db, const slot_t *resource, json_t **out);
db_status_t db_resource_put(db_t *db, const resource_request_t *in,
                            json_t **out);

/* One day of a resource: {locked: [...], booked: [...]}, both arrays. */
db_status_t db_status(db_t *db, const slot_t *day, json_t **out);

/* The admin lock routes: {locks: [...]} sorted by resource, date, start;
 * force-release {}. */
db_status_t db_active(db_t *db, const list_request_t *in, json_t **out);
db_status_t db_force_release(db_t *db, const slot_t *slot, json_t **out);

/* The shared counters, as metrics_json() takes them. */
db_status_t db_metrics(db_t *db, json_t **out);

/*
 * The sweeper's step: reports every hold that ran out as hold.expired on
 * its resource's stream (and counts it in locksExpired), once, however
 * many sweepers run; *expired is how many this call reported.
 */
db_status_t db_sweep(db_t *db, long *expired);

/*
 * GET /api/events: a page of the tenant's events, in order (each
 * resource's in stream order; across resources by the stream entry's
 * time, then resourceId), into *out as {"events": [...], "next": cursor
 * or null}. See docs/events.md for why paging never skips or repeats one.
 */
db_status_t db_events(db_t *db, const events_request_t *in, json_t **out);

/*
 * A booking: {created: bool, appointment: <stored record>}. With
 * BOOKING_MIN_REPLICAS, DB_NOT_REPLICATED when too few replicas confirmed
 * it in time (a retry with the same lockId is then answered from the
 * record).
 */
db_status_t db_book(db_t *db, const booking_request_t *in, json_t **out);

/* One appointment by id: {appointment: <stored record>}; cancel marks it
 * cancelled and frees its interval. An unknown id: {"err": "not_found"}. */
db_status_t db_appointment(db_t *db, const char *id, json_t **out);
db_status_t db_cancel(db_t *db, const char *id, json_t **out);

/* {appointments: [<stored record>...]} sorted by date, start, creation. */
db_status_t db_appointments(db_t *db, const list_request_t *in,
                            json_t **out);

/*
 * Webhook endpoints (db_webhooks.c). Create stores {id, url, secret,
 * tenantId, createdAt} under id and answers {webhook: <record without the
 * secret>}; list answers {webhooks: [...]} (tenant "": all of them; else
 * the tenant's); get {webhook} or {"err": "not_found"}; delete removes
 * id's record.
 */
db_status_t db_webhook_create(db_t *db, const char *id,
                              const webhook_request_t *in,
                              const char *secret, json_t **out);
db_status_t db_webhook_list(db_t *db, const char *tenant, json_t **out);
db_status_t db_webhook_get(db_t *db, const char *id, json_t **out);
db_status_t db_webhook_delete(db_t *db, const char *id);

/* The newest dead letters, of in->tenant when set: {deadLetters: [...]}. */
db_status_t db_deadletters(db_t *db, const webhook_list_t *in, json_t **out);

/* slotlock-events' counters: {delivered, failed_attempts, dead_lettered,
 * backlog, oldest_ms, updated_ms}, each there once it was written. */
db_status_t db_webhook_stats(db_t *db, json_t **out);

#endif
