/*
 * asciidoc.c - AsciiDoc to ingest_text, line by line (no Asciidoctor).
 *
 * Blocks, as parse.h lists them: "= Title" is the document title and a
 * level-1 heading, "==" .. "======" (and "#"-style) section titles are
 * headings of their depth. Listing ("----"), literal ("....") and fenced
 * ("```lang") blocks are code, with the language of a "[source,lang]"
 * line before them; an indented paragraph is literal code too. Example,
 * sidebar, quote and open blocks ("====", "****", "____", "--") are their
 * content; passthrough blocks ("++++") and comment blocks ("////") go, as
 * do line comments, attribute entries (":name: value"), block attribute
 * and anchor lines ("[...]"), block macros (image::, include::, toc::),
 * page breaks and thematic breaks. Block titles (".Title") are paragraphs.
 * List items ("*", "-", ".", "1.", "<1>") are list items; description
 * list entries ("term:: text") read "term: text". Table rows ("|===")
 * read as text with the cell separators gone.
 *
 * Inline: constrained and unconstrained *strong*, _emphasis_ and `mono`
 * lose their markers; macros (link:url[text], https://url[text],
 * xref:doc.adoc[text], kbd:[keys], footnote:[text]) become their text, or
 * their target when the text is empty; cross references "<<id,text>>"
 * their text; "{name}" attribute references the value of an attribute
 * entry seen before, else stay as written.
 *
 * Limits: the input is sanitized to UTF-8 first; each line is read once;
 * buffers are bounded by the text limit; at most MAX_ATTRS attributes.
 */
#define _GNU_SOURCE   /* memmem */
#include "ingest/parse/parse.h"
#include "ingest/parse/parse_int.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

#define MAX_ATTRS 64
#define ATTR_NAME_MAX 48
#define ATTR_VALUE_MAX 256

struct adoc {
    struct ingest_text *t;
    const struct ingest__line *l;
    size_t n;
    struct cc_buf para;
    struct cc_buf plain;
    enum ingest_block_kind para_kind;
    char lang[INGEST_LANG_MAX + 1];   /* from [source,lang], for the next block */
    struct {
        char name[ATTR_NAME_MAX];
        char value[ATTR_VALUE_MAX];
    } attrs[MAX_ATTRS];
    size_t nattrs;
};

/* A delimiter line: `c` repeated at least `min` times and nothing else. */
static bool delim(const struct ingest__line *l, char c, size_t min)
{
    size_t n = ingest__trimmed_len(l);
    if (l->indent || n < min)
        return false;
    for (size_t i = 0; i < n; i++)
        if (l->s[i] != c)
            return false;
    return true;
}

static const char *attr_value(const struct adoc *a, const char *name, size_t n)
{
    for (size_t i = 0; i < a->nattrs; i++)
        if (strlen(a->attrs[i].name) == n && memcmp(a->attrs[i].name, name, n) == 0)
            return a->attrs[i].value;
    return NULL;
}

/* ":name: value" (also ":name!:" and ":!name:"), remembered for {name}. */
static bool attribute_entry(struct adoc *a, const struct ingest__line *l)
{
    size_t n = ingest__trimmed_len(l);
    if (l->indent || n < 3 || l->s[0] != ':')
        return false;
    const char *close = memchr(l->s + 1, ':', n - 1);
    if (!close || close == l->s + 1)
        return false;
    size_t nn = (size_t)(close - l->s) - 1;
    for (size_t i = 1; i <= nn; i++)
        if (!ingest__word_char(l->s[i]) && l->s[i] != '-' && l->s[i] != '_' && l->s[i] != '!')
            return false;
    if (close + 1 < l->s + n && close[1] != ' ')
        return false;
    const char *v = close + 1;
    while (v < l->s + n && *v == ' ')
        v++;
    size_t vn = (size_t)(l->s + n - v);
    if (a->nattrs < MAX_ATTRS && nn < ATTR_NAME_MAX && vn < ATTR_VALUE_MAX &&
        l->s[1] != '!' && l->s[nn] != '!') {
        memcpy(a->attrs[a->nattrs].name, l->s + 1, nn);
        a->attrs[a->nattrs].name[nn] = '\0';
        memcpy(a->attrs[a->nattrs].value, v, vn);
        a->attrs[a->nattrs].value[vn] = '\0';
        a->nattrs++;
    }
    return true;
}

/* name:target[text] at s[i..n): writes text (or target) and returns the
 * index after it, or 0 when s[i] does not start a macro. */
