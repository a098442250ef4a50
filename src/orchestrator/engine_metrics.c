/*
 * engine_metrics.c - limits, usage and health of every service as metrics.
 *
 * Health, restarts and breakers are read at scrape time (a collector:
 * cheap, always current). Usage is not: docker's stats call waits about a
 * second for a second sample, so a sampler thread asks every
 * ORCH_USAGE_EVERY_MS (through orch_engine_resources, which asks all
 * services of a project at once) and the gauges hold the last answer.
 * Series are labelled {project, service} (the engine's breakers {driver});
 * a service that goes away keeps its last values until the daemon
 * restarts (the registry has no removal), which bounds the label set by
 * the projects ever seen in this run.
 *
 * Two counters are made from numbers that start again: a service's
 * restarts (reset by every `up` and by re-adoption) and an instance's CPU
 * seconds (reset by every new instance). `last` remembers the raw value
 * each series saw; a raw value below it means a reset, and then the whole
 * new value is added, so the counters only go up while the daemon runs
 * (cAdvisor's CPU counter, by contrast, restarts with each container).
 * The restart counters also outlive the daemon: their totals are written
 * to <state_dir>/restarts.json when they change (by the sampler, at most
 * every ORCH_USAGE_EVERY_MS, and at stop) and added back at start, so a
 * re-adopted service continues its count. Restarts in the last seconds
 * before a crash of the daemon can be lost; a counter is never lowered.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "orchestrator/engine.h"
#include "orchestrator/engine_int.h"
#include "observe/metrics.h"

#define ORCH_USAGE_EVERY_MS 15000
#define ORCH_METRICS_LAST_MAX 1024   /* counter series whose raw values are remembered */
#define RESTARTS_FILE "restarts.json"

/* The raw value a counter series last saw (see the top of the file);
 * restart counters keep their labels, to be saved. */
struct last_raw {
    struct obs_series *series;
    double raw;
    bool persist;
    char project[128], service[128];
};

struct orch__metrics {
    struct orch_engine *eng;
    struct obs_registry *reg;
    struct obs_family *healthy, *up, *restarts, *restarts_total, *svc_breaker;
    struct obs_family *cpu, *cpu_total, *mem, *mem_limit, *pids, *pids_limit, *cpus_limit;
    struct obs_family *eng_breaker, *eng_breaker_opens;
    pthread_mutex_t last_mu;                 /* the collector and the sampler both add */
    struct last_raw last[ORCH_METRICS_LAST_MAX];
    size_t nlast;
    bool dirty;                              /* a restart counter changed since saved */
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
};

static void set2(struct obs_family *f, const char *project, const char *service, double v)
{
    const char *lv[] = {project, service};
    obs_gauge_set(obs_series_get(f, lv), v);
}

/* The series' entry in `last` (m->last_mu held); NULL when the table is full. */
static struct last_raw *last_of(struct orch__metrics *m, struct obs_series *series)
{
    for (size_t i = 0; i < m->nlast; i++)
        if (m->last[i].series == series)
            return &m->last[i];
    if (m->nlast == ORCH_METRICS_LAST_MAX)
        return NULL;
    struct last_raw *l = &m->last[m->nlast++];
    *l = (struct last_raw){.series = series};
    return l;
}

/* Adds to a counter series what its raw source gained since last time. */
static void add_raw(struct orch__metrics *m, struct obs_series *series, double raw)
{
    pthread_mutex_lock(&m->last_mu);
    struct last_raw *l = last_of(m, series);
    if (l) {
        obs_counter_add(series, raw >= l->raw ? raw - l->raw : raw);
        l->raw = raw;
    }
    pthread_mutex_unlock(&m->last_mu);
}

static void add2(struct orch__metrics *m, struct obs_family *f, const char *project,
                 const char *service, double raw)
{
    const char *lv[] = {project, service};
    add_raw(m, obs_series_get(f, lv), raw);
}

