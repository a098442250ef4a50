/*
 * process_spec.c - the process driver's files and the child side of its
 * forks: spec.json from a compose service, state.json, users, and the
 * async-signal-safe set-up between fork and exec.
 */
#define _GNU_SOURCE
#include "orchestrator/process_int.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"

/* ---- helpers ---- */

/* The process driver deals with real processes: the real clock. */
int64_t orch__now_ns(void)
{
    return cc_wall_ns(cc_clock_system());
}

int64_t orch__mono_ms(void)
{
    return cc_mono_ms(cc_clock_system());
}

void orch__sleep_ms(long ms)
{
    cc_clock_system()->sleep_ms(cc_clock_system(), ms);
}

cc_err orch__mkdirs(const char *path, mode_t mode)
{
    char p[PATH_MAX];
    if (cc_strlcpy(p, path, sizeof(p)) != CC_OK)
        return CC_EIO;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, mode) != 0 && errno != EEXIST)
            return CC_EIO;
        *s = '/';
    }
    if (mkdir(p, mode) != 0 && errno != EEXIST)
        return CC_EIO;
    return CC_OK;
}

/* ---- spec.json ---- */

static bool has_nnp(const struct orch_service *svc)
{
    for (size_t i = 0; i < svc->security_opt.n; i++) {
        const char *o = svc->security_opt.v[i];
        if (strcmp(o, "no-new-privileges") == 0 || strcmp(o, "no-new-privileges:true") == 0 ||
            strcmp(o, "no-new-privileges=true") == 0)
            return true;
    }
    return false;
}

/* Names of settings a plain process cannot honour (reported, not fatal). */
static json_t *not_enforced(const struct orch_service *svc)
{
    json_t *a = json_array();
    if (svc->read_only)
        json_array_append_new(a, json_string("read_only"));
    if (svc->cap_add.n)
        json_array_append_new(a, json_string("cap_add"));
    if (svc->cap_drop.n)
        json_array_append_new(a, json_string("cap_drop"));
    if (svc->privileged)
        json_array_append_new(a, json_string("privileged"));
    if (svc->tmpfs.n)
        json_array_append_new(a, json_string("tmpfs"));
    if (svc->nvolumes)
        json_array_append_new(a, json_string("volumes"));
    /* The implicit "default" network is no setting of the user's. */
    bool nets = false;
    for (size_t i = 0; i < svc->nnetworks; i++)
        nets = nets || strcmp(svc->networks[i].name, "default") != 0;
    if (nets)
        json_array_append_new(a, json_string("networks"));
    if (svc->network_mode)
        json_array_append_new(a, json_string("network_mode"));
    for (size_t i = 0; i < svc->nports; i++)
        if (svc->ports[i].published && strtoul(svc->ports[i].published, NULL, 10) !=
                                           svc->ports[i].target) {
            json_array_append_new(a, json_string("ports (a process listens on its own port)"));
            break;
        }
    return a;
}

static cc_err check_working_dir(const struct orch_spec *s, char *out, size_t outsz,
                                struct orch_err *e)
{
    const struct orch_service *svc = s->svc;
    const char *base = s->stack && s->stack->dir ? s->stack->dir : "/";
    const char *wd = svc->working_dir;
    int n;
    if (!wd || !*wd)
        n = snprintf(out, outsz, "%s", base);
    else if (wd[0] == '/')
        n = snprintf(out, outsz, "%s", wd);
    else
        n = snprintf(out, outsz, "%s/%s", base, wd);
    if (n < 0 || (size_t)n >= outsz)
        return orch_errf(e, CC_EINVAL, "use a shorter path", "service %s: working_dir is too long",
                         svc->name);
    struct stat st;
    if (stat(out, &st) != 0 || !S_ISDIR(st.st_mode))
        return orch_errf(e, CC_EINVAL,
                         "the process driver runs the command in working_dir on this host: "
                         "create the directory or fix working_dir",
                         "service %s: working_dir %s is not a directory on this host", svc->name,
                         out);
    return CC_OK;
}

