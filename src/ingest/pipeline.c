/*
 * pipeline.c - fetch -> extract -> chunk -> embed -> index for one document,
 * and the run of a file source.
 */
#include "ingest/pipeline.h"

#include <dirent.h>
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
#include "ingest/text.h"
#include "observe/metrics.h"
#include "store/store.h"

#define DOCX_TYPE "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
#define WALK_MAX_DEPTH 32
#define WALK_MAX_FILES 100000
#define CONTINUE_DELAY_MS 2000  /* before a run resumes a folder the queue could not hold */

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {".md", "text/markdown"},   {".markdown", "text/markdown"}, {".txt", "text/plain"},
    {".text", "text/plain"},    {".html", "text/html"},         {".htm", "text/html"},
    {".pdf", "application/pdf"}, {".docx", DOCX_TYPE},
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
};

static void doc_in_release(struct doc_in *d)
{
    free(d->tags);
    free(d->metadata);
    free(d->data);
}

/* Reads a file source's file, refusing anything over the cap. */
static cc_err read_file(struct ingest_job_ctx *jc, const char *path, size_t cap,
                        uint8_t **out, size_t *out_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        ingest_job_errorf(jc, "cannot open %s: %s", path, strerror(errno));
        return errno == ENOENT ? CC_ENOTFOUND : CC_EIO;
    }
    struct stat st;
    cc_err err = CC_OK;
    uint8_t *buf = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > cap) {
        ingest_job_errorf(jc, "%s is not a regular file of at most %zu bytes", path, cap);
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
            ingest_job_errorf(jc, "cannot read %s: %s", path, n < 0 ? strerror(errno) : "short");
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
    const char *text = json_string_value(json_object_get(p, "content"));
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
    } else if (d->path) {
        ingest_job_stage(jc, "fetch");
        return read_file(jc, d->path, cfg->max_document_bytes, &d->data, &d->len);
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
                             const struct doc_in *d, enum store_upsert *result, bool *deferred)
{
    struct store *st = jc->ctx->store;
    struct ingest_text text;
    struct ingest_chunks chunks;
    struct cc_diag diag = {0};
    ingest_job_stage(jc, "extract");
    ingest_chunks_init(&chunks);
    ingest_text_init(&text, cfg->max_document_bytes * 2);
    cc_err err = strcmp(d->type, "application/pdf") == 0
                     ? ingest_pdf_parse(d->data, d->len, NULL, (int)cfg->extract_timeout_ms,
                                        &text, &diag)
                     : ingest_parse(d->type, d->data, d->len, &text, &diag);
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
        .published_ms = d->published_ms, .tags_json = d->tags, .version = d->version,
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
    if (!err)
        err = index_document(jc, cfg, &d, &result, &deferred);
    if (!deferred)   /* else doc_written reports once the batch is written */
        report(jc, d.source_id, d.source_name, d.external_id, err, result, false);
    doc_in_release(&d);
    json_decref(p);
    return err;
}

/* ------------------------------------------------------------------ */
/* source.run                                                          */

struct run_src {
    struct cc_arena *arena;
    int64_t id;
    const char *name;
    const char *type;
    const char *path;
    bool enabled;
    bool found;
};

static void keep_source(void *arg, const struct store_source *s)
{
    struct run_src *r = arg;
    r->id = s->id;
    r->name = cc_arena_strdup(r->arena, s->name);
    r->type = cc_arena_strdup(r->arena, s->type);
    r->path = s->path ? cc_arena_strdup(r->arena, s->path) : NULL;
    r->enabled = s->enabled;
    r->found = r->name && r->type;
}

#define WALK_BATCH 128     /* files queued per store transaction */

struct walk {
    struct ingest_job_ctx *jc;
    const struct ingest_pipeline_cfg *cfg;
    const struct run_src *src;
    size_t root_len;
    const char *after;    /* resume: skip files up to this relative path */
    const char *last;     /* the last file queued (arena) */
    int64_t queued;
    int64_t skipped;
    size_t seen;
    cc_err stop;          /* CC_ELIMIT when the queue filled up */
    /* files found, not queued yet: queued WALK_BATCH at a time */
    struct store_job pending[WALK_BATCH];
    const char *pending_rel[WALK_BATCH];
    size_t npending;
};

