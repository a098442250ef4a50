/*
 * metrics_process.c - the process_* collector: CPU time, memory, threads and
 * file descriptors of this process, read from Linux's /proc at each scrape.
 */
#include "observe/metrics.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "observe/metrics_int.h"

struct proc_metrics {
    struct obs_series *cpu, *rss, *vsize, *open_fds, *max_fds, *threads;
    long ticks;                  /* sysconf(_SC_CLK_TCK) */
    long page;                   /* sysconf(_SC_PAGESIZE) */
};

/* ---- process metrics --------------------------------------------------- */

static cc_err read_small_file(const char *path, char *buf, size_t size)
{
    cc_err err = CC_OK;
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return CC_EIO;
    while (len + 1 < size) {
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n < 0) {
            err = CC_EIO;
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
out:
    close(fd);
    return err;
}

struct proc_stat {
    unsigned long long utime, stime, threads, starttime, vsize, rss_pages;
};

/* Fields of /proc/self/stat after "pid (comm)"; comm may hold spaces and
 * parentheses, so parsing starts after the last ')'. See proc(5). */
static cc_err read_proc_stat(struct proc_stat *out)
{
    char buf[4096];
    unsigned long long field[25] = { 0 };   /* indexed by proc(5) field number */
    cc_err err = read_small_file("/proc/self/stat", buf, sizeof buf);
    if (err)
        return err;
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ' || !p[2])
        return CC_EPARSE;
    p += 3;                                   /* field 3, the state letter */
    for (int i = 4; i <= 24; i++) {
        char *end;
        while (*p && *p != ' ')
            p++;
        field[i] = strtoull(p, &end, 10);
        if (end == p)
            return CC_EPARSE;
        p = end;
    }
    *out = (struct proc_stat){
        .utime = field[14], .stime = field[15], .threads = field[20],
        .starttime = field[22], .vsize = field[23], .rss_pages = field[24],
    };
    return CC_OK;
}

static cc_err read_boot_time(double *out)
{
    cc_err err = CC_ENOTFOUND;
    char *line = NULL;
    size_t cap = 0;
    FILE *f = fopen("/proc/stat", "re");
    if (!f)
        return CC_EIO;
    while (getline(&line, &cap, f) > 0) {
        if (strncmp(line, "btime ", 6) == 0) {
            char *end;
            unsigned long long v = strtoull(line + 6, &end, 10);
            if (end == line + 6) {
                err = CC_EPARSE;
                goto out;
            }
            *out = (double)v;
            err = CC_OK;
            goto out;
        }
    }
out:
    free(line);
    fclose(f);
    return err;
}

static cc_err count_open_fds(double *out)
{
    size_t n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return CC_EIO;
    char self[32];   /* the directory's own descriptor is not the process' */
    snprintf(self, sizeof self, "%d", dirfd(d));
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.' && strcmp(e->d_name, self) != 0)
            n++;
    closedir(d);
    *out = (double)n;
    return CC_OK;
}

static void collect_process(void *arg, struct obs_registry *r)
{
    struct proc_metrics *pm = arg;
    struct proc_stat st;
    struct rlimit rl;
    double fds;

    if (read_proc_stat(&st) == CC_OK) {
        obs__counter_set(pm->cpu, (double)(st.utime + st.stime) / (double)pm->ticks);
        obs_gauge_set(pm->rss, (double)st.rss_pages * (double)pm->page);
        obs_gauge_set(pm->vsize, (double)st.vsize);
        obs_gauge_set(pm->threads, (double)st.threads);
    }
    if (count_open_fds(&fds) == CC_OK)
        obs_gauge_set(pm->open_fds, fds);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        obs_gauge_set(pm->max_fds, rl.rlim_cur == RLIM_INFINITY ? INFINITY
                                                                : (double)rl.rlim_cur);
}

static struct obs_series *gauge1(struct obs_registry *r, const char *name, const char *help)
{
    return obs_series_nolabels(obs_gauge(r, name, help, NULL));
}

void obs_register_process_metrics(struct obs_registry *r)
{
    struct proc_metrics *pm;
    struct obs_series *start;
    struct proc_stat st;
    double btime;

    pthread_mutex_lock(&r->collect_lock);
    if (r->proc)
        goto out;
    pm = cc_xcalloc(1, sizeof *pm);
    pm->ticks = sysconf(_SC_CLK_TCK);
    pm->page = sysconf(_SC_PAGESIZE);
    if (pm->ticks <= 0)
        pm->ticks = 100;
    if (pm->page <= 0)
        pm->page = 4096;
    pm->cpu = obs_series_nolabels(obs_counter(r, "process_cpu_seconds_total",
                                              "Total user and system CPU time spent in seconds.",
                                              NULL));
    pm->rss = gauge1(r, "process_resident_memory_bytes", "Resident memory size in bytes.");
    pm->vsize = gauge1(r, "process_virtual_memory_bytes", "Virtual memory size in bytes.");
    pm->open_fds = gauge1(r, "process_open_fds", "Number of open file descriptors.");
    pm->max_fds = gauge1(r, "process_max_fds", "Maximum number of open file descriptors.");
    start = gauge1(r, "process_start_time_seconds",
                   "Start time of the process since unix epoch in seconds.");
    pm->threads = gauge1(r, "process_threads", "Number of OS threads in the process.");
    /* The start time never changes: read it once. */
    if (read_proc_stat(&st) == CC_OK && read_boot_time(&btime) == CC_OK)
        obs_gauge_set(start, btime + (double)st.starttime / (double)pm->ticks);
    r->proc = pm;
    obs__add_collector(r, collect_process, pm);
out:
    pthread_mutex_unlock(&r->collect_lock);
}
