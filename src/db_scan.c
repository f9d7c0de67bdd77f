/*
 * db_scan.c - the data layer's listings: admin/active and the appointment
 * list, read with SCAN (never KEYS). See db.h.
 */
#include <stdlib.h>
#include <string.h>

#include "db_int.h"
#include "keyslot.h"
#include "store.h"

/* The state db_scan_values hands to store_scan. */
typedef struct value_scan_s {
    db_t *db;
    db_value_fn fn;
    void *arg;
    db_status_t status;
} value_scan_t;

/* Reads count keys that share one hash slot, and hands each value on. */
static bool read_keys(value_scan_t *scan, const char *const *keys, int count)
{
    json_t *answer = NULL;
    bool more = true;

    scan->status = db_script(scan->db, SCRIPT_READ_KEYS, count, keys, 0,
                             NULL, &answer);
    if (scan->status != DB_OK) {
        return false;
    }
    json_int_t now = json_integer_value(json_object_get(answer,
                                                        "serverTime"));
    json_t *items = json_object_get(answer, "items");
    for (int i = 0; more && i < count; i++) {
        json_t *item = json_array_get(items, (size_t) i);
        json_t *raw = json_array_get(item, 0);
        json_t *value = json_is_string(raw)
                        ? json_loads(json_string_value(raw), 0, NULL) : NULL;

        /* A value that is not a JSON object (written by hand) is handed
         * on as the string it is. A key that expired between SCAN and the
         * read has no value. */
        if (!json_is_object(value) && json_is_string(raw)) {
            json_decref(value);
            value = json_incref(raw);
        }
        if (value != NULL) {
            more = scan->fn(keys[i], value,
                            json_integer_value(json_array_get(item, 1)),
                            now, scan->arg);
        }
        json_decref(value);
    }
    json_decref(answer);
    return more;
}

static int compare_slots(const void *a, const void *b)
{
    const char *x = *(const char *const *) a, *y = *(const char *const *) b;
    unsigned sx = keyslot(x, strlen(x)), sy = keyslot(y, strlen(y));

    return sx < sy ? -1 : sx > sy;
}

/*
 * One SCAN batch, read one run of keys a script may take together at a
 * time: the whole batch with one Redis, a run per hash slot in a cluster.
 */
static bool read_batch(const char **keys, int count, void *arg)
{
    value_scan_t *scan = arg;
    bool more = true;

    qsort(keys, (size_t) count, sizeof(*keys), compare_slots);
    for (int i = 0, j; more && i < count; i = j) {
        for (j = i + 1;
             j < count && store_one_slot(scan->db->store, keys[i], keys[j]);
             j++) {
        }
        more = read_keys(scan, keys + i, j - i);
    }
    return more;
}

db_status_t db_scan_values(db_t *db, const char *pattern, db_value_fn fn,
                           void *arg)
{
    value_scan_t scan = { db, fn, arg, DB_OK };
    db_status_t st = db_status_of(store_scan(db->store, pattern, read_batch,
                                             &scan));

    return st != DB_OK ? st : scan.status;
}

int db_compare_fields(json_t *x, json_t *y, const char *const *fields,
                      size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const char *sx = json_string_value(json_object_get(x, fields[i]));
        const char *sy = json_string_value(json_object_get(y, fields[i]));
        int c = strcmp(sx ? sx : "", sy ? sy : "");

        if (c != 0) {
            return c;
        }
    }
    return 0;
}

void db_sort(json_t *array, int (*cmp)(const void *, const void *))
{
    size_t n = json_array_size(array);
    json_t **items = malloc(sizeof(*items) * (n + 1));

    if (items == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        items[i] = json_incref(json_array_get(array, i));
    }
    qsort(items, n, sizeof(*items), cmp);
    json_array_clear(array);
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(array, items[i]);
    }
    free(items);
}

/* ---------------------------------------------------------------------
 * admin/active
 * ------------------------------------------------------------------- */

/* lock's field name when it has the type is_type checks, else null. */
static json_t *field(json_t *lock, const char *name,
                     int (*is_type)(const json_t *))
{
    json_t *value = json_object_get(lock, name);

    return value != NULL && is_type(value) ? value : json_null();
}

static int is_string(const json_t *v)
{
    return json_is_string(v);
}

static int is_integer(const json_t *v)
{
    return json_is_integer(v);
}

/* The optional filters of a list request, NULL for "any". */
static const char *resource_of(const list_request_t *in)
{
    return in->present & VALIDATE_NEED_RESOURCE ? in->slot.resource : NULL;
}

static const char *date_of(const list_request_t *in)
{
    return in->present & VALIDATE_NEED_DATE ? in->slot.date : NULL;
}

/*
 * Adds one live lock to the list. A value slotlock did not write (see
 * common.lua) is an opaque lock of its key's slot: its lockId is the value
 * itself, or its lockId field; its duration its own, or 1; no holder.
 */
static bool collect_lock(const char *key, json_t *lock, json_int_t pttl,
                         json_int_t now, void *arg)
{
    json_t *locks = arg;
    slot_t slot;

    if (pttl > 0 && keys_parse_lock(key, &slot)) {
        json_t *duration = field(lock, "duration", is_integer);
        json_t *state = field(lock, "state", is_string);
        json_t *fence = field(lock, "fence", is_integer);

        duration = json_is_null(duration) ? json_integer(1)
                                          : json_incref(duration);
        json_array_append_new(locks, json_pack(
            "{s:s, s:O, s:s, s:s, s:s, s:o, s:O, s:I, s:I, s:o, s:O}",
            "key", key,
            "lockId", json_is_string(lock) ? lock
                      : field(lock, "lockId", is_string),
            "resourceId", slot.resource, "date", slot.date,
            "startTime", slot.start,
            "duration", duration,
            "holderId", field(lock, "holderId", is_string),
            "remainingTTL", pttl,
            "expiresAt", now + pttl,
            "state", json_is_null(state) ? json_string("held")
                                         : json_incref(state),
            "fence", fence));
    }
    return true;
}

