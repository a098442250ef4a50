/*
 * watch.c - the folder watcher (watch.h).
 *
 * One thread, one inotify instance for every watched source, an eventfd
 * to wake it. State, all owned by the thread:
 *   - srcs: the watched sources, each with its folder's descriptor;
 *   - dirs: inotify watch descriptor -> (source, directory relative to
 *     the folder), an array indexed by wd (the kernel hands out small
 *     increasing numbers);
 *   - pend: files waiting for their debounce, a chained hash keyed by
 *     (source, relative path), so a burst of events on one file costs one
 *     entry. Bounded by PEND_MAX: past it the source rescans instead.
 */
#define _GNU_SOURCE   /* O_PATH */
#include "ingest/watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "ingest/pipeline.h"
#include "ingest/queue.h"
#include "ingest/scheduler.h"
#include "ingest/sources/file.h"
#include "ingest/sources/local.h"
#include "store/store.h"

#define RELOAD_MS 5000                 /* sources reloaded at least this often */
#define WATCH_FALLBACK_SCAN_MS 60000   /* scans of a source the kernel would not watch */
#define RETRY_FULL_MS 1000             /* a file the source's full queue refused */
#define DELETE_CHECKS 3                /* re-deletions after a delete, one per debounce */
#define PEND_BUCKETS 4096
#define PEND_MAX 100000
#define TREE_MAX_DEPTH 32
#define EVENT_BUF 65536

#define DIR_MASK (IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | \
                  IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

struct wsrc {
    int64_t id;
    char *name;
    char *path;                /* as stored: a change re-watches */
    char *options;             /* as stored, "" for none */
    char *root;                /* resolved */
    int rootfd;
    struct ingest__file_opts opts;
    bool rescan;               /* a source.run to queue (retried while one runs) */
    bool limited;              /* out of inotify watches: periodic scans */
    int64_t next_scan_ms;      /* limited: the next fallback scan */
    bool seen;                 /* in the last reload */
};

struct wdir {
    int64_t src;               /* 0 = free slot */
    char *rel;                 /* "" = the folder itself */
};

struct pend {
    struct pend *next;
    int64_t src;
    int64_t due_ms;
    int checks;                /* > 0: a deleted file, checked again */
    char rel[];
};

struct ingest_watcher {
    struct cc_ctx *ctx;
    struct ingest_workers *workers;
    struct ingest_watcher_cfg cfg;
    int ifd, efd;
    pthread_t thread;
    bool started;
    atomic_bool stop;
    atomic_bool reload;
    struct wsrc **srcs;
    size_t nsrcs;
    struct wdir *dirs;
    size_t ndirs;              /* allocated slots */
    struct pend *pend[PEND_BUCKETS];
    size_t npend;
};

/* ------------------------------------------------------------------ */
/* Pending files                                                       */

static size_t pend_hash(int64_t src, const char *rel)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)src;
    for (const char *p = rel; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return (size_t)(h % PEND_BUCKETS);
}

static struct pend **pend_find(struct ingest_watcher *w, int64_t src, const char *rel)
{
    struct pend **pp = &w->pend[pend_hash(src, rel)];
    while (*pp && ((*pp)->src != src || strcmp((*pp)->rel, rel) != 0))
        pp = &(*pp)->next;
    return pp;
}

static struct wsrc *src_by_id(struct ingest_watcher *w, int64_t id)
{
    for (size_t i = 0; i < w->nsrcs; i++)
        if (w->srcs[i]->id == id)
            return w->srcs[i];
    return NULL;
}

