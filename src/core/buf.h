/*
 * buf.h - a growable byte buffer with a hard size limit (curl's dynbuf).
 *
 * Invariants: b->len < b->cap whenever b->ptr != NULL, and b->ptr[b->len] is
 * always '\0', so the contents can be used as a C string. The buffer never
 * grows past b->limit bytes of content: an append that would is refused with
 * CC_ELIMIT and leaves the buffer unchanged. Allocation failure aborts
 * (cc_xrealloc), as small-object allocation does everywhere in the project.
 */
#ifndef CC_CORE_BUF_H
#define CC_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "core/err.h"

struct cc_buf {
    char *ptr;     /* NULL until the first append */
    size_t len;    /* bytes of content, excluding the terminating NUL */
    size_t cap;    /* bytes allocated */
    size_t limit;  /* maximum len; a cc_buf never holds more */
};

/* Caller-owned storage; no allocation until the first append. */
void cc_buf_init(struct cc_buf *b, size_t limit);
/* Frees the storage; the buffer can be reused after cc_buf_init. NULL-safe. */
void cc_buf_release(struct cc_buf *b);
/* Empties the buffer, keeping its allocation. */
void cc_buf_reset(struct cc_buf *b);

cc_err cc_buf_add(struct cc_buf *b, const void *data, size_t len);
cc_err cc_buf_addstr(struct cc_buf *b, const char *s);
cc_err cc_buf_addch(struct cc_buf *b, char c);
cc_err cc_buf_addf(struct cc_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
cc_err cc_buf_vaddf(struct cc_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Hands the contents to the caller (free() it) and resets the buffer.
 * Returns an empty heap string if nothing was appended. */
char *cc_buf_take(struct cc_buf *b);

/* Always returns a valid C string ("" for an empty buffer). */
static inline const char *cc_buf_str(const struct cc_buf *b)
{
    return b->ptr ? b->ptr : "";
}

/* Allocation helpers: abort with a message on failure (never return NULL). */
void *cc_xmalloc(size_t n);
void *cc_xcalloc(size_t nmemb, size_t size);
void *cc_xrealloc(void *p, size_t n);
char *cc_xstrdup(const char *s);
char *cc_xstrndup(const char *s, size_t n);

/* Bounded, always-terminated copy; returns CC_ELIMIT if truncated. */
cc_err cc_strlcpy(char *dst, const char *src, size_t size);

/* The value of one hex digit (either case), or -1. */
static inline int cc_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
