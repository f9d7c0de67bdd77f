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
