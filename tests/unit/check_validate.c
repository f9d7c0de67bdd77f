/* Unit tests for validate.c: field rules and query strings. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"
#include "unit.h"

static json_t *parse(const char *text)
{
    json_t *v = json_loads(text, 0, NULL);

    ck_assert_ptr_nonnull(v);
    return v;
}

/* The message errors holds for field, or NULL. */
static const char *error_for(json_t *errors, const char *field)
{
    size_t i;
    json_t *e;

    json_array_foreach(errors, i, e) {
        if (strcmp(json_string_value(json_object_get(e, "field")), field)
            == 0)
        {
            return json_string_value(json_object_get(e, "message"));
        }
    }
    return NULL;
}

START_TEST(ids_allow_only_key_safe_characters)
{
    char long_id[66];

    ck_assert(validate_id("test-tenant"));
    ck_assert(validate_id("A.b_c-9"));
    memset(long_id, 'a', 64);
    long_id[64] = '\0';
    ck_assert(validate_id(long_id));
    long_id[64] = 'a';
    long_id[65] = '\0';
    ck_assert(!validate_id(long_id));
    ck_assert(!validate_id(""));
    const char *bad[] = { "a b", "a{b", "a}b", "a|b", "a:b", "a*b", "a?b",
                          "a[b", "a]b", "a\nb", "caf\xc3\xa9" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(!validate_id(bad[i]), "accepted %s", bad[i]);
    }
}
END_TEST

START_TEST(uuids_must_be_canonical_lowercase)
{
    ck_assert(validate_uuid("a1b2c3d4-e5f6-7890-abcd-ef1234567890"));
    ck_assert(!validate_uuid("A1B2C3D4-E5F6-7890-ABCD-EF1234567890"));
    ck_assert(!validate_uuid("a1b2c3d4e5f67890abcdef1234567890"));
    ck_assert(!validate_uuid("a1b2c3d4-e5f6-7890-abcd-ef123456789"));
    ck_assert(!validate_uuid("g1b2c3d4-e5f6-7890-abcd-ef1234567890"));
    ck_assert(!validate_uuid("{a1b2c3d4-e5f6-7890-abcd-ef1234567890}"));
}
END_TEST

START_TEST(emails_and_phones)
{
    ck_assert(validate_email("john@example.com"));
    ck_assert(!validate_email("john@example"));
    ck_assert(!validate_email("john.example.com"));
    ck_assert(!validate_email("jo hn@example.com"));
    ck_assert(!validate_email("@example.com"));
    ck_assert(!validate_email("a@b@example.com"));
    ck_assert(validate_phone("+1234567890"));
    ck_assert(validate_phone("+44 (20) 7946-0958"));
    ck_assert(validate_phone(""));
    ck_assert(!validate_phone("555-CALL-NOW"));
    ck_assert(!validate_phone("123456789012345678901234567890123"));
}
END_TEST

START_TEST(the_guide_acquire_body_is_a_valid_slot)
{
    json_t *body = parse("{\"tenantId\":\"test-tenant\","
                         "\"resourceId\":\"specialist-1\","
                         "\"date\":\"2025-03-10\",\"startTime\":\"14:00\","
                         "\"duration\":60}");
    json_t *errors = json_array();
    slot_t slot;
    unsigned present;

    ck_assert(validate_slot(body, "resourceId",
                            VALIDATE_NEED_SLOT | VALIDATE_NEED_DURATION,
                            false, &slot, &present, errors));
    ck_assert_int_eq(json_array_size(errors), 0);
    ck_assert_str_eq(slot.tenant, "test-tenant");
    ck_assert_str_eq(slot.resource, "specialist-1");
    ck_assert_int_eq(slot.start_min, 840);
    ck_assert_int_eq(slot.duration_min, 60);
    ck_assert_uint_eq(present, VALIDATE_NEED_SLOT | VALIDATE_NEED_DURATION);
    json_decref(body);
    json_decref(errors);
}
END_TEST

START_TEST(every_bad_field_is_listed)
{
    json_t *body = parse("{\"tenantId\":\"a b\",\"date\":\"2025-02-29\","
                         "\"startTime\":\"25:00\",\"duration\":60.0}");
    json_t *errors = json_array();
    slot_t slot;
    unsigned present;

    ck_assert(!validate_slot(body, "resourceId",
                             VALIDATE_NEED_SLOT | VALIDATE_NEED_DURATION,
                             false, &slot, &present, errors));
    ck_assert_int_eq(json_array_size(errors), 5);
    ck_assert_ptr_nonnull(error_for(errors, "tenantId"));
    ck_assert_str_eq(error_for(errors, "resourceId"), "is required");
    ck_assert_str_eq(error_for(errors, "date"),
                     "must be a real calendar date YYYY-MM-DD");
    ck_assert_ptr_nonnull(error_for(errors, "startTime"));
    ck_assert_ptr_nonnull(error_for(errors, "duration"));
    json_decref(body);
    json_decref(errors);
}
END_TEST

