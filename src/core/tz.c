/*
 * tz.c - TZif zones (RFC 8536), local time and its inverse, civil dates.
 *
 * A zone is a sorted table of transitions (Unix time -> local time type)
 * plus, for version 2+ files, the footer's POSIX rule for instants after
 * the last transition. Local time is a binary search; the inverse walks the
 * transitions around the wall time (the offset is piecewise constant, so a
 * wall time has 0, 1 or 2 solutions) instead of calling mktime(), which
 * would depend on the process-global TZ.
 */
#include "core/tz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/tz_int.h"

#define OFFSET_MIN (-89999)
#define OFFSET_MAX 93599
#define INSTANT_LIMIT (INT64_C(1) << 45)
#define MKTIME_MAX_SEGMENTS 64
#define FOOTER_MAX 512
#define HEADER_LEN 44

struct tz_type {
    int32_t off;
    bool dst;
};

struct cc_tz {
    char name[CC_TZ_NAME_MAX + 1];
    size_t ntrans;
    size_t ntypes;
    const int64_t *trans;        /* strictly ascending */
    const uint8_t *idx;          /* idx[i] < ntypes: type from trans[i] on */
    const struct tz_type *types; /* types[0] also rules before trans[0] */
    bool has_rule;
    struct cc__tz_rule rule;     /* from the last transition on */
    bool is_static;
};

static const struct tz_type utc_types[1] = {{.off = 0, .dst = false}};
static const struct cc_tz utc_zone = {
    .name = "UTC", .ntypes = 1, .types = utc_types, .is_static = true,
};

/* ---- helpers ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0) ? 1 : 0);
}

/* ---- RFC 3339 ---- */

void cc_time_rfc3339_s(int64_t utc_s, char *out, size_t outsz)
{
    const int64_t lo = INT64_C(-62167219200), hi = INT64_C(253402300799);
    if (utc_s < lo)
        utc_s = lo;
    if (utc_s > hi)
        utc_s = hi;
    int64_t days = floor_div(utc_s, 86400), secs = utc_s - days * 86400, y;
    int m, d;
    cc_civil_from_days(days, &y, &m, &d);
    snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, m, d, (int)(secs / 3600),
             (int)(secs / 60 % 60), (int)(secs % 60));
}

cc_err cc_time_parse_rfc3339(const char *s, int64_t *out_s)
{
    /* A date-time is required here; cc_parse_rfc3339 also takes a date. */
    int64_t ms;
    if (!s || strlen(s) <= 10 || cc_parse_rfc3339(s, &ms) != CC_OK)
        return CC_EINVAL;
    *out_s = floor_div(ms, 1000);
    return CC_OK;
}

/* ---- lookups ---- */

const struct cc_tz *cc_tz_utc(void)
{
    return &utc_zone;
}

const char *cc_tz_name(const struct cc_tz *tz)
{
    return tz->name;
}

void cc_tz_free(struct cc_tz *tz)
{
    if (!tz || tz->is_static)
        return;
    free((void *)tz->trans);
    free((void *)tz->idx);
    free((void *)tz->types);
    free(tz);
}

static int64_t clamp_instant(int64_t t)
{
    return t < -INSTANT_LIMIT ? -INSTANT_LIMIT : t > INSTANT_LIMIT ? INSTANT_LIMIT : t;
}

/* Index of the last transition <= t; only for trans[0] <= t. */
static size_t last_at_or_before(const struct cc_tz *tz, int64_t t)
{
    size_t lo = 0, hi = tz->ntrans; /* trans[lo] <= t < trans[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static struct tz_type type_at(const struct cc_tz *tz, int64_t t)
{
    struct tz_type r = tz->types[0];
    /* The rule takes over at the last transition itself (which tzdata makes
     * agree with it), so the offset never changes at an instant that
     * next_transition() does not report. */
    if (tz->ntrans == 0 || t >= tz->trans[tz->ntrans - 1]) {
        if (tz->has_rule)
            cc__tz_rule_at(&tz->rule, t, &r.off, &r.dst);
        else if (tz->ntrans > 0)
            r = tz->types[tz->idx[tz->ntrans - 1]];
        return r;
    }
    if (t < tz->trans[0])
        return r;
    return tz->types[tz->idx[last_at_or_before(tz, t)]];
}

