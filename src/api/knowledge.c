/*
 * knowledge.c - /api/v1/knowledge: upload documents (queued as jobs), read
 * and delete them, and search.
 *
 * An upload is validated here, completely, so a bad document is refused
 * with 400 at once instead of dying later in the queue; what passes is
 * queued as an "ingest.document" job (202) whose pipeline extracts, chunks
 * and indexes it (docs/KNOWLEDGE.md).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "core/clock.h"
#include "core/sha256.h"
#include "ingest/pipeline.h"
#include "ingest/queue.h"
#include "observe/metrics.h"
#include "store/store.h"

static bool bad(struct http_resp *resp, const char *msg, const char *hint)
{
    http_resp_err(resp, CC_EINVAL, msg, hint);
    return false;
}

/* Fills the problem; returns err for the caller to return. */
static cc_err problem(struct api_doc_problem *p, cc_err err, const char *hint,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static cc_err problem(struct api_doc_problem *p, cc_err err, const char *hint,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
    va_end(ap);
    p->hint = hint;
    return err;
}

static cc_err check_fields(json_t *body, bool with_source, struct api_doc_problem *p)
{
    static const char *const fields[] = {
        "source", "external_id", "title", "url", "content", "content_base64",
        "content_type", "tags", "version", "published", "metadata", NULL};
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v) {
        bool known = false;
        for (const char *const *f = fields + !with_source; *f && !known; f++)
            known = strcmp(*f, key) == 0;
        if (!known)
            return problem(p, CC_EINVAL,
                           with_source
                               ? "fields: source, external_id, title, url, content or "
                                 "content_base64, content_type, tags, version, published, "
                                 "metadata"
                               : "fields: external_id, title, url, content or "
                                 "content_base64, content_type, tags, version, published, "
                                 "metadata",
                           "unknown field '%.64s'", key);
    }
    const char *strs[] = {"source", "external_id", "title", "url", "content",
                          "content_base64", "content_type", "version", "published"};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        json_t *f = json_object_get(body, strs[i]);
        if (f && !json_is_string(f) && !json_is_null(f))
            return problem(p, CC_EINVAL, NULL, "'%s' must be a string", strs[i]);
    }
    json_t *tags = json_object_get(body, "tags");
    size_t i;
    json_t *t;
    if (tags && !json_is_array(tags))
        return problem(p, CC_EINVAL, NULL, "'tags' must be an array of strings");
    json_array_foreach(tags, i, t) {
        if (!json_is_string(t) || json_string_length(t) == 0 || json_string_length(t) > 64)
            return problem(p, CC_EINVAL, NULL, "every tag must be a string of 1-64 characters");
    }
    if (json_array_size(tags) > 32)
        return problem(p, CC_EINVAL, NULL, "at most 32 tags per document");
    json_t *meta = json_object_get(body, "metadata");
    if (meta && !json_is_object(meta))
        return problem(p, CC_EINVAL, NULL, "'metadata' must be an object");
    return CC_OK;
}

/* Content checks: present, non-empty, a supported type, base64 where binary. */
static cc_err check_content(const struct api_deps *deps, json_t *body, const char **type_out,
                            struct api_doc_problem *p)
{
    const char *text = json_string_value(json_object_get(body, "content"));
    const char *b64 = json_string_value(json_object_get(body, "content_base64"));
    const char *type = json_string_value(json_object_get(body, "content_type"));
    if (!type)
        type = "text/markdown";
    if (text && b64)
        return problem(p, CC_EINVAL, NULL, "send either 'content' or 'content_base64', not both");
    if ((!text || !*text) && (!b64 || !*b64))
        return problem(p, CC_EINVAL,
                       "send the text in 'content', or binary files (PDF, DOCX) in "
                       "'content_base64'",
                       "the document is empty");
    if (!ingest_content_type_supported(type))
        return problem(p, CC_EUNSUPPORTED,
                       "use text/markdown, text/plain, text/html, application/pdf or "
                       "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                       "this content_type is not supported");
    if (ingest_content_type_binary(type) && !b64)
        return problem(p, CC_EINVAL, NULL,
                       "PDF and DOCX documents must be sent in 'content_base64'");
    if (b64 && strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                           "0123456789+/=\r\n") != strlen(b64))
        return problem(p, CC_EINVAL, NULL, "'content_base64' is not valid base64");
    /* The decoded size, to within the padding of the last quantum. */
    size_t size = text ? strlen(text) : strlen(b64) / 4 * 3;
    if (size > deps->knowledge.max_document_bytes + 2)
        return problem(p, CC_ELIMIT, "split it, or raise knowledge.max_document_bytes",
                       "the document is %zu bytes; the limit is %zu", size,
                       deps->knowledge.max_document_bytes);
    *type_out = type;
    return CC_OK;
}