/* (Re)sets the file's deadline; checks > 0 marks a deleted file. */
static void pend_set(struct ingest_watcher *w, struct wsrc *s, const char *rel, int64_t due,
                     int checks)
{
    struct pend **pp = pend_find(w, s->id, rel);
    if (*pp) {
        (*pp)->due_ms = due;
        (*pp)->checks = checks;
        return;
    }
    if (w->npend >= PEND_MAX) {
        s->rescan = true;      /* too much at once: a scan sees it all */
        return;
    }
    size_t n = strlen(rel);
    struct pend *p = cc_xmalloc(sizeof(*p) + n + 1);
    *p = (struct pend){.src = s->id, .due_ms = due, .checks = checks};
    memcpy(p->rel, rel, n + 1);
    *pp = p;
    w->npend++;
}

static void pend_drop_source(struct ingest_watcher *w, int64_t src)
{
    for (size_t b = 0; b < PEND_BUCKETS; b++) {
        for (struct pend **pp = &w->pend[b]; *pp;) {
            if ((*pp)->src == src) {
                struct pend *dead = *pp;
                *pp = dead->next;
                free(dead);
                w->npend--;
            } else {
                pp = &(*pp)->next;
            }
        }
    }
}

/* ------------------------------------------------------------------ */
/* Watches                                                             */

static void dir_set(struct ingest_watcher *w, int wd, int64_t src, const char *rel)
{
    if ((size_t)wd >= w->ndirs) {
        size_t n = w->ndirs ? w->ndirs : 64;
        while (n <= (size_t)wd)
            n *= 2;
        w->dirs = cc_xrealloc(w->dirs, n * sizeof(*w->dirs));
        memset(w->dirs + w->ndirs, 0, (n - w->ndirs) * sizeof(*w->dirs));
        w->ndirs = n;
    }
    free(w->dirs[wd].rel);
    w->dirs[wd] = (struct wdir){.src = src, .rel = cc_xstrdup(rel)};
}

static void dir_clear(struct ingest_watcher *w, int wd)
{
    if (wd >= 0 && (size_t)wd < w->ndirs) {
        free(w->dirs[wd].rel);
        w->dirs[wd] = (struct wdir){0};
    }
}

static bool hidden(const char *rel)
{
    return rel[0] == '.' || strstr(rel, "/.") != NULL;
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = cc_xmalloc(n);
    snprintf(p, n, "%s%s%s", dir, dir[0] ? "/" : "", name);
    return p;
}

/* The kernel would not give another watch: scan on a timer instead, and
 * say so where an operator looks. */
static void out_of_watches(struct ingest_watcher *w, struct wsrc *s)
{
    if (s->limited)
        return;
    s->limited = true;
    s->next_scan_ms = cc_wall_ms(w->ctx->clock) + WATCH_FALLBACK_SCAN_MS;
    char msg[320];
    snprintf(msg, sizeof(msg), "cannot watch every directory: the inotify watch limit is "
             "reached (raise fs.inotify.max_user_watches); scanning every %d s instead",
             WATCH_FALLBACK_SCAN_MS / 1000);
    cc_log_warn(w->ctx->log, "watch", "inotify watch limit reached; falling back to scans",
                CC_LS("source", s->name), CC_LI("scan_every_s", WATCH_FALLBACK_SCAN_MS / 1000));
    struct store *st = w->ctx->store;
    struct store_source_run run = {.source_id = s->id, .ran_ms = cc_wall_ms(w->ctx->clock),
                                   .ok = false, .error = msg, .next_run_ms = -1};
    st->ops->source_record_run(st, &run);
}

static bool supported_file(const struct wsrc *s, const char *rel)
{
    return !hidden(rel) && ingest_content_type_for_path(rel) &&
           !ingest_excluded(s->opts.exclude, s->opts.nexclude, rel, false);
}

/* Watches directory `rel` of s and the directories below it; with
 * scan_files, files found are queued too (a directory that just appeared
 * may have been filled before its watch existed). */
