/*
 * projects.c - /api/v1/projects: orchestration of Compose stacks.
 *
 * Thin on purpose: every answer comes from the engine (orchestrator/
 * engine.h), which owns the projects, their plan, probes and supervisor.
 * Handlers never wait on a service: `up` answers 202 and the client polls
 * /health (that is how `commandcenter up --wait` works), and logs are
 * produced on a stream thread (http/stream.h), with or without follow, so
 * a slow engine never holds an HTTP worker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/clock.h"
#include "http/stream.h"
#include "orchestrator/engine.h"

static struct orch_engine *engine_of(struct http_req *req, struct http_resp *resp)
{
    const struct api_deps *deps = req->server_data;
    if (!deps || !deps->engine) {
        /* It failed to start (no driver reachable, state dir unusable): a
         * dependency that is down, so 503, not 501. */
        http_resp_err(resp, CC_EUPSTREAM, "orchestration is not running in this daemon",
                      "see the daemon's log for why the orchestrator did not start");
        return NULL;
    }
    return deps->engine;
}

static void answer_err(struct http_resp *resp, cc_err err, const struct orch_err *e,
                       const char *what)
{
    const char *msg = e->msg[0] ? e->msg : what;
    http_resp_err(resp, err, msg, e->hint[0] ? e->hint : NULL);
}

static void answer_json(struct http_resp *resp, cc_err err, json_t *j, const char *project)
{
    if (err == CC_ENOTFOUND) {
        char msg[300];
        snprintf(msg, sizeof(msg), "no project named '%s'", project);
        http_resp_err(resp, CC_ENOTFOUND, msg,
                      "list projects with GET /api/v1/projects (commandcenter projects)");
        return;
    }
    if (err) {
        http_resp_err(resp, err, "cannot read the project", NULL);
        return;
    }
    http_resp_json(resp, 200, j);
}

void api__projects_list(struct http_req *req, struct http_resp *resp)
{
    struct orch_engine *eng = engine_of(req, resp);
    if (!eng)
        return;
    json_t *list = NULL;
    cc_err err = orch_engine_list(eng, &list);
    if (err) {
        http_resp_err(resp, err, "cannot list projects", NULL);
        return;
    }
    http_resp_json(resp, 200, json_pack("{s:o}", "projects", list));
}

/* The body's optional "env" ({"NAME": "value"}) as JSON text (freed by the
 * caller); *ok false after answering 400. */
static char *env_of(json_t *body, struct http_resp *resp, bool *ok)
{
    json_t *env = json_object_get(body, "env");
    *ok = true;
    if (!env || json_is_null(env))
        return NULL;
    if (!json_is_object(env)) {
        http_resp_err(resp, CC_EINVAL, "'env' must be an object of strings",
                      "send {\"env\": {\"NAME\": \"value\"}}: the variables the compose file "
                      "uses, as your shell has them");
        *ok = false;
        return NULL;
    }
    return json_dumps(env, JSON_COMPACT | JSON_SORT_KEYS);
}

void api__projects_create(struct http_req *req, struct http_resp *resp)
{
    struct orch_engine *eng = engine_of(req, resp);
    if (!eng)
        return;
    json_t *body;
    if (http_req_json(req, resp, &body))
        return;
    const char *name = NULL, *path = NULL;
    json_t *jn = json_object_get(body, "name");
    json_t *jp = json_object_get(body, "compose_file");
    if ((jn && !json_is_null(jn) && !json_is_string(jn)) || !json_is_string(jp)) {
        json_decref(body);
        http_resp_err(resp, CC_EINVAL, "'compose_file' must be a string",
                      "send {\"compose_file\": \"/abs/path/compose.yaml\", \"name\": \"optional\"}");
        return;
    }
    name = json_is_string(jn) ? json_string_value(jn) : NULL;
    path = json_string_value(jp);
    if (path[0] != '/') {
        json_decref(body);
        http_resp_err(resp, CC_EINVAL, "'compose_file' must be an absolute path",
                      "the path is read by the daemon, on its host; the CLI sends an "
                      "absolute path for you");
        return;
    }
    struct cc_diag d = {0};
    struct orch_err oe = {{0}, {0}};
    json_t *warnings = NULL;
    char chosen[256] = "";
    bool ok;
    char *env = env_of(body, resp, &ok);
    if (!ok) {
        json_decref(body);
        return;
    }
    cc_err err = orch_engine_register(eng, name, path, env, &warnings, chosen, sizeof(chosen),
                                      &d, &oe);
    free(env);
    json_decref(body);
    if (err == CC_EINVAL && d.msg[0]) {
        json_decref(warnings);
        char msg[1024];
        cc_diag_format(&d, msg, sizeof(msg));
        http_resp_err(resp, CC_EINVAL, msg,
                      "fix the compose file; `commandcenter config FILE` checks it offline");
        return;
    }
    if (err) {
        json_decref(warnings);
        answer_err(resp, err, &oe, "cannot register the project");
        return;
    }
    json_t *proj = NULL;
    if (orch_engine_project(eng, chosen, &proj) != CC_OK)
        proj = NULL;
    http_resp_json(resp, 201,
                   json_pack("{s:o, s:o}", "project", proj ? proj : json_null(), "warnings",
                             warnings ? warnings : json_array()));
}

