/* Router: templates, matching precedence, 404 vs 405, path and query rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "http/router.h"

static void h_dummy(struct http_req *req, struct http_resp *resp) {}

static const struct http_route routes[] = {
    {.methods = HTTP_GET, .template = "/health", .handler = h_dummy},
    {.methods = HTTP_GET, .template = "/", .handler = h_dummy},
    {.methods = HTTP_GET | HTTP_POST, .template = "/api/v1/projects", .handler = h_dummy},
    {.methods = HTTP_GET, .template = "/api/v1/projects/{id}", .handler = h_dummy},
    {.methods = HTTP_DELETE, .template = "/api/v1/projects/{id}", .handler = h_dummy},
    {.methods = HTTP_POST, .template = "/api/v1/projects/{id}/up", .handler = h_dummy},
    {.methods = HTTP_GET, .template = "/api/v1/projects/{id}/logs/{service}", .handler = h_dummy},
    {.methods = HTTP_GET, .template = "/api/v1/jobs/{id}", .handler = h_dummy},
    {.methods = HTTP_GET, .template = "/api/v1/jobs/stats", .handler = h_dummy},
    {.methods = HTTP_POST, .template = "/api/v1/jobs/{id}/retry", .handler = h_dummy},
    /* backtracking: "stats" exists as a literal but has no "/retry" below */
    {.methods = HTTP_GET, .template = "/api/v1/files", .handler = h_dummy},
    {.methods = HTTP_HEAD, .template = "/api/v1/files", .handler = h_dummy},
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

struct fixture {
    struct http_router *r;
    struct cc_arena arena;
};

static int setup(void **state)
{
    static struct fixture f;
    char err[256] = "";
    if (http_router_new(routes, NROUTES, &f.r, err, sizeof(err)) != CC_OK) {
        print_error("router: %s\n", err);
        return -1;
    }
    cc_arena_init(&f.arena, 1024, 1 << 20);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    http_router_free(f->r);
    cc_arena_release(&f->arena);
    return 0;
}

static enum http_match_result match(void **state, unsigned m, const char *path,
                                    struct http_match *out)
{
    struct fixture *f = *state;
    return http_router_match(f->r, m, path, &f->arena, out);
}

static void test_method_names(void **state)
{
    assert_int_equal(http_method_parse("GET"), HTTP_GET);
    assert_int_equal(http_method_parse("OPTIONS"), HTTP_OPTIONS);
    assert_int_equal(http_method_parse("get"), 0);   /* methods are case-sensitive */
    assert_int_equal(http_method_parse("BREW"), 0);
    assert_int_equal(http_method_parse(NULL), 0);
    assert_string_equal(http_method_str(HTTP_PATCH), "PATCH");
    char buf[64];
    http_methods_allow(HTTP_POST | HTTP_GET | HTTP_HEAD, buf, sizeof(buf));
    assert_string_equal(buf, "GET, HEAD, POST");
    http_methods_allow(0, buf, sizeof(buf));
    assert_string_equal(buf, "");
    char small[10];
    http_methods_allow(HTTP_GET | HTTP_DELETE, small, sizeof(small));
    assert_string_equal(small, "GET");      /* whole names only */
}

static void test_literal_and_params(void **state)
{
    struct http_match m;
    assert_int_equal(match(state, HTTP_GET, "/health", &m), HTTP_MATCH_OK);
    assert_string_equal(m.route->template, "/health");
    assert_int_equal(m.nparams, 0);

    assert_int_equal(match(state, HTTP_GET, "/", &m), HTTP_MATCH_OK);
    assert_string_equal(m.route->template, "/");

    assert_int_equal(match(state, HTTP_GET, "/api/v1/projects/web/logs/db", &m),
                     HTTP_MATCH_OK);
    assert_string_equal(m.route->template, "/api/v1/projects/{id}/logs/{service}");
    assert_int_equal(m.nparams, 2);
    assert_string_equal(m.params[0].name, "id");
    assert_string_equal(m.params[0].value, "web");
    assert_string_equal(m.params[1].name, "service");
    assert_string_equal(m.params[1].value, "db");

    assert_int_equal(match(state, HTTP_DELETE, "/api/v1/projects/7", &m), HTTP_MATCH_OK);
    assert_ptr_equal(m.route, &routes[4]);
}

