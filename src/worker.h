/*
 * worker.h - what one worker thread carries from request to request.
 */
#ifndef SLOTLOCK_WORKER_H
#define SLOTLOCK_WORKER_H

#include "config.h"
#include "db.h"
#include "metrics.h"

typedef struct worker_s {
    int id;
    const config_t *cfg;
    metrics_t *metrics;     /* shared by every worker of the process */
    db_t db;                /* this worker's own Redis connections */
} worker_t;

#endif
