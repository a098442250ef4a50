/*
 * yaml_guard.c - the pre-scan and expansion budget shared by YAML front ends
 * (see yaml_guard.h). Moved here from config_yaml.c unchanged in behaviour.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/yaml_guard.h"

#define MAX_QUOTE_RUN 3 /* '' escapes in a row: see cc_yaml_check_text */

struct pos {
    unsigned line, col; /* 1-based; 0 = unknown */
};

/* Length of the UTF-8 sequence at s (at most n bytes) and its code point;
 * 0 if it is malformed, overlong, a surrogate or past U+10FFFF. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    size_t len = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3
                               : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
    if (len == 0 || len > n)
        return 0;
    uint32_t c = len == 1 ? s[0] : s[0] & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

/* YAML's printable set (1.2, 5.1): tab, line breaks and no other controls. */
static bool yaml_printable(uint32_t c)
{
    if (c < 0x20)
        return c == '\t' || c == '\n' || c == '\r';
    if (c >= 0x7f && c <= 0x9f)
        return c == 0x85;
    return c != 0xfffe && c != 0xffff;
}

/* The pre-scan's view of the text so far; see check_text. */
struct scan {
    const struct cc_yaml_limits *lim;
    struct pos at;          /* of the current character */
    uint32_t prev;          /* previous character, '\n' at a line start */
    unsigned gap;           /* blanks after an indicator: 0 none, 1 spaces, 2 a tab */
    bool blank_line;        /* nothing but blanks on this line so far */
    bool comment_line;      /* the line's first non-blank is '#' */
    size_t blank_run;       /* blank lines in a row */
    size_t entries;         /* ':', ',', '?' and '{' seen */
    size_t anchors;
    size_t quote_run;       /* single quotes in a row */
    bool prefix;            /* still in the line's indentation and "- ", "? ", ": " */
    bool header_ok;         /* a block header may come next (after an indicator) */
    unsigned node_col;      /* 1-based column where the line's last prefix ends */
    unsigned block_col;     /* a block scalar's text must start right of this; 0 none */
};

static bool is_blank(uint32_t c)
{
    return c == ' ' || c == '\t';
}

/* Block indicators that may be followed by a blank. */
static bool is_indicator(uint32_t c)
{
    return c == '-' || c == '?' || c == ':';
}

static bool is_break(uint32_t c)
{
    return c == '\n' || c == '\r' || c == 0x85 || c == 0x2028 || c == 0x2029;
}

/* Ends a line at a line break; false once too many blank lines follow
 * each other. Lines are counted at '\n', '\r' and "\r\n", as libfyaml
 * counts them; NEL, LS and PS end lines only for the blank-line rule. */
static bool scan_break(struct scan *sc, uint32_t c, uint32_t next)
{
    if (c == '\r' && next == '\n') /* one break, counted at the '\n' */
        return true;
    sc->blank_run = sc->blank_line ? sc->blank_run + 1 : 0;
    sc->blank_line = true;
    sc->comment_line = false;
    sc->header_ok = false;
    sc->prefix = true;
    sc->gap = 0;
    if (c == '\n' || c == '\r') {
        sc->at.line++;
        sc->at.col = 0;
    }
    return sc->blank_run <= sc->lim->max_blank_run;
}

/* Block scalars ('|', '>') whose text is not indented more than their key
 * make libfyaml 0.7.12 return wrong text, with a byte it never wrote. So
 * after a block header, the first line with text (a comment too) must be
 * indented right of where the header's line starts its node: "  key: |"
 * wants column 4 or more. A header is a '|' or '>' at the start of a line or
 * after an indicator, possibly after a tag or anchor ("key: !!str |"). */
static cc_err scan_block(struct scan *sc, uint32_t c, uint32_t next, bool ends,
                         const char **why)
{
    *why = "the text of a block scalar ('|' or '>') must be indented more than its key";
    if (sc->block_col && sc->blank_line) {
        if (sc->at.col <= sc->block_col)
            return CC_EPARSE;
        sc->block_col = 0;
    }
    if (sc->blank_line)
        sc->comment_line = c == '#';
    bool token_start = is_blank(sc->prev) || is_break(sc->prev);
    if (sc->comment_line || !token_start)
        return CC_OK;
    bool header = (c == '|' || c == '>') &&
                  (ends || next == '+' || next == '-' || (next >= '0' && next <= '9'));
    if (header && (sc->prefix || sc->header_ok))
        sc->block_col = sc->prefix ? sc->at.col - 1 : sc->node_col;
    sc->header_ok = (sc->header_ok || sc->prefix) && (c == '!' || c == '&');
    if (sc->prefix && !(is_indicator(c) && ends)) {
        sc->prefix = false;
        sc->node_col = sc->at.col;
    }
    return CC_OK;
}

/* One character that is not a line break; `next` is the one after it (0 at
 * the end). On error *why says what is wrong. */
