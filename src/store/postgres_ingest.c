/*
 * postgres_ingest.c - document writes of the PostgreSQL backend: doc_upsert
 * and doc_write_batch (store.h), both through one batched path.
 *
 * A batch is one transaction whose round trips do not grow with its size:
 * the sources are checked (and share-locked against a concurrent delete)
 * in one statement, the jobs marked succeeded in one, the stored documents
 * looked up and locked in one, the new ones inserted in one multi-row
 * INSERT (arrays, unnest), their chunks with their index columns sent in
 * one COPY (which also runs fts_totals' statement trigger once) and the
 * tags in one INSERT. Only updates of changed documents are per document.
 * doc_upsert is a batch of one.
 *
 * An item refused on its own (unknown source, a job no longer ours) is left
 * out before anything of it is written. An error of a statement that may
 * be the fault of one document (text PostgreSQL refuses, a key or foreign
 * key race with another session) rolls the batch back and writes each
 * item in its own transaction, so only that item fails; any other error
 * (connection, lock timeout) fails every item.
 */
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/postgres_int.h"
#include "store/store_int.h"
#include "store/store.h"

#define HASH_LEN 64
#define ARR_LIMIT (256u * 1024u * 1024u)
#define COPY_LIMIT (256u * 1024u * 1024u)
#define COPY_FLUSH (4u * 1024u * 1024u)   /* bytes of chunk rows per COPY, about */
#define BATCH_SOURCES 8

const struct pg_stmt_def pg__ingest_stmts[PS__COUNT] = {
    [PS_SOURCE_ADD_COUNTS] = {"source_add_counts",
        "UPDATE sources SET ingested_total = ingested_total + $2,"
        " failed_total = failed_total + $3 WHERE id = $1"},
    /* Why a job of the batch was not ours: gone or no longer running. */
    [PS_JOB_EXISTS] = {"job_exists", "SELECT 1 FROM jobs WHERE id = $1"},
    [PS_DOC_LOOKUP_LOCK] = {"doc_lookup_lock",
        "SELECT id, content_hash FROM documents WHERE source_id = $1 AND external_id = $2"
        " FOR UPDATE"},
    [PS_DOC_UPDATE] = {"doc_update",
        "UPDATE documents SET url = $2, path = $3, title = $4, authors_json = $5,"
        " published_ms = $6, updated_ms = $7, tags_json = $8, version = $9,"
        " content_hash = $10, metadata_json = $11, ingested_ms = $12 WHERE id = $1"},
    [PS_CHUNK_DELETE_DOC] = {"chunk_delete_doc", "DELETE FROM chunks WHERE document_id = $1"},
    [PS_TAG_DELETE_DOC] = {"tag_delete_doc", "DELETE FROM doc_tags WHERE document_id = $1"},
    /* KEY SHARE: a source delete by another session waits for this batch. */
    [PS_INGEST_SOURCES] = {"ingest_sources",
        "SELECT id FROM sources WHERE id = ANY($1::int8[]) FOR KEY SHARE"},
    [PS_INGEST_JOBS_DONE] = {"ingest_jobs_done",
        "UPDATE jobs SET state = 'succeeded', finished_ms = $3, updated_ms = $3,"
        " lease_owner = NULL, lease_until_ms = 0, payload = NULL"
        " WHERE id = ANY($1::int8[]) AND state = 'running' AND lease_owner = $2 RETURNING id"},
    [PS_INGEST_DOC_LOOKUP] = {"ingest_doc_lookup",
        "SELECT u.i, d.id, d.content_hash"
        " FROM unnest($1::int8[], $2::text[]) WITH ORDINALITY AS u(s, e, i)"
        " JOIN documents d ON d.source_id = u.s AND d.external_id = u.e"
        " ORDER BY d.id FOR UPDATE OF d"},
    /* A key inserted meanwhile by another session is not returned; the
     * caller locks the winner's row and updates it. */
    [PS_INGEST_DOC_INSERT] = {"ingest_doc_insert",
        "INSERT INTO documents (source_id, external_id, url, path, title, authors_json,"
        " published_ms, updated_ms, tags_json, version, content_hash, metadata_json,"
        " ingested_ms)"
        " SELECT s, e, u, p, t, a, pub, upd, tg, v, h, m, ing"
        " FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],"
        "  $7::int8[], $8::int8[], $9::text[], $10::text[], $11::text[], $12::text[],"
        "  $13::int8[]) WITH ORDINALITY AS x(s, e, u, p, t, a, pub, upd, tg, v, h, m, ing, i)"
        " ORDER BY i ON CONFLICT (source_id, external_id) DO NOTHING"
        " RETURNING id, source_id, external_id"},
    [PS_INGEST_TAGS] = {"ingest_tags",
        "INSERT INTO doc_tags (document_id, tag) SELECT * FROM unnest($1::int8[], $2::text[])"
        " ON CONFLICT DO NOTHING"},
};

