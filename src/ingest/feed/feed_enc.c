/*
 * feed_enc.c - which encoding a feed is in, and the document as UTF-8.
 *
 * Order (SPEC 4, feedparser's): a byte-order mark; then the charset of the
 * HTTP Content-Type; then the XML prolog's encoding (UTF-16 without a BOM
 * is recognised by "<?" in 16-bit units); then UTF-8. When the declared
 * encoding is unknown to iconv or the bytes are not valid in it, the
 * document is read as UTF-8 if valid, else windows-1252, else ISO-8859-1
 * (which never fails), and bozo says "document declared as X, but parsed
 * as Y" (feedparser's CharacterEncodingOverride).
 */
#include "ingest/feed/feed_int.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/utf8.h"

/* Prolog bytes looked at for encoding="..." */
#define PROLOG_MAX 512

static void lower_copy(char *dst, size_t dstsz, const char *src, size_t n)
{
    size_t i = 0;
    for (; i < n && i + 1 < dstsz; i++)
        dst[i] = (char)((src[i] >= 'A' && src[i] <= 'Z') ? src[i] + 32 : src[i]);
    dst[i] = '\0';
}

/* The charset parameter of a Content-Type, lower-cased; false if none. */
static bool http_charset(const char *ct, char *out, size_t outsz)
{
    if (!ct)
        return false;
    for (const char *p = ct; (p = strchr(p, ';')); ) {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncasecmp(p, "charset=", 8) != 0)
            continue;
        p += 8;
        char q = (*p == '"' || *p == '\'') ? *p++ : 0;
        size_t n = q ? strcspn(p, q == '"' ? "\"" : "'") : strcspn(p, " \t;");
        if (n == 0)
            return false;
        lower_copy(out, outsz, p, n);
        return true;
    }
    return false;
}

/* encoding="..." in an ASCII-compatible XML prolog. */
static bool prolog_encoding(const uint8_t *d, size_t len, char *out, size_t outsz)
{
    if (len < 5 || memcmp(d, "<?xml", 5) != 0)
        return false;
    size_t n = len < PROLOG_MAX ? len : PROLOG_MAX;
    const uint8_t *end = memchr(d, '>', n);
    if (!end)
        return false;
    for (const uint8_t *p = d + 5; p + 9 < end; p++) {
        if (memcmp(p, "encoding", 8) != 0)
            continue;
        p += 8;
        while (p < end && (*p == ' ' || *p == '='))
            p++;
        if (p >= end || (*p != '"' && *p != '\''))
            return false;
        uint8_t q = *p++;
        const uint8_t *e = memchr(p, q, (size_t)(end - p));
        if (!e || e == p)
            return false;
        lower_copy(out, outsz, (const char *)p, (size_t)(e - p));
        return true;
    }
    return false;
}

/* Converts with iconv; false when the encoding is unknown or a byte
 * sequence is invalid in it. */
static bool convert(const char *from, const uint8_t *data, size_t len, struct cc_buf *b)
{
    iconv_t cd = iconv_open("UTF-8", from);
    if (cd == (iconv_t)-1)
        return false;
    char chunk[8192];
    char *in = (char *)(uintptr_t)data;
    size_t inleft = len;
    bool ok = true;
    while (ok) {
        char *o = chunk;
        size_t oleft = sizeof(chunk);
        size_t r = iconv(cd, inleft ? &in : NULL, &inleft, &o, &oleft);
        if (cc_buf_add(b, chunk, sizeof(chunk) - oleft) != CC_OK)
            ok = false;
        else if (r != (size_t)-1 && inleft == 0)
            break;
        else if (r == (size_t)-1 && errno != E2BIG)
            ok = false;
    }
    iconv_close(cd);
    return ok;
}

static bool is_utf8_name(const char *e)
{
    return strcmp(e, "utf-8") == 0 || strcmp(e, "utf8") == 0;
}

