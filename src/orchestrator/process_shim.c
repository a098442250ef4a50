/*
 * process_shim.c - one shim per running process-driver instance.
 *
 * Started detached (its own session) by the driver's start(). It takes
 * shim.lock, sets up the cgroup, forks the service into its own process
 * group with stdout/stderr on pipes, tells the driver "ok" (or why the exec
 * failed) on the ready fd, writes state.json (running), then copies the
 * service's output into the rotated log files until the main process exits.
 * Then it kills what is left of the group and the cgroup, records the exit
 * code (128+signal for a signal) and oom_killed, and exits.
 *
 * Single-threaded, so the fork needs no care beyond the child's set-up.
 * Signals stay blocked (inherited from the daemon): the shim is stopped
 * only by its service ending; stop() signals the service's group.
 */
#define _GNU_SOURCE
#include "orchestrator/process.h"
#include "orchestrator/process_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/env.h"
#include "core/sha256.h"

#define READ_CHUNK (64 * 1024)
#define DRAIN_MS 2000

struct stream {
    int fd;
    enum orch_stream which;
    char *line;                /* the current partial line, PLOG_MAX_TEXT */
    size_t len;
};

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void diag(const char *fmt, ...)
{
    char ts[PLOG_TS_LEN + 1];
    orch__plog_format_ts(orch__now_ns(), ts);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s shim[%d]: ", ts, (int)getpid());
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void tell(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tell(int fd, const char *fmt, ...)
{
    if (fd < 0)
        return;
    char b[700];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b, sizeof(b) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof(b) - 2)
        n = (int)sizeof(b) - 2;
    b[n++] = '\n';
    if (write(fd, b, (size_t)n) < 0)
        diag("cannot answer the driver: %s", strerror(errno));
}

/* Feeds bytes of one stream into records: one per line, long lines split. */
static void consume(struct stream *s, struct plog_writer *w, const char *p, size_t n,
                    int64_t ts)
{
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) : n;
        size_t room = PLOG_MAX_TEXT - s->len;
        if (take > room)
            take = room;
        memcpy(s->line + s->len, p, take);
        s->len += take;
        p += take;
        n -= take;
        bool end = nl && p == nl;
        if (end) {
            p++;
            n--;
        }
        if (end || s->len == PLOG_MAX_TEXT) {
            orch__plog_write(w, s->which, ts, s->line, s->len);
            s->len = 0;
        }
    }
}

/* Reads what is there; false on EOF or error (the fd is closed then). */
static bool pump(struct stream *s, struct plog_writer *w, char *chunk)
{
    ssize_t k = read(s->fd, chunk, READ_CHUNK);
    if (k < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    if (k <= 0) {
        if (s->len)
            orch__plog_write(w, s->which, orch__now_ns(), s->line, s->len);
        s->len = 0;
        close(s->fd);
        s->fd = -1;
        return false;
    }
    consume(s, w, chunk, (size_t)k, orch__now_ns());
    return true;
}

static int take_lock(const char *dir)
{
    char p[PATH_MAX + 16];
    snprintf(p, sizeof(p), "%s/shim.lock", dir);
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    /* The driver probes the lock for a moment now and then: retry briefly. */
    for (int i = 0; i < 100; i++) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return fd;
        orch__sleep_ms(20);
    }
    close(fd);
    return -1;
}

/* The cgroup's name: project-service plus a hash of the instance dir, so
 * two state dirs (two daemons, two test runs) never share a group. */
static void cg_name(const struct pspec *sp, const char *dir, char *out, size_t outsz)
{
    uint8_t h[32];
    cc_sha256(dir, strlen(dir), h);
    snprintf(out, outsz, "%s-%s-%02x%02x%02x%02x", sp->project, sp->service, h[0], h[1], h[2],
             h[3]);
}

/* As root, the shim moves to a mount namespace of its own (the service
 * inherits it) where the instance's secrets dir is bound read-only at
 * /run/secrets, as Compose delivers secrets. False: not possible here
 * (not root, no namespaces); the service then finds them through
 * CC_SECRETS_DIR in the instance dir. */
