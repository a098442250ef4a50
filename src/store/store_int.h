/*
 * store_int.h - what the backends share besides their SQL (store_sql.h):
 * the record checks store.c's wrappers apply before any backend sees a
 * call (store_valid.c), so SQLite and PostgreSQL refuse exactly the same
 * input, and the vector encoding and best-k accumulator of vector search
 * (store_vec.c), so both score alike.
 */
#ifndef CC_STORE_STORE_INT_H
#define CC_STORE_STORE_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define STORE_HASH_LEN 64   /* hex SHA-256 */

/* Name 1..STORE_NAME_MAX bytes, a STORE_HASH_LEN hash, scope read|admin. */
bool store__token_valid(const struct store_token *t);
/* Name, compose path and state set (name and state non-empty). */
bool store__project_valid(const struct store_project *p);
/* A non-empty kind and a message. */
bool store__event_valid(const struct store_event *e);
/* A kind, source_id >= 0, max_attempts >= 1, next_run_ms >= 0, a payload
 * when payload_len > 0, a non-empty dedup key when one is given. */
bool store__job_valid(const struct store_job *j);
bool store__job_state_valid(const char *state);
/* A non-empty owner, lease_ms > 0, 0 <= now_ms and now_ms + lease_ms fits. */
bool store__lease_valid(const char *owner, int64_t now_ms, int64_t lease_ms);
/* A non-empty provider, a delivery id of 1..STORE_DELIVERY_ID_MAX bytes,
 * source_id >= 0, received_ms >= 0. */
bool store__delivery_valid(const struct store_delivery *d);
/* Name [A-Za-z0-9._-]{1,STORE_NAME_MAX}, a known type, priority 1..10. */
bool store__source_valid(const struct store_source *src);
/* status "firing" or "resolved". */
bool store__alert_status_valid(const char *status);
/* A fingerprint [A-Za-z0-9]{1,STORE_FINGERPRINT_MAX}, a known status, a
 * name of 1..STORE_ALERT_NAME_MAX bytes, labels and annotations (if any)
 * JSON objects, starts_ms >= 0, ends_ms >= 0. */
bool store__alert_valid(const struct store_alert *a);
/* Checks a document: source and external id, content hash (normalized to
 * lower case into hash), chunks, and the JSON fields; *out_tags gets its
 * parsed tags (NULL when none; the caller json_decref()s it). CC_EINVAL
 * when anything is wrong. */
cc_err store__doc_validate(const struct store_doc *d, char hash[STORE_HASH_LEN + 1],
                           json_t **out_tags);

/* Vectors are stored as dims little-endian float32 values. */
void store__vec_put_le(unsigned char *p, float f);
float store__vec_get_le(const unsigned char *p);

struct store_vec_hit {
    int64_t chunk_id;
    double cosine;
    int priority;
    int64_t published_ms;
};

#define STORE_VEC_DIMS_MAX 8192       /* a vector's dimensions, at most */

/* The best `limit` stored vectors by cosine with q (ties: smaller chunk id
 * first), kept in a heap while a backend scans its rows. */
struct store_topk {
    const float *q;
    double qnorm;
    size_t dims;
    struct store_vec_hit *heap;
    size_t n, cap;
};
void store__topk_init(struct store_topk *t, const float *q, size_t dims, unsigned limit);
/* vec holds t->dims encoded values; a zero vector is skipped. */
void store__topk_offer(struct store_topk *t, int64_t chunk_id, const unsigned char *vec,
                       int priority, int64_t published_ms);
/* The hits best first (the caller frees the array); t is empty afterwards. */
struct store_vec_hit *store__topk_finish(struct store_topk *t, size_t *out_n);
void store__topk_release(struct store_topk *t);   /* after an error */

/* ---- search (store_search.c): what both backends' search shares ---- */

#define STORE_SEARCH_WINDOW_MIN 200
#define STORE_SEARCH_WINDOW_PER_K 20
#define STORE_FTS_TERMS_MAX 32     /* terms kept from a query; the rest is ignored */
#define STORE_FTS_TERM_MAX 64      /* bytes per term, cut at a UTF-8 boundary */
#define STORE_FTS_QUERY_LIMIT 8192 /* 32 x (2 x 64 quoted + 6) fits with room */

struct cc_buf;

/* User text as an FTS5 query that holds no syntax: its terms (runs of
 * ASCII letters and digits and of non-ASCII bytes, at most
 * STORE_FTS_TERMS_MAX of at most STORE_FTS_TERM_MAX bytes) quoted and
 * joined with OR, appended to out. CC_EINVAL when the text holds no term. */
cc_err store__fts_query(const char *text, struct cc_buf *out);
/* HTML-escapes an FTS5 snippet, turning its \x02/\x03 markers into
 * <mark></mark> (always balanced). */
cc_err store__snippet_html(const char *snippet, struct cc_buf *out);
/* Builds a search's FTS5 query into fts (the search itself was checked by
 * store.c's wrapper); *out_k is k capped at STORE_SEARCH_K_MAX, the window
 * holds max(20k, 200) rows. */
cc_err store__search_query(const struct store_search *q, unsigned *out_k, struct cc_buf *fts);

/* A candidate of the ranking: the BM25 window's rows (relevance from the
 * backend), then fused with the vector ranking when the query has one. */
struct store_window_row {
    int64_t chunk_id;
    int64_t published_ms;
    double relevance;
    double score;                      /* relevance x store_priority_factor(priority) */
    int priority;
    bool lexical;                      /* in the BM25 window: has a full-text snippet */
};

struct store_window {
    struct store_window_row *v;
    size_t n, cap;
};

void store__window_init(struct store_window *w, unsigned k);
void store__window_release(struct store_window *w);
/* Appends a BM25 row (ignored when the window is full). */
void store__window_add(struct store_window *w, int64_t chunk_id, double relevance,
                       int priority, int64_t published_ms);
/* Reciprocal rank fusion of the window (in BM25 order) with the vector
 * ranking vh (best first): relevance = sum of 1 / (STORE_RRF_K + rank);
 * vector-only rows are appended. */
void store__window_fuse(struct store_window *w, const struct store_vec_hit *vh, size_t nv);
/* Sorts by score descending; ties: newer published first, then the older
 * chunk. The top k are the hits. */
void store__window_sort(struct store_window *w);

/* A BM25 window known in relevance order (ids, rel: best first) whose
 * rows' priority and date cost a lookup each: rows are looked up and added
 * in that order only while they can still reach the top k. Row i is left
 * out, with all after it, once rel[i] x fmax is below the k-th best score
 * of the rows added (fmax: the priority factor of the highest priority
 * any row can have), so the top k after store__window_sort are those of
 * the whole window. meta(): CC_ENOTFOUND drops the row. */
typedef cc_err (*store_meta_fn)(void *ctx, int64_t chunk_id, int *out_priority,
                                int64_t *out_published_ms);
cc_err store__window_bounded(struct store_window *w, const int64_t *ids, const double *rel,
                             size_t n, unsigned k, double fmax, store_meta_fn meta, void *ctx);

#endif
