/*
 * validate.c - the field rules every route shares. See validate.h.
 */
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

bool validate_id(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > SLOT_ID_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_id_char(s[i])) {
            return false;
        }
    }
    return true;
}

bool validate_uuid(const char *s)
{
    if (strlen(s) != VALIDATE_UUID_LEN) {
        return false;
    }
    for (size_t i = 0; i < VALIDATE_UUID_LEN; i++) {
        char c = s[i];

        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') {
                return false;
            }
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

bool validate_email(const char *s)
{
    size_t n = strlen(s);
    const char *at = strchr(s, '@');

    if (n < 3 || n > 254 || at == NULL || at == s || strchr(at + 1, '@')) {
        return false;
    }
    for (const char *p = s; *p; p++) {
        if ((unsigned char) *p <= ' ' || *p == 0x7f || *p == '<'
            || *p == '>' || *p == ',' || *p == ';' || *p == '"')
        {
            return false;
        }
    }
    /* The domain needs a dot with something on both sides. */
    const char *domain = at + 1;
    const char *dot = strrchr(domain, '.');
    return dot != NULL && dot != domain && dot[1] != '\0'
           && strstr(domain, "..") == NULL;
}

bool validate_phone(const char *s)
{
    size_t n = strlen(s);

    if (n > 32) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!strchr("+0123456789 ()-", s[i])) {
            return false;
        }
    }
    return true;
}

const char *validate_text(json_t *v)
{
    const char *s = json_string_value(v);

    return s != NULL && strlen(s) == json_string_length(v) ? s : NULL;
}

bool validate_exact_number(json_t *v)
{
    char text[32];

    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);

        return n > -1000000000000000 && n < 1000000000000000;
    }
    /* 15 significant digits survive a round trip through a double, and
     * %.15g of such a double gives them back. */
    double d = json_real_value(v);
    snprintf(text, sizeof(text), "%.*g", VALIDATE_NUMBER_DIGITS, d);
    return strtod(text, NULL) == d;
}

void validate_error(json_t *errors, const char *field, const char *message)
{
    json_array_append_new(errors, json_pack("{s:s, s:s}", "field", field,
                                            "message", message));
}

bool validate_has_error(json_t *errors, const char *field)
{
    size_t i;
    json_t *e;

    json_array_foreach(errors, i, e) {
        if (strcmp(json_string_value(json_object_get(e, "field")), field)
            == 0)
        {
            return true;
        }
    }
    return false;
}

/*
 * The string value of field name, or NULL when absent. A present non-string
 * adds an error and sets *bad.
 */
static const char *string_field(json_t *obj, const char *name,
                                json_t *errors, bool *bad)
{
    json_t *v = json_object_get(obj, name);

    *bad = false;
    if (v == NULL || json_is_null(v)) {
        return NULL;
    }
    if (!json_is_string(v)) {
        validate_error(errors, name, "must be a string");
        *bad = true;
        return NULL;
    }
    if (validate_text(v) == NULL) {
        validate_error(errors, name, "must not contain a NUL character");
        *bad = true;
        return NULL;
    }
    return json_string_value(v);
}

const char *validate_id_field(json_t *obj, const char *name, bool required,
                              json_t *errors)
{
    bool bad;
    const char *s = string_field(obj, name, errors, &bad);

    if (bad) {
        return NULL;
    }
    if (s == NULL) {
        if (required) {
            validate_error(errors, name, "is required");
        }
        return NULL;
    }
    if (!validate_id(s)) {
        validate_error(errors, name,
                       "must be 1-64 characters of A-Z a-z 0-9 _ . -");
        return NULL;
    }
    return s;
}

int validate_int_field(json_t *obj, const char *name, long min, long max,
                       bool required, bool from_query, const char *message,
                       long *out, json_t *errors)
{
    json_t *v = json_object_get(obj, name);
    long n;

    if (v == NULL || json_is_null(v)) {
        if (required) {
            validate_error(errors, name, "is required");
            return -1;
        }
        return 0;
    }
    if (from_query) {
        const char *s = json_string_value(v);
        char *end;

        if (s == NULL || s[0] < '0' || s[0] > '9' || strlen(s) > 12) {
            validate_error(errors, name, message);
            return -1;
        }
        n = strtol(s, &end, 10);
        if (*end != '\0') {
            validate_error(errors, name, message);
            return -1;
        }
    } else {
        if (!json_is_integer(v)) {
            validate_error(errors, name, message);
            return -1;
        }
        json_int_t i = json_integer_value(v);
        if (i < min || i > max) {
            validate_error(errors, name, message);
            return -1;
        }
        n = (long) i;
    }
    if (n < min || n > max) {
        validate_error(errors, name, message);
        return -1;
    }
    *out = n;
    return 1;
}