/* ---- array literals -------------------------------------------------- */

static cc_err arr_sep(struct cc_buf *b)
{
    return cc_buf_addch(b, b->len ? ',' : '{');
}

cc_err pg__arr_textn(struct cc_buf *b, const char *s, size_t n)
{
    cc_err err = arr_sep(b);
    if (!err)
        err = cc_buf_addch(b, '"');
    for (size_t i = 0; !err && i < n; i++) {
        if (s[i] == '"' || s[i] == '\\')
            err = cc_buf_addch(b, '\\');
        if (!err)
            err = cc_buf_addch(b, s[i]);
    }
    return err ? err : cc_buf_addch(b, '"');
}

cc_err pg__arr_text(struct cc_buf *b, const char *s)
{
    if (s)
        return pg__arr_textn(b, s, strlen(s));
    cc_err err = arr_sep(b);
    return err ? err : cc_buf_addstr(b, "NULL");
}

cc_err pg__arr_int(struct cc_buf *b, int64_t v)
{
    cc_err err = arr_sep(b);
    return err ? err : cc_buf_addf(b, "%lld", (long long)v);
}

cc_err pg__arr_bytea(struct cc_buf *b, const void *p, size_t n)
{
    cc_err err = arr_sep(b);
    if (!p)
        return err ? err : cc_buf_addstr(b, "NULL");
    if (!err)
        err = cc_buf_addstr(b, "\"\\\\x");
    for (size_t i = 0; !err && i < n; i++)
        err = cc_buf_addf(b, "%02x", ((const unsigned char *)p)[i]);
    return err ? err : cc_buf_addch(b, '"');
}

cc_err pg__arr_end(struct cc_buf *b)
{
    return b->len ? cc_buf_addch(b, '}') : cc_buf_addstr(b, "{}");
}

/* ---- COPY ------------------------------------------------------------ */

/* A text field of COPY's text format: backslash, tab, newline, CR escaped;
 * NULL is \N. */
static cc_err copy_field(struct cc_buf *b, const char *s, char end)
{
    cc_err err = CC_OK;
    if (!s)
        err = cc_buf_addstr(b, "\\N");
    for (; s && !err && *s; s++) {
        size_t run = strcspn(s, "\\\t\n\r");
        if (run) {
            err = cc_buf_add(b, s, run);
            s += run;
            if (err || !*s)
                break;
        }
        const char *rep = *s == '\\' ? "\\\\" : *s == '\t' ? "\\t" : *s == '\n' ? "\\n" : "\\r";
        err = cc_buf_addstr(b, rep);
    }
    return err ? err : cc_buf_addch(b, end);
}

