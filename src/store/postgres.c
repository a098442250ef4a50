/*
 * postgres.c - the PostgreSQL backend of the store interface (store.h),
 * through libpq.
 *
 * Concurrency model (docs/STORE.md, "PostgreSQL", has the long form):
 *   - A pool of store.pool_size connections, all opened at open(), checked
 *     out under pool_mu/pool_cv; a thread that finds none free waits up to
 *     busy_timeout, then gets CC_EAGAIN. Each connection sets lock_timeout
 *     to busy_timeout, so a row or table lock held too long by another
 *     session is CC_EAGAIN as well.
 *   - A connection found broken (server restart, network) is reset with
 *     PQreset; the call that saw it fails with CC_EIO, the next one uses
 *     the new session.
 *   - Several daemons may share one database: writes that read first run in
 *     transactions that lock what they read (FOR UPDATE, SKIP LOCKED for
 *     job claims), and migrations take an advisory lock.
 *
 * Statements are prepared lazily per connection (named "cc<id>"; the
 * shared layer's "cs<id>", their ?N rewritten to $N). User data only ever
 * reaches the server as parameters. The shared SQL layer (store_sql.h:
 * tokens, projects, events, sources, document reads, most of the job
 * queue) runs here through the dialect table defined below.
 *
 * Migrations are the files of src/store/migrations/postgres/ embedded in
 * the binary (postgres_migrations[], sorted by name); see migrate().
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/embedded.h"
#include "core/log.h"
#include "store/postgres_int.h"
#include "store/store.h"

#define MOD "store"

extern const struct store_ops store_postgres_ops;   /* defined at the end */
#define POOL_MAX 64u
#define PARAMS_MAX 32
#define SHARED_SQL_MAX 4096            /* a shared statement, rewritten to $N */

static const struct pg_stmt_def *const stmt_tables[] = {
    pg__job_stmts,
    pg__vector_stmts,
    pg__ingest_stmts,
    pg__search_stmts,
};
#define NTABLES (sizeof(stmt_tables) / sizeof(stmt_tables[0]))

static const struct pg_stmt_def *stmt_def(enum pg_stmt_id id)
{
    for (size_t t = 0; t < NTABLES; t++) {
        if (stmt_tables[t][id].sql)
            return &stmt_tables[t][id];
    }
    return NULL;
}

static const char *stmt_name(enum pg_stmt_id id)
{
    const struct pg_stmt_def *def = stmt_def(id);
    return def ? def->name : "?";
}

static cc_err check_stmt_tables(struct pg_store *s)
{
    for (int id = 0; id < PS__COUNT; id++) {
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

/* ---- rows ------------------------------------------------------------ */

const char *pg__text(const struct pg_row *r, int col)
{
    if (PQgetisnull(r->res, r->row, col))
        return NULL;
    return PQgetvalue(r->res, r->row, col);
}

int64_t pg__int(const struct pg_row *r, int col)
{
    const char *v = pg__text(r, col);
    if (!v)
        return 0;
    if (v[0] == 't' && v[1] == '\0')
        return 1;                      /* boolean true */
    return strtoll(v, NULL, 10);
}

double pg__double(const struct pg_row *r, int col)
{
    const char *v = pg__text(r, col);
    return v ? strtod(v, NULL) : 0.0;
}

unsigned char *pg__bytea(const struct pg_row *r, int col, size_t *out_len)
{
    *out_len = 0;
    const char *v = pg__text(r, col);
    if (!v)
        return NULL;
    size_t n = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)v, &n);
    if (!raw)
        return NULL;
    unsigned char *out = cc_xmalloc(n ? n : 1);
    memcpy(out, raw, n);
    PQfreemem(raw);
    *out_len = n;
    return out;
}

/* ---- errors ---------------------------------------------------------- */

static void conn_forget_prepared(struct pg_conn *c)
{
    memset(c->prepared, 0, sizeof(c->prepared));
    memset(c->shared_prepared, 0, sizeof(c->shared_prepared));
}

