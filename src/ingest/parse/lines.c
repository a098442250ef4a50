/*
 * lines.c - line splitting and code blocks for the line-based parsers
 * (rst.c, asciidoc.c); see parse_int.h.
 */
#include "ingest/parse/parse.h"
#include "ingest/parse/parse_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

struct ingest__line *ingest__lines(const char *s, size_t len, size_t *n)
{
    size_t count = 1;
    for (size_t i = 0; i < len; i++)
        count += s[i] == '\n';
    struct ingest__line *l = cc_xcalloc(count, sizeof(*l));
    size_t k = 0;
    for (size_t i = 0; i <= len && k < count;) {
        size_t e = i;
        while (e < len && s[e] != '\n')
            e++;
        size_t end = e > i && s[e - 1] == '\r' ? e - 1 : e;
        size_t col = 0, j = i;
        for (; j < end && (s[j] == ' ' || s[j] == '\t'); j++)
            col = s[j] == '\t' ? (col / 8 + 1) * 8 : col + 1;
        bool blank = true;
        for (size_t b = j; b < end && blank; b++)
            blank = s[b] == ' ' || s[b] == '\t' || s[b] == '\v' || s[b] == '\f' || s[b] == '\r';
        l[k++] = (struct ingest__line){.s = s + i, .n = end - i, .indent = col, .blank = blank};
        if (e >= len)
            break;
        i = e + 1;
    }
    *n = k;
    return l;
}

cc_err ingest__code_lines(struct ingest_text *t, const struct ingest__line *l, size_t from,
                          size_t to, size_t indent, const char *lang)
{
    struct cc_buf b;
    cc_buf_init(&b, t->limit);
    cc_err err = CC_OK;
    for (size_t i = from; i < to && !err; i++) {
        size_t col = 0, j = 0;
        while (j < l[i].n && col < indent && (l[i].s[j] == ' ' || l[i].s[j] == '\t')) {
            col = l[i].s[j] == '\t' ? (col / 8 + 1) * 8 : col + 1;
            j++;
        }
        err = cc_buf_add(&b, l[i].s + j, l[i].n - j);
        if (!err)
            err = cc_buf_addch(&b, '\n');
    }
    if (!err && b.len)
        err = ingest_text_add(t, INGEST_CODE, 0, cc_buf_str(&b), b.len, lang);
    cc_buf_release(&b);
    return err;
}

size_t ingest__lead(const struct ingest__line *l)
{
    size_t k = 0;
    while (k < l->n && (l->s[k] == ' ' || l->s[k] == '\t'))
        k++;
    return k;
}

size_t ingest__trimmed_len(const struct ingest__line *l)
{
    size_t n = l->n;
    while (n > 0 && (l->s[n - 1] == ' ' || l->s[n - 1] == '\t'))
        n--;
    return n;
}

bool ingest__word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (unsigned char)c >= 0x80;
}

cc_err ingest__parse_lines(const char *src, size_t len, struct ingest_text *out,
                           struct cc_diag *d, ingest__lines_fn parse, void *arg)
{
    struct ingest_text t;
    struct cc_buf clean;
    ingest_text_init(&t, out->limit);
    cc_buf_init(&clean, t.limit);
    cc_err err = CC_ELIMIT;
    if (len > INGEST_PARSE_MAX_INPUT)
        goto out;
    err = ingest_utf8_sanitize(&clean, src, len);
    if (err)
        goto out;
    size_t n = 0;
    struct ingest__line *lines = ingest__lines(cc_buf_str(&clean), clean.len, &n);
    err = parse(arg, &t, lines, n);
    free(lines);
    if (!err)
        ingest__text_move(out, &t);
out:
    if (err == CC_ELIMIT)
        cc_diag_set(d, NULL, 0, 0, "text is over the %zu-byte limit", t.limit);
    cc_buf_release(&clean);
    ingest_text_release(&t);
    return err;
}
