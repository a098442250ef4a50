/*
 * pdf.c - PDF text through poppler's pdftotext in a subprocess, so a
 * hostile PDF can crash or hang only a child we kill, never the daemon.
 *
 * Command: pdftotext -enc UTF-8 -eol unix - -   (no shell; no -layout: its
 * column-preserving spaces break paragraphs apart, while the default
 * reading-order mode separates paragraphs by blank lines and pages by form
 * feeds, which is what ingest__paragraphs splits on). The PDF goes in on
 * stdin and the text comes back on stdout; nothing is written to disk.
 *
 * The child's stdio are socketpairs (SOCK_CLOEXEC, so no other thread's
 * spawn inherits them): writes use MSG_NOSIGNAL, so a child that exits
 * before reading everything cannot kill the daemon with SIGPIPE. The child
 * gets its own process group and default signal handling; one deadline
 * covers writing, reading and reaping. On timeout (CC_ETIMEOUT), output
 * over the text limit (CC_ELIMIT) or any other failure the whole group is
 * SIGKILLed and reaped. A nonzero exit is CC_EPARSE with the first error
 * line of pdftotext's stderr (at most STDERR_KEEP bytes are kept).
 *
 * Title: the first non-empty line (pdfinfo's Title is often a file name or
 * empty, and costs a second process).
 */
#include "ingest/parse/parse.h"
#include "ingest/parse/parse_int.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/env.h"

extern char **environ;

#define STDERR_KEEP 1024
#define WRITE_CHUNK 65536

struct child {
    pid_t pid;
    int in, out, err;            /* parent's ends; -1 when closed */
};

/* pdftotext runs in real time and poll() waits in real time, so its
 * deadline is on the system clock whatever clock the caller's ctx has. */
static int64_t now_ms(void)
{
    return cc_mono_ms(cc_clock_system());
}

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

static void close_pairs(int pairs[3][2])
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++)
            close_fd(&pairs[i][j]);
}

/* The child's signals: none blocked, the usual ones at their defaults
 * (the daemon ignores SIGPIPE, and ignored signals survive exec). */
static void child_signals(posix_spawnattr_t *attr)
{
    static const int SIGS[] = { SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD,
                                SIGUSR1, SIGUSR2, SIGALRM };
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (size_t i = 0; i < sizeof(SIGS) / sizeof(SIGS[0]); i++)
        sigaddset(&defaults, SIGS[i]);
    posix_spawnattr_setsigmask(attr, &none);
    posix_spawnattr_setsigdefault(attr, &defaults);
    posix_spawnattr_setpgroup(attr, 0);
    posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                       POSIX_SPAWN_SETSIGDEF);
}

static cc_err spawn(const char *tool, struct child *c, struct cc_diag *d)
{
    int pairs[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
    char *const argv[] = { (char *)tool, "-enc", "UTF-8", "-eol", "unix", "-", "-", NULL };
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    cc_err err = CC_EIO;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    for (int i = 0; i < 3; i++) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pairs[i]) != 0) {
            cc_diag_set(d, NULL, 0, 0, "cannot run pdftotext: socketpair: %s", strerror(errno));
            goto out;
        }
        posix_spawn_file_actions_adddup2(&fa, pairs[i][1], i);
    }
    child_signals(&attr);
    /* pdftotext needs to find itself and its fonts, nothing of ours. */
    static const char *const keep[] = {"PATH", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "HOME",
                                       "TZ", NULL};
    char *env[16];
    cc_env_allow(environ, keep, env, sizeof(env) / sizeof(env[0]));
    int rc = strchr(tool, '/') ? posix_spawn(&c->pid, tool, &fa, &attr, argv, env)
                               : posix_spawnp(&c->pid, tool, &fa, &attr, argv, env);
    if (rc != 0) {
        cc_diag_set(d, NULL, 0, 0, "cannot run %s: %s (is poppler-utils installed?)", tool,
                    strerror(rc));
        err = CC_EUPSTREAM;
        goto out;
    }
    c->in = pairs[0][0];
    c->out = pairs[1][0];
    c->err = pairs[2][0];
    pairs[0][0] = pairs[1][0] = pairs[2][0] = -1;
    err = CC_OK;
out:
    close_pairs(pairs);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return err;
}

/* Kills the whole process group and reaps the child. */
static void kill_child(struct child *c)
{
    if (c->pid > 0) {
        kill(-c->pid, SIGKILL);
        while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        c->pid = -1;
    }
}

static void write_some(struct child *c, const char *data, size_t len, size_t *off)
{
    size_t n = len - *off < WRITE_CHUNK ? len - *off : WRITE_CHUNK;
    ssize_t k = n ? send(c->in, data + *off, n, MSG_NOSIGNAL | MSG_DONTWAIT) : 0;
    if (k > 0)
        *off += (size_t)k;
    /* Done, or the child stopped reading (EPIPE): its exit status tells. */
    if (*off == len || (k < 0 && errno != EAGAIN && errno != EINTR && errno != EWOULDBLOCK))
        close_fd(&c->in);
}

/* Reads what is there from *fd into b; closes *fd at EOF. Output past the
 * buffer's limit is CC_ELIMIT, unless `discard` (stderr keeps a prefix). */
static cc_err read_some(int *fd, struct cc_buf *b, bool discard)
{
    char chunk[16384];
    ssize_t k = read(*fd, chunk, sizeof(chunk));
    if (k < 0 && (errno == EINTR || errno == EAGAIN))
        return CC_OK;
    if (k <= 0) {
        close_fd(fd);
        return CC_OK;
    }
    size_t room = b->limit - b->len;
    if ((size_t)k > room && discard)
        k = (ssize_t)room;
    return cc_buf_add(b, chunk, (size_t)k);
}

