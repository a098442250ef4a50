/*
 * plain.c - plain text: paragraphs are separated by blank lines (lines of
 * only white space) or form feeds; the title is the first non-empty line,
 * trimmed and cut to INGEST_TITLE_MAX_CHARS characters. Line breaks inside
 * a paragraph become spaces (ingest_text's normalization).
 *
 * Input is sanitized to UTF-8 first, so the splitting below only ever sees
 * clean text. Memory: one sanitized copy of the input, bounded by the text's
 * limit.
 */
#include "ingest/parse/parse.h"
#include "ingest/parse/parse_int.h"

#include <stdbool.h>
#include <string.h>

#include "core/buf.h"

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\v')
            return false;
    return true;
}

static cc_err set_title_from_first_line(struct ingest_text *t, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && s[e] != '\n' && s[e] != '\f')
            e++;
        if (!blank(s + i, e - i))
            return ingest_text_set_title(t, s + i, e - i);
        i = e + 1;
    }
    return CC_OK;
}

cc_err ingest__paragraphs(struct ingest_text *t, const char *s, size_t len, bool title)
{
    cc_err err = title ? set_title_from_first_line(t, s, len) : CC_OK;
    size_t start = 0, i = 0;   /* the paragraph is s[start..i) */
    while (!err && i < len) {
        size_t e = i;
        while (e < len && s[e] != '\n' && s[e] != '\f')
            e++;
        bool brk = blank(s + i, e - i) || (e < len && s[e] == '\f');
        if (brk) {
            /* A form feed ends the paragraph after its line's text. */
            size_t end = blank(s + i, e - i) ? i : e;
            err = ingest_text_add(t, INGEST_PARA, 0, s + start, end - start, NULL);
            start = e + 1;
        }
        i = e + 1;
    }
    if (!err && start < len)
        err = ingest_text_add(t, INGEST_PARA, 0, s + start, len - start, NULL);
    return err;
}

cc_err ingest_plain_parse(const char *src, size_t len, struct ingest_text *out,
                          struct cc_diag *d)
{
    struct ingest_text t;
    struct cc_buf clean;
    ingest_text_init(&t, out->limit);
    cc_buf_init(&clean, t.limit);
    cc_err err = CC_ELIMIT;
    if (len > INGEST_PARSE_MAX_INPUT)
        goto out;
    err = ingest_utf8_sanitize(&clean, src, len);
    if (!err)
        err = ingest__paragraphs(&t, cc_buf_str(&clean), clean.len, true);
    if (!err)
        ingest__text_move(out, &t);
out:
    if (err == CC_ELIMIT)
        cc_diag_set(d, NULL, 0, 0, "text is over the %zu-byte limit", t.limit);
    cc_buf_release(&clean);
    ingest_text_release(&t);
    return err;
}