static cc_err conn_setup(struct pg_store *s, struct pg_conn *c);

/* A connection that went bad is reset at once, so the next user gets a
 * working session (or the reset's error). */
static void conn_check(struct pg_store *s, struct pg_conn *c)
{
    if (PQstatus(c->pg) == CONNECTION_OK)
        return;
    cc_log_warn(s->log, MOD, "postgres connection lost; resetting",
                CC_LS("error", PQerrorMessage(c->pg)));
    conn_forget_prepared(c);
    PQreset(c->pg);
    if (PQstatus(c->pg) != CONNECTION_OK) {
        cc_log_error(s->log, MOD, "postgres connection reset failed",
                     CC_LS("error", PQerrorMessage(c->pg)));
        return;
    }
    if (conn_setup(s, c) != CC_OK)
        cc_log_error(s->log, MOD, "postgres session setup failed after reset");
}

cc_err pg__err(struct pg_store *s, struct pg_conn *c, PGresult *res, const char *op)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : "";
    if (!msg || !*msg)
        msg = PQerrorMessage(c->pg);
    if (!state || PQstatus(c->pg) != CONNECTION_OK) {
        cc_log_error(s->log, MOD, "postgres error", CC_LS("op", op), CC_LS("error", msg));
        conn_check(s, c);
        return CC_EIO;
    }
    if (strcmp(state, "23505") == 0) {
        cc_log_debug(s->log, MOD, "unique key conflict", CC_LS("op", op));
        return CC_ECONFLICT;
    }
    if (strcmp(state, "23503") == 0) {
        cc_log_debug(s->log, MOD, "foreign key refers to no row", CC_LS("op", op));
        return CC_ENOTFOUND;
    }
    /* check, not null, and data exceptions (text that is not valid UTF-8). */
    if (strcmp(state, "23514") == 0 || strcmp(state, "23502") == 0 ||
        strncmp(state, "22", 2) == 0) {
        cc_log_debug(s->log, MOD, "value refused", CC_LS("op", op), CC_LS("sqlstate", state),
                     CC_LS("error", msg));
        return CC_EINVAL;
    }
    /* lock_timeout, deadlock, serialization failure, lock not available */
    if (strcmp(state, "55P03") == 0 || strcmp(state, "40P01") == 0 ||
        strcmp(state, "40001") == 0) {
        cc_log_warn(s->log, MOD, "database busy past busy_timeout", CC_LS("op", op),
                    CC_LI("busy_timeout_ms", s->busy_ms), CC_LS("sqlstate", state),
                    CC_LS("error", msg));
        return CC_EAGAIN;
    }
    if (strcmp(state, "53100") == 0 || strcmp(state, "53200") == 0) {
        cc_log_error(s->log, MOD, "postgres out of resources", CC_LS("op", op),
                     CC_LS("error", msg));
        return CC_ENOMEM;
    }
    cc_log_error(s->log, MOD, "postgres error", CC_LS("op", op), CC_LS("sqlstate", state),
                 CC_LS("error", msg));
    return CC_EIO;
}

/* ---- statements ------------------------------------------------------ */

static cc_err prepare_named(struct pg_store *s, struct pg_conn *c, const char *name,
                            const char *sql, const char *op, bool *prepared)
{
    if (*prepared)
        return CC_OK;
    PGresult *res = PQprepare(c->pg, name, sql, 0, NULL);
    cc_err err = CC_OK;
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        err = pg__err(s, c, res, op);
    else
        *prepared = true;
    PQclear(res);
    return err;
}

/* Runs the prepared statement `name`; *out (the caller clears it) gets the
 * result of a statement that returned rows or completed. */