/* The walk's order: depth first, names sorted with strcmp. Comparing two
 * relative paths component by component gives the same order, so a walk
 * can resume after any path, even one deleted since. */
static int path_cmp(const char *a, const char *b)
{
    for (;;) {
        size_t la = strcspn(a, "/"), lb = strcspn(b, "/");
        size_t n = la < lb ? la : lb;
        int c = memcmp(a, b, n);
        if (c)
            return c;
        if (la != lb)
            return la < lb ? -1 : 1;
        if (!a[la] || !b[lb])
            return (a[la] != 0) - (b[lb] != 0);
        a += la + 1;
        b += lb + 1;
    }
}

/* Queues the pending files in one store call. On an error (CC_ELIMIT:
 * the queue is full) the files before the one refused are queued, and
 * w->last names the last of them, where a continuation resumes. */
static cc_err flush_pending(struct walk *w)
{
    struct store *st = w->jc->ctx->store;
    bool existing[WALK_BATCH];
    size_t done = 0;
    if (w->npending == 0)
        return CC_OK;
    cc_err err = store_job_enqueue_batch(st, w->pending, w->npending, w->cfg->queue_limit,
                                         NULL, existing, &done);
    for (size_t i = 0; i < done; i++) {
        if (!existing[i])
            w->queued++;
        w->last = w->pending_rel[i];
    }
    for (size_t i = 0; i < w->npending; i++)
        free((void *)w->pending[i].payload);
    w->npending = 0;
    if (done)
        ingest_workers_wake(w->jc->workers);   /* start on these while the walk goes on */
    return err;
}

static cc_err queue_file(struct walk *w, const char *abs, const char *type)
{
    const char *rel = abs + w->root_len + 1;
    json_t *p = json_pack("{s:I, s:s, s:s, s:s, s:s}", "source_id", (json_int_t)w->src->id,
                          "source_name", w->src->name, "external_id", rel, "path", abs,
                          "content_type", type);
    char *payload = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    if (!payload)
        return CC_ENOMEM;
    char *key = cc_arena_printf(w->jc->arena, "file:%lld:%s", (long long)w->src->id, rel);
    if (!key) {
        free(payload);
        return CC_ELIMIT;
    }
    int64_t now = cc_wall_ms(w->jc->ctx->clock);
    w->pending[w->npending] = (struct store_job){
        .kind = "ingest.document", .source_id = w->src->id, .dedup_key = key,
        .payload = payload, .payload_len = strlen(payload),
        .max_attempts = w->cfg->max_attempts, .next_run_ms = now, .created_ms = now,
        .updated_ms = now};
    w->pending_rel[w->npending++] = rel;
    return w->npending == WALK_BATCH ? flush_pending(w) : CC_OK;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of one directory, sorted, hidden ones left out (arena). */
static size_t list_dir(struct walk *w, const char *dir, char ***out)
{
    DIR *d = opendir(dir);
    if (!d) {
        cc_log_warn(w->jc->ctx->log, "ingest", "cannot read a directory of a file source",
                    CC_LS("path", dir), CC_LS("error", strerror(errno)));
        return 0;
    }
    size_t n = 0, cap = 64;
    char **names = cc_xmalloc(cap * sizeof(*names));
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap)
            names = cc_xrealloc(names, (cap *= 2) * sizeof(*names));
        char *name = cc_arena_strdup(w->jc->arena, e->d_name);
        if (name)
            names[n++] = name;
    }
    closedir(d);
    qsort(names, n, sizeof(*names), name_cmp);
    *out = names;
    return n;
}

/* Depth-first walk that never leaves the root: symlinks are not followed,
 * hidden entries are skipped, and depth and file count are bounded. */
