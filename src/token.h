/*
 * token.h - tenant tokens: JSON Web Tokens a booking site signs for its
 * own users, checked with libjwt.
 *
 * HS256 is checked with JWT_SECRET, RS256 and ES256 with the PEM public key
 * of JWT_PUBLIC_KEY_FILE; the algorithm the token's header names must be
 * one the configuration enabled, and picks the key (an HS256 token is never
 * checked against the public key). On top of the signature: exp is
 * required and nbf honoured, each with TOKEN_LEEWAY_S of leeway; iss and
 * aud are checked when JWT_ISSUER and JWT_AUDIENCE are set; the tenant
 * (JWT_TENANT_CLAIM) must be a valid tenantId and the role (JWT_ROLE_CLAIM)
 * a string. No I/O: the key text is in the configuration.
 */
#ifndef SLOTLOCK_TOKEN_H
#define SLOTLOCK_TOKEN_H

#include <stdbool.h>
#include <time.h>

#include "config.h"
#include "slot.h"

#define TOKEN_LEEWAY_S 30
#define TOKEN_MAX_LEN 8192
#define TOKEN_ROLE_MAX 32

typedef struct token_claims_s {
    char tenant[SLOT_ID_MAX + 1];
    char role[TOKEN_ROLE_MAX + 1];
} token_claims_t;

/* True when token looks like a JWT: three base64url parts, two dots. */
bool token_shaped(const char *token);

/*
 * Checks token against cfg at time now (Unix seconds). True with the
 * claims in out when it is valid; false for any bad token (malformed,
 * wrong signature, alg "none" or not enabled, expired, not yet valid,
 * wrong issuer or audience, no usable tenant or role).
 */
bool token_verify(const config_t *cfg, const char *token, time_t now,
                  token_claims_t *out);

#endif
