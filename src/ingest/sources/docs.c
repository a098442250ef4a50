/*
 * docs.c - the "docs" source: a documentation site crawled on schedule.
 *
 * A run reads the site's robots.txt (RFC 9309: 4xx allows everything, 5xx
 * or no answer disallows everything, crawl-delay kept), then lists the
 * site's pages: from its sitemaps (robots.txt's Sitemap lines, else
 * /sitemap.xml; indexes and .gz followed) or, when it has none, by
 * following links from the start URL (breadth first, to max_depth). Only
 * pages in scope are kept: the start URL's host and path prefix, allowed
 * by robots.txt, in the selected versions. Each page becomes one
 * ingest.document job that fetches it (conditional GET) and extracts its
 * main content (ingest/web/extract.h); a page whose sitemap lastmod is
 * older than its last fetch is not queued at all, so a re-crawl costs a
 * sitemap and the pages that changed. After a complete listing, the
 * documents of pages no longer listed are removed.
 *
 * Webhooks: a run queued by a GitHub push carries the changed paths; pages
 * whose URL path contains a changed file's name are fetched whatever their
 * lastmod says. A release carries a version, added to options.versions.
 *
 * Options: scope (path prefix; default the start URL's directory),
 * max_pages (1000), max_depth (5, link following only), sitemap (a URL;
 * default from robots.txt or /sitemap.xml), versions (a list: only pages of
 * these versions, or of none, are indexed; aliases like "latest" resolve
 * through MkDocs' versions.json), github (see docs/WEBHOOKS.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/log.h"
#include "ingest/fetch.h"
#include "ingest/parse/libs.h"
#include "ingest/parse/parse_int.h"
#include "ingest/pipeline.h"
#include "ingest/sources/types.h"
#include "ingest/web/extract.h"
#include "ingest/web/robots.h"
#include "ingest/web/sitemap.h"

#define DOCS_MAX_PAGES_DEFAULT 1000
#define DOCS_MAX_PAGES_CAP 50000
#define DOCS_MAX_DEPTH_DEFAULT 5
#define DOCS_MAX_DEPTH_CAP 50
#define DOCS_MAX_SITEMAPS 50
#define DOCS_URL_MAX 2048
#define DOCS_BATCH 128
#define DOCS_AGENT "CommandCenter"

struct docs_opts {
    char scope[DOCS_URL_MAX];      /* path prefix */
    size_t max_pages;
    int max_depth;
    const char *sitemap;           /* arena; NULL = discover */
    json_t *versions;              /* array of strings, or NULL = every version */
};

/* ---- URLs --------------------------------------------------------------- */

/* Splits an absolute http(s) URL: origin "https://host[:port]" and path
 * (from the first '/' after the authority, query included, fragment cut). */
static bool split_url(const char *url, char *origin, size_t osz, char *path, size_t psz)
{
    const char *p = strncmp(url, "https://", 8) == 0  ? url + 8
                    : strncmp(url, "http://", 7) == 0 ? url + 7
                                                      : NULL;
    if (!p || !*p || *p == '/')
        return false;
    size_t auth = strcspn(p, "/?#");
    int n = snprintf(origin, osz, "%.*s", (int)(p - url + (ptrdiff_t)auth), url);
    if (n < 0 || (size_t)n >= osz)
        return false;
    const char *rest = p + auth;
    size_t rlen = strcspn(rest, "#");
    n = snprintf(path, psz, "%s%.*s", *rest == '/' ? "" : "/", (int)rlen, rest);
    return n >= 0 && (size_t)n < psz;
}

/* The URL without its fragment, into the arena. */
static char *url_key(struct cc_arena *a, const char *url)
{
    return cc_arena_printf(a, "%.*s", (int)strcspn(url, "#"), url);
}

/* ref resolved against base (RFC 3986), fragment cut; NULL if it is not
 * an http(s) URL. */
static char *resolve(struct cc_arena *a, const char *base, const char *ref)
{
    const struct ingest_libs *lib = ingest__libs();
    if (!lib || !ref)
        return NULL;
    xmlChar *u = lib->xmlBuildURI((const xmlChar *)ref, (const xmlChar *)base);
    char *out = NULL;
    if (u && (strncmp((char *)u, "http://", 7) == 0 || strncmp((char *)u, "https://", 8) == 0))
        out = url_key(a, (const char *)u);
    if (u)
        (*lib->xmlFree)(u);
    return out;
}

