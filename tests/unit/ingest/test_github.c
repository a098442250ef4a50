/*
 * test_github.c - reading GitHub deliveries and webhook headers
 * (ingest/sources/github.h): the signature example from GitHub's
 * documentation, the replay window's exact edges, options.github, the
 * branch filter and the paths a push hands to a run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/sha256.h"
#include "ingest/sources/github.h"

static void test_github_documentation_example(void **state)
{
    (void)state;
    /* docs.github.com, "Validating webhook deliveries" */
    static const char secret[] = "It's a Secret to Everybody";
    static const char payload[] = "Hello, World!";
    uint8_t want[32], got[32];
    assert_int_equal(ingest_webhook_sig_parse("sha256=757107ea0eb2509fc211221cce984b8a37570b6d"
                                              "7586c22c46f4379c8b043e17", want), CC_OK);
    cc_hmac_sha256(secret, strlen(secret), payload, strlen(payload), got);
    assert_true(cc_consttime_equal(want, got, 32));
    assert_int_equal(ingest_webhook_sig_parse("sha256=757107EA0EB2509FC211221CCE984B8A37570B6D"
                                              "7586C22C46F4379C8B043E17", got), CC_OK);
    assert_memory_equal(want, got, 32);
    cc_hmac_sha256(secret, strlen(secret), "Hello, World?", 13, got);
    assert_false(cc_consttime_equal(want, got, 32));
}

static void test_signature_header_forms(void **state)
{
    (void)state;
    uint8_t out[32] = {0}, zero[32] = {0};
    const char *bad[] = {NULL, "", "sha256=", "sha1=0123", "SHA256=" "00000000000000000000000000000000"
                         "00000000000000000000000000000000",
                         "sha256=0000000000000000000000000000000000000000000000000000000000000g00",
                         "sha256=00000000000000000000000000000000000000000000000000000000000000",
                         "sha256=000000000000000000000000000000000000000000000000000000000000000000",
                         " sha256=0000000000000000000000000000000000000000000000000000000000000000"};
    memset(out, 0xaa, sizeof(out));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ingest_webhook_sig_parse(bad[i], out), CC_EINVAL);
    assert_int_equal(out[0], 0xaa);   /* untouched on failure */
    assert_int_equal(ingest_webhook_sig_parse("sha256=00000000000000000000000000000000000000000"
                                              "00000000000000000000000", out), CC_OK);
    assert_memory_equal(out, zero, 32);
}