/* The first transition strictly after t, if any. */
static bool next_transition(const struct cc_tz *tz, int64_t t, int64_t *next)
{
    if (tz->ntrans > 0 && t < tz->trans[tz->ntrans - 1]) {
        *next = t < tz->trans[0] ? tz->trans[0] : tz->trans[last_at_or_before(tz, t) + 1];
        return true;
    }
    return tz->has_rule && cc__tz_rule_next(&tz->rule, t, next);
}

void cc_tz_localtime(const struct cc_tz *tz, int64_t utc_s, struct cc_tm *out)
{
    utc_s = clamp_instant(utc_s);
    struct tz_type ty = type_at(tz, utc_s);
    int64_t local = utc_s + ty.off;
    int64_t days = floor_div(local, 86400), secs = local - days * 86400, y;
    struct cc_tm tm = {0};
    cc_civil_from_days(days, &y, &tm.month, &tm.mday);
    tm.year = (int)y;
    tm.hour = (int)(secs / 3600);
    tm.min = (int)(secs / 60 % 60);
    tm.sec = (int)(secs % 60);
    tm.wday = cc_weekday_from_days(days);
    tm.yday = (int)(days - cc_days_from_civil(y, 1, 1));
    tm.utc_offset = ty.off;
    tm.is_dst = ty.dst;
    *out = tm;
}

/* ---- mktime ---- */

static bool valid_wall(const struct cc_tm *t)
{
    return t->year >= -1000000 && t->year <= 1000000 && t->month >= 1 && t->month <= 12 &&
           t->mday >= 1 && t->mday <= cc_days_in_month(t->year, t->month) && t->hour >= 0 &&
           t->hour <= 23 && t->min >= 0 && t->min <= 59 && t->sec >= 0 && t->sec <= 59;
}

cc_err cc_tz_mktime(const struct cc_tz *tz, const struct cc_tm *local, enum cc_tz_fold fold,
                    int64_t *utc_s, enum cc_tz_kind *kind)
{
    if (!valid_wall(local))
        return CC_EINVAL;
    int64_t wall = cc_days_from_civil(local->year, local->month, local->mday) * 86400 +
                   local->hour * 3600 + local->min * 60 + local->sec;
    /* Every solution u = wall - off(u) lies in [wall - OFFSET_MAX, wall - OFFSET_MIN]:
     * walk the constant-offset segments covering that window. */
    int64_t lo = wall - OFFSET_MAX - 1, hi = wall - OFFSET_MIN + 1;
    int64_t seg = lo, first = 0, last = 0, gap = 0;
    int32_t off = type_at(tz, seg).off;
    int found = 0;
    bool in_gap = false;
    for (int i = 0;; i++) {
        if (i == MKTIME_MAX_SEGMENTS)
            return CC_ELIMIT;
        int64_t nt;
        bool more = next_transition(tz, seg, &nt) && nt <= hi;
        int64_t u = wall - off;
        if (u >= seg && (!more || u < nt)) {
            first = found ? first : u;
            last = u;
            found++;
        }
        if (!more)
            break;
        int32_t next_off = type_at(tz, nt).off;
        /* The wall clock jumps over `wall` at nt: it was before it and is past it. */
        if (!in_gap && wall - off >= nt && wall - next_off < nt) {
            in_gap = true;
            gap = nt;
        }
        seg = nt;
        off = next_off;
    }
    if (!found && !in_gap)
        return CC_ELIMIT; /* cannot happen for a piecewise-constant offset */
    if (kind)
        *kind = !found ? CC_TZ_GAP : found > 1 ? CC_TZ_OVERLAP : CC_TZ_UNIQUE;
    *utc_s = !found ? gap : fold == CC_TZ_LATEST ? last : first;
    return CC_OK;
}

/* ---- TZif ---- */

