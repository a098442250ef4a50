/*
 * sources.c - /api/v1/sources: knowledge sources and their run state.
 *
 * A source is addressed by id or by name in the path. Secrets in `auth`
 * are only ever references to files (`password_file`, `token_file`,
 * `value_file`); the API refuses inline secrets, so none is stored or shown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/clock.h"
#include "core/diag.h"
#include "ingest/fetch.h"
#include "ingest/queue.h"
#include "ingest/scheduler.h"
#include "ingest/sources/sources.h"
#include "ingest/watch.h"
#include "store/store.h"

static bool in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

json_t *api__source_json(const struct store_source *s)
{
    json_t *auth = s->auth_json ? json_loads(s->auth_json, 0, NULL) : NULL;
    json_t *opts = s->options_json ? json_loads(s->options_json, 0, NULL) : NULL;
    return json_pack(
        "{s:I, s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:i, s:b, s:o, s:o, s:o, s:o, s:o, s:s?,"
        " s:s?, s:o, s:i, s:{s:I, s:I, s:I}, s:I}",
        "id", (json_int_t)s->id, "name", s->name, "type", s->type, "url", s->url,
        "path", s->path, "schedule", s->schedule, "tz", s->tz, "priority", s->priority,
        "enabled", s->enabled, "auth", auth ? auth : json_null(),
        "options", opts ? opts : json_object(), "created_at", api__time(s->created_ms),
        "updated_at", api__time(s->updated_ms), "last_run", api__time(s->last_run_ms),
        "last_status", s->last_status, "last_error", s->last_error,
        "next_run", api__time(s->next_run_ms), "failures", s->failures,
        "counters", "runs", (json_int_t)s->runs_total, "ingested",
        (json_int_t)s->ingested_total, "failed", (json_int_t)s->failed_total,
        "documents", (json_int_t)s->docs);
}

static void keep_json(void *arg, const struct store_source *s)
{
    json_t **out = arg;
    *out = api__source_json(s);
}

/* Finds a source by numeric id or by name; answers 404 itself. */
json_t *api__source_lookup(struct http_req *req, struct http_resp *resp, const char *ref)
{
    struct store *st = req->ctx->store;
    json_t *j = NULL;
    long long id;
    cc_err err = api__int(ref, 1, INT64_MAX, &id) == CC_OK
                     ? st->ops->source_get(st, id, keep_json, &j)
                     : st->ops->source_get_by_name(st, ref, keep_json, &j);
    if (err == CC_ENOTFOUND || (!err && !j)) {
        char *msg = cc_arena_printf(req->arena, "no source '%s'", ref);
        http_resp_err(resp, CC_ENOTFOUND, msg ? msg : "no such source",
                      "list sources with GET /api/v1/sources");
        return NULL;
    }
    if (err) {
        http_resp_err(resp, err, "cannot read the source", NULL);
        return NULL;
    }
    return j;
}

static void add_json(void *arg, const struct store_source *s)
{
    json_array_append_new(arg, api__source_json(s));
}

void api__sources_list(struct http_req *req, struct http_resp *resp)
{
    struct store *st = req->ctx->store;
    json_t *list = json_array();
    cc_err err = st->ops->source_list(st, add_json, list);
    if (err) {
        json_decref(list);
        http_resp_err(resp, err, "cannot list sources", NULL);
        return;
    }
    http_resp_json(resp, 200, json_pack("{s:o}", "sources", list));
}

void api__sources_get(struct http_req *req, struct http_resp *resp)
{
    json_t *j = api__source_lookup(req, resp, http_req_param(req, "id"));
    if (j)
        http_resp_json(resp, 200, j);
}

/* ------------------------------------------------------------------ */
/* Validation shared by create and edit                                */

struct source_in {
    struct store_source src;
    char *auth;       /* serialized JSON, freed by the caller */
    char *options;
};

static bool bad(struct http_resp *resp, const char *msg, const char *hint)
{
    http_resp_err(resp, CC_EINVAL, msg, hint);
    return false;
}

static bool check_name(struct http_resp *resp, const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > STORE_NAME_MAX || strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                     "abcdefghijklmnopqrstuvwxyz0123456789._-") != n)
        return bad(resp, "'name' must be 1-64 characters of A-Z a-z 0-9 . _ -", NULL);
    if (strspn(name, "0123456789") == n)
        return bad(resp, "'name' must not be all digits: numbers address sources by id", NULL);
    return true;
}

