/*
 * pipeline.c - fetch -> extract -> chunk -> embed -> index for one document.
 */
#include "ingest/pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/base64.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "ingest/chunk.h"
#include "ingest/parse/parse.h"
#include "ingest/source_metrics.h"
#include "ingest/sources/local.h"
#include "ingest/sources/sources.h"
#include "ingest/text.h"
#include "observe/metrics.h"
#include "store/store.h"

#define DOCX_TYPE "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {".md", "text/markdown"},   {".markdown", "text/markdown"}, {".txt", "text/plain"},
    {".text", "text/plain"},    {".html", "text/html"},         {".htm", "text/html"},
    {".pdf", "application/pdf"}, {".docx", DOCX_TYPE},
    {".rst", "text/x-rst"},     {".rest", "text/x-rst"},
    {".adoc", "text/asciidoc"}, {".asciidoc", "text/asciidoc"}, {".asc", "text/asciidoc"},
};

bool ingest_content_type_supported(const char *type)
{
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(type, types[i].type) == 0)
            return true;
    return false;
}

bool ingest_content_type_binary(const char *type)
{
    return strcmp(type, "application/pdf") == 0 || strcmp(type, DOCX_TYPE) == 0;
}

const char *ingest_content_type_for_path(const char *path)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash))
        return NULL;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcasecmp(dot, types[i].ext) == 0)
            return types[i].type;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* ingest.document                                                     */

struct doc_in {
    int64_t source_id;
    const char *source_name;   /* for metrics; may be NULL */
    const char *external_id;
    const char *type;
    const char *title;
    const char *url;
    const char *path;
    const char *version;
    int64_t published_ms;
    char *tags;          /* JSON, owned */
    char *metadata;      /* JSON, owned */
    uint8_t *data;       /* the raw document, owned */
    size_t len;
    /* Web pages ("fetch": true): fetched from url by this job. */
    bool fetch;
    bool page;           /* "extract": "page": main content, not the whole HTML */
    bool not_modified;   /* 304: the stored document is current */
    char etag[256];      /* validators to remember once stored */
    char last_modified[64];
    char version_buf[64];
};

static void doc_in_release(struct doc_in *d)
{
    free(d->tags);
    free(d->metadata);
    free(d->data);
}

/* Opens file `rel` of a file source beneath its folder `root` (both from
 * the job): the folder must still be beneath sources.allowed_roots, and
 * the open never leaves it (ingest/sources/local.h). Jobs queued before
 * jobs carried the folder name only an absolute path: refused. */
static int open_source_file(struct ingest_job_ctx *jc, const struct ingest_pipeline_cfg *cfg,
                            const char *root, const char *rel, cc_err *err)
{
    char real[PATH_MAX];
    if (!root || !rel) {
        ingest_job_errorf(jc, "the job names a file without its source's folder (queued by an "
                          "older version); run the source again");
        *err = CC_EINVAL;
        return -1;
    }
    *err = ingest_local_allowed(cfg->allowed_roots, root, real);
    if (*err) {
        ingest_job_errorf(jc, *err == CC_EPERM ? "the folder %s is outside sources.allowed_roots"
                                               : "the folder %s is not there", root);
        return -1;
    }
    int dirfd = ingest_local_open_dir(real);
    int fd = dirfd < 0 ? -1 : ingest_local_openat(dirfd, rel, O_RDONLY);
    int saved = errno;
    if (dirfd >= 0)
        close(dirfd);
    if (fd < 0) {
        ingest_job_errorf(jc, "cannot open %s beneath %s: %s", rel, real,
                          saved == ELOOP || saved == EXDEV || saved == ENOTDIR
                              ? "a symlink is on the way (not followed)" : strerror(saved));
        *err = saved == ENOENT ? CC_ENOTFOUND
               : saved == ELOOP || saved == EXDEV || saved == ENOTDIR ? CC_EPERM : CC_EIO;
    }
    return fd;
}

