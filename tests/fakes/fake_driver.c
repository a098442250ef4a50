/*
 * fake_driver.c - the scripted in-memory driver (see fake_driver.h).
 */
#include "fakes/fake_driver.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct fake_driver *installed;

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void fake_driver_init(struct fake_driver *f)
{
    memset(f, 0, sizeof(*f));
    f->base.ops = &fake_driver_ops;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
}

void fake_driver_release(struct fake_driver *f)
{
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
}

void fake_driver_install(struct fake_driver *f) { installed = f; }
void fake_driver_lock(struct fake_driver *f) { pthread_mutex_lock(&f->mu); }
void fake_driver_unlock(struct fake_driver *f) { pthread_mutex_unlock(&f->mu); }

static struct fake_script *script_locked(struct fake_driver *f, const char *service)
{
    for (unsigned i = 0; i < f->nscripts; i++)
        if (strcmp(f->scripts[i].service, service) == 0)
            return &f->scripts[i];
    if (f->nscripts >= FAKE_DRV_MAX_SCRIPTS)
        return NULL;
    struct fake_script *s = &f->scripts[f->nscripts++];
    memset(s, 0, sizeof(*s));
    snprintf(s->service, sizeof(s->service), "%s", service);
    return s;
}

struct fake_script *fake_driver_script(struct fake_driver *f, const char *service)
{
    pthread_mutex_lock(&f->mu);
    struct fake_script *s = script_locked(f, service);
    pthread_mutex_unlock(&f->mu);
    return s;
}

void fake_driver_set_down(struct fake_driver *f, bool down, int64_t delay_ms)
{
    pthread_mutex_lock(&f->mu);
    f->down = down;
    f->down_delay_ms = delay_ms;
    pthread_mutex_unlock(&f->mu);
}

void fake_driver_set_exec(struct fake_driver *f, const char *service, int exit_code,
                          const char *output)
{
    pthread_mutex_lock(&f->mu);
    struct fake_script *s = script_locked(f, service);
    if (s) {
        s->exec_exit = exit_code;
        snprintf(s->exec_output, sizeof(s->exec_output), "%s", output ? output : "");
    }
    pthread_mutex_unlock(&f->mu);
}

static void log_call(struct fake_driver *f, const char *op, const char *what)
{
    if (f->ncalls >= FAKE_DRV_MAX_CALLS)
        return;
    snprintf(f->calls[f->ncalls], sizeof(f->calls[0]), "%s %s", op, what ? what : "");
    f->call_ms[f->ncalls] = wall_ms();
    f->ncalls++;
}

/* Locks f; CC_EUPSTREAM (unlocked again) when the engine is "down". */
static cc_err enter(struct fake_driver *f, struct orch_err *e)
{
    pthread_mutex_lock(&f->mu);
    if (!f->down)
        return CC_OK;
    int64_t delay = f->down_delay_ms;
    pthread_mutex_unlock(&f->mu);
    if (delay > 0)
        usleep((useconds_t)(delay * 1000));
    return orch_errf(e, CC_EUPSTREAM, "start the engine", "fake engine: connection refused");
}

static struct fake_inst *by_id(struct fake_driver *f, const char *id)
{
    for (unsigned i = 0; i < FAKE_DRV_MAX_INST; i++)
        if (f->inst[i].used && strcmp(f->inst[i].id, id) == 0)
            return &f->inst[i];
    return NULL;
}

static struct fake_inst *by_name(struct fake_driver *f, const char *project, const char *service)
{
    for (unsigned i = 0; i < FAKE_DRV_MAX_INST; i++)
        if (f->inst[i].used && strcmp(f->inst[i].project, project) == 0 &&
            strcmp(f->inst[i].service, service) == 0)
            return &f->inst[i];
    return NULL;
}

static void to_inst(const struct fake_inst *in, struct orch_inst *o)
{
    *o = (struct orch_inst){.id = in->id, .project = in->project, .service = in->service,
                            .config_hash = in->hash, .state = in->state,
                            .exit_code = in->exit_code, .oom_killed = in->oom,
                            .started_ms = in->started_ms, .finished_ms = in->finished_ms,
                            .pid = in->state == ORCH_RUN_RUNNING ? 4242 : 0};
}

static cc_err f_open(const struct orch_driver_cfg *cfg, struct orch_driver **out,
                     struct orch_err *e)
{
    (void)cfg;
    if (!installed)
        return orch_errf(e, CC_EUNSUPPORTED, "install a fake first", "no fake driver");
    pthread_mutex_lock(&installed->mu);
    installed->opens++;
    pthread_mutex_unlock(&installed->mu);
    *out = &installed->base;
    return CC_OK;
}

static void f_close(struct orch_driver *d) { (void)d; }

