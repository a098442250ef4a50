/*
 * file.c - reading a whole small file that a user named (file.h).
 */
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"

static cc_err fail(int e, const char *path, char *why, size_t whysz)
{
    char text[128];
    if (strerror_r(e, text, sizeof(text)) != 0)
        snprintf(text, sizeof(text), "error %d", e);
    if (why)
        snprintf(why, whysz, "cannot read '%s': %s", path, text);
    return e == ENOENT || e == ENOTDIR ? CC_ENOTFOUND : e == EACCES || e == EPERM ? CC_EPERM
                                                                                  : CC_EIO;
}

cc_err cc_file_read(const char *path, size_t max, char **out, size_t *out_len, char *why,
                    size_t whysz)
{
    char *data = NULL;
    cc_err err;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return fail(errno, path, why, whysz);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        err = fail(errno, path, why, whysz);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        if (why)
            snprintf(why, whysz, "cannot read '%s': not a regular file", path);
        err = CC_EINVAL;
        goto out;
    }
    if ((uint64_t)st.st_size > max) {
        err = CC_ELIMIT;
        goto too_large;
    }
    data = cc_xmalloc(max + 2);
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, data + len, max + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err = fail(errno, path, why, whysz);
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > max) {
            err = CC_ELIMIT;
            goto too_large;
        }
    }
    data[len] = '\0';
    *out = data;
    *out_len = len;
    data = NULL;
    err = CC_OK;
    goto out;
too_large:
    if (why && max && max % (1u << 20) == 0)
        snprintf(why, whysz, "'%s' is larger than %zu MiB", path, max >> 20);
    else if (why && max && max % 1024 == 0)
        snprintf(why, whysz, "'%s' is larger than %zu KiB", path, max >> 10);
    else if (why)
        snprintf(why, whysz, "'%s' is larger than %zu bytes", path, max);
out:
    free(data);
    close(fd);
    return err;
}
