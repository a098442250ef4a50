/*
 * spool.h - request bodies of upload routes received into a file instead
 * of memory.
 *
 * A document upload is tens of MiB of base64 in JSON. Grown in a heap
 * buffer it costs up to twice its size while it doubles, and stays for the
 * whole request. Spooled, it goes to an unlinked file under
 * <data_dir>/spool as it arrives (nothing to clean up after a crash), and
 * the handler reads it through a read-only mapping: page cache the kernel
 * may drop, not heap. The file is closed and unmapped with the request.
 */
#ifndef CC_HTTP_SPOOL_H
#define CC_HTTP_SPOOL_H

#include <stddef.h>

#include "core/err.h"

struct http_spool {
    int fd;          /* -1: not spooling */
    size_t len;      /* bytes written */
    size_t limit;
    void *map;
    size_t map_len;
};

/* Not spooling; http__spool_release is a no-op on it. */
void http__spool_init(struct http_spool *sp);
/* Creates the file in dir (made if missing, 0700) and unlinks it at once.
 * CC_EIO when the file cannot be made. */
cc_err http__spool_open(struct http_spool *sp, const char *dir, size_t limit);
/* Appends; CC_ELIMIT past the limit (nothing written), CC_EIO on a write
 * error (disk full). */
cc_err http__spool_add(struct http_spool *sp, const char *data, size_t n);
/* Maps what was written, NUL-terminated, for the handler; valid until
 * release. CC_EIO when it cannot be mapped. */
cc_err http__spool_map(struct http_spool *sp, const char **body, size_t *len);
void http__spool_release(struct http_spool *sp);

#endif
