/*
 * cron.h - five-field cron expressions and their next run time in a zone.
 *
 * Syntax (crontab(5), Vixie cron): "minute hour day-of-month month
 * day-of-week", fields separated by spaces or tabs. Each field is a list of
 * items "*", "N", "N-M", each optionally "/STEP", or "N/STEP" (N to the
 * field's maximum). Months take JAN-DEC, weekdays SUN-SAT (any case);
 * weekday 7 is Sunday like 0. Macros: @yearly @annually @monthly @weekly
 * @daily @midnight @hourly. At most CRON_TEXT_MAX bytes.
 *
 * Day matching is Vixie's OR rule: when both day fields are restricted a
 * day matches if either does; when one starts with '*' (so "*" and "*\/2"
 * alike, as crontab(5) words it) only the other one counts.
 *
 * Time zones: an expression is evaluated in local wall time. A wall time that
 * does not exist (spring forward) runs at the first instant after the gap,
 * once however many scheduled minutes fall into the gap; a wall time that
 * occurs twice (fall back) runs once, at its first occurrence. That applies
 * to every expression, "* * * * *" included: the repeated hour is not run
 * twice.
 */
#ifndef CC_INGEST_CRON_H
#define CC_INGEST_CRON_H

#include <stdbool.h>
#include <stdint.h>

#include "core/diag.h"
#include "core/err.h"
#include "core/tz.h"

#define CRON_TEXT_MAX 256
/* cron_next looks this far ahead: 8 years is the longest gap between two
 * February 29ths (2096 -> 2104), so a satisfiable expression always matches. */
#define CRON_HORIZON_YEARS 9

/* Bit n set = value n matches. */
struct cron_expr {
    uint64_t minute; /* bits 0-59 */
    uint32_t hour;   /* bits 0-23 */
    uint32_t mday;   /* bits 1-31 */
    uint16_t month;  /* bits 1-12 */
    uint8_t wday;    /* bits 0-6, Sunday 0 (7 is folded into 0) */
    bool mday_star;  /* the day-of-month field started with '*' */
    bool wday_star;  /* the day-of-week field started with '*' */
};

/* Parses `text` (NUL-terminated). On error returns CC_EPARSE (CC_ELIMIT when
 * longer than CRON_TEXT_MAX) with a message naming the field, such as
 * "field 2 (hour): 24 is out of range 0-23", and d->col the 1-based column
 * (d->line 1, d->file empty); `d` may be NULL. *out is written only on
 * success. */
cc_err cron_parse(const char *text, struct cron_expr *out, struct cc_diag *d);

/* The first matching minute strictly after `after_s` (Unix seconds), in the
 * local time of `tz` (NULL means UTC), into *out_s.
 * CC_ENOTFOUND when nothing matches within CRON_HORIZON_YEARS (e.g. February
 * 30th) or before the end of year 9999; CC_EINVAL when `after_s` lies
 * outside years 1-9999. *out_s is written only on success. */
cc_err cron_next(const struct cron_expr *e, const struct cc_tz *tz, int64_t after_s,
                 int64_t *out_s);

#endif
