/*
 * postgres_knowledge.c - sources and reading and deleting documents for the
 * PostgreSQL backend (store.h; schema in migrations/postgres/0002_knowledge.sql).
 * Documents are written by postgres_ingest.c; the full-text index and
 * search live in postgres_search.c.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "store/postgres_int.h"
#include "store/store_int.h"
#include "store/store.h"

#define HASH_LEN 64

#define SOURCE_COLS                                                                    \
    "id, name, type, url, path, schedule, tz, priority, enabled, auth_json,"           \
    " options_json, created_ms, updated_ms, last_run_ms, last_status, last_error,"    \
    " next_run_ms, failures, runs_total, ingested_total, failed_total,"               \
    " (SELECT COUNT(*) FROM documents d WHERE d.source_id = sources.id)"
#define DOC_COLS                                                                       \
    "id, source_id, external_id, url, path, title, authors_json, published_ms,"        \
    " updated_ms, tags_json, version, content_hash, metadata_json, ingested_ms"

const struct pg_stmt_def pg__knowledge_stmts[PS__COUNT] = {
    [PS_SOURCE_INSERT] = {"source_insert",
        "INSERT INTO sources (name, type, url, path, schedule, tz, priority, enabled,"
        " auth_json, options_json, created_ms, updated_ms)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id"},
    [PS_SOURCE_UPDATE] = {"source_update",
        "UPDATE sources SET name = $2, type = $3, url = $4, path = $5, schedule = $6,"
        " tz = $7, priority = $8, enabled = $9, auth_json = $10, options_json = $11,"
        " updated_ms = $12 WHERE id = $1"},
    [PS_SOURCE_GET] = {"source_get", "SELECT " SOURCE_COLS " FROM sources WHERE id = $1"},
    [PS_SOURCE_GET_BY_NAME] = {"source_get_by_name",
        "SELECT " SOURCE_COLS " FROM sources WHERE name = $1"},
    [PS_SOURCE_LIST] = {"source_list",
        "SELECT " SOURCE_COLS " FROM sources ORDER BY name COLLATE \"C\""},
    [PS_SOURCE_DELETE] = {"source_delete", "DELETE FROM sources WHERE id = $1"},
    [PS_SOURCE_RECORD_RUN] = {"source_record_run",
        "UPDATE sources SET last_run_ms = $2,"
        " last_status = CASE WHEN $3::int <> 0 THEN 'ok' ELSE 'failed' END,"
        " last_error = CASE WHEN $3::int <> 0 THEN NULL ELSE $4::text END,"
        " next_run_ms = CASE WHEN $5::int8 < 0 THEN next_run_ms ELSE $5::int8 END,"
        " failures = CASE WHEN $3::int <> 0 THEN 0 ELSE failures + 1 END,"
        " runs_total = runs_total + 1, ingested_total = ingested_total + $6,"
        " failed_total = failed_total + $7 WHERE id = $1"},
    [PS_SOURCE_ADD_COUNTS] = {"source_add_counts",
        "UPDATE sources SET ingested_total = ingested_total + $2,"
        " failed_total = failed_total + $3 WHERE id = $1"},
    [PS_SOURCE_SCHEDULE] = {"source_schedule",
        "UPDATE sources SET next_run_ms = $2 WHERE id = $1"},
    [PS_SOURCE_DUE] = {"source_due",
        "SELECT " SOURCE_COLS " FROM sources WHERE enabled = 1 AND next_run_ms > 0"
        " AND next_run_ms <= $1 ORDER BY next_run_ms, id"},
    [PS_SOURCE_EXISTS] = {"source_exists", "SELECT 1 FROM sources WHERE id = $1"},
    [PS_DOC_LOOKUP] = {"doc_lookup",
        "SELECT id, content_hash FROM documents WHERE source_id = $1 AND external_id = $2"},
    [PS_DOC_GET] = {"doc_get", "SELECT " DOC_COLS " FROM documents WHERE id = $1"},
    [PS_DOC_DELETE] = {"doc_delete", "DELETE FROM documents WHERE id = $1"},
    [PS_DOC_LIST] = {"doc_list",
        "SELECT id, source_id, external_id, path, title, content_hash FROM documents"
        " WHERE source_id = $1 AND id > $2 ORDER BY id LIMIT $3"},
    [PS_DOC_DELETE_EXTERNAL] = {"doc_delete_external",
        "DELETE FROM documents WHERE source_id = $1 AND external_id = $2"},
    [PS_CHUNK_LIST] = {"chunk_list",
        "SELECT id, ord, heading, text FROM chunks WHERE document_id = $1 ORDER BY ord, id"},
};

/* ---- sources --------------------------------------------------------- */

static void row_first_id(const struct pg_row *r, void *ctx)
{
    *(int64_t *)ctx = pg__int(r, 0);
}

