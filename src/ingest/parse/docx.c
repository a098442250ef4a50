/*
 * docx.c - Word .docx (Office Open XML) from memory: libzip reads the
 * archive from the caller's buffer (zip_source_buffer_create; nothing
 * touches the file system), libxml2 parses word/document.xml and
 * docProps/core.xml.
 *
 * Safety: at most INGEST_DOCX_MAX_ENTRIES entries; only the two entries
 * above are ever inflated, each refused when its declared size is over its
 * cap (INGEST_DOCX_MAX_XML, CORE_MAX) and read through a cap regardless, so
 * a zip bomb or a lying size costs at most cap + 1 bytes. XML is parsed with
 * NONET, without NOENT and DTDLOAD (no external entities, no entity
 * substitution), and a document with any DOCTYPE (an internal or external
 * subset in the parsed tree, so in any encoding) is refused outright: Word
 * never writes one, so it can only be an attack.
 *
 * Mapping: every w:p (also inside tables, text boxes, content controls) is
 * one block: style Heading1..Heading6 (any case, with or without a space)
 * or an outline level 0-5 -> heading 1-6; style Title -> the title (when
 * core.xml has none) and a level-1 heading; numbered (w:numPr) -> list item;
 * else paragraph. Text comes from w:t, w:tab -> "\t", w:br/w:cr -> "\n",
 * w:noBreakHyphen -> "-"; deleted text (w:delText) and field codes
 * (w:instrText) are left out. Paragraphs nested in a paragraph (text boxes)
 * are their own blocks, after it.
 */
#include "ingest/parse/parse.h"
#include "ingest/parse/parse_int.h"
#include "ingest/parse/libs.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <zip.h>

#include "core/buf.h"

#define CORE_MAX ((size_t)1 << 20)
#define MAX_DEPTH 256

static const char W_NS[] = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
static const char W_NS_STRICT[] = "http://purl.oclc.org/ooxml/wordprocessingml/main";
static const char DC_NS[] = "http://purl.org/dc/elements/1.1/";

static bool is_w(const xmlNode *n, const char *name)
{
    if (n->type != XML_ELEMENT_NODE || !n->ns || !n->ns->href ||
        strcmp((const char *)n->name, name) != 0)
        return false;
    const char *href = (const char *)n->ns->href;
    return strcmp(href, W_NS) == 0 || strcmp(href, W_NS_STRICT) == 0;
}

static const xmlNode *child_w(const xmlNode *n, const char *name)
{
    for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (is_w(c, name))
            return c;
    return NULL;
}

/* w:val of a w: element; attributes are namespaced in real files but
 * unqualified ones are accepted too. */
static const char *w_val(const xmlNode *n)
{
    for (const xmlAttr *a = n ? n->properties : NULL; a; a = a->next)
        if (strcmp((const char *)a->name, "val") == 0 && a->children && a->children->content)
            return (const char *)a->children->content;
    return NULL;
}

/* Heading level 1-6 from the style id or outline level; 0 = none, -1 = Title. */
static int heading_level(const xmlNode *ppr)
{
    const char *style = w_val(child_w(ppr, "pStyle"));
    if (style) {
        if (strcasecmp(style, "Title") == 0)
            return -1;
        if (strncasecmp(style, "heading", 7) == 0) {
            const char *p = style + 7;
            if (*p == ' ')
                p++;
            if (p[0] >= '1' && p[0] <= '6' && p[1] == '\0')
                return p[0] - '0';
        }
    }
    const char *lvl = w_val(child_w(ppr, "outlineLvl"));
    if (lvl && lvl[0] >= '0' && lvl[0] <= '5' && lvl[1] == '\0')
        return lvl[0] - '0' + 1;
    return 0;
}