static bool secrets_namespace(const char *dir)
{
    char src[PATH_MAX + 16];
    snprintf(src, sizeof(src), "%s/secrets", dir);
    if (geteuid() != 0)
        return false;
    if (mkdir(PROC_SECRETS_MNT, 0755) != 0 && errno != EEXIST) {
        diag("secrets: cannot create %s: %s", PROC_SECRETS_MNT, strerror(errno));
        return false;
    }
    if (unshare(CLONE_NEWNS) != 0) {
        diag("secrets: no mount namespace: %s", strerror(errno));
        return false;
    }
    /* Slave: mounts made on the host later still show up in here. */
    if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) != 0 ||
        mount(src, PROC_SECRETS_MNT, NULL, MS_BIND, NULL) != 0) {
        diag("secrets: cannot bind %s at %s: %s", src, PROC_SECRETS_MNT, strerror(errno));
        return false;
    }
    if (mount(NULL, PROC_SECRETS_MNT, NULL,
              MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
        diag("secrets: cannot make %s read-only: %s", PROC_SECRETS_MNT, strerror(errno));
    return true;
}

static int status_code(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 255;
}

static int pidfd_of(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    return -1;
#endif
}

/* Copies output until the main process exits; returns its wait status. */
static int supervise(pid_t pid, struct stream st[2], struct plog_writer *w)
{
    char *chunk = cc_xmalloc(READ_CHUNK);
    int pfd = pidfd_of(pid);
    int status = 0;
    bool exited = false;
    while (!exited) {
        struct pollfd p[3];
        int n = 0;
        for (int i = 0; i < 2; i++)
            if (st[i].fd >= 0)
                p[n++] = (struct pollfd){.fd = st[i].fd, .events = POLLIN};
        int pi = -1;
        if (pfd >= 0) {
            pi = n;
            p[n++] = (struct pollfd){.fd = pfd, .events = POLLIN};
        }
        int r = poll(p, (nfds_t)n, pfd >= 0 ? -1 : 200);
        if (r < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++)
            if (st[i].fd >= 0)
                for (int j = 0; j < n; j++)
                    if (p[j].fd == st[i].fd && p[j].revents)
                        pump(&st[i], w, chunk);
        orch__plog_flush(w);
        if ((pi >= 0 && p[pi].revents) || pfd < 0) {
            pid_t wr = waitpid(pid, &status, pfd >= 0 ? 0 : WNOHANG);
            exited = wr == pid || (wr < 0 && errno == ECHILD);
        }
    }
    if (pfd >= 0)
        close(pfd);
    /* What the main process left behind goes with it, as in a container. */
    kill(-pid, SIGKILL);
    int64_t deadline = orch__mono_ms() + DRAIN_MS;
    while ((st[0].fd >= 0 || st[1].fd >= 0) && orch__mono_ms() < deadline) {
        struct pollfd p[2];
        int n = 0;
        for (int i = 0; i < 2; i++)
            if (st[i].fd >= 0)
                p[n++] = (struct pollfd){.fd = st[i].fd, .events = POLLIN};
        if (poll(p, (nfds_t)n, 100) <= 0)
            continue;
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < n; j++)
                if (st[i].fd >= 0 && p[j].fd == st[i].fd && p[j].revents)
                    pump(&st[i], w, chunk);
    }
    for (int i = 0; i < 2; i++) {
        if (st[i].fd >= 0) {   /* an escaped process holds the pipe: stop reading */
            if (st[i].len)
                orch__plog_write(w, st[i].which, orch__now_ns(), st[i].line, st[i].len);
            close(st[i].fd);
            st[i].fd = -1;
        }
    }
    orch__plog_flush(w);
    free(chunk);
    return status;
}

