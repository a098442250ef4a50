/*
 * store_metrics.c - the store's connection pool as metrics (store_metrics.h).
 */
#include "daemon/store_metrics.h"

#include "observe/metrics.h"
#include "store/store.h"

void daemon__store_metrics_init(struct daemon_store_metrics *m, struct obs_registry *r)
{
    *m = (struct daemon_store_metrics){.reg = r};
    m->wait = obs_series_nolabels(obs_histogram(
        r, "cc_store_pool_wait_seconds",
        "Time a store call waited for a pooled connection (0 when one was idle).", NULL,
        obs_latency_buckets, obs_latency_buckets_len));
    m->timeouts = obs_series_nolabels(obs_counter(
        r, "cc_store_pool_timeouts_total",
        "Waits for a pooled connection that gave up at store.busy_timeout.", NULL));
    m->in_use = obs_series_nolabels(obs_gauge(
        r, "cc_store_pool_connections_in_use", "Pooled store connections taken now.", NULL));
    m->max = obs_series_nolabels(obs_gauge(
        r, "cc_store_pool_connections_max",
        "Size of the store's connection pool (SQLite: its readers).", NULL));
}

void daemon__store_pool_wait(void *arg, int64_t waited_ns, bool timed_out)
{
    struct daemon_store_metrics *m = arg;
    obs_histogram_observe(m->wait, (double)waited_ns / 1e9);
    if (timed_out)
        obs_counter_inc(m->timeouts);
}

static void collect(void *arg, struct obs_registry *r)
{
    struct daemon_store_metrics *m = arg;
    struct store_pool_stats ps;
    (void)r;
    if (m->store->ops->pool_stats(m->store, &ps) != CC_OK)
        return;
    obs_gauge_set(m->in_use, ps.in_use);
    obs_gauge_set(m->max, ps.size);
}

void daemon__store_metrics_start(struct daemon_store_metrics *m, struct store *st)
{
    m->store = st;
    obs_register_collector(m->reg, collect, m);
}

void daemon__store_metrics_stop(struct daemon_store_metrics *m)
{
    if (m->store)
        obs_unregister_collector(m->reg, collect, m);
    m->store = NULL;
}
