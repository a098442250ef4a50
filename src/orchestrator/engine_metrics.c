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
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "orchestrator/engine.h"
#include "orchestrator/engine_int.h"
#include "observe/metrics.h"

#define ORCH_USAGE_EVERY_MS 15000
#define ORCH_METRICS_LAST_MAX 4096   /* services whose raw values are remembered */

/* The raw value a counter series last saw (see the top of the file). */
struct last_raw {
    struct obs_series *series;
    double raw;
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

/* Adds to a counter series what its raw source gained since last time. */
static void add_raw(struct orch__metrics *m, struct obs_series *series, double raw)
{
    pthread_mutex_lock(&m->last_mu);
    struct last_raw *l = NULL;
    for (size_t i = 0; i < m->nlast && !l; i++)
        if (m->last[i].series == series)
            l = &m->last[i];
    if (!l && m->nlast < ORCH_METRICS_LAST_MAX) {
        l = &m->last[m->nlast++];
        *l = (struct last_raw){.series = series, .raw = 0};
    }
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
    struct svc_row *rows = NULL;
    size_t n = read_services(eng, &rows);
    for (size_t i = 0; i < n; i++) {
        set2(m->svc_breaker, rows[i].project, rows[i].service, rows[i].breaker_open ? 2 : 0);
        add2(m, m->restarts_total, rows[i].project, rows[i].service, rows[i].restarts);
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
    pthread_mutex_destroy(&m->mu);
    pthread_mutex_destroy(&m->last_mu);
    pthread_cond_destroy(&m->cv);
    free(m);
}
