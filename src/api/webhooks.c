/*
 * webhooks.c - POST /api/v1/webhooks/github and
 * POST /api/v1/webhooks/generic/{source} (docs/WEBHOOKS.md).
 *
 * No bearer token: the signature is the authentication (HTTP_SIGNED), so
 * nothing in a delivery is trusted, and nothing is queued, before an
 * HMAC-SHA256 over the raw body verifies, compared in constant time.
 * Every refusal that depends on a secret answers 401 with one message,
 * whether the signature is wrong, the source does not exist or has no
 * secret, so a caller without the secret cannot probe source names.
 *
 * A delivery that verifies is recorded under its id (idempotency key)
 * with the jobs it queues, in one store transaction
 * (store_ops.webhook_delivery): a repeated id answers 200 "duplicate" and
 * queues nothing; a full queue answers 429 and records nothing, so the
 * sender's retry is new. Work is queued, never done here: 202 at once.
 *
 * Secrets are read from their files on every delivery (a rotated file
 * takes effect at once), kept on the stack and wiped after use; no log
 * line carries a secret or a signature.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/sha256.h"
#include "ingest/queue.h"
#include "ingest/sources/github.h"
#include "ingest/sources/sources.h"
#include "observe/metrics.h"
#include "store/store.h"

#define SECRET_MAX 4096        /* bytes of a webhook secret file */
#define CANDIDATES_MAX 32      /* sources one GitHub delivery may reach */
#define JOBS_MAX STORE_BATCH_MAX /* jobs one delivery queues */

static const char bad_sig_msg[] = "the signature does not verify";

static void count(struct http_req *req, const char *provider, const char *result)
{
    struct api_deps *deps = req->server_data;
    const char *labels[] = {provider, result};
    if (deps->m_webhooks)
        obs_counter_inc(obs_series_get(deps->m_webhooks, labels));
}

static void refuse_signature(struct http_req *req, struct http_resp *resp, const char *provider,
                             const char *hint)
{
    count(req, provider, "bad_signature");
    cc_log_info(req->ctx->log, "webhooks", "delivery refused: bad or missing signature",
                CC_LS("provider", provider), CC_LS("client", req->client_addr));
    http_resp_err(resp, CC_EAUTH, bad_sig_msg, hint);
}

/* Reads a secret file: at most SECRET_MAX bytes, one trailing newline
 * (\n or \r\n) stripped, as the configuration's *_file secrets. */
static cc_err read_secret(const char *path, uint8_t *buf, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return CC_EIO;
    size_t n = 0;
    cc_err err = CC_OK;
    for (;;) {
        ssize_t r = read(fd, buf + n, SECRET_MAX + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            err = CC_EIO;
            break;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > SECRET_MAX) {
            err = CC_ELIMIT;
            break;
        }
    }
    close(fd);
    if (!err && n && buf[n - 1] == '\n')
        n--;
    if (!err && n && buf[n - 1] == '\r')
        n--;
    if (!err && n == 0)
        err = CC_EINVAL;   /* an empty secret authenticates nothing */
    if (err)
        cc_secure_zero(buf, SECRET_MAX + 1);
    else
        *len = n;
    return err;
}

/* HMAC-SHA256 of (prefix, msg) under key equals want, in constant time. */
static bool hmac_ok(const uint8_t *key, size_t keylen, const char *msg, size_t len,
                    const uint8_t want[CC_SHA256_DIGEST_LEN])
{
    uint8_t got[CC_SHA256_DIGEST_LEN];
    cc_hmac_sha256(key, keylen, msg, len, got);
    bool ok = cc_consttime_equal(got, want, sizeof(got));
    cc_secure_zero(got, sizeof(got));
    return ok;
}

/* The secret in a file verifies the body: false when it does not, or the
 * file cannot be read (logged: the operator must fix it). */
