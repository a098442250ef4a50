/*
 * sqlite.c - the SQLite backend of the store interface (store.h).
 *
 * Concurrency model (docs/STORE.md has the long form):
 *   - One writer connection, used under write_mu. SQLite allows one writer
 *     per file anyway; serializing in-process spares threads the busy loop.
 *   - A pool of `pool_size` reader connections (query_only), checked out
 *     under pool_mu/pool_cv. WAL lets them read beside the writer.
 *   - A connection is used by one thread at a time, so every connection is
 *     opened SQLITE_OPEN_NOMUTEX. Other processes on the same file are
 *     serialized by SQLite's file locks; a wait past busy_timeout becomes
 *     CC_EAGAIN.
 *
 * Statements are prepared lazily per connection and kept in conn->stmt[]
 * (indexed by enum stmt_id; the shared layer's in conn->shared[]); every
 * use ends with reset + clear_bindings. User data only ever reaches
 * SQLite through bound parameters.
 *
 * This file holds open/close, migrations, the connections, the statement
 * helpers shared through sqlite_int.h, the dialect table through which
 * the shared SQL layer (store_sql.h: tokens, projects, events, sources,
 * document reads, most of the job queue) runs here, and the ops table.
 * Document writes and search live in sqlite_knowledge.c, the job claim in
 * sqlite_jobs.c, vectors in sqlite_vectors.c.
 *
 * Migrations are the files of src/store/migrations/sqlite/ embedded in
 * the binary (sqlite_migrations[], sorted by name); see migrate().
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/embedded.h"
#include "core/log.h"
#include "store/sqlite_int.h"
#include "store/store.h"

#define MOD "store"

extern const struct store_ops store_sqlite_ops;   /* defined at the end */
/* More readers than this buys nothing on one file and costs descriptors. */
#define POOL_MAX 64u

const struct stmt_def sqlite__core_stmts[ST__COUNT] = {
    [ST_BEGIN] = {"begin", "BEGIN"},
    [ST_BEGIN_IMMEDIATE] = {"begin_immediate", "BEGIN IMMEDIATE"},
    [ST_COMMIT] = {"commit", "COMMIT"},
};

static const struct stmt_def *const stmt_tables[] = {
    sqlite__core_stmts,
    sqlite__knowledge_stmts,
    sqlite__job_stmts,
    sqlite__vector_stmts,
};
#define NTABLES (sizeof(stmt_tables) / sizeof(stmt_tables[0]))

static const struct stmt_def *stmt_def(enum stmt_id id)
{
    for (size_t t = 0; t < NTABLES; t++) {
        if (stmt_tables[t][id].sql)
            return &stmt_tables[t][id];
    }
    return NULL;
}

const char *sqlite__stmt_name(enum stmt_id id)
{
    const struct stmt_def *def = stmt_def(id);
    return def ? def->name : "?";
}

/* Every statement id must have its SQL in exactly one file's table; a
 * miss is a build defect, refused at open rather than at first use. */
static cc_err check_stmt_tables(struct sqlite_store *s)
{
    for (int id = 0; id < ST__COUNT; id++) {
        int defs = 0;
        for (size_t t = 0; t < NTABLES; t++)
            defs += stmt_tables[t][id].sql != NULL;
        if (defs != 1) {
            cc_log_error(s->log, MOD, "statement table defect", CC_LI("stmt_id", id),
                         CC_LI("definitions", defs));
            return CC_EINVAL;
        }
    }
    return CC_OK;
}

/* ---- errors ---------------------------------------------------------- */

