/*
 * backup.h - backups of the store and their restore (docs/OPERATIONS.md).
 *
 * A backup is one file:
 *
 *   commandcenter-backup 1\n              the magic line and format version
 *   {"format":1,...}\n                     the manifest, one line of JSON
 *   <payload>                              exactly payload_bytes bytes
 *
 * The manifest names the backend, its schema version, the binary that made
 * it and when, and the payload's size and SHA-256. The payload is the
 * backend's own form: SQLite, a consistent copy of the database file made
 * with SQLite's online backup API while the daemon runs; PostgreSQL, the
 * rows of every table of the store's schema as COPY text, read in one
 * REPEATABLE READ snapshot (see backup_pg.c for the framing). A backup
 * restores into the same backend only.
 *
 * Restore checks before it changes anything: the magic, the manifest, the
 * backend, that the schema is not newer than this binary's (PostgreSQL:
 * equal), the payload's size and checksum, and (SQLite) the copy's
 * integrity_check. Then it replaces the store atomically: SQLite writes the
 * new file beside the database and renames it over; PostgreSQL loads every
 * table in one transaction. The caller holds data_dir/lock (no daemon runs).
 */
#ifndef CC_STORE_BACKUP_H
#define CC_STORE_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

#define STORE_BACKUP_MAGIC "commandcenter-backup 1\n"
#define STORE_BACKUP_FORMAT 1
#define STORE_BACKUP_HEAD_MAX (16 * 1024)   /* magic + manifest line */

struct store_backup_manifest {
    int format;
    char backend[16];            /* "sqlite" | "postgres" */
    int schema_version;
    char version[32];            /* of the binary that made it */
    char revision[48];
    char created_at[32];         /* RFC 3339, UTC */
    int64_t created_ms;
    uint64_t payload_bytes;
    char payload_sha256[65];     /* lower-case hex */
};

/* Parses the head of a backup (the first len bytes of the file; more than
 * the head is fine). On CC_OK fills *out and *head_len (bytes before the
 * payload). CC_EPARSE with why when it is not a backup or the manifest is
 * malformed; CC_EUNSUPPORTED for a format this binary does not read. */
cc_err store_backup_parse_head(const char *buf, size_t len, struct store_backup_manifest *out,
                               size_t *head_len, char *why, size_t whysz);

/* Writes a backup of the store cfg names to `output` (written aside and
 * renamed into place, mode 0600). The store may be in use by a daemon.
 * On CC_OK fills *out (optional). Errors carry why. */
cc_err store_backup(const struct store_cfg *cfg, const char *output, int64_t now_ms,
                    struct store_backup_manifest *out, char *why, size_t whysz);

/* Verifies a backup file (head, size and checksum) without restoring it. */
cc_err store_backup_verify(const char *file, struct store_backup_manifest *out, char *why,
                           size_t whysz);

/* Restores `file` into the store cfg names. An existing store with data is
 * replaced only with force (CC_ECONFLICT otherwise). CC_EPARSE: not a
 * backup or corrupt (checksum, size, integrity); CC_EINVAL: another
 * backend's backup; CC_ESTATE: schema newer than this binary (PostgreSQL:
 * different). Nothing is changed unless CC_OK. */
cc_err store_restore(const struct store_cfg *cfg, const char *file, bool force,
                     struct store_backup_manifest *out, char *why, size_t whysz);

#endif
