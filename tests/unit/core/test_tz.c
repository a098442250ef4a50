/*
 * test_tz.c - time zones as a scheduler meets them: local time around DST
 * changes (whole-hour, half-hour, none), the inverse in gaps and overlaps,
 * the POSIX footer beyond the table (2100), names that must not escape the
 * zone directory, and files that are not TZif. glibc's localtime_r, reading
 * the same files, is the oracle for a broad sample (the test, unlike the
 * module, may set TZ: it is single-threaded).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/tz.h"
#include "core/tz_int.h"

static struct cc_tz *load(const char *name)
{
    struct cc_tz *tz = NULL;
    struct cc_diag d = {0};
    cc_err err = cc_tz_load_dir(CC_TZ_DEFAULT_DIR, name, &tz, &d);
    if (err)
        fail_msg("loading %s: %s (%s)", name, cc_err_str(err), d.msg);
    return tz;
}

static int64_t at(const char *rfc3339)
{
    int64_t t;
    assert_int_equal(cc_time_parse_rfc3339(rfc3339, &t), CC_OK);
    return t;
}

/* Expects localtime(utc) to read `want` ("2026-03-29 03:00:00"), offset, dst. */
static void expect_local(const struct cc_tz *tz, const char *utc, const char *want,
                         int32_t off, bool dst)
{
    struct cc_tm tm;
    char got[64];
    cc_tz_localtime(tz, at(utc), &tm);
    snprintf(got, sizeof(got), "%04d-%02d-%02d %02d:%02d:%02d", tm.year, tm.month, tm.mday,
             tm.hour, tm.min, tm.sec);
    if (strcmp(got, want) != 0 || tm.utc_offset != off || tm.is_dst != dst)
        fail_msg("%s at %s: got %s %+d dst=%d, want %s %+d dst=%d", cc_tz_name(tz), utc, got,
                 tm.utc_offset, tm.is_dst, want, off, dst);
}

/* Expects mktime of local "Y-M-D h:m" with `fold` to give `want_utc` and `kind`. */
static void expect_mktime(const struct cc_tz *tz, int y, int mo, int d, int h, int mi,
                          enum cc_tz_fold fold, const char *want_utc, enum cc_tz_kind kind)
{
    struct cc_tm tm = {.year = y, .month = mo, .mday = d, .hour = h, .min = mi};
    int64_t u = 0;
    enum cc_tz_kind k = CC_TZ_UNIQUE;
    assert_int_equal(cc_tz_mktime(tz, &tm, fold, &u, &k), CC_OK);
    char got[32];
    cc_time_rfc3339_s(u, got, sizeof(got));
    if (strcmp(got, want_utc) != 0 || k != kind)
        fail_msg("%s %04d-%02d-%02d %02d:%02d: got %s kind %d, want %s kind %d",
                 cc_tz_name(tz), y, mo, d, h, mi, got, k, want_utc, kind);
}

static void test_utc(void **state)
{
    (void)state;
    const struct cc_tz *utc = cc_tz_utc();
    struct cc_tm tm;
    cc_tz_localtime(utc, 0, &tm);
    assert_int_equal(tm.year, 1970);
    assert_int_equal(tm.wday, 4); /* a Thursday */
    assert_int_equal(tm.yday, 0);
    expect_local(utc, "2024-02-29T23:59:59Z", "2024-02-29 23:59:59", 0, false);
    expect_local(utc, "1969-12-31T23:59:59Z", "1969-12-31 23:59:59", 0, false);
    expect_local(utc, "0001-01-01T00:00:00Z", "0001-01-01 00:00:00", 0, false);
    expect_mktime(utc, 2026, 3, 29, 2, 30, CC_TZ_EARLIEST, "2026-03-29T02:30:00Z", CC_TZ_UNIQUE);
    assert_string_equal(cc_tz_name(utc), "UTC");
    cc_tz_free((struct cc_tz *)utc); /* ignored: static */

    struct cc_tz *file = load("UTC");
    expect_local(file, "2100-07-01T12:00:00Z", "2100-07-01 12:00:00", 0, false);
    cc_tz_free(file);
}

