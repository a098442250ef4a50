/*
 * chunk.h - cutting an extracted document into the passages search ranks.
 *
 * A new chunk starts at every heading; each chunk carries the path of the
 * headings above it ("Install › From source", U+203A with a space either
 * side; levels that were skipped are left out; "" before the first
 * heading). Within a section, blocks are packed in order into chunks of at
 * most max_chars characters (UTF-8 characters, not bytes): paragraphs are
 * joined by a blank line, consecutive list items by a line end and rendered
 * "- item", code kept as is. A block that does not fit in one chunk starts
 * a new chunk and is split at sentence ends, then at spaces, and only then
 * inside a word (never inside a UTF-8 sequence); code is split at line ends
 * first. The heading's own text is in the path, not repeated in the text.
 *
 * Invariants of the result: no chunk is empty; every chunk's text is valid
 * UTF-8 of 1..max_chars characters; ord counts 0, 1, 2 ... in document
 * order. Adjacent small sections are not merged (simple and predictable:
 * one section never shares a chunk with another).
 *
 * Ownership: struct ingest_chunks is caller-owned storage owning its items
 * and their strings; ingest_chunks_release frees them.
 */
#ifndef CC_INGEST_CHUNK_H
#define CC_INGEST_CHUNK_H

#include <stddef.h>

#include "core/err.h"
#include "ingest/text.h"

#define INGEST_CHUNK_DEFAULT_MAX 2000

struct ingest_chunk {
    char *heading_path;   /* never NULL; "" when no heading precedes */
    char *text;           /* never NULL or empty */
    size_t chars;         /* characters in text, 1..max_chars */
    size_t ord;           /* position in the document, from 0 */
};

struct ingest_chunks {
    struct ingest_chunk *items;
    size_t n;
    size_t cap;
};

void ingest_chunks_init(struct ingest_chunks *c);
/* Frees every chunk; the list is empty and reusable afterwards. NULL-safe. */
void ingest_chunks_release(struct ingest_chunks *c);

/* Chunks t with at most max_chars characters per chunk (0 = the default
 * INGEST_CHUNK_DEFAULT_MAX). out must be initialized and is written only on
 * success (its previous chunks are released then). t must satisfy
 * ingest_text's invariants (valid UTF-8). Errors: CC_EINVAL for a NULL
 * argument. */
cc_err ingest_chunk(const struct ingest_text *t, size_t max_chars, struct ingest_chunks *out);

#endif
