/*
 * db_events.c - the data layer's event streams: the sweeper's step that
 * reports the holds that ran out, and the pull API's reading of a tenant's
 * events. See db.h and docs/events.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"
#include "log.h"
#include "store.h"

/* How many expired holds one sweep script reports at most. */
#define SWEEP_BATCH "500"

/* ---------------------------------------------------------------------
 * The sweeper
 * ------------------------------------------------------------------- */

typedef struct sweep_s {
    long expired;
    db_status_t status;
} sweep_t;

/* Runs sweep.lua on one live-lock set until it says none is left. */
static bool sweep_set(db_t *db, const char *live, const char *stats,
                      const char *events, void *arg)
{
    sweep_t *sweep = arg;
    const char *keys[] = { live, stats, events };
    const char *args[] = { SWEEP_BATCH };
    bool more = true;

    while (more && sweep->status == DB_OK) {
        json_t *answer = NULL;

        sweep->status = db_script(db, SCRIPT_SWEEP, events[0] ? 3 : 2, keys,
                                  1, args, &answer);
        sweep->expired += (long) json_integer_value(
            json_object_get(answer, "expired"));
        more = json_is_true(json_object_get(answer, "more"));
        json_decref(answer);
    }
    return sweep->status == DB_OK;
}

db_status_t db_sweep(db_t *db, long *expired)
{
    sweep_t sweep = { 0, DB_OK };
    db_status_t st = db->layout->live_sets(db, sweep_set, &sweep);

    *expired = sweep.expired;
    return st != DB_OK ? st : sweep.status;
}

/* ---------------------------------------------------------------------
 * The pull API
 * ------------------------------------------------------------------- */

/* One event read from a stream: its position and its JSON. */
typedef struct event_item_s {
    unsigned long long ms, seq;
    const char *resource;       /* points into the stream list */
    json_t *event;
} event_item_t;

/* What the read of a tenant's streams collects. */
typedef struct events_read_s {
    json_t *streams;            /* the stream keys SCAN found */
    event_item_t *items;
    size_t count, cap;
} events_read_t;

static bool collect_stream(const char **keys, int count, void *arg)
{
    events_read_t *r = arg;

    for (int i = 0; i < count; i++) {
        json_array_append_new(r->streams, json_string(keys[i]));
    }
    return true;
}

/* Runs a script with no keys on every primary, with the layout's scope and
 * the event settings in front of args, as db_script does. */
static db_status_t script_each(db_t *db, script_id_t id, json_t **out)
{
    char maxlen[DB_NUM_MAX], retention[DB_NUM_MAX];
    const char *argv[] = {
        db->layout->scope, db_num(maxlen, db->cfg->events_maxlen),
        db_num(retention, db->cfg->events_retention_ms)
    };

    return db_status_of(store_script_each(db->store, id, 3, argv, out));
}

/* Reads an entry id "<ms>-<seq>"; false when it is not one. */
static bool read_entry_id(const char *id, unsigned long long *ms,
                          unsigned long long *seq)
{
    char *end;

    *ms = strtoull(id, &end, 10);
    if (end == id || *end != '-') {
        return false;
    }
    const char *s = end + 1;
    *seq = strtoull(s, &end, 10);
    return end != s && (*end == ' ' || *end == '\0');
}

static int compare_items(const void *a, const void *b)
{
    const event_item_t *x = a, *y = b;

    if (x->ms != y->ms) {
        return x->ms < y->ms ? -1 : 1;
    }
    if (x->seq != y->seq) {
        return x->seq < y->seq ? -1 : 1;
    }
    return strcmp(x->resource, y->resource);
}

/* Adds the entries of one events_read answer ("<id> <event JSON>"). */
static bool add_entries(events_read_t *r, json_t *entries,
                        const char *resource)
{
    size_t i;
    json_t *entry;

    json_array_foreach(entries, i, entry) {
        const char *text = json_string_value(entry);
        const char *space = text ? strchr(text, ' ') : NULL;
        event_item_t item = { 0, 0, resource, NULL };

        if (space == NULL || !read_entry_id(text, &item.ms, &item.seq)) {
            continue;
        }
        item.event = json_loads(space + 1, 0, NULL);
        if (!json_is_object(item.event)) {
            /* Not written by slotlock: skipped, as the dispatcher does. */
            json_decref(item.event);
            continue;
        }
        if (r->count == r->cap) {
            size_t cap = r->cap ? r->cap * 2 : 64;
            event_item_t *grown = realloc(r->items, cap * sizeof(*grown));

            if (grown == NULL) {
                json_decref(item.event);
                return false;
            }
            r->items = grown;
            r->cap = cap;
        }
        r->items[r->count++] = item;
    }
    return true;
}