/* Sends the rows in data (then empties it) through one COPY chunks. */
static cc_err copy_chunks(struct pg_store *s, struct pg_conn *c, struct cc_buf *data)
{
    if (data->len == 0)
        return CC_OK;
    if (data->len > INT_MAX)
        return CC_ELIMIT;
    PGresult *res = PQexec(c->pg, "COPY chunks (document_id, ord, heading, text, ntok, tsv, tf)"
                                  " FROM STDIN");
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        cc_err err = pg__err(s, c, res, "chunk_copy");
        PQclear(res);
        return err;
    }
    PQclear(res);
    bool sent = PQputCopyData(c->pg, data->ptr, (int)data->len) == 1;
    sent = PQputCopyEnd(c->pg, sent ? NULL : "client failed") == 1 && sent;
    cc_err err = CC_OK;
    while ((res = PQgetResult(c->pg)) != NULL) {
        if (!err && PQresultStatus(res) != PGRES_COMMAND_OK)
            err = pg__err(s, c, res, "chunk_copy");
        PQclear(res);
    }
    if (!err && !sent)
        err = pg__err(s, c, NULL, "chunk_copy");
    cc_buf_reset(data);
    return err;
}

/* The COPY rows of a document's chunks, with their index columns. */
static cc_err copy_add_doc(struct pg_conn *c, struct cc_buf *data, const struct store_doc *d,
                           int64_t id)
{
    const char *title = d->title ? d->title : "";
    cc_err err = CC_OK;
    for (size_t i = 0; !err && i < d->nchunks; i++) {
        const struct store_chunk *ch = &d->chunks[i];
        struct pg_chunk_index ix;
        pg__chunk_index_init(&ix);
        err = pg__chunk_index(c, title, ch->heading, ch->text, &ix);
        if (!err)
            err = cc_buf_addf(data, "%lld\t%d\t", (long long)id, ch->ord);
        if (!err)
            err = copy_field(data, ch->heading, '\t');
        if (!err)
            err = copy_field(data, ch->text, '\t');
        if (!err)
            err = cc_buf_addf(data, "%lld\t", (long long)ix.ntok);
        if (!err)
            err = copy_field(data, cc_buf_str(&ix.tsv), '\t');
        if (!err)
            err = copy_field(data, cc_buf_str(&ix.tf), '\n');
        pg__chunk_index_release(&ix);
    }
    return err;
}

/* ---- one round of a batch -------------------------------------------- */

/* An item of the batch with what its validation and lookups found. */
struct witem {
    struct store_doc_write *it;
    char hash[HASH_LEN + 1];
    json_t *tags;
    bool skip;                         /* refused: nothing of it is written */
    bool found;                        /* the document is stored: old_id, old_hash */
    int64_t old_id;
    char old_hash[HASH_LEN + 1];
};

/* Counts per source, written once before COMMIT. */
struct counts {
    size_t n;
    int64_t src[BATCH_SOURCES];
    int64_t ingested[BATCH_SOURCES];
};

struct round {
    struct pg_store *s;
    struct pg_conn *c;
    struct witem *w;
    size_t from, to;                   /* the round's items: w[from, to) */
    struct cc_buf a[13];               /* array parameters */
    struct cc_buf copy;
};

static void round_reset_arrays(struct round *r)
{
    for (size_t i = 0; i < sizeof(r->a) / sizeof(r->a[0]); i++)
        cc_buf_reset(&r->a[i]);
}

static bool live_doc(const struct witem *w)
{
    return !w->skip && w->it->doc;
}

/* Leaves out the doc items whose source does not exist. */
static void row_source_id(const struct pg_row *row, void *ctx)
{
    struct round *r = ctx;
    int64_t id = pg__int(row, 0);
    for (size_t i = r->from; i < r->to; i++) {
        if (live_doc(&r->w[i]) && r->w[i].it->doc->source_id == id)
            r->w[i].found = true;      /* borrowed as "source found" until the lookup */
    }
}

static cc_err round_sources(struct round *r)
{
    cc_err err = CC_OK;
    round_reset_arrays(r);
    for (size_t i = r->from; !err && i < r->to; i++) {
        if (live_doc(&r->w[i]))
            err = pg__arr_int(&r->a[0], r->w[i].it->doc->source_id);
    }
    if (err || r->a[0].len == 0)
        return err;
    err = pg__arr_end(&r->a[0]);
    if (!err)
        err = pg__query(r->s, r->c, PS_INGEST_SOURCES, QPARAMS(QT(cc_buf_str(&r->a[0]))),
                        row_source_id, r, NULL);
    for (size_t i = r->from; !err && i < r->to; i++) {
        struct witem *w = &r->w[i];
        if (live_doc(w) && !w->found) {
            w->it->err = CC_ENOTFOUND;
            w->skip = true;
        }
        w->found = false;
    }
    return err;
}

