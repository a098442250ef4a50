/*
 * process_cg.c - resource limits of process-driver services through
 * cgroups, v2 (one unified tree: memory.max, cpu.max, pids.max) or v1 (a
 * tree per controller: memory.limit_in_bytes, cpu.cfs_quota_us, pids.max).
 *
 * Where: commandcenter/<name> below the daemon's own cgroup when that is
 * writable, else below the hierarchy root. On v2 the unified tree is used
 * only when it has the memory controller (a hybrid system's
 * /sys/fs/cgroup/unified has none). Nothing here fails a start: what could
 * not be applied is written to the state (enforced=false and why), as
 * SPEC 3 asks for an honest "not enforced".
 */
#define _GNU_SOURCE
#include "orchestrator/process_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CPU_PERIOD_US 100000

struct mnt {
    char point[PATH_MAX];
    char root[PATH_MAX];
    bool found;
};

/* Reads a small file into b (NUL-terminated); false on error. */
static bool read_small(const char *path, char *b, size_t bsz)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    size_t len = 0;
    ssize_t n;
    while (len + 1 < bsz && (n = read(fd, b + len, bsz - 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    b[len] = '\0';
    return true;
}

static bool write_file(const char *dir, const char *file, const char *val)
{
    char p[PATH_MAX + 64];
    snprintf(p, sizeof(p), "%s/%s", dir, file);
    int fd = open(p, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    size_t n = strlen(val);
    bool ok = write(fd, val, n) == (ssize_t)n;
    close(fd);
    return ok;
}

static bool has_word(const char *list, const char *w, char sep)
{
    size_t n = strlen(w);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, sep);
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, w, n) == 0)
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

/* The mount of a v1 controller (ctl) or of cgroup2 (ctl NULL). */
static void find_mount(const char *ctl, struct mnt *m)
{
    *m = (struct mnt){0};
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return;
    char line[4096];
    while (fgets(line, sizeof(line), f)) {
        /* id parent maj:min root point opts [optional...] - fstype source superopts */
        char root[PATH_MAX], point[PATH_MAX];
        if (sscanf(line, "%*s %*s %*s %4095s %4095s", root, point) != 2)
            continue;
        char *dash = strstr(line, " - ");
        if (!dash)
            continue;
        char fstype[64], source[256], super[1024];
        if (sscanf(dash + 3, "%63s %255s %1023s", fstype, source, super) != 3)
            continue;
        bool match = ctl ? strcmp(fstype, "cgroup") == 0 && has_word(super, ctl, ',')
                         : strcmp(fstype, "cgroup2") == 0;
        if (match) {
            snprintf(m->point, sizeof(m->point), "%s", point);
            snprintf(m->root, sizeof(m->root), "%s", root);
            m->found = true;
            break;
        }
    }
    fclose(f);
}

/* Our own cgroup path for a v1 controller, or for v2 (ctl NULL). */
static bool own_path(const char *ctl, char *out, size_t outsz)
{
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (!f)
        return false;
    char line[4096];
    bool ok = false;
    while (!ok && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = '\0';
        /* v2 is the line "0::/path": hierarchy 0, no controller list */
        bool match = ctl ? has_word(c1 + 1, ctl, ',')
                         : c1 == line + 1 && line[0] == '0' && c1[1] == '\0';
        if (match)
            ok = (size_t)snprintf(out, outsz, "%s", c2 + 1) < outsz;
    }
    fclose(f);
    return ok;
}

/* Makes <base>/commandcenter/<name>, trying below our own cgroup first. */
static bool make_group(const struct mnt *m, const char *own, const char *name, bool v2,
                       char *out, size_t outsz)
{
    const char *rel = own;
    size_t rl = strlen(m->root);
    if (strcmp(m->root, "/") != 0 && strncmp(own, m->root, rl) == 0)
        rel = own + rl;
    if (strcmp(rel, "/") == 0)
        rel = "";
    const char *bases[2] = {rel, ""};
    for (int i = 0; i < 2; i++) {
        if (i == 1 && !*rel)
            break;   /* own cgroup is the root: already tried */
        char parent[PATH_MAX];
        int n = snprintf(parent, sizeof(parent), "%s%s/commandcenter", m->point, bases[i]);
        if (n < 0 || (size_t)n >= sizeof(parent))
            continue;
        if (mkdir(parent, 0755) != 0 && errno != EEXIST)
            continue;
        if (v2) {
            char up[PATH_MAX];
            snprintf(up, sizeof(up), "%s%s", m->point, bases[i]);
            write_file(up, "cgroup.subtree_control", "+memory +cpu +pids");
            write_file(parent, "cgroup.subtree_control", "+memory +cpu +pids");
        }
        n = snprintf(out, outsz, "%s/%s", parent, name);
        if (n < 0 || (size_t)n >= outsz)
            continue;
        if (mkdir(out, 0755) != 0 && errno != EEXIST)
            continue;
        char procs[PATH_MAX + 32];
        snprintf(procs, sizeof(procs), "%s/cgroup.procs", out);
        if (access(procs, W_OK) == 0)
            return true;
    }
    out[0] = '\0';
    return false;
}

static void add_reason(struct pstate *st, const char *what)
{
    size_t n = strlen(st->reason);
    snprintf(st->reason + n, sizeof(st->reason) - n, "%s%s", n ? "; " : "", what);
    st->enforced = false;
}

static void setup_v2(const char *name, const struct pcg_limits *l, struct pstate *st,
                     const struct mnt *m)
{
    char own[PATH_MAX], dir[PATH_MAX];
    if (!own_path(NULL, own, sizeof(own)) || !make_group(m, own, name, true, dir, sizeof(dir))) {
        if (l->memory > 0 || l->cpus > 0 || l->pids > 0)
            add_reason(st, "no writable cgroup v2 group for commandcenter");
        return;
    }
    st->cg_version = 2;
    snprintf(st->cg_memory, sizeof(st->cg_memory), "%s", dir);
    snprintf(st->cg_cpu, sizeof(st->cg_cpu), "%s", dir);
    snprintf(st->cg_cpuacct, sizeof(st->cg_cpuacct), "%s", dir);
    snprintf(st->cg_pids, sizeof(st->cg_pids), "%s", dir);
    char v[64];
    snprintf(v, sizeof(v), "%lld", (long long)l->memory);
    if (!write_file(dir, "memory.max", l->memory > 0 ? v : "max") && l->memory > 0)
        add_reason(st, "memory: cannot write memory.max (controller not enabled)");
    write_file(dir, "memory.swap.max", l->memory > 0 ? "0" : "max");
    if (l->cpus > 0)
        snprintf(v, sizeof(v), "%lld %d", (long long)(l->cpus * CPU_PERIOD_US), CPU_PERIOD_US);
    if (!write_file(dir, "cpu.max", l->cpus > 0 ? v : "max") && l->cpus > 0)
        add_reason(st, "cpus: cannot write cpu.max (controller not enabled)");
    snprintf(v, sizeof(v), "%lld", (long long)l->pids);
    if (!write_file(dir, "pids.max", l->pids > 0 ? v : "max") && l->pids > 0)
        add_reason(st, "pids: cannot write pids.max (controller not enabled)");
}

static bool v1_group(const char *ctl, const char *name, char *out, size_t outsz)
{
    struct mnt m;
    char own[PATH_MAX];
    find_mount(ctl, &m);
    if (!m.found || !own_path(ctl, own, sizeof(own)))
        return false;
    return make_group(&m, own, name, false, out, outsz);
}

static void setup_v1(const char *name, const struct pcg_limits *l, struct pstate *st)
{
    char v[64];
    st->cg_version = 1;
    if (v1_group("memory", name, st->cg_memory, sizeof(st->cg_memory))) {
        snprintf(v, sizeof(v), "%lld", (long long)l->memory);
        /* Lower memsw first when shrinking, raise it after: the kernel
         * insists memsw >= memory at every step. */
        write_file(st->cg_memory, "memory.memsw.limit_in_bytes", "-1");
        if (!write_file(st->cg_memory, "memory.limit_in_bytes", l->memory > 0 ? v : "-1") &&
            l->memory > 0)
            add_reason(st, "memory: cannot write memory.limit_in_bytes");
        if (l->memory > 0)   /* no swap beyond the limit, so the limit is what is used */
            write_file(st->cg_memory, "memory.memsw.limit_in_bytes", v);
    } else if (l->memory > 0) {
        add_reason(st, "memory: no writable memory cgroup");
    }
    if (v1_group("cpu", name, st->cg_cpu, sizeof(st->cg_cpu))) {
        snprintf(v, sizeof(v), "%lld", (long long)(l->cpus * CPU_PERIOD_US));
        bool ok = write_file(st->cg_cpu, "cpu.cfs_period_us", "100000") &&
                  write_file(st->cg_cpu, "cpu.cfs_quota_us", l->cpus > 0 ? v : "-1");
        if (!ok && l->cpus > 0)
            add_reason(st, "cpus: cannot write cpu.cfs_quota_us");
    } else if (l->cpus > 0) {
        add_reason(st, "cpus: no writable cpu cgroup");
    }
    if (!v1_group("cpuacct", name, st->cg_cpuacct, sizeof(st->cg_cpuacct)))
        st->cg_cpuacct[0] = '\0';
    if (v1_group("pids", name, st->cg_pids, sizeof(st->cg_pids))) {
        snprintf(v, sizeof(v), "%lld", (long long)l->pids);
        if (!write_file(st->cg_pids, "pids.max", l->pids > 0 ? v : "max") && l->pids > 0)
            add_reason(st, "pids: cannot write pids.max");
    } else if (l->pids > 0) {
        add_reason(st, "pids: no writable pids cgroup");
    }
}

void orch__pcg_setup(const char *name, const struct pcg_limits *l, struct pstate *st)
{
    st->enforced = true;
    st->reason[0] = '\0';
    st->cg_version = 0;
    st->cg_memory[0] = st->cg_cpu[0] = st->cg_cpuacct[0] = st->cg_pids[0] = '\0';
    struct mnt m2;
    find_mount(NULL, &m2);
    char ctl[256], p[PATH_MAX + 32];
    bool v2 = false;
    if (m2.found) {
        snprintf(p, sizeof(p), "%s/cgroup.controllers", m2.point);
        if (read_small(p, ctl, sizeof(ctl))) {
            ctl[strcspn(ctl, "\n")] = '\0';
            v2 = has_word(ctl, "memory", ' ');
        }
    }
    if (v2)
        setup_v2(name, l, st, &m2);
    else
        setup_v1(name, l, st);
    if (!st->cg_memory[0] && !st->cg_cpu[0] && !st->cg_pids[0])
        st->cg_version = 0;
}

void orch__pcg_procs(const struct pstate *st, char storage[4][PATH_MAX], const char *out[5])
{
    const char *dirs[4] = {st->cg_memory, st->cg_cpu, st->cg_cpuacct, st->cg_pids};
    int n = 0;
    for (int i = 0; i < 4; i++) {
        if (!dirs[i][0])
            continue;
        bool dup = false;
        for (int j = 0; j < i; j++)
            dup |= strcmp(dirs[i], dirs[j]) == 0;
        if (dup)
            continue;
        if (snprintf(storage[n], PATH_MAX, "%.*s/cgroup.procs", PATH_MAX - 16, dirs[i]) >= PATH_MAX)
            continue;
        out[n] = storage[n];
        n++;
    }
    out[n] = NULL;
}

static uint64_t key_value(const char *path, const char *key)
{
    char b[8192];
    if (!read_small(path, b, sizeof(b)))
        return 0;
    size_t kl = strlen(key);
    for (char *line = b; line && *line;) {
        char *nl = strchr(line, '\n');
        if (strncmp(line, key, kl) == 0 && line[kl] == ' ')
            return strtoull(line + kl + 1, NULL, 10);
        line = nl ? nl + 1 : NULL;
    }
    return 0;
}

uint64_t orch__pcg_oom_kills(const struct pstate *st)
{
    if (!st->cg_memory[0])
        return 0;
    char p[PATH_MAX + 32];
    snprintf(p, sizeof(p), "%s/%s", st->cg_memory,
             st->cg_version == 2 ? "memory.events" : "memory.oom_control");
    return key_value(p, "oom_kill");
}

void orch__pcg_kill_all(const struct pstate *st)
{
    char storage[4][PATH_MAX];
    const char *procs[5];
    orch__pcg_procs(st, storage, procs);
    for (int i = 0; procs[i]; i++) {
        char b[65536];
        if (!read_small(procs[i], b, sizeof(b)))
            continue;
        for (char *s = b; *s;) {
            char *end;
            long pid = strtol(s, &end, 10);
            if (end == s)
                break;
            if (pid > 1 && pid != getpid())
                kill((pid_t)pid, SIGKILL);
            s = end;
            while (*s == '\n')
                s++;
        }
    }
}

void orch__pcg_remove(const struct pstate *st)
{
    const char *dirs[4] = {st->cg_memory, st->cg_cpu, st->cg_cpuacct, st->cg_pids};
    for (int i = 0; i < 4; i++)
        if (dirs[i][0])
            rmdir(dirs[i]);   /* EBUSY while a process lingers; ENOENT when shared */
}

cc_err orch__pcg_usage(const struct pstate *st, uint64_t *cpu_ns, int64_t *mem, int64_t *pids)
{
    if (st->cg_version == 0)
        return CC_ENOTFOUND;
    char p[PATH_MAX + 32], b[64];
    *cpu_ns = 0;
    *mem = 0;
    *pids = 0;
    bool any = false;
    if (st->cg_version == 2) {
        snprintf(p, sizeof(p), "%s/cpu.stat", st->cg_cpu);
        *cpu_ns = key_value(p, "usage_usec") * 1000;
        snprintf(p, sizeof(p), "%s/memory.current", st->cg_memory);
        if (read_small(p, b, sizeof(b))) {
            any = true;
            snprintf(p, sizeof(p), "%s/memory.stat", st->cg_memory);
            int64_t inactive = (int64_t)key_value(p, "inactive_file");
            int64_t cur = strtoll(b, NULL, 10);
            *mem = cur > inactive ? cur - inactive : cur;
        }
    } else {
        if (st->cg_cpuacct[0]) {
            snprintf(p, sizeof(p), "%s/cpuacct.usage", st->cg_cpuacct);
            if (read_small(p, b, sizeof(b))) {
                *cpu_ns = strtoull(b, NULL, 10);
                any = true;
            }
        }
        if (st->cg_memory[0]) {
            snprintf(p, sizeof(p), "%s/memory.usage_in_bytes", st->cg_memory);
            if (read_small(p, b, sizeof(b))) {
                any = true;
                snprintf(p, sizeof(p), "%s/memory.stat", st->cg_memory);
                int64_t inactive = (int64_t)key_value(p, "total_inactive_file");
                int64_t cur = strtoll(b, NULL, 10);
                *mem = cur > inactive ? cur - inactive : cur;
            }
        }
    }
    if (st->cg_pids[0]) {
        snprintf(p, sizeof(p), "%s/pids.current", st->cg_pids);
        if (read_small(p, b, sizeof(b))) {
            *pids = strtoll(b, NULL, 10);
            any = true;
        }
    }
    return any ? CC_OK : CC_ENOTFOUND;
}
