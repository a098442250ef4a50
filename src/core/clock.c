#include "core/clock.h"

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

cc_err cc_parse_duration_ms(const char *s, int64_t *out_ms)
{
    if (!s || !*s)
        return CC_EINVAL;
    const char *p = s;
    int64_t total = 0;
    bool any = false;
    while (*p) {
        if (!isdigit((unsigned char)*p))
            return CC_EINVAL;
        errno = 0;
        char *end;
        long long v = strtoll(p, &end, 10);
        if (errno || v < 0)
            return CC_EINVAL;
        p = end;
        int64_t unit;
        if (*p == '\0') {
            if (any)       /* "1m30" is ambiguous */
                return CC_EINVAL;
            unit = 1000;   /* bare number: seconds */
        } else if (strncmp(p, "ms", 2) == 0) {
            unit = 1;
            p += 2;
        } else if (*p == 's') {
            unit = 1000;
            p++;
        } else if (*p == 'm') {
            unit = 60 * 1000;
            p++;
        } else if (*p == 'h') {
            unit = 3600 * 1000;
            p++;
        } else if (*p == 'd') {
            unit = 86400 * 1000;
            p++;
        } else {
            return CC_EINVAL;
        }
        if (v > (INT64_MAX - total) / unit)
            return CC_EINVAL;
        total += (int64_t)v * unit;
        any = true;
    }
    *out_ms = total;
    return CC_OK;
}

cc_err cc_parse_size(const char *s, uint64_t *out_bytes)
{
    if (!s || !isdigit((unsigned char)*s))
        return CC_EINVAL;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return CC_EINVAL;
    uint64_t mult = 1;
    char unit[8] = {0};
    size_t n = 0;
    for (const char *p = end; *p; p++) {
        if (n + 1 >= sizeof(unit))
            return CC_EINVAL;
        unit[n++] = (char)tolower((unsigned char)*p);
    }
    static const struct {
        const char *name;
        uint64_t mult;
    } units[] = {
        {"", 1},
        {"b", 1},
        {"k", 1024},
        {"kb", 1000},
        {"kib", 1024},
        {"m", 1024 * 1024},
        {"mb", 1000 * 1000},
        {"mib", 1024 * 1024},
        {"g", 1024ull * 1024 * 1024},
        {"gb", 1000ull * 1000 * 1000},
        {"gib", 1024ull * 1024 * 1024},
    };
    bool found = false;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(unit, units[i].name) == 0) {
            mult = units[i].mult;
            found = true;
            break;
        }
    }
    if (!found || (v && v > UINT64_MAX / mult))
        return CC_EINVAL;
    *out_bytes = (uint64_t)v * mult;
    return CC_OK;
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