static void add_tree(struct ingest_watcher *w, struct wsrc *s, const char *rel, int depth,
                     bool scan_files)
{
    if (depth > TREE_MAX_DEPTH || s->limited)
        return;
    int fd = rel[0] ? ingest_local_openat(s->rootfd, rel, O_RDONLY | O_DIRECTORY)
                    : dup(s->rootfd);
    if (fd < 0)
        return;   /* gone already, or a symlink now: not ours to follow */
    /* Watch the directory the descriptor holds, not whatever its path
     * names by now: /proc/self/fd/N leads to exactly that one. */
    char proc[64];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    int wd = inotify_add_watch(w->ifd, proc, DIR_MASK);
    if (wd < 0 && errno == ENOENT) {
        char *path = join(s->root, rel);
        wd = inotify_add_watch(w->ifd, path, DIR_MASK | IN_DONT_FOLLOW);
        free(path);
    }
    if (wd < 0) {
        if (errno == ENOSPC)
            out_of_watches(w, s);
        close(fd);
        return;
    }
    dir_set(w, wd, s->id, rel);
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    rewinddir(d);   /* a dup of the folder's descriptor shares its offset */
    int64_t due = cc_wall_ms(w->ctx->clock) + w->cfg.debounce_ms;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && !s->limited) {
        if (e->d_name[0] == '.')
            continue;
        char *sub = join(rel, e->d_name);
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
            if (S_ISDIR(st.st_mode) &&
                !ingest_excluded(s->opts.exclude, s->opts.nexclude, sub, true))
                add_tree(w, s, sub, depth + 1, scan_files);
            else if (scan_files && S_ISREG(st.st_mode) && supported_file(s, sub))
                pend_set(w, s, sub, due, 0);
        }
        free(sub);
    }
    closedir(d);
}

/* ------------------------------------------------------------------ */
/* Sources                                                             */

static void src_free(struct ingest_watcher *w, struct wsrc *s)
{
    for (size_t i = 0; i < w->ndirs; i++) {
        if (w->dirs[i].src == s->id) {
            inotify_rm_watch(w->ifd, (int)i);
            dir_clear(w, (int)i);
        }
    }
    pend_drop_source(w, s->id);
    if (s->rootfd >= 0)
        close(s->rootfd);
    ingest__file_opts_release(&s->opts);
    free(s->name);
    free(s->path);
    free(s->options);
    free(s->root);
    free(s);
}

struct listing {
    struct ingest_watcher *w;
    struct store_source *want;     /* the watched file sources, copied */
    size_t n, cap;
};

static void collect(void *arg, const struct store_source *s)
{
    struct listing *l = arg;
    struct ingest__file_opts o;
    char why[8];
    if (!s->enabled || !s->type || strcmp(s->type, "file") != 0 || !s->path ||
        ingest__file_opts_parse(s->options_json, &o, why, sizeof(why)))
        return;
    bool watch = o.watch;
    ingest__file_opts_release(&o);
    if (!watch)
        return;
    if (l->n == l->cap)
        l->want = cc_xrealloc(l->want, (l->cap = l->cap ? l->cap * 2 : 8) * sizeof(*l->want));
    l->want[l->n++] = (struct store_source){
        .id = s->id, .name = cc_xstrdup(s->name ? s->name : ""), .path = cc_xstrdup(s->path),
        .options_json = cc_xstrdup(s->options_json ? s->options_json : "")};
}

static struct wsrc *src_new(struct ingest_watcher *w, const struct store_source *s)
{
    char real[PATH_MAX], why[256];
    cc_err err = ingest_local_allowed(w->cfg.allowed_roots, s->path, real);
    if (err) {
        cc_log_warn(w->ctx->log, "watch", err == CC_EPERM
                        ? "not watching a folder outside sources.allowed_roots"
                        : "not watching a folder that is not there",
                    CC_LS("source", s->name), CC_LS("path", s->path));
        return NULL;
    }
    struct wsrc *ws = cc_xcalloc(1, sizeof(*ws));
    *ws = (struct wsrc){.id = s->id, .name = cc_xstrdup(s->name), .path = cc_xstrdup(s->path),
                        .options = cc_xstrdup(s->options_json), .root = cc_xstrdup(real),
                        .rootfd = ingest_local_open_dir(real), .rescan = true, .seen = true};
    if (ws->rootfd < 0 || ingest__file_opts_parse(s->options_json[0] ? s->options_json : NULL,
                                                  &ws->opts, why, sizeof(why))) {
        src_free(w, ws);
        return NULL;
    }
    cc_log_info(w->ctx->log, "watch", "watching a folder", CC_LS("source", s->name),
                CC_LS("path", real));
    return ws;
}