/* ---- options ------------------------------------------------------------ */

static cc_err parse_opts(const char *url, const char *json, struct cc_arena *a,
                         struct docs_opts *o, struct ingest_source_problem *p)
{
    char origin[DOCS_URL_MAX];
    *o = (struct docs_opts){.max_pages = DOCS_MAX_PAGES_DEFAULT,
                            .max_depth = DOCS_MAX_DEPTH_DEFAULT};
    if (!split_url(url, origin, sizeof(origin), o->scope, sizeof(o->scope))) {
        snprintf(p->msg, sizeof(p->msg), "a docs source's 'url' must be an absolute http:// "
                 "or https:// URL");
        p->hint = "the start page of the documentation, e.g. https://example.org/docs/";
        return CC_EINVAL;
    }
    o->scope[strcspn(o->scope, "?")] = '\0';
    char *slash = strrchr(o->scope, '/');
    slash[1] = '\0';                             /* the start page's directory */
    json_t *j = json ? json_loads(json, 0, NULL) : NULL;
    const char *key;
    json_t *v;
    cc_err err = CC_OK;
    json_object_foreach(j, key, v) {
        bool ok = true;
        if (!strcmp(key, "scope")) {
            ok = json_is_string(v) && json_string_value(v)[0] == '/' &&
                 strlen(json_string_value(v)) < sizeof(o->scope);
            if (ok)
                snprintf(o->scope, sizeof(o->scope), "%s", json_string_value(v));
        } else if (!strcmp(key, "max_pages")) {
            ok = json_is_integer(v) && json_integer_value(v) >= 1 &&
                 json_integer_value(v) <= DOCS_MAX_PAGES_CAP;
            o->max_pages = ok ? (size_t)json_integer_value(v) : 0;
        } else if (!strcmp(key, "max_depth")) {
            ok = json_is_integer(v) && json_integer_value(v) >= 0 &&
                 json_integer_value(v) <= DOCS_MAX_DEPTH_CAP;
            o->max_depth = ok ? (int)json_integer_value(v) : 0;
        } else if (!strcmp(key, "sitemap")) {
            ok = json_is_string(v) && (!strncmp(json_string_value(v), "http://", 7) ||
                                       !strncmp(json_string_value(v), "https://", 8));
            o->sitemap = ok && a ? cc_arena_strdup(a, json_string_value(v)) : NULL;
        } else if (!strcmp(key, "versions")) {
            size_t i;
            json_t *e;
            ok = json_is_array(v) && json_array_size(v) <= 100;
            json_array_foreach(v, i, e) ok = ok && json_is_string(e);
        } else if (strcmp(key, "github") != 0) {
            ok = false;
        }
        if (!ok) {
            snprintf(p->msg, sizeof(p->msg), "option '%s' of a docs source is unknown or "
                     "invalid", key);
            p->hint = "options: scope (a path prefix such as /docs/), max_pages (1-50000), "
                      "max_depth (0-50), sitemap (a URL), versions (a list such as "
                      "[\"latest\", \"1.2\"]), github (see docs/WEBHOOKS.md)";
            err = CC_EINVAL;
            break;
        }
    }
    if (!err && j && json_object_get(j, "versions"))
        o->versions = json_incref(json_object_get(j, "versions"));
    json_decref(j);
    return err;
}

static cc_err check(const struct store_source *s, const struct ingest_source_env *env,
                    struct ingest_source_problem *p)
{
    (void)env;
    struct docs_opts o;
    cc_err err = parse_opts(s->url, s->options_json, NULL, &o, p);
    json_decref(o.versions);
    if (err)
        return err;
    if (ingest_source_check_auth(s, p))
        return CC_EINVAL;
    return CC_OK;
}

/* ---- the crawl ---------------------------------------------------------- */

