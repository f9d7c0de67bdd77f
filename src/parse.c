/*
 * parse.c - one pure parse step per route. See parse.h.
 */
#include "parse.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CUSTOMER_NAME_MAX 200

/* ---------------------------------------------------------------------
 * Lock routes
 * ------------------------------------------------------------------- */

/*
 * Reads lockId (from the path when path_id is set, from the body otherwise)
 * and whichever slot fields the body carries; need says which are required.
 */
static void read_lock_ref(json_t *body, const char *path_id, unsigned need,
                          lock_request_t *req, json_t *errors)
{
    if (path_id != NULL) {
        if (validate_uuid(path_id)) {
            strcpy(req->lock_id, path_id);
        } else {
            validate_error(errors, "lockId",
                           "must be a UUID in lowercase 8-4-4-4-12 form");
        }
    } else {
        validate_lock_id(body, true, req->lock_id, errors);
    }
    if (body != NULL) {
        validate_slot(body, "resourceId", need, false, &req->slot,
                      &req->present, errors);
    }
}

/* Reads the optional ttl of acquire and refresh into req->ttl_ms. */
static void read_ttl(const config_t *cfg, json_t *body, lock_request_t *req,
                     json_t *errors)
{
    validate_int_field(body, "ttl", 1000, cfg->lock_max_hold_ms, false,
                       false, "must be a whole number of milliseconds from "
                       "1000 to LOCK_MAX_HOLD", &req->ttl_ms, errors);
}

bool parse_lock(route_t route, const config_t *cfg, json_t *body,
                const char *path_id, lock_request_t *req, json_t *errors)
{
    size_t before = json_array_size(errors);

    memset(req, 0, sizeof(*req));
    req->ttl_ms = cfg->lock_ttl_ms;

    switch (route) {
    case ROUTE_ACQUIRE: {
        validate_slot(body, "resourceId",
                      VALIDATE_NEED_SLOT | VALIDATE_NEED_DURATION, false,
                      &req->slot, &req->present, errors);
        const char *holder = validate_id_field(body, "holderId", false,
                                               errors);
        if (holder != NULL) {
            strcpy(req->holder, holder);
        }
        read_ttl(cfg, body, req, errors);
        break;
    }
    case ROUTE_VERIFY:
        read_lock_ref(body, NULL, VALIDATE_NEED_SLOT, req, errors);
        break;
    case ROUTE_REFRESH:
        read_lock_ref(body, NULL, 0, req, errors);
        read_ttl(cfg, body, req, errors);
        break;
    case ROUTE_RELEASE:
    case ROUTE_CHECKOUT:
        read_lock_ref(body, NULL, 0, req, errors);
        break;
    default:
        /* GET and DELETE /api/locks/{lockId}: the path names the lock. */
        read_lock_ref(NULL, path_id, 0, req, errors);
        break;
    }
    return json_array_size(errors) == before;
}

void parse_client(const char *addr, lock_request_t *req)
{
    size_t n = addr ? strlen(addr) : 0;

    req->client[0] = '\0';
    if (n == 0 || n > PARSE_ADDR_MAX
        || strspn(addr, "0123456789abcdefABCDEF.:") != n)
    {
        return;
    }
    memcpy(req->client, addr, n + 1);
}

/* ---------------------------------------------------------------------
 * Query routes
 * ------------------------------------------------------------------- */

bool parse_appointment_id(const char *path_id)
{
    return path_id != NULL && validate_uuid(path_id);
}

bool parse_status(const char *query, slot_t *slot, json_t *errors)
{
    size_t before = json_array_size(errors);
    json_t *q = validate_query(query, errors);
    unsigned present;

    validate_slot(q, "resourceId",
                  VALIDATE_NEED_TENANT | VALIDATE_NEED_RESOURCE
                  | VALIDATE_NEED_DATE, true, slot, &present, errors);
    json_decref(q);
    return json_array_size(errors) == before;
}