/*
 * The earliest "now" of every primary: an event appended after this call
 * has an id at or past its primary's now, so one page returns only the
 * events before it, and the next page cannot miss one that comes later.
 */
static db_status_t horizon_ms(db_t *db, unsigned long long *horizon)
{
    json_t *answers = NULL, *answer;
    size_t i;
    db_status_t st = script_each(db, SCRIPT_EVENTS_READ, &answers);

    *horizon = 0;
    json_array_foreach(answers, i, answer) {
        const char *now = json_string_value(json_object_get(answer, "now"));
        unsigned long long ms = now ? strtoull(now, NULL, 10) : 0;

        if (i == 0 || ms < *horizon) {
            *horizon = ms;
        }
    }
    json_decref(answers);
    return st;
}

/* Reads one stream's entries after the cursor and before the horizon. */
static db_status_t read_stream(db_t *db, const events_request_t *in,
                               const char *key, const char *resource,
                               unsigned long long horizon, events_read_t *r)
{
    char start[64], end[64], count[DB_NUM_MAX];
    json_t *answer = NULL;

    if (!in->has_after) {
        strcpy(start, "-");
    } else {
        /* Past the cursor's position: (id, resource) after (after_id,
         * after_resource). */
        bool later = strcmp(resource, in->after_resource) > 0;
        snprintf(start, sizeof(start), "%s%llu-%llu", later ? "" : "(",
                 in->after_ms, in->after_seq);
    }
    snprintf(end, sizeof(end), "%llu-0", horizon);
    const char *keys[] = { key };
    const char *args[] = { start, end, db_num(count, in->limit) };
    db_status_t st = db_script(db, SCRIPT_EVENTS_READ, 1, keys, 3, args,
                               &answer);
    if (st == DB_OK && json_is_array(json_object_get(answer, "entries"))
        && !add_entries(r, json_object_get(answer, "entries"), resource))
    {
        st = DB_OUT_OF_MEMORY;
    }
    json_decref(answer);
    return st;
}

static void free_read(events_read_t *r)
{
    for (size_t i = 0; i < r->count; i++) {
        json_decref(r->items[i].event);
    }
    free(r->items);
    json_decref(r->streams);
}

db_status_t db_events(db_t *db, const events_request_t *in, json_t **out)
{
    events_read_t r = { json_array(), NULL, 0, 0 };
    char pattern[KEYS_MAX];
    unsigned long long horizon;
    json_t *resources = json_array();
    size_t i;
    json_t *key;

    *out = NULL;
    /* The horizon first, then the streams: one that is made after the
     * SCAN has no event before the horizon. */
    db_status_t st = horizon_ms(db, &horizon);
    keys_events_pattern(in->tenant, pattern, sizeof(pattern));
    if (st == DB_OK) {
        st = db_status_of(store_scan(db->store, pattern, collect_stream,
                                     &r));
    }
    json_array_foreach(r.streams, i, key) {
        slot_t slot;

        if (st != DB_OK) {
            break;
        }
        if (!keys_parse_events(json_string_value(key), &slot)
            || strcmp(slot.tenant, in->tenant) != 0)
        {
            continue;
        }
        json_array_append_new(resources, json_string(slot.resource));
        st = read_stream(db, in, json_string_value(key),
                         json_string_value(json_array_get(
                             resources, json_array_size(resources) - 1)),
                         horizon, &r);
    }
    if (st == DB_OK) {
        json_t *events = json_array();
        size_t n = r.count < (size_t) in->limit ? r.count
                                                : (size_t) in->limit;
        char next[64 + SLOT_ID_MAX];

        if (r.count > 1) {
            qsort(r.items, r.count, sizeof(*r.items), compare_items);
        }
        for (size_t k = 0; k < n; k++) {
            json_array_append(events, r.items[k].event);
        }
        if (n > 0) {
            snprintf(next, sizeof(next), "%llu-%llu~%s", r.items[n - 1].ms,
                     r.items[n - 1].seq, r.items[n - 1].resource);
        } else if (in->has_after) {
            snprintf(next, sizeof(next), "%llu-%llu~%s", in->after_ms,
                     in->after_seq, in->after_resource);
        }
        *out = json_pack("{s:o, s:s?}", "events", events, "next",
                         n > 0 || in->has_after ? next : NULL);
    }
    free_read(&r);
    json_decref(resources);
    return st;
}
