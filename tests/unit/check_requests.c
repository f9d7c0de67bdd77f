/*
 * Unit tests for the routes' parse steps (parse.c): what each route
 * accepts, and that every bad field is listed at once.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "parse.h"
#include "signature.h"
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

    ck_assert(parse_lock(ROUTE_ACQUIRE, &cfg, body, NULL, &in,
                                 errors));
    ck_assert_str_eq(in.slot.tenant, "test-tenant");
    ck_assert_str_eq(in.slot.resource, "specialist-1");
    ck_assert_str_eq(in.slot.start, "14:00");
    ck_assert_int_eq(in.slot.start_min, 14 * 60);
    ck_assert_int_eq(in.slot.duration_min, 60);
    ck_assert_str_eq(in.holder, "");
    ck_assert_int_eq(in.ttl_ms, cfg.lock_ttl_ms);
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

    ck_assert(!parse_lock(ROUTE_ACQUIRE, &cfg, body, NULL, &in,
                                  errors));
    fields_of(errors, fields, sizeof(fields));
    ck_assert_str_eq(fields, "tenantId resourceId date duration holderId ttl");
    json_decref(errors);
    json_decref(body);
}
END_TEST

START_TEST(verify_needs_the_lock_id_and_the_slot)
{
    json_t *body = parse("{\"lockId\": \"" LOCK_ID "\", " SLOT_FIELDS "}");
    json_t *errors = json_array();
    lock_request_t in;

    ck_assert(parse_lock(ROUTE_VERIFY, &cfg, body, NULL, &in,
                                 errors));
    ck_assert_str_eq(in.lock_id, LOCK_ID);
    /* All five slot fields were sent: the lock is compared with each. */
    ck_assert_uint_eq(in.present,
                      VALIDATE_NEED_SLOT | VALIDATE_NEED_DURATION);
    ck_assert_str_eq(in.slot.start, "14:00");
    json_decref(body);

    body = parse("{\"lockId\": \"" LOCK_ID "\"}");
    ck_assert(!parse_lock(ROUTE_VERIFY, &cfg, body, NULL, &in,
                                  errors));
    ck_assert_int_eq(json_array_size(errors), 4);
    json_decref(errors);
    json_decref(body);
}
END_TEST

START_TEST(refresh_takes_a_lock_id_and_a_ttl)
{
    json_t *body = parse("{\"lockId\": \"" LOCK_ID "\", \"ttl\": 60000}");
    json_t *errors = json_array();
    lock_request_t in;

    ck_assert(parse_lock(ROUTE_REFRESH, &cfg, body, NULL, &in,
                                 errors));
    ck_assert_int_eq(in.ttl_ms, 60000);
    ck_assert_uint_eq(in.present, 0);
    json_decref(body);

    body = parse("{\"lockId\": \"" LOCK_ID "\", \"ttl\": 600001}");
    ck_assert(!parse_lock(ROUTE_REFRESH, &cfg, body, NULL, &in,
                                  errors));
    json_decref(errors);
    json_decref(body);
}
END_TEST

START_TEST(path_routes_take_the_lock_id_from_the_path)
{
    json_t *errors = json_array();
    lock_request_t in;

    ck_assert(parse_lock(ROUTE_LOCK_DELETE, &cfg, NULL, LOCK_ID, &in,
                                 errors));
    ck_assert_str_eq(in.lock_id, LOCK_ID);
    ck_assert(!parse_lock(ROUTE_LOCK_GET, &cfg, NULL,
                                  "A1B2C3D4-E5F6-7890-ABCD-EF1234567890",
                                  &in, errors));
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
    booking_request_t in;

    ck_assert(parse_booking(body, &in, errors));
    ck_assert(in.with_lock);
    ck_assert_str_eq(in.lock_id, LOCK_ID);
    ck_assert_str_eq(in.slot.resource, "specialist-1");
    ck_assert_int_eq(in.slot.duration_min, 60);
    ck_assert_str_eq(json_string_value(in.customer_name), "John Doe");
    ck_assert_int_eq(json_integer_value(in.price), 50);

    /* Without a lockId the body is still good; the route then asks for
     * the admin token. */
    json_object_del(body, "lockId");
    ck_assert(parse_booking(body, &in, errors));
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
    booking_request_t in;
    char fields[256];

    ck_assert(!parse_booking(body, &in, errors));
    fields_of(errors, fields, sizeof(fields));
    ck_assert_str_eq(fields, "lockId serviceId endTime customerName "
                     "customerEmail customerPhone price");
    json_decref(errors);
    json_decref(body);
}
END_TEST

