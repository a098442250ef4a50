/*
 * text.h - the extracted-document model every parser produces and the
 * chunker consumes: an optional title and a flat list of blocks (headings,
 * paragraphs, code, list items) in reading order.
 *
 * Invariants, kept by ingest_text_add and ingest_text_set_title whatever
 * bytes they are given:
 *   - all text is valid UTF-8 (each invalid byte becomes U+FFFD) without
 *     NUL bytes;
 *   - headings, paragraphs, list items and the title are whitespace-
 *     normalized: runs of white space (ASCII, NBSP, U+2028/9) become one
 *     space, none at either end; zero-width spaces and BOMs are dropped;
 *   - code keeps its text verbatim except that line ends become "\n",
 *     control characters other than tab are dropped, trailing blanks of each
 *     line and leading/trailing blank lines are removed;
 *   - no block has empty text (adding one that normalizes to "" is a no-op);
 *   - heading levels are 1..6 (clamped); `lang` is NULL unless a code block
 *     had a language;
 *   - `bytes` never exceeds `limit`: it counts the title, every text and
 *     lang plus INGEST_BLOCK_OVERHEAD per block, so a flood of tiny blocks is
 *     bounded as well as one huge one. An add past the limit returns
 *     CC_ELIMIT and leaves the text unchanged.
 *
 * Because of this normalization the same content hashes the same
 * (ingest_text_hash) whichever format and whatever whitespace it came in.
 *
 * Ownership: struct ingest_text is caller-owned storage; it owns its title,
 * blocks and their strings, all freed by ingest_text_release. Not
 * thread-safe; nothing here keeps global state.
 */
#ifndef CC_INGEST_TEXT_H
#define CC_INGEST_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct cc_buf;

/* Default for limit == 0: the text of any real document fits easily. */
#define INGEST_TEXT_DEFAULT_LIMIT ((size_t)16 << 20)
/* Accounted per block besides its strings (see `bytes`). */
#define INGEST_BLOCK_OVERHEAD 16
/* Titles are cut to this many characters (not bytes). */
#define INGEST_TITLE_MAX_CHARS 200
/* Code languages longer than this are dropped, not cut. */
#define INGEST_LANG_MAX 32

enum ingest_block_kind { INGEST_HEADING, INGEST_PARA, INGEST_CODE, INGEST_LIST_ITEM };

struct ingest_block {
    enum ingest_block_kind kind;
    int level;     /* headings: 1..6; 0 otherwise */
    char *text;    /* never NULL, never empty */
    char *lang;    /* code: language ("python") or NULL */
};

struct ingest_text {
    char *title;                 /* NULL when the document has none */
    struct ingest_block *blocks;
    size_t nblocks;
    size_t cap;                  /* allocated blocks */
    size_t bytes;                /* accounted size, <= limit */
    size_t limit;
};

/* Empty text with the given limit (0 = INGEST_TEXT_DEFAULT_LIMIT). */
void ingest_text_init(struct ingest_text *t, size_t limit);
/* Frees everything; the limit is kept so the text can be reused. NULL-safe. */
void ingest_text_release(struct ingest_text *t);

/* Appends a block built from text[0..len) (any bytes), normalized as the
 * invariants say; lang (may be NULL, any bytes, NUL-terminated) is kept for
 * code only. Text that normalizes to nothing adds nothing and returns CC_OK.
 * CC_ELIMIT if the block would take `bytes` past `limit`; the text is then
 * unchanged. */
cc_err ingest_text_add(struct ingest_text *t, enum ingest_block_kind kind, int level,
                       const char *text, size_t len, const char *lang);

/* Sets (replaces) the title from s[0..len): normalized, cut to
 * INGEST_TITLE_MAX_CHARS characters. Empty after normalization clears it.
 * CC_ELIMIT past the limit, leaving the old title. */
cc_err ingest_text_set_title(struct ingest_text *t, const char *s, size_t len);

/* Lower-case hex SHA-256 of a canonical serialization of title and blocks
 * (kind, level, lang, length-prefixed text), so equal content gives equal
 * hashes and no two different texts share a serialization. */
void ingest_text_hash(const struct ingest_text *t, char out[65]);

/* UTF-8 helpers shared by the parsers and the chunker. */

/* Length (1-4) of the well-formed UTF-8 sequence at s[0..len), or 0 if the
 * bytes there are not one (overlong, surrogate, > U+10FFFF, truncated). */
size_t ingest_utf8_len(const unsigned char *s, size_t len);
/* Characters in s[0..len) of valid UTF-8 (counts non-continuation bytes). */
size_t ingest_utf8_chars(const char *s, size_t len);
/* Byte offset of the start of character `chars` in valid UTF-8 s[0..len),
 * or len if the string is shorter. Never lands inside a sequence. */
size_t ingest_utf8_offset(const char *s, size_t len, size_t chars);

/* Appends s[0..len) to out as valid UTF-8 without NUL bytes (each invalid
 * byte becomes U+FFFD); a leading BOM is dropped. CC_ELIMIT from the buffer's
 * limit, with out then holding a prefix. Used by the line-based parsers,
 * which then only ever see clean text. */
cc_err ingest_utf8_sanitize(struct cc_buf *out, const char *s, size_t len);

#endif
