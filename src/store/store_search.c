/*
 * store_search.c - what both backends' search shares (store_int.h): the
 * query text built from user text, the snippet's HTML, the window of BM25
 * candidates, the priority factor, reciprocal rank fusion
 * with a vector ranking and the final order, so that SQLite and PostgreSQL
 * order equal relevances identically. Each backend fills the window with
 * its own full-text query and looks the top k up itself.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store_int.h"

/* ---- the query text and snippets ------------------------------------ */

/* Letters and digits: ASCII alphanumerics and every byte of a non-ASCII
 * UTF-8 sequence (the tokenizer sorts out non-ASCII punctuation). */
static bool term_byte(unsigned char c)
{
    return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z');
}

/* len cut to at most max bytes without splitting a UTF-8 sequence. */
static size_t utf8_cut(const unsigned char *p, size_t len, size_t max)
{
    if (len <= max)
        return len;
    len = max;
    while (len > 0 && (p[len] & 0xc0) == 0x80)
        len--;
    return len;
}

static cc_err add_quoted(struct cc_buf *out, const unsigned char *p, size_t len)
{
    cc_err err = cc_buf_addch(out, '"');
    for (size_t i = 0; !err && i < len; i++) {
        if (p[i] == '"')
            err = cc_buf_addch(out, '"');
        if (!err)
            err = cc_buf_addch(out, (char)p[i]);
    }
    if (!err)
        err = cc_buf_addch(out, '"');
    return err;
}

cc_err store__fts_query(const char *text, struct cc_buf *out)
{
    const unsigned char *p = (const unsigned char *)(text ? text : "");
    unsigned nterms = 0;
    cc_err err = CC_OK;
    while (!err && *p && nterms < STORE_FTS_TERMS_MAX) {
        while (*p && !term_byte(*p))
            p++;
        const unsigned char *start = p;
        while (*p && term_byte(*p))
            p++;
        size_t len = utf8_cut(start, (size_t)(p - start), STORE_FTS_TERM_MAX);
        if (len == 0)
            continue;
        if (nterms++)
            err = cc_buf_addstr(out, " OR ");
        if (!err)
            err = add_quoted(out, start, len);
    }
    if (!err && nterms == 0)
        err = CC_EINVAL;
    return err;
}

cc_err store__snippet_html(const char *snippet, struct cc_buf *out)
{
    bool open = false;
    cc_err err = CC_OK;
    for (const char *p = snippet ? snippet : ""; !err && *p; p++) {
        size_t run = strcspn(p, "\x02\x03&<>\"'");
        if (run) {
            err = cc_buf_add(out, p, run);
            p += run;
            if (err || !*p)
                break;
        }
        const char *rep = NULL;
        switch (*p) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        case '\x02':              /* a marker inside a mark is dropped */
            rep = open ? NULL : "<mark>";
            open = true;
            break;
        default:                   /* '\x03'; one outside a mark is dropped */
            rep = open ? "</mark>" : NULL;
            open = false;
            break;
        }
        if (rep)
            err = cc_buf_addstr(out, rep);
    }
    if (!err && open)
        err = cc_buf_addstr(out, "</mark>");
    return err;
}

cc_err store__search_query(const struct store_search *q, unsigned *out_k, struct cc_buf *fts)
{
    cc_err err = store__fts_query(q->query, fts);
    if (!err)
        *out_k = q->k > STORE_SEARCH_K_MAX ? STORE_SEARCH_K_MAX : q->k;
    return err;
}

/* ---- the window ------------------------------------------------------ */

void store__window_init(struct store_window *w, unsigned k)
{
    unsigned limit = k * STORE_SEARCH_WINDOW_PER_K;
    *w = (struct store_window){.cap = limit < STORE_SEARCH_WINDOW_MIN ? STORE_SEARCH_WINDOW_MIN
                                                                      : limit};
    w->v = cc_xcalloc(w->cap, sizeof(*w->v));
}