cc_err sqlite__db_err(struct sqlite_store *s, sqlite3 *db, int rc, const char *op)
{
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        cc_log_debug(s->log, MOD, "unique key conflict", CC_LS("op", op));
        return CC_ECONFLICT;
    }
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
        cc_log_debug(s->log, MOD, "foreign key refers to no row", CC_LS("op", op));
        return CC_ENOTFOUND;
    }
    if (rc == SQLITE_CONSTRAINT_CHECK || rc == SQLITE_CONSTRAINT_NOTNULL) {
        cc_log_debug(s->log, MOD, "constraint check failed", CC_LS("op", op),
                     CC_LS("error", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
        return CC_EINVAL;
    }
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
        cc_log_warn(s->log, MOD, "database busy past busy_timeout", CC_LS("op", op),
                    CC_LI("busy_timeout_ms", s->busy_ms), CC_LS("error", sqlite3_errstr(rc)));
        return CC_EAGAIN;
    }
    if (rc == SQLITE_NOMEM)
        return CC_ENOMEM;
    cc_log_error(s->log, MOD, "sqlite error", CC_LS("op", op), CC_LI("code", rc),
                 CC_LS("error", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
    return CC_EIO;
}

/* ---- statements ------------------------------------------------------ */

int sqlite__bind(sqlite3_stmt *st, const struct param *params)
{
    int rc = SQLITE_OK;
    for (int i = 0; params && params[i].type != P_END && rc == SQLITE_OK; i++) {
        const struct param *p = &params[i];
        if (p->type == P_INT)
            rc = sqlite3_bind_int64(st, i + 1, p->i);
        else if (!p->s)
            rc = sqlite3_bind_null(st, i + 1);
        else if (p->type == P_TEXT)
            rc = sqlite3_bind_text(st, i + 1, p->s, -1, SQLITE_STATIC);
        else
            rc = sqlite3_bind_blob64(st, i + 1, p->s, p->n, SQLITE_STATIC);
    }
    return rc;
}

cc_err sqlite__stmt(struct sqlite_store *s, struct conn *c, enum stmt_id id,
                    const struct param *params, sqlite3_stmt **out)
{
    if (!c->stmt[id]) {
        int rc = sqlite3_prepare_v3(c->db, stmt_def(id)->sql, -1, SQLITE_PREPARE_PERSISTENT,
                                    &c->stmt[id], NULL);
        if (rc != SQLITE_OK)
            return sqlite__db_err(s, c->db, rc, sqlite__stmt_name(id));
    }
    int rc = sqlite__bind(c->stmt[id], params);
    if (rc != SQLITE_OK) {
        cc_err err = sqlite__db_err(s, c->db, rc, sqlite__stmt_name(id));
        sqlite__stmt_done(c->stmt[id]);
        return err;
    }
    *out = c->stmt[id];
    return CC_OK;
}

void sqlite__stmt_done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

static void conn_close(struct conn *c)
{
    for (int i = 0; i < ST__COUNT; i++) {
        sqlite3_finalize(c->stmt[i]);
        c->stmt[i] = NULL;
    }
    for (int i = 0; i < SQL__COUNT; i++) {
        sqlite3_finalize(c->shared[i]);
        c->shared[i] = NULL;
    }
    sqlite3_close(c->db);
    c->db = NULL;
}

/* Runs a statement that is not cached (migrations, pragmas). The first
 * column of the first row, if any, goes to *out_val and *out_row is set.
 * Returns the SQLite code: SQLITE_DONE on success. */
static int one_off(sqlite3 *db, const char *sql, const struct param *params,
                   int64_t *out_val, bool *out_row)
{
    sqlite3_stmt *st = NULL;
    bool row = false;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite__bind(st, params);
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW && !row) {
            row = true;
            if (out_val)
                *out_val = sqlite3_column_int64(st, 0);
        }
    }
    if (rc == SQLITE_DONE && out_row)
        *out_row = row;
    /* Finalizing keeps the step's error message on the connection. */
    sqlite3_finalize(st);
    return rc;
}

/* ---- running statements on a held connection ------------------------- */

