/*
 * cors.c - the CORS allow-list. See cors.h.
 */
#include "cors.h"

#include <string.h>

const char *cors_next_item(const char *p, const char **item, size_t *len)
{
    if (*p == '\0') {
        return NULL;
    }
    size_t n = strcspn(p, ",");
    const char *start = p, *end = p + n;

    while (start < end && *start == ' ') {
        start++;
    }
    while (end > start && end[-1] == ' ') {
        end--;
    }
    *item = start;
    *len = (size_t) (end - start);
    return p[n] == ',' ? p + n + 1 : p + n;
}

bool cors_listed(const char *list, const char *origin)
{
    const char *item;
    size_t len, olen;

    if (list == NULL || origin == NULL || (olen = strlen(origin)) == 0) {
        return false;
    }
    for (const char *p = list; (p = cors_next_item(p, &item, &len)) != NULL;)
    {
        if (len == olen && memcmp(item, origin, olen) == 0) {
            return true;
        }
    }
    return false;
}

bool cors_state_changing(const char *method)
{
    return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0
           || strcmp(method, "PATCH") == 0 || strcmp(method, "DELETE") == 0;
}