struct crawl {
    struct ingest_job_ctx *jc;
    const struct ingest_pipeline_cfg *cfg;
    const struct ingest_source *src;
    struct docs_opts o;
    char origin[DOCS_URL_MAX];
    struct ingest_robots *robots;
    int64_t delay_ms;              /* crawl-delay, 0 if none */
    struct ingest_doc_versions versions;  /* MkDocs versions.json; n = 0 when none */
    json_t *changed;               /* a push's changed paths, or NULL */
    /* the pages found: url -> lastmod (INGEST_SITEMAP_NO_TIME if unknown) */
    char **urls;
    int64_t *lastmod;
    size_t n, cap;
    const char **set;              /* open addressing over urls, for seen() */
    size_t setcap;                 /* a power of two > 2 x max_pages */
    bool truncated;                /* max_pages reached: no removal of the rest */
    bool listing_failed;           /* a sitemap could not be read: no removal */
    int64_t queued, skipped_fresh;
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t slot_of(const struct crawl *c, const char *url)
{
    uint64_t h = 1469598103934665603ull;          /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)url; *p && *p != '#'; p++)
        h = (h ^ *p) * 1099511628211ull;
    size_t n = strcspn(url, "#"), i = (size_t)h & (c->setcap - 1);
    while (c->set[i] && !(strncmp(c->set[i], url, n) == 0 && c->set[i][n] == '\0'))
        i = (i + 1) & (c->setcap - 1);
    return i;
}

static bool seen(const struct crawl *c, const char *url)
{
    return c->set[slot_of(c, url)] != NULL;
}

/* Whether a page of this version is wanted. */
static bool version_wanted(const struct crawl *c, const char *url)
{
    char v[INGEST_VERSION_MAX];
    if (!c->o.versions || ingest_version_from_url(url, v, sizeof(v)) != CC_OK)
        return true;
    size_t i;
    json_t *e;
    json_array_foreach(c->o.versions, i, e) {
        const char *want = json_string_value(e);
        const char *resolved = c->versions.n ? ingest_doc_versions_resolve(&c->versions, want)
                                             : NULL;
        if (strcmp(want, v) == 0 || (resolved && strcmp(resolved, v) == 0))
            return true;
    }
    return false;
}

static bool in_scope(const struct crawl *c, const char *url)
{
    char origin[DOCS_URL_MAX], path[DOCS_URL_MAX];
    return split_url(url, origin, sizeof(origin), path, sizeof(path)) &&
           strcasecmp(origin, c->origin) == 0 &&
           strncmp(path, c->o.scope, strlen(c->o.scope)) == 0 &&
           ingest_robots_allowed(c->robots, DOCS_AGENT, path) && version_wanted(c, url);
}

/* Adds a page in scope; false once max_pages is reached. */
static bool add_page(struct crawl *c, const char *url, int64_t lastmod)
{
    if (!in_scope(c, url) || seen(c, url))
        return true;
    if (c->n == c->o.max_pages) {
        c->truncated = true;
        return false;
    }
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->urls = cc_xrealloc(c->urls, c->cap * sizeof(*c->urls));
        c->lastmod = cc_xrealloc(c->lastmod, c->cap * sizeof(*c->lastmod));
    }
    char *u = url_key(c->jc->arena, url);
    if (!u)
        return false;
    c->urls[c->n] = u;
    c->lastmod[c->n++] = lastmod;
    c->set[slot_of(c, u)] = u;
    return true;
}

/* GET url (no validators) for the crawl itself: robots, sitemaps, pages
 * followed for links. *status 0 when there was no answer. */
static cc_err get(struct crawl *c, const char *url, size_t cap, struct ingest_fetch_resp *resp,
                  char *why, size_t whysz)
{
    /* the source's credentials only on its own site (a sitemap may be elsewhere) */
    const char *auth = ingest_same_origin(url, c->src->url) ? c->src->auth_json : NULL;
    struct ingest_fetch_req req = {.url = url, .auth_json = auth, .max_bytes = cap,
                                   .min_delay_ms = c->delay_ms};
    return ingest_fetch(c->cfg->fetcher, &req, resp, why, whysz);
}

