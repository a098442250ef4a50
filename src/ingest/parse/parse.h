/*
 * parse.h - turning a document's bytes into a struct ingest_text: one
 * dispatch function by content type or extension, and one entry point per
 * format (markdown.c, plain.c, html.c, docx.c, pdf.c).
 *
 * Contract shared by every parser here:
 *   - `out` must be an initialized struct ingest_text (ingest_text_init); its
 *     limit bounds the extracted text. `out` is written only on success: the
 *     parser builds into its own storage and replaces out's contents (after
 *     releasing them) when it returns CC_OK. On error `out` is untouched and
 *     `d` (optional) says why in words a user can act on.
 *   - The input may be any bytes: nothing here trusts it to be well-formed,
 *     UTF-8 or small. Inputs over INGEST_PARSE_MAX_INPUT are refused with
 *     CC_ELIMIT before any work.
 *   - Nothing touches the network or the file system: HTML and XML are
 *     parsed with no network, no DTD loading and no entity substitution
 *     (only the predefined XML and HTML entities and character references
 *     are decoded); DOCX is opened from memory; PDF goes to a pdftotext
 *     subprocess over pipes.
 *   - Errors: CC_EPARSE for input that is not what its type claims,
 *     CC_ELIMIT for size caps, CC_ETIMEOUT (pdftotext too slow),
 *     CC_EUPSTREAM (pdftotext could not be run), CC_EUNSUPPORTED (unknown
 *     type).
 *
 * libxml2 must be initialized once per process before threads parse with
 * it: the daemon calls ingest_parse_global_init() at start; the parsers also
 * call it themselves (pthread_once), so tests and tools need not.
 */
#ifndef CC_INGEST_PARSE_PARSE_H
#define CC_INGEST_PARSE_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/diag.h"
#include "core/err.h"
#include "ingest/text.h"

/* Largest input any parser accepts (libxml2 takes an int length). */
#define INGEST_PARSE_MAX_INPUT ((size_t)256 << 20)

/* DOCX caps: an entry larger than this inflated is refused (zip bombs). */
#define INGEST_DOCX_MAX_XML ((size_t)50 << 20)
#define INGEST_DOCX_MAX_ENTRIES 10000

/* PDF defaults for ingest_parse. */
#define INGEST_PDF_TIMEOUT_MS 30000

/* Idempotent and thread-safe: initializes libxml2 once per process. */
void ingest_parse_global_init(void);

/* Parses by content type ("text/markdown", parameters such as
 * "; charset=utf-8" ignored, case-insensitive) or file extension ("md",
 * ".md"): markdown/md/markdown, text/plain/txt, text/html/html/htm,
 * application/pdf/pdf, the DOCX type/docx. Anything else is CC_EUNSUPPORTED
 * with the supported list in `d`. */
cc_err ingest_parse(const char *content_type_or_ext, const void *data, size_t len,
                    struct ingest_text *out, struct cc_diag *d);

/* CommonMark with GitHub tables and strikethrough, parsed by md4c:
 * headings, code (with its language), paragraphs, list items, blockquotes
 * (as their content), tables (a row per paragraph, "Header: value — ..."),
 * raw HTML (its text), YAML front matter (title: only). Inline markup is
 * reduced to its text. The title is front matter's, else the first
 * level-1 heading. */
cc_err ingest_markdown_parse(const char *src, size_t len, struct ingest_text *out,
                             struct cc_diag *d);

/* reStructuredText: section titles (underlined, or over- and underlined)
 * as headings, levels given by the adornment styles in the order first met
 * (as docutils does); literal blocks ("::" and directives such as
 * ".. code-block:: lang", ".. code::", ".. sourcecode::") as code; other
 * directives' bodies as paragraphs, comments dropped; bullet and
 * enumerated list items; field lists as paragraphs; roles
 * (":ref:`text <target>`") and inline markup reduced to their text. The
 * title is the first heading. */
cc_err ingest_rst_parse(const char *src, size_t len, struct ingest_text *out,
                        struct cc_diag *d);

/* AsciiDoc: "= Title" (document title) and "==".."======" section titles
 * (also Markdown-style "#"), listing and literal blocks ("----", "....",
 * "```") as code with their [source,lang], other delimited blocks
 * ("====", "****", "____", "--") as their content, list items ("*", "-",
 * ".", "1."), attribute entries (":name: value"), block attributes
 * ("[...]"), block titles (".Title"), comments ("//", "////") dropped;
 * inline markup and macros reduced to their text. */
cc_err ingest_asciidoc_parse(const char *src, size_t len, struct ingest_text *out,
                             struct cc_diag *d);

/* Paragraphs split on blank lines (and form feeds); the title is the first
 * non-empty line. */
cc_err ingest_plain_parse(const char *src, size_t len, struct ingest_text *out,
                          struct cc_diag *d);

/* Main content of an HTML page (see html.c for the selectors) as headings,
 * paragraphs, list items and code; the title from <title> without a
 * " | Site" style suffix, else the first h1. base_url (may be NULL) only
 * names the document in libxml2; nothing is fetched. */
cc_err ingest_html_extract(const char *html, size_t len, const char *base_url,
                           struct ingest_text *out, struct cc_diag *d);

/* Word .docx from memory: paragraphs, Heading1-6/Title styles and outline
 * levels as headings, numbered paragraphs as list items, dc:title as title.
 * Not a zip, or no word/document.xml: CC_EPARSE "not a DOCX file: ...". */
cc_err ingest_docx_parse(const void *data, size_t len, struct ingest_text *out,
                         struct cc_diag *d);

/* PDF via `pdftotext -enc UTF-8 -eol unix - -` (no shell; the PDF on stdin).
 * pdftotext: path or NULL to search PATH. timeout_ms: 0 = default. The
 * child runs in its own process group, killed whole on timeout
 * (CC_ETIMEOUT) or when its output passes out's limit (CC_ELIMIT). A
 * failing pdftotext is CC_EPARSE "not a PDF or damaged: <its stderr>". */
cc_err ingest_pdf_parse(const void *data, size_t len, const char *pdftotext,
                        int timeout_ms, struct ingest_text *out, struct cc_diag *d);

#endif
