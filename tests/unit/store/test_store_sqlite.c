/*
 * test_store_sqlite.c - the SQLite store through the public interface.
 * Every test gets a fresh mkdtemp directory, removed by the teardown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/embedded.h"
#include "core/log.h"
#include "store/store.h"

struct fixture {
    char dir[64];
    char path[128];
    char logpath[128];
    struct cc_log log;
    int logfd;
};

static int setup(void **state)
{
    struct fixture *f = cc_xcalloc(1, sizeof(*f));
    cc_strlcpy(f->dir, "/tmp/cc_store_XXXXXX", sizeof(f->dir));
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/cc.db", f->dir);
    snprintf(f->logpath, sizeof(f->logpath), "%s/log", f->dir);
    f->logfd = open(f->logpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(f->logfd >= 0);
    cc_log_init(&f->log, f->logfd, CC_LOG_DEBUG, CC_LOG_JSON, cc_clock_system());
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    close(f->logfd);
    DIR *d = opendir(f->dir);
    if (d) {
        struct dirent *de;
        char p[512];
        while ((de = readdir(d))) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof(p), "%s/%s", f->dir, de->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static struct store_cfg cfg_for(struct fixture *f)
{
    return (struct store_cfg){
        .driver = "sqlite",
        .sqlite_path = f->path,
        .busy_timeout_ms = 5000,
        .pool_size = 2,
        .log = &f->log,
    };
}

static struct store *open_ok(struct fixture *f)
{
    struct store_cfg cfg = cfg_for(f);
    struct store *s = NULL;
    assert_int_equal(store_open(&cfg, &s), CC_OK);
    assert_non_null(s);
    return s;
}

/* True if the log written so far contains `needle`. */
static bool log_contains(struct fixture *f, const char *needle)
{
    char buf[16384];
    ssize_t n = pread(f->logfd, buf, sizeof(buf) - 1, 0);
    assert_true(n >= 0);
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

/* A side connection, as another tool (or the operator) would open the file. */
static int64_t raw_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static int embedded_count(void)
{
    int n = 0;
    while (sqlite_migrations[n].name)
        n++;
    return n;
}

/* ---- open and migrations --------------------------------------------- */

static void test_open_creates_file_0600_wal(void **state)
{
    struct fixture *f = *state;
    mode_t old = umask(0);             /* a permissive umask must not widen it */
    struct store *s = open_ok(f);
    umask(old);
    struct stat sb;
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(s->ops->ping(s), CC_OK);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
    store_close(s);
}

static void test_migrations_recorded_and_reopen_noop(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct store_info info;
    assert_int_equal(s->ops->info(s, &info), CC_OK);
    assert_string_equal(info.driver, "sqlite");
    assert_true(info.schema_latest >= 1);
    assert_int_equal(info.schema_version, info.schema_latest);
    store_close(s);

    int64_t rows = raw_int(f->path, "SELECT COUNT(*) FROM schema_migrations");
    int64_t stamp = raw_int(f->path, "SELECT SUM(applied_at) FROM schema_migrations");
    assert_int_equal(rows, embedded_count());
    assert_int_equal(raw_int(f->path, "SELECT version FROM schema_migrations"
                                      " WHERE name = '0001_init.sql'"), 1);

    s = open_ok(f);
    assert_int_equal(s->ops->info(s, &info), CC_OK);
    assert_int_equal(info.schema_version, info.schema_latest);
    store_close(s);
    assert_int_equal(raw_int(f->path, "SELECT COUNT(*) FROM schema_migrations"), rows);
    assert_int_equal(raw_int(f->path, "SELECT SUM(applied_at) FROM schema_migrations"), stamp);
}

static void test_future_version_refused(void **state)
{
    struct fixture *f = *state;
    store_close(open_ok(f));
    raw_exec(f->path, "INSERT INTO schema_migrations (version, name, applied_at)"
                      " VALUES (9999, '9999_future.sql', 0)");
    struct store_cfg cfg = cfg_for(f);
    struct store *s = (struct store *)0x1;   /* must stay untouched */
    assert_int_equal(store_open(&cfg, &s), CC_ESTATE);
    assert_ptr_equal(s, (struct store *)0x1);
    assert_true(log_contains(f, "upgrade commandcenter"));
    assert_true(log_contains(f, "\"db_version\":9999"));
}

static void test_unknown_driver(void **state)
{
    struct fixture *f = *state;
    struct store_cfg cfg = cfg_for(f);
    cfg.driver = "oracle";
    struct store *s = NULL;
    assert_int_equal(store_open(&cfg, &s), CC_EINVAL);
    assert_null(s);
    assert_true(log_contains(f, "oracle"));
    assert_true(log_contains(f, "\"known\":\"sqlite, postgres\""));
    cfg.driver = NULL;
    assert_int_equal(store_open(&cfg, &s), CC_EINVAL);
    assert_int_equal(access(f->path, F_OK), -1);   /* nothing created */
}

static void test_corrupt_file(void **state)
{
    struct fixture *f = *state;
    int fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    unsigned char junk[4096];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (unsigned char)(i * 131u + 7u);
    assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
    close(fd);
    struct store_cfg cfg = cfg_for(f);
    struct store *s = NULL;
    assert_int_equal(store_open(&cfg, &s), CC_EIO);
    assert_null(s);
    assert_true(log_contains(f, "not a database"));
    assert_true(log_contains(f, "cannot open the sqlite store"));
}

static void test_bad_path(void **state)
{
    struct fixture *f = *state;
    struct store_cfg cfg = cfg_for(f);
    struct store *s = NULL;
    cfg.sqlite_path = "/nonexistent-dir-cc/x.db";
    assert_int_equal(store_open(&cfg, &s), CC_EIO);
    cfg.sqlite_path = ":memory:";
    assert_int_equal(store_open(&cfg, &s), CC_EINVAL);
    cfg.sqlite_path = NULL;
    assert_int_equal(store_open(&cfg, &s), CC_EINVAL);
    assert_null(s);
}

/* ---- tokens ---------------------------------------------------------- */

#define HASH_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HASH_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HASH_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

struct seen {
    int n;
    int64_t ids[16];
    char names[16][72];
    char extra[16][72];
    int64_t nums[16];
};

static void on_token(void *arg, const struct store_token *t)
{
    struct seen *sn = arg;
    assert_true(sn->n < 16);
    sn->ids[sn->n] = t->id;
    cc_strlcpy(sn->names[sn->n], t->name, sizeof(sn->names[0]));
    cc_strlcpy(sn->extra[sn->n], t->scope, sizeof(sn->extra[0]));
    sn->nums[sn->n] = t->last_used_ms;
    sn->n++;
}

static void test_tokens(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    const struct store_ops *o = s->ops;
    struct store_token a = {.name = "ci", .hash = HASH_A, .scope = "admin", .created_ms = 10};
    struct store_token b = {.name = "viewer", .hash = HASH_B, .scope = "read", .created_ms = 11};
    int64_t ida = 0, idb = 0, idx = -7;
    assert_int_equal(o->token_insert(s, &a, &ida), CC_OK);
    assert_int_equal(o->token_insert(s, &b, &idb), CC_OK);
    assert_true(ida > 0 && idb > ida);

    struct store_token dup = {.name = "ci", .hash = HASH_C, .scope = "read"};
    assert_int_equal(o->token_insert(s, &dup, &idx), CC_ECONFLICT);
    dup.name = "other";
    dup.hash = HASH_A;                 /* same token twice */
    assert_int_equal(o->token_insert(s, &dup, &idx), CC_ECONFLICT);
    dup.hash = HASH_C;
    dup.scope = "root";
    assert_int_equal(o->token_insert(s, &dup, &idx), CC_EINVAL);
    assert_int_equal(idx, -7);         /* out untouched on failure */

    assert_int_equal(o->token_touch(s, idb, 99), CC_OK);
    assert_int_equal(o->token_touch(s, 4242, 99), CC_ENOTFOUND);
    struct seen sn = {0};
    assert_int_equal(o->token_list(s, on_token, &sn), CC_OK);
    assert_int_equal(sn.n, 2);
    assert_string_equal(sn.names[0], "ci");
    assert_string_equal(sn.extra[0], "admin");
    assert_int_equal(sn.nums[0], 0);
    assert_string_equal(sn.names[1], "viewer");
    assert_int_equal(sn.nums[1], 99);

    assert_int_equal(o->token_delete(s, ida), CC_OK);
    assert_int_equal(o->token_delete(s, ida), CC_ENOTFOUND);
    memset(&sn, 0, sizeof(sn));
    assert_int_equal(o->token_list(s, on_token, &sn), CC_OK);
    assert_int_equal(sn.n, 1);
    assert_int_equal(sn.ids[0], idb);
    /* The name is free again once deleted. */
    assert_int_equal(o->token_insert(s, &a, &ida), CC_OK);
    store_close(s);
}

/* ---- projects -------------------------------------------------------- */

static void on_project(void *arg, const struct store_project *p)
{
    struct seen *sn = arg;
    assert_true(sn->n < 16);
    sn->ids[sn->n] = p->id;
    cc_strlcpy(sn->names[sn->n], p->name, sizeof(sn->names[0]));
    cc_strlcpy(sn->extra[sn->n], p->spec_json ? p->spec_json : "(null)", sizeof(sn->extra[0]));
    sn->nums[sn->n] = p->updated_ms;
    sn->n++;
}

static void test_projects(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    const struct store_ops *o = s->ops;
    struct store_project web = {.name = "web", .compose_path = "/srv/web/compose.yml",
                                .state = "registered", .created_ms = 1, .updated_ms = 1};
    struct store_project api = {.name = "api", .compose_path = "/srv/api/compose.yml",
                                .spec_json = "{\"services\":{}}", .state = "up",
                                .created_ms = 2, .updated_ms = 2};
    int64_t idw = 0, ida = 0;
    assert_int_equal(o->project_insert(s, &web, &idw), CC_OK);
    assert_int_equal(o->project_insert(s, &api, &ida), CC_OK);
    assert_int_equal(o->project_insert(s, &web, &idw), CC_ECONFLICT);

    struct seen sn = {0};
    assert_int_equal(o->project_get(s, "web", on_project, &sn), CC_OK);
    assert_int_equal(sn.n, 1);
    assert_int_equal(sn.ids[0], idw);
    assert_string_equal(sn.extra[0], "(null)");
    assert_int_equal(o->project_get(s, "nope", on_project, &sn), CC_ENOTFOUND);
    assert_int_equal(sn.n, 1);

    web.id = idw;
    web.spec_json = "{\"v\":2}";
    web.state = "down";
    web.updated_ms = 50;
    assert_int_equal(o->project_update(s, &web), CC_OK);
    memset(&sn, 0, sizeof(sn));
    assert_int_equal(o->project_list(s, on_project, &sn), CC_OK);
    assert_int_equal(sn.n, 2);
    assert_string_equal(sn.names[0], "api");      /* listed by name */
    assert_string_equal(sn.names[1], "web");
    assert_string_equal(sn.extra[1], "{\"v\":2}");
    assert_int_equal(sn.nums[1], 50);

    web.name = "api";                  /* renaming onto another project */
    assert_int_equal(o->project_update(s, &web), CC_ECONFLICT);
    web.name = "web";
    web.id = 777;
    assert_int_equal(o->project_update(s, &web), CC_ENOTFOUND);

    assert_int_equal(o->project_delete(s, "api"), CC_OK);
    assert_int_equal(o->project_delete(s, "api"), CC_ENOTFOUND);
    memset(&sn, 0, sizeof(sn));
    assert_int_equal(o->project_list(s, on_project, &sn), CC_OK);
    assert_int_equal(sn.n, 1);
    store_close(s);
}

/* ---- events ---------------------------------------------------------- */

struct ev_seen {
    int n;
    int64_t last_id;
    bool ordered;
    char first_kind[32];
    bool first_project_null;
};

static void on_event(void *arg, const struct store_event *e)
{
    struct ev_seen *es = arg;
    if (es->n == 0) {
        cc_strlcpy(es->first_kind, e->kind, sizeof(es->first_kind));
        es->first_project_null = e->project == NULL;
        es->ordered = true;
    } else if (e->id <= es->last_id) {
        es->ordered = false;
    }
    es->last_id = e->id;
    es->n++;
}

static void append(struct store *s, int64_t ts, const char *kind, int64_t *out_id)
{
    struct store_event e = {.ts_ms = ts, .kind = kind, .project = "web", .service = "db",
                            .message = "m"};
    assert_int_equal(s->ops->event_append(s, &e, out_id), CC_OK);
}

static void test_events(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    const struct store_ops *o = s->ops;
    struct store_event bare = {.ts_ms = 1, .kind = "daemon.started", .message = "hi"};
    int64_t first = 0, id = 0;
    assert_int_equal(o->event_append(s, &bare, &first), CC_OK);
    for (int i = 0; i < 1199; i++)
        append(s, 100 + i, "service.healthy", &id);
    assert_int_equal(id, first + 1199);

    struct ev_seen es = {0};
    assert_int_equal(o->event_list(s, 0, 5, on_event, &es), CC_OK);
    assert_int_equal(es.n, 5);
    assert_true(es.ordered);
    assert_string_equal(es.first_kind, "daemon.started");
    assert_true(es.first_project_null);

    memset(&es, 0, sizeof(es));        /* after_id skips what was seen */
    assert_int_equal(o->event_list(s, first + 1195, 100, on_event, &es), CC_OK);
    assert_int_equal(es.n, 4);
    assert_int_equal(es.last_id, id);

    memset(&es, 0, sizeof(es));        /* the cap */
    assert_int_equal(o->event_list(s, 0, 5000, on_event, &es), CC_OK);
    assert_int_equal(es.n, (int)STORE_EVENT_LIST_MAX);
    assert_true(es.ordered);

    int64_t deleted = -1;              /* ts 1 and 100..149 */
    assert_int_equal(o->event_prune(s, 150, &deleted), CC_OK);
    assert_int_equal(deleted, 51);
    assert_int_equal(o->event_prune(s, 150, NULL), CC_OK);
    memset(&es, 0, sizeof(es));
    assert_int_equal(o->event_list(s, 0, 1, on_event, &es), CC_OK);
    assert_int_equal(es.last_id, first + 51);

    /* Ids are never reused after a prune (AUTOINCREMENT). */
    assert_int_equal(o->event_prune(s, INT64_MAX, &deleted), CC_OK);
    assert_int_equal(deleted, 1149);
    int64_t next = 0;
    append(s, 5, "x", &next);
    assert_true(next > id);
    store_close(s);
}

/* ---- concurrency ----------------------------------------------------- */

#define WRITERS 2
#define PER_WRITER 300

struct worker {
    struct store *s;
    cc_err err;
    int64_t max_seen;
    bool ordered;
};

static void *writer_main(void *arg)
{
    struct worker *w = arg;
    struct store_event e = {.ts_ms = 1, .kind = "k", .message = "m"};
    for (int i = 0; i < PER_WRITER && !w->err; i++) {
        int64_t id;
        w->err = w->s->ops->event_append(w->s, &e, &id);
    }
    return NULL;
}

/* Pages through the whole log repeatedly; what it sees never shrinks. */
static void *reader_main(void *arg)
{
    struct worker *w = arg;
    w->ordered = true;
    int64_t prev_total = 0;
    for (int round = 0; round < 40 && !w->err; round++) {
        int64_t total = 0, after = 0;
        for (;;) {
            struct ev_seen es = {0};
            w->err = w->s->ops->event_list(w->s, after, 100, on_event, &es);
            if (w->err || es.n == 0)
                break;
            if (!es.ordered || es.last_id <= after)
                w->ordered = false;
            total += es.n;
            after = es.last_id;
        }
        if (total < prev_total)
            w->ordered = false;
        prev_total = total;
        struct store_info info;
        if (!w->err)
            w->err = w->s->ops->info(w->s, &info);
    }
    w->max_seen = prev_total;
    return NULL;
}

static void test_threads(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    pthread_t th[4];
    struct worker w[4] = {{.s = s}, {.s = s}, {.s = s}, {.s = s}};
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, i < WRITERS ? writer_main : reader_main,
                                        &w[i]), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++)
        assert_int_equal(w[i].err, CC_OK);
    for (int i = WRITERS; i < 4; i++) {
        assert_true(w[i].ordered);
        assert_true(w[i].max_seen <= WRITERS * PER_WRITER);
    }
    struct worker check = {.s = s};
    reader_main(&check);
    assert_int_equal(check.err, CC_OK);
    assert_int_equal(check.max_seen, WRITERS * PER_WRITER);
    store_close(s);
}

