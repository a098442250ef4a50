/*
 * engine.c - the engine's public API (engine.h): projects, their lookup
 * and references, events, persistence, re-adoption at start-up, and the
 * views. The supervisor is engine_sup.c (with its driver calls in
 * engine_run.c), drivers engine_slot.c, service specs engine_spec.c, log
 * streams engine_logs.c; engine_int.h has the locking rules.
 */
#define _GNU_SOURCE
#include "orchestrator/engine_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/ctx.h"
#include "core/log.h"
#include "observe/metrics.h"
#include "store/store.h"

int64_t orch__now(const struct orch_engine *eng) { return cc_mono_ms(eng->clock); }
int64_t orch__now_wall(const struct orch_engine *eng) { return cc_wall_ms(eng->clock); }

struct cc_log *orch__log(const struct orch_engine *eng)
{
    return eng->ctx ? eng->ctx->log : NULL;
}

/* ---------------------------------------------------------------------------
 * events
 */

void orch__emit(struct orch__project *p, const char *state, const char *service,
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
    cc_log_info(orch__log(p->eng), "orchestrator", ev->message, CC_LS("event", kind),
                CC_LS("project", p->name), CC_LS("service", ev->service));
}

/* Hands queued events to on_event; called without p->mu. */
void orch__flush_events(struct orch__project *p)
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
 * projects: lookup and references
 */

struct orch__project *orch__project_ref(struct orch_engine *eng, const char *name)
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
    orch__svcs_free(p->svcs, p->nsvcs);
    orch__svcs_free(p->next_svcs, p->next_n);
    orch_stack_free(p->stack);
    orch_stack_free(p->next_stack);
    pthread_mutex_destroy(&p->op_mu);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->ev_mu);
    pthread_cond_destroy(&p->cv);
    free(p->evq);
    free(p->compose_path);
    free(p->env_json);
    orch__env_free(p->envp);
    free(p);
}

void orch__project_put(struct orch__project *p)
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
    snprintf(p->want_driver, sizeof(p->want_driver), "%s", eng->conf->orchestrator.driver);
    pthread_mutex_init(&p->op_mu, NULL);
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->ev_mu, NULL);
    if (cc_clock_cond_init(&p->cv) != 0)
        abort();
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

