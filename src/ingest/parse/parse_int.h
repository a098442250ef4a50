/*
 * parse_int.h - helpers shared by the parsers in src/ingest/parse/ and by
 * nothing else (the double underscore says so). Not part of the module's
 * API: parse.h is.
 */
#ifndef CC_INGEST_PARSE_PARSE_INT_H
#define CC_INGEST_PARSE_PARSE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/xmlerror.h>

#include "core/diag.h"
#include "core/err.h"
#include "ingest/text.h"

/* Appends src's paragraphs (blank-line and form-feed separated) to t and,
 * when `title`, sets the title from the first non-empty line. src must be
 * valid UTF-8 (ingest_utf8_sanitize). Used by plain.c and pdf.c. */
cc_err ingest__paragraphs(struct ingest_text *t, const char *src, size_t len, bool title);

/* Replaces out's contents with tmp's (steal: tmp is left empty). */
void ingest__text_move(struct ingest_text *out, struct ingest_text *tmp);

/* libxml2 2.9 checks a tag's attributes for duplicates pairwise: 50,000
 * attributes on one tag cost it half a minute. Documents with a tag holding
 * more than INGEST_MAX_ATTRS attributes are refused before parsing; real
 * pages and Word files stay far below. The scan is linear and approximates
 * a tokenizer (quotes respected, comments not special), which is enough to
 * bound the count libxml2 will see. */
#define INGEST_MAX_ATTRS 1000
bool ingest__too_many_attrs(const char *s, size_t len);

/* libxml2 reports some errors (encoding conversion, for one) outside any
 * parser context, on the thread's generic error handler, which prints to
 * stderr: hostile input would fill the daemon's log. A parse is bracketed
 * by quiet_begin/quiet_end, which install a silent handler for the calling
 * thread only (libxml2 keeps it per thread) and put the old one back. */
struct ingest__xml_quiet {
    xmlGenericErrorFunc func;
    void *ctx;
};
void ingest__xml_quiet_begin(struct ingest__xml_quiet *q);
void ingest__xml_quiet_end(const struct ingest__xml_quiet *q);

/* Lines of clean (sanitized) text, for the line-based parsers (rst.c,
 * asciidoc.c): s points into the text, n excludes the line end ("\n" or
 * "\r\n"), indent counts leading columns (a tab to the next multiple of
 * 8), blank says only white space. The array is heap (free it); one entry
 * per line, so bounded by the input. */
struct ingest__line {
    const char *s;
    size_t n;
    size_t indent;
    bool blank;
};
struct ingest__line *ingest__lines(const char *s, size_t len, size_t *n);

/* Leading blanks (bytes) of a line, its length without trailing blanks,
 * and whether a byte can be part of a word (ASCII alphanumerics and any
 * byte of a multi-byte UTF-8 sequence). */
size_t ingest__lead(const struct ingest__line *l);
size_t ingest__trimmed_len(const struct ingest__line *l);
bool ingest__word_char(char c);

/* The frame of the line-based parsers: sanitizes src to UTF-8, splits it
 * into lines and calls parse, which builds into a fresh text of out's
 * limit; on CC_OK that text replaces out's. Inputs over
 * INGEST_PARSE_MAX_INPUT and texts over the limit are CC_ELIMIT with the
 * reason in d. */
typedef cc_err (*ingest__lines_fn)(void *arg, struct ingest_text *t,
                                   const struct ingest__line *l, size_t n);
cc_err ingest__parse_lines(const char *src, size_t len, struct ingest_text *out,
                           struct cc_diag *d, ingest__lines_fn parse, void *arg);

/* Adds lines l[from..to) as one code block, each with `indent` leading
 * columns removed (fewer if it has fewer), lang may be NULL. */
cc_err ingest__code_lines(struct ingest_text *t, const struct ingest__line *l, size_t from,
                          size_t to, size_t indent, const char *lang);

#endif