static void read_robots(struct crawl *c)
{
    char url[DOCS_URL_MAX + 16], why[256];
    snprintf(url, sizeof(url), "%s/robots.txt", c->origin);
    struct ingest_fetch_resp resp = {0};
    long status = get(c, url, INGEST_ROBOTS_MAX_BYTES * 2, &resp, why, sizeof(why)) == CC_OK
                      ? resp.status : 0;
    switch (ingest_robots_outcome_for(status)) {
    case INGEST_ROBOTS_PARSE:
        ingest_robots_parse(resp.body, resp.len, &c->robots);
        break;
    case INGEST_ROBOTS_ALLOW_ALL:
        c->robots = ingest_robots_new_all(true);
        break;
    case INGEST_ROBOTS_DISALLOW_ALL:
        c->robots = ingest_robots_new_all(false);
        cc_log_warn(c->jc->ctx->log, "ingest", "robots.txt unreachable: nothing is crawled",
                    CC_LS("source", c->src->name), CC_LI("status", status));
        break;
    }
    ingest_fetch_resp_release(&resp);
    int64_t d = ingest_robots_crawl_delay_ms(c->robots, DOCS_AGENT);
    c->delay_ms = d > 0 ? (d > 60000 ? 60000 : d) : 0;
}

/* MkDocs (mike) versions.json at the site root, for version aliases. */
static void read_versions(struct crawl *c)
{
    if (!c->o.versions)
        return;
    char url[DOCS_URL_MAX * 2], why[256];
    snprintf(url, sizeof(url), "%s/versions.json", c->origin);
    struct ingest_fetch_resp resp = {0};
    struct cc_diag d = {0};
    if (get(c, url, 1 << 20, &resp, why, sizeof(why)) == CC_OK && resp.status == 200)
        ingest_doc_versions_parse(resp.body, resp.len, &c->versions, &d);
    ingest_fetch_resp_release(&resp);
}

/* Reads one sitemap (following an index one level down per call).
 * Returns false when the page cap was reached. */
static bool read_sitemap(struct crawl *c, const char *url, int depth, int *budget,
                         bool optional)
{
    if (--*budget < 0 || depth > 2)
        return true;
    struct ingest_fetch_resp resp = {0};
    struct ingest_sitemap sm = {0};
    struct cc_diag d = {0};
    char why[256];
    bool more = true;
    cc_err err = get(c, url, INGEST_SITEMAP_MAX_BYTES, &resp, why, sizeof(why));
    if (optional && !err && (resp.status == 404 || resp.status == 410))
        goto out;     /* /sitemap.xml guessed, not named: its absence is no failure */
    if (err || resp.status != 200 ||
        ingest_sitemap_parse(resp.body, resp.len, url, &sm, &d) != CC_OK) {
        c->listing_failed = true;
        cc_log_warn(c->jc->ctx->log, "ingest", "sitemap not read", CC_LS("url", url),
                    CC_LS("error", err ? why : d.msg[0] ? d.msg : "HTTP status"),
                    CC_LI("status", resp.status));
        goto out;
    }
    for (size_t i = 0; i < sm.n && more; i++) {
        if (sm.kind == INGEST_SITEMAP_INDEX)
            more = read_sitemap(c, sm.entries[i].loc, depth + 1, budget, false);
        else
            more = add_page(c, sm.entries[i].loc, sm.entries[i].lastmod_ms);
    }
out:
    ingest_sitemap_release(&sm);
    ingest_fetch_resp_release(&resp);
    return more;
}

/* An attribute's value (the first text child), or NULL. */
static const char *attr(xmlNodePtr n, const char *name)
{
    for (xmlAttrPtr a = n->properties; a; a = a->next)
        if (strcasecmp((const char *)a->name, name) == 0 && a->children &&
            a->children->content)
            return (const char *)a->children->content;
    return NULL;
}

/* The URL of a <meta http-equiv=refresh content="0; url=..."> ("URL=",
 * quotes and blanks allowed), in the arena, or NULL. */
static const char *refresh_target(struct cc_arena *a, const char *content)
{
    const char *p = content ? strchr(content, ';') : NULL;
    if (!p)
        return NULL;
    p += 1 + strspn(p + 1, " \t");
    if (strncasecmp(p, "url", 3) != 0)
        return NULL;
    p += 3 + strspn(p + 3, " \t");
    if (*p != '=')
        return NULL;
    p += 1 + strspn(p + 1, " \t'\"");
    size_t n = strcspn(p, "'\" \t");
    return n ? cc_arena_printf(a, "%.*s", (int)n, p) : NULL;
}