/* The output limit: UTF-8 of a 1-byte encoding is at most 3x (windows-1252's
 * euro sign), of UTF-16 at most 1.5x. */
static size_t out_limit(size_t len)
{
    return len > SIZE_MAX / 4 ? SIZE_MAX / 2 : len * 3 + 16;
}

static cc_err take(struct cc_buf *b, struct feed_utf8 *out, const char *enc)
{
    out->len = b->len;
    out->text = cc_buf_take(b);
    /* A BOM converted along (UTF-16/32 with a mark) is not content. */
    if (out->len >= 3 && memcmp(out->text, "\xEF\xBB\xBF", 3) == 0) {
        memmove(out->text, out->text + 3, out->len - 2);
        out->len -= 3;
    }
    if (out->encoding[0] == '\0')
        lower_copy(out->encoding, sizeof(out->encoding), enc, strlen(enc));
    return CC_OK;
}

cc_err feed__to_utf8(const uint8_t *data, size_t len, const char *http_content_type,
                     struct feed_utf8 *out, struct cc_diag *d)
{
    struct feed_utf8 r = {0};
    struct cc_buf b;
    char declared[32] = "";
    const char *bom = NULL;
    size_t skip = 0;
    cc_buf_init(&b, out_limit(len));
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        bom = "utf-8", skip = 3;
    else if (len >= 4 && memcmp(data, "\xFF\xFE\0\0", 4) == 0)
        bom = "utf-32le";
    else if (len >= 4 && memcmp(data, "\0\0\xFE\xFF", 4) == 0)
        bom = "utf-32be";
    else if (len >= 2 && memcmp(data, "\xFF\xFE", 2) == 0)
        bom = "utf-16le";
    else if (len >= 2 && memcmp(data, "\xFE\xFF", 2) == 0)
        bom = "utf-16be";
    if (bom)
        cc_strlcpy(declared, bom, sizeof(declared));
    else if (len >= 4 && memcmp(data, "<\0?\0", 4) == 0)
        cc_strlcpy(declared, "utf-16le", sizeof(declared));
    else if (len >= 4 && memcmp(data, "\0<\0?", 4) == 0)
        cc_strlcpy(declared, "utf-16be", sizeof(declared));
    else if (!http_charset(http_content_type, declared, sizeof(declared)))
        prolog_encoding(data, len, declared, sizeof(declared));
    /* UTF-16 declared in an 8-bit prolog is a lie the bytes contradict. */
    if (!bom && strncmp(declared, "utf-16", 6) == 0 && len >= 2 && data[0] == '<' && data[1])
        declared[0] = '\0';
    const uint8_t *p = data + skip;
    size_t n = len - skip;
    if (declared[0] == '\0' || is_utf8_name(declared) || strcmp(declared, "us-ascii") == 0) {
        if (cc_utf8_valid((const char *)p, n)) {
            cc_buf_add(&b, p, n);
            cc_err err = take(&b, &r, "utf-8");
            *out = r;
            return err;
        }
    } else if (convert(declared, p, n, &b)) {
        take(&b, &r, declared);
        *out = r;
        return CC_OK;
    }
    cc_buf_reset(&b);
    const char *used = "utf-8";
    if (cc_utf8_valid((const char *)p, n)) {
        cc_buf_add(&b, p, n);
    } else {
        used = "windows-1252";
        if (!convert("WINDOWS-1252", p, n, &b)) {
            cc_buf_reset(&b);
            used = "iso-8859-1";
            if (!convert("ISO-8859-1", p, n, &b)) {
                cc_buf_release(&b);
                cc_diag_set(d, NULL, 0, 0, "cannot convert the feed to UTF-8");
                return CC_EPARSE;
            }
        }
    }
    r.bozo = true;
    snprintf(r.bozo_msg, sizeof(r.bozo_msg), "document declared as %s, but parsed as %s",
             declared[0] ? declared : "utf-8", used);
    take(&b, &r, used);
    *out = r;
    return CC_OK;
}
