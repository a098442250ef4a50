/*
 * markdown.c - Markdown to ingest_text, CommonMark-ish: enough block
 * structure for documentation, not a conforming renderer.
 *
 * Blocks: ATX (#) and setext (=== / ---) headings, fenced code (``` and ~~~,
 * the info string's first word as lang; unclosed fences run to the end, as
 * in CommonMark), indented code, paragraphs, list items (-, *, +, 1. 1) with
 * nesting by indentation and lazy continuation lines), blockquotes (their
 * content parsed as blocks, quote markers dropped), thematic breaks
 * (dropped), link reference definitions and whole-line HTML comments
 * (dropped), YAML front matter at the very top (only `title:` is read).
 * Title: front matter's, else the first level-1 heading.
 *
 * Inline markup is reduced to text: emphasis markers (* _ ~~) that flank
 * words are removed (an underscore inside a word, as in snake_case, is
 * kept), `code` spans lose their backticks, [text](url), [text][ref] and
 * ![alt](src) become text/alt, <scheme:...> autolinks their address,
 * backslash escapes their character.
 *
 * Limits: the input is sanitized to UTF-8 first (one copy, bounded by the
 * text limit); line handling is linear; a link scan looks at most LINK_SCAN
 * bytes ahead, links nest at most INLINE_DEPTH deep, and all scans of one
 * paragraph share a budget of SCAN_FACTOR times its length, so no input
 * makes inline rendering quadratic or deeply recursive.
 */
#include "ingest/parse/parse.h"
#include "ingest/parse/parse_int.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "core/buf.h"

#define LINK_SCAN 2048
#define INLINE_DEPTH 8

enum open_kind { OPEN_NONE, OPEN_PARA, OPEN_ITEM };
enum code_kind { CODE_NONE, CODE_FENCED, CODE_INDENTED };

struct md {
    struct ingest_text *t;
    struct cc_buf para;          /* open paragraph or list item, raw */
    enum open_kind open;
    struct cc_buf code;          /* open code block, raw lines */
    enum code_kind code_kind;
    char fence_ch;
    size_t fence_len;
    size_t fence_indent;         /* columns stripped from fenced lines */
    int fence_quote;             /* blockquote depth of the fence */
    char lang[INGEST_LANG_MAX + 1];
    size_t pending_blank;        /* blank lines inside indented code */
    size_t list_indent;          /* content column of the list item; 0 = none */
    bool after_blank;
    int quote;                   /* blockquote depth of the previous line */
    bool have_title;
    struct cc_buf inl;           /* scratch: rendered inline text */
};

enum line_kind {
    LK_TEXT, LK_ATX, LK_FENCE, LK_SETEXT1, LK_SETEXT2, LK_BREAK, LK_ITEM, LK_SKIP
};

struct line_info {
    enum line_kind kind;
    int level;                   /* LK_ATX */
    size_t marker;               /* LK_ITEM: columns of marker + spacing */
    size_t marker_bytes;         /* LK_ITEM: bytes of the marker itself */
    char fence_ch;               /* LK_FENCE */
    size_t fence_len;
    const char *info;            /* LK_FENCE: info string */
    size_t info_len;
};

static bool is_sp(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_sp(s[i]) && s[i] != '\v' && s[i] != '\f')
            return false;
    return true;
}

static bool is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c >= 0x80;
}

static bool is_punct(unsigned char c)
{
    return c > 0x20 && c < 0x7F && !is_alnum(c);
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && is_sp(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && is_sp((*s)[*n - 1]))
        (*n)--;
}

/* Columns of leading white space (tabs to the next multiple of 4). */
static size_t indent_cols(const char *s, size_t n)
{
    size_t col = 0;
    for (size_t i = 0; i < n && is_sp(s[i]); i++)
        col = s[i] == '\t' ? (col / 4 + 1) * 4 : col + 1;
    return col;
}

/* Removes leading white space worth up to `cols` columns. */
static void strip_cols(const char **s, size_t *n, size_t cols)
{
    size_t col = 0;
    while (*n > 0 && is_sp(**s) && col < cols) {
        col = **s == '\t' ? (col / 4 + 1) * 4 : col + 1;
        (*s)++;
        (*n)--;
    }
}

/* Strips up to `max` "> " markers (each after up to 3 spaces) and returns
 * how many it stripped. */