/* Reads "<resourceId>~<date>~<HH:MM>" into after; false when it is not. */
static bool read_cursor(const char *cursor, slot_t *after)
{
    char copy[SLOT_ID_MAX + 1 + 10 + 1 + 5 + 1];
    char *date, *start;

    if (strlen(cursor) >= sizeof(copy)) {
        return false;
    }
    strcpy(copy, cursor);
    date = strchr(copy, '~');
    start = date ? strchr(date + 1, '~') : NULL;
    if (start == NULL) {
        return false;
    }
    *date++ = '\0';
    *start++ = '\0';
    if (!validate_id(copy) || !slot_parse_date(date)
        || !slot_parse_time(start, false, &after->start_min))
    {
        return false;
    }
    strcpy(after->resource, copy);
    strcpy(after->date, date);
    strcpy(after->start, start);
    return true;
}

bool parse_active(const char *query, list_request_t *req, json_t *errors)
{
    size_t before = json_array_size(errors);
    json_t *q = validate_query(query, errors);

    memset(req, 0, sizeof(*req));
    req->limit = PARSE_ACTIVE_LIMIT_DEFAULT;
    validate_slot(q, "resourceId", VALIDATE_NEED_TENANT, true, &req->slot,
                  &req->present, errors);
    validate_int_field(q, "limit", 1, PARSE_ACTIVE_LIMIT_MAX, false, true,
                       "must be a whole number from 1 to 1000", &req->limit,
                       errors);
    const char *cursor = json_string_value(json_object_get(q, "cursor"));
    if (cursor != NULL && !read_cursor(cursor, &req->after)) {
        validate_error(errors, "cursor",
                       "must be the nextCursor of the page before");
    }
    json_decref(q);
    return json_array_size(errors) == before;
}

bool parse_appointments(const char *query, list_request_t *req,
                        json_t *errors)
{
    size_t before = json_array_size(errors);
    json_t *q = validate_query(query, errors);

    memset(req, 0, sizeof(*req));
    validate_slot(q, "specialistId", VALIDATE_NEED_TENANT, true, &req->slot,
                  &req->present, errors);
    const char *status = json_string_value(json_object_get(q, "status"));
    if (status != NULL && strcmp(status, "confirmed") != 0
        && strcmp(status, "cancelled") != 0)
    {
        validate_error(errors, "status", "must be confirmed or cancelled");
    } else if (status != NULL) {
        snprintf(req->status, sizeof(req->status), "%s", status);
    }
    json_decref(q);
    return json_array_size(errors) == before;
}

bool parse_resource_get(const char *query, resource_request_t *req,
                        json_t *errors)
{
    size_t before = json_array_size(errors);
    json_t *q = validate_query(query, errors);
    unsigned present;

    memset(req, 0, sizeof(*req));
    validate_slot(q, "resourceId",
                  VALIDATE_NEED_TENANT | VALIDATE_NEED_RESOURCE, true,
                  &req->slot, &present, errors);
    json_decref(q);
    return json_array_size(errors) == before;
}

bool parse_metrics(const char *query, const char *accept, bool *prometheus,
                   char *tenant, json_t *errors)
{
    size_t before = json_array_size(errors);
    json_t *q = validate_query(query, errors);
    const char *format = json_string_value(json_object_get(q, "format"));

    tenant[0] = '\0';
    if (json_object_get(q, "tenantId") != NULL) {
        slot_t slot;
        unsigned present;

        if (validate_slot(q, "resourceId", VALIDATE_NEED_TENANT, true, &slot,
                          &present, errors)) {
            strcpy(tenant, slot.tenant);
        }
    }

    if (format != NULL) {
        *prometheus = strcmp(format, "prometheus") == 0;
        if (!*prometheus && strcmp(format, "json") != 0) {
            validate_error(errors, "format", "must be json or prometheus");
        }
    } else {
        *prometheus = accept != NULL
                      && strncasecmp(accept, "text/plain", 10) == 0;
    }
    json_decref(q);
    return json_array_size(errors) == before;
}

