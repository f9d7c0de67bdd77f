/*
 * auth.c - the admin token check. See auth.h.
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

auth_result_t auth_check(const char *token, const char *header)
{
    if (token == NULL || token[0] == '\0') {
        return AUTH_DISABLED;
    }
    if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0) {
        return AUTH_DENIED;
    }
    header += 7;
    while (*header == ' ') {
        header++;
    }
    return auth_equal(header, token) ? AUTH_OK : AUTH_DENIED;
}