START_TEST(query_routes_read_their_parameters)
{
    json_t *errors = json_array();
    slot_t day;
    list_request_t list;
    bool prometheus;
    char fields[256];

    ck_assert(parse_status("tenantId=t&resourceId=r&date=2025-03-10", &day,
                           errors));
    ck_assert_str_eq(day.resource, "r");
    ck_assert(!parse_status("tenantId=t&tenantId=u&date=2025-02-30", &day,
                            errors));
    fields_of(errors, fields, sizeof(fields));
    ck_assert_str_eq(fields, "tenantId resourceId date");
    json_array_clear(errors);

    ck_assert(parse_active("tenantId=t", &list, errors));
    ck_assert_int_eq(list.limit, PARSE_ACTIVE_LIMIT_DEFAULT);
    ck_assert_uint_eq(list.present, VALIDATE_NEED_TENANT);
    ck_assert(parse_active("tenantId=t&resourceId=r&limit=7", &list,
                           errors));
    ck_assert_int_eq(list.limit, 7);
    ck_assert(!parse_active("limit=1001", &list, errors));
    fields_of(errors, fields, sizeof(fields));
    ck_assert_str_eq(fields, "tenantId limit");
    json_array_clear(errors);

    ck_assert(parse_appointments("tenantId=t&specialistId=s&status=cancelled",
                                 &list, errors));
    ck_assert_str_eq(list.status, "cancelled");
    ck_assert_str_eq(list.slot.resource, "s");
    ck_assert(!parse_appointments("tenantId=t&status=gone", &list, errors));
    json_array_clear(errors);

    char tenant[SLOT_ID_MAX + 1];
    ck_assert(parse_metrics("format=prometheus", NULL, &prometheus, tenant,
                            errors));
    ck_assert_str_eq(tenant, "");
    ck_assert(prometheus);
    ck_assert(parse_metrics("tenantId=t1", NULL, &prometheus, tenant,
                            errors));
    ck_assert_str_eq(tenant, "t1");
    ck_assert(!parse_metrics("tenantId=a%20b", NULL, &prometheus, tenant,
                             errors));
    json_array_clear(errors);
    ck_assert(parse_metrics("", "text/plain", &prometheus, tenant,
                            errors));
    ck_assert(prometheus);
    ck_assert(parse_metrics("", "application/json", &prometheus, tenant,
                            errors));
    ck_assert(!prometheus);
    ck_assert(!parse_metrics("format=xml", NULL, &prometheus, tenant,
                             errors));
    json_decref(errors);
}
END_TEST

START_TEST(force_release_needs_the_four_fields)
{
    json_t *body = parse("{" SLOT_FIELDS "}");
    json_t *errors = json_array();
    slot_t slot;

    ck_assert(parse_force_release(body, &slot, errors));
    ck_assert_str_eq(slot.start, "14:00");
    json_object_del(body, "startTime");
    ck_assert(!parse_force_release(body, &slot, errors));
    ck_assert_int_eq(json_array_size(errors), 1);
    json_decref(errors);
    json_decref(body);
}
END_TEST

START_TEST(events_read_tenant_cursor_and_limit)
{
    json_t *errors = json_array();
    events_request_t in;
    char fields[256];

    ck_assert(parse_events("tenantId=t", &in, errors));
    ck_assert_str_eq(in.tenant, "t");
    ck_assert_int_eq(in.limit, PARSE_EVENTS_LIMIT_DEFAULT);
    ck_assert(!in.has_after);
    ck_assert(parse_events("tenantId=t&limit=1000&after=1764633600123-4~r.1",
                           &in, errors));
    ck_assert_int_eq(in.limit, 1000);
    ck_assert(in.has_after);
    ck_assert(in.after_ms == 1764633600123ULL && in.after_seq == 4);
    ck_assert_str_eq(in.after_resource, "r.1");
    ck_assert_int_eq(json_array_size(errors), 0);

    static const char *const bad_after[] = {
        "", "12", "12-", "-3~r", "12-3", "12-3~", "12-x~r", "a-3~r",
        "12-3~a*b", "1234567890123456-0~r", "12-3~r~s"
    };
    for (size_t i = 0; i < sizeof(bad_after) / sizeof(bad_after[0]); i++) {
        char query[128];

        snprintf(query, sizeof(query), "tenantId=t&after=%s", bad_after[i]);
        ck_assert_msg(!parse_events(query, &in, errors), "%s", query);
        fields_of(errors, fields, sizeof(fields));
        ck_assert_str_eq(fields, "after");
        json_array_clear(errors);
    }
    ck_assert(!parse_events("limit=0", &in, errors));
    fields_of(errors, fields, sizeof(fields));
    ck_assert_str_eq(fields, "tenantId limit");
    json_array_clear(errors);
    ck_assert(!parse_events("tenantId=a%20b&limit=1001", &in, errors));
    fields_of(errors, fields, sizeof(fields));
    ck_assert_str_eq(fields, "tenantId limit");
    json_decref(errors);
}
END_TEST