static void test_literal_beats_param(void **state)
{
    struct http_match m;
    assert_int_equal(match(state, HTTP_GET, "/api/v1/jobs/stats", &m), HTTP_MATCH_OK);
    assert_string_equal(m.route->template, "/api/v1/jobs/stats");
    assert_int_equal(m.nparams, 0);
    assert_int_equal(match(state, HTTP_GET, "/api/v1/jobs/42", &m), HTTP_MATCH_OK);
    assert_string_equal(m.route->template, "/api/v1/jobs/{id}");
    assert_string_equal(m.params[0].value, "42");
    /* "stats" is a literal child, but only {id} has "retry" below it */
    assert_int_equal(match(state, HTTP_POST, "/api/v1/jobs/stats/retry", &m), HTTP_MATCH_OK);
    assert_string_equal(m.route->template, "/api/v1/jobs/{id}/retry");
    assert_string_equal(m.params[0].value, "stats");
}

static void test_listing_order_irrelevant(void **state)
{
    const struct http_route a[] = {
        {.methods = HTTP_GET, .template = "/x/{p}"},
        {.methods = HTTP_GET, .template = "/x/lit"},
    };
    const struct http_route b[] = {a[1], a[0]};
    struct cc_arena ar;
    cc_arena_init(&ar, 256, 4096);
    for (int k = 0; k < 2; k++) {
        struct http_router *r;
        assert_int_equal(http_router_new(k ? b : a, 2, &r, NULL, 0), CC_OK);
        struct http_match m;
        assert_int_equal(http_router_match(r, HTTP_GET, "/x/lit", &ar, &m), HTTP_MATCH_OK);
        assert_string_equal(m.route->template, "/x/lit");
        http_router_free(r);
    }
    cc_arena_release(&ar);
}

static void test_not_found_vs_bad_method(void **state)
{
    struct http_match m;
    assert_int_equal(match(state, HTTP_GET, "/nope", &m), HTTP_MATCH_NOT_FOUND);
    assert_null(m.route);
    assert_int_equal(match(state, HTTP_GET, "/api/v1/projects/", &m), HTTP_MATCH_NOT_FOUND);
    assert_int_equal(match(state, HTTP_GET, "/api//v1/projects", &m), HTTP_MATCH_NOT_FOUND);
    assert_int_equal(match(state, HTTP_GET, "/health/", &m), HTTP_MATCH_NOT_FOUND);
    assert_int_equal(match(state, HTTP_GET, "/api/v1/projects//logs/x", &m),
                     HTTP_MATCH_NOT_FOUND);    /* a parameter never matches "" */
    assert_int_equal(match(state, HTTP_GET, "relative", &m), HTTP_MATCH_NOT_FOUND);

    assert_int_equal(match(state, HTTP_PUT, "/api/v1/projects/9", &m), HTTP_MATCH_BAD_METHOD);
    assert_null(m.route);
    assert_int_equal(m.allow, HTTP_GET | HTTP_HEAD | HTTP_DELETE);
    assert_int_equal(match(state, HTTP_GET, "/api/v1/projects/9/up", &m),
                     HTTP_MATCH_BAD_METHOD);
    assert_int_equal(m.allow, HTTP_POST);
    /* unknown methods (0) on a known path are 405 too */
    assert_int_equal(match(state, 0, "/health", &m), HTTP_MATCH_BAD_METHOD);
    assert_int_equal(m.allow, HTTP_GET | HTTP_HEAD);
}

static void test_head_implied(void **state)
{
    struct http_match m;
    assert_int_equal(match(state, HTTP_HEAD, "/health", &m), HTTP_MATCH_OK);
    assert_string_equal(m.route->template, "/health");
    assert_int_equal(match(state, HTTP_HEAD, "/api/v1/projects/9/up", &m),
                     HTTP_MATCH_BAD_METHOD);
    /* an explicit HEAD route wins over the one implied by GET */
    assert_int_equal(match(state, HTTP_HEAD, "/api/v1/files", &m), HTTP_MATCH_OK);
    assert_ptr_equal(m.route, &routes[11]);
    assert_int_equal(match(state, HTTP_GET, "/api/v1/files", &m), HTTP_MATCH_OK);
    assert_ptr_equal(m.route, &routes[10]);
}

static void expect_bad_template(const char *tpl, unsigned methods, const char *needle)
{
    struct http_route r[] = {{.methods = methods, .template = tpl}};
    struct http_router *out = NULL;
    char err[256] = "";
    assert_int_equal(http_router_new(r, 1, &out, err, sizeof(err)), CC_EINVAL);
    assert_null(out);
    if (!strstr(err, needle))
        fail_msg("template %s: error \"%s\" lacks \"%s\"", tpl ? tpl : "NULL", err, needle);
}