/* The text of paragraph p's runs into b, nested paragraphs excluded. */
static cc_err run_text(struct cc_buf *b, const xmlNode *n, int depth)
{
    cc_err err = CC_OK;
    for (; n && !err && depth < MAX_DEPTH; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (is_w(n, "t")) {
            for (const xmlNode *c = n->children; c && !err; c = c->next)
                if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
                    c->content)
                    err = cc_buf_addstr(b, (const char *)c->content);
        } else if (is_w(n, "tab")) {
            err = cc_buf_addch(b, '\t');
        } else if (is_w(n, "br") || is_w(n, "cr")) {
            err = cc_buf_addch(b, '\n');
        } else if (is_w(n, "noBreakHyphen")) {
            err = cc_buf_addch(b, '-');
        } else if (!is_w(n, "p") && !is_w(n, "pPr") && !is_w(n, "delText") &&
                   !is_w(n, "instrText") && !is_w(n, "del")) {
            err = run_text(b, n->children, depth + 1);
        }
    }
    return err;
}

struct doc {
    struct ingest_text *t;
    struct cc_buf text;
    bool title_from_core;
};

static cc_err paragraph(struct doc *d, const xmlNode *p)
{
    const xmlNode *ppr = child_w(p, "pPr");
    int level = heading_level(ppr);
    cc_buf_reset(&d->text);
    cc_err err = run_text(&d->text, p->children, 0);
    if (err)
        return err;
    const char *s = cc_buf_str(&d->text);
    if (level == -1 && !d->t->title && !d->title_from_core) {
        err = ingest_text_set_title(d->t, s, d->text.len);
        if (err)
            return err;
    }
    if (level != 0)
        return ingest_text_add(d->t, INGEST_HEADING, level < 0 ? 1 : level, s, d->text.len,
                               NULL);
    enum ingest_block_kind kind = child_w(ppr, "numPr") ? INGEST_LIST_ITEM : INGEST_PARA;
    return ingest_text_add(d->t, kind, 0, s, d->text.len, NULL);
}

static cc_err walk(struct doc *d, const xmlNode *n, int depth)
{
    cc_err err = CC_OK;
    for (; n && !err && depth < MAX_DEPTH; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (is_w(n, "p"))
            err = paragraph(d, n);
        if (!err && !is_w(n, "delText") && !is_w(n, "instrText"))
            err = walk(d, n->children, depth + 1);
    }
    return err;
}

/* Reads entry `name` whole into b (capped at max); CC_ENOTFOUND if absent. */
static cc_err read_entry(zip_t *z, const char *name, size_t max, struct cc_buf *b,
                         struct cc_diag *d)
{
    zip_stat_t st;
    zip_int64_t idx = ingest__libs()->zip_name_locate(z, name, 0);
    if (idx < 0 || ingest__libs()->zip_stat_index(z, (zip_uint64_t)idx, 0, &st) != 0)
        return CC_ENOTFOUND;
    if ((st.valid & ZIP_STAT_SIZE) && st.size > max) {
        cc_diag_set(d, name, 0, 0, "%s inflates to %llu bytes, over the %zu-byte limit", name,
                    (unsigned long long)st.size, max);
        return CC_ELIMIT;
    }
    zip_file_t *f = ingest__libs()->zip_fopen_index(z, (zip_uint64_t)idx, 0);
    if (!f) {
        cc_diag_set(d, name, 0, 0, "not a DOCX file: cannot read %s: %s", name,
                    ingest__libs()->zip_strerror(z));
        return CC_EPARSE;
    }
    cc_err err = CC_OK;
    char chunk[16384];
    zip_int64_t got;
    while ((got = ingest__libs()->zip_fread(f, chunk, sizeof(chunk))) > 0) {
        if (b->len + (size_t)got > max) {
            cc_diag_set(d, name, 0, 0, "%s inflates past the %zu-byte limit", name, max);
            err = CC_ELIMIT;
            break;
        }
        err = cc_buf_add(b, chunk, (size_t)got);
        if (err)
            break;
    }
    if (!err && got < 0) {
        cc_diag_set(d, name, 0, 0, "not a DOCX file: %s is damaged: %s", name,
                    ingest__libs()->zip_file_strerror(f));
        err = CC_EPARSE;
    }
    ingest__libs()->zip_fclose(f);
    return err;
}

static bool contains(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (s[i] == needle[0] && memcmp(s + i, needle, k) == 0)
            return true;
    return false;
}

