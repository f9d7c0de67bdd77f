/*
 * Unit tests for the routes' parse steps (lock_request_parse,
 * appointment_request_parse): what each route accepts, and that every bad
 * field is listed at once.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "appointments.h"
#include "config.h"
#include "locks.h"
#include "unit.h"

#define LOCK_ID "a1b2c3d4-e5f6-7890-abcd-ef1234567890"
#define SLOT_FIELDS "\"tenantId\": \"test-tenant\", " \
    "\"resourceId\": \"specialist-1\", \"date\": \"2025-03-10\", " \
    "\"startTime\": \"14:00\", \"duration\": 60"

static config_t cfg;

static const char *no_variables(const char *name)
{
    (void) name;
    return NULL;
}

/* The defaults: LOCK_TTL 120000, LOCK_MAX_HOLD 600000. */
static bool load_defaults(void)
{
    char err[512];

    return config_load(&cfg, no_variables, err, sizeof(err));
}

static json_t *parse(const char *text)
{
    json_t *v = json_loads(text, 0, NULL);

    ck_assert_ptr_nonnull(v);
    return v;
}

/* The fields errors names, in order, joined by spaces. */
static void fields_of(json_t *errors, char *out, size_t len)
{
    size_t i;
    json_t *e;

    out[0] = '\0';
    json_array_foreach(errors, i, e) {
        if (i > 0) {
            strncat(out, " ", len - strlen(out) - 1);
        }
        strncat(out, json_string_value(json_object_get(e, "field")),
                len - strlen(out) - 1);
    }
}

START_TEST(acquire_takes_the_guide_body)
{
    json_t *body = parse("{" SLOT_FIELDS "}");
    json_t *errors = json_array();
    lock_request_t in;

    ck_assert(lock_request_parse(ROUTE_ACQUIRE, &cfg, body, NULL, &in,
                                 errors));
    ck_assert_str_eq(in.slot.tenant, "test-tenant");
    ck_assert_str_eq(in.slot.resource, "specialist-1");
    ck_assert_str_eq(in.slot.start, "14:00");
    ck_assert_int_eq(in.slot.start_min, 14 * 60);
    ck_assert_int_eq(in.slot.duration_min, 60);
    ck_assert_ptr_null(in.holder);
    ck_assert_int_eq(in.ttl_ms, cfg.lock_ttl_ms);
    lock_request_free(&in);
    json_decref(errors);
    json_decref(body);
}
END_TEST

START_TEST(acquire_lists_every_bad_field)
{
    json_t *body = parse("{\"tenantId\": \"a b\", \"date\": \"2025-02-30\", "
                         "\"startTime\": \"14:00\", \"duration\": 60.0, "
                         "\"holderId\": 7, \"ttl\": 999}");
    json_t *errors = json_array();
    lock_request_t in;
    char fields[256];

    ck_assert(!lock_request_parse(ROUTE_ACQUIRE, &cfg, body, NULL, &in,
                                  errors));
    fields_of(errors, fields, sizeof(fields));
    ck_assert_str_eq(fields, "tenantId resourceId date duration holderId ttl");
    lock_request_free(&in);
    json_decref(errors);
    json_decref(body);
}
END_TEST

START_TEST(verify_needs_the_lock_id_and_the_slot)
{
    json_t *body = parse("{\"lockId\": \"" LOCK_ID "\", " SLOT_FIELDS "}");
    json_t *errors = json_array();
    lock_request_t in;

    ck_assert(lock_request_parse(ROUTE_VERIFY, &cfg, body, NULL, &in,
                                 errors));
    ck_assert_str_eq(in.lock_id, LOCK_ID);
    ck_assert_str_eq(in.lock_key, "booking_lock:{test-tenant|specialist-1}"
                     ":2025-03-10:14:00");
    ck_assert_str_eq(in.lockid_key, "booking_lockid:" LOCK_ID);
    json_t *expected = parse(in.expected);
    ck_assert_int_eq(json_object_size(expected), 5);
    json_decref(expected);
    lock_request_free(&in);
    json_decref(body);

    body = parse("{\"lockId\": \"" LOCK_ID "\"}");
    ck_assert(!lock_request_parse(ROUTE_VERIFY, &cfg, body, NULL, &in,
                                  errors));
    ck_assert_int_eq(json_array_size(errors), 4);
    lock_request_free(&in);
    json_decref(errors);
    json_decref(body);
}
END_TEST

