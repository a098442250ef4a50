/*
 * webhook.c - the "webhook" source: documents pushed to the daemon.
 *
 * A webhook source points at nothing. Its documents arrive through
 * POST /api/v1/webhooks/generic/{source} (one ingest.document job each),
 * and a GitHub push to the repository its options.github names queues a
 * source.run carrying the paths the push changed and removed
 * (docs/WEBHOOKS.md). That run:
 *   - removes the documents of removed paths (external id = the path);
 *   - for changed paths, would fetch each file's raw contents from
 *     options.raw_url_template ("https://raw.example/{repository}/{sha}/{path}")
 *     and ingest it. Fetching needs the libcurl fetcher with its SSRF guard
 *     (issue 9, item 1), which this build does not have yet, so fetch_raw()
 *     refuses and the run records the paths it could not fetch in its log
 *     and in the job (its payload lists them) instead of ingesting them.
 * A run with no push in its payload (run now, a generic {"run": true}) has
 * nothing to do.
 */
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
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

/* The one place a webhook source would fetch a file. The libcurl fetcher
 * (src/ingest/fetch.h, SSRF guard included) is not in this build, and the
 * daemon must not grow a second HTTP client for outside hosts, so this
 * refuses: the caller records the path as not fetched. */
static cc_err fetch_raw(struct ingest_job_ctx *jc, const struct ingest_source *src,
                        const char *url)
{
    (void)jc;
    (void)src;
    (void)url;
    return CC_EUNSUPPORTED;
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
    size_t not_fetched = 0, i;
    json_t *v;
    struct cc_buf url;
    cc_buf_init(&url, RAW_URL_MAX);
    json_array_foreach(changed, i, v) {
        const char *path = json_string_value(v);
        cc_buf_reset(&url);
        if (!path || !tmpl || !repo || !sha || raw_url(tmpl, repo, sha, path, &url) != CC_OK ||
            fetch_raw(jc, src, cc_buf_str(&url)) != CC_OK)
            not_fetched++;
    }
    cc_buf_release(&url);
    cc_log_info(jc->ctx->log, "ingest", "webhook source push", CC_LS("source", src->name),
                CC_LI("changed", json_array_size(changed)), CC_LI("removed", gone),
                CC_LI("not_fetched", not_fetched),
                CC_LS("why", not_fetched ? "no fetcher in this build (issue 9 item 1)" : ""));
    json_decref(opts);
    return CC_OK;
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
    if (t && (!json_is_string(t) || strncmp(json_string_value(t), "https://", 8) != 0 ||
              !strstr(json_string_value(t), "{path}") || json_string_length(t) > 512)) {
        snprintf(p->msg, sizeof(p->msg),
                 "options.raw_url_template must be an https:// URL with {path}");
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
