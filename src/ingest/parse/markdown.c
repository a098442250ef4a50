/*
 * markdown.c - Markdown to ingest_text with md4c: CommonMark, plus GitHub's
 * tables and strikethrough. md4c parses; the callbacks here turn its
 * blocks into ingest blocks and its inline content into plain text.
 *
 * Blocks: headings (ATX and setext) -> INGEST_HEADING; paragraphs ->
 * INGEST_PARA, or INGEST_LIST_ITEM inside a list item (the text of a tight
 * item, which md4c gives without a paragraph, too); fenced and indented
 * code -> INGEST_CODE, the info string's first word, without {. }
 * decoration, as its language; blockquotes are their content; thematic
 * breaks and link reference definitions are dropped. Raw HTML keeps its
 * text: comments and the tags of HTML elements (<kbd>, </div>, <br/> ...)
 * go, a <script> or <style> block goes whole, and anything else that only
 * looks like a tag stays as written, since documentation writes
 * placeholders such as <file> or <name> that CommonMark reads as HTML.
 *
 * Tables read as text: each body row is one INGEST_PARA of its non-empty
 * cells, "Header: value — Header: value", so a row found by search, or cut
 * off from its table by a chunk boundary, still says what its values are.
 * A table without body rows gives its header row, "a — b — c". md4c calls
 * back for every column of every row, short rows included, so a table of
 * many columns and many short rows costs columns x rows: past
 * TABLE_MAX_COLS columns the document is parsed again without the table
 * extension (its tables then read as paragraphs with their pipes). md4c
 * wants three dashes or more per column in the delimiter row (|---|).
 *
 * Inline: emphasis, strikethrough and links are their text, images their
 * alt text, code spans their content, autolinks their address, entities
 * their character (numeric ones, and the named ones in `entities`; others
 * stay as written), hard and soft breaks a space.
 *
 * YAML front matter between "---" lines at the very top is not Markdown:
 * it is cut off before md4c sees the text, and only its `title:` is read.
 * Title: front matter's, else the first level-1 heading.
 *
 * Limits: the input is sanitized to UTF-8 first (one copy, bounded by the
 * text limit), so md4c only ever sees valid UTF-8 without NULs. md4c is
 * linear on the inputs that make naive parsers quadratic (bracket floods,
 * backtick runs of every length); the two costs of its own here, wide
 * tables and the tag scan of HTML blocks, are bounded as said above and
 * in html_text (the unit tests time all of them). Every buffer is bounded
 * by the text limit; the stack of open blocks holds one byte per nesting
 * level, at most one per input byte.
 */
#include "ingest/parse/parse.h"
#include "ingest/parse/parse_int.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <md4c.h>

#include "core/buf.h"

#define MD_FLAGS (MD_FLAG_TABLES | MD_FLAG_STRIKETHROUGH)
#define TABLE_MAX_COLS 64
#define CELL_SEP " \xE2\x80\x94 "     /* " — " */

/* What the text being collected will become. */
enum leaf { LEAF_NONE, LEAF_HEADING, LEAF_PARA, LEAF_ITEM, LEAF_CODE, LEAF_HTML, LEAF_CELL };

struct table {
    struct cc_buf heads;             /* header cells, each NUL-terminated */
    size_t head_at[TABLE_MAX_COLS];  /* offset of each header cell in heads */
    unsigned nheads;
    unsigned col;                    /* cell index in the open row */
    unsigned body_rows;              /* from md4c's table detail */
    bool in_head;
    struct cc_buf row;               /* the open row, rendered */
};

struct md {
    struct ingest_text *t;
    struct cc_buf text;              /* the open leaf's text */
    enum leaf leaf;
    int level;                       /* LEAF_HEADING */
    char lang[INGEST_LANG_MAX + 1];  /* LEAF_CODE */
    struct cc_buf open;              /* MD_BLOCKTYPE of each open block, a byte each */
    struct table tab;
    bool have_title;
    bool too_wide;                   /* a table past TABLE_MAX_COLS */
    cc_err err;
};