START_TEST(refresh_takes_a_lock_id_and_a_ttl)
{
    json_t *body = parse("{\"lockId\": \"" LOCK_ID "\", \"ttl\": 60000}");
    json_t *errors = json_array();
    lock_request_t in;

    ck_assert(lock_request_parse(ROUTE_REFRESH, &cfg, body, NULL, &in,
                                 errors));
    ck_assert_int_eq(in.ttl_ms, 60000);
    ck_assert_str_eq(in.expected, "");
    ck_assert_str_eq(in.lock_key, "");
    lock_request_free(&in);
    json_decref(body);

    body = parse("{\"lockId\": \"" LOCK_ID "\", \"ttl\": 600001}");
    ck_assert(!lock_request_parse(ROUTE_REFRESH, &cfg, body, NULL, &in,
                                  errors));
    lock_request_free(&in);
    json_decref(errors);
    json_decref(body);
}
END_TEST

START_TEST(path_routes_take_the_lock_id_from_the_path)
{
    json_t *errors = json_array();
    lock_request_t in;

    ck_assert(lock_request_parse(ROUTE_LOCK_DELETE, &cfg, NULL, LOCK_ID, &in,
                                 errors));
    ck_assert_str_eq(in.lock_id, LOCK_ID);
    lock_request_free(&in);
    ck_assert(!lock_request_parse(ROUTE_LOCK_GET, &cfg, NULL,
                                  "A1B2C3D4-E5F6-7890-ABCD-EF1234567890",
                                  &in, errors));
    lock_request_free(&in);
    json_decref(errors);
}
END_TEST

START_TEST(booking_takes_the_guide_body)
{
    json_t *body = parse(
        "{\"lockId\": \"" LOCK_ID "\", \"tenantId\": \"test-tenant\", "
        "\"specialistId\": \"specialist-1\", \"serviceId\": \"service-1\", "
        "\"date\": \"2025-03-10\", \"startTime\": \"14:00\", "
        "\"endTime\": \"15:00\", \"customerName\": \"John Doe\", "
        "\"customerEmail\": \"john@example.com\", "
        "\"customerPhone\": \"+1234567890\", \"price\": 50, "
        "\"duration\": 60}");
    json_t *errors = json_array();
    appointment_request_t in;

    ck_assert(appointment_request_parse(body, &in, errors));
    ck_assert(in.with_lock);
    ck_assert_str_eq(in.lock_id, LOCK_ID);
    ck_assert_str_eq(in.slot.resource, "specialist-1");
    ck_assert_int_eq(in.slot.duration_min, 60);

    /* Without a lockId the body is still good; the route then asks for
     * the admin token. */
    json_object_del(body, "lockId");
    ck_assert(appointment_request_parse(body, &in, errors));
    ck_assert(!in.with_lock);
    ck_assert_str_eq(in.lock_id, "");
    json_decref(errors);
    json_decref(body);
}
END_TEST

START_TEST(booking_lists_every_bad_field)
{
    json_t *body = parse(
        "{\"lockId\": \"x\", \"tenantId\": \"t\", \"specialistId\": \"s\", "
        "\"date\": \"2025-03-10\", \"startTime\": \"14:00\", "
        "\"endTime\": \"14:30\", \"customerName\": \"\", "
        "\"customerEmail\": \"nobody\", \"customerPhone\": \"call me\", "
        "\"price\": -1, \"duration\": 60}");
    json_t *errors = json_array();
    appointment_request_t in;
    char fields[256];

    ck_assert(!appointment_request_parse(body, &in, errors));
    fields_of(errors, fields, sizeof(fields));
    ck_assert_str_eq(fields, "lockId serviceId endTime customerName "
                     "customerEmail customerPhone price");
    json_decref(errors);
    json_decref(body);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("requests");
    TCase *tc = tcase_create("core");

    if (!load_defaults()) {
        return EXIT_FAILURE;
    }
    tcase_add_test(tc, acquire_takes_the_guide_body);
    tcase_add_test(tc, acquire_lists_every_bad_field);
    tcase_add_test(tc, verify_needs_the_lock_id_and_the_slot);
    tcase_add_test(tc, refresh_takes_a_lock_id_and_a_ttl);
    tcase_add_test(tc, path_routes_take_the_lock_id_from_the_path);
    tcase_add_test(tc, booking_takes_the_guide_body);
    tcase_add_test(tc, booking_lists_every_bad_field);
    suite_add_tcase(s, tc);

    return unit_run(s);
}
