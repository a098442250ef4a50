/*
 * fetch_host.c - per-host politeness for the fetcher (see fetch_int.h):
 * requests in flight per host, the delay between two starts, and
 * Retry-After blocks. Waits go through the clock (cc_wait_until), so a
 * test's fake clock drives them without sleeping.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "ingest/fetch_int.h"

struct fetch_host {
    char name[256];             /* "" = free slot */
    unsigned inflight;
    int64_t next_start_mono;    /* min delay: no start before */
    int64_t blocked_until_mono; /* Retry-After: no start before */
    int64_t blocked_until_wall; /* the same, for messages */
    int64_t last_used_mono;
};

cc_err ingest__hosts_init(struct ingest__hosts *h, struct cc_clock *clock, size_t nslots,
                          unsigned per_host, int64_t retry_after_max_ms)
{
    *h = (struct ingest__hosts){.clock = clock, .nslots = nslots,
                                .per_host = per_host ? per_host : 1,
                                .retry_after_max_ms = retry_after_max_ms};
    if (pthread_mutex_init(&h->mu, NULL) != 0)
        return CC_ENOMEM;
    if (cc_clock_cond_init(&h->cv) != 0) {
        pthread_mutex_destroy(&h->mu);
        return CC_ENOMEM;
    }
    h->slots = cc_xcalloc(nslots, sizeof(*h->slots));
    return CC_OK;
}

void ingest__hosts_release(struct ingest__hosts *h)
{
    if (!h->slots)
        return;
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    free(h->slots);
    h->slots = NULL;
}

static bool idle(const struct fetch_host *s, int64_t now)
{
    return s->inflight == 0 && s->blocked_until_mono <= now && s->next_start_mono <= now;
}

/* The slot of host, or a new one (recycling the least recently used idle
 * slot); NULL when every slot is busy. */
static struct fetch_host *find_slot(struct ingest__hosts *h, const char *host, int64_t now)
{
    struct fetch_host *spare = NULL;
    for (size_t i = 0; i < h->nslots; i++) {
        struct fetch_host *s = &h->slots[i];
        if (s->name[0] && strcmp(s->name, host) == 0)
            return s;
        if (!s->name[0]) {
            if (!spare || spare->name[0])
                spare = s;
        } else if (idle(s, now) && (!spare || (spare->name[0] &&
                                               s->last_used_mono < spare->last_used_mono))) {
            spare = s;
        }
    }
    if (spare) {
        *spare = (struct fetch_host){0};
        cc_strlcpy(spare->name, host, sizeof(spare->name));
    }
    return spare;
}

static void format_wall(int64_t wall_ms, char *out, size_t outsz)
{
    cc_time_rfc3339(wall_ms, out, outsz);
}

cc_err ingest__hosts_enter(struct ingest__hosts *h, const char *host, int64_t min_delay_ms,
                           int64_t deadline_mono_ms, char *err, size_t errsz)
{
    cc_err rc = CC_OK;
    char key[256];
    cc_strlcpy(key, host, sizeof(key)); /* a longer name shares its first 255 bytes' slot */
    pthread_mutex_lock(&h->mu);
    for (;;) {
        int64_t now = cc_mono_ms(h->clock);
        struct fetch_host *s = find_slot(h, key, now);
        int64_t until = deadline_mono_ms;
        if (s) {
            if (s->blocked_until_mono > now) {
                if (s->blocked_until_mono - now > h->retry_after_max_ms) {
                    char when[32];
                    format_wall(s->blocked_until_wall, when, sizeof(when));
                    snprintf(err, errsz, "%s asked to be left alone until %s (Retry-After), "
                             "longer than fetch.retry_after_max: retry after then", key, when);
                    rc = CC_EUPSTREAM;
                    break;
                }
                until = s->blocked_until_mono;
            } else if (s->inflight < h->per_host && s->next_start_mono <= now) {
                s->inflight++;
                s->next_start_mono = now + (min_delay_ms > 0 ? min_delay_ms : 0);
                s->last_used_mono = now;
                break;
            } else if (s->inflight < h->per_host) {
                until = s->next_start_mono;
            }
        }
        if (now >= deadline_mono_ms) {
            snprintf(err, errsz, "timed out waiting for a turn to reach %s (%u requests in "
                     "flight at most, fetch.per_host_concurrency)", key, h->per_host);
            rc = CC_EUPSTREAM;
            break;
        }
        cc_wait_until(h->clock, &h->cv, &h->mu, until < deadline_mono_ms ? until
                                                                         : deadline_mono_ms);
    }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

void ingest__hosts_leave(struct ingest__hosts *h, const char *host, int64_t retry_after_ms)
{
    char key[256];
    cc_strlcpy(key, host, sizeof(key));
    pthread_mutex_lock(&h->mu);
    for (size_t i = 0; i < h->nslots; i++) {
        struct fetch_host *s = &h->slots[i];
        if (!s->name[0] || strcmp(s->name, key) != 0)
            continue;
        if (s->inflight)
            s->inflight--;
        int64_t now = cc_mono_ms(h->clock);
        s->last_used_mono = now;
        if (retry_after_ms >= 0 && now + retry_after_ms > s->blocked_until_mono) {
            s->blocked_until_mono = now + retry_after_ms;
            s->blocked_until_wall = cc_wall_ms(h->clock) + retry_after_ms;
        }
        break;
    }
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}
