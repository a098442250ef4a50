/*
 * postgres_int.h - internals shared by the files of the PostgreSQL backend.
 *
 * The backend is split by subject like the SQLite one: postgres.c (open,
 * migrations, the connection pool, the statement helpers, the dialect
 * table of the shared SQL layer and the ops table), postgres_ingest.c
 * (document writes, batched), postgres_search.c (the tokenizer, the index
 * columns, search), postgres_jobs.c (the job claim, batched too, and the
 * enqueue lock) and postgres_vectors.c (embeddings). Tokens, projects,
 * events, sources, document reads and the rest of the job queue are the
 * shared layer's (store_sql.h). Nothing outside these files includes this
 * header.
 *
 * Invariants:
 *   - A connection is used by one thread at a time: between pg__conn_get()
 *     and pg__conn_put(). The pool holds store.pool_size connections.
 *   - Statements are prepared lazily per connection by enum pg_stmt_id; each
 *     id's SQL is defined in exactly one per-file table. After PQreset the
 *     prepared flags are cleared (the server forgot them).
 *   - User data reaches PostgreSQL only as parameters, never in SQL text.
 *   - Full-text tokens come from SQLite's own FTS5 tokenizer ("porter
 *     unicode61 remove_diacritics 2") run in an in-memory SQLite database
 *     that each connection owns, so both backends index the same terms;
 *     snippets are cut by FTS5's snippet() in that database too
 *     (docs/STORE.md, "PostgreSQL: ranking").
 */
#ifndef CC_STORE_POSTGRES_INT_H
#define CC_STORE_POSTGRES_INT_H

#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/postgres_lib.h"
#include "store/store.h"
#include "store/store_int.h"
#include "store/store_sql.h"

/* Every libpq call goes through the table loaded by pg__lib_load(). */
#define PQclear (pg__lib->PQclear)
#define PQresultStatus (pg__lib->PQresultStatus)
#define PQstatus (pg__lib->PQstatus)
#define PQerrorMessage (pg__lib->PQerrorMessage)
#define PQreset (pg__lib->PQreset)
#define PQexec (pg__lib->PQexec)
#define PQresultErrorMessage (pg__lib->PQresultErrorMessage)
#define PQntuples (pg__lib->PQntuples)
#define PQfreemem (pg__lib->PQfreemem)
#define PQexecParams (pg__lib->PQexecParams)
#define PQunescapeBytea (pg__lib->PQunescapeBytea)
#define PQtransactionStatus (pg__lib->PQtransactionStatus)
#define PQsetNoticeProcessor (pg__lib->PQsetNoticeProcessor)
#define PQresultErrorField (pg__lib->PQresultErrorField)
#define PQprepare (pg__lib->PQprepare)
#define PQgetvalue (pg__lib->PQgetvalue)
#define PQgetisnull (pg__lib->PQgetisnull)
#define PQfinish (pg__lib->PQfinish)
#define PQexecPrepared (pg__lib->PQexecPrepared)
#define PQconninfoParse (pg__lib->PQconninfoParse)
#define PQconninfoFree (pg__lib->PQconninfoFree)
#define PQconnectdb (pg__lib->PQconnectdb)
#define PQcmdTuples (pg__lib->PQcmdTuples)
#define PQputCopyData (pg__lib->PQputCopyData)
#define PQputCopyEnd (pg__lib->PQputCopyEnd)
#define PQgetResult (pg__lib->PQgetResult)

struct cc_buf;

enum pg_stmt_id {
    /* postgres_ingest.c */
    PS_SOURCE_ADD_COUNTS, PS_JOB_EXISTS, PS_DOC_LOOKUP_LOCK, PS_DOC_UPDATE,
    PS_CHUNK_DELETE_DOC, PS_TAG_DELETE_DOC, PS_INGEST_SOURCES, PS_INGEST_JOBS_DONE,
    PS_INGEST_DOC_LOOKUP, PS_INGEST_DOC_INSERT, PS_INGEST_TAGS,
    /* postgres_search.c */
    PS_FTS_TOTALS, PS_FTS_DOCFREQ, PS_SEARCH_WINDOW, PS_SEARCH_HITS, PS_FTS_CANDIDATES,
    PS_FTS_CANDIDATES_FILTERED, PS_SEARCH_META,
    /* postgres_jobs.c */
    PS_JOB_LOCK_SOURCE, PS_JOB_LOCK_NOSRC, PS_JOB_CLAIM, PS_JOB_CLAIM_MANY,
    /* postgres_vectors.c */
    PS_VEC_CHUNKS, PS_VEC_PUT, PS_VEC_MISSING, PS_VEC_SCAN,
    PS__COUNT
};

