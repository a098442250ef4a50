/*
 * store_sql.c - the operations both SQL backends share (store_sql.h):
 * the statement table, the connection pool, and tokens, projects, events,
 * sources and the reading and deleting of documents, each written once
 * over the dialect table. The job queue's shared part is store_sql_jobs.c.
 *
 * Records reaching these functions were checked by store.c's wrappers
 * (store_valid.c), so nothing here validates input again.
 */
#include "store/store_sql.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/embedded.h"
#include "core/log.h"
#include "store/store_int.h"

#define TOKEN_COLS "id, name, hash, scope, created_ms, last_used_ms"
#define PROJECT_COLS "id, name, compose_path, spec_json, state, created_ms, updated_ms, env_json"
#define EVENT_COLS "id, ts_ms, kind, project, service, message"
#define SOURCE_COLS                                                                    \
    "id, name, type, url, path, schedule, tz, priority, enabled, auth_json,"           \
    " options_json, created_ms, updated_ms, last_run_ms, last_status, last_error,"    \
    " next_run_ms, failures, runs_total, ingested_total, failed_total,"               \
    " (SELECT COUNT(*) FROM documents d WHERE d.source_id = sources.id)"
#define DOC_COLS                                                                       \
    "id, source_id, external_id, url, path, title, authors_json, published_ms,"        \
    " updated_ms, tags_json, version, content_hash, metadata_json, ingested_ms"
/* PostgreSQL sorts names by the database's locale unless told otherwise;
 * SQLite's default (BINARY) is byte order, which "C" is too. */
#define BYTE_ORDER_PG " COLLATE \"C\""