cc_err orch__pspec_build(const struct orch_spec *s, const char *inst_dir, uint64_t log_max,
                         unsigned log_files, json_t **out, struct orch_err *e)
{
    const struct orch_service *svc = s->svc;
    if (!svc->entrypoint.n && !svc->command.n)
        return orch_errf(e, CC_EINVAL,
                         "the process driver runs `command` (and `entrypoint`) on this host and "
                         "ignores `image`: add `command: [\"/path/to/program\", \"args\"]`",
                         "service %s has no command to run", svc->name);
    char wd[PATH_MAX];
    cc_err err = check_working_dir(s, wd, sizeof(wd), e);
    if (err)
        return err;
    struct pcred cred;
    if ((err = orch__pcred_resolve(svc->user, &cred, e)) != CC_OK) {
        if (e) {
            char msg[sizeof(e->msg) + 300];
            snprintf(msg, sizeof(msg), "service %s: %s", svc->name, e->msg);
            cc_strlcpy(e->msg, msg, sizeof(e->msg));
        }
        return err;
    }
    json_t *argv = json_array();
    for (size_t i = 0; i < svc->entrypoint.n; i++)
        json_array_append_new(argv, json_string(svc->entrypoint.v[i]));
    for (size_t i = 0; i < svc->command.n; i++)
        json_array_append_new(argv, json_string(svc->command.v[i]));
    /* A clean environment: the daemon's own (tokens, DSNs) never leaks in. */
    json_t *env = json_array(), *labels = json_object();
    bool has_path = false, has_home = false;
    for (size_t i = 0; i < svc->environment.n; i++) {
        const struct orch_kv *kv = &svc->environment.v[i];
        if (!kv->value)
            continue;
        has_path |= strcmp(kv->key, "PATH") == 0;
        has_home |= strcmp(kv->key, "HOME") == 0;
    }
    if (!has_path)
        json_array_append_new(env, json_string("PATH=" PROC_DEFAULT_PATH));
    if (!has_home) {
        char h[300];
        snprintf(h, sizeof(h), "HOME=%s", cred.home[0] ? cred.home : "/");
        json_array_append_new(env, json_string(h));
    }
    for (size_t i = 0; i < svc->environment.n; i++) {
        const struct orch_kv *kv = &svc->environment.v[i];
        if (!kv->value)
            continue;
        json_array_append_new(env, json_sprintf("%s=%s", kv->key, kv->value));
    }
    for (size_t i = 0; i < svc->labels.n; i++)
        json_object_set_new(labels, svc->labels.v[i].key,
                            json_string(svc->labels.v[i].value ? svc->labels.v[i].value : ""));
    json_object_set_new(labels, ORCH_LABEL_PROJECT, json_string(s->project));
    json_object_set_new(labels, ORCH_LABEL_SERVICE, json_string(svc->name));
    json_object_set_new(labels, ORCH_LABEL_HASH, json_string(s->config_hash ? s->config_hash : ""));
    json_object_set_new(labels, ORCH_LABEL_MANAGED, json_string("true"));
    json_t *secrets = json_array();
    for (size_t i = 0; i < svc->nsecrets; i++)
        json_array_append_new(secrets, json_string(svc->secrets[i].source));
    char id[512];
    snprintf(id, sizeof(id), PROC_ID_PREFIX "%s-%s", s->project, svc->name);
    json_t *lim = json_pack("{s:f,s:I,s:I}", "cpus", s->limits.cpus > 0 ? s->limits.cpus : 0.0,
                            "memory", (json_int_t)(s->limits.memory > 0 ? s->limits.memory : 0),
                            "pids", (json_int_t)(s->limits.pids > 0 ? s->limits.pids : 0));
    *out = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:s,s:s,s:b,s:o,s:o,s:o,s:I,s:I,s:o,s:I}", "id", id,
                     "project", s->project, "service", svc->name, "config_hash",
                     s->config_hash ? s->config_hash : "", "argv", argv, "env", env,
                     "working_dir", wd, "user", svc->user ? svc->user : "",
                     "no_new_privileges", has_nnp(svc), "limits", lim, "labels", labels,
                     "not_enforced", not_enforced(svc), "log_max_bytes", (json_int_t)log_max,
                     "log_files", (json_int_t)log_files, "secrets", secrets, "stop_grace_ns",
                     (json_int_t)(svc->stop_grace_ns >= 0 ? svc->stop_grace_ns
                                                          : INT64_C(10000000000)));
    return *out ? CC_OK : CC_ENOMEM;
}