static void walk_dir(struct walk *w, const char *dir, int depth)
{
    if (depth > WALK_MAX_DEPTH || w->stop)
        return;
    char **names = NULL;
    size_t n = list_dir(w, dir, &names);
    for (size_t i = 0; i < n && !w->stop; i++) {
        char *path = cc_arena_printf(w->jc->arena, "%s/%s", dir, names[i]);
        struct stat st;
        if (!path || lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            walk_dir(w, path, depth + 1);
            continue;
        }
        const char *type = ingest_content_type_for_path(path);
        if (!S_ISREG(st.st_mode) || !type || (uint64_t)st.st_size > w->cfg->max_document_bytes) {
            w->skipped++;
            continue;
        }
        if (w->after && path_cmp(path + w->root_len + 1, w->after) <= 0)
            continue;
        if (++w->seen > WALK_MAX_FILES) {
            w->stop = CC_ELIMIT;
            break;
        }
        cc_err err = queue_file(w, path, type);
        if (err)
            w->stop = err;
    }
    free(names);
}

/* The queue is full: a follow-up run resumes after the last file queued
 * once the queue has drained a little. It is not held to the queue limit
 * itself, or a full queue could never be resumed. */
static cc_err queue_continuation(struct ingest_job_ctx *jc, const struct walk *w)
{
    json_t *p = json_pack("{s:I, s:s?}", "source_id", (json_int_t)w->src->id, "after",
                          w->last ? w->last : w->after);
    char *payload = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    if (!payload)
        return CC_ENOMEM;
    /* No dedup key: this job may itself be a continuation holding one. */
    int64_t now = cc_wall_ms(jc->ctx->clock);
    struct store_job j = {.kind = "source.run", .source_id = w->src->id,
                          .payload = payload, .payload_len = strlen(payload),
                          .max_attempts = w->cfg->max_attempts,
                          .next_run_ms = now + CONTINUE_DELAY_MS, .created_ms = now,
                          .updated_ms = now};
    int64_t id;
    cc_err err = jc->ctx->store->ops->job_enqueue(jc->ctx->store, &j, 0, &id, NULL);
    free(payload);
    return err;
}

struct gone {
    const struct walk *w;
    int64_t last_id;
    size_t n;
    int64_t ids[STORE_DOC_LIST_MAX];
};

/* A document whose file is no longer there (or no longer a supported,
 * regular, visible file) is collected for deletion. */
static void check_gone(void *arg, const struct store_doc *d)
{
    struct gone *g = arg;
    const struct walk *w = g->w;
    g->last_id = d->id;
    const char *rel = d->external_id;
    bool bad = !rel || !*rel || rel[0] == '/' || strstr(rel, "..") != NULL;
    char *path = bad ? NULL : cc_arena_printf(w->jc->arena, "%.*s/%s", (int)w->root_len,
                                              w->src->path, rel);
    struct stat st;
    bool hidden = rel && (rel[0] == '.' || strstr(rel, "/.") != NULL);
    if (bad || hidden || !path || lstat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
        !ingest_content_type_for_path(path))
        g->ids[g->n++] = d->id;
}

/* After a complete walk: documents of files deleted or moved away since go
 * too, so the store mirrors the folder. */
static int64_t remove_gone(struct ingest_job_ctx *jc, const struct walk *w)
{
    struct store *st = jc->ctx->store;
    struct gone *g = cc_xcalloc(1, sizeof(*g));
    g->w = w;
    int64_t removed = 0;
    for (;;) {
        g->n = 0;
        int64_t before = g->last_id;
        if (st->ops->doc_list(st, w->src->id, before, STORE_DOC_LIST_MAX, check_gone, g) ||
            g->last_id == before)
            break;
        for (size_t i = 0; i < g->n; i++)
            if (st->ops->doc_delete(st, g->ids[i]) == CC_OK)
                removed++;
    }
    free(g);
    if (removed)
        cc_log_info(jc->ctx->log, "ingest", "documents of deleted files removed",
                    CC_LS("source", w->src->name), CC_LI("documents", removed));
    return removed;
}