struct opener {
    struct store_cfg cfg;
    struct store *s;
    cc_err err;
};

static void *open_main(void *arg)
{
    struct opener *op = arg;
    op->err = store_open(&op->cfg, &op->s);
    return NULL;
}

/* Two handles on one file stand in for two daemons: both open a fresh file
 * at the same moment (racing migrations), then see each other's writes. */
static void test_two_handles(void **state)
{
    struct fixture *f = *state;
    for (int round = 0; round < 5; round++) {
        unlink(f->path);
        char side[160];
        snprintf(side, sizeof(side), "%s-wal", f->path);
        unlink(side);
        snprintf(side, sizeof(side), "%s-shm", f->path);
        unlink(side);
        struct opener op[2] = {{.cfg = cfg_for(f)}, {.cfg = cfg_for(f)}};
        pthread_t th[2];
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_create(&th[i], NULL, open_main, &op[i]), 0);
        for (int i = 0; i < 2; i++)
            pthread_join(th[i], NULL);
        assert_int_equal(op[0].err, CC_OK);
        assert_int_equal(op[1].err, CC_OK);
        struct store *a = op[0].s, *b = op[1].s;
        assert_int_equal(raw_int(f->path, "SELECT COUNT(*) FROM schema_migrations"),
                         embedded_count());

        struct store_token t = {.name = "shared", .hash = HASH_A, .scope = "read"};
        int64_t id = 0;
        assert_int_equal(a->ops->token_insert(a, &t, &id), CC_OK);
        assert_int_equal(b->ops->token_insert(b, &t, &id), CC_ECONFLICT);
        struct seen sn = {0};
        assert_int_equal(b->ops->token_list(b, on_token, &sn), CC_OK);
        assert_int_equal(sn.n, 1);
        assert_int_equal(b->ops->token_delete(b, id), CC_OK);
        assert_int_equal(a->ops->token_delete(a, id), CC_ENOTFOUND);
        store_close(a);
        store_close(b);
    }
}

