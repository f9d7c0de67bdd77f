/*
 * db_resource.c - the data layer's resource settings and the payment
 * phase of a hold. See db.h.
 *
 * A resource's settings are a hash beside its locks (booking_resource:
 * {t|r}, one hash slot with them), read by the acquire and book scripts
 * in the same call that decides.
 */
#include "db_int.h"

db_status_t db_resource_get(db_t *db, const slot_t *resource, json_t **out)
{
    keys_t keys;

    keys_of_slot(resource, &keys);
    const char *script_keys[] = { keys.settings };
    return db_script(db, SCRIPT_RESOURCE, 1, script_keys, 0, NULL, out);
}

db_status_t db_resource_put(db_t *db, const resource_request_t *in,
                            json_t **out)
{
    char capacity[DB_NUM_MAX], before[DB_NUM_MAX], after[DB_NUM_MAX];
    keys_t keys;

    keys_of_slot(&in->slot, &keys);
    const char *script_keys[] = { keys.settings };
    const char *args[] = {
        db_num(capacity, in->capacity),
        db_num(before, in->buffer_before_min),
        db_num(after, in->buffer_after_min)
    };
    return db_script(db, SCRIPT_RESOURCE, 1, script_keys, 3, args, out);
}
