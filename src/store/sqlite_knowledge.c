/*
 * sqlite_knowledge.c - writing documents (chunks, index rows, tags) and
 * search for the SQLite backend (store.h; design in docs/KNOWLEDGE.md,
 * schema in migrations/sqlite/0002_knowledge.sql). Sources and reading
 * documents are the shared SQL layer's (store_sql.c).
 *
 * Documents are replaced whole: doc_upsert rewrites the row (keeping its
 * id), deletes the old chunks and tags and inserts the new ones in one
 * BEGIN IMMEDIATE transaction on the writer. The FTS5 index follows the
 * chunks table through triggers, so every path that removes chunks
 * (upsert, doc delete, the cascade from a source delete) cleans it too.
 *
 * Search never hands user text to FTS5 as syntax: store__fts_query()
 * rebuilds it as an OR of quoted terms. It runs in one read transaction:
 * the best max(20k, 200) chunks by BM25 (filters applied in SQL), re-sorted
 * here by relevance x store_priority_factor(priority), then one snippet
 * query per returned hit, so snippets are computed for k rows, not for
 * every match.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/sqlite_int.h"
#include "store/store_int.h"
#include "store/store.h"

#define HASH_LEN 64
#define SNIPPET_LIMIT (256u * 1024u)

#define HIT_JOINS                                                                      \
    " FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid"                        \
    " JOIN documents d ON d.id = c.document_id JOIN sources s ON s.id = d.source_id"

const struct stmt_def sqlite__knowledge_stmts[ST__COUNT] = {
    [ST_SOURCE_ADD_COUNTS] = {"source_add_counts",
        "UPDATE sources SET ingested_total = ingested_total + ?2,"
        " failed_total = failed_total + ?3 WHERE id = ?1"},
    [ST_SOURCE_EXISTS] = {"source_exists", "SELECT 1 FROM sources WHERE id = ?1"},
    [ST_DOC_LOOKUP] = {"doc_lookup",
        "SELECT id, content_hash FROM documents WHERE source_id = ?1 AND external_id = ?2"},
    [ST_DOC_INSERT] = {"doc_insert",
        "INSERT INTO documents (source_id, external_id, url, path, title, authors_json,"
        " published_ms, updated_ms, tags_json, version, content_hash, metadata_json,"
        " ingested_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"},
    [ST_DOC_UPDATE] = {"doc_update",
        "UPDATE documents SET url = ?2, path = ?3, title = ?4, authors_json = ?5,"
        " published_ms = ?6, updated_ms = ?7, tags_json = ?8, version = ?9,"
        " content_hash = ?10, metadata_json = ?11, ingested_ms = ?12 WHERE id = ?1"},
    [ST_CHUNK_INSERT] = {"chunk_insert",
        "INSERT INTO chunks (document_id, ord, heading, text) VALUES (?1, ?2, ?3, ?4)"},
    /* chunks_fts has external content (0004): its rows are written here,
     * and deleted with the exact values they were indexed with. */
    [ST_FTS_INSERT] = {"fts_insert",
        "INSERT INTO chunks_fts (rowid, title, heading, body) VALUES (?1, ?2, ?3, ?4)"},
    [ST_FTS_DELETE_DOC] = {"fts_delete_doc",
        "INSERT INTO chunks_fts (chunks_fts, rowid, title, heading, body)"
        " SELECT 'delete', c.id, d.title, c.heading, c.text"
        " FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.document_id = ?1"},
    [ST_CHUNK_DELETE_DOC] = {"chunk_delete_doc", "DELETE FROM chunks WHERE document_id = ?1"},
    [ST_TAG_INSERT] = {"tag_insert",
        "INSERT OR IGNORE INTO doc_tags (document_id, tag) VALUES (?1, ?2)"},
    [ST_TAG_DELETE_DOC] = {"tag_delete_doc", "DELETE FROM doc_tags WHERE document_id = ?1"},
    [ST_SEARCH_WINDOW] = {"search_window",
        "SELECT chunks_fts.rowid, -bm25(chunks_fts, 4.0, 2.0, 1.0) AS relevance,"
        " s.priority, d.published_ms" HIT_JOINS
        " WHERE chunks_fts MATCH ?1"
        " AND (?2 = 0 OR d.source_id = ?2)"
        " AND (?3 IS NULL OR EXISTS (SELECT 1 FROM doc_tags t"
        "      WHERE t.document_id = d.id AND t.tag = ?3))"
        " AND (?4 = 0 OR COALESCE(NULLIF(d.published_ms, 0), d.updated_ms) >= ?4)"
        " AND (?5 IS NULL OR d.version = ?5)"
        " ORDER BY relevance DESC, chunks_fts.rowid LIMIT ?6"},
    /* Without filters the window comes straight from FTS5 (a top-N sort
     * over the index alone); only the window's rows are joined. */
    [ST_SEARCH_WINDOW_FAST] = {"search_window_fast",
        "SELECT f.id, f.relevance, s.priority, d.published_ms FROM"
        " (SELECT rowid AS id, -bm25(chunks_fts, 4.0, 2.0, 1.0) AS relevance"
        "  FROM chunks_fts WHERE chunks_fts MATCH ?1"
        "  ORDER BY bm25(chunks_fts, 4.0, 2.0, 1.0), rowid LIMIT ?2) f"
        " JOIN chunks c ON c.id = f.id JOIN documents d ON d.id = c.document_id"
        " JOIN sources s ON s.id = d.source_id"
        " ORDER BY f.relevance DESC, f.id"},
    /* The window by FTS5 alone; its rows' priorities and dates are looked
     * up one by one, only as far as they can still change the top k. */
    [ST_SEARCH_FTS] = {"search_fts",
        "SELECT rowid, -bm25(chunks_fts, 4.0, 2.0, 1.0) FROM chunks_fts"
        " WHERE chunks_fts MATCH ?1 ORDER BY bm25(chunks_fts, 4.0, 2.0, 1.0), rowid LIMIT ?2"},
    [ST_SEARCH_META] = {"search_meta",
        "SELECT s.priority, d.published_ms FROM chunks c JOIN documents d ON d.id = c.document_id"
        " JOIN sources s ON s.id = d.source_id WHERE c.id = ?1"},
    [ST_SOURCE_MAX_PRIORITY] = {"source_max_priority",
        "SELECT COALESCE(MAX(priority), 10) FROM sources"},
    /* Snippet markers are control characters no tokenizer emits, escaped
     * to HTML afterwards; 24 tokens of the body column. */
    [ST_SEARCH_HIT] = {"search_hit",
        "SELECT snippet(chunks_fts, 2, char(2), char(3), '\xe2\x80\xa6', 24),"
        " d.id, d.source_id, s.name, s.priority, d.title, c.heading, d.url, d.version,"
        " d.published_ms" HIT_JOINS
        " WHERE chunks_fts MATCH ?1 AND chunks_fts.rowid = ?2"},
};