static void row_job_done(const struct pg_row *row, void *ctx)
{
    struct round *r = ctx;
    int64_t id = pg__int(row, 0);
    for (size_t i = r->from; i < r->to; i++) {
        if (!r->w[i].skip && r->w[i].it->job_id == id)
            r->w[i].found = true;      /* borrowed as "job done" */
    }
}

/* Marks the jobs succeeded; an item whose job is no longer ours is left
 * out (CC_ESTATE, or CC_ENOTFOUND when the job is gone). */
static cc_err round_jobs(struct round *r, const char *owner, int64_t now_ms)
{
    cc_err err = CC_OK;
    round_reset_arrays(r);
    for (size_t i = r->from; !err && i < r->to; i++) {
        if (!r->w[i].skip && r->w[i].it->job_id > 0)
            err = pg__arr_int(&r->a[0], r->w[i].it->job_id);
    }
    if (err || r->a[0].len == 0)
        return err;
    err = pg__arr_end(&r->a[0]);
    if (!err)
        err = pg__query(r->s, r->c, PS_INGEST_JOBS_DONE,
                        QPARAMS(QT(cc_buf_str(&r->a[0])), QT(owner), QI(now_ms)), row_job_done,
                        r, NULL);
    for (size_t i = r->from; !err && i < r->to; i++) {
        struct witem *w = &r->w[i];
        if (!w->skip && w->it->job_id > 0 && !w->found) {
            bool exists = false;
            err = pg__query_int(r->s, r->c, PS_JOB_EXISTS, QPARAMS(QI(w->it->job_id)), NULL,
                                &exists);
            w->it->err = exists ? CC_ESTATE : CC_ENOTFOUND;
            w->skip = true;
        }
        w->found = false;
    }
    return err;
}

struct lookup_ctx {
    struct round *r;
    size_t *idx;                       /* ordinal - 1 -> item */
};

static void row_doc_found(const struct pg_row *row, void *ctx)
{
    struct lookup_ctx *l = ctx;
    struct witem *w = &l->r->w[l->idx[pg__int(row, 0) - 1]];
    const char *hash = pg__text(row, 2);
    w->found = true;
    w->old_id = pg__int(row, 1);
    cc_strlcpy(w->old_hash, hash ? hash : "", sizeof(w->old_hash));
}

/* Finds and locks the stored versions of the round's documents. */
static cc_err round_lookup(struct round *r, size_t *idx)
{
    struct lookup_ctx l = {.r = r, .idx = idx};
    size_t n = 0;
    cc_err err = CC_OK;
    round_reset_arrays(r);
    for (size_t i = r->from; !err && i < r->to; i++) {
        if (!live_doc(&r->w[i]))
            continue;
        err = pg__arr_int(&r->a[0], r->w[i].it->doc->source_id);
        if (!err)
            err = pg__arr_text(&r->a[1], r->w[i].it->doc->external_id);
        idx[n++] = i;
    }
    if (err || n == 0)
        return err;
    err = pg__arr_end(&r->a[0]);
    if (!err)
        err = pg__arr_end(&r->a[1]);
    if (!err)
        err = pg__query(r->s, r->c, PS_INGEST_DOC_LOOKUP,
                        QPARAMS(QT(cc_buf_str(&r->a[0])), QT(cc_buf_str(&r->a[1]))),
                        row_doc_found, &l, NULL);
    return err;
}

static void row_doc_inserted(const struct pg_row *row, void *ctx)
{
    struct round *r = ctx;
    int64_t source_id = pg__int(row, 1);
    const char *ext = pg__text(row, 2);
    for (size_t i = r->from; ext && i < r->to; i++) {
        struct witem *w = &r->w[i];
        if (live_doc(w) && !w->found && w->it->doc->source_id == source_id &&
            strcmp(w->it->doc->external_id, ext) == 0) {
            w->it->doc_id = pg__int(row, 0);
            w->it->result = STORE_CREATED;
        }
    }
}

