/*
 * docker_tar.c - the small tar writer the docker driver needs: secrets
 * copied into a container (PUT /containers/{id}/archive) and build
 * contexts (POST /build). ustar headers; names over 100 bytes get a GNU
 * long-name record, which the Engine's archive reader accepts.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "orchestrator/docker_int.h"

#define CONTEXT_MAX ((size_t)512 << 20)   /* 512 MiB of build context */
#define IGNORE_MAX  256                    /* .dockerignore patterns */

static void octal(char *field, size_t width, uint64_t v)
{
    /* width-1 digits and a NUL, as ustar wants; a value too large for the
     * field is clamped (uids, mtimes: callers keep sizes in range) */
    size_t nd = width - 1;
    uint64_t max = ((uint64_t)1 << (3 * nd)) - 1;
    if (v > max)
        v = max;
    field[nd] = '\0';
    for (size_t i = nd; i-- > 0; v >>= 3)
        field[i] = (char)('0' + (v & 7));
}

static cc_err header(struct cc_buf *tar, const char *name, size_t namelen, char type,
                     const struct orch__tar_entry *e, size_t size)
{
    char h[512];
    memset(h, 0, sizeof(h));
    memcpy(h, name, namelen > 100 ? 100 : namelen);
    octal(h + 100, 8, e->mode & 07777);
    octal(h + 108, 8, e->uid);
    octal(h + 116, 8, e->gid);
    octal(h + 124, 12, size);
    octal(h + 136, 12, (uint64_t)(e->mtime > 0 ? e->mtime : 0));
    memset(h + 148, ' ', 8);
    h[156] = type;
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    unsigned sum = 0;
    for (size_t i = 0; i < sizeof(h); i++)
        sum += (unsigned char)h[i];
    octal(h + 148, 7, sum);
    h[155] = ' ';
    return cc_buf_add(tar, h, sizeof(h));
}

static cc_err pad(struct cc_buf *tar, size_t len)
{
    static const char zeros[512];
    size_t r = len % 512;
    return r ? cc_buf_add(tar, zeros, 512 - r) : CC_OK;
}

cc_err orch__tar_add(struct cc_buf *tar, const struct orch__tar_entry *e)
{
    size_t nl = strlen(e->name);
    bool dir = nl && e->name[nl - 1] == '/';
    cc_err err;
    if (nl > 100) {
        struct orch__tar_entry ln = {.mode = 0644};
        err = header(tar, "././@LongLink", 13, 'L', &ln, nl + 1);
        if (!err)
            err = cc_buf_add(tar, e->name, nl + 1);
        if (!err)
            err = pad(tar, nl + 1);
        if (err)
            return err;
    }
    size_t size = dir ? 0 : e->len;
    err = header(tar, e->name, nl, dir ? '5' : '0', e, size);
    if (!err && size)
        err = cc_buf_add(tar, e->data, size);
    if (!err)
        err = pad(tar, size);
    return err;
}

cc_err orch__tar_finish(struct cc_buf *tar)
{
    static const char zeros[1024];
    return cc_buf_add(tar, zeros, sizeof(zeros));
}

struct ignore {
    char *pat[IGNORE_MAX];
    size_t n;
};

static void load_ignore(const char *dir, struct ignore *ig)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/.dockerignore", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[1024];
    while (ig->n < IGNORE_MAX && fgets(line, sizeof(line), f)) {
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        size_t len = strcspn(p, "\r\n");
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        p[len] = '\0';
        if (!*p || *p == '#' || *p == '!')   /* exceptions are not supported: kept */
            continue;
        while (*p == '/')
            p++;
        if (strncmp(p, "./", 2) == 0)
            p += 2;
        len = strlen(p);
        while (len && p[len - 1] == '/')
            p[--len] = '\0';
        if (*p)
            ig->pat[ig->n++] = cc_xstrdup(p);
    }
    fclose(f);
}

/* A path is excluded when a pattern matches it or one of its parents. */
static bool ignored(const struct ignore *ig, const char *rel)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s", rel);
    for (;;) {
        for (size_t i = 0; i < ig->n; i++)
            if (fnmatch(ig->pat[i], tmp, FNM_PATHNAME) == 0)
                return true;
        char *slash = strrchr(tmp, '/');
        if (!slash)
            return false;
        *slash = '\0';
    }
}