/* ---------------------------------------------------------------------
 * Body routes
 * ------------------------------------------------------------------- */

bool parse_resource_put(json_t *body, resource_request_t *req,
                        json_t *errors)
{
    size_t before = json_array_size(errors);
    unsigned present;

    memset(req, 0, sizeof(*req));
    req->capacity = 1;
    validate_slot(body, "resourceId",
                  VALIDATE_NEED_TENANT | VALIDATE_NEED_RESOURCE, false,
                  &req->slot, &present, errors);
    validate_int_field(body, "capacity", 1, PARSE_CAPACITY_MAX, false, false,
                       "must be a whole number from 1 to 1000",
                       &req->capacity, errors);
    validate_int_field(body, "bufferBefore", 0, PARSE_BUFFER_MAX_MIN, false,
                       false, "must be a whole number of minutes from 0 to "
                       "240", &req->buffer_before_min, errors);
    validate_int_field(body, "bufferAfter", 0, PARSE_BUFFER_MAX_MIN, false,
                       false, "must be a whole number of minutes from 0 to "
                       "240", &req->buffer_after_min, errors);
    return json_array_size(errors) == before;
}

bool parse_force_release(json_t *body, slot_t *slot, json_t *errors)
{
    unsigned present;

    return validate_slot(body, "resourceId", VALIDATE_NEED_SLOT, false, slot,
                         &present, errors);
}

/* Counts the characters (not bytes) of a UTF-8 string. */
static size_t utf8_length(const char *s)
{
    size_t n = 0;

    for (; *s; s++) {
        if (((unsigned char) *s & 0xc0) != 0x80) {
            n++;
        }
    }
    return n;
}

/* The value of a required field, or NULL with "is required" added. */
static json_t *required(json_t *body, const char *name, json_t *errors)
{
    json_t *v = json_object_get(body, name);

    if (v == NULL || json_is_null(v)) {
        validate_error(errors, name, "is required");
        return NULL;
    }
    return v;
}

static void read_end_time(json_t *body, booking_request_t *req,
                          json_t *errors)
{
    json_t *end = required(body, "endTime", errors);
    int end_min;

    if (end == NULL) {
        return;
    }
    if (validate_text(end) == NULL
        || !slot_parse_time(validate_text(end), true, &end_min))
    {
        validate_error(errors, "endTime",
                       "must be a time HH:MM from 00:00 to 24:00");
    } else if ((req->present & VALIDATE_NEED_START)
               && (req->present & VALIDATE_NEED_DURATION)
               && end_min != req->slot.start_min + req->slot.duration_min)
    {
        validate_error(errors, "endTime",
                       "must equal startTime plus duration");
    }
    req->end_time = end;
}

/* The customer fields and the price; see the API reference for the rules. */
static void read_customer(json_t *body, booking_request_t *req,
                          json_t *errors)
{
    json_t *name = required(body, "customerName", errors);
    if (name != NULL && (validate_text(name) == NULL
                         || json_string_length(name) == 0
                         || utf8_length(validate_text(name))
                            > CUSTOMER_NAME_MAX))
    {
        validate_error(errors, "customerName", "must be 1-200 characters");
    }
    req->customer_name = name;

    json_t *email = required(body, "customerEmail", errors);
    if (email != NULL && (validate_text(email) == NULL
                          || !validate_email(validate_text(email))))
    {
        validate_error(errors, "customerEmail",
                       "must be an e-mail address of at most 254 characters");
    }
    req->customer_email = email;

    json_t *phone = json_object_get(body, "customerPhone");
    if (phone != NULL && !json_is_null(phone)
        && (validate_text(phone) == NULL
            || !validate_phone(validate_text(phone))))
    {
        validate_error(errors, "customerPhone",
                       "must be at most 32 of + 0-9 space ( ) -");
    }
    req->customer_phone = json_is_string(phone) ? phone : NULL;

    json_t *price = required(body, "price", errors);
    if (price != NULL && (!json_is_number(price)
                          || json_number_value(price) < 0))
    {
        validate_error(errors, "price", "must be a number of at least 0");
    } else if (price != NULL && !validate_exact_number(price)) {
        validate_error(errors, "price", "must have at most 15 significant "
                       "digits, so that it is kept exactly as sent");
    }
    req->price = price;
}

