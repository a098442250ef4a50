/*
 * jobs.c - /api/v1/jobs: the durable queue as operators see it.
 */
#include <stdint.h>
#include <string.h>

#include "api/api.h"
#include "core/clock.h"
#include "ingest/queue.h"
#include "store/store.h"

#define JOBS_DEFAULT_LIMIT 50

static json_t *job_json(const struct store_job *j)
{
    return json_pack("{s:I, s:s, s:o, s:s, s:i, s:i, s:s?, s:s?, s:o, s:o, s:o, s:o}",
                     "id", (json_int_t)j->id, "kind", j->kind,
                     "source_id", j->source_id ? json_integer(j->source_id) : json_null(),
                     "state", j->state, "attempts", j->attempts, "max_attempts",
                     j->max_attempts, "stage", j->stage, "last_error", j->last_error,
                     "created_at", api__time(j->created_ms), "updated_at",
                     api__time(j->updated_ms), "next_run",
                     strcmp(j->state, "queued") == 0 || strcmp(j->state, "failed") == 0
                         ? api__time(j->next_run_ms) : json_null(),
                     "finished_at", api__time(j->finished_ms));
}

static void add_job(void *arg, const struct store_job *j)
{
    json_t *o = job_json(j);
    if (o)
        json_array_append_new(arg, o);
}

static void keep_job(void *arg, const struct store_job *j)
{
    *(json_t **)arg = job_json(j);
}

void api__jobs_list(struct http_req *req, struct http_resp *resp)
{
    static const char *const states[] = {"queued", "running", "succeeded", "failed", "dead"};
    const char *state = http_req_query(req, "state");
    bool ok = !state;
    for (size_t i = 0; i < 5 && !ok; i++)
        ok = strcmp(state, states[i]) == 0;
    if (!ok) {
        http_resp_err(resp, CC_EINVAL, "unknown job state",
                      "state is one of queued, running, succeeded, failed, dead");
        return;
    }
    long long before = 0, limit = JOBS_DEFAULT_LIMIT;
    const char *b = http_req_query(req, "before");
    const char *l = http_req_query(req, "limit");
    if ((b && api__int(b, 1, INT64_MAX, &before)) ||
        (l && api__int(l, 1, STORE_JOB_LIST_MAX, &limit))) {
        http_resp_err(resp, CC_EINVAL, "'before' and 'limit' must be integers",
                      "before is a job id (page backwards); 1 <= limit <= 1000");
        return;
    }
    struct store *st = req->ctx->store;
    json_t *list = json_array();
    struct store_job_counts counts = {0};
    cc_err err = st->ops->job_list(st, state, before, (unsigned)limit, add_job, list);
    if (!err)
        err = st->ops->job_counts(st, &counts);
    if (err) {
        json_decref(list);
        http_resp_err(resp, err, "cannot list jobs", NULL);
        return;
    }
    http_resp_json(resp, 200,
                   json_pack("{s:o, s:{s:I, s:I, s:I, s:I, s:I}}", "jobs", list, "counts",
                             "queued", (json_int_t)counts.queued, "running",
                             (json_int_t)counts.running, "succeeded",
                             (json_int_t)counts.succeeded, "failed", (json_int_t)counts.failed,
                             "dead", (json_int_t)counts.dead));
}

static bool job_id(struct http_req *req, struct http_resp *resp, long long *id)
{
    if (api__int(http_req_param(req, "id"), 1, INT64_MAX, id) == CC_OK)
        return true;
    http_resp_err(resp, CC_EINVAL, "the job id must be a positive integer", NULL);
    return false;
}

void api__jobs_get(struct http_req *req, struct http_resp *resp)
{
    long long id;
    if (!job_id(req, resp, &id))
        return;
    json_t *j = NULL;
    cc_err err = req->ctx->store->ops->job_get(req->ctx->store, id, keep_job, &j);
    if (err == CC_ENOTFOUND || (!err && !j)) {
        http_resp_err(resp, CC_ENOTFOUND, "no job with this id",
                      "finished jobs are pruned after jobs.retention");
        return;
    }
    if (err) {
        http_resp_err(resp, err, "cannot read the job", NULL);
        return;
    }
    http_resp_json(resp, 200, j);
}

void api__jobs_retry(struct http_req *req, struct http_resp *resp)
{
    struct api_deps *deps = req->server_data;
    long long id;
    if (!job_id(req, resp, &id))
        return;
    struct store *st = req->ctx->store;
    cc_err err = st->ops->job_retry(st, id, cc_wall_ms(req->ctx->clock));
    if (err == CC_ENOTFOUND) {
        http_resp_err(resp, CC_ENOTFOUND, "no job with this id", NULL);
        return;
    }
    if (err == CC_ESTATE) {
        http_resp_err(resp, CC_ESTATE, "only failed or dead jobs can be retried",
                      "a queued or running job runs anyway; a succeeded one is done");
        return;
    }
    if (err) {
        http_resp_err(resp, err, "cannot retry the job", NULL);
        return;
    }
    ingest_workers_wake(deps->workers);
    json_t *j = NULL;
    if (st->ops->job_get(st, id, keep_job, &j) || !j) {
        http_resp_json(resp, 202, json_pack("{s:I, s:s}", "id", (json_int_t)id, "state",
                                            "queued"));
        return;
    }
    http_resp_json(resp, 202, j);
}
