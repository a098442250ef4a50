/*
 * rss.c - the "rss" source: a feed (RSS 0.9x/1.0/2.0, Atom, JSON Feed)
 * fetched on schedule, one document per entry.
 *
 * A run fetches the feed with the validators of its last fetch (a 304 ends
 * the run at once), parses it (ingest/feed/feed.h: encodings, dates,
 * xml:base, sanitized HTML, bozo for recoverable breakage) and queues one
 * ingest.document per entry. An entry's document is keyed by the feed's
 * dedup key (id/guid, then link, then content hash; repeated GUIDs
 * disambiguated), and the source remembers which document each entry link
 * became ("link:<url>" in its state): an entry whose GUID changed but whose
 * link did not updates its document instead of adding a second one.
 * Unchanged entries end as no-ops at the index stage.
 *
 * Options: full_text (false) - fetch and extract the linked page for
 * entries that carry only a summary, the summary being indexed when the
 * page cannot be had; max_items (500); max_age_days (0: no limit);
 * max_bytes (10 MB).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "ingest/feed/feed.h"
#include "ingest/fetch.h"
#include "ingest/pipeline.h"
#include "ingest/sources/types.h"

#define RSS_MAX_ITEMS_DEFAULT 500
#define RSS_MAX_ITEMS_CAP 10000
#define RSS_MAX_BYTES_DEFAULT ((size_t)10 << 20)
#define RSS_BATCH 128
#define RSS_ACCEPT "application/rss+xml, application/atom+xml, application/feed+json, " \
                   "application/rdf+xml;q=0.9, application/json;q=0.8, "                  \
                   "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"

struct rss_opts {
    bool full_text;
    size_t max_items;
    int64_t max_age_days;
    size_t max_bytes;
};

static cc_err parse_opts(const char *json, struct rss_opts *o, struct ingest_source_problem *p)
{
    *o = (struct rss_opts){.max_items = RSS_MAX_ITEMS_DEFAULT,
                           .max_bytes = RSS_MAX_BYTES_DEFAULT};
    json_t *j = json ? json_loads(json, 0, NULL) : NULL;
    const char *key;
    json_t *v;
    cc_err err = CC_OK;
    json_object_foreach(j, key, v) {
        if (!strcmp(key, "full_text") && json_is_boolean(v)) {
            o->full_text = json_is_true(v);
        } else if (!strcmp(key, "max_items") && json_is_integer(v) &&
                   json_integer_value(v) >= 1 && json_integer_value(v) <= RSS_MAX_ITEMS_CAP) {
            o->max_items = (size_t)json_integer_value(v);
        } else if (!strcmp(key, "max_age_days") && json_is_integer(v) &&
                   json_integer_value(v) >= 0) {
            o->max_age_days = json_integer_value(v);
        } else if (!strcmp(key, "max_bytes") && json_is_integer(v) &&
                   json_integer_value(v) >= 1024 && json_integer_value(v) <= (256 << 20)) {
            o->max_bytes = (size_t)json_integer_value(v);
        } else {
            snprintf(p->msg, sizeof(p->msg), "option '%s' of an rss source is unknown or out "
                     "of range", key);
            p->hint = "options: full_text (true/false), max_items (1-10000), max_age_days "
                      "(0 = no limit), max_bytes (1024-268435456)";
            err = CC_EINVAL;
            break;
        }
    }
    json_decref(j);
    return err;
}

static cc_err check(const struct store_source *s, const struct ingest_source_env *env,
                    struct ingest_source_problem *p)
{
    (void)env;
    struct rss_opts o;
    if (strncmp(s->url, "http://", 7) != 0 && strncmp(s->url, "https://", 8) != 0) {
        snprintf(p->msg, sizeof(p->msg), "an rss source's 'url' must be an http:// or "
                 "https:// URL");
        p->hint = "the address of the feed itself, e.g. https://example.org/feed.xml";
        return CC_EINVAL;
    }
    if (ingest_source_check_auth(s, p))
        return CC_EINVAL;
    return parse_opts(s->options_json, &o, p);
}

/* ---- the feed's own validators ----------------------------------------- */

struct feed_state {
    char etag[256];
    char last_modified[64];
};

static void keep_state(void *arg, const char *key, const char *value, int64_t updated_ms)
{
    struct feed_state *fs = arg;
    (void)key;
    (void)updated_ms;
    json_t *j = json_loads(value, 0, NULL);
    const char *etag = json_string_value(json_object_get(j, "etag"));
    const char *lm = json_string_value(json_object_get(j, "last_modified"));
    snprintf(fs->etag, sizeof(fs->etag), "%s", etag ? etag : "");
    snprintf(fs->last_modified, sizeof(fs->last_modified), "%s", lm ? lm : "");
    json_decref(j);
}

