/*
 * parse.c - dispatch by content type or extension, libxml2's one-time
 * initialization, and the helpers the format parsers share.
 *
 * The type table is constant; the only process-wide state is libxml2's own,
 * set up once behind a pthread_once.
 */
#include "ingest/parse/parse.h"
#include "ingest/parse/parse_int.h"
#include "ingest/parse/libs.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

enum format { FMT_MARKDOWN, FMT_PLAIN, FMT_HTML, FMT_PDF, FMT_DOCX, FMT_RST, FMT_ASCIIDOC };

static const struct {
    const char *name;
    enum format fmt;
} TYPES[] = {
    { "text/markdown", FMT_MARKDOWN },
    { "text/x-markdown", FMT_MARKDOWN },
    { "md", FMT_MARKDOWN },
    { "markdown", FMT_MARKDOWN },
    { "text/plain", FMT_PLAIN },
    { "txt", FMT_PLAIN },
    { "text/html", FMT_HTML },
    { "application/xhtml+xml", FMT_HTML },
    { "html", FMT_HTML },
    { "htm", FMT_HTML },
    { "application/pdf", FMT_PDF },
    { "pdf", FMT_PDF },
    { "application/vnd.openxmlformats-officedocument.wordprocessingml.document", FMT_DOCX },
    { "docx", FMT_DOCX },
    { "text/x-rst", FMT_RST },
    { "text/prs.fallenstein.rst", FMT_RST },
    { "rst", FMT_RST },
    { "rest", FMT_RST },
    { "text/asciidoc", FMT_ASCIIDOC },
    { "text/x-asciidoc", FMT_ASCIIDOC },
    { "adoc", FMT_ASCIIDOC },
    { "asciidoc", FMT_ASCIIDOC },
    { "asc", FMT_ASCIIDOC },
};

static const char SUPPORTED[] =
    "text/markdown (md, markdown), text/plain (txt), text/html (html, htm), "
    "application/pdf (pdf), "
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document (docx), "
    "text/x-rst (rst, rest), text/asciidoc (adoc, asciidoc, asc)";

void ingest_parse_global_init(void)
{
    /* Loads libxml2 and libzip now rather than at the first document;
     * callers that want a small idle footprint simply do not call this. */
    ingest__libs();
}

static void silent(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

void ingest__xml_quiet_begin(struct ingest__xml_quiet *q)
{
    q->func = *ingest__libs()->__xmlGenericError();
    q->ctx = *ingest__libs()->__xmlGenericErrorContext();
    ingest__libs()->xmlSetGenericErrorFunc(NULL, silent);
}

void ingest__xml_quiet_end(const struct ingest__xml_quiet *q)
{
    ingest__libs()->xmlSetGenericErrorFunc(q->ctx, q->func);
}

static bool tag_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

bool ingest__too_many_attrs(const char *s, size_t len)
{
    bool in_tag = false, space = false;
    char quote = 0;
    size_t attrs = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!in_tag) {
            in_tag = c == '<';
            attrs = 0;
            space = false;
        } else if (quote) {
            quote = c == quote ? 0 : quote;
        } else if (c == '>') {
            in_tag = false;
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if (tag_space(c)) {
            space = true;
        } else {
            if (space && c != '/' && c != '=' && ++attrs > INGEST_MAX_ATTRS)
                return true;
            space = false;
        }
    }
    return false;
}

void ingest__text_move(struct ingest_text *out, struct ingest_text *tmp)
{
    ingest_text_release(out);
    *out = *tmp;
    size_t limit = tmp->limit;
    memset(tmp, 0, sizeof(*tmp));
    tmp->limit = limit;
}

/* "Text/HTML; charset=utf-8" -> "text/html"; ".MD" -> "md". */
static bool lookup(const char *type, enum format *fmt)
{
    while (*type == ' ' || *type == '\t' || *type == '.')
        type++;
    size_t n = strcspn(type, "; \t");
    for (size_t i = 0; i < sizeof(TYPES) / sizeof(TYPES[0]); i++) {
        if (strlen(TYPES[i].name) == n && strncasecmp(TYPES[i].name, type, n) == 0) {
            *fmt = TYPES[i].fmt;
            return true;
        }
    }
    return false;
}

cc_err ingest_parse(const char *content_type_or_ext, const void *data, size_t len,
                    struct ingest_text *out, struct cc_diag *d)
{
    enum format fmt;
    if (!content_type_or_ext || !lookup(content_type_or_ext, &fmt)) {
        cc_diag_set(d, NULL, 0, 0, "unsupported document type '%.64s'; supported: %s",
                    content_type_or_ext ? content_type_or_ext : "(none)", SUPPORTED);
        return CC_EUNSUPPORTED;
    }
    if (len > INGEST_PARSE_MAX_INPUT) {
        cc_diag_set(d, NULL, 0, 0, "document of %zu bytes is over the %zu-byte limit",
                    len, INGEST_PARSE_MAX_INPUT);
        return CC_ELIMIT;
    }
    switch (fmt) {
    case FMT_MARKDOWN:
        return ingest_markdown_parse(data, len, out, d);
    case FMT_PLAIN:
        return ingest_plain_parse(data, len, out, d);
    case FMT_HTML:
        return ingest_html_extract(data, len, NULL, out, d);
    case FMT_PDF:
        return ingest_pdf_parse(data, len, NULL, 0, out, d);
    case FMT_DOCX:
        return ingest_docx_parse(data, len, out, d);
    case FMT_RST:
        return ingest_rst_parse(data, len, out, d);
    case FMT_ASCIIDOC:
        return ingest_asciidoc_parse(data, len, out, d);
    }
    return CC_EUNSUPPORTED;
}
