/*
 * engine_slot.c - driver slots: one per entry of the driver registry
 * (orch_engine_cfg.drivers, else orch_drivers), opened on first use and
 * shared by every project, each with a breaker so that a dead engine is
 * answered at once with "engine unavailable" instead of a wait.
 *
 * A driver is found by its name only through orch_driver_find; `auto`
 * means the registry's order of preference (the first whose engine
 * answers its ping).
 */
#include "orchestrator/engine_int.h"

#include <stdio.h>
#include <string.h>

#include "core/ctx.h"

/* two transient failures in a row open it for 5 s (docs/ORCHESTRATION.md) */
static const struct cc_breaker_cfg slot_breaker = {
    .failure_threshold = 2, .open_ms = 5000, .half_open_max = 1};

void orch__slots_init(struct orch_engine *eng)
{
    const struct orch_driver_ops *const *reg = eng->cfg.drivers ? eng->cfg.drivers
                                                                : orch_drivers;
    eng->cfg.drivers = reg;
    for (size_t i = 0; reg[i] && eng->nslots < ORCH__DRIVERS_MAX; i++) {
        struct orch__slot *sl = &eng->slots[eng->nslots++];
        sl->want = reg[i];
        cc_breaker_init(&sl->br, &slot_breaker, eng->clock);
        pthread_mutex_init(&sl->err_mu, NULL);
    }
}

void orch__slots_release(struct orch_engine *eng)
{
    for (size_t i = 0; i < eng->nslots; i++) {
        struct orch__slot *sl = &eng->slots[i];
        if (sl->ops)
            sl->ops->close(sl->drv);
        cc_breaker_release(&sl->br);
        pthread_mutex_destroy(&sl->err_mu);
    }
    eng->nslots = 0;
}

static bool is_auto(const char *name)
{
    return name && strcmp(name, ORCH_DRIVER_AUTO) == 0;
}

bool orch__driver_known(const struct orch_engine *eng, const char *name)
{
    return is_auto(name) || orch_driver_find(eng->cfg.drivers, name) != NULL;
}

struct orch__slot *orch__slot_lookup(struct orch_engine *eng, const char *name)
{
    if (is_auto(name))
        return eng->nslots ? &eng->slots[0] : NULL;
    const struct orch_driver_ops *ops = orch_driver_find(eng->cfg.drivers, name);
    for (size_t i = 0; ops && i < eng->nslots; i++)
        if (eng->slots[i].want == ops)
            return &eng->slots[i];
    return NULL;
}

cc_err orch__slot_unreachable(struct orch__slot *sl, struct orch_err *e)
{
    pthread_mutex_lock(&sl->err_mu);
    orch_errf(e, CC_EUPSTREAM, ORCH__UNAVAILABLE_HINT, "engine unavailable (%s driver): "
              "%.200s; next try in %lld ms", sl->want->name, sl->last_err,
              (long long)cc_breaker_retry_after_ms(&sl->br));
    pthread_mutex_unlock(&sl->err_mu);
    return CC_EUPSTREAM;
}

bool orch__slot_allow(struct orch__slot *sl, struct orch_err *e)
{
    if (cc_breaker_allow(&sl->br))
        return true;
    orch__slot_unreachable(sl, e);
    return false;
}

void orch__slot_note(struct orch__slot *sl, cc_err err, const struct orch_err *e)
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

/* Opens sl's driver on first use. */
static cc_err slot_open(struct orch_engine *eng, struct orch__slot *sl, struct orch_err *e)
{
    const struct cc_config *c = eng->conf;
    pthread_mutex_lock(&eng->mu);
    cc_err err = CC_OK;
    if (!sl->drv) {
        struct orch_driver_cfg dc = {
            .docker_host = c->orchestrator.docker_host,
            .state_dir = eng->state_dir,
            .log_max_bytes = c->orchestrator.log_max_bytes,
            .log_files = c->orchestrator.log_files,
            .self_exe = eng->self_exe,
            .log = orch__log(eng),
        };
        err = sl->want->open(&dc, &sl->drv, e);
        if (!err)
            sl->ops = sl->want;
    }
    pthread_mutex_unlock(&eng->mu);
    return err;
}

cc_err orch__slot_ping(struct orch__slot *sl, struct orch_err *e)
{
    if (!orch__slot_allow(sl, e))
        return CC_EUPSTREAM;
    cc_err err = sl->ops->ping(sl->drv, e);
    orch__slot_note(sl, err, e);
    return err;
}

/* auto: the first driver of the registry that opens and answers. */
static cc_err resolve_auto(struct orch_engine *eng, struct orch__slot **out, struct orch_err *e)
{
    char why[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < eng->nslots; i++) {
        struct orch__slot *sl = &eng->slots[i];
        struct orch_err de = {0};
        cc_err err = slot_open(eng, sl, &de);
        if (!err && !(err = orch__slot_ping(sl, &de))) {
            *out = sl;
            return CC_OK;
        }
        int n = snprintf(why + used, sizeof(why) - used, "%s%s: %.200s", used ? "; " : "",
                         sl->want->name, de.msg);
        if (n > 0 && (size_t)n < sizeof(why) - used)
            used += (size_t)n;
        if (i + 1 == eng->nslots)
            return orch_errf(e, CC_EUPSTREAM, de.hint, "no driver available: %s", why);
    }
    return orch_errf(e, CC_EUNSUPPORTED, NULL, "no driver built into this daemon");
}

cc_err orch__slot_resolve(struct orch_engine *eng, const char *name, struct orch__slot **out,
                          struct orch_err *e)
{
    if (is_auto(name))
        return resolve_auto(eng, out, e);
    struct orch__slot *sl = orch__slot_lookup(eng, name);
    if (!sl)
        return orch_errf(e, CC_EUNSUPPORTED, "use another driver (x-commandcenter.driver or "
                         "orchestrator.driver)", "driver %.40s not built into this daemon",
                         name ? name : "");
    cc_err err = slot_open(eng, sl, e);
    if (!err)
        *out = sl;
    return err;
}

cc_err orch__slots_assign(struct orch_engine *eng, struct orch__slot *proj,
                          struct orch__svc *v, size_t n, struct orch_err *e)
{
    for (size_t i = 0; i < n; i++) {
        v[i].slot = proj;
        if (v[i].opts.driver[0] && orch__slot_lookup(eng, v[i].opts.driver) != proj) {
            cc_err err = orch__slot_resolve(eng, v[i].opts.driver, &v[i].slot, e);
            if (err)
                return err;
        }
    }
    return CC_OK;
}