cc_err sqlite__query(struct sqlite_store *s, struct conn *c, enum stmt_id id,
                     const struct param *params, row_fn row, void *ctx, int64_t *out_rows)
{
    sqlite3_stmt *st = NULL;
    int64_t rows = 0;
    cc_err err = sqlite__stmt(s, c, id, params, &st);
    if (err)
        return err;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (row)
            row(st, ctx);
        rows++;
    }
    if (rc != SQLITE_DONE) {
        err = sqlite__db_err(s, c->db, rc, sqlite__stmt_name(id));
        goto out;
    }
    if (out_rows)
        *out_rows = rows;
out:
    sqlite__stmt_done(st);
    return err;
}

cc_err sqlite__exec(struct sqlite_store *s, struct conn *c, enum stmt_id id,
                    const struct param *params, struct write_result *out)
{
    sqlite3_stmt *st = NULL;
    cc_err err = sqlite__stmt(s, c, id, params, &st);
    if (err)
        return err;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        err = sqlite__db_err(s, c->db, rc, sqlite__stmt_name(id));
        goto out;
    }
    if (out) {
        out->rowid = sqlite3_last_insert_rowid(c->db);
        out->changes = sqlite3_changes(c->db);
    }
out:
    sqlite__stmt_done(st);
    return err;
}

struct first_int {
    int64_t val;
    bool found;
};

static void row_first_int(sqlite3_stmt *st, void *ctx)
{
    struct first_int *f = ctx;
    if (!f->found) {
        f->val = sqlite3_column_int64(st, 0);
        f->found = true;
    }
}

cc_err sqlite__query_int(struct sqlite_store *s, struct conn *c, enum stmt_id id,
                         const struct param *params, int64_t *out, bool *out_found)
{
    struct first_int f = {0};
    cc_err err = sqlite__query(s, c, id, params, row_first_int, &f, NULL);
    if (err)
        return err;
    if (f.found && out)
        *out = f.val;
    if (out_found)
        *out_found = f.found;
    return CC_OK;
}

cc_err sqlite__begin(struct sqlite_store *s, struct conn *c, enum stmt_id how)
{
    return sqlite__exec(s, c, how, NULL, NULL);
}

cc_err sqlite__commit(struct sqlite_store *s, struct conn *c)
{
    return sqlite__exec(s, c, ST_COMMIT, NULL, NULL);
}