/* Reads a file source's file, refusing anything over the cap. */
static cc_err read_file(struct ingest_job_ctx *jc, const struct ingest_pipeline_cfg *cfg,
                        const char *root, const char *rel, uint8_t **out, size_t *out_len)
{
    cc_err err = CC_OK;
    size_t cap = cfg->max_document_bytes;
    int fd = open_source_file(jc, cfg, root, rel, &err);
    if (fd < 0)
        return err;
    struct stat st;
    uint8_t *buf = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > cap) {
        ingest_job_errorf(jc, "%s is not a regular file of at most %zu bytes", rel, cap);
        err = CC_ELIMIT;
        goto out;
    }
    buf = cc_xmalloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            ingest_job_errorf(jc, "cannot read %s: %s", rel, n < 0 ? strerror(errno) : "short");
            err = CC_EIO;
            goto out;
        }
        got += (size_t)n;
    }
    *out = buf;
    *out_len = got;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return err;
}

/* A web page: fetched now, with the validators of its last fetch. When the
 * page cannot be had and the payload carries "fallback" HTML (a feed
 * entry's summary), that is indexed instead of failing the job. */
static cc_err load_page(struct ingest_job_ctx *jc, json_t *p, struct doc_in *d)
{
    const struct ingest_pipeline_cfg *cfg = jc->data;
    if (!d->url) {
        ingest_job_errorf(jc, "the job asks to fetch a page but has no url");
        return CC_EINVAL;
    }
    struct ingest_page_fetch f = {0};
    cc_err err = ingest_page_get(jc, d->source_id, d->url, &f);
    const char *fallback = json_string_value(json_object_get(p, "fallback"));
    if (err && fallback && err != CC_ENOTFOUND) {
        cc_log_info(jc->ctx->log, "ingest", "page not fetched; the feed's summary is indexed",
                    CC_LS("url", d->url), CC_LS("error", jc->error));
        d->fetch = d->page = false;
        d->type = "text/html";
        d->len = strlen(fallback);
        d->data = (uint8_t *)cc_xstrndup(fallback, d->len);
        jc->error[0] = '\0';
        return CC_OK;
    }
    if (err)
        return err;
    d->not_modified = f.not_modified;
    snprintf(d->etag, sizeof(d->etag), "%s", f.etag);
    snprintf(d->last_modified, sizeof(d->last_modified), "%s", f.last_modified);
    d->data = f.data;
    d->len = f.len;
    /* "keep_type": the payload's type stands (a raw file host answers
     * text/plain for Markdown); else the server's. */
    if (!f.not_modified && !json_is_true(json_object_get(p, "keep_type"))) {
        d->type = cc_arena_strdup(jc->arena, f.type);
        if (!d->type)
            return CC_ELIMIT;
        if (!ingest_content_type_supported(d->type)) {
            ingest_job_errorf(jc, "%s is %s, which cannot be indexed", d->url, d->type);
            return CC_EUNSUPPORTED;
        }
        d->page = d->page && strcmp(d->type, "text/html") == 0;
    }
    if (d->page && ingest_page_is_redirect((const char *)d->data, d->len)) {
        /* An alias page pointing elsewhere: its target is crawled on its own. */
        ingest_job_errorf(jc, "%s is a redirect page (meta refresh); not indexed", d->url);
        return CC_ENOTFOUND;
    }
    if (d->len > cfg->max_document_bytes) {
        ingest_job_errorf(jc, "the page is %zu bytes; knowledge.max_document_bytes is %zu",
                          d->len, cfg->max_document_bytes);
        return CC_ELIMIT;
    }
    return CC_OK;
}

