/*
 * validate.h - the field rules every route shares (pure: no I/O).
 *
 * Readers take a JSON object (a request body, or a query string turned into
 * an object of strings), check one field and, when it is bad, add an entry
 * {"field", "message"} to errors, so a 400 can list every bad field at once.
 */
#ifndef SLOTLOCK_VALIDATE_H
#define SLOTLOCK_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>

#include "slot.h"

#define VALIDATE_UUID_LEN 36

/* 1-64 characters of A-Z a-z 0-9 _ . - */
bool validate_id(const char *s);

/* A UUID in canonical lowercase 8-4-4-4-12 form. */
bool validate_uuid(const char *s);

/* A plausible e-mail address of at most 254 characters. */
bool validate_email(const char *s);

/* At most 32 characters of + 0-9 space ( ) - */
bool validate_phone(const char *s);

/*
 * The text of a JSON string value, or NULL when v is not a string or holds
 * a NUL character (valid JSON as \u0000, but never a valid field).
 */
const char *validate_text(json_t *v);

/*
 * Every number slotlock keeps and answers is written with this many
 * significant digits (JSON_REAL_PRECISION), the most a double keeps
 * exactly: a number sent with at most 15 comes back exactly as sent.
 * validate_exact_number is true when v (a JSON number) is one of those.
 */
#define VALIDATE_NUMBER_DIGITS 15
#define VALIDATE_JSON_FLAGS \
    (JSON_COMPACT | JSON_REAL_PRECISION(VALIDATE_NUMBER_DIGITS))
bool validate_exact_number(json_t *v);

/* Adds {"field": field, "message": message} to errors. */
void validate_error(json_t *errors, const char *field, const char *message);

/* True when errors already holds an entry for field. */
bool validate_has_error(json_t *errors, const char *field);

/*
 * Reads an id field (tenantId, resourceId, ...). Returns it, or NULL when it
 * is absent (an error only when required) or bad (always an error).
 */
const char *validate_id_field(json_t *obj, const char *name, bool required,
                              json_t *errors);

/*
 * Reads a whole-number field in [min, max]. From a body it must be a JSON
 * integer (60.0 and "60" are refused); from a query (from_query) a string of
 * digits. Returns 1 when read into *out, 0 when absent and not required,
 * -1 when bad or missing (an error was added).
 */
int validate_int_field(json_t *obj, const char *name, long min, long max,
                       bool required, bool from_query, const char *message,
                       long *out, json_t *errors);

/*
 * Reads a lockId: null and "" count as absent. Returns 1 when read into out
 * (VALIDATE_UUID_LEN + 1 bytes), 0 when absent (an error only when
 * required), -1 when bad.
 */
int validate_lock_id(json_t *obj, bool required, char *out, json_t *errors);

/*
 * Reads the slot fields: tenantId, resource_field (resourceId or
 * specialistId), date, startTime and duration. need lists which must be
 * there; duration is checked whenever it is sent. Returns true when every
 * field that is there is good and every needed one is there.
 */
#define VALIDATE_NEED_TENANT     0x01
#define VALIDATE_NEED_RESOURCE   0x02
#define VALIDATE_NEED_DATE       0x04
#define VALIDATE_NEED_START      0x08
#define VALIDATE_NEED_DURATION   0x10
#define VALIDATE_NEED_SLOT       0x0f
bool validate_slot(json_t *obj, const char *resource_field, unsigned need,
                   bool from_query, slot_t *slot, unsigned *present,
                   json_t *errors);

/*
 * Turns a query string into an object of strings (percent-decoded, '+' as
 * space). A repeated parameter, or one that is not valid UTF-8 after
 * decoding, gets an entry in errors. The caller owns the result.
 */
json_t *validate_query(const char *query, json_t *errors);

#endif
