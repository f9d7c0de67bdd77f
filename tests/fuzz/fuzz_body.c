/*
 * Fuzz target: a request body, from the bytes nginx hands over to the
 * checked request a handler works with (http_json_body, then the route's
 * own parse step).
 *
 * Input: "<route>[ <content-type>]\n<body>", route one of acquire, verify,
 * refresh, release, book, force-release. The corpus in corpus/body/ starts
 * from the guide's bodies.
 */
#include "fuzz.h"

#include "config.h"
#include "http.h"
#include "parse.h"

#define HEAD_MAX 128

static config_t cfg;

static const char *no_variables(const char *name)
{
    (void) name;
    return NULL;
}

/* Rules of a lock request the lock routes accepted. */
static void check_lock_request(route_t route, const lock_request_t *in)
{
    fuzz_check_slot(&in->slot, in->present);
    FUZZ_CHECK(in->ttl_ms >= 1000 && in->ttl_ms <= cfg.lock_max_hold_ms);
    if (route == ROUTE_ACQUIRE) {
        FUZZ_CHECK((in->present & VALIDATE_NEED_SLOT) == VALIDATE_NEED_SLOT);
        FUZZ_CHECK(in->present & VALIDATE_NEED_DURATION);
        FUZZ_CHECK(in->holder[0] == '\0' || validate_id(in->holder));
        return;
    }
    FUZZ_CHECK(validate_uuid(in->lock_id));
    FUZZ_CHECK(in->holder[0] == '\0');
    if (route == ROUTE_VERIFY) {
        /* The four fields that name the lock's key are all there. */
        FUZZ_CHECK((in->present & VALIDATE_NEED_SLOT) == VALIDATE_NEED_SLOT);
    }
}

/* Rules of a booking body the appointment route accepted. */
static void check_appointment(json_t *body, const booking_request_t *in)
{
    fuzz_check_slot(&in->slot, in->present);
    FUZZ_CHECK(in->present == (VALIDATE_NEED_SLOT | VALIDATE_NEED_DURATION));
    FUZZ_CHECK(in->with_lock ? validate_uuid(in->lock_id)
                             : in->lock_id[0] == '\0');
    /* db_book packs these into the record with "O": each is the body's
     * own value, of the right type. */
    FUZZ_CHECK(in->service == json_object_get(body, "serviceId"));
    FUZZ_CHECK(json_is_string(in->service));
    FUZZ_CHECK(json_is_string(in->end_time));
    FUZZ_CHECK(json_is_string(in->customer_name));
    FUZZ_CHECK(json_is_string(in->customer_email));
    FUZZ_CHECK(in->customer_phone == NULL
               || json_is_string(in->customer_phone));
    FUZZ_CHECK(json_is_number(in->price));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct {
        const char *name;
        route_t route;
    } routes[] = {
        { "acquire", ROUTE_ACQUIRE },
        { "verify", ROUTE_VERIFY },
        { "refresh", ROUTE_REFRESH },
        { "release", ROUTE_RELEASE },
        { "book", ROUTE_APPT_CREATE },
        { "force-release", ROUTE_ADMIN_FORCE_RELEASE },
    };
    static bool loaded;
    char head[HEAD_MAX + 1];
    const uint8_t *nl = memchr(data, '\n', size);

    if (!loaded) {
        char err[512];

        FUZZ_CHECK(config_load(&cfg, no_variables, err, sizeof(err)));
        loaded = true;
    }
    if (nl == NULL || (size_t) (nl - data) > HEAD_MAX) {
        return 0;
    }
    memcpy(head, data, (size_t) (nl - data));
    head[nl - data] = '\0';
    if (strlen(head) != (size_t) (nl - data)) {
        return 0;                   /* a NUL in the head line */
    }

    char *type = strchr(head, ' ');
    if (type != NULL) {
        *type++ = '\0';
    }
    route_t route = ROUTE_NOT_FOUND;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (strcmp(head, routes[i].name) == 0) {
            route = routes[i].route;
        }
    }
    if (route == ROUTE_NOT_FOUND) {
        return 0;
    }

    /* What http_read_request would have made of it. */
    size_t body_len = size - (size_t) (nl + 1 - data);
    http_request_t req = { 0 };
    req.method = "POST";
    req.content_type = type != NULL && type[0] != '\0' ? type : NULL;
    if (body_len > HTTP_BODY_MAX) {
        req.body_too_large = true;
    } else if (body_len > 0) {
        req.body = malloc(body_len + 1);
        FUZZ_CHECK(req.body != NULL);
        memcpy(req.body, nl + 1, body_len);
        req.body[body_len] = '\0';
        req.body_len = body_len;
    }

    http_response_t res = { 0 };
    json_t *body = http_json_body(&req, &res);
    if (body == NULL) {
        FUZZ_CHECK(res.status == 400 || res.status == 413
                   || res.status == 415);
        FUZZ_CHECK(res.json != NULL);
        http_response_free(&res);
        free(req.body);
        return 0;
    }
    FUZZ_CHECK(json_is_object(body));
    FUZZ_CHECK(res.json == NULL);

    json_t *errors = json_array();
    bool ok;
    if (route == ROUTE_APPT_CREATE) {
        booking_request_t in;

        ok = parse_booking(body, &in, errors);
        if (ok) {
            check_appointment(body, &in);
        }
    } else if (route == ROUTE_ADMIN_FORCE_RELEASE) {
        slot_t slot;

        ok = parse_force_release(body, &slot, errors);
        if (ok) {
            fuzz_check_slot(&slot, VALIDATE_NEED_SLOT);
        }
    } else {
        lock_request_t in;

        ok = parse_lock(route, &cfg, body, NULL, &in, errors);
        if (ok) {
            check_lock_request(route, &in);
        }
    }
    FUZZ_CHECK(ok == (json_array_size(errors) == 0));
    fuzz_check_errors(errors);

    /* The 400 answer is built and written as the handlers do it. */
    if (!ok) {
        http_validation_error(&res, errors);
        char *text = json_dumps(res.json, JSON_COMPACT);

        FUZZ_CHECK(text != NULL);
        free(text);
    }
    http_response_free(&res);
    json_decref(errors);
    json_decref(body);
    free(req.body);
    return 0;
}
