#include "core/arena.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

#define ARENA_ALIGN 16

struct cc_arena_block {
    struct cc_arena_block *next;
    size_t size;   /* usable bytes in data[] */
    size_t off;    /* bytes used */
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

void cc_arena_init(struct cc_arena *a, size_t block_size, size_t limit)
{
    a->head = NULL;
    a->block_size = block_size ? block_size : 4096;
    a->used = 0;
    a->limit = limit;
}

void cc_arena_release(struct cc_arena *a)
{
    if (!a)
        return;
    struct cc_arena_block *b = a->head;
    while (b) {
        struct cc_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used = 0;
}

/* Would a block with `size` usable bytes stay within the limit? Written so
 * that no sum can wrap around, whatever size a caller asks for. */
static bool block_fits(const struct cc_arena *a, size_t size)
{
    size_t room = a->limit > a->used ? a->limit - a->used : 0;
    return room >= sizeof(struct cc_arena_block) &&
           size <= room - sizeof(struct cc_arena_block);
}

void *cc_arena_alloc(struct cc_arena *a, size_t n)
{
    if (n > SIZE_MAX - ARENA_ALIGN)
        return NULL;
    size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (need == 0)
        need = ARENA_ALIGN;
    struct cc_arena_block *b = a->head;
    if (!b || b->size - b->off < need) {
        /* Blocks double with use, so a request that allocates a lot makes
         * few malloc calls; a huge object gets a block of its own size. */
        size_t size = b ? (b->size <= SIZE_MAX / 2 ? b->size * 2 : b->size)
                        : a->block_size;
        if (size < need)
            size = need;
        if (!block_fits(a, size)) {
            size = need;
            if (!block_fits(a, size))
                return NULL;
        }
        size_t total = sizeof(*b) + size;
        b = cc_xmalloc(total);
        b->size = size;
        b->off = 0;
        b->next = a->head;
        a->head = b;
        a->used += total;
    }
    void *p = b->data + b->off;
    b->off += need;
    return p;
}

void *cc_arena_calloc(struct cc_arena *a, size_t nmemb, size_t size)
{
    if (size && nmemb > SIZE_MAX / size)
        return NULL;
    void *p = cc_arena_alloc(a, nmemb * size);
    if (p)
        memset(p, 0, nmemb * size);
    return p;
}

char *cc_arena_strndup(struct cc_arena *a, const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = cc_arena_alloc(a, len + 1);
    if (!p)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *cc_arena_strdup(struct cc_arena *a, const char *s)
{
    return cc_arena_strndup(a, s, strlen(s));
}

char *cc_arena_printf(struct cc_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *p = cc_arena_alloc(a, (size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}