static void test_bad_templates(void **state)
{
    expect_bad_template("health", HTTP_GET, "start with '/'");
    expect_bad_template(NULL, HTTP_GET, "start with '/'");
    expect_bad_template("/a/{}", HTTP_GET, "parameter name");
    expect_bad_template("/a/{Id}", HTTP_GET, "[a-z_]");
    expect_bad_template("/a/{1d}", HTTP_GET, "[a-z_]");
    expect_bad_template("/a/{id-x}", HTTP_GET, "[a-z_]");
    expect_bad_template("/a/{id}/b/{id}", HTTP_GET, "duplicate parameter");
    expect_bad_template("/a/x{id}", HTTP_GET, "bad character");
    expect_bad_template("/a/{id", HTTP_GET, "bad character");
    expect_bad_template("/a//b", HTTP_GET, "empty segment");
    expect_bad_template("/a/", HTTP_GET, "empty segment");
    expect_bad_template("/a/../b", HTTP_GET, "\"..\"");
    expect_bad_template("/a/%20", HTTP_GET, "bad character");
    expect_bad_template("/a", 0, "methods");
    expect_bad_template("/a", 1u << 12, "methods");
    expect_bad_template("/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}", HTTP_GET, "HTTP_MAX_PARAMS");
}

static void test_overlapping_routes(void **state)
{
    char err[256] = "";
    struct http_router *r = NULL;
    const struct http_route same[] = {
        {.methods = HTTP_GET | HTTP_POST, .template = "/a/{id}"},
        {.methods = HTTP_POST, .template = "/a/{name}"},
    };
    assert_int_equal(http_router_new(same, 2, &r, err, sizeof(err)), CC_EINVAL);
    assert_non_null(strstr(err, "overlaps"));
    assert_non_null(strstr(err, "/a/{id}"));
    const struct http_route disjoint[] = {
        {.methods = HTTP_GET, .template = "/a/{id}"},
        {.methods = HTTP_POST, .template = "/a/{name}"},
    };
    assert_int_equal(http_router_new(disjoint, 2, &r, err, sizeof(err)), CC_OK);
    /* each route reports its own parameter names */
    struct cc_arena ar;
    cc_arena_init(&ar, 256, 4096);
    struct http_match m;
    assert_int_equal(http_router_match(r, HTTP_POST, "/a/z", &ar, &m), HTTP_MATCH_OK);
    assert_string_equal(m.params[0].name, "name");
    assert_int_equal(http_router_match(r, HTTP_GET, "/a/z", &ar, &m), HTTP_MATCH_OK);
    assert_string_equal(m.params[0].name, "id");
    cc_arena_release(&ar);
    http_router_free(r);
}

static void test_match_arena_limit(void **state)
{
    struct http_router *r;
    const struct http_route rt[] = {{.methods = HTTP_GET, .template = "/f/{name}"}};
    assert_int_equal(http_router_new(rt, 1, &r, NULL, 0), CC_OK);
    struct cc_arena tiny;
    cc_arena_init(&tiny, 16, 8);    /* smaller than any block */
    struct http_match m;
    assert_int_equal(http_router_match(r, HTTP_GET, "/f/x", &tiny, &m), HTTP_MATCH_LIMIT);
    assert_null(m.route);
    cc_arena_release(&tiny);
    http_router_free(r);
}

/* ---- request targets ---- */

static cc_err split(void **state, const char *t, const char **path, const char **query)
{
    struct fixture *f = *state;
    return http_target_split(t, &f->arena, path, query);
}

static void test_target_split_ok(void **state)
{
    const char *p = "unset", *q = "unset";
    assert_int_equal(split(state, "/p%20a?x=1", &p, &q), CC_OK);
    assert_string_equal(p, "/p a");
    assert_string_equal(q, "x=1");
    assert_int_equal(split(state, "/a//b", &p, &q), CC_OK);
    assert_string_equal(p, "/a//b");    /* empty segments are kept */
    assert_null(q);
    assert_int_equal(split(state, "/a?", &p, &q), CC_OK);
    assert_string_equal(q, "");
    assert_int_equal(split(state, "/", &p, &q), CC_OK);
    assert_string_equal(p, "/");
    assert_int_equal(split(state, "/%7euser/%41%62", &p, &q), CC_OK);
    assert_string_equal(p, "/~user/Ab");
    assert_int_equal(split(state, "/a/...b/.c/..d", &p, &q), CC_OK);   /* not dot segments */
    assert_int_equal(split(state, "/q?a=/../b", &p, &q), CC_OK);         /* query is raw */
    assert_string_equal(q, "a=/../b");
    assert_int_equal(split(state, "/%E2%82%AC", &p, &q), CC_OK);
    assert_string_equal(p, "/\xe2\x82\xac");
}