static cc_err f_ping(struct orch_driver *d, struct orch_err *e)
{
    struct fake_driver *f = (struct fake_driver *)d;
    cc_err err = enter(f, e);
    if (err)
        return err;
    pthread_mutex_unlock(&f->mu);
    return CC_OK;
}

static cc_err f_prepare(struct orch_driver *d, const char *project, const struct orch_stack *s,
                        orch_progress_cb cb, void *arg, struct orch_err *e)
{
    (void)s;
    struct fake_driver *f = (struct fake_driver *)d;
    cc_err err = enter(f, e);
    if (err)
        return err;
    f->prepares++;
    log_call(f, "prepare", project);
    pthread_mutex_unlock(&f->mu);
    if (cb)
        cb(arg, "prepared");
    return CC_OK;
}

static cc_err f_teardown(struct orch_driver *d, const char *project, const struct orch_stack *s,
                         struct orch_err *e)
{
    (void)s;
    struct fake_driver *f = (struct fake_driver *)d;
    cc_err err = enter(f, e);
    if (err)
        return err;
    f->teardowns++;
    log_call(f, "teardown", project);
    pthread_mutex_unlock(&f->mu);
    return CC_OK;
}

static cc_err f_create(struct orch_driver *d, const struct orch_spec *spec, orch_inst_cb cb,
                       void *arg, struct orch_err *e)
{
    struct fake_driver *f = (struct fake_driver *)d;
    cc_err err = enter(f, e);
    if (err)
        return err;
    struct fake_script *sc = script_locked(f, spec->svc->name);
    if (sc && sc->create_err) {
        err = sc->create_err;
        pthread_mutex_unlock(&f->mu);
        return orch_errf(e, err, "fix the service's image", "image \"%s\" refused",
                         spec->svc->image ? spec->svc->image : "?");
    }
    struct fake_inst *in = by_name(f, spec->project, spec->svc->name);
    if (in)
        in->used = false;   /* "an existing one ... is removed first" */
    in = NULL;
    for (unsigned i = 0; i < FAKE_DRV_MAX_INST && !in; i++)
        if (!f->inst[i].used)
            in = &f->inst[i];
    if (!in) {
        pthread_mutex_unlock(&f->mu);
        return orch_errf(e, CC_ELIMIT, NULL, "fake: too many instances");
    }
    memset(in, 0, sizeof(*in));
    in->used = true;
    snprintf(in->id, sizeof(in->id), "fake-%u-%s", ++f->next_id, spec->svc->name);
    snprintf(in->project, sizeof(in->project), "%s", spec->project);
    snprintf(in->service, sizeof(in->service), "%s", spec->svc->name);
    snprintf(in->hash, sizeof(in->hash), "%s", spec->config_hash);
    in->state = ORCH_RUN_CREATED;
    in->limits = spec->limits;
    log_call(f, "create", spec->svc->name);
    struct orch_inst o;
    to_inst(in, &o);
    if (cb)
        cb(arg, &o);
    pthread_mutex_unlock(&f->mu);
    return CC_OK;
}

static cc_err f_start(struct orch_driver *d, const char *id, struct orch_err *e)
{
    struct fake_driver *f = (struct fake_driver *)d;
    cc_err err = enter(f, e);
    if (err)
        return err;
    struct fake_inst *in = by_id(f, id);
    if (!in) {
        pthread_mutex_unlock(&f->mu);
        return orch_errf(e, CC_ENOTFOUND, NULL, "no instance %s", id);
    }
    struct fake_script *sc = script_locked(f, in->service);
    in->starts++;
    in->started_ms = wall_ms();
    in->finished_ms = 0;
    in->oom = false;
    if (sc && sc->exit_on_start) {
        in->state = ORCH_RUN_EXITED;
        in->exit_code = sc->exit_code;
        in->finished_ms = in->started_ms;
    } else {
        in->state = ORCH_RUN_RUNNING;
        in->exit_code = 0;
    }
    log_call(f, "start", in->service);
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    return CC_OK;
}

static cc_err f_stop(struct orch_driver *d, const char *id, int64_t grace_ns, struct orch_err *e)
{
    struct fake_driver *f = (struct fake_driver *)d;
    cc_err err = enter(f, e);
    if (err)
        return err;
    struct fake_inst *in = by_id(f, id);
    if (!in) {
        pthread_mutex_unlock(&f->mu);
        return orch_errf(e, CC_ENOTFOUND, NULL, "no instance %s", id);
    }
    if (in->state == ORCH_RUN_RUNNING) {
        in->state = ORCH_RUN_EXITED;
        in->exit_code = 143;
        in->finished_ms = wall_ms();
    }
    in->grace_ns = grace_ns;
    log_call(f, "stop", in->service);
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    return CC_OK;
}