static bool to_insert(const struct witem *w)
{
    return live_doc(w) && !w->found;
}

/* One multi-row INSERT of the documents not stored yet. */
static cc_err round_insert(struct round *r)
{
    cc_err err = CC_OK;
    bool any = false;
    round_reset_arrays(r);
    for (size_t i = r->from; !err && i < r->to; i++) {
        const struct witem *w = &r->w[i];
        if (!to_insert(w))
            continue;
        const struct store_doc *d = w->it->doc;
        struct cc_buf *a = r->a;
        any = true;
        err = pg__arr_int(&a[0], d->source_id);
        if (!err)
            err = pg__arr_text(&a[1], d->external_id);
        if (!err)
            err = pg__arr_text(&a[2], d->url);
        if (!err)
            err = pg__arr_text(&a[3], d->path);
        if (!err)
            err = pg__arr_text(&a[4], d->title ? d->title : "");
        if (!err)
            err = pg__arr_text(&a[5], d->authors_json);
        if (!err)
            err = pg__arr_int(&a[6], d->published_ms);
        if (!err)
            err = pg__arr_int(&a[7], d->updated_ms);
        if (!err)
            err = pg__arr_text(&a[8], d->tags_json);
        if (!err)
            err = pg__arr_text(&a[9], d->version);
        if (!err)
            err = pg__arr_text(&a[10], w->hash);
        if (!err)
            err = pg__arr_text(&a[11], d->metadata_json);
        if (!err)
            err = pg__arr_int(&a[12], d->ingested_ms);
    }
    if (err || !any)
        return err;
    for (size_t i = 0; !err && i < 13; i++)
        err = pg__arr_end(&r->a[i]);
    if (err)
        return err;
    const char *v[13];
    for (size_t i = 0; i < 13; i++)
        v[i] = cc_buf_str(&r->a[i]);
    return pg__query(r->s, r->c, PS_INGEST_DOC_INSERT,
                     QPARAMS(QT(v[0]), QT(v[1]), QT(v[2]), QT(v[3]), QT(v[4]), QT(v[5]),
                             QT(v[6]), QT(v[7]), QT(v[8]), QT(v[9]), QT(v[10]), QT(v[11]),
                             QT(v[12])),
                     row_doc_inserted, r, NULL);
}

static void row_lock_key(const struct pg_row *row, void *ctx)
{
    struct witem *w = ctx;
    const char *hash = pg__text(row, 1);
    w->found = true;
    w->old_id = pg__int(row, 0);
    cc_strlcpy(w->old_hash, hash ? hash : "", sizeof(w->old_hash));
}

/* A stored document that changed: its row updated in place (same id), its
 * chunks and tags dropped (the new ones follow). */
static cc_err update_doc(struct round *r, struct witem *w)
{
    const struct store_doc *d = w->it->doc;
    int64_t id = w->old_id;
    cc_err err = pg__query(r->s, r->c, PS_DOC_UPDATE,
                           QPARAMS(QI(id), QT(d->url), QT(d->path), QT(d->title ? d->title : ""),
                                   QT(d->authors_json), QI(d->published_ms),
                                   QI(d->updated_ms), QT(d->tags_json), QT(d->version),
                                   QT(w->hash), QT(d->metadata_json), QI(d->ingested_ms)),
                           NULL, NULL, NULL);
    if (!err)
        err = pg__query(r->s, r->c, PS_CHUNK_DELETE_DOC, QPARAMS(QI(id)), NULL, NULL, NULL);
    if (!err)
        err = pg__query(r->s, r->c, PS_TAG_DELETE_DOC, QPARAMS(QI(id)), NULL, NULL, NULL);
    if (!err) {
        w->it->doc_id = id;
        w->it->result = STORE_UPDATED;
    }
    return err;
}