void sqlite__rollback(struct conn *c)
{
    /* Some errors already rolled the transaction back. */
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- the reader pool and the two ways to run a statement ------------- */

cc_err sqlite__reader_get(struct sqlite_store *s, struct conn **out)
{
    void *c = NULL;
    cc_err err = store__pool_take(&s->pool, s->busy_ms, &c);
    if (err) {
        cc_log_warn(s->log, MOD, "no reader connection free within busy_timeout",
                    CC_LI("pool_size", s->nreaders), CC_LI("busy_timeout_ms", s->busy_ms));
        return err;
    }
    *out = c;
    return CC_OK;
}

void sqlite__reader_put(struct sqlite_store *s, struct conn *c)
{
    store__pool_put(&s->pool, c);
}

struct conn *sqlite__writer_get(struct sqlite_store *s)
{
    pthread_mutex_lock(&s->write_mu);
    return &s->writer;
}

void sqlite__writer_put(struct sqlite_store *s)
{
    pthread_mutex_unlock(&s->write_mu);
}

/* ---- the dialect of the shared SQL layer (store_sql.h) ------------- */

static struct conn *conn_of(struct store_sql_conn *c)
{
    return (struct conn *)c;
}

static cc_err dl_conn_get(struct store *st, enum store_sql_use use, struct store_sql_conn **out)
{
    struct sqlite_store *s = sqlite__from_store(st);
    struct conn *c = NULL;
    if (use == STORE_SQL_WRITE) {
        *out = (struct store_sql_conn *)sqlite__writer_get(s);
        return CC_OK;
    }
    cc_err err = sqlite__reader_get(s, &c);
    if (!err)
        *out = (struct store_sql_conn *)c;
    return err;
}

static void dl_conn_put(struct store *st, enum store_sql_use use, struct store_sql_conn *c)
{
    struct sqlite_store *s = sqlite__from_store(st);
    if (use == STORE_SQL_WRITE)
        sqlite__writer_put(s);
    else
        sqlite__reader_put(s, conn_of(c));
}

static cc_err dl_begin(struct store *st, struct store_sql_conn *c, enum store_sql_use how)
{
    return sqlite__begin(sqlite__from_store(st), conn_of(c),
                         how == STORE_SQL_WRITE ? ST_BEGIN_IMMEDIATE : ST_BEGIN);
}

static cc_err dl_commit(struct store *st, struct store_sql_conn *c)
{
    return sqlite__commit(sqlite__from_store(st), conn_of(c));
}

static void dl_rollback(struct store *st, struct store_sql_conn *c)
{
    (void)st;
    sqlite__rollback(conn_of(c));
}

static int bind_shared(sqlite3_stmt *st, const struct store_sql_param *params)
{
    int rc = SQLITE_OK;
    for (int i = 0; params && params[i].type != SQLP_END && rc == SQLITE_OK; i++) {
        const struct store_sql_param *p = &params[i];
        if (p->type == SQLP_INT)
            rc = sqlite3_bind_int64(st, i + 1, p->i);
        else if (!p->s)
            rc = sqlite3_bind_null(st, i + 1);
        else if (p->type == SQLP_TEXT)
            rc = sqlite3_bind_text(st, i + 1, p->s, -1, SQLITE_STATIC);
        else
            rc = sqlite3_bind_blob64(st, i + 1, p->s, p->n, SQLITE_STATIC);
    }
    return rc;
}

/* Shared statements are prepared once per connection, like the backend's. */
static cc_err dl_query(struct store *st, struct store_sql_conn *cc, enum store_sql_id id,
                       const struct store_sql_param *params, store_sql_row_fn row, void *ctx,
                       int64_t *out_rows)
{
    struct sqlite_store *s = sqlite__from_store(st);
    struct conn *c = conn_of(cc);
    const char *op = store__sql_name(id);
    int rc = SQLITE_OK;
    if (!c->shared[id])
        rc = sqlite3_prepare_v3(c->db, store__sql_text(id, STORE_SQL_SQLITE), -1,
                                SQLITE_PREPARE_PERSISTENT, &c->shared[id], NULL);
    if (rc != SQLITE_OK)
        return sqlite__db_err(s, c->db, rc, op);
    sqlite3_stmt *stmt = c->shared[id];
    int64_t rows = 0;
    rc = bind_shared(stmt, params);
    struct store_sql_row r = sqlite__row(stmt);
    while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (row)
            row(&r, ctx);
        rows++;
        rc = SQLITE_OK;
    }
    cc_err err = rc == SQLITE_DONE ? CC_OK : sqlite__db_err(s, c->db, rc, op);
    if (!err && out_rows)
        *out_rows = sqlite3_column_count(stmt) > 0 ? rows : sqlite3_changes(c->db);
    sqlite__stmt_done(stmt);
    return err;
}

static int64_t dl_col_int(struct store_sql_row *r, int col)
{
    return sqlite3_column_int64(r->impl, col);
}

static const char *dl_col_text(struct store_sql_row *r, int col)
{
    return sqlite__col_text(r->impl, col);
}

static const void *dl_col_blob(struct store_sql_row *r, int col, size_t *out_len)
{
    const void *p = sqlite3_column_blob(r->impl, col);
    *out_len = p ? (size_t)sqlite3_column_bytes(r->impl, col) : 0;
    return p;
}

/* No queue_lock: enqueue's BEGIN IMMEDIATE already holds the write lock. */
const struct store_sql_dialect sqlite__dialect = {
    .name = "sqlite",
    .kind = STORE_SQL_SQLITE,
    .conn_get = dl_conn_get,
    .conn_put = dl_conn_put,
    .begin = dl_begin,
    .commit = dl_commit,
    .rollback = dl_rollback,
    .query = dl_query,
    .col_int = dl_col_int,
    .col_text = dl_col_text,
    .col_blob = dl_col_blob,
};