static void test_paris(void **state)
{
    (void)state;
    struct cc_tz *tz = load("Europe/Paris");
    assert_string_equal(cc_tz_name(tz), "Europe/Paris");
    expect_local(tz, "2026-03-29T00:59:59Z", "2026-03-29 01:59:59", 3600, false);
    expect_local(tz, "2026-03-29T01:00:00Z", "2026-03-29 03:00:00", 7200, true);
    expect_local(tz, "2026-10-25T00:59:59Z", "2026-10-25 02:59:59", 7200, true);
    expect_local(tz, "2026-10-25T01:00:00Z", "2026-10-25 02:00:00", 3600, false);
    /* spring forward: 02:00-02:59 does not exist */
    expect_mktime(tz, 2026, 3, 29, 2, 30, CC_TZ_EARLIEST, "2026-03-29T01:00:00Z", CC_TZ_GAP);
    expect_mktime(tz, 2026, 3, 29, 2, 0, CC_TZ_LATEST, "2026-03-29T01:00:00Z", CC_TZ_GAP);
    expect_mktime(tz, 2026, 3, 29, 1, 59, CC_TZ_EARLIEST, "2026-03-29T00:59:00Z", CC_TZ_UNIQUE);
    expect_mktime(tz, 2026, 3, 29, 3, 0, CC_TZ_EARLIEST, "2026-03-29T01:00:00Z", CC_TZ_UNIQUE);
    /* fall back: 02:00-02:59 happens twice */
    expect_mktime(tz, 2026, 10, 25, 2, 30, CC_TZ_EARLIEST, "2026-10-25T00:30:00Z", CC_TZ_OVERLAP);
    expect_mktime(tz, 2026, 10, 25, 2, 30, CC_TZ_LATEST, "2026-10-25T01:30:00Z", CC_TZ_OVERLAP);
    expect_mktime(tz, 2026, 10, 25, 3, 0, CC_TZ_LATEST, "2026-10-25T02:00:00Z", CC_TZ_UNIQUE);
    /* past the table (2037): the footer rule */
    expect_local(tz, "2099-03-29T00:59:59Z", "2099-03-29 01:59:59", 3600, false);
    expect_local(tz, "2099-03-29T01:00:00Z", "2099-03-29 03:00:00", 7200, true);
    expect_mktime(tz, 2300, 10, 28, 2, 30, CC_TZ_LATEST, "2300-10-28T01:30:00Z", CC_TZ_OVERLAP);
    cc_tz_free(tz);
}

static void test_new_york(void **state)
{
    (void)state;
    struct cc_tz *tz = load("America/New_York");
    expect_local(tz, "2026-03-08T06:59:59Z", "2026-03-08 01:59:59", -18000, false);
    expect_local(tz, "2026-03-08T07:00:00Z", "2026-03-08 03:00:00", -14400, true);
    expect_local(tz, "2026-11-01T05:59:59Z", "2026-11-01 01:59:59", -14400, true);
    expect_local(tz, "2026-11-01T06:00:00Z", "2026-11-01 01:00:00", -18000, false);
    expect_mktime(tz, 2026, 3, 8, 2, 30, CC_TZ_EARLIEST, "2026-03-08T07:00:00Z", CC_TZ_GAP);
    expect_mktime(tz, 2026, 11, 1, 1, 30, CC_TZ_EARLIEST, "2026-11-01T05:30:00Z", CC_TZ_OVERLAP);
    expect_mktime(tz, 2026, 11, 1, 1, 30, CC_TZ_LATEST, "2026-11-01T06:30:00Z", CC_TZ_OVERLAP);
    /* 2100 comes from the footer "EST5EDT,M3.2.0,M11.1.0" (zdump agrees) */
    expect_local(tz, "2100-03-14T06:59:59Z", "2100-03-14 01:59:59", -18000, false);
    expect_local(tz, "2100-03-14T07:00:00Z", "2100-03-14 03:00:00", -14400, true);
    expect_local(tz, "2100-11-07T05:59:59Z", "2100-11-07 01:59:59", -14400, true);
    expect_local(tz, "2100-11-07T06:00:00Z", "2100-11-07 01:00:00", -18000, false);
    expect_mktime(tz, 2100, 3, 14, 2, 15, CC_TZ_EARLIEST, "2100-03-14T07:00:00Z", CC_TZ_GAP);
    expect_mktime(tz, 2100, 11, 7, 1, 15, CC_TZ_LATEST, "2100-11-07T06:15:00Z", CC_TZ_OVERLAP);
    /* 1883: local mean time before the first transition */
    expect_local(tz, "1850-01-01T00:00:00Z", "1849-12-31 19:03:58", -17762, false);
    cc_tz_free(tz);
}

