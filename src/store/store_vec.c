/*
 * store_vec.c - what both backends' vector search shares (store_int.h):
 * the stored encoding (little-endian float32) and the best-k-by-cosine
 * accumulator, so SQLite and PostgreSQL score and order vectors alike.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store_int.h"

void store__vec_put_le(unsigned char *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof(u));
    p[0] = (unsigned char)u;
    p[1] = (unsigned char)(u >> 8);
    p[2] = (unsigned char)(u >> 16);
    p[3] = (unsigned char)(u >> 24);
}

float store__vec_get_le(const unsigned char *p)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                 (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &u, sizeof(f));
    return f;
}

/* Lower cosine is worse; on a tie the larger chunk id is worse. */
static bool worse(const struct store_vec_hit *a, const struct store_vec_hit *b)
{
    if (a->cosine != b->cosine)
        return a->cosine < b->cosine;
    return a->chunk_id > b->chunk_id;
}

static void swap(struct store_vec_hit *a, struct store_vec_hit *b)
{
    struct store_vec_hit t = *a;
    *a = *b;
    *b = t;
}

void store__topk_init(struct store_topk *t, const float *q, size_t dims, unsigned limit)
{
    memset(t, 0, sizeof(*t));
    t->q = q;
    t->dims = dims;
    t->cap = limit;
    for (size_t i = 0; i < dims; i++)
        t->qnorm += (double)q[i] * q[i];
    t->qnorm = sqrt(t->qnorm);
    t->heap = cc_xcalloc(limit ? limit : 1, sizeof(*t->heap));
}

void store__topk_offer(struct store_topk *t, int64_t chunk_id, const unsigned char *vec,
                       int priority, int64_t published_ms)
{
    double dot = 0, norm = 0;
    for (size_t i = 0; i < t->dims; i++) {
        double x = store__vec_get_le(vec + 4 * i);
        dot += x * t->q[i];
        norm += x * x;
    }
    if (norm <= 0 || t->qnorm <= 0 || t->cap == 0)
        return;   /* a zero vector has no direction */
    struct store_vec_hit h = {.chunk_id = chunk_id, .cosine = dot / (sqrt(norm) * t->qnorm),
                              .priority = priority, .published_ms = published_ms};
    /* A min-heap by worse(): the worst kept hit on top. */
    if (t->n < t->cap) {
        size_t i = t->n++;
        t->heap[i] = h;
        while (i && worse(&t->heap[i], &t->heap[(i - 1) / 2])) {
            swap(&t->heap[i], &t->heap[(i - 1) / 2]);
            i = (i - 1) / 2;
        }
        return;
    }
    if (!worse(&t->heap[0], &h))
        return;
    t->heap[0] = h;
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < t->n && worse(&t->heap[l], &t->heap[m]))
            m = l;
        if (r < t->n && worse(&t->heap[r], &t->heap[m]))
            m = r;
        if (m == i)
            break;
        swap(&t->heap[i], &t->heap[m]);
        i = m;
    }
}

static int hit_cmp(const void *a, const void *b)
{
    const struct store_vec_hit *x = a, *y = b;
    return worse(x, y) ? 1 : worse(y, x) ? -1 : 0;
}

struct store_vec_hit *store__topk_finish(struct store_topk *t, size_t *out_n)
{
    qsort(t->heap, t->n, sizeof(*t->heap), hit_cmp);
    *out_n = t->n;
    struct store_vec_hit *h = t->heap;
    t->heap = NULL;
    return h;
}

void store__topk_release(struct store_topk *t)
{
    free(t->heap);
    t->heap = NULL;
}