struct orch__svc *orch__svc_find(struct orch__project *p, const char *name)
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
                               .spec_json = spec, .state = state, .env_json = p->env_json,
                               .created_ms = p->created_ms, .updated_ms = orch__now_wall(p->eng)};
    cc_err err = s->ops->project_update(s, &sp);
    if (err)
        cc_log_warn(orch__log(p->eng), "orchestrator", "cannot record the project's state",
                    CC_LS("project", p->name), CC_LS("error", cc_err_str(err)));
    free(spec);
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
    cc_err err = orch__spec_load(eng, p->compose_path, p->name, p->envp, &st, &svcs, NULL, &e);
    if (err) {
        cc_log_error(orch__log(eng), "orchestrator", "cannot re-adopt project: its compose file "
                     "does not load", CC_LS("project", p->name), CC_LS("error", e.msg));
        p->up = true;   /* stays desired; the next up retries */
        return;
    }
    /* the driver it ran on, recorded at up */
    const char *want = orch__stack_driver(st) ? orch__stack_driver(st) : p->want_driver;
    json_t *spec = spec_json ? json_loads(spec_json, 0, NULL) : NULL;
    const char *rec = json_string_value(json_object_get(json_object_get(spec, "x-commandcenter"),
                                                        "driver"));
    if (rec)
        want = rec;
    struct orch__slot *sl = NULL;
    sl = orch__slot_lookup(eng, want);   /* auto: the registry's first, unpinged */
    err = orch__slot_resolve(eng, sl ? sl->want->name : want, &sl, &e);
    if (!err)
        err = orch__slots_assign(eng, sl, svcs, st->nservices, &e);
    json_decref(spec);
    if (err) {
        cc_log_error(orch__log(eng), "orchestrator", "cannot re-adopt project: driver unavailable",
                     CC_LS("project", p->name), CC_LS("error", e.msg));
        orch__svcs_free(svcs, st->nservices);
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
    orch__sup_thread_start(p, &e);
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
    struct orch_err e = {0};
    if (orch__env_parse(sp->env_json, &p->envp, &e) == CC_OK)
        p->env_json = sp->env_json && *sp->env_json ? cc_xstrdup(sp->env_json) : NULL;
    else
        cc_log_warn(orch__log(l->eng), "orchestrator", "a project's kept variables are "
                    "unreadable; it loads without them", CC_LS("project", sp->name),
                    CC_LS("error", e.msg));
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
    cc_config_init(&eng->own_conf);
    eng->conf = cfg->ctx && cfg->ctx->cfg ? cfg->ctx->cfg : &eng->own_conf;
    eng->state_dir = cc_xstrdup(cfg->state_dir ? cfg->state_dir : "");
    eng->self_exe = cc_xstrdup(cfg->self_exe ? cfg->self_exe : "");
    eng->cfg.state_dir = eng->state_dir;
    eng->cfg.self_exe = eng->self_exe;
    pthread_mutex_init(&eng->mu, NULL);
    orch__slots_init(eng);
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
        orch__sup_thread_join(p);
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
        /* other threads on their way out: real time, whatever the engine's clock */
        cc_clock_system()->sleep_ms(cc_clock_system(), 10);
    }
    for (size_t i = 0; i < eng->nprojects; i++)
        project_free(eng->projects[i]);
    free(eng->projects);
    orch__slots_release(eng);
    cc_config_release(&eng->own_conf);
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
                            const char *env_json, json_t **warnings, char *name_out, size_t name_outsz,
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
    char **envp = NULL;
    cc_err err = orch__env_parse(env_json, &envp, e);
    if (!err)
        err = orch__spec_load(eng, abs, NULL, envp, &st, &svcs, d, e);
    if (err) {
        orch__env_free(envp);
        free(abs);
        return err;
    }
    const char *pname = name && *name ? name : st->name;
    struct orch__project *p = NULL;
    if ((p = orch__project_ref(eng, pname))) {
        orch__project_put(p);
        err = orch_errf(e, CC_ECONFLICT, "choose another name or unregister the old one",
                        "a project named %s exists", pname);
        goto out;
    }
    p = project_new(eng, pname, abs);
    p->created_ms = orch__now_wall(eng);
    if (orch__stack_driver(st))
        snprintf(p->want_driver, sizeof(p->want_driver), "%s", orch__stack_driver(st));
    struct store *s = estore(eng);
    if (s) {
        struct store_project sp = {.name = pname, .compose_path = abs, .state = "down",
                                   .env_json = envp ? env_json : NULL,
                                   .created_ms = p->created_ms, .updated_ms = p->created_ms};
        err = s->ops->project_insert(s, &sp, &p->id);
        if (err) {
            project_free(p);
            err = orch_errf(e, err, err == CC_ECONFLICT ? "choose another name" : "check the "
                            "store", "cannot record project %s: %s", pname, cc_err_str(err));
            goto out;
        }
    }
    p->envp = envp;
    p->env_json = envp ? cc_xstrdup(env_json) : NULL;
    envp = NULL;
    p->refs = 1;
    project_add(eng, p);
    if (warnings)
        *warnings = warnings_json(st);
    if (name_out && name_outsz)
        snprintf(name_out, name_outsz, "%s", pname);
out:
    orch__env_free(envp);
    orch__svcs_free(svcs, st->nservices);
    orch_stack_free(st);
    free(abs);
    return err;
}

cc_err orch_engine_unregister(struct orch_engine *eng, const char *name, struct orch_err *e)
{
    struct orch__project *p = orch__project_ref(eng, name);
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
    orch__project_put(p);
    return err;
}

cc_err orch_engine_up(struct orch_engine *eng, const char *name, const char *env_json,
                      struct orch_err *e)
{
    struct orch__project *p = orch__project_ref(eng, name);
    if (!p)
        return orch_errf(e, CC_ENOTFOUND, "register it first", "no project %s", name ? name : "");
    pthread_mutex_lock(&p->op_mu);
    struct orch_stack *st = NULL;
    struct orch__svc *svcs = NULL;
    struct orch__slot *sl = NULL;
    char **envp = NULL;
    cc_err err = env_json ? orch__env_parse(env_json, &envp, e) : CC_OK;
    if (!err)
        err = orch__spec_load(eng, p->compose_path, p->name, env_json ? envp : p->envp, &st,
                              &svcs, NULL, e);
    if (err)
        goto out;
    if (env_json) {     /* the file loads with them: they are the project's now */
        orch__env_free(p->envp);
        free(p->env_json);
        p->envp = envp;
        p->env_json = envp ? cc_xstrdup(env_json) : NULL;
        envp = NULL;
    }
    pthread_mutex_lock(&p->mu);
    bool running = p->thr_running;
    sl = p->slot;
    pthread_mutex_unlock(&p->mu);
    char want[16];
    snprintf(want, sizeof(want), "%s",
             orch__stack_driver(st) ? orch__stack_driver(st) : p->want_driver);
    if (!running || !sl) {
        memcpy(p->want_driver, want, sizeof(want));
        if ((err = orch__slot_resolve(eng, want, &sl, e)))
            goto out;
    }
    /* answer at once while the engine is known to be down */
    if ((err = orch__slot_ping(sl, e)))
        goto out;
    if ((err = orch__slots_assign(eng, sl, svcs, st->nservices, e)))
        goto out;
    pthread_mutex_lock(&p->mu);
    p->slot = sl;
    if (running) {
        orch__svcs_free(p->next_svcs, p->next_n);
        orch_stack_free(p->next_stack);
        p->next_stack = st;
        p->next_svcs = svcs;
        p->next_n = st->nservices;
        p->reconcile = true;
        p->kick = true;
        pthread_cond_broadcast(&p->cv);
    } else {
        orch__svcs_free(p->svcs, p->nsvcs);
        orch_stack_free(p->stack);
        p->stack = st;
        p->svcs = svcs;
        p->nsvcs = st->nservices;
        p->up = true;
        err = orch__sup_thread_start(p, e);
    }
    pthread_mutex_unlock(&p->mu);
    if (!err)
        persist(p, "up", st);
    st = NULL;
    svcs = NULL;
out:
    orch__env_free(envp);
    if (st)
        orch__svcs_free(svcs, st->nservices);
    orch_stack_free(st);
    pthread_mutex_unlock(&p->op_mu);
    orch__project_put(p);
    return err;
}

