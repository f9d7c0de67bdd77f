/*
 * auth.h - the admin token check (pure: no I/O).
 */
#ifndef SLOTLOCK_AUTH_H
#define SLOTLOCK_AUTH_H

#include <stdbool.h>

typedef enum auth_result_e {
    AUTH_OK,
    AUTH_DISABLED,      /* no ADMIN_TOKEN configured: 403 */
    AUTH_DENIED         /* missing or wrong: 401 */
} auth_result_t;

/*
 * Checks an Authorization header ("Bearer <token>", scheme in any case)
 * against token ("" when admin routes are off). The comparison takes the
 * same time wherever the two differ.
 */
auth_result_t auth_check(const char *token, const char *header);

/* Compares a and b in time that depends on their lengths only. */
bool auth_equal(const char *a, const char *b);

#endif