/* A watched source (other than s's own id) whose folder contains s's or
 * lies inside it. */
static struct wsrc *overlapping(struct ingest_watcher *w, const struct wsrc *s)
{
    for (size_t i = 0; i < w->nsrcs; i++) {
        struct wsrc *o = w->srcs[i];
        if (o->id != s->id &&
            (ingest_local_beneath(o->root, s->root) || ingest_local_beneath(s->root, o->root)))
            return o;
    }
    return NULL;
}

/* Brings srcs in line with the store: new watched sources are watched
 * (and rescanned), changed ones re-watched, gone or paused ones dropped. */
static void reload(struct ingest_watcher *w)
{
    struct listing l = {.w = w};
    struct store *st = w->ctx->store;
    if (st->ops->source_list(st, collect, &l) != CC_OK)
        goto out;
    for (size_t i = 0; i < w->nsrcs; i++)
        w->srcs[i]->seen = false;
    for (size_t k = 0; k < l.n; k++) {
        const struct store_source *s = &l.want[k];
        struct wsrc *cur = src_by_id(w, s->id);
        if (cur && strcmp(cur->path, s->path) == 0 &&
            strcmp(cur->options, s->options_json) == 0) {
            cur->seen = true;
            free(cur->name);
            cur->name = cc_xstrdup(s->name);
            continue;
        }
        struct wsrc *fresh = src_new(w, s);
        if (!fresh)
            continue;
        struct wsrc *other = overlapping(w, fresh);
        if (other) {
            /* one inotify watch per directory: two sources cannot share it */
            cc_log_warn(w->ctx->log, "watch", "not watching a folder that overlaps another "
                        "watched source's; its scans still run", CC_LS("source", s->name),
                        CC_LS("other", other->name));
            src_free(w, fresh);
            continue;
        }
        if (cur) {
            cur->seen = false;   /* replaced below */
        }
        w->srcs = cc_xrealloc(w->srcs, (w->nsrcs + 1) * sizeof(*w->srcs));
        w->srcs[w->nsrcs++] = fresh;
    }
    for (size_t i = 0; i < w->nsrcs;) {
        if (!w->srcs[i]->seen) {
            cc_log_info(w->ctx->log, "watch", "no longer watching a folder",
                        CC_LS("source", w->srcs[i]->name));
            src_free(w, w->srcs[i]);
            w->srcs[i] = w->srcs[--w->nsrcs];
        } else {
            i++;
        }
    }
    for (size_t i = 0; i < w->nsrcs; i++) {
        struct wsrc *s = w->srcs[i];
        bool watched = false;
        for (size_t k = 0; k < w->ndirs && !watched; k++)
            watched = w->dirs[k].src == s->id;
        if (!watched && !s->limited)
            add_tree(w, s, "", 0, false);
    }
out:
    for (size_t k = 0; k < l.n; k++) {
        free((char *)l.want[k].name);
        free((char *)l.want[k].path);
        free((char *)l.want[k].options_json);
    }
    free(l.want);
}

/* ------------------------------------------------------------------ */
/* Events                                                              */

static void file_gone(struct ingest_watcher *w, struct wsrc *s, const char *rel)
{
    struct store *st = w->ctx->store;
    cc_err err = st->ops->doc_delete_external(st, s->id, rel);
    if (err == CC_OK)
        cc_log_info(w->ctx->log, "watch", "file gone; its document removed",
                    CC_LS("source", s->name), CC_LS("external_id", rel));
    pend_set(w, s, rel, cc_wall_ms(w->ctx->clock) + w->cfg.debounce_ms, DELETE_CHECKS);
}