cc_err orch_engine_down(struct orch_engine *eng, const char *name, struct orch_err *e)
{
    struct orch__project *p = orch__project_ref(eng, name);
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
        orch__sup_thread_join(p);
    } else if (p->slot || p->nsvcs) {
        /* not supervised (e.g. never adopted): stop what we know of */
        pthread_mutex_lock(&p->mu);
        bool have = false;
        for (size_t i = 0; i < p->nsvcs; i++)
            have = have || (p->svcs[i].inst[0] && p->svcs[i].slot);
        if (have)
            orch__sup_down(p);
        pthread_mutex_unlock(&p->mu);
        orch__flush_events(p);
    }
    persist(p, "down", NULL);
    pthread_mutex_unlock(&p->op_mu);
    orch__project_put(p);
    return err;
}

cc_err orch_engine_restart(struct orch_engine *eng, const char *name, const char *service,
                           struct orch_err *e)
{
    struct orch__project *p = orch__project_ref(eng, name);
    if (!p)
        return orch_errf(e, CC_ENOTFOUND, "list projects to see the names", "no project %s",
                         name ? name : "");
    cc_err err = CC_OK;
    pthread_mutex_lock(&p->mu);
    struct orch__svc *s = orch__svc_find(p, service);
    if (!s) {
        err = orch_errf(e, CC_ENOTFOUND, "see ps for the services", "project %s has no "
                        "service %s", p->name, service ? service : "");
    } else if (!p->up || !p->thr_running) {
        err = orch_errf(e, CC_ESTATE, "run up first", "project %s is down", p->name);
    } else {
        orch__sup_reset(&s->sup);
        s->posted |= ORCH__POST_RESTART;
        p->kick = true;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    orch__project_put(p);
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

static json_t *project_locked(struct orch__project *p)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:o}", "name", p->name, "compose_path",
                     p->compose_path, "driver", driver_name(p), "state",
                     orch__project_state(p), "services", ps_locked(p));
}

static json_t *health_locked(struct orch__project *p)
{
    return orch__health_json(p, orch__now_wall(p->eng));
}

/* A JSON view of one project, built under its lock. */
static cc_err view(struct orch_engine *eng, const char *name,
                   json_t *(*build)(struct orch__project *p), json_t **out)
{
    struct orch__project *p = orch__project_ref(eng, name);
    if (!p)
        return CC_ENOTFOUND;
    pthread_mutex_lock(&p->mu);
    *out = build(p);
    pthread_mutex_unlock(&p->mu);
    orch__project_put(p);
    return CC_OK;
}

cc_err orch_engine_project(struct orch_engine *eng, const char *name, json_t **out)
{
    return view(eng, name, project_locked, out);
}

cc_err orch_engine_ps(struct orch_engine *eng, const char *name, json_t **out)
{
    return view(eng, name, ps_locked, out);
}

cc_err orch_engine_health(struct orch_engine *eng, const char *name, json_t **out)
{
    return view(eng, name, health_locked, out);
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
    if (orch__slot_allow(it->slot, &it->de)) {
        it->r = it->slot->ops->stats(it->slot->drv, it->inst, &it->u, &it->de);
        orch__slot_note(it->slot, it->r, &it->de);
    }
    it->sampled = true;
    return NULL;
}

#define USAGE_THREADS_MAX 32

cc_err orch_engine_resources(struct orch_engine *eng, const char *name, json_t **out,
                             struct orch_err *e)
{
    struct orch__project *p = orch__project_ref(eng, name);
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
        items[i].running = s->state == ORCH_S_UP && s->inst[0] && s->slot;
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
                                it->de.hint[0] ? it->de.hint : ORCH__UNAVAILABLE_HINT, "%s",
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
    orch__project_put(p);
    if (err) {
        json_decref(svcs);
        return err;
    }
    *out = json_pack("{s:o}", "services", svcs);
    return CC_OK;
}