/* The payload as queued by the API or a source run -> struct doc_in. */
static cc_err load_payload(struct ingest_job_ctx *jc, const struct ingest_pipeline_cfg *cfg,
                           json_t *p, struct doc_in *d)
{
    d->source_id = json_integer_value(json_object_get(p, "source_id"));
    d->source_name = json_string_value(json_object_get(p, "source_name"));
    d->external_id = json_string_value(json_object_get(p, "external_id"));
    d->type = json_string_value(json_object_get(p, "content_type"));
    d->title = json_string_value(json_object_get(p, "title"));
    d->url = json_string_value(json_object_get(p, "url"));
    d->path = json_string_value(json_object_get(p, "path"));
    d->version = json_string_value(json_object_get(p, "version"));
    const char *pub = json_string_value(json_object_get(p, "published"));
    if (pub && cc_parse_rfc3339(pub, &d->published_ms))
        d->published_ms = 0;
    json_t *tags = json_object_get(p, "tags");
    d->tags = tags ? json_dumps(tags, JSON_COMPACT) : NULL;
    json_t *meta = json_object_get(p, "metadata");
    d->metadata = meta ? json_dumps(meta, JSON_COMPACT) : NULL;
    if (!d->source_id || !d->external_id || !d->type) {
        ingest_job_errorf(jc, "the job's payload lacks source_id, external_id or content_type");
        return CC_EINVAL;
    }
    d->fetch = json_is_true(json_object_get(p, "fetch"));
    const char *extract = json_string_value(json_object_get(p, "extract"));
    d->page = extract && strcmp(extract, "page") == 0;
    const char *text = d->fetch ? NULL : json_string_value(json_object_get(p, "content"));
    const char *b64 = json_string_value(json_object_get(p, "content_base64"));
    if (text) {
        d->len = strlen(text);
        d->data = (uint8_t *)cc_xstrndup(text, d->len);
    } else if (b64) {
        size_t n = strlen(b64);
        d->data = cc_xmalloc(cc_base64_decoded_max(n) + 1);
        if (cc_base64_decode(b64, n, d->data, &d->len)) {
            ingest_job_errorf(jc, "content_base64 is not valid base64");
            return CC_EINVAL;
        }
    } else if (d->fetch) {
        return load_page(jc, p, d);
    } else if (d->path) {
        ingest_job_stage(jc, "fetch");
        return read_file(jc, cfg, json_string_value(json_object_get(p, "root")),
                         json_string_value(json_object_get(p, "rel")), &d->data, &d->len);
    } else {
        ingest_job_errorf(jc, "the job has no content and no path");
        return CC_EINVAL;
    }
    if (d->len > cfg->max_document_bytes) {
        ingest_job_errorf(jc, "the document is %zu bytes; knowledge.max_document_bytes is %zu",
                          d->len, cfg->max_document_bytes);
        return CC_ELIMIT;
    }
    return CC_OK;
}

/* Counts the outcome against the source: in the store (its counters,
 * unless the batch write already counted a change) and in
 * cc_ingest_documents_total{source,result}. */
static void count(struct ingest_job_ctx *jc, int64_t source_id, const char *source_name,
                  const char *result, bool stored)
{
    const struct ingest_pipeline_cfg *cfg = jc->data;
    struct store *st = jc->ctx->store;
    bool failed = strcmp(result, "failed") == 0;
    bool changed = !failed && strcmp(result, "unchanged") != 0;
    if ((failed || (changed && !stored)) && source_id)
        st->ops->source_add_counts(st, source_id, changed, failed);
    char sid[24];
    snprintf(sid, sizeof(sid), "%lld", (long long)source_id);
    const char *lv[] = {source_name ? source_name : sid, result};
    obs_counter_inc(obs_series_get(cfg->m_documents, lv));
}

