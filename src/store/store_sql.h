/*
 * store_sql.h - the SQL both store backends run, written once.
 *
 * The SQLite and PostgreSQL backends differ in how they connect (a writer
 * plus a reader pool against one pool of sessions), in their migrations,
 * full-text search, vectors and the job claim. Everything else - tokens,
 * projects, events, sources, reading and deleting documents, the job
 * queue's enqueue, transitions and reads - is the same SQL over the same
 * rows, and lives once in store_sql.c over a small dialect table
 * (struct store_sql_dialect) that each backend fills in.
 *
 * Invariants:
 *   - A backend's store struct starts with struct store_sql (which starts
 *     with struct store), so the shared ops take the struct store * the
 *     ops table is called with.
 *   - Shared statements are written with SQLite's numbered placeholders
 *     (?1, ?2, ...); the PostgreSQL dialect rewrites them to $1, $2 when it
 *     prepares (store__sql_placeholders). Where the dialects really differ
 *     (a collation, a cast) a statement carries per-dialect text.
 *   - Numbers that PostgreSQL cannot type from the statement alone are
 *     written CAST(?N AS BIGINT) / CAST(?N AS TEXT), which both accept.
 *   - Inserts return their id with RETURNING (SQLite >= 3.35 has it), so
 *     there is no "last insert id" to ask for.
 *   - A row is read through the dialect's column readers and is valid only
 *     during the row callback; a blob read from it too (PostgreSQL decodes
 *     bytea into memory freed after the callback: one blob column per row).
 *   - User data reaches the database only as parameters.
 */
#ifndef CC_STORE_STORE_SQL_H
#define CC_STORE_STORE_SQL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

struct cc_clock;

/* ---- statements ------------------------------------------------------ */

enum store_sql_id {
    SQL_PING,
    SQL_SCHEMA_VERSION,
    SQL_TOKEN_INSERT,
    SQL_TOKEN_LIST,
    SQL_TOKEN_DELETE,
    SQL_TOKEN_TOUCH,
    SQL_PROJECT_INSERT,
    SQL_PROJECT_UPDATE,
    SQL_PROJECT_GET,
    SQL_PROJECT_LIST,
    SQL_PROJECT_DELETE,
    SQL_EVENT_APPEND,
    SQL_EVENT_LIST,
    SQL_EVENT_LIST_BEFORE,
    SQL_EVENT_PRUNE,
    SQL_SOURCE_INSERT,
    SQL_SOURCE_UPDATE,
    SQL_SOURCE_GET,
    SQL_SOURCE_GET_BY_NAME,
    SQL_SOURCE_LIST,
    SQL_SOURCE_DELETE,
    SQL_SOURCE_RECORD_RUN,
    SQL_SOURCE_ADD_COUNTS,
    SQL_SOURCE_SCHEDULE,
    SQL_SOURCE_DUE,
    SQL_SOURCE_EXISTS,
    SQL_STATE_GET,
    SQL_STATE_PUT,
    SQL_STATE_DELETE,
    SQL_STATE_LIST,
    SQL_DOC_HASH,
    SQL_DOC_GET,
    SQL_DOC_DELETE,
    SQL_DOC_DELETE_EXTERNAL,
    SQL_DOC_LIST,
    SQL_CHUNK_LIST,
    SQL_JOB_FIND_DEDUP,
    SQL_JOB_COUNT_UNFINISHED,
    SQL_JOB_COUNT_UNFINISHED_NOSRC,
    SQL_JOB_INSERT,
    SQL_JOB_GET,
    SQL_JOB_EXISTS,
    SQL_JOB_HEARTBEAT,
    SQL_JOB_SUCCEED,
    SQL_JOB_FAIL,
    SQL_JOB_RETRY,
    SQL_JOB_LIST,
    SQL_JOB_COUNTS,
    SQL_JOB_OLDEST,
    SQL_JOB_PRUNE,
    SQL_WEBHOOK_INSERT,
    SQL_WEBHOOK_PRUNE_SOME,
    SQL_WEBHOOK_PRUNE,
    SQL_ALERT_GET,
    SQL_ALERT_INSERT,
    SQL_ALERT_UPDATE,
    SQL_ALERT_LIST,
    SQL_ALERT_PRUNE_RESOLVED,
    SQL_ALERT_PRUNE_CAP,
    SQL__COUNT
};

/* Which text of a statement a dialect runs. */
enum store_sql_kind { STORE_SQL_SQLITE, STORE_SQL_POSTGRES, STORE_SQL__KINDS };

