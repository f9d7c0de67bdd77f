/*
 * db_webhooks.c - the data layer's webhook endpoints, dead letters and
 * delivery counters. See db.h.
 *
 * None of this is a lock or booking decision: the endpoints are one hash
 * (KEYS_WEBHOOKS, id -> JSON record with its secret), which slotlock-events
 * re-reads every few seconds, the dead letters one stream and the
 * counters one hash that slotlock-events writes. Each is one key, so plain
 * commands serve in every Redis mode.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db_int.h"
#include "store.h"

/* Dead letters read at most for one listing (the newest first). */
#define DEADLETTER_SCAN 1000

static db_status_t command(db_t *db, const char *key, int argc,
                           const char *const *argv, bool resend,
                           json_t **out)
{
    return db_status_of(store_command(db->store, key, argc, argv, resend,
                                      out));
}

/* ISO 8601 with ms, UTC, of a time in ms. */
static void iso_time(long long ms, char *buf, size_t len)
{
    time_t s = (time_t) (ms / 1000);
    struct tm tm;

    gmtime_r(&s, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int) (ms % 1000));
}

/* A stored record without its secret, as the API shows it. */
static json_t *public_record(json_t *record)
{
    json_t *copy = json_deep_copy(record);

    json_object_del(copy, "secret");
    json_object_del(copy, "createdMs");
    return copy;
}

db_status_t db_webhook_create(db_t *db, const char *id,
                              const webhook_request_t *in,
                              const char *secret, json_t **out)
{
    const char *time_argv[] = { "TIME" };
    json_t *now;
    char created[64];

    *out = NULL;
    /* Redis's clock, which the event ids in the streams follow too: the
     * endpoint's groups start at this time. */
    db_status_t status = command(db, KEYS_WEBHOOKS, 1, time_argv, true,
                                 &now);
    if (status != DB_OK) {
        return status;
    }
    long long ms = strtoll(json_string_value(json_array_get(now, 0))
                           ? json_string_value(json_array_get(now, 0))
                           : "0", NULL, 10) * 1000
                   + strtoll(json_string_value(json_array_get(now, 1))
                             ? json_string_value(json_array_get(now, 1))
                             : "0", NULL, 10) / 1000;
    json_decref(now);
    iso_time(ms, created, sizeof(created));

    json_t *record = json_pack("{s:s, s:s, s:s, s:o, s:s, s:I}", "id", id,
                               "url", in->url, "secret", secret, "tenantId",
                               in->tenant[0] ? json_string(in->tenant)
                                             : json_null(),
                               "createdAt", created, "createdMs",
                               (json_int_t) ms);
    char *text = record != NULL ? json_dumps(record, JSON_COMPACT) : NULL;
    if (text == NULL) {
        json_decref(record);
        return DB_OUT_OF_MEMORY;
    }
    const char *argv[] = { "HSET", KEYS_WEBHOOKS, id, text };
    json_t *r;
    status = command(db, KEYS_WEBHOOKS, 4, argv, true, &r);
    json_decref(r);
    free(text);
    if (status == DB_OK) {
        *out = json_pack("{s:o}", "webhook", public_record(record));
    }
    json_decref(record);
    return status;
}

db_status_t db_webhook_list(db_t *db, const char *tenant, json_t **out)
{
    const char *argv[] = { "HGETALL", KEYS_WEBHOOKS };
    json_t *r;
    db_status_t status = command(db, KEYS_WEBHOOKS, 2, argv, true, &r);

    *out = NULL;
    if (status != DB_OK) {
        return status;
    }
    json_t *list = json_array();
    for (size_t i = 1; i < json_array_size(r); i += 2) {
        const char *text = json_string_value(json_array_get(r, i));
        json_t *record = text != NULL ? json_loads(text, 0, NULL) : NULL;
        const char *owner = json_string_value(json_object_get(record,
                                                              "tenantId"));

        if (record != NULL
            && (tenant[0] == '\0'
                || (owner != NULL && strcmp(owner, tenant) == 0)))
        {
            json_array_append_new(list, public_record(record));
        }
        json_decref(record);
    }
    json_decref(r);
    *out = json_pack("{s:o}", "webhooks", list);
    return DB_OK;
}