static void on_event(struct ingest_watcher *w, const struct inotify_event *ev)
{
    if (ev->mask & IN_Q_OVERFLOW) {
        cc_log_warn(w->ctx->log, "watch", "inotify queue overflowed; rescanning every "
                    "watched folder");
        for (size_t i = 0; i < w->nsrcs; i++) {
            w->srcs[i]->rescan = true;
            add_tree(w, w->srcs[i], "", 0, false);   /* watches for directories missed */
        }
        return;
    }
    if (ev->wd < 0 || (size_t)ev->wd >= w->ndirs || !w->dirs[ev->wd].src)
        return;
    struct wdir *dir = &w->dirs[ev->wd];
    struct wsrc *s = src_by_id(w, dir->src);
    if (ev->mask & IN_IGNORED) {
        dir_clear(w, ev->wd);
        return;
    }
    if (!s)
        return;
    if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
        if (!dir->rel[0])
            s->rescan = true;   /* the folder itself went */
        return;
    }
    if (!ev->len || ev->name[0] == '.')
        return;
    char *rel = join(dir->rel, ev->name);
    bool is_dir = (ev->mask & IN_ISDIR) != 0;
    if (ingest_excluded(s->opts.exclude, s->opts.nexclude, rel, is_dir)) {
        free(rel);
        return;
    }
    if (is_dir) {
        if (ev->mask & (IN_CREATE | IN_MOVED_TO))
            add_tree(w, s, rel, 1, true);
        else if (ev->mask & (IN_DELETE | IN_MOVED_FROM))
            s->rescan = true;   /* its files' documents go with the scan */
    } else if (ingest_content_type_for_path(rel)) {
        if (ev->mask & (IN_DELETE | IN_MOVED_FROM))
            file_gone(w, s, rel);
        else
            pend_set(w, s, rel, cc_wall_ms(w->ctx->clock) + w->cfg.debounce_ms, 0);
    }
    free(rel);
}

static void read_events(struct ingest_watcher *w)
{
    _Alignas(struct inotify_event) char buf[EVENT_BUF];
    for (;;) {
        ssize_t n = read(w->ifd, buf, sizeof(buf));
        if (n <= 0)
            return;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
            on_event(w, ev);
            p += sizeof(*ev) + ev->len;
        }
    }
}

/* ------------------------------------------------------------------ */
/* Due files -> jobs                                                   */

struct batch {
    struct store_job jobs[STORE_BATCH_MAX];
    char *texts[STORE_BATCH_MAX];
    char *keys[STORE_BATCH_MAX];
    char *rels[STORE_BATCH_MAX];
    size_t n;
};

static void batch_release(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->texts[i]);
        free(b->keys[i]);
        free(b->rels[i]);
    }
    b->n = 0;
}

static void flush_batch(struct ingest_watcher *w, struct wsrc *s, struct batch *b)
{
    if (b->n == 0)
        return;
    bool existing[STORE_BATCH_MAX];
    size_t done = 0;
    int64_t now = cc_wall_ms(w->ctx->clock);
    store_job_enqueue_batch(w->ctx->store, b->jobs, b->n, w->cfg.queue_limit, NULL, existing,
                            &done);
    for (size_t i = 0; i < b->n; i++) {
        /* Already queued or running: offered again later, in case the job
         * in flight read the file before this change. Refused (the queue
         * is full): retried once it has room. */
        if (i >= done)
            pend_set(w, s, b->rels[i], now + RETRY_FULL_MS, 0);
        else if (existing[i])
            pend_set(w, s, b->rels[i], now + w->cfg.debounce_ms, 0);
    }
    if (done && w->workers)
        ingest_workers_wake(w->workers);
    batch_release(b);
}

