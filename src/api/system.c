/*
 * system.c - liveness, readiness, metrics and status.
 */
#include <errno.h>
#include <stdlib.h>

#include "api/api.h"
#include "core/clock.h"
#include "core/config.h"
#include "observe/metrics.h"
#include "store/store.h"

json_t *api__time(int64_t ms)
{
    if (ms <= 0)
        return json_null();
    char ts[32];
    cc_time_rfc3339(ms, ts, sizeof(ts));
    return json_string(ts);
}

cc_err api__int(const char *s, long long min, long long max, long long *out)
{
    if (!s || !*s)
        return CC_EINVAL;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return CC_EINVAL;
    *out = v;
    return CC_OK;
}

void api__health(struct http_req *req, struct http_resp *resp)
{
    /* Liveness must not depend on anything but this process serving. */
    cc_buf_reset(&resp->body);
    cc_buf_addstr(&resp->body, "{\"status\":\"ok\"}\n");
    resp->status = 200;
}

void api__ready(struct http_req *req, struct http_resp *resp)
{
    struct store *st = req->ctx->store;
    struct store_info info = {0};
    cc_err err = st->ops->ping(st);
    if (!err)
        err = st->ops->info(st, &info);
    json_t *store = json_pack("{s:b, s:s}", "ok", !err, "driver", st->ops->name);
    if (!err) {
        json_object_set_new(store, "schema_version", json_integer(info.schema_version));
        json_object_set_new(store, "schema_latest", json_integer(info.schema_latest));
        if (info.schema_version != info.schema_latest)
            err = CC_ESTATE;
    } else {
        json_object_set_new(store, "error", json_string(cc_err_str(err)));
    }
    json_t *j = json_pack("{s:s, s:{s:o}}", "status", err ? "not_ready" : "ready",
                          "checks", "store", store);
    if (err)
        http_resp_header(resp, "Retry-After", "5");
    http_resp_json(resp, err ? 503 : 200, j);
}

void api__metrics(struct http_req *req, struct http_resp *resp)
{
    enum obs_format fmt = obs_format_from_accept(http_req_header(req, "Accept"));
    cc_buf_reset(&resp->body);
    cc_err err = obs_render(req->ctx->metrics, fmt, &resp->body);
    if (err) {
        http_resp_err(resp, err, "cannot render the metrics", NULL);
        return;
    }
    resp->status = 200;
    resp->content_type = obs_content_type(fmt);
}

void api__status(struct http_req *req, struct http_resp *resp)
{
    struct cc_ctx *ctx = req->ctx;
    struct store_info info = {0};
    cc_err err = ctx->store->ops->info(ctx->store, &info);
    if (err) {
        http_resp_err(resp, err, "the store does not answer", "check /ready and the log");
        return;
    }
    int64_t now = cc_wall_ms(ctx->clock);
    json_t *j = json_pack(
        "{s:s, s:s, s:o, s:I, s:{s:s, s:i, s:i}, s:{s:s}}",
        "version", CC_VERSION, "git_rev", CC_GIT_REV,
        "started_at", api__time(ctx->started_ms),
        "uptime_seconds", (json_int_t)((now - ctx->started_ms) / 1000),
        "store", "driver", info.driver ? info.driver : ctx->store->ops->name,
        "schema_version", info.schema_version, "schema_latest", info.schema_latest,
        "http", "listen", ctx->cfg->http.listen);
    http_resp_json(resp, 200, j);
}