/* ---- documents: writing ---------------------------------------------- */

struct doc_key {
    int64_t id;
    char hash[HASH_LEN + 1];
    bool found;
};

static void row_doc_key(sqlite3_stmt *st, void *ctx)
{
    struct doc_key *k = ctx;
    const char *hash = sqlite__col_text(st, 1);
    k->id = sqlite3_column_int64(st, 0);
    cc_strlcpy(k->hash, hash ? hash : "", sizeof(k->hash));
    k->found = true;
}

/* The document row itself: updated in place (same id) or inserted. */
static cc_err doc_write_row(struct sqlite_store *s, struct conn *c, const struct store_doc *d,
                            const char *hash, const struct doc_key *old, int64_t *out_id)
{
    const char *title = d->title ? d->title : "";
    struct write_result res = {0};
    cc_err err;
    if (old->found) {
        /* The index rows go first, while the stored title and chunks are
         * the values they were indexed with. */
        err = sqlite__exec(s, c, ST_FTS_DELETE_DOC, PARAMS(PI(old->id)), NULL);
        if (!err)
            err = sqlite__exec(s, c, ST_DOC_UPDATE,
                           PARAMS(PI(old->id), PT(d->url), PT(d->path), PT(title),
                                  PT(d->authors_json), PI(d->published_ms), PI(d->updated_ms),
                                  PT(d->tags_json), PT(d->version), PT(hash),
                                  PT(d->metadata_json), PI(d->ingested_ms)),
                           NULL);
        if (!err)
            err = sqlite__exec(s, c, ST_CHUNK_DELETE_DOC, PARAMS(PI(old->id)), NULL);
        if (!err)
            err = sqlite__exec(s, c, ST_TAG_DELETE_DOC, PARAMS(PI(old->id)), NULL);
        if (!err)
            *out_id = old->id;
        return err;
    }
    err = sqlite__exec(s, c, ST_DOC_INSERT,
                       PARAMS(PI(d->source_id), PT(d->external_id), PT(d->url), PT(d->path),
                              PT(title), PT(d->authors_json), PI(d->published_ms),
                              PI(d->updated_ms), PT(d->tags_json), PT(d->version), PT(hash),
                              PT(d->metadata_json), PI(d->ingested_ms)),
                       &res);
    if (!err)
        *out_id = res.rowid;
    return err;
}