static cc_err counts_add(struct round *r, struct counts *cn, int64_t source_id)
{
    for (size_t i = 0; i < cn->n; i++) {
        if (cn->src[i] == source_id) {
            cn->ingested[i]++;
            return CC_OK;
        }
    }
    if (cn->n == BATCH_SOURCES)        /* many sources in one batch: no pending count */
        return pg__query(r->s, r->c, PS_SOURCE_ADD_COUNTS, QPARAMS(QI(source_id), QI(1), QI(0)),
                         NULL, NULL, NULL);
    cn->src[cn->n] = source_id;
    cn->ingested[cn->n++] = 1;
    return CC_OK;
}

/* Results of the lookups, updates, then the chunks and tags of every
 * written document. */
static cc_err round_write(struct round *r, struct counts *cn)
{
    cc_err err = CC_OK;
    round_reset_arrays(r);
    for (size_t i = r->from; !err && i < r->to; i++) {
        struct witem *w = &r->w[i];
        if (!live_doc(w))
            continue;
        const struct store_doc *d = w->it->doc;
        if (!w->found && w->it->result != STORE_CREATED) {
            /* inserted meanwhile by another session: update its row */
            err = pg__query(r->s, r->c, PS_DOC_LOOKUP_LOCK,
                            QPARAMS(QI(d->source_id), QT(d->external_id)), row_lock_key, w, NULL);
            if (!err && !w->found)
                err = CC_EAGAIN;
            if (!err)
                err = update_doc(r, w);
        } else if (w->found && strcmp(w->old_hash, w->hash) == 0) {
            w->it->doc_id = w->old_id;
            w->it->result = STORE_UNCHANGED;
            continue;
        } else if (w->found) {
            err = update_doc(r, w);
        }
        if (!err)
            err = copy_add_doc(r->c, &r->copy, d, w->it->doc_id);
        if (!err && r->copy.len >= COPY_FLUSH)
            err = copy_chunks(r->s, r->c, &r->copy);
        for (size_t t = 0; !err && t < json_array_size(w->tags); t++) {
            err = pg__arr_int(&r->a[0], w->it->doc_id);
            if (!err)
                err = pg__arr_text(&r->a[1], json_string_value(json_array_get(w->tags, t)));
        }
        if (!err && w->it->count)
            err = counts_add(r, cn, d->source_id);
    }
    if (!err)
        err = copy_chunks(r->s, r->c, &r->copy);
    if (!err && r->a[0].len) {
        err = pg__arr_end(&r->a[0]);
        if (!err)
            err = pg__arr_end(&r->a[1]);
        if (!err)
            err = pg__query(r->s, r->c, PS_INGEST_TAGS,
                            QPARAMS(QT(cc_buf_str(&r->a[0])), QT(cc_buf_str(&r->a[1]))), NULL,
                            NULL, NULL);
    }
    return err;
}

/* The end of the round that starts at from: before the first document
 * whose key an earlier item of the round has (it must see that write). */
static size_t round_end(const struct witem *w, size_t from, size_t n)
{
    for (size_t i = from + 1; i < n; i++) {
        const struct store_doc *d = w[i].it->doc;
        for (size_t j = from; d && j < i; j++) {
            const struct store_doc *e = w[j].it->doc;
            if (e && e->source_id == d->source_id && strcmp(e->external_id, d->external_id) == 0)
                return i;
        }
    }
    return n;
}