db_status_t db_webhook_get(db_t *db, const char *id, json_t **out)
{
    const char *argv[] = { "HGET", KEYS_WEBHOOKS, id };
    json_t *r;
    db_status_t status = command(db, KEYS_WEBHOOKS, 3, argv, true, &r);

    *out = NULL;
    if (status != DB_OK) {
        return status;
    }
    json_t *record = json_is_string(r) ? json_loads(json_string_value(r), 0,
                                                    NULL)
                                       : NULL;
    json_decref(r);
    *out = record != NULL ? json_pack("{s:o}", "webhook",
                                      public_record(record))
                          : json_pack("{s:s}", "err", "not_found");
    json_decref(record);
    return DB_OK;
}

db_status_t db_webhook_delete(db_t *db, const char *id)
{
    const char *argv[] = { "HDEL", KEYS_WEBHOOKS, id };
    json_t *r;
    db_status_t status = command(db, KEYS_WEBHOOKS, 3, argv, true, &r);

    json_decref(r);
    return status;
}

/* One dead-letter entry [id, [field, value, ...]] as the API shows it. */
static json_t *dead_letter(json_t *entry)
{
    json_t *fields = json_array_get(entry, 1);
    json_t *out = json_object();
    char failed[64];

    for (size_t i = 0; i + 1 < json_array_size(fields); i += 2) {
        const char *name = json_string_value(json_array_get(fields, i));
        json_t *value = json_array_get(fields, i + 1);

        if (name == NULL || !json_is_string(value)) {
            continue;
        }
        if (strcmp(name, "event") == 0) {
            json_t *event = json_loads(json_string_value(value), 0, NULL);

            json_object_set_new(out, "event", event != NULL ? event
                                                            : json_null());
        } else if (strcmp(name, "attempts") == 0) {
            json_object_set_new(out, "attempts",
                                json_integer(atol(json_string_value(value))));
        } else if (strcmp(name, "endpointId") == 0
                   || strcmp(name, "tenantId") == 0
                   || strcmp(name, "eventId") == 0
                   || strcmp(name, "lastError") == 0)
        {
            json_object_set(out, name, value);
        }
    }
    const char *id = json_string_value(json_array_get(entry, 0));
    iso_time(id != NULL ? strtoll(id, NULL, 10) : 0, failed, sizeof(failed));
    json_object_set_new(out, "id", json_string(id != NULL ? id : ""));
    json_object_set_new(out, "deadLetteredAt", json_string(failed));
    return out;
}

db_status_t db_deadletters(db_t *db, const webhook_list_t *in, json_t **out)
{
    char count[16];
    json_t *r;

    snprintf(count, sizeof(count), "%d", DEADLETTER_SCAN);
    const char *argv[] = { "XREVRANGE", KEYS_DEADLETTER, "+", "-", "COUNT",
                           count };
    db_status_t status = command(db, KEYS_DEADLETTER, 6, argv, true, &r);

    *out = NULL;
    if (status != DB_OK) {
        return status;
    }
    json_t *list = json_array();
    size_t i;
    json_t *entry;
    json_array_foreach(r, i, entry) {
        if ((long) json_array_size(list) >= in->limit) {
            break;
        }
        json_t *letter = dead_letter(entry);
        const char *owner = json_string_value(json_object_get(letter,
                                                              "tenantId"));
        if (in->tenant[0] == '\0'
            || (owner != NULL && strcmp(owner, in->tenant) == 0))
        {
            json_array_append_new(list, letter);
        } else {
            json_decref(letter);
        }
    }
    json_decref(r);
    *out = json_pack("{s:o}", "deadLetters", list);
    return DB_OK;
}

db_status_t db_webhook_stats(db_t *db, json_t **out)
{
    const char *argv[] = { "HGETALL", KEYS_WEBHOOK_STATS };
    json_t *r;
    db_status_t status = command(db, KEYS_WEBHOOK_STATS, 2, argv, true, &r);

    *out = NULL;
    if (status != DB_OK) {
        return status;
    }
    *out = json_object();
    for (size_t i = 0; i + 1 < json_array_size(r); i += 2) {
        const char *name = json_string_value(json_array_get(r, i));
        const char *value = json_string_value(json_array_get(r, i + 1));

        if (name != NULL && value != NULL) {
            json_object_set_new(*out, name,
                                json_integer(strtoll(value, NULL, 10)));
        }
    }
    json_decref(r);
    return DB_OK;
}