static int strip_quotes(const char **s, size_t *n, int max)
{
    int depth = 0;
    while (depth < max) {
        const char *p = *s;
        size_t k = *n;
        strip_cols(&p, &k, 3);
        if (k == 0 || *p != '>')
            return depth;
        p++;
        k--;
        if (k > 0 && is_sp(*p)) {
            p++;
            k--;
        }
        *s = p;
        *n = k;
        depth++;
    }
    return depth;
}

/* ---- inline ---------------------------------------------------------- */

/* Rendering state of one paragraph. `budget` bounds the bytes the link,
 * code-span and autolink scans may look at in total (SCAN_FACTOR times the
 * paragraph, plus slack): past it markup is taken literally, so inputs
 * like "[[[[..." or "` `` ``` ..." stay linear instead of quadratic. */
struct inl {
    struct cc_buf *o;
    size_t budget;
    cc_err err;
};

#define SCAN_FACTOR 8

static void render(struct inl *r, const char *s, size_t n, int depth);

/* Takes up to `want` bytes of scanning from the budget; returns how many. */
static size_t scan_allowance(struct inl *r, size_t want)
{
    size_t got = want < r->budget ? want : r->budget;
    r->budget -= got;
    return got;
}

/* Index of the `close` matching the `open` at s[0], or 0 if none within
 * LINK_SCAN bytes (and the budget). Backslash-escaped brackets do not
 * count. */
static size_t match(struct inl *r, const char *s, size_t n, char open, char close)
{
    int nest = 0;
    size_t end = scan_allowance(r, n < LINK_SCAN ? n : LINK_SCAN);
    for (size_t i = 0; i < end; i++) {
        if (s[i] == '\\') {
            i++;
        } else if (s[i] == open) {
            nest++;
        } else if (s[i] == close && --nest == 0) {
            return i;
        }
    }
    return 0;
}

/* [text](url), [text][ref], [text][] at s[0] == '[': renders the text and
 * returns the bytes consumed, or 0 when it is not a link. */
static size_t link(struct inl *r, const char *s, size_t n, int depth)
{
    if (depth >= INLINE_DEPTH)
        return 0;
    size_t close = match(r, s, n, '[', ']');
    if (close == 0)
        return 0;
    size_t used = 0;
    if (close + 1 < n && s[close + 1] == '(') {
        size_t paren = match(r, s + close + 1, n - close - 1, '(', ')');
        if (paren)
            used = close + 1 + paren + 1;
    } else if (close + 1 < n && s[close + 1] == '[') {
        size_t ref = match(r, s + close + 1, n - close - 1, '[', ']');
        if (ref)
            used = close + 1 + ref + 1;
    }
    if (used)
        render(r, s + 1, close - 1, depth + 1);
    return used;
}

/* `code` at s[0]: the content verbatim. An unclosed run of backticks is
 * literal as a whole (as in CommonMark), which also keeps a long run from
 * being rescanned once per backtick. */
static size_t code_span(struct inl *r, const char *s, size_t n)
{
    size_t run = 0;
    while (run < n && s[run] == '`')
        run++;
    size_t end = run + scan_allowance(r, n - run);
    for (size_t i = run; i < end;) {
        if (s[i] != '`') {
            i++;
            continue;
        }
        size_t k = 0;
        while (i + k < n && s[i + k] == '`')
            k++;
        if (k == run) {
            const char *c = s + run;
            size_t len = i - run;
            if (len >= 2 && c[0] == ' ' && c[len - 1] == ' ') {
                c++;
                len -= 2;
            }
            r->err = cc_buf_add(r->o, c, len);
            return i + k;
        }
        i += k;
    }
    r->err = cc_buf_add(r->o, s, run);
    return run;
}

static bool scheme_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '+' || c == '.' ||
           c == '-';
}

/* <scheme:address> at s[0] == '<': the address; 0 when not an autolink. */
static size_t autolink(struct inl *r, const char *s, size_t n)
{
    size_t i = 1;
    while (i < n && i < 34 && scheme_char(s[i]))
        i++;
    if (i < 3 || i >= n || s[i] != ':')
        return 0;
    size_t limit = i + scan_allowance(r, n - i < LINK_SCAN ? n - i : LINK_SCAN);
    size_t end = i;
    while (end < limit && s[end] != '>' && s[end] != '<' && (unsigned char)s[end] > 0x20)
        end++;
    if (end >= limit || s[end] != '>')
        return 0;
    r->err = cc_buf_add(r->o, s + 1, end - 1);
    return end + 1;
}