cc_err api__document_check(const struct api_deps *deps, json_t *doc, bool with_source,
                           const char **type_out, struct api_doc_problem *p)
{
    if (!json_is_object(doc))
        return problem(p, CC_EINVAL, NULL, "a document must be a JSON object");
    const char *type = NULL;
    cc_err err = check_fields(doc, with_source, p);
    if (!err)
        err = check_content(deps, doc, &type, p);
    if (err)
        return err;
    const char *published = json_string_value(json_object_get(doc, "published"));
    int64_t ms;
    if (published && cc_parse_rfc3339(published, &ms))
        return problem(p, CC_EINVAL, "e.g. 2026-11-22T09:30:00Z",
                       "'published' must be an RFC 3339 time");
    *type_out = type;
    return CC_OK;
}

static int64_t source_id_of(struct http_req *req, struct http_resp *resp, const char *name,
                            const char **name_out)
{
    json_t *src = api__source_lookup(req, resp, name);
    if (!src)
        return 0;
    int64_t id = json_integer_value(json_object_get(src, "id"));
    const char *real = json_string_value(json_object_get(src, "name"));
    *name_out = real ? cc_arena_strdup(req->arena, real) : NULL;
    const char *type = json_string_value(json_object_get(src, "type"));
    bool manual = type && strcmp(type, "manual") == 0;
    json_decref(src);
    if (!manual) {
        http_resp_err(resp, CC_ESTATE, "documents can only be posted to manual sources",
                      "the source's own runs bring its documents; use the 'manual' source "
                      "or create one with type manual");
        return 0;
    }
    return id;
}

/* The job payload: the validated document plus the source id and a default
 * external id (the URL, else the content's hash: posting the same content
 * twice is then a no-op). Changes doc: it is used, not copied, since it
 * may hold a whole document and is not needed afterwards. *external_id
 * (optional) gets the external id, in a. */
char *api__document_payload(json_t *doc, int64_t source_id, const char *source_name,
                            const char *type, struct cc_arena *a, const char **external_id)
{
    json_t *p = json_incref(doc);
    json_object_del(p, "source");
    json_object_set_new(p, "source_id", json_integer(source_id));
    if (source_name)
        json_object_set_new(p, "source_name", json_string(source_name));
    json_object_set_new(p, "content_type", json_string(type));
    if (!json_string_value(json_object_get(p, "external_id"))) {
        const char *url = json_string_value(json_object_get(p, "url"));
        if (url && *url) {
            json_object_set_new(p, "external_id", json_string(url));
        } else {
            const char *c = json_string_value(json_object_get(p, "content"));
            if (!c)
                c = json_string_value(json_object_get(p, "content_base64"));
            uint8_t digest[32];
            char hex[65], id[72];
            cc_sha256(c, strlen(c), digest);
            cc_hex_encode(digest, sizeof(digest), hex);
            snprintf(id, sizeof(id), "sha256:%s", hex);
            json_object_set_new(p, "external_id", json_string(id));
        }
    }
    if (external_id) {
        const char *id = json_string_value(json_object_get(p, "external_id"));
        *external_id = id ? cc_arena_strdup(a, id) : NULL;
    }
    char *out = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    return out;
}

