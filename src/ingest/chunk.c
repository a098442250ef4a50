/*
 * chunk.c - sections by heading, packed into size-capped chunks; see
 * chunk.h for the rules. Sizes are in characters; since ingest_text is valid
 * UTF-8 a character starts at every byte that is not 10xxxxxx, and every cut
 * below is made at such a byte.
 *
 * A block too large for one chunk is split by a list of cuts tried in
 * order (sentence, word, character for prose; line, word, character for
 * code); each piece is then packed greedily with the joiner that restores
 * the original text between it and its predecessor, so a block split over
 * several chunks reads the same when they are put back together. A unit
 * that has to be split starts a new chunk, so cuts fall at the strongest
 * boundary available (a short paragraph is not glued to the first words
 * of a huge one).
 * Heading path parts are cut to PATH_PART_MAX characters so a freak heading
 * cannot make every chunk of its section huge.
 */
#include "ingest/chunk.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

#define PATH_PART_MAX 200
static const char PATH_SEP[] = " \xE2\x80\xBA ";   /* " › " */

enum cut { CUT_SENTENCE, CUT_LINE, CUT_WORD, CUT_CHAR };

static const enum cut PROSE_CUTS[] = { CUT_SENTENCE, CUT_WORD, CUT_CHAR };
static const enum cut CODE_CUTS[] = { CUT_LINE, CUT_WORD, CUT_CHAR };

struct packer {
    struct ingest_chunks *out;
    size_t max;
    struct cc_buf cur;            /* the chunk being filled */
    size_t cur_chars;
    struct cc_buf path;           /* heading path of the current section */
};

void ingest_chunks_init(struct ingest_chunks *c)
{
    memset(c, 0, sizeof(*c));
}

void ingest_chunks_release(struct ingest_chunks *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->items[i].heading_path);
        free(c->items[i].text);
    }
    free(c->items);
    memset(c, 0, sizeof(*c));
}

/* Ends the current chunk, if it has any text after trailing blanks go. */
static void emit(struct packer *p)
{
    while (p->cur.len > 0 && strchr(" \t\n", p->cur.ptr[p->cur.len - 1])) {
        p->cur.ptr[--p->cur.len] = '\0';
        p->cur_chars--;
    }
    if (p->cur.len == 0) {
        p->cur_chars = 0;
        return;
    }
    struct ingest_chunks *o = p->out;
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 16;
        o->items = cc_xrealloc(o->items, o->cap * sizeof(*o->items));
    }
    o->items[o->n] = (struct ingest_chunk){
        .heading_path = cc_xstrdup(cc_buf_str(&p->path)),
        .text = cc_buf_take(&p->cur),
        .chars = p->cur_chars,
        .ord = o->n,
    };
    o->n++;
    p->cur_chars = 0;
}

/* Appends a piece of at most max characters, after `joiner` unless it
 * starts a chunk; ends the chunk first when both would not fit. */
static void put(struct packer *p, const char *s, size_t n, const char *joiner)
{
    size_t pc = ingest_utf8_chars(s, n), jc = strlen(joiner);
    if (p->cur_chars > 0 && p->cur_chars + jc + pc > p->max)
        emit(p);
    if (p->cur_chars == 0) {
        if (n == 0)
            return;              /* a chunk never starts with an empty piece */
    } else {
        cc_buf_addstr(&p->cur, joiner);
        p->cur_chars += jc;
    }
    cc_buf_add(&p->cur, s, n);
    p->cur_chars += pc;
}

/* Length of the next segment of s[0..n) under `cut` and of the separator
 * after it (dropped from the segment and restored as the joiner). */
static size_t segment(const char *s, size_t n, enum cut cut, size_t *sep)
{
    *sep = 0;
    for (size_t i = 0; i < n; i++) {
        if (cut == CUT_LINE && s[i] == '\n') {
            *sep = 1;
            return i;
        }
        if (cut == CUT_WORD && s[i] == ' ') {
            *sep = 1;
            return i;
        }
        if (cut == CUT_SENTENCE && strchr(".!?", s[i])) {
            size_t e = i + 1;
            if (e < n && strchr("\"')]", s[e]))
                e++;
            if (e < n && s[e] == ' ') {
                *sep = 1;
                return e;
            }
        }
    }
    return n;
}

