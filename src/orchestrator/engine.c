/*
 * engine.c - projects, their supervisor threads and every driver call
 * (see engine.h for the contract and engine_int.h for the locking rules).
 *
 * One supervisor thread per project that is up. Each pass it: adopts what
 * the driver already runs (first pass only), prepares the project's
 * networks and images, applies a pending reconcile, inspects running
 * instances for exits, acts on restart requests and expired backoffs,
 * starts every pending service whose dependencies are met, and launches
 * the probes that are due (each on its own short thread, so one slow probe
 * never delays another). Then it waits on the project's condition variable
 * until the next thing is due or someone posts a request.
 */
#define _GNU_SOURCE
#include "orchestrator/engine_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/ctx.h"
#include "core/log.h"
#include "core/retry.h"
#include "observe/metrics.h"
#include "orchestrator/plan.h"
#include "store/store.h"

/* How often a running instance is inspected (for an exit): every 500 ms for
 * its first 10 s, which catches a crash at start at once, then every 2 s.
 * Each inspect is an Engine API call (docker) or a look at the shim's state
 * (process); at 500 ms throughout, 20 services cost the daemon about 1 % of
 * a core in inspects alone (bench/orchestration.sh). */
#define INSPECT_FAST_MS    500
#define INSPECT_FAST_FOR_MS 10000
#define INSPECT_EVERY_MS   2000
#define WAIT_MAX_MS      500
#define WAIT_MIN_MS      10
#define DRV_RETRY_MAX_MS 30000
#define UNAVAILABLE_HINT "start the container engine (or set x-commandcenter.driver: process); " \
                         "CommandCenter retries by itself"

static int64_t now_mono(const struct orch_engine *eng) { return cc_mono_ms(eng->clock); }
static int64_t now_wall(const struct orch_engine *eng) { return cc_wall_ms(eng->clock); }

static struct cc_log *elog(const struct orch_engine *eng)
{
    return eng->ctx ? eng->ctx->log : NULL;
}

/* Waits on cv for at most ms (real time). */
static void wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(cv, mu, &ts);
}

/* ---------------------------------------------------------------------------
 * events
 */

__attribute__((format(printf, 4, 5)))
static void emit(struct orch__project *p, const char *state, const char *service,
                 const char *fmt, ...)
{
    char kind[40];
    snprintf(kind, sizeof(kind), "service.%s", state);
    if (p->eng->events_total)
        obs_counter_inc(obs_series_get(p->eng->events_total, (const char *const[]){kind}));
    if (p->ev_n == ORCH__EVQ_MAX) {   /* a stuck consumer: drop the oldest */
        p->ev_head = (p->ev_head + 1) % ORCH__EVQ_MAX;
        p->ev_n--;
        p->ev_dropped++;
    }
    struct orch__event *ev = &p->evq[(p->ev_head + p->ev_n) % ORCH__EVQ_MAX];
    p->ev_n++;
    snprintf(ev->kind, sizeof(ev->kind), "%s", kind);
    snprintf(ev->service, sizeof(ev->service), "%s", service ? service : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ev->message, sizeof(ev->message), fmt, ap);
    va_end(ap);
    cc_log_info(elog(p->eng), "orchestrator", ev->message, CC_LS("event", kind),
                CC_LS("project", p->name), CC_LS("service", ev->service));
}

/* Hands queued events to on_event; called without p->mu. */
static void flush_events(struct orch__project *p)
{
    pthread_mutex_lock(&p->ev_mu);
    for (;;) {
        struct orch__event ev;
        pthread_mutex_lock(&p->mu);
        bool have = p->ev_n > 0;
        if (have) {
            ev = p->evq[p->ev_head];
            p->ev_head = (p->ev_head + 1) % ORCH__EVQ_MAX;
            p->ev_n--;
        }
        pthread_mutex_unlock(&p->mu);
        if (!have)
            break;
        if (p->eng->cfg.on_event)
            p->eng->cfg.on_event(p->eng->cfg.event_arg, ev.kind, p->name, ev.service,
                                 ev.message);
    }
    pthread_mutex_unlock(&p->ev_mu);
}

/* ---------------------------------------------------------------------------
 * driver slots
 */

static bool slot_allow(struct orch__slot *sl, struct orch_err *e)
{
    if (cc_breaker_allow(&sl->br))
        return true;
    pthread_mutex_lock(&sl->err_mu);
    orch_errf(e, CC_EUPSTREAM, UNAVAILABLE_HINT, "engine unavailable (%s driver): %.200s; "
              "next try in %lld ms", sl->ops->name, sl->last_err,
              (long long)cc_breaker_retry_after_ms(&sl->br));
    pthread_mutex_unlock(&sl->err_mu);
    return false;
}

static void slot_note(struct orch__slot *sl, cc_err err, const struct orch_err *e)
{
    if (err == CC_EUPSTREAM) {
        pthread_mutex_lock(&sl->err_mu);
        snprintf(sl->last_err, sizeof(sl->last_err), "%.250s", e && e->msg[0] ? e->msg
                                                                       : "engine unreachable");
        pthread_mutex_unlock(&sl->err_mu);
        cc_breaker_failure(&sl->br);
    } else {
        cc_breaker_success(&sl->br);
    }
}

/* Opens the named driver on first use. */
static cc_err slot_get(struct orch_engine *eng, const char *name, struct orch__slot **out,
                       struct orch_err *e)
{
    bool docker = strcmp(name, "docker") == 0;
    if (!docker && strcmp(name, "process") != 0)
        return orch_errf(e, CC_EINVAL, "write auto, docker or process", "unknown driver '%.40s'",
                         name);
    struct orch__slot *sl = docker ? &eng->docker : &eng->process;
    const struct orch_driver_ops *ops = docker ? eng->cfg.docker : eng->cfg.process;
    if (!ops)
        return orch_errf(e, CC_EUNSUPPORTED, "use another driver (x-commandcenter.driver or "
                         "orchestrator.driver)", "driver %s not built into this daemon", name);
    pthread_mutex_lock(&eng->mu);
    cc_err err = CC_OK;
    if (!sl->drv) {
        const struct cc_config *c = eng->conf;
        struct orch_driver_cfg dc = {
            .docker_host = c ? c->orchestrator.docker_host : "",
            .state_dir = eng->state_dir,
            .log_max_bytes = c ? c->orchestrator.log_max_bytes : 10 << 20,
            .log_files = c ? c->orchestrator.log_files : 3,
            .self_exe = eng->self_exe,
            .log = elog(eng),
        };
        err = ops->open(&dc, &sl->drv, e);
        if (!err)
            sl->ops = ops;
    }
    pthread_mutex_unlock(&eng->mu);
    if (!err)
        *out = sl;
    return err;
}

static cc_err slot_ping(struct orch__slot *sl, struct orch_err *e)
{
    if (!slot_allow(sl, e))
        return CC_EUPSTREAM;
    cc_err err = sl->ops->ping(sl->drv, e);
    slot_note(sl, err, e);
    return err;
}

/* auto: docker when its engine answers, else process. */
static cc_err resolve_driver(struct orch_engine *eng, const char *want, struct orch__slot **out,
                             struct orch_err *e)
{
    if (strcmp(want, "auto") != 0)
        return slot_get(eng, want, out, e);
    struct orch__slot *sl = NULL;
    struct orch_err de = {0};
    cc_err err = slot_get(eng, "docker", &sl, &de);
    if (!err && !(err = slot_ping(sl, &de))) {
        *out = sl;
        return CC_OK;
    }
    err = slot_get(eng, "process", out, e);
    if (err && eng->cfg.docker)
        return orch_errf(e, CC_EUPSTREAM, de.hint, "no driver available: docker: %s; "
                         "process: %s", de.msg, e ? e->msg : "");
    return err;
}

/* ---------------------------------------------------------------------------
 * specs: services of a stack with their options, hashes and limits
 */

static void svcs_free(struct orch__svc *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        orch__svc_opts_release(&v[i].opts);
        orch__sup_release(&v[i].sup);
    }
    free(v);
}

static void role_limits(const struct cc_config *c, const char *role, struct orch_resources *r)
{
    r->cpus = 0;
    r->memory = 0;
    r->pids = 0;
    if (!c)
        return;
    const __typeof__(c->orchestrator.limits_default) *l = &c->orchestrator.limits_default;
    if (role && strcmp(role, "postgres") == 0)
        l = &c->orchestrator.limits_postgres;
    else if (role && strcmp(role, "redis") == 0)
        l = &c->orchestrator.limits_redis;
    else if (role && strcmp(role, "backend") == 0)
        l = &c->orchestrator.limits_backend;
    else if (role && strcmp(role, "frontend") == 0)
        l = &c->orchestrator.limits_frontend;
    r->cpus = l->cpus;
    r->memory = (int64_t)l->memory;
    r->pids = l->pids;
}

/* Hash of what the instance is made from: the normalized service without
 * depends_on and x-commandcenter, which change how we supervise it, not
 * what runs. */
static void service_hash(json_t *svc_json, char out[CC_SHA256_HEX_LEN])
{
    json_t *c = json_deep_copy(svc_json);
    json_object_del(c, "depends_on");
    json_object_del(c, "x-commandcenter");
    char *text = json_dumps(c, JSON_SORT_KEYS | JSON_COMPACT);
    uint8_t d[CC_SHA256_DIGEST_LEN];
    cc_sha256(text ? text : "", text ? strlen(text) : 0, d);
    cc_hex_encode(d, sizeof(d), out);
    free(text);
    json_decref(c);
}