/* Walks the source's folder, queueing one document job per file. Returns
 * CC_OK with *finished false when the queue filled up and a continuation
 * was queued. */
static cc_err run_file_source(struct ingest_job_ctx *jc, const struct run_src *src,
                              const char *after, bool *finished)
{
    const struct ingest_pipeline_cfg *cfg = jc->data;
    struct stat st;
    if (!src->path || stat(src->path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        ingest_job_errorf(jc, "the folder %s of source '%s' is not there",
                          src->path ? src->path : "(none)", src->name);
        return CC_ENOTFOUND;
    }
    struct walk w = {.jc = jc, .cfg = cfg, .src = src, .root_len = strlen(src->path),
                     .after = after};
    while (w.root_len > 1 && src->path[w.root_len - 1] == '/')
        w.root_len--;
    ingest_job_stage(jc, "fetch");
    walk_dir(&w, src->path, 0);
    cc_err ferr = flush_pending(&w);
    if (!w.stop)
        w.stop = ferr;
    ingest_workers_wake(jc->workers);
    cc_log_info(jc->ctx->log, "ingest", "file source scanned", CC_LS("source", src->name),
                CC_LI("queued", w.queued), CC_LI("skipped", w.skipped),
                CC_LB("complete", w.stop == CC_OK));
    *finished = w.stop == CC_OK;
    if (*finished)
        remove_gone(jc, &w);
    if (w.stop == CC_ELIMIT && w.seen <= WALK_MAX_FILES) {
        cc_err err = queue_continuation(jc, &w);
        if (err)
            ingest_job_errorf(jc, "the queue is full and the rest of the folder cannot be "
                              "scheduled: %s", cc_err_str(err));
        return err;
    }
    if (w.stop == CC_ELIMIT)
        ingest_job_errorf(jc, "the folder has more than %d files; only the first were "
                          "queued", WALK_MAX_FILES);
    else if (w.stop)
        ingest_job_errorf(jc, "cannot queue files: %s", cc_err_str(w.stop));
    return w.stop;
}

cc_err ingest_handle_source_run(struct ingest_job_ctx *jc)
{
    json_t *p = json_loadb(jc->job->payload, jc->job->payload_len, 0, NULL);
    int64_t sid = json_integer_value(json_object_get(p, "source_id"));
    const char *after = json_string_value(json_object_get(p, "after"));
    after = after ? cc_arena_strdup(jc->arena, after) : NULL;
    json_decref(p);
    struct store *st = jc->ctx->store;
    struct run_src src = {.arena = jc->arena};
    cc_err err = sid ? st->ops->source_get(st, sid, keep_source, &src) : CC_EINVAL;
    if (err || !src.found) {
        ingest_job_errorf(jc, "source %lld does not exist any more", (long long)sid);
        return CC_ENOTFOUND;
    }
    bool finished = true;
    if (strcmp(src.type, "file") == 0) {
        err = run_file_source(jc, &src, after, &finished);
    } else {
        ingest_job_errorf(jc, "sources of type '%s' have nothing to run in this version",
                          src.type);
        err = CC_EUNSUPPORTED;
    }
    /* A run that continues later is recorded when its last part ends. */
    bool final = err ? !ingest_err_retryable(err) || jc->job->attempts >= jc->job->max_attempts
                     : finished;
    if (final) {
        struct store_source_run run = {.source_id = sid, .ran_ms = cc_wall_ms(jc->ctx->clock),
                                       .ok = !err, .error = err ? jc->error : NULL,
                                       .next_run_ms = -1};
        st->ops->source_record_run(st, &run);
        ingest_source_run_counted(jc->ctx->metrics, src.name, !err, run.ran_ms);
    }
    return err;
}

void ingest_pipeline_init(struct ingest_pipeline_cfg *cfg, struct obs_registry *metrics)
{
    static const char *const labels[] = {"source", "result", NULL};
    cfg->m_documents = obs_counter(metrics, "cc_ingest_documents_total",
                                   "Documents through the pipeline by source and result "
                                   "(created, updated, unchanged, failed).", labels);
}
