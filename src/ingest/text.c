/*
 * text.c - the extracted-document model: normalization on the way in, the
 * canonical serialization behind the content hash. See text.h for the
 * invariants; everything here exists to keep them.
 */
#include "ingest/text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/sha256.h"

static const char REPLACEMENT[] = "\xEF\xBF\xBD";   /* U+FFFD */

size_t ingest_utf8_len(const unsigned char *s, size_t len)
{
    if (len == 0)
        return 0;
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;   /* range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;                   /* no overlongs */
        else if (c == 0xED)
            hi = 0x9F;                   /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;                   /* <= U+10FFFF */
    } else {
        return 0;
    }
    if (len < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

size_t ingest_utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

size_t ingest_utf8_offset(const char *s, size_t len, size_t chars)
{
    size_t i = 0;
    while (i < len && chars > 0) {
        i++;
        while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        chars--;
    }
    return i;
}

cc_err ingest_utf8_sanitize(struct cc_buf *out, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0;   /* u[run..i) is valid and not yet copied */
    if (len == 0)
        return CC_OK;
    if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        i = run = 3;
    while (i < len) {
        size_t n = ingest_utf8_len(u + i, len - i);
        if (n > 0 && u[i] != 0) {
            i += n;
            continue;
        }
        cc_err err = cc_buf_add(out, s + run, i - run);
        if (!err && u[i] != 0)
            err = cc_buf_add(out, REPLACEMENT, 3);
        if (err)
            return err;
        run = ++i;
    }
    return cc_buf_add(out, s + run, i - run);
}

/* One unit of input: a valid character, or U+FFFD for an invalid byte. */
struct unit {
    const char *p;
    size_t n;       /* bytes of p */
    size_t used;    /* input bytes consumed */
};

static struct unit next_unit(const char *s, size_t len, size_t i)
{
    size_t n = ingest_utf8_len((const unsigned char *)s + i, len - i);
    if (n == 0)
        return (struct unit){ .p = REPLACEMENT, .n = 3, .used = 1 };
    return (struct unit){ .p = s + i, .n = n, .used = n };
}

/* White space for normalized text: ASCII space and controls, NBSP,
 * U+2028 and U+2029. DEL counts too: it is invisible. */
static bool is_space_unit(struct unit u)
{
    if (u.n == 1)
        return (unsigned char)u.p[0] <= 0x20 || u.p[0] == 0x7F;
    if (u.n == 2)
        return memcmp(u.p, "\xC2\xA0", 2) == 0;
    if (u.n == 3)
        return memcmp(u.p, "\xE2\x80\xA8", 3) == 0 || memcmp(u.p, "\xE2\x80\xA9", 3) == 0;
    return false;
}

/* Invisible characters dropped everywhere: zero-width space, BOM. */
static bool is_dropped_unit(struct unit u)
{
    return u.n == 3 && (memcmp(u.p, "\xE2\x80\x8B", 3) == 0 ||
                        memcmp(u.p, "\xEF\xBB\xBF", 3) == 0);
}

static cc_err normalize_inline(struct cc_buf *out, const char *s, size_t len)
{
    bool space = false;
    for (size_t i = 0; i < len;) {
        struct unit u = next_unit(s, len, i);
        i += u.used;
        if (is_dropped_unit(u))
            continue;
        if (is_space_unit(u)) {
            space = out->len > 0;
            continue;
        }
        if (space) {
            cc_err err = cc_buf_addch(out, ' ');
            if (err)
                return err;
            space = false;
        }
        cc_err err = cc_buf_add(out, u.p, u.n);
        if (err)
            return err;
    }
    return CC_OK;
}

/* Cuts trailing blanks (and, when `newlines`, line ends) off the buffer. */
static void trim_tail(struct cc_buf *b, bool newlines)
{
    while (b->len > 0) {
        char c = b->ptr[b->len - 1];
        if (c != ' ' && c != '\t' && !(newlines && c == '\n'))
            break;
        b->ptr[--b->len] = '\0';
    }
}

static cc_err normalize_code(struct cc_buf *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        struct unit u = next_unit(s, len, i);
        i += u.used;
        if (u.n == 1 && (u.p[0] == '\r' || u.p[0] == '\n')) {
            if (u.p[0] == '\r' && i < len && s[i] == '\n')
                i++;
            trim_tail(out, false);
            if (out->len == 0)
                continue;              /* leading blank lines */
            cc_err err = cc_buf_addch(out, '\n');
            if (err)
                return err;
            continue;
        }
        if (is_dropped_unit(u) ||
            (u.n == 1 && u.p[0] != '\t' && ((unsigned char)u.p[0] < 0x20 || u.p[0] == 0x7F)))
            continue;
        cc_err err = cc_buf_add(out, u.p, u.n);
        if (err)
            return err;
    }
    trim_tail(out, true);
    return CC_OK;
}

void ingest_text_init(struct ingest_text *t, size_t limit)
{
    memset(t, 0, sizeof(*t));
    t->limit = limit ? limit : INGEST_TEXT_DEFAULT_LIMIT;
}

