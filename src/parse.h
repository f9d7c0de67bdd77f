/*
 * parse.h - one pure parse step per route (no I/O).
 *
 * Each route turns its body, query string or path into a plain request
 * struct before anything touches Redis. A parse function fills its struct
 * and adds an entry {"field", "message"} to errors for every bad field, so
 * a 400 lists them all at once; it returns true when errors stayed empty.
 * The handlers, the Check tests and the fuzz targets all call these same
 * functions.
 */
#ifndef SLOTLOCK_PARSE_H
#define SLOTLOCK_PARSE_H

#include <jansson.h>
#include <stdbool.h>

#include "config.h"
#include "router.h"
#include "slot.h"
#include "validate.h"

/* Longest client address kept: an IPv6 address in text. */
#define PARSE_ADDR_MAX 45

/* A lock route's input: acquire, verify, refresh, release, checkout, GET
 * and DELETE /api/locks/{lockId}. */
typedef struct lock_request_s {
    char lock_id[VALIDATE_UUID_LEN + 1];    /* "" for acquire */
    slot_t slot;
    unsigned present;                       /* VALIDATE_NEED_* bits */
    char holder[SLOT_ID_MAX + 1];           /* "" when none */
    char client[PARSE_ADDR_MAX + 1];        /* acquire: the client's
                                               address, "" when exempt */
    long ttl_ms;                            /* acquire and refresh */
} lock_request_t;

/*
 * route: ROUTE_ACQUIRE, ROUTE_VERIFY, ROUTE_REFRESH, ROUTE_RELEASE,
 * ROUTE_LOCK_GET or ROUTE_LOCK_DELETE. body: the JSON body (NULL for the
 * path routes, which take none); path_id: the {lockId} of the path routes.
 */
bool parse_lock(route_t route, const config_t *cfg, json_t *body,
                const char *path_id, lock_request_t *req, json_t *errors);

/*
 * The client address of an acquire, as nginx passed it (REMOTE_ADDR), into
 * req->client: the live holds of one address are capped per tenant. Left
 * "" (no cap) when there is none or it is not an IP address.
 */
void parse_client(const char *addr, lock_request_t *req);

/* A resource's settings (PUT /api/resources; GET takes tenantId and
 * resourceId only). */
typedef struct resource_request_s {
    slot_t slot;                /* tenant and resource */
    long capacity;              /* 1-1000 */
    long buffer_before_min;     /* 0-240 */
    long buffer_after_min;      /* 0-240 */
} resource_request_t;

#define PARSE_CAPACITY_MAX 1000
#define PARSE_BUFFER_MAX_MIN 240

/* PUT /api/resources: tenantId, resourceId, and the settings; a setting
 * left out takes its default (capacity 1, buffers 0). */
bool parse_resource_put(json_t *body, resource_request_t *req,
                        json_t *errors);

/* GET /api/resources?tenantId=&resourceId= */
bool parse_resource_get(const char *query, resource_request_t *req,
                        json_t *errors);

/* GET and DELETE /api/appointments/{id}: true when the path's id is an
 * appointment id (a UUID); any other is a 404, as no appointment has it. */
bool parse_appointment_id(const char *path_id);

/* GET /api/locks/status?tenantId=&resourceId=&date= */
bool parse_status(const char *query, slot_t *slot, json_t *errors);

/* The filters of the admin lists: tenantId, and optionally the resource
 * (resourceId or specialistId) and date. */
typedef struct list_request_s {
    slot_t slot;
    unsigned present;           /* VALIDATE_NEED_* bits */
    long limit;                 /* admin/active */
    char status[16];            /* appointments: "" for every status */
    /* admin/active: the page starts after this lock (cursor= is
     * "<resourceId>~<date>~<HH:MM>", the nextCursor of the page before);
     * after.resource is "" for the first page. */
    slot_t after;
} list_request_t;

#define PARSE_ACTIVE_LIMIT_DEFAULT 100
#define PARSE_ACTIVE_LIMIT_MAX 1000