void api__projects_get(struct http_req *req, struct http_resp *resp)
{
    struct orch_engine *eng = engine_of(req, resp);
    if (!eng)
        return;
    const char *id = http_req_param(req, "id");
    json_t *j = NULL;
    cc_err err = orch_engine_project(eng, id, &j);
    answer_json(resp, err, j, id);
}

void api__projects_delete(struct http_req *req, struct http_resp *resp)
{
    struct orch_engine *eng = engine_of(req, resp);
    if (!eng)
        return;
    const char *id = http_req_param(req, "id");
    struct orch_err oe = {{0}, {0}};
    cc_err err = orch_engine_unregister(eng, id, &oe);
    if (err == CC_ENOTFOUND) {
        answer_json(resp, err, NULL, id);
        return;
    }
    if (err) {
        answer_err(resp, err, &oe, "cannot remove the project");
        return;
    }
    resp->status = 204;
}

void api__projects_up(struct http_req *req, struct http_resp *resp)
{
    struct orch_engine *eng = engine_of(req, resp);
    if (!eng)
        return;
    const char *id = http_req_param(req, "id");
    struct orch_err oe = {{0}, {0}};
    json_t *body = NULL;
    char *env = NULL;
    bool ok = true;
    if (req->body_len > 0) {    /* optional: {"env": {...}} replaces the kept variables */
        if (http_req_json(req, resp, &body))
            return;
        env = env_of(body, resp, &ok);
        json_decref(body);
        if (!ok)
            return;
    }
    cc_err err = orch_engine_up(eng, id, env, &oe);
    free(env);
    if (err == CC_ENOTFOUND && !oe.msg[0]) {
        answer_json(resp, err, NULL, id);
        return;
    }
    if (err) {
        answer_err(resp, err, &oe, "cannot start the project");
        return;
    }
    json_t *j = NULL;
    if (orch_engine_project(eng, id, &j) != CC_OK)
        j = json_null();
    http_resp_json(resp, 202, json_pack("{s:o, s:s}", "project", j, "hint",
                                        "poll GET /api/v1/projects/{id}/health until ready"));
}

void api__projects_down(struct http_req *req, struct http_resp *resp)
{
    struct orch_engine *eng = engine_of(req, resp);
    if (!eng)
        return;
    const char *id = http_req_param(req, "id");
    struct orch_err oe = {{0}, {0}};
    cc_err err = orch_engine_down(eng, id, &oe);
    if (err == CC_ENOTFOUND && !oe.msg[0]) {
        answer_json(resp, err, NULL, id);
        return;
    }
    if (err) {
        answer_err(resp, err, &oe, "cannot stop the project");
        return;
    }
    json_t *j = NULL;
    if (orch_engine_project(eng, id, &j) != CC_OK)
        j = json_null();
    http_resp_json(resp, 200, json_pack("{s:o}", "project", j));
}

void api__projects_ps(struct http_req *req, struct http_resp *resp)
{
    struct orch_engine *eng = engine_of(req, resp);
    if (!eng)
        return;
    const char *id = http_req_param(req, "id");
    json_t *j = NULL;
    cc_err err = orch_engine_ps(eng, id, &j);
    if (!err)
        j = json_pack("{s:o}", "services", j);
    answer_json(resp, err, j, id);
}

