/* Main-content extraction on the fixture sites (tests/data/sites): for each
 * generator the title, headings in order, code blocks with their language,
 * and none of the chrome; JavaScript-only pages reported; the generic
 * fallback on blog pages; versions from URLs and from mike's versions.json. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "ingest/web/extract.h"

struct want_heading {
    int level;
    const char *text;
};

static void extract_site(const char *rel, const char *url, struct ingest_page *p)
{
    char path[512];
    size_t len;
    snprintf(path, sizeof(path), "sites/%s", rel);
    char *html = fixture_read(path, &len);
    struct cc_diag d = { 0 };
    ingest_page_init(p, 0);
    assert_int_equal(ingest_page_extract(html, len, url, p, &d), CC_OK);
    free(html);
}

static void assert_headings(const struct ingest_page *p, const struct want_heading *want)
{
    size_t k = 0;
    for (size_t i = 0; i < p->text.nblocks; i++) {
        const struct ingest_block *b = &p->text.blocks[i];
        if (b->kind != INGEST_HEADING)
            continue;
        if (!want[k].text)
            fail_msg("unexpected heading '%s'", b->text);
        assert_string_equal(b->text, want[k].text);
        assert_int_equal(b->level, want[k].level);
        k++;
    }
    if (want[k].text)
        fail_msg("heading '%s' missing", want[k].text);
}

static void assert_code(const struct ingest_page *p, size_t nth, const char *lang,
                        const char *text)
{
    size_t k = 0;
    for (size_t i = 0; i < p->text.nblocks; i++) {
        const struct ingest_block *b = &p->text.blocks[i];
        if (b->kind != INGEST_CODE || k++ != nth)
            continue;
        assert_string_equal(b->text, text);
        if (lang)
            assert_string_equal(b->lang ? b->lang : "(none)", lang);
        else
            assert_null(b->lang);
        return;
    }
    fail_msg("code block %zu missing", nth);
}

static size_t count_code(const struct ingest_page *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->text.nblocks; i++)
        n += p->text.blocks[i].kind == INGEST_CODE;
    return n;
}

static void assert_absent(const struct ingest_page *p, const char *const *words)
{
    for (; *words; words++)
        if (any_block_contains(&p->text, *words))
            fail_msg("chrome text '%s' was extracted", *words);
}

static void test_docusaurus(void **state)
{
    (void)state;
    struct ingest_page p;
    static const struct want_heading H[] = {
        { 1, "Installation" }, { 2, "From npm" }, { 2, "From source" },
        { 3, "Configuration" }, { 0, NULL },
    };
    static const char *const CHROME[] = { "Skip to main", "Blog", "Introduction", "Guides",
                                          "Version: 2.x", "On this page", "Copy",
                                          "Edit this page", "Last updated", "Previous",
                                          "Copyright", "Discord", "3.0 beta", "localStorage",
                                          "Search", NULL };
    extract_site("docusaurus/docs/installation/index.html",
                 "http://docs.acme.test/docs/installation/", &p);
    assert_int_equal(p.site, INGEST_SITE_DOCUSAURUS);
    assert_string_equal(p.text.title, "Installation");
    assert_false(p.needs_javascript);
    assert_string_equal(p.version, "2.x");              /* docsearch:version */
    assert_headings(&p, H);
    assert_int_equal(count_code(&p), 2);
    assert_code(&p, 0, "bash", "npm install --global acme-cli\nacme --version");
    assert_code(&p, 1, "js", "module.exports = {\n  port: 8080,\n  storage: './data',\n};");
    assert_true(find_block(&p.text, INGEST_LIST_ITEM, "Run make install.") >= 0);
    assert_true(find_block(&p.text, INGEST_PARA, "storage | ./data") >= 0);
    assert_absent(&p, CHROME);
    ingest_page_release(&p);
}

static void test_docusaurus_old_version(void **state)
{
    (void)state;
    struct ingest_page p;
    extract_site("docusaurus/docs/1.0/intro/index.html", "http://docs.acme.test/docs/1.0/intro/",
                 &p);
    assert_string_equal(p.version, "1.0");
    assert_string_equal(p.text.title, "Introduction");
    static const char *const CHROME[] = { "no longer actively maintained", "latest version",
                                          NULL };
    assert_absent(&p, CHROME);
    assert_code(&p, 0, "bash", "acme-1 init ~/notes\nacme-1 add \"first note\"");
    ingest_page_release(&p);
}