static size_t macro(struct cc_buf *b, const char *s, size_t i, size_t n, cc_err *err)
{
    size_t k = i;
    while (k < n && (ingest__word_char(s[k]) || s[k] == '-'))
        k++;
    if (k == i || k >= n || s[k] != ':')
        return 0;
    size_t t0 = k + 1, t = t0;
    while (t < n && s[t] != '[' && s[t] != ' ' && s[t] != '\t')
        t++;
    if (t >= n || s[t] != '[')
        return 0;
    const char *close = memchr(s + t + 1, ']', n - t - 1);
    if (!close)
        return 0;
    size_t tn = (size_t)(close - s) - t - 1;
    bool url = k + 2 < n && s[k + 1] == '/' && s[k + 2] == '/';
    if (tn > 0)
        *err = cc_buf_add(b, s + t + 1, tn);
    else if (url)
        *err = cc_buf_add(b, s + i, t - i);      /* the whole address */
    else
        *err = cc_buf_add(b, s + t0, t - t0);
    return (size_t)(close - s) + 1;
}

static cc_err strip_inline(const struct adoc *a, struct cc_buf *b, const char *s, size_t n)
{
    cc_err err = CC_OK;
    for (size_t i = 0; i < n && !err;) {
        char c = s[i];
        bool open = i == 0 || !ingest__word_char(s[i - 1]);
        size_t next;
        if (c == '\\' && i + 1 < n) {
            err = cc_buf_addch(b, s[i + 1]);
            i += 2;
        } else if (open && ingest__word_char(c) && (next = macro(b, s, i, n, &err)) != 0) {
            i = next;
        } else if (c == '<' && i + 1 < n && s[i + 1] == '<') {
            const char *end = memmem(s + i + 2, n - i - 2, ">>", 2);
            if (!end) {
                err = cc_buf_add(b, s + i, 2);
                i += 2;
                continue;
            }
            const char *in = s + i + 2;
            size_t len = (size_t)(end - in);
            const char *comma = memchr(in, ',', len);
            if (comma)
                err = cc_buf_add(b, comma + 1, len - (size_t)(comma + 1 - in));
            else
                err = cc_buf_add(b, in, len);
            i = (size_t)(end - s) + 2;
        } else if (c == '{') {
            const char *end = memchr(s + i + 1, '}', n - i - 1);
            const char *v = end ? attr_value(a, s + i + 1, (size_t)(end - s) - i - 1) : NULL;
            if (v) {
                err = cc_buf_addstr(b, v);
                i = (size_t)(end - s) + 1;
            } else {
                err = cc_buf_addch(b, c);
                i++;
            }
        } else if ((c == '*' || c == '_' || c == '`') &&
                   ((open && i + 1 < n && s[i + 1] != ' ') ||
                    (i > 0 && s[i - 1] != ' ' && (i + 1 == n || !ingest__word_char(s[i + 1]))))) {
            i++;   /* a formatting mark opening or closing at a word boundary */
        } else {
            err = cc_buf_addch(b, c);
            i++;
        }
    }
    return err;
}

static cc_err add_inline(struct adoc *a, enum ingest_block_kind kind, int level, const char *s,
                         size_t n)
{
    cc_buf_reset(&a->plain);
    cc_err err = strip_inline(a, &a->plain, s, n);
    if (!err && a->plain.len)
        err = ingest_text_add(a->t, kind, level, cc_buf_str(&a->plain), a->plain.len, NULL);
    return err;
}

static cc_err flush(struct adoc *a)
{
    cc_err err = a->para.len ? add_inline(a, a->para_kind, 0, cc_buf_str(&a->para), a->para.len)
                             : CC_OK;
    cc_buf_reset(&a->para);
    a->para_kind = INGEST_PARA;
    return err;
}

static cc_err para_line(struct adoc *a, const char *s, size_t n)
{
    cc_err err = a->para.len ? cc_buf_addch(&a->para, '\n') : CC_OK;
    return err ? err : cc_buf_add(&a->para, s, n);
}

/* Lines up to the closing delimiter equal to line `open`; returns the
 * index of that delimiter (or n). */
static size_t block_close(const struct adoc *a, size_t open)
{
    const struct ingest__line *o = &a->l[open];
    size_t on = ingest__trimmed_len(o);
    for (size_t i = open + 1; i < a->n; i++)
        if (ingest__trimmed_len(&a->l[i]) == on && a->l[i].indent == 0 &&
            memcmp(a->l[i].s, o->s, on) == 0)
            return i;
    return a->n;
}