static cc_err exec_named(struct pg_store *s, struct pg_conn *c, const char *name,
                         const char *op, const struct pg_param *params, PGresult **out)
{
    const char *values[PARAMS_MAX];
    int lengths[PARAMS_MAX], formats[PARAMS_MAX];
    char nums[PARAMS_MAX][32];
    int n = 0;
    for (; params && params[n].type != PGP_END; n++) {
        const struct pg_param *p = &params[n];
        if (n == PARAMS_MAX)
            return CC_EINVAL;          /* a defect in the caller */
        formats[n] = 0;
        lengths[n] = 0;
        if (p->type == PGP_INT) {
            snprintf(nums[n], sizeof(nums[n]), "%" PRId64, p->i);
            values[n] = nums[n];
        } else if (p->type == PGP_DOUBLE) {
            snprintf(nums[n], sizeof(nums[n]), "%.17g", p->d);
            values[n] = nums[n];
        } else if (p->type == PGP_BLOB) {
            if (p->n > INT_MAX)
                return CC_EINVAL;
            values[n] = p->s ? p->s : NULL;
            lengths[n] = (int)p->n;
            formats[n] = 1;
            if (p->s && p->n == 0)
                values[n] = "";
        } else {
            values[n] = p->s;
        }
    }
    PGresult *res = PQexecPrepared(c->pg, name, n, values, lengths, formats, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        cc_err err = pg__err(s, c, res, op);
        PQclear(res);
        return err;
    }
    *out = res;
    return CC_OK;
}

/* Rows returned, or for a command without RETURNING the rows it changed. */
static int64_t result_rows(PGresult *res)
{
    if (PQresultStatus(res) == PGRES_TUPLES_OK)
        return PQntuples(res);
    const char *t = PQcmdTuples(res);
    return t && *t ? strtoll(t, NULL, 10) : 0;
}

cc_err pg__query(struct pg_store *s, struct pg_conn *c, enum pg_stmt_id id,
                 const struct pg_param *params, pg_row_fn row, void *ctx, int64_t *out_rows)
{
    char name[16];
    PGresult *res = NULL;
    snprintf(name, sizeof(name), "cc%d", (int)id);
    cc_err err = prepare_named(s, c, name, stmt_def(id)->sql, stmt_name(id), &c->prepared[id]);
    if (!err)
        err = exec_named(s, c, name, stmt_name(id), params, &res);
    if (err)
        return err;
    int rows = PQresultStatus(res) == PGRES_TUPLES_OK ? PQntuples(res) : 0;
    for (int i = 0; row && i < rows; i++) {
        struct pg_row r = {.res = res, .row = i};
        row(&r, ctx);
    }
    if (out_rows)
        *out_rows = result_rows(res);
    PQclear(res);
    return CC_OK;
}

struct first_int {
    int64_t val;
    bool found;
};

static void row_first_int(const struct pg_row *r, void *ctx)
{
    struct first_int *f = ctx;
    if (!f->found) {
        f->val = pg__int(r, 0);
        f->found = true;
    }
}

cc_err pg__query_int(struct pg_store *s, struct pg_conn *c, enum pg_stmt_id id,
                     const struct pg_param *params, int64_t *out, bool *out_found)
{
    struct first_int f = {0};
    cc_err err = pg__query(s, c, id, params, row_first_int, &f, NULL);
    if (err)
        return err;
    if (f.found && out)
        *out = f.val;
    if (out_found)
        *out_found = f.found;
    return CC_OK;
}

cc_err pg__exec_sql(struct pg_store *s, struct pg_conn *c, const char *sql, const char *op)
{
    PGresult *res = PQexec(c->pg, sql);
    ExecStatusType st = PQresultStatus(res);
    cc_err err = CC_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        err = pg__err(s, c, res, op);
    PQclear(res);
    return err;
}

cc_err pg__begin(struct pg_store *s, struct pg_conn *c)
{
    return pg__exec_sql(s, c, "BEGIN", "begin");
}

cc_err pg__begin_read(struct pg_store *s, struct pg_conn *c)
{
    return pg__exec_sql(s, c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "begin");
}

cc_err pg__commit(struct pg_store *s, struct pg_conn *c)
{
    return pg__exec_sql(s, c, "COMMIT", "commit");
}

