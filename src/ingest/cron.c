/*
 * cron.c - parsing cron expressions into bitsets and finding the next run.
 *
 * cron_next searches wall-clock time field by field (month, then day, hour,
 * minute: a non-matching month is skipped whole), then maps the wall time
 * to an instant with cc_tz_mktime: the earliest occurrence in an overlap,
 * the end of the gap in a gap. A candidate at or before `after` (which only
 * happens for the second pass through a repeated hour) is skipped, and that
 * is what makes a repeated wall time run once.
 */
#include "ingest/cron.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Instants cron_next accepts: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z. */
#define AFTER_MIN INT64_C(-62135596800)
#define AFTER_MAX INT64_C(253402300799)
/* Candidates rejected as second occurrences are at most a repeated hour's
 * worth per transition; this bound only guards against hostile zones. */
#define MAX_CANDIDATES 100000

struct field {
    const char *name;
    int min, max;    /* accepted values */
    int star_max;    /* upper end of '*' and "N/STEP" */
    const char *names; /* 3-letter names for min.., concatenated, or NULL */
};

static const struct field fields[5] = {
    {.name = "minute", .min = 0, .max = 59, .star_max = 59},
    {.name = "hour", .min = 0, .max = 23, .star_max = 23},
    {.name = "day of month", .min = 1, .max = 31, .star_max = 31},
    {.name = "month", .min = 1, .max = 12, .star_max = 12,
     .names = "JANFEBMARAPRMAYJUNJULAUGSEPOCTNOVDEC"},
    {.name = "day of week", .min = 0, .max = 7, .star_max = 6, .names = "SUNMONTUEWEDTHUFRISAT"},
};