static bool file_secret_ok(struct http_req *req, const char *path, const char *msg, size_t len,
                           const uint8_t want[CC_SHA256_DIGEST_LEN])
{
    uint8_t secret[SECRET_MAX + 1];
    size_t n = 0;
    cc_err err = read_secret(path, secret, &n);
    if (err) {
        cc_log_warn(req->ctx->log, "webhooks", "cannot read a webhook secret file",
                    CC_LS("path", path), CC_LS("error", cc_err_str(err)));
        return false;
    }
    bool ok = hmac_ok(secret, n, msg, len, want);
    cc_secure_zero(secret, sizeof(secret));
    return ok;
}

/* ------------------------------------------------------------------ */
/* Recording and answering                                             */

struct delivery {
    struct store_delivery rec;
    struct store_job jobs[JOBS_MAX];
    const char *job_source[JOBS_MAX]; /* source name of each job, for the answer */
    const char *external_id[JOBS_MAX]; /* documents: their external id (arena) */
    char *payloads[JOBS_MAX];         /* heap, freed by delivery_release */
    size_t n;
};

static void delivery_release(struct delivery *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->payloads[i]);
}

/* Adds a job (payload stolen) for source; CC_ELIMIT past JOBS_MAX. */
static cc_err add_job(struct http_req *req, struct delivery *d, const char *kind,
                      int64_t source_id, const char *source_name, char *payload,
                      const char *dedup_key)
{
    struct api_deps *deps = req->server_data;
    if (!payload)
        return CC_ENOMEM;
    if (d->n == sizeof(d->jobs) / sizeof(d->jobs[0])) {
        free(payload);
        return CC_ELIMIT;
    }
    int64_t now = cc_wall_ms(req->ctx->clock);
    d->payloads[d->n] = payload;
    d->job_source[d->n] = source_name;
    d->jobs[d->n++] = (struct store_job){
        .kind = kind, .source_id = source_id, .dedup_key = dedup_key, .payload = payload,
        .payload_len = strlen(payload), .max_attempts = deps->knowledge.max_attempts,
        .next_run_ms = now, .created_ms = now, .updated_ms = now};
    return CC_OK;
}

/* Records the delivery with its jobs and answers: 202 with the jobs, 200
 * for a duplicate, 429 when a queue is full. `extra` (stolen, may be
 * NULL) is merged into the answer. */
static void record_and_answer(struct http_req *req, struct http_resp *resp, struct delivery *d,
                              json_t *extra)
{
    struct api_deps *deps = req->server_data;
    struct store *st = req->ctx->store;
    const struct cc_config *cfg = req->ctx->cfg;
    int64_t ids[JOBS_MAX];
    bool existing[JOBS_MAX], dup = false;
    d->rec.received_ms = cc_wall_ms(req->ctx->clock);
    d->rec.prune_before_ms = d->rec.received_ms - cfg->webhooks.delivery_retention_ms;
    if (d->rec.prune_before_ms < 0)
        d->rec.prune_before_ms = 0;
    cc_err err = st->ops->webhook_delivery(st, &d->rec, d->jobs, d->n,
                                           deps->knowledge.queue_limit, ids, existing, &dup);
    if (err == CC_ELIMIT) {
        count(req, d->rec.provider, "error");
        http_resp_too_many(resp, 30, "a source's ingestion queue is full; nothing was queued",
                           "deliver again later: the delivery was not recorded");
        goto out;
    }
    if (err) {
        count(req, d->rec.provider, "error");
        http_resp_err(resp, err == CC_ENOTFOUND ? CC_EAGAIN : err,
                      "cannot record the delivery; nothing was queued", "deliver again later");
        goto out;
    }
    json_t *body = json_pack("{s:s, s:s?, s:b}", "delivery", d->rec.delivery_id, "event",
                             d->rec.event, "duplicate", dup);
    json_t *queued = json_array();
    for (size_t i = 0; !dup && i < d->n; i++) {
        json_t *j = json_pack("{s:I, s:s, s:s, s:b}", "job_id", (json_int_t)ids[i], "kind",
                              d->jobs[i].kind, "source", d->job_source[i], "already_queued",
                              existing[i]);
        /* What the job will do: a run's whole payload (small: paths, a
         * version), a document's external id (not its content). */
        if (strcmp(d->jobs[i].kind, "source.run") == 0)
            json_object_set_new(j, "payload", json_loads(d->payloads[i], 0, NULL));
        else if (d->external_id[i])
            json_object_set_new(j, "external_id", json_string(d->external_id[i]));
        json_array_append_new(queued, j);
    }
    json_object_set_new(body, "queued", queued);
    if (extra)
        json_object_update(body, extra);
    if (d->n && !dup)
        ingest_workers_wake(deps->workers);
    count(req, d->rec.provider, dup ? "duplicate" : d->n ? "accepted" : "ignored");
    cc_log_info(req->ctx->log, "webhooks", dup ? "duplicate delivery" : "delivery accepted",
                CC_LS("provider", d->rec.provider), CC_LS("delivery", d->rec.delivery_id),
                CC_LS("event", d->rec.event ? d->rec.event : ""), CC_LI("jobs", dup ? 0 : d->n));
    http_resp_json(resp, dup ? 200 : 202, body);
out:
    json_decref(extra);
}

