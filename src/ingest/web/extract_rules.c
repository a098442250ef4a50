/*
 * extract_rules.c - where each documentation generator puts a page's
 * content, and the chrome it puts around and inside it. Checked against
 * the output of Docusaurus 2/3, MkDocs 1.5 (mkdocs and readthedocs
 * themes), MkDocs Material 9, Sphinx 5-7 (alabaster, sphinx_rtd_theme,
 * furo) and GitBook (legacy 3.x/HonKit and the current hosted pages).
 * Adding a generator is one entry here and one enum value.
 */
#include "ingest/web/extract_int.h"

#include <string.h>
#include <strings.h>

#include "ingest/parse/html_int.h"

#define END { NULL, NULL, NULL, NULL }

static const char *const DOCUSAURUS_GEN[] = { "docusaurus", NULL };
static const struct ingest__sel DOCUSAURUS_MARK[] = {
    { NULL, NULL, "id", "__docusaurus" }, { NULL, "theme-doc-markdown", NULL, NULL }, END,
};
static const struct ingest__sel DOCUSAURUS_CONTENT[] = {
    { NULL, "theme-doc-markdown", NULL, NULL }, { "article", NULL, NULL, NULL }, END,
};
static const struct ingest__sel DOCUSAURUS_DROP[] = {
    { NULL, "theme-doc-version-badge", NULL, NULL },
    { NULL, "theme-doc-version-banner", NULL, NULL },
    { NULL, "theme-doc-footer", NULL, NULL },
    { NULL, "theme-edit-this-page", NULL, NULL },
    { NULL, "theme-last-updated", NULL, NULL },
    { NULL, "theme-doc-breadcrumbs", NULL, NULL },
    { NULL, "pagination-nav", NULL, NULL },
    END,
};

static const char *const MATERIAL_GEN[] = { "mkdocs-material", NULL };
static const struct ingest__sel MATERIAL_MARK[] = {
    { NULL, "md-container", NULL, NULL }, { NULL, "md-content", NULL, NULL }, END,
};
static const struct ingest__sel MATERIAL_CONTENT[] = {
    { "article", "md-content__inner", NULL, NULL }, { NULL, "md-content", NULL, NULL }, END,
};
static const struct ingest__sel MATERIAL_DROP[] = {
    { NULL, "md-content__button", NULL, NULL },
    { NULL, "md-source-file", NULL, NULL },
    { NULL, "md-feedback", NULL, NULL },
    { NULL, "md-top", NULL, NULL },
    { NULL, "md-dialog", NULL, NULL },
    { NULL, "md-banner", NULL, NULL },
    END,
};

static const char *const MKDOCS_GEN[] = { "mkdocs", NULL };
static const struct ingest__sel MKDOCS_MARK[] = { END };
static const struct ingest__sel MKDOCS_CONTENT[] = {
    { NULL, NULL, "role", "main" }, { NULL, "col-md-9", NULL, NULL }, END,
};
static const struct ingest__sel MKDOCS_DROP[] = {
    { NULL, "rst-footer-buttons", NULL, NULL }, { NULL, "rst-versions", NULL, NULL }, END,
};

static const char *const SPHINX_GEN[] = { "sphinx", "docutils", NULL };
static const struct ingest__sel SPHINX_MARK[] = {
    { NULL, "sphinxsidebar", NULL, NULL }, { NULL, "wy-nav-content", NULL, NULL },
    { NULL, "rst-content", NULL, NULL },   { NULL, "bodywrapper", NULL, NULL }, END,
};
static const struct ingest__sel SPHINX_CONTENT[] = {
    { NULL, NULL, "itemprop", "articleBody" }, { "div", "body", NULL, NULL },
    { NULL, NULL, "role", "main" },            { "div", "document", NULL, NULL }, END,
};
static const struct ingest__sel SPHINX_DROP[] = {
    { NULL, "rst-footer-buttons", NULL, NULL }, { NULL, "rst-versions", NULL, NULL },
    { "div", "related", NULL, NULL },           { NULL, "wy-breadcrumbs", NULL, NULL },
    { NULL, "clearer", NULL, NULL },            END,
};

static const char *const GITBOOK_GEN[] = { "gitbook", "honkit", NULL };
static const struct ingest__sel GITBOOK_MARK[] = {
    { NULL, NULL, "data-testid", "page.contentEditor" }, { NULL, "book-summary", NULL, NULL },
    { NULL, "markdown-section", NULL, NULL }, END,
};
static const struct ingest__sel GITBOOK_CONTENT[] = {
    { NULL, NULL, "data-testid", "page.contentEditor" }, { NULL, "markdown-section", NULL, NULL },
    { NULL, "page-inner", NULL, NULL }, { "main", NULL, NULL, NULL }, END,
};
static const struct ingest__sel GITBOOK_DROP[] = {
    { NULL, "book-summary", NULL, NULL }, { NULL, "book-header", NULL, NULL },
    { "a", "navigation", NULL, NULL },    { NULL, NULL, "data-testid", "page.footer" }, END,
};

static const struct ingest__sel GITBOOK_HEADING[] = { { "h1", NULL, NULL, NULL }, END };

static const char *const NONE[] = { NULL };
static const struct ingest__sel EMPTY[] = { END };

const struct ingest__site_rule ingest__site_rules[] = {
    { .site = INGEST_SITE_DOCUSAURUS, .generators = DOCUSAURUS_GEN, .markers = DOCUSAURUS_MARK,
      .content = DOCUSAURUS_CONTENT, .drop = DOCUSAURUS_DROP },
    { .site = INGEST_SITE_MKDOCS_MATERIAL, .generators = MATERIAL_GEN, .markers = MATERIAL_MARK,
      .content = MATERIAL_CONTENT, .drop = MATERIAL_DROP },
    { .site = INGEST_SITE_MKDOCS, .generators = MKDOCS_GEN, .markers = MKDOCS_MARK,
      .content = MKDOCS_CONTENT, .drop = MKDOCS_DROP },
    { .site = INGEST_SITE_SPHINX, .generators = SPHINX_GEN, .markers = SPHINX_MARK,
      .content = SPHINX_CONTENT, .drop = SPHINX_DROP },
    { .site = INGEST_SITE_GITBOOK, .generators = GITBOOK_GEN, .markers = GITBOOK_MARK,
      .content = GITBOOK_CONTENT, .drop = GITBOOK_DROP, .heading = GITBOOK_HEADING },
    { .site = INGEST_SITE_GENERIC, .generators = NONE, .markers = EMPTY, .content = EMPTY,
      .drop = EMPTY },
};

bool ingest__sel_match(const struct ingest__sel *s, const xmlNode *n)
{
    if (n->type != XML_ELEMENT_NODE)
        return false;
    if (s->tag && !ingest__html_is(n, s->tag))
        return false;
    if (s->cls && !ingest__html_has_class(n, s->cls))
        return false;
    if (s->attr) {
        const char *v = ingest__html_attr(n, s->attr);
        if (!v || (s->value && strcasecmp(v, s->value) != 0))
            return false;
    }
    return s->tag || s->cls || s->attr;
}

bool ingest__sel_any(const struct ingest__sel *list, const xmlNode *n)
{
    for (; list->tag || list->cls || list->attr; list++)
        if (ingest__sel_match(list, n))
            return true;
    return false;
}