static const char *stack_driver(const struct orch_stack *st)
{
    json_t *d = json_is_object(st->x_commandcenter)
                    ? json_object_get(st->x_commandcenter, "driver") : NULL;
    return json_string_value(d);
}

/* Validates the project-level x-commandcenter. */
static cc_err check_stack_xcc(const struct orch_stack *st, char *err, size_t errsz)
{
    json_t *x = st->x_commandcenter;
    if (!x || json_is_null(x))
        return CC_OK;
    if (!json_is_object(x)) {
        snprintf(err, errsz, "x-commandcenter: expected a mapping such as {driver: process}");
        return CC_EINVAL;
    }
    const char *k;
    json_t *v;
    json_object_foreach(x, k, v) {
        if (strcmp(k, "driver") != 0) {
            snprintf(err, errsz, "x-commandcenter.%.60s: unknown key; the project level "
                     "knows driver", k);
            return CC_EINVAL;
        }
        const char *d = json_string_value(v);
        if (!d || (strcmp(d, "auto") && strcmp(d, "docker") && strcmp(d, "process"))) {
            snprintf(err, errsz, "x-commandcenter.driver: expected auto, docker or process");
            return CC_EINVAL;
        }
    }
    return CC_OK;
}

static cc_err build_svcs(struct orch_engine *eng, const struct orch_stack *st,
                         struct orch__svc **out, char *err, size_t errsz,
                         const struct orch_service **bad)
{
    json_t *all = NULL;
    if (orch_compose_json(st, &all))
        return CC_ENOMEM;
    json_t *sj = json_object_get(all, "services");
    struct orch__svc *v = cc_xcalloc(st->nservices ? st->nservices : 1, sizeof(*v));
    unsigned cap = eng->conf ? eng->conf->orchestrator.breaker_restarts : 5;
    cc_err e = CC_OK;
    size_t i;
    for (i = 0; i < st->nservices; i++) {
        const struct orch_service *def = &st->services[i];
        struct orch__svc *s = &v[i];
        snprintf(s->name, sizeof(s->name), "%s", def->name);
        s->def = def;
        orch__sup_init(&s->sup, cap);
        if (eng->conf)
            e = orch__svc_opts(def, eng->conf, &s->opts, err, errsz);
        else {
            struct cc_config dflt;
            cc_config_init(&dflt);
            e = orch__svc_opts(def, &dflt, &s->opts, err, errsz);
            cc_config_release(&dflt);
        }
        if (e) {
            *bad = def;
            i++;
            break;
        }
        if (orch__policy_parse(def->restart, &s->policy)) {
            snprintf(err, errsz, "services.%.100s.restart: '%.40s' is not a restart policy",
                     def->name, def->restart);
            *bad = def;
            e = CC_EINVAL;
            i++;
            break;
        }
        service_hash(json_object_get(sj, def->name), s->hash);
        role_limits(eng->conf, s->opts.role, &s->limits);
        if (def->limits.cpus >= 0)
            s->limits.cpus = def->limits.cpus;
        if (def->limits.memory >= 0)
            s->limits.memory = def->limits.memory;
        if (def->limits.pids >= 0)
            s->limits.pids = def->limits.pids;
        s->phase = ORCH__PENDING;
    }
    json_decref(all);
    if (e) {
        svcs_free(v, i);
        return e;
    }
    *out = v;
    return CC_OK;
}

/* Reads and validates a compose file into a stack and its services. */
static cc_err load_spec(struct orch_engine *eng, const char *path, const char *name,
                        struct orch_stack **st_out, struct orch__svc **svcs_out,
                        struct cc_diag *d, struct orch_err *e)
{
    struct orch_compose_opts o = {.default_name = name};
    struct orch_stack *st = NULL;
    struct cc_diag dd = {0};
    cc_err err = orch_compose_load(path, &o, &st, &dd);
    if (err) {
        if (d)
            *d = dd;
        char where[700];
        cc_diag_format(&dd, where, sizeof(where));
        return orch_errf(e, err == CC_EIO || err == CC_ENOTFOUND ? err : CC_EINVAL,
                         "fix the compose file and try again", "%.500s", where);
    }
    char msg[512] = "";
    const struct orch_service *bad = NULL;
    err = check_stack_xcc(st, msg, sizeof(msg));
    if (!err)
        err = build_svcs(eng, st, svcs_out, msg, sizeof(msg), &bad);
    if (err) {
        cc_diag_set(d, path, bad ? bad->line : 0, bad ? bad->col : 0, "%s", msg);
        orch_errf(e, CC_EINVAL, "fix x-commandcenter in the compose file", "%s: %s", path, msg);
        orch_stack_free(st);
        return CC_EINVAL;
    }
    *st_out = st;
    return CC_OK;
}

/* Driver of every service: its own x-commandcenter.driver or the project's. */
static cc_err assign_slots(struct orch_engine *eng, struct orch__slot *proj, struct orch__svc *v,
                           size_t n, struct orch_err *e)
{
    for (size_t i = 0; i < n; i++) {
        v[i].slot = proj;
        if (v[i].opts.driver[0] && strcmp(v[i].opts.driver, proj->ops->name) != 0) {
            cc_err err = slot_get(eng, v[i].opts.driver, &v[i].slot, e);
            if (err)
                return err;
        }
    }
    return CC_OK;
}

/* ---------------------------------------------------------------------------
 * projects: lookup and references
 */

static struct orch__project *find_ref(struct orch_engine *eng, const char *name)
{
    struct orch__project *p = NULL;
    pthread_mutex_lock(&eng->mu);
    for (size_t i = 0; i < eng->nprojects && name; i++)
        if (strcmp(eng->projects[i]->name, name) == 0)
            p = eng->projects[i];
    if (p)
        p->refs++;
    pthread_mutex_unlock(&eng->mu);
    return p;
}

static void project_free(struct orch__project *p)
{
    svcs_free(p->svcs, p->nsvcs);
    svcs_free(p->next_svcs, p->next_n);
    orch_stack_free(p->stack);
    orch_stack_free(p->next_stack);
    pthread_mutex_destroy(&p->op_mu);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->ev_mu);
    pthread_cond_destroy(&p->cv);
    free(p->evq);
    free(p->compose_path);
    free(p);
}

static void put_ref(struct orch__project *p)
{
    struct orch_engine *eng = p->eng;
    pthread_mutex_lock(&eng->mu);
    bool last = --p->refs == 0 && p->removed;
    pthread_mutex_unlock(&eng->mu);
    if (last)
        project_free(p);
}

static struct orch__project *project_new(struct orch_engine *eng, const char *name,
                                         const char *compose_path)
{
    struct orch__project *p = cc_xcalloc(1, sizeof(*p));
    p->eng = eng;
    snprintf(p->name, sizeof(p->name), "%s", name);
    p->compose_path = cc_xstrdup(compose_path ? compose_path : "");
    snprintf(p->want_driver, sizeof(p->want_driver), "%s",
             eng->conf && eng->conf->orchestrator.driver ? eng->conf->orchestrator.driver
                                                         : "auto");
    pthread_mutex_init(&p->op_mu, NULL);
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->ev_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    p->evq = cc_xcalloc(ORCH__EVQ_MAX, sizeof(*p->evq));
    return p;
}

static void project_add(struct orch_engine *eng, struct orch__project *p)
{
    pthread_mutex_lock(&eng->mu);
    if (eng->nprojects == eng->cap) {
        eng->cap = eng->cap ? eng->cap * 2 : 8;
        eng->projects = realloc(eng->projects, eng->cap * sizeof(*eng->projects));
        if (!eng->projects)
            abort();
    }
    eng->projects[eng->nprojects++] = p;
    pthread_mutex_unlock(&eng->mu);
}

static struct orch__svc *svc_by_name(struct orch__project *p, const char *name)
{
    for (size_t i = 0; i < p->nsvcs && name; i++)
        if (strcmp(p->svcs[i].name, name) == 0)
            return &p->svcs[i];
    return NULL;
}

/* ---------------------------------------------------------------------------
 * the store
 */

static struct store *estore(const struct orch_engine *eng)
{
    return eng->ctx ? eng->ctx->store : NULL;
}

/* Records the desired state and, when given, the spec with its driver. */
static void persist(struct orch__project *p, const char *state, const struct orch_stack *st)
{
    struct store *s = estore(p->eng);
    if (!s)
        return;
    char *spec = NULL;
    json_t *j = NULL;
    if (st && !orch_compose_json(st, &j)) {
        json_t *x = json_object_get(j, "x-commandcenter");
        if (!json_is_object(x)) {
            x = json_object();
            json_object_set_new(j, "x-commandcenter", x);
        }
        /* the resolved driver, so a restarted daemon looks where it ran */
        if (p->slot)
            json_object_set_new(x, "driver", json_string(p->slot->ops->name));
        spec = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
        json_decref(j);
    }
    struct store_project sp = {.id = p->id, .name = p->name, .compose_path = p->compose_path,
                               .spec_json = spec, .state = state,
                               .created_ms = p->created_ms, .updated_ms = now_wall(p->eng)};
    cc_err err = s->ops->project_update(s, &sp);
    if (err)
        cc_log_warn(elog(p->eng), "orchestrator", "cannot record the project's state",
                    CC_LS("project", p->name), CC_LS("error", cc_err_str(err)));
    free(spec);
}

/* ---------------------------------------------------------------------------
 * supervisor: driver calls (p->mu held on entry and exit, released inside)
 */