static cc_err scan_char(struct scan *sc, uint32_t c, uint32_t next, const char **why)
{
    bool ends = next == 0 || is_blank(next) || is_break(next);
    sc->quote_run = c == '\'' ? sc->quote_run + 1 : 0;
    if (is_blank(c)) {
        if (is_indicator(sc->prev)) {
            sc->gap = 1;
            sc->header_ok = true;
        }
        if (sc->gap && c == '\t')
            sc->gap = 2;
        sc->prev = c;
        return CC_OK;
    }
    cc_err err = scan_block(sc, c, next, ends, why);
    if (err)
        return err;
    sc->blank_line = false;
    bool tab_gap = sc->gap == 2;
    sc->gap = 0;
    sc->prev = c;
    *why = "a tab between two indicators (such as ':' and '-') is not supported; "
           "use spaces";
    if (sc->comment_line)
        return CC_OK;
    if (tab_gap && ((c == '-' && ends) || c == '?' || c == ':' || c == '|' || c == '>'))
        return CC_EPARSE;
    *why = "more than 3 single quotes in a row; write the value "
           "in double quotes, where ' needs no escape";
    if (sc->quote_run > MAX_QUOTE_RUN)
        return CC_EPARSE;
    sc->entries += c == ':' || c == ',' || c == '?' || c == '{';
    *why = "entries";
    if (sc->entries > sc->lim->max_entries)
        return CC_ELIMIT;
    sc->anchors += c == '&' && !ends;
    *why = "anchors";
    return sc->anchors > sc->lim->max_anchors ? CC_ELIMIT : CC_OK;
}

/* Checks the text before libfyaml sees it: it must be UTF-8 YAML text, and
 * it must stay clear of what libfyaml 0.7.12 handles badly:
 *   - malformed UTF-8 can make it loop forever (upstream issue #101);
 *   - a tab between indicators inside an explicit key ("? a:\t-") crashes
 *     it when it cleans up after the error (like upstream issue #57);
 *   - a block scalar not indented past its key yields wrong text (scan_block);
 *   - two '' escapes in a row in a single-quoted scalar come out wrong
 *     ('a''''b' gives a''' ), and five leak memory;
 *   - long runs of blank lines inside a scalar, many keys in one mapping
 *     (its duplicate-key check) and many anchors cost quadratic time.
 * The counting rules count characters anywhere, quoted or not: a real
 * configuration is nowhere near the limits. Full-line comments are exempt,
 * as libfyaml skips them whole. */
