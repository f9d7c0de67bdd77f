/*
 * Fuzz target: a request line's path and query string, as nginx passes
 * them in REQUEST_URI, through routing (router_match), the path's lockId
 * (parse_lock) and every query route's parse step (parse_status,
 * parse_active, parse_appointments, parse_metrics, parse_events), the very
 * functions the handlers call.
 *
 * Input: "<METHOD> <URI>", e.g. "GET /api/locks/status?tenantId=t&...".
 */
#include "fuzz.h"

#include "config.h"
#include "http.h"
#include "parse.h"
#include "router.h"

static config_t cfg;

static const char *no_variables(const char *name)
{
    (void) name;
    return NULL;
}

/* The match is whole, and its param is one segment of path. */
static void check_match(const char *path, const route_match_t *m)
{
    FUZZ_CHECK(m->route < ROUTE_COUNT);
    FUZZ_CHECK(m->name != NULL);
    FUZZ_CHECK(strcmp(m->name, router_name(m->route)) == 0);
    if (m->route != ROUTE_NOT_FOUND) {
        FUZZ_CHECK(m->allow == NULL);
    }
    if (m->param != NULL) {
        FUZZ_CHECK(m->param > path && m->param < path + strlen(path));
        FUZZ_CHECK(m->param[-1] == '/');
        FUZZ_CHECK(strchr(m->param, '/') == NULL);
    }
    switch (m->route) {
    case ROUTE_LOCK_GET:
    case ROUTE_LOCK_DELETE:
    case ROUTE_APPT_GET:
    case ROUTE_APPT_CANCEL:
        FUZZ_CHECK(m->param != NULL);
        break;
    default:
        break;
    }
}

/* Runs every query route's parse step on the query, whatever the route:
 * each is cheap and the query is the same. */
static void check_query(const char *query)
{
    json_t *errors = json_array();
    slot_t day;
    list_request_t list;
    bool prometheus;

    if (parse_status(query, &day, errors)) {
        fuzz_check_slot(&day, VALIDATE_NEED_TENANT | VALIDATE_NEED_RESOURCE
                              | VALIDATE_NEED_DATE);
    }
    fuzz_check_errors(errors);
    json_array_clear(errors);

    if (parse_active(query, &list, errors)) {
        FUZZ_CHECK(list.present & VALIDATE_NEED_TENANT);
        fuzz_check_slot(&list.slot, list.present);
        FUZZ_CHECK(list.limit >= 1 && list.limit <= PARSE_ACTIVE_LIMIT_MAX);
    }
    fuzz_check_errors(errors);
    json_array_clear(errors);

    if (parse_appointments(query, &list, errors)) {
        FUZZ_CHECK(list.present & VALIDATE_NEED_TENANT);
        fuzz_check_slot(&list.slot, list.present);
        FUZZ_CHECK(list.status[0] == '\0'
                   || strcmp(list.status, "confirmed") == 0
                   || strcmp(list.status, "cancelled") == 0);
    }
    fuzz_check_errors(errors);
    json_array_clear(errors);

    events_request_t events;
    if (parse_events(query, &events, errors)) {
        FUZZ_CHECK(validate_id(events.tenant));
        FUZZ_CHECK(events.limit >= 1
                   && events.limit <= PARSE_EVENTS_LIMIT_MAX);
        FUZZ_CHECK(!events.has_after || validate_id(events.after_resource));
    }
    fuzz_check_errors(errors);
    json_array_clear(errors);

    char tenant[SLOT_ID_MAX + 1];
    if (parse_metrics(query, NULL, &prometheus, tenant, errors)) {
        FUZZ_CHECK(tenant[0] == '\0' || validate_id(tenant));
    }
    fuzz_check_errors(errors);

    if (json_array_size(errors) > 0) {
        http_response_t res = { 0 };

        http_validation_error(&res, errors);
        char *text = json_dumps(res.json, JSON_COMPACT);
        FUZZ_CHECK(text != NULL);
        free(text);
        http_response_free(&res);
    }
    json_decref(errors);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool loaded;

    if (!loaded) {
        char err[512];

        FUZZ_CHECK(config_load(&cfg, no_variables, err, sizeof(err)));
        loaded = true;
    }

    /* FastCGI parameters are C strings: the input ends at a NUL. */
    char *line = malloc(size + 1);
    FUZZ_CHECK(line != NULL);
    memcpy(line, data, size);
    line[size] = '\0';

    char *uri = strchr(line, ' ');
    if (uri == NULL) {
        free(line);
        return 0;
    }
    *uri++ = '\0';
    const char *method = line;

    /* As http_read_request splits REQUEST_URI. */
    char *path = strdup(uri);
    FUZZ_CHECK(path != NULL);
    const char *query = "";
    char *q = strchr(path, '?');
    if (q != NULL) {
        *q = '\0';
        query = q + 1;
    }

    route_match_t m;
    router_match(method, path, &m);
    check_match(path, &m);

    json_t *errors = json_array();
    if (m.route == ROUTE_LOCK_GET || m.route == ROUTE_LOCK_DELETE) {
        lock_request_t in;

        if (parse_lock(m.route, &cfg, NULL, m.param, &in, errors)) {
            FUZZ_CHECK(validate_uuid(in.lock_id));
            FUZZ_CHECK(strcmp(in.lock_id, m.param) == 0);
            FUZZ_CHECK(in.present == 0);
        }
        fuzz_check_errors(errors);
        json_array_clear(errors);
    }
    if (m.route == ROUTE_APPT_GET || m.route == ROUTE_APPT_CANCEL) {
        FUZZ_CHECK(!parse_appointment_id(m.param)
                   || strlen(m.param) == VALIDATE_UUID_LEN);
    }

    fuzz_check_errors(errors);
    json_decref(errors);
    check_query(query);
    free(path);
    free(line);
    return 0;
}
