/*
 * metrics_expo.c - the expositions of a registry: Prometheus text 0.0.4 and
 * OpenMetrics 1.0.0, and the choice between them from an Accept header.
 *
 * Number formatting uses snprintf/strtod and assumes the C locale for
 * LC_NUMERIC (the daemon never calls setlocale).
 */
#include "observe/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "observe/metrics_int.h"

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
    format_double(val, sizeof val, obs__load_double(&s->value));
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
        err = obs__add_escaped(out, f->help, om);
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
            format_double(val, sizeof val, obs__load_double(&s->value));
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
