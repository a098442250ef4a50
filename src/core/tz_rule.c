/*
 * tz_rule.c - POSIX TZ strings ("CET-1CEST,M3.5.0,M10.5.0/3"), as found in
 * the footer of TZif files, and their evaluation for any year.
 *
 * Grammar (POSIX.1-2017 8.3 with the RFC 8536 3.3.1 extensions):
 *   std offset [dst [offset] ,start[/time],end[/time]]
 *   name   = 3+ letters | '<' 3+ of [A-Za-z0-9+-] '>'
 *   offset = [+-]hh[:mm[:ss]]  (hh 0-24, positive WEST of Greenwich)
 *   date   = Jn (1-365) | n (0-365) | Mm.w.d (m 1-12, w 1-5, d 0-6)
 *   time   = [+-]hh[:mm[:ss]]  (hh 0-167), default 02:00:00
 * A DST name without a rule is refused rather than guessed (tzdata always
 * writes the rule).
 */
#include <string.h>

#include "core/tz_int.h"

#define MAX_OFFSET_HOURS 24
#define MAX_RULE_HOURS 167

struct cursor {
    const char *begin;
    const char *p;
    const char *end;
    struct cc_diag *d;
};

static int peek(const struct cursor *c)
{
    return c->p < c->end ? (unsigned char)*c->p : -1;
}

static cc_err fail(const struct cursor *c, const char *what)
{
    cc_diag_set(c->d, NULL, 1, (unsigned)(c->p - c->begin) + 1, "POSIX TZ rule: %s", what);
    return CC_EPARSE;
}

