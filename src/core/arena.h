/*
 * arena.h - a bump allocator for memory that lives as long as one request or
 * one job (h2o's req->pool). Everything allocated from an arena is freed at
 * once by cc_arena_release(); there is no per-object free.
 *
 * The arena grows in blocks (first block `block_size`, later blocks large
 * enough for the request) up to `limit` bytes in total; past that
 * cc_arena_alloc returns NULL, which callers map to CC_ELIMIT. This is what
 * bounds the memory a single hostile request can make the daemon use.
 * Not thread-safe: an arena belongs to one request at a time.
 */
#ifndef CC_CORE_ARENA_H
#define CC_CORE_ARENA_H

#include <stddef.h>

struct cc_arena_block;

struct cc_arena {
    struct cc_arena_block *head;  /* newest block first */
    size_t block_size;            /* size of the first block */
    size_t used;                  /* bytes handed out plus block overhead */
    size_t limit;                 /* maximum bytes the arena may hold */
};

void cc_arena_init(struct cc_arena *a, size_t block_size, size_t limit);
/* Frees every block; the arena may be reused after this. NULL-safe. */
void cc_arena_release(struct cc_arena *a);

/* 16-byte aligned memory, or NULL when the arena's limit would be exceeded. */
void *cc_arena_alloc(struct cc_arena *a, size_t n);
void *cc_arena_calloc(struct cc_arena *a, size_t nmemb, size_t size);
char *cc_arena_strdup(struct cc_arena *a, const char *s);
char *cc_arena_strndup(struct cc_arena *a, const char *s, size_t n);
char *cc_arena_printf(struct cc_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
