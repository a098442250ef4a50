/*
 * rst.c - reStructuredText to ingest_text, line by line (no docutils).
 *
 * Blocks, as parse.h lists them: section titles, underlined or over- and
 * underlined with the same punctuation character, are headings whose
 * level is the order in which each adornment style (character, overline or
 * not) was first met, as docutils assigns them. A paragraph ending in "::"
 * introduces a literal block (the indented lines after it), kept as code;
 * so are the bodies of code-block, code, sourcecode and literalinclude-less
 * highlight directives, with the directive's argument as the language, and
 * ">>>" doctest blocks. Directives that hold no prose (toctree, image,
 * include, raw, ...) go; the others (note, warning, admonition, topic ...)
 * keep their argument and body as paragraphs. Comments (".." not followed
 * by a directive) and hyperlink targets go. Bullet and enumerated items are
 * list items; transitions and table borders go; table rows read as text.
 *
 * Inline: roles (":ref:`text <target>`", ":func:`name`"), references
 * ("`text <url>`_", "name_", "|sub|"), literals ("``x``") and emphasis are
 * reduced to their text; backslash escapes to the character.
 *
 * Limits: the input is sanitized to UTF-8 first; every pass is linear in
 * the lines; buffers are bounded by the text limit.
 */
#define _GNU_SOURCE   /* memmem */
#include "ingest/parse/parse.h"
#include "ingest/parse/parse_int.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

#define MAX_STYLES 12

struct rst {
    struct ingest_text *t;
    const struct ingest__line *l;
    size_t n;
    struct {
        char c;
        bool over;
    } styles[MAX_STYLES];
    size_t nstyles;
    struct cc_buf para;      /* the paragraph being collected (raw lines) */
    struct cc_buf plain;     /* scratch: inline markup stripped */
    enum ingest_block_kind para_kind;
};

static bool is_adorn_char(char c)
{
    return c != '\0' && strchr("=-`:'\"~^_*+#<>.!$%&(),/;?@[]\\{|}", c) != NULL;
}

/* A line of one repeated punctuation character, at least 2 long (4 for
 * transitions, checked by the caller), at column 0. */
static bool adornment(const struct ingest__line *l, char *c)
{
    size_t n = l->n;
    while (n > 0 && (l->s[n - 1] == ' ' || l->s[n - 1] == '\t'))
        n--;
    if (l->indent != 0 || n < 2 || !is_adorn_char(l->s[0]))
        return false;
    for (size_t i = 1; i < n; i++)
        if (l->s[i] != l->s[0])
            return false;
    *c = l->s[0];
    return true;
}

static int style_level(struct rst *r, char c, bool over)
{
    for (size_t i = 0; i < r->nstyles; i++)
        if (r->styles[i].c == c && r->styles[i].over == over)
            return (int)i + 1;
    if (r->nstyles < MAX_STYLES) {
        r->styles[r->nstyles].c = c;
        r->styles[r->nstyles].over = over;
        r->nstyles++;
    }
    return (int)r->nstyles;
}

/* `text <target>` -> text; `text` -> text. */
static cc_err add_ref_text(struct cc_buf *b, const char *s, size_t n)
{
    if (n > 0 && s[n - 1] == '>') {
        for (size_t k = n; k-- > 0;) {
            if (s[k] == '<') {
                size_t e = k;
                while (e > 0 && s[e - 1] == ' ')
                    e--;
                if (e > 0)
                    n = e;
                else {
                    s += k + 1;
                    n -= k + 2;
                }
                break;
            }
        }
    }
    if (n > 0 && s[0] == '~') {   /* :func:`~a.b.c` shows c */
        const char *dot = memchr(s, '.', n);
        while (dot) {
            n -= (size_t)(dot + 1 - s);
            s = dot + 1;
            dot = memchr(s, '.', n);
        }
        if (n > 0 && s[0] == '~') {
            s++;
            n--;
        }
    }
    return cc_buf_add(b, s, n);
}