START_TEST(webhook_urls_are_http_or_https_with_a_host)
{
    static const char *const good[] = {
        "http://example.com", "https://hooks.example.com/in?x=1&y=2",
        "http://127.0.0.1:8080/hook", "http://[::1]:9/", "HTTPS://A.B/c"
    };
    static const char *const bad[] = {
        "", "example.com", "ftp://example.com/", "http://", "http:///x",
        "http://user:pw@example.com/", "http://example.com:/",
        "http://example.com:123456/", "http://example.com:99999/",
        "http://exa mple.com/", "http://example.com/a b",
        "http://example.com/\x01", "http://example.com/#frag",
        "http://[]/", "http://[::1/", "javascript:alert(1)"
    };

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ck_assert_msg(parse_webhook_url(good[i]), "%s", good[i]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(!parse_webhook_url(bad[i]), "%s", bad[i]);
    }
    char long_url[PARSE_WEBHOOK_URL_MAX + 2];
    memset(long_url, 'a', sizeof(long_url) - 1);
    long_url[sizeof(long_url) - 1] = '\0';
    memcpy(long_url, "http://a/", 9);
    ck_assert(!parse_webhook_url(long_url));
    long_url[PARSE_WEBHOOK_URL_MAX] = '\0';
    ck_assert(parse_webhook_url(long_url));
}
END_TEST

START_TEST(webhook_create_lists_every_bad_field)
{
    json_t *errors = json_array();
    json_t *body = parse("{\"url\": \"https://a.example/h\", "
                         "\"secret\": \"0123456789abcdef\", "
                         "\"tenantId\": \"t-1\"}");
    webhook_request_t in;

    ck_assert(parse_webhook_create(body, &in, errors));
    ck_assert_str_eq(in.url, "https://a.example/h");
    ck_assert_str_eq(in.secret, "0123456789abcdef");
    ck_assert_str_eq(in.tenant, "t-1");
    json_decref(body);

    body = parse("{\"url\": \"https://a.example/h\"}");
    ck_assert(parse_webhook_create(body, &in, errors));
    ck_assert_str_eq(in.secret, "");
    ck_assert_str_eq(in.tenant, "");
    json_decref(body);

    body = parse("{\"url\": \"gopher://x\", \"secret\": \"short\", "
                 "\"tenantId\": \"no spaces\"}");
    ck_assert(!parse_webhook_create(body, &in, errors));
    ck_assert_int_eq(json_array_size(errors), 3);
    json_decref(body);
    json_decref(errors);
}
END_TEST

START_TEST(webhook_list_and_ids)
{
    json_t *errors = json_array();
    webhook_list_t in;

    ck_assert(parse_webhook_list("tenantId=t-1&limit=7", &in, errors));
    ck_assert_str_eq(in.tenant, "t-1");
    ck_assert_int_eq(in.limit, 7);
    ck_assert(parse_webhook_list("", &in, errors));
    ck_assert_int_eq(in.limit, 50);
    ck_assert(!parse_webhook_list("limit=201", &in, errors));
    json_decref(errors);
    ck_assert(parse_webhook_id("wh_0123456789abcdef0123456789abcdef"));
    ck_assert(!parse_webhook_id("wh_0123456789ABCDEF0123456789abcdef"));
    ck_assert(!parse_webhook_id("wh_0123"));
    ck_assert(!parse_webhook_id("deployment"));
}
END_TEST

/* The value Python's hmac gives for the same key and text. */
START_TEST(signature_is_hmac_sha256_of_time_dot_body)
{
    char header[SIGNATURE_HEADER_MAX];
    const char *body = "{\"id\":\"e1\"}";

    ck_assert(signature_header("whsec_test_secret_123", 1700000000LL, body,
                               strlen(body), header, sizeof(header)));
    ck_assert_str_eq(header, "t=1700000000,v1=eb9a1b6b4849cf48ea42ab35f1e6"
                     "cf2632c770532b584afc25b2b145ab072b70");
    ck_assert(!signature_header("k", 1, body, strlen(body), header, 10));

    char a[33], b[33];
    ck_assert(signature_random_hex(16, a, sizeof(a)));
    ck_assert(signature_random_hex(16, b, sizeof(b)));
    ck_assert_int_eq(strlen(a), 32);
    ck_assert_str_ne(a, b);
    ck_assert(!signature_random_hex(16, a, 32));
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
    tcase_add_test(tc, query_routes_read_their_parameters);
    tcase_add_test(tc, force_release_needs_the_four_fields);
    tcase_add_test(tc, events_read_tenant_cursor_and_limit);
    tcase_add_test(tc, webhook_urls_are_http_or_https_with_a_host);
    tcase_add_test(tc, webhook_create_lists_every_bad_field);
    tcase_add_test(tc, webhook_list_and_ids);
    tcase_add_test(tc, signature_is_hmac_sha256_of_time_dot_body);
    suite_add_tcase(s, tc);

    return unit_run(s);
}