/* ------------------------------------------------------------------ */
/* GitHub                                                              */

struct candidate {
    int64_t id;
    const char *name, *type;
    bool enabled;
    struct ingest_github_opts gh;   /* strings in the request arena */
};

struct candidates {
    struct cc_arena *arena;
    const char *repository;
    struct candidate c[CANDIDATES_MAX];
    size_t n;
    bool more;                      /* past CANDIDATES_MAX: the rest are left out */
};

static const char *adup(struct cc_arena *a, const char *s)
{
    return s ? cc_arena_strdup(a, s) : NULL;
}

/* Sources of type docs or webhook whose options.github names the
 * delivery's repository (unverified: only to find the secrets to try). */
static void find_candidate(void *arg, const struct store_source *s)
{
    struct candidates *cs = arg;
    if (!s->options_json || (strcmp(s->type, "docs") != 0 && strcmp(s->type, "webhook") != 0))
        return;
    json_t *opts = json_loads(s->options_json, 0, NULL);
    struct ingest_github_opts gh;
    char why[200];
    if (ingest_github_opts_parse(opts, &gh, why, sizeof(why)) == CC_OK &&
        ingest_github_repo_eq(gh.repository, cs->repository)) {
        if (cs->n == CANDIDATES_MAX) {
            cs->more = true;
        } else {
            struct candidate *c = &cs->c[cs->n];
            *c = (struct candidate){
                .id = s->id, .name = adup(cs->arena, s->name), .type = adup(cs->arena, s->type),
                .enabled = s->enabled,
                .gh = {.repository = adup(cs->arena, gh.repository),
                       .secret_file = adup(cs->arena, gh.secret_file),
                       .branch = adup(cs->arena, gh.branch),
                       .path_prefix = adup(cs->arena, gh.path_prefix)}};
            if (c->name && c->type)
                cs->n++;
        }
    }
    json_decref(opts);
}

/* A push: the changed and removed paths under the source's prefix. NULL
 * when nothing of the source's changed (skip says why). */
static char *push_payload(json_t *body, const struct candidate *c, const char **skip)
{
    if (!ingest_github_push_branch_ok(body, c->gh.branch)) {
        *skip = "not the source's branch";
        return NULL;
    }
    json_t *changed = NULL, *removed = NULL;
    bool truncated = false;
    if (ingest_github_push_paths(body, c->gh.path_prefix, &changed, &removed, &truncated)) {
        *skip = "out of memory";
        return NULL;
    }
    if (!truncated && json_array_size(changed) == 0 && json_array_size(removed) == 0) {
        json_decref(changed);
        json_decref(removed);
        *skip = "no changes under the source's path_prefix";
        return NULL;
    }
    json_t *p = json_pack("{s:I, s:s, s:s?, s:s?, s:s?, s:o, s:o, s:b}", "source_id",
                          (json_int_t)c->id, "reason", "github push", "repository",
                          ingest_github_repository(body), "ref",
                          json_string_value(json_object_get(body, "ref")), "after",
                          json_string_value(json_object_get(body, "after")), "changed", changed,
                          "removed", removed, "truncated", truncated);
    char *text = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    return text;
}