struct pg_stmt_def {
    const char *name;                  /* for logs */
    const char *sql;
};

extern const struct pg_stmt_def pg__job_stmts[PS__COUNT];
extern const struct pg_stmt_def pg__vector_stmts[PS__COUNT];
extern const struct pg_stmt_def pg__ingest_stmts[PS__COUNT];
extern const struct pg_stmt_def pg__search_stmts[PS__COUNT];

struct fts5_tokenizer;

struct pg_conn {
    PGconn *pg;
    bool prepared[PS__COUNT];
    bool shared_prepared[SQL__COUNT];  /* store_sql.h's statements ("cs<id>") */
    /* In-memory SQLite: the FTS5 tokenizer and the snippet table. */
    sqlite3 *fts;
    void *tok;                         /* Fts5Tokenizer * */
    const struct fts5_tokenizer *tok_api;
    sqlite3_stmt *snip_clear, *snip_insert, *snip_get;
};

struct pg_store {
    struct store_sql sql;              /* first: store.h casts through it */
    struct cc_log *log;                /* borrowed; may be NULL */
    char *dsn;
    int busy_ms;

    struct store_pool pool;            /* the connections not checked out */
    struct pg_conn *conns;
    unsigned nconns;
};

static inline struct pg_store *pg__from_store(struct store *s)
{
    return (struct pg_store *)s;
}

/* Parameters, {0}-terminated: a NULL text or blob is SQL NULL. Integers
 * and doubles are sent as text, blobs in binary format. */
enum pg_param_type { PGP_END = 0, PGP_INT, PGP_TEXT, PGP_BLOB, PGP_DOUBLE };
struct pg_param {
    enum pg_param_type type;
    int64_t i;
    double d;
    const void *s;
    size_t n;
};
#define QI(v) ((struct pg_param){.type = PGP_INT, .i = (int64_t)(v)})
#define QT(v) ((struct pg_param){.type = PGP_TEXT, .s = (v)})
#define QB(p, len) ((struct pg_param){.type = PGP_BLOB, .s = (p), .n = (len)})
#define QD(v) ((struct pg_param){.type = PGP_DOUBLE, .d = (v)})
#define QPARAMS(...) ((const struct pg_param[]){__VA_ARGS__, {0}})

/* A row of a result: columns by index (text format). */
struct pg_row {
    PGresult *res;
    int row;
};
typedef void (*pg_row_fn)(const struct pg_row *r, void *ctx);

/* NULL for SQL NULL. */
const char *pg__text(const struct pg_row *r, int col);
int64_t pg__int(const struct pg_row *r, int col);
double pg__double(const struct pg_row *r, int col);
/* A bytea column decoded (heap; *out_len set); NULL for SQL NULL. */
unsigned char *pg__bytea(const struct pg_row *r, int col, size_t *out_len);

/* The shared layer's dialect table for PostgreSQL (postgres.c). */
extern const struct store_sql_dialect pg__dialect;

/* A row of a backend statement as the shared layer reads rows; free its
 * .blob after use. */
static inline struct store_sql_row pg__sql_row(const struct pg_row *r)
{
    return (struct store_sql_row){.d = &pg__dialect, .impl = r->res, .row = r->row};
}

/* The dialect's queue_lock (postgres_jobs.c). */
cc_err pg__queue_lock(struct store *st, struct store_sql_conn *c, int64_t source_id,
                      bool *out_found);

/* Maps a failed result (or a lost connection) to cc_err: unique ->
 * CC_ECONFLICT, foreign key -> CC_ENOTFOUND, check/not-null/invalid text ->
 * CC_EINVAL, lock timeout/deadlock/serialization -> CC_EAGAIN, a lost
 * connection -> CC_EIO after PQreset, else CC_EIO; logs the server's
 * message. res may be NULL. */
cc_err pg__err(struct pg_store *s, struct pg_conn *c, PGresult *res, const char *op);

/* Runs statement `id` on a held connection; row() per row (optional);
 * *out_rows (optional) gets the row count (or, for a command without
 * RETURNING, the affected rows). */
cc_err pg__query(struct pg_store *s, struct pg_conn *c, enum pg_stmt_id id,
                 const struct pg_param *params, pg_row_fn row, void *ctx, int64_t *out_rows);