struct tzif_header {
    char version;
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static cc_err bad(struct cc_diag *d, const char *name, const char *what)
{
    cc_diag_set(d, name, 0, 0, "not a valid TZif file: %s", what);
    return CC_EPARSE;
}

static cc_err read_header(const uint8_t *p, size_t avail, const char *name,
                          struct tzif_header *h, struct cc_diag *d)
{
    if (avail < HEADER_LEN || memcmp(p, "TZif", 4) != 0)
        return bad(d, name, avail < HEADER_LEN ? "truncated header" : "bad magic");
    h->version = (char)p[4];
    if (h->version != 0 && (h->version < '2' || h->version > '4'))
        return bad(d, name, "unsupported version");
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    if (h->typecnt == 0 || h->typecnt > 256 || h->charcnt == 0)
        return bad(d, name, "needs 1-256 local time types and a designation");
    if ((h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
        (h->isstdcnt != 0 && h->isstdcnt != h->typecnt))
        return bad(d, name, "indicator counts differ from the type count");
    return CC_OK;
}

/* Bytes of the data block after a header; times are 4 or 8 bytes wide. */
static uint64_t block_size(const struct tzif_header *h, unsigned tsize)
{
    return (uint64_t)h->timecnt * (tsize + 1) + (uint64_t)h->typecnt * 6 + h->charcnt +
           (uint64_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

/* Fills the tables of `tz` from a data block (its size already checked). */
static cc_err read_block(const uint8_t *p, const struct tzif_header *h, unsigned tsize,
                         const char *name, struct cc_tz *tz, struct cc_diag *d)
{
    int64_t *trans = cc_xcalloc(h->timecnt ? h->timecnt : 1, sizeof(*trans));
    uint8_t *idx = cc_xcalloc(h->timecnt ? h->timecnt : 1, 1);
    struct tz_type *types = cc_xcalloc(h->typecnt, sizeof(*types));
    tz->trans = trans;
    tz->idx = idx;
    tz->types = types;
    tz->ntrans = h->timecnt;
    tz->ntypes = h->typecnt;
    for (uint32_t i = 0; i < h->timecnt; i++, p += tsize) {
        trans[i] = tsize == 8 ? be64(p) : (int32_t)be32(p);
        if (i > 0 && trans[i] <= trans[i - 1])
            return bad(d, name, "transition times are not ascending");
    }
    for (uint32_t i = 0; i < h->timecnt; i++, p++) {
        idx[i] = *p;
        if (*p >= h->typecnt)
            return bad(d, name, "transition names a missing local time type");
    }
    for (uint32_t i = 0; i < h->typecnt; i++, p += 6) {
        int32_t off = (int32_t)be32(p);
        if (off < OFFSET_MIN || off > OFFSET_MAX)
            return bad(d, name, "UTC offset out of range");
        if (p[4] > 1 || p[5] >= h->charcnt)
            return bad(d, name, "bad DST flag or designation index");
        types[i] = (struct tz_type){.off = off, .dst = p[4] == 1};
    }
    return CC_OK;
}

/* The footer of a v2+ file: "\n" POSIX-TZ "\n", ending the file. */
static cc_err read_footer(const uint8_t *p, size_t avail, const char *name, struct cc_tz *tz,
                          struct cc_diag *d)
{
    if (avail < 2 || p[0] != '\n')
        return bad(d, name, "missing footer");
    const uint8_t *nl = memchr(p + 1, '\n', avail - 1 < FOOTER_MAX ? avail - 1 : FOOTER_MAX);
    if (!nl)
        return bad(d, name, "footer is not terminated or too long");
    if ((size_t)(nl - p) + 1 != avail)
        return bad(d, name, "trailing bytes after the footer");
    size_t len = (size_t)(nl - p) - 1;
    if (len == 0)
        return CC_OK;
    struct cc_diag rd;
    if (cc__tz_rule_parse((const char *)p + 1, len, &tz->rule, &rd) != CC_OK) {
        cc_diag_set(d, name, 0, 0, "not a valid TZif file: footer: %s", rd.msg);
        return CC_EPARSE;
    }
    tz->has_rule = true;
    return CC_OK;
}

static struct cc_tz *new_zone(const char *name)
{
    struct cc_tz *tz = cc_xcalloc(1, sizeof(*tz));
    cc_strlcpy(tz->name, name ? name : "", sizeof(tz->name));
    return tz;
}

cc_err cc_tz_parse(const void *data, size_t len, const char *name, struct cc_tz **out,
                   struct cc_diag *d)
{
    const uint8_t *p = data;
    struct tzif_header h;
    struct cc_tz *tz = NULL;
    if (len > CC_TZ_FILE_LIMIT) {
        cc_diag_set(d, name, 0, 0, "zone file is larger than %u bytes", CC_TZ_FILE_LIMIT);
        return CC_ELIMIT;
    }
    cc_err err = read_header(p, len, name, &h, d);
    if (err)
        goto out;
    unsigned tsize = 4;
    size_t pos = HEADER_LEN;
    uint64_t size = block_size(&h, tsize);
    if (h.version != 0 && size <= len - pos) { /* skip the v1 block: use the 64-bit data */
        pos += (size_t)size;
        tsize = 8;
        err = read_header(p + pos, len - pos, name, &h, d);
        if (err)
            goto out;
        pos += HEADER_LEN;
        size = block_size(&h, tsize);
    }
    if (size > len - pos) {
        err = bad(d, name, "truncated data");
        goto out;
    }
    tz = new_zone(name);
    err = read_block(p + pos, &h, tsize, name, tz, d);
    pos += (size_t)size;
    if (!err && tsize == 8)
        err = read_footer(p + pos, len - pos, name, tz, d);
    else if (!err && pos != len)
        err = bad(d, name, "trailing bytes after the data");
out:
    if (err) {
        cc_tz_free(tz);
        return err;
    }
    *out = tz;
    return CC_OK;
}

cc_err cc_tz_posix(const char *rule, struct cc_tz **out, struct cc_diag *d)
{
    struct cc__tz_rule r;
    cc_err err = cc__tz_rule_parse(rule, strlen(rule), &r, d);
    if (err)
        return err;
    struct cc_tz *tz = new_zone(rule);
    struct tz_type *types = cc_xcalloc(1, sizeof(*types));
    types[0] = (struct tz_type){.off = r.std_off, .dst = false};
    tz->types = types;
    tz->ntypes = 1;
    tz->rule = r;
    tz->has_rule = true;
    *out = tz;
    return CC_OK;
}

/* ---- loading ---- */

static cc_err check_name(const char *name, struct cc_diag *d)
{
    size_t n = strlen(name);
    const char *why = NULL;
    if (n == 0 || n > CC_TZ_NAME_MAX)
        why = "must be 1-255 characters";
    else if (name[0] == '/')
        why = "must be relative, like Europe/Paris (no leading '/')";
    else if (strstr(name, ".."))
        why = "must not contain '..'";
    else if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+-/") != n)
        why = "may only contain letters, digits, '_', '+', '-' and '/'";
    if (!why)
        return CC_OK;
    cc_diag_set(d, NULL, 0, 0, "invalid time zone name '%.64s': %s", name, why);
    return CC_EINVAL;
}

/* Reads a regular file of at most CC_TZ_FILE_LIMIT bytes. */
static cc_err read_file(const char *path, const char *name, uint8_t **data, size_t *len,
                        struct cc_diag *d)
{
    cc_err err = CC_OK;
    uint8_t *buf = NULL;
    size_t n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    bool opened = fd >= 0 && fstat(fd, &st) == 0;
    if (!opened || !S_ISREG(st.st_mode)) {
        /* a directory ("Europe") is no zone either */
        bool missing = opened || errno == ENOENT || errno == ENOTDIR;
        err = missing ? CC_ENOTFOUND : CC_EIO;
        cc_diag_set(d, NULL, 0, 0, "unknown time zone '%s' (%s: %s)", name, path,
                    missing ? "no such zone file" : strerror(errno));
        goto out;
    }
    buf = cc_xmalloc(CC_TZ_FILE_LIMIT + 1);
    for (;;) {
        ssize_t r = read(fd, buf + n, CC_TZ_FILE_LIMIT + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            err = CC_EIO;
            cc_diag_set(d, NULL, 0, 0, "cannot read %s: %s", path, strerror(errno));
            goto out;
        }
        if (r == 0 || (n += (size_t)r) > CC_TZ_FILE_LIMIT)
            break;
    }
    *data = buf;
    *len = n;
    buf = NULL;
out:
    free(buf);
    if (fd >= 0)
        close(fd);
    return err;
}

cc_err cc_tz_load_dir(const char *dir, const char *name, struct cc_tz **out,
                      struct cc_diag *d)
{
    uint8_t *data = NULL;
    size_t len = 0;
    char path[4096];
    cc_err err = check_name(name, d);
    if (err)
        return err;
    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        cc_diag_set(d, NULL, 0, 0, "zone directory path is too long");
        return CC_EINVAL;
    }
    err = read_file(path, name, &data, &len, d);
    if (err == CC_ENOTFOUND && strcmp(name, "UTC") == 0) {
        *out = new_zone("UTC");
        (*out)->types = cc_xcalloc(1, sizeof(struct tz_type));
        (*out)->ntypes = 1;
        return CC_OK;
    }
    if (!err)
        err = cc_tz_parse(data, len, name, out, d);
    free(data);
    return err;
}

cc_err cc_tz_load(const char *name, struct cc_tz **out, struct cc_diag *d)
{
    const char *dir = getenv("TZDIR");
    return cc_tz_load_dir(dir && *dir ? dir : CC_TZ_DEFAULT_DIR, name, out, d);
}