/* A run of emphasis characters is markup when it touches a word on at
 * least one side; `_` additionally only when not inside a word. */
static bool emphasis(const char *s, size_t n, size_t i, size_t run)
{
    unsigned char prev = i > 0 ? (unsigned char)s[i - 1] : ' ';
    unsigned char next = i + run < n ? (unsigned char)s[i + run] : ' ';
    bool ws_prev = prev <= 0x20, ws_next = next <= 0x20;
    if (ws_prev && ws_next)
        return false;
    if (s[i] == '_')
        return !(is_alnum(prev) && is_alnum(next));
    if (s[i] == '~')
        return run == 2;
    return true;
}

/* Markup at s[i] rendered; returns the bytes it took, 0 if it is text. */
static size_t markup(struct inl *r, const char *s, size_t n, size_t i, int depth)
{
    char c = s[i];
    if (c == '\\' && i + 1 < n && is_punct((unsigned char)s[i + 1])) {
        r->err = cc_buf_addch(r->o, s[i + 1]);
        return 2;
    }
    if (c == '`')
        return code_span(r, s + i, n - i);
    if (c == '[')
        return link(r, s + i, n - i, depth);
    if (c == '!' && i + 1 < n && s[i + 1] == '[') {
        size_t used = link(r, s + i + 1, n - i - 1, depth);
        return used ? used + 1 : 0;
    }
    if (c == '<')
        return autolink(r, s + i, n - i);
    if (c == '*' || c == '_' || c == '~') {
        size_t run = 1;
        while (i + run < n && s[i + run] == c)
            run++;
        if (!emphasis(s, n, i, run))
            r->err = cc_buf_add(r->o, s + i, run);
        return run;
    }
    return 0;
}

static void render(struct inl *r, const char *s, size_t n, int depth)
{
    for (size_t i = 0; i < n && !r->err;) {
        size_t used = markup(r, s, n, i, depth);
        if (used == 0) {
            /* Literal text up to the next character that may start markup. */
            size_t j = i + 1;
            while (j < n && !strchr("\\`[!<*_~", s[j]))
                j++;
            r->err = cc_buf_add(r->o, s + i, j - i);
            used = j - i;
        }
        i += used;
    }
}

/* Renders s[0..n) into o (reset first). */
static cc_err render_inline(struct cc_buf *o, const char *s, size_t n)
{
    struct inl r = { .o = o, .budget = SCAN_FACTOR * n + 4096 };
    cc_buf_reset(o);
    render(&r, s, n, 0);
    return r.err;
}

/* ---- blocks ---------------------------------------------------------- */

static cc_err add_heading(struct md *m, int level, const char *s, size_t n)
{
    cc_err err = render_inline(&m->inl, s, n);
    if (!err)
        err = ingest_text_add(m->t, INGEST_HEADING, level, cc_buf_str(&m->inl), m->inl.len,
                              NULL);
    if (!err && level == 1 && !m->have_title && m->t->nblocks > 0 &&
        m->t->blocks[m->t->nblocks - 1].kind == INGEST_HEADING) {
        const char *h = m->t->blocks[m->t->nblocks - 1].text;
        err = ingest_text_set_title(m->t, h, strlen(h));
        m->have_title = true;
    }
    return err;
}

static cc_err flush_para(struct md *m)
{
    if (m->open == OPEN_NONE)
        return CC_OK;
    cc_err err = render_inline(&m->inl, cc_buf_str(&m->para), m->para.len);
    if (!err)
        err = ingest_text_add(m->t, m->open == OPEN_ITEM ? INGEST_LIST_ITEM : INGEST_PARA, 0,
                              cc_buf_str(&m->inl), m->inl.len, NULL);
    cc_buf_reset(&m->para);
    m->open = OPEN_NONE;
    return err;
}

static cc_err flush_code(struct md *m)
{
    if (m->code_kind == CODE_NONE)
        return CC_OK;
    cc_err err = ingest_text_add(m->t, INGEST_CODE, 0, cc_buf_str(&m->code), m->code.len,
                                 m->lang[0] ? m->lang : NULL);
    cc_buf_reset(&m->code);
    m->code_kind = CODE_NONE;
    m->pending_blank = 0;
    m->lang[0] = '\0';
    return err;
}

