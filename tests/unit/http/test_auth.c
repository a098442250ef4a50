/* Auth: tokens against the fake store, header parsing, scopes, failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakes/fake_store.h"
#include "http/auth.h"

#define CONFIG_TOKEN "config-secret-0123456789"

struct fixture {
    struct store *store;
    struct http_auth *auth;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->store = fake_store_new();
    if (http_auth_new(f->store, CONFIG_TOKEN, &f->auth) != CC_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    http_auth_free(f->auth);
    store_close(f->store);
    free(f);
    return 0;
}

/* Checks the header built from fmt. */
__attribute__((format(printf, 3, 4)))
static cc_err check(struct fixture *f, struct http_principal *p, const char *fmt, ...)
{
    char h[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h, sizeof(h), fmt, ap);
    va_end(ap);
    return http_auth_check(f->auth, h, p);
}

static void test_hash_and_equal(void **state)
{
    char h[65];
    http_auth_hash("abc", h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_true(http_auth_equal("abcd", "abcd", 4));
    assert_false(http_auth_equal("abcd", "abce", 4));
    assert_true(http_auth_equal("abcd", "abce", 3));
}

static void test_roundtrip(void **state)
{
    struct fixture *f = *state;
    char *tok = NULL;
    int64_t id = 0;
    assert_int_equal(http_auth_create(f->auth, "ci-bot", "read", 1234, &tok, &id), CC_OK);
    assert_true(id > 0);
    assert_int_equal(strlen(tok), HTTP_TOKEN_LEN);
    assert_memory_equal(tok, HTTP_TOKEN_PREFIX, 3);
    assert_int_equal(strspn(tok + 3, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789-_"), 43);
    assert_int_equal(http_auth_count(f->auth), 1);

    struct http_principal p = {0};
    assert_int_equal(check(f, &p, "Bearer %s", tok), CC_OK);
    assert_int_equal(p.token_id, id);
    assert_string_equal(p.name, "ci-bot");
    assert_false(p.admin);

    /* two tokens never come out the same */
    char *tok2 = NULL;
    int64_t id2 = 0;
    assert_int_equal(http_auth_create(f->auth, "ops", "admin", 1, &tok2, &id2), CC_OK);
    assert_string_not_equal(tok, tok2);
    assert_int_equal(check(f, &p, "Bearer %s", tok2), CC_OK);
    assert_true(p.admin);
    assert_int_equal(p.token_id, id2);

    const char *name_before = NULL;
    assert_int_equal(check(f, &p, "Bearer %s", tok), CC_OK);
    name_before = p.name;
    assert_int_equal(http_auth_delete(f->auth, id), CC_OK);
    assert_int_equal(check(f, &p, "Bearer %s", tok), CC_EAUTH);
    assert_int_equal(http_auth_count(f->auth), 1);
    /* a principal handed out earlier stays readable after delete + reload */
    assert_string_equal(name_before, "ci-bot");
    assert_int_equal(http_auth_delete(f->auth, id), CC_ENOTFOUND);
    free(tok);
    free(tok2);
}

static void test_header_forms(void **state)
{
    struct fixture *f = *state;
    char *tok = NULL;
    int64_t id = 0;
    assert_int_equal(http_auth_create(f->auth, "forms", "read", 0, &tok, &id), CC_OK);
    struct http_principal p;
    /* {before, after} the token */
    const char *ok[][2] = {{"Bearer ", ""},   {"bearer ", ""},   {"BEARER ", ""},
                           {"Bearer    ", ""}, {"  Bearer ", "  "}, {"Bearer\t", ""}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (check(f, &p, "%s%s%s", ok[i][0], tok, ok[i][1]) != CC_OK)
            fail_msg("form \"%s<token>%s\" refused", ok[i][0], ok[i][1]);
    const char *bad[][2] = {{"Basic ", ""},  {"Bearer", ""},    {"", ""},
                            {"Bearer ", " x"}, {"Bearer x", ""}, {"Bearer ", "\n"},
                            {"Token ", ""},  {"Bearer ", "=="}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (check(f, &p, "%s%s%s", bad[i][0], tok, bad[i][1]) != CC_EAUTH)
            fail_msg("form \"%s<token>%s\" accepted", bad[i][0], bad[i][1]);
    assert_int_equal(check(f, &p, "Bearer %.45s", tok), CC_EAUTH);    /* one short */
    assert_int_equal(http_auth_check(f->auth, NULL, &p), CC_EAUTH);
    assert_int_equal(http_auth_check(f->auth, "", &p), CC_EAUTH);
    assert_int_equal(http_auth_check(f->auth, "Bearer", &p), CC_EAUTH);
    assert_int_equal(http_auth_check(f->auth, "Bearer ", &p), CC_EAUTH);
    free(tok);
}

static void test_wrong_token(void **state)
{
    struct fixture *f = *state;
    char *tok = NULL;
    int64_t id = 0;
    assert_int_equal(http_auth_create(f->auth, "w", "admin", 0, &tok, &id), CC_OK);
    struct http_principal p = {.name = "untouched"};
    /* same shape, one character changed */
    tok[10] = tok[10] == 'A' ? 'B' : 'A';
    assert_int_equal(check(f, &p, "Bearer %s", tok), CC_EAUTH);
    assert_int_equal(check(f, &p, "Bearer %s", "cc_short"), CC_EAUTH);
    assert_int_equal(check(f, &p, "Bearer %s", "xx_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
                     CC_EAUTH);
    assert_string_equal(p.name, "untouched");
    free(tok);
}

static void test_config_token(void **state)
{
    struct fixture *f = *state;
    struct http_principal p;
    assert_int_equal(check(f, &p, "Bearer %s", CONFIG_TOKEN), CC_OK);
    assert_int_equal(p.token_id, 0);
    assert_string_equal(p.name, "config-admin");
    assert_true(p.admin);
    assert_int_equal(check(f, &p, "Bearer %s", CONFIG_TOKEN "x"), CC_EAUTH);
    assert_int_equal(http_auth_delete(f->auth, 0), CC_EPERM);
    assert_int_equal(check(f, &p, "Bearer %s", CONFIG_TOKEN), CC_OK);
    assert_int_equal(http_auth_count(f->auth), 0);    /* not counted */

    /* too short a config token is refused; none at all is fine */
    struct http_auth *a = NULL;
    assert_int_equal(http_auth_new(f->store, "short", &a), CC_EINVAL);
    assert_null(a);
    assert_int_equal(http_auth_new(f->store, NULL, &a), CC_OK);
    assert_int_equal(check(&(struct fixture){.auth = a}, &p, "Bearer %s", CONFIG_TOKEN),
                     CC_EAUTH);
    http_auth_free(a);
}

static void test_validation(void **state)
{
    struct fixture *f = *state;
    char *tok = (char *)"untouched";
    int64_t id = -7;
    char long_name[HTTP_TOKEN_NAME_MAX + 2];
    memset(long_name, 'n', sizeof(long_name));
    long_name[HTTP_TOKEN_NAME_MAX + 1] = '\0';
    const char *bad_names[] = {"", "has space", "slash/no", "ü", long_name, NULL};
    for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
        assert_int_equal(http_auth_create(f->auth, bad_names[i], "read", 0, &tok, &id),
                         CC_EINVAL);
    const char *bad_scopes[] = {"", "Admin", "write", "read ", NULL};
    for (size_t i = 0; i < sizeof(bad_scopes) / sizeof(bad_scopes[0]); i++)
        assert_int_equal(http_auth_create(f->auth, "ok", bad_scopes[i], 0, &tok, &id),
                         CC_EINVAL);
    assert_string_equal(tok, "untouched");
    assert_int_equal(id, -7);
    assert_int_equal(fake_store_ntokens(f->store), 0);

    long_name[HTTP_TOKEN_NAME_MAX] = '\0';    /* exactly 64 is fine */
    assert_int_equal(http_auth_create(f->auth, long_name, "read", 0, &tok, &id), CC_OK);
    free(tok);
    assert_int_equal(http_auth_create(f->auth, "A-z_0.9", "read", 0, &tok, &id), CC_OK);
    free(tok);
    tok = NULL;
    assert_int_equal(http_auth_create(f->auth, "A-z_0.9", "admin", 0, &tok, &id),
                     CC_ECONFLICT);
    assert_null(tok);
    assert_int_equal(http_auth_count(f->auth), 2);
}

static void test_store_failures(void **state)
{
    struct fixture *f = *state;
    char *tok = NULL;
    int64_t id = 0;
    fake_store_fail(f->store, FAKE_TOKEN_INSERT, CC_EIO, 1);
    assert_int_equal(http_auth_create(f->auth, "x", "read", 0, &tok, &id), CC_EIO);
    assert_null(tok);
    assert_int_equal(http_auth_count(f->auth), 0);

    /* listing fails at start: the auth object is not built */
    struct http_auth *a = NULL;
    fake_store_fail(f->store, FAKE_TOKEN_LIST, CC_EIO, 1);
    assert_int_equal(http_auth_new(f->store, NULL, &a), CC_EIO);
    assert_null(a);

    /* a failed reload keeps the old table */
    assert_int_equal(http_auth_create(f->auth, "kept", "read", 0, &tok, &id), CC_OK);
    fake_store_fail(f->store, FAKE_TOKEN_LIST, CC_EIO, -1);
    assert_int_equal(http_auth_reload(f->auth), CC_EIO);
    struct http_principal p;
    assert_int_equal(check(f, &p, "Bearer %s", tok), CC_OK);

    /* listing broken: a created token still works, a deleted one stops */
    char *tok2 = NULL;
    int64_t id2 = 0;
    assert_int_equal(http_auth_create(f->auth, "late", "admin", 0, &tok2, &id2), CC_OK);
    assert_int_equal(check(f, &p, "Bearer %s", tok2), CC_OK);
    assert_true(p.admin);
    assert_int_equal(http_auth_delete(f->auth, id), CC_OK);
    assert_int_equal(check(f, &p, "Bearer %s", tok), CC_EAUTH);

    fake_store_fail(f->store, FAKE_TOKEN_DELETE, CC_EIO, 1);
    assert_int_equal(http_auth_delete(f->auth, id2), CC_EIO);
    assert_int_equal(check(f, &p, "Bearer %s", tok2), CC_OK);

    fake_store_fail(f->store, FAKE_TOKEN_LIST, CC_OK, 0);
    assert_int_equal(http_auth_reload(f->auth), CC_OK);
    assert_int_equal(http_auth_count(f->auth), 1);
    free(tok);
    free(tok2);
}

static void test_without_store(void **state)
{
    struct http_auth *a;
    assert_int_equal(http_auth_new(NULL, CONFIG_TOKEN, &a), CC_OK);
    struct http_principal p;
    assert_int_equal(http_auth_check(a, "Bearer " CONFIG_TOKEN, &p), CC_OK);
    char *tok = NULL;
    int64_t id;
    assert_int_equal(http_auth_create(a, "n", "read", 0, &tok, &id), CC_EUNSUPPORTED);
    assert_int_equal(http_auth_count(a), 0);
    http_auth_free(a);
}

struct checker {
    struct http_auth *auth;
    const char *header;
    int ok, bad_name;
};

static void *check_loop(void *arg)
{
    struct checker *c = arg;
    for (int i = 0; i < 3000; i++) {
        struct http_principal p;
        if (http_auth_check(c->auth, c->header, &p) == CC_OK) {
            c->ok++;
            if (strcmp(p.name, "steady") != 0)
                c->bad_name++;
        }
    }
    return NULL;
}

/* Checks keep working, and see the right principal, while other threads
 * create and delete tokens (each change reloads the table). */
static void test_concurrent_reloads(void **state)
{
    struct fixture *f = *state;
    char *tok = NULL;
    int64_t id;
    assert_int_equal(http_auth_create(f->auth, "steady", "read", 0, &tok, &id), CC_OK);
    char header[80];
    snprintf(header, sizeof(header), "Bearer %s", tok);
    enum { T = 4 };
    pthread_t th[T];
    struct checker c[T];
    for (int i = 0; i < T; i++) {
        c[i] = (struct checker){.auth = f->auth, .header = header};
        assert_int_equal(pthread_create(&th[i], NULL, check_loop, &c[i]), 0);
    }
    for (int i = 0; i < 100; i++) {
        char name[32], *t2 = NULL;
        int64_t id2;
        snprintf(name, sizeof(name), "churn-%d", i);
        assert_int_equal(http_auth_create(f->auth, name, "admin", 0, &t2, &id2), CC_OK);
        assert_int_equal(http_auth_delete(f->auth, id2), CC_OK);
        free(t2);
    }
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(c[i].ok, 3000);
        assert_int_equal(c[i].bad_name, 0);
    }
    assert_int_equal(http_auth_count(f->auth), 1);
    free(tok);
}

static void test_token_strength(void **state)
{
    (void)state;
    char why[160];
    /* weak: short, repeated pattern, few distinct characters */
    assert_true(http_auth_token_weak("hunter2", why, sizeof(why)));
    assert_non_null(strstr(why, "7 characters"));
    assert_true(http_auth_token_weak("passwordpasswordpasswordpassword", why, sizeof(why)));
    assert_non_null(strstr(why, "pattern of 8"));
    assert_true(http_auth_token_weak("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", why, sizeof(why)));
    assert_true(http_auth_token_weak("abababababababababababababababababababababcab", why,
                                     sizeof(why)));
    /* strong: random base64url, random hex (32 and 64), an issued token */
    assert_false(http_auth_token_weak("q3V9xk1ZpL0wTn8rGd2bYf7mHc5sJa4e", why, sizeof(why)));
    assert_false(http_auth_token_weak("9f86d081884c7d659a2feaa0c55ad015", why, sizeof(why)));
    assert_false(http_auth_token_weak(
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", why, sizeof(why)));
    assert_false(http_auth_token_weak("cc_Xq2vD9kPz7LwB3nR8tYh1mFs4cJe6aGu0oKi5Ud_-Qz", why,
                                      sizeof(why)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_strength),
        cmocka_unit_test(test_hash_and_equal),
        cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_reloads, setup, teardown),
        cmocka_unit_test(test_without_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
