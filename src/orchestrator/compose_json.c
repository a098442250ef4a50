/*
 * compose_json.c - a parsed stack as `docker compose config --format json`
 * prints it (Compose v2), for the supported subset: long forms for ports,
 * volumes and depends_on, environment as a map, durations as Go prints
 * them, memory as a byte-count string, names defaulted (<project>_<name>).
 * Key order is left to the caller's dump (JSON_SORT_KEYS).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "orchestrator/compose_int.h"

/* Go's time.Duration.String(): "1h2m3.5s", "1m30s", "500ms", "1.5µs", "0s". */
void orch_duration_format(int64_t ns, char *out, size_t outsz)
{
    char frac[32] = "";
    uint64_t u = ns < 0 ? (uint64_t)(-(ns + 1)) + 1 : (uint64_t)ns;
    const char *sign = ns < 0 ? "-" : "";
    if (u == 0) {
        snprintf(out, outsz, "0s");
        return;
    }
    if (u < 1000000000ull) {
        uint64_t unit = u < 1000ull ? 1 : u < 1000000ull ? 1000ull : 1000000ull;
        const char *name = unit == 1 ? "ns" : unit == 1000ull ? "µs" : "ms";
        uint64_t whole = u / unit, rest = u % unit;
        int digits = unit == 1 ? 0 : unit == 1000ull ? 3 : 6;
        if (rest) {
            snprintf(frac, sizeof(frac), ".%0*" PRIu64, digits, rest);
            for (size_t l = strlen(frac); frac[l - 1] == '0'; l--)
                frac[l - 1] = '\0';
        }
        snprintf(out, outsz, "%s%" PRIu64 "%s%s", sign, whole, frac, name);
        return;
    }
    uint64_t secs = u / 1000000000ull, rest = u % 1000000000ull;
    if (rest) {
        snprintf(frac, sizeof(frac), ".%09" PRIu64, rest);
        for (size_t l = strlen(frac); frac[l - 1] == '0'; l--)
            frac[l - 1] = '\0';
    }
    uint64_t h = secs / 3600, m = secs / 60 % 60, s = secs % 60;
    if (h)
        snprintf(out, outsz, "%s%" PRIu64 "h%" PRIu64 "m%" PRIu64 "%ss", sign, h, m, s, frac);
    else if (m)
        snprintf(out, outsz, "%s%" PRIu64 "m%" PRIu64 "%ss", sign, m, s, frac);
    else
        snprintf(out, outsz, "%s%" PRIu64 "%ss", sign, s, frac);
}

static json_t *strs_json(const struct orch_strs *s)
{
    json_t *a = json_array();
    for (size_t i = 0; i < s->n; i++)
        json_array_append_new(a, json_string(s->v[i]));
    return a;
}

/* Later pairs win, as environment wins over env_file. */
static json_t *kvs_json(const struct orch_kvs *kv)
{
    json_t *o = json_object();
    for (size_t i = 0; i < kv->n; i++)
        json_object_set_new(o, kv->v[i].key,
                            kv->v[i].value ? json_string(kv->v[i].value) : json_null());
    return o;
}

static void set_duration(json_t *o, const char *key, int64_t ns)
{
    char buf[64];
    if (ns < 0)
        return;
    orch_duration_format(ns, buf, sizeof(buf));
    json_object_set_new(o, key, json_string(buf));
}

static json_t *port_json(const struct orch_port *p)
{
    json_t *o = json_pack("{s:s, s:i, s:s}", "mode", p->mode, "target", (json_int_t)p->target,
                          "protocol", p->protocol);
    if (p->host_ip)
        json_object_set_new(o, "host_ip", json_string(p->host_ip));
    if (p->published)
        json_object_set_new(o, "published", json_string(p->published));
    return o;
}

static json_t *mount_json(const struct orch_mount *m)
{
    static const char *const types[] = {"volume", "bind", "tmpfs"};
    json_t *o = json_pack("{s:s, s:s}", "type", types[m->type], "target", m->target);
    if (m->source)
        json_object_set_new(o, "source", json_string(m->source));
    if (m->read_only)
        json_object_set_new(o, "read_only", json_true());
    if (m->type == ORCH_MOUNT_BIND)
        json_object_set_new(o, "bind", json_pack("{s:b}", "create_host_path", 1));
    else if (m->type == ORCH_MOUNT_VOLUME)
        json_object_set_new(o, "volume", json_object());
    return o;
}