/* Inline markup of s[0..n) reduced to its text, into b. */
static cc_err strip_inline(struct cc_buf *b, const char *s, size_t n)
{
    cc_err err = CC_OK;
    for (size_t i = 0; i < n && !err;) {
        char c = s[i];
        bool open = i == 0 || !ingest__word_char(s[i - 1]);
        if (c == '\\' && i + 1 < n) {
            err = cc_buf_addch(b, s[i + 1]);
            i += 2;
        } else if (c == '`' && i + 1 < n && s[i + 1] == '`') {
            const char *end = i + 2 < n ? memmem(s + i + 2, n - i - 2, "``", 2) : NULL;
            if (!end) {
                err = cc_buf_add(b, s + i, 2);
                i += 2;
                continue;
            }
            err = cc_buf_add(b, s + i + 2, (size_t)(end - s) - i - 2);
            i = (size_t)(end - s) + 2;
        } else if (c == '`') {
            const char *end = memchr(s + i + 1, '`', n - i - 1);
            if (!end) {
                err = cc_buf_addch(b, c);
                i++;
                continue;
            }
            err = add_ref_text(b, s + i + 1, (size_t)(end - s) - i - 1);
            i = (size_t)(end - s) + 1;
            while (i < n && s[i] == '_')   /* `x`_ and `x`__ */
                i++;
            if (i < n && s[i] == ':') {    /* `x`:role: */
                size_t k = i + 1;
                while (k < n && (ingest__word_char(s[k]) || s[k] == '-' || s[k] == '.'))
                    k++;
                if (k < n && s[k] == ':')
                    i = k + 1;
            }
        } else if (c == ':' && open) {
            /* :role:`...` (role names: letters, digits, - _ . :) */
            size_t k = i + 1;
            while (k < n && (ingest__word_char(s[k]) || s[k] == '-' || s[k] == '_' || s[k] == '.' ||
                             (s[k] == ':' && k + 1 < n && s[k + 1] != '`')))
                k++;
            if (k > i + 1 && k + 1 < n && s[k] == ':' && s[k + 1] == '`')
                i = k + 1;                 /* the backquoted text follows */
            else {
                err = cc_buf_addch(b, c);
                i++;
            }
        } else if (c == '*') {
            i++;                           /* emphasis and strong: markers go */
        } else if (c == '|' && open && i + 1 < n && s[i + 1] != ' ') {
            const char *end = memchr(s + i + 1, '|', n - i - 1);
            if (end && end[-1] != ' ') {
                err = cc_buf_add(b, s + i + 1, (size_t)(end - s) - i - 1);
                i = (size_t)(end - s) + 1;
                while (i < n && s[i] == '_')
                    i++;
            } else {
                err = cc_buf_addch(b, c);
                i++;
            }
        } else if (c == '_' && i > 0 && ingest__word_char(s[i - 1]) &&
                   (i + 1 == n || !ingest__word_char(s[i + 1]))) {
            i++;                           /* name_ reference */
            while (i < n && s[i] == '_')
                i++;
        } else {
            err = cc_buf_addch(b, c);
            i++;
        }
    }
    return err;
}

static cc_err add_inline(struct rst *r, enum ingest_block_kind kind, int level, const char *s,
                         size_t n)
{
    cc_buf_reset(&r->plain);
    cc_err err = strip_inline(&r->plain, s, n);
    if (!err && r->plain.len)
        err = ingest_text_add(r->t, kind, level, cc_buf_str(&r->plain), r->plain.len, NULL);
    if (!err && kind == INGEST_HEADING && !r->t->title && r->t->nblocks)
        err = ingest_text_set_title(r->t, r->t->blocks[r->t->nblocks - 1].text,
                                    strlen(r->t->blocks[r->t->nblocks - 1].text));
    return err;
}

/* Ends the paragraph being collected. `literal` is set when it ended with
 * "::", which then introduces a literal block. */