static char **str_array(json_t *a)
{
    size_t n = json_array_size(a);
    char **v = cc_xcalloc(n + 1, sizeof(*v));
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (!s) {
            free(v);
            return NULL;
        }
        v[i] = (char *)s;
    }
    return v;
}

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

cc_err orch__pspec_load(const char *dir, struct pspec *out, struct orch_err *e)
{
    char p[PATH_MAX + 16];
    snprintf(p, sizeof(p), "%s/spec.json", dir);
    json_error_t je;
    json_t *r = json_load_file(p, JSON_REJECT_DUPLICATES, &je);
    if (!r)
        return orch_errf(e, errno == ENOENT ? CC_ENOTFOUND : CC_EIO,
                         "remove the instance and run up again", "cannot read %s: %s", p,
                         je.text);
    struct pspec s = {.root = r};
    s.id = jstr(r, "id");
    s.project = jstr(r, "project");
    s.service = jstr(r, "service");
    s.config_hash = jstr(r, "config_hash");
    s.working_dir = jstr(r, "working_dir");
    s.user = jstr(r, "user");
    s.argv = str_array(json_object_get(r, "argv"));
    s.env = str_array(json_object_get(r, "env"));
    s.no_new_privs = json_is_true(json_object_get(r, "no_new_privileges"));
    json_t *lim = json_object_get(r, "limits");
    s.cpus = json_number_value(json_object_get(lim, "cpus"));
    s.memory = json_integer_value(json_object_get(lim, "memory"));
    s.pids = json_integer_value(json_object_get(lim, "pids"));
    s.log_max_bytes = (uint64_t)json_integer_value(json_object_get(r, "log_max_bytes"));
    s.log_files = (unsigned)json_integer_value(json_object_get(r, "log_files"));
    s.nsecrets = json_array_size(json_object_get(r, "secrets"));
    if (!s.argv || !s.argv[0] || !s.env || !*s.id || !*s.working_dir) {
        orch__pspec_release(&s);
        return orch_errf(e, CC_EIO, "remove the instance and run up again",
                         "%s is damaged (argv, env, id or working_dir missing)", p);
    }
    *out = s;
    return CC_OK;
}

void orch__pspec_release(struct pspec *s)
{
    free(s->argv);
    free(s->env);
    json_decref(s->root);
    *s = (struct pspec){0};
}

/* ---- state.json ---- */

cc_err orch__write_json_atomic(const char *dir, const char *name, json_t *j)
{
    char tmp[PATH_MAX + 64], dst[PATH_MAX + 64];
    snprintf(tmp, sizeof(tmp), "%s/.%s.%d.tmp", dir, name, (int)getpid());
    snprintf(dst, sizeof(dst), "%s/%s", dir, name);
    char *text = json_dumps(j, JSON_COMPACT);
    if (!text)
        return CC_ENOMEM;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    cc_err err = CC_EIO;
    if (fd >= 0) {
        size_t n = strlen(text);
        if (write(fd, text, n) == (ssize_t)n && fsync(fd) == 0)
            err = CC_OK;
        close(fd);
        if (err == CC_OK && rename(tmp, dst) != 0)
            err = CC_EIO;
        if (err)
            unlink(tmp);
    }
    free(text);
    return err;
}

static const char *status_names[] = {"created", "running", "exited"};