/* The log line and the counts of a document's outcome. */
static void report(struct ingest_job_ctx *jc, int64_t source_id, const char *source_name,
                   const char *external_id, cc_err err, enum store_upsert result, bool stored)
{
    static const char *const names[] = {"created", "updated", "unchanged"};
    const char *outcome = err ? "failed" : names[result];
    cc_log_emit(jc->ctx->log, err ? CC_LOG_WARN : CC_LOG_INFO, "ingest",
                err ? "document not ingested" : "document ingested",
                CC_LOG_FIELDS(CC_LI("job_id", jc->job->id), CC_LI("source_id", source_id),
                              CC_LS("external_id", external_id), CC_LS("result", outcome),
                              CC_LS("error", err ? jc->error : NULL)));
    /* A failure counts once: when no attempt is left, not at every retry. */
    if (!err || !ingest_err_retryable(err) || jc->job->attempts >= jc->job->max_attempts)
        count(jc, source_id, source_name, outcome, stored);
}

/* What the deferred write's callback needs, in the job's arena. */
struct deferred {
    int64_t source_id;
    const char *source_name;
    const char *external_id;
    const char *url;           /* a fetched page: its validators, remembered once written */
    const char *etag;
    const char *last_modified;
};

static cc_err doc_written(struct ingest_job_ctx *jc, void *arg, cc_err err,
                          enum store_upsert result, int64_t doc_id)
{
    const struct deferred *df = arg;
    (void)doc_id;
    if (err == CC_ESTATE)
        return err;          /* no longer our job: its new owner reports it */
    if (err)
        ingest_job_errorf(jc, "cannot store the document: %s", cc_err_str(err));
    else if (df->url)
        ingest_page_remember(jc, df->source_id, df->url, df->etag, df->last_modified);
    report(jc, df->source_id, df->source_name, df->external_id, err, result, true);
    return err;
}

static const char *arena_dup(struct cc_arena *a, const char *s, bool *ok)
{
    if (!s)
        return NULL;
    char *c = cc_arena_strdup(a, s);
    if (!c)
        *ok = false;
    return c;
}

/* The index stage without embeddings: the document, copied into the job's
 * arena, is handed to the queue to be written with the job's batch. */
static cc_err defer_document(struct ingest_job_ctx *jc, const struct store_doc *doc,
                             const struct doc_in *d)
{
    struct cc_arena *a = jc->arena;
    bool ok = true;
    struct store_doc *dc = cc_arena_alloc(a, sizeof(*dc));
    struct store_chunk *ch = cc_arena_calloc(a, doc->nchunks, sizeof(*ch));
    struct deferred *df = cc_arena_alloc(a, sizeof(*df));
    if (!dc || !ch || !df)
        return CC_ELIMIT;
    *dc = *doc;
    dc->external_id = arena_dup(a, doc->external_id, &ok);
    dc->url = arena_dup(a, doc->url, &ok);
    dc->path = arena_dup(a, doc->path, &ok);
    dc->title = arena_dup(a, doc->title, &ok);
    dc->authors_json = arena_dup(a, doc->authors_json, &ok);
    dc->tags_json = arena_dup(a, doc->tags_json, &ok);
    dc->version = arena_dup(a, doc->version, &ok);
    dc->content_hash = arena_dup(a, doc->content_hash, &ok);
    dc->metadata_json = arena_dup(a, doc->metadata_json, &ok);
    for (size_t i = 0; i < doc->nchunks; i++) {
        ch[i] = doc->chunks[i];
        ch[i].heading = arena_dup(a, doc->chunks[i].heading, &ok);
        ch[i].text = arena_dup(a, doc->chunks[i].text, &ok);
    }
    dc->chunks = ch;
    *df = (struct deferred){.source_id = d->source_id,
                            .source_name = arena_dup(a, d->source_name, &ok),
                            .external_id = dc->external_id};
    if (d->fetch) {
        df->url = dc->url;
        df->etag = arena_dup(a, d->etag, &ok);
        df->last_modified = arena_dup(a, d->last_modified, &ok);
    }
    if (!ok) {
        ingest_job_errorf(jc, "the document does not fit in the job's memory");
        return CC_ELIMIT;
    }
    ingest_job_defer_doc(jc, dc, true, doc_written, df);
    return CC_OK;
}

/* The embed stage: vectors of every chunk, in ord order, stored with the
 * document's id. */
