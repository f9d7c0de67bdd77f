/*
 * cors.c - the CORS allow-list. See cors.h.
 */
#include "cors.h"

#include <string.h>

bool cors_listed(const char *list, const char *origin)
{
    size_t olen;

    if (list == NULL || origin == NULL || (olen = strlen(origin)) == 0) {
        return false;
    }
    const char *p = list;
    while (*p != '\0') {
        size_t len = strcspn(p, ",");
        const char *start = p, *end = p + len;

        while (start < end && *start == ' ') {
            start++;
        }
        while (end > start && end[-1] == ' ') {
            end--;
        }
        if ((size_t) (end - start) == olen
            && memcmp(start, origin, olen) == 0)
        {
            return true;
        }
        p += len;
        if (*p == ',') {
            p++;
        }
    }
    return false;
}

bool cors_state_changing(const char *method)
{
    return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0
           || strcmp(method, "PATCH") == 0 || strcmp(method, "DELETE") == 0;
}
