/* Unit tests for auth.c and token.c: the Bearer scheme, the token
 * comparison, tenant tokens (signed here with libjwt) and what each role
 * may do; cors.c's allow-list. */
#include <check.h>
#include <jwt.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cors.h"
#include "token.h"
#include "unit.h"

#define SECRET "0123456789abcdef0123456789abcdef"
#define NOW 1700000000L

static config_t jwt_config(void)
{
    config_t cfg;

    memset(&cfg, 0, sizeof(cfg));
    strcpy(cfg.admin_token, "operator-token");
    strcpy(cfg.jwt_secret, SECRET);
    strcpy(cfg.jwt_tenant_claim, "tenantId");
    strcpy(cfg.jwt_role_claim, "role");
    return cfg;
}

/* "Bearer " + an HS256 token (alg as given) with the claims of json. */
static char *signed_header(jwt_alg_t alg, const char *key, const char *json)
{
    jwt_t *jwt = NULL;

    ck_assert_int_eq(jwt_new(&jwt), 0);
    ck_assert_int_eq(jwt_add_grants_json(jwt, json), 0);
    ck_assert_int_eq(jwt_set_alg(jwt, alg, (const unsigned char *) key,
                                 key ? (int) strlen(key) : 0), 0);
    char *token = jwt_encode_str(jwt);
    ck_assert_ptr_nonnull(token);
    char *header = malloc(strlen(token) + 8);
    strcpy(header, "Bearer ");
    strcat(header, token);
    free(token);
    jwt_free(jwt);
    return header;
}

static auth_result_t identify(const config_t *cfg, jwt_alg_t alg,
                              const char *key, const char *json,
                              auth_principal_t *who)
{
    char *header = signed_header(alg, key, json);
    auth_result_t r = auth_identify(cfg, header, NOW, who);

    free(header);
    return r;
}

START_TEST(tenant_tokens_name_their_tenant_and_role)
{
    config_t cfg = jwt_config();
    auth_principal_t who;

    ck_assert_int_eq(identify(&cfg, JWT_ALG_HS256, SECRET,
                              "{\"tenantId\":\"t1\",\"role\":\"admin\","
                              "\"exp\":1700000100}", &who), AUTH_OK);
    ck_assert_int_eq(who.role, AUTH_TENANT_ADMIN);
    ck_assert_str_eq(who.tenant, "t1");
    ck_assert_int_eq(auth_may(&who, AUTH_MANAGE), AUTH_ALLOWED);
    ck_assert_int_eq(auth_may_tenant(&who, "t1"), AUTH_ALLOWED);
    ck_assert_int_eq(auth_may_tenant(&who, "t2"), AUTH_FORBIDDEN_TENANT);

    ck_assert_int_eq(identify(&cfg, JWT_ALG_HS256, SECRET,
                              "{\"tenantId\":\"t1\",\"role\":\"staff\","
                              "\"exp\":1700000100}", &who), AUTH_OK);
    ck_assert_int_eq(who.role, AUTH_TENANT_STAFF);
    ck_assert_int_eq(auth_may(&who, AUTH_READ), AUTH_ALLOWED);
    ck_assert_int_eq(auth_may(&who, AUTH_MANAGE), AUTH_FORBIDDEN);

    ck_assert_int_eq(identify(&cfg, JWT_ALG_HS256, SECRET,
                              "{\"tenantId\":\"t1\",\"role\":\"guest\","
                              "\"exp\":1700000100}", &who), AUTH_OK);
    ck_assert_int_eq(auth_may(&who, AUTH_READ), AUTH_FORBIDDEN);

    ck_assert_int_eq(auth_identify(&cfg, "Bearer operator-token", NOW, &who),
                     AUTH_OK);
    ck_assert_int_eq(who.role, AUTH_OPERATOR);
    ck_assert_int_eq(auth_may_tenant(&who, "any"), AUTH_ALLOWED);
}
END_TEST

