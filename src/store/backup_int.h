/*
 * backup_int.h - what backup.c (the file format) shares with the
 * per-backend halves (backup_sqlite.c, backup_pg.c). Not for other modules.
 */
#ifndef CC_STORE_BACKUP_INT_H
#define CC_STORE_BACKUP_INT_H

#include <stdio.h>

#include "store/backup.h"

struct store__backup_ops {
    const char *name;                 /* the store driver's name */
    /* The newest schema version this binary has for the backend. */
    int (*schema_latest)(void);
    /* Writes the payload to f; *schema_version is the store's. scratch is
     * a path the backend may create (and must remove) for a working file. */
    cc_err (*dump)(const struct store_cfg *cfg, const char *scratch, FILE *f,
                   int *schema_version, char *why, size_t whysz);
    /* Loads a verified payload (f positioned at it, m->payload_bytes long)
     * into the store, replacing it; see store_restore for force. */
    cc_err (*load)(const struct store_cfg *cfg, FILE *f, const struct store_backup_manifest *m,
                   bool force, char *why, size_t whysz);
};

extern const struct store__backup_ops store__backup_sqlite;
extern const struct store__backup_ops store__backup_pg;

/* Creates path for writing and reading, mode 0600 (never through a
 * symlink); NULL with errno on failure. */
FILE *store__backup_create(const char *path);
/* fflush + fsync + fclose: CC_EIO if any failed. */
cc_err store__backup_sync_close(FILE *f);
/* fsync of the directory holding path (after a rename into it). */
void store__backup_sync_dir(const char *path);
/* failf-style message into why; returns err. */
cc_err store__backup_fail(cc_err err, char *why, size_t whysz, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* PostgreSQL payload framing: reads one "T <20 digits> <table>\n" section
 * head from f, of the *left bytes the payload has left (decremented). On
 * CC_OK name (64 bytes) and *bytes (at most *left) describe the section;
 * CC_EPARSE with why when it is malformed. Exposed for the fuzz target. */
cc_err store__backup_pg_section(FILE *f, uint64_t *left, char *name, uint64_t *bytes,
                                char *why, size_t whysz);

/* Reads n bytes of in from its position and hands them to sink in pieces:
 * CC_EPARSE if in ends first, CC_EIO on a read error or when sink returns
 * false. */
cc_err store__backup_pump(FILE *in, uint64_t n, bool (*sink)(void *arg, const char *p, size_t len),
                          void *arg);

/* Copies n bytes from `in` to `out`; CC_EPARSE if `in` ends first. */
cc_err store__backup_copy(FILE *in, FILE *out, uint64_t n, char *why, size_t whysz);

#endif