struct store_sql_stmt {
    const char *name;                  /* for logs */
    const char *sql;                   /* both dialects, unless per[] has one */
    const char *per[STORE_SQL__KINDS]; /* where the dialects really differ */
};

/* The statement's text for a dialect (never NULL for a valid id). */
const char *store__sql_text(enum store_sql_id id, enum store_sql_kind kind);
const char *store__sql_name(enum store_sql_id id);

/* Rewrites ?N placeholders to $N (outside quoted text) into out, a buffer
 * of outsz bytes. CC_ELIMIT when it does not fit. */
cc_err store__sql_placeholders(const char *sql, char *out, size_t outsz);

/* ---- parameters and rows --------------------------------------------- */

/* A {0}-terminated list; a NULL text or blob is SQL NULL. Strings and
 * blobs are borrowed for the statement's run. */
enum store_sql_ptype { SQLP_END = 0, SQLP_INT, SQLP_TEXT, SQLP_BLOB };
struct store_sql_param {
    enum store_sql_ptype type;
    int64_t i;
    const void *s;
    size_t n;                          /* SQLP_BLOB: bytes at s */
};
#define SQL_I(v) ((struct store_sql_param){.type = SQLP_INT, .i = (int64_t)(v)})
#define SQL_T(v) ((struct store_sql_param){.type = SQLP_TEXT, .s = (v)})
#define SQL_B(p, len) ((struct store_sql_param){.type = SQLP_BLOB, .s = (p), .n = (len)})
#define SQL_PARAMS(...) ((const struct store_sql_param[]){__VA_ARGS__, {0}})

struct store_sql_dialect;

/* The current row of a result, read through the dialect's readers. */
struct store_sql_row {
    const struct store_sql_dialect *d;
    void *impl;                        /* sqlite3_stmt * | PGresult * */
    int row;                           /* PostgreSQL: the row number */
    void *blob;                        /* PostgreSQL: decoded bytea, freed after the row */
};
typedef void (*store_sql_row_fn)(struct store_sql_row *r, void *ctx);

/* A backend's connection; the shared layer only hands it back. */
struct store_sql_conn;

/* What a connection is taken for: reads (any pooled connection, a read
 * transaction sees one snapshot) or writes (SQLite: the one writer). */
enum store_sql_use { STORE_SQL_READ, STORE_SQL_WRITE };

/* ---- the dialect table ----------------------------------------------- */

struct store_sql_dialect {
    const char *name;                  /* the driver: store_info.driver */
    enum store_sql_kind kind;
    /* Takes a connection: a write one may wait for the writer, a read one
     * for a pooled connection up to busy_timeout (CC_EAGAIN). */
    cc_err (*conn_get)(struct store *s, enum store_sql_use use, struct store_sql_conn **out);
    void (*conn_put)(struct store *s, enum store_sql_use use, struct store_sql_conn *c);
    /* READ: one snapshot for several reads; WRITE: a transaction that
     * reads and writes (SQLite: BEGIN IMMEDIATE, the file's write lock up
     * front). rollback is a no-op when no transaction is open. */
    cc_err (*begin)(struct store *s, struct store_sql_conn *c, enum store_sql_use how);
    cc_err (*commit)(struct store *s, struct store_sql_conn *c);
    void (*rollback)(struct store *s, struct store_sql_conn *c);
    /* Runs statement id with params; row() (optional) per row; *out_rows
     * (optional): the rows returned, or for a statement returning none,
     * the rows it changed. */
    cc_err (*query)(struct store *s, struct store_sql_conn *c, enum store_sql_id id,
                    const struct store_sql_param *params, store_sql_row_fn row, void *ctx,
                    int64_t *out_rows);
    /* Column readers; SQL NULL reads as 0 / NULL. */
    int64_t (*col_int)(struct store_sql_row *r, int col);
    const char *(*col_text)(struct store_sql_row *r, int col);
    const void *(*col_blob)(struct store_sql_row *r, int col, size_t *out_len);
    /* Optional: inside job_enqueue's transaction when a queue limit
     * applies, locks what the limit check reads, so two sessions cannot
     * both see room for one more: the source row (*out_found: it exists),
     * or for source_id 0 the jobs without a source. NULL when the write
     * transaction already serializes writers (SQLite). */
    cc_err (*queue_lock)(struct store *s, struct store_sql_conn *c, int64_t source_id,
                         bool *out_found);
};

/* What a SQL backend's store struct starts with. */
struct store_sql {
    struct store base;                 /* first: store.h casts through it */
    const struct store_sql_dialect *dialect;
    struct cc_clock *clock;            /* store_cfg.clock or the system clock */
    int schema_latest;                 /* the newest migration the binary has */
    struct store_pool *pool;           /* the backend's pool, for pool_stats */
};