static bool check_auth(struct http_req *req, struct http_resp *resp, json_t *auth)
{
    if (json_is_null(auth))
        return true;
    const char *type = json_string_value(json_object_get(auth, "type"));
    if (!json_is_object(auth) || !type)
        return bad(resp, "'auth' must be an object with a 'type' (basic, bearer or header)",
                   NULL);
    const char *key;
    json_t *v;
    json_object_foreach(auth, key, v) {
        if (!strcmp(key, "password") || !strcmp(key, "token") || !strcmp(key, "value"))
            return bad(resp, "secrets in 'auth' must come from files",
                       "use password_file, token_file or value_file with a path the daemon "
                       "can read");
        if (!json_is_string(v))
            return bad(resp, "every 'auth' field must be a string", NULL);
    }
    bool ok = (!strcmp(type, "basic") && json_object_get(auth, "username") &&
               json_object_get(auth, "password_file")) ||
              (!strcmp(type, "bearer") && json_object_get(auth, "token_file")) ||
              (!strcmp(type, "header") && json_object_get(auth, "header") &&
               json_object_get(auth, "value_file"));
    if (!ok)
        return bad(resp, "incomplete 'auth'",
                   "basic needs username and password_file; bearer needs token_file; "
                   "header needs header and value_file");
    /* What the fetcher will accept at request time (ingest/fetch.h). */
    char *text = json_dumps(auth, JSON_COMPACT);
    struct ingest_fetch_auth parsed;
    struct cc_diag d = {0};
    cc_err e = text ? ingest_fetch_auth_parse(text, &parsed, &d) : CC_ENOMEM;
    free(text);
    if (e)
        return bad(resp, e == CC_ENOMEM ? "cannot check 'auth'" : d.msg, NULL);
    return true;
}

static bool check_schedule(struct http_req *req, struct http_resp *resp,
                           const struct store_source *s)
{
    if (!s->schedule)
        return true;
    struct cc_diag d = {0};
    int64_t next;
    if (ingest_schedule_next(s->schedule, s->tz, cc_wall_ms(req->ctx->clock), &next, &d)) {
        char *msg = cc_arena_printf(req->arena, "invalid schedule or time zone: %s", d.msg);
        return bad(resp, msg ? msg : "invalid schedule",
                   "five cron fields (minute hour day month weekday) or @hourly, @daily, "
                   "@weekly, @monthly, @yearly; tz is an IANA zone such as Europe/Paris");
    }
    return true;
}

static const char *opt_str(json_t *body, const char *key, bool *ok, struct http_resp *resp)
{
    json_t *v = json_object_get(body, key);
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        *ok = false;
        http_resp_err(resp, CC_EINVAL, "a field has the wrong type",
                      "name, type, url, path, schedule and tz are strings");
        return NULL;
    }
    return json_string_value(v);
}

/* Applies the fields present in body over in->src. */
static bool apply_fields(struct http_req *req, struct http_resp *resp, json_t *body,
                         struct source_in *in)
{
    static const char *const fields[] = {"name", "type", "url", "path", "schedule", "tz",
                                         "priority", "enabled", "auth", "options", NULL};
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v) {
        if (!in_list(key, fields)) {
            char *msg = cc_arena_printf(req->arena, "unknown field '%s'", key);
            return bad(resp, msg ? msg : "unknown field",
                       "fields: name, type, url, path, schedule, tz, priority, enabled, "
                       "auth, options");
        }
    }
    bool ok = true;
    struct store_source *s = &in->src;
    const char *const keys[] = {"name", "type", "url", "path", "schedule", "tz"};
    const char **dst[] = {&s->name, &s->type, &s->url, &s->path, &s->schedule, &s->tz};
    for (size_t i = 0; i < 6 && ok; i++)
        if (json_object_get(body, keys[i]))
            *dst[i] = opt_str(body, keys[i], &ok, resp);
    if (!ok)
        return false;
    json_t *p = json_object_get(body, "priority");
    if (p && (!json_is_integer(p) || json_integer_value(p) < 1 || json_integer_value(p) > 10))
        return bad(resp, "'priority' must be an integer from 1 to 10",
                   "10 ranks a source's passages highest (2x), 1 lowest (0.5x)");
    if (p)
        s->priority = (int)json_integer_value(p);
    json_t *e = json_object_get(body, "enabled");
    if (e && !json_is_boolean(e))
        return bad(resp, "'enabled' must be true or false", NULL);
    if (e)
        s->enabled = json_is_true(e);
    json_t *auth = json_object_get(body, "auth");
    if (auth && !check_auth(req, resp, auth))
        return false;
    if (auth) {
        free(in->auth);
        in->auth = json_is_null(auth) ? NULL : json_dumps(auth, JSON_COMPACT | JSON_SORT_KEYS);
        s->auth_json = in->auth;
    }
    json_t *o = json_object_get(body, "options");
    if (o && !json_is_object(o))
        return bad(resp, "'options' must be an object", NULL);
    if (o) {
        free(in->options);
        in->options = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        s->options_json = in->options;
    }
    return true;
}