static void test_replay_window_edges(void **state)
{
    (void)state;
    const int64_t now = 1765000000LL * 1000, window = 300000;
    assert_true(ingest_webhook_ts_ok("1765000000", now, window));
    assert_true(ingest_webhook_ts_ok("1764999700", now, window));    /* exactly 5 min old */
    assert_false(ingest_webhook_ts_ok("1764999699", now, window));   /* one second more */
    assert_true(ingest_webhook_ts_ok("1765000300", now, window));    /* exactly 5 min ahead */
    assert_false(ingest_webhook_ts_ok("1765000301", now, window));
    /* the daemon's clock between seconds: 1 ms past the edge is outside */
    assert_false(ingest_webhook_ts_ok("1764999700", now + 1, window));
    assert_true(ingest_webhook_ts_ok("1765000300", now + 1, window));
    const char *bad[] = {NULL, "", "-1765000000", "+1765000000", "1765000000.5", "1e9",
                         " 1765000000", "1765000000 ", "9999999999999", "0x10"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(ingest_webhook_ts_ok(bad[i], now, window));
}

static void test_delivery_ids(void **state)
{
    (void)state;
    char id[202];
    memset(id, 'a', 200);
    id[200] = '\0';
    assert_true(ingest_webhook_id_ok("72d3162e-cc78-11e3-81ab-4c9367dc0958"));
    assert_true(ingest_webhook_id_ok("batch_7.2:x"));
    assert_true(ingest_webhook_id_ok(id));
    id[200] = 'a';
    id[201] = '\0';
    assert_false(ingest_webhook_id_ok(id));
    assert_false(ingest_webhook_id_ok(""));
    assert_false(ingest_webhook_id_ok(NULL));
    assert_false(ingest_webhook_id_ok("a b"));
    assert_false(ingest_webhook_id_ok("a/b"));
}

static cc_err opts(const char *json, struct ingest_github_opts *o, char *why)
{
    json_t *j = json_loads(json, 0, NULL);
    assert_non_null(j);
    cc_err err = ingest_github_opts_parse(j, o, why, 200);
    json_decref(j);
    return err;
}

static void test_options(void **state)
{
    (void)state;
    struct ingest_github_opts o;
    char why[200];
    json_t *j = json_loads("{\"github\": {\"repository\": \"acme/hand.book\", \"branch\": "
                           "\"main\", \"path_prefix\": \"docs/\", \"secret_file\": \"/s\"}}",
                           0, NULL);
    assert_int_equal(ingest_github_opts_parse(j, &o, why, sizeof(why)), CC_OK);
    assert_string_equal(o.repository, "acme/hand.book");
    assert_string_equal(o.branch, "main");
    assert_string_equal(o.path_prefix, "docs/");
    assert_string_equal(o.secret_file, "/s");
    json_decref(j);
    assert_int_equal(opts("{}", &o, why), CC_ENOTFOUND);
    assert_int_equal(opts("{\"github\": null}", &o, why), CC_ENOTFOUND);
    const char *bad[] = {
        "{\"github\": 1}", "{\"github\": {}}", "{\"github\": {\"repository\": \"acme\"}}",
        "{\"github\": {\"repository\": \"acme/\"}}", "{\"github\": {\"repository\": \"a/b/c\"}}",
        "{\"github\": {\"repository\": \"a b/c\"}}",
        "{\"github\": {\"repository\": \"a/b\", \"secret\": \"x\"}}",
        "{\"github\": {\"repository\": \"a/b\", \"secret_file\": \"rel\"}}",
        "{\"github\": {\"repository\": \"a/b\", \"branch\": 3}}",
        "{\"github\": {\"repository\": \"a/b\", \"branch\": \"\"}}",
        "{\"github\": {\"repository\": \"a/b\", \"x\": 1}}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why[0] = '\0';
        assert_int_equal(opts(bad[i], &o, why), CC_EINVAL);
        assert_true(strstr(why, "options.github") || strstr(why, "secrets"));
    }
    assert_true(ingest_github_repo_eq("Acme/Handbook", "acme/handbook"));
    assert_false(ingest_github_repo_eq("acme/handbook", "acme/handbook2"));
    assert_false(ingest_github_repo_eq(NULL, "a/b"));
}

static json_t *push(const char *ref, const char *commits)
{
    char buf[4096];
    snprintf(buf, sizeof(buf), "{\"ref\": \"%s\", \"repository\": {\"full_name\": \"a/b\", "
             "\"default_branch\": \"main\"}, \"commits\": %s}", ref, commits);
    json_t *j = json_loads(buf, 0, NULL);
    assert_non_null(j);
    return j;
}

static void test_branch_filter(void **state)
{
    (void)state;
    json_t *main = push("refs/heads/main", "[]"), *dev = push("refs/heads/dev", "[]");
    json_t *tag = push("refs/tags/main", "[]");
    assert_true(ingest_github_push_branch_ok(main, NULL));    /* the default branch */
    assert_false(ingest_github_push_branch_ok(dev, NULL));
    assert_true(ingest_github_push_branch_ok(dev, "dev"));
    assert_false(ingest_github_push_branch_ok(main, "dev"));
    assert_false(ingest_github_push_branch_ok(tag, NULL));
    assert_false(ingest_github_push_branch_ok(tag, "main"));
    json_object_set_new(main, "deleted", json_true());
    assert_false(ingest_github_push_branch_ok(main, NULL));
    json_decref(main);
    json_decref(dev);
    json_decref(tag);
}

static void assert_list(json_t *list, const char *want)
{
    char *got = json_dumps(list, JSON_COMPACT);
    assert_string_equal(got, want);
    free(got);
}

static void test_push_paths(void **state)
{
    (void)state;
    json_t *b = push("refs/heads/main",
                     "[{\"added\": [\"docs/a.md\", \"README.md\"], \"modified\": [], "
                     "\"removed\": [\"docs/old.md\"]},"
                     " {\"added\": [\"docs/b.md\"], \"modified\": [\"docs/a.md\", 5, \"\"], "
                     "\"removed\": [\"docs/b.md\", \"../docs/x\", \"docs/../../x\"]},"
                     " {\"added\": [\"docs/old.md\", \"/docs/abs\", \"docs/..\"]}, 7, {}]");
    json_t *ch = NULL, *rm = NULL;
    bool truncated = true;
    assert_int_equal(ingest_github_push_paths(b, "docs/", &ch, &rm, &truncated), CC_OK);
    assert_false(truncated);
    assert_list(ch, "[\"docs/a.md\",\"docs/old.md\"]");
    assert_list(rm, "[\"docs/b.md\"]");
    json_decref(ch);
    json_decref(rm);
    assert_int_equal(ingest_github_push_paths(b, NULL, &ch, &rm, &truncated), CC_OK);
    assert_list(ch, "[\"docs/a.md\",\"README.md\",\"docs/old.md\"]");
    json_decref(ch);
    json_decref(rm);
    json_decref(b);

    /* more paths than a job carries: the first ones, and truncated */
    json_t *many = json_array();
    for (int i = 0; i < INGEST_GITHUB_PATHS_MAX + 5; i++) {
        char p[32];
        snprintf(p, sizeof(p), "f%d.md", i);
        json_array_append_new(many, json_string(p));
    }
    b = push("refs/heads/main", "[{}]");
    json_object_set_new(json_array_get(json_object_get(b, "commits"), 0), "added", many);
    assert_int_equal(ingest_github_push_paths(b, NULL, &ch, &rm, &truncated), CC_OK);
    assert_true(truncated);
    assert_int_equal(json_array_size(ch), INGEST_GITHUB_PATHS_MAX);
    assert_string_equal(json_string_value(json_array_get(ch, 0)), "f0.md");
    json_decref(ch);
    json_decref(rm);
    json_decref(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_github_documentation_example),
        cmocka_unit_test(test_signature_header_forms),
        cmocka_unit_test(test_replay_window_edges),
        cmocka_unit_test(test_delivery_ids),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_branch_filter),
        cmocka_unit_test(test_push_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
