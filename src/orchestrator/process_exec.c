/*
 * process_exec.c - exec in a running instance of the process driver (what
 * exec probes use): fork/exec with the service's user, environment and
 * working directory, in its cgroup, output kept to its last bytes, killed
 * with its process group at the timeout.
 */
#define _GNU_SOURCE
#include "orchestrator/process_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* What the child reported before exec (a set-up step that failed), as an
 * error; CC_OK when it got as far as exec. */
static cc_err setup_failed(int rep_fd, pid_t pid, const char *cmd, struct orch_err *e)
{
    char why[128];
    ssize_t wk;
    while ((wk = read(rep_fd, why, sizeof(why) - 1)) < 0 && errno == EINTR) {
    }
    if (wk <= 0)
        return CC_OK;
    waitpid(pid, NULL, 0);
    why[wk] = '\0';
    char *sp_ = strchr(why, ' ');
    int en = sp_ ? (int)strtol(sp_ + 1, NULL, 10) : 0;
    if (sp_)
        *sp_ = '\0';
    return orch_errf(e, CC_EINVAL, "check the service's user, working_dir and the command",
                     "exec %s: %s failed: %s", cmd, why, strerror(en));
}

/* Reads the output (its last bytes kept) until it closes or the timeout,
 * then the exit status; the process group is killed at the timeout. */
static void collect(int fd, pid_t pid, int64_t timeout_ns, struct orch_exec_result *out)
{
    *out = (struct orch_exec_result){.exit_code = -1};
    int64_t deadline = orch__mono_ms() + (timeout_ns > 0 ? timeout_ns / 1000000 : 30000);
    char b[4096];
    for (;;) {
        int64_t left = deadline - orch__mono_ms();
        if (left <= 0) {
            out->timed_out = true;
            break;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, left > 250 ? 250 : (int)left);
        if (r <= 0)
            continue;
        ssize_t k = read(fd, b, sizeof(b));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        orch_exec_keep_tail(out, b, (size_t)k);
    }
    int status = 0;
    if (out->timed_out) {
        kill(-pid, SIGKILL);
        waitpid(pid, &status, 0);
    } else {
        /* Output closed: the command ended (or closed its output). Wait
         * for it within what is left of the timeout. */
        while (waitpid(pid, &status, WNOHANG) == 0) {
            if (orch__mono_ms() >= deadline) {
                out->timed_out = true;
                kill(-pid, SIGKILL);
                waitpid(pid, &status, 0);
                break;
            }
            orch__sleep_ms(5);
        }
    }
    if (!out->timed_out)
        out->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

cc_err orch__pexec_run(const char *dir, const struct pspec *sp, const struct pstate *st,
                       char *const argv[], int64_t timeout_ns, struct orch_exec_result *out,
                       struct orch_err *e)
{
    struct pcred cred;
    cc_err err = orch__pcred_resolve(sp->user, &cred, e);
    if (err)
        return err;
    char *owned = NULL;
    char **env = orch__penv(sp, dir, st->secrets_ns, &owned);
    char path[PATH_MAX];
    int pfd[2] = {-1, -1}, rep[2] = {-1, -1}, devnull = -1, ns = -1;
    if (orch__pexec_resolve(argv[0], env, path, sizeof(path)) != CC_OK) {
        err = orch_errf(e, CC_EINVAL, "check the command and the service's PATH",
                        "%s: command not found", argv[0]);
        goto out;
    }
    if (st->secrets_ns) {
        char p[64];
        snprintf(p, sizeof(p), "/proc/%d/ns/mnt", st->pid);
        ns = open(p, O_RDONLY | O_CLOEXEC);
    }
    char cgs[4][PATH_MAX];
    const char *procs[5];
    orch__pcg_procs(st, cgs, procs);
    devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull < 0 || pipe2(pfd, O_CLOEXEC) != 0 || pipe2(rep, O_CLOEXEC) != 0) {
        err = orch_errf(e, CC_EIO, "the system is out of file descriptors", "exec: %s",
                        strerror(errno));
        goto out;
    }
    struct pchild c = {.path = path, .argv = argv, .envp = env, .cwd = sp->working_dir,
                       .cred = &cred, .no_new_privs = sp->no_new_privs, .in_fd = devnull,
                       .out_fd = pfd[1], .err_fd = pfd[1], .report_fd = rep[1], .mntns_fd = ns};
    for (int i = 0; i < 4; i++)
        c.cg_procs[i] = procs[i];
    pid_t pid = fork();
    if (pid == 0)
        orch__pchild_exec(&c);
    close(pfd[1]);
    close(rep[1]);
    pfd[1] = rep[1] = -1;
    if (pid < 0) {
        err = orch_errf(e, CC_EIO, "the system is out of processes", "fork: %s",
                        strerror(errno));
        goto out;
    }
    setpgid(pid, pid);   /* also done by the child: no race with the kill below */
    if ((err = setup_failed(rep[0], pid, argv[0], e)))
        goto out;
    collect(pfd[0], pid, timeout_ns, out);
    kill(-pid, SIGKILL);   /* whatever it left in its group */
out:
    if (pfd[0] >= 0)
        close(pfd[0]);
    if (pfd[1] >= 0)
        close(pfd[1]);
    if (rep[0] >= 0)
        close(rep[0]);
    if (rep[1] >= 0)
        close(rep[1]);
    if (devnull >= 0)
        close(devnull);
    if (ns >= 0)
        close(ns);
    free(env);
    free(owned);
    return err;
}