static char *release_payload(json_t *body, const struct candidate *c, const char **skip)
{
    const char *action = json_string_value(json_object_get(body, "action"));
    json_t *rel = json_object_get(body, "release");
    const char *tag = json_string_value(json_object_get(rel, "tag_name"));
    if (strcmp(c->type, "docs") != 0) {
        *skip = "releases only reach docs sources";
        return NULL;
    }
    if (!action || strcmp(action, "published") != 0 || !tag || !*tag ||
        json_string_length(json_object_get(rel, "tag_name")) > INGEST_GITHUB_FIELD_MAX) {
        *skip = "only a published release with a tag adds a version";
        return NULL;
    }
    json_t *p = json_pack("{s:I, s:s, s:s?, s:s}", "source_id", (json_int_t)c->id, "reason",
                          "github release", "repository", ingest_github_repository(body),
                          "version", tag);
    char *text = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    return text;
}

/* Which candidates the signature reaches: a source with its own secret
 * when that secret verifies, a source without one when the global secret
 * does. Every secret is tried (no early exit). */
static bool verify_github(struct http_req *req, const uint8_t want[CC_SHA256_DIGEST_LEN],
                          struct candidates *cs, bool reached[CANDIDATES_MAX])
{
    const char *global = req->ctx->cfg->webhooks.github_secret;
    bool global_ok = global && *global &&
                     hmac_ok((const uint8_t *)global, strlen(global), req->body, req->body_len,
                             want);
    bool any = global_ok;
    for (size_t i = 0; i < cs->n; i++) {
        const char *sf = cs->c[i].gh.secret_file;
        reached[i] = sf ? file_secret_ok(req, sf, req->body, req->body_len, want) : global_ok;
        any |= reached[i];
    }
    return any;
}

/* A verified push or release: one job per reached source with work,
 * recorded with the delivery; the others are listed as skipped. */
static void queue_github(struct http_req *req, struct http_resp *resp, json_t *body,
                         const char *id, const char *event, const struct candidates *cs,
                         const bool reached[CANDIDATES_MAX])
{
    bool push = strcmp(event, "push") == 0;
    struct delivery *d = cc_xcalloc(1, sizeof(*d));
    d->rec = (struct store_delivery){.provider = "github", .delivery_id = id, .event = event};
    json_t *skipped = json_array();
    cc_err err = CC_OK;
    for (size_t i = 0; i < cs->n && !err; i++) {
        const struct candidate *c = &cs->c[i];
        const char *skip = NULL;
        char *payload = NULL;
        if (!reached[i])
            continue;   /* another secret signed it: not this source's delivery */
        if (!c->enabled)
            skip = "the source is paused";
        else
            payload = push ? push_payload(body, c, &skip) : release_payload(body, c, &skip);
        if (payload)
            err = add_job(req, d, "source.run", c->id, c->name, payload, NULL);
        if (skip)
            json_array_append_new(skipped, json_pack("{s:s, s:s}", "source", c->name,
                                                     "reason", skip));
    }
    if (err) {
        count(req, "github", "error");
        http_resp_err(resp, err, "cannot build the jobs of the delivery", NULL);
        json_decref(skipped);
        goto out;
    }
    json_t *extra = json_pack("{s:o}", "skipped", skipped);
    if (cs->more)
        json_object_set_new(extra, "warning",
                            json_string("more sources name this repository than one delivery "
                                        "reaches; some were left out"));
    record_and_answer(req, resp, d, extra);
out:
    delivery_release(d);
    free(d);
}