void api__projects_health(struct http_req *req, struct http_resp *resp)
{
    struct orch_engine *eng = engine_of(req, resp);
    if (!eng)
        return;
    const char *id = http_req_param(req, "id");
    json_t *j = NULL;
    cc_err err = orch_engine_health(eng, id, &j);
    answer_json(resp, err, j, id);
}

void api__projects_resources(struct http_req *req, struct http_resp *resp)
{
    struct orch_engine *eng = engine_of(req, resp);
    if (!eng)
        return;
    const char *id = http_req_param(req, "id");
    json_t *j = NULL;
    struct orch_err oe = {{0}, {0}};
    cc_err err = orch_engine_resources(eng, id, &j, &oe);
    if (err && err != CC_ENOTFOUND) {
        answer_err(resp, err, &oe, "cannot read resource usage");
        return;
    }
    if (err == CC_ENOTFOUND && oe.msg[0]) {
        answer_err(resp, err, &oe, "not found");
        return;
    }
    answer_json(resp, err, j, id);
}

void api__projects_restart(struct http_req *req, struct http_resp *resp)
{
    struct orch_engine *eng = engine_of(req, resp);
    if (!eng)
        return;
    const char *id = http_req_param(req, "id");
    const char *svc = http_req_param(req, "service");
    struct orch_err oe = {{0}, {0}};
    cc_err err = orch_engine_restart(eng, id, svc, &oe);
    if (err) {
        answer_err(resp, err, &oe, "cannot restart the service");
        return;
    }
    json_t *j = NULL;
    if (orch_engine_ps(eng, id, &j) != CC_OK)
        j = json_null();
    http_resp_json(resp, 200, json_pack("{s:s, s:o}", "restarted", svc, "services", j));
}

/* ------------------------------------------------------------------ */
/* Logs                                                                */

struct logs_job {
    struct orch_engine *eng;
    char project[128];
    char service[128];
    struct orch_log_query q;
    bool timestamps;
    bool json;
    struct http_stream *st;
    bool ok;
};

static void format_ns(int64_t ns, char *out, size_t outsz)
{
    char ms[32];
    cc_time_rfc3339(ns / 1000000, ms, sizeof(ms));
    /* "2026-11-22T00:19:20.123Z" -> nanosecond precision like docker logs. */
    size_t dot = strcspn(ms, ".");
    snprintf(out, outsz, "%.*s.%09lldZ", (int)dot, ms, (long long)(ns % 1000000000));
}

static bool send_line(void *arg, const struct orch_log_line *l)
{
    struct logs_job *j = arg;
    char ts[48] = "";
    if (l->ts_ns > 0 && (j->timestamps || j->json))
        format_ns(l->ts_ns, ts, sizeof(ts));
    if (j->json) {
        json_t *o = json_pack("{s:s, s:s, s:s%}", "ts", ts, "stream",
                              l->stream == ORCH_STDERR ? "stderr" : "stdout", "line", l->text,
                              l->len);
        char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!s)
            return j->ok;
        j->ok = http_stream_printf(j->st, "%s\n", s);
        free(s);
    } else if (j->timestamps && ts[0]) {
        j->ok = http_stream_printf(j->st, "%s %.*s\n", ts, (int)l->len, l->text);
    } else {
        j->ok = http_stream_write(j->st, l->text, l->len) && http_stream_write(j->st, "\n", 1);
    }
    return j->ok;
}

static void logs_run(struct http_stream *st, void *arg)
{
    struct logs_job *j = arg;
    j->st = st;
    j->ok = true;
    j->q.cancel = http_stream_cancelled(st);
    struct orch_err oe = {{0}, {0}};
    cc_err err = orch_engine_logs(j->eng, j->project, j->service, &j->q, send_line, j, &oe);
    if (err && j->ok)
        http_stream_printf(st, "commandcenter: logs ended: %s%s%s\n",
                           oe.msg[0] ? oe.msg : cc_err_str(err), oe.hint[0] ? " - " : "",
                           oe.hint);
}