/* add_raw for a service's restart counter, remembered for restarts.json. */
static void add_restarts(struct orch__metrics *m, const char *project, const char *service,
                         double raw)
{
    const char *lv[] = {project, service};
    struct obs_series *series = obs_series_get(m->restarts_total, lv);
    pthread_mutex_lock(&m->last_mu);
    struct last_raw *l = last_of(m, series);
    if (l) {
        double gained = raw >= l->raw ? raw - l->raw : raw;
        obs_counter_add(series, gained);
        l->raw = raw;
        if (!l->persist) {
            l->persist = true;
            snprintf(l->project, sizeof(l->project), "%s", project);
            snprintf(l->service, sizeof(l->service), "%s", service);
        }
        m->dirty = m->dirty || gained > 0;
    }
    pthread_mutex_unlock(&m->last_mu);
}

static char *restarts_path(const struct orch__metrics *m)
{
    const char *dir = m->eng->state_dir;
    if (!dir || !*dir)
        return NULL;
    size_t n = strlen(dir) + sizeof("/" RESTARTS_FILE) + 1;
    char *path = cc_xmalloc(n);
    snprintf(path, n, "%s/%s", dir, RESTARTS_FILE);
    return path;
}

/* Adds the totals a previous run saved: [{"project","service","restarts"}]. */
static void load_restarts(struct orch__metrics *m)
{
    char *path = restarts_path(m);
    json_t *list = path ? json_load_file(path, JSON_REJECT_DUPLICATES, NULL) : NULL;
    size_t i;
    json_t *row;
    json_array_foreach(list, i, row) {
        const char *project = json_string_value(json_object_get(row, "project"));
        const char *service = json_string_value(json_object_get(row, "service"));
        double n = json_number_value(json_object_get(row, "restarts"));
        if (!project || !service || !(n > 0))
            continue;
        const char *lv[] = {project, service};
        struct obs_series *series = obs_series_get(m->restarts_total, lv);
        pthread_mutex_lock(&m->last_mu);
        struct last_raw *l = last_of(m, series);
        if (l && !l->persist) {
            obs_counter_add(series, n);
            l->persist = true;
            snprintf(l->project, sizeof(l->project), "%s", project);
            snprintf(l->service, sizeof(l->service), "%s", service);
        }
        pthread_mutex_unlock(&m->last_mu);
    }
    json_decref(list);
    free(path);
}

/* Writes the totals (temporary file, then rename) when they changed. */
static void save_restarts(struct orch__metrics *m)
{
    pthread_mutex_lock(&m->last_mu);
    json_t *list = NULL;
    if (m->dirty) {
        list = json_array();
        for (size_t i = 0; i < m->nlast; i++) {
            const struct last_raw *l = &m->last[i];
            if (l->persist)
                json_array_append_new(list, json_pack("{s:s, s:s, s:f}", "project",
                                                      l->project, "service", l->service,
                                                      "restarts",
                                                      obs_series_value(l->series)));
        }
        m->dirty = false;
    }
    pthread_mutex_unlock(&m->last_mu);
    char *path = list ? restarts_path(m) : NULL;
    if (path) {
        mkdir(m->eng->state_dir, 0700);   /* EEXIST is the usual answer */
        char tmp[4200];
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        if (json_dump_file(list, tmp, JSON_COMPACT) != 0 || rename(tmp, path) != 0) {
            unlink(tmp);
            cc_log_warn(orch__log(m->eng), "orchestrator", "cannot save the restart counters",
                        CC_LS("path", path));
        }
    }
    free(path);
    json_decref(list);
}

/* One service as the collector reads it, copied out under the locks. */
struct svc_row {
    char project[128], service[128];
    unsigned restarts;
    bool breaker_open;
};

/* Restarts and the restart breaker of every service, read under eng->mu
 * and each project's mu (no driver call, nothing that sleeps). */
static size_t read_services(struct orch_engine *eng, struct svc_row **out)
{
    size_t n = 0, cap = 0;
    struct svc_row *rows = NULL;
    pthread_mutex_lock(&eng->mu);
    for (size_t i = 0; i < eng->nprojects; i++) {
        struct orch__project *p = eng->projects[i];
        pthread_mutex_lock(&p->mu);
        for (size_t k = 0; !p->removed && k < p->nsvcs; k++) {
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                rows = cc_xrealloc(rows, cap * sizeof(*rows));
            }
            struct svc_row *r = &rows[n++];
            snprintf(r->project, sizeof(r->project), "%s", p->name);
            snprintf(r->service, sizeof(r->service), "%s", p->svcs[k].name);
            r->restarts = p->svcs[k].restarts;
            r->breaker_open = p->svcs[k].sup.failed;
        }
        pthread_mutex_unlock(&p->mu);
    }
    pthread_mutex_unlock(&eng->mu);
    *out = rows;
    return n;
}