/* "[source,python]" / "[,python]" / "[source, python, linenums]". */
static void remember_lang(struct adoc *a, const char *s, size_t n)
{
    const char *in = s + 1;
    size_t len = n - 2;
    const char *comma = memchr(in, ',', len);
    a->lang[0] = '\0';
    if (!comma || (comma != in && !(comma - in == 6 && memcmp(in, "source", 6) == 0)))
        return;
    const char *l = comma + 1;
    while (l < in + len && *l == ' ')
        l++;
    size_t ln = 0;
    while (l + ln < in + len && l[ln] != ',' && l[ln] != ' ')
        ln++;
    if (ln > 0 && ln <= INGEST_LANG_MAX) {
        memcpy(a->lang, l, ln);
        a->lang[ln] = '\0';
    }
}

/* A list marker at s[0..n): "* ", "** ", "- ", ". ", "1. ", "a. ", "<1> ". */
static size_t list_marker(const char *s, size_t n)
{
    size_t k = 0;
    if (n >= 2 && (s[0] == '*' || s[0] == '.' || s[0] == '-')) {
        while (k < n && k < 6 && s[k] == s[0])
            k++;
        return k < n && s[k] == ' ' && (s[0] != '-' || k == 1) ? k + 1 : 0;
    }
    if (n >= 3 && s[0] == '<') {
        k = 1;
        while (k < n && s[k] >= '0' && s[k] <= '9')
            k++;
        return k > 1 && k + 1 < n && s[k] == '>' && s[k + 1] == ' ' ? k + 2 : 0;
    }
    while (k < n && k < 9 && s[k] >= '0' && s[k] <= '9')
        k++;
    if (k == 0 && n > 0 && s[0] >= 'a' && s[0] <= 'z')
        k = 1;
    return k > 0 && k + 1 < n && s[k] == '.' && s[k + 1] == ' ' ? k + 2 : 0;
}

static bool heading(const struct ingest__line *l, int *level, size_t *skip)
{
    size_t n = ingest__trimmed_len(l), k = 0;
    if (l->indent || n < 2 || (l->s[0] != '=' && l->s[0] != '#'))
        return false;
    while (k < n && l->s[k] == l->s[0])
        k++;
    if (k > 6 || k >= n || l->s[k] != ' ')
        return false;
    *level = (int)k;
    *skip = k + 1;
    return true;
}