static void test_lord_howe_half_hour_dst(void **state)
{
    (void)state;
    struct cc_tz *tz = load("Australia/Lord_Howe");
    expect_local(tz, "2026-04-04T14:59:59Z", "2026-04-05 01:59:59", 39600, true);
    expect_local(tz, "2026-04-04T15:00:00Z", "2026-04-05 01:30:00", 37800, false);
    expect_local(tz, "2026-10-03T15:29:59Z", "2026-10-04 01:59:59", 37800, false);
    expect_local(tz, "2026-10-03T15:30:00Z", "2026-10-04 02:30:00", 39600, true);
    expect_mktime(tz, 2026, 10, 4, 2, 15, CC_TZ_EARLIEST, "2026-10-03T15:30:00Z", CC_TZ_GAP);
    expect_mktime(tz, 2026, 4, 5, 1, 45, CC_TZ_EARLIEST, "2026-04-04T14:45:00Z", CC_TZ_OVERLAP);
    expect_mktime(tz, 2026, 4, 5, 1, 45, CC_TZ_LATEST, "2026-04-04T15:15:00Z", CC_TZ_OVERLAP);
    expect_mktime(tz, 2026, 4, 5, 1, 15, CC_TZ_LATEST, "2026-04-04T14:15:00Z", CC_TZ_UNIQUE);
    /* southern hemisphere rule across the new year, beyond the table */
    expect_local(tz, "2150-01-01T00:00:00Z", "2150-01-01 11:00:00", 39600, true);
    expect_local(tz, "2150-07-01T00:00:00Z", "2150-07-01 10:30:00", 37800, false);
    cc_tz_free(tz);
}

static void test_kolkata(void **state)
{
    (void)state;
    struct cc_tz *tz = load("Asia/Kolkata");
    expect_local(tz, "2026-01-01T00:00:00Z", "2026-01-01 05:30:00", 19800, false);
    expect_local(tz, "2200-06-30T18:30:00Z", "2200-07-01 00:00:00", 19800, false);
    expect_local(tz, "1942-09-01T00:00:00Z", "1942-09-01 06:30:00", 23400, true);
    expect_mktime(tz, 2026, 6, 1, 0, 0, CC_TZ_LATEST, "2026-05-31T18:30:00Z", CC_TZ_UNIQUE);
    cc_tz_free(tz);
}