/* Every item of w[0, n) inside the caller's transaction. */
static cc_err write_items(struct pg_store *s, struct pg_conn *c, const char *owner,
                          int64_t now_ms, struct witem *w, size_t n)
{
    struct round r = {.s = s, .c = c, .w = w};
    struct counts cn = {0};
    size_t *idx = cc_xcalloc(n ? n : 1, sizeof(*idx));
    cc_err err = CC_OK;
    for (size_t i = 0; i < sizeof(r.a) / sizeof(r.a[0]); i++)
        cc_buf_init(&r.a[i], ARR_LIMIT);
    cc_buf_init(&r.copy, COPY_LIMIT);
    for (size_t from = 0; !err && from < n; from = r.to) {
        r.from = from;
        r.to = round_end(w, from, n);
        err = round_sources(&r);
        if (!err)
            err = round_jobs(&r, owner, now_ms);
        if (!err)
            err = round_lookup(&r, idx);
        if (!err)
            err = round_insert(&r);
        if (!err)
            err = round_write(&r, &cn);
    }
    for (size_t i = 0; !err && i < cn.n; i++)
        err = pg__query(s, c, PS_SOURCE_ADD_COUNTS,
                        QPARAMS(QI(cn.src[i]), QI(cn.ingested[i]), QI(0)), NULL, NULL, NULL);
    for (size_t i = 0; i < sizeof(r.a) / sizeof(r.a[0]); i++)
        cc_buf_release(&r.a[i]);
    cc_buf_release(&r.copy);
    free(idx);
    return err;
}

static void witem_reset(struct witem *w)
{
    w->it->result = STORE_UNCHANGED;
    w->it->doc_id = 0;
    w->found = false;
    w->old_id = 0;
    w->old_hash[0] = '\0';
}

/* One transaction over w[0, n). */
static cc_err write_tx(struct pg_store *s, struct pg_conn *c, const char *owner, int64_t now_ms,
                       struct witem *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        witem_reset(&w[i]);
    cc_err err = pg__begin(s, c);
    if (!err)
        err = write_items(s, c, owner, now_ms, w, n);
    if (!err)
        err = pg__commit(s, c);
    if (err) {
        pg__rollback(s, c);
        for (size_t i = 0; i < n; i++)
            witem_reset(&w[i]);
    }
    return err;
}

/* Errors that one document can cause (text PostgreSQL refuses, a key or
 * foreign key taken or removed by another session meanwhile); a lock
 * timeout is not retried item by item. */
static bool item_error(cc_err err)
{
    return err == CC_EINVAL || err == CC_ECONFLICT || err == CC_ENOTFOUND;
}

cc_err pg__doc_write_batch(struct store *st, const char *owner, int64_t now_ms,
                           struct store_doc_write *items, size_t n)
{
    struct pg_store *s = pg__from_store(st);
    struct pg_conn *c = NULL;
    struct witem *w = cc_xcalloc(n ? n : 1, sizeof(*w));
    for (size_t i = 0; i < n; i++) {
        w[i].it = &items[i];
        items[i].err = CC_OK;
        if (items[i].doc)
            items[i].err = store__doc_validate(items[i].doc, w[i].hash, &w[i].tags);
        w[i].skip = items[i].err != CC_OK;
        witem_reset(&w[i]);
    }
    cc_err err = pg__conn_get(s, &c);
    if (!err) {
        err = write_tx(s, c, owner, now_ms, w, n);
        /* One item's fault: each item alone, so that only it fails. */
        bool alone = n > 1 && item_error(err);
        for (size_t i = 0; alone && i < n; i++) {
            if (w[i].skip)
                continue;              /* refused: its err is set */
            cc_err e = write_tx(s, c, owner, now_ms, &w[i], 1);
            if (e)
                items[i].err = e;      /* else CC_OK, or the refusal found inside */
        }
        if (alone)
            err = CC_OK;
        pg__conn_put(s, c);
    }
    for (size_t i = 0; i < n; i++) {
        if (err) {
            items[i].err = err;
            witem_reset(&w[i]);
        }
        json_decref(w[i].tags);
    }
    free(w);
    return err;
}

cc_err pg__doc_upsert(struct store *st, const struct store_doc *d,
                      enum store_upsert *out_result, int64_t *out_id)
{
    struct store_doc_write it = {.doc = d};
    /* owner is not used without a job */
    cc_err err = pg__doc_write_batch(st, "-", 0, &it, 1);
    if (!err)
        err = it.err;
    if (err)
        return err;
    if (out_result)
        *out_result = it.result;
    if (out_id)
        *out_id = it.doc_id;
    return CC_OK;
}