static void expect_split_err(void **state, const char *t, cc_err want)
{
    const char *p = "unset", *q = "unset";
    cc_err rc = split(state, t, &p, &q);
    if (rc != want)
        fail_msg("target \"%.60s\": got %s, want %s", t, cc_err_name(rc), cc_err_name(want));
    assert_string_equal(p, "unset");    /* outputs untouched on error */
    assert_string_equal(q, "unset");
}

static void test_target_split_rejects(void **state)
{
    expect_split_err(state, "", CC_EINVAL);
    expect_split_err(state, "a/b", CC_EINVAL);
    expect_split_err(state, "*", CC_EINVAL);
    expect_split_err(state, "/a/../b", CC_EINVAL);
    expect_split_err(state, "/a/./b", CC_EINVAL);
    expect_split_err(state, "/..", CC_EINVAL);
    expect_split_err(state, "/a/.", CC_EINVAL);
    expect_split_err(state, "/a/%2e%2E/b", CC_EINVAL);
    expect_split_err(state, "/a/.%2e", CC_EINVAL);
    expect_split_err(state, "/a%2Fb", CC_EINVAL);
    expect_split_err(state, "/a%2fb", CC_EINVAL);
    expect_split_err(state, "/a%00b", CC_EINVAL);
    expect_split_err(state, "/a%", CC_EINVAL);
    expect_split_err(state, "/a%4", CC_EINVAL);
    expect_split_err(state, "/a%4?x", CC_EINVAL);   /* escape cut by the '?' */
    expect_split_err(state, "/a%zz", CC_EINVAL);
    expect_split_err(state, "/a%+1", CC_EINVAL);
    expect_split_err(state, "/a\tb", CC_EINVAL);
    expect_split_err(state, "/a\x7f", CC_EINVAL);
    expect_split_err(state, NULL, CC_EINVAL);
}

static void test_target_limits(void **state)
{
    char t[HTTP_MAX_PATH + 16];
    const char *p, *q;
    memset(t, 'a', sizeof(t));
    t[0] = '/';
    t[HTTP_MAX_PATH] = '\0';
    assert_int_equal(split(state, t, &p, &q), CC_OK);
    assert_int_equal(strlen(p), HTTP_MAX_PATH);
    t[HTTP_MAX_PATH] = '?';     /* the query does not count */
    t[HTTP_MAX_PATH + 1] = '\0';
    assert_int_equal(split(state, t, &p, &q), CC_OK);
    t[HTTP_MAX_PATH] = 'a';
    expect_split_err(state, t, CC_EINVAL);

    char segs[4 * HTTP_MAX_SEGMENTS + 8];
    size_t len = 0;
    for (int i = 0; i < HTTP_MAX_SEGMENTS; i++)
        len += (size_t)snprintf(segs + len, sizeof(segs) - len, "/s");
    assert_int_equal(split(state, segs, &p, &q), CC_OK);
    snprintf(segs + len, sizeof(segs) - len, "/s");
    expect_split_err(state, segs, CC_EINVAL);

    struct cc_arena tiny;
    cc_arena_init(&tiny, 64, 64);
    char big[512];
    memset(big, 'b', sizeof(big));
    big[0] = '/';
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(http_target_split(big, &tiny, &p, &q), CC_ELIMIT);
    cc_arena_release(&tiny);
}

/* A path is decoded and then must be UTF-8: what is not is refused, so no
 * handler ever echoes bytes JSON cannot carry. */
static void test_target_split_utf8(void **state)
{
    const char *path = NULL, *query = NULL;
    assert_int_equal(split(state, "/api/v1/sources/caf%C3%A9", &path, &query), CC_OK);
    assert_string_equal(path, "/api/v1/sources/caf\xc3\xa9");
    assert_int_equal(split(state, "/api/v1/sources/%F0%9F%93%9A", &path, &query), CC_OK);
    const char *bad[] = {"/api/v1/projects/%FF", "/p/%C3%28", "/p/%E0%80%AF",
                         "/p/%ED%BF%BF", "/p/%F8%88%80%80%80", "/p/ok/%C3"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (split(state, bad[i], &path, &query) != CC_EINVAL)
            fail_msg("path \"%s\" accepted", bad[i]);
}

/* ---- queries ---- */

static void test_query_parse(void **state)
{
    struct fixture *f = *state;
    struct http_param *qp = NULL;
    size_t n = 99;
    assert_int_equal(http_query_parse("a=1&b=&c&a=2+3&d=%41%2b%26x&e=x=y", &f->arena, &qp, &n),
                     CC_OK);
    assert_int_equal(n, 6);
    const char *want[][2] = {{"a", "1"}, {"b", ""}, {"c", ""},
                             {"a", "2 3"}, {"d", "A+&x"}, {"e", "x=y"}};
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(qp[i].name, want[i][0]);
        assert_string_equal(qp[i].value, want[i][1]);
    }
    assert_int_equal(http_query_parse("&&=x&q+w=%20&", &f->arena, &qp, &n), CC_OK);
    assert_int_equal(n, 1);
    assert_string_equal(qp[0].name, "q w");
    assert_string_equal(qp[0].value, " ");

    assert_int_equal(http_query_parse(NULL, &f->arena, &qp, &n), CC_OK);
    assert_int_equal(n, 0);
    assert_int_equal(http_query_parse("", &f->arena, &qp, &n), CC_OK);
    assert_int_equal(n, 0);
}