static bool is_sp(char c)
{
    return c == ' ' || c == '\t';
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

/* ---- entities and HTML ----------------------------------------------- */

static cc_err add_utf8(struct cc_buf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        cp = 0xFFFD;                       /* as CommonMark says */
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12);
        u[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | cp >> 18);
        u[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        u[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return cc_buf_add(b, u, n);
}

/* The named entities documentation uses; md4c reports any &name; and
 * leaves knowing them to us. */
static const struct {
    const char *name;
    uint32_t cp;
} entities[] = {
    {"amp", '&'},      {"lt", '<'},       {"gt", '>'},        {"quot", '"'},
    {"apos", '\''},    {"nbsp", 0xA0},    {"copy", 0xA9},     {"reg", 0xAE},
    {"trade", 0x2122}, {"hellip", 0x2026}, {"mdash", 0x2014}, {"ndash", 0x2013},
    {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"ldquo", 0x201C},  {"rdquo", 0x201D},
    {"laquo", 0xAB},   {"raquo", 0xBB},   {"middot", 0xB7},   {"bull", 0x2022},
    {"deg", 0xB0},     {"times", 0xD7},   {"divide", 0xF7},   {"plusmn", 0xB1},
    {"euro", 0x20AC},  {"pound", 0xA3},   {"yen", 0xA5},      {"cent", 0xA2},
    {"sect", 0xA7},    {"para", 0xB6},    {"larr", 0x2190},   {"rarr", 0x2192},
    {"uarr", 0x2191},  {"darr", 0x2193},  {"harr", 0x2194},   {"check", 0x2713},
};

/* An entity at s[0] == '&' (&name; &#123; &#x1F;) appended as its
 * character: returns the bytes it took, 0 if it is not one we know. */
static size_t entity(struct cc_buf *b, const char *s, size_t n, cc_err *err)
{
    size_t end = 1;
    while (end < n && end < 40 && s[end] != ';')
        end++;
    if (end >= n || s[end] != ';' || end < 2)
        return 0;
    if (s[1] == '#') {
        bool hex = end > 2 && (s[2] == 'x' || s[2] == 'X');
        size_t i = hex ? 3 : 2, digits = end - i;
        uint32_t cp = 0;
        if (digits == 0 || digits > (hex ? 6u : 7u))
            return 0;
        for (; i < end; i++) {
            char c = s[i];
            uint32_t v;
            if (c >= '0' && c <= '9')
                v = (uint32_t)(c - '0');
            else if (hex && c >= 'a' && c <= 'f')
                v = (uint32_t)(c - 'a' + 10);
            else if (hex && c >= 'A' && c <= 'F')
                v = (uint32_t)(c - 'A' + 10);
            else
                return 0;
            cp = cp * (hex ? 16 : 10) + v;
        }
        *err = add_utf8(b, cp);
        return end + 1;
    }
    for (size_t k = 0; k < sizeof(entities) / sizeof(entities[0]); k++) {
        if (strlen(entities[k].name) == end - 1 && memcmp(s + 1, entities[k].name, end - 1) == 0) {
            *err = add_utf8(b, entities[k].cp);
            return end + 1;
        }
    }
    return 0;
}

static bool starts_ci(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    if (n < k)
        return false;
    for (size_t i = 0; i < k; i++)
        if ((s[i] | 0x20) != prefix[i])
            return false;
    return true;
}

/* HTML elements whose tags are markup, not words, sorted for bsearch. */
static const char *const html_elements[] = {
    "a", "abbr", "address", "article", "aside", "audio", "b", "big", "blockquote", "body",
    "br", "button", "caption", "center", "cite", "code", "col", "colgroup", "dd", "del",
    "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "font", "footer",
    "form", "h1", "h2", "h3", "h4", "h5", "h6", "head", "header", "hr", "html", "i",
    "iframe", "img", "input", "ins", "kbd", "label", "li", "link", "main", "mark", "meta",
    "nav", "noscript", "ol", "p", "picture", "pre", "q", "s", "samp", "script", "section",
    "small", "source", "span", "strike", "strong", "style", "sub", "summary", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "title", "tr", "tt", "u", "ul", "var",
    "video", "wbr",
};

static int cmp_name(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

/* Whether s[0..n), which starts with '<', is markup to drop: a comment,
 * a declaration or processing instruction, or a tag of an HTML element. */
static bool html_markup(const char *s, size_t n)
{
    if (n < 2)
        return false;
    if (s[1] == '!' || s[1] == '?')
        return true;
    size_t i = s[1] == '/' ? 2 : 1, k = 0;
    char name[12];
    for (; i < n && k < sizeof(name) - 1; i++) {
        char c = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] | 0x20) : s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            break;
        name[k++] = c;
    }
    name[k] = '\0';
    if (k == 0 || (i < n && s[i] != '>' && s[i] != '/' && !is_sp(s[i]) && s[i] != '\n'))
        return false;
    return bsearch(name, html_elements, sizeof(html_elements) / sizeof(html_elements[0]),
                   sizeof(html_elements[0]), cmp_name) != NULL;
}

/* The text of a raw HTML block: comments, declarations and HTML elements'
 * tags removed (each tag parts words, as block tags do), entities decoded.
 * Linear: every byte is looked at a bounded number of times. */
static cc_err html_text(struct cc_buf *o, const char *s, size_t n)
{
    cc_err err = CC_OK;
    size_t gt = 0;      /* the first '>' at or after i (n: none), found once */
    if (starts_ci(s, n, "<script") || starts_ci(s, n, "<style"))
        return CC_OK;
    for (size_t i = 0; i < n && !err;) {
        if (s[i] == '<' && gt <= i) {
            const char *p = memchr(s + i, '>', n - i);
            gt = p ? (size_t)(p - s) : n;
        }
        if (s[i] == '<' && i + 3 < n && memcmp(s + i, "<!--", 4) == 0) {
            const char *close = NULL;
            for (size_t j = i + 4; j + 2 < n && !close; j++)
                if (memcmp(s + j, "-->", 3) == 0)
                    close = s + j + 2;
            i = close ? (size_t)(close - s) + 1 : n;
        } else if (s[i] == '<' && gt < n && html_markup(s + i, gt + 1 - i)) {
            i = gt + 1;
            err = cc_buf_addch(o, ' ');
        } else if (s[i] == '&') {
            size_t used = entity(o, s + i, n - i, &err);
            if (!used)
                err = cc_buf_addch(o, '&');
            i += used ? used : 1;
        } else {
            size_t j = i + 1;
            while (j < n && s[j] != '<' && s[j] != '&')
                j++;
            err = cc_buf_add(o, s + i, j - i);
            i = j;
        }
    }
    return err;
}

/* ---- blocks ---------------------------------------------------------- */

static cc_err add_heading(struct md *m)
{
    struct ingest_text *t = m->t;
    size_t before = t->nblocks;
    cc_err err = ingest_text_add(t, INGEST_HEADING, m->level, cc_buf_str(&m->text),
                                 m->text.len, NULL);
    if (!err && m->level == 1 && !m->have_title && t->nblocks > before) {
        const char *h = t->blocks[t->nblocks - 1].text;
        err = ingest_text_set_title(t, h, strlen(h));
        m->have_title = true;
    }
    return err;
}

/* Adds the open leaf's text as its block and empties it. */
static cc_err flush(struct md *m)
{
    cc_err err = CC_OK;
    const char *s = cc_buf_str(&m->text);
    size_t n = m->text.len;
    if (n == 0 || m->leaf == LEAF_CELL)
        return CC_OK;
    switch (m->leaf) {
    case LEAF_HEADING:
        err = add_heading(m);
        break;
    case LEAF_CODE:
        err = ingest_text_add(m->t, INGEST_CODE, 0, s, n, m->lang[0] ? m->lang : NULL);
        break;
    case LEAF_ITEM:
        err = ingest_text_add(m->t, INGEST_LIST_ITEM, 0, s, n, NULL);
        break;
    case LEAF_HTML: {
        struct cc_buf plain;
        cc_buf_init(&plain, m->t->limit);
        err = html_text(&plain, s, n);
        if (!err)
            err = ingest_text_add(m->t, INGEST_PARA, 0, cc_buf_str(&plain), plain.len, NULL);
        cc_buf_release(&plain);
        break;
    }
    default:
        err = ingest_text_add(m->t, INGEST_PARA, 0, s, n, NULL);
        break;
    }
    cc_buf_reset(&m->text);
    return err;
}

/* First word of a fence's info string, without {. } decoration. */
static void set_lang(struct md *m, const MD_BLOCK_CODE_DETAIL *cd)
{
    const char *info = cd ? cd->lang.text : NULL;
    size_t n = cd && info ? cd->lang.size : 0;
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
    if (w)
        memcpy(m->lang, info, w);
    m->lang[w] = '\0';
}

static MD_BLOCKTYPE parent(const struct md *m)
{
    return m->open.len ? (MD_BLOCKTYPE)(unsigned char)m->open.ptr[m->open.len - 1]
                       : MD_BLOCK_DOC;
}

/* ---- tables ---------------------------------------------------------- */

static void table_begin(struct md *m, const MD_BLOCK_TABLE_DETAIL *td)
{
    struct table *tab = &m->tab;
    cc_buf_reset(&tab->heads);
    cc_buf_reset(&tab->row);
    tab->nheads = 0;
    tab->body_rows = td ? td->body_row_count : 0;
    tab->in_head = false;
}

static cc_err cell_end(struct md *m)
{
    struct table *tab = &m->tab;
    const char *s = cc_buf_str(&m->text);
    size_t n = m->text.len;
    cc_err err = CC_OK;
    trim(&s, &n);
    if (tab->in_head && tab->nheads < TABLE_MAX_COLS) {
        tab->head_at[tab->nheads++] = tab->heads.len;
        err = cc_buf_add(&tab->heads, s, n);
        if (!err)
            err = cc_buf_addch(&tab->heads, '\0');
    }
    /* Header cells make the row only for a table without a body. */
    if (!err && n > 0 && (!tab->in_head || tab->body_rows == 0)) {
        const char *head = !tab->in_head && tab->col < tab->nheads
                               ? tab->heads.ptr + tab->head_at[tab->col] : "";
        if (tab->row.len)
            err = cc_buf_addstr(&tab->row, CELL_SEP);
        if (!err && head[0])
            err = cc_buf_addf(&tab->row, "%s: ", head);
        if (!err)
            err = cc_buf_add(&tab->row, s, n);
    }
    tab->col++;
    cc_buf_reset(&m->text);
    return err;
}

static cc_err row_end(struct md *m)
{
    struct table *tab = &m->tab;
    cc_err err = ingest_text_add(m->t, INGEST_PARA, 0, cc_buf_str(&tab->row), tab->row.len,
                                 NULL);
    cc_buf_reset(&tab->row);
    return err;
}

/* ---- md4c callbacks -------------------------------------------------- */

/* Whether the parse is over: an error, or a table too wide to read. md4c
 * does not stop on every non-zero return (0.4.8 carries on after a
 * table's enter_block), so each callback checks this first and the result
 * is taken from the state, not from md_parse's return value. */
static bool stopped(const struct md *m)
{
    return m->err || m->too_wide;
}

static int enter_block(MD_BLOCKTYPE type, void *detail, void *ud)
{
    struct md *m = ud;
    if (stopped(m))
        return 1;
    MD_BLOCKTYPE up = parent(m);
    m->err = flush(m);
    if (!m->err)
        m->err = cc_buf_addch(&m->open, (char)type);
    if (m->err)
        return 1;
    m->leaf = LEAF_NONE;
    switch (type) {
    case MD_BLOCK_H:
        m->leaf = LEAF_HEADING;
        m->level = (int)((const MD_BLOCK_H_DETAIL *)detail)->level;
        break;
    case MD_BLOCK_P:
        m->leaf = up == MD_BLOCK_LI ? LEAF_ITEM : LEAF_PARA;
        break;
    case MD_BLOCK_LI:
        m->leaf = LEAF_ITEM;
        break;
    case MD_BLOCK_CODE:
        m->leaf = LEAF_CODE;
        set_lang(m, detail);
        break;
    case MD_BLOCK_HTML:
        m->leaf = LEAF_HTML;
        break;
    case MD_BLOCK_TABLE:
        if (((const MD_BLOCK_TABLE_DETAIL *)detail)->col_count > TABLE_MAX_COLS) {
            m->too_wide = true;
            return 1;
        }
        table_begin(m, detail);
        break;
    case MD_BLOCK_THEAD:
        m->tab.in_head = true;
        break;
    case MD_BLOCK_TBODY:
        m->tab.in_head = false;
        break;
    case MD_BLOCK_TR:
        m->tab.col = 0;
        cc_buf_reset(&m->tab.row);
        break;
    case MD_BLOCK_TH:
    case MD_BLOCK_TD:
        m->leaf = LEAF_CELL;
        break;
    default:
        break;
    }
    return 0;
}

static int leave_block(MD_BLOCKTYPE type, void *detail, void *ud)
{
    struct md *m = ud;
    (void)detail;
    if (stopped(m))
        return 1;
    if (type == MD_BLOCK_TH || type == MD_BLOCK_TD)
        m->err = cell_end(m);
    else if (type == MD_BLOCK_TR)
        m->err = row_end(m);
    else
        m->err = flush(m);
    if (m->open.len)
        m->open.len--;
    /* Text after a nested list still belongs to the enclosing item. */
    m->leaf = parent(m) == MD_BLOCK_LI ? LEAF_ITEM : LEAF_NONE;
    return m->err ? 1 : 0;
}

/* Spans (emphasis, links, images, code) only wrap text: nothing to do. */
static int span(MD_SPANTYPE type, void *detail, void *ud)
{
    (void)type;
    (void)detail;
    (void)ud;
    return 0;
}

static int text(MD_TEXTTYPE type, const MD_CHAR *s, MD_SIZE size, void *ud)
{
    struct md *m = ud;
    if (stopped(m))
        return 1;
    if (m->leaf == LEAF_NONE)
        m->leaf = LEAF_PARA;
    switch (type) {
    case MD_TEXT_HTML:
        /* An HTML block's text is cleaned when it ends; inline, an
         * element's tag goes (<br> as a break) and a placeholder stays. */
        if (m->leaf == LEAF_HTML || !html_markup(s, size))
            m->err = cc_buf_add(&m->text, s, size);
        else if (starts_ci(s, size, "<br"))
            m->err = cc_buf_addch(&m->text, '\n');
        break;
    case MD_TEXT_NULLCHAR:
        m->err = add_utf8(&m->text, 0xFFFD);
        break;
    case MD_TEXT_BR:
    case MD_TEXT_SOFTBR:
        m->err = cc_buf_addch(&m->text, '\n');
        break;
    case MD_TEXT_ENTITY:
        if (entity(&m->text, s, size, &m->err) == 0)
            m->err = cc_buf_add(&m->text, s, size);
        break;
    default:
        m->err = cc_buf_add(&m->text, s, size);
        break;
    }
    return m->err ? 1 : 0;
}

/* ---- front matter ---------------------------------------------------- */

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

/* ---- driver ---------------------------------------------------------- */

static void md_release(struct md *m)
{
    cc_buf_release(&m->text);
    cc_buf_release(&m->open);
    cc_buf_release(&m->tab.heads);
    cc_buf_release(&m->tab.row);
}

/* One pass of md4c over s[0..n) into t (empty on entry). */
static cc_err run(struct ingest_text *t, const char *s, size_t n, unsigned flags,
                  bool *too_wide)
{
    static const MD_PARSER parser_tmpl = {
        .enter_block = enter_block,
        .leave_block = leave_block,
        .enter_span = span,
        .leave_span = span,
        .text = text,
    };
    MD_PARSER parser = parser_tmpl;
    struct md m = { .t = t };
    size_t skip = 0;
    cc_buf_init(&m.text, t->limit);
    cc_buf_init(&m.open, t->limit);
    cc_buf_init(&m.tab.heads, t->limit);
    cc_buf_init(&m.tab.row, t->limit);
    parser.flags = flags;
    cc_err err = front_matter(&m, s, n, &skip);
    if (!err) {
        /* MD_SIZE is 32 bits: n is at most 3 x INGEST_PARSE_MAX_INPUT (each
         * invalid byte becomes a 3-byte U+FFFD), well below 4 GiB. */
        int rc = md_parse(s + skip, (MD_SIZE)(n - skip), &parser, &m);
        err = m.err ? m.err : m.too_wide ? CC_ELIMIT : rc ? CC_ENOMEM : CC_OK;
    }
    *too_wide = m.too_wide;
    md_release(&m);
    return err;
}

cc_err ingest_markdown_parse(const char *src, size_t len, struct ingest_text *out,
                             struct cc_diag *d)
{
    struct ingest_text t;
    struct cc_buf clean;
    bool too_wide = false;
    ingest_text_init(&t, out->limit);
    cc_buf_init(&clean, t.limit);
    cc_err err = CC_ELIMIT;
    if (len > INGEST_PARSE_MAX_INPUT)
        goto out;
    err = ingest_utf8_sanitize(&clean, src, len);
    if (!err)
        err = run(&t, cc_buf_str(&clean), clean.len, MD_FLAGS, &too_wide);
    if (err && too_wide) {
        ingest_text_release(&t);
        err = run(&t, cc_buf_str(&clean), clean.len, MD_FLAGS & ~(unsigned)MD_FLAG_TABLES,
                  &too_wide);
    }
    if (!err)
        ingest__text_move(out, &t);
out:
    if (err == CC_ELIMIT)
        cc_diag_set(d, NULL, 0, 0, "markdown text is over the %zu-byte limit", t.limit);
    cc_buf_release(&clean);
    ingest_text_release(&t);
    return err;
}
