/*
 * test_watch.c - the folder watcher's paths that an integration test
 * cannot force on a shared machine: an inotify queue overflow (the
 * sysctl that would shrink the queue is global) and a directory created
 * while events were lost. Drives watch.c's steps directly against a real
 * SQLite store and a real inotify instance, without its thread.
 */
#define _GNU_SOURCE   /* watch.c's O_PATH, before any header */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ingest/watch.c"

struct fixture {
    char dir[128];
    char root[192];
    struct cc_log log;
    struct cc_ctx ctx;
    struct ingest_watcher *w;
    const char *roots[2];
    int64_t sid;
};

static int setup(void **state)
{
    struct fixture *f = cc_xcalloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/cc-watch-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->root, sizeof(f->root), "%s/root", f->dir);
    assert_int_equal(mkdir(f->root, 0755), 0);
    char db[256];
    snprintf(db, sizeof(db), "%s/db.sqlite", f->dir);
    cc_log_init(&f->log, STDERR_FILENO, CC_LOG_ERROR, CC_LOG_JSON, NULL);
    struct store_cfg sc = {.driver = "sqlite", .sqlite_path = db, .busy_timeout_ms = 5000,
                           .pool_size = 2};
    struct store *st = NULL;
    assert_int_equal(store_open(&sc, &st), CC_OK);
    f->ctx = (struct cc_ctx){.log = &f->log, .clock = cc_clock_system(), .store = st};
    struct store_source src = {.name = "w", .type = "file", .path = f->root, .priority = 5,
                               .enabled = true, .options_json = "{\"watch\":true}",
                               .created_ms = 1, .updated_ms = 1};
    assert_int_equal(st->ops->source_insert(st, &src, &f->sid), CC_OK);
    f->roots[0] = f->dir;
    f->w = cc_xcalloc(1, sizeof(*f->w));
    *f->w = (struct ingest_watcher){.ctx = &f->ctx,
                                    .cfg = {.debounce_ms = 10, .max_document_bytes = 1 << 20,
                                            .queue_limit = 1000, .max_attempts = 3,
                                            .allowed_roots = f->roots},
                                    .ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC),
                                    .efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)};
    assert_true(f->w->ifd >= 0 && f->w->efd >= 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    ingest_watcher_free(f->w);   /* never started: frees the state only */
    store_close(f->ctx.store);
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

struct count {
    const char *kind;
    const char *state;
    int n;
    int64_t id;
};

static void count_job(void *arg, const struct store_job *j)
{
    struct count *c = arg;
    if (strcmp(j->kind, c->kind) == 0 && (!c->state || strcmp(j->state, c->state) == 0)) {
        c->n++;
        c->id = j->id;
    }
}

static struct count jobs(struct fixture *f, const char *kind, const char *state)
{
    struct count c = {.kind = kind, .state = state};
    struct store *st = f->ctx.store;
    assert_int_equal(st->ops->job_list(st, NULL, 0, 1000, count_job, &c), CC_OK);
    return c;
}

static void finish_runs(struct fixture *f)
{
    struct store *st = f->ctx.store;
    struct count c = jobs(f, "source.run", "queued");
    struct count *cp = &c;
    while (cp->n-- > 0) {
        struct count claimed = {.kind = "source.run"};
        assert_int_equal(st->ops->job_claim(st, "t", cc_wall_ms(f->ctx.clock), 60000, count_job,
                                            &claimed), CC_OK);
        assert_int_equal(st->ops->job_succeed(st, claimed.id, "t", cc_wall_ms(f->ctx.clock)),
                         CC_OK);
    }
}

static bool watching(struct ingest_watcher *w, const char *rel)
{
    for (size_t i = 0; i < w->ndirs; i++)
        if (w->dirs[i].src && strcmp(w->dirs[i].rel, rel) == 0)
            return true;
    return false;
}

static void drain_events(struct ingest_watcher *w)
{
    read_events(w);
}

static void test_overflow_rescans_and_rewatches(void **state)
{
    struct fixture *f = *state;
    struct ingest_watcher *w = f->w;
    reload(w);
    assert_int_equal(w->nsrcs, 1);
    assert_true(watching(w, ""));
    /* the catch-up scan when a source starts being watched */
    assert_true(w->srcs[0]->rescan);
    run_scans(w);
    assert_false(w->srcs[0]->rescan);
    assert_int_equal(jobs(f, "source.run", NULL).n, 1);

    /* events lost: a directory appears whose creation the watcher never saw */
    char p[256];
    snprintf(p, sizeof(p), "%s/missed", f->root);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/missed/inner", f->root);
    assert_int_equal(mkdir(p, 0755), 0);
    while (read(w->ifd, (char[4096]){0}, 4096) > 0) {
        /* dropped, as an overflow would */
    }
    assert_false(watching(w, "missed"));
    struct inotify_event ov = {.wd = -1, .mask = IN_Q_OVERFLOW};
    on_event(w, &ov);
    assert_true(w->srcs[0]->rescan);
    assert_true(watching(w, "missed"));
    assert_true(watching(w, "missed/inner"));

    /* a run is still queued: it may have passed the change, so the
     * watcher asks again until a fresh run is queued */
    run_scans(w);
    assert_true(w->srcs[0]->rescan);
    assert_int_equal(jobs(f, "source.run", NULL).n, 1);
    finish_runs(f);
    run_scans(w);
    assert_false(w->srcs[0]->rescan);
    assert_int_equal(jobs(f, "source.run", "queued").n, 1);
    finish_runs(f);

    /* and the new directory's events now arrive */
    snprintf(p, sizeof(p), "%s/missed/inner/doc.md", f->root);
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    fputs("# doc\n\ntext\n", fp);
    fclose(fp);
    drain_events(w);
    assert_int_equal(w->npend, 1);
    struct pend **pp = pend_find(w, f->sid, "missed/inner/doc.md");
    assert_non_null(*pp);
    (*pp)->due_ms = 0;   /* due now */
    struct batch *b = cc_xcalloc(1, sizeof(*b));
    run_due(w, b);
    free(b);
    assert_int_equal(w->npend, 0);
    assert_int_equal(jobs(f, "ingest.document", "queued").n, 1);
}

static void test_pending_is_bounded(void **state)
{
    struct fixture *f = *state;
    struct ingest_watcher *w = f->w;
    reload(w);
    run_scans(w);
    finish_runs(f);
    struct wsrc *s = w->srcs[0];
    w->npend = PEND_MAX;   /* as if that many files waited */
    pend_set(w, s, "one-too-many.md", 0, 0);
    assert_true(s->rescan);   /* a scan instead of an unbounded list */
    assert_null(*pend_find(w, s->id, "one-too-many.md"));
    w->npend = 0;
}

/* One inotify watch per directory: a second source over the same folder,
 * or a folder inside it, is not watched (its scans still run). */
static void test_overlapping_sources_are_not_watched_twice(void **state)
{
    struct fixture *f = *state;
    struct ingest_watcher *w = f->w;
    struct store *st = f->ctx.store;
    char sub[256];
    snprintf(sub, sizeof(sub), "%s/sub", f->root);
    assert_int_equal(mkdir(sub, 0755), 0);
    int64_t id2 = 0;
    struct store_source src = {.name = "inner", .type = "file", .path = sub, .priority = 5,
                               .enabled = true, .options_json = "{\"watch\":true}",
                               .created_ms = 1, .updated_ms = 1};
    assert_int_equal(st->ops->source_insert(st, &src, &id2), CC_OK);
    reload(w);
    assert_int_equal(w->nsrcs, 1);
    assert_true(watching(w, ""));             /* whichever came first */
    for (size_t i = 0; i < w->ndirs; i++)
        assert_true(w->dirs[i].src == 0 || w->dirs[i].src == w->srcs[0]->id);
    reload(w);                                /* stable */
    assert_int_equal(w->nsrcs, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_overflow_rescans_and_rewatches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlapping_sources_are_not_watched_twice, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