/* 0 closed, 1 half-open, 2 open: the order of severity, for `> 0` rules. */
static double breaker_value(enum cc_breaker_state s)
{
    return s == CC_BREAKER_OPEN ? 2 : s == CC_BREAKER_HALF_OPEN ? 1 : 0;
}

static void collect_breakers(struct orch__metrics *m)
{
    struct orch_engine *eng = m->eng;
    for (size_t i = 0; i < eng->nslots; i++) {
        struct orch__slot *sl = &eng->slots[i];
        const char *lv[] = {sl->want->name};
        obs_gauge_set(obs_series_get(m->eng_breaker, lv),
                      breaker_value(cc_breaker_state(&sl->br)));
        add_raw(m, obs_series_get(m->eng_breaker_opens, lv),
                (double)cc_breaker_opened_total(&sl->br));
    }
}

/* Restart counters and restart breakers; the collector and the sampler. */
static void update_services(struct orch__metrics *m)
{
    struct svc_row *rows = NULL;
    size_t n = read_services(m->eng, &rows);
    for (size_t i = 0; i < n; i++) {
        set2(m->svc_breaker, rows[i].project, rows[i].service, rows[i].breaker_open ? 2 : 0);
        add_restarts(m, rows[i].project, rows[i].service, rows[i].restarts);
    }
    free(rows);
}

/* At scrape: status of every service from the health view. */
static void collect(void *arg, struct obs_registry *r)
{
    struct orch__metrics *m = arg;
    json_t *list = NULL;
    if (orch_engine_list(m->eng, &list) != CC_OK)
        return;
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p) {
        const char *pname = json_string_value(json_object_get(p, "name"));
        json_t *h = NULL, *ps = NULL;
        if (!pname || orch_engine_health(m->eng, pname, &h) != CC_OK)
            continue;
        const char *sname;
        json_t *s;
        json_object_foreach(json_object_get(h, "services"), sname, s) {
            const char *st = json_string_value(json_object_get(s, "status"));
            set2(m->healthy, pname, sname, json_is_true(json_object_get(s, "healthy")));
            set2(m->up, pname, sname,
                 st && (!strcmp(st, "healthy") || !strcmp(st, "running") ||
                        !strcmp(st, "starting") || !strcmp(st, "unhealthy")));
        }
        if (orch_engine_ps(m->eng, pname, &ps) == CC_OK) {
            size_t k;
            json_t *row;
            json_array_foreach(ps, k, row) {
                const char *sname2 = json_string_value(json_object_get(row, "service"));
                if (sname2)
                    set2(m->restarts, pname, sname2,
                         (double)json_integer_value(json_object_get(row, "restarts")));
            }
        }
        json_decref(ps);
        json_decref(h);
    }
    json_decref(list);
    collect_breakers(m);
    update_services(m);
    (void)r;
}

static void sample_once(struct orch__metrics *m)
{
    json_t *list = NULL;
    if (orch_engine_list(m->eng, &list) != CC_OK)
        return;
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p) {
        const char *pname = json_string_value(json_object_get(p, "name"));
        const char *state = json_string_value(json_object_get(p, "state"));
        if (!pname || !state || strcmp(state, "up") != 0)
            continue;
        json_t *res = NULL;
        if (orch_engine_resources(m->eng, pname, &res, NULL) != CC_OK)
            continue;
        const char *sname;
        json_t *s;
        json_object_foreach(json_object_get(res, "services"), sname, s) {
            json_t *lim = json_object_get(s, "limits");
            json_t *u = json_object_get(s, "usage");
            set2(m->cpus_limit, pname, sname, json_number_value(json_object_get(lim, "cpus")));
            set2(m->mem_limit, pname, sname, json_number_value(json_object_get(lim, "memory")));
            set2(m->pids_limit, pname, sname, json_number_value(json_object_get(lim, "pids")));
            set2(m->cpu, pname, sname, json_number_value(json_object_get(u, "cpu_percent")));
            if (json_is_number(json_object_get(u, "cpu_seconds")))
                add2(m, m->cpu_total, pname, sname,
                     json_number_value(json_object_get(u, "cpu_seconds")));
            set2(m->mem, pname, sname, json_number_value(json_object_get(u, "memory_bytes")));
            set2(m->pids, pname, sname, json_number_value(json_object_get(u, "pids")));
        }
        json_decref(res);
    }
    json_decref(list);
}

