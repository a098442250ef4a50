/*
 * file.c - the "file" source: a folder walked on schedule or on demand.
 *
 * A run walks the folder (recursively, not following symlinks out of it,
 * skipping hidden entries and files over the size cap) and queues one
 * ingest.document per supported file; unchanged files end as no-ops at the
 * index stage. A walk that reaches the end also removes the documents
 * whose files are gone. A folder larger than the source's queue is walked
 * in parts: each part queues what fits and a follow-up run resumes after
 * the last file.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "ingest/pipeline.h"
#include "ingest/sources/types.h"

#define WALK_MAX_DEPTH 32
#define WALK_MAX_FILES 100000
#define WALK_BATCH 128          /* files queued per store transaction */
#define CONTINUE_DELAY_MS 2000  /* before a run resumes a folder the queue could not hold */

struct walk {
    struct ingest_job_ctx *jc;
    const struct ingest_pipeline_cfg *cfg;
    const struct ingest_source *src;
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
    size_t done = 0;
    if (w->npending == 0)
        return CC_OK;
    cc_err err = ingest_source_queue_docs(w->jc, w->pending, w->npending, &done, &w->queued);
    if (done)
        w->last = w->pending_rel[done - 1];
    w->npending = 0;
    return err;
}

static cc_err queue_file(struct walk *w, const char *abs, const char *type)
{
    const char *rel = abs + w->root_len + 1;
    json_t *p = json_pack("{s:s, s:s, s:s}", "external_id", rel, "path", abs, "content_type",
                          type);
    char *key = cc_arena_printf(w->jc->arena, "file:%lld:%s", (long long)w->src->id, rel);
    cc_err err = !p ? CC_ENOMEM : !key ? CC_ELIMIT
                 : ingest_source_doc_job(w->jc, w->src, p, key, &w->pending[w->npending]);
    json_decref(p);
    if (err)
        return err;
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
static cc_err run(struct ingest_job_ctx *jc, const struct ingest_source *src, json_t *payload,
                  bool *finished)
{
    const struct ingest_pipeline_cfg *cfg = jc->data;
    const char *after = json_string_value(json_object_get(payload, "after"));
    struct stat st;
    if (!src->path || stat(src->path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        ingest_job_errorf(jc, "the folder %s of source '%s' is not there",
                          src->path ? src->path : "(none)", src->name);
        return CC_ENOTFOUND;
    }
    struct walk w = {.jc = jc, .cfg = cfg, .src = src, .root_len = strlen(src->path),
                     .after = after ? cc_arena_strdup(jc->arena, after) : NULL};
    while (w.root_len > 1 && src->path[w.root_len - 1] == '/')
        w.root_len--;
    ingest_job_stage(jc, "fetch");
    walk_dir(&w, src->path, 0);
    cc_err ferr = flush_pending(&w);
    if (!w.stop)
        w.stop = ferr;
    cc_log_info(jc->ctx->log, "ingest", "file source scanned", CC_LS("source", src->name),
                CC_LI("queued", w.queued), CC_LI("skipped", w.skipped),
                CC_LB("complete", w.stop == CC_OK));
    *finished = w.stop == CC_OK;
    if (*finished)
        remove_gone(jc, &w);
    if (w.stop == CC_ELIMIT && w.seen <= WALK_MAX_FILES) {
        /* Resume after the last file queued once the queue has drained a little. */
        const char *from = w.last ? w.last : w.after;
        json_t *next = json_pack("{s:s?}", "after", from);
        cc_err err = next ? ingest_source_continue(jc, src, next, CONTINUE_DELAY_MS) : CC_ENOMEM;
        json_decref(next);
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

static cc_err check(const struct store_source *s, const struct ingest_source_env *env,
                    struct ingest_source_problem *p)
{
    (void)env;
    struct stat st;
    if (s->path[0] != '/') {
        snprintf(p->msg, sizeof(p->msg), "a file source needs an absolute 'path' to a directory");
        p->hint = NULL;
        return CC_EINVAL;
    }
    if (stat(s->path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(p->msg, sizeof(p->msg), "'path' is not a directory the daemon can see");
        p->hint = "create it, or check the daemon's permissions";
        return CC_EINVAL;
    }
    return CC_OK;
}

const struct ingest_source_type ingest_source_file = {
    .name = "file",
    .what = "a folder of md, txt, html, pdf and docx files, scanned on schedule or on demand",
    .locator = INGEST_SOURCE_PATH,
    .check = check,
    .run = run,
};