const struct store_sql_stmt store__sql_core_stmts[SQL__COUNT] = {
    [SQL_PING] = {.name = "ping", .sql = "SELECT 1"},
    [SQL_SCHEMA_VERSION] = {.name = "schema_version", .sql =
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"},
    [SQL_TOKEN_INSERT] = {.name = "token_insert", .sql =
        "INSERT INTO tokens (name, hash, scope, created_ms, last_used_ms)"
        " VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id"},
    [SQL_TOKEN_LIST] = {.name = "token_list", .sql =
        "SELECT " TOKEN_COLS " FROM tokens ORDER BY id"},
    [SQL_TOKEN_DELETE] = {.name = "token_delete", .sql = "DELETE FROM tokens WHERE id = ?1"},
    [SQL_TOKEN_TOUCH] = {.name = "token_touch", .sql =
        "UPDATE tokens SET last_used_ms = ?2 WHERE id = ?1"},
    [SQL_PROJECT_INSERT] = {.name = "project_insert", .sql =
        "INSERT INTO projects (name, compose_path, spec_json, state, created_ms, updated_ms,"
        " env_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id"},
    [SQL_PROJECT_UPDATE] = {.name = "project_update", .sql =
        "UPDATE projects SET name = ?2, compose_path = ?3, spec_json = ?4, state = ?5,"
        " updated_ms = ?6, env_json = ?7 WHERE id = ?1"},
    [SQL_PROJECT_GET] = {.name = "project_get", .sql =
        "SELECT " PROJECT_COLS " FROM projects WHERE name = ?1"},
    [SQL_PROJECT_LIST] = {.name = "project_list", .per = {
        [STORE_SQL_SQLITE] = "SELECT " PROJECT_COLS " FROM projects ORDER BY name",
        [STORE_SQL_POSTGRES] = "SELECT " PROJECT_COLS " FROM projects ORDER BY name"
                               BYTE_ORDER_PG}},
    [SQL_PROJECT_DELETE] = {.name = "project_delete", .sql =
        "DELETE FROM projects WHERE name = ?1"},
    [SQL_EVENT_APPEND] = {.name = "event_append", .sql =
        "INSERT INTO events (ts_ms, kind, project, service, message)"
        " VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id"},
    [SQL_EVENT_LIST_BEFORE] = {.name = "event_list_before", .sql =
        "SELECT " EVENT_COLS " FROM events WHERE CAST(?1 AS BIGINT) = 0 OR id < CAST(?1 AS BIGINT)"
        " ORDER BY id DESC LIMIT ?2"},
    [SQL_EVENT_LIST] = {.name = "event_list", .sql =
        "SELECT " EVENT_COLS " FROM events WHERE id > ?1 ORDER BY id LIMIT ?2"},
    [SQL_EVENT_PRUNE] = {.name = "event_prune", .sql = "DELETE FROM events WHERE ts_ms < ?1"},
    [SQL_SOURCE_INSERT] = {.name = "source_insert", .sql =
        "INSERT INTO sources (name, type, url, path, schedule, tz, priority, enabled,"
        " auth_json, options_json, created_ms, updated_ms)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) RETURNING id"},
    [SQL_SOURCE_UPDATE] = {.name = "source_update", .sql =
        "UPDATE sources SET name = ?2, type = ?3, url = ?4, path = ?5, schedule = ?6,"
        " tz = ?7, priority = ?8, enabled = ?9, auth_json = ?10, options_json = ?11,"
        " updated_ms = ?12 WHERE id = ?1"},
    [SQL_SOURCE_GET] = {.name = "source_get", .sql =
        "SELECT " SOURCE_COLS " FROM sources WHERE id = ?1"},
    [SQL_SOURCE_GET_BY_NAME] = {.name = "source_get_by_name", .sql =
        "SELECT " SOURCE_COLS " FROM sources WHERE name = ?1"},
    [SQL_SOURCE_LIST] = {.name = "source_list", .per = {
        [STORE_SQL_SQLITE] = "SELECT " SOURCE_COLS " FROM sources ORDER BY name",
        [STORE_SQL_POSTGRES] = "SELECT " SOURCE_COLS " FROM sources ORDER BY name"
                               BYTE_ORDER_PG}},
    [SQL_SOURCE_DELETE] = {.name = "source_delete", .sql = "DELETE FROM sources WHERE id = ?1"},
    [SQL_SOURCE_RECORD_RUN] = {.name = "source_record_run", .sql =
        "UPDATE sources SET last_run_ms = ?2,"
        " last_status = CASE WHEN ?3 <> 0 THEN 'ok' ELSE 'failed' END,"
        " last_error = CASE WHEN ?3 <> 0 THEN NULL ELSE CAST(?4 AS TEXT) END,"
        " next_run_ms = CASE WHEN CAST(?5 AS BIGINT) < 0 THEN next_run_ms"
        "   ELSE CAST(?5 AS BIGINT) END,"
        " failures = CASE WHEN ?3 <> 0 THEN 0 ELSE failures + 1 END,"
        " runs_total = runs_total + 1, ingested_total = ingested_total + ?6,"
        " failed_total = failed_total + ?7 WHERE id = ?1"},
    [SQL_SOURCE_ADD_COUNTS] = {.name = "source_add_counts", .sql =
        "UPDATE sources SET ingested_total = ingested_total + ?2,"
        " failed_total = failed_total + ?3 WHERE id = ?1"},
    [SQL_SOURCE_SCHEDULE] = {.name = "source_schedule", .sql =
        "UPDATE sources SET next_run_ms = ?2 WHERE id = ?1"},
    [SQL_SOURCE_DUE] = {.name = "source_due", .sql =
        "SELECT " SOURCE_COLS " FROM sources WHERE enabled = 1 AND next_run_ms > 0"
        " AND next_run_ms <= ?1 ORDER BY next_run_ms, id"},
    [SQL_SOURCE_EXISTS] = {.name = "source_exists", .sql = "SELECT 1 FROM sources WHERE id = ?1"},
    [SQL_STATE_GET] = {.name = "source_state_get", .sql =
        "SELECT key, value, updated_ms FROM source_state WHERE source_id = ?1 AND key = ?2"},
    [SQL_STATE_PUT] = {.name = "source_state_put", .sql =
        "INSERT INTO source_state (source_id, key, value, updated_ms) VALUES (?1, ?2, ?3, ?4)"
        " ON CONFLICT (source_id, key) DO UPDATE SET value = excluded.value,"
        " updated_ms = excluded.updated_ms"},
    [SQL_STATE_DELETE] = {.name = "source_state_delete", .sql =
        "DELETE FROM source_state WHERE source_id = ?1 AND key = ?2"},
    [SQL_STATE_LIST] = {.name = "source_state_list", .sql =
        "SELECT key, value, updated_ms FROM source_state WHERE source_id = ?1 AND key > ?2"
        " AND substr(key, 1, length(CAST(?3 AS TEXT))) = ?3 ORDER BY key LIMIT ?4"},
    [SQL_DOC_HASH] = {.name = "doc_hash", .sql =
        "SELECT content_hash FROM documents WHERE source_id = ?1 AND external_id = ?2"},
    [SQL_DOC_GET] = {.name = "doc_get", .sql = "SELECT " DOC_COLS " FROM documents WHERE id = ?1"},
    [SQL_DOC_DELETE] = {.name = "doc_delete", .sql = "DELETE FROM documents WHERE id = ?1"},
    [SQL_DOC_DELETE_EXTERNAL] = {.name = "doc_delete_external", .sql =
        "DELETE FROM documents WHERE source_id = ?1 AND external_id = ?2"},
    [SQL_DOC_LIST] = {.name = "doc_list", .sql =
        "SELECT id, source_id, external_id, path, title, content_hash FROM documents"
        " WHERE source_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3"},
    [SQL_CHUNK_LIST] = {.name = "chunk_list", .sql =
        "SELECT id, ord, heading, text FROM chunks WHERE document_id = ?1 ORDER BY ord, id"},
};

extern const struct store_sql_stmt store__sql_job_stmts[SQL__COUNT];
extern const struct store_sql_stmt store__sql_webhook_stmts[SQL__COUNT];
extern const struct store_sql_stmt store__sql_alert_stmts[SQL__COUNT];

static const struct store_sql_stmt *stmt_def(enum store_sql_id id)
{
    if ((unsigned)id >= SQL__COUNT)
        return NULL;
    if (store__sql_core_stmts[id].name)
        return &store__sql_core_stmts[id];
    if (store__sql_job_stmts[id].name)
        return &store__sql_job_stmts[id];
    if (store__sql_webhook_stmts[id].name)
        return &store__sql_webhook_stmts[id];
    if (store__sql_alert_stmts[id].name)
        return &store__sql_alert_stmts[id];
    return NULL;
}

const char *store__sql_text(enum store_sql_id id, enum store_sql_kind kind)
{
    const struct store_sql_stmt *def = stmt_def(id);
    if (!def)
        return NULL;
    return def->per[kind] ? def->per[kind] : def->sql;
}

const char *store__sql_name(enum store_sql_id id)
{
    const struct store_sql_stmt *def = stmt_def(id);
    return def ? def->name : "?";
}

cc_err store__sql_placeholders(const char *sql, char *out, size_t outsz)
{
    size_t o = 0;
    char quote = 0;
    for (const char *p = sql; *p; p++) {
        char ch = *p;
        if (quote) {
            if (ch == quote)
                quote = 0;
        } else if (ch == '\'' || ch == '"') {
            quote = ch;
        } else if (ch == '?' && p[1] >= '0' && p[1] <= '9') {
            ch = '$';
        }
        if (o + 1 >= outsz)
            return CC_ELIMIT;
        out[o++] = ch;
    }
    if (o >= outsz)
        return CC_ELIMIT;
    out[o] = '\0';
    return CC_OK;
}

/* ---- migrations ------------------------------------------------------ */

cc_err store__migration_version(const char *name, int *out)
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

cc_err store__migrations_latest(const struct cc_embedded *list, struct cc_log *log, int *out)
{
    int prev = 0;
    for (const struct cc_embedded *m = list; m->name; m++) {
        int v = 0;
        if (store__migration_version(m->name, &v) != CC_OK || v <= prev) {
            cc_log_error(log, "store", "embedded migration has a bad or duplicate version",
                         CC_LS("migration", m->name));
            return CC_EINVAL;
        }
        prev = v;
    }
    *out = prev;
    return CC_OK;
}

cc_err store__check_not_newer(struct cc_log *log, const char *where, int db_version,
                              int latest)
{
    if (db_version <= latest)
        return CC_OK;
    static const char msg[] = "database schema is newer than this binary; upgrade "
                              "commandcenter (migrations are forward-only)";
    if (where)
        cc_log_error(log, "store", msg, CC_LS("path", where), CC_LI("db_version", db_version),
                     CC_LI("binary_latest", latest));
    else
        cc_log_error(log, "store", msg, CC_LI("db_version", db_version),
                     CC_LI("binary_latest", latest));
    return CC_ESTATE;
}

/* ---- the pool -------------------------------------------------------- */

void store__pool_init(struct store_pool *p, unsigned cap, struct cc_clock *clock)
{
    memset(p, 0, sizeof(*p));
    if (cc_clock_cond_init(&p->cv) != 0)   /* only on resource exhaustion */
        abort();
    pthread_mutex_init(&p->mu, NULL);
    p->idle = cc_xcalloc(cap ? cap : 1, sizeof(*p->idle));
    p->cap = cap;
    p->clock = clock;
}

void store__pool_release(struct store_pool *p)
{
    free(p->idle);
    p->idle = NULL;
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
}

void store__pool_put(struct store_pool *p, void *conn)
{
    pthread_mutex_lock(&p->mu);
    if (p->nidle < p->cap)
        p->idle[p->nidle++] = conn;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

cc_err store__pool_take(struct store_pool *p, int64_t wait_ms, void **out)
{
    int64_t deadline = cc_mono_ms(p->clock) + (wait_ms > 0 ? wait_ms : 0);
    int64_t t0 = 0;
    cc_err err = CC_OK;
    pthread_mutex_lock(&p->mu);
    if (p->nidle == 0 && p->on_wait)
        t0 = cc_mono_ns(p->clock);
    while (p->nidle == 0) {
        if (cc_mono_ms(p->clock) >= deadline) {
            err = CC_EAGAIN;
            break;
        }
        cc_wait_until(p->clock, &p->cv, &p->mu, deadline);
    }
    if (!err)
        *out = p->idle[--p->nidle];
    pthread_mutex_unlock(&p->mu);
    if (p->on_wait)
        p->on_wait(p->on_wait_arg, t0 ? cc_mono_ns(p->clock) - t0 : 0, err == CC_EAGAIN);
    return err;
}

cc_err store__sql_pool_stats(struct store *st, struct store_pool_stats *out)
{
    struct store_pool *p = ((struct store_sql *)st)->pool;
    if (!p)
        return CC_EUNSUPPORTED;
    pthread_mutex_lock(&p->mu);
    unsigned idle = p->nidle, cap = p->cap;
    pthread_mutex_unlock(&p->mu);
    *out = (struct store_pool_stats){.in_use = cap - idle, .size = cap};
    return CC_OK;
}

/* ---- running statements ---------------------------------------------- */

static const struct store_sql_dialect *dialect_of(struct store *st)
{
    return ((struct store_sql *)st)->dialect;
}

cc_err store__sql_run(struct store *st, enum store_sql_use use, enum store_sql_id id,
                      const struct store_sql_param *params, store_sql_row_fn row, void *ctx,
                      int64_t *out_rows)
{
    const struct store_sql_dialect *d = dialect_of(st);
    struct store_sql_conn *c = NULL;
    cc_err err = d->conn_get(st, use, &c);
    if (err)
        return err;
    err = d->query(st, c, id, params, row, ctx, out_rows);
    d->conn_put(st, use, c);
    return err;
}

/* A command that must change a row: CC_ENOTFOUND when none changed. */
static cc_err write_one(struct store *st, enum store_sql_id id,
                        const struct store_sql_param *params)
{
    int64_t rows = 0;
    cc_err err = store__sql_run(st, STORE_SQL_WRITE, id, params, NULL, NULL, &rows);
    if (!err && rows == 0)
        err = CC_ENOTFOUND;
    return err;
}

static void row_first_int(struct store_sql_row *r, void *ctx)
{
    *(int64_t *)ctx = store__sql_int(r, 0);
}

/* An INSERT ... RETURNING id. */
static cc_err insert_id(struct store *st, enum store_sql_id id,
                        const struct store_sql_param *params, int64_t *out_id)
{
    int64_t new_id = 0;
    cc_err err = store__sql_run(st, STORE_SQL_WRITE, id, params, row_first_int, &new_id, NULL);
    if (!err && out_id)
        *out_id = new_id;
    return err;
}

/* A command whose changed-row count is the answer (prunes). */
static cc_err write_count(struct store *st, enum store_sql_id id,
                          const struct store_sql_param *params, int64_t *out_count)
{
    int64_t rows = 0;
    cc_err err = store__sql_run(st, STORE_SQL_WRITE, id, params, NULL, NULL, &rows);
    if (!err && out_count)
        *out_count = rows;
    return err;
}

/* A read that hands each row to a store.h callback: which one, and its arg. */
struct cb_ctx {
    union {
        store_token_cb token;
        store_project_cb project;
        store_event_cb event;
        store_source_cb source;
        store_doc_cb doc;
    } cb;
    void *arg;
};

/* A read; CC_ENOTFOUND when `one` and no row came back. */
static cc_err read_rows(struct store *st, enum store_sql_id id,
                        const struct store_sql_param *params, bool one, store_sql_row_fn row,
                        void *ctx)
{
    int64_t rows = 0;
    cc_err err = store__sql_run(st, STORE_SQL_READ, id, params, row, ctx, &rows);
    if (!err && one && rows == 0)
        err = CC_ENOTFOUND;
    return err;
}

/* ---- vectors --------------------------------------------------------- */

cc_err store__sql_vector_scan(struct store *st, struct store_sql_conn *c,
                              store_sql_vec_rows_fn rows, const float *q, size_t dims,
                              const char *model, const struct store_search *f, unsigned limit,
                              struct store_vec_hit **out, size_t *out_n)
{
    if (!q || !model || dims == 0 || dims > STORE_VEC_DIMS_MAX || limit == 0)
        return CC_EINVAL;              /* hybrid search comes here unchecked */
    struct store_topk t;
    store__topk_init(&t, q, dims, limit);
    cc_err err = rows(st, c, model, f, &t);
    if (err) {
        store__topk_release(&t);
        return err;
    }
    *out = store__topk_finish(&t, out_n);
    return CC_OK;
}

cc_err store__sql_vector_search(struct store *st, store_sql_vec_rows_fn rows, const float *q,
                                size_t dims, const char *model, const struct store_search *f,
                                unsigned limit, store_vec_cb cb, void *arg)
{
    const struct store_sql_dialect *d = dialect_of(st);
    struct store_sql_conn *c = NULL;
    struct store_vec_hit *hits = NULL;
    size_t n = 0;
    cc_err err = d->conn_get(st, STORE_SQL_READ, &c);
    if (err)
        return err;
    err = d->begin(st, c, STORE_SQL_READ);
    if (!err)
        err = store__sql_vector_scan(st, c, rows, q, dims, model, f, limit, &hits, &n);
    if (!err)
        err = d->commit(st, c);
    if (err)
        d->rollback(st, c);
    d->conn_put(st, STORE_SQL_READ, c);
    for (size_t i = 0; !err && i < n; i++)
        cb(arg, hits[i].chunk_id, hits[i].cosine);
    free(hits);
    return err;
}

/* ---- health ---------------------------------------------------------- */

cc_err store__sql_ping(struct store *st)
{
    return store__sql_run(st, STORE_SQL_READ, SQL_PING, NULL, NULL, NULL, NULL);
}

cc_err store__sql_info(struct store *st, struct store_info *out)
{
    const struct store_sql *s = (const struct store_sql *)st;
    int64_t v = 0;
    cc_err err = store__sql_run(st, STORE_SQL_READ, SQL_SCHEMA_VERSION, NULL, row_first_int,
                                &v, NULL);
    if (err)
        return err;
    out->driver = s->dialect->name;
    out->schema_version = (int)v;
    out->schema_latest = s->schema_latest;
    return CC_OK;
}

/* ---- tokens ---------------------------------------------------------- */

cc_err store__sql_token_insert(struct store *st, const struct store_token *t, int64_t *out_id)
{
    return insert_id(st, SQL_TOKEN_INSERT,
                     SQL_PARAMS(SQL_T(t->name), SQL_T(t->hash), SQL_T(t->scope),
                                SQL_I(t->created_ms), SQL_I(t->last_used_ms)),
                     out_id);
}

static void row_token(struct store_sql_row *r, void *ctx)
{
    struct cb_ctx *c = ctx;
    struct store_token t = {
        .id = store__sql_int(r, 0),
        .name = store__sql_str(r, 1),
        .hash = store__sql_str(r, 2),
        .scope = store__sql_str(r, 3),
        .created_ms = store__sql_int(r, 4),
        .last_used_ms = store__sql_int(r, 5),
    };
    c->cb.token(c->arg, &t);
}

cc_err store__sql_token_list(struct store *st, store_token_cb cb, void *arg)
{
    struct cb_ctx c = {.cb.token = cb, .arg = arg};
    return read_rows(st, SQL_TOKEN_LIST, NULL, false, row_token, &c);
}

cc_err store__sql_token_delete(struct store *st, int64_t id)
{
    return write_one(st, SQL_TOKEN_DELETE, SQL_PARAMS(SQL_I(id)));
}

cc_err store__sql_token_touch(struct store *st, int64_t id, int64_t used_ms)
{
    return write_one(st, SQL_TOKEN_TOUCH, SQL_PARAMS(SQL_I(id), SQL_I(used_ms)));
}

/* ---- projects -------------------------------------------------------- */

cc_err store__sql_project_insert(struct store *st, const struct store_project *p,
                                 int64_t *out_id)
{
    return insert_id(st, SQL_PROJECT_INSERT,
                     SQL_PARAMS(SQL_T(p->name), SQL_T(p->compose_path), SQL_T(p->spec_json),
                                SQL_T(p->state), SQL_I(p->created_ms), SQL_I(p->updated_ms),
                                SQL_T(p->env_json)),
                     out_id);
}

cc_err store__sql_project_update(struct store *st, const struct store_project *p)
{
    return write_one(st, SQL_PROJECT_UPDATE,
                     SQL_PARAMS(SQL_I(p->id), SQL_T(p->name), SQL_T(p->compose_path),
                                SQL_T(p->spec_json), SQL_T(p->state), SQL_I(p->updated_ms),
                                SQL_T(p->env_json)));
}

static void row_project(struct store_sql_row *r, void *ctx)
{
    struct cb_ctx *c = ctx;
    struct store_project p = {
        .id = store__sql_int(r, 0),
        .name = store__sql_str(r, 1),
        .compose_path = store__sql_str(r, 2),
        .spec_json = store__sql_str(r, 3),
        .state = store__sql_str(r, 4),
        .created_ms = store__sql_int(r, 5),
        .updated_ms = store__sql_int(r, 6),
        .env_json = store__sql_str(r, 7),
    };
    c->cb.project(c->arg, &p);
}

cc_err store__sql_project_get(struct store *st, const char *name, store_project_cb cb,
                              void *arg)
{
    struct cb_ctx c = {.cb.project = cb, .arg = arg};
    return read_rows(st, SQL_PROJECT_GET, SQL_PARAMS(SQL_T(name)), true, row_project, &c);
}

cc_err store__sql_project_list(struct store *st, store_project_cb cb, void *arg)
{
    struct cb_ctx c = {.cb.project = cb, .arg = arg};
    return read_rows(st, SQL_PROJECT_LIST, NULL, false, row_project, &c);
}

cc_err store__sql_project_delete(struct store *st, const char *name)
{
    return write_one(st, SQL_PROJECT_DELETE, SQL_PARAMS(SQL_T(name)));
}

/* ---- events ---------------------------------------------------------- */

cc_err store__sql_event_append(struct store *st, const struct store_event *e, int64_t *out_id)
{
    return insert_id(st, SQL_EVENT_APPEND,
                     SQL_PARAMS(SQL_I(e->ts_ms), SQL_T(e->kind), SQL_T(e->project),
                                SQL_T(e->service), SQL_T(e->message)),
                     out_id);
}

static void row_event(struct store_sql_row *r, void *ctx)
{
    struct cb_ctx *c = ctx;
    struct store_event e = {
        .id = store__sql_int(r, 0),
        .ts_ms = store__sql_int(r, 1),
        .kind = store__sql_str(r, 2),
        .project = store__sql_str(r, 3),
        .service = store__sql_str(r, 4),
        .message = store__sql_str(r, 5),
    };
    c->cb.event(c->arg, &e);
}

cc_err store__sql_event_list(struct store *st, int64_t after_id, unsigned limit,
                             store_event_cb cb, void *arg)
{
    struct cb_ctx c = {.cb.event = cb, .arg = arg};
    return read_rows(st, SQL_EVENT_LIST, SQL_PARAMS(SQL_I(after_id), SQL_I(limit)), false,
                     row_event, &c);
}

cc_err store__sql_event_list_before(struct store *st, int64_t before_id, unsigned limit,
                                    store_event_cb cb, void *arg)
{
    struct cb_ctx c = {.cb.event = cb, .arg = arg};
    return read_rows(st, SQL_EVENT_LIST_BEFORE, SQL_PARAMS(SQL_I(before_id), SQL_I(limit)),
                     false, row_event, &c);
}

cc_err store__sql_event_prune(struct store *st, int64_t before_ms, int64_t *out_deleted)
{
    return write_count(st, SQL_EVENT_PRUNE, SQL_PARAMS(SQL_I(before_ms)), out_deleted);
}

/* ---- sources --------------------------------------------------------- */

cc_err store__sql_source_insert(struct store *st, const struct store_source *src,
                                int64_t *out_id)
{
    return insert_id(
        st, SQL_SOURCE_INSERT,
        SQL_PARAMS(SQL_T(src->name), SQL_T(src->type), SQL_T(src->url), SQL_T(src->path),
                   SQL_T(src->schedule), SQL_T(src->tz), SQL_I(src->priority),
                   SQL_I(src->enabled ? 1 : 0), SQL_T(src->auth_json), SQL_T(src->options_json),
                   SQL_I(src->created_ms), SQL_I(src->updated_ms)),
        out_id);
}

cc_err store__sql_source_update(struct store *st, const struct store_source *src)
{
    return write_one(
        st, SQL_SOURCE_UPDATE,
        SQL_PARAMS(SQL_I(src->id), SQL_T(src->name), SQL_T(src->type), SQL_T(src->url),
                   SQL_T(src->path), SQL_T(src->schedule), SQL_T(src->tz),
                   SQL_I(src->priority), SQL_I(src->enabled ? 1 : 0), SQL_T(src->auth_json),
                   SQL_T(src->options_json), SQL_I(src->updated_ms)));
}

static void row_source(struct store_sql_row *r, void *ctx)
{
    struct cb_ctx *c = ctx;
    struct store_source src = {
        .id = store__sql_int(r, 0),
        .name = store__sql_str(r, 1),
        .type = store__sql_str(r, 2),
        .url = store__sql_str(r, 3),
        .path = store__sql_str(r, 4),
        .schedule = store__sql_str(r, 5),
        .tz = store__sql_str(r, 6),
        .priority = (int)store__sql_int(r, 7),
        .enabled = store__sql_int(r, 8) != 0,
        .auth_json = store__sql_str(r, 9),
        .options_json = store__sql_str(r, 10),
        .created_ms = store__sql_int(r, 11),
        .updated_ms = store__sql_int(r, 12),
        .last_run_ms = store__sql_int(r, 13),
        .last_status = store__sql_str(r, 14),
        .last_error = store__sql_str(r, 15),
        .next_run_ms = store__sql_int(r, 16),
        .failures = (int)store__sql_int(r, 17),
        .runs_total = store__sql_int(r, 18),
        .ingested_total = store__sql_int(r, 19),
        .failed_total = store__sql_int(r, 20),
        .docs = store__sql_int(r, 21),
    };
    c->cb.source(c->arg, &src);
}

static cc_err read_sources(struct store *st, enum store_sql_id id,
                           const struct store_sql_param *params, bool one, store_source_cb cb,
                           void *arg)
{
    struct cb_ctx c = {.cb.source = cb, .arg = arg};
    return read_rows(st, id, params, one, row_source, &c);
}

cc_err store__sql_source_get(struct store *st, int64_t id, store_source_cb cb, void *arg)
{
    return read_sources(st, SQL_SOURCE_GET, SQL_PARAMS(SQL_I(id)), true, cb, arg);
}

cc_err store__sql_source_get_by_name(struct store *st, const char *name, store_source_cb cb,
                                     void *arg)
{
    return read_sources(st, SQL_SOURCE_GET_BY_NAME, SQL_PARAMS(SQL_T(name)), true, cb, arg);
}

cc_err store__sql_source_list(struct store *st, store_source_cb cb, void *arg)
{
    return read_sources(st, SQL_SOURCE_LIST, NULL, false, cb, arg);
}

cc_err store__sql_source_due(struct store *st, int64_t now_ms, store_source_cb cb, void *arg)
{
    return read_sources(st, SQL_SOURCE_DUE, SQL_PARAMS(SQL_I(now_ms)), false, cb, arg);
}

/* Documents, chunks, their index rows and tags, and the source's jobs go
 * with it through ON DELETE CASCADE (and SQLite's documents trigger). */
cc_err store__sql_source_delete(struct store *st, int64_t id)
{
    return write_one(st, SQL_SOURCE_DELETE, SQL_PARAMS(SQL_I(id)));
}

cc_err store__sql_source_record_run(struct store *st, const struct store_source_run *run)
{
    return write_one(st, SQL_SOURCE_RECORD_RUN,
                     SQL_PARAMS(SQL_I(run->source_id), SQL_I(run->ran_ms),
                                SQL_I(run->ok ? 1 : 0), SQL_T(run->error),
                                SQL_I(run->next_run_ms), SQL_I(run->ingested),
                                SQL_I(run->failed)));
}

cc_err store__sql_source_add_counts(struct store *st, int64_t id, int64_t ingested,
                                    int64_t failed)
{
    return write_one(st, SQL_SOURCE_ADD_COUNTS,
                     SQL_PARAMS(SQL_I(id), SQL_I(ingested), SQL_I(failed)));
}

cc_err store__sql_source_schedule(struct store *st, int64_t id, int64_t next_run_ms)
{
    return write_one(st, SQL_SOURCE_SCHEDULE, SQL_PARAMS(SQL_I(id), SQL_I(next_run_ms)));
}

/* ---- source state ---------------------------------------------------- */

struct state_ctx {
    store_state_cb cb;
    void *arg;
};

static void row_state(struct store_sql_row *r, void *ctx)
{
    struct state_ctx *c = ctx;
    const char *value = store__sql_str(r, 1);
    c->cb(c->arg, store__sql_str(r, 0), value ? value : "", store__sql_int(r, 2));
}

cc_err store__sql_source_state_get(struct store *st, int64_t source_id, const char *key,
                                   store_state_cb cb, void *arg)
{
    struct state_ctx c = {.cb = cb, .arg = arg};
    return read_rows(st, SQL_STATE_GET, SQL_PARAMS(SQL_I(source_id), SQL_T(key)), true,
                     row_state, &c);
}

/* A put for a source that does not exist fails on the foreign key; the
 * check first turns that into CC_ENOTFOUND. */
cc_err store__sql_source_state_put(struct store *st, int64_t source_id, const char *key,
                                   const char *value, int64_t now_ms)
{
    int64_t found = 0;
    cc_err err = store__sql_run(st, STORE_SQL_READ, SQL_SOURCE_EXISTS,
                                SQL_PARAMS(SQL_I(source_id)), NULL, NULL, &found);
    if (err)
        return err;
    if (!found)
        return CC_ENOTFOUND;
    if (!value)
        return store__sql_run(st, STORE_SQL_WRITE, SQL_STATE_DELETE,
                              SQL_PARAMS(SQL_I(source_id), SQL_T(key)), NULL, NULL, NULL);
    return store__sql_run(st, STORE_SQL_WRITE, SQL_STATE_PUT,
                          SQL_PARAMS(SQL_I(source_id), SQL_T(key), SQL_T(value), SQL_I(now_ms)),
                          NULL, NULL, NULL);
}

cc_err store__sql_source_state_list(struct store *st, int64_t source_id, const char *prefix,
                                    const char *after_key, unsigned limit, store_state_cb cb,
                                    void *arg)
{
    struct state_ctx c = {.cb = cb, .arg = arg};
    if (limit > STORE_STATE_LIST_MAX)
        limit = STORE_STATE_LIST_MAX;
    return read_rows(st, SQL_STATE_LIST,
                     SQL_PARAMS(SQL_I(source_id), SQL_T(after_key ? after_key : ""),
                                SQL_T(prefix ? prefix : ""), SQL_I(limit)),
                     false, row_state, &c);
}

/* ---- documents ------------------------------------------------------- */

struct hash_ctx {
    char hash[STORE_HASH_LEN + 1];
    bool found;
};

static void row_hash(struct store_sql_row *r, void *ctx)
{
    struct hash_ctx *h = ctx;
    const char *hash = store__sql_str(r, 0);
    cc_strlcpy(h->hash, hash ? hash : "", sizeof(h->hash));
    h->found = true;
}

cc_err store__sql_doc_hash(struct store *st, int64_t source_id, const char *external_id,
                           char out_hash[65])
{
    struct hash_ctx h = {.found = false};
    cc_err err = read_rows(st, SQL_DOC_HASH, SQL_PARAMS(SQL_I(source_id), SQL_T(external_id)),
                           true, row_hash, &h);
    if (!err)
        memcpy(out_hash, h.hash, sizeof(h.hash));
    return err;
}

cc_err store__sql_doc_delete(struct store *st, int64_t id)
{
    return write_one(st, SQL_DOC_DELETE, SQL_PARAMS(SQL_I(id)));
}

cc_err store__sql_doc_delete_external(struct store *st, int64_t source_id,
                                      const char *external_id)
{
    return write_one(st, SQL_DOC_DELETE_EXTERNAL,
                     SQL_PARAMS(SQL_I(source_id), SQL_T(external_id)));
}

static void row_doc_brief(struct store_sql_row *r, void *ctx)
{
    struct cb_ctx *c = ctx;
    struct store_doc d = {
        .id = store__sql_int(r, 0),
        .source_id = store__sql_int(r, 1),
        .external_id = store__sql_str(r, 2),
        .path = store__sql_str(r, 3),
        .title = store__sql_str(r, 4),
        .content_hash = store__sql_str(r, 5),
    };
    c->cb.doc(c->arg, &d);
}

cc_err store__sql_doc_list(struct store *st, int64_t source_id, int64_t after_id,
                           unsigned limit, store_doc_cb cb, void *arg)
{
    struct cb_ctx c = {.cb.doc = cb, .arg = arg};
    return read_rows(st, SQL_DOC_LIST, SQL_PARAMS(SQL_I(source_id), SQL_I(after_id),
                                                  SQL_I(limit)),
                     false, row_doc_brief, &c);
}

/* Chunks copied out of their rows: the document row is read afterwards. */
struct chunk_list {
    struct store_chunk *v;
    size_t n, cap;
};

static void row_chunk(struct store_sql_row *r, void *ctx)
{
    struct chunk_list *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = cc_xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    const char *heading = store__sql_str(r, 2);
    const char *text = store__sql_str(r, 3);
    l->v[l->n++] = (struct store_chunk){
        .id = store__sql_int(r, 0),
        .ord = (int)store__sql_int(r, 1),
        .heading = heading ? cc_xstrdup(heading) : NULL,
        .text = cc_xstrdup(text ? text : ""),
    };
}

static void chunk_list_release(struct chunk_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free((char *)l->v[i].heading);
        free((char *)l->v[i].text);
    }
    free(l->v);
}

struct doc_ctx {
    const struct chunk_list *chunks;
    store_doc_cb cb;
    void *arg;
};

static void row_doc(struct store_sql_row *r, void *ctx)
{
    struct doc_ctx *g = ctx;
    struct store_doc d = {
        .id = store__sql_int(r, 0),
        .source_id = store__sql_int(r, 1),
        .external_id = store__sql_str(r, 2),
        .url = store__sql_str(r, 3),
        .path = store__sql_str(r, 4),
        .title = store__sql_str(r, 5),
        .authors_json = store__sql_str(r, 6),
        .published_ms = store__sql_int(r, 7),
        .updated_ms = store__sql_int(r, 8),
        .tags_json = store__sql_str(r, 9),
        .version = store__sql_str(r, 10),
        .content_hash = store__sql_str(r, 11),
        .metadata_json = store__sql_str(r, 12),
        .ingested_ms = store__sql_int(r, 13),
        .chunks = g->chunks->v,
        .nchunks = g->chunks->n,
    };
    g->cb(g->arg, &d);
}

/* In one read transaction, so the chunks belong to the row returned. */
cc_err store__sql_doc_get(struct store *st, int64_t id, store_doc_cb cb, void *arg)
{
    const struct store_sql_dialect *d = dialect_of(st);
    struct chunk_list chunks = {0};
    struct store_sql_conn *c = NULL;
    int64_t rows = 0;
    cc_err err = d->conn_get(st, STORE_SQL_READ, &c);
    if (err)
        return err;
    struct doc_ctx g = {.chunks = &chunks, .cb = cb, .arg = arg};
    err = d->begin(st, c, STORE_SQL_READ);
    if (!err)
        err = d->query(st, c, SQL_CHUNK_LIST, SQL_PARAMS(SQL_I(id)), row_chunk, &chunks, NULL);
    if (!err)
        err = d->query(st, c, SQL_DOC_GET, SQL_PARAMS(SQL_I(id)), row_doc, &g, &rows);
    if (!err && rows == 0)
        err = CC_ENOTFOUND;
    /* A read-only COMMIT only fails if BEGIN did. */
    if (!err)
        err = d->commit(st, c);
    if (err)
        d->rollback(st, c);
    d->conn_put(st, STORE_SQL_READ, c);
    chunk_list_release(&chunks);
    return err;
}
