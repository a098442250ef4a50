/*
 * tz.h - time zones read from TZif files, without the process-global TZ.
 *
 * localtime_r/mktime depend on the TZ environment variable and tzset(), so a
 * daemon that evaluates schedules in many zones from many threads cannot use
 * them. A `struct cc_tz` is a parsed TZif file (RFC 8536, versions 1-4; the
 * 64-bit data of version 2+ is used, and its footer POSIX TZ rule covers
 * every instant after the last transition, e.g. DST in 2100).
 *
 * Invariants:
 *  - A zone is immutable once loaded: any number of threads may use one zone
 *    at the same time without locking. Nothing here reads or writes global
 *    mutable state (no getenv except in cc_tz_load, no tzset).
 *  - UTC offsets lie in -89999..93599 seconds (RFC 8536); files outside
 *    that are rejected.
 *  - Instants are clamped to +-2^45 s (about a million years) so calendar
 *    arithmetic never overflows.
 *  - Leap-second records ("right/" zones) are ignored: times are POSIX time.
 *
 * Ownership: cc_tz_load* and cc_tz_parse hand the caller a heap zone that the
 * caller frees with cc_tz_free. cc_tz_utc() is static and must not be freed
 * (cc_tz_free ignores it, so freeing it by mistake is harmless).
 *
 * The civil-calendar helpers at the end are proleptic Gregorian, pure and
 * shared with the cron scheduler (ingest/cron.c).
 */
#ifndef CC_CORE_TZ_H
#define CC_CORE_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/diag.h"
#include "core/err.h"

struct cc_tz;

/* Broken-down local time. */
struct cc_tm {
    int year;           /* e.g. 2026 */
    int month;          /* 1-12 */
    int mday;           /* 1-31 */
    int hour;           /* 0-23 */
    int min;            /* 0-59 */
    int sec;            /* 0-59 */
    int wday;           /* 0-6, Sunday 0 (output only) */
    int yday;           /* 0-365, January 1st 0 (output only) */
    int32_t utc_offset; /* seconds east of UTC (output only) */
    bool is_dst;        /* output only */
};

/* Which instant to pick when a local time occurs twice (fall back). */
enum cc_tz_fold {
    CC_TZ_EARLIEST, /* the first occurrence (the DST one, usually) */
    CC_TZ_LATEST,   /* the second occurrence */
};

/* What cc_tz_mktime found for a local time. */
enum cc_tz_kind {
    CC_TZ_UNIQUE,  /* the local time occurs exactly once */
    CC_TZ_GAP,     /* it does not exist (spring forward); the result is the
                      first instant after the gap, i.e. the transition */
    CC_TZ_OVERLAP, /* it occurs twice (fall back); `fold` chose one */
};

#define CC_TZ_NAME_MAX 255
#define CC_TZ_FILE_LIMIT (256u * 1024u)
#define CC_TZ_DEFAULT_DIR "/usr/share/zoneinfo"

/* Loads zone `name` ("Europe/Paris", "UTC") from $TZDIR, or from
 * /usr/share/zoneinfo when TZDIR is unset or empty. TZDIR is read once, here.
 * "UTC" falls back to cc_tz_utc()'s rules when the directory has no such file.
 * Errors (with a message in `d`, which may be NULL):
 *   CC_EINVAL    the name is empty, too long, contains "..", starts with '/',
 *                or has a character outside [A-Za-z0-9_+-/]
 *   CC_ENOTFOUND no such zone file
 *   CC_ELIMIT    the file is larger than CC_TZ_FILE_LIMIT
 *   CC_EPARSE    the file is not valid TZif
 *   CC_EIO       it could not be read
 * On success *out owns a new zone; on error *out is untouched. */
cc_err cc_tz_load(const char *name, struct cc_tz **out, struct cc_diag *d);
/* Same, from directory `dir` (no environment lookup); for tests and callers
 * that configure the directory themselves. */
cc_err cc_tz_load_dir(const char *dir, const char *name, struct cc_tz **out,
                      struct cc_diag *d);

/* The UTC zone: static, immutable, never NULL, never to be freed. */
const struct cc_tz *cc_tz_utc(void);

/* NULL-safe; ignores cc_tz_utc(). */
void cc_tz_free(struct cc_tz *tz);

/* The name the zone was loaded under ("Europe/Paris"); borrowed, lives as
 * long as the zone. */
const char *cc_tz_name(const struct cc_tz *tz);

/* Local time of instant `utc_s` (Unix seconds) in `tz`. Cannot fail. */
void cc_tz_localtime(const struct cc_tz *tz, int64_t utc_s, struct cc_tm *out);

/* Converts local wall time (year, month, mday, hour, min, sec of `local`;
 * the other fields are ignored) to Unix seconds. In a gap returns the first
 * instant after it; in an overlap the occurrence chosen by `fold`. `kind`
 * (may be NULL) says which case applied.
 * CC_EINVAL when a field is out of range (month 1-12, mday within the month,
 * hour 0-23, min 0-59, sec 0-59, |year| <= 1000000); CC_ELIMIT when the zone
 * has so many transitions around that time that it cannot be resolved.
 * Outputs are written only on success. */
cc_err cc_tz_mktime(const struct cc_tz *tz, const struct cc_tm *local, enum cc_tz_fold fold,
                    int64_t *utc_s, enum cc_tz_kind *kind);

/* Formats Unix seconds as RFC 3339 UTC with second precision,
 * "2026-03-29T01:00:00Z". `out` must hold at least 21 bytes; years outside
 * 0000-9999 are clamped to them. */
void cc_time_rfc3339_s(int64_t utc_s, char *out, size_t outsz);
/* cc_parse_rfc3339 for a date-time only ("2026-03-29T00:30:00Z",
 * "2026-03-29T02:30:00.250+02:00"; 't', 'z' and a space for 'T' accepted)
 * into Unix seconds, dropping fractional seconds (floor). A leap second (:60)
 * is read as :59. CC_EINVAL on anything else; *out_s written only on success. */
cc_err cc_time_parse_rfc3339(const char *s, int64_t *out_s);

#endif
