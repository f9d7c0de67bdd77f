/*
 * sweeper.h - the background thread that reports holds that ran out.
 *
 * Every SWEEP_INTERVAL ms it asks the data layer (db_sweep) to report the
 * holds whose end has passed as hold.expired, with its own data-layer
 * handle. Several processes may sweep at once: each hold is reported by
 * whichever script removes it from the live-lock set, once.
 */
#ifndef SLOTLOCK_SWEEPER_H
#define SLOTLOCK_SWEEPER_H

#include <stdbool.h>

#include "config.h"

/* Starts the thread (none when SWEEP_INTERVAL is 0); id names its
 * data-layer handle in log lines. False when it could not be started. */
bool sweeper_start(const config_t *cfg, int id);

/* Stops the thread and waits for it; nothing when it was not started. */
void sweeper_stop(void);

#endif
