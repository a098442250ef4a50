/*
 * backup_sqlite.c - the SQLite half of backups (backup.h).
 *
 * Backup: SQLite's online backup API copies the database, as of one read
 * transaction, into a scratch file while the daemon keeps writing (WAL
 * readers do not block the writer); the copy is integrity-checked and
 * switched to rollback-journal mode so the payload is one self-contained
 * file. Restore: the payload is written beside the database, checked
 * again, and renamed over it; the old database is checkpointed first so no
 * stale -wal file can be applied to the new one.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/embedded.h"
#include "store/backup_int.h"
#include "store/store_sql.h"

#define STEP_PAGES -1           /* the whole database in one read transaction */
#define BUSY_SLEEP_US 20000

static int latest(void)
{
    int v = 0;
    store__migrations_latest(sqlite_migrations, NULL, &v);
    return v;
}

static cc_err db_fail(sqlite3 *db, const char *what, char *why, size_t whysz)
{
    return store__backup_fail(CC_EIO, why, whysz, "%s: %s", what,
                              db ? sqlite3_errmsg(db) : "out of memory");
}

/* First column of the last row into a 256-byte buffer. */
static int on_row(void *arg, int argc, char **argv, char **names)
{
    (void)names;
    snprintf(arg, 256, "%s", argc > 0 && argv[0] ? argv[0] : "");
    return 0;
}

/* The copy must be sound and say which schema it has. */
static cc_err check_copy(sqlite3 *db, int *version, char *why, size_t whysz)
{
    char ok[256] = "", ver[256] = "";
    if (sqlite3_exec(db, "PRAGMA integrity_check(1)", on_row, ok, NULL) != SQLITE_OK)
        return db_fail(db, "integrity check", why, whysz);
    if (strcmp(ok, "ok") != 0)
        return store__backup_fail(CC_EPARSE, why, whysz,
                                  "the database fails SQLite's integrity check: %s", ok);
    if (sqlite3_exec(db, "SELECT max(version) FROM schema_migrations", on_row, ver, NULL) !=
            SQLITE_OK || !ver[0])
        return store__backup_fail(CC_EPARSE, why, whysz,
                                  "the database has no schema_migrations: not a store");
    *version = (int)strtol(ver, NULL, 10);
    return CC_OK;
}

static cc_err open_db(const char *path, int flags, int64_t busy_ms, sqlite3 **out, char *why,
                      size_t whysz)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        cc_err err = db_fail(db, path, why, whysz);
        sqlite3_close(db);
        return err;
    }
    sqlite3_busy_timeout(db, busy_ms > 0 ? (int)busy_ms : 5000);
    *out = db;
    return CC_OK;
}

static cc_err dump(const struct store_cfg *cfg, const char *scratch, FILE *f,
                   int *schema_version, char *why, size_t whysz)
{
    sqlite3 *src = NULL, *dst = NULL;
    FILE *in = NULL;
    struct stat st;
    cc_err err;
    if (stat(cfg->sqlite_path, &st) != 0)
        return store__backup_fail(CC_ENOTFOUND, why, whysz, "no database at %s: %s",
                                  cfg->sqlite_path, strerror(errno));
    unlink(scratch);
    err = open_db(cfg->sqlite_path, SQLITE_OPEN_READONLY, cfg->busy_timeout_ms, &src, why, whysz);
    if (!err)
        err = open_db(scratch, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, cfg->busy_timeout_ms,
                      &dst, why, whysz);
    if (err)
        goto out;
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        err = db_fail(dst, "backup", why, whysz);
        goto out;
    }
    int rc, waited_us = 0, limit_us = (int)(cfg->busy_timeout_ms > 0 ? cfg->busy_timeout_ms
                                                                        : 5000) * 1000;
    while ((rc = sqlite3_backup_step(b, STEP_PAGES)) == SQLITE_BUSY || rc == SQLITE_LOCKED) {
        if (waited_us >= limit_us)
            break;
        usleep(BUSY_SLEEP_US);
        waited_us += BUSY_SLEEP_US;
    }
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        err = store__backup_fail(rc == SQLITE_BUSY ? CC_EAGAIN : CC_EIO, why, whysz,
                                 "backup of %s: %s", cfg->sqlite_path, sqlite3_errstr(rc));
        goto out;
    }
    err = check_copy(dst, schema_version, why, whysz);
    if (err)
        goto out;
    if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK) {
        err = db_fail(dst, "journal mode", why, whysz);
        goto out;
    }
    sqlite3_close(dst);
    dst = NULL;
    in = fopen(scratch, "rbe");
    if (!in || fstat(fileno(in), &st) != 0) {
        err = store__backup_fail(CC_EIO, why, whysz, "%s: %s", scratch, strerror(errno));
        goto out;
    }
    err = store__backup_copy(in, f, (uint64_t)st.st_size, why, whysz);