/* The document job of a quiet file, or its deletion if it went. */
static void due_file(struct ingest_watcher *w, struct wsrc *s, const char *rel, int checks,
                     struct batch *b)
{
    int fd = ingest_local_openat(s->rootfd, rel, O_PATH);
    struct stat st;
    bool there = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    if (fd >= 0)
        close(fd);
    if (!there) {
        struct store *store = w->ctx->store;
        store->ops->doc_delete_external(store, s->id, rel);
        if (checks > 1)
            pend_set(w, s, rel, cc_wall_ms(w->ctx->clock) + w->cfg.debounce_ms, checks - 1);
        return;
    }
    if ((uint64_t)st.st_size > w->cfg.max_document_bytes) {
        cc_log_info(w->ctx->log, "watch", "file skipped: over the size cap",
                    CC_LS("source", s->name), CC_LS("path", rel),
                    CC_LI("bytes", (int64_t)st.st_size));
        return;
    }
    json_t *p = ingest__file_payload(s->root, rel, ingest_content_type_for_path(rel));
    if (!p || json_object_set_new(p, "source_id", json_integer(s->id)) ||
        json_object_set_new(p, "source_name", json_string(s->name))) {
        json_decref(p);
        return;
    }
    char *text = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    if (!text)
        return;
    int64_t now = cc_wall_ms(w->ctx->clock);
    size_t i = b->n++;
    b->texts[i] = text;
    b->keys[i] = ingest__file_dedup_key(s->id, rel);
    b->rels[i] = cc_xstrdup(rel);
    b->jobs[i] = (struct store_job){.kind = "ingest.document", .source_id = s->id,
                                    .dedup_key = b->keys[i], .payload = text,
                                    .payload_len = strlen(text),
                                    .max_attempts = w->cfg.max_attempts, .next_run_ms = now,
                                    .created_ms = now, .updated_ms = now};
    if (b->n == STORE_BATCH_MAX)
        flush_batch(w, s, b);
}

/* Queues what is due, source by source; returns the next deadline (0 =
 * none). */
static int64_t run_due(struct ingest_watcher *w, struct batch *b)
{
    int64_t now = cc_wall_ms(w->ctx->clock), next = 0;
    for (size_t i = 0; i < w->nsrcs; i++) {
        struct wsrc *s = w->srcs[i];
        for (size_t k = 0; k < PEND_BUCKETS; k++) {
            for (struct pend **pp = &w->pend[k]; *pp;) {
                struct pend *p = *pp;
                if (p->src != s->id || p->due_ms > now) {
                    if (p->src == s->id && (!next || p->due_ms < next))
                        next = p->due_ms;
                    pp = &p->next;
                    continue;
                }
                *pp = p->next;   /* unlinked first: due_file may pend it again */
                w->npend--;
                due_file(w, s, p->rel, p->checks, b);
                free(p);
                if (*pp == NULL)
                    break;
            }
        }
        flush_batch(w, s, b);
    }
    return next;
}

/* Rescans asked for by events, and fallback scans of limited sources. */
static int64_t run_scans(struct ingest_watcher *w)
{
    int64_t now = cc_wall_ms(w->ctx->clock), next = 0;
    for (size_t i = 0; i < w->nsrcs; i++) {
        struct wsrc *s = w->srcs[i];
        if (s->limited && now >= s->next_scan_ms) {
            s->rescan = true;
            s->next_scan_ms = now + WATCH_FALLBACK_SCAN_MS;
        }
        if (s->rescan) {
            bool existing = false;
            cc_err err = ingest_enqueue_source_run(w->ctx, s->id, w->cfg.queue_limit,
                                                   w->cfg.max_attempts, NULL, &existing);
            /* one already queued or running may have passed the change:
             * ask again until a fresh one is queued */
            s->rescan = err != CC_OK || existing;
            if (!s->rescan && w->workers)
                ingest_workers_wake(w->workers);
            if (s->rescan && (!next || now + RETRY_FULL_MS < next))
                next = now + RETRY_FULL_MS;
        }
        if (s->limited && (!next || s->next_scan_ms < next))
            next = s->next_scan_ms;
    }
    return next;
}