static cc_err flush(struct rst *r, bool *literal)
{
    size_t n = r->para.len;
    const char *s = cc_buf_str(&r->para);
    bool lit = false;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n'))
        n--;
    if (n >= 2 && s[n - 1] == ':' && s[n - 2] == ':') {
        lit = true;
        n -= 1;                    /* "Example::" -> "Example:" */
        if (n == 1 || s[n - 2] == ' ' || s[n - 2] == '\n')
            n -= 1;                /* " ::" and "::" vanish */
    }
    cc_err err = n ? add_inline(r, r->para_kind, 0, s, n) : CC_OK;
    cc_buf_reset(&r->para);
    r->para_kind = INGEST_PARA;
    if (literal)
        *literal = lit;
    return err;
}

static cc_err para_line(struct rst *r, const char *s, size_t n)
{
    cc_err err = r->para.len ? cc_buf_addch(&r->para, '\n') : CC_OK;
    return err ? err : cc_buf_add(&r->para, s, n);
}

/* The end of the indented block after line i, whose lines are indented
 * more than `indent` (blank lines inside included). */
static size_t block_end(const struct rst *r, size_t i, size_t indent)
{
    size_t e = i, last = i;
    while (e < r->n && (r->l[e].blank || r->l[e].indent > indent)) {
        if (!r->l[e].blank)
            last = e + 1;
        e++;
    }
    return last > i ? last : i;
}

static size_t min_indent(const struct rst *r, size_t from, size_t to)
{
    size_t m = (size_t)-1;
    for (size_t i = from; i < to; i++)
        if (!r->l[i].blank && r->l[i].indent < m)
            m = r->l[i].indent;
    return m == (size_t)-1 ? 0 : m;
}

static const char *const CODE_DIRECTIVES[] = {"code-block", "code", "sourcecode",
                                              "literalinclude", "doctest", "testcode",
                                              "parsed-literal", "productionlist", NULL};
static const char *const DROP_DIRECTIVES[] = {"toctree", "image", "figure", "include", "raw",
                                              "meta", "contents", "index", "highlight",
                                              "autosummary", "sectnum", "only", "tabularcolumns",
                                              "role", "default-role", "csv-table", "math",
                                              "graphviz", "uml", "automodule", "autoclass",
                                              "autofunction", "currentmodule", "module", NULL};

static bool listed(const char *const *list, const char *s, size_t n)
{
    for (size_t i = 0; list[i]; i++)
        if (strlen(list[i]) == n && memcmp(list[i], s, n) == 0)
            return true;
    return false;
}

/* Body lines of a block from..to as paragraphs (blank-line separated). */
static cc_err body_paragraphs(struct rst *r, size_t from, size_t to)
{
    cc_err err = CC_OK;
    for (size_t i = from; i < to && !err; i++) {
        const struct ingest__line *l = &r->l[i];
        if (l->blank) {
            err = flush(r, NULL);
            continue;
        }
        size_t skip = 0;
        while (skip < l->n && (l->s[skip] == ' ' || l->s[skip] == '\t'))
            skip++;
        err = para_line(r, l->s + skip, l->n - skip);
    }
    return err ? err : flush(r, NULL);
}

/* ".. name:: argument" and its indented body, at line i; returns the
 * next line to read. */
