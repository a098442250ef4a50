/*
 * engine_json.c - the JSON views of engine.h (ps rows, health), built
 * under the project's lock from its services' state.
 */
#include "orchestrator/engine_int.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"

const char *orch__svc_status(const struct orch__svc *s)
{
    switch (s->state) {
    case ORCH_S_PENDING:
    case ORCH_S_STARTING: return ORCH_ST_CREATED;
    case ORCH_S_EXITED: return ORCH_ST_EXITED;
    case ORCH_S_BACKOFF:
    case ORCH_S_RESTARTING: return ORCH_ST_RESTARTING;
    case ORCH_S_FAILED: return ORCH_ST_FAILED;
    case ORCH_S_STOPPED: return ORCH_ST_STOPPED;
    case ORCH_S_UP: break;
    }
    if (s->opts.probe.kind == ORCH_PROBE_NONE)
        return ORCH_ST_RUNNING;
    switch (s->probe.status) {
    case ORCH_HEALTH_HEALTHY: return ORCH_ST_HEALTHY;
    case ORCH_HEALTH_UNHEALTHY: return ORCH_ST_UNHEALTHY;
    case ORCH_HEALTH_STARTING: break;
    }
    return ORCH_ST_STARTING;
}

/* Running with its probe passed (or no probe), or a one-shot done. */
bool orch__svc_ready(const struct orch__svc *s)
{
    if (s->state == ORCH_S_EXITED)
        return s->exit_code == 0 && s->policy.kind != ORCH_RESTART_ALWAYS &&
               s->policy.kind != ORCH_RESTART_UNLESS_STOPPED;
    if (s->state != ORCH_S_UP)
        return false;
    return s->opts.probe.kind == ORCH_PROBE_NONE || s->probe.status == ORCH_HEALTH_HEALTHY;
}

static json_t *time_or_null(int64_t wall_ms)
{
    if (wall_ms <= 0)
        return json_null();
    char t[32];
    cc_time_rfc3339(wall_ms, t, sizeof(t));
    return json_string(t);
}

static json_t *ports_json(const struct orch_service *def)
{
    json_t *a = json_array();
    for (size_t i = 0; def && i < def->nports; i++) {
        const struct orch_port *pt = &def->ports[i];
        json_t *o = json_pack("{s:I, s:s}", "target", (json_int_t)pt->target, "protocol",
                              pt->protocol ? pt->protocol : "tcp");
        json_object_set_new(o, "published", pt->published ? json_string(pt->published)
                                                           : json_null());
        if (pt->host_ip)
            json_object_set_new(o, "host_ip", json_string(pt->host_ip));
        json_array_append_new(a, o);
    }
    return a;
}

json_t *orch__ps_row(const struct orch__svc *s)
{
    json_t *o = json_pack("{s:s, s:s, s:I}", "service", s->name, "status",
                          orch__svc_status(s), "restarts", (json_int_t)s->restarts);
    json_object_set_new(o, "instance", s->inst[0] ? json_string(s->inst) : json_null());
    bool exited = s->state == ORCH_S_EXITED || s->state == ORCH_S_BACKOFF ||
                  s->state == ORCH_S_RESTARTING ||
                  (s->state == ORCH_S_FAILED && s->first_started_mono) ||
                  (s->state == ORCH_S_STOPPED && s->first_started_mono);
    json_object_set_new(o, "exit_code", exited ? json_integer(s->exit_code) : json_null());
    json_object_set_new(o, "started_at", time_or_null(s->started_wall));
    json_object_set_new(o, "ports", ports_json(s->def));
    if (s->message[0])
        json_object_set_new(o, "message", json_string(s->message));
    return o;
}

static json_t *outputs_json(const struct orch_probe_state *st)
{
    json_t *a = json_array();
    for (unsigned i = 0; i < ORCH_PROBE_OUTPUTS; i++) {
        const struct orch_probe_output *po = orch__probe_output(st, i);
        if (!po)
            break;
        json_t *o = json_pack("{s:o, s:i, s:b, s:s}", "at", time_or_null(po->at_ms), "code",
                              po->code, "ok", po->ok, "output", po->text);
        json_array_append_new(a, o);
    }
    return a;
}

json_t *orch__health_json(const struct orch__project *p, int64_t wall_ms)
{
    json_t *svcs = json_object();
    bool ready = p->up && p->nsvcs > 0;
    for (size_t i = 0; i < p->nsvcs; i++) {
        const struct orch__svc *s = &p->svcs[i];
        bool ok = orch__svc_ready(s);
        ready = ready && ok;
        const char *msg = s->message;
        const struct orch_probe_output *last = orch__probe_output(&s->probe, 0);
        if (s->state == ORCH_S_UP && last)
            msg = last->text;
        json_t *o = json_pack("{s:b, s:s, s:s, s:I, s:o, s:o}", "healthy", ok, "status",
                              orch__svc_status(s), "message", msg ? msg : "", "failing_streak",
                              (json_int_t)s->probe.failing_streak, "checked_at",
                              time_or_null(s->probe.checked_at_ms), "last_outputs",
                              outputs_json(&s->probe));
        json_object_set_new(o, "probe", json_string(s->opts.probe.kind == ORCH_PROBE_NONE
                                                        ? "none" : s->opts.probe.source));
        json_object_set_new(svcs, s->name, o);
    }
    char t[32];
    cc_time_rfc3339(wall_ms, t, sizeof(t));
    json_t *h = json_pack("{s:b, s:b, s:o, s:s}", "overall_healthy", ready, "ready", ready,
                          "services", svcs, "timestamp", t);
    if (h && p->progress[0])
        json_object_set_new(h, "progress", json_string(p->progress));
    return h;
}

const char *orch__project_state(const struct orch__project *p)
{
    return p->up ? "up" : "down";
}