static cc_err f_remove(struct orch_driver *d, const char *id, struct orch_err *e)
{
    struct fake_driver *f = (struct fake_driver *)d;
    cc_err err = enter(f, e);
    if (err)
        return err;
    struct fake_inst *in = by_id(f, id);
    if (in) {
        log_call(f, "remove", in->service);
        in->used = false;
    }
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    return in ? CC_OK : orch_errf(e, CC_ENOTFOUND, NULL, "no instance %s", id);
}

static cc_err f_inspect(struct orch_driver *d, const char *id, orch_inst_cb cb, void *arg,
                        struct orch_err *e)
{
    struct fake_driver *f = (struct fake_driver *)d;
    cc_err err = enter(f, e);
    if (err)
        return err;
    struct fake_inst *in = by_id(f, id);
    if (in) {
        struct orch_inst o;
        to_inst(in, &o);
        cb(arg, &o);
    }
    pthread_mutex_unlock(&f->mu);
    return in ? CC_OK : orch_errf(e, CC_ENOTFOUND, NULL, "no instance %s", id);
}

static cc_err f_list(struct orch_driver *d, const char *project, orch_inst_cb cb, void *arg,
                     struct orch_err *e)
{
    struct fake_driver *f = (struct fake_driver *)d;
    cc_err err = enter(f, e);
    if (err)
        return err;
    log_call(f, "list", project);
    for (unsigned i = 0; i < FAKE_DRV_MAX_INST; i++) {
        if (!f->inst[i].used || (project && strcmp(f->inst[i].project, project) != 0))
            continue;
        struct orch_inst o;
        to_inst(&f->inst[i], &o);
        cb(arg, &o);
    }
    pthread_mutex_unlock(&f->mu);
    return CC_OK;
}

static cc_err f_exec(struct orch_driver *d, const char *id, char *const argv[],
                     int64_t timeout_ns, struct orch_exec_result *out, struct orch_err *e)
{
    (void)timeout_ns;
    struct fake_driver *f = (struct fake_driver *)d;
    cc_err err = enter(f, e);
    if (err)
        return err;
    struct fake_inst *in = by_id(f, id);
    if (!in || in->state != ORCH_RUN_RUNNING) {
        pthread_mutex_unlock(&f->mu);
        return orch_errf(e, CC_EINVAL, NULL, "instance %s is not running", id);
    }
    struct fake_script *sc = script_locked(f, in->service);
    memset(out, 0, sizeof(*out));
    out->exit_code = sc ? sc->exec_exit : 0;
    snprintf(out->output, sizeof(out->output), "%s: %s\n", argv[0],
             sc && sc->exec_output[0] ? sc->exec_output : (out->exit_code ? "failing" : "ok"));
    out->len = strlen(out->output);
    log_call(f, "exec", in->service);
    pthread_mutex_unlock(&f->mu);
    return CC_OK;
}

static cc_err f_logs(struct orch_driver *d, const char *id, const struct orch_log_query *q,
                     orch_log_cb cb, void *arg, struct orch_err *e)
{
    struct fake_driver *f = (struct fake_driver *)d;
    cc_err err = enter(f, e);
    if (err)
        return err;
    unsigned next = 0;
    struct fake_inst *in = by_id(f, id);
    if (!in) {
        pthread_mutex_unlock(&f->mu);
        return orch_errf(e, CC_ENOTFOUND, NULL, "no instance %s", id);
    }
    if (q->tail >= 0 && in->nlines > (unsigned)q->tail)
        next = in->nlines - (unsigned)q->tail;
    for (;;) {
        in = by_id(f, id);
        if (!in)
            break;
        while (next < in->nlines) {
            unsigned k = next++;
            if (q->since_ns && in->line_ts[k] < q->since_ns)
                continue;
            if (q->until_ns && in->line_ts[k] > q->until_ns)
                continue;
            char text[64];
            memcpy(text, in->line[k], sizeof(text));
            struct orch_log_line l = {.stream = ORCH_STDOUT, .ts_ns = in->line_ts[k],
                                      .text = text, .len = strlen(text)};
            pthread_mutex_unlock(&f->mu);
            bool go = cb(arg, &l);
            pthread_mutex_lock(&f->mu);
            if (!go)
                goto out;
            in = by_id(f, id);
            if (!in)
                goto out;
        }
        if (!q->follow || in->state != ORCH_RUN_RUNNING ||
            (q->cancel && atomic_load(q->cancel)))
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&f->cv, &f->mu, &ts);
    }
out:
    pthread_mutex_unlock(&f->mu);
    return CC_OK;
}