static int run(const char *dir, int ready)
{
    struct orch_err e = {.msg = ""};
    struct pspec sp = {0};
    struct pstate st = {.enforced = true};
    struct plog_writer w = {.fd = -1};
    struct stream ss[2] = {{.fd = -1, .which = ORCH_STDOUT}, {.fd = -1, .which = ORCH_STDERR}};
    int out[2] = {-1, -1}, err[2] = {-1, -1}, rep[2] = {-1, -1}, devnull = -1;
    int rc = 1;
    char **env = NULL, *env_owned = NULL;
    int lock = take_lock(dir);
    if (lock < 0) {
        tell(ready, "err another shim runs this instance (%s/shim.lock)", dir);
        return 1;
    }
    if (orch__pspec_load(dir, &sp, &e) != CC_OK) {
        tell(ready, "err %s", e.msg);
        goto out;
    }
    struct pcred cred;
    if (orch__pcred_resolve(sp.user, &cred, &e) != CC_OK) {
        tell(ready, "err %s", e.msg);
        goto out;
    }
    char path[PATH_MAX], logs[PATH_MAX + 8];
    snprintf(logs, sizeof(logs), "%s/logs", dir);
    if (orch__plog_open(&w, logs, sp.log_max_bytes, sp.log_files) != CC_OK) {
        tell(ready, "err cannot open the log files in %s: %s", logs, strerror(errno));
        goto out;
    }
    st.shim_pid = (int)getpid();
    st.started_ms = orch__now_ns() / 1000000;
    if (orch__pexec_resolve(sp.argv[0], sp.env, path, sizeof(path)) != CC_OK) {
        st.status = PST_EXITED;
        st.exit_code = 127;
        st.finished_ms = st.started_ms;
        snprintf(st.reason, sizeof(st.reason), "%s: command not found in PATH", sp.argv[0]);
        orch__pstate_save(dir, &st);
        tell(ready, "err %s", st.reason);
        goto out;
    }
    char name[600];
    cg_name(&sp, dir, name, sizeof(name));
    struct pcg_limits lim = {.cpus = sp.cpus, .memory = sp.memory, .pids = sp.pids};
    orch__pcg_setup(name, &lim, &st);
    if (!st.enforced)
        diag("limits not enforced: %s", st.reason);
    orch__pcg_kill_all(&st);   /* leftovers of an earlier run */
    uint64_t oom_before = orch__pcg_oom_kills(&st);
    char cgs[4][PATH_MAX];
    const char *procs[5];
    orch__pcg_procs(&st, cgs, procs);
    devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull < 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 ||
        pipe2(rep, O_CLOEXEC) != 0) {
        tell(ready, "err cannot create pipes: %s", strerror(errno));
        goto out;
    }
    st.secrets_ns = sp.nsecrets && secrets_namespace(dir);
    env = orch__penv(&sp, dir, st.secrets_ns, &env_owned);
    struct pchild c = {.path = path, .argv = sp.argv, .envp = env, .mntns_fd = -1, .cwd = sp.working_dir,
                       .cred = &cred, .no_new_privs = sp.no_new_privs, .in_fd = devnull,
                       .out_fd = out[1], .err_fd = err[1], .report_fd = rep[1]};
    for (int i = 0; i < 4; i++)
        c.cg_procs[i] = procs[i];
    pid_t pid = fork();
    if (pid < 0) {
        tell(ready, "err fork: %s", strerror(errno));
        goto out;
    }
    if (pid == 0)
        orch__pchild_exec(&c);
    close(out[1]);
    close(err[1]);
    close(rep[1]);
    out[1] = err[1] = rep[1] = -1;
    char why[128] = {0};
    ssize_t k;
    while ((k = read(rep[0], why, sizeof(why) - 1)) < 0 && errno == EINTR) {
    }
    if (k > 0) {   /* the child reported a failed step instead of exec'ing */
        int status = 0;
        waitpid(pid, &status, 0);
        why[k] = '\0';
        char *sp_ = strchr(why, ' ');
        int en = sp_ ? (int)strtol(sp_ + 1, NULL, 10) : 0;
        if (sp_)
            *sp_ = '\0';
        st.status = PST_EXITED;
        st.exit_code = status_code(status);
        st.finished_ms = orch__now_ns() / 1000000;
        snprintf(st.reason, sizeof(st.reason), "%s %s: %s", why, sp.argv[0], strerror(en));
        orch__pstate_save(dir, &st);
        orch__pcg_remove(&st);
        tell(ready, "err %s", st.reason);
        goto out;
    }
    st.status = PST_RUNNING;
    st.pid = (int)pid;
    st.pid_start = orch__proc_start_time((int)pid);
    if (orch__pstate_save(dir, &st) != CC_OK)
        diag("cannot write %s/state.json: %s", dir, strerror(errno));
    tell(ready, "ok");
    close(ready);
    ready = -1;
    ss[0].fd = out[0];
    ss[1].fd = err[0];
    out[0] = err[0] = -1;
    ss[0].line = cc_xmalloc(PLOG_MAX_TEXT);
    ss[1].line = cc_xmalloc(PLOG_MAX_TEXT);
    int status = supervise(pid, ss, &w);
    orch__pcg_kill_all(&st);
    st.status = PST_EXITED;
    st.exit_code = status_code(status);
    st.finished_ms = orch__now_ns() / 1000000;
    st.oom_killed = orch__pcg_oom_kills(&st) > oom_before;
    /* The group goes before the state says "exited", so exited means
     * cleaned up. */
    for (int i = 0; i < 20 && st.cg_version; i++) {   /* killed processes leave late */
        orch__pcg_remove(&st);
        if (access(st.cg_memory[0] ? st.cg_memory : st.cg_pids, F_OK) != 0)
            break;
        orch__pcg_kill_all(&st);
        orch__sleep_ms(50);
    }
    if (orch__pstate_save(dir, &st) != CC_OK)
        diag("cannot write %s/state.json: %s", dir, strerror(errno));
    diag("service exited with %d%s", st.exit_code, st.oom_killed ? " (OOM killed)" : "");
    rc = 0;
out:
    free(ss[0].line);
    free(ss[1].line);
    free(env);
    free(env_owned);
    int fds[] = {out[0], out[1], err[0], err[1], rep[0], rep[1], devnull};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
        if (fds[i] >= 0)
            close(fds[i]);
    if (w.buf)
        orch__plog_close(&w);
    orch__pspec_release(&sp);
    if (ready >= 0)
        close(ready);
    close(lock);   /* last: the lock says "alive" until state.json is final */
    return rc;
}

size_t orch__shim_env(char *const *envp, char **out, size_t max)
{
    /* The shim itself reads none of the daemon's settings: the service's
     * environment is in its spec. What is kept serves diagnostics of the
     * shim (locale, time zone, sanitizer options of a test build). */
    static const char *const keep[] = {"PATH", "LANG", "LC_ALL", "TZ", "TMPDIR",
                                       "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", NULL};
    return cc_env_allow(envp, keep, out, max);
}

int orch_process_shim_main(int argc, char **argv)
{
    if (argc != 4 || strcmp(argv[2], "--ready-fd") != 0) {
        fprintf(stderr, "usage: commandcenter shim DIR --ready-fd N (internal, started by the "
                        "process driver)\n");
        return 2;
    }
    char *end;
    long fd = strtol(argv[3], &end, 10);
    if (*end || fd < -1 || fd > 65535) {
        fprintf(stderr, "commandcenter shim: bad --ready-fd %s\n", argv[3]);
        return 2;
    }
    return run(argv[1], (int)fd);
}