static void test_mkdocs_material(void **state)
{
    (void)state;
    struct ingest_page p;
    static const struct want_heading H[] = {
        { 1, "Getting started" }, { 2, "Install" }, { 2, "Configure" },
        { 3, "Environment variables" }, { 0, NULL },
    };
    static const char *const CHROME[] = { "Skip to content", "Table of contents", "Home",
                                          "Search", "January 20, 2024", "Back to top",
                                          "Previous", "Material for MkDocs", "__md_scope", "¶",
                                          NULL };
    extract_site("mkdocs-material/1.1/getting-started/index.html",
                 "http://docs.acme.test/1.1/getting-started/", &p);
    assert_int_equal(p.site, INGEST_SITE_MKDOCS_MATERIAL);
    assert_string_equal(p.text.title, "Getting started");
    assert_string_equal(p.version, "1.1");
    assert_headings(&p, H);
    assert_code(&p, 0, "bash", " pip install acme==1.1.0");
    assert_code(&p, 1, "yaml", "listen: 127.0.0.1:8080\nstorage:\n  path: ./data");
    assert_true(find_block(&p.text, INGEST_PARA, "ACME_HOME | Where data is kept") >= 0);
    assert_absent(&p, CHROME);
    ingest_page_release(&p);
}

static void test_mkdocs_classic(void **state)
{
    (void)state;
    struct ingest_page p;
    static const struct want_heading H[] = {
        { 1, "Configuration" }, { 2, "The config file" }, { 2, "Options" }, { 0, NULL },
    };
    static const char *const CHROME[] = { "Acme Tools", "User Guide", "Edit on GitHub",
                                          "Search", "Copyright", "built with",
                                          "From here you can search", "Table of Contents",
                                          "shortcuts", NULL };
    extract_site("mkdocs/user-guide/configuration/index.html",
                 "http://docs.acme.test/user-guide/configuration/", &p);
    assert_int_equal(p.site, INGEST_SITE_MKDOCS);
    assert_string_equal(p.text.title, "Configuration");
    assert_string_equal(p.version, "");
    assert_headings(&p, H);
    assert_code(&p, 0, "toml", "[store]\nurl = \"http://localhost:8080\"\n"
                               "token_file = \"~/.config/acme/token\"\n\n[export]\n"
                               "format = \"markdown\"");
    assert_true(find_block(&p.text, INGEST_PARA, "Keep the token file readable by you alone.") >=
                0);
    assert_absent(&p, CHROME);
    ingest_page_release(&p);
}

static void test_sphinx_rtd(void **state)
{
    (void)state;
    struct ingest_page p;
    static const struct want_heading H[] = {
        { 1, "Quickstart" }, { 2, "Install" }, { 2, "Configure" }, { 0, NULL },
    };
    static const char *const CHROME[] = { "Search docs", "Contents:", "Welcome to Acme",
                                          "Edit on GitHub", "Previous", "Copyright",
                                          "Read the Docs", "v: latest", "Versions",
                                          "SphinxRtdTheme", NULL };
    extract_site("sphinx/en/latest/quickstart.html", "http://docs.acme.test/en/latest/quickstart.html",
                 &p);
    assert_int_equal(p.site, INGEST_SITE_SPHINX);
    assert_string_equal(p.text.title, "Quickstart");
    assert_string_equal(p.version, "latest");
    assert_headings(&p, H);
    /* The line-number column of the numbered block is not code. */
    assert_int_equal(count_code(&p), 2);
    assert_code(&p, 0, "console", "$ pip install acme");
    assert_code(&p, 1, "python", "import acme\nacme.run(port=8080)");
    assert_true(find_block(&p.text, INGEST_PARA, "Start the server and block until it stops.") >=
                0);
    assert_absent(&p, CHROME);
    ingest_page_release(&p);
}

