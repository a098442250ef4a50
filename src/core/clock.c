#include "core/clock.h"
#include "core/diag.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t sys_wall_ms(struct cc_clock *c)
{
    (void)c;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t sys_mono_ms(struct cc_clock *c)
{
    (void)c;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sys_sleep_ms(struct cc_clock *c, int64_t ms)
{
    (void)c;
    if (ms <= 0)
        return;
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

static int64_t sys_wall_ns(struct cc_clock *c)
{
    (void)c;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool sys_wait_until(struct cc_clock *c, pthread_cond_t *cv, pthread_mutex_t *mu,
                           int64_t deadline_mono_ms)
{
    (void)c;
    if (deadline_mono_ms < 0)
        deadline_mono_ms = 0;
    struct timespec ts = {.tv_sec = deadline_mono_ms / 1000,
                          .tv_nsec = (deadline_mono_ms % 1000) * 1000000};
    return pthread_cond_timedwait(cv, mu, &ts) == ETIMEDOUT;
}

int cc_clock_cond_init(pthread_cond_t *cv)
{
    pthread_condattr_t ca;
    int rc = pthread_condattr_init(&ca);
    if (rc)
        return rc;
    rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (!rc)
        rc = pthread_cond_init(cv, &ca);
    pthread_condattr_destroy(&ca);
    return rc;
}

static struct cc_clock system_clock = {
    .wall_ms = sys_wall_ms,
    .mono_ms = sys_mono_ms,
    .sleep_ms = sys_sleep_ms,
    .wait_until = sys_wait_until,
    .wall_ns = sys_wall_ns,
};

struct cc_clock *cc_clock_system(void)
{
    return &system_clock;
}

/* RFC 3339 has four-digit years; clamping to them keeps the output 24
 * characters (the 25 bytes the header promises) and keeps gmtime_r, which
 * fails for years past INT_MAX, from ever seeing an unrepresentable time. */
#define RFC3339_MIN_MS (-62167219200000LL)  /* 0000-01-01T00:00:00.000Z */
#define RFC3339_MAX_MS 253402300799999LL    /* 9999-12-31T23:59:59.999Z */

void cc_time_rfc3339(int64_t wall_ms, char *out, size_t outsz)
{
    if (wall_ms < RFC3339_MIN_MS)
        wall_ms = RFC3339_MIN_MS;
    if (wall_ms > RFC3339_MAX_MS)
        wall_ms = RFC3339_MAX_MS;
    int64_t secs = wall_ms / 1000;
    int64_t ms = wall_ms % 1000;
    if (ms < 0) {
        ms += 1000;
        secs -= 1;
    }
    time_t t = (time_t)secs;
    struct tm tm = {0};
    gmtime_r(&t, &tm);
    snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)ms);
}

int64_t cc_mono_ns(struct cc_clock *c)
{
    if (c != &system_clock)
        return c->mono_ms(c) * 1000000;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---------------------------------------------------------------------------
 * Durations and sizes: one grammar each for the configuration, the API, the
 * CLI and Compose files. A number is digits with an optional fraction; the
 * fraction is exact to the nanosecond (durations) or to the byte (sizes),
 * digits past the ninth are ignored. Arithmetic is in integers, so "1.1s"
 * is 1100 ms, not 1099.
 */

#define NS_PER_S 1000000000LL

struct number {
    uint64_t whole;
    uint64_t frac;       /* the first digits after the point ... */
    uint64_t scale;      /* ... over 10^their count (1 if none) */
};

/* Reads digits[.digits] at *p; false if there is no digit, or the whole
 * part is over `max`. */
static bool read_number(const char **p, uint64_t max, struct number *n)
{
    const char *q = *p;
    bool digits = false;
    *n = (struct number){.scale = 1};
    for (; isdigit((unsigned char)*q); q++, digits = true) {
        uint64_t d = (uint64_t)(*q - '0');
        if (n->whole > (max - d) / 10)
            return false;
        n->whole = n->whole * 10 + d;
    }
    if (*q == '.') {
        for (q++; isdigit((unsigned char)*q); q++, digits = true) {
            if (n->scale < (uint64_t)NS_PER_S) {
                n->frac = n->frac * 10 + (uint64_t)(*q - '0');
                n->scale *= 10;
            }
        }
    }
    *p = q;
    return digits;
}

/* A duration being summed: whole seconds and the nanoseconds beyond. */
struct dur {
    int64_t sec;
    int64_t nsec;        /* 0 .. NS_PER_S-1 */
};

static const struct dur_unit {
    const char *name;
    int64_t sec;         /* seconds per unit, for s and longer */
    int64_t nsec;        /* nanoseconds per unit, below a second */
} dur_units[] = {
    {"ns", 0, 1}, {"us", 0, 1000}, {"\xc2\xb5s", 0, 1000}, {"\xce\xbcs", 0, 1000},
    {"ms", 0, 1000000}, {"s", 1, 0}, {"m", 60, 0}, {"h", 3600, 0}, {"d", 86400, 0},
};

/* The longest unit name at p ("ms" before "m"), or NULL. */
static const struct dur_unit *dur_unit_at(const char *p)
{
    const struct dur_unit *best = NULL;
    for (size_t i = 0; i < sizeof(dur_units) / sizeof(dur_units[0]); i++) {
        size_t n = strlen(dur_units[i].name);
        if (strncmp(p, dur_units[i].name, n) == 0 && (!best || n > strlen(best->name)))
            best = &dur_units[i];
    }
    return best;
}

/* t += n units; false on overflow. */
static bool dur_add(struct dur *t, const struct number *n, const struct dur_unit *u)
{
    int64_t sec, nsec;
    /* frac/scale in nanoseconds: frac * (1e9/scale) < 1e9, exact. */
    int64_t frac_ns = (int64_t)(n->frac * ((uint64_t)NS_PER_S / n->scale));
    if (u->sec) {
        if (n->whole > (uint64_t)(INT64_MAX / u->sec))
            return false;
        sec = (int64_t)n->whole * u->sec;
        nsec = frac_ns * u->sec;                       /* < 8.64e13 */
    } else {
        int64_t per_sec = NS_PER_S / u->nsec;
        sec = (int64_t)(n->whole / (uint64_t)per_sec);
        nsec = (int64_t)(n->whole % (uint64_t)per_sec) * u->nsec + frac_ns / per_sec;
    }
    if (sec > INT64_MAX - nsec / NS_PER_S)
        return false;
    sec += nsec / NS_PER_S;
    nsec %= NS_PER_S;
    if (sec > INT64_MAX - t->sec - (t->nsec + nsec >= NS_PER_S))
        return false;
    t->sec += sec;
    t->nsec += nsec;
    if (t->nsec >= NS_PER_S) {
        t->sec++;
        t->nsec -= NS_PER_S;
    }
    return true;
}

static cc_err parse_duration(const char *s, struct dur *out, struct cc_diag *d)
{
    if (!s || !*s) {
        cc_diag_set(d, NULL, 0, 0, "an empty duration; write it like 30s, 1m30s, 500ms or 2h");
        return CC_EINVAL;
    }
    struct dur t = {0};
    const char *p = s;
    while (*p) {
        const char *at = p;
        struct number n;
        if (!read_number(&p, INT64_MAX, &n)) {
            if (isdigit((unsigned char)*at))
                cc_diag_set(d, NULL, 0, (unsigned)(at - s) + 1, "'%.40s' is too long", s);
            else
                cc_diag_set(d, NULL, 0, (unsigned)(at - s) + 1, "'%.40s' is not a duration; "
                            "write it like 30s, 1m30s, 500ms or 2h", s);
            return CC_EINVAL;
        }
        const struct dur_unit *u = dur_unit_at(p);
        if (!u && *p == '\0' && at == s) {
            u = dur_unit_at("s");   /* a lone number is seconds: "30", "1.5" */
        } else if (!u) {
            cc_diag_set(d, NULL, 0, (unsigned)(p - s) + 1, "'%.40s' is not a duration: %s; "
                        "units are ns, us, ms, s, m, h and d", s,
                        *p ? "unknown unit" : "the last number has no unit");
            return CC_EINVAL;
        } else {
            p += strlen(u->name);
        }
        if (!dur_add(&t, &n, u)) {
            cc_diag_set(d, NULL, 0, 0, "'%.40s' is too long", s);
            return CC_EINVAL;
        }
    }
    *out = t;
    return CC_OK;
}

/* The parsed duration in units of unit_ns (1 or 10^6). */
static cc_err duration_in(const char *s, int64_t unit_ns, int64_t *out, struct cc_diag *d)
{
    struct dur t;
    cc_err err = parse_duration(s, &t, d);
    if (err)
        return err;
    if (t.nsec % unit_ns) {
        cc_diag_set(d, NULL, 0, 0, "'%.40s' is finer than a millisecond", s);
        return CC_EINVAL;
    }
    int64_t per_sec = NS_PER_S / unit_ns, rest = t.nsec / unit_ns;
    if (t.sec > (INT64_MAX - rest) / per_sec) {
        cc_diag_set(d, NULL, 0, 0, "'%.40s' is too long", s);
        return CC_EINVAL;
    }
    *out = t.sec * per_sec + rest;
    return CC_OK;
}

cc_err cc_parse_duration_ns(const char *s, int64_t *out_ns, struct cc_diag *d)
{
    return duration_in(s, 1, out_ns, d);
}

cc_err cc_parse_duration_ms(const char *s, int64_t *out_ms, struct cc_diag *d)
{
    return duration_in(s, 1000000, out_ms, d);
}

cc_err cc_parse_size(const char *s, enum cc_size_units units, uint64_t *out_bytes,
                     struct cc_diag *d)
{
    static const struct {
        const char *name;
        unsigned power;      /* of 1024, or of 1000 for the SI names under KB_IS_1000 */
        bool si;
    } names[] = {
        {"", 0, false},  {"b", 0, false},
        {"k", 1, false}, {"kib", 1, false}, {"kb", 1, true},
        {"m", 2, false}, {"mib", 2, false}, {"mb", 2, true},
        {"g", 3, false}, {"gib", 3, false}, {"gb", 3, true},
        {"t", 4, false}, {"tib", 4, false}, {"tb", 4, true},
    };
    const char *p = s;
    struct number n;
    if (!s || !isdigit((unsigned char)*s) || !read_number(&p, UINT64_MAX, &n)) {
        cc_diag_set(d, NULL, 0, 0, "'%.40s' is not a size; write it like 512, 64k, 512m, "
                    "10MB or 1GiB", s ? s : "");
        return CC_EINVAL;
    }
    char unit[4];
    size_t len = strlen(p);
    for (size_t i = 0; i < len && i < sizeof(unit); i++)
        unit[i] = (char)tolower((unsigned char)p[i]);
    for (size_t i = 0; len < sizeof(unit) && i < sizeof(names) / sizeof(names[0]); i++) {
        if (strlen(names[i].name) != len || strncmp(unit, names[i].name, len) != 0)
            continue;
        uint64_t base = names[i].si && units == CC_SIZE_KB_IS_1000 ? 1000 : 1024;
        uint64_t mult = 1;
        for (unsigned k = 0; k < names[i].power; k++)
            mult *= base;
        /* frac/scale of mult, rounded down: frac*q + frac*r/scale, where
         * frac*r < scale^2 <= 1e18 fits. */
        uint64_t part = n.frac * (mult / n.scale) + n.frac * (mult % n.scale) / n.scale;
        if (n.whole > (UINT64_MAX - part) / mult) {
            cc_diag_set(d, NULL, 0, 0, "'%.40s' is too large", s);
            return CC_EINVAL;
        }
        *out_bytes = n.whole * mult + part;
        return CC_OK;
    }
    cc_diag_set(d, NULL, 0, (unsigned)(p - s) + 1, "'%.40s' is not a size: unknown unit; "
                "units are b, k, m, g, t, KiB .. TiB and kB .. TB", s);
    return CC_EINVAL;
}

/* ---- civil calendar (Howard Hinnant's algorithms) ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0) ? 1 : 0);
}

int64_t cc_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void cc_civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
    days += 719468;
    int64_t era = floor_div(days, 146097);
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int mm = (int)(mp < 10 ? mp + 3 : mp - 9);
    if (y)
        *y = yoe + era * 400 + (mm <= 2);
    if (m)
        *m = mm;
    if (d)
        *d = (int)(doy - (153 * mp + 2) / 5 + 1);
}

int cc_weekday_from_days(int64_t days)
{
    return (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday (4) */
}

bool cc_is_leap_year(int64_t y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

int cc_days_in_month(int64_t y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12)
        return 0;
    return dim[m - 1] + (m == 2 && cc_is_leap_year(y));
}

static bool digits_at(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

cc_err cc_parse_rfc3339(const char *s, int64_t *out_ms)
{
    int y, mo, d, h = 0, mi = 0, sec = 0;
    if (!s || !digits_at(s, 4, &y) || s[4] != '-' || !digits_at(s + 5, 2, &mo) ||
        s[7] != '-' || !digits_at(s + 8, 2, &d))
        return CC_EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > cc_days_in_month(y, mo))
        return CC_EINVAL;
    const char *p = s + 10;
    int64_t frac_ms = 0, offset_s = 0;
    if (*p) {
        if ((*p != 'T' && *p != 't' && *p != ' ') || !digits_at(p + 1, 2, &h) || p[3] != ':' ||
            !digits_at(p + 4, 2, &mi) || p[6] != ':' || !digits_at(p + 7, 2, &sec))
            return CC_EINVAL;
        if (h > 23 || mi > 59 || sec > 60)
            return CC_EINVAL;
        p += 9;
        if (*p == '.') {
            p++;
            int n = 0;
            for (; isdigit((unsigned char)*p); p++, n++)
                if (n < 3)
                    frac_ms = frac_ms * 10 + (*p - '0');
            if (n == 0)
                return CC_EINVAL;
            for (; n < 3; n++)
                frac_ms *= 10;
        }
        int oh, om;
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if ((*p == '+' || *p == '-') && digits_at(p + 1, 2, &oh) && p[3] == ':' &&
                   digits_at(p + 4, 2, &om) && oh < 24 && om < 60) {
            offset_s = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
            p += 6;
        } else {
            return CC_EINVAL;
        }
        if (*p)
            return CC_EINVAL;
    }
    if (sec == 60)
        sec = 59;   /* a leap second: Unix time has no room for it */
    int64_t days = cc_days_from_civil(y, mo, d);
    *out_ms = ((days * 86400 + h * 3600 + mi * 60 + sec) - offset_s) * 1000 + frac_ms;
    return CC_OK;
}
