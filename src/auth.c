/*
 * auth.c - the operator's token and tenant tokens. See auth.h.
 */
#include "auth.h"

#include <string.h>
#include <strings.h>

bool auth_equal(const char *a, const char *b)
{
    size_t alen = strlen(a);
    size_t blen = strlen(b);
    unsigned char diff = alen != blen;

    /* Walk all of b whatever a holds, so the time says nothing of a. */
    for (size_t i = 0; i < blen; i++) {
        diff |= (unsigned char) (b[i] ^ a[i < alen ? i : 0]);
    }
    return diff == 0;
}

/* The token of a "Bearer <token>" header; NULL for any other header. */
static const char *bearer(const char *header)
{
    if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0) {
        return NULL;
    }
    header += 7;
    while (*header == ' ') {
        header++;
    }
    return header;
}

auth_result_t auth_check(const char *token, const char *header)
{
    if (token == NULL || token[0] == '\0') {
        return AUTH_DISABLED;
    }
    const char *sent = bearer(header);
    return sent != NULL && auth_equal(sent, token) ? AUTH_OK : AUTH_DENIED;
}

auth_result_t auth_identify(const config_t *cfg, const char *header,
                            time_t now, auth_principal_t *who)
{
    bool operator_on = cfg->admin_token[0] != '\0';
    bool tokens_on = config_jwt_enabled(cfg);
    const char *sent = bearer(header);
    token_claims_t claims;

    memset(who, 0, sizeof(*who));
    if (!operator_on && !tokens_on) {
        return AUTH_DISABLED;
    }
    if (sent == NULL) {
        return AUTH_DENIED;
    }
    if (operator_on && auth_equal(sent, cfg->admin_token)) {
        who->role = AUTH_OPERATOR;
        return AUTH_OK;
    }
    if (!tokens_on) {
        return AUTH_DENIED;
    }
    if (!token_verify(cfg, sent, now, &claims)) {
        return AUTH_INVALID_TOKEN;
    }
    strcpy(who->tenant, claims.tenant);
    who->role = strcmp(claims.role, "admin") == 0 ? AUTH_TENANT_ADMIN
                : strcmp(claims.role, "staff") == 0 ? AUTH_TENANT_STAFF
                : AUTH_TENANT_OTHER;
    return AUTH_OK;
}

auth_decision_t auth_may(const auth_principal_t *who, auth_action_t action)
{
    switch (who->role) {
    case AUTH_OPERATOR:
    case AUTH_TENANT_ADMIN:
        return AUTH_ALLOWED;
    case AUTH_TENANT_STAFF:
        return action == AUTH_READ ? AUTH_ALLOWED : AUTH_FORBIDDEN;
    default:
        return AUTH_FORBIDDEN;
    }
}

auth_decision_t auth_may_tenant(const auth_principal_t *who,
                                const char *tenant)
{
    if (who->role == AUTH_OPERATOR) {
        return AUTH_ALLOWED;
    }
    return strcmp(who->tenant, tenant) == 0 ? AUTH_ALLOWED
                                            : AUTH_FORBIDDEN_TENANT;
}