/* Chunks with their index rows (title as in the document row), and tags
 * of document `id`. */
static cc_err doc_write_parts(struct sqlite_store *s, struct conn *c, const struct store_doc *d,
                              int64_t id, json_t *tags)
{
    cc_err err = CC_OK;
    const char *title = d->title ? d->title : "";
    for (size_t i = 0; !err && i < d->nchunks; i++) {
        const struct store_chunk *ch = &d->chunks[i];
        struct write_result res = {0};
        err = sqlite__exec(s, c, ST_CHUNK_INSERT,
                           PARAMS(PI(id), PI(ch->ord), PT(ch->heading), PT(ch->text)), &res);
        if (!err)
            err = sqlite__exec(s, c, ST_FTS_INSERT,
                               PARAMS(PI(res.rowid), PT(title), PT(ch->heading), PT(ch->text)),
                               NULL);
    }
    for (size_t i = 0; !err && i < json_array_size(tags); i++) {
        const char *tag = json_string_value(json_array_get(tags, i));
        err = sqlite__exec(s, c, ST_TAG_INSERT, PARAMS(PI(id), PT(tag)), NULL);
    }
    return err;
}

/* Inside a BEGIN IMMEDIATE transaction on the writer: the upsert of a
 * validated document (hash normalized, tags parsed). */
static cc_err upsert_locked(struct sqlite_store *s, struct conn *c, const struct store_doc *d,
                            const char *hash, json_t *tags, bool source_known,
                            enum store_upsert *out_result, int64_t *out_id)
{
    struct doc_key old = {0};
    bool source_found = source_known;
    int64_t id = 0;
    cc_err err = source_known ? CC_OK
                              : sqlite__query_int(s, c, ST_SOURCE_EXISTS,
                                                  PARAMS(PI(d->source_id)), NULL, &source_found);
    if (!err && !source_found)
        err = CC_ENOTFOUND;
    if (!err)
        err = sqlite__query(s, c, ST_DOC_LOOKUP, PARAMS(PI(d->source_id), PT(d->external_id)),
                            row_doc_key, &old, NULL);
    if (err)
        return err;
    enum store_upsert result = !old.found ? STORE_CREATED
                             : strcmp(old.hash, hash) == 0 ? STORE_UNCHANGED
                             : STORE_UPDATED;
    if (result == STORE_UNCHANGED)
        id = old.id;
    else
        err = doc_write_row(s, c, d, hash, &old, &id);
    if (!err && result != STORE_UNCHANGED)
        err = doc_write_parts(s, c, d, id, tags);
    if (!err) {
        *out_result = result;
        *out_id = id;
    }
    return err;
}

cc_err sqlite__doc_upsert(struct store *st, const struct store_doc *d,
                          enum store_upsert *out_result, int64_t *out_id)
{
    struct sqlite_store *s = sqlite__from_store(st);
    char hash[HASH_LEN + 1];
    json_t *tags = NULL;
    enum store_upsert result = STORE_UNCHANGED;
    int64_t id = 0;
    cc_err err = store__doc_validate(d, hash, &tags);
    if (err)
        return err;
    struct conn *c = sqlite__writer_get(s);
    err = sqlite__begin(s, c, ST_BEGIN_IMMEDIATE);
    if (!err)
        err = upsert_locked(s, c, d, hash, tags, false, &result, &id);
    if (!err)
        err = sqlite__commit(s, c);
    if (err)
        sqlite__rollback(c);
    sqlite__writer_put(s);
    json_decref(tags);
    if (err)
        return err;
    if (out_result)
        *out_result = result;
    if (out_id)
        *out_id = id;
    return CC_OK;
}

