/*
 * fuzz.h - what the libFuzzer targets in tests/fuzz share.
 *
 * Each target feeds bytes to one of the steps that read untrusted input and
 * checks, besides what ASan and UBSan catch, that what the step accepted
 * obeys the rules the rest of the program relies on. A broken rule aborts,
 * which libFuzzer reports as a crash with the input that did it.
 */
#ifndef SLOTLOCK_FUZZ_H
#define SLOTLOCK_FUZZ_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "slot.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                    \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "%s:%d: rule broken: %s\n", __FILE__, __LINE__, \
                    #cond);                                                 \
            abort();                                                        \
        }                                                                   \
    } while (0)

/* Every entry of errors is {"field": string, "message": string}. */
static inline void fuzz_check_errors(json_t *errors)
{
    size_t i;
    json_t *e;

    FUZZ_CHECK(json_is_array(errors));
    json_array_foreach(errors, i, e) {
        FUZZ_CHECK(json_object_size(e) == 2);
        FUZZ_CHECK(json_is_string(json_object_get(e, "field")));
        FUZZ_CHECK(json_string_length(json_object_get(e, "message")) > 0);
    }
}

/*
 * The slot fields validate_slot accepted (present says which) are well
 * formed, and the keys made from them read back to the same fields: ids
 * never break a key's hash tag.
 */
static inline void fuzz_check_slot(const slot_t *slot, unsigned present)
{
    int minutes;

    if (present & VALIDATE_NEED_TENANT) {
        FUZZ_CHECK(validate_id(slot->tenant));
    }
    if (present & VALIDATE_NEED_RESOURCE) {
        FUZZ_CHECK(validate_id(slot->resource));
    }
    if (present & VALIDATE_NEED_DATE) {
        FUZZ_CHECK(slot_parse_date(slot->date));
    }
    if (present & VALIDATE_NEED_START) {
        FUZZ_CHECK(slot_parse_time(slot->start, false, &minutes));
        FUZZ_CHECK(minutes == slot->start_min);
    }
    if (present & VALIDATE_NEED_DURATION) {
        FUZZ_CHECK(slot->duration_min >= 1
                   && slot->duration_min <= SLOT_MINUTES_PER_DAY);
        if (present & VALIDATE_NEED_START) {
            FUZZ_CHECK(slot->start_min + slot->duration_min
                       <= SLOT_MINUTES_PER_DAY);
        }
    }
    if ((present & VALIDATE_NEED_SLOT) == VALIDATE_NEED_SLOT) {
        keys_t keys;
        slot_t back;

        keys_of_slot(slot, &keys);
        FUZZ_CHECK(keys_parse_lock(keys.lock, &back));
        FUZZ_CHECK(strcmp(back.tenant, slot->tenant) == 0);
        FUZZ_CHECK(strcmp(back.resource, slot->resource) == 0);
        FUZZ_CHECK(strcmp(back.date, slot->date) == 0);
        FUZZ_CHECK(strcmp(back.start, slot->start) == 0);
        FUZZ_CHECK(back.start_min == slot->start_min);
        FUZZ_CHECK(strncmp(keys.lock, keys.lock_prefix,
                           strlen(keys.lock_prefix)) == 0);
    }
}

#endif
