/*
 * page.c - web pages as documents: fetched by the document job with the
 * validators of their last fetch, turned into text by the main-content
 * extractor, and their new validators remembered once stored.
 *
 * The validators live in the source's state under "page:<url>" as
 * {"etag": "...", "last_modified": "...", "fetched_ms": N}. They are
 * written only after the document they describe is in the store, so a
 * crash between fetch and write costs a full fetch next time, never a
 * page that a 304 would keep out of the store.
 */
#include "ingest/sources/sources.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/log.h"
#include "ingest/fetch.h"
#include "ingest/pipeline.h"
#include "ingest/web/extract.h"

#define STATE_PREFIX "page:"

struct validators {
    char etag[256];
    char last_modified[64];
    int64_t fetched_ms;
    bool found;
};

static void keep_validators(void *arg, const char *key, const char *value, int64_t updated_ms)
{
    struct validators *v = arg;
    (void)key;
    (void)updated_ms;
    json_t *j = json_loads(value, 0, NULL);
    const char *etag = json_string_value(json_object_get(j, "etag"));
    const char *lm = json_string_value(json_object_get(j, "last_modified"));
    snprintf(v->etag, sizeof(v->etag), "%s", etag ? etag : "");
    snprintf(v->last_modified, sizeof(v->last_modified), "%s", lm ? lm : "");
    v->fetched_ms = json_integer_value(json_object_get(j, "fetched_ms"));
    v->found = true;
    json_decref(j);
}

static bool page_key(const char *url, char *out, size_t outsz)
{
    int n = snprintf(out, outsz, STATE_PREFIX "%s", url);
    return n > 0 && (size_t)n < outsz && (size_t)n <= STORE_STATE_KEY_MAX;
}

int64_t ingest_page_fetched_ms(struct ingest_job_ctx *jc, int64_t source_id, const char *url)
{
    struct store *st = jc->ctx->store;
    char key[STORE_STATE_KEY_MAX + 1];
    struct validators v = {0};
    if (!page_key(url, key, sizeof(key)) ||
        st->ops->source_state_get(st, source_id, key, keep_validators, &v) != CC_OK)
        return 0;
    return v.fetched_ms;
}

bool ingest_same_origin(const char *a, const char *b)
{
    /* scheme://authority, compared without case */
    const char *ea = a ? strstr(a, "://") : NULL, *eb = b ? strstr(b, "://") : NULL;
    if (!ea || !eb)
        return false;
    size_t na = (size_t)(ea - a) + 3 + strcspn(ea + 3, "/?#");
    size_t nb = (size_t)(eb - b) + 3 + strcspn(eb + 3, "/?#");
    return na == nb && strncasecmp(a, b, na) == 0;
}

struct auth_of {
    struct cc_arena *arena;
    const char *url;
    const char *auth;
};

/* The source's auth goes only where the source points: a feed's
 * credentials never reach the sites its entries link to. A source that
 * points at nothing (webhook) names its file host in its options. */
static void keep_auth(void *arg, const struct store_source *s)
{
    struct auth_of *a = arg;
    if (s->auth_json && (!s->url || ingest_same_origin(s->url, a->url)))
        a->auth = cc_arena_strdup(a->arena, s->auth_json);
}

cc_err ingest_http_outcome(struct ingest_job_ctx *jc, const char *url, long status,
                           int64_t retry_after_ms)
{
    if (status == 304 || (status >= 200 && status <= 299))
        return CC_OK;
    if (status == 404 || status == 410) {
        ingest_job_errorf(jc, "%s answered HTTP %ld: it is gone", url, status);
        return CC_ENOTFOUND;
    }
    if (status == 401 || status == 403) {
        ingest_job_errorf(jc, "%s answered HTTP %ld: check the source's auth", url, status);
        return CC_EAUTH;
    }
    if ((status == 429 || status >= 500) && retry_after_ms >= 0)
        ingest_job_errorf(jc, "%s answered HTTP %ld; it asks to retry in %lld s", url, status,
                          (long long)((retry_after_ms + 999) / 1000));
    else
        ingest_job_errorf(jc, "%s answered HTTP %ld", url, status);
    return CC_EUPSTREAM;
}