void pg__rollback(struct pg_store *s, struct pg_conn *c)
{
    if (PQstatus(c->pg) != CONNECTION_OK)
        return;
    if (PQtransactionStatus(c->pg) == PQTRANS_IDLE)
        return;
    PGresult *res = PQexec(c->pg, "ROLLBACK");
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        cc_log_warn(s->log, MOD, "rollback failed", CC_LS("error", PQerrorMessage(c->pg)));
    PQclear(res);
}

/* ---- the pool -------------------------------------------------------- */

cc_err pg__conn_get(struct pg_store *s, struct pg_conn **out)
{
    void *c = NULL;
    cc_err err = store__pool_take(&s->pool, s->busy_ms, &c);
    if (err) {
        cc_log_warn(s->log, MOD, "no database connection free within busy_timeout",
                    CC_LI("pool_size", s->nconns), CC_LI("busy_timeout_ms", s->busy_ms));
        return err;
    }
    *out = c;
    /* A connection that broke while idle gets one reset attempt here. */
    conn_check(s, *out);
    return CC_OK;
}

void pg__conn_put(struct pg_store *s, struct pg_conn *c)
{
    /* Never hand on a connection inside a transaction. */
    pg__rollback(s, c);
    store__pool_put(&s->pool, c);
}

cc_err pg__run(struct pg_store *s, enum pg_stmt_id id, const struct pg_param *params,
               pg_row_fn row, void *ctx, int64_t *out_rows)
{
    struct pg_conn *c = NULL;
    cc_err err = pg__conn_get(s, &c);
    if (err)
        return err;
    err = pg__query(s, c, id, params, row, ctx, out_rows);
    pg__conn_put(s, c);
    return err;
}

/* ---- the dialect of the shared SQL layer (store_sql.h) ------------- */

static struct pg_conn *conn_of(struct store_sql_conn *c)
{
    return (struct pg_conn *)c;
}

/* Every connection of the pool reads and writes. */
static cc_err dl_conn_get(struct store *st, enum store_sql_use use, struct store_sql_conn **out)
{
    struct pg_conn *c = NULL;
    (void)use;
    cc_err err = pg__conn_get(pg__from_store(st), &c);
    if (!err)
        *out = (struct store_sql_conn *)c;
    return err;
}

static void dl_conn_put(struct store *st, enum store_sql_use use, struct store_sql_conn *c)
{
    (void)use;
    pg__conn_put(pg__from_store(st), conn_of(c));
}

static cc_err dl_begin(struct store *st, struct store_sql_conn *c, enum store_sql_use how)
{
    struct pg_store *s = pg__from_store(st);
    return how == STORE_SQL_WRITE ? pg__begin(s, conn_of(c)) : pg__begin_read(s, conn_of(c));
}

static cc_err dl_commit(struct store *st, struct store_sql_conn *c)
{
    return pg__commit(pg__from_store(st), conn_of(c));
}

static void dl_rollback(struct store *st, struct store_sql_conn *c)
{
    pg__rollback(pg__from_store(st), conn_of(c));
}