static bool validate(struct http_req *req, struct http_resp *resp, const struct store_source *s)
{
    if (!s->name || !s->type)
        return bad(resp, "'name' and 'type' are required",
                   "send {\"name\": \"handbook\", \"type\": \"file\", \"path\": \"/srv/docs\"}");
    if (!check_name(resp, s->name))
        return false;
    struct api_deps *deps = req->server_data;
    struct ingest_source_problem p = {0};
    cc_err err = ingest_source_check(s, &deps->sources_env, &p);
    if (err) {
        char *msg = cc_arena_strdup(req->arena, p.msg);
        http_resp_err(resp, err, msg ? msg : "the source is not valid", p.hint);
        return false;
    }
    return check_schedule(req, resp, s);
}

/* After a change: recompute the next run and wake the scheduler. */
static void reschedule(struct http_req *req, const struct store_source *s, int64_t id)
{
    struct api_deps *deps = req->server_data;
    int64_t next = 0;
    struct cc_diag d = {0};
    if (s->schedule && s->enabled)
        ingest_schedule_next(s->schedule, s->tz, cc_wall_ms(req->ctx->clock), &next, &d);
    req->ctx->store->ops->source_schedule(req->ctx->store, id, next);
    ingest_scheduler_wake(deps->scheduler);
    ingest_watcher_wake(deps->watcher);
}

void api__sources_create(struct http_req *req, struct http_resp *resp)
{
    json_t *body = NULL;
    if (http_req_json(req, resp, &body))
        return;
    int64_t now = cc_wall_ms(req->ctx->clock);
    struct source_in in = {.src = {.priority = 5, .enabled = true, .created_ms = now,
                                   .updated_ms = now}};
    if (!apply_fields(req, resp, body, &in) || !validate(req, resp, &in.src))
        goto out;
    struct store *st = req->ctx->store;
    int64_t id;
    cc_err err = st->ops->source_insert(st, &in.src, &id);
    if (err == CC_ECONFLICT) {
        http_resp_err(resp, CC_ECONFLICT, "a source with this name already exists",
                      "choose another name, or edit the existing source");
        goto out;
    }
    if (err) {
        http_resp_err(resp, err, "cannot create the source", NULL);
        goto out;
    }
    reschedule(req, &in.src, id);
    char ref[32];
    snprintf(ref, sizeof(ref), "%lld", (long long)id);
    json_t *j = api__source_lookup(req, resp, ref);
    if (j)
        http_resp_json(resp, 201, j);
out:
    free(in.auth);
    free(in.options);
    json_decref(body);
}

/* ------------------------------------------------------------------ */
/* Edit, delete, run, pause, resume                                    */

/* Uploads without a source land in "manual": it may be paused, not removed
 * or renamed. */
static bool is_default_source(const struct store_source *s)
{
    return strcmp(s->name, "manual") == 0 && strcmp(s->type, "manual") == 0;
}

struct src_copy {
    struct cc_arena *arena;
    struct store_source src;
    bool found;
};

static const char *adup(struct cc_arena *a, const char *s)
{
    return s ? cc_arena_strdup(a, s) : NULL;
}

static void copy_source(void *arg, const struct store_source *s)
{
    struct src_copy *c = arg;
    c->src = *s;
    c->src.name = adup(c->arena, s->name);
    c->src.type = adup(c->arena, s->type);
    c->src.url = adup(c->arena, s->url);
    c->src.path = adup(c->arena, s->path);
    c->src.schedule = adup(c->arena, s->schedule);
    c->src.tz = adup(c->arena, s->tz);
    c->src.auth_json = adup(c->arena, s->auth_json);
    c->src.options_json = adup(c->arena, s->options_json);
    c->src.last_status = adup(c->arena, s->last_status);
    c->src.last_error = adup(c->arena, s->last_error);
    c->found = true;
}

/* Loads the source named in the path into c (answering 404 itself). */
static bool load(struct http_req *req, struct http_resp *resp, struct src_copy *c)
{
    struct store *st = req->ctx->store;
    const char *ref = http_req_param(req, "id");
    c->arena = req->arena;
    long long id;
    cc_err err = api__int(ref, 1, INT64_MAX, &id) == CC_OK
                     ? st->ops->source_get(st, id, copy_source, c)
                     : st->ops->source_get_by_name(st, ref, copy_source, c);
    if (err == CC_ENOTFOUND || (!err && !c->found)) {
        char *msg = cc_arena_printf(req->arena, "no source '%s'", ref);
        http_resp_err(resp, CC_ENOTFOUND, msg ? msg : "no such source",
                      "list sources with GET /api/v1/sources");
        return false;
    }
    if (err) {
        http_resp_err(resp, err, "cannot read the source", NULL);
        return false;
    }
    return true;
}