START_TEST(bad_tenant_tokens_are_invalid)
{
    config_t cfg = jwt_config();
    auth_principal_t who;
    static const char *const claims[] = {
        /* expired past the leeway, no exp, nbf ahead past the leeway */
        "{\"tenantId\":\"t1\",\"role\":\"admin\",\"exp\":1699999969}",
        "{\"tenantId\":\"t1\",\"role\":\"admin\"}",
        ("{\"tenantId\":\"t1\",\"role\":\"admin\",\"exp\":1700000100,"
         "\"nbf\":1700000031}"),
        /* no tenant, a bad tenant, no role */
        "{\"role\":\"admin\",\"exp\":1700000100}",
        "{\"tenantId\":\"a/b\",\"role\":\"admin\",\"exp\":1700000100}",
        "{\"tenantId\":\"t1\",\"exp\":1700000100}",
    };

    for (size_t i = 0; i < sizeof(claims) / sizeof(claims[0]); i++) {
        ck_assert_int_eq(identify(&cfg, JWT_ALG_HS256, SECRET, claims[i],
                                  &who), AUTH_INVALID_TOKEN);
    }
    /* Within the leeway: still valid. */
    ck_assert_int_eq(identify(&cfg, JWT_ALG_HS256, SECRET,
                              "{\"tenantId\":\"t1\",\"role\":\"admin\","
                              "\"exp\":1699999975,\"nbf\":1700000025}",
                              &who), AUTH_OK);
    /* Another secret, alg none, an algorithm not enabled. */
    const char *ok = "{\"tenantId\":\"t1\",\"role\":\"admin\","
                     "\"exp\":1700000100}";
    ck_assert_int_eq(identify(&cfg, JWT_ALG_HS256,
                              "another-secret-another-secret-00", ok, &who),
                     AUTH_INVALID_TOKEN);
    ck_assert_int_eq(identify(&cfg, JWT_ALG_NONE, NULL, ok, &who),
                     AUTH_INVALID_TOKEN);
    ck_assert_int_eq(identify(&cfg, JWT_ALG_HS512, SECRET, ok, &who),
                     AUTH_INVALID_TOKEN);
    /* Issuer and audience, when configured. */
    strcpy(cfg.jwt_issuer, "me");
    strcpy(cfg.jwt_audience, "slotlock");
    ck_assert_int_eq(identify(&cfg, JWT_ALG_HS256, SECRET, ok, &who),
                     AUTH_INVALID_TOKEN);
    ck_assert_int_eq(identify(&cfg, JWT_ALG_HS256, SECRET,
                              "{\"tenantId\":\"t1\",\"role\":\"admin\","
                              "\"exp\":1700000100,\"iss\":\"me\","
                              "\"aud\":[\"x\",\"slotlock\"]}", &who),
                     AUTH_OK);
    /* Not a JWT at all. */
    ck_assert_int_eq(auth_identify(&cfg, "Bearer x.y", NOW, &who),
                     AUTH_INVALID_TOKEN);
    ck_assert_int_eq(auth_identify(&cfg, NULL, NOW, &who), AUTH_DENIED);
    /* Tenant tokens off: a JWT is just a wrong operator token. */
    cfg.jwt_secret[0] = '\0';
    ck_assert_int_eq(identify(&cfg, JWT_ALG_HS256, SECRET, ok, &who),
                     AUTH_DENIED);
    cfg.admin_token[0] = '\0';
    ck_assert_int_eq(identify(&cfg, JWT_ALG_HS256, SECRET, ok, &who),
                     AUTH_DISABLED);
}
END_TEST

START_TEST(token_shape)
{
    ck_assert(token_shaped("a.b.c"));
    ck_assert(token_shaped("a.b."));
    ck_assert(!token_shaped("a.b"));
    ck_assert(!token_shaped(".b.c"));
    ck_assert(!token_shaped("a..c"));
    ck_assert(!token_shaped("a.b.c.d"));
    ck_assert(!token_shaped("a=.b.c"));
    ck_assert(!token_shaped(""));
}
END_TEST

START_TEST(cors_allow_list_is_exact)
{
    const char *list = "https://shop.example, http://localhost:3000";

    ck_assert(cors_listed(list, "https://shop.example"));
    ck_assert(cors_listed(list, "http://localhost:3000"));
    ck_assert(!cors_listed(list, "https://shop.example/"));
    ck_assert(!cors_listed(list, "https://shop.exampl"));
    ck_assert(!cors_listed(list, "http://localhost"));
    ck_assert(!cors_listed(list, "HTTPS://SHOP.EXAMPLE"));
    ck_assert(!cors_listed(list, ""));
    ck_assert(!cors_listed(list, NULL));
    ck_assert(!cors_listed("", "https://shop.example"));
    ck_assert(cors_state_changing("POST") && cors_state_changing("DELETE"));
    ck_assert(!cors_state_changing("GET") && !cors_state_changing("OPTIONS"));
}
END_TEST

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
    tcase_add_test(tc, tenant_tokens_name_their_tenant_and_role);
    tcase_add_test(tc, bad_tenant_tokens_are_invalid);
    tcase_add_test(tc, token_shape);
    tcase_add_test(tc, cors_allow_list_is_exact);
    suite_add_tcase(s, tc);

    return unit_run(s);
}
