/*
 * Fuzz target: a webhook registration, the body POST /api/webhooks takes
 * (parse_webhook_create, which checks its url with parse_webhook_url) and
 * the bytes as a URL on their own.
 *
 * Input: any bytes. As JSON they are a registration body; with their
 * first NUL (or the end) they are a URL. The corpus in corpus/webhook/
 * starts from good and bad registrations.
 */
#include "fuzz.h"

#include <ctype.h>
#include <strings.h>

#include "parse.h"

/* What every URL slotlock-events may be given must be. */
static void check_url(const char *url)
{
    size_t len = strlen(url);

    FUZZ_CHECK(len <= PARSE_WEBHOOK_URL_MAX);
    FUZZ_CHECK(strncasecmp(url, "http://", 7) == 0
               || strncasecmp(url, "https://", 8) == 0);
    const char *host = strstr(url, "://") + 3;
    size_t authority = strcspn(host, "/?");
    FUZZ_CHECK(authority > 0);
    FUZZ_CHECK(memchr(host, '@', authority) == NULL);
    for (size_t i = 0; i < len; i++) {
        FUZZ_CHECK(url[i] > 0x20 && url[i] < 0x7f && url[i] != '#');
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);

    if (text == NULL) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    if (parse_webhook_url(text)) {
        check_url(text);
    }

    json_t *body = json_loadb((const char *) data, size, 0, NULL);
    if (body != NULL) {
        json_t *errors = json_array();
        webhook_request_t in;

        if (parse_webhook_create(body, &in, errors)) {
            FUZZ_CHECK(json_array_size(errors) == 0);
            check_url(in.url);
            FUZZ_CHECK(in.secret[0] == '\0'
                       || (strlen(in.secret) >= PARSE_WEBHOOK_SECRET_MIN
                           && strlen(in.secret) <= PARSE_WEBHOOK_SECRET_MAX));
            FUZZ_CHECK(in.tenant[0] == '\0' || validate_id(in.tenant));
        } else {
            FUZZ_CHECK(json_array_size(errors) > 0);
        }
        json_decref(errors);
        json_decref(body);
    }
    free(text);
    return 0;
}
