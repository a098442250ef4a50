/*
 * metrics_int.h - what the files of the metrics module share: the layout of
 * the registry, its families and their series. Not for other modules.
 *
 *   metrics.c          the registry, families, series and lock-free updates
 *   metrics_expo.c     the Prometheus text 0.0.4 and OpenMetrics 1.0.0
 *                      expositions and Accept negotiation
 *   metrics_process.c  the process_* collector (Linux /proc)
 *
 * Values are doubles stored as their IEEE-754 bits in _Atomic uint64_t and
 * updated with compare-and-swap, so no update ever takes a lock. A
 * histogram keeps one non-cumulative count per bucket; the total count is
 * the sum of those, which keeps _count and the +Inf bucket equal in every
 * scrape (the sum may lag the counts by an observation in flight).
 *
 * Series are found through a chained hash table keyed by the label values
 * and also kept in an array in creation order, which is the order they are
 * rendered in. Neither ever shrinks: a series lives until the registry is
 * freed, which is what lets callers cache obs_series pointers.
 *
 * Lock order: collect_lock -> registry lock -> family lock. A family's lock
 * is never held while another family's lock is taken.
 */
#ifndef CC_OBSERVE_METRICS_INT_H
#define CC_OBSERVE_METRICS_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "observe/metrics.h"

#define MAX_SERIES 10000
#define MAX_LABELS 16

struct obs_series {
    struct obs_family *family;
    struct obs_series *chain;    /* next series in the same hash slot */
    uint64_t hash;
    char *key;                   /* label values back to back, each with its NUL */
    size_t keylen;
    char *labels;                /* rendered `a="x",b="y"`; "" without labels */
    _Atomic uint64_t value;      /* double bits: counter/gauge value, histogram sum */
    _Atomic uint64_t buckets[];  /* histogram: nbounds + 1 counts, last is +Inf */
};

struct obs_family {
    struct obs_registry *reg;
    char *name;
    char *help;
    enum obs_type type;
    char *label_names[MAX_LABELS];
    size_t nlabels;
    double *bounds;              /* histogram upper bounds, +Inf not included */
    size_t nbounds;

    pthread_rwlock_t lock;       /* guards everything below */
    struct obs_series **slots;   /* hash table, nslots is a power of two */
    size_t nslots;
    struct obs_series **series;  /* creation order */
    size_t nseries, series_cap;

    struct obs_series *overflow; /* the sink past MAX_SERIES; never rendered */
    _Atomic(struct obs_series *) dropped; /* our series in DROPPED_NAME */
};

struct collector {
    obs_collect_fn fn;
    void *arg;
};

struct obs_registry {
    pthread_rwlock_t lock;       /* guards the family list */
    struct obs_family **families;
    size_t nfamilies, families_cap;
    struct obs_family *dropped;  /* DROPPED_NAME, label "metric" */

    pthread_mutex_t collect_lock; /* guards collectors; held while they run */
    struct collector *collectors;
    size_t ncollectors, collectors_cap;
    struct proc_metrics *proc;
};

/* The value of an atomic double (see above). */
double obs__load_double(const _Atomic uint64_t *a);
/* Appends s with backslash and newline escaped, and double quotes too when
 * `quotes` (label values always; HELP only in OpenMetrics). */
cc_err obs__add_escaped(struct cc_buf *b, const char *s, bool quotes);
/* Sets a counter read from elsewhere (process CPU time). */
void obs__counter_set(struct obs_series *s, double v);
/* Adds a collector; the caller holds r->collect_lock. */
void obs__add_collector(struct obs_registry *r, obs_collect_fn fn, void *arg);

#endif
