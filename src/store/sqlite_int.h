/*
 * sqlite_int.h - internals shared by the files of the SQLite backend.
 *
 * The backend is split by subject: sqlite.c (open, migrations, the
 * connections, the dialect table of the shared SQL layer and the ops
 * table), sqlite_knowledge.c (writing documents, search), sqlite_jobs.c
 * (the job claim) and sqlite_vectors.c. Tokens, projects, events,
 * sources, document reads and the rest of the job queue are the shared
 * layer's (store_sql.h). Nothing outside these files includes this
 * header.
 *
 * Invariants:
 *   - The writer connection is used only with write_mu held; a reader only
 *     between sqlite__reader_get() and sqlite__reader_put(). A connection is
 *     therefore used by one thread at a time (all are SQLITE_OPEN_NOMUTEX).
 *   - Statements are prepared lazily per connection into conn->stmt[] by
 *     enum stmt_id. Each id's SQL is defined in exactly one of the
 *     per-file tables (sqlite__core_stmts, sqlite__knowledge_stmts,
 *     sqlite__job_stmts); open() refuses a build where that is not so.
 *     Every use of a cached statement ends with sqlite__stmt_done().
 *   - User data reaches SQLite only through bound parameters.
 *   - A transaction spanning several statements on the writer starts with
 *     BEGIN IMMEDIATE, so its reads and writes see one snapshot and it can
 *     never fail half-way with SQLITE_BUSY_SNAPSHOT.
 */
#ifndef CC_STORE_SQLITE_INT_H
#define CC_STORE_SQLITE_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"
#include "store/store_int.h"
#include "store/store_sql.h"

enum stmt_id {
    /* sqlite.c */
    ST_BEGIN,
    ST_BEGIN_IMMEDIATE,
    ST_COMMIT,
    /* sqlite_knowledge.c */
    ST_SOURCE_ADD_COUNTS,
    ST_SOURCE_EXISTS,
    ST_DOC_LOOKUP,
    ST_DOC_INSERT,
    ST_DOC_UPDATE,
    ST_CHUNK_INSERT,
    ST_FTS_INSERT,
    ST_FTS_DELETE_DOC,
    ST_CHUNK_DELETE_DOC,
    ST_TAG_INSERT,
    ST_TAG_DELETE_DOC,
    ST_SEARCH_WINDOW,
    ST_SEARCH_WINDOW_FAST,
    ST_SEARCH_HIT,
    /* sqlite_jobs.c */
    ST_JOB_PICK,
    ST_JOB_PICK_MANY,
    ST_JOB_CLAIM,
    ST_VEC_CHUNKS,
    ST_VEC_PUT,
    ST_VEC_MISSING,
    ST_VEC_SCAN,
    ST_VEC_HIT,
    ST_SEARCH_FTS,
    ST_SEARCH_META,
    ST_SOURCE_MAX_PRIORITY,
    ST__COUNT
};

struct stmt_def {
    const char *name;                  /* for logs */
    const char *sql;
};

/* Sparse tables indexed by stmt_id; each file fills in its own ids. */
extern const struct stmt_def sqlite__core_stmts[ST__COUNT];
extern const struct stmt_def sqlite__knowledge_stmts[ST__COUNT];
extern const struct stmt_def sqlite__job_stmts[ST__COUNT];
extern const struct stmt_def sqlite__vector_stmts[ST__COUNT];

struct conn {
    sqlite3 *db;
    sqlite3_stmt *stmt[ST__COUNT];
    sqlite3_stmt *shared[SQL__COUNT];  /* store_sql.h's statements */
};

struct sqlite_store {
    struct store_sql sql;              /* first: store.h casts through it */
    struct cc_log *log;                /* borrowed; may be NULL */
    char *path;
    int busy_ms;

    pthread_mutex_t write_mu;          /* guards writer */
    struct conn writer;

    struct store_pool pool;            /* the readers not checked out */
    struct conn *readers;
    unsigned nreaders;
};

/* The shared layer's dialect table for SQLite (sqlite.c). */
extern const struct store_sql_dialect sqlite__dialect;

/* A row of a cached statement as the shared layer reads rows. */
static inline struct store_sql_row sqlite__row(sqlite3_stmt *st)
{
    return (struct store_sql_row){.d = &sqlite__dialect, .impl = st};
}

static inline struct sqlite_store *sqlite__from_store(struct store *s)
{
    return (struct sqlite_store *)s;
}

/* Bound parameters: a {0}-terminated list; a NULL text or blob binds SQL
 * NULL. Strings and blobs are bound SQLITE_STATIC: they must outlive the
 * statement's use, which every caller's borrowed inputs do. */
enum param_type { P_END = 0, P_INT, P_TEXT, P_BLOB };
struct param {
    enum param_type type;
    int64_t i;
    const void *s;
    size_t n;                          /* P_BLOB: bytes at s */
};
#define PI(v) ((struct param){.type = P_INT, .i = (int64_t)(v)})
#define PT(v) ((struct param){.type = P_TEXT, .s = (v)})
#define PB(p, len) ((struct param){.type = P_BLOB, .s = (p), .n = (len)})
#define PARAMS(...) ((const struct param[]){__VA_ARGS__, {0}})