cc_err ingest_page_get(struct ingest_job_ctx *jc, int64_t source_id, const char *url,
                       struct ingest_page_fetch *out)
{
    const struct ingest_pipeline_cfg *cfg = jc->data;
    struct store *st = jc->ctx->store;
    if (!cfg->fetcher) {
        ingest_job_errorf(jc, "this daemon has no fetcher for web pages");
        return CC_EUNSUPPORTED;
    }
    char key[STORE_STATE_KEY_MAX + 1];
    struct validators v = {0};
    if (page_key(url, key, sizeof(key)))
        st->ops->source_state_get(st, source_id, key, keep_validators, &v);
    struct auth_of a = {.arena = jc->arena, .url = url};
    st->ops->source_get(st, source_id, keep_auth, &a);
    struct ingest_fetch_req req = {
        .url = url, .etag = v.etag, .last_modified = v.last_modified, .auth_json = a.auth,
        .accept = "text/html,application/xhtml+xml;q=0.9,text/markdown;q=0.8,"
                  "text/plain;q=0.7,*/*;q=0.1",
        .max_bytes = cfg->max_document_bytes};
    struct ingest_fetch_resp resp = {0};
    char why[512];
    ingest_job_stage(jc, "fetch");
    cc_err err = ingest_fetch(cfg->fetcher, &req, &resp, why, sizeof(why));
    if (err) {
        ingest_job_errorf(jc, "cannot fetch %s: %s", url, why);
        return err;
    }
    err = ingest_http_outcome(jc, url, resp.status, resp.retry_after_ms);
    if (err) {
        ingest_fetch_resp_release(&resp);
        return err;
    }
    *out = (struct ingest_page_fetch){.data = (uint8_t *)resp.body, .len = resp.len,
                                      .not_modified = resp.not_modified};
    resp.body = NULL;
    snprintf(out->type, sizeof(out->type), "%s", resp.content_type[0] ? resp.content_type
                                                                      : "text/html");
    snprintf(out->etag, sizeof(out->etag), "%s", resp.etag);
    snprintf(out->last_modified, sizeof(out->last_modified), "%s", resp.last_modified);
    ingest_fetch_resp_release(&resp);
    return CC_OK;
}

void ingest_page_fetch_release(struct ingest_page_fetch *f)
{
    if (!f)
        return;
    free(f->data);
    f->data = NULL;
    f->len = 0;
}

void ingest_page_remember(struct ingest_job_ctx *jc, int64_t source_id, const char *url,
                          const char *etag, const char *last_modified)
{
    struct store *st = jc->ctx->store;
    char key[STORE_STATE_KEY_MAX + 1];
    if (!page_key(url, key, sizeof(key)))
        return;
    int64_t now = cc_wall_ms(jc->ctx->clock);
    json_t *j = json_pack("{s:s, s:s, s:I}", "etag", etag ? etag : "", "last_modified",
                          last_modified ? last_modified : "", "fetched_ms", (json_int_t)now);
    char *value = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (value && st->ops->source_state_put(st, source_id, key, value, now) != CC_OK)
        cc_log_warn(jc->ctx->log, "ingest", "cannot remember a page's validators",
                    CC_LS("url", url));
    free(value);
}

void ingest_page_forget(struct ingest_job_ctx *jc, int64_t source_id, const char *url)
{
    struct store *st = jc->ctx->store;
    char key[STORE_STATE_KEY_MAX + 1];
    if (page_key(url, key, sizeof(key)))
        st->ops->source_state_put(st, source_id, key, NULL, cc_wall_ms(jc->ctx->clock));
}

bool ingest_page_is_redirect(const char *html, size_t len)
{
    /* <meta http-equiv="refresh" content="0; url=..."> in the head: the
     * first 64 KiB, compared without case. */
    char head[65536];
    size_t n = len < sizeof(head) - 1 ? len : sizeof(head) - 1;
    for (size_t i = 0; i < n; i++)
        head[i] = (char)tolower((unsigned char)html[i]);
    head[n] = '\0';
    for (const char *p = strstr(head, "http-equiv"); p; p = strstr(p + 10, "http-equiv")) {
        const char *end = strchr(p, '>');
        const char *r = strstr(p, "refresh");
        const char *c = strstr(p, "content");
        if (!end || !r || r > end)
            continue;
        if (!c || c > end) {                  /* content before http-equiv */
            const char *tag = p;
            while (tag > head && *tag != '<')
                tag--;
            c = strstr(tag, "content");
            if (!c || c > end)
                continue;
        }
        c += 7 + strspn(c + 7, " \t=\"'");
        if (c[0] == '0' && (c[1] == ';' || c[1] == ',' || c[1] == '.'))
            return true;
    }
    return false;
}

cc_err ingest_page_text(struct ingest_job_ctx *jc, const char *html, size_t len, const char *url,
                        struct ingest_text *out, char *version, size_t versionsz)
{
    struct ingest_page page;
    struct cc_diag d = {0};
    ingest_page_init(&page, out->limit);
    cc_err err = ingest_page_extract(html, len, url, &page, &d);
    if (err) {
        ingest_job_errorf(jc, "cannot extract %s: %s", url, d.msg[0] ? d.msg : cc_err_str(err));
    } else if (page.needs_javascript) {
        ingest_job_errorf(jc, "%s needs JavaScript to show its content; it was not indexed",
                          url);
        err = CC_EUNSUPPORTED;
    } else {
        ingest_text_release(out);
        *out = page.text;
        page.text = (struct ingest_text){0};
        snprintf(version, versionsz, "%s", page.version);
    }
    ingest_page_release(&page);
    return err;
}