static void save_state(struct ingest_job_ctx *jc, const struct ingest_source *src,
                       const struct ingest_fetch_resp *resp)
{
    struct store *st = jc->ctx->store;
    json_t *j = json_pack("{s:s, s:s}", "etag", resp->etag, "last_modified",
                          resp->last_modified);
    char *value = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (value)
        st->ops->source_state_put(st, src->id, "feed", value, cc_wall_ms(jc->ctx->clock));
    free(value);
}

/* ---- entries -> document jobs ------------------------------------------ */

struct batch {
    struct ingest_job_ctx *jc;
    const struct ingest_source *src;
    struct store_job jobs[RSS_BATCH];
    size_t n;
    int64_t queued;
    size_t total;
};

static cc_err flush(struct batch *b)
{
    size_t done = 0;
    cc_err err = b->n ? ingest_source_queue_docs(b->jc, b->jobs, b->n, &done, &b->queued)
                      : CC_OK;
    b->total += done;
    b->n = 0;
    return err;
}

struct found_id {
    char id[FEED_KEY_MAX + 1];
    bool found;
};

static void keep_id(void *arg, const char *key, const char *value, int64_t updated_ms)
{
    struct found_id *f = arg;
    (void)key;
    (void)updated_ms;
    snprintf(f->id, sizeof(f->id), "%s", value);
    f->found = true;
}

/* The document an entry updates: its own key when a document has it, else
 * the document its link became before (its GUID changed), else a new one
 * under its key. The link's mapping is kept current. */
static const char *external_id(struct batch *b, const char *key, const char *link)
{
    struct store *st = b->jc->ctx->store;
    char hash[65];
    if (!link || strlen(link) + 5 > STORE_STATE_KEY_MAX)
        return key;
    char skey[STORE_STATE_KEY_MAX + 1];
    snprintf(skey, sizeof(skey), "link:%.*s", (int)strcspn(link, "#"), link);
    struct found_id f = {0};
    st->ops->source_state_get(st, b->src->id, skey, keep_id, &f);
    bool own = st->ops->doc_hash(st, b->src->id, key, hash) == CC_OK;
    const char *ext = key;
    if (f.found && !own && strcmp(f.id, key) != 0 &&
        st->ops->doc_hash(st, b->src->id, f.id, hash) == CC_OK)
        ext = cc_arena_strdup(b->jc->arena, f.id);
    if (!ext)
        ext = key;
    if (!f.found || strcmp(f.id, ext) != 0)
        st->ops->source_state_put(st, b->src->id, skey, ext, cc_wall_ms(b->jc->ctx->clock));
    return ext;
}

static json_t *string_array_terms(const struct feed_tag *tags, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        if (tags[i].term && *tags[i].term)
            json_array_append_new(a, json_string(tags[i].term));
    return a;
}

static json_t *entry_payload(const struct feed *f, const struct feed_entry *e, const char *ext,
                             const struct rss_opts *o, const char *feed_url)
{
    const struct feed_content *c = e->n_content ? &e->content[0] : NULL;
    const char *body = c && c->value && *c->value ? c->value : e->summary;
    const char *type = c && c->type && strcmp(c->type, "text/plain") == 0 ? "text/plain"
                                                                           : "text/html";
    int64_t when = e->published != FEED_NO_DATE ? e->published : e->updated;
    char published[40] = "";
    if (when != FEED_NO_DATE)
        cc_time_rfc3339(when * 1000, published, sizeof(published));
    json_t *authors = json_array();
    for (size_t i = 0; i < e->n_authors; i++)
        if (e->authors[i].name)
            json_array_append_new(authors, json_string(e->authors[i].name));
    json_t *p = json_pack("{s:s, s:s?, s:s?, s:s, s:o, s:{s:s?, s:s?, s:s, s:o}}",
                          "external_id", ext, "title", e->title, "url", e->link,
                          "content_type", type, "tags", string_array_terms(e->tags, e->n_tags),
                          "metadata", "feed", f->feed.title, "entry_id", e->id, "feed_url",
                          feed_url, "authors", authors);
    if (!p)
        return NULL;
    if (published[0])
        json_object_set_new(p, "published", json_string(published));
    bool summary_only = !(c && c->value && *c->value);
    if (o->full_text && summary_only && e->link) {
        json_object_set_new(p, "fetch", json_true());
        json_object_set_new(p, "extract", json_string("page"));
        json_object_set_new(p, "content_type", json_string("text/html"));
        if (body && *body)
            json_object_set_new(p, "fallback", json_string(body));
    } else if (body && *body) {
        json_object_set_new(p, "content", json_string(body));
    } else {
        /* An entry with only a title is still worth finding. */
        json_object_set_new(p, "content", json_string(e->title ? e->title : ext));
        json_object_set_new(p, "content_type", json_string("text/plain"));
    }
    return p;
}