/* Every <a href> of an HTML page and its meta-refresh target, resolved
 * against base, into the crawl's frontier (next) when in scope and new. */
static void collect_links(struct crawl *c, const char *html, size_t len, const char *base,
                          char ***next, size_t *nnext)
{
    const struct ingest_libs *lib = ingest__libs();
    if (!lib || len > INT32_MAX)
        return;
    htmlParserCtxtPtr ctxt = lib->htmlNewParserCtxt();
    if (!ctxt)
        return;
    struct ingest__xml_quiet quiet;
    ingest__xml_quiet_begin(&quiet);
    htmlDocPtr doc = lib->htmlCtxtReadMemory(ctxt, html, (int)len, base, NULL,
                                             HTML_PARSE_NONET | HTML_PARSE_NOERROR |
                                                 HTML_PARSE_NOWARNING | HTML_PARSE_RECOVER);
    ingest__xml_quiet_end(&quiet);
    xmlNodePtr n = doc ? lib->xmlDocGetRootElement(doc) : NULL;
    while (n) {
        if (n->type == XML_ELEMENT_NODE) {
            const char *href = NULL;
            if (strcasecmp((const char *)n->name, "a") == 0)
                href = attr(n, "href");
            else if (strcasecmp((const char *)n->name, "meta") == 0 &&
                     attr(n, "http-equiv") && strcasecmp(attr(n, "http-equiv"), "refresh") == 0)
                href = refresh_target(c->jc->arena, attr(n, "content"));   /* mike's alias pages */
            char *u = href ? resolve(c->jc->arena, base, href) : NULL;
            /* Repeats are dropped when the level is read (seen); the cap
             * bounds a page that links the same URL a million times. */
            if (u && in_scope(c, u) && !seen(c, u) && *nnext < 4 * c->o.max_pages) {
                *next = cc_xrealloc(*next, (*nnext + 1) * sizeof(**next));
                (*next)[(*nnext)++] = u;
            }
        }
        /* depth-first walk without recursion */
        if (n->children && n->type == XML_ELEMENT_NODE) {
            n = n->children;
            continue;
        }
        while (n && !n->next)
            n = n->parent && n->parent->type != XML_HTML_DOCUMENT_NODE ? n->parent : NULL;
        if (n)
            n = n->next;
    }
    if (doc)
        lib->xmlFreeDoc(doc);
    lib->htmlFreeParserCtxt(ctxt);
}

/* No sitemap: breadth first from the start URL. Pages are fetched here (for
 * their links) and their documents queued by the caller like sitemap pages;
 * their own jobs fetch them again with validators. */
static void follow_links(struct crawl *c)
{
    char **level = cc_xmalloc(sizeof(*level));
    size_t nlevel = 0;
    if (in_scope(c, c->src->url))
        level[nlevel++] = url_key(c->jc->arena, c->src->url);
    for (int depth = 0; nlevel && depth <= c->o.max_depth && !c->truncated; depth++) {
        char **next = NULL;
        size_t nnext = 0;
        for (size_t i = 0; i < nlevel && !c->truncated; i++) {
            if (!level[i] || seen(c, level[i]) || !add_page(c, level[i], INGEST_SITEMAP_NO_TIME))
                continue;
            if (depth == c->o.max_depth)
                continue;
            struct ingest_fetch_resp resp = {0};
            char why[256];
            if (get(c, level[i], c->cfg->max_document_bytes, &resp, why, sizeof(why)) == CC_OK &&
                resp.status == 200 && strcmp(resp.content_type, "text/html") == 0)
                collect_links(c, resp.body, resp.len,
                              resp.final_url ? resp.final_url : level[i], &next, &nnext);
            else
                c->listing_failed = c->listing_failed || resp.status >= 500 || !resp.status;
            ingest_fetch_resp_release(&resp);
        }
        free(level);
        level = next;
        nlevel = nnext;
    }
    free(level);
}

/* Whether a push changed the file this page was built from: its URL path
 * contains the file's name without its extension ("docs/guide/install.md"
 * -> "install"). */
