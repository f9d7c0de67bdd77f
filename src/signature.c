/*
 * signature.c - the Slotlock-Signature header. See signature.h.
 */
#include "signature.h"

#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void to_hex(const unsigned char *bytes, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

bool signature_header(const char *secret, long long t, const char *body,
                      size_t body_len, char *out, size_t out_len)
{
    char stamp[32];
    int stamp_len = snprintf(stamp, sizeof(stamp), "%lld.", t);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    bool ok = false;

    if (out_len < SIGNATURE_HEADER_MAX) {
        return false;
    }
    /* The signed text is "<t>.<body>": fed in two parts, never copied. */
    EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = hmac != NULL ? EVP_MAC_CTX_new(hmac) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string("digest", (char *) "SHA256", 0),
        OSSL_PARAM_construct_end()
    };
    size_t got = 0;

    if (ctx != NULL
        && EVP_MAC_init(ctx, (const unsigned char *) secret, strlen(secret),
                        params)
        && EVP_MAC_update(ctx, (const unsigned char *) stamp,
                          (size_t) stamp_len)
        && EVP_MAC_update(ctx, (const unsigned char *) body, body_len)
        && EVP_MAC_final(ctx, mac, &got, sizeof(mac)))
    {
        mac_len = (unsigned int) got;
        to_hex(mac, mac_len, hex);
        ok = snprintf(out, out_len, "t=%lld,v1=%s", t, hex) < (int) out_len;
    }
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(hmac);
    return ok;
}

bool signature_random_hex(size_t len, char *out, size_t out_len)
{
    unsigned char bytes[64];

    if (len > sizeof(bytes) || out_len < 2 * len + 1
        || RAND_bytes(bytes, (int) len) != 1)
    {
        return false;
    }
    to_hex(bytes, len, out);
    return true;
}