static size_t directive(struct rst *r, size_t i, cc_err *err)
{
    const struct ingest__line *l = &r->l[i];
    const char *end = l->s + ingest__trimmed_len(l);
    const char *s = l->s + ingest__lead(l) + 2;   /* after ".." */
    s += s < end;                                  /* and its space */
    size_t end_body = block_end(r, i + 1, l->indent);
    const char *colons = s < end ? memmem(s, (size_t)(end - s), "::", 2) : NULL;
    bool is_directive = colons && colons > s && memchr(s, ' ', (size_t)(colons - s)) == NULL &&
                        s[0] != '_' && s[0] != '|' && s[0] != '[';
    if (!is_directive) {
        if (s < end && s[0] == '[') {          /* footnote / citation: its text */
            const char *close = memchr(s, ']', (size_t)(end - s));
            if (close) {
                *err = para_line(r, close + 1, (size_t)(end - close - 1));
                if (!*err)
                    *err = body_paragraphs(r, i + 1, end_body);
            }
        }
        return end_body;                       /* comment or target: dropped */
    }
    size_t name_n = (size_t)(colons - s);
    const char *arg = colons + 2;
    while (arg < end && *arg == ' ')
        arg++;
    size_t body = i + 1;
    while (body < end_body && !r->l[body].blank && r->l[body].n > r->l[body].indent &&
           r->l[body].s[r->l[body].indent] == ':')
        body++;                                /* the directive's options */
    if (listed(CODE_DIRECTIVES, s, name_n)) {
        char lang[INGEST_LANG_MAX + 1] = "";
        size_t ln = strcspn(arg, " \t");
        if (ln > (size_t)(end - arg))
            ln = (size_t)(end - arg);
        if (ln > 0 && ln <= INGEST_LANG_MAX) {
            memcpy(lang, arg, ln);
            lang[ln] = '\0';
        }
        *err = ingest__code_lines(r->t, r->l, body, end_body, min_indent(r, body, end_body),
                                  lang[0] ? lang : NULL);
    } else if (!listed(DROP_DIRECTIVES, s, name_n)) {
        if (arg < end)
            *err = para_line(r, arg, (size_t)(end - arg));
        if (!*err)
            *err = body_paragraphs(r, body, end_body);
    }
    return end_body;
}

static bool list_marker(const struct ingest__line *l, size_t *skip)
{
    const char *s = l->s + l->indent;
    size_t n = l->n - l->indent;   /* indent counts columns; at col 0..: spaces only */
    if (n >= 2 && (s[0] == '-' || s[0] == '*' || s[0] == '+') && s[1] == ' ') {
        *skip = 2;
        return true;
    }
    if (n >= 4 && (unsigned char)s[0] == 0xE2 && (unsigned char)s[1] == 0x80 &&
        (unsigned char)s[2] == 0xA2 && s[3] == ' ') {
        *skip = 4;                 /* "• " */
        return true;
    }
    size_t k = s[0] == '(' ? 1 : 0;
    size_t d = k;
    while (d < n && d < k + 9 && ((s[d] >= '0' && s[d] <= '9') || s[d] == '#'))
        d++;
    if (d == k && d < n && ((s[d] >= 'a' && s[d] <= 'z') || (s[d] >= 'A' && s[d] <= 'Z')))
        d++;
    if (d > k && d + 1 < n && (s[d] == '.' || s[d] == ')') && s[d + 1] == ' ') {
        *skip = d + 2;
        return true;
    }
    return false;
}

static size_t text_line(struct rst *r, size_t i, cc_err *err)
{
    const struct ingest__line *l = &r->l[i];
    size_t b = ingest__lead(l), n = ingest__trimmed_len(l), skip = 0;
    struct ingest__line shifted = *l;
    shifted.s += b;
    shifted.n -= b;
    shifted.indent = 0;
    if (r->para.len == 0 && list_marker(&shifted, &skip)) {
        r->para_kind = INGEST_LIST_ITEM;
        *err = para_line(r, l->s + b + skip, n - b - skip);
        return i + 1;
    }
    if (r->para.len == 0 && n - b >= 4 && memcmp(l->s + b, ">>> ", 4) == 0) {
        size_t e = i;
        while (e < r->n && !r->l[e].blank)
            e++;
        *err = ingest__code_lines(r->t, r->l, i, e, l->indent, "python");
        return e;
    }
    if (l->s[b] == '|' || l->s[b] == '+') {
        /* table rows: cell borders become spaces; border lines go */
        bool border = true;
        for (size_t k = b; k < n && border; k++)
            border = strchr("+-=| ", l->s[k]) != NULL;
        if (border)
            return i + 1;
        *err = para_line(r, l->s + b, n - b);
        if (!*err)
            for (size_t k = r->para.len - (n - b); k < r->para.len; k++)
                if (r->para.ptr[k] == '|')
                    r->para.ptr[k] = ' ';
        return i + 1;
    }
    *err = para_line(r, l->s + b, n - b);
    return i + 1;
}