static cc_err read_file(const char *path, size_t max, struct cc_buf *out, char *why,
                        size_t whysz)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, whysz, "cannot read %s: %s", path, strerror(errno));
        return CC_EIO;
    }
    char chunk[65536];
    cc_err rc = CC_OK;
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof(chunk));
        if (r == 0)
            break;
        if (r < 0) {
            if (errno == EINTR)
                continue;
            snprintf(why, whysz, "cannot read %s: %s", path, strerror(errno));
            rc = CC_EIO;
            break;
        }
        if (out->len + (size_t)r > max || cc_buf_add(out, chunk, (size_t)r)) {
            snprintf(why, whysz, "%s is too large", path);
            rc = CC_ELIMIT;
            break;
        }
    }
    close(fd);
    return rc;
}

static cc_err walk(const char *root, const char *rel, const struct ignore *ig,
                   struct cc_buf *tar, int depth, char *why, size_t whysz)
{
    char dirpath[4096];
    snprintf(dirpath, sizeof(dirpath), "%s%s%s", root, *rel ? "/" : "", rel);
    if (depth > 64) {
        snprintf(why, whysz, "%s is nested too deep", dirpath);
        return CC_ELIMIT;
    }
    DIR *dir = opendir(dirpath);
    if (!dir) {
        snprintf(why, whysz, "cannot read the directory %s: %s", dirpath, strerror(errno));
        return CC_EIO;
    }
    cc_err rc = CC_OK;
    struct dirent *de;
    while (!rc && (de = readdir(dir))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char sub[4096], full[8200];
        if (snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", de->d_name) >=
            (int)sizeof(sub) - 2) {
            snprintf(why, whysz, "a path in the build context is too long");
            rc = CC_ELIMIT;
            break;
        }
        if (ignored(ig, sub))
            continue;
        if (snprintf(full, sizeof(full), "%s/%s", root, sub) >= (int)sizeof(full)) {
            snprintf(why, whysz, "a path in the build context is too long");
            rc = CC_ELIMIT;
            break;
        }
        struct stat st;
        if (lstat(full, &st)) {
            snprintf(why, whysz, "cannot stat %s: %s", full, strerror(errno));
            rc = CC_EIO;
            break;
        }
        struct orch__tar_entry e = {.mode = st.st_mode & 07777, .mtime = st.st_mtime};
        if (S_ISDIR(st.st_mode)) {
            char dname[4100];
            size_t sl = strlen(sub);
            memcpy(dname, sub, sl);
            dname[sl] = '/';
            dname[sl + 1] = '\0';
            e.name = dname;
            rc = orch__tar_add(tar, &e);
            if (!rc)
                rc = walk(root, sub, ig, tar, depth + 1, why, whysz);
        } else if (S_ISREG(st.st_mode)) {
            struct cc_buf data;
            cc_buf_init(&data, CONTEXT_MAX);
            rc = read_file(full, CONTEXT_MAX - tar->len, &data, why, whysz);
            if (!rc) {
                e.name = sub;
                e.data = data.ptr;
                e.len = data.len;
                rc = orch__tar_add(tar, &e);
            }
            cc_buf_release(&data);
        }
        /* symlinks, sockets and devices are left out of the context */
        if (rc == CC_ELIMIT && !*why)
            snprintf(why, whysz, "the build context %s is larger than %zu MiB", root,
                     CONTEXT_MAX >> 20);
    }
    closedir(dir);
    return rc;
}

cc_err orch__tar_context(const char *dir, struct cc_buf *tar, char *why, size_t whysz)
{
    struct ignore ig = {.n = 0};
    load_ignore(dir, &ig);
    why[0] = '\0';
    cc_err rc = walk(dir, "", &ig, tar, 0, why, whysz);
    if (!rc)
        rc = orch__tar_finish(tar);
    if (rc == CC_ELIMIT && !*why)
        snprintf(why, whysz, "the build context %s is too large", dir);
    for (size_t i = 0; i < ig.n; i++)
        free(ig.pat[i]);
    return rc;
}