static cc_err code_line(struct md *m, const char *s, size_t n)
{
    cc_err err = CC_OK;
    for (; m->pending_blank > 0 && !err; m->pending_blank--)
        err = cc_buf_addch(&m->code, '\n');
    if (!err)
        err = cc_buf_add(&m->code, s, n);
    if (!err)
        err = cc_buf_addch(&m->code, '\n');
    return err;
}

/* First word of a fence's info string, without {. } decoration. */
static void set_lang(struct md *m, const char *info, size_t n)
{
    trim(&info, &n);
    while (n > 0 && (*info == '{' || *info == '.')) {
        info++;
        n--;
    }
    size_t w = 0;
    while (w < n && !is_sp(info[w]) && info[w] != '}' && info[w] != ',')
        w++;
    if (w > INGEST_LANG_MAX)
        w = 0;
    memcpy(m->lang, info, w);
    m->lang[w] = '\0';
}

static bool fence_closes(const struct md *m, const char *s, size_t n)
{
    strip_cols(&s, &n, 3);
    size_t run = 0;
    while (run < n && s[run] == m->fence_ch)
        run++;
    return run >= m->fence_len && is_blank(s + run, n - run);
}

static bool atx(const char *s, size_t n, struct line_info *li)
{
    size_t h = 0;
    while (h < n && h < 7 && s[h] == '#')
        h++;
    if (h == 0 || h > 6 || (h < n && !is_sp(s[h])))
        return false;
    li->kind = LK_ATX;
    li->level = (int)h;
    return true;
}

static bool fence(const char *s, size_t n, struct line_info *li)
{
    if (n < 3 || (s[0] != '`' && s[0] != '~'))
        return false;
    size_t run = 0;
    while (run < n && s[run] == s[0])
        run++;
    if (run < 3)
        return false;
    if (s[0] == '`' && memchr(s + run, '`', n - run))
        return false;                      /* that is inline code */
    li->kind = LK_FENCE;
    li->fence_ch = s[0];
    li->fence_len = run;
    li->info = s + run;
    li->info_len = n - run;
    return true;
}

/* ***, ---, ___ with optional spaces: three or more of one character. */
static bool thematic(const char *s, size_t n)
{
    if (n == 0 || (s[0] != '*' && s[0] != '-' && s[0] != '_'))
        return false;
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == s[0])
            count++;
        else if (!is_sp(s[i]))
            return false;
    }
    return count >= 3;
}

static bool setext(const char *s, size_t n, struct line_info *li)
{
    if (n == 0 || (s[0] != '=' && s[0] != '-'))
        return false;
    size_t run = 0;
    while (run < n && s[run] == s[0])
        run++;
    if (!is_blank(s + run, n - run))
        return false;
    li->kind = s[0] == '=' ? LK_SETEXT1 : LK_SETEXT2;
    return true;
}

static bool item(const char *s, size_t n, struct line_info *li)
{
    size_t m = 0;
    if (n > 0 && (s[0] == '-' || s[0] == '*' || s[0] == '+')) {
        m = 1;
    } else {
        while (m < n && m < 9 && s[m] >= '0' && s[m] <= '9')
            m++;
        if (m == 0 || m >= n || (s[m] != '.' && s[m] != ')'))
            return false;
        m++;
    }
    if (m < n && !is_sp(s[m]))
        return false;
    size_t sp = indent_cols(s + m, n - m);
    if (sp > 4 || m == n)
        sp = 1;                            /* indented code after a marker */
    li->kind = LK_ITEM;
    li->marker_bytes = m;
    li->marker = m + sp;
    return true;
}

/* [label]: destination — a link reference definition, dropped. */
static bool refdef(const char *s, size_t n)
{
    if (n < 4 || s[0] != '[' || s[1] == ']')
        return false;
    struct inl r = { .budget = LINK_SCAN };
    size_t close = match(&r, s, n, '[', ']');
    return close > 0 && close + 1 < n && s[close + 1] == ':';
}

static struct line_info classify(const char *s, size_t n, bool para_open)
{
    struct line_info li = { .kind = LK_TEXT };
    if (atx(s, n, &li) || fence(s, n, &li))
        return li;
    if (para_open && setext(s, n, &li))
        return li;
    if (thematic(s, n)) {
        li.kind = LK_BREAK;
        return li;
    }
    if (item(s, n, &li))
        return li;
    if ((!para_open && refdef(s, n)) ||
        (n >= 7 && memcmp(s, "<!--", 4) == 0 && memcmp(s + n - 3, "-->", 3) == 0))
        li.kind = LK_SKIP;
    return li;
}

