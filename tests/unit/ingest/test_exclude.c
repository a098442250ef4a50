/*
 * test_exclude.c - the .gitignore-style matcher of folder sources:
 * unanchored names, anchoring, `*`, `?`, `**` in each position, directory
 * patterns, negation, excluded parents, comments and escapes, and no
 * exponential backtracking.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ingest/sources/exclude.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static bool ex(const char *pat, const char *path, bool dir)
{
    const char *p[] = {pat};
    return ingest_excluded(p, 1, path, dir);
}

static void test_names_and_wildcards(void **state)
{
    (void)state;
    assert_true(ex("*.tmp", "a.tmp", false));
    assert_true(ex("*.tmp", "deep/er/a.tmp", false));     /* no slash: any depth */
    assert_false(ex("*.tmp", "a.tmpx", false));
    assert_false(ex("*.tmp", "a/tmp", false));
    assert_true(ex("?.md", "x.md", false));
    assert_false(ex("?.md", "xy.md", false));
    assert_false(ex("a*c", "a/c", false));                 /* '*' stops at '/' */
    assert_true(ex("node_modules", "web/node_modules/x/y.md", false));   /* a parent */
    assert_true(ex("README", "README", false));
    assert_false(ex("README", "README.md", false));
}

static void test_anchoring(void **state)
{
    (void)state;
    assert_true(ex("/build", "build", true));
    assert_true(ex("/build", "build/out.md", false));
    assert_false(ex("/build", "src/build/out.md", false));
    assert_true(ex("docs/*.md", "docs/a.md", false));
    assert_false(ex("docs/*.md", "x/docs/a.md", false));   /* a middle '/' anchors */
    assert_false(ex("docs/*.md", "docs/sub/a.md", false));
}

static void test_globstar(void **state)
{
    (void)state;
    assert_true(ex("**/draft.md", "draft.md", false));
    assert_true(ex("**/draft.md", "a/b/draft.md", false));
    assert_true(ex("a/**/b.md", "a/b.md", false));          /* zero directories */
    assert_true(ex("a/**/b.md", "a/x/y/b.md", false));
    assert_false(ex("a/**/b.md", "c/a/x/b.md", false));
    assert_true(ex("a/**", "a/x.md", false));
    assert_true(ex("a/**", "a/x/y.md", false));
    assert_false(ex("a/**", "a", true));                    /* inside, not a itself */
    assert_true(ex("a/**/*.tmp", "a/q/w/e.tmp", false));
    assert_false(ex("a/**/*.tmp", "a/q/w/e.md", false));
}

static void test_dirs_and_negation(void **state)
{
    (void)state;
    assert_true(ex("build/", "build", true));
    assert_false(ex("build/", "build", false));              /* a file named build */
    assert_true(ex("build/", "x/build/y.md", false));        /* through its parent */
    const char *keep[] = {"*.md", "!keep.md"};
    assert_true(ingest_excluded(keep, N(keep), "drop.md", false));
    assert_false(ingest_excluded(keep, N(keep), "keep.md", false));
    assert_false(ingest_excluded(keep, N(keep), "sub/keep.md", false));
    const char *order[] = {"!keep.md", "*.md"};               /* the last match wins */
    assert_true(ingest_excluded(order, N(order), "keep.md", false));
    const char *parent[] = {"private/", "!private/ok.md"};    /* no re-include in an excluded dir */
    assert_true(ingest_excluded(parent, N(parent), "private/ok.md", false));
    const char *inside[] = {"a/**", "!a/keep.md"};            /* a itself is not excluded */
    assert_false(ingest_excluded(inside, N(inside), "a/keep.md", false));
    assert_true(ingest_excluded(inside, N(inside), "a/drop.md", false));
}

static void test_comments_escapes_empty(void **state)
{
    (void)state;
    assert_false(ex("# comment", "# comment", false));
    assert_false(ex("", "x", false));
    assert_false(ex("!", "x", false));
    assert_false(ex("/", "x", true));
    assert_true(ex("\\#notes.md", "#notes.md", false));
    assert_true(ex("\\!bang.md", "!bang.md", false));
    assert_true(ex("a\\*b", "a*b", false));
    assert_false(ex("a\\*b", "axb", false));
    assert_false(ingest_excluded(NULL, 0, "x", false));
    const char *withnull[] = {NULL, "*.md"};
    assert_true(ingest_excluded(withnull, 2, "x.md", false));
}

static void test_no_exponential_backtracking(void **state)
{
    (void)state;
    char path[4000], pat[INGEST_EXCLUDE_MAX_LEN];
    size_t n = 0;
    while (n + 20 < sizeof(path)) {
        memcpy(path + n, "aaaaaaaaaaaaaaaaaaa/", 20);
        n += 20;
    }
    path[n - 1] = '\0';
    snprintf(pat, sizeof(pat), "**/*a*a*a*a*a*a*a*a*a*a*a*a*/**/**/**/*a*a*a*a*a*b");
    const char *p[INGEST_EXCLUDE_MAX];
    for (size_t i = 0; i < INGEST_EXCLUDE_MAX; i++)
        p[i] = pat;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_false(ingest_excluded(p, 8, path, false));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    /* polynomial is well under a second even on a loaded machine and under
     * sanitizers; exponential would not finish */
    assert_true(secs < 20.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_wildcards),
        cmocka_unit_test(test_anchoring),
        cmocka_unit_test(test_globstar),
        cmocka_unit_test(test_dirs_and_negation),
        cmocka_unit_test(test_comments_escapes_empty),
        cmocka_unit_test(test_no_exponential_backtracking),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