cc_err orch__pstate_save(const char *dir, const struct pstate *st)
{
    json_t *j = json_pack("{s:s,s:i,s:I,s:i,s:I,s:I,s:i,s:b,s:b,s:s,s:i,s:b,s:{s:s,s:s,s:s,s:s}}",
                          "status", status_names[st->status], "pid", st->pid, "pid_start",
                          (json_int_t)st->pid_start, "shim_pid", st->shim_pid, "started_ms",
                          (json_int_t)st->started_ms, "finished_ms", (json_int_t)st->finished_ms,
                          "exit_code", st->exit_code, "oom_killed", st->oom_killed, "enforced",
                          st->enforced, "reason", st->reason, "cgroup_version", st->cg_version,
                          "secrets_ns", st->secrets_ns,
                          "cgroups", "memory", st->cg_memory, "cpu", st->cg_cpu, "cpuacct",
                          st->cg_cpuacct, "pids", st->cg_pids);
    if (!j)
        return CC_ENOMEM;
    cc_err err = orch__write_json_atomic(dir, "state.json", j);
    json_decref(j);
    return err;
}

static void copy_str(json_t *o, const char *k, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s", jstr(o, k));
}

cc_err orch__pstate_load(const char *dir, struct pstate *out)
{
    char p[PATH_MAX + 16];
    snprintf(p, sizeof(p), "%s/state.json", dir);
    json_t *j = json_load_file(p, JSON_REJECT_DUPLICATES, NULL);
    if (!j)
        return access(p, F_OK) == 0 ? CC_EIO : CC_ENOTFOUND;
    struct pstate st = {.enforced = true};
    const char *s = jstr(j, "status");
    st.status = strcmp(s, "running") == 0  ? PST_RUNNING
                : strcmp(s, "exited") == 0 ? PST_EXITED
                                           : PST_CREATED;
    st.pid = (int)json_integer_value(json_object_get(j, "pid"));
    st.pid_start = (uint64_t)json_integer_value(json_object_get(j, "pid_start"));
    st.shim_pid = (int)json_integer_value(json_object_get(j, "shim_pid"));
    st.started_ms = json_integer_value(json_object_get(j, "started_ms"));
    st.finished_ms = json_integer_value(json_object_get(j, "finished_ms"));
    st.exit_code = (int)json_integer_value(json_object_get(j, "exit_code"));
    st.oom_killed = json_is_true(json_object_get(j, "oom_killed"));
    st.enforced = !json_is_false(json_object_get(j, "enforced"));
    copy_str(j, "reason", st.reason, sizeof(st.reason));
    st.cg_version = (int)json_integer_value(json_object_get(j, "cgroup_version"));
    st.secrets_ns = json_is_true(json_object_get(j, "secrets_ns"));
    json_t *cg = json_object_get(j, "cgroups");
    copy_str(cg, "memory", st.cg_memory, sizeof(st.cg_memory));
    copy_str(cg, "cpu", st.cg_cpu, sizeof(st.cg_cpu));
    copy_str(cg, "cpuacct", st.cg_cpuacct, sizeof(st.cg_cpuacct));
    copy_str(cg, "pids", st.cg_pids, sizeof(st.cg_pids));
    json_decref(j);
    if (st.pid < 0 || st.exit_code < -1 || st.exit_code > 255)
        return CC_EIO;
    *out = st;
    return CC_OK;
}

uint64_t orch__proc_start_time(int pid)
{
    char p[64], b[1024];
    if (pid <= 0)
        return 0;
    snprintf(p, sizeof(p), "/proc/%d/stat", pid);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, b, sizeof(b) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    b[n] = '\0';
    /* comm may hold spaces and parens: fields start after the last ')' */
    char *s = strrchr(b, ')');
    if (!s || s[1] != ' ')
        return 0;
    s += 2;
    if (*s == 'Z' || *s == 'X')
        return 0;   /* a zombie has finished */
    for (int field = 3; field < 22; field++) {
        s = strchr(s, ' ');
        if (!s)
            return 0;
        s++;
    }
    return strtoull(s, NULL, 10);
}