/* ---- migrations ------------------------------------------------------ */

static cc_err schema_version(struct sqlite_store *s, int *out)
{
    int64_t v = 0;
    int rc = one_off(s->writer.db, store__sql_text(SQL_SCHEMA_VERSION, STORE_SQL_SQLITE), NULL,
                     &v, NULL);
    if (rc != SQLITE_DONE)
        return sqlite__db_err(s, s->writer.db, rc, "schema_version");
    *out = (int)v;
    return CC_OK;
}

/* Runs a migration's SQL and records it; inside migrate_one's transaction. */
static cc_err apply_migration(struct sqlite_store *s, const struct cc_embedded *m,
                              int version)
{
    sqlite3 *db = s->writer.db;
    int rc = sqlite3_exec(db, (const char *)m->data, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        cc_log_error(s->log, MOD, "migration failed; rolled back", CC_LS("migration", m->name),
                     CC_LI("code", rc), CC_LS("error", sqlite3_errmsg(db)));
        return CC_EIO;
    }
    int64_t now = cc_wall_ms(s->sql.clock);
    rc = one_off(db, "INSERT INTO schema_migrations (version, name, applied_at)"
                     " VALUES (?1, ?2, ?3)",
                 PARAMS(PI(version), PT(m->name), PI(now)), NULL, NULL);
    if (rc != SQLITE_DONE)
        return sqlite__db_err(s, db, rc, "migration record");
    cc_log_info(s->log, MOD, "migration applied", CC_LS("migration", m->name),
                CC_LI("version", version));
    return CC_OK;
}

/* Applies one migration in its own BEGIN IMMEDIATE transaction unless it
 * is already recorded; the re-check inside the transaction makes two
 * processes starting at once safe. */
static cc_err migrate_one(struct sqlite_store *s, const struct cc_embedded *m, int version)
{
    sqlite3 *db = s->writer.db;
    bool applied = false;
    cc_err err = CC_OK;
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return sqlite__db_err(s, db, rc, "migration begin");
    rc = one_off(db, "SELECT 1 FROM schema_migrations WHERE version = ?1",
                 PARAMS(PI(version)), NULL, &applied);
    if (rc != SQLITE_DONE) {
        err = sqlite__db_err(s, db, rc, "migration check");
        goto out;
    }
    if (!applied) {
        err = apply_migration(s, m, version);
        if (err)
            goto out;
    }
    rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        err = sqlite__db_err(s, db, rc, "migration commit");
out:
    if (err)
        sqlite__rollback(&s->writer);
    return err;
}

