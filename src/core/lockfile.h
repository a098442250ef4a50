/*
 * lockfile.h - one holder per directory: an exclusive flock(2) on a file
 * that also records the holder's pid.
 *
 * `serve` takes data_dir/lock for its whole life and `restore` takes it while
 * it replaces the store, so neither can run beside a daemon on the same data
 * directory. The kernel drops the lock when the holder exits, however it
 * exits, so a stale file never blocks anyone; the pid inside is only for the
 * message. The descriptor is O_CLOEXEC: children that exec (the process
 * driver's shims, pdftotext) do not keep the lock after the daemon is gone.
 */
#ifndef CC_CORE_LOCKFILE_H
#define CC_CORE_LOCKFILE_H

#include "core/err.h"

/* Creates path (mode 0600) if needed and locks it without waiting. On
 * CC_OK *out_fd holds the lock and the file holds our pid. CC_ECONFLICT:
 * someone else holds it; *holder_pid (optional) is the pid recorded in the
 * file, 0 when unreadable. CC_EIO: cannot open or lock (errno is set). */
cc_err cc_lockfile_acquire(const char *path, int *out_fd, long *holder_pid);

/* Drops the lock (closes fd); -1 is ignored. The file stays. */
void cc_lockfile_release(int fd);

#endif