static const char *joiner_of(enum cut cut)
{
    return cut == CUT_LINE ? "\n" : cut == CUT_CHAR ? "" : " ";
}

/* Packs s[0..n), splitting it by cuts[0..ncuts) as far as needed. */
static void put_split(struct packer *p, const char *s, size_t n, const char *joiner,
                      const enum cut *cuts, size_t ncuts)
{
    if (ingest_utf8_chars(s, n) <= p->max || ncuts == 0) {
        put(p, s, n, joiner);
        return;
    }
    /* A unit that must be split starts a chunk: the cut before it is at a
     * stronger boundary (paragraph, sentence) than any inside it. */
    emit(p);
    const char *j = joiner;
    if (cuts[0] == CUT_CHAR) {
        while (n > 0) {
            size_t k = ingest_utf8_offset(s, n, p->max);
            put(p, s, k, j);
            s += k;
            n -= k;
            j = "";
        }
        return;
    }
    while (n > 0) {
        size_t sep, k = segment(s, n, cuts[0], &sep);
        put_split(p, s, k, j, cuts + 1, ncuts - 1);
        s += k + sep;
        n -= k + sep;
        j = joiner_of(cuts[0]);
    }
}

static void set_path(struct packer *p, const char *const heads[6])
{
    cc_buf_reset(&p->path);
    for (int i = 0; i < 6; i++) {
        if (!heads[i])
            continue;
        if (p->path.len)
            cc_buf_addstr(&p->path, PATH_SEP);
        size_t len = strlen(heads[i]);
        cc_buf_add(&p->path, heads[i], ingest_utf8_offset(heads[i], len, PATH_PART_MAX));
    }
}

static void add_block(struct packer *p, const struct ingest_block *b,
                      enum ingest_block_kind prev, struct cc_buf *scratch)
{
    const char *joiner = prev == INGEST_LIST_ITEM && b->kind == INGEST_LIST_ITEM ? "\n" : "\n\n";
    if (b->kind == INGEST_CODE) {
        put_split(p, b->text, strlen(b->text), joiner, CODE_CUTS, 3);
    } else if (b->kind == INGEST_LIST_ITEM) {
        cc_buf_reset(scratch);
        cc_buf_addstr(scratch, "- ");
        cc_buf_addstr(scratch, b->text);
        put_split(p, scratch->ptr, scratch->len, joiner, PROSE_CUTS, 3);
    } else {
        put_split(p, b->text, strlen(b->text), joiner, PROSE_CUTS, 3);
    }
}

cc_err ingest_chunk(const struct ingest_text *t, size_t max_chars, struct ingest_chunks *out)
{
    if (!t || !out)
        return CC_EINVAL;
    struct ingest_chunks res;
    struct cc_buf scratch;
    struct packer p = { .out = &res, .max = max_chars ? max_chars : INGEST_CHUNK_DEFAULT_MAX };
    const char *heads[6] = { 0 };
    enum ingest_block_kind prev = INGEST_HEADING;
    ingest_chunks_init(&res);
    cc_buf_init(&p.cur, SIZE_MAX);
    cc_buf_init(&p.path, SIZE_MAX);
    cc_buf_init(&scratch, SIZE_MAX);
    for (size_t i = 0; i < t->nblocks; i++) {
        const struct ingest_block *b = &t->blocks[i];
        if (b->kind == INGEST_HEADING) {
            emit(&p);
            int level = b->level >= 1 && b->level <= 6 ? b->level : 1;
            heads[level - 1] = b->text;
            for (int k = level; k < 6; k++)
                heads[k] = NULL;
            set_path(&p, heads);
        } else {
            add_block(&p, b, prev, &scratch);
        }
        prev = b->kind;
    }
    emit(&p);
    cc_buf_release(&p.cur);
    cc_buf_release(&p.path);
    cc_buf_release(&scratch);
    ingest_chunks_release(out);
    *out = res;
    return CC_OK;
}
