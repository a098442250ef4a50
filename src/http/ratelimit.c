/*
 * ratelimit.c - striped token buckets with LRU recycling.
 *
 * Layout: up to STRIPES stripes, each a fixed array of buckets allocated
 * up front (max_keys split exactly across stripes), a chained hash index
 * over it and an LRU list, all linked by uint32 indices, under one mutex.
 * A key's stripe and chain both come from one 64-bit hash seeded per
 * limiter from the kernel, so keys chosen by clients cannot be aimed at
 * one chain across daemons. Nothing allocates after http_ratelimit_new
 * except the copy of a new key.
 */
#include "http/ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/buf.h"

#define STRIPES 16
#define NIL UINT32_MAX
/* Per stripe; keeps indices in uint32 and the table allocation sane. */
#define MAX_PER_STRIPE (1u << 24)

struct bucket {
    char *key;                  /* owned; NULL while unused */
    uint64_t hash;
    double tokens;
    int64_t last_ms;
    uint32_t chain;             /* next in the hash chain */
    uint32_t prev, next;        /* LRU list: prev is more recent */
};

struct stripe {
    pthread_mutex_t mu;
    struct bucket *b;
    uint32_t cap, used;
    uint32_t *heads;            /* chain heads, mask + 1 of them */
    uint32_t mask;
    uint32_t mru, lru;
};

struct http_ratelimit {
    bool disabled;
    double rps;
    double burst;
    uint64_t seed;
    unsigned nstripes;
    struct stripe stripes[STRIPES];
};

static uint64_t hash_key(uint64_t seed, const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull ^ seed;  /* FNV-1a, then a splitmix64 finish */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}

