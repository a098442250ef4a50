/*
 * process.c - the "process" driver: services as supervised local processes.
 *
 * Each instance is a directory (<state_dir>/process/<project>/<service>,
 * layout in process_int.h); its running form is a detached shim
 * (process_shim.c) that outlives the daemon. The driver keeps no state of
 * its own beyond CPU samples for stats: everything is read from the
 * instance directories, so a new driver on the same state dir (a restarted
 * daemon) sees exactly what the old one saw.
 *
 * Liveness: a shim holds an exclusive flock on shim.lock for its whole
 * life, so "running" never depends on a pid that may have been reused; the
 * service's own pid is checked against its /proc start time before any
 * signal is sent to its group.
 */
#define _GNU_SOURCE
#include "orchestrator/process.h"
#include "orchestrator/process_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/sha256.h"

#define START_TIMEOUT_MS 15000
#define STOP_POLL_MS 20
#define STOP_AFTER_KILL_MS 5000
#define NSAMPLES 128
#define SECRET_MAX (1024 * 1024)

extern char **environ;

struct sample {
    char id[256];
    uint64_t cpu_ns;
    int64_t at_ns;
};

struct pdrv {
    struct orch_driver base;
    char root[PATH_MAX];       /* <state_dir>/process */
    char self_exe[PATH_MAX];
    uint64_t log_max;
    unsigned log_files;
    struct cc_log *log;
    pthread_mutex_t mu;        /* create/start/remove of any instance; samples */
    struct sample samples[NSAMPLES];
    unsigned next_sample;
};

static struct pdrv *P(struct orch_driver *d) { return (struct pdrv *)d; }

/* ---- open/close ---- */

static cc_err p_open(const struct orch_driver_cfg *cfg, struct orch_driver **out,
                     struct orch_err *e)
{
    if (!cfg->state_dir || !*cfg->state_dir)
        return orch_errf(e, CC_EINVAL, "set data_dir in commandcenter.yml",
                         "the process driver needs a state directory");
    if (!cfg->self_exe || access(cfg->self_exe, X_OK) != 0)
        return orch_errf(e, CC_EINVAL, "run the daemon from an installed commandcenter binary",
                         "the process driver cannot execute its shim (%s)",
                         cfg->self_exe ? cfg->self_exe : "no self_exe");
    struct pdrv *d = cc_xcalloc(1, sizeof(*d));
    d->base.ops = &orch_process_ops;
    if (snprintf(d->root, sizeof(d->root), "%s/process", cfg->state_dir) >= (int)sizeof(d->root) ||
        cc_strlcpy(d->self_exe, cfg->self_exe, sizeof(d->self_exe)) != CC_OK) {
        free(d);
        return orch_errf(e, CC_EINVAL, "use a shorter data_dir", "state directory path too long");
    }
    if (orch__mkdirs(d->root, 0711) != CC_OK) {
        cc_err err = orch_errf(e, CC_EIO, "check that data_dir is writable by the daemon",
                               "cannot create %s: %s", d->root, strerror(errno));
        free(d);
        return err;
    }
    d->log_max = cfg->log_max_bytes ? cfg->log_max_bytes : 10u << 20;
    d->log_files = cfg->log_files ? cfg->log_files : 3;
    d->log = cfg->log;
    pthread_mutex_init(&d->mu, NULL);
    *out = &d->base;
    return CC_OK;
}

static void p_close(struct orch_driver *drv)
{
    if (!drv)
        return;
    struct pdrv *d = P(drv);
    pthread_mutex_destroy(&d->mu);
    free(d);
}

static cc_err p_ping(struct orch_driver *d, struct orch_err *e) { return CC_OK; }

/* ---- finding instances ---- */

static bool name_ok(const char *s)
{
    if (!s || !*s || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || strlen(s) > 200)
        return false;
    return strchr(s, '/') == NULL;
}

static void make_id(const char *project, const char *service, char *out, size_t outsz)
{
    snprintf(out, outsz, PROC_ID_PREFIX "%s-%s", project, service);
}

typedef bool (*inst_fn)(void *arg, const char *dir, const char *project, const char *service);

/* Calls fn for every instance directory (with a spec.json); stops when fn
 * returns false. */
