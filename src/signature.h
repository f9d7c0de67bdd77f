/*
 * signature.h - the Slotlock-Signature header of a webhook delivery.
 *
 * Pure (no I/O): HMAC-SHA256 with OpenSSL's libcrypto, so the unit tests
 * and the dispatcher compute the same thing a receiver checks.
 */
#ifndef SLOTLOCK_SIGNATURE_H
#define SLOTLOCK_SIGNATURE_H

#include <stdbool.h>
#include <stddef.h>

/* Room for "t=<20 digits>,v1=<64 hex digits>" and its NUL. */
#define SIGNATURE_HEADER_MAX 96

/*
 * Writes "t=<t>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with secret>"
 * into out (out_len bytes, at least SIGNATURE_HEADER_MAX). False when
 * libcrypto fails or out is too small.
 */
bool signature_header(const char *secret, long long t, const char *body,
                      size_t body_len, char *out, size_t out_len);

/*
 * Fills out with len random bytes as 2 * len lowercase hex digits and a
 * NUL (out_len at least 2 * len + 1): a new endpoint's secret or id.
 * False when the system's random source fails.
 */
bool signature_random_hex(size_t len, char *out, size_t out_len);

#endif