static void backoff_retry(struct orch__project *p, struct orch__svc *s, const char *what,
                          const struct orch_err *de)
{
    struct cc_backoff b = {.initial_ms = 1000, .max_ms = DRV_RETRY_MAX_MS, .multiplier = 2.0,
                           .jitter = 0.2};
    s->drv_failures++;
    int64_t d = cc_backoff_delay_ms(&b, s->drv_failures);
    s->retry_at = now_mono(p->eng) + d;
    snprintf(s->message, sizeof(s->message), "%s: %.300s; retrying in %lld ms", what,
             de->msg, (long long)d);
}

static void fail_svc(struct orch__project *p, struct orch__svc *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail_svc(struct orch__project *p, struct orch__svc *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->message, sizeof(s->message), fmt, ap);
    va_end(ap);
    s->phase = ORCH__FAILED;
    emit(p, "failed", s->name, "%s", s->message);
}

static void inst_id_cb(void *arg, const struct orch_inst *i)
{
    snprintf(arg, 160, "%s", i->id);
}

/* Starting a service has three parts so that several can start at once:
 * start_begin and start_end run on the supervisor thread with p->mu held;
 * start_drive makes the driver calls without it (a container's create and
 * start take about a third of a second), on a thread of its own when
 * several services are due together. */
struct start_job {
    struct orch__project *p;
    struct orch__svc *s;
    struct orch__slot *sl;
    bool need_create;
    char old[160], id[160];
    struct orch_spec spec;
    int64_t old_grace_ns;
    cc_err err;
    struct orch_err de;
};

static void start_begin(struct orch__project *p, struct orch__svc *s, struct start_job *j)
{
    memset(j, 0, sizeof(*j));
    j->p = p;
    j->s = s;
    j->sl = s->slot;
    j->need_create = !s->have_inst || s->recreate;
    snprintf(j->old, sizeof(j->old), "%s", s->have_inst ? s->inst : "");
    snprintf(j->id, sizeof(j->id), "%s", s->inst);
    j->spec = (struct orch_spec){.project = p->name, .stack = p->stack, .svc = s->def,
                                 .config_hash = s->hash, .limits = s->limits};
    j->old_grace_ns = s->def->stop_grace_ns > 0 ? s->def->stop_grace_ns : 10000000000LL;
}

static void *start_drive(void *arg)
{
    struct start_job *j = arg;
    struct orch__slot *sl = j->sl;
    if (!slot_allow(sl, &j->de)) {
        j->err = CC_EUPSTREAM;
        return NULL;
    }
    if (j->need_create) {
        if (j->old[0]) {   /* a changed config: the old instance goes first */
            sl->ops->stop(sl->drv, j->old, j->old_grace_ns, NULL);
            sl->ops->remove(sl->drv, j->old, NULL);
        }
        j->id[0] = 0;
        j->err = sl->ops->create(sl->drv, &j->spec, inst_id_cb, j->id, &j->de);
    }
    if (!j->err) {
        struct orch__project *p = j->p;
        struct orch__svc *s = j->s;
        pthread_mutex_lock(&p->mu);
        if (j->need_create) {
            snprintf(s->inst, sizeof(s->inst), "%s", j->id);
            s->have_inst = true;
            s->recreate = false;
            emit(p, "created", s->name, "%s created (%s)", s->name, j->id);
        }
        pthread_mutex_unlock(&p->mu);
        j->err = sl->ops->start(sl->drv, j->id, &j->de);
    }
    slot_note(sl, j->err, &j->de);
    return NULL;
}

static void start_end(struct start_job *j)
{
    struct orch__project *p = j->p;
    struct orch__svc *s = j->s;
    struct orch_engine *eng = p->eng;
    cc_err err = j->err;
    struct orch_err *de = &j->de;
    if (err == CC_EUPSTREAM) {
        backoff_retry(p, s, "engine unavailable", de);
        return;
    }
    if (err == CC_ENOTFOUND && !j->need_create) {   /* removed behind our back: recreate */
        s->have_inst = false;
        s->retry_at = 0;
        return;
    }
    if (err) {
        fail_svc(p, s, "%s: %.300s%s%.150s", cc_err_str(err), de->msg, de->hint[0] ? "; " : "",
                 de->hint);
        return;
    }
    int64_t now = now_mono(eng);
    s->drv_failures = 0;
    s->retry_at = 0;
    s->phase = ORCH__UP;
    s->exit_code = 0;
    s->oom = false;
    s->started_mono = now;
    s->started_wall = now_wall(eng);
    if (!s->first_started_mono)
        s->first_started_mono = now;
    s->gen = ++p->gen_seq;
    s->next_inspect = now + INSPECT_FAST_MS / 5;
    orch__probe_reset(&s->probe, &s->opts.probe, now);
    s->message[0] = 0;
    if (s->restarting) {
        s->restarts++;
        emit(p, "restarted", s->name, "%s restarted (restart %u)", s->name, s->restarts);
    } else {
        emit(p, "started", s->name, "%s started", s->name);
    }
    s->restarting = false;
}

/* Creates (if needed) and starts s (p->mu held; released inside). */
static void start_svc(struct orch__project *p, struct orch__svc *s)
{
    struct start_job j;
    start_begin(p, s, &j);
    pthread_mutex_unlock(&p->mu);
    start_drive(&j);
    pthread_mutex_lock(&p->mu);
    start_end(&j);
}

#define START_PARALLEL_MAX 16

/* Starts the services go[0..n) at once (p->mu held; released inside): the
 * driver calls run on threads of their own, in waves of
 * START_PARALLEL_MAX; a thread that cannot start runs its job inline. */
static void start_many(struct orch__project *p, const size_t *go, size_t n)
{
    if (n == 1) {
        start_svc(p, &p->svcs[go[0]]);
        return;
    }
    for (size_t base = 0; base < n && !p->down_req && !p->stop_thread;
         base += START_PARALLEL_MAX) {
        size_t m = n - base < START_PARALLEL_MAX ? n - base : START_PARALLEL_MAX;
        struct start_job jobs[START_PARALLEL_MAX];
        pthread_t th[START_PARALLEL_MAX];
        bool started[START_PARALLEL_MAX] = {false};
        bool take[START_PARALLEL_MAX] = {false};
        for (size_t k = 0; k < m; k++) {
            struct orch__svc *s = &p->svcs[go[base + k]];
            take[k] = s->phase == ORCH__PENDING;
            if (take[k])
                start_begin(p, s, &jobs[k]);
        }
        pthread_mutex_unlock(&p->mu);
        for (size_t k = 0; k < m; k++)
            if (take[k])
                started[k] = pthread_create(&th[k], NULL, start_drive, &jobs[k]) == 0;
        for (size_t k = 0; k < m; k++) {
            if (started[k])
                pthread_join(th[k], NULL);
            else if (take[k])
                start_drive(&jobs[k]);
        }
        pthread_mutex_lock(&p->mu);
        for (size_t k = 0; k < m; k++)
            if (take[k])
                start_end(&jobs[k]);
    }
}

/* Stops s's instance within its grace period (p->mu held; released inside). */
static cc_err stop_inst(struct orch__project *p, struct orch__svc *s, bool remove,
                        struct orch_err *de)
{
    struct orch__slot *sl = s->slot;
    char id[160];
    snprintf(id, sizeof(id), "%s", s->inst);
    int64_t grace = s->def && s->def->stop_grace_ns >= 0 ? s->def->stop_grace_ns
                                                         : 10000000000LL;
    pthread_mutex_unlock(&p->mu);
    cc_err err = CC_OK;
    if (!slot_allow(sl, de)) {
        err = CC_EUPSTREAM;
    } else {
        err = sl->ops->stop(sl->drv, id, grace, de);
        if (err == CC_ENOTFOUND)
            err = CC_OK;
        if (!err && remove) {
            err = sl->ops->remove(sl->drv, id, de);
            if (err == CC_ENOTFOUND)
                err = CC_OK;
        }
        slot_note(sl, err, de);
    }
    pthread_mutex_lock(&p->mu);
    return err;
}

struct inspect_out {
    bool found;
    enum orch_run_state state;
    int exit_code;
    bool oom;
    int64_t started_ms;
};

static void inspect_cb(void *arg, const struct orch_inst *i)
{
    struct inspect_out *o = arg;
    o->found = true;
    o->state = i->state;
    o->exit_code = i->exit_code;
    o->oom = i->oom_killed;
    o->started_ms = i->started_ms;
}

static void on_exit_decide(struct orch__project *p, struct orch__svc *s, int code, bool oom)
{
    struct orch_engine *eng = p->eng;
    int64_t now = now_mono(eng);
    s->exit_code = code;
    s->oom = oom;
    s->gen = ++p->gen_seq;     /* any probe in flight is now stale */
    if (oom)
        emit(p, "oom", s->name, "%s was killed: out of memory (limit %lld bytes)", s->name,
             (long long)s->limits.memory);
    emit(p, "exited", s->name, "%s exited with code %d", s->name, code);
    struct orch_sup_cfg sc = {
        .backoff_initial_ms = 1000,
        .backoff_max_ms = eng->conf ? eng->conf->orchestrator.restart_backoff_max_ms : 300000,
        .jitter = 0.2,
        .stable_ms = eng->conf ? eng->conf->orchestrator.restart_stable_ms : 60000,
        .breaker_restarts = eng->conf ? eng->conf->orchestrator.breaker_restarts : 5,
        .breaker_window_ms = eng->conf ? eng->conf->orchestrator.breaker_window_ms : 600000,
    };
    struct orch_sup_decision d =
        s->unhealthy_req ? orch__sup_on_restart_unhealthy(&s->sup, &sc, s->started_mono, now)
                         : orch__sup_on_exit(&s->sup, &sc, &s->policy, code, false,
                                             s->started_mono, now);
    s->unhealthy_req = false;
    snprintf(s->message, sizeof(s->message), "%s", d.why);
    switch (d.action) {
    case ORCH_SUP_RESTART:
        s->phase = ORCH__BACKOFF;
        s->restart_at = now + d.delay_ms;
        s->restarting = true;
        break;
    case ORCH_SUP_FAIL:
        s->phase = ORCH__FAILED;
        emit(p, "failed", s->name, "%s", d.why);
        break;
    case ORCH_SUP_NONE:
        s->phase = ORCH__EXITED;
        break;
    }
}