static cc_err queue_entries(struct batch *b, const struct feed *f, const struct rss_opts *o,
                            const char *feed_url)
{
    cc_err err = CC_OK;
    for (size_t i = 0; i < f->n_entries && !err; i++) {
        char key[FEED_KEY_MAX + 1];
        if (feed_entry_key(f, i, key, sizeof(key)) != CC_OK)
            continue;
        const struct feed_entry *e = &f->entries[i];
        const char *ext = external_id(b, key, e->link);
        json_t *p = entry_payload(f, e, ext, o, feed_url);
        char *dedup = cc_arena_printf(b->jc->arena, "rss:%lld:%s", (long long)b->src->id, ext);
        err = !p ? CC_ENOMEM : !dedup ? CC_ELIMIT
              : ingest_source_doc_job(b->jc, b->src, p, dedup, &b->jobs[b->n]);
        json_decref(p);
        if (!err && ++b->n == RSS_BATCH)
            err = flush(b);
    }
    if (!err)
        err = flush(b);
    return err;
}

/* ---- the run ----------------------------------------------------------- */

static cc_err run(struct ingest_job_ctx *jc, const struct ingest_source *src, json_t *payload,
                  bool *finished)
{
    const struct ingest_pipeline_cfg *cfg = jc->data;
    struct store *st = jc->ctx->store;
    (void)payload;
    *finished = true;
    struct rss_opts o;
    struct ingest_source_problem prob = {0};
    if (parse_opts(src->options_json, &o, &prob)) {
        ingest_job_errorf(jc, "%s", prob.msg);
        return CC_EINVAL;
    }
    if (!cfg->fetcher) {
        ingest_job_errorf(jc, "this daemon has no fetcher for feeds");
        return CC_EUNSUPPORTED;
    }
    struct feed_state fs = {0};
    st->ops->source_state_get(st, src->id, "feed", keep_state, &fs);
    struct ingest_fetch_req req = {.url = src->url, .etag = fs.etag,
                                   .last_modified = fs.last_modified, .accept = RSS_ACCEPT,
                                   .auth_json = src->auth_json, .max_bytes = o.max_bytes};
    struct ingest_fetch_resp resp = {0};
    char why[512];
    ingest_job_stage(jc, "fetch");
    cc_err err = ingest_fetch(cfg->fetcher, &req, &resp, why, sizeof(why));
    if (err) {
        ingest_job_errorf(jc, "cannot fetch the feed %s: %s", src->url, why);
        return err;
    }
    struct feed *f = NULL;
    err = ingest_http_outcome(jc, src->url, resp.status, resp.retry_after_ms);
    if (err || resp.not_modified) {
        if (!err)
            cc_log_debug(jc->ctx->log, "ingest", "feed not modified",
                         CC_LS("source", src->name));
        goto out;
    }
    ingest_job_stage(jc, "parse");
    char ctype[256];
    snprintf(ctype, sizeof(ctype), "%s%s%s", resp.content_type,
             resp.charset[0] ? "; charset=" : "", resp.charset);
    struct feed_limits lim = {.max_bytes = o.max_bytes, .max_items = o.max_items,
                              .max_age_days = o.max_age_days,
                              .now_s = cc_wall_ms(jc->ctx->clock) / 1000};
    struct cc_diag d = {0};
    err = feed_parse((const uint8_t *)resp.body, resp.len, ctype,
                     resp.final_url ? resp.final_url : src->url, &lim, &f, &d);
    if (err) {
        ingest_job_errorf(jc, "%s is not a feed this version reads: %s", src->url,
                          d.msg[0] ? d.msg : cc_err_str(err));
        goto out;
    }
    if (f->bozo)
        cc_log_warn(jc->ctx->log, "ingest", "feed is malformed; read what could be read",
                    CC_LS("source", src->name), CC_LS("problem", f->bozo_message));
    struct batch *b = cc_arena_calloc(jc->arena, 1, sizeof(*b));
    if (!b) {
        err = CC_ELIMIT;
        goto out;
    }
    *b = (struct batch){.jc = jc, .src = src};
    err = queue_entries(b, f, &o, src->url);
    if (err == CC_ELIMIT)
        ingest_job_errorf(jc, "the source's job queue is full: %zu of %zu entries queued; "
                          "the next run takes the rest", b->total, f->n_entries);
    else if (err)
        ingest_job_errorf(jc, "cannot queue the feed's entries: %s", cc_err_str(err));
    else
        save_state(jc, src, &resp);   /* only once every entry is queued */
    cc_log_info(jc->ctx->log, "ingest", "feed read", CC_LS("source", src->name),
                CC_LS("version", f->version), CC_LI("entries", (int64_t)f->n_entries),
                CC_LI("queued", b->queued), CC_LI("dropped", (int64_t)(f->dropped_items +
                                                                     f->dropped_old)),
                CC_LB("bozo", f->bozo));
    if (err == CC_ELIMIT)
        err = CC_EAGAIN;   /* retried once the queue drains */
out:
    feed_free(f);
    ingest_fetch_resp_release(&resp);
    return err;
}

const struct ingest_source_type ingest_source_rss = {
    .name = "rss",
    .what = "a feed (RSS, Atom or JSON Feed) at 'url', read on schedule: one document per "
            "entry",
    .locator = INGEST_SOURCE_URL,
    .check = check,
    .run = run,
};