void api__documents_create(struct http_req *req, struct http_resp *resp)
{
    struct api_deps *deps = req->server_data;
    json_t *body = NULL;
    char *payload = NULL;
    if (http_req_json(req, resp, &body))
        return;
    const char *type = NULL;
    struct api_doc_problem prob;
    cc_err cerr = api__document_check(deps, body, true, &type, &prob);
    if (cerr == CC_EUNSUPPORTED) {
        http_resp_unsupported_media(resp, prob.msg, prob.hint);
        goto out;
    }
    if (cerr) {
        char *msg = cc_arena_strdup(req->arena, prob.msg);
        http_resp_err(resp, cerr, msg ? msg : "the document is not valid", prob.hint);
        goto out;
    }
    const char *source = json_string_value(json_object_get(body, "source"));
    const char *source_name = NULL;
    int64_t source_id = source_id_of(req, resp, source ? source : "manual", &source_name);
    if (!source_id)
        goto out;
    const char *external_id = NULL;
    payload = api__document_payload(body, source_id, source_name, type, req->arena,
                                     &external_id);
    int64_t now = cc_wall_ms(req->ctx->clock);
    struct store_job j = {.kind = "ingest.document", .source_id = source_id,
                          .payload = payload, .payload_len = strlen(payload),
                          .max_attempts = deps->knowledge.max_attempts, .next_run_ms = now,
                          .created_ms = now, .updated_ms = now};
    int64_t id;
    cc_err err = req->ctx->store->ops->job_enqueue(req->ctx->store, &j,
                                                   deps->knowledge.queue_limit, &id, NULL);
    if (err == CC_ELIMIT) {
        http_resp_too_many(resp, 10, "the source's ingestion queue is full",
                           "retry after a while; GET /api/v1/jobs?state=queued shows the backlog");
        goto out;
    }
    if (err) {
        http_resp_err(resp, err, "cannot queue the document", NULL);
        goto out;
    }
    ingest_workers_wake(deps->workers);
    /* Not parsed back from the payload: that would be the whole document
     * once more in memory. */
    char *status = cc_arena_printf(req->arena, "/api/v1/jobs/%lld", (long long)id);
    http_resp_json(resp, 202, json_pack("{s:I, s:s, s:o, s:s}", "job_id", (json_int_t)id,
                                        "state", "queued", "external_id",
                                        http_json_str(external_id ? external_id : ""),
                                        "status_url", status ? status : ""));
out:
    free(payload);
    json_decref(body);
}

/* ------------------------------------------------------------------ */

static json_t *parse_or_empty(const char *s, json_t *(*empty)(void))
{
    json_t *j = s ? json_loads(s, 0, NULL) : NULL;
    return j ? j : empty();
}

static void keep_doc(void *arg, const struct store_doc *d)
{
    json_t *chunks = json_array();
    for (size_t i = 0; i < d->nchunks; i++)
        json_array_append_new(chunks, json_pack("{s:I, s:i, s:s?, s:s}", "id",
                                                (json_int_t)d->chunks[i].id, "ord",
                                                d->chunks[i].ord, "heading",
                                                d->chunks[i].heading, "text", d->chunks[i].text));
    *(json_t **)arg = json_pack(
        "{s:I, s:I, s:s, s:s?, s:s?, s:s?, s:o, s:o, s:o, s:o, s:s?, s:s, s:o, s:o, s:o}",
        "id", (json_int_t)d->id, "source_id", (json_int_t)d->source_id, "external_id",
        d->external_id, "url", d->url, "path", d->path, "title", d->title, "authors",
        parse_or_empty(d->authors_json, json_array), "published_at", api__time(d->published_ms),
        "updated_at", api__time(d->updated_ms), "tags", parse_or_empty(d->tags_json, json_array),
        "version", d->version, "content_hash", d->content_hash, "metadata",
        parse_or_empty(d->metadata_json, json_object), "ingested_at", api__time(d->ingested_ms),
        "chunks", chunks);
}

static bool doc_id(struct http_req *req, struct http_resp *resp, long long *id)
{
    if (api__int(http_req_param(req, "id"), 1, INT64_MAX, id) == CC_OK)
        return true;
    http_resp_err(resp, CC_EINVAL, "the document id must be a positive integer", NULL);
    return false;
}

void api__documents_get(struct http_req *req, struct http_resp *resp)
{
    long long id;
    if (!doc_id(req, resp, &id))
        return;
    json_t *j = NULL;
    cc_err err = req->ctx->store->ops->doc_get(req->ctx->store, id, keep_doc, &j);
    if (err == CC_ENOTFOUND || (!err && !j)) {
        http_resp_err(resp, CC_ENOTFOUND, "no document with this id",
                      "search with GET /api/v1/knowledge/search?q=...");
        return;
    }
    if (err) {
        http_resp_err(resp, err, "cannot read the document", NULL);
        return;
    }
    http_resp_json(resp, 200, j);
}

void api__documents_delete(struct http_req *req, struct http_resp *resp)
{
    long long id;
    if (!doc_id(req, resp, &id))
        return;
    cc_err err = req->ctx->store->ops->doc_delete(req->ctx->store, id);
    if (err == CC_ENOTFOUND) {
        http_resp_err(resp, CC_ENOTFOUND, "no document with this id", NULL);
        return;
    }
    if (err) {
        http_resp_err(resp, err, "cannot delete the document", NULL);
        return;
    }
    cc_buf_reset(&resp->body);
    resp->status = 204;
}