static void test_query_rejects(void **state)
{
    struct fixture *f = *state;
    struct http_param *qp = (struct http_param *)0x1;
    size_t n = 99;
    const char *bad[] = {"a=%00", "a=%", "a=%4", "a=%4&b=1", "a=%zz", "%00=1", "a%=1",
                         /* not UTF-8 once decoded: a lone byte, an overlong '/',
                          * a surrogate, past U+10FFFF, a cut sequence, in a key */
                         "q=%FF", "q=%C0%AF", "q=%ED%A0%80", "q=%F4%90%80%80", "q=%C3",
                         "%E2%82=1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (http_query_parse(bad[i], &f->arena, &qp, &n) != CC_EINVAL)
            fail_msg("query \"%s\" accepted", bad[i]);
    }
    assert_int_equal(n, 99);    /* untouched on error */

    char many[8 * (HTTP_MAX_QUERY + 2)];
    size_t len = 0;
    for (int i = 0; i < HTTP_MAX_QUERY; i++)
        len += (size_t)snprintf(many + len, sizeof(many) - len, "k=v&");
    assert_int_equal(http_query_parse(many, &f->arena, &qp, &n), CC_OK);
    assert_int_equal(n, HTTP_MAX_QUERY);
    snprintf(many + len, sizeof(many) - len, "k");
    assert_int_equal(http_query_parse(many, &f->arena, &qp, &n), CC_EINVAL);

    struct cc_arena tiny;
    cc_arena_init(&tiny, 32, 64);
    assert_int_equal(http_query_parse(many + 4, &tiny, &qp, &n), CC_ELIMIT);
    cc_arena_release(&tiny);
}

/* Matching must not depend on how many routes exist: a table of thousands
 * still resolves each path to the right one. */
static void test_many_routes(void **state)
{
    enum { N = 2000 };
    static struct http_route many[N];
    static char tpl[N][32];
    for (int i = 0; i < N; i++) {
        snprintf(tpl[i], sizeof(tpl[i]), "/r%d/{id}/x%d", i, i % 7);
        many[i] = (struct http_route){.methods = HTTP_GET, .template = tpl[i]};
    }
    struct http_router *r;
    assert_int_equal(http_router_new(many, N, &r, NULL, 0), CC_OK);
    struct cc_arena ar;
    cc_arena_init(&ar, 4096, 1 << 20);
    for (int i = 0; i < N; i += 97) {
        char path[64];
        snprintf(path, sizeof(path), "/r%d/abc/x%d", i, i % 7);
        struct http_match m;
        assert_int_equal(http_router_match(r, HTTP_GET, path, &ar, &m), HTTP_MATCH_OK);
        assert_ptr_equal(m.route, &many[i]);
        assert_string_equal(m.params[0].value, "abc");
    }
    cc_arena_release(&ar);
    http_router_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_method_names),
        cmocka_unit_test(test_literal_and_params),
        cmocka_unit_test(test_literal_beats_param),
        cmocka_unit_test(test_listing_order_irrelevant),
        cmocka_unit_test(test_not_found_vs_bad_method),
        cmocka_unit_test(test_head_implied),
        cmocka_unit_test(test_bad_templates),
        cmocka_unit_test(test_overlapping_routes),
        cmocka_unit_test(test_match_arena_limit),
        cmocka_unit_test(test_target_split_ok),
        cmocka_unit_test(test_target_split_rejects),
        cmocka_unit_test(test_target_limits),
        cmocka_unit_test(test_target_split_utf8),
        cmocka_unit_test(test_query_parse),
        cmocka_unit_test(test_query_rejects),
        cmocka_unit_test(test_many_routes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