/* What a batch learns as it goes, inside its transaction: the source
 * last found (the write lock keeps it there), and the counts to add per
 * source, written once before COMMIT instead of one UPDATE per document. */
#define BATCH_SOURCES 8
struct batch_acc {
    int64_t known_source;
    size_t nsrc;
    int64_t src[BATCH_SOURCES];
    int64_t ingested[BATCH_SOURCES];
};

/* Adds to the source's pending count; CC_OK or the error of flushing
 * when BATCH_SOURCES distinct sources are pending already. */
static cc_err acc_count(struct sqlite_store *s, struct conn *c, struct batch_acc *acc,
                        int64_t source_id)
{
    for (size_t i = 0; i < acc->nsrc; i++) {
        if (acc->src[i] == source_id) {
            acc->ingested[i]++;
            return CC_OK;
        }
    }
    if (acc->nsrc == BATCH_SOURCES)   /* many sources in one batch: no pending count */
        return sqlite__exec(s, c, ST_SOURCE_ADD_COUNTS, PARAMS(PI(source_id), PI(1), PI(0)),
                            NULL);
    acc->src[acc->nsrc] = source_id;
    acc->ingested[acc->nsrc++] = 1;
    return CC_OK;
}

/* One item of a batch: the job's success first - when it fails (the
 * lease was lost) nothing of the item was written - then the document and
 * its count. *out_wrote tells whether a failure may have left writes. */
static cc_err write_item_locked(struct sqlite_store *s, struct conn *c, const char *owner,
                                int64_t now_ms, struct store_doc_write *it, const char *hash,
                                json_t *tags, struct batch_acc *acc, bool *out_wrote)
{
    cc_err err = CC_OK;
    *out_wrote = false;
    if (it->job_id > 0)
        err = sqlite__job_succeed_locked(s, c, it->job_id, owner, now_ms);
    if (err)
        return err;
    *out_wrote = true;
    if (!it->doc)
        return CC_OK;
    err = upsert_locked(s, c, it->doc, hash, tags, acc->known_source == it->doc->source_id,
                        &it->result, &it->doc_id);
    if (!err)
        acc->known_source = it->doc->source_id;
    if (!err && it->count && it->result != STORE_UNCHANGED)
        err = acc_count(s, c, acc, it->doc->source_id);
    return err;
}

/* One try at the batch in one BEGIN IMMEDIATE transaction. An item that
 * fails after writing something: the transaction is rolled back and
 * *out_retry set (the caller tries again without it). No savepoint per
 * item: FTS5 flushes its pending terms to a new segment at every
 * savepoint, which would cost about what a commit per document does. */
static cc_err write_batch_try(struct sqlite_store *s, struct conn *c, const char *owner,
                              int64_t now_ms, struct store_doc_write *items, size_t n,
                              const bool *skip, char (*hashes)[HASH_LEN + 1], json_t **tags,
                              bool *out_retry)
{
    struct batch_acc acc = {0};
    *out_retry = false;
    cc_err err = sqlite__begin(s, c, ST_BEGIN_IMMEDIATE);
    for (size_t i = 0; !err && i < n; i++) {
        struct store_doc_write *it = &items[i];
        bool wrote = false;
        if (skip[i])
            continue;
        it->result = STORE_UNCHANGED;
        it->doc_id = 0;
        it->err = write_item_locked(s, c, owner, now_ms, it, hashes[i], tags[i], &acc, &wrote);
        if (it->err && (wrote || sqlite3_get_autocommit(c->db))) {
            it->result = STORE_UNCHANGED;
            it->doc_id = 0;
            *out_retry = true;
            sqlite__rollback(c);
            return CC_OK;
        }
    }
    for (size_t i = 0; !err && i < acc.nsrc; i++)
        err = sqlite__exec(s, c, ST_SOURCE_ADD_COUNTS,
                           PARAMS(PI(acc.src[i]), PI(acc.ingested[i]), PI(0)), NULL);
    if (!err)
        err = sqlite__commit(s, c);
    if (err)
        sqlite__rollback(c);
    return err;
}

/* The whole batch in one transaction; an item that fails is left out and
 * the others are written (a retry per failing item, which is rare: the
 * documents were validated before and a lost lease writes nothing). An
 * error of the transaction itself (busy, I/O, a full disk) fails every
 * item. */