static void test_sphinx_alabaster(void **state)
{
    (void)state;
    struct ingest_page p;
    static const struct want_heading H[] = {
        { 1, "Quickstart" }, { 2, "Install" }, { 2, "Use it" }, { 0, NULL },
    };
    static const char *const CHROME[] = { "Navigation", "Related Topics", "Quick search",
                                          "Documentation overview", "Powered by",
                                          "Page source", "¶", NULL };
    extract_site("sphinx/en/v1.0/quickstart.html", "http://docs.acme.test/en/v1.0/quickstart.html",
                 &p);
    assert_int_equal(p.site, INGEST_SITE_SPHINX);        /* by markup: no generator meta */
    assert_string_equal(p.text.title, "Quickstart");
    assert_string_equal(p.version, "v1.0");
    assert_headings(&p, H);
    assert_code(&p, 0, "console", "$ pip install \"acme<2\"");
    assert_code(&p, 1, "python", "from acme import Store\nstore = Store(\"notes.db\")");
    assert_absent(&p, CHROME);
    ingest_page_release(&p);
}

static void test_gitbook(void **state)
{
    (void)state;
    struct ingest_page p;
    static const struct want_heading H[] = {
        { 1, "Quickstart" }, { 2, "Install" }, { 2, "First steps" }, { 3, "Using the API" },
        { 0, NULL },
    };
    static const char *const CHROME[] = { "Ask or search", "Welcome", "Getting started",
                                          "On this page", "Was this helpful", "Last updated",
                                          "Previous", "Copy", "__next_f",
                                          "Run Acme locally", NULL };
    extract_site("gitbook/getting-started/quickstart/index.html",
                 "http://docs.acme.test/getting-started/quickstart", &p);
    assert_int_equal(p.site, INGEST_SITE_GITBOOK);
    assert_string_equal(p.text.title, "Quickstart");      /* og:title, suffix cut */
    assert_false(p.needs_javascript);
    assert_headings(&p, H);
    assert_code(&p, 0, "bash",
                "brew install acme/tap/acme\nacme login --server https://staging.acme.test");
    assert_code(&p, 1, "javascript", "const res = await fetch(\"/api/notes\", { method: \"POST\" "
                                     "});\nconsole.log(await res.json());");
    assert_absent(&p, CHROME);
    ingest_page_release(&p);
}

static void test_gitbook_legacy(void **state)
{
    (void)state;
    struct ingest_page p;
    static const struct want_heading H[] = { { 1, "Acme Handbook v1" }, { 2, "Deploying" },
                                             { 0, NULL } };
    static const char *const CHROME[] = { "Type to search", "Setup", "Published with GitBook",
                                          "results matching", "No results", NULL };
    extract_site("gitbook/v1/index.html", "http://docs.acme.test/v1/", &p);
    assert_int_equal(p.site, INGEST_SITE_GITBOOK);
    assert_string_equal(p.text.title, "Acme Handbook v1");    /* the h1 beats <title> */
    assert_string_equal(p.version, "v1");
    assert_headings(&p, H);
    assert_code(&p, 0, "bash", "scp acme.tar.gz ops@acme1:/srv/\n"
                               "ssh ops@acme1 sudo systemctl restart acme");
    assert_absent(&p, CHROME);
    ingest_page_release(&p);
}

static void test_javascript_only(void **state)
{
    (void)state;
    struct ingest_page p;
    extract_site("spa/index.html", "http://app.acme.test/", &p);
    assert_true(p.needs_javascript);
    assert_int_equal(p.text.nblocks, 0);
    assert_string_equal(p.text.title, "Acme Console");
    ingest_page_release(&p);

    extract_site("spa/loading.html", "http://app.acme.test/loading", &p);
    assert_true(p.needs_javascript);
    assert_int_equal(p.text.nblocks, 0);
    ingest_page_release(&p);

    /* A short page with scripts is not JavaScript-only when it has text
     * and no application root. */
    extract_site("gitbook/index.html", "http://docs.acme.test/", &p);
    assert_false(p.needs_javascript);
    assert_true(p.text.nblocks > 0);
    ingest_page_release(&p);
}

