/*
 * metrics.c - the metrics registry: families, series found by their label
 * values, and the lock-free updates (layout and invariants: metrics_int.h).
 */
#include "observe/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "observe/metrics_int.h"

#define MAX_NAME 200          /* metric name; leaves room for "_bucket" */
#define LABEL_VALUE_MAX 1024  /* bytes; longer values are cut at a character */
#define DROPPED_NAME "cc_metrics_series_dropped_total"

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

double obs__load_double(const _Atomic uint64_t *a)
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
cc_err obs__add_escaped(struct cc_buf *b, const char *s, bool quotes)
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
            err = obs__add_escaped(&labels, vals[i], true);
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
void obs__counter_set(struct obs_series *s, double v)
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
    return obs__load_double(&s->value);
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
void obs__add_collector(struct obs_registry *r, obs_collect_fn fn, void *arg)
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
    obs__add_collector(r, fn, arg);
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