START_TEST(duration_must_be_a_json_integer_in_range)
{
    const char *bad[] = { "\"60\"", "60.0", "0", "1441", "-5", "true",
                          "99999999999999999" };
    slot_t slot;
    unsigned present;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[160];
        snprintf(text, sizeof(text), "{\"startTime\":\"10:00\","
                 "\"duration\":%s}", bad[i]);
        json_t *body = json_loads(text, 0, NULL);
        json_t *errors = json_array();

        if (body == NULL) {     /* too big for jansson: refused earlier */
            json_decref(errors);
            continue;
        }
        validate_slot(body, "resourceId", 0, false, &slot, &present, errors);
        ck_assert_msg(error_for(errors, "duration") != NULL, "accepted %s",
                      bad[i]);
        json_decref(body);
        json_decref(errors);
    }
}
END_TEST

START_TEST(duration_may_not_pass_midnight)
{
    json_t *ok = parse("{\"startTime\":\"23:00\",\"duration\":60}");
    json_t *late = parse("{\"startTime\":\"23:00\",\"duration\":61}");
    json_t *errors = json_array();
    slot_t slot;
    unsigned present;

    ck_assert(validate_slot(ok, "resourceId", 0, false, &slot, &present,
                            errors));
    ck_assert(!validate_slot(late, "resourceId", 0, false, &slot, &present,
                             errors));
    ck_assert_str_eq(error_for(errors, "duration"),
                     "startTime plus duration must not pass 24:00");
    json_decref(ok);
    json_decref(late);
    json_decref(errors);
}
END_TEST

START_TEST(lock_id_null_or_empty_counts_as_absent)
{
    const char *absent[] = { "{}", "{\"lockId\":null}", "{\"lockId\":\"\"}" };
    char id[VALIDATE_UUID_LEN + 1];

    for (size_t i = 0; i < 3; i++) {
        json_t *body = parse(absent[i]);
        json_t *errors = json_array();

        ck_assert_int_eq(validate_lock_id(body, false, id, errors), 0);
        ck_assert_int_eq(json_array_size(errors), 0);
        ck_assert_int_eq(validate_lock_id(body, true, id, errors), 0);
        ck_assert_str_eq(error_for(errors, "lockId"), "is required");
        json_decref(body);
        json_decref(errors);
    }

    json_t *bad = parse("{\"lockId\":\"not-a-uuid\"}");
    json_t *errors = json_array();
    ck_assert_int_eq(validate_lock_id(bad, false, id, errors), -1);
    ck_assert_ptr_nonnull(error_for(errors, "lockId"));
    json_decref(bad);
    json_decref(errors);
}
END_TEST

START_TEST(query_strings_decode_and_refuse_repeats)
{
    json_t *errors = json_array();
    json_t *q = validate_query("tenantId=t%2D1&date=2025-03-10&x=a+b",
                               errors);

    ck_assert_int_eq(json_array_size(errors), 0);
    ck_assert_str_eq(json_string_value(json_object_get(q, "tenantId")),
                     "t-1");
    ck_assert_str_eq(json_string_value(json_object_get(q, "x")), "a b");
    json_decref(q);

    q = validate_query("tenantId=a&tenantId=b", errors);
    ck_assert_str_eq(error_for(errors, "tenantId"), "must not be repeated");
    json_decref(q);
    json_decref(errors);

    errors = json_array();
    q = validate_query("tenantId=a%00b", errors);
    ck_assert_int_eq(json_array_size(errors), 1);
    ck_assert_ptr_null(json_object_get(q, "tenantId"));
    json_decref(q);
    json_decref(errors);

    errors = json_array();
    q = validate_query("tenantId=%zz&date=%4", errors);
    ck_assert_int_eq(json_array_size(errors), 2);
    json_decref(q);
    json_decref(errors);
}
END_TEST

START_TEST(query_integers_come_as_digit_strings)
{
    json_t *errors = json_array();
    json_t *q = validate_query("limit=250&bad=12x&neg=-1", errors);
    long n = 0;

    ck_assert_int_eq(validate_int_field(q, "limit", 1, 1000, false, true,
                                        "m", &n, errors), 1);
    ck_assert_int_eq(n, 250);
    ck_assert_int_eq(validate_int_field(q, "bad", 1, 1000, false, true, "m",
                                        &n, errors), -1);
    ck_assert_int_eq(validate_int_field(q, "neg", 1, 1000, false, true, "m",
                                        &n, errors), -1);
    ck_assert_int_eq(validate_int_field(q, "none", 1, 1000, false, true, "m",
                                        &n, errors), 0);
    json_decref(q);
    json_decref(errors);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("validate");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, ids_allow_only_key_safe_characters);
    tcase_add_test(tc, uuids_must_be_canonical_lowercase);
    tcase_add_test(tc, emails_and_phones);
    tcase_add_test(tc, the_guide_acquire_body_is_a_valid_slot);
    tcase_add_test(tc, every_bad_field_is_listed);
    tcase_add_test(tc, duration_must_be_a_json_integer_in_range);
    tcase_add_test(tc, duration_may_not_pass_midnight);
    tcase_add_test(tc, lock_id_null_or_empty_counts_as_absent);
    tcase_add_test(tc, query_strings_decode_and_refuse_repeats);
    tcase_add_test(tc, query_integers_come_as_digit_strings);
    suite_add_tcase(s, tc);

    return unit_run(s);
}
