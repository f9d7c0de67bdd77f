/*
 * Fuzz target: the live grid's message for one event (publish_message),
 * what slotlock-events makes of each booking_events entry before nginx
 * sends it to every open page.
 *
 * Input: any bytes, as the entry's event JSON. The corpus in corpus/grid/
 * starts from real events. Whatever the bytes, a message has only the
 * grid's fields (never a lock, holder, appointment or event id) and its
 * channel is "<tenant>/<resource>/<date>".
 */
#include "fuzz.h"

#include "publish.h"

static const char *const allowed[] = {
    "type", "status", "date", "startTime", "duration", "at", "expiresIn",
    "expiresAt"
};

static bool is_allowed(const char *key)
{
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
        if (strcmp(allowed[i], key) == 0) {
            return true;
        }
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char channel[PUBLISH_CHANNEL_MAX];
    char *text = malloc(size + 1);

    if (text == NULL) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    char *msg = publish_message(text, channel, sizeof(channel));
    if (msg != NULL) {
        json_t *m = json_loads(msg, 0, NULL);
        const char *key;
        json_t *value;
        int slashes = 0;

        FUZZ_CHECK(json_is_object(m));
        json_object_foreach(m, key, value) {
            FUZZ_CHECK(is_allowed(key));
        }
        FUZZ_CHECK(json_is_string(json_object_get(m, "status")));
        for (const char *c = channel; *c != '\0'; c++) {
            slashes += *c == '/';
        }
        FUZZ_CHECK(slashes == 2);
        FUZZ_CHECK(strlen(channel) < sizeof(channel));
        json_decref(m);
    }
    free(msg);
    free(text);
    return 0;
}
