/*
 * sentinel.h - finds the current Redis primary by asking Redis Sentinel.
 *
 * Used by store.c only, when REDIS_SENTINELS is set. Together with store.c
 * it is the only code that knows hiredis.
 */
#ifndef SLOTLOCK_SENTINEL_H
#define SLOTLOCK_SENTINEL_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/*
 * Asks the sentinels of cfg->redis_sentinels, one after the other, for the
 * address of the primary named cfg->redis_master_name (SENTINEL
 * get-master-addr-by-name), authenticating with REDIS_SENTINEL_PASSWORD when
 * it is set. The first sentinel that knows the name wins.
 *
 * host, host_len: where the primary's host goes.
 * port:           where its port goes.
 * err, err_len:   why no sentinel answered, when false is returned.
 *
 * True when an address was found.
 */
bool sentinel_primary(const config_t *cfg, char *host, size_t host_len,
                      int *port, char *err, size_t err_len);

#endif
