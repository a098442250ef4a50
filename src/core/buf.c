#include "core/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
    fprintf(stderr, "commandcenter: out of memory allocating %zu bytes\n", n);
    abort();
}

void *cc_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *cc_xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (!p)
        oom(nmemb * size);
    return p;
}

void *cc_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *cc_xstrdup(const char *s)
{
    return cc_xstrndup(s, strlen(s));
}

char *cc_xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = cc_xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

cc_err cc_strlcpy(char *dst, const char *src, size_t size)
{
    if (size == 0)
        return CC_ELIMIT;
    size_t len = strlen(src);
    if (len >= size) {
        memcpy(dst, src, size - 1);
        dst[size - 1] = '\0';
        return CC_ELIMIT;
    }
    memcpy(dst, src, len + 1);
    return CC_OK;
}

void cc_buf_init(struct cc_buf *b, size_t limit)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit;
}

void cc_buf_release(struct cc_buf *b)
{
    if (!b)
        return;
    free(b->ptr);
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
}

void cc_buf_reset(struct cc_buf *b)
{
    b->len = 0;
    if (b->ptr)
        b->ptr[0] = '\0';
}

/* Makes room for `extra` more bytes plus the NUL; CC_ELIMIT past the limit. */
static cc_err grow(struct cc_buf *b, size_t extra)
{
    /* Room for the NUL: a SIZE_MAX limit ("unlimited") would otherwise let
     * len + extra + 1 wrap to a tiny size and the copy run past it. */
    size_t limit = b->limit < SIZE_MAX ? b->limit : SIZE_MAX - 1;
    if (extra > limit || b->len > limit - extra)
        return CC_ELIMIT;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return CC_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    /* Never allocate much beyond what the limit allows. */
    if (cap > limit + 1)
        cap = limit + 1;
    b->ptr = cc_xrealloc(b->ptr, cap);
    b->cap = cap;
    return CC_OK;
}

cc_err cc_buf_add(struct cc_buf *b, const void *data, size_t len)
{
    cc_err err = grow(b, len);
    if (err)
        return err;
    if (len)
        memcpy(b->ptr + b->len, data, len);
    b->len += len;
    b->ptr[b->len] = '\0';
    return CC_OK;
}

cc_err cc_buf_addstr(struct cc_buf *b, const char *s)
{
    return cc_buf_add(b, s, strlen(s));
}

cc_err cc_buf_addch(struct cc_buf *b, char c)
{
    return cc_buf_add(b, &c, 1);
}

cc_err cc_buf_vaddf(struct cc_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return CC_EINVAL;
    cc_err err = grow(b, (size_t)n);
    if (err)
        return err;
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return CC_OK;
}

cc_err cc_buf_addf(struct cc_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cc_err err = cc_buf_vaddf(b, fmt, ap);
    va_end(ap);
    return err;
}

char *cc_buf_take(struct cc_buf *b)
{
    char *p = b->ptr ? b->ptr : cc_xstrdup("");
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}