/* Real processes this time: two children open the fresh file at once and
 * append; the parent then sees every event and each migration once. */
static void test_two_processes(void **state)
{
    struct fixture *f = *state;
    pid_t pids[2];
    for (int i = 0; i < 2; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            struct store_cfg cfg = cfg_for(f);
            struct store *s = NULL;
            int code = store_open(&cfg, &s) == CC_OK ? 0 : 1;
            struct store_event e = {.ts_ms = 1, .kind = "child", .message = "m"};
            for (int k = 0; k < 100 && code == 0; k++) {
                int64_t id;
                if (s->ops->event_append(s, &e, &id) != CC_OK)
                    code = 2;
            }
            store_close(s);
            _exit(code);
        }
    }
    for (int i = 0; i < 2; i++) {
        int status = 0;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_int_equal(raw_int(f->path, "SELECT COUNT(*) FROM events"), 200);
    assert_int_equal(raw_int(f->path, "SELECT COUNT(*) FROM schema_migrations"),
                     embedded_count());
}

static void test_persists(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct store_project p = {.name = "keep", .compose_path = "/c.yml", .state = "up",
                              .created_ms = 3, .updated_ms = 4};
    int64_t pid = 0, eid = 0;
    assert_int_equal(s->ops->project_insert(s, &p, &pid), CC_OK);
    append(s, 7, "kept", &eid);
    store_close(s);

    s = open_ok(f);
    struct seen sn = {0};
    assert_int_equal(s->ops->project_get(s, "keep", on_project, &sn), CC_OK);
    assert_int_equal(sn.ids[0], pid);
    assert_int_equal(sn.nums[0], 4);
    struct ev_seen es = {0};
    assert_int_equal(s->ops->event_list(s, 0, 10, on_event, &es), CC_OK);
    assert_int_equal(es.n, 1);
    assert_int_equal(es.last_id, eid);
    assert_string_equal(es.first_kind, "kept");
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates_file_0600_wal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrations_recorded_and_reopen_noop, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_future_version_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_driver, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_projects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_handles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_processes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_persists, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