/* Shared statements are prepared as "cs<id>", their ?N rewritten to $N. */
static cc_err dl_query(struct store *st, struct store_sql_conn *cc, enum store_sql_id id,
                       const struct store_sql_param *params, store_sql_row_fn row, void *ctx,
                       int64_t *out_rows)
{
    struct pg_store *s = pg__from_store(st);
    struct pg_conn *c = conn_of(cc);
    const char *op = store__sql_name(id);
    struct pg_param qp[PARAMS_MAX + 1];
    char name[16], sql[SHARED_SQL_MAX];
    PGresult *res = NULL;
    size_t n = 0;
    for (; params && params[n].type != SQLP_END; n++) {
        if (n == PARAMS_MAX)
            return CC_EINVAL;          /* a defect in the caller */
        const struct store_sql_param *p = &params[n];
        qp[n] = (struct pg_param){.type = p->type == SQLP_INT    ? PGP_INT
                                          : p->type == SQLP_TEXT ? PGP_TEXT
                                                                 : PGP_BLOB,
                                  .i = p->i, .s = p->s, .n = p->n};
    }
    qp[n] = (struct pg_param){.type = PGP_END};
    snprintf(name, sizeof(name), "cs%d", (int)id);
    cc_err err = CC_OK;
    if (!c->shared_prepared[id]) {
        err = store__sql_placeholders(store__sql_text(id, STORE_SQL_POSTGRES), sql, sizeof(sql));
        if (err)
            cc_log_error(s->log, MOD, "shared statement too long", CC_LS("op", op));
        if (!err)
            err = prepare_named(s, c, name, sql, op, &c->shared_prepared[id]);
    }
    if (!err)
        err = exec_named(s, c, name, op, qp, &res);
    if (err)
        return err;
    int rows = PQresultStatus(res) == PGRES_TUPLES_OK ? PQntuples(res) : 0;
    for (int i = 0; row && i < rows; i++) {
        struct store_sql_row r = {.d = &pg__dialect, .impl = res, .row = i};
        row(&r, ctx);
        free(r.blob);
    }
    if (out_rows)
        *out_rows = result_rows(res);
    PQclear(res);
    return CC_OK;
}

static int64_t dl_col_int(struct store_sql_row *r, int col)
{
    return pg__int(&(struct pg_row){.res = r->impl, .row = r->row}, col);
}

static const char *dl_col_text(struct store_sql_row *r, int col)
{
    return pg__text(&(struct pg_row){.res = r->impl, .row = r->row}, col);
}

/* Decoded into r->blob, which the row's reader frees: one blob per row. */
static const void *dl_col_blob(struct store_sql_row *r, int col, size_t *out_len)
{
    free(r->blob);
    r->blob = pg__bytea(&(struct pg_row){.res = r->impl, .row = r->row}, col, out_len);
    return r->blob;
}

const struct store_sql_dialect pg__dialect = {
    .name = "postgres",
    .kind = STORE_SQL_POSTGRES,
    .conn_get = dl_conn_get,
    .conn_put = dl_conn_put,
    .begin = dl_begin,
    .commit = dl_commit,
    .rollback = dl_rollback,
    .query = dl_query,
    .col_int = dl_col_int,
    .col_text = dl_col_text,
    .col_blob = dl_col_blob,
    .queue_lock = pg__queue_lock,
};

/* ---- connections ----------------------------------------------------- */

/* Session settings, after connecting and after every reset: lock waits end
 * at busy_timeout (CC_EAGAIN), times are integers so the zone is moot, and
 * notices (e.g. "relation already exists, skipping") are not printed. */
static cc_err conn_setup(struct pg_store *s, struct pg_conn *c)
{
    char sql[160];
    snprintf(sql, sizeof(sql),
             "SET lock_timeout = %d; SET client_min_messages = warning;"
             " SET plan_cache_mode = force_custom_plan;"
             " SET client_encoding = 'UTF8'",
             s->busy_ms);
    return pg__exec_sql(s, c, sql, "session setup");
}

static void notice_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static cc_err conn_open(struct pg_store *s, struct pg_conn *c)
{
    memset(c, 0, sizeof(*c));
    c->pg = PQconnectdb(s->dsn);
    if (!c->pg)
        return CC_ENOMEM;
    if (PQstatus(c->pg) != CONNECTION_OK) {
        cc_log_error(s->log, MOD, "cannot connect to postgres (check store.postgres_dsn)",
                     CC_LS("error", PQerrorMessage(c->pg)));
        return CC_EIO;
    }
    PQsetNoticeProcessor(c->pg, notice_quiet, NULL);
    cc_err err = conn_setup(s, c);
    if (!err)
        err = pg__fts_open(s, c);
    return err;
}

static void conn_close(struct pg_conn *c)
{
    pg__fts_close(c);
    if (c->pg)
        PQfinish(c->pg);
    c->pg = NULL;
}