static inline int64_t store__sql_int(struct store_sql_row *r, int col)
{
    return r->d->col_int(r, col);
}
static inline const char *store__sql_str(struct store_sql_row *r, int col)
{
    return r->d->col_text(r, col);
}

/* Runs one statement on a connection of its own (taken for `use`). */
cc_err store__sql_run(struct store *st, enum store_sql_use use, enum store_sql_id id,
                      const struct store_sql_param *params, store_sql_row_fn row, void *ctx,
                      int64_t *out_rows);

/* ---- migrations: what both runners share ------------------------------ */

struct cc_embedded;
struct cc_log;
/* "0001_init.sql" -> 1: the leading digits, then '_'; 0 is not a version. */
cc_err store__migration_version(const char *name, int *out);
/* Checks an embedded list (strictly increasing versions) and returns the
 * newest version; a bad name is a build defect, refused loudly
 * (CC_EINVAL, logged). */
cc_err store__migrations_latest(const struct cc_embedded *list, struct cc_log *log, int *out);
/* The database must not be newer than the binary (an old binary would
 * misread tables it does not know): CC_ESTATE, logged with `where` (the
 * file; may be NULL). */
cc_err store__check_not_newer(struct cc_log *log, const char *where, int db_version,
                              int latest);

/* ---- the connection pool both backends use --------------------------- */

/* A stack of idle connections; a taker waits on a CLOCK_MONOTONIC
 * condition variable until busy_timeout, measured with the store's clock
 * (its mono_ms must be CLOCK_MONOTONIC's milliseconds, as the system
 * clock's is; a fake clock makes the wait end at once). */
struct store_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    void **idle;
    unsigned nidle, cap;
    struct cc_clock *clock;
    void (*on_wait)(void *arg, int64_t waited_ns, bool timed_out); /* store_cfg.pool_wait */
    void *on_wait_arg;
};
void store__pool_init(struct store_pool *p, unsigned cap, struct cc_clock *clock);
void store__pool_release(struct store_pool *p);
/* Gives a connection (back) to the pool; never more than cap. */
void store__pool_put(struct store_pool *p, void *conn);
/* CC_EAGAIN when none came free within wait_ms. Tells on_wait (if set)
 * how long it waited, after unlocking. */
cc_err store__pool_take(struct store_pool *p, int64_t wait_ms, void **out);
/* Reports the store's pool (struct store_sql.pool must be set). */
cc_err store__sql_pool_stats(struct store *st, struct store_pool_stats *out);

/* ---- jobs: rows and copies the backends' claims share ----------------- */

/* The columns every job read returns, in the order job_from_row reads. */
#define STORE_SQL_JOB_COLS                                                            \
    "id, kind, source_id, state, dedup_key, payload, attempts, max_attempts,"          \
    " next_run_ms, lease_owner, lease_until_ms, stage, last_error, created_ms,"        \
    " updated_ms, finished_ms"

/* A job that outlives its row: every string and the payload owned. */
struct store_sql_job_copy {
    struct store_job j;
    bool set;
};
/* Row callback: copies the first row into ctx (a struct store_sql_job_copy). */
void store__sql_row_job_copy(struct store_sql_row *r, void *ctx);
void store__sql_job_copy_release(struct store_sql_job_copy *c);

/* job_succeed's guarded update on a connection the caller holds, inside
 * its transaction (SQLite's document batch). */
cc_err store__sql_job_succeed_on(struct store *st, struct store_sql_conn *c, int64_t id,
                                 const char *owner, int64_t now_ms);

/* ---- vectors: the scan both backends run ------------------------------ */

struct store_topk;
struct store_vec_hit;
/* The backend's one statement: offers to t every stored vector of model
 * with t->dims dimensions that passes the filters f (NULL: none), at most
 * STORE_VECTOR_SCAN_MAX of them. */
typedef cc_err (*store_sql_vec_rows_fn)(struct store *st, struct store_sql_conn *c,
                                        const char *model, const struct store_search *f,
                                        struct store_topk *t);
/* The best `limit` vectors for q on a held connection, inside the caller's
 * transaction (also hybrid search's): *out (heap) best first. */
cc_err store__sql_vector_scan(struct store *st, struct store_sql_conn *c,
                              store_sql_vec_rows_fn rows, const float *q, size_t dims,
                              const char *model, const struct store_search *f, unsigned limit,
                              struct store_vec_hit **out, size_t *out_n);
/* vector_search (store.h) over the backend's rows, in one read transaction;
 * arguments checked by store.c's wrapper. */