static cc_err migrate(struct sqlite_store *s)
{
    sqlite3 *db = s->writer.db;
    int current = 0;
    cc_err err = store__migrations_latest(sqlite_migrations, s->log, &s->sql.schema_latest);
    if (err)
        return err;
    int rc = sqlite3_exec(db,
                          "CREATE TABLE IF NOT EXISTS schema_migrations ("
                          " version INTEGER PRIMARY KEY,"
                          " name TEXT NOT NULL,"
                          " applied_at INTEGER NOT NULL)",
                          NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return sqlite__db_err(s, db, rc, "schema_migrations");
    err = schema_version(s, &current);
    if (!err)
        err = store__check_not_newer(s->log, s->path, current, s->sql.schema_latest);
    for (const struct cc_embedded *m = sqlite_migrations; !err && m->name; m++) {
        int v = 0;
        store__migration_version(m->name, &v);   /* checked by migrations_latest */
        if (v > current)
            err = migrate_one(s, m, v);
    }
    /* A newer binary may have migrated meanwhile from another process. */
    if (!err)
        err = schema_version(s, &current);
    if (!err)
        err = store__check_not_newer(s->log, s->path, current, s->sql.schema_latest);
    return err;
}

/* ---- opening --------------------------------------------------------- */

/* Creates the file with mode 0600 before SQLite does, so the umask cannot
 * widen it; SQLite gives -wal and -shm the main file's mode. An existing
 * file keeps its mode. */
static cc_err create_file(struct sqlite_store *s)
{
    int fd = open(s->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST)
        return CC_OK;
    if (fd < 0 || fchmod(fd, 0600) != 0) {
        char msg[128];
        if (strerror_r(errno, msg, sizeof(msg)) != 0)
            msg[0] = '\0';
        cc_log_error(s->log, MOD, "cannot create database file", CC_LS("path", s->path),
                     CC_LS("error", msg));
        if (fd >= 0)
            close(fd);
        return CC_EIO;
    }
    close(fd);
    return CC_OK;
}

/* One attempt at switching to WAL: the SQLite code, *wal set on success. */
static int try_wal(sqlite3 *db, bool *wal)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *mode = sqlite3_column_text(st, 0);
        *wal = mode && strcmp((const char *)mode, "wal") == 0;
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Switching a fresh file to WAL needs an exclusive lock, and SQLite answers
 * SQLITE_BUSY at once (no busy handler) when another process is opening the
 * same file; so retry here, within busy_timeout. */
static cc_err set_wal(struct sqlite_store *s, sqlite3 *db)
{
    struct cc_clock *clock = s->sql.clock;
    int64_t deadline = cc_mono_ms(clock) + s->busy_ms;
    bool wal = false;
    int rc;
    while ((rc = try_wal(db, &wal)) != SQLITE_OK) {
        if ((rc & 0xff) != SQLITE_BUSY || cc_mono_ms(clock) >= deadline)
            return sqlite__db_err(s, db, rc, "journal_mode");
        clock->sleep_ms(clock, 5);
    }
    if (!wal) {
        cc_log_error(s->log, MOD, "the database cannot use WAL journal mode",
                     CC_LS("path", s->path));
        return CC_EIO;
    }
    return CC_OK;
}

static cc_err set_pragmas(struct sqlite_store *s, sqlite3 *db, bool reader)
{
    cc_err err = set_wal(s, db);
    if (err)
        return err;
    int rc = sqlite3_exec(db, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON",
                          NULL, NULL, NULL);
    /* Readers map the file: pages come from the kernel's cache (docs/STORE.md). */
    if (rc == SQLITE_OK && reader)
        rc = sqlite3_exec(db, "PRAGMA query_only = ON; PRAGMA mmap_size = 268435456", NULL,
                          NULL, NULL);
    /* The writer: a 16 MiB page cache (default 2 MiB) keeps the FTS5
     * segments a merge reads back and the indexes a batch touches in memory;
     * a checkpoint every 4,000 pages (16 MiB of WAL, default 1,000) copies
     * each page that several batches rewrote once instead of every 4 MiB. */
    if (rc == SQLITE_OK && !reader)
        rc = sqlite3_exec(db, "PRAGMA cache_size = -16384; PRAGMA wal_autocheckpoint = 4000",
                          NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return sqlite__db_err(s, db, rc, "pragmas");
    return CC_OK;
}

static cc_err conn_open(struct sqlite_store *s, bool reader, struct conn *out)
{
    sqlite3 *db = NULL;
    cc_err err = CC_OK;
    int rc = sqlite3_open_v2(s->path, &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (!db)
        return CC_ENOMEM;
    if (rc != SQLITE_OK) {
        err = sqlite__db_err(s, db, rc, "open");
        goto out;
    }
    sqlite3_extended_result_codes(db, 1);
    /* Before any pragma: WAL setup itself may wait for another process. */
    sqlite3_busy_timeout(db, s->busy_ms);
    err = set_pragmas(s, db, reader);
    if (err)
        goto out;
    memset(out, 0, sizeof(*out));
    out->db = db;
    db = NULL;
out:
    sqlite3_close(db);
    return err;
}

static cc_err open_readers(struct sqlite_store *s, unsigned n)
{
    s->readers = cc_xcalloc(n, sizeof(*s->readers));
    store__pool_init(&s->pool, n, s->sql.clock);
    s->sql.pool = &s->pool;
    for (unsigned i = 0; i < n; i++) {
        cc_err err = conn_open(s, true, &s->readers[i]);
        if (err)
            return err;
        s->nreaders++;
        store__pool_put(&s->pool, &s->readers[i]);
    }
    return CC_OK;
}

static void sqlite_close(struct store *st)
{
    struct sqlite_store *s = sqlite__from_store(st);
    if (!s)
        return;
    for (unsigned i = 0; i < s->nreaders; i++)
        conn_close(&s->readers[i]);
    conn_close(&s->writer);
    free(s->readers);
    free(s->path);
    if (s->pool.idle)
        store__pool_release(&s->pool);
    pthread_mutex_destroy(&s->write_mu);
    free(s);
}

static struct sqlite_store *store_new(const struct store_cfg *cfg)
{
    struct sqlite_store *s = cc_xcalloc(1, sizeof(*s));
    s->sql.base.ops = &store_sqlite_ops;
    s->sql.dialect = &sqlite__dialect;
    s->log = cfg->log;
    s->sql.clock = cfg->clock ? cfg->clock : cc_clock_system();
    s->path = cc_xstrdup(cfg->sqlite_path);
    s->busy_ms = cfg->busy_timeout_ms < 0 ? 0
               : cfg->busy_timeout_ms > INT_MAX ? INT_MAX
               : (int)cfg->busy_timeout_ms;
    pthread_mutex_init(&s->write_mu, NULL);
    return s;
}

static cc_err sqlite_open(const struct store_cfg *cfg, struct store **out)
{
    const char *path = cfg ? cfg->sqlite_path : NULL;
    if (!path || !*path || strcmp(path, ":memory:") == 0) {
        /* One in-memory database per connection would break the pool. */
        cc_log_error(cfg ? cfg->log : NULL, MOD, "store.sqlite_path must name a file");
        return CC_EINVAL;
    }
    /* pool_size 0 still gets one reader: reads never take the writer. */
    unsigned readers = cfg->pool_size == 0 ? 1
                     : cfg->pool_size > POOL_MAX ? POOL_MAX : cfg->pool_size;
    struct sqlite_store *s = store_new(cfg);
    cc_err err = check_stmt_tables(s);
    if (!err)
        err = create_file(s);
    if (!err)
        err = conn_open(s, false, &s->writer);
    if (!err)
        err = migrate(s);
    if (!err)
        err = open_readers(s, readers);
    if (!err) {
        s->pool.on_wait = cfg->pool_wait;
        s->pool.on_wait_arg = cfg->pool_wait_arg;
    }
    if (err) {
        cc_log_error(s->log, MOD, "cannot open the sqlite store", CC_LS("path", s->path),
                     CC_LS("error", cc_err_str(err)));
        sqlite_close(&s->sql.base);
        return err;
    }
    cc_log_info(s->log, MOD, "sqlite store open", CC_LS("path", s->path),
                CC_LI("readers", readers), CC_LI("schema_version", s->sql.schema_latest));
    *out = &s->sql.base;
    return CC_OK;
}

const struct store_ops store_sqlite_ops = {
    .name = "sqlite",
    .open = sqlite_open,
    .close = sqlite_close,
    .doc_upsert = sqlite__doc_upsert,
    .search = sqlite__search,
    .vectors_put = sqlite__vectors_put,
    .vectors_missing = sqlite__vectors_missing,
    .vector_search = sqlite__vector_search,
    .job_claim = sqlite__job_claim,
    .job_claim_batch = sqlite__job_claim_batch,
    .doc_write_batch = sqlite__doc_write_batch,
    .job_enqueue_batch = store__sql_job_enqueue_batch,
    STORE_SQL_OPS,
};