/* ---- migrations ------------------------------------------------------ */

static void row_version(struct store_sql_row *r, void *ctx)
{
    *(int *)ctx = (int)store__sql_int(r, 0);
}

static cc_err schema_version(struct pg_store *s, struct pg_conn *c, int *out)
{
    return pg__dialect.query(&s->sql.base, (struct store_sql_conn *)c, SQL_SCHEMA_VERSION, NULL,
                             row_version, out, NULL);
}

/* Applies one migration in its own transaction, re-checking inside it. */
static cc_err migrate_one(struct pg_store *s, struct pg_conn *c, const struct cc_embedded *m,
                          int version)
{
    char vtext[16], now[32];
    snprintf(vtext, sizeof(vtext), "%d", version);
    snprintf(now, sizeof(now), "%" PRId64, cc_wall_ms(s->sql.clock));
    cc_err err = pg__begin(s, c);
    if (err)
        return err;
    const char *check_params[] = {vtext};
    PGresult *res = PQexecParams(c->pg, "SELECT 1 FROM schema_migrations WHERE version = $1",
                                 1, NULL, check_params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        err = pg__err(s, c, res, "migration check");
        PQclear(res);
        goto out;
    }
    bool applied = PQntuples(res) > 0;
    PQclear(res);
    if (!applied) {
        res = PQexec(c->pg, (const char *)m->data);
        ExecStatusType st = PQresultStatus(res);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            cc_log_error(s->log, MOD, "migration failed; rolled back",
                         CC_LS("migration", m->name), CC_LS("error", PQresultErrorMessage(res)));
            PQclear(res);
            err = CC_EIO;
            goto out;
        }
        PQclear(res);
        const char *rec_params[] = {vtext, m->name, now};
        res = PQexecParams(c->pg,
                           "INSERT INTO schema_migrations (version, name, applied_at)"
                           " VALUES ($1, $2, $3)",
                           3, NULL, rec_params, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            err = pg__err(s, c, res, "migration record");
        PQclear(res);
        if (err)
            goto out;
        cc_log_info(s->log, MOD, "migration applied", CC_LS("migration", m->name),
                    CC_LI("version", version));
    }
    err = pg__commit(s, c);
out:
    if (err)
        pg__rollback(s, c);
    return err;
}

/* Under a session advisory lock keyed by the schema, so two daemons
 * starting at once on one database migrate one after the other. */
static cc_err migrate(struct pg_store *s, struct pg_conn *c)
{
    int current = 0;
    cc_err err = store__migrations_latest(postgres_migrations, s->log, &s->sql.schema_latest);
    if (err)
        return err;
    err = pg__exec_sql(s, c,
                       "SELECT pg_advisory_lock(hashtext('commandcenter.migrate.'"
                       " || current_schema()))",
                       "migration lock");
    if (err)
        return err;
    err = pg__exec_sql(s, c,
                       "CREATE TABLE IF NOT EXISTS schema_migrations ("
                       " version INTEGER PRIMARY KEY,"
                       " name TEXT NOT NULL,"
                       " applied_at BIGINT NOT NULL)",
                       "schema_migrations");
    if (!err)
        err = schema_version(s, c, &current);
    if (!err)
        err = store__check_not_newer(s->log, NULL, current, s->sql.schema_latest);
    for (const struct cc_embedded *m = postgres_migrations; !err && m->name; m++) {
        int v = 0;
        store__migration_version(m->name, &v);
        if (v > current)
            err = migrate_one(s, c, m, v);
    }
    if (!err)
        err = schema_version(s, c, &current);
    if (!err)
        err = store__check_not_newer(s->log, NULL, current, s->sql.schema_latest);
    if (PQstatus(c->pg) == CONNECTION_OK) {
        pg__rollback(s, c);
        cc_err unlock = pg__exec_sql(s, c,
                                     "SELECT pg_advisory_unlock(hashtext("
                                     "'commandcenter.migrate.' || current_schema()))",
                                     "migration unlock");
        if (!err)
            err = unlock;
    }
    return err;
}

