/*
 * tz_int.h - the parsers behind cc_tz_load, for the fuzzer and the tests.
 *
 * Both build a zone from bytes in memory with the same validation as
 * cc_tz_load; the caller owns the result (cc_tz_free). `name` is copied
 * (truncated to CC_TZ_NAME_MAX) and only used by cc_tz_name.
 */
#ifndef CC_CORE_TZ_INT_H
#define CC_CORE_TZ_INT_H

#include "core/tz.h"

/* A TZif file of `len` bytes. CC_EPARSE (message in d) when malformed,
 * CC_ELIMIT when larger than CC_TZ_FILE_LIMIT. */
cc_err cc_tz_parse(const void *data, size_t len, const char *name, struct cc_tz **out,
                   struct cc_diag *d);

/* A zone given only by a POSIX TZ rule such as "CET-1CEST,M3.5.0,M10.5.0/3"
 * (RFC 8536 section 3.3.1 extensions: hours up to 167, negative times).
 * A DST name without a rule is rejected. CC_EPARSE with a message (col set)
 * when malformed. */
cc_err cc_tz_posix(const char *rule, struct cc_tz **out, struct cc_diag *d);

/* ---- shared between tz.c and tz_rule.c ---- */

/* One end of a POSIX DST rule: 'J' Jn (1-365, February 29 never counted),
 * 'N' n (0-365, counted), 'M' Mm.w.d; `time` is local seconds after
 * midnight, -167h..167h. */
struct cc__tz_rule_date {
    char kind;
    int n, m, w, wd;
    int32_t time;
};

/* A parsed POSIX TZ string. Offsets are seconds east of UTC (the POSIX
 * text has them west, so "EST5" gives std_off -18000). */
struct cc__tz_rule {
    int32_t std_off;
    int32_t dst_off;
    bool has_dst;
    struct cc__tz_rule_date start; /* in standard time */
    struct cc__tz_rule_date end;   /* in daylight time */
};

/* Parses `len` bytes at `s` (no NUL needed). CC_EPARSE with d->col set to the
 * 1-based position of the problem, relative to `s`. */
cc_err cc__tz_rule_parse(const char *s, size_t len, struct cc__tz_rule *out, struct cc_diag *d);
/* Offset and DST flag in force at `t`. */
void cc__tz_rule_at(const struct cc__tz_rule *r, int64_t t, int32_t *off, bool *dst);
/* The first rule transition strictly after `t`; false when the rule has no DST. */
bool cc__tz_rule_next(const struct cc__tz_rule *r, int64_t t, int64_t *next);

#endif
