/*
 * metrics.h - Prometheus metrics: counters, gauges and histograms with labels.
 *
 * Model: a registry holds families (one metric name, one type, fixed label
 * names); a family holds series (one per distinct label-value tuple).
 * Series are created on first use and live until the registry is freed, so
 * a caller may keep an obs_series pointer forever and update it with no
 * lookup at all (the HTTP layer does this per route).
 *
 * Concurrency: updates are lock-free atomics on the series. Looking up or
 * creating a series takes the family's rwlock (read for lookup, write only
 * to insert). Rendering takes the registry's rwlock for reading and each
 * family's rwlock for reading and reads the atomics, so an increment never
 * waits for a scrape and a scrape never waits for increments.
 *
 * Cardinality: each family holds at most `max_series` series (default
 * 10,000). Past that obs_series_get returns a shared "overflow" sink that
 * is never rendered and counts the refusal in cc_metrics_series_dropped_total.
 *
 * Names and label names must match Prometheus' rules
 * ([a-zA-Z_:][a-zA-Z0-9_:]*, labels without ':' and not starting "__",
 * at most 16 per family); counter names must end in "_total". Registration
 * with a bad name, the same name with another type, labels or buckets, or
 * a name whose samples would clash with another family's (x_count next to
 * histogram x), aborts - that is a programming error, not input. So does
 * updating a series with another type's function. Label values may be any
 * bytes: invalid UTF-8 is replaced by U+FFFD and values are cut to 1024
 * bytes before lookup (the cleaned value is the series' identity), and
 * they are escaped on output.
 *
 * Families without labels get their one series at registration, so they
 * render 0 before the first update; labelled families with no series yet
 * render only their HELP and TYPE lines.
 */
#ifndef CC_OBSERVE_METRICS_H
#define CC_OBSERVE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

struct obs_registry;
struct obs_family;
struct obs_series;

enum obs_type { OBS_COUNTER, OBS_GAUGE, OBS_HISTOGRAM };
enum obs_format { OBS_FMT_PROMETHEUS, OBS_FMT_OPENMETRICS };

struct obs_registry *obs_registry_new(void);
void obs_registry_free(struct obs_registry *r);          /* NULL-safe */

/* label_names: NULL-terminated array, or NULL for none. Registering the same
 * name again with the same type and labels returns the existing family. */
struct obs_family *obs_counter(struct obs_registry *r, const char *name,
                               const char *help, const char *const *label_names);
struct obs_family *obs_gauge(struct obs_registry *r, const char *name,
                             const char *help, const char *const *label_names);
/* buckets: strictly increasing upper bounds, +Inf implied. */
struct obs_family *obs_histogram(struct obs_registry *r, const char *name,
                                 const char *help, const char *const *label_names,
                                 const double *buckets, size_t nbuckets);

/* Never NULL. label_values has as many entries as the family's label names
 * (NULL allowed when there are none). */
struct obs_series *obs_series_get(struct obs_family *f, const char *const *label_values);
/* Convenience for families without labels. */
struct obs_series *obs_series_nolabels(struct obs_family *f);

void obs_counter_add(struct obs_series *s, double v);   /* v < 0 or NaN: ignored */
static inline void obs_counter_inc(struct obs_series *s) { obs_counter_add(s, 1.0); }
void obs_gauge_set(struct obs_series *s, double v);
void obs_gauge_add(struct obs_series *s, double v);     /* v may be negative */
void obs_histogram_observe(struct obs_series *s, double v);
double obs_series_value(const struct obs_series *s);    /* counter/gauge; for tests */
uint64_t obs_histogram_count(const struct obs_series *s);

/* A collector runs at the start of every render, before any family is
 * read, to refresh sampled gauges (process_*, queue depth). It must only
 * set values, and must be quick. */
typedef void (*obs_collect_fn)(void *arg, struct obs_registry *r);
void obs_register_collector(struct obs_registry *r, obs_collect_fn fn, void *arg);
/* Removes a collector; when it returns, fn is not running and never runs again. */
void obs_unregister_collector(struct obs_registry *r, obs_collect_fn fn, void *arg);

/* Registers process_cpu_seconds_total, process_resident_memory_bytes,
 * process_virtual_memory_bytes, process_open_fds, process_max_fds,
 * process_start_time_seconds and process_threads, read from /proc/self. */
void obs_register_process_metrics(struct obs_registry *r);

/* Appends the exposition to `out`. OpenMetrics ends with "# EOF". On error
 * (CC_ELIMIT when `out` is full) `out` is left as it was. */
cc_err obs_render(struct obs_registry *r, enum obs_format fmt, struct cc_buf *out);

/* Picks the format from an Accept header (NULL -> Prometheus text). */
enum obs_format obs_format_from_accept(const char *accept);
const char *obs_content_type(enum obs_format fmt);

/* Default latency buckets in seconds: 0.5 ms .. 10 s. */
extern const double obs_latency_buckets[];
extern const size_t obs_latency_buckets_len;

#endif