static const struct {
    const char *name;
    const char *expansion;
} macros[] = {
    {"@yearly", "0 0 1 1 *"},  {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"},  {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

struct parser {
    const char *text;
    struct cc_diag *d;
    int field;       /* 0-4 */
    uint64_t bits;   /* of the field being parsed */
};

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_letter(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static char upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static unsigned col_of(const struct parser *ps, const char *at)
{
    return (unsigned)(at - ps->text) + 1;
}

static cc_err field_error(const struct parser *ps, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static cc_err field_error(const struct parser *ps, const char *at, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    cc_diag_set(ps->d, NULL, 1, col_of(ps, at), "field %d (%s): %s", ps->field + 1,
                fields[ps->field].name, what);
    return CC_EPARSE;
}

static cc_err unexpected(const struct parser *ps, const char *at, const char *expected)
{
    unsigned char c = (unsigned char)*at;
    if (c == '\0' || is_blank((char)c))
        return field_error(ps, at, "expected %s", expected);
    if (c < 0x20 || c >= 0x7f)
        return field_error(ps, at, "unexpected byte 0x%02x, expected %s", c, expected);
    return field_error(ps, at, "unexpected '%c', expected %s", c, expected);
}

/* A number or (in the month and weekday fields) a 3-letter name. */
static cc_err parse_value(const struct parser *ps, const char **p, int *out, bool *by_name)
{
    const struct field *f = &fields[ps->field];
    const char *start = *p, *q = *p;
    *by_name = false;
    if (is_letter(*q)) {
        while (is_letter(*q))
            q++;
        for (int i = 0; f->names && q - start == 3 && f->names[i * 3]; i++)
            if (upper(start[0]) == f->names[i * 3] && upper(start[1]) == f->names[i * 3 + 1] &&
                upper(start[2]) == f->names[i * 3 + 2]) {
                *out = f->min + i;
                *by_name = true;
                *p = q;
                return CC_OK;
            }
        if (!f->names)
            return field_error(ps, start, "unexpected '%.*s', names are only allowed for the "
                                          "month and day of week", (int)(q - start), start);
        return field_error(ps, start, "unknown name '%.*s' (expected %s)", (int)(q - start),
                           start, ps->field == 3 ? "JAN-DEC" : "SUN-SAT");
    }
    if (!is_digit(*q))
        return unexpected(ps, q, "a number");
    int v = 0;
    while (is_digit(*q)) {
        v = v < 1000 ? v * 10 + (*q - '0') : v;
        q++;
    }
    if (v < f->min || v > f->max)
        return field_error(ps, start, "%.*s is out of range %d-%d", (int)(q - start), start,
                           f->min, f->max);
    *out = v;
    *p = q;
    return CC_OK;
}

/* item = ( '*' | value [ '-' value ] ) [ '/' step ] */
static cc_err parse_item(struct parser *ps, const char **p)
{
    const struct field *f = &fields[ps->field];
    const char *start = *p;
    int lo = f->min, hi = f->star_max, step = 1;
    bool name_lo, name_hi, range = false;
    cc_err err = CC_OK;
    if (**p == '*') {
        (*p)++;
    } else {
        err = parse_value(ps, p, &lo, &name_lo);
        hi = lo;
        if (!err && **p == '-') {
            (*p)++;
            range = true;
            err = parse_value(ps, p, &hi, &name_hi);
            if (!err && ps->field == 4 && name_hi && hi == 0 && lo > 0)
                hi = 7; /* "MON-SUN": Sunday at the end of the week */
            if (!err && hi < lo)
                err = field_error(ps, start, "range %.*s is reversed (%d > %d)",
                                  (int)(*p - start), start, lo, hi);
        }
    }
    if (!err && **p == '/') {
        const char *s = ++(*p);
        int span = f->star_max - f->min + 1;
        if (!is_digit(*s))
            return unexpected(ps, s, "a step number");
        for (step = 0; is_digit(**p); (*p)++)
            step = step < 1000 ? step * 10 + (**p - '0') : step;
        if (step < 1 || step > span)
            return field_error(ps, s, "step %.*s is out of range 1-%d", (int)(*p - s), s, span);
        if (*start != '*' && !range)
            hi = f->star_max; /* "5/10": from 5 to the maximum */
    }
    for (int v = lo; !err && v <= hi; v += step)
        ps->bits |= UINT64_C(1) << v;
    return err;
}

/* One field, [start, end) of the text. */
static cc_err parse_field(struct parser *ps, const char *start, const char *end)
{
    const char *p = start;
    ps->bits = 0;
    for (;;) {
        cc_err err = parse_item(ps, &p);
        if (err)
            return err;
        if (p == end)
            return CC_OK;
        if (*p != ',')
            return unexpected(ps, p, "',' or the end of the field");
        p++;
    }
}

static cc_err parse_macro(const char *text, const char *start, const char *end,
                          struct cron_expr *out, struct cc_diag *d)
{
    const char *q = start + 1;
    while (q < end && !is_blank(*q))
        q++;
    for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++) {
        size_t n = strlen(macros[i].name);
        if ((size_t)(q - start) != n || strncasecmp(start, macros[i].name, n) != 0)
            continue;
        while (q < end && is_blank(*q))
            q++;
        if (q != end) {
            cc_diag_set(d, NULL, 1, (unsigned)(q - text) + 1,
                        "unexpected text after %s", macros[i].name);
            return CC_EPARSE;
        }
        return cron_parse(macros[i].expansion, out, NULL);
    }
    cc_diag_set(d, NULL, 1, (unsigned)(start - text) + 1,
                "unknown macro '%.*s' (expected @yearly, @annually, @monthly, @weekly, "
                "@daily, @midnight or @hourly)", (int)(q - start > 32 ? 32 : q - start), start);
    return CC_EPARSE;
}

/* Splits the text into at most 6 fields; returns how many were found. */
static int split(const char *text, const char *starts[6], const char *ends[6])
{
    int n = 0;
    const char *p = text;
    while (n < 6) {
        while (is_blank(*p))
            p++;
        if (!*p)
            break;
        starts[n] = p;
        while (*p && !is_blank(*p))
            p++;
        ends[n++] = p;
    }
    return n;
}

cc_err cron_parse(const char *text, struct cron_expr *out, struct cc_diag *d)
{
    size_t len = strnlen(text, CRON_TEXT_MAX + 1);
    const char *starts[6], *ends[6];
    if (len > CRON_TEXT_MAX) {
        cc_diag_set(d, NULL, 1, CRON_TEXT_MAX + 1, "expression is longer than %d characters",
                    CRON_TEXT_MAX);
        return CC_ELIMIT;
    }
    int n = split(text, starts, ends);
    if (n == 0) {
        cc_diag_set(d, NULL, 1, 1, "empty expression");
        return CC_EPARSE;
    }
    if (*starts[0] == '@')
        return parse_macro(text, starts[0], text + len, out, d);
    if (n != 5) {
        cc_diag_set(d, NULL, 1, n > 5 ? (unsigned)(starts[5] - text) + 1 : (unsigned)len + 1,
                    "expected 5 fields (minute hour day-of-month month day-of-week), found %s%d",
                    n > 5 ? "more than " : "", n > 5 ? 5 : n);
        return CC_EPARSE;
    }
    struct parser ps = {.text = text, .d = d};
    struct cron_expr e = {0};
    uint64_t bits[5];
    for (ps.field = 0; ps.field < 5; ps.field++) {
        cc_err err = parse_field(&ps, starts[ps.field], ends[ps.field]);
        if (err)
            return err;
        bits[ps.field] = ps.bits;
    }
    e.minute = bits[0];
    e.hour = (uint32_t)bits[1];
    e.mday = (uint32_t)bits[2];
    e.month = (uint16_t)bits[3];
    e.wday = (uint8_t)((bits[4] | bits[4] >> 7) & 0x7f); /* 7 is Sunday */
    e.mday_star = *starts[2] == '*';
    e.wday_star = *starts[4] == '*';
    *out = e;
    return CC_OK;
}

/* ---- next run ---- */

struct wall {
    int64_t y;
    int mo, d, h, mi; /* may run one past their range; the search carries */
};

/* The smallest v >= from with bit v set in mask, or -1. */
static int next_bit(uint64_t mask, int from)
{
    if (from < 0 || from > 63)
        return -1;
    uint64_t m = mask >> from;
    return m ? from + __builtin_ctzll(m) : -1;
}

static bool day_matches(const struct cron_expr *e, int64_t y, int mo, int d)
{
    bool md = e->mday >> d & 1;
    bool wd = e->wday >> cc_weekday_from_days(cc_days_from_civil(y, mo, d)) & 1;
    return e->mday_star || e->wday_star ? md && wd : md || wd;
}

/* Moves *w to the first matching wall minute at or after it; false past the
 * end of year `last_year`. */
static bool next_wall(const struct cron_expr *e, struct wall *w, int64_t last_year)
{
    while (w->y <= last_year) {
        int v = next_bit(e->month, w->mo);
        if (v < 0) {
            *w = (struct wall){.y = w->y + 1, .mo = 1, .d = 1};
            continue;
        }
        if (v != w->mo)
            *w = (struct wall){.y = w->y, .mo = v, .d = 1};
        if (w->d > cc_days_in_month(w->y, w->mo)) {
            *w = (struct wall){.y = w->y, .mo = w->mo + 1, .d = 1};
            continue;
        }
        if (!day_matches(e, w->y, w->mo, w->d) || (v = next_bit(e->hour, w->h)) < 0) {
            *w = (struct wall){.y = w->y, .mo = w->mo, .d = w->d + 1};
            continue;
        }
        if (v != w->h) {
            w->h = v;
            w->mi = 0;
        }
        if ((v = next_bit(e->minute, w->mi)) < 0) {
            w->h++;
            w->mi = 0;
            continue;
        }
        w->mi = v;
        return true;
    }
    return false;
}

cc_err cron_next(const struct cron_expr *e, const struct cc_tz *tz, int64_t after_s,
                 int64_t *out_s)
{
    if (after_s < AFTER_MIN || after_s > AFTER_MAX)
        return CC_EINVAL;
    if (!tz)
        tz = cc_tz_utc();
    struct cc_tm now;
    cc_tz_localtime(tz, after_s, &now);
    struct wall w = {.y = now.year, .mo = now.month, .d = now.mday, .h = now.hour,
                     .mi = now.min + 1};
    int64_t last_year = now.year + CRON_HORIZON_YEARS > 9999 ? 9999 : now.year + CRON_HORIZON_YEARS;
    for (int i = 0; i < MAX_CANDIDATES && next_wall(e, &w, last_year); i++) {
        struct cc_tm local = {.year = (int)w.y, .month = w.mo, .mday = w.d, .hour = w.h,
                              .min = w.mi};
        int64_t u;
        if (cc_tz_mktime(tz, &local, CC_TZ_EARLIEST, &u, NULL) == CC_OK && u > after_s) {
            if (u > AFTER_MAX)
                break;
            *out_s = u;
            return CC_OK;
        }
        w.mi++;
    }
    return CC_ENOTFOUND;
}