/* "2026-11-22T10:00:00Z", a Unix time in seconds, or a duration back from
 * now ("10m"), as docker logs --since takes them. */
static cc_err parse_when(const char *s, int64_t now_ms, int64_t *out_ns)
{
    int64_t ms;
    long long secs;
    if (api__int(s, 0, 253402300799LL, &secs) == CC_OK) {
        *out_ns = (int64_t)secs * 1000000000LL;
        return CC_OK;
    }
    if (cc_parse_rfc3339(s, &ms) == CC_OK) {
        *out_ns = ms * 1000000LL;
        return CC_OK;
    }
    if (cc_parse_duration_ms(s, &ms, NULL) == CC_OK) {
        *out_ns = (now_ms - ms) * 1000000LL;
        return CC_OK;
    }
    return CC_EINVAL;
}

static bool flag(struct http_req *req, const char *name)
{
    const char *v = http_req_query(req, name);
    return v && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0);
}

void api__projects_logs(struct http_req *req, struct http_resp *resp)
{
    struct orch_engine *eng = engine_of(req, resp);
    if (!eng)
        return;
    const char *id = http_req_param(req, "id");
    const char *svc = http_req_param(req, "service");
    long long tail = 100;
    const char *t = http_req_query(req, "tail");
    if (t && strcmp(t, "all") == 0)
        tail = -1;
    else if (t && api__int(t, 0, 100000000, &tail)) {
        http_resp_err(resp, CC_EINVAL, "'tail' must be a number of lines or 'all'",
                      "e.g. ?tail=100 (the default) or ?tail=all");
        return;
    }
    int64_t now = cc_wall_ms(req->ctx->clock);
    int64_t since = 0, until = 0;
    const char *s = http_req_query(req, "since");
    const char *u = http_req_query(req, "until");
    if ((s && parse_when(s, now, &since)) || (u && parse_when(u, now, &until))) {
        http_resp_err(resp, CC_EINVAL, "'since' and 'until' must be times",
                      "an RFC 3339 time (2026-11-22T10:00:00Z), Unix seconds, or a "
                      "duration back from now (10m, 1h30m)");
        return;
    }
    const char *fmt = http_req_query(req, "format");
    if (fmt && strcmp(fmt, "json") != 0 && strcmp(fmt, "text") != 0) {
        http_resp_err(resp, CC_EINVAL, "'format' must be text or json", NULL);
        return;
    }
    /* Unknown project or service: a plain 404, before any stream starts. */
    json_t *ps = NULL;
    cc_err err = orch_engine_ps(eng, id, &ps);
    if (err) {
        answer_json(resp, err, NULL, id);
        return;
    }
    bool known = false;
    size_t i;
    json_t *row;
    json_array_foreach(ps, i, row) {
        const char *n = json_string_value(json_object_get(row, "service"));
        if (n && strcmp(n, svc) == 0)
            known = true;
    }
    json_decref(ps);
    if (!known) {
        char msg[300];
        snprintf(msg, sizeof(msg), "project '%s' has no service named '%s'", id, svc);
        http_resp_err(resp, CC_ENOTFOUND, msg,
                      "list its services with GET /api/v1/projects/{id}/ps");
        return;
    }
    /* While the engine is known to be down: 503 at once, not a stream that ends
     * with the error. */
    struct orch_err oe = {{0}, {0}};
    err = orch_engine_reachable(eng, id, svc, &oe);
    if (err) {
        answer_err(resp, err, &oe, "cannot read the logs");
        return;
    }
    struct logs_job *j = calloc(1, sizeof(*j));
    if (!j) {
        http_resp_err(resp, CC_ENOMEM, "cannot start the log stream", NULL);
        return;
    }
    j->eng = eng;
    snprintf(j->project, sizeof(j->project), "%s", id);
    snprintf(j->service, sizeof(j->service), "%s", svc);
    j->q.tail = (long)tail;
    j->q.since_ns = since;
    j->q.until_ns = until;
    j->q.follow = flag(req, "follow");
    j->timestamps = flag(req, "timestamps");
    j->json = fmt && strcmp(fmt, "json") == 0;
    http_resp_stream(resp, 200, j->json ? "application/x-ndjson" : "text/plain; charset=utf-8",
                     logs_run, j, free);
}