void api__webhook_github(struct http_req *req, struct http_resp *resp)
{
    const char *event = http_req_header(req, "X-GitHub-Event");
    const char *id = http_req_header(req, "X-GitHub-Delivery");
    uint8_t want[CC_SHA256_DIGEST_LEN];
    json_t *body = NULL;
    if (ingest_webhook_sig_parse(http_req_header(req, "X-Hub-Signature-256"), want)) {
        refuse_signature(req, resp, "github",
                         "GitHub signs with X-Hub-Signature-256: sha256=<hex>; set a secret "
                         "on the webhook");
        return;
    }
    /* Parsed before it is trusted, only to learn which secrets to try; a
     * body that is not JSON can still verify against the global secret. */
    body = req->body ? json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    struct candidates *cs = cc_arena_alloc(req->arena, sizeof(*cs));
    if (!cs) {
        http_resp_err(resp, CC_ELIMIT, "the request is too large to process", NULL);
        goto out;
    }
    *cs = (struct candidates){.arena = req->arena,
                              .repository = json_is_object(body) ? ingest_github_repository(body)
                                                                 : NULL};
    struct store *st = req->ctx->store;
    cc_err err = cs->repository ? st->ops->source_list(st, find_candidate, cs) : CC_OK;
    if (err) {
        count(req, "github", "error");
        http_resp_err(resp, err, "cannot read the sources", NULL);
        goto out;
    }
    bool reached[CANDIDATES_MAX] = {false};
    if (!verify_github(req, want, cs, reached)) {
        refuse_signature(req, resp, "github",
                         "the webhook's secret must be webhooks.github_secret, or the "
                         "secret_file of a source whose options.github names the repository");
        goto out;
    }
    /* Verified: from here on the delivery is GitHub's word. */
    if (event && strcmp(event, "ping") == 0) {
        count(req, "github", "ignored");
        http_resp_json(resp, 200, json_pack("{s:b, s:s?}", "pong", 1, "zen",
                                            json_string_value(json_object_get(body, "zen"))));
        goto out;
    }
    if (!json_is_object(body)) {
        count(req, "github", "error");
        http_resp_err(resp, CC_EINVAL, "the delivery is not a JSON object",
                      "set the webhook's content type to application/json");
        goto out;
    }
    if (!ingest_webhook_id_ok(id)) {
        count(req, "github", "error");
        http_resp_err(resp, CC_EINVAL, "X-GitHub-Delivery is missing or malformed",
                      "it is the delivery's id, 1-200 characters of A-Z a-z 0-9 - _ . :");
        goto out;
    }
    bool push = event && strcmp(event, "push") == 0;
    bool release = event && strcmp(event, "release") == 0;
    if (!push && !release) {
        count(req, "github", "ignored");
        http_resp_json(resp, 202, json_pack("{s:s, s:s?, s:b, s:b}", "delivery", id, "event",
                                            event, "ignored", 1, "duplicate", 0));
        goto out;
    }
    queue_github(req, resp, body, id, event, cs, reached);
out:
    json_decref(body);
    cc_secure_zero(want, sizeof(want));
}

/* ------------------------------------------------------------------ */
/* Generic                                                             */

struct src_copy {
    struct cc_arena *arena;
    struct store_source src;
    bool found;
};

static void copy_source(void *arg, const struct store_source *s)
{
    struct src_copy *c = arg;
    c->src = (struct store_source){
        .id = s->id, .enabled = s->enabled, .name = adup(c->arena, s->name),
        .type = adup(c->arena, s->type), .options_json = adup(c->arena, s->options_json)};
    c->found = c->src.name && c->src.type;
}

/* The source's secret verifies HMAC(ts "." body). Any failure - no such
 * source, no secret_file, an unreadable file - is just "false". */
static bool verify_generic(struct http_req *req, const struct store_source *src,
                           const char *ts, const uint8_t want[CC_SHA256_DIGEST_LEN])
{
    json_t *opts = src->options_json ? json_loads(src->options_json, 0, NULL) : NULL;
    const char *sf = json_string_value(json_object_get(opts, "secret_file"));
    bool ok = false;
    if (sf) {
        size_t tl = strlen(ts), n = tl + 1 + req->body_len;
        char *msg = malloc(n + 1);
        if (msg) {
            memcpy(msg, ts, tl);
            msg[tl] = '.';
            if (req->body_len)
                memcpy(msg + tl + 1, req->body, req->body_len);
            ok = file_secret_ok(req, sf, msg, n, want);
            free(msg);
        }
    }
    json_decref(opts);
    return ok;
}