/* One line outside any delimited code block; returns the next line. */
static size_t line(struct adoc *a, size_t i, cc_err *err)
{
    const struct ingest__line *l = &a->l[i];
    size_t n = ingest__trimmed_len(l), b = ingest__lead(l), skip;
    int level;
    if (l->blank || (n == 1 && l->s[0] == '+')) {      /* "+" continues a list item */
        if (l->blank)
            *err = flush(a);
        return i + 1;
    }
    if (delim(l, '/', 4)) {
        *err = flush(a);
        size_t e = block_close(a, i);
        return e < a->n ? e + 1 : a->n;
    }
    if (delim(l, '-', 4) || delim(l, '.', 4) || (l->indent == 0 && n >= 3 &&
                                                  memcmp(l->s, "```", 3) == 0)) {
        *err = flush(a);
        const char *lang = a->lang[0] ? a->lang : NULL;
        char fence[INGEST_LANG_MAX + 1] = "";
        size_t e;
        if (l->s[0] == '`') {
            size_t fl = n - 3;
            if (fl > 0 && fl <= INGEST_LANG_MAX) {
                memcpy(fence, l->s + 3, fl);
                fence[fl] = '\0';
                lang = fence;
            }
            e = i + 1;
            while (e < a->n && !(ingest__trimmed_len(&a->l[e]) == 3 && a->l[e].indent == 0 &&
                                 memcmp(a->l[e].s, "```", 3) == 0))
                e++;
        } else {
            e = block_close(a, i);
        }
        if (!*err)
            *err = ingest__code_lines(a->t, a->l, i + 1, e, 0, lang);
        a->lang[0] = '\0';
        return e < a->n ? e + 1 : a->n;
    }
    if (delim(l, '+', 4)) {                         /* passthrough: raw output, dropped */
        *err = flush(a);
        size_t e = block_close(a, i);
        return e < a->n ? e + 1 : a->n;
    }
    if (delim(l, '=', 4) || delim(l, '*', 4) || delim(l, '_', 4) || delim(l, '-', 2) ||
        (n >= 2 && l->indent == 0 && (memcmp(l->s, "|=", 2) == 0 || memcmp(l->s, ",=", 2) == 0)) ||
        (n == 3 && (memcmp(l->s, "'''", 3) == 0 || memcmp(l->s, "<<<", 3) == 0))) {
        *err = flush(a);                            /* the content is read as usual */
        return i + 1;
    }
    if (l->indent == 0 && n >= 2 && l->s[0] == '/' && l->s[1] == '/')
        return i + 1;                               /* a comment */
    if (a->para.len == 0 && heading(l, &level, &skip)) {
        *err = add_inline(a, INGEST_HEADING, level, l->s + skip, n - skip);
        if (!*err && level == 1 && !a->t->title && a->t->nblocks)
            *err = ingest_text_set_title(a->t, a->t->blocks[a->t->nblocks - 1].text,
                                         strlen(a->t->blocks[a->t->nblocks - 1].text));
        return i + 1;
    }
    if (attribute_entry(a, l))
        return i + 1;
    if (l->indent == 0 && n >= 2 && l->s[0] == '[' && l->s[n - 1] == ']') {
        *err = flush(a);
        remember_lang(a, l->s, n);
        return i + 1;
    }
    if (l->indent == 0 && n >= 3 && memmem(l->s, n, "::", 2) && l->s[n - 1] == ']' &&
        memchr(l->s, '[', n) && ingest__word_char(l->s[0])) {
        const char *cc = memmem(l->s, n, "::", 2);
        const char *br = memchr(l->s, '[', n);
        if (cc < br && memchr(l->s, ' ', (size_t)(cc - l->s)) == NULL) {
            *err = flush(a);                        /* image::, include::, toc:: */
            return i + 1;
        }
    }
    if (a->para.len == 0 && l->indent > 0) {        /* a literal paragraph */
        size_t e = i;
        while (e < a->n && !a->l[e].blank)
            e++;
        *err = ingest__code_lines(a->t, a->l, i, e, l->indent, NULL);
        return e;
    }
    if (l->indent == 0 && n >= 2 && l->s[0] == '.' && l->s[1] != '.' && l->s[1] != ' ') {
        *err = flush(a);                            /* a block title */
        if (!*err)
            *err = add_inline(a, INGEST_PARA, 0, l->s + 1, n - 1);
        return i + 1;
    }
    size_t m = list_marker(l->s + b, n - b);
    if (m) {
        *err = flush(a);
        a->para_kind = INGEST_LIST_ITEM;
        if (!*err)
            *err = para_line(a, l->s + b + m, n - b - m);
        return i + 1;
    }
    const char *dl = memmem(l->s + b, n - b, ":: ", 3);
    if (!dl && n - b > 2 && l->s[n - 1] == ':' && l->s[n - 2] == ':')
        dl = l->s + n - 2;
    if (dl) {                                       /* description list: "term:: text" */
        *err = flush(a);
        if (!*err)
            *err = para_line(a, l->s + b, (size_t)(dl - l->s) - b);
        if (!*err)
            *err = cc_buf_addch(&a->para, ':');
        if (!*err && dl + 2 < l->s + n)
            *err = para_line(a, dl + 2, (size_t)(l->s + n - dl - 2));
        return i + 1;
    }
    if (l->s[b] == '|' && a->para.len == 0) {
        size_t start = a->para.len;
        *err = para_line(a, l->s + b, n - b);
        for (size_t k = start; !*err && k < a->para.len; k++)
            if (a->para.ptr[k] == '|')
                a->para.ptr[k] = ' ';
        if (!*err)
            *err = flush(a);                        /* a row per paragraph */
        return i + 1;
    }
    *err = para_line(a, l->s + b, n - b);
    return i + 1;
}

static cc_err parse(void *arg, struct ingest_text *t, const struct ingest__line *l, size_t n)
{
    (void)arg;
    struct adoc *a = cc_xcalloc(1, sizeof(*a));
    a->t = t;
    a->l = l;
    a->n = n;
    a->para_kind = INGEST_PARA;
    cc_buf_init(&a->para, t->limit);
    cc_buf_init(&a->plain, t->limit);
    cc_err err = CC_OK;
    for (size_t i = 0; i < a->n && !err;)
        i = line(a, i, &err);
    if (!err)
        err = flush(a);
    cc_buf_release(&a->para);
    cc_buf_release(&a->plain);
    free(a);
    return err;
}

cc_err ingest_asciidoc_parse(const char *src, size_t len, struct ingest_text *out,
                             struct cc_diag *d)
{
    return ingest__parse_lines(src, len, out, d, parse, NULL);
}