cc_err store__sql_vector_search(struct store *st, store_sql_vec_rows_fn rows, const float *q,
                                size_t dims, const char *model, const struct store_search *f,
                                unsigned limit, store_vec_cb cb, void *arg);

/* ---- the shared ops (store.h), for the backends' ops tables ----------- */

cc_err store__sql_ping(struct store *st);
cc_err store__sql_info(struct store *st, struct store_info *out);

cc_err store__sql_token_insert(struct store *st, const struct store_token *t, int64_t *out_id);
cc_err store__sql_token_list(struct store *st, store_token_cb cb, void *arg);
cc_err store__sql_token_delete(struct store *st, int64_t id);
cc_err store__sql_token_touch(struct store *st, int64_t id, int64_t used_ms);

cc_err store__sql_project_insert(struct store *st, const struct store_project *p,
                                 int64_t *out_id);
cc_err store__sql_project_update(struct store *st, const struct store_project *p);
cc_err store__sql_project_get(struct store *st, const char *name, store_project_cb cb,
                              void *arg);
cc_err store__sql_project_list(struct store *st, store_project_cb cb, void *arg);
cc_err store__sql_project_delete(struct store *st, const char *name);

cc_err store__sql_event_append(struct store *st, const struct store_event *e, int64_t *out_id);
cc_err store__sql_event_list_before(struct store *st, int64_t before_id, unsigned limit,
                                    store_event_cb cb, void *arg);
cc_err store__sql_event_list(struct store *st, int64_t after_id, unsigned limit,
                             store_event_cb cb, void *arg);
cc_err store__sql_event_prune(struct store *st, int64_t before_ms, int64_t *out_deleted);

cc_err store__sql_source_insert(struct store *st, const struct store_source *src,
                                int64_t *out_id);
cc_err store__sql_source_update(struct store *st, const struct store_source *src);
cc_err store__sql_source_get(struct store *st, int64_t id, store_source_cb cb, void *arg);
cc_err store__sql_source_get_by_name(struct store *st, const char *name, store_source_cb cb,
                                     void *arg);
cc_err store__sql_source_list(struct store *st, store_source_cb cb, void *arg);
cc_err store__sql_source_delete(struct store *st, int64_t id);
cc_err store__sql_source_record_run(struct store *st, const struct store_source_run *run);
cc_err store__sql_source_add_counts(struct store *st, int64_t id, int64_t ingested,
                                    int64_t failed);
cc_err store__sql_source_schedule(struct store *st, int64_t id, int64_t next_run_ms);
cc_err store__sql_source_due(struct store *st, int64_t now_ms, store_source_cb cb, void *arg);

cc_err store__sql_source_state_get(struct store *st, int64_t source_id, const char *key,
                                   store_state_cb cb, void *arg);
cc_err store__sql_source_state_put(struct store *st, int64_t source_id, const char *key,
                                   const char *value, int64_t now_ms);
cc_err store__sql_source_state_list(struct store *st, int64_t source_id, const char *prefix,
                                    const char *after_key, unsigned limit, store_state_cb cb,
                                    void *arg);
cc_err store__sql_doc_hash(struct store *st, int64_t source_id, const char *external_id,
                           char out_hash[65]);
cc_err store__sql_doc_get(struct store *st, int64_t id, store_doc_cb cb, void *arg);
cc_err store__sql_doc_delete(struct store *st, int64_t id);
cc_err store__sql_doc_delete_external(struct store *st, int64_t source_id,
                                      const char *external_id);
cc_err store__sql_doc_list(struct store *st, int64_t source_id, int64_t after_id,
                           unsigned limit, store_doc_cb cb, void *arg);

cc_err store__sql_job_enqueue(struct store *st, const struct store_job *j, unsigned queue_limit,
                              int64_t *out_id, bool *out_existing);
cc_err store__sql_job_enqueue_batch(struct store *st, const struct store_job *jobs, size_t n,
                                    unsigned queue_limit, int64_t *out_ids, bool *out_existing,
                                    size_t *out_done);
cc_err store__sql_job_heartbeat(struct store *st, int64_t id, const char *owner,
                                int64_t lease_until_ms, const char *stage);
cc_err store__sql_job_succeed(struct store *st, int64_t id, const char *owner, int64_t now_ms);
cc_err store__sql_job_fail(struct store *st, int64_t id, const char *owner, int64_t now_ms,
                           const char *error, int64_t retry_at_ms);