static bool doc_source_type(const char *type)
{
    return strcmp(type, "webhook") == 0 || strcmp(type, "manual") == 0;
}

/* {"documents": [...]}: every document checked before any is queued. */
static bool generic_documents(struct http_req *req, struct http_resp *resp, json_t *docs,
                              const struct store_source *src, struct delivery *d)
{
    struct api_deps *deps = req->server_data;
    unsigned max = req->ctx->cfg->webhooks.max_documents;
    if (!json_is_array(docs) || json_array_size(docs) == 0 || json_array_size(docs) > max) {
        char *msg = cc_arena_printf(req->arena, "'documents' must be an array of 1 to %u "
                                    "documents", max);
        http_resp_err(resp, CC_EINVAL, msg ? msg : "'documents' must be a non-empty array",
                      "split larger batches, or raise webhooks.max_documents");
        return false;
    }
    if (!doc_source_type(src->type)) {
        http_resp_err(resp, CC_ESTATE, "documents can only be delivered to webhook or manual "
                      "sources", "create a source of type webhook; other types bring their "
                      "own documents (deliver {\"run\": true} to run them)");
        return false;
    }
    size_t i;
    json_t *doc;
    json_array_foreach(docs, i, doc) {
        const char *type = NULL;
        struct api_doc_problem p;
        cc_err err = api__document_check(deps, doc, false, &type, &p);
        if (err) {
            char *msg = cc_arena_printf(req->arena, "documents[%zu]: %s", i, p.msg);
            if (err == CC_EUNSUPPORTED)
                http_resp_unsupported_media(resp, msg ? msg : p.msg, p.hint);
            else
                http_resp_err(resp, err, msg ? msg : p.msg, p.hint);
            return false;
        }
        const char *ext = NULL;
        err = add_job(req, d, "ingest.document", src->id, src->name,
                      api__document_payload(doc, src->id, src->name, type, req->arena, &ext),
                      NULL);
        if (!err)
            d->external_id[d->n - 1] = ext;
        if (err) {
            http_resp_err(resp, err, "cannot build the document jobs", NULL);
            return false;
        }
    }
    return true;
}

/* {"run": true}: the source's run, as POST /api/v1/sources/{id}/run (a
 * run already queued absorbs it, by the same dedup key). */
static bool generic_run(struct http_req *req, struct http_resp *resp,
                        const struct store_source *src, struct delivery *d)
{
    const struct ingest_source_type *t = ingest_source_type_find(src->type);
    if (!t || !t->run) {
        http_resp_err(resp, CC_ESTATE, "this source has nothing to run", t ? t->what : NULL);
        return false;
    }
    char *key = cc_arena_printf(req->arena, "source.run:%lld", (long long)src->id);
    char payload[96];
    snprintf(payload, sizeof(payload), "{\"source_id\":%lld,\"reason\":\"webhook\"}",
             (long long)src->id);
    cc_err err = key ? add_job(req, d, "source.run", src->id, src->name, cc_xstrdup(payload),
                               key)
                     : CC_ELIMIT;
    if (err) {
        http_resp_err(resp, err, "cannot build the run", NULL);
        return false;
    }
    return true;
}

/* The source named in the path, if the delivery's signature verifies
 * with its secret; otherwise the answer (401 alike for every reason, or
 * the store's error) is written and false returned. */