static cc_err embed_chunks(struct ingest_job_ctx *jc, const struct ingest_embed_cfg *ecfg,
                           const struct ingest_chunks *chunks, int64_t doc_id)
{
    struct store *st = jc->ctx->store;
    const char **texts = cc_xcalloc(chunks->n, sizeof(*texts));
    float *vecs = NULL;
    size_t dims = 0;
    char why[512];
    ingest_job_stage(jc, "embed");
    for (size_t i = 0; i < chunks->n; i++)
        texts[i] = chunks->items[i].text;
    cc_err err = ingest_embed(ecfg, texts, chunks->n, &vecs, &dims, why, sizeof(why));
    if (err) {
        ingest_job_errorf(jc, "cannot embed the document: %s", why);
        goto out;
    }
    err = st->ops->vectors_put(st, doc_id, dims, ecfg->model, vecs, chunks->n);
    if (err)
        ingest_job_errorf(jc, "cannot store the document's vectors: %s", cc_err_str(err));
out:
    free(vecs);
    free(texts);
    return err;
}

/* With embeddings on, an unchanged document still needs the embed stage
 * when a vector of the configured model is missing (an earlier attempt's
 * embed failed, or embeddings were turned on later). */
static bool vectors_complete(struct store *st, const struct ingest_pipeline_cfg *cfg,
                             const struct doc_in *d)
{
    int64_t missing = 1;
    if (!ingest_embed_enabled(&cfg->embed))
        return true;
    return st->ops->vectors_missing(st, d->source_id, d->external_id, cfg->embed.model,
                                    &missing) == CC_OK &&
           missing == 0;
}

/* extract -> chunk -> index -> embed, given the raw document. Without
 * embeddings the write is deferred to the queue's batch (*deferred set). */
static cc_err index_document(struct ingest_job_ctx *jc, const struct ingest_pipeline_cfg *cfg,
                             struct doc_in *d, enum store_upsert *result, bool *deferred)
{
    struct store *st = jc->ctx->store;
    struct ingest_text text;
    struct ingest_chunks chunks;
    struct cc_diag diag = {0};
    ingest_job_stage(jc, "extract");
    ingest_chunks_init(&chunks);
    ingest_text_init(&text, cfg->max_document_bytes * 2);
    cc_err err;
    if (d->page) {
        err = ingest_page_text(jc, (const char *)d->data, d->len, d->url, &text,
                               d->version_buf, sizeof(d->version_buf));
        if (err)
            goto out;
    } else {
        err = strcmp(d->type, "application/pdf") == 0
                  ? ingest_pdf_parse(d->data, d->len, NULL, (int)cfg->extract_timeout_ms,
                                     &text, &diag)
                  : ingest_parse(d->type, d->data, d->len, &text, &diag);
    }
    if (err) {
        ingest_job_errorf(jc, "cannot extract text: %s", diag.msg[0] ? diag.msg : cc_err_str(err));
        goto out;
    }
    char hash[65];
    ingest_text_hash(&text, hash);
    char stored[65];
    if (st->ops->doc_hash(st, d->source_id, d->external_id, stored) == CC_OK &&
        strcmp(stored, hash) == 0 && vectors_complete(st, cfg, d)) {
        *result = STORE_UNCHANGED;   /* the cheap path: no chunking, no write */
        goto out;
    }
    ingest_job_stage(jc, "chunk");
    err = ingest_chunk(&text, cfg->chunk_max_chars, &chunks);
    if (err) {
        ingest_job_errorf(jc, "cannot chunk the document: %s", cc_err_str(err));
        goto out;
    }
    if (chunks.n == 0) {
        err = CC_EINVAL;
        ingest_job_errorf(jc, "the document has no text");
        goto out;
    }
    struct store_chunk *sc = cc_arena_calloc(jc->arena, chunks.n, sizeof(*sc));
    if (!sc) {
        err = CC_ELIMIT;
        goto out;
    }
    for (size_t i = 0; i < chunks.n; i++)
        sc[i] = (struct store_chunk){.ord = (int)i,
                                     .heading = chunks.items[i].heading_path[0]
                                                    ? chunks.items[i].heading_path : NULL,
                                     .text = chunks.items[i].text};
    ingest_job_stage(jc, "index");
    const char *title = d->title && *d->title ? d->title : text.title;
    struct store_doc doc = {
        .source_id = d->source_id, .external_id = d->external_id, .url = d->url,
        .path = d->path, .title = title && *title ? title : d->external_id,
        .published_ms = d->published_ms, .tags_json = d->tags,
        .version = d->version ? d->version : d->version_buf[0] ? d->version_buf : NULL,
        .content_hash = hash, .metadata_json = d->metadata,
        .ingested_ms = cc_wall_ms(jc->ctx->clock), .chunks = sc, .nchunks = chunks.n};
    if (!ingest_embed_enabled(&cfg->embed)) {
        err = defer_document(jc, &doc, d);
        *deferred = !err;
        goto out;
    }
    int64_t id;
    err = st->ops->doc_upsert(st, &doc, result, &id);
    if (err)
        ingest_job_errorf(jc, "cannot store the document: %s", cc_err_str(err));
    else if (ingest_embed_enabled(&cfg->embed))
        err = embed_chunks(jc, &cfg->embed, &chunks, id);
out:
    ingest_chunks_release(&chunks);
    ingest_text_release(&text);
    return err;
}

