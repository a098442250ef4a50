/*
 * local.c - allowed roots and opens that stay beneath a folder (local.h).
 */
#include "ingest/sources/local.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/buf.h"

#define MAX_ROOTS 64

void ingest_local_roots_free(char **roots)
{
    for (size_t i = 0; roots && roots[i]; i++)
        free(roots[i]);
    free(roots);
}

cc_err ingest_local_roots_parse(const char *list, char ***out)
{
    char **roots = cc_xcalloc(MAX_ROOTS + 1, sizeof(*roots));
    size_t n = 0;
    cc_err err = CC_OK;
    for (const char *s = list ? list : ""; *s;) {
        size_t len = strcspn(s, ":");
        if (len > 0) {
            if (s[0] != '/' || n == MAX_ROOTS) {
                err = s[0] != '/' ? CC_EINVAL : CC_ELIMIT;
                goto out;
            }
            roots[n++] = cc_xstrndup(s, len);
        }
        s += len + (s[len] == ':');
    }
    *out = roots;
    roots = NULL;
out:
    ingest_local_roots_free(roots);
    return err;
}

bool ingest_local_beneath(const char *root, const char *path)
{
    size_t n = strlen(root);
    while (n > 0 && root[n - 1] == '/')
        n--;                 /* "/" -> "", "/srv/" -> "/srv" */
    if (n == 0)
        return path[0] == '/';
    return strncmp(root, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

cc_err ingest_local_allowed(const char *const *roots, const char *path, char out[PATH_MAX])
{
    char real[PATH_MAX], root[PATH_MAX];
    if (!path || !realpath(path, real))
        return CC_ENOTFOUND;
    for (size_t i = 0; roots && roots[i]; i++) {
        if (realpath(roots[i], root) && ingest_local_beneath(root, real)) {
            memcpy(out, real, strlen(real) + 1);
            return CC_OK;
        }
    }
    return CC_EPERM;
}

int ingest_local_open_dir(const char *dir)
{
    return open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* rel must be a plain relative path: no "", ".", ".." components. */
static bool rel_ok(const char *rel)
{
    if (!rel || !*rel || rel[0] == '/')
        return false;
    for (const char *s = rel; *s;) {
        size_t len = strcspn(s, "/");
        if (len == 0 || (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
            return false;
        if (len > NAME_MAX)
            return false;
        s += len;
        if (*s == '/' && !*++s)
            return false;   /* trailing slash */
    }
    return strlen(rel) < PATH_MAX;
}

int ingest_local_openat_walk(int dirfd, const char *rel, int flags)
{
    if (!rel_ok(rel)) {
        errno = EINVAL;
        return -1;
    }
    int cur = dirfd;
    char name[NAME_MAX + 1];
    for (const char *s = rel;;) {
        size_t len = strcspn(s, "/");
        memcpy(name, s, len);
        name[len] = '\0';
        bool last = s[len] == '\0';
        int fd = openat(cur, name, last ? flags | O_NOFOLLOW | O_CLOEXEC
                                        : O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int saved = errno;
        if (cur != dirfd)
            close(cur);
        if (fd < 0) {
            errno = saved;   /* a symlinked directory: ENOTDIR; the last one: ELOOP */
            return -1;
        }
        if (last)
            return fd;
        cur = fd;
        s += len + 1;
    }
}

int ingest_local_openat(int dirfd, const char *rel, int flags)
{
    if (!rel_ok(rel)) {
        errno = EINVAL;
        return -1;
    }
    struct open_how how = {.flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC),
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
                                      RESOLVE_NO_MAGICLINKS};
    long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
    if (fd >= 0)
        return (int)fd;
    if (errno != ENOSYS)
        return -1;
    return ingest_local_openat_walk(dirfd, rel, flags);
}