cc_err sqlite__doc_write_batch(struct store *st, const char *owner, int64_t now_ms,
                               struct store_doc_write *items, size_t n)
{
    struct sqlite_store *s = sqlite__from_store(st);
    char (*hashes)[HASH_LEN + 1] = cc_xcalloc(n ? n : 1, sizeof(*hashes));
    json_t **tags = cc_xcalloc(n ? n : 1, sizeof(*tags));
    bool *skip = cc_xcalloc(n ? n : 1, sizeof(*skip));
    for (size_t i = 0; i < n; i++) {
        items[i].err = CC_OK;
        items[i].result = STORE_UNCHANGED;
        items[i].doc_id = 0;
        if (items[i].doc)
            items[i].err = store__doc_validate(items[i].doc, hashes[i], &tags[i]);
        skip[i] = items[i].err != CC_OK;
    }
    struct conn *c = sqlite__writer_get(s);
    cc_err err = CC_OK;
    for (size_t tries = 0; tries <= n; tries++) {
        bool retry = false;
        err = write_batch_try(s, c, owner, now_ms, items, n, skip, hashes, tags, &retry);
        if (err || !retry)
            break;
        for (size_t i = 0; i < n; i++)
            skip[i] = skip[i] || items[i].err != CC_OK;
    }
    sqlite__writer_put(s);
    if (err) {
        for (size_t i = 0; i < n; i++) {
            items[i].err = err;
            items[i].result = STORE_UNCHANGED;
            items[i].doc_id = 0;
        }
    }
    for (size_t i = 0; i < n; i++)
        json_decref(tags[i]);
    free(skip);
    free(tags);
    free(hashes);
    return err;
}

/* ---- search: ranking ------------------------------------------------- */

static void row_window(sqlite3_stmt *st, void *ctx)
{
    store__window_add(ctx, sqlite3_column_int64(st, 0), sqlite3_column_double(st, 1),
                      sqlite3_column_int(st, 2), sqlite3_column_int64(st, 3));
}

/* One hit: the snippet query for a chunk of the window (ST_SEARCH_HIT for a
 * BM25 match, ST_VEC_HIT for a vector-only one: same columns), then the
 * callback. */
static cc_err emit_hit(struct sqlite_store *s, struct conn *c, const char *fts,
                       const struct store_window_row *w, struct cc_buf *html, store_hit_cb cb,
                       void *arg)
{
    sqlite3_stmt *st = NULL;
    cc_err err = w->lexical
                     ? sqlite__stmt(s, c, ST_SEARCH_HIT, PARAMS(PT(fts), PI(w->chunk_id)), &st)
                     : sqlite__stmt(s, c, ST_VEC_HIT, PARAMS(PI(w->chunk_id)), &st);
    if (err)
        return err;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        goto out;                      /* cannot happen inside the read transaction */
    if (rc != SQLITE_ROW) {
        err = sqlite__db_err(s, c->db, rc, "search_hit");
        goto out;
    }
    cc_buf_reset(html);
    err = store__snippet_html(sqlite__col_text(st, 0), html);
    if (err)
        goto out;
    struct store_hit h = {
        .doc_id = sqlite3_column_int64(st, 1),
        .chunk_id = w->chunk_id,
        .source_id = sqlite3_column_int64(st, 2),
        .source = sqlite__col_text(st, 3),
        .priority = sqlite3_column_int(st, 4),
        .title = sqlite__col_text(st, 5),
        .heading = sqlite__col_text(st, 6),
        .url = sqlite__col_text(st, 7),
        .version = sqlite__col_text(st, 8),
        .published_ms = sqlite3_column_int64(st, 9),
        .relevance = w->relevance,
        .score = w->score,
        .snippet_html = cc_buf_str(html),
    };
    cb(arg, &h);
out:
    sqlite__stmt_done(st);
    return err;
}

struct fts_rows {
    int64_t *id;
    double *rel;
    size_t n, cap;
};

static void row_fts(sqlite3_stmt *st, void *ctx)
{
    struct fts_rows *r = ctx;
    if (r->n == r->cap)
        return;                        /* LIMIT keeps this from happening */
    r->id[r->n] = sqlite3_column_int64(st, 0);
    r->rel[r->n++] = sqlite3_column_double(st, 1);
}

struct meta_ctx {
    struct sqlite_store *s;
    struct conn *c;
};