bool parse_booking(json_t *body, booking_request_t *req, json_t *errors)
{
    size_t before = json_array_size(errors);

    memset(req, 0, sizeof(*req));
    req->with_lock = validate_lock_id(body, false, req->lock_id, errors) == 1;
    json_t *late = json_object_get(body, "ifStillFree");
    if (late != NULL && !json_is_boolean(late) && !json_is_null(late)) {
        validate_error(errors, "ifStillFree", "must be true or false");
    }
    req->if_still_free = json_is_true(late);
    validate_slot(body, "specialistId",
                  VALIDATE_NEED_SLOT | VALIDATE_NEED_DURATION, false,
                  &req->slot, &req->present, errors);
    validate_id_field(body, "serviceId", true, errors);
    req->service = json_object_get(body, "serviceId");
    read_end_time(body, req, errors);
    read_customer(body, req, errors);
    return json_array_size(errors) == before;
}

/* Reads "<ms>-<seq>~<resourceId>" into req; false when it is not. */
static bool read_events_cursor(const char *cursor, events_request_t *req)
{
    const char *dash = strchr(cursor, '-');
    const char *tilde = strchr(cursor, '~');
    size_t ms_len = dash ? (size_t) (dash - cursor) : 0;
    size_t seq_len = dash != NULL && tilde != NULL && tilde > dash
                     ? (size_t) (tilde - dash - 1) : 0;

    if (ms_len == 0 || ms_len > 15 || seq_len == 0 || seq_len > 15
        || strspn(cursor, "0123456789") != ms_len
        || strspn(dash + 1, "0123456789") != seq_len
        || strlen(tilde + 1) > SLOT_ID_MAX || !validate_id(tilde + 1))
    {
        return false;
    }
    req->after_ms = strtoull(cursor, NULL, 10);
    req->after_seq = strtoull(dash + 1, NULL, 10);
    strcpy(req->after_resource, tilde + 1);
    req->has_after = true;
    return true;
}

bool parse_events(const char *query, events_request_t *req, json_t *errors)
{
    size_t before = json_array_size(errors);
    json_t *q = validate_query(query, errors);
    const char *tenant = validate_id_field(q, "tenantId", true, errors);

    memset(req, 0, sizeof(*req));
    req->limit = PARSE_EVENTS_LIMIT_DEFAULT;
    if (tenant != NULL) {
        snprintf(req->tenant, sizeof(req->tenant), "%s", tenant);
    }
    validate_int_field(q, "limit", 1, PARSE_EVENTS_LIMIT_MAX, false, true,
                       "must be a whole number from 1 to 1000", &req->limit,
                       errors);
    const char *after = json_string_value(json_object_get(q, "after"));
    if (after != NULL && !read_events_cursor(after, req)) {
        validate_error(errors, "after", "must be the next cursor of the "
                       "page before");
    }
    json_decref(q);
    return json_array_size(errors) == before;
}

/* ---- webhooks --------------------------------------------------------- */

