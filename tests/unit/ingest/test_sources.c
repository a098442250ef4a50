/*
 * test_sources.c - the source type registry and the checks every type
 * shares: unknown types, a type's locator (url, path or nothing), schedules
 * on types with nothing to run, and the file type's own checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ingest/sources/sources.h"

static const char *const everything[] = {"/", NULL};

static cc_err check_in(const struct store_source *s, const char *const *roots,
                       struct ingest_source_problem *p)
{
    struct ingest_source_env env = {.allowed_roots = roots};
    memset(p, 0, sizeof(*p));
    return ingest_source_check(s, &env, p);
}

static cc_err check(const struct store_source *s, struct ingest_source_problem *p)
{
    return check_in(s, everything, p);
}

static void test_registry(void **state)
{
    (void)state;
    for (const struct ingest_source_type *const *t = ingest_source_types; *t; t++) {
        assert_ptr_equal(ingest_source_type_find((*t)->name), *t);
        assert_non_null((*t)->what);
    }
    assert_null(ingest_source_type_find("nosuch"));
    assert_null(ingest_source_type_find(NULL));
    assert_non_null(ingest_source_type_find("file"));
    assert_non_null(ingest_source_type_find("manual"));
    char names[128];
    ingest_source_type_names(names, sizeof(names));
    assert_non_null(strstr(names, "file"));
    assert_non_null(strstr(names, " or "));
    char tiny[6];
    ingest_source_type_names(tiny, sizeof(tiny));   /* truncated, still terminated */
    assert_true(strlen(tiny) < sizeof(tiny));
}

static void test_shared_checks(void **state)
{
    (void)state;
    struct ingest_source_problem p;
    struct store_source s = {.name = "x", .type = "nosuch"};
    assert_int_equal(check(&s, &p), CC_EINVAL);
    assert_non_null(strstr(p.msg, "'type' must be"));

    s = (struct store_source){.name = "x", .type = "manual"};
    assert_int_equal(check(&s, &p), CC_OK);
    s.url = "https://example.test/";
    assert_int_equal(check(&s, &p), CC_EINVAL);
    assert_non_null(strstr(p.msg, "neither"));
    s.url = NULL;
    s.schedule = "@daily";
    assert_int_equal(check(&s, &p), CC_EINVAL);
    assert_non_null(strstr(p.msg, "nothing to run"));

    s = (struct store_source){.name = "x", .type = "file"};
    assert_int_equal(check(&s, &p), CC_EINVAL);           /* no path */
    assert_non_null(strstr(p.msg, "needs a 'path'"));
    s.path = "/tmp";
    s.url = "https://example.test/";
    assert_int_equal(check(&s, &p), CC_EINVAL);           /* a url too */
}

static void test_file_checks(void **state)
{
    (void)state;
    struct ingest_source_problem p;
    struct store_source s = {.name = "x", .type = "file", .path = "relative/dir"};
    assert_int_equal(check(&s, &p), CC_EINVAL);
    assert_non_null(strstr(p.msg, "absolute"));
    s.path = "/nonexistent/folder/of/test_sources";
    assert_int_equal(check(&s, &p), CC_EINVAL);
    assert_non_null(p.hint);
    s.path = "/";
    s.schedule = "@hourly";
    assert_int_equal(check(&s, &p), CC_OK);
    s.options_json = "{\"watch\": true, \"exclude\": [\"*.tmp\", \"build/\"]}";
    assert_int_equal(check(&s, &p), CC_OK);
    s.options_json = "{\"watch\": \"yes\"}";
    assert_int_equal(check(&s, &p), CC_EINVAL);
    assert_non_null(strstr(p.msg, "options.watch"));
    s.options_json = "{\"exclude\": \"*.tmp\"}";
    assert_int_equal(check(&s, &p), CC_EINVAL);
    assert_non_null(strstr(p.msg, "options.exclude"));
    s.options_json = "{\"exclude\": [1]}";
    assert_int_equal(check(&s, &p), CC_EINVAL);
    s.options_json = "{\"note\": \"kept\"}";   /* other keys: the operator's own */
    assert_int_equal(check(&s, &p), CC_OK);
    s.options_json = "[]";
    assert_int_equal(check(&s, &p), CC_EINVAL);
    s.options_json = NULL;
}

/* sources.allowed_roots: none means no file source at all (secure by
 * default); otherwise only folders beneath a root, compared by whole
 * components after resolving symlinks and "..". */
static void test_allowed_roots(void **state)
{
    (void)state;
    struct ingest_source_problem p;
    struct store_source s = {.name = "x", .type = "file", .path = "/tmp"};
    const char *const none[] = {NULL};
    assert_int_equal(check_in(&s, NULL, &p), CC_EPERM);
    assert_non_null(strstr(p.msg, "sources.allowed_roots"));
    assert_non_null(strstr(p.hint, "sources.allowed_roots"));
    assert_int_equal(check_in(&s, none, &p), CC_EPERM);
    const char *const usr[] = {"/usr", NULL};
    assert_int_equal(check_in(&s, usr, &p), CC_EPERM);
    s.path = "/usr/share";
    assert_int_equal(check_in(&s, usr, &p), CC_OK);
    s.path = "/usr/share/../../etc";
    assert_int_equal(check_in(&s, usr, &p), CC_EPERM);
    const char *const two[] = {"/nonexistent-root", "/usr/", NULL};
    s.path = "/usr/share";
    assert_int_equal(check_in(&s, two, &p), CC_OK);
}

static void test_same_origin(void **state)
{
    (void)state;
    assert_true(ingest_same_origin("https://a.example/x", "HTTPS://A.example/y?q"));
    assert_true(ingest_same_origin("http://h:8080", "http://h:8080/p"));
    assert_false(ingest_same_origin("http://h:8080/", "http://h:8081/"));
    assert_false(ingest_same_origin("http://h/", "https://h/"));
    assert_false(ingest_same_origin("http://h/", "http://h.evil/"));
    assert_false(ingest_same_origin("http://h/", "nonsense"));
    assert_false(ingest_same_origin(NULL, "http://h/"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_shared_checks),
        cmocka_unit_test(test_file_checks),
        cmocka_unit_test(test_same_origin),
        cmocka_unit_test(test_allowed_roots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
