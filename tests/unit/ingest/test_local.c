/*
 * test_local.c - where local sources may read: the roots list, the
 * component-wise containment check with symlinks and ".." resolved, and
 * opens beneath a folder's descriptor (openat2, and the O_NOFOLLOW walk
 * used without it) refusing every symlink on the way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingest/sources/local.h"

static char base[256];

static void path(char *out, const char *rel)
{
    snprintf(out, PATH_MAX, "%s/%s", base, rel);
}

static void mkfile(const char *rel, const char *text)
{
    char p[PATH_MAX];
    path(p, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/cc-local-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    snprintf(base, sizeof(base), "%s", tmpl);
    char p[PATH_MAX], q[PATH_MAX];
    const char *dirs[] = {"root", "root/sub", "root/sub/deeper", "outside", "root-old"};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        path(p, dirs[i]);
        assert_int_equal(mkdir(p, 0755), 0);
    }
    mkfile("root/a.md", "inside\n");
    mkfile("root/sub/deeper/b.md", "deep\n");
    mkfile("outside/secret.md", "secret\n");
    path(p, "outside/secret.md");
    chmod(p, 0600);
    path(p, "outside");                      /* root/link -> ../outside */
    path(q, "root/link");
    assert_int_equal(symlink(p, q), 0);
    path(p, "outside/secret.md");            /* root/sub/leak.md -> the secret */
    path(q, "root/sub/leak.md");
    assert_int_equal(symlink(p, q), 0);
    path(p, "root");                         /* alias -> root */
    path(q, "alias");
    assert_int_equal(symlink(p, q), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_roots_parse(void **state)
{
    (void)state;
    char **r = NULL;
    assert_int_equal(ingest_local_roots_parse("/a::/b/c:", &r), CC_OK);
    assert_string_equal(r[0], "/a");
    assert_string_equal(r[1], "/b/c");
    assert_null(r[2]);
    ingest_local_roots_free(r);
    assert_int_equal(ingest_local_roots_parse("", &r), CC_OK);
    assert_null(r[0]);
    ingest_local_roots_free(r);
    r = NULL;
    assert_int_equal(ingest_local_roots_parse("/a:relative", &r), CC_EINVAL);
    assert_null(r);
    ingest_local_roots_free(NULL);
}

static void test_beneath(void **state)
{
    (void)state;
    assert_true(ingest_local_beneath("/srv/docs", "/srv/docs"));
    assert_true(ingest_local_beneath("/srv/docs", "/srv/docs/a/b"));
    assert_true(ingest_local_beneath("/srv/docs/", "/srv/docs/a"));
    assert_false(ingest_local_beneath("/srv/docs", "/srv/docs-old"));
    assert_false(ingest_local_beneath("/srv/docs", "/srv/doc"));
    assert_false(ingest_local_beneath("/srv/docs", "/srv"));
    assert_true(ingest_local_beneath("/", "/etc"));
}

static void test_allowed(void **state)
{
    (void)state;
    char root[PATH_MAX], p[PATH_MAX], out[PATH_MAX] = "untouched";
    path(root, "root");
    const char *roots[] = {root, NULL};
    path(p, "root/sub");
    assert_int_equal(ingest_local_allowed(roots, p, out), CC_OK);
    assert_string_equal(out, p);
    path(p, "root/sub/../../outside");       /* ".." resolved first */
    assert_int_equal(ingest_local_allowed(roots, p, out), CC_EPERM);
    path(p, "root/link");                    /* a symlink out of the root */
    assert_int_equal(ingest_local_allowed(roots, p, out), CC_EPERM);
    path(p, "root-old");                     /* a sibling sharing the prefix */
    assert_int_equal(ingest_local_allowed(roots, p, out), CC_EPERM);
    path(p, "alias/sub");                    /* a symlink into the root is fine */
    assert_int_equal(ingest_local_allowed(roots, p, out), CC_OK);
    path(p, "root/sub");
    assert_string_equal(out, p);
    path(p, "nosuch");
    assert_int_equal(ingest_local_allowed(roots, p, out), CC_ENOTFOUND);
    const char *none[] = {NULL};
    path(p, "root");
    assert_int_equal(ingest_local_allowed(none, p, out), CC_EPERM);
    assert_int_equal(ingest_local_allowed(NULL, p, out), CC_EPERM);
    char aliasroot[PATH_MAX];                /* the root itself given through a symlink */
    path(aliasroot, "alias");
    const char *aliased[] = {aliasroot, NULL};
    assert_int_equal(ingest_local_allowed(aliased, p, out), CC_OK);
}

static void read_back(int fd, const char *want)
{
    char buf[64] = "";
    assert_true(fd >= 0);
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_string_equal(buf, want);
    close(fd);
}

static void check_open(int (*op)(int, const char *, int))
{
    char p[PATH_MAX];
    path(p, "root");
    int dirfd = ingest_local_open_dir(p);
    assert_true(dirfd >= 0);
    read_back(op(dirfd, "a.md", O_RDONLY), "inside\n");
    read_back(op(dirfd, "sub/deeper/b.md", O_RDONLY), "deep\n");
    errno = 0;
    assert_int_equal(op(dirfd, "link/secret.md", O_RDONLY), -1);   /* symlinked dir */
    assert_true(errno == ELOOP || errno == EXDEV || errno == ENOTDIR);
    assert_int_equal(op(dirfd, "sub/leak.md", O_RDONLY), -1);      /* symlinked file */
    assert_int_equal(errno, ELOOP);
    assert_int_equal(op(dirfd, "../outside/secret.md", O_RDONLY), -1);
    assert_int_equal(op(dirfd, "sub/../a.md", O_RDONLY), -1);       /* no ".." at all */
    assert_int_equal(op(dirfd, "/etc/passwd", O_RDONLY), -1);
    assert_int_equal(op(dirfd, "", O_RDONLY), -1);
    assert_int_equal(op(dirfd, "sub/", O_RDONLY), -1);
    assert_int_equal(op(dirfd, "nosuch.md", O_RDONLY), -1);
    assert_int_equal(errno, ENOENT);
    int sub = op(dirfd, "sub", O_RDONLY | O_DIRECTORY);
    assert_true(sub >= 0);
    close(sub);
    close(dirfd);
    path(p, "alias");                      /* the folder itself must not be a symlink */
    assert_int_equal(ingest_local_open_dir(p), -1);
}

static void test_openat2(void **state)
{
    (void)state;
    check_open(ingest_local_openat);
}

static void test_walk_fallback(void **state)
{
    (void)state;
    check_open(ingest_local_openat_walk);
}

/* The race from issue 9: between a scan and a read, a directory of the
 * folder becomes a symlink to a folder outside holding a 0600 file. */
static void test_swapped_directory(void **state)
{
    (void)state;
    char p[PATH_MAX], q[PATH_MAX];
    mkfile("root/sub/deeper/secret.md", "harmless\n");
    path(p, "root");
    int dirfd = ingest_local_open_dir(p);
    read_back(ingest_local_openat(dirfd, "sub/deeper/secret.md", O_RDONLY), "harmless\n");
    path(p, "root/sub/deeper");              /* swap: deeper -> outside */
    path(q, "root/sub/deeper.gone");
    assert_int_equal(rename(p, q), 0);
    path(q, "outside");
    assert_int_equal(symlink(q, p), 0);
    mkfile("outside/secret.md", "secret\n");
    assert_int_equal(ingest_local_openat(dirfd, "sub/deeper/secret.md", O_RDONLY), -1);
    assert_int_equal(ingest_local_openat_walk(dirfd, "sub/deeper/secret.md", O_RDONLY), -1);
    close(dirfd);
    unlink(p);
    path(q, "root/sub/deeper.gone");
    assert_int_equal(rename(q, p), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roots_parse),
        cmocka_unit_test(test_beneath),
        cmocka_unit_test(test_allowed),
        cmocka_unit_test(test_openat2),
        cmocka_unit_test(test_walk_fallback),
        cmocka_unit_test(test_swapped_directory),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
