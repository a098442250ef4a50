/*
 * extract.h - the main content of a documentation page, and the docs
 * version a page or site belongs to.
 *
 * ingest_page_extract reads one HTML page (libxml2's HTML parser through
 * src/ingest/parse/, no network) and finds its content the way the site's
 * generator lays it out (extract_rules.c has the table):
 *
 *   Docusaurus       generator "Docusaurus", or #__docusaurus:
 *                    .theme-doc-markdown, else article
 *   MkDocs Material  generator "mkdocs-material", or .md-container:
 *                    article.md-content__inner, else .md-content
 *   MkDocs           generator "mkdocs": div[role=main]
 *   Sphinx           generator "Sphinx"/"Docutils", or .sphinxsidebar,
 *                    .wy-nav-content, .rst-content:
 *                    [itemprop=articleBody], div.body, div[role=main],
 *                    div.document
 *   GitBook          generator "GitBook", or .book .page-inner, or
 *                    [data-testid=page.contentEditor]:
 *                    [data-testid=page.contentEditor], .markdown-section,
 *                    .page-inner, main; the page header's h1, which
 *                    stands outside the content, is kept as its heading
 *
 * and, on any other page or when the site's containers are missing, by a
 * readability-style score: text blocks (p, pre, td, li, blockquote) of 25
 * characters or more score 1 + commas + one per 100 characters (at most
 * 3) for their parent and half that for their grandparent; a container's
 * score is scaled by (1 - link density) and shifted by its class and id
 * (article, content, main, post ... up; comment, sidebar, related, share,
 * promo ... down); the best container wins.
 *
 * Inside the content, what parse/html.c drops is dropped (nav, aside,
 * footer, header outside an article, scripts, hidden elements, sidebars,
 * breadcrumbs, tables of contents, cookie banners, anchor links), and
 * besides: "edit this page" links and blocks, pagination ("Previous" /
 * "Next"), version badges, feedback widgets, consent dialogs, the
 * generators' own chrome classes, and (generic pages only) lists and
 * blocks that are mostly links.
 *
 * Output (struct ingest_page): `text` is the ingest document model (see
 * text.h) with the title and blocks in reading order; headings keep their
 * level, code blocks their text verbatim and their language (from
 * language-x, lang-x or highlight-x classes). The title is og:title (cut
 * of its " | Site" suffix only when it repeats <title>), else the first
 * h1 of the content, else <title> without its site suffix.
 *
 * JavaScript-only pages: when the content holds less than
 * INGEST_PAGE_JS_MIN_CHARS characters of text and the page has an empty
 * application root (#root, #app, #__next, #__nuxt, #___gatsby,
 * [data-reactroot], a body holding only scripts) or a <noscript> asking for
 * JavaScript, or its only text asks for JavaScript, needs_javascript is set
 * and `text` has no blocks (the title is kept), so "enable JavaScript" is
 * never indexed as a page's content.
 *
 * Errors: as ingest_html_extract (CC_ELIMIT for the input or text limit,
 * CC_EUNSUPPORTED when libxml2 cannot be loaded); `out` is written only on
 * success.
 */
#ifndef CC_INGEST_WEB_EXTRACT_H
#define CC_INGEST_WEB_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/diag.h"
#include "core/err.h"
#include "ingest/text.h"

#define INGEST_PAGE_JS_MIN_CHARS 200
#define INGEST_VERSION_MAX 64

enum ingest_site {
    INGEST_SITE_GENERIC,
    INGEST_SITE_DOCUSAURUS,
    INGEST_SITE_MKDOCS_MATERIAL,
    INGEST_SITE_MKDOCS,
    INGEST_SITE_SPHINX,
    INGEST_SITE_GITBOOK,
};

/* "generic", "docusaurus", "mkdocs-material", "mkdocs", "sphinx", "gitbook". */
const char *ingest_site_name(enum ingest_site s);

struct ingest_page {
    struct ingest_text text;         /* title + blocks */
    enum ingest_site site;           /* the generator recognized */
    bool needs_javascript;
    char version[INGEST_VERSION_MAX];  /* docs version of the page, or "" */
};

/* Empty page; limit bounds the text as ingest_text_init's. */
void ingest_page_init(struct ingest_page *p, size_t limit);
void ingest_page_release(struct ingest_page *p);   /* NULL-safe; keeps the limit */

/* Extracts html[0..len). url (may be NULL) names the page in `d` and is
 * where the version comes from (ingest_version_from_url), after the
 * page's own docsearch:version / docsearch:docusaurus_tag meta. */
cc_err ingest_page_extract(const char *html, size_t len, const char *url,
                           struct ingest_page *out, struct cc_diag *d);

/* The page's text as plain text: blocks in order, one per line ("\n"
 * between blocks; code keeps its own line ends). Appended to out;
 * CC_ELIMIT from out's limit. */
cc_err ingest_page_plain_text(const struct ingest_text *t, struct cc_buf *out);

/* ---- versions ---------------------------------------------------------- */

/* The docs version a URL's path names, from the first segment that is one:
 *   - v1, v1.0, v2.3.1, 1.0, 1.2.3, 2.x, 1.0.0-beta.1, 3.12rc1
 *     (a bare number such as /2/ is not a version: pages, years);
 *   - latest, stable, next, current, dev, main, master, nightly as the
 *     first segment, after a language segment ("en", "pt-br", "zh_CN") or
 *     after "docs"/"doc"/"documentation".
 * Written to out as it appears in the URL (not lower-cased). CC_ENOTFOUND
 * when the URL names none, CC_ELIMIT when out is too small. Pure. */
cc_err ingest_version_from_url(const char *url, char *out, size_t outsz);

/* One version of a MkDocs site as mike's versions.json lists it. */
struct ingest_doc_version {
    char *version;             /* "1.1": the folder name */
    char *title;               /* "1.1 (latest)"; = version when absent */
    char **aliases;            /* "latest", "stable" */
    size_t naliases;
};

struct ingest_doc_versions {
    struct ingest_doc_version *v;
    size_t n;
};

#define INGEST_VERSIONS_MAX 1000
#define INGEST_VERSION_ALIASES_MAX 32

/* Parses mike's versions.json ([{"version","title","aliases"}...], at most
 * INGEST_VERSIONS_MAX entries and INGEST_VERSION_ALIASES_MAX aliases
 * each). Entries without a usable "version" string (empty, with a "/",
 * or INGEST_VERSION_MAX bytes or more) are skipped, as are such aliases.
 * CC_EPARSE (reason in d) when it is not a JSON array. `out` is written
 * only on success, without freeing what it held. Pure. */
cc_err ingest_doc_versions_parse(const char *json, size_t len, struct ingest_doc_versions *out,
                                 struct cc_diag *d);
void ingest_doc_versions_release(struct ingest_doc_versions *v);   /* NULL-safe */

/* The version `name` designates: a version itself, or the version holding
 * it as an alias ("latest" -> "1.1"). NULL when none; points into v. */
const char *ingest_doc_versions_resolve(const struct ingest_doc_versions *v, const char *name);

#endif