int validate_lock_id(json_t *obj, bool required, char *out, json_t *errors)
{
    bool bad;
    const char *s = string_field(obj, "lockId", errors, &bad);

    if (bad) {
        return -1;
    }
    if (s == NULL || s[0] == '\0') {
        if (required) {
            validate_error(errors, "lockId", "is required");
        }
        return 0;
    }
    if (!validate_uuid(s)) {
        validate_error(errors, "lockId",
                       "must be a UUID in lowercase 8-4-4-4-12 form");
        return -1;
    }
    memcpy(out, s, VALIDATE_UUID_LEN + 1);
    return 1;
}

bool validate_slot(json_t *obj, const char *resource_field, unsigned need,
                   bool from_query, slot_t *slot, unsigned *present,
                   json_t *errors)
{
    size_t before = json_array_size(errors);
    const char *tenant, *resource, *date, *start;
    bool bad;

    memset(slot, 0, sizeof(*slot));
    *present = 0;

    tenant = validate_id_field(obj, "tenantId", need & VALIDATE_NEED_TENANT,
                               errors);
    if (tenant) {
        strcpy(slot->tenant, tenant);
        *present |= VALIDATE_NEED_TENANT;
    }
    resource = validate_id_field(obj, resource_field,
                                 need & VALIDATE_NEED_RESOURCE, errors);
    if (resource) {
        strcpy(slot->resource, resource);
        *present |= VALIDATE_NEED_RESOURCE;
    }

    date = string_field(obj, "date", errors, &bad);
    if (!bad && date == NULL && (need & VALIDATE_NEED_DATE)) {
        validate_error(errors, "date", "is required");
    } else if (date != NULL && !slot_parse_date(date)) {
        validate_error(errors, "date",
                       "must be a real calendar date YYYY-MM-DD");
    } else if (date != NULL) {
        strcpy(slot->date, date);
        *present |= VALIDATE_NEED_DATE;
    }

    start = string_field(obj, "startTime", errors, &bad);
    if (!bad && start == NULL && (need & VALIDATE_NEED_START)) {
        validate_error(errors, "startTime", "is required");
    } else if (start != NULL
               && !slot_parse_time(start, false, &slot->start_min))
    {
        validate_error(errors, "startTime",
                       "must be a time HH:MM from 00:00 to 23:59");
    } else if (start != NULL) {
        strcpy(slot->start, start);
        *present |= VALIDATE_NEED_START;
    }

    long duration;
    int got = validate_int_field(obj, "duration", 1, SLOT_MINUTES_PER_DAY,
                                 need & VALIDATE_NEED_DURATION, from_query,
                                 "must be a whole number of minutes from 1 "
                                 "to 1440", &duration, errors);
    if (got == 1) {
        if ((*present & VALIDATE_NEED_START)
            && slot->start_min + duration > SLOT_MINUTES_PER_DAY)
        {
            validate_error(errors, "duration",
                           "startTime plus duration must not pass 24:00");
        } else {
            slot->duration_min = (int) duration;
            *present |= VALIDATE_NEED_DURATION;
        }
    }
    return json_array_size(errors) == before;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Decodes len bytes of s into a new string; NULL on a bad escape or %00. */
static char *percent_decode(const char *s, size_t len)
{
    char *out = malloc(len + 1);
    size_t o = 0;

    if (out == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%') {
            int hi = i + 2 < len ? hex_value(s[i + 1]) : -1;
            int lo = i + 2 < len ? hex_value(s[i + 2]) : -1;

            /* A NUL byte would cut the value short: refuse it. */
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(out);
                return NULL;
            }
            out[o++] = (char) (hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

json_t *validate_query(const char *query, json_t *errors)
{
    json_t *obj = json_object();
    const char *p = query ? query : "";

    while (*p != '\0') {
        size_t len = strcspn(p, "&");
        const char *eq = memchr(p, '=', len);
        size_t name_len = eq ? (size_t) (eq - p) : len;
        char *name = percent_decode(p, name_len);
        char *value = eq ? percent_decode(eq + 1, len - name_len - 1)
                         : strdup("");

        if (name == NULL || value == NULL) {
            validate_error(errors, "query", "has a bad percent-escape");
        } else if (name[0] == '\0') {
            /* "a=1&&b=2": an empty piece carries nothing. */
        } else if (json_object_get(obj, name) != NULL) {
            if (!validate_has_error(errors, name)) {
                validate_error(errors, name, "must not be repeated");
            }
        } else {
            json_t *v = json_string(value);

            if (v == NULL) {
                validate_error(errors, "query", "must be valid UTF-8");
            } else if (json_object_set_new(obj, name, v) != 0) {
                validate_error(errors, "query", "must be valid UTF-8");
            }
        }
        free(name);
        free(value);
        p += len;
        if (*p == '&') {
            p++;
        }
    }
    return obj;
}