static bool changed_by_push(const struct crawl *c, const char *url)
{
    size_t i;
    json_t *e;
    json_array_foreach(c->changed, i, e) {
        const char *path = json_string_value(e);
        const char *base = path ? strrchr(path, '/') : NULL;
        base = base ? base + 1 : path;
        if (!base || !*base)
            continue;
        char stem[256];
        snprintf(stem, sizeof(stem), "%.*s", (int)strcspn(base, "."), base);
        if (!strcmp(stem, "index") || !strcmp(stem, "README"))
            return true;          /* a section's index: refetch to be safe */
        if (strstr(url, stem))
            return true;
    }
    return false;
}

static cc_err queue_pages(struct crawl *c)
{
    struct store_job *jobs = cc_xcalloc(DOCS_BATCH, sizeof(*jobs));
    size_t nj = 0, done = 0;
    cc_err err = CC_OK;
    for (size_t i = 0; i < c->n && !err; i++) {
        int64_t fetched = ingest_page_fetched_ms(c->jc, c->src->id, c->urls[i]);
        if (fetched && c->lastmod[i] != INGEST_SITEMAP_NO_TIME && c->lastmod[i] <= fetched &&
            !(c->changed && changed_by_push(c, c->urls[i]))) {
            c->skipped_fresh++;
            continue;
        }
        json_t *p = json_pack("{s:s, s:s, s:s, s:b, s:s}", "external_id", c->urls[i], "url",
                              c->urls[i], "content_type", "text/html", "fetch", 1, "extract",
                              "page");
        char *key = cc_arena_printf(c->jc->arena, "docs:%lld:%s", (long long)c->src->id,
                                    c->urls[i]);
        err = !p ? CC_ENOMEM : !key ? CC_ELIMIT
              : ingest_source_doc_job(c->jc, c->src, p, key, &jobs[nj]);
        json_decref(p);
        if (!err && ++nj == DOCS_BATCH) {
            err = ingest_source_queue_docs(c->jc, jobs, nj, &done, &c->queued);
            nj = 0;
        }
    }
    if (!err && nj)
        err = ingest_source_queue_docs(c->jc, jobs, nj, &done, &c->queued);
    free(jobs);
    return err;
}

struct gone {
    struct crawl *c;
    int64_t last_id;
    size_t n;
    int64_t ids[STORE_DOC_LIST_MAX];
    const char *urls[STORE_DOC_LIST_MAX];
};

static void check_gone(void *arg, const struct store_doc *d)
{
    struct gone *g = arg;
    g->last_id = d->id;
    const char *key = d->external_id;
    if (!key || !bsearch(&key, g->c->urls, g->c->n, sizeof(char *), cmp_str)) {
        g->ids[g->n] = d->id;
        g->urls[g->n++] = key ? cc_arena_strdup(g->c->jc->arena, key) : NULL;
    }
}

/* After a complete listing: pages no longer listed lose their documents. */
static void remove_gone(struct crawl *c)
{
    struct store *st = c->jc->ctx->store;
    struct gone *g = cc_xcalloc(1, sizeof(*g));
    g->c = c;
    int64_t removed = 0;
    qsort(c->urls, c->n, sizeof(*c->urls), cmp_str);   /* lastmod is no longer needed */
    for (;;) {
        g->n = 0;
        int64_t before = g->last_id;
        if (st->ops->doc_list(st, c->src->id, before, STORE_DOC_LIST_MAX, check_gone, g) ||
            g->last_id == before)
            break;
        for (size_t i = 0; i < g->n; i++) {
            if (st->ops->doc_delete(st, g->ids[i]) == CC_OK)
                removed++;
            if (g->urls[i])
                ingest_page_forget(c->jc, c->src->id, g->urls[i]);
        }
    }
    free(g);
    if (removed)
        cc_log_info(c->jc->ctx->log, "ingest", "documents of pages no longer listed removed",
                    CC_LS("source", c->src->name), CC_LI("documents", removed));
}

/* A release adds its version to the source's selected versions (when the
 * source selects versions at all). */