static cc_err f_stats(struct orch_driver *d, const char *id, struct orch_usage *out,
                      struct orch_err *e)
{
    struct fake_driver *f = (struct fake_driver *)d;
    cc_err err = enter(f, e);
    if (err)
        return err;
    struct fake_inst *in = by_id(f, id);
    if (in) {
        struct fake_script *sc = script_locked(f, in->service);
        *out = sc ? sc->usage : (struct orch_usage){0};
        if (!out->mem_limit && in->limits.memory > 0)
            out->mem_limit = in->limits.memory;
        if (!out->pids_limit && in->limits.pids > 0)
            out->pids_limit = in->limits.pids;
    }
    pthread_mutex_unlock(&f->mu);
    return in ? CC_OK : orch_errf(e, CC_ENOTFOUND, NULL, "no instance %s", id);
}

static cc_err f_endpoint(struct orch_driver *d, const char *id, unsigned port, char *host,
                         size_t hostsz, unsigned *port_out, struct orch_err *e)
{
    (void)port;
    struct fake_driver *f = (struct fake_driver *)d;
    cc_err err = enter(f, e);
    if (err)
        return err;
    struct fake_inst *in = by_id(f, id);
    struct fake_script *sc = in ? script_locked(f, in->service) : NULL;
    unsigned p = sc ? sc->http_port : 0;
    pthread_mutex_unlock(&f->mu);
    if (!in)
        return orch_errf(e, CC_ENOTFOUND, NULL, "no instance %s", id);
    if (!p)
        return orch_errf(e, CC_EUNSUPPORTED, NULL, "no endpoint scripted");
    snprintf(host, hostsz, "127.0.0.1");
    *port_out = p;
    return CC_OK;
}

bool fake_driver_kill(struct fake_driver *f, const char *project, const char *service, int code,
                      bool oom)
{
    pthread_mutex_lock(&f->mu);
    struct fake_inst *in = by_name(f, project, service);
    bool ok = in && in->state == ORCH_RUN_RUNNING;
    if (ok) {
        in->state = ORCH_RUN_EXITED;
        in->exit_code = oom ? 137 : code;
        in->oom = oom;
        in->finished_ms = wall_ms();
        log_call(f, "died", service);
        pthread_cond_broadcast(&f->cv);
    }
    pthread_mutex_unlock(&f->mu);
    return ok;
}

bool fake_driver_log(struct fake_driver *f, const char *project, const char *service,
                     const char *text)
{
    pthread_mutex_lock(&f->mu);
    struct fake_inst *in = by_name(f, project, service);
    bool ok = in && in->nlines < FAKE_DRV_MAX_LINES;
    if (ok) {
        snprintf(in->line[in->nlines], sizeof(in->line[0]), "%s", text);
        int64_t ts = wall_ns();
        if (in->nlines && ts <= in->line_ts[in->nlines - 1])
            ts = in->line_ts[in->nlines - 1] + 1;
        in->line_ts[in->nlines++] = ts;
        pthread_cond_broadcast(&f->cv);
    }
    pthread_mutex_unlock(&f->mu);
    return ok;
}

bool fake_driver_inst(struct fake_driver *f, const char *project, const char *service,
                      struct fake_inst *out)
{
    pthread_mutex_lock(&f->mu);
    struct fake_inst *in = by_name(f, project, service);
    if (in)
        memcpy(out, in, sizeof(*out));
    pthread_mutex_unlock(&f->mu);
    return in != NULL;
}

int fake_driver_find_call(struct fake_driver *f, const char *text, unsigned from)
{
    int r = -1;
    pthread_mutex_lock(&f->mu);
    for (unsigned i = from; i < f->ncalls && r < 0; i++)
        if (strcmp(f->calls[i], text) == 0)
            r = (int)i;
    pthread_mutex_unlock(&f->mu);
    return r;
}

unsigned fake_driver_count_calls(struct fake_driver *f, const char *text)
{
    unsigned n = 0;
    pthread_mutex_lock(&f->mu);
    for (unsigned i = 0; i < f->ncalls; i++)
        n += strcmp(f->calls[i], text) == 0;
    pthread_mutex_unlock(&f->mu);
    return n;
}

int64_t fake_driver_call_ms(struct fake_driver *f, int idx)
{
    pthread_mutex_lock(&f->mu);
    int64_t v = idx >= 0 && (unsigned)idx < f->ncalls ? f->call_ms[idx] : -1;
    pthread_mutex_unlock(&f->mu);
    return v;
}

#define FAKE_OPS(NAME)                                                                   \
    {.name = NAME, .open = f_open, .close = f_close, .ping = f_ping, .prepare = f_prepare, \
     .teardown = f_teardown, .create = f_create, .start = f_start, .stop = f_stop,        \
     .remove = f_remove, .inspect = f_inspect, .list = f_list, .exec = f_exec,            \
     .logs = f_logs, .stats = f_stats, .endpoint = f_endpoint}

const struct orch_driver_ops fake_driver_ops = FAKE_OPS("docker");
const struct orch_driver_ops fake_process_ops = FAKE_OPS("process");
