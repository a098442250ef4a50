/*
 * fuzz_tzif.c - cc_tz_parse on arbitrary bytes: no crash, no leak, no
 * overflow; and for whatever parses, local time and its inverse agree (an
 * instant's wall time maps back to it, or brackets it between the folds).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/tz.h"
#include "core/tz_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_wall(const struct cc_tm *a, const struct cc_tm *b)
{
    return a->year == b->year && a->month == b->month && a->mday == b->mday &&
           a->hour == b->hour && a->min == b->min && a->sec == b->sec;
}

static void round_trip(const struct cc_tz *tz, int64_t t)
{
    struct cc_tm tm;
    cc_tz_localtime(tz, t, &tm);
    int64_t early, late;
    enum cc_tz_kind kind;
    if (cc_tz_mktime(tz, &tm, CC_TZ_EARLIEST, &early, &kind) != CC_OK ||
        cc_tz_mktime(tz, &tm, CC_TZ_LATEST, &late, NULL) != CC_OK)
        return; /* CC_ELIMIT: too many transitions around t */
    /* A wall time can occur three times in a hostile file, so t need only
     * lie between the two folds; both must read back as the same wall time. */
    struct cc_tm a, b;
    cc_tz_localtime(tz, early, &a);
    cc_tz_localtime(tz, late, &b);
    if (kind == CC_TZ_GAP || early > t || late < t || (kind == CC_TZ_UNIQUE && early != late) ||
        !same_wall(&a, &tm) || !same_wall(&b, &tm))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cc_tz *tz = NULL;
    struct cc_diag d;
    if (cc_tz_parse(data, size, "fuzz", &tz, &d) != CC_OK)
        return 0;
    static const int64_t probes[] = {
        INT64_MIN, -INT64_C(2147483648), -1, 0, 1, INT64_C(1774746000), INT64_C(2147483647),
        INT64_C(4102444800), INT64_C(253402300799), INT64_MAX,
    };
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        struct cc_tm tm;
        cc_tz_localtime(tz, probes[i], &tm);
        if (probes[i] > -(INT64_C(1) << 40) && probes[i] < INT64_C(1) << 40)
            round_trip(tz, probes[i]);
    }
    /* around instants taken from the input (often transition times) */
    for (size_t off = 0; off + 8 <= size && off < 64 * 8; off += 8) {
        int64_t t = 0;
        for (int b = 0; b < 8; b++)
            t = (int64_t)((uint64_t)t << 8 | data[off + (size_t)b]);
        t %= INT64_C(1) << 40;
        round_trip(tz, t - 1);
        round_trip(tz, t);
    }
    cc_tz_free(tz);
    return 0;
}