cc_err ingest_handle_document(struct ingest_job_ctx *jc)
{
    const struct ingest_pipeline_cfg *cfg = jc->data;
    json_error_t je;
    json_t *p = json_loadb(jc->job->payload, jc->job->payload_len, 0, &je);
    if (!p) {
        ingest_job_errorf(jc, "the job's payload is not JSON: %s", je.text);
        return CC_EINVAL;
    }
    struct doc_in d = {0};
    enum store_upsert result = STORE_UNCHANGED;
    cc_err err = load_payload(jc, cfg, p, &d);
    if (err == CC_ENOTFOUND && d.fetch) {
        /* The page is gone (404/410): so are its document and validators. */
        struct store *st = jc->ctx->store;
        cc_err derr = st->ops->doc_delete_external(st, d.source_id, d.external_id);
        ingest_page_forget(jc, d.source_id, d.url);
        cc_log_info(jc->ctx->log, "ingest", "page gone; its document removed",
                    CC_LS("url", d.url));
        doc_in_release(&d);
        json_decref(p);
        return derr == CC_ENOTFOUND ? CC_OK : derr;
    }
    if (err == CC_ENOTFOUND && d.path) {
        /* The file went away after its run queued it: so does its document. */
        struct store *st = jc->ctx->store;
        cc_err derr = st->ops->doc_delete_external(st, d.source_id, d.external_id);
        cc_log_info(jc->ctx->log, "ingest", "file gone; its document removed",
                    CC_LS("external_id", d.external_id));
        doc_in_release(&d);
        json_decref(p);
        return derr == CC_ENOTFOUND ? CC_OK : derr;
    }
    bool deferred = false;
    if (!err && !d.not_modified)
        err = index_document(jc, cfg, &d, &result, &deferred);
    if (!err && !deferred && d.fetch && !d.not_modified)
        ingest_page_remember(jc, d.source_id, d.url, d.etag, d.last_modified);
    if (!deferred)   /* else doc_written reports once the batch is written */
        report(jc, d.source_id, d.source_name, d.external_id, err, result, false);
    doc_in_release(&d);
    json_decref(p);
    return err;
}

void ingest_pipeline_init(struct ingest_pipeline_cfg *cfg, struct obs_registry *metrics)
{
    static const char *const labels[] = {"source", "result", NULL};
    cfg->m_documents = obs_counter(metrics, "cc_ingest_documents_total",
                                   "Documents through the pipeline by source and result "
                                   "(created, updated, unchanged, failed).", labels);
}