/* libxml2's messages end in a newline. */
static void chomp(struct cc_diag *d)
{
    size_t n = d ? strlen(d->msg) : 0;
    while (n > 0 && (d->msg[n - 1] == '\n' || d->msg[n - 1] == ' '))
        d->msg[--n] = '\0';
}

/* Parses XML with no network, no DTD, no entity substitution. */
static cc_err parse_xml(const struct cc_buf *b, const char *name, xmlDoc **out,
                        struct cc_diag *d)
{
    if (b->len > INT_MAX)
        return CC_ELIMIT;
    /* A cheap early refusal for the usual UTF-8 case; the check on the
     * parsed document below is the one relied on. */
    if (contains(cc_buf_str(b), b->len, "<!DOCTYPE")) {
        cc_diag_set(d, name, 0, 0, "not a DOCX file: %s has a DOCTYPE", name);
        return CC_EPARSE;
    }
    if (ingest__too_many_attrs(cc_buf_str(b), b->len)) {
        cc_diag_set(d, name, 0, 0, "%s has a tag with more than %d attributes", name,
                    INGEST_MAX_ATTRS);
        return CC_ELIMIT;
    }
    xmlParserCtxtPtr ctxt = ingest__libs()->xmlNewParserCtxt();
    if (!ctxt)
        return CC_ENOMEM;
    struct ingest__xml_quiet quiet;
    ingest__xml_quiet_begin(&quiet);
    xmlDoc *doc = ingest__libs()->xmlCtxtReadMemory(ctxt, cc_buf_str(b), (int)b->len, name, NULL,
                                    XML_PARSE_NONET | XML_PARSE_NOERROR |
                                        XML_PARSE_NOWARNING | XML_PARSE_COMPACT);
    ingest__xml_quiet_end(&quiet);
    cc_err err = CC_OK;
    if (!doc || !ingest__libs()->xmlDocGetRootElement(doc)) {
        xmlErrorPtr e = ingest__libs()->xmlCtxtGetLastError(ctxt);
        cc_diag_set(d, name, e ? (unsigned)e->line : 0, e ? (unsigned)e->int2 : 0,
                    "not a DOCX file: %s is not well-formed XML: %s", name,
                    e && e->message ? e->message : "empty");
        chomp(d);
        err = CC_EPARSE;
        if (doc)
            ingest__libs()->xmlFreeDoc(doc);
    } else if (doc->intSubset || doc->extSubset) {
        /* The authority: what libxml2 parsed, whatever the encoding (the
         * byte scan above cannot see a UTF-16 "<!DOCTYPE"). */
        cc_diag_set(d, name, 0, 0, "not a DOCX file: %s has a DOCTYPE", name);
        err = CC_EPARSE;
        ingest__libs()->xmlFreeDoc(doc);
    } else {
        *out = doc;
    }
    ingest__libs()->xmlFreeParserCtxt(ctxt);
    return err;
}

/* dc:title of docProps/core.xml. core.xml is optional metadata: when it is
 * missing or broken the document still reads, just without that title;
 * only the text limit is an error. */
static cc_err core_title(zip_t *z, struct doc *dc)
{
    struct cc_buf b;
    xmlDoc *doc = NULL;
    cc_err err = CC_OK;
    cc_buf_init(&b, CORE_MAX + 1);
    if (read_entry(z, "docProps/core.xml", CORE_MAX, &b, NULL) != CC_OK ||
        parse_xml(&b, "docProps/core.xml", &doc, NULL) != CC_OK)
        goto out;
    for (xmlNode *n = ingest__libs()->xmlDocGetRootElement(doc)->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || !n->ns || !n->ns->href ||
            strcmp((const char *)n->ns->href, DC_NS) != 0 ||
            strcmp((const char *)n->name, "title") != 0)
            continue;
        xmlChar *s = ingest__libs()->xmlNodeGetContent(n);
        if (s) {
            err = ingest_text_set_title(dc->t, (const char *)s, strlen((const char *)s));
            (*ingest__libs()->xmlFree)(s);
        }
        dc->title_from_core = dc->t->title != NULL;
        break;
    }
out:
    if (doc)
        ingest__libs()->xmlFreeDoc(doc);
    cc_buf_release(&b);
    return err;
}