struct write_result {
    int64_t rowid;
    int64_t changes;
};

typedef void (*row_fn)(sqlite3_stmt *st, void *ctx);

/* ---- errors and statements ------------------------------------------- */

/* Maps a SQLite result code to cc_err (unique -> CC_ECONFLICT, foreign key
 * -> CC_ENOTFOUND, check -> CC_EINVAL, busy/locked -> CC_EAGAIN, else
 * CC_EIO), logging what the operator needs. Call before reset/rollback:
 * they clear the connection's message. */
cc_err sqlite__db_err(struct sqlite_store *s, sqlite3 *db, int rc, const char *op);
int sqlite__bind(sqlite3_stmt *st, const struct param *params);
/* The cached statement `id` of connection c with params bound. On success
 * the caller owns the use and ends it with sqlite__stmt_done(). */
cc_err sqlite__stmt(struct sqlite_store *s, struct conn *c, enum stmt_id id,
                    const struct param *params, sqlite3_stmt **out);
void sqlite__stmt_done(sqlite3_stmt *st);
const char *sqlite__stmt_name(enum stmt_id id);
static inline const char *sqlite__col_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* ---- running statements on a connection the caller holds ------------- */

/* Steps statement `id` to the end, calling row() (optional) per row;
 * *out_rows (optional) gets the count. */
cc_err sqlite__query(struct sqlite_store *s, struct conn *c, enum stmt_id id,
                     const struct param *params, row_fn row, void *ctx, int64_t *out_rows);
/* Runs a statement that returns no rows; *out (optional) gets rowid/changes. */
cc_err sqlite__exec(struct sqlite_store *s, struct conn *c, enum stmt_id id,
                    const struct param *params, struct write_result *out);
/* The first column of the first row as an integer; *out_found tells
 * whether there was a row (and *out is left alone when not). */
cc_err sqlite__query_int(struct sqlite_store *s, struct conn *c, enum stmt_id id,
                         const struct param *params, int64_t *out, bool *out_found);
/* Transactions: begin (ST_BEGIN or ST_BEGIN_IMMEDIATE), commit, and a
 * rollback that is a no-op when no transaction is open. */
cc_err sqlite__begin(struct sqlite_store *s, struct conn *c, enum stmt_id how);
cc_err sqlite__commit(struct sqlite_store *s, struct conn *c);
void sqlite__rollback(struct conn *c);

/* ---- connections ----------------------------------------------------- */

/* Waits up to busy_timeout for a free reader: CC_EAGAIN otherwise. */
cc_err sqlite__reader_get(struct sqlite_store *s, struct conn **out);
void sqlite__reader_put(struct sqlite_store *s, struct conn *c);
/* The writer, locked; give it back with sqlite__writer_put(). */
struct conn *sqlite__writer_get(struct sqlite_store *s);
void sqlite__writer_put(struct sqlite_store *s);

/* ---- ops implemented outside sqlite.c -------------------------------- */

cc_err sqlite__doc_upsert(struct store *st, const struct store_doc *d,
                          enum store_upsert *out_result, int64_t *out_id);
/* Batches (store.h, "batches"). */
cc_err sqlite__doc_write_batch(struct store *st, const char *owner, int64_t now_ms,
                               struct store_doc_write *items, size_t n);
cc_err sqlite__job_claim_batch(struct store *st, const char *owner, int64_t now_ms,
                               int64_t lease_ms, size_t max, store_job_cb cb, void *arg);
/* job_succeed on the writer the caller holds (inside its transaction). */
cc_err sqlite__job_succeed_locked(struct sqlite_store *s, struct conn *c, int64_t id,
                                  const char *owner, int64_t now_ms);
cc_err sqlite__search(struct store *st, const struct store_search *q, store_hit_cb cb,
                      void *arg);

/* Vectors (sqlite_vectors.c). */
cc_err sqlite__vectors_put(struct store *st, int64_t doc_id, size_t dims, const char *model,
                           const float *vecs, size_t n);
cc_err sqlite__vectors_missing(struct store *st, int64_t source_id, const char *external_id,
                               const char *model, int64_t *out_missing);
cc_err sqlite__vector_search(struct store *st, const float *q, size_t dims, const char *model,
                             const struct store_search *f, unsigned limit, store_vec_cb cb,
                             void *arg);
/* The scan on a connection the caller holds (inside its read transaction):
 * *out (heap, caller frees) holds the best `limit` hits, best first. */
cc_err sqlite__vector_scan(struct sqlite_store *s, struct conn *c, const float *q, size_t dims,
                           const char *model, const struct store_search *f, unsigned limit,
                           struct store_vec_hit **out, size_t *out_n);

cc_err sqlite__job_claim(struct store *st, const char *owner, int64_t now_ms, int64_t lease_ms,
                         store_job_cb cb, void *arg);

#endif