static void each_instance(struct pdrv *d, const char *only_project, inst_fn fn, void *arg)
{
    DIR *pd = opendir(d->root);
    if (!pd)
        return;
    struct dirent *pe;
    bool go = true;
    while (go && (pe = readdir(pd))) {
        if (pe->d_name[0] == '.' || (only_project && strcmp(pe->d_name, only_project) != 0))
            continue;
        char pdir[PATH_MAX];
        if (snprintf(pdir, sizeof(pdir), "%s/%s", d->root, pe->d_name) >= (int)sizeof(pdir))
            continue;
        DIR *sd = opendir(pdir);
        if (!sd)
            continue;
        struct dirent *se;
        while (go && (se = readdir(sd))) {
            if (se->d_name[0] == '.')
                continue;
            char sdir[PATH_MAX], spec[PATH_MAX + 16];
            if (snprintf(sdir, sizeof(sdir), "%s/%s", pdir, se->d_name) >= (int)sizeof(sdir))
                continue;
            snprintf(spec, sizeof(spec), "%s/spec.json", sdir);
            if (access(spec, F_OK) == 0)
                go = fn(arg, sdir, pe->d_name, se->d_name);
        }
        closedir(sd);
    }
    closedir(pd);
}

struct find {
    const char *id;
    char dir[PATH_MAX];
    char project[256], service[256];
    int matches;
};

static bool find_fn(void *arg, const char *dir, const char *project, const char *service)
{
    struct find *f = arg;
    char id[600];
    make_id(project, service, id, sizeof(id));
    if (strcmp(id, f->id) != 0)
        return true;
    if (!f->matches++) {
        snprintf(f->dir, sizeof(f->dir), "%s", dir);
        snprintf(f->project, sizeof(f->project), "%s", project);
        snprintf(f->service, sizeof(f->service), "%s", service);
    }
    return true;
}

static cc_err find(struct pdrv *d, const char *id, char *dir, size_t dirsz, struct orch_err *e)
{
    struct find f = {.id = id ? id : ""};
    if (id && strncmp(id, PROC_ID_PREFIX, strlen(PROC_ID_PREFIX)) == 0)
        each_instance(d, NULL, find_fn, &f);
    if (!f.matches)
        return orch_errf(e, CC_ENOTFOUND, "run up to create it", "no process instance \"%s\"",
                         id ? id : "");
    snprintf(dir, dirsz, "%s", f.dir);
    return CC_OK;
}

/* ---- liveness ---- */

static bool shim_alive(const char *dir)
{
    char p[PATH_MAX + 16];
    snprintf(p, sizeof(p), "%s/shim.lock", dir);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool alive = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);   /* releases our shared lock, if we got it */
    return alive;
}

static bool alive_cb(void *arg) { return shim_alive(arg); }

/* The instance as the engine sees it; st is the state read (or CREATED). */
static void resolve_state(const char *dir, struct pstate *st)
{
    if (orch__pstate_load(dir, st) != CC_OK) {
        *st = (struct pstate){.status = PST_CREATED, .enforced = true};
        return;
    }
    if (st->status != PST_RUNNING || shim_alive(dir))
        return;
    /* The shim is gone: it may have just written the final state. */
    if (orch__pstate_load(dir, st) != CC_OK || st->status != PST_RUNNING)
        return;
    if (orch__proc_alive(st->pid, st->pid_start))
        return;   /* shim killed, service still up: running, unsupervised */
    st->status = PST_EXITED;
    st->exit_code = 255;
    snprintf(st->reason, sizeof(st->reason), "the shim died before the service; exit unknown");
}

static bool is_running(const char *dir, struct pstate *st)
{
    resolve_state(dir, st);
    return st->status == PST_RUNNING;
}

static void fill_inst(const struct pspec *sp, const struct pstate *st, struct orch_inst *i)
{
    *i = (struct orch_inst){
        .id = sp->id, .project = sp->project, .service = sp->service,
        .config_hash = sp->config_hash,
        .state = st->status == PST_RUNNING  ? ORCH_RUN_RUNNING
                 : st->status == PST_EXITED ? ORCH_RUN_EXITED
                                            : ORCH_RUN_CREATED,
        .exit_code = st->status == PST_EXITED ? st->exit_code : 0,
        .oom_killed = st->oom_killed, .started_ms = st->started_ms,
        .finished_ms = st->status == PST_EXITED ? st->finished_ms : 0,
        .pid = st->status == PST_RUNNING ? st->pid : 0};
}