/* Looks at a running instance; handles an exit. */
static void inspect_svc(struct orch__project *p, struct orch__svc *s)
{
    struct orch__slot *sl = s->slot;
    struct orch_err de = {0};
    struct inspect_out o = {0};
    char id[160];
    snprintf(id, sizeof(id), "%s", s->inst);
    unsigned gen = s->gen;
    pthread_mutex_unlock(&p->mu);
    cc_err err = CC_EUPSTREAM;
    if (slot_allow(sl, &de)) {
        err = sl->ops->inspect(sl->drv, id, inspect_cb, &o, &de);
        slot_note(sl, err, &de);
    }
    pthread_mutex_lock(&p->mu);
    int64_t now = now_mono(p->eng);
    s->next_inspect = now + (now - s->started_mono < INSPECT_FAST_FOR_MS ? INSPECT_FAST_MS
                                                                          : INSPECT_EVERY_MS);
    if (gen != s->gen || s->phase != ORCH__UP)
        return;
    if (err == CC_EUPSTREAM)
        return;   /* cannot tell; the breaker answers API calls meanwhile */
    if (err == CC_ENOTFOUND || (!err && !o.found)) {
        s->have_inst = false;
        on_exit_decide(p, s, -1, false);
        char why[sizeof(s->message)];
        memcpy(why, s->message, sizeof(why));
        snprintf(s->message, sizeof(s->message), "instance %.100s disappeared; %.300s", id, why);
        return;
    }
    if (!err && o.state == ORCH_RUN_EXITED)
        on_exit_decide(p, s, o.exit_code, o.oom);
}

/* ---------------------------------------------------------------------------
 * probes: one short thread per due probe
 */

struct probe_job {
    struct orch__project *p;
    char svc[128];
    unsigned gen, seq;
    char inst[160];
    struct orch__slot *slot;
    struct orch_probe_cfg cfg;
};

static void *probe_main(void *arg)
{
    struct probe_job *j = arg;
    struct orch__project *p = j->p;
    struct orch_engine *eng = p->eng;
    struct orch_probe_result r;
    struct orch_err de = {0};
    cc_err err = CC_EUPSTREAM;
    if (slot_allow(j->slot, &de)) {
        err = orch__probe_run(&j->cfg, j->slot->ops, j->slot->drv, j->inst, &r, &de);
        slot_note(j->slot, err, &de);
    }
    pthread_mutex_lock(&p->mu);
    struct orch__svc *s = svc_by_name(p, j->svc);
    if (s && s->probe_seq == j->seq)
        s->probe_busy = false;
    if (s && s->gen == j->gen) {
        int64_t now = now_mono(eng);
        if (!err && !r.ok) {
            /* a failing probe may mean it exited: look before judging */
            s->next_inspect = now;
        }
        if (err) {
            /* cannot tell (engine unreachable): not a failure; try again later */
            s->probe.next_ms = now + s->opts.probe.interval_ms;
        } else if (s->phase == ORCH__UP) {
            enum orch_probe_change ch = orch__probe_record(&s->probe, &s->opts.probe, r.ok,
                                                           r.code, r.text, now, now_wall(eng));
            if (ch == ORCH_PROBE_TO_HEALTHY)
                emit(p, "healthy", s->name, "%s is healthy: %.300s", s->name, r.text);
            else if (ch == ORCH_PROBE_TO_UNHEALTHY)
                emit(p, "unhealthy", s->name, "%s is unhealthy after %u failed probes: %.300s",
                     s->name, s->probe.failing_streak, r.text);
            if (orch__sup_on_probe(&s->sup, &s->opts.unhealthy, r.ok,
                                   s->probe.status == ORCH_HEALTH_UNHEALTHY, s->started_mono,
                                   now))
                s->unhealthy_req = true;
        }
    }
    p->probes_inflight--;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    flush_events(p);
    orch__probe_cfg_release(&j->cfg);
    free(j);
    return NULL;
}

static void launch_probe(struct orch__project *p, struct orch__svc *s)
{
    struct probe_job *j = cc_xcalloc(1, sizeof(*j));
    j->p = p;
    snprintf(j->svc, sizeof(j->svc), "%s", s->name);
    snprintf(j->inst, sizeof(j->inst), "%s", s->inst);
    j->gen = s->gen;
    j->seq = ++s->probe_seq;
    j->slot = s->slot;
    orch__probe_cfg_copy(&j->cfg, &s->opts.probe);
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    if (pthread_create(&t, &a, probe_main, j) != 0) {
        orch__probe_cfg_release(&j->cfg);
        free(j);
        s->probe.next_ms = now_mono(p->eng) + 1000;
    } else {
        s->probe_busy = true;
        p->probes_inflight++;
    }
    pthread_attr_destroy(&a);
}

/* ---------------------------------------------------------------------------
 * supervisor: adoption, reconcile, plan, down
 */

struct adopt_ctx {
    struct orch__project *p;
    int64_t now, wall;
};

static void adopt_cb(void *arg, const struct orch_inst *i)
{
    struct adopt_ctx *a = arg;
    struct orch__project *p = a->p;
    struct orch__svc *s = svc_by_name(p, i->service);
    if (!s || s->have_inst)
        return;
    snprintf(s->inst, sizeof(s->inst), "%s", i->id);
    s->have_inst = true;
    if (!i->config_hash || strcmp(i->config_hash, s->hash) != 0) {
        s->recreate = true;   /* changed: created anew when its turn comes */
        return;
    }
    if (i->state == ORCH_RUN_RUNNING) {
        /* running with the same config: supervise it as it is */
        int64_t age = i->started_ms > 0 && a->wall > i->started_ms ? a->wall - i->started_ms : 0;
        s->phase = ORCH__UP;
        s->started_mono = a->now - age;
        s->first_started_mono = s->started_mono ? s->started_mono : 1;
        s->started_wall = i->started_ms;
        s->gen = ++p->gen_seq;
        s->next_inspect = a->now;
        orch__probe_reset(&s->probe, &s->opts.probe, a->now);
        /* re-probe right away rather than after a full interval */
        s->probe.next_ms = a->now;
        snprintf(s->message, sizeof(s->message), "adopted running instance");
    } else if (i->state == ORCH_RUN_EXITED && i->exit_code == 0 &&
               s->policy.kind != ORCH_RESTART_ALWAYS &&
               s->policy.kind != ORCH_RESTART_UNLESS_STOPPED) {
        /* a one-shot that completed while we were away */
        s->phase = ORCH__EXITED;
        s->exit_code = 0;
        s->first_started_mono = a->now;
        s->started_wall = i->started_ms;
    }
}

/* Lists what the drivers already run for this project (p->mu held). */
static bool adopt(struct orch__project *p)
{
    struct orch__slot *done[2] = {NULL, NULL};
    for (size_t i = 0; i < p->nsvcs; i++) {
        struct orch__slot *sl = p->svcs[i].slot;
        if (sl == done[0] || sl == done[1])
            continue;
        struct orch_err de = {0};
        struct adopt_ctx a = {.p = p, .now = now_mono(p->eng), .wall = now_wall(p->eng)};
        /* list's callback fills services: safe, only this thread changes them,
         * but readers need the lock, so it is held through the call. The
         * list call is a single round trip. */
        cc_err err = CC_EUPSTREAM;
        if (slot_allow(sl, &de)) {
            err = sl->ops->list(sl->drv, p->name, adopt_cb, &a, &de);
            slot_note(sl, err, &de);
        }
        if (err) {
            cc_log_warn(elog(p->eng), "orchestrator", "cannot list instances to adopt",
                        CC_LS("project", p->name), CC_LS("error", de.msg));
            return false;
        }
        done[done[0] ? 1 : 0] = sl;
    }
    return true;
}

/* Progress of prepare (image builds, networks): logged, and its last line
 * shown in health while it runs (what `up --wait` prints on a terminal).
 * Called without p->mu. */
static void build_progress(void *arg, const char *line)
{
    struct orch__project *p = arg;
    cc_log_info(elog(p->eng), "orchestrator", "preparing", CC_LS("project", p->name),
                CC_LS("line", line));
    pthread_mutex_lock(&p->mu);
    snprintf(p->progress, sizeof(p->progress), "%.250s", line);
    pthread_mutex_unlock(&p->mu);
}

static bool prepare(struct orch__project *p)
{
    struct orch__slot *done[2] = {NULL, NULL};
    for (size_t i = 0; i < p->nsvcs; i++) {
        struct orch__slot *sl = p->svcs[i].slot;
        if (sl == done[0] || sl == done[1])
            continue;
        struct orch_err de = {0};
        const struct orch_stack *st = p->stack;
        pthread_mutex_unlock(&p->mu);
        cc_err err = CC_EUPSTREAM;
        if (slot_allow(sl, &de)) {
            err = sl->ops->prepare(sl->drv, p->name, st, build_progress, p, &de);
            slot_note(sl, err, &de);
        }
        pthread_mutex_lock(&p->mu);
        p->progress[0] = 0;
        if (err == CC_EUPSTREAM) {
            struct cc_backoff b = {.initial_ms = 1000, .max_ms = DRV_RETRY_MAX_MS,
                                   .multiplier = 2.0, .jitter = 0.2};
            p->prepare_retry_at = now_mono(p->eng) + cc_backoff_delay_ms(&b, ++p->prepare_failures);
            return false;
        }
        if (err) {
            for (size_t k = 0; k < p->nsvcs; k++)
                if (p->svcs[k].phase == ORCH__PENDING)
                    fail_svc(p, &p->svcs[k], "preparing the project failed: %.300s%s%.150s",
                             de.msg, de.hint[0] ? "; " : "", de.hint);
            p->prepared = true;
            return false;
        }
        done[done[0] ? 1 : 0] = sl;
    }
    p->prepared = true;
    return true;
}

