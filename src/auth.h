/*
 * auth.h - who is calling, and what they may do (pure: no I/O).
 *
 * Two kinds of bearer token open the admin routes. ADMIN_TOKEN is the
 * operator's key: every action on every tenant. A tenant token (a JWT the
 * booking site signs, see token.h) names one tenant and a role: "admin"
 * may do every admin action on that tenant, "staff" may only read (the
 * active holds, the appointments), any other role nothing.
 */
#ifndef SLOTLOCK_AUTH_H
#define SLOTLOCK_AUTH_H

#include <stdbool.h>
#include <time.h>

#include "config.h"
#include "token.h"

typedef enum auth_result_e {
    AUTH_OK,
    AUTH_DISABLED,      /* neither ADMIN_TOKEN nor tenant tokens: 403 */
    AUTH_DENIED,        /* missing or wrong: 401 */
    AUTH_INVALID_TOKEN  /* a tenant token that does not pass: 401 with
                           error="invalid_token" */
} auth_result_t;

typedef enum auth_role_e {
    AUTH_OPERATOR,      /* ADMIN_TOKEN */
    AUTH_TENANT_ADMIN,
    AUTH_TENANT_STAFF,
    AUTH_TENANT_OTHER   /* a valid token whose role grants nothing */
} auth_role_t;

typedef struct auth_principal_s {
    auth_role_t role;
    char tenant[SLOT_ID_MAX + 1];   /* "" for the operator */
} auth_principal_t;

typedef enum auth_action_e {
    AUTH_READ,          /* list holds, list and read appointments */
    AUTH_MANAGE         /* force-release, cancel, book without a hold,
                           metrics */
} auth_action_t;

typedef enum auth_decision_e {
    AUTH_ALLOWED,
    AUTH_FORBIDDEN,         /* the role may not: 403 forbidden */
    AUTH_FORBIDDEN_TENANT   /* another tenant's data: 403 forbidden_tenant */
} auth_decision_t;

/*
 * Who sent the Authorization header ("Bearer <token>", scheme in any
 * case; NULL when there was none) at time now. AUTH_OK with who filled.
 */
auth_result_t auth_identify(const config_t *cfg, const char *header,
                            time_t now, auth_principal_t *who);

/* May who do action? */
auth_decision_t auth_may(const auth_principal_t *who, auth_action_t action);

/* May who act on tenant's data? The operator may on every tenant. */
auth_decision_t auth_may_tenant(const auth_principal_t *who,
                                const char *tenant);

/*
 * Checks an Authorization header against the operator's token only ("" when
 * admin routes are off). The comparison takes the same time wherever the
 * two differ.
 */
auth_result_t auth_check(const char *token, const char *header);

/* Compares a and b in time that depends on their lengths only. */
bool auth_equal(const char *a, const char *b);

#endif