/* Holds that share a start minute (capacity above 1) differ in their key
 * only: the start's own key first, then "<key>+<lockId>" (keys.c). */
static const char *const lock_order[] = { "resourceId", "date",
                                          "startTime", "key" };

/* Orders locks by resource, date, start time and key. */
static int compare_locks(const void *a, const void *b)
{
    return db_compare_fields(*(json_t *const *) a, *(json_t *const *) b,
                             lock_order, 4);
}

/* The cursor that names lock: the order's fields joined by '~', the key
 * as the lockId after its '+' when it has one. */
static json_t *cursor_of(json_t *lock)
{
    const char *seat = strchr(json_string_value(json_object_get(lock,
                                                                "key")), '+');
    char cursor[160];

    snprintf(cursor, sizeof(cursor), "%s~%s~%s%s%s",
             json_string_value(json_object_get(lock, "resourceId")),
             json_string_value(json_object_get(lock, "date")),
             json_string_value(json_object_get(lock, "startTime")),
             seat != NULL ? "~" : "", seat != NULL ? seat + 1 : "");
    return json_string(cursor);
}

/* The key of the hold a cursor names (see cursor_of) into buf. */
static void cursor_key(const list_request_t *in, char *buf, size_t len)
{
    slot_t after = in->after;
    keys_t keys;

    strcpy(after.tenant, in->slot.tenant);
    keys_of_slot(&after, &keys);
    snprintf(buf, len, "%s%s%s", keys.lock, in->after_seat[0] ? "+" : "",
             in->after_seat);
}

/*
 * The first in->limit locks in order after in->after, and the cursor of
 * the next page (null at the end). SCAN hands keys out in no order, so
 * every lock of the filter is read and sorted; a page costs the tenant's
 * live locks, not the page size.
 */
static json_t *page_of(json_t *sorted, const list_request_t *in)
{
    json_t *page = json_array();
    char key[KEYS_MAX + VALIDATE_UUID_LEN + 2] = "";
    size_t i = 0, n = json_array_size(sorted);

    if (in->after.resource[0] != '\0') {
        cursor_key(in, key, sizeof(key));
    }
    json_t *after = json_pack("{s:s, s:s, s:s, s:s}", "resourceId",
                              in->after.resource, "date", in->after.date,
                              "startTime", in->after.start, "key", key);
    while (in->after.resource[0] != '\0' && i < n
           && db_compare_fields(json_array_get(sorted, i), after,
                                lock_order, 4) <= 0) {
        i++;
    }
    for (; i < n && (long) json_array_size(page) < in->limit; i++) {
        json_array_append(page, json_array_get(sorted, i));
    }
    json_t *next = i < n && json_array_size(page) > 0
                   ? cursor_of(json_array_get(page,
                                              json_array_size(page) - 1))
                   : json_null();
    json_decref(after);
    return json_pack("{s:o, s:o}", "locks", page, "nextCursor", next);
}

db_status_t db_active(db_t *db, const list_request_t *in, json_t **out)
{
    char pattern[KEYS_MAX];
    json_t *locks = json_array();

    keys_lock_pattern(in->slot.tenant, resource_of(in), date_of(in),
                      pattern, sizeof(pattern));
    db_status_t st = db_scan_values(db, pattern, collect_lock, locks);
    *out = NULL;
    if (st == DB_OK) {
        db_sort(locks, compare_locks);
        *out = page_of(locks, in);
    }
    json_decref(locks);
    return st;
}

/* ---------------------------------------------------------------------
 * The appointment list
 * ------------------------------------------------------------------- */

/* What the appointment list collects while it scans. */
typedef struct list_scan_s {
    json_t *list;
    const char *status;     /* "" for every status */
} list_scan_t;

static bool collect_appointment(const char *key, json_t *stored,
                                json_int_t pttl, json_int_t now, void *arg)
{
    (void) key;
    (void) pttl;
    (void) now;
    list_scan_t *scan = arg;
    const char *status = json_string_value(json_object_get(stored,
                                                           "status"));

    if (status != NULL
        && (scan->status[0] == '\0' || strcmp(status, scan->status) == 0))
    {
        json_array_append(scan->list, stored);
    }
    return true;
}

/* Orders appointments by date, start time, creation (a number), id. */
static int compare_appointments(const void *a, const void *b)
{
    static const char *const order[] = { "date", "startTime" };
    json_t *x = *(json_t *const *) a, *y = *(json_t *const *) b;
    int c = db_compare_fields(x, y, order, 2);

    if (c != 0) {
        return c;
    }
    json_int_t cx = json_integer_value(json_object_get(x, "createdAt"));
    json_int_t cy = json_integer_value(json_object_get(y, "createdAt"));
    if (cx != cy) {
        return cx < cy ? -1 : 1;
    }
    static const char *const id[] = { "id" };
    return db_compare_fields(x, y, id, 1);
}

db_status_t db_appointments(db_t *db, const list_request_t *in,
                            json_t **out)
{
    char pattern[KEYS_MAX];
    list_scan_t scan = { json_array(), in->status };

    keys_appt_pattern(in->slot.tenant, resource_of(in), date_of(in),
                      pattern, sizeof(pattern));
    db_status_t st = db_scan_values(db, pattern, collect_appointment, &scan);
    *out = NULL;
    if (st == DB_OK) {
        db_sort(scan.list, compare_appointments);
        *out = json_pack("{s:O}", "appointments", scan.list);
    }
    json_decref(scan.list);
    return st;
}
