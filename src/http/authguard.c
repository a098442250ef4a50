/*
 * authguard.c - failed authentications per client address (authguard.h).
 *
 * The bucket is the request rate limiter's (ratelimit.c) with its own
 * rate, keyed by address. The log line is rate-limited with one atomic
 * deadline: the thread that moves it forward writes the line and takes
 * the count of failures gathered since the previous line.
 */
#include "http/authguard.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "http/ratelimit.h"
#include "observe/metrics.h"

#define LOG_EVERY_MS 10000

struct http_authguard {
    struct cc_ctx *ctx;
    struct http_ratelimit *rl;
    struct obs_series *m_rejected;
    struct obs_series *m_blocked;
    _Atomic int64_t next_log_ms;
    atomic_uint_fast64_t unlogged;
};

cc_err http__authguard_new(struct cc_ctx *ctx, double rate, unsigned burst, unsigned clients,
                           struct http_authguard **out)
{
    struct http_authguard *g = cc_xcalloc(1, sizeof(*g));
    g->ctx = ctx;
    cc_err e = http_ratelimit_new(rate, burst, clients, &g->rl);
    if (e) {
        free(g);
        return e;
    }
    static const char *const labels[] = {"result", NULL};
    struct obs_family *f = obs_counter(ctx->metrics, "cc_http_auth_failures_total",
                                       "Requests with a bearer token that was not valid "
                                       "(rejected: 401) or sent while their address was "
                                       "blocked for guessing (blocked: 429).",
                                       labels);
    g->m_rejected = obs_series_get(f, (const char *const[]){"rejected"});
    g->m_blocked = obs_series_get(f, (const char *const[]){"blocked"});
    atomic_init(&g->next_log_ms, 0);
    atomic_init(&g->unlogged, 0);
    *out = g;
    return CC_OK;
}

void http__authguard_free(struct http_authguard *g)
{
    if (!g)
        return;
    http_ratelimit_free(g->rl);
    free(g);
}

static void note(struct http_authguard *g, const char *addr, bool blocked)
{
    obs_counter_inc(blocked ? g->m_blocked : g->m_rejected);
    atomic_fetch_add(&g->unlogged, 1);
    int64_t now = cc_mono_ms(g->ctx->clock);
    int64_t next = atomic_load(&g->next_log_ms);
    if (now < next || !atomic_compare_exchange_strong(&g->next_log_ms, &next,
                                                      now + LOG_EVERY_MS))
        return;
    uint64_t n = atomic_exchange(&g->unlogged, 0);
    cc_log_emit(g->ctx->log, CC_LOG_WARN, "http", "authentication failures",
                CC_LOG_FIELDS(CC_LS("client", addr), CC_LI("failures", (int64_t)n),
                              CC_LS("result", blocked ? "blocked" : "rejected"),
                              CC_LS("hint", "invalid bearer tokens; at most one such line "
                                            "every 10s, failures counts them all")));
}

static int64_t seconds_up(int64_t ms)
{
    return ms > 0 ? (ms + 999) / 1000 : 1;
}

bool http__authguard_blocked(struct http_authguard *g, const char *addr,
                             int64_t *retry_after_s)
{
    int64_t ms = 0;
    if (http_ratelimit_peek(g->rl, addr, cc_mono_ms(g->ctx->clock), &ms))
        return false;
    note(g, addr, true);
    *retry_after_s = seconds_up(ms);
    return true;
}

bool http__authguard_failed(struct http_authguard *g, const char *addr,
                            int64_t *retry_after_s)
{
    int64_t ms = 0;
    bool ok = http_ratelimit_take(g->rl, addr, cc_mono_ms(g->ctx->clock), &ms);
    note(g, addr, !ok);
    if (ok)
        return false;
    *retry_after_s = seconds_up(ms);
    return true;
}
