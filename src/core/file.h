/*
 * file.h - reading a whole small file that a user named.
 *
 * A path from a user (a Compose file, an env file, a secret file) may name
 * a FIFO, a device or a directory; reading one would block a thread for
 * good or return nonsense. cc_file_read opens with O_NONBLOCK and O_NOCTTY
 * (a FIFO's open never waits for a writer), refuses anything fstat does
 * not call a regular file, and reads at most max bytes: a file larger
 * than that, or one growing past it while read, is refused.
 */
#ifndef CC_CORE_FILE_H
#define CC_CORE_FILE_H

#include <stddef.h>

#include "core/err.h"

/* On CC_OK *out is a heap buffer the caller frees, NUL-terminated, and
 * *out_len its length without the NUL. Errors, with a sentence naming the
 * path in why (may be NULL): CC_ENOTFOUND (no such file), CC_EPERM
 * (permission denied), CC_EINVAL (not a regular file), CC_ELIMIT (larger
 * than max), CC_EIO (anything else). */
cc_err cc_file_read(const char *path, size_t max, char **out, size_t *out_len, char *why,
                    size_t whysz);

#endif