bool orch__proc_alive(int pid, uint64_t start)
{
    return pid > 0 && start != 0 && orch__proc_start_time(pid) == start;
}

/* ---- users ---- */

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

cc_err orch__pcred_resolve(const char *user, struct pcred *out, struct orch_err *e)
{
    struct pcred c = {.uid = geteuid(), .gid = getegid(), .ngroups = -1};
    if (!user || !*user) {
        const char *h = getenv("HOME");
        snprintf(c.home, sizeof(c.home), "%s", h ? h : "/");
        *out = c;
        return CC_OK;
    }
    char name[256], *group = NULL;
    if (cc_strlcpy(name, user, sizeof(name)) != CC_OK)
        return orch_errf(e, CC_EINVAL, "use a shorter user name", "user is too long");
    char *colon = strchr(name, ':');
    if (colon) {
        *colon = '\0';
        group = colon + 1;
    }
    char buf[16384];
    struct passwd pw, *pwp = NULL;
    bool have_pw = false;
    if (all_digits(name)) {
        unsigned long v = strtoul(name, NULL, 10);
        if (v > 0x7fffffffUL)
            return orch_errf(e, CC_EINVAL, "use a uid below 2^31", "user %s: uid out of range",
                             user);
        c.uid = (uid_t)v;
        if (getpwuid_r(c.uid, &pw, buf, sizeof(buf), &pwp) == 0 && pwp)
            have_pw = true;
        c.gid = have_pw ? pw.pw_gid : (gid_t)v;
    } else {
        if (getpwnam_r(name, &pw, buf, sizeof(buf), &pwp) != 0 || !pwp)
            return orch_errf(e, CC_EINVAL,
                             "the process driver runs the service as a user of this host: "
                             "create the user or use a numeric uid",
                             "user \"%s\" does not exist on this host", name);
        have_pw = true;
        c.uid = pw.pw_uid;
        c.gid = pw.pw_gid;
    }
    snprintf(c.home, sizeof(c.home), "%s", have_pw ? pw.pw_dir : "/");
    if (group && *group) {
        if (all_digits(group)) {
            c.gid = (gid_t)strtoul(group, NULL, 10);
        } else {
            struct group gr, *grp = NULL;
            char gbuf[16384];
            if (getgrnam_r(group, &gr, gbuf, sizeof(gbuf), &grp) != 0 || !grp)
                return orch_errf(e, CC_EINVAL, "create the group or use a numeric gid",
                                 "group \"%s\" does not exist on this host", group);
            c.gid = gr.gr_gid;
        }
    }
    if (have_pw && !group) {
        int n = PROC_MAX_GROUPS;
        if (getgrouplist(pw.pw_name, c.gid, c.groups, &n) < 0)
            n = PROC_MAX_GROUPS;   /* more than we keep: the first ones */
        c.ngroups = n;
    } else {
        c.groups[0] = c.gid;
        c.ngroups = 1;
    }
    if (c.uid == geteuid() && c.gid == getegid()) {
        *out = c;
        return CC_OK;   /* already that user: nothing to switch */
    }
    if (geteuid() != 0)
        return orch_errf(e, CC_EINVAL,
                         "only a daemon running as root can run services as another user: "
                         "remove `user` or run the daemon as root",
                         "user %s: cannot switch from uid %d", user, (int)geteuid());
    c.change = true;
    *out = c;
    return CC_OK;
}

/* ---- the child side ---- */

char **orch__penv(const struct pspec *sp, const char *dir, bool secrets_ns, char **owned)
{
    size_t n = 0;
    while (sp->env[n])
        n++;
    char **v = cc_xcalloc(n + 2, sizeof(*v));
    memcpy(v, sp->env, n * sizeof(*v));
    *owned = NULL;
    if (sp->nsecrets) {
        struct cc_buf b;
        cc_buf_init(&b, PATH_MAX + 64);
        if (secrets_ns)
            cc_buf_addf(&b, "%s=%s", PROC_SECRETS_ENV, PROC_SECRETS_MNT);
        else
            cc_buf_addf(&b, "%s=%s/secrets", PROC_SECRETS_ENV, dir);
        *owned = cc_buf_take(&b);
        v[n] = *owned;
    }
    return v;
}