out:
    if (in)
        fclose(in);
    sqlite3_close(dst);
    sqlite3_close(src);
    unlink(scratch);
    return err;
}

/* Folds the old database's WAL into it and removes -wal/-shm, so the file
 * renamed over it starts clean. With force, an old database that cannot be
 * checkpointed (the damaged store a disaster recovery replaces) is
 * replaced anyway: its -wal goes with it. */
static cc_err retire_old(const struct store_cfg *cfg, bool force, char *why, size_t whysz)
{
    sqlite3 *db = NULL;
    cc_err err = open_db(cfg->sqlite_path, SQLITE_OPEN_READWRITE, cfg->busy_timeout_ms, &db, why,
                         whysz);
    if (!err && sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) != SQLITE_OK)
        err = db_fail(db, "checkpoint of the old database", why, whysz);
    sqlite3_close(db);
    if (err && !force)
        return err;
    const char *suffix[] = {"-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        char p[4200];
        snprintf(p, sizeof(p), "%s%s", cfg->sqlite_path, suffix[i]);
        if (unlink(p) != 0 && errno != ENOENT)
            return store__backup_fail(CC_EIO, why, whysz, "cannot remove %s: %s", p,
                                      strerror(errno));
    }
    return CC_OK;
}

static cc_err load(const struct store_cfg *cfg, FILE *f, const struct store_backup_manifest *m,
                   bool force, char *why, size_t whysz)
{
    struct stat st;
    bool exists = stat(cfg->sqlite_path, &st) == 0;
    if (exists && st.st_size > 0 && !force)
        return store__backup_fail(CC_ECONFLICT, why, whysz,
                                  "there is already a database at %s", cfg->sqlite_path);
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.restore.tmp", cfg->sqlite_path);
    sqlite3 *db = NULL;
    FILE *out = store__backup_create(tmp);
    cc_err err;
    if (!out)
        return store__backup_fail(CC_EIO, why, whysz, "cannot create %s: %s", tmp,
                                  strerror(errno));
    err = store__backup_copy(f, out, m->payload_bytes, why, whysz);
    cc_err cerr = store__backup_sync_close(out);
    if (!err && cerr)
        err = store__backup_fail(cerr, why, whysz, "cannot write %s", tmp);
    if (err)
        goto out;
    int version = 0;
    err = open_db(tmp, SQLITE_OPEN_READONLY, cfg->busy_timeout_ms, &db, why, whysz);
    if (!err)
        err = check_copy(db, &version, why, whysz);
    sqlite3_close(db);
    if (err)
        goto out;
    if (version != m->schema_version) {
        err = store__backup_fail(CC_EPARSE, why, whysz, "the backup's manifest says schema %d, "
                                 "its database has %d", m->schema_version, version);
        goto out;
    }
    if (exists && (err = retire_old(cfg, force, why, whysz)))
        goto out;
    if (rename(tmp, cfg->sqlite_path) != 0) {
        err = store__backup_fail(CC_EIO, why, whysz, "cannot rename %s to %s: %s", tmp,
                                 cfg->sqlite_path, strerror(errno));
        goto out;
    }
    store__backup_sync_dir(cfg->sqlite_path);
out:
    if (err)
        unlink(tmp);
    return err;
}

const struct store__backup_ops store__backup_sqlite = {
    .name = "sqlite",
    .schema_latest = latest,
    .dump = dump,
    .load = load,
};
