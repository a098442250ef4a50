/*
 * metrics.c - the metrics registry, lock-free series updates, the
 * Prometheus text 0.0.4 and OpenMetrics 1.0.0 expositions, and the
 * process_* collector.
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
 *
 * Number formatting uses snprintf/strtod and assumes the C locale for
 * LC_NUMERIC (the daemon never calls setlocale).
 */
#include "observe/metrics.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#define MAX_SERIES 10000
#define MAX_LABELS 16
#define MAX_NAME 200          /* metric name; leaves room for "_bucket" */
#define LABEL_VALUE_MAX 1024  /* bytes; longer values are cut at a character */
#define DROPPED_NAME "cc_metrics_series_dropped_total"

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

struct proc_metrics {
    struct obs_series *cpu, *rss, *vsize, *open_fds, *max_fds, *threads;
    long ticks;                  /* sysconf(_SC_CLK_TCK) */
    long page;                   /* sysconf(_SC_PAGESIZE) */
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

const double obs_latency_buckets[] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};
const size_t obs_latency_buckets_len =
    sizeof obs_latency_buckets / sizeof obs_latency_buckets[0];

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("commandcenter: metrics: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

/* ---- atomic doubles ---------------------------------------------------- */

static double from_bits(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static uint64_t to_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static void atomic_add_double(_Atomic uint64_t *a, double v)
{
    uint64_t old = atomic_load_explicit(a, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(a, &old, to_bits(from_bits(old) + v),
                                                  memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
}

static double load_double(const _Atomic uint64_t *a)
{
    /* atomic_load takes a non-const pointer in older C11 libraries. */
    return from_bits(atomic_load_explicit((_Atomic uint64_t *)a, memory_order_relaxed));
}

/* ---- names and label values -------------------------------------------- */

static bool valid_name(const char *s, bool allow_colon)
{
    if (!s || !*s)
        return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                  (allow_colon && c == ':') || (p != s && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Length of the valid UTF-8 sequence at p (at most `avail` bytes), 0 if invalid.
 * Rejects overlong forms, surrogates and code points past U+10FFFF. */
static size_t utf8_seq(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (avail < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return n;
}

static bool label_value_ok(const char *v)
{
    size_t len = strlen(v);
    if (len > LABEL_VALUE_MAX)
        return false;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq((const unsigned char *)v + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

/* A heap copy of v with each invalid byte replaced by U+FFFD, cut to at most
 * LABEL_VALUE_MAX bytes at a character boundary. Scrapers reject invalid
 * UTF-8, so the cleaned value is the series' identity. */
static char *label_value_clean(const char *v)
{
    size_t len = strlen(v), o = 0;
    char *out = cc_xmalloc(LABEL_VALUE_MAX + 1);
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq((const unsigned char *)v + i, len - i);
        const char *src = n ? v + i : "\xEF\xBF\xBD";
        size_t m = n ? n : 3;
        if (o + m > LABEL_VALUE_MAX)
            break;
        memcpy(out + o, src, m);
        o += m;
        i += n ? n : 1;
    }
    out[o] = '\0';
    return out;
}

/* Appends s with backslash and newline escaped, and double quotes too when
 * `quotes` (label values always; HELP only in OpenMetrics). */
static cc_err add_escaped(struct cc_buf *b, const char *s, bool quotes)
{
    cc_err err = CC_OK;
    const char *run = s;
    for (const char *p = s; *p; p++) {
        const char *esc = *p == '\\' ? "\\\\" : *p == '\n' ? "\\n"
                        : (*p == '"' && quotes) ? "\\\"" : NULL;
        if (!esc)
            continue;
        err = cc_buf_add(b, run, (size_t)(p - run));
        if (!err)
            err = cc_buf_add(b, esc, 2);
        if (err)
            goto out;
        run = p + 1;
    }
    err = cc_buf_addstr(b, run);
out:
    return err;
}

/* ---- series ------------------------------------------------------------ */

static uint64_t hash_values(const char *const *vals, size_t n)
{
    uint64_t h = 1469598103934665603ULL;              /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        const unsigned char *p = (const unsigned char *)vals[i];
        do {                                           /* the NUL separates values */
            h ^= *p;
            h *= 1099511628211ULL;
        } while (*p++);
    }
    return h;
}

static bool key_equals(const struct obs_series *s, const char *const *vals, size_t n)
{
    const char *p = s->key, *end = s->key + s->keylen;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(vals[i]) + 1;
        if ((size_t)(end - p) < len || memcmp(p, vals[i], len) != 0)
            return false;
        p += len;
    }
    return p == end;
}

static struct obs_series *series_alloc(struct obs_family *f)
{
    size_t nb = f->type == OBS_HISTOGRAM ? f->nbounds + 1 : 0;
    struct obs_series *s = cc_xcalloc(1, sizeof *s + nb * sizeof s->buckets[0]);
    s->family = f;
    atomic_init(&s->value, to_bits(0.0));
    for (size_t i = 0; i < nb; i++)
        atomic_init(&s->buckets[i], 0);
    return s;
}

static struct obs_series *series_new(struct obs_family *f, const char *const *vals,
                                     uint64_t hash)
{
    struct obs_series *s = series_alloc(f);
    struct cc_buf key, labels;
    cc_buf_init(&key, SIZE_MAX / 2);
    cc_buf_init(&labels, SIZE_MAX / 2);
    for (size_t i = 0; i < f->nlabels; i++) {
        /* Values are at most LABEL_VALUE_MAX bytes, so none of this can
         * reach the (practically unbounded) limit. */
        cc_err err = cc_buf_add(&key, vals[i], strlen(vals[i]) + 1);
        if (!err)
            err = cc_buf_addf(&labels, "%s%s=\"", i ? "," : "", f->label_names[i]);
        if (!err)
            err = add_escaped(&labels, vals[i], true);
        if (!err)
            err = cc_buf_addch(&labels, '"');
        if (err)
            die("%s: cannot build label set: %s", f->name, cc_err_str(err));
    }
    s->keylen = key.len;
    s->key = cc_buf_take(&key);
    s->labels = cc_buf_take(&labels);
    s->hash = hash;
    return s;
}

static void series_free(struct obs_series *s)
{
    if (!s)
        return;
    free(s->key);
    free(s->labels);
    free(s);
}

static struct obs_series *lookup(const struct obs_family *f, const char *const *vals,
                                 uint64_t hash)
{
    for (struct obs_series *s = f->slots[hash & (f->nslots - 1)]; s; s = s->chain)
        if (s->hash == hash && key_equals(s, vals, f->nlabels))
            return s;
    return NULL;
}

/* Caller holds the family's write lock. Keeps the load factor under 3/4. */
static void table_insert(struct obs_family *f, struct obs_series *s)
{
    if ((f->nseries + 1) * 4 > f->nslots * 3) {
        size_t n = f->nslots * 2;
        struct obs_series **slots = cc_xcalloc(n, sizeof *slots);
        for (size_t i = 0; i < f->nseries; i++) {
            struct obs_series *t = f->series[i];
            t->chain = slots[t->hash & (n - 1)];
            slots[t->hash & (n - 1)] = t;
        }
        free(f->slots);
        f->slots = slots;
        f->nslots = n;
    }
    if (f->nseries == f->series_cap) {
        f->series_cap = f->series_cap ? f->series_cap * 2 : 8;
        f->series = cc_xrealloc(f->series, f->series_cap * sizeof *f->series);
    }
    s->chain = f->slots[s->hash & (f->nslots - 1)];
    f->slots[s->hash & (f->nslots - 1)] = s;
    f->series[f->nseries++] = s;
}

static void count_dropped(struct obs_family *f)
{
    struct obs_family *d = f->reg->dropped;
    if (f == d)          /* bounded by the number of families; cannot recurse */
        return;
    struct obs_series *s = atomic_load(&f->dropped);
    if (!s) {
        const char *vals[] = { f->name };
        s = obs_series_get(d, vals);
        atomic_store(&f->dropped, s);
    }
    obs_counter_inc(s);
}

static struct obs_series *insert_series(struct obs_family *f, const char *const *vals,
                                        uint64_t hash)
{
    bool refused = false;
    pthread_rwlock_wrlock(&f->lock);
    struct obs_series *s = lookup(f, vals, hash);   /* lost a race to insert? */
    if (!s && f->nseries >= MAX_SERIES) {
        s = f->overflow;
        refused = true;
    } else if (!s) {
        s = series_new(f, vals, hash);
        table_insert(f, s);
    }
    pthread_rwlock_unlock(&f->lock);
    if (refused)
        count_dropped(f);
    return s;
}

struct obs_series *obs_series_get(struct obs_family *f, const char *const *label_values)
{
    const char *vals[MAX_LABELS];
    char *owned[MAX_LABELS] = { NULL };
    struct obs_series *s;

    if (f->nlabels == 0)
        return f->series[0];   /* created at registration, never moves */
    if (!label_values)
        die("%s: label values missing", f->name);
    for (size_t i = 0; i < f->nlabels; i++) {
        if (!label_values[i])
            die("%s: label value %zu is NULL", f->name, i);
        vals[i] = label_values[i];
        if (!label_value_ok(vals[i]))
            vals[i] = owned[i] = label_value_clean(vals[i]);
    }
    uint64_t hash = hash_values(vals, f->nlabels);
    pthread_rwlock_rdlock(&f->lock);
    s = lookup(f, vals, hash);
    pthread_rwlock_unlock(&f->lock);
    if (!s)
        s = insert_series(f, vals, hash);
    for (size_t i = 0; i < f->nlabels; i++)
        free(owned[i]);
    return s;
}

struct obs_series *obs_series_nolabels(struct obs_family *f)
{
    return obs_series_get(f, NULL);
}

/* ---- updates ----------------------------------------------------------- */

static void check_type(const struct obs_series *s, enum obs_type want, const char *op)
{
    if (s->family->type != want)
        die("%s: %s on a metric of another type", s->family->name, op);
}

void obs_counter_add(struct obs_series *s, double v)
{
    check_type(s, OBS_COUNTER, "counter add");
    /* A counter never goes down; a negative or NaN increment is dropped
     * rather than aborting the daemon over a miscomputed value. */
    if (!(v >= 0))
        return;
    atomic_add_double(&s->value, v);
}

/* Sampled counters (process CPU time) are read, not counted. */
static void counter_set(struct obs_series *s, double v)
{
    atomic_store_explicit(&s->value, to_bits(v), memory_order_relaxed);
}

void obs_gauge_set(struct obs_series *s, double v)
{
    check_type(s, OBS_GAUGE, "gauge set");
    atomic_store_explicit(&s->value, to_bits(v), memory_order_relaxed);
}

void obs_gauge_add(struct obs_series *s, double v)
{
    check_type(s, OBS_GAUGE, "gauge add");
    atomic_add_double(&s->value, v);
}

void obs_histogram_observe(struct obs_series *s, double v)
{
    check_type(s, OBS_HISTOGRAM, "histogram observe");
    const struct obs_family *f = s->family;
    size_t lo = 0, hi = f->nbounds;
    while (lo < hi) {          /* first bound >= v; NaN lands in +Inf */
        size_t mid = lo + (hi - lo) / 2;
        if (v <= f->bounds[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    atomic_fetch_add_explicit(&s->buckets[lo], 1, memory_order_relaxed);
    atomic_add_double(&s->value, v);
}

double obs_series_value(const struct obs_series *s)
{
    return load_double(&s->value);
}

uint64_t obs_histogram_count(const struct obs_series *s)
{
    uint64_t n = 0;
    if (s->family->type != OBS_HISTOGRAM)
        return 0;
    for (size_t i = 0; i <= s->family->nbounds; i++)
        n += atomic_load_explicit((_Atomic uint64_t *)&s->buckets[i], memory_order_relaxed);
    return n;
}

/* ---- families and the registry ----------------------------------------- */

static void check_family(enum obs_type type, const char *name, const char *const *labels,
                         const double *bounds, size_t nbounds)
{
    if (!valid_name(name, true) || strlen(name) > MAX_NAME)
        die("invalid metric name \"%s\"", name ? name : "(null)");
    if (type == OBS_COUNTER && (!has_suffix(name, "_total") || strlen(name) == 6))
        die("%s: counter names must end in _total", name);
    for (size_t i = 0; labels && labels[i]; i++) {
        if (i >= MAX_LABELS)
            die("%s: more than %d labels", name, MAX_LABELS);
        if (!valid_name(labels[i], false) || strncmp(labels[i], "__", 2) == 0)
            die("%s: invalid label name \"%s\"", name, labels[i]);
        if (type == OBS_HISTOGRAM && strcmp(labels[i], "le") == 0)
            die("%s: histograms cannot have a label named le", name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(labels[i], labels[j]) == 0)
                die("%s: label \"%s\" given twice", name, labels[i]);
    }
    for (size_t i = 0; i < nbounds; i++) {
        bool last_inf = i + 1 == nbounds && bounds[i] == INFINITY;
        if ((!isfinite(bounds[i]) && !last_inf) || (i && !(bounds[i] > bounds[i - 1])))
            die("%s: buckets must be finite and strictly increasing", name);
    }
}

static bool same_shape(const struct obs_family *f, enum obs_type type,
                       const char *const *labels, const double *bounds, size_t nbounds)
{
    size_t n = 0;
    if (f->type != type)
        return false;
    for (; labels && labels[n]; n++)
        if (n >= f->nlabels || strcmp(labels[n], f->label_names[n]) != 0)
            return false;
    if (n != f->nlabels || (type == OBS_HISTOGRAM && nbounds != f->nbounds))
        return false;
    for (size_t i = 0; type == OBS_HISTOGRAM && i < nbounds; i++)
        if (bounds[i] != f->bounds[i])
            return false;
    return true;
}

/* Whether family f already uses `n` as a family or sample name in either
 * format (histograms: x_bucket, x_sum, x_count; counters: the name without
 * _total, which OpenMetrics uses as the family name). */
static bool claims(const struct obs_family *f, const char *n)
{
    size_t len = strlen(f->name);
    if (strcmp(f->name, n) == 0)
        return true;
    if (f->type == OBS_COUNTER)
        return strlen(n) == len - 6 && strncmp(f->name, n, len - 6) == 0;
    if (f->type == OBS_HISTOGRAM && strncmp(f->name, n, len) == 0)
        return strcmp(n + len, "_bucket") == 0 || strcmp(n + len, "_sum") == 0 ||
               strcmp(n + len, "_count") == 0;
    return false;
}

/* Caller holds the registry's write lock. */
static void check_collisions(const struct obs_registry *r, enum obs_type type,
                             const char *name)
{
    char names[4][MAX_NAME + 16];
    size_t n = 0, len = strlen(name);
    snprintf(names[n++], sizeof names[0], "%s", name);
    if (type == OBS_COUNTER)
        snprintf(names[n++], sizeof names[0], "%.*s", (int)(len - 6), name);
    if (type == OBS_HISTOGRAM) {
        snprintf(names[n++], sizeof names[0], "%s_bucket", name);
        snprintf(names[n++], sizeof names[0], "%s_sum", name);
        snprintf(names[n++], sizeof names[0], "%s_count", name);
    }
    for (size_t i = 0; i < r->nfamilies; i++)
        for (size_t j = 0; j < n; j++)
            if (claims(r->families[i], names[j]))
                die("%s: name clashes with metric %s", name, r->families[i]->name);
}

static struct obs_family *family_new(struct obs_registry *r, enum obs_type type,
                                     const char *name, const char *help,
                                     const char *const *labels,
                                     const double *bounds, size_t nbounds)
{
    struct obs_family *f = cc_xcalloc(1, sizeof *f);
    f->reg = r;
    f->type = type;
    f->name = cc_xstrdup(name);
    f->help = cc_xstrdup(help ? help : "");
    for (; labels && labels[f->nlabels]; f->nlabels++)
        f->label_names[f->nlabels] = cc_xstrdup(labels[f->nlabels]);
    if (type == OBS_HISTOGRAM) {           /* nbounds excludes +Inf here */
        f->nbounds = nbounds;
        f->bounds = cc_xmalloc((nbounds ? nbounds : 1) * sizeof *f->bounds);
        if (nbounds)
            memcpy(f->bounds, bounds, nbounds * sizeof *bounds);
    }
    if (pthread_rwlock_init(&f->lock, NULL) != 0)
        die("%s: pthread_rwlock_init failed", name);
    f->nslots = 16;
    f->slots = cc_xcalloc(f->nslots, sizeof *f->slots);
    f->overflow = series_alloc(f);
    atomic_init(&f->dropped, NULL);
    if (f->nlabels == 0)   /* render a 0 sample before the first update */
        table_insert(f, series_new(f, NULL, hash_values(NULL, 0)));
    return f;
}

static void family_free(struct obs_family *f)
{
    for (size_t i = 0; i < f->nseries; i++)
        series_free(f->series[i]);
    series_free(f->overflow);
    free(f->series);
    free(f->slots);
    for (size_t i = 0; i < f->nlabels; i++)
        free(f->label_names[i]);
    free(f->bounds);
    free(f->help);
    free(f->name);
    pthread_rwlock_destroy(&f->lock);
    free(f);
}

static struct obs_family *register_family(struct obs_registry *r, enum obs_type type,
                                          const char *name, const char *help,
                                          const char *const *labels,
                                          const double *bounds, size_t nbounds)
{
    struct obs_family *f = NULL;
    check_family(type, name, labels, bounds, nbounds);
    if (type == OBS_HISTOGRAM && nbounds && bounds[nbounds - 1] == INFINITY)
        nbounds--;                         /* +Inf is always there */
    pthread_rwlock_wrlock(&r->lock);
    for (size_t i = 0; i < r->nfamilies; i++) {
        if (strcmp(r->families[i]->name, name) != 0)
            continue;
        if (!same_shape(r->families[i], type, labels, bounds, nbounds))
            die("%s: registered again with another type, labels or buckets", name);
        f = r->families[i];
        goto out;
    }
    check_collisions(r, type, name);
    f = family_new(r, type, name, help, labels, bounds, nbounds);
    if (r->nfamilies == r->families_cap) {
        r->families_cap = r->families_cap ? r->families_cap * 2 : 16;
        r->families = cc_xrealloc(r->families, r->families_cap * sizeof *r->families);
    }
    r->families[r->nfamilies++] = f;
out:
    pthread_rwlock_unlock(&r->lock);
    return f;
}

struct obs_family *obs_counter(struct obs_registry *r, const char *name,
                               const char *help, const char *const *label_names)
{
    return register_family(r, OBS_COUNTER, name, help, label_names, NULL, 0);
}

struct obs_family *obs_gauge(struct obs_registry *r, const char *name,
                             const char *help, const char *const *label_names)
{
    return register_family(r, OBS_GAUGE, name, help, label_names, NULL, 0);
}

struct obs_family *obs_histogram(struct obs_registry *r, const char *name,
                                 const char *help, const char *const *label_names,
                                 const double *buckets, size_t nbuckets)
{
    return register_family(r, OBS_HISTOGRAM, name, help, label_names, buckets, nbuckets);
}

struct obs_registry *obs_registry_new(void)
{
    static const char *const dropped_labels[] = { "metric", NULL };
    struct obs_registry *r = cc_xcalloc(1, sizeof *r);
    if (pthread_rwlock_init(&r->lock, NULL) != 0 ||
        pthread_mutex_init(&r->collect_lock, NULL) != 0)
        die("cannot initialise registry locks");
    r->dropped = obs_counter(r, DROPPED_NAME,
                             "Label sets refused because their metric already had the "
                             "maximum number of series.",
                             dropped_labels);
    return r;
}

void obs_registry_free(struct obs_registry *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nfamilies; i++)
        family_free(r->families[i]);
    free(r->families);
    free(r->collectors);
    free(r->proc);
    pthread_mutex_destroy(&r->collect_lock);
    pthread_rwlock_destroy(&r->lock);
    free(r);
}

/* Caller holds collect_lock. */
static void add_collector(struct obs_registry *r, obs_collect_fn fn, void *arg)
{
    if (r->ncollectors == r->collectors_cap) {
        r->collectors_cap = r->collectors_cap ? r->collectors_cap * 2 : 4;
        r->collectors = cc_xrealloc(r->collectors,
                                    r->collectors_cap * sizeof *r->collectors);
    }
    r->collectors[r->ncollectors++] = (struct collector){ .fn = fn, .arg = arg };
}

void obs_register_collector(struct obs_registry *r, obs_collect_fn fn, void *arg)
{
    pthread_mutex_lock(&r->collect_lock);
    add_collector(r, fn, arg);
    pthread_mutex_unlock(&r->collect_lock);
}

void obs_unregister_collector(struct obs_registry *r, obs_collect_fn fn, void *arg)
{
    /* collect_lock is held while collectors run: once this returns, fn is
     * not running and will not run again. */
    pthread_mutex_lock(&r->collect_lock);
    for (size_t i = 0; i < r->ncollectors; i++) {
        if (r->collectors[i].fn == fn && r->collectors[i].arg == arg) {
            r->collectors[i] = r->collectors[--r->ncollectors];
            break;
        }
    }
    pthread_mutex_unlock(&r->collect_lock);
}

/* ---- rendering --------------------------------------------------------- */

/* Integers print without exponent or fraction while exact (|v| < 1e15);
 * anything else prints in the shortest %g form that reads back the same. */
static void format_double(char *buf, size_t size, double v)
{
    if (isnan(v)) {
        snprintf(buf, size, "NaN");
    } else if (isinf(v)) {
        snprintf(buf, size, "%s", v > 0 ? "+Inf" : "-Inf");
    } else if (v == 0) {
        snprintf(buf, size, "0");                 /* also for -0 */
    } else if (fabs(v) < 1e15 && v == trunc(v)) {
        snprintf(buf, size, "%.0f", v);
    } else {
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(buf, size, "%.*g", prec, v);
            if (strtod(buf, NULL) == v)
                break;
        }
    }
}

/* `le` as clients write it: "0.005", "1", "+Inf"; OpenMetrics wants the
 * canonical float form, so a bare integer there becomes "1.0". */
static void format_le(char *buf, size_t size, double v, enum obs_format fmt)
{
    format_double(buf, size, v);
    if (fmt == OBS_FMT_OPENMETRICS && isfinite(v) && !strpbrk(buf, ".e")) {
        size_t n = strlen(buf);
        snprintf(buf + n, size - n, ".0");
    }
}

static cc_err add_sample(struct cc_buf *out, const char *name, const char *suffix,
                         const char *labels, const char *le, const char *value)
{
    bool any = *labels || le;
    return cc_buf_addf(out, "%s%s%s%s%s%s%s%s %s\n", name, suffix, any ? "{" : "",
                       labels, *labels && le ? "," : "", le ? "le=\"" : "",
                       le ? le : "", le ? "\"}" : any ? "}" : "", value);
}

static cc_err render_histogram(const struct obs_family *f, const struct obs_series *s,
                               enum obs_format fmt, struct cc_buf *out)
{
    cc_err err = CC_OK;
    char le[32], val[32];
    uint64_t cum = 0;
    for (size_t i = 0; i <= f->nbounds; i++) {
        cum += atomic_load_explicit((_Atomic uint64_t *)&s->buckets[i],
                                    memory_order_relaxed);
        format_le(le, sizeof le, i < f->nbounds ? f->bounds[i] : INFINITY, fmt);
        snprintf(val, sizeof val, "%llu", (unsigned long long)cum);
        err = add_sample(out, f->name, "_bucket", s->labels, le, val);
        if (err)
            goto out;
    }
    format_double(val, sizeof val, load_double(&s->value));
    err = add_sample(out, f->name, "_sum", s->labels, NULL, val);
    if (err)
        goto out;
    snprintf(val, sizeof val, "%llu", (unsigned long long)cum);
    err = add_sample(out, f->name, "_count", s->labels, NULL, val);
out:
    return err;
}

static cc_err render_header(const struct obs_family *f, enum obs_format fmt,
                            struct cc_buf *out)
{
    static const char *const type_names[] = {
        [OBS_COUNTER] = "counter", [OBS_GAUGE] = "gauge", [OBS_HISTOGRAM] = "histogram",
    };
    bool om = fmt == OBS_FMT_OPENMETRICS;
    /* OpenMetrics names a counter family without its _total suffix. */
    int namelen = (int)strlen(f->name) - (om && f->type == OBS_COUNTER ? 6 : 0);
    cc_err err = cc_buf_addf(out, "# HELP %.*s ", namelen, f->name);
    if (!err)
        err = add_escaped(out, f->help, om);
    if (!err)
        err = cc_buf_addf(out, "\n# TYPE %.*s %s\n", namelen, f->name, type_names[f->type]);
    return err;
}

static cc_err render_family(struct obs_family *f, enum obs_format fmt, struct cc_buf *out)
{
    char val[32];
    pthread_rwlock_rdlock(&f->lock);
    cc_err err = render_header(f, fmt, out);
    for (size_t i = 0; !err && i < f->nseries; i++) {
        const struct obs_series *s = f->series[i];
        if (f->type == OBS_HISTOGRAM) {
            err = render_histogram(f, s, fmt, out);
        } else {
            format_double(val, sizeof val, load_double(&s->value));
            err = add_sample(out, f->name, "", s->labels, NULL, val);
        }
    }
    pthread_rwlock_unlock(&f->lock);
    return err;
}

static void run_collectors(struct obs_registry *r)
{
    pthread_mutex_lock(&r->collect_lock);
    for (size_t i = 0; i < r->ncollectors; i++)
        r->collectors[i].fn(r->collectors[i].arg, r);
    pthread_mutex_unlock(&r->collect_lock);
}

cc_err obs_render(struct obs_registry *r, enum obs_format fmt, struct cc_buf *out)
{
    size_t start = out->len;
    cc_err err = CC_OK;

    run_collectors(r);
    pthread_rwlock_rdlock(&r->lock);
    for (size_t i = 0; !err && i < r->nfamilies; i++)
        err = render_family(r->families[i], fmt, out);
    pthread_rwlock_unlock(&r->lock);
    if (err)
        goto out;
    if (fmt == OBS_FMT_OPENMETRICS)
        err = cc_buf_addstr(out, "# EOF\n");
out:
    if (err && out->ptr) {         /* leave no half exposition behind */
        out->len = start;
        out->ptr[start] = '\0';
    }
    return err;
}

/* ---- content negotiation ----------------------------------------------- */

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/* Parses one media range of an Accept header, e.g.
 * "application/openmetrics-text; version=1.0.0; q=0.9". Returns false when
 * it names neither format (or a version we do not produce) or is malformed;
 * otherwise *fmt and *q (quality, 1 when absent) are set. */
static bool parse_range(char *range, enum obs_format *fmt, double *q)
{
    const char *version = NULL;
    char *next = strchr(range, ';');
    if (next)
        *next++ = '\0';
    char *type = trim(range);
    *q = 1.0;
    while (next) {
        char *param = next;
        next = strchr(param, ';');
        if (next)
            *next++ = '\0';
        char *eq = strchr(param, '=');
        if (!eq)
            continue;
        *eq = '\0';
        char *name = trim(param), *val = trim(eq + 1), *end;
        if (strcasecmp(name, "q") == 0) {
            *q = strtod(val, &end);
            if (end == val || *end || !(*q >= 0 && *q <= 1))
                return false;
        } else if (strcasecmp(name, "version") == 0) {
            version = val;
        }
    }
    if (strcasecmp(type, "application/openmetrics-text") == 0) {
        *fmt = OBS_FMT_OPENMETRICS;
        return !version || strcmp(version, "1.0.0") == 0 || strcmp(version, "0.0.1") == 0;
    }
    *fmt = OBS_FMT_PROMETHEUS;
    if (strcasecmp(type, "text/plain") == 0)
        return !version || strcmp(version, "0.0.4") == 0;
    return strcasecmp(type, "text/*") == 0 || strcmp(type, "*/*") == 0;
}

enum obs_format obs_format_from_accept(const char *accept)
{
    enum obs_format best = OBS_FMT_PROMETHEUS, fmt;
    double best_q = 0, q;
    char range[256];

    for (const char *p = accept; p && *p;) {
        size_t n = strcspn(p, ",");
        /* Over-long ranges name nothing we serve; skip them. Equal q keeps
         * the earlier range, as the header's order is the tie-break. */
        if (n < sizeof range) {
            memcpy(range, p, n);
            range[n] = '\0';
            if (parse_range(range, &fmt, &q) && q > best_q) {
                best = fmt;
                best_q = q;
            }
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return best;
}

const char *obs_content_type(enum obs_format fmt)
{
    return fmt == OBS_FMT_OPENMETRICS
               ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
               : "text/plain; version=0.0.4; charset=utf-8";
}

/* ---- process metrics --------------------------------------------------- */

static cc_err read_small_file(const char *path, char *buf, size_t size)
{
    cc_err err = CC_OK;
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return CC_EIO;
    while (len + 1 < size) {
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n < 0) {
            err = CC_EIO;
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
out:
    close(fd);
    return err;
}

struct proc_stat {
    unsigned long long utime, stime, threads, starttime, vsize, rss_pages;
};

/* Fields of /proc/self/stat after "pid (comm)"; comm may hold spaces and
 * parentheses, so parsing starts after the last ')'. See proc(5). */
static cc_err read_proc_stat(struct proc_stat *out)
{
    char buf[4096];
    unsigned long long field[25] = { 0 };   /* indexed by proc(5) field number */
    cc_err err = read_small_file("/proc/self/stat", buf, sizeof buf);
    if (err)
        return err;
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ' || !p[2])
        return CC_EPARSE;
    p += 3;                                   /* field 3, the state letter */
    for (int i = 4; i <= 24; i++) {
        char *end;
        while (*p && *p != ' ')
            p++;
        field[i] = strtoull(p, &end, 10);
        if (end == p)
            return CC_EPARSE;
        p = end;
    }
    *out = (struct proc_stat){
        .utime = field[14], .stime = field[15], .threads = field[20],
        .starttime = field[22], .vsize = field[23], .rss_pages = field[24],
    };
    return CC_OK;
}

static cc_err read_boot_time(double *out)
{
    cc_err err = CC_ENOTFOUND;
    char *line = NULL;
    size_t cap = 0;
    FILE *f = fopen("/proc/stat", "re");
    if (!f)
        return CC_EIO;
    while (getline(&line, &cap, f) > 0) {
        if (strncmp(line, "btime ", 6) == 0) {
            char *end;
            unsigned long long v = strtoull(line + 6, &end, 10);
            if (end == line + 6) {
                err = CC_EPARSE;
                goto out;
            }
            *out = (double)v;
            err = CC_OK;
            goto out;
        }
    }
out:
    free(line);
    fclose(f);
    return err;
}

static cc_err count_open_fds(double *out)
{
    size_t n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return CC_EIO;
    char self[32];   /* the directory's own descriptor is not the process' */
    snprintf(self, sizeof self, "%d", dirfd(d));
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.' && strcmp(e->d_name, self) != 0)
            n++;
    closedir(d);
    *out = (double)n;
    return CC_OK;
}

static void collect_process(void *arg, struct obs_registry *r)
{
    struct proc_metrics *pm = arg;
    struct proc_stat st;
    struct rlimit rl;
    double fds;

    if (read_proc_stat(&st) == CC_OK) {
        counter_set(pm->cpu, (double)(st.utime + st.stime) / (double)pm->ticks);
        obs_gauge_set(pm->rss, (double)st.rss_pages * (double)pm->page);
        obs_gauge_set(pm->vsize, (double)st.vsize);
        obs_gauge_set(pm->threads, (double)st.threads);
    }
    if (count_open_fds(&fds) == CC_OK)
        obs_gauge_set(pm->open_fds, fds);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        obs_gauge_set(pm->max_fds, rl.rlim_cur == RLIM_INFINITY ? INFINITY
                                                                : (double)rl.rlim_cur);
}

static struct obs_series *gauge1(struct obs_registry *r, const char *name, const char *help)
{
    return obs_series_nolabels(obs_gauge(r, name, help, NULL));
}

void obs_register_process_metrics(struct obs_registry *r)
{
    struct proc_metrics *pm;
    struct obs_series *start;
    struct proc_stat st;
    double btime;

    pthread_mutex_lock(&r->collect_lock);
    if (r->proc)
        goto out;
    pm = cc_xcalloc(1, sizeof *pm);
    pm->ticks = sysconf(_SC_CLK_TCK);
    pm->page = sysconf(_SC_PAGESIZE);
    if (pm->ticks <= 0)
        pm->ticks = 100;
    if (pm->page <= 0)
        pm->page = 4096;
    pm->cpu = obs_series_nolabels(obs_counter(r, "process_cpu_seconds_total",
                                              "Total user and system CPU time spent in seconds.",
                                              NULL));
    pm->rss = gauge1(r, "process_resident_memory_bytes", "Resident memory size in bytes.");
    pm->vsize = gauge1(r, "process_virtual_memory_bytes", "Virtual memory size in bytes.");
    pm->open_fds = gauge1(r, "process_open_fds", "Number of open file descriptors.");
    pm->max_fds = gauge1(r, "process_max_fds", "Maximum number of open file descriptors.");
    start = gauge1(r, "process_start_time_seconds",
                   "Start time of the process since unix epoch in seconds.");
    pm->threads = gauge1(r, "process_threads", "Number of OS threads in the process.");
    /* The start time never changes: read it once. */
    if (read_proc_stat(&st) == CC_OK && read_boot_time(&btime) == CC_OK)
        obs_gauge_set(start, btime + (double)st.starttime / (double)pm->ticks);
    r->proc = pm;
    add_collector(r, collect_process, pm);
out:
    pthread_mutex_unlock(&r->collect_lock);
}