static json_t *deps_json(const struct orch_service *s)
{
    static const char *const conds[] = {"service_started", "service_healthy",
                                        "service_completed_successfully"};
    json_t *o = json_object();
    for (size_t i = 0; i < s->ndeps; i++)
        json_object_set_new(o, s->depends_on[i].service,
                            json_pack("{s:s, s:b}", "condition",
                                      conds[s->depends_on[i].condition], "required",
                                      s->depends_on[i].required));
    return o;
}

static json_t *health_json(const struct orch_health *h)
{
    json_t *o = json_object();
    if (h->test.n)
        json_object_set_new(o, "test", strs_json(&h->test));
    set_duration(o, "interval", h->interval_ns);
    set_duration(o, "timeout", h->timeout_ns);
    set_duration(o, "start_period", h->start_period_ns);
    set_duration(o, "start_interval", h->start_interval_ns);
    if (h->retries >= 0)
        json_object_set_new(o, "retries", json_integer(h->retries));
    if (h->disable)
        json_object_set_new(o, "disable", json_true());
    return o;
}

static json_t *resources_json(const struct orch_resources *r)
{
    json_t *o = json_object();
    char buf[32];
    if (r->cpus >= 0)
        json_object_set_new(o, "cpus", json_real(r->cpus));
    if (r->memory >= 0) {
        snprintf(buf, sizeof(buf), "%" PRId64, r->memory);
        json_object_set_new(o, "memory", json_string(buf));
    }
    if (r->pids >= 0)
        json_object_set_new(o, "pids", json_integer(r->pids));
    return o;
}

static json_t *deploy_json(const struct orch_service *s)
{
    json_t *res = json_object();
    json_t *l = resources_json(&s->limits), *r = resources_json(&s->reservations);
    if (json_object_size(l))
        json_object_set(res, "limits", l);
    if (json_object_size(r))
        json_object_set(res, "reservations", r);
    json_decref(l);
    json_decref(r);
    if (!json_object_size(res)) {
        json_decref(res);
        return NULL;
    }
    return json_pack("{s:o}", "resources", res);
}