static void answer_source(struct http_req *req, struct http_resp *resp, int64_t id, int status)
{
    char ref[32];
    snprintf(ref, sizeof(ref), "%lld", (long long)id);
    json_t *j = api__source_lookup(req, resp, ref);
    if (j)
        http_resp_json(resp, status, j);
}

void api__sources_edit(struct http_req *req, struct http_resp *resp)
{
    json_t *body = NULL;
    struct src_copy c = {0};
    struct source_in in = {0};
    if (http_req_json(req, resp, &body) || !load(req, resp, &c))
        goto out;
    const char *old_type = c.src.type;
    bool was_default = is_default_source(&c.src);
    in.src = c.src;
    if (!apply_fields(req, resp, body, &in))
        goto out;
    if (was_default && strcmp(in.src.name, "manual") != 0) {
        http_resp_err(resp, CC_ESTATE, "the default 'manual' source cannot be renamed",
                      "documents posted without a source go there");
        goto out;
    }
    if (strcmp(in.src.type, old_type) != 0) {
        http_resp_err(resp, CC_EINVAL, "a source's type cannot change",
                      "create a new source of the other type");
        goto out;
    }
    if (!validate(req, resp, &in.src))
        goto out;
    in.src.updated_ms = cc_wall_ms(req->ctx->clock);
    struct store *st = req->ctx->store;
    cc_err err = st->ops->source_update(st, &in.src);
    if (err == CC_ECONFLICT) {
        http_resp_err(resp, CC_ECONFLICT, "a source with this name already exists", NULL);
        goto out;
    }
    if (err) {
        http_resp_err(resp, err, "cannot update the source", NULL);
        goto out;
    }
    reschedule(req, &in.src, in.src.id);
    answer_source(req, resp, in.src.id, 200);
out:
    free(in.auth);
    free(in.options);
    json_decref(body);
}

void api__sources_delete(struct http_req *req, struct http_resp *resp)
{
    struct src_copy c = {0};
    if (!load(req, resp, &c))
        return;
    if (is_default_source(&c.src)) {
        http_resp_err(resp, CC_ESTATE, "the default 'manual' source cannot be deleted",
                      "documents posted without a source go there; pause it instead, or "
                      "delete its documents one by one");
        return;
    }
    struct store *st = req->ctx->store;
    cc_err err = st->ops->source_delete(st, c.src.id);
    if (err) {
        http_resp_err(resp, err, "cannot delete the source", NULL);
        return;
    }
    ingest_watcher_wake(((struct api_deps *)req->server_data)->watcher);
    cc_buf_reset(&resp->body);
    resp->status = 204;
}

static void set_enabled(struct http_req *req, struct http_resp *resp, bool enabled)
{
    struct src_copy c = {0};
    if (!load(req, resp, &c))
        return;
    c.src.enabled = enabled;
    c.src.updated_ms = cc_wall_ms(req->ctx->clock);
    struct store *st = req->ctx->store;
    cc_err err = st->ops->source_update(st, &c.src);
    if (err) {
        http_resp_err(resp, err, "cannot update the source", NULL);
        return;
    }
    reschedule(req, &c.src, c.src.id);
    answer_source(req, resp, c.src.id, 200);
}

void api__sources_pause(struct http_req *req, struct http_resp *resp)
{
    set_enabled(req, resp, false);
}

void api__sources_resume(struct http_req *req, struct http_resp *resp)
{
    set_enabled(req, resp, true);
}

void api__sources_run(struct http_req *req, struct http_resp *resp)
{
    struct api_deps *deps = req->server_data;
    struct src_copy c = {0};
    if (!load(req, resp, &c))
        return;
    const struct ingest_source_type *t = ingest_source_type_find(c.src.type);
    if (!t || !t->run) {
        char *msg = cc_arena_printf(req->arena, "a %s source has nothing to run", c.src.type);
        http_resp_err(resp, CC_ESTATE, msg ? msg : "this source has nothing to run",
                      t ? t->what : NULL);
        return;
    }
    int64_t job = 0;
    bool existing = false;
    cc_err err = ingest_enqueue_source_run(req->ctx, c.src.id, deps->knowledge.queue_limit,
                                           deps->knowledge.max_attempts, &job, &existing);
    if (err == CC_ELIMIT) {
        http_resp_too_many(resp, 30, "the source's job queue is full",
                           "wait for queued jobs to finish (GET /api/v1/jobs)");
        return;
    }
    if (err) {
        http_resp_err(resp, err, "cannot queue the run", NULL);
        return;
    }
    ingest_workers_wake(deps->workers);
    http_resp_json(resp, 202, json_pack("{s:I, s:b, s:s}", "job_id", (json_int_t)job,
                                        "already_queued", existing, "source", c.src.name));
}
