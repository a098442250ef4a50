/*
 * registry.c - the source types, the checks every type shares, and the
 * "source.run" job handler that dispatches to a type's run.
 */
#include "ingest/sources/sources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/diag.h"
#include "core/log.h"
#include "ingest/fetch.h"
#include "ingest/pipeline.h"
#include "ingest/source_metrics.h"
#include "ingest/sources/github.h"
#include "ingest/sources/types.h"

/* Documents posted to the API (or uploaded without a source) land in a
 * manual source: nothing to point at, nothing to run. */
static const struct ingest_source_type manual_type = {
    .name = "manual",
    .what = "documents posted to /api/v1/knowledge/documents",
    .locator = INGEST_SOURCE_NOTHING,
};

const struct ingest_source_type *const ingest_source_types[] = {
    &ingest_source_rss,
    &ingest_source_docs,
    &ingest_source_file,
    &ingest_source_webhook,
    &manual_type,
    NULL,
};

const struct ingest_source_type *ingest_source_type_find(const char *name)
{
    for (const struct ingest_source_type *const *t = ingest_source_types; name && *t; t++)
        if (strcmp((*t)->name, name) == 0)
            return *t;
    return NULL;
}

void ingest_source_type_names(char *out, size_t outsz)
{
    size_t n = 0, len = 0;
    while (ingest_source_types[n])
        n++;
    out[0] = '\0';
    for (size_t i = 0; i < n && len < outsz; i++)
        len += (size_t)snprintf(out + len, outsz - len, "%s%s",
                                i == 0 ? "" : i + 1 == n ? " or " : ", ",
                                ingest_source_types[i]->name);
}

/* The webhook options any type may carry (docs/WEBHOOKS.md): secrets
 * only as files, like auth's; options.github only on the types a GitHub
 * delivery reaches. */
static cc_err check_webhook_options(const struct store_source *s,
                                    struct ingest_source_problem *p)
{
    json_t *opts = s->options_json ? json_loads(s->options_json, 0, NULL) : NULL;
    json_t *sf = json_object_get(opts, "secret_file");
    struct ingest_github_opts gh;
    char why[200] = "";
    cc_err err = CC_OK;
    p->hint = "see docs/WEBHOOKS.md";
    if (json_object_get(opts, "secret")) {
        snprintf(p->msg, sizeof(p->msg), "secrets in 'options' must come from files");
        p->hint = "use options.secret_file with a path the daemon can read";
        err = CC_EINVAL;
    } else if (sf && (!json_is_string(sf) || json_string_value(sf)[0] != '/' ||
                      json_string_length(sf) > INGEST_GITHUB_FIELD_MAX)) {
        snprintf(p->msg, sizeof(p->msg), "options.secret_file must be an absolute path");
        err = CC_EINVAL;
    } else if ((err = ingest_github_opts_parse(opts, &gh, why, sizeof(why))) == CC_ENOTFOUND) {
        err = CC_OK;
    } else if (err) {
        snprintf(p->msg, sizeof(p->msg), "%s", why);
    } else if (strcmp(s->type, "docs") != 0 && strcmp(s->type, "webhook") != 0) {
        snprintf(p->msg, sizeof(p->msg), "options.github is for docs and webhook sources");
        err = CC_EINVAL;
    }
    json_decref(opts);
    return err;
}

cc_err ingest_source_check(const struct store_source *s, const struct ingest_source_env *env,
                           struct ingest_source_problem *p)
{
    const struct ingest_source_type *t = ingest_source_type_find(s->type);
    if (!t) {
        char names[128];
        ingest_source_type_names(names, sizeof(names));
        snprintf(p->msg, sizeof(p->msg), "'type' must be %s", names);
        p->hint = NULL;
        return CC_EINVAL;
    }
    bool want_url = t->locator == INGEST_SOURCE_URL, want_path = t->locator == INGEST_SOURCE_PATH;
    if (want_url != (s->url != NULL) || want_path != (s->path != NULL)) {
        snprintf(p->msg, sizeof(p->msg), "a %s source %s", t->name,
                 want_url    ? "needs a 'url' and no 'path'"
                 : want_path ? "needs a 'path' and no 'url'"
                             : "has neither 'url' nor 'path'");
        p->hint = t->what;
        return CC_EINVAL;
    }
    if (s->schedule && !t->run) {
        snprintf(p->msg, sizeof(p->msg), "a %s source has nothing to run on a schedule",
                 t->name);
        p->hint = t->what;
        return CC_EINVAL;
    }
    cc_err err = check_webhook_options(s, p);
    if (err)
        return err;
    return t->check ? t->check(s, env, p) : CC_OK;
}

