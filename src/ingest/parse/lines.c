/*
 * lines.c - line splitting and code blocks for the line-based parsers
 * (rst.c, asciidoc.c); see parse_int.h.
 */
#include "ingest/parse/parse_int.h"

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
