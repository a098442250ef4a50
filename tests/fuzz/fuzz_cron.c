/*
 * fuzz_cron.c - cron_parse on arbitrary bytes, and cron_next on whatever
 * parses, in UTC and in Europe/Paris around both 2026 DST changes. Besides
 * crashes it checks what a user would notice: a run time is strictly later
 * than the start, and its wall time matches the expression unless it is the
 * end of a DST gap.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/tz.h"
#include "ingest/cron.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool wall_matches(const struct cron_expr *e, const struct cc_tm *t)
{
    bool md = e->mday >> t->mday & 1, wd = e->wday >> t->wday & 1;
    bool day = e->mday_star || e->wday_star ? md && wd : md || wd;
    return (e->minute >> t->min & 1) && (e->hour >> t->hour & 1) && (e->month >> t->month & 1) &&
           day && t->sec == 0;
}

static void check_runs(const struct cron_expr *e, const struct cc_tz *tz, int64_t from)
{
    int64_t t = from;
    for (int i = 0; i < 4; i++) {
        int64_t next;
        if (cron_next(e, tz, t, &next) != CC_OK)
            return;
        struct cc_tm now, before;
        cc_tz_localtime(tz ? tz : cc_tz_utc(), next, &now);
        cc_tz_localtime(tz ? tz : cc_tz_utc(), next - 1, &before);
        if (next <= t || (!wall_matches(e, &now) && before.utc_offset >= now.utc_offset))
            abort();
        t = next;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Loaded once and never freed: the fuzzer calls this function forever. */
    static struct cc_tz *paris;
    static bool tried;
    if (!tried) {
        tried = true;
        cc_tz_load_dir(CC_TZ_DEFAULT_DIR, "Europe/Paris", &paris, NULL);
    }
    char text[CRON_TEXT_MAX + 8];
    size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    struct cron_expr e;
    struct cc_diag d;
    if (cron_parse(text, &e, &d) != CC_OK)
        return 0;
    check_runs(&e, NULL, INT64_C(1774744200));       /* 2026-03-29T00:30:00Z */
    check_runs(&e, NULL, INT64_C(253402300000));     /* near the end of 9999 */
    if (paris) {
        check_runs(&e, paris, INT64_C(1774744200));  /* spring forward */
        check_runs(&e, paris, INT64_C(1792884600));  /* 2026-10-25T00:10:00Z, fall back */
    }
    return 0;
}