/* Swaps in the spec an `up` handed over: unchanged services keep running,
 * changed ones are recreated, removed ones stopped and removed. */
static void apply_reconcile(struct orch__project *p)
{
    struct orch__svc *nv = p->next_svcs;
    size_t nn = p->next_n;
    struct orch_stack *nst = p->next_stack;
    p->next_svcs = NULL;
    p->next_stack = NULL;
    p->next_n = 0;
    p->reconcile = false;
    for (size_t i = 0; i < p->nsvcs; i++) {
        struct orch__svc *o = &p->svcs[i];
        struct orch__svc *n = NULL;
        for (size_t k = 0; k < nn && !n; k++)
            if (strcmp(nv[k].name, o->name) == 0 && nv[k].slot == o->slot)
                n = &nv[k];
        if (!n) {
            if (o->have_inst) {
                struct orch_err de = {0};
                stop_inst(p, o, true, &de);
                emit(p, "stopped", o->name, "%s stopped and removed: no longer in the "
                     "compose file", o->name);
            }
            continue;
        }
        /* carry the run state over; the new spec decides about the rest */
        struct orch__svc fresh = *n;
        *n = *o;
        n->def = fresh.def;
        n->opts = fresh.opts;
        n->policy = fresh.policy;
        n->limits = fresh.limits;
        n->slot = fresh.slot;
        o->sup = fresh.sup;   /* the unused one, freed with the old list */
        char hash[CC_SHA256_HEX_LEN];
        memcpy(hash, fresh.hash, sizeof(hash));
        if (strcmp(hash, n->hash) != 0) {
            memcpy(n->hash, hash, sizeof(hash));
            n->recreate = n->have_inst;
            if (n->phase == ORCH__UP || n->phase == ORCH__EXITED || n->phase == ORCH__FAILED ||
                n->phase == ORCH__BACKOFF) {
                n->phase = ORCH__PENDING;
                n->first_started_mono = 0;
            }
        }
        if (n->phase == ORCH__FAILED || n->phase == ORCH__STOPPED) {
            orch__sup_reset(&n->sup);
            n->phase = ORCH__PENDING;
            n->first_started_mono = 0;
        }
        n->gen = ++p->gen_seq;
        if (n->phase == ORCH__UP)
            orch__probe_reset(&n->probe, &n->opts.probe, now_mono(p->eng));
    }
    svcs_free(p->svcs, p->nsvcs);
    orch_stack_free(p->stack);
    p->svcs = nv;
    p->nsvcs = nn;
    p->stack = nst;
    p->prepared = false;
}

static void plan_states(struct orch__project *p, struct orch_plan_state *ps)
{
    for (size_t i = 0; i < p->nsvcs; i++) {
        const struct orch__svc *s = &p->svcs[i];
        const struct orch_probe_output *last = orch__probe_output(&s->probe, 0);
        ps[i] = (struct orch_plan_state){
            .started = s->first_started_mono != 0,
            .running = s->phase == ORCH__UP,
            .healthy = s->probe.status == ORCH_HEALTH_HEALTHY,
            .has_probe = s->opts.probe.kind != ORCH_PROBE_NONE,
            .exited = s->phase == ORCH__EXITED,
            .exit_code = s->exit_code,
            .failed = s->phase == ORCH__FAILED,
            .started_ms = s->first_started_mono,
            .start_timeout_ms = s->opts.start_timeout_ms,
            .last_output = last ? last->text : NULL,
        };
    }
}

/* Down: reverse dependency order, each with its grace period; then what
 * the driver still lists for the project; then teardown (p->mu held). */
static void do_down(struct orch__project *p)
{
    size_t n = p->nsvcs;
    size_t *order = cc_xcalloc(n ? n : 1, sizeof(*order));
    if (p->stack)
        orch__plan_order(p->stack, order);
    for (size_t k = n; k-- > 0;) {
        struct orch__svc *s = &p->svcs[order[k]];
        if (s->have_inst) {
            struct orch_err de = {0};
            cc_err err = stop_inst(p, s, true, &de);
            if (err)
                cc_log_warn(elog(p->eng), "orchestrator", "stop failed",
                            CC_LS("project", p->name), CC_LS("service", s->name),
                            CC_LS("error", de.msg));
            s->have_inst = false;
            emit(p, "stopped", s->name, "%s stopped", s->name);
        }
        s->phase = ORCH__STOPPED;
        s->gen = ++p->gen_seq;
        s->message[0] = 0;
    }
    free(order);
    struct orch__slot *done[2] = {NULL, NULL};
    for (size_t i = 0; i < n; i++) {
        struct orch__slot *sl = p->svcs[i].slot;
        if (!sl || sl == done[0] || sl == done[1])
            continue;
        done[done[0] ? 1 : 0] = sl;
        const struct orch_stack *st = p->stack;
        pthread_mutex_unlock(&p->mu);
        struct orch_err de = {0};
        if (slot_allow(sl, &de)) {
            cc_err err = sl->ops->teardown(sl->drv, p->name, st, &de);
            slot_note(sl, err, &de);
        }
        pthread_mutex_lock(&p->mu);
    }
}

/* One pass; returns when the next thing is due (mono ms). */
static int64_t step(struct orch__project *p)
{
    struct orch_engine *eng = p->eng;
    int64_t now = now_mono(eng), next = now + WAIT_MAX_MS;
    if (p->reconcile)
        apply_reconcile(p);
    if (!p->adopted)
        p->adopted = adopt(p);
    if (!p->adopted)
        return now + 1000;
    if (!p->prepared) {
        if (now < p->prepare_retry_at)
            return p->prepare_retry_at;
        if (!prepare(p))
            return p->prepared ? next : p->prepare_retry_at;
        p->prepare_failures = 0;
    }
    /* exits, requests, backoffs */
    for (size_t i = 0; i < p->nsvcs && !p->down_req && !p->stop_thread; i++) {
        struct orch__svc *s = &p->svcs[i];
        now = now_mono(eng);
        if (s->restart_req) {
            s->restart_req = false;
            struct orch_err de = {0};
            if (s->phase == ORCH__UP && stop_inst(p, s, false, &de) == CC_EUPSTREAM) {
                backoff_retry(p, s, "restart: engine unavailable", &de);
                s->restart_req = true;
                continue;
            }
            s->gen = ++p->gen_seq;
            s->restarting = s->first_started_mono != 0;
            s->phase = ORCH__PENDING;
            s->retry_at = 0;
            if (s->first_started_mono)
                start_svc(p, s);
            continue;
        }
        if (s->phase == ORCH__UP && (now >= s->next_inspect || s->unhealthy_req))
            inspect_svc(p, s);
        if (s->phase == ORCH__UP && s->unhealthy_req) {
            struct orch_err de = {0};
            emit(p, "unhealthy", s->name, "%s is restarted: unhealthy %u times in a row "
                 "after its grace period", s->name, s->opts.unhealthy.limit);
            stop_inst(p, s, false, &de);
            if (s->phase == ORCH__UP)
                on_exit_decide(p, s, 143, false);
            continue;
        }
        if (s->phase == ORCH__BACKOFF && now_mono(eng) >= s->restart_at &&
            now_mono(eng) >= s->retry_at)
            start_svc(p, s);
        if (s->phase == ORCH__UP && s->next_inspect < next)
            next = s->next_inspect;
        if (s->phase == ORCH__BACKOFF && s->restart_at < next)
            next = s->restart_at > s->retry_at ? s->restart_at : s->retry_at;
    }
    /* pending services whose dependencies are met: all of them, now */
    if (p->stack && !p->down_req && !p->stop_thread) {
        struct orch_plan_state *ps = cc_xcalloc(p->nsvcs ? p->nsvcs : 1, sizeof(*ps));
        plan_states(p, ps);
        size_t *go = cc_xcalloc(p->nsvcs ? p->nsvcs : 1, sizeof(*go));
        size_t ngo = 0;
        now = now_mono(eng);
        for (size_t i = 0; i < p->nsvcs; i++) {
            struct orch__svc *s = &p->svcs[i];
            if (s->phase != ORCH__PENDING)
                continue;
            if (s->retry_at > now) {
                if (s->retry_at < next)
                    next = s->retry_at;
                continue;
            }
            char why[512];
            enum orch_ready r = orch__plan_check(p->stack, i, ps, now, why, sizeof(why));
            if (r == ORCH_READY_GO)
                go[ngo++] = i;
            else if (r == ORCH_READY_BLOCKED)
                fail_svc(p, s, "not started: %s", why);
            else
                snprintf(s->message, sizeof(s->message), "%s", why);
        }
        if (ngo && !p->down_req && !p->stop_thread)
            start_many(p, go, ngo);
        free(go);
        free(ps);
    }
    /* probes */
    now = now_mono(eng);
    for (size_t i = 0; i < p->nsvcs && !p->down_req && !p->stop_thread; i++) {
        struct orch__svc *s = &p->svcs[i];
        if (s->phase != ORCH__UP || s->opts.probe.kind == ORCH_PROBE_NONE || s->probe_busy)
            continue;
        if (now >= s->probe.next_ms)
            launch_probe(p, s);
        else if (s->probe.next_ms < next)
            next = s->probe.next_ms;
    }
    return next;
}