static cc_err open_zip(const void *data, size_t len, zip_t **out, struct cc_diag *d)
{
    zip_error_t ze;
    ingest__libs()->zip_error_init(&ze);
    zip_source_t *src = ingest__libs()->zip_source_buffer_create(data, len, 0, &ze);
    zip_t *z = src ? ingest__libs()->zip_open_from_source(src, ZIP_RDONLY, &ze) : NULL;
    cc_err err = CC_OK;
    if (!z) {
        cc_diag_set(d, NULL, 0, 0, "not a DOCX file: %s", ingest__libs()->zip_error_strerror(&ze));
        err = ingest__libs()->zip_error_code_zip(&ze) == ZIP_ER_MEMORY ? CC_ENOMEM : CC_EPARSE;
        ingest__libs()->zip_source_free(src);                       /* NULL-safe */
    } else if (ingest__libs()->zip_get_num_entries(z, 0) > INGEST_DOCX_MAX_ENTRIES) {
        cc_diag_set(d, NULL, 0, 0, "DOCX archive has %lld entries, over the limit of %d",
                    (long long)ingest__libs()->zip_get_num_entries(z, 0), INGEST_DOCX_MAX_ENTRIES);
        err = CC_ELIMIT;
        ingest__libs()->zip_discard(z);
    } else {
        *out = z;
    }
    ingest__libs()->zip_error_fini(&ze);
    return err;
}

static cc_err read_document(zip_t *z, struct doc *dc, struct cc_diag *d)
{
    struct cc_buf b;
    xmlDoc *doc = NULL;
    cc_buf_init(&b, INGEST_DOCX_MAX_XML + 1);
    cc_err err = read_entry(z, "word/document.xml", INGEST_DOCX_MAX_XML, &b, d);
    if (err == CC_ENOTFOUND) {
        cc_diag_set(d, NULL, 0, 0, "not a DOCX file: the archive has no word/document.xml");
        err = CC_EPARSE;
    }
    if (!err)
        err = parse_xml(&b, "word/document.xml", &doc, d);
    cc_buf_release(&b);                 /* the tree no longer needs the bytes */
    if (!err) {
        const xmlNode *root = ingest__libs()->xmlDocGetRootElement(doc);
        if (!is_w(root, "document")) {
            cc_diag_set(d, NULL, 0, 0, "not a DOCX file: word/document.xml is not a "
                                       "WordprocessingML document");
            err = CC_EPARSE;
        } else {
            err = walk(dc, root->children, 0);
            if (err == CC_ELIMIT)
                cc_diag_set(d, NULL, 0, 0, "text of the DOCX is over the %zu-byte limit",
                            dc->t->limit);
        }
    }
    if (doc)
        ingest__libs()->xmlFreeDoc(doc);
    return err;
}

cc_err ingest_docx_parse(const void *data, size_t len, struct ingest_text *out,
                         struct cc_diag *d)
{
    struct ingest_text t;
    ingest_text_init(&t, out->limit);
    struct doc dc = { .t = &t };
    cc_buf_init(&dc.text, t.limit);
    zip_t *z = NULL;
    cc_err err = CC_ELIMIT;
    if (len > INGEST_PARSE_MAX_INPUT) {
        cc_diag_set(d, NULL, 0, 0, "DOCX of %zu bytes is over the limit", len);
        goto out;
    }
    if (!ingest__libs()) {
        err = CC_EUNSUPPORTED;
        cc_diag_set(d, NULL, 0, 0, "DOCX needs libzip and libxml2: %s", ingest__libs_error());
        goto out;
    }
    err = open_zip(data, len, &z, d);
    if (!err) {
        err = core_title(z, &dc);
        if (err == CC_ELIMIT)
            cc_diag_set(d, NULL, 0, 0, "title of the DOCX is over the %zu-byte limit",
                        t.limit);
    }
    if (!err)
        err = read_document(z, &dc, d);
    if (!err)
        ingest__text_move(out, &t);
out:
    if (z)
        ingest__libs()->zip_discard(z);
    cc_buf_release(&dc.text);
    ingest_text_release(&t);
    return err;
}