cc_err pg__source_insert(struct store *st, const struct store_source *src, int64_t *out_id)
{
    if (!store__source_valid(src))
        return CC_EINVAL;
    int64_t id = 0;
    cc_err err = pg__run(
        pg__from_store(st), PS_SOURCE_INSERT,
        QPARAMS(QT(src->name), QT(src->type), QT(src->url), QT(src->path), QT(src->schedule),
                QT(src->tz), QI(src->priority), QI(src->enabled ? 1 : 0), QT(src->auth_json),
                QT(src->options_json), QI(src->created_ms), QI(src->updated_ms)),
        row_first_id, &id, NULL);
    if (!err && out_id)
        *out_id = id;
    return err;
}

cc_err pg__source_update(struct store *st, const struct store_source *src)
{
    if (!store__source_valid(src) || src->id <= 0)
        return CC_EINVAL;
    return pg__run_one(
        pg__from_store(st), PS_SOURCE_UPDATE,
        QPARAMS(QI(src->id), QT(src->name), QT(src->type), QT(src->url), QT(src->path),
                QT(src->schedule), QT(src->tz), QI(src->priority), QI(src->enabled ? 1 : 0),
                QT(src->auth_json), QT(src->options_json), QI(src->updated_ms)));
}

struct source_ctx {
    store_source_cb cb;
    void *arg;
};

static void row_source(const struct pg_row *r, void *ctx)
{
    struct source_ctx *c = ctx;
    struct store_source src = {
        .id = pg__int(r, 0),
        .name = pg__text(r, 1),
        .type = pg__text(r, 2),
        .url = pg__text(r, 3),
        .path = pg__text(r, 4),
        .schedule = pg__text(r, 5),
        .tz = pg__text(r, 6),
        .priority = (int)pg__int(r, 7),
        .enabled = pg__int(r, 8) != 0,
        .auth_json = pg__text(r, 9),
        .options_json = pg__text(r, 10),
        .created_ms = pg__int(r, 11),
        .updated_ms = pg__int(r, 12),
        .last_run_ms = pg__int(r, 13),
        .last_status = pg__text(r, 14),
        .last_error = pg__text(r, 15),
        .next_run_ms = pg__int(r, 16),
        .failures = (int)pg__int(r, 17),
        .runs_total = pg__int(r, 18),
        .ingested_total = pg__int(r, 19),
        .failed_total = pg__int(r, 20),
        .docs = pg__int(r, 21),
    };
    c->cb(c->arg, &src);
}

static cc_err read_sources(struct store *st, enum pg_stmt_id id, const struct pg_param *params,
                           bool one, store_source_cb cb, void *arg)
{
    if (!cb)
        return CC_EINVAL;
    struct source_ctx c = {.cb = cb, .arg = arg};
    int64_t rows = 0;
    cc_err err = pg__run(pg__from_store(st), id, params, row_source, &c, &rows);
    if (!err && one && rows == 0)
        err = CC_ENOTFOUND;
    return err;
}

cc_err pg__source_get(struct store *st, int64_t id, store_source_cb cb, void *arg)
{
    return read_sources(st, PS_SOURCE_GET, QPARAMS(QI(id)), true, cb, arg);
}

cc_err pg__source_get_by_name(struct store *st, const char *name, store_source_cb cb, void *arg)
{
    if (!name)
        return CC_EINVAL;
    return read_sources(st, PS_SOURCE_GET_BY_NAME, QPARAMS(QT(name)), true, cb, arg);
}

cc_err pg__source_list(struct store *st, store_source_cb cb, void *arg)
{
    return read_sources(st, PS_SOURCE_LIST, NULL, false, cb, arg);
}

cc_err pg__source_due(struct store *st, int64_t now_ms, store_source_cb cb, void *arg)
{
    return read_sources(st, PS_SOURCE_DUE, QPARAMS(QI(now_ms)), false, cb, arg);
}

cc_err pg__source_delete(struct store *st, int64_t id)
{
    return pg__run_one(pg__from_store(st), PS_SOURCE_DELETE, QPARAMS(QI(id)));
}

cc_err pg__source_record_run(struct store *st, const struct store_source_run *run)
{
    if (!run || run->ingested < 0 || run->failed < 0 || run->next_run_ms < -1)
        return CC_EINVAL;
    return pg__run_one(pg__from_store(st), PS_SOURCE_RECORD_RUN,
                       QPARAMS(QI(run->source_id), QI(run->ran_ms), QI(run->ok ? 1 : 0),
                               QT(run->error), QI(run->next_run_ms), QI(run->ingested),
                               QI(run->failed)));
}

cc_err pg__source_add_counts(struct store *st, int64_t id, int64_t ingested, int64_t failed)
{
    if (ingested < 0 || failed < 0)
        return CC_EINVAL;
    return pg__run_one(pg__from_store(st), PS_SOURCE_ADD_COUNTS,
                       QPARAMS(QI(id), QI(ingested), QI(failed)));
}

cc_err pg__source_schedule(struct store *st, int64_t id, int64_t next_run_ms)
{
    if (next_run_ms < 0)
        return CC_EINVAL;
    return pg__run_one(pg__from_store(st), PS_SOURCE_SCHEDULE,
                       QPARAMS(QI(id), QI(next_run_ms)));
}

/* ---- documents: writing ---------------------------------------------- */