static void *supervisor_main(void *arg)
{
    struct orch__project *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->stop_thread && !p->down_req) {
        int64_t due = step(p);
        pthread_mutex_unlock(&p->mu);
        flush_events(p);
        pthread_mutex_lock(&p->mu);
        if (p->stop_thread || p->down_req || p->reconcile)
            continue;
        bool pending_req = false;
        for (size_t i = 0; i < p->nsvcs; i++)
            pending_req = pending_req || p->svcs[i].restart_req ||
                          (p->svcs[i].unhealthy_req && p->svcs[i].phase == ORCH__UP);
        if (pending_req)
            continue;
        int64_t wait = due - now_mono(p->eng);
        if (wait < WAIT_MIN_MS)
            wait = WAIT_MIN_MS;
        if (wait > WAIT_MAX_MS)
            wait = WAIT_MAX_MS;
        wait_ms(&p->cv, &p->mu, wait);
    }
    if (p->down_req && !p->stop_thread)
        do_down(p);
    while (p->probes_inflight > 0)
        wait_ms(&p->cv, &p->mu, 100);
    pthread_mutex_unlock(&p->mu);
    flush_events(p);
    return NULL;
}

/* p->mu held. */
static cc_err start_thread(struct orch__project *p, struct orch_err *e)
{
    p->stop_thread = false;
    p->down_req = false;
    p->adopted = false;
    p->prepared = false;
    p->prepare_retry_at = 0;
    if (pthread_create(&p->thr, NULL, supervisor_main, p) != 0)
        return orch_errf(e, CC_ENOMEM, NULL, "cannot start the supervisor thread: %s",
                         strerror(errno));
    p->thr_running = true;
    return CC_OK;
}

/* Stops the thread (down_req or stop_thread set by the caller), joins it. */
static void join_thread(struct orch__project *p)
{
    pthread_mutex_lock(&p->mu);
    bool running = p->thr_running;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    if (running)
        pthread_join(p->thr, NULL);
    pthread_mutex_lock(&p->mu);
    p->thr_running = false;
    pthread_mutex_unlock(&p->mu);
}

/* ---------------------------------------------------------------------------
 * public API
 */

/* Loads an up project's spec at start-up and supervises it again. */
static void readopt(struct orch_engine *eng, struct orch__project *p, const char *spec_json)
{
    struct orch_err e = {0};
    struct orch_stack *st = NULL;
    struct orch__svc *svcs = NULL;
    cc_err err = load_spec(eng, p->compose_path, p->name, &st, &svcs, NULL, &e);
    if (err) {
        cc_log_error(elog(eng), "orchestrator", "cannot re-adopt project: its compose file "
                     "does not load", CC_LS("project", p->name), CC_LS("error", e.msg));
        p->up = true;   /* stays desired; the next up retries */
        return;
    }
    /* the driver it ran on, recorded at up */
    const char *want = stack_driver(st) ? stack_driver(st) : p->want_driver;
    json_t *spec = spec_json ? json_loads(spec_json, 0, NULL) : NULL;
    const char *rec = json_string_value(json_object_get(json_object_get(spec, "x-commandcenter"),
                                                        "driver"));
    if (rec)
        want = rec;
    struct orch__slot *sl = NULL;
    err = slot_get(eng, strcmp(want, "auto") == 0 ? "docker" : want, &sl, &e);
    if (!err)
        err = assign_slots(eng, sl, svcs, st->nservices, &e);
    json_decref(spec);
    if (err) {
        cc_log_error(elog(eng), "orchestrator", "cannot re-adopt project: driver unavailable",
                     CC_LS("project", p->name), CC_LS("error", e.msg));
        svcs_free(svcs, st->nservices);
        orch_stack_free(st);
        p->up = true;
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->slot = sl;
    p->stack = st;
    p->svcs = svcs;
    p->nsvcs = st->nservices;
    p->up = true;
    start_thread(p, &e);
    pthread_mutex_unlock(&p->mu);
}

struct load_ctx {
    struct orch_engine *eng;
    struct {
        struct orch__project *p;
        char *spec;
        bool up;
    } *v;
    size_t n, cap;
};

static void load_cb(void *arg, const struct store_project *sp)
{
    struct load_ctx *l = arg;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = realloc(l->v, l->cap * sizeof(*l->v));
        if (!l->v)
            abort();
    }
    struct orch__project *p = project_new(l->eng, sp->name, sp->compose_path);
    p->id = sp->id;
    p->created_ms = sp->created_ms;
    l->v[l->n].p = p;
    l->v[l->n].spec = sp->spec_json ? cc_xstrdup(sp->spec_json) : NULL;
    l->v[l->n].up = sp->state && strcmp(sp->state, "up") == 0;
    l->n++;
}

cc_err orch_engine_create(const struct orch_engine_cfg *cfg, struct orch_engine **out,
                          struct orch_err *e)
{
    struct orch_engine *eng = cc_xcalloc(1, sizeof(*eng));
    eng->cfg = *cfg;
    eng->ctx = cfg->ctx;
    eng->clock = cfg->ctx && cfg->ctx->clock ? cfg->ctx->clock : cc_clock_system();
    eng->conf = cfg->ctx ? cfg->ctx->cfg : NULL;
    eng->state_dir = cc_xstrdup(cfg->state_dir ? cfg->state_dir : "");
    eng->self_exe = cc_xstrdup(cfg->self_exe ? cfg->self_exe : "");
    eng->cfg.state_dir = eng->state_dir;
    eng->cfg.self_exe = eng->self_exe;
    pthread_mutex_init(&eng->mu, NULL);
    struct cc_breaker_cfg bc = {.failure_threshold = 2, .open_ms = 5000, .half_open_max = 1};
    cc_breaker_init(&eng->docker.br, &bc, eng->clock);
    cc_breaker_init(&eng->process.br, &bc, eng->clock);
    pthread_mutex_init(&eng->docker.err_mu, NULL);
    pthread_mutex_init(&eng->process.err_mu, NULL);
    if (eng->ctx && eng->ctx->metrics)
        eng->events_total = obs_counter(eng->ctx->metrics, "cc_orch_service_events_total",
                                        "Service state changes by kind (service.started, "
                                        "service.healthy, ...).",
                                        (const char *const[]){"kind", NULL});
    struct store *s = estore(eng);
    if (s) {
        struct load_ctx l = {.eng = eng};
        cc_err err = s->ops->project_list(s, load_cb, &l);
        if (err) {
            for (size_t i = 0; i < l.n; i++) {
                project_free(l.v[i].p);
                free(l.v[i].spec);
            }
            free(l.v);
            orch_engine_destroy(eng);
            return orch_errf(e, err, "check the store", "cannot load the projects: %s",
                             cc_err_str(err));
        }
        for (size_t i = 0; i < l.n; i++) {
            project_add(eng, l.v[i].p);
            l.v[i].p->refs = 1;
        }
        for (size_t i = 0; i < l.n; i++) {
            if (l.v[i].up)
                readopt(eng, l.v[i].p, l.v[i].spec);
            free(l.v[i].spec);
        }
        free(l.v);
    }
    if (eng->ctx && eng->ctx->metrics)
        eng->metrics = orch__metrics_start(eng, eng->ctx->metrics);
    *out = eng;
    return CC_OK;
}