static cc_err parse_lines(struct rst *r)
{
    cc_err err = CC_OK;
    bool literal = false;
    for (size_t i = 0; i < r->n && !err;) {
        const struct ingest__line *l = &r->l[i];
        char c, c2;
        if (l->blank) {
            err = flush(r, &literal);
            if (literal) {
                size_t from = i + 1;
                while (from < r->n && r->l[from].blank)
                    from++;
                size_t base = from < r->n ? r->l[from].indent : 0;
                /* the literal block: lines indented more than the paragraph */
                size_t prev = i > 0 ? r->l[i - 1].indent : 0;
                if (from < r->n && base > prev) {
                    size_t e = block_end(r, from, prev);
                    err = ingest__code_lines(r->t, r->l, from, e, base, NULL);
                    i = e;
                    literal = false;
                    continue;
                }
                literal = false;
            }
            i++;
            continue;
        }
        /* over- and underlined title */
        if (r->para.len == 0 && adornment(l, &c) && i + 2 < r->n && !r->l[i + 1].blank &&
            adornment(&r->l[i + 2], &c2) && c2 == c) {
            size_t b = ingest__lead(&r->l[i + 1]);
            err = add_inline(r, INGEST_HEADING, style_level(r, c, true), r->l[i + 1].s + b,
                             ingest__trimmed_len(&r->l[i + 1]) - b);
            i += 3;
            continue;
        }
        /* underlined title: one text line at column 0 */
        if (r->para.len == 0 && l->indent == 0 && i + 1 < r->n &&
            adornment(&r->l[i + 1], &c) && ingest__trimmed_len(&r->l[i + 1]) >= 3 &&
            !adornment(l, &c2) && (i + 2 >= r->n || r->l[i + 2].blank ||
                                   !adornment(&r->l[i + 2], &c2))) {
            err = add_inline(r, INGEST_HEADING, style_level(r, c, false), l->s, ingest__trimmed_len(l));
            i += 2;
            continue;
        }
        /* transition, or a simple table's border */
        if ((adornment(l, &c) && ingest__trimmed_len(l) >= 4) || (l->indent == 0 && l->s[0] == '=' &&
                                 strspn(l->s, "= ") >= ingest__trimmed_len(l))) {
            err = flush(r, NULL);
            i++;
            continue;
        }
        size_t b = ingest__lead(l);
        if (l->n - b >= 2 && memcmp(l->s + b, "..", 2) == 0 &&
            (l->n - b == 2 || l->s[b + 2] == ' ')) {
            err = flush(r, NULL);
            if (!err)
                i = directive(r, i, &err);
            continue;
        }
        if (r->para.len && l->indent > 0 && r->para_kind == INGEST_LIST_ITEM) {
            err = para_line(r, l->s + b, ingest__trimmed_len(l) - b);   /* item continues */
            i++;
            continue;
        }
        if (r->para.len && r->para_kind == INGEST_LIST_ITEM) {
            size_t skip;
            struct ingest__line sh = *l;
            sh.s += b;
            sh.n -= b;
            sh.indent = 0;
            if (list_marker(&sh, &skip))
                err = flush(r, NULL);      /* the next item */
        }
        if (!err)
            i = text_line(r, i, &err);
    }
    return err ? err : flush(r, NULL);
}

static cc_err parse(void *arg, struct ingest_text *t, const struct ingest__line *l, size_t n)
{
    (void)arg;
    struct rst *r = cc_xcalloc(1, sizeof(*r));
    *r = (struct rst){.t = t, .l = l, .n = n, .para_kind = INGEST_PARA};
    cc_buf_init(&r->para, t->limit);
    cc_buf_init(&r->plain, t->limit);
    cc_err err = parse_lines(r);
    cc_buf_release(&r->para);
    cc_buf_release(&r->plain);
    free(r);
    return err;
}

cc_err ingest_rst_parse(const char *src, size_t len, struct ingest_text *out, struct cc_diag *d)
{
    return ingest__parse_lines(src, len, out, d, parse, NULL);
}
