/*
 * engine_metrics.c - limits, usage and health of every service as metrics.
 *
 * Health and restarts are read at scrape time (a collector: cheap, always
 * current). Usage is not: docker's stats call waits about a second for a
 * second sample, so a sampler thread asks every ORCH_USAGE_EVERY_MS
 * (through orch_engine_resources, which asks all services of a project at
 * once) and the gauges hold the last answer. Series are labelled
 * {project, service}; a service that goes away keeps its last values until
 * the daemon restarts (the registry has no removal), which bounds the
 * label set by the projects ever seen in this run.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "orchestrator/engine.h"
#include "orchestrator/engine_int.h"
#include "observe/metrics.h"

#define ORCH_USAGE_EVERY_MS 15000

struct orch__metrics {
    struct orch_engine *eng;
    struct obs_registry *reg;
    struct obs_family *healthy, *up, *restarts;
    struct obs_family *cpu, *mem, *mem_limit, *pids, *pids_limit, *cpus_limit;
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
    struct orch__metrics *m = cc_xcalloc(1, sizeof(*m));
    m->eng = eng;
    m->reg = r;
    m->healthy = obs_gauge(r, "cc_service_healthy",
                           "1 when the service passes its probe (or runs, without one).", labels);
    m->up = obs_gauge(r, "cc_service_up", "1 when the service's instance is running.", labels);
    m->restarts = obs_gauge(r, "cc_service_restarts",
                            "Restarts of the service since its project came up.", labels);
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
    pthread_cond_destroy(&m->cv);
    free(m);
}