static void add_release_version(struct crawl *c, const char *version)
{
    if (!c->o.versions || !version || !*version)
        return;
    size_t i;
    json_t *e;
    json_array_foreach(c->o.versions, i, e) if (strcmp(json_string_value(e), version) == 0) return;
    json_array_append_new(c->o.versions, json_string(version));
    json_t *opts = c->src->options_json ? json_loads(c->src->options_json, 0, NULL) : NULL;
    if (!opts)
        return;
    json_object_set(opts, "versions", c->o.versions);
    char *text = json_dumps(opts, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(opts);
    if (text && ingest_source_set_options(c->jc, c->src->id, text) == CC_OK)
        cc_log_info(c->jc->ctx->log, "ingest", "release: docs version added",
                    CC_LS("source", c->src->name), CC_LS("version", version));
    free(text);
}

static cc_err run(struct ingest_job_ctx *jc, const struct ingest_source *src, json_t *payload,
                  bool *finished)
{
    const struct ingest_pipeline_cfg *cfg = jc->data;
    char path[DOCS_URL_MAX];
    struct ingest_source_problem prob = {0};
    struct crawl *c = cc_xcalloc(1, sizeof(*c));
    *c = (struct crawl){.jc = jc, .cfg = cfg, .src = src,
                        .changed = json_object_get(payload, "changed")};
    *finished = true;
    cc_err err = parse_opts(src->url, src->options_json, jc->arena, &c->o, &prob);
    if (err) {
        ingest_job_errorf(jc, "%s", prob.msg);
        goto out;
    }
    if (!cfg->fetcher) {
        ingest_job_errorf(jc, "this daemon has no fetcher for documentation sites");
        err = CC_EUNSUPPORTED;
        goto out;
    }
    split_url(src->url, c->origin, sizeof(c->origin), path, sizeof(path));
    for (c->setcap = 64; c->setcap <= 2 * c->o.max_pages; c->setcap *= 2)
        ;
    c->set = cc_xcalloc(c->setcap, sizeof(*c->set));
    add_release_version(c, json_string_value(json_object_get(payload, "version")));
    ingest_job_stage(jc, "list");
    read_robots(c);
    read_versions(c);
    const char *const *maps = NULL;
    size_t nmaps = ingest_robots_sitemaps(c->robots, &maps);
    int budget = DOCS_MAX_SITEMAPS;
    char fallback[DOCS_URL_MAX + 16];
    if (c->o.sitemap) {
        read_sitemap(c, c->o.sitemap, 0, &budget, false);
    } else if (nmaps) {
        for (size_t i = 0; i < nmaps && read_sitemap(c, maps[i], 0, &budget, false); i++)
            ;
    } else {
        snprintf(fallback, sizeof(fallback), "%s/sitemap.xml", c->origin);
        read_sitemap(c, fallback, 0, &budget, true);
    }
    if (c->n == 0) {
        c->listing_failed = false;     /* no sitemap (or an empty one): follow links */
        follow_links(c);
    }
    if (c->n == 0) {
        ingest_job_errorf(jc, "no page of %s is in scope (%s) and allowed by robots.txt",
                          src->url, c->o.scope);
        err = CC_ENOTFOUND;
        goto out;
    }
    ingest_job_stage(jc, "queue");
    err = queue_pages(c);
    if (err == CC_ELIMIT) {
        ingest_job_errorf(jc, "the source's job queue is full: %lld of %zu pages queued; "
                          "retried once it drains", (long long)c->queued, c->n);
        err = CC_EAGAIN;
    } else if (err) {
        ingest_job_errorf(jc, "cannot queue pages: %s", cc_err_str(err));
    }
    cc_log_info(jc->ctx->log, "ingest", "docs site listed", CC_LS("source", src->name),
                CC_LI("pages", (int64_t)c->n), CC_LI("queued", c->queued),
                CC_LI("unchanged_by_lastmod", c->skipped_fresh),
                CC_LB("truncated", c->truncated));
    if (!err && !c->truncated && !c->listing_failed)
        remove_gone(c);
out:
    ingest_robots_free(c->robots);
    ingest_doc_versions_release(&c->versions);
    json_decref(c->o.versions);
    free(c->urls);
    free(c->lastmod);
    free(c->set);
    free(c);
    return err;
}

const struct ingest_source_type ingest_source_docs = {
    .name = "docs",
    .what = "a documentation site at 'url', crawled on schedule through its sitemap or links",
    .locator = INGEST_SOURCE_URL,
    .check = check,
    .run = run,
};
