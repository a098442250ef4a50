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
/* Name [A-Za-z0-9._-]{1,STORE_NAME_MAX}, a known type, priority 1..10. */
bool store__source_valid(const struct store_source *src);
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

#endif