/* The oracle: glibc with TZ set, for zones with odd histories. */
static void test_against_libc(void **state)
{
    (void)state;
    static const char *zones[] = {
        "Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata",
        "America/Sao_Paulo", "Europe/Dublin", "Africa/Casablanca", "Pacific/Apia",
        "America/St_Johns", "Antarctica/Troll", "Pacific/Chatham", "America/Nuuk",
    };
    const char *saved = getenv("TZ");
    char *saved_copy = saved ? strdup(saved) : NULL;
    uint64_t seed = 0x9e3779b97f4a7c15u;
    for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
        struct cc_tz *tz = load(zones[z]);
        char env[128];
        snprintf(env, sizeof(env), ":%s/%s", CC_TZ_DEFAULT_DIR, zones[z]);
        setenv("TZ", env, 1);
        tzset();
        for (int i = 0; i < 20000; i++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            /* 1902 .. 2300 */
            int64_t t = INT64_C(-2145916800) + (int64_t)((seed >> 20) % INT64_C(12622780800));
            time_t tt = (time_t)t;
            struct tm ref;
            struct cc_tm got;
            localtime_r(&tt, &ref);
            cc_tz_localtime(tz, t, &got);
            if (got.year != ref.tm_year + 1900 || got.month != ref.tm_mon + 1 ||
                got.mday != ref.tm_mday || got.hour != ref.tm_hour || got.min != ref.tm_min ||
                got.sec != ref.tm_sec || got.wday != ref.tm_wday || got.yday != ref.tm_yday ||
                got.utc_offset != ref.tm_gmtoff || got.is_dst != (ref.tm_isdst > 0))
                fail_msg("%s at %lld: got %d-%d-%d %d:%d:%d %+d dst=%d, libc %d-%d-%d "
                         "%d:%d:%d %+ld dst=%d", zones[z], (long long)t, got.year, got.month,
                         got.mday, got.hour, got.min, got.sec, got.utc_offset, got.is_dst,
                         ref.tm_year + 1900, ref.tm_mon + 1, ref.tm_mday, ref.tm_hour,
                         ref.tm_min, ref.tm_sec, ref.tm_gmtoff, ref.tm_isdst);
            /* and back: one fold gives t; a unique time gives it for both */
            int64_t early, late;
            enum cc_tz_kind k;
            assert_int_equal(cc_tz_mktime(tz, &got, CC_TZ_EARLIEST, &early, &k), CC_OK);
            assert_int_equal(cc_tz_mktime(tz, &got, CC_TZ_LATEST, &late, NULL), CC_OK);
            assert_true(k != CC_TZ_GAP);
            assert_true(early == t || late == t);
            assert_true(k == CC_TZ_OVERLAP ? early < late : early == late);
        }
        cc_tz_free(tz);
    }
    if (saved_copy)
        setenv("TZ", saved_copy, 1);
    else
        unsetenv("TZ");
    free(saved_copy);
    tzset();
}

static void expect_bad_name(const char *name, cc_err want, const char *needle)
{
    struct cc_tz *tz = (struct cc_tz *)0x1;
    struct cc_diag d = {0};
    assert_int_equal(cc_tz_load_dir(CC_TZ_DEFAULT_DIR, name, &tz, &d), want);
    assert_ptr_equal(tz, (struct cc_tz *)0x1); /* untouched */
    if (!strstr(d.msg, needle))
        fail_msg("%s: message '%s' lacks '%s'", name, d.msg, needle);
}

