/* Error answers: the one cc_err -> status map (SPEC 2.2), the error body,
 * the two explicit overrides (415, 429), and a scan of src/ that fails if a
 * handler picks a status by number again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "http/server.h"

static void test_map(void **state)
{
    (void)state;
    assert_int_equal(http_status_for(CC_OK), 200);
    assert_int_equal(http_status_for(CC_EINVAL), 400);
    assert_int_equal(http_status_for(CC_EPARSE), 400);
    assert_int_equal(http_status_for(CC_EAUTH), 401);
    assert_int_equal(http_status_for(CC_EPERM), 403);
    assert_int_equal(http_status_for(CC_ENOTFOUND), 404);
    assert_int_equal(http_status_for(CC_EMETHOD), 405);
    assert_int_equal(http_status_for(CC_ECONFLICT), 409);
    assert_int_equal(http_status_for(CC_ESTATE), 409);
    assert_int_equal(http_status_for(CC_ELIMIT), 413);
    assert_int_equal(http_status_for(CC_EUNSUPPORTED), 501);
    assert_int_equal(http_status_for(CC_EAGAIN), 503);
    assert_int_equal(http_status_for(CC_EUPSTREAM), 503);
    assert_int_equal(http_status_for(CC_ETIMEOUT), 504);
    assert_int_equal(http_status_for(CC_ENOMEM), 500);
    assert_int_equal(http_status_for(CC_EIO), 500);
    /* A status passed where a cc_err belongs is no cc_err: a 500, never
     * the number itself. */
    assert_int_equal(http_status_for((cc_err)404), 500);
    assert_int_equal(http_status_for((cc_err)-1), 500);
}

/* Every code maps to a status SPEC 2.2 allows for errors. */
static void test_map_only_spec_statuses(void **state)
{
    (void)state;
    static const int allowed[] = {400, 401, 403, 404, 405, 409, 413, 500, 501, 503, 504};
    for (int e = 1; e < CC_ERR__COUNT; e++) {
        int st = http_status_for((cc_err)e);
        bool ok = false;
        for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
            ok = ok || st == allowed[i];
        if (!ok)
            fail_msg("%s maps to %d", cc_err_name((cc_err)e), st);
    }
}

static json_t *body_of(struct http_resp *r)
{
    json_error_t je;
    json_t *j = json_loadb(r->body.ptr, r->body.len, 0, &je);
    assert_non_null(j);
    return j;
}

