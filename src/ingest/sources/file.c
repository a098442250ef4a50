/*
 * file.c - the "file" source: a folder walked on schedule or on demand,
 * and watched for changes when its options say so (ingest/watch.c).
 *
 * The folder must lie beneath sources.allowed_roots (checked when the
 * source is stored and again at every run). A run walks it through
 * descriptors only (fdopendir, fstatat and openat with O_NOFOLLOW, from the
 * folder's own descriptor), skipping hidden entries, symlinks, excluded
 * paths (options.exclude) and files over the size cap or of an unsupported
 * type - counted by reason and reported - and queues one ingest.document
 * per supported file. A document job names the folder and the path beneath
 * it, and the pipeline opens the file beneath the folder's descriptor
 * (ingest/sources/local.h): a directory swapped for a symlink between the
 * walk and the read cannot lead outside. Unchanged files end as no-ops at
 * the index stage. A walk that reaches the end also removes the documents
 * whose files are gone. A folder larger than the source's queue is walked
 * in parts: each part queues what fits and a follow-up run resumes after
 * the last file.
 */
#define _GNU_SOURCE   /* O_PATH */
#include "ingest/sources/file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "ingest/pipeline.h"
#include "ingest/skips.h"
#include "ingest/sources/local.h"
#include "ingest/sources/types.h"

#define WALK_MAX_DEPTH 32
#define WALK_MAX_FILES 100000
#define WALK_BATCH 128          /* files queued per store transaction */
#define CONTINUE_DELAY_MS 2000  /* before a run resumes a folder the queue could not hold */

/* ------------------------------------------------------------------ */
/* What the watcher shares                                             */

void ingest__file_opts_release(struct ingest__file_opts *o)
{
    json_decref(o->json);
    *o = (struct ingest__file_opts){0};
}

cc_err ingest__file_opts_parse(const char *options_json, struct ingest__file_opts *o,
                               char *why, size_t whysz)
{
    *o = (struct ingest__file_opts){0};
    o->json = options_json ? json_loads(options_json, 0, NULL) : json_object();
    if (!json_is_object(o->json)) {
        snprintf(why, whysz, "'options' must be an object");
        goto bad;
    }
    const char *key;
    json_t *v;
    json_object_foreach(o->json, key, v) {
        if (strcmp(key, "watch") == 0) {
            if (!json_is_boolean(v)) {
                snprintf(why, whysz, "options.watch must be true or false");
                goto bad;
            }
            o->watch = json_is_true(v);
        } else if (strcmp(key, "exclude") == 0) {
            size_t i;
            json_t *pat;
            if (!json_is_array(v) || json_array_size(v) > INGEST_EXCLUDE_MAX) {
                snprintf(why, whysz, "options.exclude must be a list of at most %d patterns",
                         INGEST_EXCLUDE_MAX);
                goto bad;
            }
            json_array_foreach(v, i, pat) {
                if (!json_is_string(pat) || json_string_length(pat) >= INGEST_EXCLUDE_MAX_LEN ||
                    strlen(json_string_value(pat)) != json_string_length(pat)) {
                    snprintf(why, whysz, "options.exclude[%zu] must be a pattern of fewer "
                             "than %d bytes", i, INGEST_EXCLUDE_MAX_LEN);
                    goto bad;
                }
                o->exclude[o->nexclude++] = json_string_value(pat);
            }
        }
        /* other keys are the operator's own notes: kept, unused */
    }
    return CC_OK;
bad:
    ingest__file_opts_release(o);
    return CC_EINVAL;
}

json_t *ingest__file_payload(const char *root, const char *rel, const char *type)
{
    char *path = cc_xmalloc(strlen(root) + strlen(rel) + 2);
    bool top = root[0] == '/' && root[1] == '\0';
    snprintf(path, strlen(root) + strlen(rel) + 2, "%s/%s", top ? "" : root, rel);
    json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:s}", "external_id", rel, "root", root,
                          "rel", rel, "path", path, "content_type", type);
    free(path);
    return p;
}

char *ingest__file_dedup_key(int64_t source_id, const char *rel)
{
    size_t n = strlen(rel) + 32;
    char *key = cc_xmalloc(n);
    snprintf(key, n, "file:%lld:%s", (long long)source_id, rel);
    return key;
}

/* ------------------------------------------------------------------ */
/* The walk                                                            */