/* Feeds the PDF and collects stdout and stderr until both close. */
static cc_err exchange(struct child *c, const char *data, size_t len, int64_t deadline,
                       struct cc_buf *out, struct cc_buf *errs)
{
    size_t off = 0;
    while (c->out >= 0 || c->err >= 0) {
        struct pollfd p[3];
        nfds_t n = 0;
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return CC_ETIMEOUT;
        if (c->in >= 0)
            p[n++] = (struct pollfd){ .fd = c->in, .events = POLLOUT };
        if (c->out >= 0)
            p[n++] = (struct pollfd){ .fd = c->out, .events = POLLIN };
        if (c->err >= 0)
            p[n++] = (struct pollfd){ .fd = c->err, .events = POLLIN };
        int rc = poll(p, n, (int)(left < 1000 ? left : 1000));
        if (rc < 0 && errno != EINTR)
            return CC_EIO;
        for (nfds_t i = 0; rc > 0 && i < n; i++) {
            if (!p[i].revents)
                continue;
            cc_err err = CC_OK;
            if (p[i].fd == c->in)
                write_some(c, data, len, &off);
            else if (p[i].fd == c->out)
                err = read_some(&c->out, out, false);
            else
                err = read_some(&c->err, errs, true);
            if (err)
                return err;
        }
    }
    return CC_OK;
}

/* Reaps the child by the deadline; *status as from waitpid. */
static cc_err reap(struct child *c, int64_t deadline, int *status)
{
    for (;;) {
        pid_t r = waitpid(c->pid, status, WNOHANG);
        if (r == c->pid) {
            c->pid = -1;
            return CC_OK;
        }
        if (r < 0 && errno != EINTR)
            return CC_EIO;
        if (now_ms() >= deadline)
            return CC_ETIMEOUT;
        poll(NULL, 0, 10);
    }
}

static bool says_error(const char *l, size_t n)
{
    for (size_t i = 0; i + 5 <= n; i++)
        if (memcmp(l + i, "Error", 5) == 0)
            return true;
    return false;
}

/* The first stderr line that says "Error", else the first non-empty one. */
static void first_error(const struct cc_buf *errs, char *out, size_t outsz)
{
    const char *s = cc_buf_str(errs), *pick = NULL;
    size_t pick_len = 0;
    for (size_t i = 0; i < errs->len;) {
        size_t n = strcspn(s + i, "\n");
        if (n > 0 && (!pick || says_error(s + i, n))) {
            bool err = says_error(s + i, n);
            pick = s + i;
            pick_len = n;
            if (err)
                break;
        }
        i += n + 1;
    }
    if (pick_len == 0) {
        cc_strlcpy(out, "pdftotext failed without a message", outsz);
        return;
    }
    if (pick_len >= outsz)
        pick_len = outsz - 1;
    memcpy(out, pick, pick_len);
    out[pick_len] = '\0';
}

/* Runs pdftotext over data; its stdout into out on success. */
static cc_err run(const char *tool, const void *data, size_t len, int timeout_ms,
                  struct cc_buf *out, struct cc_diag *d)
{
    struct child c = { .pid = -1, .in = -1, .out = -1, .err = -1 };
    struct cc_buf errs;
    cc_buf_init(&errs, STDERR_KEEP);
    int64_t deadline = now_ms() + timeout_ms;
    int status = 0;
    cc_err err = spawn(tool, &c, d);
    if (!err)
        err = exchange(&c, data, len, deadline, out, &errs);
    if (!err)
        err = reap(&c, deadline, &status);
    if (err == CC_ETIMEOUT)
        cc_diag_set(d, NULL, 0, 0, "pdftotext took longer than %d ms", timeout_ms);
    else if (err == CC_ELIMIT)
        cc_diag_set(d, NULL, 0, 0, "text of the PDF is over the %zu-byte limit", out->limit);
    else if (err == CC_EIO)
        cc_diag_set(d, NULL, 0, 0, "talking to pdftotext failed: %s", strerror(errno));
    if (!err && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        char line[256];
        first_error(&errs, line, sizeof(line));
        cc_diag_set(d, NULL, 0, 0, "not a PDF or damaged: %s", line);
        err = CC_EPARSE;
    }
    kill_child(&c);                  /* no-op once reaped */
    close_fd(&c.in);
    close_fd(&c.out);
    close_fd(&c.err);
    cc_buf_release(&errs);
    return err;
}

cc_err ingest_pdf_parse(const void *data, size_t len, const char *pdftotext,
                        int timeout_ms, struct ingest_text *out, struct cc_diag *d)
{
    struct ingest_text t;
    struct cc_buf raw, clean;
    ingest_text_init(&t, out->limit);
    cc_buf_init(&raw, t.limit);
    cc_buf_init(&clean, t.limit);
    cc_err err = CC_ELIMIT;
    if (len > INGEST_PARSE_MAX_INPUT) {
        cc_diag_set(d, NULL, 0, 0, "PDF of %zu bytes is over the limit", len);
        goto out;
    }
    err = run(pdftotext ? pdftotext : "pdftotext", data, len,
              timeout_ms > 0 ? timeout_ms : INGEST_PDF_TIMEOUT_MS, &raw, d);
    if (!err)
        err = ingest_utf8_sanitize(&clean, cc_buf_str(&raw), raw.len);
    if (!err)
        err = ingest__paragraphs(&t, cc_buf_str(&clean), clean.len, true);
    if (err == CC_ELIMIT)
        cc_diag_set(d, NULL, 0, 0, "text of the PDF is over the %zu-byte limit", t.limit);
    if (!err)
        ingest__text_move(out, &t);
out:
    cc_buf_release(&raw);
    cc_buf_release(&clean);
    ingest_text_release(&t);
    return err;
}
