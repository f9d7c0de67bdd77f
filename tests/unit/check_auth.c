/* Unit tests for auth.c: the Bearer scheme and the token comparison. */
#include <check.h>
#include <stdlib.h>

#include "auth.h"
#include "unit.h"

START_TEST(no_token_configured_disables_admin)
{
    ck_assert_int_eq(auth_check("", "Bearer anything"), AUTH_DISABLED);
    ck_assert_int_eq(auth_check(NULL, NULL), AUTH_DISABLED);
}
END_TEST

START_TEST(the_right_token_passes_in_any_scheme_case)
{
    ck_assert_int_eq(auth_check("s3cret", "Bearer s3cret"), AUTH_OK);
    ck_assert_int_eq(auth_check("s3cret", "bearer s3cret"), AUTH_OK);
    ck_assert_int_eq(auth_check("s3cret", "BEARER  s3cret"), AUTH_OK);
}
END_TEST

START_TEST(missing_or_wrong_tokens_are_denied)
{
    ck_assert_int_eq(auth_check("s3cret", NULL), AUTH_DENIED);
    ck_assert_int_eq(auth_check("s3cret", ""), AUTH_DENIED);
    ck_assert_int_eq(auth_check("s3cret", "s3cret"), AUTH_DENIED);
    ck_assert_int_eq(auth_check("s3cret", "Basic s3cret"), AUTH_DENIED);
    ck_assert_int_eq(auth_check("s3cret", "Bearer s3cre"), AUTH_DENIED);
    ck_assert_int_eq(auth_check("s3cret", "Bearer s3cret2"), AUTH_DENIED);
    ck_assert_int_eq(auth_check("s3cret", "Bearer S3CRET"), AUTH_DENIED);
    ck_assert_int_eq(auth_check("s3cret", "Bearer "), AUTH_DENIED);
}
END_TEST

START_TEST(equal_compares_whole_strings)
{
    ck_assert(auth_equal("abc", "abc"));
    ck_assert(!auth_equal("abc", "abd"));
    ck_assert(!auth_equal("ab", "abc"));
    ck_assert(!auth_equal("abcd", "abc"));
    ck_assert(!auth_equal("", "a"));
    ck_assert(auth_equal("", ""));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("auth");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, no_token_configured_disables_admin);
    tcase_add_test(tc, the_right_token_passes_in_any_scheme_case);
    tcase_add_test(tc, missing_or_wrong_tokens_are_denied);
    tcase_add_test(tc, equal_compares_whole_strings);
    suite_add_tcase(s, tc);

    return unit_run(s);
}
