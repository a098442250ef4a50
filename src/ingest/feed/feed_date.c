/*
 * feed_date.c - the dates feeds carry, to seconds UTC.
 *
 * Two readers, tried in order:
 * 1. ISO 8601 / RFC 3339 / W3C-DTF: YYYY, YYYY-MM, YYYY-MM-DD, with
 *    "T" or a space and hh:mm[:ss[.frac]], then Z, +hh:mm, +hhmm, +hh or a
 *    zone name; the compact YYYYMMDD[Thhmmss]; "/" accepted for "-".
 * 2. RFC 822/2822 and its relatives, token by token: an optional (even
 *    wrong) weekday, day and month name in either order, 4-, 3- or 2-digit
 *    years (00-49 -> 20xx, 50-99 -> 19xx, 3 digits + 1900), hh:mm with or
 *    without seconds, AM/PM, numeric zones (+hhmm, +hh:mm), named zones
 *    (UT, GMT, Z, US and a few other zones; "GMT+1" forms) and comments in
 *    parentheses. asctime() ("Mon Jan  2 15:04:05 2006") reads the same way.
 * A missing zone is UTC; an unknown zone name is UTC (as feedparser). A
 * date that does not exist (31 Feb, 25:00) is no date: unknown is better
 * than wrong, and the caller's answer is null, never "now".
 */
#include "ingest/feed/feed_int.h"

#include <string.h>
#include <strings.h>

#include "core/clock.h"

struct tm_parts {
    int64_t year;
    int mon, day, hh, mm, ss;
    int zone_s;  /* east of UTC */
};