static void test_bad_names(void **state)
{
    (void)state;
    expect_bad_name("", CC_EINVAL, "must be 1-255 characters");
    expect_bad_name("../../etc/passwd", CC_EINVAL, "must not contain '..'");
    expect_bad_name("Europe/../UTC", CC_EINVAL, "must not contain '..'");
    expect_bad_name("/etc/localtime", CC_EINVAL, "no leading '/'");
    expect_bad_name("Europe/Paris;ls", CC_EINVAL, "may only contain letters");
    expect_bad_name("Europe/Paris ", CC_EINVAL, "may only contain letters");
    expect_bad_name("Europe\\Paris", CC_EINVAL, "may only contain letters");
    expect_bad_name("Mars/Olympus_Mons", CC_ENOTFOUND, "unknown time zone 'Mars/Olympus_Mons'");
    expect_bad_name("Europe", CC_ENOTFOUND, "no such zone file"); /* a directory */
    char longname[300];
    memset(longname, 'A', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    expect_bad_name(longname, CC_EINVAL, "must be 1-255 characters");
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(1 << 20);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* TZDIR is read at load time; sizes are capped; odd files are refused. */
static void test_tzdir_and_limits(void **state)
{
    (void)state;
    char dir[] = "/tmp/cc_tz_test_XXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    size_t len;
    char *paris = read_all(CC_TZ_DEFAULT_DIR "/Europe/Paris", &len);
    snprintf(path, sizeof(path), "%s/Test", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/Test/Zone", dir);
    write_file(path, paris, len);
    setenv("TZDIR", dir, 1);
    struct cc_tz *tz = NULL;
    struct cc_diag d = {0};
    assert_int_equal(cc_tz_load("Test/Zone", &tz, &d), CC_OK);
    expect_local(tz, "2026-03-29T01:00:00Z", "2026-03-29 03:00:00", 7200, true);
    cc_tz_free(tz);
    /* no UTC file in this directory: the built-in rules */
    assert_int_equal(cc_tz_load("UTC", &tz, &d), CC_OK);
    expect_local(tz, "2026-03-29T01:00:00Z", "2026-03-29 01:00:00", 0, false);
    cc_tz_free(tz);
    assert_int_equal(cc_tz_load("Europe/Paris", &tz, &d), CC_ENOTFOUND);
    unsetenv("TZDIR");

    char *big = calloc(1, CC_TZ_FILE_LIMIT + 1);
    memcpy(big, paris, len);
    snprintf(path, sizeof(path), "%s/Big", dir);
    write_file(path, big, CC_TZ_FILE_LIMIT + 1);
    assert_int_equal(cc_tz_load_dir(dir, "Big", &tz, &d), CC_ELIMIT);
    assert_non_null(strstr(d.msg, "larger than 262144 bytes"));
    unlink(path);
    snprintf(path, sizeof(path), "%s/Test/Zone", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/Test", dir);
    rmdir(path);
    rmdir(dir);
    free(big);
    free(paris);
}

/* A minimal v2 file: one transition at `t` from type 0 (+0) to type 1 (+3600 dst). */
static size_t build_tzif(uint8_t *out, int64_t t, const char *footer)
{
    uint8_t *p = out;
    for (int v = 0; v < 2; v++) {
        memcpy(p, "TZif2", 5);
        memset(p + 5, 0, 15);
        uint32_t counts[6] = {0, 0, 0, 1, 2, 4}; /* isut isstd leap time type char */
        for (int i = 0; i < 6; i++)
            for (int b = 0; b < 4; b++)
                p[20 + i * 4 + b] = (uint8_t)(counts[i] >> (24 - 8 * b));
        p += 44;
        int tsize = v == 0 ? 4 : 8;
        for (int b = 0; b < tsize; b++)
            *p++ = (uint8_t)((uint64_t)t >> (8 * (tsize - 1 - b)));
        *p++ = 1;
        static const uint8_t types[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0x0e, 0x10, 1, 2};
        memcpy(p, types, 12);
        p += 12;
        memcpy(p, "AA\0B", 4);
        p += 4;
    }
    size_t flen = strlen(footer);
    *p++ = '\n';
    memcpy(p, footer, flen);
    p += flen;
    *p++ = '\n';
    return (size_t)(p - out);
}

static void expect_malformed(const void *data, size_t len, const char *needle)
{
    struct cc_tz *tz = (struct cc_tz *)0x1;
    struct cc_diag d = {0};
    assert_int_equal(cc_tz_parse(data, len, "bad", &tz, &d), CC_EPARSE);
    assert_ptr_equal(tz, (struct cc_tz *)0x1);
    if (!strstr(d.msg, needle))
        fail_msg("message '%s' lacks '%s'", d.msg, needle);
}

static void test_malformed_files(void **state)
{
    (void)state;
    uint8_t f[256], g[256];
    size_t n = build_tzif(f, 1000, "AAA0BBB,M3.5.0,M10.5.0/3");
    struct cc_tz *tz = NULL;
    assert_int_equal(cc_tz_parse(f, n, "mini", &tz, NULL), CC_OK);
    expect_local(tz, "1970-01-01T00:16:39Z", "1970-01-01 00:16:39", 0, false);
    expect_local(tz, "2100-07-01T00:00:00Z", "2100-07-01 01:00:00", 3600, true); /* footer */
    expect_local(tz, "2100-12-01T00:00:00Z", "2100-12-01 00:00:00", 0, false);
    cc_tz_free(tz);
    size_t v2 = 44 + 4 + 1 + 12 + 4; /* offset of the second header */

    for (size_t cut = 0; cut < n; cut++) /* every truncation */
        expect_malformed(f, cut, "");
    memcpy(g, f, n), g[0] = 'X';
    expect_malformed(g, n, "bad magic");
    memcpy(g, f, n), g[v2 + 4] = '9';
    expect_malformed(g, n, "unsupported version");
    memcpy(g, f, n), g[v2 + 39] = 0; /* typecnt 0 */
    expect_malformed(g, n, "local time types");
    memcpy(g, f, n), g[v2 + 44 + 8] = 2; /* transition to type 2 of 2 */
    expect_malformed(g, n, "missing local time type");
    memcpy(g, f, n), g[v2 + 44 + 9 + 6] = 0x7f; /* offset 2^31-ish */
    expect_malformed(g, n, "UTC offset out of range");
    memcpy(g, f, n), g[v2 + 44 + 9 + 4] = 2; /* isdst 2 */
    expect_malformed(g, n, "bad DST flag");
    memcpy(g, f, n), g[n - 1] = 'x';
    expect_malformed(g, n, "footer is not terminated");
    memcpy(g, f, n), g[n] = 'x';
    expect_malformed(g, n + 1, "trailing bytes");
    n = build_tzif(g, 1000, "AAA0BBB,M13.5.0,M10.5.0/3");
    expect_malformed(g, n, "footer: POSIX TZ rule: number out of range");
    n = build_tzif(g, 1000, "");
    assert_int_equal(cc_tz_parse(g, n, "nofooter", &tz, NULL), CC_OK);
    expect_local(tz, "2100-01-01T00:00:00Z", "2100-01-01 01:00:00", 3600, true);
    cc_tz_free(tz);

    /* transitions out of order, in a two-transition v1 file */
    static const uint8_t v1[] = {
        'T', 'Z', 'i', 'f', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1,
        0, 0, 0, 9, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    };
    expect_malformed(v1, sizeof(v1), "not ascending");
    uint8_t v1ok[sizeof(v1)];
    memcpy(v1ok, v1, sizeof(v1));
    v1ok[51] = 10;
    assert_int_equal(cc_tz_parse(v1ok, sizeof(v1ok), "v1", &tz, NULL), CC_OK);
    cc_tz_free(tz);
}

static void expect_posix(const char *rule, const char *utc, const char *want, int32_t off,
                         bool dst)
{
    struct cc_tz *tz = NULL;
    struct cc_diag d = {0};
    if (cc_tz_posix(rule, &tz, &d) != CC_OK)
        fail_msg("%s: %s", rule, d.msg);
    expect_local(tz, utc, want, off, dst);
    cc_tz_free(tz);
}

static void test_posix_rules(void **state)
{
    (void)state;
    expect_posix("UTC0", "2026-06-01T12:00:00Z", "2026-06-01 12:00:00", 0, false);
    expect_posix("<+0330>-3:30", "2026-06-01T12:00:00Z", "2026-06-01 15:30:00", 12600, false);
    expect_posix("<-0330>3:30", "2026-06-01T12:00:00Z", "2026-06-01 08:30:00", -12600, false);
    expect_posix("CET-1CEST,M3.5.0,M10.5.0/3", "2026-03-29T01:00:00Z", "2026-03-29 03:00:00",
                 7200, true);
    expect_posix("CET-1CEST,M3.5.0,M10.5.0/3", "2026-10-25T01:00:00Z", "2026-10-25 02:00:00",
                 3600, false);
    expect_posix("EST5EDT,M3.2.0,M11.1.0", "2026-03-08T07:00:00Z", "2026-03-08 03:00:00",
                 -14400, true);
    /* Jn never counts February 29th: J60 is March 1st, leap year or not */
    expect_posix("AAA3BBB,J60/2,J300/2", "2028-03-01T04:59:59Z", "2028-03-01 01:59:59",
                 -10800, false);
    expect_posix("AAA3BBB,J60/2,J300/2", "2028-03-01T05:00:00Z", "2028-03-01 03:00:00",
                 -7200, true);
    /* n counts it: day 59 is February 29th in 2028, March 1st in 2027 */
    expect_posix("AAA3BBB,59/2,299/2", "2028-02-29T05:00:00Z", "2028-02-29 03:00:00", -7200,
                 true);
    expect_posix("AAA3BBB,59/2,299/2", "2027-03-01T05:00:00Z", "2027-03-01 03:00:00", -7200,
                 true);
    expect_posix("AAA3BBB,59/2,299/2", "2027-02-28T12:00:00Z", "2027-02-28 09:00:00", -10800,
                 false);
    /* southern hemisphere, half-hour DST */
    expect_posix("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", "2026-10-03T15:30:00Z",
                 "2026-10-04 02:30:00", 39600, true);
    expect_posix("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", "2026-06-01T00:00:00Z",
                 "2026-06-01 10:30:00", 37800, false);
    /* DST all year (RFC 8536 3.3.1) and negative rule times (America/Nuuk) */
    expect_posix("EST5EDT,0/0,J365/25", "2026-01-01T04:30:00Z", "2026-01-01 00:30:00", -14400,
                 true);
    expect_posix("EST5EDT,0/0,J365/25", "2026-07-01T04:30:00Z", "2026-07-01 00:30:00", -14400,
                 true);
    expect_posix("<-02>2<-01>,M3.5.0/-1,M10.5.0/0", "2026-03-29T00:59:59Z",
                 "2026-03-28 22:59:59", -7200, false);
    expect_posix("<-02>2<-01>,M3.5.0/-1,M10.5.0/0", "2026-03-29T01:00:00Z",
                 "2026-03-29 00:00:00", -3600, true);
    /* 5th week means the last: October 2026 has four Sundays after the 4th */
    expect_posix("XXX0YYY,M3.5.0/1,M10.5.0/1", "2026-10-25T00:00:00Z", "2026-10-25 00:00:00",
                 0, false);
}

static void expect_bad_posix(const char *rule, unsigned col, const char *msg)
{
    struct cc_tz *tz = NULL;
    struct cc_diag d = {0};
    assert_int_equal(cc_tz_posix(rule, &tz, &d), CC_EPARSE);
    assert_null(tz);
    if (d.col != col || strcmp(d.msg, msg) != 0)
        fail_msg("'%s': got col %u '%s', want col %u '%s'", rule, d.col, d.msg, col, msg);
}

static void test_bad_posix_rules(void **state)
{
    (void)state;
    expect_bad_posix("", 1, "POSIX TZ rule: expected a zone name of at least 3 letters");
    expect_bad_posix("UT0", 3, "POSIX TZ rule: expected a zone name of at least 3 letters");
    expect_bad_posix("EST", 4, "POSIX TZ rule: expected hours");
    expect_bad_posix("EST25", 4, "POSIX TZ rule: number out of range");
    expect_bad_posix("EST5:60", 6, "POSIX TZ rule: number out of range");
    expect_bad_posix("EST5EDT", 8, "POSIX TZ rule: expected ',' and the DST start rule");
    expect_bad_posix("EST5EDT,M3.2.0", 15, "POSIX TZ rule: expected ',' and the DST end rule");
    expect_bad_posix("EST5EDT,M3.6.0,M11.1.0", 12, "POSIX TZ rule: number out of range");
    expect_bad_posix("EST5EDT,M3.2.7,M11.1.0", 14, "POSIX TZ rule: number out of range");
    expect_bad_posix("EST5EDT,J0,J300", 11, "POSIX TZ rule: Julian day must be 1-365");
    expect_bad_posix("EST5EDT,366,J300", 9, "POSIX TZ rule: number out of range");
    expect_bad_posix("EST5EDT,M3.2.0/168,M11.1.0", 16, "POSIX TZ rule: number out of range");
    expect_bad_posix("<+03", 5, "POSIX TZ rule: unterminated '<' in a zone name");
    expect_bad_posix("<+0 3>-3", 4, "POSIX TZ rule: unexpected character in a quoted zone name");
    expect_bad_posix("UTC0 ", 5, "POSIX TZ rule: expected a zone name of at least 3 letters");
    expect_bad_posix("EST5EDT,M3.2.0,M11.1.0x", 23,
                     "POSIX TZ rule: unexpected trailing characters");
}

static void test_rfc3339(void **state)
{
    (void)state;
    int64_t t;
    char buf[32];
    assert_int_equal(at("2026-03-29T00:30:00Z"), 1774744200);
    assert_int_equal(at("2026-03-29T02:30:00+02:00"), 1774744200);
    assert_int_equal(at("2026-03-28t19:30:00.999-05:00"), 1774744200);
    assert_int_equal(at("2026-03-29 00:30:00.1z"), 1774744200);
    assert_int_equal(at("1969-12-31T23:59:59.5Z"), -1); /* floor */
    assert_int_equal(at("2016-12-31T23:59:60Z"), 1483228799);
    static const char *bad[] = {
        "", "2026-03-29", "2026-03-29T00:30Z", "2026-03-29T00:30:00", "2026-02-29T00:00:00Z",
        "2026-13-01T00:00:00Z", "2026-03-29T24:00:00Z", "2026-03-29T00:30:00+0200",
        "2026-03-29T00:30:00.Z", "2026-03-29T00:30:00Z ", "26-03-29T00:30:00Z",
        "2026-03-29T00:30:00+24:00", "+2026-03-29T00:30:00Z",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        t = 42;
        if (cc_time_parse_rfc3339(bad[i], &t) != CC_EINVAL || t != 42)
            fail_msg("'%s' was accepted", bad[i]);
    }
    cc_time_rfc3339_s(1774744200, buf, sizeof(buf));
    assert_string_equal(buf, "2026-03-29T00:30:00Z");
    cc_time_rfc3339_s(-1, buf, sizeof(buf));
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
    cc_time_rfc3339_s(INT64_MAX, buf, sizeof(buf));
    assert_string_equal(buf, "9999-12-31T23:59:59Z");
    cc_time_rfc3339_s(INT64_MIN, buf, sizeof(buf));
    assert_string_equal(buf, "0000-01-01T00:00:00Z");
}

static void test_civil(void **state)
{
    (void)state;
    for (int64_t days = -800000; days < 800000; days += 7) {
        int64_t y;
        int m, d;
        cc_civil_from_days(days, &y, &m, &d);
        assert_int_equal(cc_days_from_civil(y, m, d), days);
        assert_true(d >= 1 && d <= cc_days_in_month(y, m));
    }
    assert_int_equal(cc_days_from_civil(2000, 3, 1) - cc_days_from_civil(2000, 2, 28), 2);
    assert_int_equal(cc_days_from_civil(1900, 3, 1) - cc_days_from_civil(1900, 2, 28), 1);
    assert_int_equal(cc_weekday_from_days(cc_days_from_civil(2026, 3, 29)), 0);
    assert_int_equal(cc_weekday_from_days(-1), 3);
    assert_int_equal(cc_days_in_month(2028, 2), 29);
    assert_int_equal(cc_days_in_month(2100, 2), 28);
    assert_int_equal(cc_days_in_month(2026, 13), 0);
}

static void test_mktime_rejects_bad_fields(void **state)
{
    (void)state;
    static const struct cc_tm bad[] = {
        {.year = 2026, .month = 0, .mday = 1},   {.year = 2026, .month = 13, .mday = 1},
        {.year = 2026, .month = 2, .mday = 29},  {.year = 2026, .month = 1, .mday = 0},
        {.year = 2026, .month = 1, .mday = 1, .hour = 24},
        {.year = 2026, .month = 1, .mday = 1, .min = 60},
        {.year = 2026, .month = 1, .mday = 1, .sec = -1},
        {.year = 2000000, .month = 1, .mday = 1},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t u = 42;
        assert_int_equal(cc_tz_mktime(cc_tz_utc(), &bad[i], CC_TZ_EARLIEST, &u, NULL),
                         CC_EINVAL);
        assert_int_equal(u, 42);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utc),
        cmocka_unit_test(test_paris),
        cmocka_unit_test(test_new_york),
        cmocka_unit_test(test_lord_howe_half_hour_dst),
        cmocka_unit_test(test_kolkata),
        cmocka_unit_test(test_against_libc),
        cmocka_unit_test(test_bad_names),
        cmocka_unit_test(test_tzdir_and_limits),
        cmocka_unit_test(test_malformed_files),
        cmocka_unit_test(test_posix_rules),
        cmocka_unit_test(test_bad_posix_rules),
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_civil),
        cmocka_unit_test(test_mktime_rejects_bad_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
