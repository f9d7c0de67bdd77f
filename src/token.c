/*
 * token.c - tenant tokens, checked with libjwt. See token.h.
 */
#include "token.h"

#include <jansson.h>
#include <jwt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

static bool base64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool token_shaped(const char *token)
{
    size_t len = strlen(token), dots = 0, part = 0;

    if (len == 0 || len > TOKEN_MAX_LEN) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (token[i] == '.') {
            /* The header and the payload are never empty. */
            if (part == 0 || ++dots > 2) {
                return false;
            }
            part = 0;
        } else if (!base64url_char(token[i])) {
            return false;
        } else {
            part++;
        }
    }
    return dots == 2;
}

static int base64url_value(char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    return c == '-' ? 62 : 63;
}

/* Decodes len base64url characters (no padding) into out, which has room
 * for len bytes; returns the decoded length, or -1 for a bad length. */
static long base64url_decode(const char *in, size_t len, char *out)
{
    unsigned long acc = 0;
    int bits = 0;
    long n = 0;

    if (len % 4 == 1) {
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 6) | (unsigned long) base64url_value(in[i]);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (char) ((acc >> bits) & 0xff);
        }
    }
    return n;
}

/* The "alg" of the token's header (which token_shaped has checked), into
 * alg; false when the header is not a JSON object with a string alg. */
static bool header_alg(const char *token, char *alg, size_t alg_len)
{
    size_t len = strcspn(token, ".");
    char *text = malloc(len + 1);
    bool ok = false;

    if (text == NULL) {
        return false;
    }
    long n = base64url_decode(token, len, text);
    if (n > 0) {
        json_t *head = json_loadb(text, (size_t) n, JSON_REJECT_DUPLICATES,
                                  NULL);
        const char *v = json_string_value(json_object_get(head, "alg"));

        if (v != NULL && strlen(v) < alg_len) {
            strcpy(alg, v);
            ok = true;
        }
        json_decref(head);
    }
    free(text);
    return ok;
}

/* A NumericDate claim: absent (false, *present false), a number (true), or
 * anything else (false, *present true). */
static bool numeric_date(json_t *claims, const char *name, double *out,
                         bool *present)
{
    json_t *v = json_object_get(claims, name);

    *present = v != NULL;
    if (v == NULL || !json_is_number(v)) {
        return false;
    }
    *out = json_number_value(v);
    return isfinite(*out);
}

static bool audience_matches(json_t *aud, const char *want)
{
    size_t i;
    json_t *v;

    if (json_is_string(aud)) {
        return strcmp(json_string_value(aud), want) == 0;
    }
    json_array_foreach(aud, i, v) {
        if (json_is_string(v) && strcmp(json_string_value(v), want) == 0) {
            return true;
        }
    }
    return false;
}

/* The claims libjwt has verified the signature of, checked. */
static bool claims_valid(const config_t *cfg, json_t *claims, time_t now,
                         token_claims_t *out)
{
    double exp, nbf;
    bool present;

    if (!json_is_object(claims)
        || !numeric_date(claims, "exp", &exp, &present)
        || (double) now > exp + TOKEN_LEEWAY_S)
    {
        return false;
    }
    if (numeric_date(claims, "nbf", &nbf, &present)) {
        if ((double) now + TOKEN_LEEWAY_S < nbf) {
            return false;
        }
    } else if (present) {
        return false;
    }
    if (cfg->jwt_issuer[0] != '\0') {
        const char *iss = json_string_value(json_object_get(claims, "iss"));

        if (iss == NULL || strcmp(iss, cfg->jwt_issuer) != 0) {
            return false;
        }
    }
    if (cfg->jwt_audience[0] != '\0'
        && !audience_matches(json_object_get(claims, "aud"),
                             cfg->jwt_audience))
    {
        return false;
    }
    const char *tenant = json_string_value(json_object_get(
        claims, cfg->jwt_tenant_claim));
    const char *role = json_string_value(json_object_get(
        claims, cfg->jwt_role_claim));
    if (tenant == NULL || !validate_id(tenant) || role == NULL
        || strlen(role) > TOKEN_ROLE_MAX)
    {
        return false;
    }
    strcpy(out->tenant, tenant);
    strcpy(out->role, role);
    return true;
}

bool token_verify(const config_t *cfg, const char *token, time_t now,
                  token_claims_t *out)
{
    char alg[16];
    jwt_alg_t want;
    const char *key;

    memset(out, 0, sizeof(*out));
    if (!token_shaped(token) || !header_alg(token, alg, sizeof(alg))) {
        return false;
    }
    /* The header's alg picks the key; "none" and the others never pass. */
    if (strcmp(alg, "HS256") == 0) {
        want = JWT_ALG_HS256;
        key = cfg->jwt_secret;
    } else if (strcmp(alg, "RS256") == 0) {
        want = JWT_ALG_RS256;
        key = cfg->jwt_public_key;
    } else if (strcmp(alg, "ES256") == 0) {
        want = JWT_ALG_ES256;
        key = cfg->jwt_public_key;
    } else {
        return false;
    }
    if (key[0] == '\0') {
        return false;           /* that algorithm is not enabled */
    }

    jwt_t *jwt = NULL;
    bool ok = false;
    if (jwt_decode(&jwt, token, (const unsigned char *) key,
                   (int) strlen(key)) == 0
        && jwt != NULL && jwt_get_alg(jwt) == want)
    {
        char *text = jwt_get_grants_json(jwt, NULL);
        json_t *claims = text ? json_loads(text, JSON_REJECT_DUPLICATES,
                                           NULL) : NULL;

        ok = claims_valid(cfg, claims, now, out);
        json_decref(claims);
        free(text);
    }
    jwt_free(jwt);
    if (!ok) {
        memset(out, 0, sizeof(*out));
    }
    return ok;
}
