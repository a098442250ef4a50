/*
 * test_process_driver.c - the process driver with real processes: life
 * cycle, exit codes and signals, stop grace, re-adoption by a new driver,
 * logs (tail, since, follow, restarts, rotation, a 200 MB file), users,
 * exec timeouts, cgroup limits and OOM, secrets, bad input.
 *
 * This binary is its own shim: run as `test_process_driver shim DIR ...`
 * it becomes the shim (what `commandcenter shim` does), so the driver can
 * exec /proc/self/exe without the commandcenter binary.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "orchestrator/compose.h"
#include "orchestrator/driver.h"
#include "orchestrator/process.h"
#include "orchestrator/process_int.h"

static char self_exe[PATH_MAX];

struct fx {
    char dir[PATH_MAX];        /* temp root: compose dir and state dir */
    char state[PATH_MAX + 16];
    struct orch_driver *d;
    struct orch_stack *stack;
    char id[256];
};

static struct orch_driver *open_driver(struct fx *f, uint64_t log_max, unsigned files)
{
    struct orch_driver_cfg cfg = {.state_dir = f->state, .log_max_bytes = log_max,
                                  .log_files = files, .self_exe = self_exe};
    struct orch_driver *d = NULL;
    struct orch_err e = {.msg = ""};
    cc_err err = orch_process_ops.open(&cfg, &d, &e);
    if (err)
        print_error("open: %s (%s)\n", e.msg, e.hint);
    assert_int_equal(err, CC_OK);
    return d;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/cc-proc-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->state, sizeof(f->state), "%s/state", f->dir);
    f->d = open_driver(f, 1 << 20, 3);
    *state = f;
    return 0;
}