static cc_err open_fence(struct md *m, const struct line_info *li, size_t col)
{
    cc_err err = flush_para(m);
    if (err)
        return err;
    m->code_kind = CODE_FENCED;
    m->fence_ch = li->fence_ch;
    m->fence_len = li->fence_len;
    m->fence_indent = col;
    m->fence_quote = m->quote;
    set_lang(m, li->info, li->info_len);
    return CC_OK;
}

static cc_err atx_line(struct md *m, const char *s, size_t n, int level)
{
    cc_err err = flush_para(m);
    s += level;
    n -= (size_t)level;
    trim(&s, &n);
    /* A closing sequence of #s goes if a space precedes it (or it is all). */
    size_t e = n;
    while (e > 0 && s[e - 1] == '#')
        e--;
    if (e < n && (e == 0 || is_sp(s[e - 1])))
        n = e;
    trim(&s, &n);
    return err ? err : add_heading(m, level, s, n);
}

static cc_err setext_line(struct md *m, int level)
{
    const char *s = cc_buf_str(&m->para);
    size_t n = m->para.len;
    struct cc_buf tmp = m->para;          /* steal the text, reset the para */
    cc_buf_init(&m->para, tmp.limit);
    m->open = OPEN_NONE;
    cc_err err = add_heading(m, level, s, n);
    cc_buf_release(&tmp);
    return err;
}

static cc_err text_line(struct md *m, enum open_kind kind, const char *s, size_t n)
{
    cc_err err = CC_OK;
    if (m->open != OPEN_NONE && kind == OPEN_PARA) {
        err = cc_buf_addch(&m->para, '\n');    /* continuation */
    } else {
        err = flush_para(m);
        m->open = kind;
    }
    return err ? err : cc_buf_add(&m->para, s, n);
}

/* A non-blank line outside fenced code, after quote markers. */
static cc_err block_line(struct md *m, const char *s, size_t n)
{
    size_t indent = indent_cols(s, n), base = 0;
    if (m->list_indent > 0 && indent >= m->list_indent) {
        base = m->list_indent;
        strip_cols(&s, &n, base);
        indent -= base;
    }
    bool para_open = m->open != OPEN_NONE;
    if (m->code_kind == CODE_INDENTED) {
        if (indent >= 4) {
            strip_cols(&s, &n, 4);
            return code_line(m, s, n);
        }
        cc_err err = flush_code(m);
        if (err)
            return err;
    }
    if (indent >= 4 && !para_open) {
        m->code_kind = CODE_INDENTED;
        m->lang[0] = '\0';
        strip_cols(&s, &n, 4);
        return code_line(m, s, n);
    }
    strip_cols(&s, &n, 3);
    struct line_info li = classify(s, n, m->open == OPEN_PARA);
    if (m->list_indent > 0 && base == 0 && (m->after_blank || li.kind != LK_TEXT))
        m->list_indent = 0;                    /* the list ended */
    switch (li.kind) {
    case LK_ATX:
        return atx_line(m, s, n, li.level);
    case LK_FENCE:
        return open_fence(m, &li, base + indent);
    case LK_SETEXT1:
    case LK_SETEXT2:
        return setext_line(m, li.kind == LK_SETEXT1 ? 1 : 2);
    case LK_BREAK:
    case LK_SKIP:
        return flush_para(m);
    case LK_ITEM:
        m->list_indent = base + indent + li.marker;
        s += li.marker_bytes;
        n -= li.marker_bytes;
        strip_cols(&s, &n, li.marker - li.marker_bytes);
        return text_line(m, OPEN_ITEM, s, n);
    case LK_TEXT:
    default:
        return text_line(m, OPEN_PARA, s, n);
    }
}

static cc_err fenced_line(struct md *m, const char *s, size_t n)
{
    if (fence_closes(m, s, n))
        return flush_code(m);
    strip_cols(&s, &n, m->fence_indent);
    return code_line(m, s, n);
}

