#include "fakes/fake_clock.h"

#include <string.h>

static int64_t fake_wall_ms(struct cc_clock *c)
{
    return ((struct fake_clock *)c)->wall_ms;
}

static int64_t fake_mono_ms(struct cc_clock *c)
{
    return ((struct fake_clock *)c)->mono_ms;
}

static void fake_sleep_ms(struct cc_clock *c, int64_t ms)
{
    struct fake_clock *fc = (struct fake_clock *)c;
    if (fc->sleeps < FAKE_CLOCK_LOG_MAX)
        fc->sleep_log[fc->sleeps] = ms;
    fc->sleeps++;
    /* Like the system clock, a negative sleep returns at once. */
    if (ms > 0) {
        fc->slept_ms += ms;
        fake_clock_advance(fc, ms);
    }
}

void fake_clock_init(struct fake_clock *fc, int64_t wall_ms)
{
    memset(fc, 0, sizeof(*fc));
    fc->base.wall_ms = fake_wall_ms;
    fc->base.mono_ms = fake_mono_ms;
    fc->base.sleep_ms = fake_sleep_ms;
    fc->wall_ms = wall_ms;
    fc->mono_ms = FAKE_CLOCK_MONO_ORIGIN;
}

void fake_clock_advance(struct fake_clock *fc, int64_t ms)
{
    if (ms <= 0)
        return;
    fc->wall_ms += ms;
    fc->mono_ms += ms;
}