static bool is_alpha(int ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

static bool is_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

static cc_err parse_name(struct cursor *c)
{
    size_t n = 0;
    if (peek(c) == '<') {
        c->p++;
        while (peek(c) != '>') {
            int ch = peek(c);
            if (!is_alpha(ch) && !is_digit(ch) && ch != '+' && ch != '-')
                return fail(c, ch < 0 ? "unterminated '<' in a zone name"
                                      : "unexpected character in a quoted zone name");
            c->p++;
            n++;
        }
        if (n < 3)
            return fail(c, "a zone name needs at least 3 characters");
        c->p++;
        return CC_OK;
    }
    while (is_alpha(peek(c))) {
        c->p++;
        n++;
    }
    return n < 3 ? fail(c, "expected a zone name of at least 3 letters") : CC_OK;
}

/* Reads 1-3 digits (more is out of range anyway) up to `max`. */
static cc_err parse_uint(struct cursor *c, int max, const char *what, int *out)
{
    if (!is_digit(peek(c)))
        return fail(c, what);
    const char *start = c->p;
    int v = 0;
    while (is_digit(peek(c)) && c->p - start < 4)
        v = v * 10 + (*c->p++ - '0');
    if (v > max || is_digit(peek(c))) {
        c->p = start;
        return fail(c, "number out of range");
    }
    *out = v;
    return CC_OK;
}

/* [+-]hh[:mm[:ss]] as signed seconds. */
static cc_err parse_hms(struct cursor *c, int max_hours, int32_t *out)
{
    int sign = 1;
    if (peek(c) == '+' || peek(c) == '-')
        sign = *c->p++ == '-' ? -1 : 1;
    int h, m = 0, s = 0;
    cc_err err = parse_uint(c, max_hours, "expected hours", &h);
    if (!err && peek(c) == ':') {
        c->p++;
        err = parse_uint(c, 59, "expected minutes", &m);
        if (!err && peek(c) == ':') {
            c->p++;
            err = parse_uint(c, 59, "expected seconds", &s);
        }
    }
    if (!err)
        *out = sign * (h * 3600 + m * 60 + s);
    return err;
}

static cc_err parse_date(struct cursor *c, struct cc__tz_rule_date *out)
{
    struct cc__tz_rule_date r = {.time = 7200};
    cc_err err;
    if (peek(c) == 'J') {
        c->p++;
        r.kind = 'J';
        err = parse_uint(c, 365, "expected a day 1-365 after 'J'", &r.n);
        if (!err && r.n == 0)
            err = fail(c, "Julian day must be 1-365");
    } else if (peek(c) == 'M') {
        c->p++;
        r.kind = 'M';
        err = parse_uint(c, 12, "expected a month 1-12 after 'M'", &r.m);
        if (!err && r.m == 0)
            err = fail(c, "month must be 1-12");
        if (!err && peek(c) != '.')
            err = fail(c, "expected '.' after the month");
        if (!err) {
            c->p++;
            err = parse_uint(c, 5, "expected a week 1-5", &r.w);
        }
        if (!err && r.w == 0)
            err = fail(c, "week must be 1-5");
        if (!err && peek(c) != '.')
            err = fail(c, "expected '.' after the week");
        if (!err) {
            c->p++;
            err = parse_uint(c, 6, "expected a weekday 0-6", &r.wd);
        }
    } else {
        r.kind = 'N';
        err = parse_uint(c, 365, "expected a date (Jn, n or Mm.w.d)", &r.n);
    }
    if (!err && peek(c) == '/') {
        c->p++;
        err = parse_hms(c, MAX_RULE_HOURS, &r.time);
    }
    if (!err)
        *out = r;
    return err;
}

cc_err cc__tz_rule_parse(const char *s, size_t len, struct cc__tz_rule *out, struct cc_diag *d)
{
    struct cursor c = {.begin = s, .p = s, .end = s + len, .d = d};
    struct cc__tz_rule r = {0};
    int32_t v;
    cc_err err = parse_name(&c);
    if (!err)
        err = parse_hms(&c, MAX_OFFSET_HOURS, &v);
    if (err)
        goto out;
    r.std_off = r.dst_off = -v;
    if (peek(&c) < 0)
        goto out;
    err = parse_name(&c);
    if (err)
        goto out;
    r.has_dst = true;
    r.dst_off = r.std_off + 3600;
    if (peek(&c) != ',' && peek(&c) >= 0) {
        err = parse_hms(&c, MAX_OFFSET_HOURS, &v);
        if (err)
            goto out;
        r.dst_off = -v;
    }
    if (peek(&c) != ',') {
        err = fail(&c, "expected ',' and the DST start rule");
        goto out;
    }
    c.p++;
    err = parse_date(&c, &r.start);
    if (!err && peek(&c) != ',')
        err = fail(&c, "expected ',' and the DST end rule");
    if (err)
        goto out;
    c.p++;
    err = parse_date(&c, &r.end);
out:
    if (!err && peek(&c) >= 0)
        err = fail(&c, "unexpected trailing characters");
    if (!err)
        *out = r;
    return err;
}

/* Local day number (days since the epoch) a rule date falls on in year y. */
static int64_t rule_day(const struct cc__tz_rule_date *r, int64_t y)
{
    int64_t jan1 = cc_days_from_civil(y, 1, 1);
    if (r->kind == 'J')
        return jan1 + r->n - 1 + (cc_is_leap_year(y) && r->n >= 60 ? 1 : 0);
    if (r->kind == 'N')
        return jan1 + r->n;
    int64_t first = cc_days_from_civil(y, r->m, 1);
    int64_t day = first + (r->wd - cc_weekday_from_days(first) + 7) % 7 + (r->w - 1) * 7;
    while (day >= first + cc_days_in_month(y, r->m))
        day -= 7;
    return day;
}

/* Unix time of a rule date in year y, given the offset in force before it. */
static int64_t rule_instant(const struct cc__tz_rule_date *r, int64_t y, int32_t off_before)
{
    return rule_day(r, y) * 86400 + r->time - off_before;
}

static int64_t year_of(const struct cc__tz_rule *r, int64_t t)
{
    int64_t local = t + r->std_off, y;
    int64_t days = local / 86400 - (local % 86400 < 0 ? 1 : 0);
    cc_civil_from_days(days, &y, NULL, NULL);
    return y;
}

void cc__tz_rule_at(const struct cc__tz_rule *r, int64_t t, int32_t *off, bool *dst)
{
    *off = r->std_off;
    *dst = false;
    if (!r->has_dst)
        return;
    /* The latest transition at or before t decides; on a tie (a rule that is
     * DST all year ends and restarts at one instant) the start wins. Rule
     * times reach 167 h past the date, so the end of year y-2 can still be
     * later than the start of year y-1 (hostile rules, but they must agree
     * with cc__tz_rule_next). */
    int64_t y = year_of(r, t), best = INT64_MIN;
    for (int64_t yy = y - 2; yy <= y + 1; yy++) {
        int64_t e = rule_instant(&r->end, yy, r->dst_off);
        int64_t s = rule_instant(&r->start, yy, r->std_off);
        if (e <= t && e > best) {
            best = e;
            *dst = false;
        }
        if (s <= t && s >= best) {
            best = s;
            *dst = true;
        }
    }
    *off = *dst ? r->dst_off : r->std_off;
}

bool cc__tz_rule_next(const struct cc__tz_rule *r, int64_t t, int64_t *next)
{
    if (!r->has_dst)
        return false;
    /* Everything of year y-2 is before t, everything of y+2 after it. */
    int64_t y = year_of(r, t), best = INT64_MAX;
    for (int64_t yy = y - 1; yy <= y + 2; yy++) {
        int64_t e = rule_instant(&r->end, yy, r->dst_off);
        int64_t s = rule_instant(&r->start, yy, r->std_off);
        if (e > t && e < best)
            best = e;
        if (s > t && s < best)
            best = s;
    }
    *next = best;
    return best != INT64_MAX;
}