static cc_err report_dir(const char *dir, orch_inst_cb cb, void *arg, struct orch_err *e)
{
    struct pspec sp;
    cc_err err = orch__pspec_load(dir, &sp, e);
    if (err)
        return err;
    struct pstate st;
    resolve_state(dir, &st);
    struct orch_inst i;
    fill_inst(&sp, &st, &i);
    if (cb)
        cb(arg, &i);
    orch__pspec_release(&sp);
    return CC_OK;
}

/* ---- prepare / teardown ---- */

static const struct orch_secret *stack_secret(const struct orch_stack *s, const char *name)
{
    for (size_t i = 0; s && i < s->nsecrets; i++)
        if (strcmp(s->secrets[i].name, name) == 0)
            return &s->secrets[i];
    return NULL;
}

static cc_err check_secret(const struct orch_stack *s, const char *name, struct orch_err *e)
{
    const struct orch_secret *sec = stack_secret(s, name);
    if (!sec)
        return orch_errf(e, CC_EINVAL, "declare it under the top-level `secrets:`",
                         "secret %s is not defined", name);
    if (sec->external)
        return orch_errf(e, CC_EUNSUPPORTED, "use `file:` for secrets of the process driver",
                         "secret %s is external: the process driver has no secret store", name);
    if (sec->file && access(sec->file, R_OK) != 0)
        return orch_errf(e, CC_EINVAL, "create the file or fix `file:`",
                         "secret %s: cannot read %s: %s", name, sec->file, strerror(errno));
    if (!sec->file && sec->environment && !getenv(sec->environment))
        return orch_errf(e, CC_EINVAL, "set the variable in the daemon's environment",
                         "secret %s: variable %s is not set", name, sec->environment);
    return CC_OK;
}

static cc_err p_prepare(struct orch_driver *drv, const char *project, const struct orch_stack *s,
                        orch_progress_cb cb, void *arg, struct orch_err *e)
{
    struct pdrv *d = P(drv);
    if (!name_ok(project))
        return orch_errf(e, CC_EINVAL, "use letters, digits, '-' and '_'",
                         "bad project name \"%s\"", project ? project : "");
    char dir[PATH_MAX + 256];
    snprintf(dir, sizeof(dir), "%s/%s", d->root, project);
    if (orch__mkdirs(dir, 0711) != CC_OK)
        return orch_errf(e, CC_EIO, "check that data_dir is writable by the daemon",
                         "cannot create %s: %s", dir, strerror(errno));
    for (size_t i = 0; s && i < s->nservices; i++) {
        const struct orch_service *svc = &s->services[i];
        for (size_t k = 0; k < svc->nsecrets; k++) {
            cc_err err = check_secret(s, svc->secrets[k].source, e);
            if (err)
                return err;
        }
        if (svc->has_build && cb) {
            char line[512];
            snprintf(line, sizeof(line), "%s: build ignored (the process driver runs `command` "
                     "on this host)", svc->name);
            cb(arg, line);
        }
    }
    if (s && (s->nnetworks || s->nvolumes) && cb)
        cb(arg, "networks and volumes do not apply to the process driver: services share the "
                "host's network and file system");
    return CC_OK;
}

static cc_err p_teardown(struct orch_driver *drv, const char *project, const struct orch_stack *s,
                         struct orch_err *e)
{
    /* No networks to remove. The project dir goes when it is empty. */
    if (name_ok(project)) {
        char dir[PATH_MAX + 256];
        snprintf(dir, sizeof(dir), "%s/%s", P(drv)->root, project);
        rmdir(dir);
    }
    return CC_OK;
}

/* ---- create / remove ---- */