static cc_err fault(struct cc_yaml_fault *f, struct pos at, cc_err e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static cc_err fault(struct cc_yaml_fault *f, struct pos at, cc_err e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
    va_end(ap);
    f->line = at.line;
    f->col = at.col;
    return e;
}

static cc_err limit_fault(struct cc_yaml_fault *f, struct pos at, const char *why,
                          const struct cc_yaml_limits *lim)
{
    if (strcmp(why, "entries") == 0)
        return fault(f, at, CC_ELIMIT, "more than %zu ':', ',', '?' and '{' characters; %s "
                     "needs %s", lim->max_entries, lim->what, lim->entries_hint);
    return fault(f, at, CC_ELIMIT, "more than %zu anchors ('&'); %s needs a few",
                 lim->max_anchors, lim->what);
}

cc_err cc_yaml_check_text(const char *text, size_t len, const struct cc_yaml_limits *lim,
                          struct cc_yaml_fault *f)
{
    const unsigned char *s = (const unsigned char *)text;
    struct scan sc = {.lim = lim, .at = {1, 0}, .prev = '\n', .blank_line = true,
                      .prefix = true};
    for (size_t i = 0; i < len;) {
        uint32_t c = 0, next = 0;
        size_t n = utf8_decode(s + i, len - i, &c);
        sc.at.col++;
        if (n == 0)
            return fault(f, sc.at, CC_EPARSE, "invalid UTF-8 (byte 0x%02x); the file must "
                         "be UTF-8 text", s[i]);
        if (!yaml_printable(c))
            return fault(f, sc.at, CC_EPARSE, "control character U+%04X is not allowed in "
                         "YAML; write it as an escape in a double-quoted string", c);
        if (i + n < len && utf8_decode(s + i + n, len - i - n, &next) == 0)
            next = 0xfffd; /* malformed: reported in the next round */
        struct pos here = sc.at;
        if (is_break(c) && !scan_break(&sc, c, next))
            return fault(f, here, CC_ELIMIT, "more than %zu blank lines in a row",
                         lim->max_blank_run);
        const char *why = "";
        cc_err err = is_break(c) ? CC_OK : scan_char(&sc, c, next, &why);
        if (err == CC_ELIMIT)
            return limit_fault(f, here, why, lim);
        if (err)
            return fault(f, here, err, "%s", why);
        i += n;
    }
    return CC_OK;
}

/* Spends one unit of *budget per node the resolved document would hold;
 * false once it would exceed the budget or nest too deeply. */
static bool within(struct fy_node *n, unsigned depth, unsigned max_depth, size_t *budget)
{
    if (!n)
        return true;
    if (*budget == 0 || depth > max_depth)
        return false;
    (*budget)--;
    void *it = NULL;
    if (fy_node_is_alias(n))
        return within(fy_node_resolve_alias(n), depth + 1, max_depth, budget);
    if (fy_node_is_mapping(n)) {
        struct fy_node_pair *p;
        while ((p = fy_node_mapping_iterate(n, &it)) != NULL)
            if (!within(fy_node_pair_key(p), depth + 1, max_depth, budget) ||
                !within(fy_node_pair_value(p), depth + 1, max_depth, budget))
                return false;
    } else if (fy_node_is_sequence(n)) {
        struct fy_node *item;
        while ((item = fy_node_sequence_iterate(n, &it)) != NULL)
            if (!within(item, depth + 1, max_depth, budget))
                return false;
    }
    return true;
}

bool cc_yaml_within_budget(struct fy_node *n, unsigned max_depth, size_t *budget)
{
    return within(n, 0, max_depth, budget);
}

static void discard_output(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
    (void)diag;
    (void)user;
    (void)buf;
    (void)len;
}

cc_err cc_yaml_open(struct cc_yaml *y, const char *text, size_t len)
{
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = discard_output;
    dcfg.level = FYET_ERROR;
    dcfg.colorize = false;
    y->diag = fy_diag_create(&dcfg);
    if (!y->diag)
        return CC_ENOMEM;
    fy_diag_set_collect_errors(y->diag, true);
    struct fy_parse_cfg pcfg = {.flags = FYPCF_QUIET | FYPCF_JSON_NONE, .diag = y->diag};
    y->parser = fy_parser_create(&pcfg);
    if (!y->parser || fy_parser_set_string(y->parser, text, len) != 0)
        return CC_ENOMEM;
    return CC_OK;
}

void cc_yaml_close(struct cc_yaml *y)
{
    if (y->doc)
        fy_parse_document_destroy(y->parser, y->doc);
    if (y->parser)
        fy_parser_destroy(y->parser);
    if (y->diag)
        fy_diag_destroy(y->diag);
    y->doc = NULL;
    y->parser = NULL;
    y->diag = NULL;
}

void cc_yaml_first_error(const struct cc_yaml *y, const char *fallback, char *msg,
                         size_t msgsz, unsigned *line, unsigned *col)
{
    void *it = NULL;
    struct fy_diag_error *e;
    *line = *col = 0;
    snprintf(msg, msgsz, "%s", fallback);
    while (y->diag && (e = fy_diag_errors_iterate(y->diag, &it)) != NULL) {
        if (e->type < FYET_ERROR)
            continue;
        *line = e->line > 0 ? (unsigned)e->line : 0;
        *col = e->column > 0 ? (unsigned)e->column : 0;
        const char *m = e->msg ? e->msg : fallback;
        if (strcmp(m, "duplicate key") == 0)
            m = "duplicate key (a key may appear only once in a mapping)";
        snprintf(msg, msgsz, "%s", m);
        return;
    }
}

bool cc_yaml_node_pos(struct fy_node *n, unsigned max_depth, unsigned *line, unsigned *col)
{
    for (unsigned depth = 0; n && depth < max_depth; depth++) {
        void *it = NULL;
        if (fy_node_is_scalar(n)) {
            struct fy_token *t = fy_node_get_scalar_token(n);
            const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
            if (!m || m->line < 0 || m->column < 0)
                return false;
            *line = (unsigned)m->line + 1;
            *col = (unsigned)m->column + 1;
            /* the mark of a quoted scalar is past its opening quote */
            enum fy_node_style st = fy_node_get_style(n);
            if ((st == FYNS_SINGLE_QUOTED || st == FYNS_DOUBLE_QUOTED) && *col > 1)
                (*col)--;
            return true;
        }
        if (fy_node_is_mapping(n)) {
            struct fy_node_pair *pr = fy_node_mapping_iterate(n, &it);
            n = pr ? fy_node_pair_key(pr) : NULL;
        } else {
            n = fy_node_sequence_iterate(n, &it);
        }
    }
    return false;
}

bool cc_yaml_is_null(struct fy_node *n)
{
    if (!n)
        return true;
    if (!fy_node_is_scalar(n) || fy_node_get_style(n) != FYNS_PLAIN)
        return false;
    size_t len = 0;
    const char *s = fy_node_get_scalar(n, &len);
    if (!s || len == 0)
        return true;
    return (len == 1 && s[0] == '~') ||
           (len == 4 && (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) ||
                         !memcmp(s, "NULL", 4)));
}