/* The first column of the first row as an integer; *out_found tells
 * whether there was a row. */
cc_err pg__query_int(struct pg_store *s, struct pg_conn *c, enum pg_stmt_id id,
                     const struct pg_param *params, int64_t *out, bool *out_found);
/* Plain SQL without parameters (BEGIN, COMMIT, settings). */
cc_err pg__exec_sql(struct pg_store *s, struct pg_conn *c, const char *sql, const char *op);
cc_err pg__begin(struct pg_store *s, struct pg_conn *c);
/* A read-only REPEATABLE READ transaction: one snapshot for several reads. */
cc_err pg__begin_read(struct pg_store *s, struct pg_conn *c);
cc_err pg__commit(struct pg_store *s, struct pg_conn *c);
/* Rolls back if a transaction is open (no-op otherwise). */
void pg__rollback(struct pg_store *s, struct pg_conn *c);

/* Waits up to busy_timeout for a free connection: CC_EAGAIN otherwise. */
cc_err pg__conn_get(struct pg_store *s, struct pg_conn **out);
void pg__conn_put(struct pg_store *s, struct pg_conn *c);

/* One statement on a pooled connection (its own transaction). */
cc_err pg__run(struct pg_store *s, enum pg_stmt_id id, const struct pg_param *params,
               pg_row_fn row, void *ctx, int64_t *out_rows);

/* Array literals for array parameters ('{a,"b",NULL}'): each call appends
 * one element to b (empty: none yet); pg__arr_end closes it ("{}" when
 * empty). A NULL text or blob is an SQL NULL element. (postgres_ingest.c) */
cc_err pg__arr_text(struct cc_buf *b, const char *s);
cc_err pg__arr_textn(struct cc_buf *b, const char *s, size_t n);   /* s not NULL */
cc_err pg__arr_int(struct cc_buf *b, int64_t v);
cc_err pg__arr_bytea(struct cc_buf *b, const void *p, size_t n);
cc_err pg__arr_end(struct cc_buf *b);

/* ---- full text (postgres_search.c) ----------------------------------- */

/* Sets up the connection's in-memory FTS5 database. */
cc_err pg__fts_open(struct pg_store *s, struct pg_conn *c);
void pg__fts_close(struct pg_conn *c);

/* The index columns of one chunk from FTS5's tokenizer: the tsvector and
 * tf JSON as text (input syntax), the token count. */
struct pg_chunk_index {
    struct cc_buf tsv, tf;
    int64_t ntok;
};
void pg__chunk_index_init(struct pg_chunk_index *ix);
void pg__chunk_index_release(struct pg_chunk_index *ix);
cc_err pg__chunk_index(struct pg_conn *c, const char *title, const char *heading,
                       const char *body, struct pg_chunk_index *out);

/* ---- ops implemented outside postgres.c ------------------------------ */

cc_err pg__doc_upsert(struct store *st, const struct store_doc *d,
                      enum store_upsert *out_result, int64_t *out_id);
cc_err pg__doc_write_batch(struct store *st, const char *owner, int64_t now_ms,
                           struct store_doc_write *items, size_t n);
cc_err pg__search(struct store *st, const struct store_search *q, store_hit_cb cb, void *arg);

cc_err pg__vectors_put(struct store *st, int64_t doc_id, size_t dims, const char *model,
                       const float *vecs, size_t n);
cc_err pg__vectors_missing(struct store *st, int64_t source_id, const char *external_id,
                           const char *model, int64_t *out_missing);
cc_err pg__vector_search(struct store *st, const float *q, size_t dims, const char *model,
                         const struct store_search *f, unsigned limit, store_vec_cb cb,
                         void *arg);
/* The scan on a held connection (inside the caller's transaction): *out
 * (heap) holds the best `limit` hits, best first. */
cc_err pg__vector_scan(struct pg_store *s, struct pg_conn *c, const float *q, size_t dims,
                       const char *model, const struct store_search *f, unsigned limit,
                       struct store_vec_hit **out, size_t *out_n);

cc_err pg__job_claim(struct store *st, const char *owner, int64_t now_ms, int64_t lease_ms,
                     store_job_cb cb, void *arg);
cc_err pg__job_claim_batch(struct store *st, const char *owner, int64_t now_ms, int64_t lease_ms,
                           size_t max, store_job_cb cb, void *arg);

#endif