static int rm_fn(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

static cc_err rm_tree(const char *dir)
{
    if (nftw(dir, rm_fn, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
        return CC_EIO;
    return CC_OK;
}

/* Copies one secret to <dir>/secrets/<name>, owned by the service user. */
static cc_err copy_secret(const struct orch_stack *s, const struct orch_secret_ref *ref,
                          const struct pcred *cred, const char *sdir, struct orch_err *e)
{
    cc_err err = check_secret(s, ref->source, e);
    if (err)
        return err;
    const struct orch_secret *sec = stack_secret(s, ref->source);
    const char *target = ref->target && *ref->target ? ref->target : ref->source;
    const char *base = strrchr(target, '/');
    base = base ? base + 1 : target;
    if (!name_ok(base))
        return orch_errf(e, CC_EINVAL, "name the file, e.g. target: db_password",
                         "secret %s: bad target \"%s\"", ref->source, target);
    struct cc_buf data;
    cc_buf_init(&data, SECRET_MAX);
    if (sec->file) {
        int fd = open(sec->file, O_RDONLY | O_CLOEXEC);
        char b[8192];
        ssize_t n;
        while (fd >= 0 && (n = read(fd, b, sizeof(b))) > 0)
            if (cc_buf_add(&data, b, (size_t)n) != CC_OK) {
                close(fd);
                cc_buf_release(&data);
                return orch_errf(e, CC_EINVAL, "secrets are small files (up to 1 MiB)",
                                 "secret %s: %s is too large", ref->source, sec->file);
            }
        if (fd >= 0)
            close(fd);
    } else {
        cc_buf_addstr(&data, getenv(sec->environment));
    }
    char tmp[PATH_MAX + 64], dst[PATH_MAX + 64];
    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", sdir, base);
    snprintf(dst, sizeof(dst), "%s/%s", sdir, base);
    uid_t uid = cred->uid;
    gid_t gid = cred->gid;
    if (ref->uid && *ref->uid)
        uid = (uid_t)strtoul(ref->uid, NULL, 10);
    if (ref->gid && *ref->gid)
        gid = (gid_t)strtoul(ref->gid, NULL, 10);
    mode_t mode = ref->mode >= 0 ? (mode_t)(ref->mode & 0777) : 0400;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    err = CC_EIO;
    if (fd >= 0) {
        bool ok = write(fd, data.ptr ? data.ptr : "", data.len) == (ssize_t)data.len;
        if (uid != geteuid() || gid != getegid())
            ok = ok && fchown(fd, uid, gid) == 0;
        ok = ok && fchmod(fd, mode) == 0;
        close(fd);
        if (ok && rename(tmp, dst) == 0)
            err = CC_OK;
        else
            unlink(tmp);
    }
    if (data.ptr)
        cc_secure_zero(data.ptr, data.len);
    cc_buf_release(&data);
    if (err)
        return orch_errf(e, err, "check the state directory (and that the daemon may chown)",
                         "secret %s: cannot write %s: %s", ref->source, dst, strerror(errno));
    return CC_OK;
}

/* Stops what runs in dir (create replacing an instance). */
static cc_err stop_dir(struct pdrv *d, const char *dir, int64_t grace_ns, struct orch_err *e);

static cc_err p_create(struct orch_driver *drv, const struct orch_spec *spec, orch_inst_cb cb,
                       void *arg, struct orch_err *e)
{
    struct pdrv *d = P(drv);
    const struct orch_service *svc = spec->svc;
    if (!name_ok(spec->project) || !svc || !name_ok(svc->name))
        return orch_errf(e, CC_EINVAL, "use letters, digits, '-' and '_'",
                         "bad project or service name");
    char dir[PATH_MAX], id[600];
    if (snprintf(dir, sizeof(dir), "%s/%s/%s", d->root, spec->project, svc->name) >=
        (int)sizeof(dir) - 64)
        return orch_errf(e, CC_EINVAL, "use a shorter data_dir or names", "path too long");
    make_id(spec->project, svc->name, id, sizeof(id));
    json_t *j = NULL;
    cc_err err = orch__pspec_build(spec, dir, d->log_max, d->log_files, &j, e);
    if (err)
        return err;
    for (size_t k = 0; k < svc->nsecrets; k++)
        if ((err = check_secret(spec->stack, svc->secrets[k].source, e)) != CC_OK)
            goto out;
    pthread_mutex_lock(&d->mu);
    struct find f = {.id = id};
    each_instance(d, NULL, find_fn, &f);
    if (f.matches && (strcmp(f.project, spec->project) != 0 || strcmp(f.service, svc->name))) {
        err = orch_errf(e, CC_ECONFLICT, "rename the project or the service",
                        "instance id %s is already used by project %s service %s", id,
                        f.project, f.service);
        goto unlock;
    }
    struct pstate st;
    if (access(dir, F_OK) == 0) {
        if (is_running(dir, &st) &&
            (err = stop_dir(d, dir, svc->stop_grace_ns >= 0 ? svc->stop_grace_ns
                                                             : INT64_C(10000000000), e)))
            goto unlock;
        if (rm_tree(dir) != CC_OK) {
            err = orch_errf(e, CC_EIO, "remove it by hand", "cannot remove %s: %s", dir,
                            strerror(errno));
            goto unlock;
        }
    }
    char sub[PATH_MAX + 16];
    snprintf(sub, sizeof(sub), "%s/%s", d->root, spec->project);
    err = orch__mkdirs(sub, 0711);
    /* 0711: a service running as another user must traverse to its secrets
     * when no mount namespace is available. */
    if (!err && mkdir(dir, 0711) != 0)
        err = CC_EIO;
    snprintf(sub, sizeof(sub), "%s/logs", dir);
    if (!err && mkdir(sub, 0750) != 0)
        err = CC_EIO;
    if (err) {
        err = orch_errf(e, CC_EIO, "check that data_dir is writable by the daemon",
                        "cannot create %s: %s", dir, strerror(errno));
        goto unlock;
    }
    if (svc->nsecrets) {
        struct pcred cred;
        snprintf(sub, sizeof(sub), "%s/secrets", dir);
        if ((err = orch__pcred_resolve(svc->user, &cred, e)) != CC_OK)
            goto cleanup;
        if (mkdir(sub, 0500) != 0 || (cred.change && chown(sub, cred.uid, cred.gid) != 0)) {
            err = orch_errf(e, CC_EIO, "check the state directory", "cannot create %s: %s", sub,
                            strerror(errno));
            goto cleanup;
        }
        chmod(sub, 0700);   /* writable by us while copying */
        for (size_t k = 0; k < svc->nsecrets; k++)
            if ((err = copy_secret(spec->stack, &svc->secrets[k], &cred, sub, e)) != CC_OK)
                goto cleanup;
        chmod(sub, 0500);
    }
    st = (struct pstate){.status = PST_CREATED, .enforced = true};
    if ((err = orch__write_json_atomic(dir, "spec.json", j)) != CC_OK ||
        (err = orch__pstate_save(dir, &st)) != CC_OK) {
        orch_errf(e, err, "check the state directory", "cannot write %s/spec.json", dir);
        goto cleanup;
    }
    json_t *ne = json_object_get(j, "not_enforced");
    if (json_array_size(ne) && d->log) {
        char *list = json_dumps(ne, JSON_COMPACT);
        cc_log_warn(d->log, "orchestrator", "process driver: settings not enforced",
                    CC_LS("project", spec->project), CC_LS("service", svc->name),
                    CC_LS("settings", list ? list : "?"));
        free(list);
    }
    err = report_dir(dir, cb, arg, e);
    goto unlock;
cleanup:
    rm_tree(dir);
unlock:
    pthread_mutex_unlock(&d->mu);
out:
    json_decref(j);
    return err;
}

static cc_err p_remove(struct orch_driver *drv, const char *id, struct orch_err *e)
{
    struct pdrv *d = P(drv);
    char dir[PATH_MAX];
    cc_err err = find(d, id, dir, sizeof(dir), e);
    if (err)
        return err;
    pthread_mutex_lock(&d->mu);
    struct pstate st;
    if (is_running(dir, &st))
        err = orch_errf(e, CC_ESTATE, "stop it first", "instance %s is running", id);
    else if (rm_tree(dir) != CC_OK)
        err = orch_errf(e, CC_EIO, "remove it by hand", "cannot remove %s: %s", dir,
                        strerror(errno));
    if (!err) {
        char *slash = strrchr(dir, '/');
        *slash = '\0';
        rmdir(dir);   /* the project dir, when it was the last service */
    }
    pthread_mutex_unlock(&d->mu);
    return err;
}

/* ---- start / stop ---- */

/* Launches the shim detached (double fork, own session) and waits for its
 * "ok" or "err ..." on a pipe. */
static cc_err launch_shim(struct pdrv *d, const char *dir, const char *id, struct orch_err *e)
{
    int rd[2] = {-1, -1};
    char logp[PATH_MAX + 16];
    snprintf(logp, sizeof(logp), "%s/shim.log", dir);
    int logfd = open(logp, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (logfd < 0 || devnull < 0 || pipe2(rd, O_CLOEXEC) != 0) {
        cc_err err = orch_errf(e, CC_EIO, "check the state directory", "cannot start %s: %s", id,
                               strerror(errno));
        if (logfd >= 0)
            close(logfd);
        if (devnull >= 0)
            close(devnull);
        return err;
    }
    char *argv[] = {d->self_exe, "shim", (char *)dir, "--ready-fd", "3", NULL};
    char *env[16];
    orch__shim_env(environ, env, sizeof(env) / sizeof(env[0]));
    pid_t pid = fork();
    if (pid == 0) {
        /* Async-signal-safe only: the daemon has threads. */
        setsid();
        pid_t g = fork();
        if (g != 0)
            _exit(g < 0 ? 1 : 0);
        if (dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(logfd, 2) < 0 ||
            dup2(rd[1], 3) < 0)
            _exit(127);
        syscall(SYS_close_range, 4u, ~0u, 0u);
        execve(d->self_exe, argv, env);
        _exit(127);
    }
    close(rd[1]);
    close(logfd);
    close(devnull);
    if (pid < 0) {
        close(rd[0]);
        return orch_errf(e, CC_EIO, "the system is out of processes", "fork: %s",
                         strerror(errno));
    }
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    char msg[800];
    size_t len = 0;
    int64_t deadline = orch__mono_ms() + START_TIMEOUT_MS;
    cc_err err = CC_OK;
    for (;;) {
        int64_t left = deadline - orch__mono_ms();
        struct pollfd p = {.fd = rd[0], .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)left) == 0) {
            err = orch_errf(e, CC_ETIMEOUT, "see shim.log in the instance directory",
                            "the shim of %s did not report within %d s", id,
                            START_TIMEOUT_MS / 1000);
            break;
        }
        ssize_t k = read(rd[0], msg + len, sizeof(msg) - 1 - len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k > 0)
            len += (size_t)k;
        if (k <= 0 || memchr(msg, '\n', len) || len == sizeof(msg) - 1)
            break;
    }
    close(rd[0]);
    if (err)
        return err;
    msg[len] = '\0';
    msg[strcspn(msg, "\n")] = '\0';
    if (strcmp(msg, "ok") == 0)
        return CC_OK;
    if (strncmp(msg, "err ", 4) == 0)
        return orch_errf(e, CC_EINVAL,
                         "fix the service's command, user or working_dir (the process driver "
                         "runs it on this host)",
                         "%s cannot start: %s", id, msg + 4);
    return orch_errf(e, CC_EIO, "see shim.log in the instance directory",
                     "the shim of %s exited without a report", id);
}

static cc_err p_start(struct orch_driver *drv, const char *id, struct orch_err *e)
{
    struct pdrv *d = P(drv);
    char dir[PATH_MAX];
    cc_err err = find(d, id, dir, sizeof(dir), e);
    if (err)
        return err;
    pthread_mutex_lock(&d->mu);
    struct pstate st;
    if (!is_running(dir, &st)) {
        err = launch_shim(d, dir, id, e);
        if (!err && d->log && orch__pstate_load(dir, &st) == CC_OK && !st.enforced)
            cc_log_warn(d->log, "orchestrator", "process driver: limits not enforced",
                        CC_LS("id", id), CC_LS("reason", st.reason));
    }
    pthread_mutex_unlock(&d->mu);
    return err;
}

static bool stopped(const char *dir, const struct pstate *st)
{
    return !shim_alive(dir) && !orch__proc_alive(st->pid, st->pid_start);
}

static void wait_stopped(const char *dir, const struct pstate *st, int64_t ms)
{
    int64_t deadline = orch__mono_ms() + ms;
    while (!stopped(dir, st) && orch__mono_ms() < deadline)
        orch__sleep_ms(STOP_POLL_MS);
}

static cc_err stop_dir(struct pdrv *d, const char *dir, int64_t grace_ns, struct orch_err *e)
{
    struct pstate st;
    if (!is_running(dir, &st))
        return CC_OK;
    /* Only signal a group whose leader is the process we started. */
    if (orch__proc_alive(st.pid, st.pid_start))
        kill(-st.pid, SIGTERM);
    wait_stopped(dir, &st, grace_ns > 0 ? grace_ns / 1000000 : 0);
    if (!stopped(dir, &st)) {
        if (orch__proc_alive(st.pid, st.pid_start) || shim_alive(dir))
            kill(-st.pid, SIGKILL);
        orch__pcg_kill_all(&st);
        wait_stopped(dir, &st, STOP_AFTER_KILL_MS);
    }
    if (!stopped(dir, &st))
        return orch_errf(e, CC_ETIMEOUT, "see shim.log in the instance directory",
                         "the service in %s did not stop after SIGKILL", dir);
    return CC_OK;
}

static cc_err p_stop(struct orch_driver *drv, const char *id, int64_t grace_ns,
                     struct orch_err *e)
{
    char dir[PATH_MAX];
    cc_err err = find(P(drv), id, dir, sizeof(dir), e);
    return err ? err : stop_dir(P(drv), dir, grace_ns, e);
}

/* ---- inspect / list ---- */

static cc_err p_inspect(struct orch_driver *drv, const char *id, orch_inst_cb cb, void *arg,
                        struct orch_err *e)
{
    char dir[PATH_MAX];
    cc_err err = find(P(drv), id, dir, sizeof(dir), e);
    return err ? err : report_dir(dir, cb, arg, e);
}

struct list_arg {
    orch_inst_cb cb;
    void *arg;
};

static bool list_fn(void *arg, const char *dir, const char *project, const char *service)
{
    struct list_arg *l = arg;
    report_dir(dir, l->cb, l->arg, NULL);   /* a damaged instance is skipped */
    return true;
}

static cc_err p_list(struct orch_driver *drv, const char *project, orch_inst_cb cb, void *arg,
                     struct orch_err *e)
{
    struct list_arg l = {cb, arg};
    each_instance(P(drv), project, list_fn, &l);
    return CC_OK;
}

/* ---- exec (process_exec.c runs it) ---- */

static cc_err p_exec(struct orch_driver *drv, const char *id, char *const argv[],
                     int64_t timeout_ns, struct orch_exec_result *out, struct orch_err *e)
{
    if (!argv || !argv[0] || !*argv[0])
        return orch_errf(e, CC_EINVAL, "give a command", "exec: empty command");
    char dir[PATH_MAX];
    cc_err err = find(P(drv), id, dir, sizeof(dir), e);
    if (err)
        return err;
    struct pstate st;
    if (!is_running(dir, &st))
        return orch_errf(e, CC_ESTATE, "start the service first", "instance %s is not running",
                         id);
    struct pspec sp;
    if ((err = orch__pspec_load(dir, &sp, e)) != CC_OK)
        return err;
    err = orch__pexec_run(dir, &sp, &st, argv, timeout_ns, out, e);
    orch__pspec_release(&sp);
    return err;
}

/* ---- logs / stats / endpoint ---- */

static cc_err p_logs(struct orch_driver *drv, const char *id, const struct orch_log_query *q,
                     orch_log_cb cb, void *arg, struct orch_err *e)
{
    char dir[PATH_MAX], logs[PATH_MAX + 8];
    cc_err err = find(P(drv), id, dir, sizeof(dir), e);
    if (err)
        return err;
    snprintf(logs, sizeof(logs), "%s/logs", dir);
    return orch__plog_read(logs, q, alive_cb, dir, cb, arg, e);
}

/* Without a cgroup: the service's process group from /proc. */
static void group_usage(int pgid, uint64_t *cpu_ns, int64_t *mem, int64_t *tasks)
{
    *cpu_ns = 0;
    *mem = 0;
    *tasks = 0;
    DIR *pd = opendir("/proc");
    if (!pd)
        return;
    long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    struct dirent *de;
    while ((de = readdir(pd))) {
        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        char p[300], b[1024];
        snprintf(p, sizeof(p), "/proc/%s/stat", de->d_name);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, b, sizeof(b) - 1);
        close(fd);
        if (n <= 0)
            continue;
        b[n] = '\0';
        char *s = strrchr(b, ')');
        if (!s)
            continue;
        /* after ") ": state ppid pgrp ... utime(14) stime(15) ... threads(20) */
        char state;
        int ppid, pgrp;
        unsigned long utime, stime;
        long threads;
        if (sscanf(s + 2, "%c %d %d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %ld",
                   &state, &ppid, &pgrp, &utime, &stime, &threads) != 6 ||
            pgrp != pgid)
            continue;
        *cpu_ns += (uint64_t)(utime + stime) * (1000000000ull / (uint64_t)tick);
        *tasks += threads;
        snprintf(p, sizeof(p), "/proc/%s/statm", de->d_name);
        fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        n = read(fd, b, sizeof(b) - 1);
        close(fd);
        long size, resident, shared;
        if (n > 0 && (b[n] = '\0', sscanf(b, "%ld %ld %ld", &size, &resident, &shared) == 3))
            *mem += (resident - shared) * page;
    }
    closedir(pd);
}

static void usage_now(const struct pstate *st, uint64_t *cpu, int64_t *mem, int64_t *tasks)
{
    if (orch__pcg_usage(st, cpu, mem, tasks) != CC_OK)
        group_usage(st->pid, cpu, mem, tasks);
}

static cc_err p_stats(struct orch_driver *drv, const char *id, struct orch_usage *out,
                      struct orch_err *e)
{
    struct pdrv *d = P(drv);
    char dir[PATH_MAX];
    cc_err err = find(d, id, dir, sizeof(dir), e);
    if (err)
        return err;
    struct pspec sp;
    if ((err = orch__pspec_load(dir, &sp, e)) != CC_OK)
        return err;
    struct pstate st;
    bool running = is_running(dir, &st);
    struct orch_usage u = {.mem_limit = sp.memory > 0 ? sp.memory : 0,
                           .pids_limit = sp.pids > 0 ? sp.pids : 0, .enforced = true};
    bool asked = sp.memory > 0 || sp.pids > 0 || sp.cpus > 0;
    u.enforced = !asked || st.enforced;   /* of the last start */
    if (running) {
        uint64_t cpu;
        usage_now(&st, &cpu, &u.mem_bytes, &u.pids);
        int64_t now = orch__now_ns();
        pthread_mutex_lock(&d->mu);
        struct sample *prev = NULL;
        for (unsigned i = 0; i < NSAMPLES; i++)
            if (strcmp(d->samples[i].id, id) == 0)
                prev = &d->samples[i];
        bool fresh = prev && now - prev->at_ns > 0 && now - prev->at_ns < INT64_C(10000000000) &&
                     cpu >= prev->cpu_ns;
        uint64_t pcpu = fresh ? prev->cpu_ns : 0;
        int64_t pat = fresh ? prev->at_ns : 0;
        pthread_mutex_unlock(&d->mu);
        if (!fresh) {   /* no recent sample: take two, 100 ms apart */
            pcpu = cpu;
            pat = now;
            orch__sleep_ms(100);
            usage_now(&st, &cpu, &u.mem_bytes, &u.pids);
            now = orch__now_ns();
        }
        if (now > pat && cpu >= pcpu)
            u.cpu_percent = (double)(cpu - pcpu) / (double)(now - pat) * 100.0;
        u.cpu_seconds = (double)cpu / 1e9;
        pthread_mutex_lock(&d->mu);
        if (!prev || strcmp(prev->id, id) != 0)
            prev = &d->samples[d->next_sample++ % NSAMPLES];
        snprintf(prev->id, sizeof(prev->id), "%s", id);
        prev->cpu_ns = cpu;
        prev->at_ns = now;
        pthread_mutex_unlock(&d->mu);
    }
    orch__pspec_release(&sp);
    *out = u;
    return CC_OK;
}

static cc_err p_endpoint(struct orch_driver *drv, const char *id, unsigned port, char *host,
                         size_t hostsz, unsigned *port_out, struct orch_err *e)
{
    char dir[PATH_MAX];
    cc_err err = find(P(drv), id, dir, sizeof(dir), e);
    if (err)
        return err;
    if (cc_strlcpy(host, "127.0.0.1", hostsz) != CC_OK)
        return orch_errf(e, CC_EINVAL, NULL, "host buffer too small");
    *port_out = port;
    return CC_OK;
}

const struct orch_driver_ops orch_process_ops = {
    .name = "process",
    .open = p_open,
    .close = p_close,
    .ping = p_ping,
    .prepare = p_prepare,
    .teardown = p_teardown,
    .create = p_create,
    .start = p_start,
    .stop = p_stop,
    .remove = p_remove,
    .inspect = p_inspect,
    .list = p_list,
    .exec = p_exec,
    .logs = p_logs,
    .stats = p_stats,
    .endpoint = p_endpoint,
};