void store__window_release(struct store_window *w)
{
    free(w->v);
    w->v = NULL;
    w->n = w->cap = 0;
}

void store__window_add(struct store_window *w, int64_t chunk_id, double relevance,
                       int priority, int64_t published_ms)
{
    if (w->n == w->cap)
        return;                        /* the query's LIMIT keeps this from happening */
    w->v[w->n++] = (struct store_window_row){
        .chunk_id = chunk_id,
        .relevance = relevance,
        .score = relevance * store_priority_factor(priority),
        .priority = priority,
        .published_ms = published_ms,
        .lexical = true,
    };
}

static int row_id_cmp(const void *a, const void *b)
{
    const struct store_window_row *x = *(const struct store_window_row *const *)a;
    const struct store_window_row *y = *(const struct store_window_row *const *)b;
    return (x->chunk_id > y->chunk_id) - (x->chunk_id < y->chunk_id);
}

void store__window_fuse(struct store_window *w, const struct store_vec_hit *vh, size_t nv)
{
    w->v = cc_xrealloc(w->v, (w->n + nv + 1) * sizeof(*w->v));
    struct store_window_row **byid = cc_xcalloc(w->n + 1, sizeof(*byid));
    for (size_t i = 0; i < w->n; i++) {
        w->v[i].relevance = 1.0 / (STORE_RRF_K + (double)(i + 1));
        byid[i] = &w->v[i];
    }
    size_t nlex = w->n;
    qsort(byid, nlex, sizeof(*byid), row_id_cmp);
    for (size_t j = 0; j < nv; j++) {
        struct store_window_row key = {.chunk_id = vh[j].chunk_id}, *kp = &key;
        struct store_window_row **hit = bsearch(&kp, byid, nlex, sizeof(*byid), row_id_cmp);
        double rrf = 1.0 / (STORE_RRF_K + (double)(j + 1));
        if (hit)
            (*hit)->relevance += rrf;
        else
            w->v[w->n++] = (struct store_window_row){.chunk_id = vh[j].chunk_id,
                                                     .published_ms = vh[j].published_ms,
                                                     .priority = vh[j].priority,
                                                     .relevance = rrf};
    }
    for (size_t i = 0; i < w->n; i++)
        w->v[i].score = w->v[i].relevance * store_priority_factor(w->v[i].priority);
    w->cap = w->n;
    free(byid);
}

static int window_cmp(const void *a, const void *b)
{
    const struct store_window_row *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    if (x->published_ms != y->published_ms)
        return x->published_ms > y->published_ms ? -1 : 1;
    return (x->chunk_id > y->chunk_id) - (x->chunk_id < y->chunk_id);
}

void store__window_sort(struct store_window *w)
{
    qsort(w->v, w->n, sizeof(*w->v), window_cmp);
}

cc_err store__window_bounded(struct store_window *w, const int64_t *ids, const double *rel,
                             size_t n, unsigned k, double fmax, store_meta_fn meta, void *ctx)
{
    double *best = cc_xcalloc(k + 1, sizeof(*best));   /* the top scores, descending */
    size_t nbest = 0;
    cc_err err = CC_OK;
    for (size_t i = 0; !err && i < n; i++) {
        if (nbest == k && rel[i] >= 0.0 && rel[i] * fmax < best[k - 1])
            break;                     /* neither it nor a later row reaches the top k */
        int priority = 0;
        int64_t published = 0;
        err = meta(ctx, ids[i], &priority, &published);
        if (err == CC_ENOTFOUND) {
            err = CC_OK;
            continue;
        }
        if (err)
            break;
        store__window_add(w, ids[i], rel[i], priority, published);
        double score = w->v[w->n - 1].score;
        size_t j = nbest < k ? nbest++ : k;
        for (; j > 0 && best[j - 1] < score; j--) {
            if (j < k)
                best[j] = best[j - 1];
        }
        if (j < k)
            best[j] = score;
    }
    free(best);
    return err;
}