/* ---- open/close ------------------------------------------------------ */

static void pg_close(struct store *st)
{
    struct pg_store *s = pg__from_store(st);
    if (!s)
        return;
    for (unsigned i = 0; i < s->nconns; i++)
        conn_close(&s->conns[i]);
    free(s->conns);
    free(s->dsn);
    store__pool_release(&s->pool);
    free(s);
}

static cc_err pg_open(const struct store_cfg *cfg, struct store **out)
{
    if (!cfg || !cfg->postgres_dsn || !*cfg->postgres_dsn) {
        cc_log_error(cfg ? cfg->log : NULL, MOD,
                     "store.driver is postgres but store.postgres_dsn is empty; set it to a"
                     " libpq connection string (\"host=... dbname=...\" or postgresql://...)");
        return CC_EINVAL;
    }
    const char *why = pg__lib_load();
    if (why) {
        cc_log_error(cfg->log, MOD, "the PostgreSQL store needs libpq", CC_LS("error", why));
        return CC_EUNSUPPORTED;
    }
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse(cfg->postgres_dsn, &errmsg);
    if (!opts) {
        cc_log_error(cfg->log, MOD, "store.postgres_dsn is not a valid connection string",
                     CC_LS("error", errmsg ? errmsg : "out of memory"));
        PQfreemem(errmsg);
        return CC_EINVAL;
    }
    PQconninfoFree(opts);
    unsigned n = cfg->pool_size == 0 ? 1 : cfg->pool_size > POOL_MAX ? POOL_MAX : cfg->pool_size;
    struct pg_store *s = cc_xcalloc(1, sizeof(*s));
    s->sql.base.ops = &store_postgres_ops;
    s->sql.dialect = &pg__dialect;
    s->log = cfg->log;
    s->dsn = cc_xstrdup(cfg->postgres_dsn);
    s->busy_ms = cfg->busy_timeout_ms < 0 ? 0
               : cfg->busy_timeout_ms > INT_MAX ? INT_MAX
               : (int)cfg->busy_timeout_ms;
    s->sql.clock = cfg->clock ? cfg->clock : cc_clock_system();
    store__pool_init(&s->pool, n, s->sql.clock);
    s->pool.on_wait = cfg->pool_wait;
    s->pool.on_wait_arg = cfg->pool_wait_arg;
    s->sql.pool = &s->pool;
    s->conns = cc_xcalloc(n, sizeof(*s->conns));
    cc_err err = check_stmt_tables(s);
    for (unsigned i = 0; !err && i < n; i++) {
        err = conn_open(s, &s->conns[i]);
        s->nconns++;                   /* closed by pg_close even when half open */
        if (!err)
            store__pool_put(&s->pool, &s->conns[i]);
    }
    if (!err)
        err = migrate(s, &s->conns[0]);
    if (err) {
        cc_log_error(s->log, MOD, "cannot open the postgres store",
                     CC_LS("error", cc_err_str(err)));
        pg_close(&s->sql.base);
        return err;
    }
    cc_log_info(s->log, MOD, "postgres store open", CC_LI("connections", n),
                CC_LI("schema_version", s->sql.schema_latest));
    *out = &s->sql.base;
    return CC_OK;
}

const struct store_ops store_postgres_ops = {
    .name = "postgres",
    .open = pg_open,
    .close = pg_close,
    .doc_upsert = pg__doc_upsert,
    .search = pg__search,
    .vectors_put = pg__vectors_put,
    .vectors_missing = pg__vectors_missing,
    .vector_search = pg__vector_search,
    .job_claim = pg__job_claim,
    .job_enqueue_batch = store__sql_job_enqueue_batch,
    .job_claim_batch = pg__job_claim_batch,
    .doc_write_batch = pg__doc_write_batch,
    STORE_SQL_OPS,
};
