/*
 * store_metrics.h - the store's connection pool as metrics (wiring: the
 * store knows nothing of metrics; it reports waits through
 * store_cfg.pool_wait and its size through the pool_stats op):
 *
 *   cc_store_pool_connections_in_use   gauge, read at scrape
 *   cc_store_pool_connections_max      gauge (store.pool_size; SQLite: its readers)
 *   cc_store_pool_wait_seconds         histogram of the wait for a connection
 *                                      (0 when one was idle)
 *   cc_store_pool_timeouts_total       counter: waits that hit store.busy_timeout
 */
#ifndef CC_DAEMON_STORE_METRICS_H
#define CC_DAEMON_STORE_METRICS_H

#include <stdbool.h>
#include <stdint.h>

struct obs_registry;
struct obs_series;
struct store;

struct daemon_store_metrics {
    struct obs_registry *reg;
    struct store *store;              /* set by daemon__store_metrics_start */
    struct obs_series *wait, *timeouts, *in_use, *max;
};

/* Registers the families; call before the store opens. */
void daemon__store_metrics_init(struct daemon_store_metrics *m, struct obs_registry *r);
/* store_cfg.pool_wait, with m as its argument. */
void daemon__store_pool_wait(void *arg, int64_t waited_ns, bool timed_out);
/* Reads the pool at every scrape from now on. */
void daemon__store_metrics_start(struct daemon_store_metrics *m, struct store *st);
/* Stops that; before the store closes. */
void daemon__store_metrics_stop(struct daemon_store_metrics *m);

#endif