static void test_javascript_inline(void **state)
{
    (void)state;
    static const char *const PAGES[] = {
        "<html><body><div id=app></div><script src=a.js></script></body></html>",
        "<html><body><p>Please enable JavaScript to view this site.</p></body></html>",
        "<html><body><div data-reactroot></div><script>x()</script></body></html>",
        "<html><body><script>render()</script></body></html>",
        NULL,
    };
    for (const char *const *s = PAGES; *s; s++) {
        struct ingest_page p;
        ingest_page_init(&p, 0);
        assert_int_equal(ingest_page_extract(*s, strlen(*s), NULL, &p, NULL), CC_OK);
        if (!p.needs_javascript)
            fail_msg("not reported as needing JavaScript: %s", *s);
        assert_int_equal(p.text.nblocks, 0);
        ingest_page_release(&p);
    }
    /* A long article that mentions JavaScript in a noscript is content. */
    struct cc_buf b;
    cc_buf_init(&b, 1 << 20);
    cc_buf_addstr(&b, "<html><body><noscript>Enable JavaScript for comments.</noscript><article>");
    for (int i = 0; i < 10; i++)
        cc_buf_addstr(&b, "<p>A real paragraph of the article, long enough to count as text.</p>");
    cc_buf_addstr(&b, "</article><script>c()</script></body></html>");
    struct ingest_page p;
    ingest_page_init(&p, 0);
    assert_int_equal(ingest_page_extract(b.ptr, b.len, NULL, &p, NULL), CC_OK);
    assert_false(p.needs_javascript);
    assert_int_equal(p.text.nblocks, 10);
    ingest_page_release(&p);
    cc_buf_release(&b);
}

static void test_generic_blog(void **state)
{
    (void)state;
    struct ingest_page p;
    static const struct want_heading H[] = {
        { 1, "Why we moved our queue to SQLite" }, { 2, "What changed" },
        { 2, "What we would do differently" }, { 0, NULL },
    };
    static const char *const CHROME[] = { "Skip to content", "Notes from the people", "About",
                                          "Careers", "Related posts", "WAL mode in practice",
                                          "thoughts on", "Great write-up", "Recent Posts",
                                          "Search for", "Proudly powered", "We use cookies",
                                          "Posted in", "How we test our backups", NULL };
    extract_site("blog/posts/why-sqlite/index.html", "http://blog.acme.test/posts/why-sqlite/",
                 &p);
    assert_int_equal(p.site, INGEST_SITE_GENERIC);
    assert_string_equal(p.text.title, "Why we moved our queue to SQLite");
    assert_string_equal(p.version, "");
    assert_headings(&p, H);
    assert_code(&p, 0, "sql", "SELECT id, payload\n  FROM jobs\n WHERE state = 'queued'\n"
                              " ORDER BY run_at\n LIMIT 1;");
    assert_true(find_block(&p.text, INGEST_PARA, "Use the simplest thing that works, and "
                                                 "measure before you add the next thing.") >= 0);
    assert_absent(&p, CHROME);
    ingest_page_release(&p);
}

/* No semantic markup at all: the content is found by its score. */
static void test_generic_div_soup(void **state)
{
    (void)state;
    struct ingest_page p;
    static const char *const CHROME[] = { "ops desk", "All notes", "Contact", "See also",
                                          "Archive", "Blogroll", "Friends of Postgres", "RSS",
                                          NULL };
    extract_site("blog/notes/backups/index.html", "http://blog.acme.test/notes/backups/", &p);
    assert_string_equal(p.text.title, "How we test our backups");
    assert_true(any_block_contains(&p.text, "A backup you have never restored is a hope"));
    assert_true(any_block_contains(&p.text, "a figure we quote in the incident runbook"));
    assert_code(&p, 0, "shell", "pg_restore --clean --dbname=scratch /backups/latest.dump\n"
                                "psql scratch -c 'SELECT count(*) FROM documents;'");
    assert_absent(&p, CHROME);
    ingest_page_release(&p);
}

/* A layout wrapper whose class mentions a sidebar is not chrome when it
 * holds the article; the sidebar inside it still is. */
