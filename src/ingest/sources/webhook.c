/*
 * webhook.c - the "webhook" source: documents pushed to the daemon.
 *
 * A webhook source points at nothing. Its documents arrive through
 * POST /api/v1/webhooks/generic/{source} (one ingest.document job each),
 * and a GitHub push to the repository its options.github names queues a
 * source.run carrying the paths the push changed and removed
 * (docs/WEBHOOKS.md). That run:
 *   - removes the documents of removed paths (external id = the path);
 *   - queues one document job per changed file of a type the pipeline
 *     reads (by its extension), which fetches the file's raw contents from
 *     options.raw_url_template ("https://raw.example/{repository}/{sha}/{path}")
 *     through the daemon's fetcher (TLS, SSRF guard, the source's auth) and
 *     parses it as its extension says (raw file hosts answer text/plain);
 *     the document's external id is the path, so a later push or removal
 *     finds it. Paths of other types, or with no template, are counted as
 *     skipped in the run's log line.
 * A run with no push in its payload (run now, a generic {"run": true}) has
 * nothing to do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "ingest/pipeline.h"
#include "ingest/sources/github.h"
#include "ingest/sources/types.h"

#define RAW_URL_MAX 2048

/* {repository}, {sha} and {path} of the template, the path's bytes
 * outside [A-Za-z0-9/._~-] percent-encoded. CC_ELIMIT past RAW_URL_MAX. */
static cc_err raw_url(const char *tmpl, const char *repo, const char *sha, const char *path,
                      struct cc_buf *out)
{
    static const char keep[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                               "0123456789/._~-";
    cc_err err = CC_OK;
    for (const char *p = tmpl; *p && !err; p++) {
        if (strncmp(p, "{repository}", 12) == 0) {
            err = cc_buf_addstr(out, repo);
            p += 11;
        } else if (strncmp(p, "{sha}", 5) == 0) {
            err = cc_buf_addstr(out, sha);
            p += 4;
        } else if (strncmp(p, "{path}", 6) == 0) {
            for (const char *q = path; *q && !err; q++)
                err = strchr(keep, *q) ? cc_buf_add(out, q, 1)
                                       : cc_buf_addf(out, "%%%02X", (unsigned char)*q);
            p += 5;
        } else {
            err = cc_buf_add(out, p, 1);
        }
    }
    return err;
}

/* A document job that fetches path's raw contents from url. */
static cc_err file_job(struct ingest_job_ctx *jc, const struct ingest_source *src,
                       const char *path, const char *type, const char *url,
                       struct store_job *out)
{
    json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "external_id", path, "title", path,
                          "url", url, "content_type", type, "fetch", 1, "keep_type", 1);
    char *key = cc_arena_printf(jc->arena, "webhook:%lld:%s", (long long)src->id, path);
    cc_err err = !p ? CC_ENOMEM : !key ? CC_ELIMIT : ingest_source_doc_job(jc, src, p, key, out);
    json_decref(p);
    return err;
}

static int64_t remove_paths(struct ingest_job_ctx *jc, const struct ingest_source *src,
                            json_t *removed)
{
    struct store *st = jc->ctx->store;
    int64_t n = 0;
    size_t i;
    json_t *v;
    json_array_foreach(removed, i, v) {
        const char *p = json_string_value(v);
        if (p && st->ops->doc_delete_external(st, src->id, p) == CC_OK)
            n++;
    }
    return n;
}

static cc_err run(struct ingest_job_ctx *jc, const struct ingest_source *src, json_t *payload,
                  bool *finished)
{
    *finished = true;
    json_t *changed = json_object_get(payload, "changed");
    json_t *removed = json_object_get(payload, "removed");
    if (!json_is_array(changed) && !json_is_array(removed))
        return CC_OK;   /* run now: documents arrive by delivery */
    json_t *opts = src->options_json ? json_loads(src->options_json, 0, NULL) : NULL;
    const char *tmpl = json_string_value(json_object_get(opts, "raw_url_template"));
    const char *repo = json_string_value(json_object_get(payload, "repository"));
    const char *sha = json_string_value(json_object_get(payload, "after"));
    ingest_job_stage(jc, "fetch");
    int64_t gone = remove_paths(jc, src, removed);
    size_t skipped = 0, n = 0, done = 0, i;
    int64_t queued = 0;
    json_t *v;
    struct cc_buf url;
    struct store_job *jobs = cc_xcalloc(STORE_BATCH_MAX, sizeof(*jobs));
    cc_err err = CC_OK;
    cc_buf_init(&url, RAW_URL_MAX);
    json_array_foreach(changed, i, v) {
        const char *path = json_string_value(v);
        const char *type = path ? ingest_content_type_for_path(path) : NULL;
        cc_buf_reset(&url);
        if (!type || !tmpl || !repo || !sha || raw_url(tmpl, repo, sha, path, &url) != CC_OK) {
            skipped++;
            continue;
        }
        err = file_job(jc, src, path, type, cc_buf_str(&url), &jobs[n]);
        if (!err && ++n == STORE_BATCH_MAX) {
            err = ingest_source_queue_docs(jc, jobs, n, &done, &queued);
            n = 0;
        }
        if (err)
            break;
    }
    if (!err && n)
        err = ingest_source_queue_docs(jc, jobs, n, &done, &queued);
    cc_buf_release(&url);
    free(jobs);
    cc_log_info(jc->ctx->log, "ingest", "webhook source push", CC_LS("source", src->name),
                CC_LI("changed", json_array_size(changed)), CC_LI("queued", queued),
                CC_LI("removed", gone), CC_LI("skipped", skipped),
                CC_LS("why", skipped ? (tmpl ? "unsupported file types"
                                             : "no options.raw_url_template") : ""));
    json_decref(opts);
    if (err == CC_ELIMIT) {
        ingest_job_errorf(jc, "the source's job queue is full; retried once it drains");
        return CC_EAGAIN;   /* the dedup keys keep what was queued from repeating */
    }
    if (err)
        ingest_job_errorf(jc, "cannot queue the changed files: %s", cc_err_str(err));
    return err;
}

static cc_err check(const struct store_source *s, const struct ingest_source_env *env,
                    struct ingest_source_problem *p)
{
    (void)env;
    if (s->schedule) {
        snprintf(p->msg, sizeof(p->msg), "a webhook source has nothing to run on a schedule");
        p->hint = "its documents arrive by webhook deliveries";
        return CC_EINVAL;
    }
    json_t *opts = s->options_json ? json_loads(s->options_json, 0, NULL) : NULL;
    json_t *t = json_object_get(opts, "raw_url_template");
    cc_err err = CC_OK;
    const char *ts = json_string_value(t);
    if (t && (!ts || (strncmp(ts, "https://", 8) != 0 && strncmp(ts, "http://", 7) != 0) ||
              !strstr(ts, "{path}") || json_string_length(t) > 512)) {
        snprintf(p->msg, sizeof(p->msg),
                 "options.raw_url_template must be an http(s):// URL with {path}");
        p->hint = "e.g. https://raw.githubusercontent.com/{repository}/{sha}/{path}";
        err = CC_EINVAL;
    }
    json_decref(opts);
    return err;
}

const struct ingest_source_type ingest_source_webhook = {
    .name = "webhook",
    .what = "documents delivered to /api/v1/webhooks/generic/{source}, or files changed by "
            "GitHub pushes",
    .locator = INGEST_SOURCE_NOTHING,
    .check = check,
    .run = run,
};