static int rm_fn(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (f->id[0]) {
        orch_process_ops.stop(f->d, f->id, 0, NULL);
        orch_process_ops.remove(f->d, f->id, NULL);
    }
    orch_process_ops.close(f->d);
    orch_stack_free(f->stack);
    nftw(f->dir, rm_fn, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static struct orch_stack *parse(struct fx *f, const char *yaml)
{
    struct orch_compose_opts o = {.file = "compose.yaml", .dir = f->dir, .default_name = "t"};
    struct orch_stack *s = NULL;
    struct cc_diag dg = {.msg = ""};
    cc_err err = orch_compose_parse(yaml, strlen(yaml), &o, &s, &dg);
    if (err)
        print_error("compose: %u:%u: %s\n", dg.line, dg.col, dg.msg);
    assert_int_equal(err, CC_OK);
    orch_stack_free(f->stack);
    f->stack = s;
    return s;
}

struct seen {
    struct orch_inst i;
    char id[256];
    int n;
};

static void inst_cb(void *arg, const struct orch_inst *i)
{
    struct seen *s = arg;
    s->i = *i;
    snprintf(s->id, sizeof(s->id), "%s", i->id);
    s->i.id = s->id;
    s->i.project = s->i.service = s->i.config_hash = NULL;
    s->n++;
}

static cc_err create_svc(struct fx *f, const char *yaml, const char *svc, struct orch_err *e)
{
    parse(f, yaml);
    const struct orch_service *sv = orch_stack_service(f->stack, svc);
    assert_non_null(sv);
    struct orch_spec spec = {.project = "t", .stack = f->stack, .svc = sv,
                             .config_hash = "abc123", .limits = sv->limits};
    struct seen s = {0};
    cc_err err = orch_process_ops.create(f->d, &spec, inst_cb, &s, e);
    if (!err) {
        assert_int_equal(s.n, 1);
        assert_int_equal(s.i.state, ORCH_RUN_CREATED);
        snprintf(f->id, sizeof(f->id), "%s", s.id);
    }
    return err;
}

static void up(struct fx *f, const char *yaml, const char *svc)
{
    struct orch_err e = {.msg = ""};
    cc_err err = create_svc(f, yaml, svc, &e);
    if (!err)
        err = orch_process_ops.start(f->d, f->id, &e);
    if (err)
        print_error("up: %s (%s)\n", e.msg, e.hint);
    assert_int_equal(err, CC_OK);
}

static struct orch_inst inspect(struct fx *f)
{
    struct seen s = {0};
    assert_int_equal(orch_process_ops.inspect(f->d, f->id, inst_cb, &s, NULL), CC_OK);
    return s.i;
}

static struct orch_inst wait_exited(struct fx *f, int secs)
{
    for (int i = 0; i < secs * 50; i++) {
        struct orch_inst in = inspect(f);
        if (in.state == ORCH_RUN_EXITED)
            return in;
        usleep(20000);
    }
    fail_msg("instance %s did not exit within %d s", f->id, secs);
    return inspect(f);
}

/* Collected log lines (bounded for the tests' needs). */
struct lines {
    char text[2048][80];
    int64_t ts[2048];
    enum orch_stream stream[2048];
    int n;
    int stop_after;            /* 0: never */
};

static bool line_cb(void *arg, const struct orch_log_line *l)
{
    struct lines *ls = arg;
    if (ls->n < 2048) {
        size_t n = l->len < 79 ? l->len : 79;
        memcpy(ls->text[ls->n], l->text, n);
        ls->text[ls->n][n] = '\0';
        ls->ts[ls->n] = l->ts_ns;
        ls->stream[ls->n] = l->stream;
    }
    ls->n++;
    return !(ls->stop_after && ls->n >= ls->stop_after);
}

static struct lines *logs(struct fx *f, long tail, int64_t since, bool follow)
{
    struct lines *ls = calloc(1, sizeof(*ls));
    struct orch_log_query q = {.tail = tail, .since_ns = since, .follow = follow};
    struct orch_err e = {.msg = ""};
    cc_err err = orch_process_ops.logs(f->d, f->id, &q, line_cb, ls, &e);
    if (err)
        print_error("logs: %s\n", e.msg);
    assert_int_equal(err, CC_OK);
    return ls;
}

static struct orch_exec_result *run_exec(struct fx *f, int64_t timeout_ms, char *const argv[])
{
    struct orch_exec_result *r = calloc(1, sizeof(*r));
    struct orch_err e = {.msg = ""};
    cc_err err = orch_process_ops.exec(f->d, f->id, argv, timeout_ms * 1000000, r, &e);
    if (err)
        print_error("exec: %s (%s)\n", e.msg, e.hint);
    assert_int_equal(err, CC_OK);
    return r;
}

static void inst_dir(struct fx *f, const char *svc, const char *rel, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s/process/t/%s/%s", f->state, svc, rel);
}

/* ---- life cycle ---- */

static void test_lifecycle(void **state)
{
    struct fx *f = *state;
    up(f, "services:\n  web:\n    image: x\n"
          "    command: [\"sh\", \"-c\", \"echo hello; echo oops >&2; exec sleep 30\"]\n",
       "web");
    assert_string_equal(f->id, "proc-t-web");
    struct orch_inst i = inspect(f);
    assert_int_equal(i.state, ORCH_RUN_RUNNING);
    assert_true(i.pid > 0);
    assert_true(i.started_ms > 0);
    assert_int_equal(kill(i.pid, 0), 0);
    /* starting a running instance is a no-op */
    assert_int_equal(orch_process_ops.start(f->d, f->id, NULL), CC_OK);
    assert_int_equal(inspect(f).pid, i.pid);
    struct lines *ls = NULL;
    for (int k = 0; k < 100; k++) {   /* the output arrives asynchronously */
        free(ls);
        ls = logs(f, -1, 0, false);
        if (ls->n >= 2)
            break;
        usleep(20000);
    }
    assert_int_equal(ls->n, 2);
    assert_string_equal(ls->text[0], "hello");
    assert_int_equal(ls->stream[0], ORCH_STDOUT);
    assert_string_equal(ls->text[1], "oops");
    assert_int_equal(ls->stream[1], ORCH_STDERR);
    assert_true(ls->ts[0] > 0 && ls->ts[1] >= ls->ts[0]);
    free(ls);
    struct orch_err e = {.msg = ""};
    assert_int_equal(orch_process_ops.remove(f->d, f->id, &e), CC_ESTATE);
    assert_int_equal(orch_process_ops.stop(f->d, f->id, INT64_C(5000000000), NULL), CC_OK);
    i = inspect(f);
    assert_int_equal(i.state, ORCH_RUN_EXITED);
    assert_int_equal(i.exit_code, 128 + SIGTERM);
    assert_false(i.oom_killed);
    assert_true(i.finished_ms >= i.started_ms);
    char host[64];
    unsigned port = 0;
    assert_int_equal(orch_process_ops.endpoint(f->d, f->id, 8080, host, sizeof(host), &port,
                                               NULL), CC_OK);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 8080);
    assert_int_equal(orch_process_ops.remove(f->d, f->id, NULL), CC_OK);
    assert_int_equal(orch_process_ops.inspect(f->d, f->id, inst_cb, &(struct seen){0}, NULL),
                     CC_ENOTFOUND);
    f->id[0] = '\0';
}

static void test_exit_codes(void **state)
{
    struct fx *f = *state;
    up(f, "services:\n  job:\n    image: x\n    command: sh -c 'exit 3'\n", "job");
    struct orch_inst i = wait_exited(f, 10);
    assert_int_equal(i.exit_code, 3);
    up(f, "services:\n  job:\n    image: x\n    command: sh -c 'kill -KILL $$$$'\n", "job");
    assert_int_equal(wait_exited(f, 10).exit_code, 128 + SIGKILL);
    /* a command that does not exist: start fails, state says 127 */
    struct orch_err e = {.msg = ""};
    assert_int_equal(create_svc(f, "services:\n  job:\n    image: x\n"
                                   "    command: [no-such-program-xyz]\n", "job", &e), CC_OK);
    assert_int_equal(orch_process_ops.start(f->d, f->id, &e), CC_EINVAL);
    assert_non_null(strstr(e.msg, "no-such-program-xyz"));
    i = inspect(f);
    assert_int_equal(i.state, ORCH_RUN_EXITED);
    assert_int_equal(i.exit_code, 127);
}

static void test_stop_grace(void **state)
{
    struct fx *f = *state;
    up(f, "services:\n  stubborn:\n    image: x\n"
          "    command: [\"sh\", \"-c\", \"trap '' TERM; exec sleep 60\"]\n", "stubborn");
    usleep(100000);
    int64_t t0 = orch__mono_ms();
    assert_int_equal(orch_process_ops.stop(f->d, f->id, INT64_C(400000000), NULL), CC_OK);
    int64_t took = orch__mono_ms() - t0;
    assert_true(took >= 400);
    struct orch_inst i = inspect(f);
    assert_int_equal(i.state, ORCH_RUN_EXITED);
    assert_int_equal(i.exit_code, 128 + SIGKILL);
}

/* ---- re-adoption ---- */

static void test_readopt(void **state)
{
    struct fx *f = *state;
    char go[PATH_MAX + 8], yaml[PATH_MAX * 2];
    snprintf(go, sizeof(go), "%s/go", f->dir);
    snprintf(yaml, sizeof(yaml),
             "services:\n  w:\n    image: x\n    command: [\"sh\", \"-c\", \"echo before; "
             "while [ ! -e %s ]; do sleep 0.05; done; echo after; exit 5\"]\n", go);
    up(f, yaml, "w");
    int pid = inspect(f).pid;
    /* the daemon goes away; a new one opens the same state dir */
    orch_process_ops.close(f->d);
    f->d = open_driver(f, 1 << 20, 3);
    struct seen s = {0};
    assert_int_equal(orch_process_ops.list(f->d, "t", inst_cb, &s, NULL), CC_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.id, "proc-t-w");
    assert_int_equal(s.i.state, ORCH_RUN_RUNNING);
    assert_int_equal(s.i.pid, pid);
    s.n = 0;
    assert_int_equal(orch_process_ops.list(f->d, "other", inst_cb, &s, NULL), CC_OK);
    assert_int_equal(s.n, 0);
    int fd = open(go, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(wait_exited(f, 10).exit_code, 5);
    struct lines *ls = logs(f, -1, 0, false);
    assert_int_equal(ls->n, 2);
    assert_string_equal(ls->text[1], "after");
    free(ls);
}

/* The daemon is SIGKILLed while its service runs: the service keeps
 * running, keeps logging, and its exit code is learned afterwards. */
static void test_daemon_sigkill(void **state)
{
    struct fx *f = *state;
    char go[PATH_MAX + 8], yaml[PATH_MAX * 2];
    snprintf(go, sizeof(go), "%s/go", f->dir);
    snprintf(yaml, sizeof(yaml),
             "services:\n  k:\n    image: x\n    command: [\"sh\", \"-c\", \"while [ ! -e %s ]; "
             "do sleep 0.05; done; echo written-while-daemon-down; exit 9\"]\n", go);
    parse(f, yaml);
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t daemon = fork();
    assert_true(daemon >= 0);
    if (daemon == 0) {   /* the "daemon": its own driver, then killed */
        struct orch_driver *d = open_driver(f, 1 << 20, 3);
        const struct orch_service *sv = orch_stack_service(f->stack, "k");
        struct orch_spec spec = {.project = "t", .stack = f->stack, .svc = sv,
                                 .config_hash = "h1", .limits = sv->limits};
        bool ok = orch_process_ops.create(d, &spec, NULL, NULL, NULL) == CC_OK &&
                  orch_process_ops.start(d, "proc-t-k", NULL) == CC_OK;
        if (write(ready[1], ok ? "y" : "n", 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    close(ready[1]);
    char c = 0;
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    kill(daemon, SIGKILL);
    waitpid(daemon, NULL, 0);
    assert_int_equal(c, 'y');
    snprintf(f->id, sizeof(f->id), "proc-t-k");
    struct seen s = {0};
    assert_int_equal(orch_process_ops.list(f->d, NULL, inst_cb, &s, NULL), CC_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.i.state, ORCH_RUN_RUNNING);
    int fd = open(go, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    /* wait with no driver call in between: the shim records the exit */
    char stp[PATH_MAX * 2];
    inst_dir(f, "k", "", stp, sizeof(stp));
    struct pstate st = {0};
    for (int k = 0; k < 500 && st.status != PST_EXITED; k++) {
        usleep(20000);
        orch__pstate_load(stp, &st);
    }
    assert_int_equal(st.status, PST_EXITED);
    assert_int_equal(wait_exited(f, 1).exit_code, 9);
    struct lines *ls = logs(f, 1, 0, false);
    assert_int_equal(ls->n, 1);
    assert_string_equal(ls->text[0], "written-while-daemon-down");
    free(ls);
}

/* ---- logs ---- */

static void test_logs_restart_tail_since(void **state)
{
    struct fx *f = *state;
    up(f, "services:\n  p:\n    image: x\n    command: sh -c 'echo l1; echo l2; echo l3'\n", "p");
    wait_exited(f, 10);
    usleep(5000);
    assert_int_equal(orch_process_ops.start(f->d, f->id, NULL), CC_OK);
    wait_exited(f, 10);
    struct lines *all = logs(f, -1, 0, false);
    assert_int_equal(all->n, 6);
    const char *want[] = {"l1", "l2", "l3", "l1", "l2", "l3"};
    for (int i = 0; i < 6; i++) {
        assert_string_equal(all->text[i], want[i]);
        if (i)
            assert_true(all->ts[i] >= all->ts[i - 1]);
    }
    struct lines *t = logs(f, 2, 0, false);
    assert_int_equal(t->n, 2);
    assert_string_equal(t->text[0], "l2");
    assert_string_equal(t->text[1], "l3");
    free(t);
    t = logs(f, 0, 0, false);
    assert_int_equal(t->n, 0);
    free(t);
    /* since = the second run's first line: the second run only */
    t = logs(f, -1, all->ts[3], false);
    assert_int_equal(t->n, 3);
    assert_string_equal(t->text[0], "l1");
    free(t);
    t = logs(f, 10, all->ts[3], false);
    assert_int_equal(t->n, 3);
    free(t);
    struct orch_log_query q = {.tail = -1, .until_ns = all->ts[2]};
    struct lines *u = calloc(1, sizeof(*u));
    assert_int_equal(orch_process_ops.logs(f->d, f->id, &q, line_cb, u, NULL), CC_OK);
    assert_true(u->n >= 3 && u->n <= 6);
    assert_string_equal(u->text[2], "l3");
    free(u);
    free(all);
    /* follow on an exited instance returns after reading */
    t = logs(f, 1, 0, true);
    assert_int_equal(t->n, 1);
    free(t);
}

static void test_logs_rotation_follow(void **state)
{
    struct fx *f = *state;
    orch_process_ops.close(f->d);
    f->d = open_driver(f, 16 * 1024, 3);
    /* 400 lines of ~100 bytes (~53 KB of records), slowly enough that each file lives > 100 ms */
    up(f, "services:\n  r:\n    image: x\n    command: [\"sh\", \"-c\", \"i=0; while [ $$i -lt "
          "400 ]; do i=$$((i+1)); echo line-$$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; "
          "[ $$((i % 20)) -eq 0 ] && sleep 0.05; done; true\"]\n", "r");
    struct lines *fl = logs(f, -1, 0, true);   /* returns when the service exits */
    assert_int_equal(inspect(f).state, ORCH_RUN_EXITED);
    /* follow saw the beginning? only if it started before the first
     * rotation; it must in any case end with line-400 and have no gap */
    if (fl->n <= 100)
        print_error("follow saw %d lines, first %s\n", fl->n, fl->text[0]);
    assert_true(fl->n > 100);
    int first = -1;
    assert_int_equal(sscanf(fl->text[0], "line-%d-", &first), 1);
    for (int i = 0; i < fl->n && i < 2048; i++) {
        char want[32];
        snprintf(want, sizeof(want), "line-%d-", first + i);
        assert_memory_equal(fl->text[i], want, strlen(want));
    }
    assert_int_equal(first + fl->n - 1, 400);
    free(fl);
    /* rotation kept 3 files: service.log, .1, .2 */
    char p[PATH_MAX * 2];
    struct stat st;
    inst_dir(f, "r", "logs/service.log.2", p, sizeof(p));
    assert_int_equal(stat(p, &st), 0);
    assert_true(st.st_size >= 16 * 1024);
    inst_dir(f, "r", "logs/service.log.3", p, sizeof(p));
    assert_int_not_equal(stat(p, &st), 0);
    struct lines *t = logs(f, 10, 0, false);
    assert_int_equal(t->n, 10);
    assert_memory_equal(t->text[0], "line-391-", 9);
    assert_memory_equal(t->text[9], "line-400-", 9);
    free(t);
    struct lines *all = logs(f, -1, 0, false);
    assert_true(all->n < 400 && all->n > 2 * 16 * 1024 / 140);
    assert_memory_equal(all->text[all->n - 1], "line-400-", 9);
    free(all);
}

static long max_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static bool count_cb(void *arg, const struct orch_log_line *l)
{
    struct lines *ls = arg;
    if (ls->n < 2048) {
        size_t n = l->len < 79 ? l->len : 79;
        memcpy(ls->text[ls->n], l->text, n);
        ls->text[ls->n][n] = '\0';
    }
    ls->n++;
    return true;
}

static void test_logs_big_file_tail(void **state)
{
    struct fx *f = *state;
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof(dir), "%s/biglogs", f->dir);
    struct plog_writer w;
    assert_int_equal(orch__plog_open(&w, dir, UINT64_C(1) << 40, 2), CC_OK);
    char text[120];
    memset(text, 'x', sizeof(text));
    const long n = 2000000;    /* 2 M records of ~100 bytes: ~200 MB */
    int64_t ts = INT64_C(1790000000000000000);
    for (long i = 1; i <= n; i++) {
        int k = snprintf(text, sizeof(text), "rec-%ld ", i);
        text[k] = 'x';
        orch__plog_write(&w, i % 7 ? ORCH_STDOUT : ORCH_STDERR, ts + i, text, 64);
    }
    orch__plog_close(&w);
    char p[PATH_MAX * 2];
    struct stat st;
    snprintf(p, sizeof(p), "%s/service.log", dir);
    assert_int_equal(stat(p, &st), 0);
    assert_true(st.st_size > 190 * 1000 * 1000);
    long rss0 = max_rss_kb();
    struct lines *ls = calloc(1, sizeof(*ls));
    struct orch_log_query q = {.tail = 100};
    assert_int_equal(orch__plog_read(dir, &q, NULL, NULL, count_cb, ls, NULL), CC_OK);
    assert_int_equal(ls->n, 100);
    for (int i = 0; i < 100; i++) {
        char want[32];
        snprintf(want, sizeof(want), "rec-%ld ", n - 99 + i);
        assert_memory_equal(ls->text[i], want, strlen(want));
    }
    /* since near the end, with a tail larger than what matches */
    ls->n = 0;
    q = (struct orch_log_query){.tail = 1000, .since_ns = ts + n - 4};
    assert_int_equal(orch__plog_read(dir, &q, NULL, NULL, count_cb, ls, NULL), CC_OK);
    assert_int_equal(ls->n, 5);
    free(ls);
    /* memory stayed bounded: well under the file's size */
    assert_true(max_rss_kb() - rss0 < 16 * 1024);
}

static void test_log_format(void **state)
{
    char ts[PLOG_TS_LEN + 1];
    orch__plog_format_ts(INT64_C(1795833685123456789), ts);
    assert_string_equal(ts, "2026-11-28T02:41:25.123456789Z");
    const char rec[] = "2026-11-22T02:41:25.000000001Z E hello world";
    struct orch_log_line l;
    assert_true(orch__plog_parse(rec, strlen(rec), &l));
    assert_int_equal(l.stream, ORCH_STDERR);
    assert_int_equal(l.len, 11);
    assert_memory_equal(l.text, "hello world", 11);
    char back[PLOG_TS_LEN + 1];
    orch__plog_format_ts(l.ts_ns, back);
    assert_memory_equal(back, rec, PLOG_TS_LEN);
    assert_false(orch__plog_parse("2026-13-22T02:41:25.000000001Z O x", 34, &l));
    assert_false(orch__plog_parse("2026-11-22T02:41:25.000000001Z X x", 34, &l));
    assert_false(orch__plog_parse("garbage", 7, &l));
    /* a 150 KiB line becomes three records */
    char dir[] = "/tmp/cc-plog-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct plog_writer w;
    assert_int_equal(orch__plog_open(&w, dir, 1 << 30, 1), CC_OK);
    size_t big = 150 * 1024;
    char *text = malloc(big);
    memset(text, 'a', big);
    orch__plog_write(&w, ORCH_STDOUT, 1, text, big);
    orch__plog_close(&w);
    free(text);
    struct lines *ls = calloc(1, sizeof(*ls));
    struct orch_log_query q = {.tail = -1};
    assert_int_equal(orch__plog_read(dir, &q, NULL, NULL, count_cb, ls, NULL), CC_OK);
    assert_int_equal(ls->n, 3);
    free(ls);
    nftw(dir, rm_fn, 4, FTW_DEPTH | FTW_PHYS);
}

/* ---- users, exec, fds ---- */

static void test_user_and_exec(void **state)
{
    struct fx *f = *state;
    if (geteuid() != 0) {
        printf("skipped: switching users needs root\n");
        return;
    }
    up(f, "services:\n  u:\n    image: x\n    user: nobody\n    working_dir: /\n"
          "    environment:\n      GREETING: hi there\n    command: sleep 30\n", "u");
    struct orch_inst i = inspect(f);
    char p[64], b[4096];
    snprintf(p, sizeof(p), "/proc/%d/status", i.pid);
    FILE *fp = fopen(p, "r");
    assert_non_null(fp);
    size_t n = fread(b, 1, sizeof(b) - 1, fp);
    fclose(fp);
    b[n] = '\0';
    assert_non_null(strstr(b, "Uid:\t65534"));
    struct orch_exec_result *r = run_exec(f, 5000, (char *[]){"id", "-u", NULL});
    assert_int_equal(r->exit_code, 0);
    assert_false(r->timed_out);
    assert_string_equal(r->output, "65534\n");
    free(r);
    r = run_exec(f, 5000, (char *[]){"sh", "-c", "echo \"$GREETING\"; pwd; exit 4", NULL});
    assert_int_equal(r->exit_code, 4);
    assert_string_equal(r->output, "hi there\n/\n");
    free(r);
    /* no descriptor of ours leaks into a child: only 0, 1, 2 (and ls's own) */
    r = run_exec(f, 5000, (char *[]){"ls", "/proc/self/fd", NULL});
    assert_string_equal(r->output, "0\n1\n2\n3\n");
    free(r);
}

static void test_exec_timeout_kills_group(void **state)
{
    struct fx *f = *state;
    up(f, "services:\n  e:\n    image: x\n    command: sleep 30\n", "e");
    int64_t t0 = orch__mono_ms();
    struct orch_exec_result *r =
        run_exec(f, 300, (char *[]){"sh", "-c", "sleep 30 & echo $!; wait", NULL});
    assert_true(orch__mono_ms() - t0 < 5000);
    assert_true(r->timed_out);
    assert_int_equal(r->exit_code, -1);
    int bg = (int)strtol(r->output, NULL, 10);
    assert_true(bg > 0);
    bool gone = false;
    for (int k = 0; k < 100 && !gone; k++) {
        gone = orch__proc_start_time(bg) == 0;   /* dead or a zombie */
        usleep(10000);
    }
    assert_true(gone);
    free(r);
    /* long output keeps its last bytes */
    r = run_exec(f, 5000, (char *[]){"sh", "-c", "i=0; while [ $i -lt 2000 ]; do "
                                     "echo line-$i; i=$((i+1)); done", NULL});
    assert_int_equal(r->exit_code, 0);
    assert_int_equal(r->len, ORCH_EXEC_OUTPUT_MAX - 1);
    assert_int_equal(strlen(r->output), r->len);
    assert_non_null(strstr(r->output, "line-1999\n"));
    free(r);
    /* exec on a stopped instance is refused */
    orch_process_ops.stop(f->d, f->id, 0, NULL);
    struct orch_exec_result res;
    assert_int_equal(orch_process_ops.exec(f->d, f->id, (char *[]){"true", NULL}, 1000000000,
                                           &res, NULL), CC_ESTATE);
}

/* ---- limits ---- */

static int64_t read_num(const char *dir, const char *file)
{
    char p[PATH_MAX * 2], b[64] = "";
    snprintf(p, sizeof(p), "%s/%s", dir, file);
    FILE *fp = fopen(p, "r");
    if (!fp)
        return -1;
    if (!fgets(b, sizeof(b), fp))
        b[0] = '\0';
    fclose(fp);
    return strtoll(b, NULL, 10);
}

static void test_limits_and_oom(void **state)
{
    struct fx *f = *state;
    up(f, "services:\n  hog:\n    image: x\n    command: sh -c 'while :; do :; done'\n"
          "    deploy:\n      resources:\n        limits:\n          cpus: '0.5'\n"
          "          memory: 32M\n          pids: 50\n", "hog");
    char dir[PATH_MAX * 2];
    inst_dir(f, "hog", "", dir, sizeof(dir));
    struct pstate st;
    assert_int_equal(orch__pstate_load(dir, &st), CC_OK);
    if (!st.cg_memory[0]) {
        printf("skipped limit checks: no writable memory cgroup (%s)\n", st.reason);
        struct orch_usage u;
        assert_int_equal(orch_process_ops.stats(f->d, f->id, &u, NULL), CC_OK);
        assert_false(u.enforced);
        return;
    }
    assert_true(st.enforced);
    if (st.cg_version == 1) {
        assert_int_equal(read_num(st.cg_memory, "memory.limit_in_bytes"), 32 << 20);
        assert_int_equal(read_num(st.cg_cpu, "cpu.cfs_quota_us"), 50000);
        assert_int_equal(read_num(st.cg_cpu, "cpu.cfs_period_us"), 100000);
    } else {
        assert_int_equal(read_num(st.cg_memory, "memory.max"), 32 << 20);
    }
    assert_int_equal(read_num(st.cg_pids, "pids.max"), 50);
    /* the service is in the group */
    char p[PATH_MAX * 2], b[4096] = "";
    snprintf(p, sizeof(p), "%s/cgroup.procs", st.cg_memory);
    FILE *fp = fopen(p, "r");
    assert_non_null(fp);
    size_t n = fread(b, 1, sizeof(b) - 1, fp);
    fclose(fp);
    b[n] = '\0';
    char pid[16];
    snprintf(pid, sizeof(pid), "%d\n", st.pid);
    assert_non_null(strstr(b, pid));
    struct orch_usage u;
    assert_int_equal(orch_process_ops.stats(f->d, f->id, &u, NULL), CC_OK);
    assert_true(u.enforced);
    assert_int_equal(u.mem_limit, 32 << 20);
    assert_int_equal(u.pids_limit, 50);
    assert_true(u.pids >= 1);
    assert_true(u.mem_bytes > 0);
    /* a busy loop under a quota of 50% of one CPU. One short window says little
     * (a 100 ms window can straddle two quota periods and see up to 100%), so
     * the second sample, a second later, measures over that whole second. */
    struct timespec sec = {1, 0};
    nanosleep(&sec, NULL);
    assert_int_equal(orch_process_ops.stats(f->d, f->id, &u, NULL), CC_OK);
    printf("cpu_percent over 1 s: %.1f\n", u.cpu_percent);
    assert_true(u.cpu_percent > 10 && u.cpu_percent < 65);
    orch_process_ops.stop(f->d, f->id, 0, NULL);
    /* a memory hog is OOM-killed and reported */
    up(f, "services:\n  hog:\n    image: x\n"
          "    command: [\"python3\", \"-c\", \"a = b'x' * (256 << 20)\"]\n"
          "    deploy:\n      resources:\n        limits:\n          memory: 32M\n", "hog");
    struct orch_inst i = wait_exited(f, 20);
    assert_int_equal(i.exit_code, 128 + SIGKILL);
    assert_true(i.oom_killed);
    /* the group went away with the service */
    assert_int_equal(orch__pstate_load(dir, &st), CC_OK);
    assert_int_not_equal(access(st.cg_memory, F_OK), 0);
}

/* ---- secrets ---- */

static void test_secrets(void **state)
{
    struct fx *f = *state;
    if (geteuid() != 0) {
        printf("skipped: owning a secret by another user needs root\n");
        return;
    }
    char p[PATH_MAX * 2];
    snprintf(p, sizeof(p), "%s/pw.txt", f->dir);
    FILE *fp = fopen(p, "w");
    fputs("s3cret-value", fp);
    fclose(fp);
    up(f, "services:\n  db:\n    image: x\n    user: nobody\n    working_dir: /\n"
          "    command: sleep 30\n    secrets: [db_pw]\n"
          "secrets:\n  db_pw:\n    file: ./pw.txt\n", "db");
    inst_dir(f, "db", "secrets/db_pw", p, sizeof(p));
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0400);
    assert_int_equal(st.st_uid, 65534);
    struct orch_exec_result *r =
        run_exec(f, 5000, (char *[]){"sh", "-c", "cat \"$CC_SECRETS_DIR/db_pw\"", NULL});
    assert_int_equal(r->exit_code, 0);
    assert_string_equal(r->output, "s3cret-value");
    free(r);
    /* the value is in no environment */
    r = run_exec(f, 5000, (char *[]){"env", NULL});
    assert_null(strstr(r->output, "s3cret-value"));
    assert_non_null(strstr(r->output, "CC_SECRETS_DIR="));
    free(r);
    char envp[64], b[8192];
    snprintf(envp, sizeof(envp), "/proc/%d/environ", inspect(f).pid);
    fp = fopen(envp, "r");
    assert_non_null(fp);
    size_t n = fread(b, 1, sizeof(b) - 1, fp);
    fclose(fp);
    b[n] = '\0';
    for (size_t k = 0; k < n; k++)
        if (!b[k])
            b[k] = '\n';
    assert_null(strstr(b, "s3cret-value"));
}

/* ---- bad input ---- */

static void test_bad_input(void **state)
{
    struct fx *f = *state;
    struct orch_err e = {.msg = ""};
    assert_int_equal(create_svc(f, "services:\n  n:\n    image: nginx\n", "n", &e), CC_EINVAL);
    assert_non_null(strstr(e.msg, "no command"));
    assert_non_null(strstr(e.hint, "command"));
    e = (struct orch_err){.msg = ""};
    assert_int_equal(create_svc(f, "services:\n  n:\n    image: x\n    command: 'true'\n"
                                   "    user: no-such-user-xyz\n", "n", &e), CC_EINVAL);
    assert_non_null(strstr(e.msg, "no-such-user-xyz"));
    assert_true(e.hint[0] != '\0');
    e = (struct orch_err){.msg = ""};
    assert_int_equal(create_svc(f, "services:\n  n:\n    image: x\n    command: 'true'\n"
                                   "    working_dir: /no/such/dir\n", "n", &e), CC_EINVAL);
    assert_non_null(strstr(e.msg, "/no/such/dir"));
    assert_true(e.hint[0] != '\0');
    /* nothing was left behind */
    struct seen s = {0};
    assert_int_equal(orch_process_ops.list(f->d, NULL, inst_cb, &s, NULL), CC_OK);
    assert_int_equal(s.n, 0);
    assert_int_equal(orch_process_ops.start(f->d, "proc-t-nothing", &e), CC_ENOTFOUND);
    assert_int_equal(orch_process_ops.stop(f->d, "docker-id", 0, &e), CC_ENOTFOUND);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "shim") == 0)
        return orch_process_shim_main(argc - 1, argv + 1) == 0 ? 0 : 1;
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
    if (n <= 0)
        return 1;
    self_exe[n] = '\0';
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_format),
        cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_grace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readopt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_daemon_sigkill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logs_restart_tail_since, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logs_rotation_follow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logs_big_file_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_and_exec, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_timeout_kills_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits_and_oom, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secrets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