void ingest_text_release(struct ingest_text *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nblocks; i++) {
        free(t->blocks[i].text);
        free(t->blocks[i].lang);
    }
    free(t->blocks);
    free(t->title);
    size_t limit = t->limit;
    memset(t, 0, sizeof(*t));
    t->limit = limit;
}

static size_t budget(const struct ingest_text *t)
{
    return t->bytes < t->limit ? t->limit - t->bytes : 0;
}

/* A language kept only when short and printable; the info string of a
 * fence or a class name is not trusted to be either. */
static char *clean_lang(const char *lang)
{
    if (!lang || !lang[0])
        return NULL;
    size_t n = strnlen(lang, INGEST_LANG_MAX + 1);
    if (n > INGEST_LANG_MAX)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)lang[i] <= 0x20 || (unsigned char)lang[i] >= 0x7F)
            return NULL;
    return cc_xstrndup(lang, n);
}

cc_err ingest_text_add(struct ingest_text *t, enum ingest_block_kind kind, int level,
                       const char *text, size_t len, const char *lang)
{
    struct cc_buf b;
    char *lg = kind == INGEST_CODE ? clean_lang(lang) : NULL;
    size_t lglen = lg ? strlen(lg) : 0;
    cc_err err = CC_OK;
    if (budget(t) < INGEST_BLOCK_OVERHEAD + lglen) {
        err = CC_ELIMIT;
        goto out;
    }
    cc_buf_init(&b, budget(t) - INGEST_BLOCK_OVERHEAD - lglen);
    err = kind == INGEST_CODE ? normalize_code(&b, text, len) : normalize_inline(&b, text, len);
    if (err || b.len == 0) {
        cc_buf_release(&b);
        goto out;
    }
    if (t->nblocks == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->blocks = cc_xrealloc(t->blocks, t->cap * sizeof(*t->blocks));
    }
    if (level < 1)
        level = 1;
    if (level > 6)
        level = 6;
    t->bytes += INGEST_BLOCK_OVERHEAD + lglen + b.len;
    t->blocks[t->nblocks++] = (struct ingest_block){
        .kind = kind,
        .level = kind == INGEST_HEADING ? level : 0,
        .text = cc_buf_take(&b),
        .lang = lg,
    };
    lg = NULL;
out:
    free(lg);
    return err;
}

cc_err ingest_text_set_title(struct ingest_text *t, const char *s, size_t len)
{
    size_t old = t->title ? strlen(t->title) : 0;
    struct cc_buf b;
    cc_buf_init(&b, budget(t) + old);
    /* Normalize a bounded prefix: 4 bytes per character is the most a
     * title can need, and the cut below is by characters anyway. */
    size_t cap = (size_t)INGEST_TITLE_MAX_CHARS * 4 + 8;
    if (cap < len)
        while (cap > 0 && ((unsigned char)s[cap] & 0xC0) == 0x80)
            cap--;                          /* not inside a sequence */
    cc_err err = normalize_inline(&b, s, len < cap ? len : cap);
    if (err)
        goto out;
    size_t cut = ingest_utf8_offset(b.ptr ? b.ptr : "", b.len, INGEST_TITLE_MAX_CHARS);
    if (cut < b.len) {
        b.ptr[cut] = '\0';
        b.len = cut;
        trim_tail(&b, false);
    }
    free(t->title);
    t->title = NULL;
    t->bytes -= old;
    if (b.len > 0) {
        t->bytes += b.len;
        t->title = cc_buf_take(&b);
    }
out:
    cc_buf_release(&b);
    return err;
}

static void hash_field(struct cc_sha256 *h, const char *tag, const char *s)
{
    char head[64];
    size_t n = strlen(s);
    int k = snprintf(head, sizeof(head), "%s %zu\n", tag, n);
    cc_sha256_update(h, head, (size_t)k);
    cc_sha256_update(h, s, n);
    cc_sha256_update(h, "\n", 1);
}

void ingest_text_hash(const struct ingest_text *t, char out[65])
{
    struct cc_sha256 h;
    uint8_t digest[CC_SHA256_DIGEST_LEN];
    cc_sha256_init(&h);
    cc_sha256_update(&h, "cc-ingest-text/1\n", 17);
    hash_field(&h, "T", t->title ? t->title : "");
    for (size_t i = 0; i < t->nblocks; i++) {
        const struct ingest_block *b = &t->blocks[i];
        char tag[64];
        switch (b->kind) {
        case INGEST_HEADING:
            snprintf(tag, sizeof(tag), "H%d", b->level);
            break;
        case INGEST_CODE:
            snprintf(tag, sizeof(tag), "C %s", b->lang ? b->lang : "");
            break;
        case INGEST_LIST_ITEM:
            snprintf(tag, sizeof(tag), "L");
            break;
        default:
            snprintf(tag, sizeof(tag), "P");
            break;
        }
        hash_field(&h, tag, b->text);
    }
    cc_sha256_final(&h, digest);
    cc_hex_encode(digest, sizeof(digest), out);
}