/* GET /api/locks/admin/active?tenantId=[&resourceId=][&date=][&limit=]
 * [&cursor=] */
bool parse_active(const char *query, list_request_t *req, json_t *errors);

/* GET /api/appointments?tenantId=[&specialistId=][&date=][&status=] */
bool parse_appointments(const char *query, list_request_t *req,
                        json_t *errors);

/* POST /api/locks/admin/force-release: the four fields that name a lock. */
bool parse_force_release(json_t *body, slot_t *slot, json_t *errors);

/* POST /api/appointments. The json_t fields point into body. */
typedef struct booking_request_s {
    char lock_id[VALIDATE_UUID_LEN + 1];    /* "" when none was sent */
    bool with_lock;                         /* a lockId was sent */
    bool if_still_free;                     /* ifStillFree: book even when
                                               the hold is gone, if free */
    slot_t slot;
    unsigned present;                       /* VALIDATE_NEED_* bits */
    json_t *service, *end_time, *price;
    json_t *customer_name, *customer_email;
    json_t *customer_phone;                 /* NULL when none */
} booking_request_t;

bool parse_booking(json_t *body, booking_request_t *req, json_t *errors);


/* GET /api/events?tenantId=[&after=][&limit=]: after is the next cursor
 * of the page before, "<ms>-<seq>~<resourceId>": the position of the last
 * event that page had (its stream entry id and resource). */
typedef struct events_request_s {
    char tenant[SLOT_ID_MAX + 1];
    long limit;
    bool has_after;                 /* false: from the oldest event kept */
    unsigned long long after_ms, after_seq;
    char after_resource[SLOT_ID_MAX + 1];
} events_request_t;

#define PARSE_EVENTS_LIMIT_DEFAULT 100
#define PARSE_EVENTS_LIMIT_MAX 1000

bool parse_events(const char *query, events_request_t *req, json_t *errors);

/* GET /api/locks/metrics[?tenantId=]: *prometheus when ?format=prometheus,
 * or no format and an Accept of text/plain (accept may be NULL); tenant
 * (SLOT_ID_MAX + 1 bytes) the tenantId, "" when none was given. */
bool parse_metrics(const char *query, const char *accept, bool *prometheus,
                   char *tenant, json_t *errors);

/* ---- webhooks --------------------------------------------------------- */

#define PARSE_WEBHOOK_URL_MAX 2048
#define PARSE_WEBHOOK_SECRET_MIN 16
#define PARSE_WEBHOOK_SECRET_MAX 256
#define PARSE_WEBHOOK_ID_LEN 35         /* "wh_" and 32 hex digits */
#define PARSE_DEADLETTER_LIMIT_MAX 200

/* POST /api/webhooks: {url, secret?, tenantId?}. */
typedef struct webhook_request_s {
    char url[PARSE_WEBHOOK_URL_MAX + 1];
    char secret[PARSE_WEBHOOK_SECRET_MAX + 1];  /* "": make one */
    char tenant[SLOT_ID_MAX + 1];   /* "": every tenant (operator only) */
} webhook_request_t;

bool parse_webhook_create(json_t *body, webhook_request_t *req,
                          json_t *errors);

/*
 * True when url is one slotlock will POST to: http:// or https://, a host
 * of letters, digits, '-' and '.' (or an IPv6 address in brackets), an
 * optional :port, an optional path and query of visible ASCII; no user
 * name or password, at most PARSE_WEBHOOK_URL_MAX characters.
 */
bool parse_webhook_url(const char *url);

/* GET /api/webhooks[?tenantId=] and GET /api/webhooks/deadletters
 * [?tenantId=][&limit=]: tenant "" when none was given; limit default 50. */
typedef struct webhook_list_s {
    char tenant[SLOT_ID_MAX + 1];
    long limit;
} webhook_list_t;

bool parse_webhook_list(const char *query, webhook_list_t *req,
                        json_t *errors);

/* True when id (a path segment) has the form of an endpoint id. */
bool parse_webhook_id(const char *id);

#endif