/* ------------------------------------------------------------------ */
/* The thread                                                          */

static void *watch_main(void *arg)
{
    struct ingest_watcher *w = arg;
    struct batch *b = cc_xcalloc(1, sizeof(*b));
    int64_t last_reload = 0;
    while (!atomic_load(&w->stop)) {
        int64_t now = cc_wall_ms(w->ctx->clock);
        if (atomic_exchange(&w->reload, false) || now - last_reload >= RELOAD_MS) {
            reload(w);
            last_reload = cc_wall_ms(w->ctx->clock);
        }
        int64_t next_due = run_due(w, b);
        int64_t next_scan = run_scans(w);
        int64_t wake = last_reload + RELOAD_MS;
        if (next_due && next_due < wake)
            wake = next_due;
        if (next_scan && next_scan < wake)
            wake = next_scan;
        now = cc_wall_ms(w->ctx->clock);
        int timeout = wake > now ? (int)(wake - now) : 0;
        struct pollfd pfd[2] = {{.fd = w->ifd, .events = POLLIN},
                                {.fd = w->efd, .events = POLLIN}};
        if (poll(pfd, 2, timeout) < 0 && errno != EINTR)
            break;
        if (pfd[1].revents & POLLIN) {
            uint64_t v;
            if (read(w->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                break;
        }
        if (pfd[0].revents & POLLIN)
            read_events(w);
    }
    free(b);
    return NULL;
}

cc_err ingest_watcher_start(struct cc_ctx *ctx, struct ingest_workers *workers,
                            const struct ingest_watcher_cfg *cfg, struct ingest_watcher **out)
{
    struct ingest_watcher *w = cc_xcalloc(1, sizeof(*w));
    *w = (struct ingest_watcher){.ctx = ctx, .workers = workers, .cfg = *cfg,
                                 .ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC),
                                 .efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)};
    atomic_init(&w->stop, false);
    atomic_init(&w->reload, true);
    if (w->ifd < 0 || w->efd < 0 || pthread_create(&w->thread, NULL, watch_main, w) != 0) {
        cc_log_error(ctx->log, "watch", "cannot start the folder watcher",
                     CC_LS("error", strerror(errno)));
        ingest_watcher_free(w);
        return CC_EIO;
    }
    w->started = true;
    *out = w;
    return CC_OK;
}

void ingest_watcher_wake(struct ingest_watcher *w)
{
    if (!w)
        return;
    atomic_store(&w->reload, true);
    uint64_t one = 1;
    if (write(w->efd, &one, sizeof(one)) < 0) {
        /* the counter is full: the thread is awake anyway */
    }
}

void ingest_watcher_stop(struct ingest_watcher *w)
{
    if (!w || !w->started)
        return;
    atomic_store(&w->stop, true);
    uint64_t one = 1;
    if (write(w->efd, &one, sizeof(one)) < 0) {
        /* as above */
    }
    pthread_join(w->thread, NULL);
    w->started = false;
}

void ingest_watcher_free(struct ingest_watcher *w)
{
    if (!w)
        return;
    ingest_watcher_stop(w);
    while (w->nsrcs)
        src_free(w, w->srcs[--w->nsrcs]);
    free(w->srcs);
    for (size_t i = 0; i < w->ndirs; i++)
        free(w->dirs[i].rel);
    free(w->dirs);
    for (size_t k = 0; k < PEND_BUCKETS; k++) {
        while (w->pend[k]) {
            struct pend *p = w->pend[k];
            w->pend[k] = p->next;
            free(p);
        }
    }
    if (w->ifd >= 0)
        close(w->ifd);
    if (w->efd >= 0)
        close(w->efd);
    free(w);
}