static uint32_t pow2_at_least(uint32_t n)
{
    uint32_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

static void stripe_init(struct stripe *s, uint32_t cap)
{
    pthread_mutex_init(&s->mu, NULL);
    s->cap = cap;
    s->used = 0;
    s->b = cc_xcalloc(cap, sizeof(*s->b));
    uint32_t nheads = pow2_at_least(cap);
    s->heads = cc_xmalloc((size_t)nheads * sizeof(*s->heads));
    for (uint32_t i = 0; i < nheads; i++)
        s->heads[i] = NIL;
    s->mask = nheads - 1;
    s->mru = s->lru = NIL;
}

cc_err http_ratelimit_new(double rps, unsigned burst, unsigned max_keys,
                          struct http_ratelimit **out)
{
    struct http_ratelimit *rl = cc_xcalloc(1, sizeof(*rl));
    /* !(rps > 0) also catches NaN. */
    if (!(rps > 0)) {
        rl->disabled = true;
        *out = rl;
        return CC_OK;
    }
    if (burst == 0 || max_keys == 0 || !isfinite(rps) ||
        max_keys / STRIPES >= MAX_PER_STRIPE) {
        free(rl);
        return CC_EINVAL;
    }
    rl->rps = rps;
    rl->burst = burst;
    /* The seed only spreads keys; a failed getrandom leaves a fixed seed. */
    if (getrandom(&rl->seed, sizeof(rl->seed), GRND_NONBLOCK) != (ssize_t)sizeof(rl->seed))
        rl->seed = 0x9e3779b97f4a7c15ull;
    rl->nstripes = max_keys < STRIPES ? max_keys : STRIPES;
    for (unsigned i = 0; i < rl->nstripes; i++) {
        uint32_t cap = max_keys / rl->nstripes + (i < max_keys % rl->nstripes);
        stripe_init(&rl->stripes[i], cap);
    }
    *out = rl;
    return CC_OK;
}

void http_ratelimit_free(struct http_ratelimit *rl)
{
    if (!rl)
        return;
    for (unsigned i = 0; i < rl->nstripes; i++) {
        struct stripe *s = &rl->stripes[i];
        for (uint32_t j = 0; j < s->used; j++)
            free(s->b[j].key);
        free(s->b);
        free(s->heads);
        pthread_mutex_destroy(&s->mu);
    }
    free(rl);
}

static void lru_unlink(struct stripe *s, uint32_t i)
{
    struct bucket *b = &s->b[i];
    if (b->prev != NIL)
        s->b[b->prev].next = b->next;
    else
        s->mru = b->next;
    if (b->next != NIL)
        s->b[b->next].prev = b->prev;
    else
        s->lru = b->prev;
}

static void lru_push_front(struct stripe *s, uint32_t i)
{
    struct bucket *b = &s->b[i];
    b->prev = NIL;
    b->next = s->mru;
    if (s->mru != NIL)
        s->b[s->mru].prev = i;
    s->mru = i;
    if (s->lru == NIL)
        s->lru = i;
}

static void chain_remove(struct stripe *s, uint32_t i)
{
    uint32_t *link = &s->heads[s->b[i].hash & s->mask];
    while (*link != i)
        link = &s->b[*link].chain;
    *link = s->b[i].chain;
}

static uint32_t lookup(const struct stripe *s, uint64_t h, const char *key)
{
    for (uint32_t i = s->heads[h & s->mask]; i != NIL; i = s->b[i].chain)
        if (s->b[i].hash == h && strcmp(s->b[i].key, key) == 0)
            return i;
    return NIL;
}

/* A bucket for a key not in the stripe: a fresh one while there is room,
 * else the least recently used one, recycled. Starts full. */
static uint32_t insert(struct stripe *s, uint64_t h, const char *key, double burst,
                       int64_t now_ms)
{
    uint32_t i;
    if (s->used < s->cap) {
        i = s->used++;
    } else {
        i = s->lru;
        lru_unlink(s, i);
        chain_remove(s, i);
        free(s->b[i].key);
    }
    struct bucket *b = &s->b[i];
    b->key = cc_xstrdup(key);
    b->hash = h;
    b->tokens = burst;
    b->last_ms = now_ms;
    b->chain = s->heads[h & s->mask];
    s->heads[h & s->mask] = i;
    lru_push_front(s, i);
    return i;
}

/* Refills b up to now_ms; true when it holds a whole token. Otherwise
 * *retry_after_ms (if given) gets when it will. */
static bool refill(const struct http_ratelimit *rl, struct bucket *b, int64_t now_ms,
                   int64_t *retry_after_ms)
{
    if (now_ms > b->last_ms) {    /* a clock going back refills nothing */
        b->tokens += (double)(now_ms - b->last_ms) * rl->rps / 1000.0;
        if (b->tokens > rl->burst)
            b->tokens = rl->burst;
        b->last_ms = now_ms;
    }
    if (b->tokens >= 1.0)
        return true;
    if (retry_after_ms) {
        /* The epsilon absorbs rounding in the refill sum (0.99 tokens at
         * 10/s is 1 ms away, not 1.0000000000000009 -> 2). */
        double ms = ceil((1.0 - b->tokens) * 1000.0 / rl->rps - 1e-6);
        *retry_after_ms = ms < 1.0 ? 1 : ms > (double)INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)ms;
    }
    return false;
}

static struct stripe *stripe_of(struct http_ratelimit *rl, const char *key, uint64_t *h)
{
    *h = hash_key(rl->seed, key);
    return &rl->stripes[(*h >> 32) % rl->nstripes];
}

bool http_ratelimit_take(struct http_ratelimit *rl, const char *key, int64_t now_ms,
                         int64_t *retry_after_ms)
{
    if (rl->disabled)
        return true;
    if (!key)
        key = "";
    uint64_t h;
    struct stripe *s = stripe_of(rl, key, &h);
    pthread_mutex_lock(&s->mu);
    uint32_t i = lookup(s, h, key);
    if (i == NIL) {
        i = insert(s, h, key, rl->burst, now_ms);
    } else {
        lru_unlink(s, i);
        lru_push_front(s, i);
    }
    struct bucket *b = &s->b[i];
    bool ok = refill(rl, b, now_ms, retry_after_ms);
    if (ok)
        b->tokens -= 1.0;
    pthread_mutex_unlock(&s->mu);
    return ok;
}

bool http_ratelimit_peek(struct http_ratelimit *rl, const char *key, int64_t now_ms,
                         int64_t *retry_after_ms)
{
    if (rl->disabled)
        return true;
    if (!key)
        key = "";
    uint64_t h;
    struct stripe *s = stripe_of(rl, key, &h);
    pthread_mutex_lock(&s->mu);
    uint32_t i = lookup(s, h, key);
    bool ok = i == NIL || refill(rl, &s->b[i], now_ms, retry_after_ms);
    pthread_mutex_unlock(&s->mu);
    return ok;
}