static cc_err window_meta(void *ctx, int64_t chunk_id, int *out_priority,
                          int64_t *out_published_ms)
{
    struct meta_ctx *m = ctx;
    sqlite3_stmt *st = NULL;
    cc_err err = sqlite__stmt(m->s, m->c, ST_SEARCH_META, PARAMS(PI(chunk_id)), &st);
    if (err)
        return err;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out_priority = sqlite3_column_int(st, 0);
        *out_published_ms = sqlite3_column_int64(st, 1);
    } else {
        err = rc == SQLITE_DONE ? CC_ENOTFOUND : sqlite__db_err(m->s, m->c->db, rc, "search");
    }
    sqlite__stmt_done(st);
    return err;
}

/* Without filters or vectors: the window from FTS5 alone, and its rows'
 * priorities and dates only as far as they can reach the top k. */
static cc_err window_bounded(struct sqlite_store *s, struct conn *c, const char *fts, unsigned k,
                             struct store_window *w)
{
    struct fts_rows r = {.id = cc_xcalloc(w->cap, sizeof(int64_t)),
                         .rel = cc_xcalloc(w->cap, sizeof(double)), .cap = w->cap};
    int64_t max_priority = 10;
    struct meta_ctx m = {.s = s, .c = c};
    cc_err err = sqlite__query(s, c, ST_SEARCH_FTS, PARAMS(PT(fts), PI(w->cap)), row_fts, &r,
                               NULL);
    if (!err && r.n)
        err = sqlite__query_int(s, c, ST_SOURCE_MAX_PRIORITY, NULL, &max_priority, NULL);
    if (!err && r.n)
        err = store__window_bounded(w, r.id, r.rel, r.n, k,
                                    store_priority_factor((int)max_priority), window_meta, &m);
    free(r.id);
    free(r.rel);
    return err;
}

/* The window by relevance, fused with the vector ranking when asked,
 * re-sorted by score, top k emitted. */
static cc_err search_run(struct sqlite_store *s, struct conn *c, const struct store_search *q,
                         unsigned k, const char *fts, store_hit_cb cb, void *arg)
{
    struct store_window w;
    struct cc_buf html;
    cc_buf_init(&html, SNIPPET_LIMIT);
    store__window_init(&w, k);
    bool filtered = q->source_id || q->tag || q->since_ms || q->version;
    cc_err err = !filtered && !q->vec ? window_bounded(s, c, fts, k, &w)
               : filtered
                     ? sqlite__query(s, c, ST_SEARCH_WINDOW,
                                     PARAMS(PT(fts), PI(q->source_id), PT(q->tag),
                                            PI(q->since_ms), PT(q->version), PI(w.cap)),
                                     row_window, &w, NULL)
                     : sqlite__query(s, c, ST_SEARCH_WINDOW_FAST, PARAMS(PT(fts), PI(w.cap)),
                                     row_window, &w, NULL);
    if (!err && q->vec) {
        struct store_vec_hit *vh = NULL;
        size_t nv = 0;
        err = sqlite__vector_scan(s, c, q->vec, q->dims, q->model, q, (unsigned)w.cap, &vh,
                                  &nv);
        if (!err)
            store__window_fuse(&w, vh, nv);
        free(vh);
    }
    if (!err)
        store__window_sort(&w);
    for (size_t i = 0; !err && i < w.n && i < k; i++)
        err = emit_hit(s, c, fts, &w.v[i], &html, cb, arg);
    cc_buf_release(&html);
    store__window_release(&w);
    return err;
}

cc_err sqlite__search(struct store *st, const struct store_search *q, store_hit_cb cb,
                      void *arg)
{
    struct sqlite_store *s = sqlite__from_store(st);
    struct conn *c = NULL;
    struct cc_buf fts;
    unsigned k = 0;
    cc_buf_init(&fts, STORE_FTS_QUERY_LIMIT);
    cc_err err = store__search_query(q, &k, &fts);
    if (err)
        goto out;
    err = sqlite__reader_get(s, &c);
    if (err)
        goto out;
    err = sqlite__begin(s, c, ST_BEGIN);
    if (!err)
        err = search_run(s, c, q, k, cc_buf_str(&fts), cb, arg);
    if (!err)
        err = sqlite__commit(s, c);
    if (err)
        sqlite__rollback(c);
    sqlite__reader_put(s, c);
out:
    cc_buf_release(&fts);
    return err;
}