cc_err store__sql_job_retry(struct store *st, int64_t id, int64_t now_ms);
cc_err store__sql_job_get(struct store *st, int64_t id, store_job_cb cb, void *arg);
cc_err store__sql_job_list(struct store *st, const char *state, int64_t before_id,
                           unsigned limit, store_job_cb cb, void *arg);
cc_err store__sql_job_counts(struct store *st, struct store_job_counts *out);
cc_err store__sql_job_prune(struct store *st, int64_t before_ms, int64_t *out_deleted);

/* Queues jobs[0..n) on a connection inside the caller's write
 * transaction, as job_enqueue_batch does: *out_done jobs were queued (or
 * found by their dedup key) before *out_stop (CC_ELIMIT, CC_ENOTFOUND)
 * stopped it. A database error is returned (the transaction is then
 * lost; roll it back). */
cc_err store__sql_job_enqueue_on(struct store *st, struct store_sql_conn *c,
                                 const struct store_job *jobs, size_t n, unsigned queue_limit,
                                 int64_t *out_ids, bool *out_existing, size_t *out_done,
                                 cc_err *out_stop);

cc_err store__sql_webhook_delivery(struct store *st, const struct store_delivery *d,
                                   const struct store_job *jobs, size_t n,
                                   unsigned queue_limit, int64_t *out_ids, bool *out_existing,
                                   bool *out_duplicate);
cc_err store__sql_webhook_prune(struct store *st, int64_t before_ms, int64_t *out_deleted);
cc_err store__sql_alert_upsert(struct store *st, const struct store_alert *a,
                              enum store_alert_change *out_change);
cc_err store__sql_alert_list(struct store *st, const char *status, unsigned limit,
                            store_alert_cb cb, void *arg);
cc_err store__sql_alert_prune(struct store *st, int64_t resolved_before_ms, unsigned keep_max,
                             int64_t *out_deleted);

/* The ops a SQL backend's table takes from this layer, as designated
 * initializers: `static const struct store_ops x = {.name = ..., .open =
 * ..., <the backend's own ops>, STORE_SQL_OPS};`. The optional batch ops
 * are not among them: a backend names store__sql_job_enqueue_batch or a
 * faster one of its own. */
#define STORE_SQL_OPS                                                                  \
    .ping = store__sql_ping, .info = store__sql_info,                                  \
    .token_insert = store__sql_token_insert, .token_list = store__sql_token_list,      \
    .token_delete = store__sql_token_delete, .token_touch = store__sql_token_touch,    \
    .project_insert = store__sql_project_insert,                                       \
    .project_update = store__sql_project_update,                                       \
    .project_get = store__sql_project_get, .project_list = store__sql_project_list,    \
    .project_delete = store__sql_project_delete,                                       \
    .event_append = store__sql_event_append, .event_list = store__sql_event_list,      \
    .event_list_before = store__sql_event_list_before,                                 \
    .event_prune = store__sql_event_prune,                                             \
    .source_insert = store__sql_source_insert,                                         \
    .source_update = store__sql_source_update, .source_get = store__sql_source_get,    \
    .source_get_by_name = store__sql_source_get_by_name,                               \
    .source_list = store__sql_source_list, .source_delete = store__sql_source_delete,  \
    .source_record_run = store__sql_source_record_run,                                 \
    .source_add_counts = store__sql_source_add_counts,                                 \
    .source_schedule = store__sql_source_schedule,                                     \
    .source_due = store__sql_source_due,                                               \
    .source_state_get = store__sql_source_state_get,                                   \
    .source_state_put = store__sql_source_state_put,                                   \
    .source_state_list = store__sql_source_state_list,                                 \
    .doc_hash = store__sql_doc_hash, .doc_get = store__sql_doc_get,                    \
    .doc_delete = store__sql_doc_delete,                                               \
    .doc_delete_external = store__sql_doc_delete_external,                             \
    .doc_list = store__sql_doc_list,                                                   \
    .job_enqueue = store__sql_job_enqueue, .job_heartbeat = store__sql_job_heartbeat,  \
    .job_succeed = store__sql_job_succeed, .job_fail = store__sql_job_fail,            \
    .job_get = store__sql_job_get, .job_list = store__sql_job_list,                    \
    .job_retry = store__sql_job_retry, .job_counts = store__sql_job_counts,            \
    .job_prune = store__sql_job_prune,                                                 \
    .webhook_delivery = store__sql_webhook_delivery,                                   \
    .webhook_prune = store__sql_webhook_prune,                                   \
    .alert_upsert = store__sql_alert_upsert, .alert_list = store__sql_alert_list,      \
    .alert_prune = store__sql_alert_prune, .pool_stats = store__sql_pool_stats

#endif