static void *sampler(void *arg)
{
    struct orch__metrics *m = arg;
    pthread_mutex_lock(&m->mu);
    while (!m->stop) {
        pthread_mutex_unlock(&m->mu);
        sample_once(m);
        update_services(m);
        save_restarts(m);
        pthread_mutex_lock(&m->mu);
        int64_t due = cc_mono_ms(m->eng->clock) + ORCH_USAGE_EVERY_MS;
        while (!m->stop && !cc_wait_until(m->eng->clock, &m->cv, &m->mu, due))
            ;
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

struct orch__metrics *orch__metrics_start(struct orch_engine *eng, struct obs_registry *r)
{
    if (!r)
        return NULL;
    static const char *const labels[] = {"project", "service", NULL};
    static const char *const driver_label[] = {"driver", NULL};
    struct orch__metrics *m = cc_xcalloc(1, sizeof(*m));
    pthread_mutex_init(&m->last_mu, NULL);
    m->eng = eng;
    m->reg = r;
    m->healthy = obs_gauge(r, "cc_service_healthy",
                           "1 when the service passes its probe (or runs, without one).", labels);
    m->up = obs_gauge(r, "cc_service_up", "1 when the service's instance is running.", labels);
    m->restarts = obs_gauge(r, "cc_service_restarts",
                            "Restarts of the service since its project came up.", labels);
    m->restarts_total = obs_counter(r, "cc_service_restarted_total",
                                    "Restarts of the service; an up or a re-adoption does not "
                                    "reset it.", labels);
    m->svc_breaker = obs_gauge(r, "cc_service_breaker_state",
                               "The service's restart breaker: 0 closed, 2 open (too many "
                               "restarts; left alone until an operator restarts it).", labels);
    m->cpu_total = obs_counter(r, "cc_container_cpu_seconds_total",
                               "CPU time used by the service's instances, summed over "
                               "restarts (sampled every 15 s).", labels);
    m->eng_breaker = obs_gauge(r, "cc_engine_breaker_state",
                               "The driver's breaker: 0 closed, 1 half-open, 2 open (engine "
                               "unavailable).", driver_label);
    m->eng_breaker_opens = obs_counter(r, "cc_engine_breaker_opens_total",
                                       "Times the driver's breaker opened.", driver_label);
    m->cpu = obs_gauge(r, "cc_service_cpu_percent",
                       "CPU use as docker stats counts it (100 = one CPU), last sample.",
                       labels);
    m->mem = obs_gauge(r, "cc_service_memory_bytes",
                       "Memory use minus inactive page cache, last sample.", labels);
    m->pids = obs_gauge(r, "cc_service_pids", "Processes of the service, last sample.", labels);
    m->cpus_limit = obs_gauge(r, "cc_service_cpus_limit", "CPU limit; 0 = none.", labels);
    m->mem_limit = obs_gauge(r, "cc_service_memory_limit_bytes", "Memory limit; 0 = none.",
                             labels);
    m->pids_limit = obs_gauge(r, "cc_service_pids_limit", "Process limit; 0 = none.", labels);
    pthread_mutex_init(&m->mu, NULL);
    if (cc_clock_cond_init(&m->cv) != 0)
        abort();
    load_restarts(m);
    obs_register_collector(r, collect, m);
    m->started = pthread_create(&m->thread, NULL, sampler, m) == 0;
    return m;
}

void orch__metrics_stop(struct orch__metrics *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->mu);
    m->stop = true;
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
    if (m->started)
        pthread_join(m->thread, NULL);
    obs_unregister_collector(m->reg, collect, m);
    update_services(m);
    save_restarts(m);
    pthread_mutex_destroy(&m->mu);
    pthread_mutex_destroy(&m->last_mu);
    pthread_cond_destroy(&m->cv);
    free(m);
}
