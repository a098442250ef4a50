/*
 * spool.c - upload bodies in an unlinked file (spool.h).
 */
#define _GNU_SOURCE
#include "http/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

void http__spool_init(struct http_spool *sp)
{
    *sp = (struct http_spool){.fd = -1};
}

cc_err http__spool_open(struct http_spool *sp, const char *dir, size_t limit)
{
    char path[4096];
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return CC_EIO;
    if (snprintf(path, sizeof(path), "%s/upload-XXXXXX", dir) >= (int)sizeof(path))
        return CC_EIO;
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0)
        return CC_EIO;
    unlink(path);
    *sp = (struct http_spool){.fd = fd, .limit = limit};
    return CC_OK;
}

cc_err http__spool_add(struct http_spool *sp, const char *data, size_t n)
{
    if (n > sp->limit - sp->len)
        return CC_ELIMIT;
    while (n) {
        ssize_t w = write(sp->fd, data, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return CC_EIO;
        data += w;
        n -= (size_t)w;
        sp->len += (size_t)w;
    }
    return CC_OK;
}

cc_err http__spool_map(struct http_spool *sp, const char **body, size_t *len)
{
    /* One more byte, zero: the body is a C string like an in-memory one. */
    if (ftruncate(sp->fd, (off_t)sp->len + 1) != 0)
        return CC_EIO;
    void *m = mmap(NULL, sp->len + 1, PROT_READ, MAP_PRIVATE, sp->fd, 0);
    if (m == MAP_FAILED)
        return CC_EIO;
    sp->map = m;
    sp->map_len = sp->len + 1;
    *body = m;
    *len = sp->len;
    return CC_OK;
}

void http__spool_release(struct http_spool *sp)
{
    if (sp->map)
        munmap(sp->map, sp->map_len);
    if (sp->fd >= 0)
        close(sp->fd);
    http__spool_init(sp);
}