void orch_engine_destroy(struct orch_engine *eng)
{
    if (!eng)
        return;
    orch__metrics_stop(eng->metrics);
    for (size_t i = 0; i < eng->nprojects; i++) {
        struct orch__project *p = eng->projects[i];
        pthread_mutex_lock(&p->mu);
        p->stop_thread = true;
        pthread_mutex_unlock(&p->mu);
        join_thread(p);
    }
    /* Callers still inside the engine (a log stream, a slow API call) hold
     * a reference; the daemon stops the HTTP server first, so they leave
     * soon. Wait for them; if one does not, leak the engine rather than
     * free what it is using. */
    for (int tries = 0;; tries++) {
        bool busy = false;
        pthread_mutex_lock(&eng->mu);
        for (size_t i = 0; i < eng->nprojects; i++)
            busy = busy || eng->projects[i]->refs > 1;
        pthread_mutex_unlock(&eng->mu);
        if (!busy)
            break;
        if (tries >= 1000) {
            cc_log_error(eng->ctx->log, "orchestrator",
                         "a caller is still inside the engine at shutdown; not freeing it");
            return;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    for (size_t i = 0; i < eng->nprojects; i++)
        project_free(eng->projects[i]);
    free(eng->projects);
    if (eng->docker.ops)
        eng->docker.ops->close(eng->docker.drv);
    if (eng->process.ops)
        eng->process.ops->close(eng->process.drv);
    cc_breaker_release(&eng->docker.br);
    cc_breaker_release(&eng->process.br);
    pthread_mutex_destroy(&eng->docker.err_mu);
    pthread_mutex_destroy(&eng->process.err_mu);
    pthread_mutex_destroy(&eng->mu);
    free(eng->state_dir);
    free(eng->self_exe);
    free(eng);
}

static json_t *warnings_json(const struct orch_stack *st)
{
    json_t *a = json_array();
    for (size_t i = 0; i < st->warnings.n; i++)
        json_array_append_new(a, json_string(st->warnings.v[i]));
    return a;
}

cc_err orch_engine_register(struct orch_engine *eng, const char *name, const char *compose_path,
                            json_t **warnings, char *name_out, size_t name_outsz,
                            struct cc_diag *d, struct orch_err *e)
{
    if (!compose_path || !*compose_path)
        return orch_errf(e, CC_EINVAL, "give the path of a compose file", "no compose file");
    char *abs = realpath(compose_path, NULL);
    if (!abs)
        return orch_errf(e, errno == ENOENT ? CC_ENOTFOUND : CC_EIO, "check the path",
                         "cannot open %.300s: %s", compose_path, strerror(errno));
    struct orch_stack *st = NULL;
    struct orch__svc *svcs = NULL;
    cc_err err = load_spec(eng, abs, NULL, &st, &svcs, d, e);
    if (err) {
        free(abs);
        return err;
    }
    const char *pname = name && *name ? name : st->name;
    struct orch__project *p = NULL;
    if ((p = find_ref(eng, pname))) {
        put_ref(p);
        err = orch_errf(e, CC_ECONFLICT, "choose another name or unregister the old one",
                        "a project named %s exists", pname);
        goto out;
    }
    p = project_new(eng, pname, abs);
    p->created_ms = now_wall(eng);
    if (stack_driver(st))
        snprintf(p->want_driver, sizeof(p->want_driver), "%s", stack_driver(st));
    struct store *s = estore(eng);
    if (s) {
        struct store_project sp = {.name = pname, .compose_path = abs, .state = "down",
                                   .created_ms = p->created_ms, .updated_ms = p->created_ms};
        err = s->ops->project_insert(s, &sp, &p->id);
        if (err) {
            project_free(p);
            err = orch_errf(e, err, err == CC_ECONFLICT ? "choose another name" : "check the "
                            "store", "cannot record project %s: %s", pname, cc_err_str(err));
            goto out;
        }
    }
    p->refs = 1;
    project_add(eng, p);
    if (warnings)
        *warnings = warnings_json(st);
    if (name_out && name_outsz)
        snprintf(name_out, name_outsz, "%s", pname);
out:
    svcs_free(svcs, st->nservices);
    orch_stack_free(st);
    free(abs);
    return err;
}

cc_err orch_engine_unregister(struct orch_engine *eng, const char *name, struct orch_err *e)
{
    struct orch__project *p = find_ref(eng, name);
    if (!p)
        return orch_errf(e, CC_ENOTFOUND, "list projects to see the names", "no project %s",
                         name ? name : "");
    pthread_mutex_lock(&p->op_mu);
    pthread_mutex_lock(&p->mu);
    bool up = p->up || p->thr_running;
    pthread_mutex_unlock(&p->mu);
    cc_err err = CC_OK;
    if (up) {
        err = orch_errf(e, CC_ESTATE, "run down first", "project %s is up", name);
    } else {
        struct store *s = estore(eng);
        if (s && (err = s->ops->project_delete(s, name)) && err != CC_ENOTFOUND) {
            orch_errf(e, err, "check the store", "cannot delete project %s", name);
        } else {
            err = CC_OK;
            pthread_mutex_lock(&eng->mu);
            for (size_t i = 0; i < eng->nprojects; i++)
                if (eng->projects[i] == p) {
                    eng->projects[i] = eng->projects[--eng->nprojects];
                    break;
                }
            p->removed = true;
            p->refs--;   /* the list's reference */
            pthread_mutex_unlock(&eng->mu);
        }
    }
    pthread_mutex_unlock(&p->op_mu);
    put_ref(p);
    return err;
}

cc_err orch_engine_up(struct orch_engine *eng, const char *name, struct orch_err *e)
{
    struct orch__project *p = find_ref(eng, name);
    if (!p)
        return orch_errf(e, CC_ENOTFOUND, "register it first", "no project %s", name ? name : "");
    pthread_mutex_lock(&p->op_mu);
    struct orch_stack *st = NULL;
    struct orch__svc *svcs = NULL;
    struct orch__slot *sl = NULL;
    cc_err err = load_spec(eng, p->compose_path, p->name, &st, &svcs, NULL, e);
    if (err)
        goto out;
    pthread_mutex_lock(&p->mu);
    bool running = p->thr_running;
    sl = p->slot;
    pthread_mutex_unlock(&p->mu);
    char want[16];
    snprintf(want, sizeof(want), "%s", stack_driver(st) ? stack_driver(st) : p->want_driver);
    if (!running || !sl) {
        memcpy(p->want_driver, want, sizeof(want));
        if ((err = resolve_driver(eng, want, &sl, e)))
            goto out;
    }
    /* answer at once while the engine is known to be down */
    if ((err = slot_ping(sl, e)))
        goto out;
    if ((err = assign_slots(eng, sl, svcs, st->nservices, e)))
        goto out;
    pthread_mutex_lock(&p->mu);
    p->slot = sl;
    if (running) {
        svcs_free(p->next_svcs, p->next_n);
        orch_stack_free(p->next_stack);
        p->next_stack = st;
        p->next_svcs = svcs;
        p->next_n = st->nservices;
        p->reconcile = true;
        pthread_cond_broadcast(&p->cv);
    } else {
        svcs_free(p->svcs, p->nsvcs);
        orch_stack_free(p->stack);
        p->stack = st;
        p->svcs = svcs;
        p->nsvcs = st->nservices;
        p->up = true;
        err = start_thread(p, e);
    }
    pthread_mutex_unlock(&p->mu);
    if (!err)
        persist(p, "up", st);
    st = NULL;
    svcs = NULL;
out:
    if (st)
        svcs_free(svcs, st->nservices);
    orch_stack_free(st);
    pthread_mutex_unlock(&p->op_mu);
    put_ref(p);
    return err;
}

cc_err orch_engine_down(struct orch_engine *eng, const char *name, struct orch_err *e)
{
    struct orch__project *p = find_ref(eng, name);
    if (!p)
        return orch_errf(e, CC_ENOTFOUND, "list projects to see the names", "no project %s",
                         name ? name : "");
    pthread_mutex_lock(&p->op_mu);
    pthread_mutex_lock(&p->mu);
    bool running = p->thr_running;
    p->up = false;
    if (running)
        p->down_req = true;
    pthread_mutex_unlock(&p->mu);
    cc_err err = CC_OK;
    if (running) {
        join_thread(p);
    } else if (p->slot || p->nsvcs) {
        /* not supervised (e.g. never adopted): stop what we know of */
        pthread_mutex_lock(&p->mu);
        bool have = false;
        for (size_t i = 0; i < p->nsvcs; i++)
            have = have || (p->svcs[i].have_inst && p->svcs[i].slot);
        if (have)
            do_down(p);
        pthread_mutex_unlock(&p->mu);
        flush_events(p);
    }
    persist(p, "down", NULL);
    pthread_mutex_unlock(&p->op_mu);
    put_ref(p);
    return err;
}

cc_err orch_engine_restart(struct orch_engine *eng, const char *name, const char *service,
                           struct orch_err *e)
{
    struct orch__project *p = find_ref(eng, name);
    if (!p)
        return orch_errf(e, CC_ENOTFOUND, "list projects to see the names", "no project %s",
                         name ? name : "");
    cc_err err = CC_OK;
    pthread_mutex_lock(&p->mu);
    struct orch__svc *s = svc_by_name(p, service);
    if (!s) {
        err = orch_errf(e, CC_ENOTFOUND, "see ps for the services", "project %s has no "
                        "service %s", p->name, service ? service : "");
    } else if (!p->up || !p->thr_running) {
        err = orch_errf(e, CC_ESTATE, "run up first", "project %s is down", p->name);
    } else {
        orch__sup_reset(&s->sup);
        s->restart_req = true;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    put_ref(p);
    return err;
}

/* ---- views ---- */

static const char *driver_name(const struct orch__project *p)
{
    return p->slot ? p->slot->ops->name : p->want_driver;
}

cc_err orch_engine_list(struct orch_engine *eng, json_t **out)
{
    json_t *a = json_array();
    pthread_mutex_lock(&eng->mu);
    for (size_t i = 0; i < eng->nprojects; i++) {
        struct orch__project *p = eng->projects[i];
        pthread_mutex_lock(&p->mu);
        size_t healthy = 0;
        for (size_t k = 0; k < p->nsvcs; k++)
            healthy += orch__svc_ready(&p->svcs[k]);
        char t[32];
        cc_time_rfc3339(p->created_ms, t, sizeof(t));
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "name",
                                           p->name, "compose_path", p->compose_path, "driver",
                                           driver_name(p), "state", orch__project_state(p),
                                           "services", (json_int_t)p->nsvcs, "healthy",
                                           (json_int_t)healthy, "created_at", t));
        pthread_mutex_unlock(&p->mu);
    }
    pthread_mutex_unlock(&eng->mu);
    *out = a;
    return CC_OK;
}

static json_t *ps_locked(struct orch__project *p)
{
    json_t *a = json_array();
    for (size_t i = 0; i < p->nsvcs; i++)
        json_array_append_new(a, orch__ps_row(&p->svcs[i]));
    return a;
}

cc_err orch_engine_project(struct orch_engine *eng, const char *name, json_t **out)
{
    struct orch__project *p = find_ref(eng, name);
    if (!p)
        return CC_ENOTFOUND;
    pthread_mutex_lock(&p->mu);
    *out = json_pack("{s:s, s:s, s:s, s:s, s:o}", "name", p->name, "compose_path",
                     p->compose_path, "driver", driver_name(p), "state",
                     orch__project_state(p), "services", ps_locked(p));
    pthread_mutex_unlock(&p->mu);
    put_ref(p);
    return CC_OK;
}

cc_err orch_engine_ps(struct orch_engine *eng, const char *name, json_t **out)
{
    struct orch__project *p = find_ref(eng, name);
    if (!p)
        return CC_ENOTFOUND;
    pthread_mutex_lock(&p->mu);
    *out = ps_locked(p);
    pthread_mutex_unlock(&p->mu);
    put_ref(p);
    return CC_OK;
}

cc_err orch_engine_health(struct orch_engine *eng, const char *name, json_t **out)
{
    struct orch__project *p = find_ref(eng, name);
    if (!p)
        return CC_ENOTFOUND;
    pthread_mutex_lock(&p->mu);
    *out = orch__health_json(p, now_wall(eng));
    pthread_mutex_unlock(&p->mu);
    put_ref(p);
    return CC_OK;
}

static json_t *num_or_null(double v, bool set)
{
    return set ? json_real(v) : json_null();
}

/* One service's usage, sampled on a thread of its own: docker's stats call
 * waits for a second sample (about a second), so the services of a project
 * are asked at once, not one after the other. */
struct usage_item {
    char name[128], inst[160];
    bool running;
    struct orch_resources lim;
    struct orch__slot *slot;
    struct orch_usage u;
    struct orch_err de;
    cc_err r;
    bool sampled;
};

static void *sample_usage(void *arg)
{
    struct usage_item *it = arg;
    it->r = CC_EUPSTREAM;
    if (slot_allow(it->slot, &it->de)) {
        it->r = it->slot->ops->stats(it->slot->drv, it->inst, &it->u, &it->de);
        slot_note(it->slot, it->r, &it->de);
    }
    it->sampled = true;
    return NULL;
}

#define USAGE_THREADS_MAX 32

cc_err orch_engine_resources(struct orch_engine *eng, const char *name, json_t **out,
                             struct orch_err *e)
{
    struct orch__project *p = find_ref(eng, name);
    if (!p)
        return orch_errf(e, CC_ENOTFOUND, "list projects to see the names", "no project %s",
                         name ? name : "");
    pthread_mutex_lock(&p->mu);
    size_t n = p->nsvcs;
    struct usage_item *items = cc_xcalloc(n ? n : 1, sizeof(*items));
    for (size_t i = 0; i < n; i++) {
        struct orch__svc *s = &p->svcs[i];
        snprintf(items[i].name, sizeof(items[i].name), "%s", s->name);
        snprintf(items[i].inst, sizeof(items[i].inst), "%s", s->inst);
        items[i].running = s->phase == ORCH__UP && s->have_inst && s->slot;
        items[i].lim = s->limits;
        items[i].slot = s->slot;
    }
    pthread_mutex_unlock(&p->mu);
    /* In waves of USAGE_THREADS_MAX; a thread that cannot start samples inline. */
    for (size_t base = 0; base < n; base += USAGE_THREADS_MAX) {
        pthread_t th[USAGE_THREADS_MAX];
        bool started[USAGE_THREADS_MAX] = {false};
        size_t m = n - base < USAGE_THREADS_MAX ? n - base : USAGE_THREADS_MAX;
        for (size_t k = 0; k < m; k++)
            if (items[base + k].running)
                started[k] = pthread_create(&th[k], NULL, sample_usage, &items[base + k]) == 0;
        for (size_t k = 0; k < m; k++) {
            if (started[k])
                pthread_join(th[k], NULL);
            else if (items[base + k].running)
                sample_usage(&items[base + k]);
        }
    }
    cc_err err = CC_OK;
    json_t *svcs = json_object();
    for (size_t i = 0; i < n && !err; i++) {
        struct usage_item *it = &items[i];
        json_t *lim = json_object();
        json_object_set_new(lim, "cpus", num_or_null(it->lim.cpus, it->lim.cpus > 0));
        json_object_set_new(lim, "memory", it->lim.memory > 0 ? json_integer(it->lim.memory)
                                                              : json_null());
        json_object_set_new(lim, "pids", it->lim.pids > 0 ? json_integer(it->lim.pids)
                                                          : json_null());
        json_t *o = json_pack("{s:o}", "limits", lim);
        json_t *usage = json_null();
        bool enforced = false;
        if (it->sampled) {
            if (it->r == CC_EUPSTREAM) {
                err = orch_errf(e, CC_EUPSTREAM,
                                it->de.hint[0] ? it->de.hint : UNAVAILABLE_HINT, "%s",
                                it->de.msg);
                json_decref(o);
                break;
            }
            if (!it->r) {
                struct orch_usage *u = &it->u;
                usage = json_pack("{s:f, s:I, s:I, s:I, s:I}", "cpu_percent", u->cpu_percent,
                                  "memory_bytes", (json_int_t)u->mem_bytes, "memory_limit",
                                  (json_int_t)u->mem_limit, "pids", (json_int_t)u->pids,
                                  "pids_limit", (json_int_t)u->pids_limit);
                enforced = u->enforced;
            }
        }
        json_object_set_new(o, "usage", usage);
        json_object_set_new(o, "enforced", json_boolean(enforced));
        json_object_set_new(svcs, it->name, o);
    }
    free(items);
    put_ref(p);
    if (err) {
        json_decref(svcs);
        return err;
    }
    *out = json_pack("{s:o}", "services", svcs);
    return CC_OK;
}

/* ---- logs ---- */

struct log_relay {
    orch_log_cb cb;
    void *arg;
    int64_t last_ts;
    bool stopped;
};

static bool relay_cb(void *arg, const struct orch_log_line *l)
{
    struct log_relay *r = arg;
    if (l->ts_ns > r->last_ts)
        r->last_ts = l->ts_ns;
    if (!r->cb(r->arg, l)) {
        r->stopped = true;
        return false;
    }
    return true;
}

cc_err orch_engine_reachable(struct orch_engine *eng, const char *name, const char *service,
                             struct orch_err *e)
{
    struct orch__project *p = find_ref(eng, name);
    if (!p)
        return orch_errf(e, CC_ENOTFOUND, "list projects to see the names", "no project %s",
                         name ? name : "");
    pthread_mutex_lock(&p->mu);
    struct orch__svc *s = service ? svc_by_name(p, service) : NULL;
    struct orch__slot *sl = s && s->slot ? s->slot : p->slot;
    if (!sl && strcmp(p->want_driver, "docker") == 0)   /* never started: the one it asks for */
        sl = &eng->docker;
    else if (!sl && strcmp(p->want_driver, "process") == 0)
        sl = &eng->process;
    pthread_mutex_unlock(&p->mu);
    put_ref(p);
    const struct orch_driver_ops *ops = NULL;
    if (sl) {
        pthread_mutex_lock(&eng->mu);   /* slot_get sets ops under it */
        ops = sl->ops;
        pthread_mutex_unlock(&eng->mu);
    }
    /* Open breaker: refused without spending a half-open trial. */
    if (ops && cc_breaker_retry_after_ms(&sl->br) > 0)
        return orch_errf(e, CC_EUPSTREAM, UNAVAILABLE_HINT, "engine unavailable (%s driver): "
                         "%.200s; next try in %lld ms", ops->name, sl->last_err,
                         (long long)cc_breaker_retry_after_ms(&sl->br));
    return CC_OK;
}

cc_err orch_engine_logs(struct orch_engine *eng, const char *name, const char *service,
                        const struct orch_log_query *q, orch_log_cb cb, void *arg,
                        struct orch_err *e)
{
    struct orch__project *p = find_ref(eng, name);
    if (!p)
        return orch_errf(e, CC_ENOTFOUND, "list projects to see the names", "no project %s",
                         name ? name : "");
    struct log_relay r = {.cb = cb, .arg = arg};
    struct orch_log_query lq = *q;
    cc_err err = CC_OK;
    bool first = true;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        struct orch__svc *s = svc_by_name(p, service);
        if (!s) {
            pthread_mutex_unlock(&p->mu);
            err = orch_errf(e, CC_ENOTFOUND, "see ps for the services", "project %s has no "
                            "service %s", p->name, service ? service : "");
            break;
        }
        char inst[160];
        snprintf(inst, sizeof(inst), "%s", s->have_inst ? s->inst : "");
        struct orch__slot *sl = s->slot;
        unsigned gen = s->gen;
        pthread_mutex_unlock(&p->mu);
        if (inst[0] && sl) {
            if (!first) {   /* continue after the last line seen, nothing twice */
                lq.tail = -1;
                if (r.last_ts)
                    lq.since_ns = r.last_ts + 1;
            }
            if (!slot_allow(sl, e)) {
                err = CC_EUPSTREAM;
                break;
            }
            err = sl->ops->logs(sl->drv, inst, &lq, relay_cb, &r, e);
            slot_note(sl, err, e);
            first = false;
            if (err == CC_ENOTFOUND && q->follow)
                err = CC_OK;   /* recreated meanwhile: pick the new one up */
            if (err)
                break;
        }
        if (!q->follow || r.stopped || (q->cancel && atomic_load(q->cancel)))
            break;
        /* wait for the next start of the service (a new generation running) */
        pthread_mutex_lock(&p->mu);
        for (;;) {
            if (q->cancel && atomic_load(q->cancel))
                break;
            s = svc_by_name(p, service);
            if (!s || (s->phase == ORCH__UP && s->gen != gen) ||
                (s->phase == ORCH__UP && s->have_inst && strcmp(s->inst, inst) != 0))
                break;
            if (s->phase == ORCH__UP && !inst[0])
                break;
            wait_ms(&p->cv, &p->mu, 200);
        }
        pthread_mutex_unlock(&p->mu);
        if (q->cancel && atomic_load(q->cancel))
            break;
    }
    put_ref(p);
    return err;
}