static cc_err line(struct md *m, const char *s, size_t n)
{
    cc_err err = CC_OK;
    if (m->code_kind == CODE_FENCED) {
        /* "> " inside code is content: strip only the fence's own quotes. */
        const char *c = s;
        size_t k = n;
        if (strip_quotes(&c, &k, m->fence_quote) == m->fence_quote)
            return fenced_line(m, c, k);
    }
    int quote = strip_quotes(&s, &n, INT_MAX);
    if (quote != m->quote) {
        err = flush_para(m);
        if (!err)
            err = flush_code(m);
        m->quote = quote;
        m->list_indent = 0;
        if (err)
            return err;
    }
    if (is_blank(s, n)) {
        if (m->code_kind == CODE_INDENTED)
            m->pending_blank++;
        else
            err = flush_para(m);
        m->after_blank = true;
        return err;
    }
    err = block_line(m, s, n);
    m->after_blank = false;
    return err;
}

static bool fm_delim(const char *s, size_t n, bool closing)
{
    while (n > 0 && is_sp(s[n - 1]))
        n--;
    return (n == 3 && memcmp(s, "---", 3) == 0) ||
           (closing && n == 3 && memcmp(s, "...", 3) == 0);
}

/* Length of the line at s (without its end) and of its line end. */
static size_t line_len(const char *s, size_t n, size_t *eol)
{
    size_t i = 0;
    while (i < n && s[i] != '\n' && s[i] != '\r')
        i++;
    *eol = i < n ? (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n' ? 2 : 1) : 0;
    return i;
}

/* `title: value` at column 0, the value unquoted ('', "" or bare). */
static cc_err fm_title(struct md *m, const char *s, size_t n)
{
    if (n < 6 || memcmp(s, "title:", 6) != 0)
        return CC_OK;
    s += 6;
    n -= 6;
    trim(&s, &n);
    if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
        s++;
        n -= 2;
    }
    if (n == 0)
        return CC_OK;
    m->have_title = true;
    return ingest_text_set_title(m->t, s, n);
}

/* YAML front matter between "---" lines at the very top: returns the bytes
 * it takes (0 if there is none) after reading its title. */
static cc_err front_matter(struct md *m, const char *s, size_t n, size_t *used)
{
    size_t eol, len = line_len(s, n, &eol);
    *used = 0;
    if (!fm_delim(s, len, false) || eol == 0)
        return CC_OK;
    size_t i = len + eol;
    while (i < n) {
        len = line_len(s + i, n - i, &eol);
        if (fm_delim(s + i, len, true)) {
            *used = i + len + eol;
            break;
        }
        i += len + eol;
    }
    if (*used == 0)
        return CC_OK;                          /* not closed: not front matter */
    for (i = len = 0; i < *used; i += len + eol) {
        len = line_len(s + i, *used - i, &eol);
        cc_err err = fm_title(m, s + i, len);
        if (err)
            return err;
    }
    return CC_OK;
}

static cc_err run(struct md *m, const char *s, size_t n)
{
    size_t i = 0;
    cc_err err = front_matter(m, s, n, &i);
    while (!err && i < n) {
        size_t eol, len = line_len(s + i, n - i, &eol);
        err = line(m, s + i, len);
        i += len + (eol ? eol : 1);
    }
    if (!err)
        err = flush_para(m);
    if (!err)
        err = flush_code(m);
    return err;
}

cc_err ingest_markdown_parse(const char *src, size_t len, struct ingest_text *out,
                             struct cc_diag *d)
{
    struct ingest_text t;
    struct cc_buf clean;
    ingest_text_init(&t, out->limit);
    cc_buf_init(&clean, t.limit);
    struct md m = { .t = &t };
    cc_buf_init(&m.para, t.limit);
    cc_buf_init(&m.code, t.limit);
    cc_buf_init(&m.inl, t.limit);
    cc_err err = CC_ELIMIT;
    if (len > INGEST_PARSE_MAX_INPUT)
        goto out;
    err = ingest_utf8_sanitize(&clean, src, len);
    if (!err)
        err = run(&m, cc_buf_str(&clean), clean.len);
    if (!err)
        ingest__text_move(out, &t);
out:
    if (err == CC_ELIMIT)
        cc_diag_set(d, NULL, 0, 0, "markdown text is over the %zu-byte limit", t.limit);
    cc_buf_release(&m.para);
    cc_buf_release(&m.code);
    cc_buf_release(&m.inl);
    cc_buf_release(&clean);
    ingest_text_release(&t);
    return err;
}
