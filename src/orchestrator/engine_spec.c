/*
 * engine_spec.c - the services of a compose stack as the engine keeps them:
 * options (probe, restart on unhealthy, start timeout, driver), restart
 * policy, limits (the file's, else orchestrator.limits.<role>) and the
 * config hash that decides whether an instance must be recreated. Every
 * default comes from the config (src/core/config.c).
 */
#include "orchestrator/engine_int.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

void orch__svcs_free(struct orch__svc *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        orch__svc_opts_release(&v[i].opts);
        orch__sup_release(&v[i].sup);
    }
    free(v);
}

/* orchestrator.limits.<role>: which member of the config serves a role. */
typedef __typeof__(((struct cc_config *)0)->orchestrator.limits_default) orch__role_limits;
static const struct {
    const char *role;
    size_t off;
} role_limits_at[] = {
    {"postgres", offsetof(struct cc_config, orchestrator.limits_postgres)},
    {"redis", offsetof(struct cc_config, orchestrator.limits_redis)},
    {"backend", offsetof(struct cc_config, orchestrator.limits_backend)},
    {"frontend", offsetof(struct cc_config, orchestrator.limits_frontend)},
};

/* The file's limits, else the role's defaults (0: none). */
static struct orch_resources svc_limits(const struct cc_config *c, const char *role,
                                        const struct orch_resources *file)
{
    const orch__role_limits *l = &c->orchestrator.limits_default;
    for (size_t i = 0; role && i < sizeof(role_limits_at) / sizeof(role_limits_at[0]); i++)
        if (strcmp(role, role_limits_at[i].role) == 0)
            l = (const orch__role_limits *)((const char *)c + role_limits_at[i].off);
    struct orch_resources r = {.cpus = l->cpus, .memory = (int64_t)l->memory, .pids = l->pids};
    if (file->cpus >= 0)
        r.cpus = file->cpus;
    if (file->memory >= 0)
        r.memory = file->memory;
    if (file->pids >= 0)
        r.pids = file->pids;
    return r;
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

const char *orch__stack_driver(const struct orch_stack *st)
{
    json_t *d = json_is_object(st->x_commandcenter)
                    ? json_object_get(st->x_commandcenter, "driver") : NULL;
    return json_string_value(d);
}

/* "auto, docker or process": the names the registry knows. */
static void driver_names(const struct orch_engine *eng, char *out, size_t outsz)
{
    const struct orch_driver_ops *const *reg = eng->cfg.drivers;
    size_t n = 0;
    while (reg[n])
        n++;
    size_t used = 0;
    int w = snprintf(out, outsz, "%s", ORCH_DRIVER_AUTO);
    for (size_t i = 0; w > 0 && (size_t)w < outsz - used && i < n; i++) {
        used += (size_t)w;
        w = snprintf(out + used, outsz - used, "%s%s", i + 1 == n ? " or " : ", ",
                     reg[i]->name);
    }
}

/* Validates the project-level x-commandcenter. */
static cc_err check_stack_xcc(const struct orch_engine *eng, const struct orch_stack *st,
                              char *err, size_t errsz)
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
        if (!orch__driver_known(eng, json_string_value(v))) {
            char names[128];
            driver_names(eng, names, sizeof(names));
            snprintf(err, errsz, "x-commandcenter.driver: expected %s", names);
            return CC_EINVAL;
        }
    }
    return CC_OK;
}

/* One service; CC_EINVAL with err filled for a bad option or policy. */
static cc_err build_svc(const struct orch_engine *eng, const struct orch_service *def,
                        json_t *sj, struct orch__svc *s, char *err, size_t errsz)
{
    snprintf(s->name, sizeof(s->name), "%s", def->name);
    s->def = def;
    cc_err e = orch__svc_opts(def, eng->conf, &s->opts, err, errsz);
    if (e)
        return e;
    if (orch__policy_parse(def->restart, &s->policy)) {
        snprintf(err, errsz, "services.%.100s.restart: '%.40s' is not a restart policy",
                 def->name, def->restart);
        return CC_EINVAL;
    }
    service_hash(json_object_get(sj, def->name), s->hash);
    s->limits = svc_limits(eng->conf, s->opts.role, &def->limits);
    s->state = ORCH_S_PENDING;
    return CC_OK;
}

static cc_err build_svcs(const struct orch_engine *eng, const struct orch_stack *st,
                         struct orch__svc **out, char *err, size_t errsz,
                         const struct orch_service **bad)
{
    json_t *all = NULL;
    if (orch_compose_json(st, &all))
        return CC_ENOMEM;
    json_t *sj = json_object_get(all, "services");
    struct orch__svc *v = cc_xcalloc(st->nservices ? st->nservices : 1, sizeof(*v));
    cc_err e = CC_OK;
    size_t i;
    for (i = 0; i < st->nservices && !e; i++) {
        orch__sup_init(&v[i].sup, eng->conf->orchestrator.breaker_restarts);
        e = build_svc(eng, &st->services[i], sj, &v[i], err, errsz);
        if (e)
            *bad = &st->services[i];
    }
    json_decref(all);
    if (e) {
        orch__svcs_free(v, i);
        return e;
    }
    *out = v;
    return CC_OK;
}

cc_err orch__env_parse(const char *json, char ***out, struct orch_err *e)
{
    *out = NULL;
    if (!json || !*json)
        return CC_OK;
    if (strlen(json) > ORCH_ENV_MAX)
        return orch_errf(e, CC_EINVAL, "send only the variables the compose file uses",
                         "'env' is larger than %d KiB", ORCH_ENV_MAX / 1024);
    json_t *j = json_loads(json, 0, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        return orch_errf(e, CC_EINVAL, "send {\"NAME\": \"value\", ...}",
                         "'env' must be an object of strings");
    }
    char **v = cc_xcalloc(json_object_size(j) + 1, sizeof(*v));
    size_t n = 0;
    const char *name;
    json_t *val;
    cc_err err = CC_OK;
    json_object_foreach(j, name, val) {
        size_t len = strlen(name);
        bool ok = len > 0 && !isdigit((unsigned char)name[0]) &&
                  strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                               "0123456789_") == len;
        if (!ok) {
            err = orch_errf(e, CC_EINVAL, "names are letters, digits and _, not starting "
                            "with a digit", "bad variable name '%.64s' in 'env'", name);
            break;
        }
        if (!json_is_string(val) || strlen(json_string_value(val)) != json_string_length(val)) {
            err = orch_errf(e, CC_EINVAL, "values are strings without NUL bytes",
                            "the value of '%.64s' in 'env' is not a string", name);
            break;
        }
        size_t sz = len + 1 + json_string_length(val) + 1;
        v[n] = cc_xmalloc(sz);
        snprintf(v[n++], sz, "%s=%s", name, json_string_value(val));
    }
    json_decref(j);
    if (err) {
        orch__env_free(v);
        return err;
    }
    *out = v;
    return CC_OK;
}

void orch__env_free(char **envp)
{
    if (!envp)
        return;
    for (char **p = envp; *p; p++)
        free(*p);
    free(envp);
}

cc_err orch__spec_load(struct orch_engine *eng, const char *path, const char *name,
                       char *const *envp, struct orch_stack **st_out,
                       struct orch__svc **svcs_out, struct cc_diag *d, struct orch_err *e)
{
    struct orch_compose_opts o = {.default_name = name, .envp = envp};
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
    err = check_stack_xcc(eng, st, msg, sizeof(msg));
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