static bool digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Reads exactly n digits. */
static bool num(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!digit((*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static const struct { const char *name; int hours_x100; } zones[] = {
    {"ut", 0}, {"utc", 0}, {"gmt", 0}, {"z", 0}, {"wet", 0},
    {"est", -500}, {"edt", -400}, {"cst", -600}, {"cdt", -500},
    {"mst", -700}, {"mdt", -600}, {"pst", -800}, {"pdt", -700},
    {"et", -500}, {"ct", -600}, {"mt", -700}, {"pt", -800},
    {"ast", -400}, {"adt", -300}, {"akst", -900}, {"akdt", -800}, {"hst", -1000},
    {"bst", 100}, {"cet", 100}, {"cest", 200}, {"met", 100}, {"mest", 200},
    {"eet", 200}, {"eest", 300}, {"msk", 300}, {"ist", 530}, {"jst", 900},
    {"kst", 900}, {"hkt", 800}, {"sgt", 800}, {"awst", 800}, {"acst", 930},
    {"aest", 1000}, {"aedt", 1100}, {"nzst", 1200}, {"nzdt", 1300},
};

static bool zone_name(const char *w, int *zone_s)
{
    for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
        if (strcmp(w, zones[i].name) == 0) {
            int h = zones[i].hours_x100;
            *zone_s = (h / 100) * 3600 + (h % 100) * 60;
            return true;
        }
    return false;
}

/* +hh:mm, +hhmm, +hh, +h after the sign at *p; advances past it. */
static bool zone_offset(const char **p, int *zone_s)
{
    const char *s = *p;
    int sign = *s == '-' ? -1 : 1;
    int h = 0, m = 0;
    s++;
    if (num(&s, 2, &h)) {
        if (*s == ':')
            s++;
        if (!num(&s, 2, &m))
            m = 0;
    } else if (!num(&s, 1, &h)) {
        return false;
    }
    if (h > 14 || m > 59 || digit(*s))
        return false;
    *zone_s = sign * (h * 3600 + m * 60);
    *p = s;
    return true;
}

static bool valid(const struct tm_parts *t)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (t->year < 1 || t->year > 9999 || t->mon < 1 || t->mon > 12 || t->day < 1 ||
        t->day > mdays[t->mon - 1] || t->hh < 0 || t->hh > 24 || t->mm < 0 || t->mm > 59 ||
        t->ss < 0 || t->ss > 60)
        return false;
    if (t->hh == 24 && (t->mm || t->ss))
        return false;
    return !(t->mon == 2 && t->day == 29 && !cc_is_leap_year(t->year));
}

static int64_t to_epoch(const struct tm_parts *t)
{
    int ss = t->ss == 60 ? 59 : t->ss; /* a leap second: the second before */
    return cc_days_from_civil(t->year, t->mon, t->day) * 86400 + t->hh * 3600 + t->mm * 60 +
           ss - t->zone_s;
}

static void skip_frac(const char **p)
{
    if (**p == '.' || **p == ',')
        for ((*p)++; digit(**p); (*p)++)
            ;
}

/* Reads a trailing zone (Z, offset, or name) and nothing else but spaces. */
static bool iso_zone_tail(const char *s, struct tm_parts *t)
{
    while (*s == ' ')
        s++;
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        if (!zone_offset(&s, &t->zone_s))
            return false;
    } else if (alpha(*s)) {
        char w[8];
        size_t n = 0;
        while (alpha(s[n]) && n < sizeof(w) - 1) {
            w[n] = (char)(s[n] | 0x20);
            n++;
        }
        w[n] = '\0';
        if (alpha(s[n]) || !zone_name(w, &t->zone_s))
            return false;
        s += n;
    }
    while (*s == ' ')
        s++;
    return *s == '\0';
}

static bool parse_iso(const char *s, struct tm_parts *t)
{
    int y, v;
    if (!num(&s, 4, &y))
        return false;
    *t = (struct tm_parts){.year = y, .mon = 1, .day = 1};
    bool compact = digit(*s);
    if (compact) {
        if (!num(&s, 2, &t->mon) || !num(&s, 2, &t->day))
            return false;
    } else if (*s == '-' || *s == '/') {
        char sep = *s++;
        if (!num(&s, 2, &t->mon))
            return false;
        if (*s == sep) {
            s++;
            if (!num(&s, 2, &t->day))
                return false;
        }
    }
    if ((*s == 'T' || *s == 't' || *s == ' ') && digit(s[1])) {
        s++;
        if (!num(&s, 2, &t->hh))
            return false;
        if (*s == ':')
            s++;
        if (!num(&s, 2, &t->mm))
            return false;
        if (*s == ':' || (compact && digit(*s))) {
            if (*s == ':')
                s++;
            if (!num(&s, 2, &v))
                return false;
            t->ss = v;
        }
        skip_frac(&s);
    }
    return iso_zone_tail(s, t) && valid(t);
}

static const char *const months[] = {"january", "february", "march", "april", "may", "june",
                                     "july", "august", "september", "october", "november",
                                     "december"};
static const char *const weekdays[] = {"monday", "tuesday", "wednesday", "thursday",
                                       "friday", "saturday", "sunday"};

/* Index of w among names, matching 3 letters up to the whole name. */
static int name_index(const char *w, const char *const *names, int n)
{
    size_t len = strlen(w);
    if (len < 3)
        return -1;
    for (int i = 0; i < n; i++)
        if (strncmp(names[i], w, len) == 0 || (i == 8 && strcmp(w, "sept") == 0))
            return i;
    return -1;
}

struct tokens {
    struct tm_parts t;
    int year_digits;
    bool have_time, pm, am, have_day;
};

static bool word(struct tokens *k, const char **pp)
{
    const char *p = *pp;
    char w[16];
    size_t n = 0;
    while (alpha(p[n])) {
        if (n < sizeof(w) - 1)
            w[n] = (char)(p[n] | 0x20);
        n++;
    }
    w[n < sizeof(w) ? n : sizeof(w) - 1] = '\0';
    *pp = p + n;
    int i;
    if ((i = name_index(w, months, 12)) >= 0 && k->t.mon == 0)
        k->t.mon = i + 1;
    else if (name_index(w, weekdays, 7) >= 0)
        ;
    else if (strcmp(w, "pm") == 0 || strcmp(w, "am") == 0)
        *(w[0] == 'p' ? &k->pm : &k->am) = true;
    else if (zone_name(w, &k->t.zone_s)) {
        /* "GMT+1", "UTC-05:00" */
        if ((**pp == '+' || **pp == '-') && digit((*pp)[1]))
            zone_offset(pp, &k->t.zone_s);
    } else if (strcmp(w, "t") != 0 && !k->have_time) {
        return false; /* a word before the time that is no date part */
    }
    return true;
}

static bool number(struct tokens *k, const char **pp)
{
    const char *p = *pp;
    size_t n = 0;
    int v = 0;
    while (digit(p[n])) {
        if (n < 9)
            v = v * 10 + (p[n] - '0');
        n++;
    }
    *pp = p + n;
    if (p[n] == ':' && n <= 2 && !k->have_time) {
        const char *s = p + n + 1;
        k->t.hh = v;
        if (!num(&s, 2, &k->t.mm))
            return false;
        if (*s == ':') {
            s++;
            if (!num(&s, 2, &k->t.ss))
                return false;
        }
        skip_frac(&s);
        k->have_time = true;
        *pp = s;
        return true;
    }
    if ((n == 4 || n == 3) && k->year_digits == 0) {
        k->t.year = n == 3 ? v + 1900 : v;
        k->year_digits = (int)n;
    } else if (n <= 2 && !k->have_day) {
        k->t.day = v;
        k->have_day = true;
    } else if (n <= 2 && k->year_digits == 0) {
        k->t.year = v < 50 ? 2000 + v : 1900 + v;
        k->year_digits = 2;
    } else {
        return false;
    }
    return true;
}

static bool parse_rfc822(const char *p, struct tm_parts *out)
{
    struct tokens k = {.t = {.year = 0}};
    while (*p) {
        if (alpha(*p)) {
            if (!word(&k, &p))
                return false;
        } else if (digit(*p)) {
            if (!number(&k, &p))
                return false;
        } else if ((*p == '+' || *p == '-') && k.have_time && digit(p[1])) {
            if (!zone_offset(&p, &k.t.zone_s))
                return false;
        } else if (*p == '(') {
            const char *e = strchr(p, ')');
            p = e ? e + 1 : p + strlen(p);
        } else {
            p++;
        }
    }
    if (!k.have_day || !k.year_digits || !k.t.mon)
        return false;
    if (k.pm && k.t.hh < 12)
        k.t.hh += 12;
    else if (k.am && k.t.hh == 12)
        k.t.hh = 0;
    *out = k.t;
    return valid(out);
}

bool feed__date_parse(const char *s, int64_t *out_s)
{
    struct tm_parts t;
    if (!s)
        return false;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    char buf[128];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, s, n + 1);
    while (n && (buf[n - 1] == ' ' || buf[n - 1] == '\t' || buf[n - 1] == '\n' ||
                 buf[n - 1] == '\r'))
        buf[--n] = '\0';
    if (parse_iso(buf, &t) || parse_rfc822(buf, &t)) {
        *out_s = to_epoch(&t);
        return true;
    }
    return false;
}