cc_err ingest_source_check_auth(const struct store_source *s, struct ingest_source_problem *p)
{
    struct ingest_fetch_auth auth;
    struct cc_diag d = {0};
    if (ingest_fetch_auth_parse(s->auth_json, &auth, &d) == CC_OK)
        return CC_OK;
    snprintf(p->msg, sizeof(p->msg), "%.250s", d.msg);
    p->hint = "auth is {\"type\": \"basic\"|\"bearer\"|\"header\", ...} with secrets in files";
    return CC_EINVAL;
}

/* ------------------------------------------------------------------ */
/* Queueing what a run found                                           */

cc_err ingest_source_doc_job(struct ingest_job_ctx *jc, const struct ingest_source *src,
                             json_t *payload, const char *dedup_key, struct store_job *out)
{
    const struct ingest_pipeline_cfg *cfg = jc->data;
    if (json_object_set_new(payload, "source_id", json_integer(src->id)) ||
        json_object_set_new(payload, "source_name", json_string(src->name)))
        return CC_ENOMEM;
    char *text = json_dumps(payload, JSON_COMPACT);
    if (!text)
        return CC_ENOMEM;
    char *p = cc_arena_strdup(jc->arena, text);
    free(text);
    char *key = dedup_key ? cc_arena_strdup(jc->arena, dedup_key) : NULL;
    if (!p || (dedup_key && !key))
        return CC_ELIMIT;
    int64_t now = cc_wall_ms(jc->ctx->clock);
    *out = (struct store_job){.kind = "ingest.document", .source_id = src->id,
                              .dedup_key = key, .payload = p, .payload_len = strlen(p),
                              .max_attempts = cfg->max_attempts, .next_run_ms = now,
                              .created_ms = now, .updated_ms = now};
    return CC_OK;
}

cc_err ingest_source_queue_docs(struct ingest_job_ctx *jc, struct store_job *jobs, size_t n,
                                size_t *done, int64_t *queued)
{
    const struct ingest_pipeline_cfg *cfg = jc->data;
    bool existing[STORE_BATCH_MAX];
    size_t total = 0;
    int64_t fresh = 0;
    cc_err err = CC_OK;
    while (total < n && !err) {
        size_t part = n - total < STORE_BATCH_MAX ? n - total : STORE_BATCH_MAX, ok = 0;
        err = store_job_enqueue_batch(jc->ctx->store, jobs + total, part, cfg->queue_limit,
                                      NULL, existing, &ok);
        for (size_t i = 0; i < ok; i++)
            fresh += !existing[i];
        total += ok;
    }
    if (total)
        ingest_workers_wake(jc->workers);   /* start on these while the run goes on */
    *done = total;
    *queued += fresh;
    return err;
}

cc_err ingest_source_continue(struct ingest_job_ctx *jc, const struct ingest_source *src,
                              json_t *payload, int64_t delay_ms)
{
    const struct ingest_pipeline_cfg *cfg = jc->data;
    if (json_object_set_new(payload, "source_id", json_integer(src->id)))
        return CC_ENOMEM;
    char *text = json_dumps(payload, JSON_COMPACT);
    if (!text)
        return CC_ENOMEM;
    /* No dedup key: this job may itself be a continuation holding one. */
    int64_t now = cc_wall_ms(jc->ctx->clock);
    struct store_job j = {.kind = "source.run", .source_id = src->id, .payload = text,
                          .payload_len = strlen(text), .max_attempts = cfg->max_attempts,
                          .next_run_ms = now + delay_ms, .created_ms = now, .updated_ms = now};
    int64_t id;
    cc_err err = jc->ctx->store->ops->job_enqueue(jc->ctx->store, &j, 0, &id, NULL);
    free(text);
    return err;
}