/* ------------------------------------------------------------------ */
/* Search                                                              */

static void add_hit(void *arg, const struct store_hit *h)
{
    json_array_append_new(
        arg, json_pack("{s:I, s:I, s:s, s:i, s:s?, s:s?, s:s?, s:s?, s:o, s:f, s:f, s:s?}",
                       "doc_id", (json_int_t)h->doc_id, "chunk_id", (json_int_t)h->chunk_id,
                       "source", h->source, "priority", h->priority, "title", h->title,
                       "heading", h->heading, "url", h->url, "version", h->version,
                       "published_at", api__time(h->published_ms), "score", h->score,
                       "relevance", h->relevance, "snippet", h->snippet_html));
}

static bool search_params(struct http_req *req, struct http_resp *resp, struct store_search *q)
{
    struct api_deps *deps = req->server_data;
    q->query = http_req_query(req, "q");
    if (!q->query || !*q->query)
        return bad(resp, "the query parameter 'q' is required", "e.g. ?q=restart+policy");
    if (strlen(q->query) > 1024)
        return bad(resp, "the query is longer than 1024 characters", NULL);
    long long k = deps->knowledge.search_k_default;
    const char *ks = http_req_query(req, "k");
    if (ks && api__int(ks, 1, STORE_SEARCH_K_MAX, &k))
        return bad(resp, "'k' must be an integer from 1 to 100", NULL);
    q->k = (unsigned)k;
    const char *since = http_req_query(req, "since");
    if (since && cc_parse_rfc3339(since, &q->since_ms))
        return bad(resp, "'since' must be an RFC 3339 time or a date (2026-11-01)", NULL);
    q->tag = http_req_query(req, "tag");
    q->version = http_req_query(req, "version");
    const char *source = http_req_query(req, "source");
    if (source) {
        json_t *src = api__source_lookup(req, resp, source);
        if (!src)
            return false;
        q->source_id = json_integer_value(json_object_get(src, "id"));
        json_decref(src);
    }
    return true;
}

/* With an embedding endpoint, the query's vector for hybrid search. When
 * the endpoint fails the search goes on with BM25 alone and *degraded
 * says why. */
static void embed_query(const struct ingest_embed_cfg *cfg, struct store_search *q,
                        float **vec, char *degraded, size_t dsz)
{
    size_t dims = 0;
    char why[384];
    if (!ingest_embed_enabled(cfg))
        return;
    if (ingest_embed(cfg, &q->query, 1, vec, &dims, why, sizeof(why))) {
        snprintf(degraded, dsz, "embedding endpoint failed: %s", why);
        return;
    }
    q->vec = *vec;
    q->dims = dims;
    q->model = cfg->model;
}

void api__search(struct http_req *req, struct http_resp *resp)
{
    struct api_deps *deps = req->server_data;
    struct store_search q = {0};
    if (!search_params(req, resp, &q))
        return;
    int64_t t0 = cc_mono_ns(req->ctx->clock);
    float *vec = NULL;
    char degraded[512] = "";
    embed_query(&deps->knowledge.embed, &q, &vec, degraded, sizeof(degraded));
    json_t *hits = json_array();
    cc_err err = req->ctx->store->ops->search(req->ctx->store, &q, add_hit, hits);
    double secs = (double)(cc_mono_ns(req->ctx->clock) - t0) / 1e9;
    if (err == CC_EINVAL) {
        json_decref(hits);
        bad(resp, "the query has no searchable words", "use letters or digits");
        goto out;
    }
    if (err) {
        json_decref(hits);
        http_resp_err(resp, err, "search failed", NULL);
        goto out;
    }
    obs_histogram_observe(deps->m_search_duration, secs);
    obs_histogram_observe(deps->m_search_results, (double)json_array_size(hits));
    json_t *body = json_pack("{s:s, s:s, s:i, s:f, s:o}", "query", q.query, "mode",
                             q.vec ? "hybrid" : "bm25", "k", (int)q.k, "took_ms",
                             secs * 1000.0, "results", hits);
    if (degraded[0])
        json_object_set_new(body, "degraded", json_string(degraded));
    http_resp_json(resp, 200, body);
out:
    free(vec);
}