struct doc_key {
    int64_t id;
    char hash[HASH_LEN + 1];
    bool found;
};

static void row_doc_key(const struct pg_row *r, void *ctx)
{
    struct doc_key *k = ctx;
    const char *hash = pg__text(r, 1);
    k->id = pg__int(r, 0);
    cc_strlcpy(k->hash, hash ? hash : "", sizeof(k->hash));
    k->found = true;
}

cc_err pg__doc_delete(struct store *st, int64_t id)
{
    return pg__run_one(pg__from_store(st), PS_DOC_DELETE, QPARAMS(QI(id)));
}

cc_err pg__doc_delete_external(struct store *st, int64_t source_id, const char *external_id)
{
    if (!external_id || !*external_id)
        return CC_EINVAL;
    return pg__run_one(pg__from_store(st), PS_DOC_DELETE_EXTERNAL,
                       QPARAMS(QI(source_id), QT(external_id)));
}

struct doc_list_ctx {
    store_doc_cb cb;
    void *arg;
};

static void row_doc_brief(const struct pg_row *r, void *ctx)
{
    struct doc_list_ctx *c = ctx;
    struct store_doc d = {
        .id = pg__int(r, 0),
        .source_id = pg__int(r, 1),
        .external_id = pg__text(r, 2),
        .path = pg__text(r, 3),
        .title = pg__text(r, 4),
        .content_hash = pg__text(r, 5),
    };
    c->cb(c->arg, &d);
}

cc_err pg__doc_list(struct store *st, int64_t source_id, int64_t after_id, unsigned limit,
                    store_doc_cb cb, void *arg)
{
    if (!cb)
        return CC_EINVAL;
    if (limit > STORE_DOC_LIST_MAX)
        limit = STORE_DOC_LIST_MAX;
    struct doc_list_ctx c = {.cb = cb, .arg = arg};
    return pg__run(pg__from_store(st), PS_DOC_LIST,
                   QPARAMS(QI(source_id), QI(after_id), QI(limit)), row_doc_brief, &c, NULL);
}

/* ---- documents: reading ---------------------------------------------- */

cc_err pg__doc_hash(struct store *st, int64_t source_id, const char *external_id,
                    char out_hash[65])
{
    if (!external_id || !out_hash)
        return CC_EINVAL;
    struct doc_key k = {0};
    cc_err err = pg__run(pg__from_store(st), PS_DOC_LOOKUP,
                         QPARAMS(QI(source_id), QT(external_id)), row_doc_key, &k, NULL);
    if (err)
        return err;
    if (!k.found)
        return CC_ENOTFOUND;
    memcpy(out_hash, k.hash, sizeof(k.hash));
    return CC_OK;
}

struct chunk_list {
    struct store_chunk *v;
    size_t n, cap;
};

static void row_chunk(const struct pg_row *r, void *ctx)
{
    struct chunk_list *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = cc_xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    const char *heading = pg__text(r, 2);
    const char *text = pg__text(r, 3);
    l->v[l->n++] = (struct store_chunk){
        .id = pg__int(r, 0),
        .ord = (int)pg__int(r, 1),
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

struct doc_get_ctx {
    const struct chunk_list *chunks;
    store_doc_cb cb;
    void *arg;
};

static void row_doc(const struct pg_row *r, void *ctx)
{
    struct doc_get_ctx *g = ctx;
    struct store_doc d = {
        .id = pg__int(r, 0),
        .source_id = pg__int(r, 1),
        .external_id = pg__text(r, 2),
        .url = pg__text(r, 3),
        .path = pg__text(r, 4),
        .title = pg__text(r, 5),
        .authors_json = pg__text(r, 6),
        .published_ms = pg__int(r, 7),
        .updated_ms = pg__int(r, 8),
        .tags_json = pg__text(r, 9),
        .version = pg__text(r, 10),
        .content_hash = pg__text(r, 11),
        .metadata_json = pg__text(r, 12),
        .ingested_ms = pg__int(r, 13),
        .chunks = g->chunks->v,
        .nchunks = g->chunks->n,
    };
    g->cb(g->arg, &d);
}

cc_err pg__doc_get(struct store *st, int64_t id, store_doc_cb cb, void *arg)
{
    struct pg_store *s = pg__from_store(st);
    struct chunk_list chunks = {0};
    struct pg_conn *c = NULL;
    int64_t rows = 0;
    if (!cb)
        return CC_EINVAL;
    cc_err err = pg__conn_get(s, &c);
    if (err)
        return err;
    struct doc_get_ctx g = {.chunks = &chunks, .cb = cb, .arg = arg};
    err = pg__begin_read(s, c);
    if (!err)
        err = pg__query(s, c, PS_CHUNK_LIST, QPARAMS(QI(id)), row_chunk, &chunks, NULL);
    if (!err)
        err = pg__query(s, c, PS_DOC_GET, QPARAMS(QI(id)), row_doc, &g, &rows);
    if (!err && rows == 0)
        err = CC_ENOTFOUND;
    if (!err)
        err = pg__commit(s, c);
    pg__conn_put(s, c);
    chunk_list_release(&chunks);
    return err;
}
