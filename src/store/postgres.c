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
 * Statements are prepared lazily per connection (named "cc<id>"). User data
 * only ever reaches the server as parameters.
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
#define TOKEN_NAME_MAX 64
#define TOKEN_HASH_LEN 64
#define PARAMS_MAX 32

#define TOKEN_COLS "id, name, hash, scope, created_ms, last_used_ms"
#define PROJECT_COLS "id, name, compose_path, spec_json, state, created_ms, updated_ms"
#define EVENT_COLS "id, ts_ms, kind, project, service, message"

const struct pg_stmt_def pg__core_stmts[PS__COUNT] = {
    [PS_PING] = {"ping", "SELECT 1"},
    [PS_SCHEMA_VERSION] = {"schema_version",
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"},
    [PS_TOKEN_INSERT] = {"token_insert",
        "INSERT INTO tokens (name, hash, scope, created_ms, last_used_ms)"
        " VALUES ($1, $2, $3, $4, $5) RETURNING id"},
    [PS_TOKEN_LIST] = {"token_list", "SELECT " TOKEN_COLS " FROM tokens ORDER BY id"},
    [PS_TOKEN_DELETE] = {"token_delete", "DELETE FROM tokens WHERE id = $1"},
    [PS_TOKEN_TOUCH] = {"token_touch", "UPDATE tokens SET last_used_ms = $2 WHERE id = $1"},
    [PS_PROJECT_INSERT] = {"project_insert",
        "INSERT INTO projects (name, compose_path, spec_json, state, created_ms, updated_ms)"
        " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id"},
    [PS_PROJECT_UPDATE] = {"project_update",
        "UPDATE projects SET name = $2, compose_path = $3, spec_json = $4, state = $5,"
        " updated_ms = $6 WHERE id = $1"},
    [PS_PROJECT_GET] = {"project_get",
        "SELECT " PROJECT_COLS " FROM projects WHERE name = $1"},
    [PS_PROJECT_LIST] = {"project_list",
        "SELECT " PROJECT_COLS " FROM projects ORDER BY name COLLATE \"C\""},
    [PS_PROJECT_DELETE] = {"project_delete", "DELETE FROM projects WHERE name = $1"},
    [PS_EVENT_APPEND] = {"event_append",
        "INSERT INTO events (ts_ms, kind, project, service, message)"
        " VALUES ($1, $2, $3, $4, $5) RETURNING id"},
    [PS_EVENT_LIST] = {"event_list",
        "SELECT " EVENT_COLS " FROM events WHERE id > $1 ORDER BY id LIMIT $2"},
    [PS_EVENT_PRUNE] = {"event_prune", "DELETE FROM events WHERE ts_ms < $1"},
};

static const struct pg_stmt_def *const stmt_tables[] = {
    pg__core_stmts,
    pg__knowledge_stmts,
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

static cc_err prepare(struct pg_store *s, struct pg_conn *c, enum pg_stmt_id id)
{
    if (c->prepared[id])
        return CC_OK;
    char name[16];
    snprintf(name, sizeof(name), "cc%d", (int)id);
    PGresult *res = PQprepare(c->pg, name, stmt_def(id)->sql, 0, NULL);
    cc_err err = CC_OK;
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        err = pg__err(s, c, res, stmt_name(id));
    else
        c->prepared[id] = true;
    PQclear(res);
    return err;
}

cc_err pg__query(struct pg_store *s, struct pg_conn *c, enum pg_stmt_id id,
                 const struct pg_param *params, pg_row_fn row, void *ctx, int64_t *out_rows)
{
    const char *values[PARAMS_MAX];
    int lengths[PARAMS_MAX], formats[PARAMS_MAX];
    char nums[PARAMS_MAX][32];
    int n = 0;
    cc_err err = prepare(s, c, id);
    if (err)
        return err;
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
    char name[16];
    snprintf(name, sizeof(name), "cc%d", (int)id);
    PGresult *res = PQexecPrepared(c->pg, name, n, values, lengths, formats, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_TUPLES_OK) {
        int rows = PQntuples(res);
        for (int i = 0; row && i < rows; i++) {
            struct pg_row r = {.res = res, .row = i};
            row(&r, ctx);
        }
        if (out_rows)
            *out_rows = rows;
    } else if (st == PGRES_COMMAND_OK) {
        if (out_rows) {
            const char *t = PQcmdTuples(res);
            *out_rows = t && *t ? strtoll(t, NULL, 10) : 0;
        }
    } else {
        err = pg__err(s, c, res, stmt_name(id));
    }
    PQclear(res);
    return err;
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
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += s->busy_ms / 1000;
    deadline.tv_nsec += (long)(s->busy_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    cc_err err = CC_OK;
    pthread_mutex_lock(&s->pool_mu);
    while (s->nidle == 0 && !err) {
        if (pthread_cond_timedwait(&s->pool_cv, &s->pool_mu, &deadline) == ETIMEDOUT &&
            s->nidle == 0)
            err = CC_EAGAIN;
    }
    if (!err)
        *out = s->idle[--s->nidle];
    pthread_mutex_unlock(&s->pool_mu);
    if (err) {
        cc_log_warn(s->log, MOD, "no database connection free within busy_timeout",
                    CC_LI("pool_size", s->nconns), CC_LI("busy_timeout_ms", s->busy_ms));
        return err;
    }
    /* A connection that broke while idle gets one reset attempt here. */
    conn_check(s, *out);
    return CC_OK;
}

void pg__conn_put(struct pg_store *s, struct pg_conn *c)
{
    /* Never hand on a connection inside a transaction. */
    pg__rollback(s, c);
    pthread_mutex_lock(&s->pool_mu);
    s->idle[s->nidle++] = c;
    pthread_cond_signal(&s->pool_cv);
    pthread_mutex_unlock(&s->pool_mu);
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

cc_err pg__run_one(struct pg_store *s, enum pg_stmt_id id, const struct pg_param *params)
{
    int64_t rows = 0;
    cc_err err = pg__run(s, id, params, NULL, NULL, &rows);
    if (!err && rows == 0)
        err = CC_ENOTFOUND;
    return err;
}

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

static cc_err parse_version(const char *name, int *out)
{
    int v = 0;
    size_t i = 0;
    for (; name[i] >= '0' && name[i] <= '9'; i++) {
        int d = name[i] - '0';
        if (v > (INT_MAX - d) / 10)
            return CC_EINVAL;
        v = v * 10 + d;
    }
    if (i == 0 || name[i] != '_' || v == 0)
        return CC_EINVAL;
    *out = v;
    return CC_OK;
}

static cc_err migrations_latest(struct pg_store *s, int *out)
{
    int prev = 0;
    for (const struct cc_embedded *m = postgres_migrations; m->name; m++) {
        int v = 0;
        if (parse_version(m->name, &v) != CC_OK || v <= prev) {
            cc_log_error(s->log, MOD, "embedded migration has a bad or duplicate version",
                         CC_LS("migration", m->name));
            return CC_EINVAL;
        }
        prev = v;
    }
    *out = prev;
    return CC_OK;
}

static cc_err schema_version(struct pg_store *s, struct pg_conn *c, int *out)
{
    int64_t v = 0;
    cc_err err = pg__query_int(s, c, PS_SCHEMA_VERSION, NULL, &v, NULL);
    if (!err)
        *out = (int)v;
    return err;
}

static cc_err check_not_newer(struct pg_store *s, int db_version)
{
    if (db_version <= s->schema_latest)
        return CC_OK;
    cc_log_error(s->log, MOD,
                 "database schema is newer than this binary; upgrade commandcenter "
                 "(migrations are forward-only)",
                 CC_LI("db_version", db_version), CC_LI("binary_latest", s->schema_latest));
    return CC_ESTATE;
}

/* Applies one migration in its own transaction, re-checking inside it. */
static cc_err migrate_one(struct pg_store *s, struct pg_conn *c, const struct cc_embedded *m,
                          int version)
{
    char vtext[16], now[32];
    snprintf(vtext, sizeof(vtext), "%d", version);
    snprintf(now, sizeof(now), "%" PRId64, cc_wall_ms(cc_clock_system()));
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
    cc_err err = migrations_latest(s, &s->schema_latest);
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
        err = check_not_newer(s, current);
    for (const struct cc_embedded *m = postgres_migrations; !err && m->name; m++) {
        int v = 0;
        parse_version(m->name, &v);
        if (v > current)
            err = migrate_one(s, c, m, v);
    }
    if (!err)
        err = schema_version(s, c, &current);
    if (!err)
        err = check_not_newer(s, current);
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
    free(s->idle);
    free(s->dsn);
    pthread_cond_destroy(&s->pool_cv);
    pthread_mutex_destroy(&s->pool_mu);
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
    s->base.ops = &store_postgres_ops;
    s->log = cfg->log;
    s->dsn = cc_xstrdup(cfg->postgres_dsn);
    s->busy_ms = cfg->busy_timeout_ms < 0 ? 0
               : cfg->busy_timeout_ms > INT_MAX ? INT_MAX
               : (int)cfg->busy_timeout_ms;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->pool_cv, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&s->pool_mu, NULL);
    s->conns = cc_xcalloc(n, sizeof(*s->conns));
    s->idle = cc_xcalloc(n, sizeof(*s->idle));
    cc_err err = check_stmt_tables(s);
    for (unsigned i = 0; !err && i < n; i++) {
        err = conn_open(s, &s->conns[i]);
        s->nconns++;                   /* closed by pg_close even when half open */
        if (!err)
            s->idle[s->nidle++] = &s->conns[i];
    }
    if (!err)
        err = migrate(s, &s->conns[0]);
    if (err) {
        cc_log_error(s->log, MOD, "cannot open the postgres store",
                     CC_LS("error", cc_err_str(err)));
        pg_close(&s->base);
        return err;
    }
    cc_log_info(s->log, MOD, "postgres store open", CC_LI("connections", n),
                CC_LI("schema_version", s->schema_latest));
    *out = &s->base;
    return CC_OK;
}

/* ---- ops: health ----------------------------------------------------- */

static cc_err pg_ping(struct store *st)
{
    return pg__run(pg__from_store(st), PS_PING, NULL, NULL, NULL, NULL);
}

static cc_err pg_info(struct store *st, struct store_info *out)
{
    struct pg_store *s = pg__from_store(st);
    struct first_int f = {0};
    cc_err err = pg__run(s, PS_SCHEMA_VERSION, NULL, row_first_int, &f, NULL);
    if (err)
        return err;
    out->driver = store_postgres_ops.name;
    out->schema_version = (int)f.val;
    out->schema_latest = s->schema_latest;
    return CC_OK;
}

/* ---- ops: tokens ----------------------------------------------------- */

static bool token_valid(const struct store_token *t)
{
    if (!t || !t->name || !t->hash || !t->scope)
        return false;
    size_t n = strlen(t->name);
    if (n == 0 || n > TOKEN_NAME_MAX || strlen(t->hash) != TOKEN_HASH_LEN)
        return false;
    return strcmp(t->scope, "read") == 0 || strcmp(t->scope, "admin") == 0;
}

/* An INSERT ... RETURNING id on a pooled connection. */
static cc_err insert_returning(struct pg_store *s, enum pg_stmt_id id,
                               const struct pg_param *params, int64_t *out_id)
{
    struct first_int f = {0};
    cc_err err = pg__run(s, id, params, row_first_int, &f, NULL);
    if (!err && out_id)
        *out_id = f.val;
    return err;
}

static cc_err pg_token_insert(struct store *st, const struct store_token *t, int64_t *out_id)
{
    if (!token_valid(t))
        return CC_EINVAL;
    return insert_returning(pg__from_store(st), PS_TOKEN_INSERT,
                            QPARAMS(QT(t->name), QT(t->hash), QT(t->scope), QI(t->created_ms),
                                    QI(t->last_used_ms)),
                            out_id);
}

struct token_ctx {
    store_token_cb cb;
    void *arg;
};

static void row_token(const struct pg_row *r, void *ctx)
{
    struct token_ctx *c = ctx;
    struct store_token t = {
        .id = pg__int(r, 0),
        .name = pg__text(r, 1),
        .hash = pg__text(r, 2),
        .scope = pg__text(r, 3),
        .created_ms = pg__int(r, 4),
        .last_used_ms = pg__int(r, 5),
    };
    c->cb(c->arg, &t);
}

static cc_err pg_token_list(struct store *st, store_token_cb cb, void *arg)
{
    if (!cb)
        return CC_EINVAL;
    struct token_ctx c = {.cb = cb, .arg = arg};
    return pg__run(pg__from_store(st), PS_TOKEN_LIST, NULL, row_token, &c, NULL);
}

static cc_err pg_token_delete(struct store *st, int64_t id)
{
    return pg__run_one(pg__from_store(st), PS_TOKEN_DELETE, QPARAMS(QI(id)));
}

static cc_err pg_token_touch(struct store *st, int64_t id, int64_t used_ms)
{
    return pg__run_one(pg__from_store(st), PS_TOKEN_TOUCH, QPARAMS(QI(id), QI(used_ms)));
}

/* ---- ops: projects --------------------------------------------------- */

static bool project_valid(const struct store_project *p)
{
    return p && p->name && *p->name && p->compose_path && p->state && *p->state;
}

static cc_err pg_project_insert(struct store *st, const struct store_project *p,
                                int64_t *out_id)
{
    if (!project_valid(p))
        return CC_EINVAL;
    return insert_returning(pg__from_store(st), PS_PROJECT_INSERT,
                            QPARAMS(QT(p->name), QT(p->compose_path), QT(p->spec_json),
                                    QT(p->state), QI(p->created_ms), QI(p->updated_ms)),
                            out_id);
}

static cc_err pg_project_update(struct store *st, const struct store_project *p)
{
    if (!project_valid(p))
        return CC_EINVAL;
    return pg__run_one(pg__from_store(st), PS_PROJECT_UPDATE,
                       QPARAMS(QI(p->id), QT(p->name), QT(p->compose_path), QT(p->spec_json),
                               QT(p->state), QI(p->updated_ms)));
}

struct project_ctx {
    store_project_cb cb;
    void *arg;
};

static void row_project(const struct pg_row *r, void *ctx)
{
    struct project_ctx *c = ctx;
    struct store_project p = {
        .id = pg__int(r, 0),
        .name = pg__text(r, 1),
        .compose_path = pg__text(r, 2),
        .spec_json = pg__text(r, 3),
        .state = pg__text(r, 4),
        .created_ms = pg__int(r, 5),
        .updated_ms = pg__int(r, 6),
    };
    c->cb(c->arg, &p);
}

static cc_err pg_project_get(struct store *st, const char *name, store_project_cb cb, void *arg)
{
    if (!name || !cb)
        return CC_EINVAL;
    struct project_ctx c = {.cb = cb, .arg = arg};
    int64_t rows = 0;
    cc_err err = pg__run(pg__from_store(st), PS_PROJECT_GET, QPARAMS(QT(name)), row_project, &c,
                         &rows);
    if (!err && rows == 0)
        err = CC_ENOTFOUND;
    return err;
}

static cc_err pg_project_list(struct store *st, store_project_cb cb, void *arg)
{
    if (!cb)
        return CC_EINVAL;
    struct project_ctx c = {.cb = cb, .arg = arg};
    return pg__run(pg__from_store(st), PS_PROJECT_LIST, NULL, row_project, &c, NULL);
}

static cc_err pg_project_delete(struct store *st, const char *name)
{
    if (!name)
        return CC_EINVAL;
    return pg__run_one(pg__from_store(st), PS_PROJECT_DELETE, QPARAMS(QT(name)));
}

/* ---- ops: events ----------------------------------------------------- */

static cc_err pg_event_append(struct store *st, const struct store_event *e, int64_t *out_id)
{
    if (!e || !e->kind || !*e->kind || !e->message)
        return CC_EINVAL;
    return insert_returning(pg__from_store(st), PS_EVENT_APPEND,
                            QPARAMS(QI(e->ts_ms), QT(e->kind), QT(e->project), QT(e->service),
                                    QT(e->message)),
                            out_id);
}

struct event_ctx {
    store_event_cb cb;
    void *arg;
};

static void row_event(const struct pg_row *r, void *ctx)
{
    struct event_ctx *c = ctx;
    struct store_event e = {
        .id = pg__int(r, 0),
        .ts_ms = pg__int(r, 1),
        .kind = pg__text(r, 2),
        .project = pg__text(r, 3),
        .service = pg__text(r, 4),
        .message = pg__text(r, 5),
    };
    c->cb(c->arg, &e);
}

static cc_err pg_event_list(struct store *st, int64_t after_id, unsigned limit,
                            store_event_cb cb, void *arg)
{
    if (!cb)
        return CC_EINVAL;
    if (limit > STORE_EVENT_LIST_MAX)
        limit = STORE_EVENT_LIST_MAX;
    struct event_ctx c = {.cb = cb, .arg = arg};
    return pg__run(pg__from_store(st), PS_EVENT_LIST, QPARAMS(QI(after_id), QI(limit)),
                   row_event, &c, NULL);
}

static cc_err pg_event_prune(struct store *st, int64_t before_ms, int64_t *out_deleted)
{
    int64_t rows = 0;
    cc_err err = pg__run(pg__from_store(st), PS_EVENT_PRUNE, QPARAMS(QI(before_ms)), NULL, NULL,
                         &rows);
    if (!err && out_deleted)
        *out_deleted = rows;
    return err;
}

const struct store_ops store_postgres_ops = {
    .name = "postgres",
    .open = pg_open,
    .close = pg_close,
    .ping = pg_ping,
    .info = pg_info,
    .token_insert = pg_token_insert,
    .token_list = pg_token_list,
    .token_delete = pg_token_delete,
    .token_touch = pg_token_touch,
    .project_insert = pg_project_insert,
    .project_update = pg_project_update,
    .project_get = pg_project_get,
    .project_list = pg_project_list,
    .project_delete = pg_project_delete,
    .event_append = pg_event_append,
    .event_list = pg_event_list,
    .event_prune = pg_event_prune,
    .source_insert = pg__source_insert,
    .source_update = pg__source_update,
    .source_get = pg__source_get,
    .source_get_by_name = pg__source_get_by_name,
    .source_list = pg__source_list,
    .source_delete = pg__source_delete,
    .source_record_run = pg__source_record_run,
    .source_schedule = pg__source_schedule,
    .source_add_counts = pg__source_add_counts,
    .doc_list = pg__doc_list,
    .source_due = pg__source_due,
    .doc_upsert = pg__doc_upsert,
    .doc_hash = pg__doc_hash,
    .doc_get = pg__doc_get,
    .doc_delete = pg__doc_delete,
    .doc_delete_external = pg__doc_delete_external,
    .search = pg__search,
    .vectors_put = pg__vectors_put,
    .vectors_missing = pg__vectors_missing,
    .vector_search = pg__vector_search,
    .job_enqueue = pg__job_enqueue,
    .job_claim = pg__job_claim,
    .job_heartbeat = pg__job_heartbeat,
    .job_succeed = pg__job_succeed,
    .job_fail = pg__job_fail,
    .job_get = pg__job_get,
    .job_list = pg__job_list,
    .job_retry = pg__job_retry,
    .job_counts = pg__job_counts,
    .job_prune = pg__job_prune,
    .job_enqueue_batch = pg__job_enqueue_batch,
    .job_claim_batch = pg__job_claim_batch,
    .doc_write_batch = pg__doc_write_batch,
};