static const char *header_of(const struct http_resp *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (strcmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

static void check_error(struct http_resp *r, int status, const char *code, const char *msg,
                        const char *hint)
{
    assert_int_equal(r->status, status);
    assert_string_equal(r->content_type, "application/json");
    json_t *j = body_of(r);
    json_t *e = json_object_get(j, "error");
    assert_true(json_is_object(e));
    assert_string_equal(json_string_value(json_object_get(e, "code")), code);
    assert_string_equal(json_string_value(json_object_get(e, "message")), msg);
    if (hint)
        assert_string_equal(json_string_value(json_object_get(e, "hint")), hint);
    else
        assert_null(json_object_get(e, "hint"));
    json_decref(j);
}

static void test_resp_err(void **state)
{
    (void)state;
    struct http_resp r = {0};
    cc_buf_init(&r.body, 1 << 16);
    http_resp_err(&r, CC_ENOTFOUND, "no such thing", "list them first");
    check_error(&r, 404, "ENOTFOUND", "no such thing", "list them first");
    assert_null(header_of(&r, "Retry-After"));

    /* message NULL: the cc_err's own words. */
    http_resp_err(&r, CC_ECONFLICT, NULL, NULL);
    check_error(&r, 409, "ECONFLICT", "conflict", NULL);

    /* A dependency down: 503 always tells the client when to come back. */
    http_resp_err(&r, CC_EUPSTREAM, "the engine is down", NULL);
    check_error(&r, 503, "EUPSTREAM", "the engine is down", NULL);
    assert_string_equal(header_of(&r, "Retry-After"), "5");
    cc_buf_release(&r.body);
}

/* What a handler echoes back never makes the writer fail (issue 13):
 * bytes that are not UTF-8 become U+FFFD, valid text is kept as is. */
static void test_echo_never_fails(void **state)
{
    (void)state;
    json_t *j = http_json_str("caf\xc3\xa9 \xff|\xe2\x82|\xed\xa0\x80|\xf0\x9f\x98\x80");
    assert_non_null(j);
    assert_string_equal(json_string_value(j), "caf\xc3\xa9 \xef\xbf\xbd|\xef\xbf\xbd"
                        "\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|\xf0\x9f\x98\x80");
    json_decref(j);
    j = http_json_strn("a\0b", 3);    /* NUL is a code point: kept */
    assert_int_equal(json_string_length(j), 3);
    json_decref(j);
    j = http_json_str(NULL);
    assert_true(json_is_null(j));
    json_decref(j);

    struct http_resp r = {0};
    cc_buf_init(&r.body, 1 << 16);
    http_resp_err(&r, CC_ENOTFOUND, "no project named '\xff\xfe'", "\x80");
    check_error(&r, 404, "ENOTFOUND", "no project named '\xef\xbf\xbd\xef\xbf\xbd'",
                "\xef\xbf\xbd");
    /* a failed json_pack is a 500 saying so, not "too large" */
    r.nheaders = 0;
    http_resp_json(&r, 200, json_pack("{s:s}", "name", "\xff"));
    check_error(&r, 500, "EIO", "the answer could not be built",
                "report this: a value in it could not be written as JSON");
    cc_buf_release(&r.body);
}

static void test_overrides(void **state)
{
    (void)state;
    struct http_resp r = {0};
    cc_buf_init(&r.body, 1 << 16);
    http_resp_unsupported_media(&r, "send JSON", "set Content-Type");
    check_error(&r, 415, "EUNSUPPORTED", "send JSON", "set Content-Type");

    struct http_resp q = {0};
    cc_buf_init(&q.body, 1 << 16);
    http_resp_too_many(&q, 30, "queue full", NULL);
    check_error(&q, 429, "ELIMIT", "queue full", NULL);
    assert_string_equal(header_of(&q, "Retry-After"), "30");

    /* Never "Retry-After: 0" (or negative): a client would retry at once. */
    struct http_resp z = {0};
    cc_buf_init(&z.body, 1 << 16);
    http_resp_too_many(&z, 0, "slow down", NULL);
    assert_string_equal(header_of(&z, "Retry-After"), "1");
    cc_buf_release(&r.body);
    cc_buf_release(&q.body);
    cc_buf_release(&z.body);
}

/* ------------------------------------------------------------------ */
/* No status by number in the handlers                                  */

/* Each pattern is a way a handler could choose an error status by number
 * instead of by cc_err. reply.c, which owns the map, is exempt. */
static const char *const forbidden[] = {
    "http_resp_error",                                   /* the old int-status API */
    "http_resp_err[[:space:]]*\\([^,;]+,[[:space:]]*[0-9]",
    "fail[[:space:]]*\\([^,;]+,[^,;]+,[[:space:]]*[0-9]", /* server.c's early refusals */
    "status[[:space:]]*=[[:space:]]*[45][0-9][0-9]",
};
#define NFORBIDDEN (sizeof(forbidden) / sizeof(forbidden[0]))

static regex_t res[NFORBIDDEN];

static void compile_patterns(void)
{
    for (size_t i = 0; i < NFORBIDDEN; i++)
        assert_int_equal(regcomp(&res[i], forbidden[i], REG_EXTENDED | REG_NOSUB), 0);
}

static void free_patterns(void)
{
    for (size_t i = 0; i < NFORBIDDEN; i++)
        regfree(&res[i]);
}

/* Index of the first pattern found in text, or -1. */
static int offending(const char *text)
{
    for (size_t i = 0; i < NFORBIDDEN; i++)
        if (regexec(&res[i], text, 0, NULL, 0) == 0)
            return (int)i;
    return -1;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

static size_t scan_dir(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t files = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 3 || strcmp(de->d_name + n - 2, ".c") != 0 || strcmp(de->d_name, "reply.c") == 0)
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        char *text = slurp(path);
        int bad = offending(text);
        free(text);
        if (bad >= 0)
            fail_msg("%s chooses an error status by number (/%s/); pass a cc_err to "
                     "http_resp_err, or use http_resp_unsupported_media / http_resp_too_many",
                     path, forbidden[bad]);
        files++;
    }
    closedir(d);
    return files;
}

static void test_scanner_catches_numbers(void **state)
{
    (void)state;
    compile_patterns();
    assert_int_equal(offending("http_resp_error(resp, 404, \"ENOTFOUND\", m, h);"), 0);
    assert_int_equal(offending("http_resp_err(resp,\n    503, m, h);"), 1);
    assert_int_equal(offending("return fail(c, cr, 405, m, h);"), 2);
    assert_int_equal(offending("resp->status = 500;"), 3);
    assert_int_equal(offending("http_resp_err(resp, CC_ENOTFOUND, \"no job 42\", NULL);"), -1);
    assert_int_equal(offending("return fail(c, cr, CC_ELIMIT, \"over 4096\", h);"), -1);
    assert_int_equal(offending("resp->status = 204;"), -1);
    free_patterns();
}

static void test_handlers_pass_cc_err(void **state)
{
    (void)state;
    const char *root = getenv("CC_SOURCE_DIR");
    if (!root)
        skip();
    compile_patterns();
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/src/api", root);
    size_t n = scan_dir(dir);
    snprintf(dir, sizeof(dir), "%s/src/http", root);
    n += scan_dir(dir);
    assert_true(n >= 10);   /* the scan really read the handlers */
    free_patterns();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map),
        cmocka_unit_test(test_map_only_spec_statuses),
        cmocka_unit_test(test_resp_err),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_echo_never_fails),
        cmocka_unit_test(test_scanner_catches_numbers),
        cmocka_unit_test(test_handlers_pass_cc_err),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