static json_t *secrets_json(const struct orch_service *s)
{
    json_t *a = json_array();
    for (size_t i = 0; i < s->nsecrets; i++) {
        const struct orch_secret_ref *r = &s->secrets[i];
        json_t *o = json_pack("{s:s}", "source", r->source);
        if (r->target)
            json_object_set_new(o, "target", json_string(r->target));
        if (r->uid)
            json_object_set_new(o, "uid", json_string(r->uid));
        if (r->gid)
            json_object_set_new(o, "gid", json_string(r->gid));
        if (r->mode >= 0)
            json_object_set_new(o, "mode", json_integer(r->mode));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *networks_json(const struct orch_service *s)
{
    json_t *o = json_object();
    for (size_t i = 0; i < s->nnetworks; i++) {
        const struct orch_net_ref *r = &s->networks[i];
        json_object_set_new(o, r->name, r->aliases.n
                                            ? json_pack("{s:o}", "aliases", strs_json(&r->aliases))
                                            : json_null());
    }
    return o;
}

static void set_str(json_t *o, const char *key, const char *v)
{
    if (v)
        json_object_set_new(o, key, json_string(v));
}

static void set_list(json_t *o, const char *key, const struct orch_strs *s)
{
    if (s->n)
        json_object_set_new(o, key, strs_json(s));
}

static json_t *build_json(const struct orch_service *s)
{
    json_t *b = json_pack("{s:s, s:s}", "context", s->build.context, "dockerfile",
                          s->build.dockerfile ? s->build.dockerfile : "Dockerfile");
    if (s->build.args.n)
        json_object_set_new(b, "args", kvs_json(&s->build.args));
    return b;
}

static json_t *service_json(const struct orch_service *s)
{
    json_t *o = json_object();
    set_str(o, "image", s->image);
    if (s->has_build)
        json_object_set_new(o, "build", build_json(s));
    if (s->has_command)
        json_object_set_new(o, "command", strs_json(&s->command));
    if (s->has_entrypoint)
        json_object_set_new(o, "entrypoint", strs_json(&s->entrypoint));
    if (s->environment.n)
        json_object_set_new(o, "environment", kvs_json(&s->environment));
    set_str(o, "working_dir", s->working_dir);
    if (s->nports) {
        json_t *a = json_array();
        for (size_t i = 0; i < s->nports; i++)
            json_array_append_new(a, port_json(&s->ports[i]));
        json_object_set_new(o, "ports", a);
    }
    if (s->nvolumes) {
        json_t *a = json_array();
        for (size_t i = 0; i < s->nvolumes; i++)
            json_array_append_new(a, mount_json(&s->volumes[i]));
        json_object_set_new(o, "volumes", a);
    }
    if (s->ndeps)
        json_object_set_new(o, "depends_on", deps_json(s));
    if (s->healthcheck.present)
        json_object_set_new(o, "healthcheck", health_json(&s->healthcheck));
    set_str(o, "restart", s->restart);
    set_str(o, "user", s->user);
    set_str(o, "network_mode", s->network_mode);
    if (s->read_only)
        json_object_set_new(o, "read_only", json_true());
    if (s->privileged)
        json_object_set_new(o, "privileged", json_true());
    set_list(o, "tmpfs", &s->tmpfs);
    set_list(o, "cap_add", &s->cap_add);
    set_list(o, "cap_drop", &s->cap_drop);
    set_list(o, "security_opt", &s->security_opt);
    json_t *deploy = deploy_json(s);
    if (deploy)
        json_object_set_new(o, "deploy", deploy);
    if (s->nsecrets)
        json_object_set_new(o, "secrets", secrets_json(s));
    if (s->nnetworks)
        json_object_set_new(o, "networks", networks_json(s));
    if (s->labels.n)
        json_object_set_new(o, "labels", kvs_json(&s->labels));
    set_duration(o, "stop_grace_period", s->stop_grace_ns);
    if (s->init >= 0)
        json_object_set_new(o, "init", json_boolean(s->init));
    if (s->x_commandcenter)
        json_object_set(o, "x-commandcenter", s->x_commandcenter);
    return o;
}

static json_t *top_json(const struct orch_stack *st)
{
    json_t *nets = json_object(), *vols = json_object(), *secs = json_object();
    for (size_t i = 0; i < st->nnetworks; i++) {
        const struct orch_network *n = &st->networks[i];
        json_t *o = n->external ? json_pack("{s:s, s:b}", "name", n->name, "external", 1)
                                : json_pack("{s:s++}", "name", st->name, "_", n->name);
        if (n->internal)
            json_object_set_new(o, "internal", json_true());
        set_str(o, "driver", n->driver);
        json_object_set_new(nets, n->name, o);
    }
    for (size_t i = 0; i < st->nvolumes; i++) {
        const struct orch_volume *v = &st->volumes[i];
        json_t *o = v->external ? json_pack("{s:s, s:b}", "name", v->name, "external", 1)
                                : json_pack("{s:s++}", "name", st->name, "_", v->name);
        set_str(o, "driver", v->driver);
        json_object_set_new(vols, v->name, o);
    }
    for (size_t i = 0; i < st->nsecrets; i++) {
        const struct orch_secret *s = &st->secrets[i];
        json_t *o = s->external ? json_pack("{s:s, s:b}", "name", s->name, "external", 1)
                                : json_pack("{s:s++}", "name", st->name, "_", s->name);
        set_str(o, "file", s->file);
        set_str(o, "environment", s->environment);
        json_object_set_new(secs, s->name, o);
    }
    json_t *top = json_pack("{s:s}", "name", st->name);
    if (st->x_commandcenter)
        json_object_set(top, "x-commandcenter", st->x_commandcenter);
    json_object_set_new(top, "networks", nets);
    if (json_object_size(vols))
        json_object_set_new(top, "volumes", vols);
    else
        json_decref(vols);
    if (json_object_size(secs))
        json_object_set_new(top, "secrets", secs);
    else
        json_decref(secs);
    return top;
}

cc_err orch_compose_json(const struct orch_stack *st, json_t **out)
{
    json_t *top = top_json(st), *svcs = json_object();
    if (!top || !svcs) {
        json_decref(top);
        json_decref(svcs);
        return CC_ENOMEM;
    }
    for (size_t i = 0; i < st->nservices; i++)
        json_object_set_new(svcs, st->services[i].name, service_json(&st->services[i]));
    json_object_set_new(top, "services", svcs);
    *out = top;
    return CC_OK;
}