static void test_generic_wrapper_named_like_chrome(void **state)
{
    (void)state;
    const char *html = "<html><head><title>Post | Blog</title></head><body>"
                       "<div class=\"layout-with-sidebar\"><div class=\"col\"><article>"
                       "<h1>Post</h1><p>The first paragraph of the post, with enough text, "
                       "commas, and words to score.</p><p>The second paragraph says more, "
                       "at length, about the subject.</p></article></div>"
                       "<div class=\"sidebar\"><p>Sidebar text that is long enough to "
                       "score, if it were content, which it is not.</p></div></div>"
                       "</body></html>";
    struct ingest_page p;
    ingest_page_init(&p, 0);
    assert_int_equal(ingest_page_extract(html, strlen(html), NULL, &p, NULL), CC_OK);
    assert_int_equal(p.text.nblocks, 3);
    assert_int_equal(find_block(&p.text, INGEST_HEADING, "Post"), 0);
    assert_false(any_block_contains(&p.text, "Sidebar"));
    ingest_page_release(&p);
}

static void test_plain_text_and_errors(void **state)
{
    (void)state;
    struct ingest_page p;
    ingest_page_init(&p, 0);
    const char *html = "<html><head><title>T | S</title></head><body><main><h1>Head</h1>"
                       "<p>One.</p><pre class=\"language-c\">int x;\n\nint y;</pre></main>"
                       "</body></html>";
    assert_int_equal(ingest_page_extract(html, strlen(html), "https://x.test/docs/v2/a", &p,
                                         NULL), CC_OK);
    struct cc_buf b;
    cc_buf_init(&b, 1 << 20);
    assert_int_equal(ingest_page_plain_text(&p.text, &b), CC_OK);
    assert_string_equal(b.ptr, "Head\nOne.\nint x;\n\nint y;");
    assert_string_equal(p.version, "v2");
    cc_buf_release(&b);
    /* Empty input: an empty page, the version still from the URL. */
    assert_int_equal(ingest_page_extract("", 0, "https://x.test/en/stable/", &p, NULL), CC_OK);
    assert_int_equal(p.text.nblocks, 0);
    assert_null(p.text.title);
    assert_string_equal(p.version, "stable");
    ingest_page_release(&p);
    /* Text past the limit: CC_ELIMIT, the page untouched. */
    struct ingest_page small;
    ingest_page_init(&small, 64);
    const char *big = "<p>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa</p>";
    struct cc_diag d = { 0 };
    assert_int_equal(ingest_page_extract(big, strlen(big), "u", &small, &d), CC_ELIMIT);
    assert_non_null(strstr(d.msg, "limit"));
    assert_int_equal(small.text.nblocks, 0);
    ingest_page_release(&small);
}

static void test_version_from_url(void **state)
{
    (void)state;
    static const struct { const char *url, *want; } CASES[] = {
        { "https://docs.acme.test/v1.0/intro/", "v1.0" },
        { "https://docs.acme.test/docs/1.2.3/api", "1.2.3" },
        { "https://acme.readthedocs.io/en/latest/quickstart.html", "latest" },
        { "https://acme.readthedocs.io/en/stable/", "stable" },
        { "https://acme.readthedocs.io/pt-br/3.1/", "3.1" },
        { "https://docs.acme.test/docs/next/intro", "next" },
        { "https://docs.acme.test/docs/2.x/intro", "2.x" },
        { "https://docs.python.org/3.12/library/os.html", "3.12" },
        { "https://docs.acme.test/v2/", "v2" },
        { "https://docs.acme.test/V3.1/", "V3.1" },
        { "https://docs.acme.test/2.0.0-beta.1/", "2.0.0-beta.1" },
        { "https://docs.acme.test/3.12rc1/whatsnew", "3.12rc1" },
        { "/en/master/index.html", "master" },
        { "latest/", "latest" },
        { NULL, NULL },
    };
    static const char *const NONE[] = {
        "https://docs.acme.test/docs/intro/",
        "https://blog.acme.test/2024/03/why-sqlite/",          /* dates, not versions */
        "https://docs.acme.test/page/2/",
        "https://docs.acme.test/guides/latest-news/",
        "https://docs.acme.test/guide/next/",                  /* "next" not anchored */
        "https://docs.acme.test/downloads/acme-1.2.3.tar.gz",
        "https://docs.acme.test/?v=1.0",
        "https://docs.acme.test/#/v1.0/",
        "https://1.2.3.4/",
        "",
        NULL,
    };
    char out[INGEST_VERSION_MAX];
    for (size_t i = 0; CASES[i].url; i++) {
        cc_err err = ingest_version_from_url(CASES[i].url, out, sizeof(out));
        if (err != CC_OK || strcmp(out, CASES[i].want) != 0)
            fail_msg("%s: got %s, want %s", CASES[i].url, err ? cc_err_name(err) : out,
                     CASES[i].want);
    }
    for (const char *const *u = NONE; *u; u++)
        if (ingest_version_from_url(*u, out, sizeof(out)) != CC_ENOTFOUND)
            fail_msg("%s: found version '%s'", *u, out);
    char tiny[3];
    assert_int_equal(ingest_version_from_url("/v1.0/", tiny, sizeof(tiny)), CC_ELIMIT);
}