cc_err orch__pexec_resolve(const char *argv0, char *const *envp, char *out, size_t outsz)
{
    if (strchr(argv0, '/'))
        return cc_strlcpy(out, argv0, outsz) == CC_OK ? CC_OK : CC_ENOTFOUND;
    const char *path = PROC_DEFAULT_PATH;
    for (char *const *e = envp; e && *e; e++)
        if (strncmp(*e, "PATH=", 5) == 0)
            path = *e + 5;
    for (const char *p = path; *p;) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > 0 && p[0] == '/') {
            int k = snprintf(out, outsz, "%.*s/%s", (int)n, p, argv0);
            struct stat st;
            if (k > 0 && (size_t)k < outsz && stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
                (st.st_mode & 0111))
                return CC_OK;
        }
        p += n;
        if (*p == ':')
            p++;
    }
    return CC_ENOTFOUND;
}

static void report(int fd, const char *step, int err)
{
    char b[96];
    size_t n = 0;
    for (const char *s = step; *s && n < 64; s++)
        b[n++] = *s;
    b[n++] = ' ';
    char d[16];
    int k = 0;
    unsigned v = (unsigned)err;
    do {
        d[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && k < 15);
    while (k)
        b[n++] = d[--k];
    if (fd >= 0 && write(fd, b, n) < 0) {
        /* nobody to tell */
    }
    _exit(err == ENOENT ? 127 : 126);
}

static void write_pid(const char *path)
{
    char d[24];
    int k = 0;
    unsigned v = (unsigned)getpid();
    char b[24];
    do {
        d[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    int n = 0;
    while (k)
        b[n++] = d[--k];
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (write(fd, b, (size_t)n) < 0) {
            /* not joined: limits then do not hold for this process */
        }
        close(fd);
    }
}

void orch__pchild_exec(const struct pchild *c)
{
    sigset_t all;
    sigemptyset(&all);
    for (int s = 1; s < NSIG; s++)
        signal(s, SIG_DFL);   /* fails harmlessly for SIGKILL/SIGSTOP and RT internals */
    sigprocmask(SIG_SETMASK, &all, NULL);
    if (setpgid(0, 0) != 0)
        report(c->report_fd, "setpgid", errno);
    for (int i = 0; i < 4 && c->cg_procs[i]; i++)
        write_pid(c->cg_procs[i]);
    if (c->mntns_fd >= 0 && setns(c->mntns_fd, CLONE_NEWNS) != 0)
        report(c->report_fd, "setns", errno);
    if (dup2(c->in_fd, 0) < 0 || dup2(c->out_fd, 1) < 0 || dup2(c->err_fd, 2) < 0)
        report(c->report_fd, "dup2", errno);
    /* Everything else closes; report_fd survives until exec (CLOEXEC). */
    int rfd = c->report_fd;
    if (rfd > 3)
        syscall(SYS_close_range, 3u, (unsigned)rfd - 1, 0u);
    syscall(SYS_close_range, (unsigned)(rfd >= 3 ? rfd + 1 : 3), ~0u, 0u);
    if (c->cwd && chdir(c->cwd) != 0)
        report(rfd, "chdir", errno);
    if (c->cred && c->cred->change) {
        if (setgroups((size_t)c->cred->ngroups, c->cred->groups) != 0)
            report(rfd, "setgroups", errno);
        if (setgid(c->cred->gid) != 0)
            report(rfd, "setgid", errno);
        if (setuid(c->cred->uid) != 0)
            report(rfd, "setuid", errno);
    }
    if (c->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        report(rfd, "no_new_privs", errno);
    execve(c->path, c->argv, c->envp);
    report(rfd, "exec", errno);
    _exit(127);
}