static bool load_and_verify(struct http_req *req, struct http_resp *resp, const char *ref,
                            const char *ts, const uint8_t want[CC_SHA256_DIGEST_LEN],
                            struct src_copy *c)
{
    struct store *st = req->ctx->store;
    long long sid;
    cc_err err = api__int(ref, 1, INT64_MAX, &sid) == CC_OK
                     ? st->ops->source_get(st, sid, copy_source, c)
                     : st->ops->source_get_by_name(st, ref, copy_source, c);
    if (err && err != CC_ENOTFOUND) {
        count(req, "generic", "error");
        http_resp_err(resp, err, "cannot read the source", NULL);
        return false;
    }
    if (!c->found || !verify_generic(req, &c->src, ts, want)) {
        refuse_signature(req, resp, "generic",
                         "check the source's name and options.secret_file, and sign "
                         "timestamp \".\" body with that secret");
        return false;
    }
    return true;
}

void api__webhook_generic(struct http_req *req, struct http_resp *resp)
{
    const char *ts = http_req_header(req, "X-Timestamp");
    const char *ref = http_req_param(req, "source");
    const char *given_id = http_req_header(req, "X-Delivery-Id");
    uint8_t want[CC_SHA256_DIGEST_LEN];
    json_t *body = NULL;
    struct delivery *d = NULL;
    if (ingest_webhook_sig_parse(http_req_header(req, "X-Signature-256"), want) || !ts) {
        refuse_signature(req, resp, "generic",
                         "sign with X-Signature-256: sha256=<hex of HMAC-SHA256(secret, "
                         "timestamp \".\" body)> and X-Timestamp: <unix seconds>");
        return;
    }
    if (!ingest_webhook_ts_ok(ts, cc_wall_ms(req->ctx->clock),
                              req->ctx->cfg->webhooks.replay_window_ms)) {
        count(req, "generic", "bad_signature");
        http_resp_err(resp, CC_EAUTH, "X-Timestamp is outside the replay window",
                      "sign with the current Unix time in seconds; the window is "
                      "webhooks.replay_window either way");
        return;
    }
    struct src_copy c = {.arena = req->arena};
    if (!load_and_verify(req, resp, ref, ts, want, &c))
        return;
    /* Verified. */
    if (given_id && !ingest_webhook_id_ok(given_id)) {
        count(req, "generic", "error");
        http_resp_err(resp, CC_EINVAL, "X-Delivery-Id is malformed",
                      "1-200 characters of A-Z a-z 0-9 - _ . :");
        goto out;
    }
    if (!c.src.enabled) {
        count(req, "generic", "error");
        http_resp_err(resp, CC_ESTATE, "the source is paused; nothing was queued",
                      "resume it with POST /api/v1/sources/{id}/resume");
        goto out;
    }
    if (http_req_json(req, resp, &body)) {
        count(req, "generic", "error");
        goto out;
    }
    json_t *docs = json_object_get(body, "documents");
    json_t *run = json_object_get(body, "run");
    if ((docs != NULL) == (run != NULL) || json_object_size(body) != 1 ||
        (run && !json_is_true(run))) {
        count(req, "generic", "error");
        http_resp_err(resp, CC_EINVAL, "send either {\"documents\": [...]} or {\"run\": true}",
                      "see docs/WEBHOOKS.md");
        goto out;
    }
    char hex[CC_SHA256_HEX_LEN];
    cc_hex_encode(want, sizeof(want), hex);
    char *key = given_id ? cc_arena_printf(req->arena, "%lld:%s", (long long)c.src.id, given_id)
                         : cc_arena_printf(req->arena, "%lld:sig:%s", (long long)c.src.id, hex);
    if (!key) {
        http_resp_err(resp, CC_ELIMIT, "the request is too large to process", NULL);
        goto out;
    }
    d = cc_xcalloc(1, sizeof(*d));
    d->rec = (struct store_delivery){.provider = "generic", .delivery_id = key,
                                     .source_id = c.src.id,
                                     .event = docs ? "documents" : "run"};
    bool ok = docs ? generic_documents(req, resp, docs, &c.src, d)
                   : generic_run(req, resp, &c.src, d);
    if (!ok) {
        count(req, "generic", "error");
        goto out;
    }
    record_and_answer(req, resp, d, NULL);
out:
    if (d)
        delivery_release(d);
    free(d);
    json_decref(body);
    cc_secure_zero(want, sizeof(want));
}