struct walk {
    struct ingest_job_ctx *jc;
    const struct ingest_pipeline_cfg *cfg;
    const struct ingest_source *src;
    const char *root;     /* resolved folder */
    int rootfd;
    const struct ingest__file_opts *opts;
    const char *after;    /* resume: skip files up to this relative path */
    const char *last;     /* the last file queued (arena) */
    int64_t queued;
    struct ingest_skips skips;
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

static cc_err queue_file(struct walk *w, const char *rel, const char *type)
{
    json_t *p = ingest__file_payload(w->root, rel, type);
    char *key = ingest__file_dedup_key(w->src->id, rel);
    cc_err err = !p ? CC_ENOMEM
                    : ingest_source_doc_job(w->jc, w->src, p, key, &w->pending[w->npending]);
    json_decref(p);
    free(key);
    if (err)
        return err;
    w->pending_rel[w->npending++] = rel;
    return w->npending == WALK_BATCH ? flush_pending(w) : CC_OK;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of the directory open at dirfd, sorted, hidden ones left
 * out (names in the arena, the array on the heap). */
static size_t list_dir(struct walk *w, int dirfd, const char *rel, char ***out)
{
    int fd = dup(dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        cc_log_warn(w->jc->ctx->log, "ingest", "cannot read a directory of a file source",
                    CC_LS("source", w->src->name), CC_LS("dir", rel[0] ? rel : "."),
                    CC_LS("error", strerror(errno)));
        if (fd >= 0)
            close(fd);
        return 0;
    }
    rewinddir(d);   /* the dup shares dirfd's offset */
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

static void walk_dir(struct walk *w, int dirfd, const char *rel_dir, int depth);

/* One entry of a directory: descend, queue, or count why not. */
static void walk_entry(struct walk *w, int dirfd, const char *name, const char *rel, int depth)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return;   /* gone since it was listed */
    bool dir = S_ISDIR(st.st_mode);
    if (w->opts->nexclude &&
        ingest_exclude_match(w->opts->exclude, w->opts->nexclude, rel, dir)) {
        w->skips.excluded += !dir;
        return;
    }
    if (dir) {
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
            walk_dir(w, fd, rel, depth + 1);
            close(fd);
        }
        return;
    }
    if (w->after && path_cmp(rel, w->after) <= 0)
        return;   /* counted by the part that queued it */
    const char *type = ingest_content_type_for_path(name);
    if (!S_ISREG(st.st_mode)) {
        w->skips.not_regular++;
    } else if (!type) {
        ingest_skips_unsupported(&w->skips, name);
    } else if ((uint64_t)st.st_size > w->cfg->max_document_bytes) {
        w->skips.too_big++;
    } else if (++w->seen > WALK_MAX_FILES) {
        w->stop = CC_ELIMIT;
    } else {
        cc_err err = queue_file(w, rel, type);
        if (err)
            w->stop = err;
    }
}

/* Depth-first walk through descriptors that never leaves the folder:
 * symlinks are not followed, hidden entries are skipped, and depth and
 * file count are bounded. */
static void walk_dir(struct walk *w, int dirfd, const char *rel_dir, int depth)
{
    if (depth > WALK_MAX_DEPTH || w->stop)
        return;
    char **names = NULL;
    size_t n = list_dir(w, dirfd, rel_dir, &names);
    for (size_t i = 0; i < n && !w->stop; i++) {
        char *rel = rel_dir[0] ? cc_arena_printf(w->jc->arena, "%s/%s", rel_dir, names[i])
                               : names[i];
        if (rel)
            walk_entry(w, dirfd, names[i], rel, depth);
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
 * regular, visible, not excluded file beneath the folder) is collected
 * for deletion. */
static void check_gone(void *arg, const struct store_doc *d)
{
    struct gone *g = arg;
    const struct walk *w = g->w;
    g->last_id = d->id;
    const char *rel = d->external_id;
    bool hidden = rel && (rel[0] == '.' || strstr(rel, "/.") != NULL);
    int fd = !rel || hidden ? -1 : ingest_local_openat(w->rootfd, rel, O_PATH);
    struct stat st;
    bool there = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
                 ingest_content_type_for_path(rel) &&
                 !ingest_excluded(w->opts->exclude, w->opts->nexclude, rel, false);
    if (fd >= 0)
        close(fd);
    if (!there)
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

/* The folder of src, resolved and checked against sources.allowed_roots:
 * a root removed from the configuration stops its sources' runs too. */
static cc_err resolve_folder(struct ingest_job_ctx *jc, const struct ingest_source *src,
                             char real[PATH_MAX])
{
    const struct ingest_pipeline_cfg *cfg = jc->data;
    cc_err err = ingest_local_allowed(cfg->allowed_roots, src->path, real);
    if (err == CC_EPERM)
        ingest_job_errorf(jc, "the folder %s of source '%s' is outside sources.allowed_roots; "
                          "add it (or a folder above it) there", src->path, src->name);
    else if (err)
        ingest_job_errorf(jc, "the folder %s of source '%s' is not there",
                          src->path ? src->path : "(none)", src->name);
    return err;
}

/* The log line, and the event a user sees in `events`, of what a walk
 * left out and why. */
static void report_skips(struct ingest_job_ctx *jc, const struct walk *w)
{
    char why[384];
    int64_t n = ingest_skips_format(&w->skips, why, sizeof(why));
    cc_log_info(jc->ctx->log, "ingest", "file source scanned", CC_LS("source", w->src->name),
                CC_LI("queued", w->queued), CC_LI("skipped", n),
                CC_LI("too_big", w->skips.too_big), CC_LI("unsupported", w->skips.unsupported),
                CC_LI("not_regular", w->skips.not_regular),
                CC_LI("excluded", w->skips.excluded), CC_LS("why", n ? why : NULL),
                CC_LB("complete", w->stop == CC_OK));
    if (n == 0)
        return;
    char *msg = cc_arena_printf(jc->arena, "source '%s' (job %lld): skipped %lld: %s",
                                w->src->name, (long long)jc->job->id, (long long)n, why);
    struct store_event ev = {.ts_ms = cc_wall_ms(jc->ctx->clock), .kind = "source.skipped",
                             .message = msg ? msg : "files skipped"};
    int64_t id;
    jc->ctx->store->ops->event_append(jc->ctx->store, &ev, &id);
}

/* Walks the source's folder, queueing one document job per file. Returns
 * CC_OK with *finished false when the queue filled up and a continuation
 * was queued. */
static cc_err run(struct ingest_job_ctx *jc, const struct ingest_source *src, json_t *payload,
                  bool *finished)
{
    const struct ingest_pipeline_cfg *cfg = jc->data;
    const char *after = json_string_value(json_object_get(payload, "after"));
    char real[PATH_MAX], why[256];
    struct ingest__file_opts opts;
    cc_err err = resolve_folder(jc, src, real);
    if (err)
        return err;
    if (ingest__file_opts_parse(src->options_json, &opts, why, sizeof(why))) {
        ingest_job_errorf(jc, "%s", why);
        return CC_EINVAL;
    }
    int rootfd = ingest_local_open_dir(real);
    if (rootfd < 0) {
        ingest_job_errorf(jc, "cannot open the folder %s: %s", real, strerror(errno));
        ingest__file_opts_release(&opts);
        return CC_ENOTFOUND;
    }
    struct walk *w = cc_xcalloc(1, sizeof(*w));
    *w = (struct walk){.jc = jc, .cfg = cfg, .src = src, .root = real, .rootfd = rootfd,
                       .opts = &opts,
                       .after = after ? cc_arena_strdup(jc->arena, after) : NULL};
    ingest_job_stage(jc, "fetch");
    walk_dir(w, rootfd, "", 0);
    cc_err ferr = flush_pending(w);
    if (!w->stop)
        w->stop = ferr;
    report_skips(jc, w);
    *finished = w->stop == CC_OK;
    if (*finished)
        remove_gone(jc, w);
    err = w->stop;
    if (w->stop == CC_ELIMIT && w->seen <= WALK_MAX_FILES) {
        /* Resume after the last file queued once the queue has drained a little. */
        const char *from = w->last ? w->last : w->after;
        json_t *next = json_pack("{s:s?}", "after", from);
        err = next ? ingest_source_continue(jc, src, next, CONTINUE_DELAY_MS) : CC_ENOMEM;
        json_decref(next);
        if (err)
            ingest_job_errorf(jc, "the queue is full and the rest of the folder cannot be "
                              "scheduled: %s", cc_err_str(err));
    } else if (w->stop == CC_ELIMIT) {
        ingest_job_errorf(jc, "the folder has more than %d files; only the first were "
                          "queued", WALK_MAX_FILES);
    } else if (w->stop) {
        ingest_job_errorf(jc, "cannot queue files: %s", cc_err_str(w->stop));
    }
    close(rootfd);
    free(w);
    ingest__file_opts_release(&opts);
    return err;
}

static cc_err check(const struct store_source *s, const struct ingest_source_env *env,
                    struct ingest_source_problem *p)
{
    struct stat st;
    char real[PATH_MAX];
    struct ingest__file_opts opts;
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
    cc_err err = ingest_local_allowed(env ? env->allowed_roots : NULL, s->path, real);
    if (err) {
        snprintf(p->msg, sizeof(p->msg), "'path' %s is outside sources.allowed_roots",
                 err == CC_EPERM ? "(with symlinks resolved)" : "cannot be resolved and");
        p->hint = "add the folder, or one above it, to sources.allowed_roots in the daemon's "
                  "configuration (CC_SOURCES_ALLOWED_ROOTS; ':'-separated) and restart it";
        return CC_EPERM;
    }
    if (ingest__file_opts_parse(s->options_json, &opts, p->msg, sizeof(p->msg))) {
        p->hint = "options of a file source: {\"watch\": true, \"exclude\": [\"*.tmp\", "
                  "\"build/\"]}";
        return CC_EINVAL;
    }
    ingest__file_opts_release(&opts);
    return CC_OK;
}

const struct ingest_source_type ingest_source_file = {
    .name = "file",
    .what = "a folder of md, txt, rst, adoc, html, pdf and docx files, scanned on schedule or on "
            "demand, or watched (options.watch)",
    .locator = INGEST_SOURCE_PATH,
    .check = check,
    .run = run,
};
