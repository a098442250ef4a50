/*
 * lockfile.c - see lockfile.h. flock rather than fcntl locks: fcntl locks
 * belong to the process and vanish when any descriptor of the file is
 * closed (e.g. a library reading it); flock locks belong to the open file.
 */
#include "core/lockfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static long read_pid(int fd)
{
    char text[32];
    ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
    if (n <= 0)
        return 0;
    text[n] = '\0';
    char *end = NULL;
    errno = 0;
    long pid = strtol(text, &end, 10);
    if (errno || end == text || pid <= 0)
        return 0;
    return pid;
}

cc_err cc_lockfile_acquire(const char *path, int *out_fd, long *holder_pid)
{
    cc_err err = CC_EIO;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return CC_EIO;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            if (holder_pid)
                *holder_pid = read_pid(fd);
            err = CC_ECONFLICT;
        }
        goto out;
    }
    char text[32];
    int len = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)len, 0) != len)
        goto out;
    *out_fd = fd;
    fd = -1;
    err = CC_OK;
out:
    if (fd >= 0) {
        int saved = errno;
        close(fd);
        errno = saved;
    }
    return err;
}

void cc_lockfile_release(int fd)
{
    if (fd >= 0)
        close(fd);
}
