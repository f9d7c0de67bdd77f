/*
 * Fuzz target: the Authorization header of an admin route, as
 * auth_identify reads it: the operator's token, tenant tokens (JWT) with
 * HS256 and an ES256 public key enabled, issuer and audience checked.
 *
 * Input: the header's value, as a client sends it ("Bearer <token>").
 * corpus/auth/ holds an operator header, a valid HS256 token, tokens with
 * alg none and with an algorithm not enabled, and malformed ones.
 *
 * Rules: the answer is one of the four results; a tenant token that
 * passes names a valid tenantId and is shaped like a JWT; the operator is
 * only the exact operator token.
 */
#include "fuzz.h"

#include "auth.h"
#include "token.h"

/* The seeds' tokens are valid at this moment (their exp is later). */
#define FUZZ_NOW 1700000000L

static const char public_key[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEbl3jDsyNpugVHcNapOHs/qeV5miD\n"
    "m4zVomk1u/4o0LItfahc0qYD5ZvNCx6qZLQtdhOaMKS8gczuYrW6hxHmvg==\n"
    "-----END PUBLIC KEY-----\n";

static config_t cfg;

static void setup(void)
{
    memset(&cfg, 0, sizeof(cfg));
    strcpy(cfg.admin_token, "operator-token-for-fuzzing");
    strcpy(cfg.jwt_secret, "0123456789abcdef0123456789abcdef");
    strcpy(cfg.jwt_public_key, public_key);
    strcpy(cfg.jwt_issuer, "https://login.shop.example");
    strcpy(cfg.jwt_audience, "slotlock");
    strcpy(cfg.jwt_tenant_claim, "tenantId");
    strcpy(cfg.jwt_role_claim, "role");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (cfg.jwt_tenant_claim[0] == '\0') {
        setup();
    }
    char *header = malloc(size + 1);
    if (header == NULL) {
        return 0;
    }
    memcpy(header, data, size);
    header[size] = '\0';

    auth_principal_t who;
    auth_result_t r = auth_identify(&cfg, header, FUZZ_NOW, &who);
    FUZZ_CHECK(r == AUTH_OK || r == AUTH_DENIED || r == AUTH_INVALID_TOKEN);
    if (r == AUTH_OK) {
        const char *token = header + 7;
        while (*token == ' ') {
            token++;
        }
        if (who.role == AUTH_OPERATOR) {
            FUZZ_CHECK(strcmp(token, cfg.admin_token) == 0);
            FUZZ_CHECK(who.tenant[0] == '\0');
        } else {
            FUZZ_CHECK(token_shaped(token));
            FUZZ_CHECK(validate_id(who.tenant));
            FUZZ_CHECK(auth_may_tenant(&who, who.tenant) == AUTH_ALLOWED);
            FUZZ_CHECK(who.role != AUTH_TENANT_STAFF
                       || auth_may(&who, AUTH_MANAGE) == AUTH_FORBIDDEN);
        }
    }
    /* The token alone, as token_verify sees it. */
    token_claims_t claims;
    if (token_verify(&cfg, header, FUZZ_NOW, &claims)) {
        FUZZ_CHECK(token_shaped(header));
        FUZZ_CHECK(validate_id(claims.tenant));
    }
    free(header);
    return 0;
}