bool parse_webhook_url(const char *url)
{
    size_t len = strlen(url), i;

    if (len > PARSE_WEBHOOK_URL_MAX) {
        return false;
    }
    if (strncasecmp(url, "https://", 8) == 0) {
        i = 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        i = 7;
    } else {
        return false;
    }
    size_t host = i;
    if (url[i] == '[') {
        /* An IPv6 address: hex digits, ':' and '.' up to ']'. */
        for (i++; isxdigit((unsigned char) url[i]) || url[i] == ':'
                  || url[i] == '.'; i++) {
        }
        if (url[i] != ']' || i == host + 1) {
            return false;
        }
        i++;
    } else {
        while (isalnum((unsigned char) url[i]) || url[i] == '-'
               || url[i] == '.') {
            i++;
        }
        if (i == host) {
            return false;
        }
    }
    if (url[i] == ':') {
        size_t port = ++i;

        while (isdigit((unsigned char) url[i])) {
            i++;
        }
        if (i == port || i - port > 5 || atol(url + port) > 65535) {
            return false;
        }
    }
    if (url[i] != '\0' && url[i] != '/' && url[i] != '?') {
        return false;
    }
    /* The rest: visible ASCII only (no spaces, controls or raw UTF-8);
     * no fragment, which is never sent. */
    for (; url[i] != '\0'; i++) {
        if (url[i] <= 0x20 || url[i] >= 0x7f || url[i] == '#') {
            return false;
        }
    }
    return true;
}

bool parse_webhook_create(json_t *body, webhook_request_t *req,
                          json_t *errors)
{
    size_t before = json_array_size(errors);
    json_t *url = json_object_get(body, "url");
    json_t *secret = json_object_get(body, "secret");
    const char *text;

    memset(req, 0, sizeof(*req));
    if (url == NULL || json_is_null(url)) {
        validate_error(errors, "url", "is required");
    } else if ((text = validate_text(url)) == NULL) {
        validate_error(errors, "url", "must be a string");
    } else if (strlen(text) > PARSE_WEBHOOK_URL_MAX) {
        validate_error(errors, "url", "must be at most 2048 characters");
    } else if (!parse_webhook_url(text)) {
        validate_error(errors, "url", "must be an http or https URL with a "
                       "host name, and no user name or password");
    } else {
        strcpy(req->url, text);
    }
    if (secret != NULL && !json_is_null(secret)) {
        text = validate_text(secret);
        size_t n = text != NULL ? strlen(text) : 0;
        bool printable = text != NULL;

        for (size_t i = 0; printable && i < n; i++) {
            printable = text[i] > 0x20 && text[i] < 0x7f;
        }
        if (!printable || n < PARSE_WEBHOOK_SECRET_MIN
            || n > PARSE_WEBHOOK_SECRET_MAX)
        {
            validate_error(errors, "secret", "must be 16 to 256 visible "
                           "ASCII characters");
        } else {
            strcpy(req->secret, text);
        }
    }
    const char *tenant = validate_id_field(body, "tenantId", false, errors);
    if (tenant != NULL) {
        strcpy(req->tenant, tenant);
    }
    return json_array_size(errors) == before;
}

bool parse_webhook_list(const char *query, webhook_list_t *req,
                        json_t *errors)
{
    size_t before = json_array_size(errors);
    json_t *q = validate_query(query, errors);

    memset(req, 0, sizeof(*req));
    req->limit = 50;
    const char *tenant = validate_id_field(q, "tenantId", false, errors);
    if (tenant != NULL) {
        strcpy(req->tenant, tenant);
    }
    validate_int_field(q, "limit", 1, PARSE_DEADLETTER_LIMIT_MAX, false,
                       true, "must be a whole number from 1 to 200",
                       &req->limit, errors);
    json_decref(q);
    return json_array_size(errors) == before;
}

bool parse_webhook_id(const char *id)
{
    if (strlen(id) != PARSE_WEBHOOK_ID_LEN || strncmp(id, "wh_", 3) != 0) {
        return false;
    }
    for (const char *p = id + 3; *p; p++) {
        if (!isdigit((unsigned char) *p) && (*p < 'a' || *p > 'f')) {
            return false;
        }
    }
    return true;
}