static const char *dup_or_null(struct cc_arena *a, const char *s, bool *ok)
{
    char *c = s ? cc_arena_strdup(a, s) : NULL;
    if (s && !c)
        *ok = false;
    return c;
}

/* Changes a source's options, as the API would (the run state is kept). */
struct whole {
    struct cc_arena *arena;
    struct store_source s;
    bool ok;
};

static void keep_whole(void *arg, const struct store_source *s)
{
    struct whole *w = arg;
    bool ok = true;
    w->s = *s;
    w->s.name = dup_or_null(w->arena, s->name, &ok);
    w->s.type = dup_or_null(w->arena, s->type, &ok);
    w->s.url = dup_or_null(w->arena, s->url, &ok);
    w->s.path = dup_or_null(w->arena, s->path, &ok);
    w->s.schedule = dup_or_null(w->arena, s->schedule, &ok);
    w->s.tz = dup_or_null(w->arena, s->tz, &ok);
    w->s.auth_json = dup_or_null(w->arena, s->auth_json, &ok);
    w->s.last_status = dup_or_null(w->arena, s->last_status, &ok);
    w->s.last_error = dup_or_null(w->arena, s->last_error, &ok);
    w->ok = ok;
}

cc_err ingest_source_set_options(struct ingest_job_ctx *jc, int64_t id, const char *options_json)
{
    struct store *st = jc->ctx->store;
    struct whole w = {.arena = jc->arena};
    cc_err err = st->ops->source_get(st, id, keep_whole, &w);
    if (err)
        return err;
    if (!w.ok)
        return CC_ELIMIT;
    w.s.options_json = options_json;
    w.s.updated_ms = cc_wall_ms(jc->ctx->clock);
    return st->ops->source_update(st, &w.s);
}

/* ------------------------------------------------------------------ */
/* source.run                                                          */

struct found {
    struct cc_arena *arena;
    struct ingest_source src;
    bool ok;
};


static void keep_source(void *arg, const struct store_source *s)
{
    struct found *f = arg;
    bool ok = true;
    f->src = (struct ingest_source){
        .id = s->id, .priority = s->priority, .enabled = s->enabled,
        .name = dup_or_null(f->arena, s->name, &ok), .type = dup_or_null(f->arena, s->type, &ok),
        .url = dup_or_null(f->arena, s->url, &ok), .path = dup_or_null(f->arena, s->path, &ok),
        .auth_json = dup_or_null(f->arena, s->auth_json, &ok),
        .options_json = dup_or_null(f->arena, s->options_json, &ok)};
    f->ok = ok && f->src.name && f->src.type;
}

cc_err ingest_handle_source_run(struct ingest_job_ctx *jc)
{
    json_t *p = json_loadb(jc->job->payload, jc->job->payload_len, 0, NULL);
    if (!json_is_object(p)) {
        json_decref(p);
        p = json_object();
    }
    int64_t sid = json_integer_value(json_object_get(p, "source_id"));
    struct store *st = jc->ctx->store;
    struct found f = {.arena = jc->arena};
    cc_err err = sid ? st->ops->source_get(st, sid, keep_source, &f) : CC_EINVAL;
    if (err || !f.ok) {
        json_decref(p);
        ingest_job_errorf(jc, "source %lld does not exist any more", (long long)sid);
        return CC_ENOTFOUND;
    }
    const struct ingest_source_type *t = ingest_source_type_find(f.src.type);
    bool finished = true;
    if (t && t->run) {
        err = t->run(jc, &f.src, p, &finished);
    } else {
        ingest_job_errorf(jc, "sources of type '%s' have nothing to run", f.src.type);
        err = CC_EUNSUPPORTED;
    }
    json_decref(p);
    /* A run that continues later is recorded when its last part ends. */
    bool final = err ? !ingest_err_retryable(err) || jc->job->attempts >= jc->job->max_attempts
                     : finished;
    if (final) {
        struct store_source_run run = {.source_id = sid, .ran_ms = cc_wall_ms(jc->ctx->clock),
                                       .ok = !err, .error = err ? jc->error : NULL,
                                       .next_run_ms = -1};
        st->ops->source_record_run(st, &run);
        ingest_source_run_counted(jc->ctx->metrics, f.src.name, !err, run.ran_ms);
    }
    return err;
}