static void test_mike_versions(void **state)
{
    (void)state;
    size_t len;
    char *json = fixture_read("sites/mkdocs-material/versions.json", &len);
    struct ingest_doc_versions v = { 0 };
    assert_int_equal(ingest_doc_versions_parse(json, len, &v, NULL), CC_OK);
    free(json);
    assert_int_equal(v.n, 3);
    assert_string_equal(v.v[0].version, "1.1");
    assert_string_equal(v.v[0].title, "1.1 (latest)");
    assert_int_equal(v.v[0].naliases, 1);
    assert_string_equal(v.v[0].aliases[0], "latest");
    assert_int_equal(v.v[1].naliases, 0);
    assert_string_equal(ingest_doc_versions_resolve(&v, "latest"), "1.1");
    assert_string_equal(ingest_doc_versions_resolve(&v, "1.0"), "1.0");
    assert_string_equal(ingest_doc_versions_resolve(&v, "next"), "dev");
    assert_null(ingest_doc_versions_resolve(&v, "2.0"));
    ingest_doc_versions_release(&v);

    /* Odd entries are skipped, not fatal; titles default to the version. */
    const char *odd = "[{\"version\":\"2.0\"},{\"title\":\"no version\"},{\"version\":\"../x\"},"
                      "{\"version\":5},\"string\",{\"version\":\"1.9\",\"aliases\":[\"old\",7,"
                      "\"\",\"a/b\"]}]";
    assert_int_equal(ingest_doc_versions_parse(odd, strlen(odd), &v, NULL), CC_OK);
    assert_int_equal(v.n, 2);
    assert_string_equal(v.v[0].title, "2.0");
    assert_int_equal(v.v[1].naliases, 1);
    assert_string_equal(v.v[1].aliases[0], "old");
    ingest_doc_versions_release(&v);

    struct cc_diag d = { 0 };
    struct ingest_doc_versions untouched = { 0 };
    assert_int_equal(ingest_doc_versions_parse("{\"version\":\"1\"}", 15, &untouched, &d),
                     CC_EPARSE);
    assert_non_null(strstr(d.msg, "array"));
    assert_int_equal(ingest_doc_versions_parse("[{", 2, &untouched, &d), CC_EPARSE);
    assert_non_null(strstr(d.msg, "not JSON"));
    assert_int_equal(untouched.n, 0);
    ingest_doc_versions_release(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_docusaurus),
        cmocka_unit_test(test_docusaurus_old_version),
        cmocka_unit_test(test_mkdocs_material),
        cmocka_unit_test(test_mkdocs_classic),
        cmocka_unit_test(test_sphinx_rtd),
        cmocka_unit_test(test_sphinx_alabaster),
        cmocka_unit_test(test_gitbook),
        cmocka_unit_test(test_gitbook_legacy),
        cmocka_unit_test(test_javascript_only),
        cmocka_unit_test(test_javascript_inline),
        cmocka_unit_test(test_generic_blog),
        cmocka_unit_test(test_generic_div_soup),
        cmocka_unit_test(test_generic_wrapper_named_like_chrome),
        cmocka_unit_test(test_plain_text_and_errors),
        cmocka_unit_test(test_version_from_url),
        cmocka_unit_test(test_mike_versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
