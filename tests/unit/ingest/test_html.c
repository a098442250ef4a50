/* Main-content extraction on pages shaped like the generators' output:
 * what a reader sees as the article is kept, with its headings and code;
 * navigation, sidebars, tables of contents, footers and scripts are not. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "fixture.h"
#include "ingest/parse/parse.h"

static void extract_fixture(const char *name, struct ingest_text *t)
{
    size_t len;
    char *html = fixture_read(name, &len);
    struct cc_diag d;
    ingest_text_init(t, 0);
    assert_int_equal(ingest_html_extract(html, len, "https://docs.example/x", t, &d), CC_OK);
    free(html);
}

static void assert_absent(const struct ingest_text *t, const char *const *words)
{
    for (; *words; words++) {
        if (any_block_contains(t, *words))
            fail_msg("chrome text '%s' was extracted", *words);
    }
}

static void test_docusaurus(void **state)
{
    (void)state;
    struct ingest_text t;
    static const char *const CHROME[] = { "Skip to main", "Blog", "Introduction", "Home",
                                          "Version: 2.x", "On this page", "Copy",
                                          "Edit this page", "Previous", "Copyright",
                                          "localStorage", NULL };
    extract_fixture("html/docusaurus.html", &t);
    assert_string_equal(t.title, "Installation");
    assert_int_equal(find_block(&t, INGEST_HEADING, "Installation"), 0);
    assert_int_equal(t.blocks[0].level, 1);
    long npm = find_block(&t, INGEST_HEADING, "From npm");
    assert_true(npm > 0);
    assert_int_equal(t.blocks[npm].level, 2);
    long code = find_block(&t, INGEST_CODE, "npm install --global acme-cli\nacme --version");
    assert_true(code > npm);
    assert_string_equal(t.blocks[code].lang, "bash");
    assert_true(find_block(&t, INGEST_PARA,
                           "Acme runs on Linux and macOS. You need Node.js 18 or newer.") >= 0);
    assert_true(find_block(&t, INGEST_LIST_ITEM, "Run make install.") >= 0);
    assert_true(find_block(&t, INGEST_PARA, "--prefix | /usr/local") >= 0);
    assert_absent(&t, CHROME);
    ingest_text_release(&t);
}

static void test_mkdocs(void **state)
{
    (void)state;
    struct ingest_text t;
    static const char *const CHROME[] = { "Skip to content", "Acme Docs", "Table of contents",
                                          "Previous", "Made with", "\xC2\xB6", "__md_get",
                                          "Last update", NULL };
    extract_fixture("html/mkdocs.html", &t);
    assert_string_equal(t.title, "Configuration");
    assert_int_equal(find_block(&t, INGEST_HEADING, "Configuration"), 0);
    assert_true(find_block(&t, INGEST_HEADING, "Options") > 0);
    long code = find_block(&t, INGEST_CODE, "listen: 127.0.0.1:8080\nworkers: 4");
    assert_true(code > 0);
    assert_string_equal(t.blocks[code].lang, "yaml");
    assert_true(find_block(&t, INGEST_PARA, "Unknown keys are an error.") > 0);
    assert_true(find_block(&t, INGEST_PARA, "Address and port to listen on.") > 0);
    assert_absent(&t, CHROME);
    ingest_text_release(&t);
}

static void test_sphinx(void **state)
{
    (void)state;
    struct ingest_text t;
    static const char *const CHROME[] = { "Navigation", "index", "Quick search",
                                          "Powered by", "\xC2\xB6", NULL };
    extract_fixture("html/sphinx.html", &t);
    assert_string_equal(t.title, "Quickstart");
    assert_int_equal(find_block(&t, INGEST_HEADING, "Quickstart"), 0);
    assert_true(find_block(&t, INGEST_PARA, "This guide gets a server running in five "
                                            "minutes. It assumes Python 3.10.") > 0);
    long console = find_block(&t, INGEST_CODE, "$ pip install acme");
    assert_true(console > 0);
    assert_string_equal(t.blocks[console].lang, "console");
    long py = find_block(&t, INGEST_CODE, "import acme\nacme.run(port=8080)");
    assert_true(py > console);
    assert_string_equal(t.blocks[py].lang, "python");
    assert_true(find_block(&t, INGEST_HEADING, "Configure") > console);
    assert_absent(&t, CHROME);
    ingest_text_release(&t);
}

static void test_generic_page(void **state)
{
    (void)state;
    struct ingest_text t;
    static const char *const CHROME[] = { "cookies", "About", "Popular posts", "Ten tips",
                                          "2024 Acme", "analytics", "sans-serif",
                                          "Enable JavaScript", "newsletter", NULL };
    extract_fixture("html/generic.html", &t);
    /* Undeclared encoding, valid UTF-8: read as UTF-8; " · Site" stripped. */
    assert_string_equal(t.title, "Why we moved to SQLite");
    assert_true(find_block(&t, INGEST_PARA, "For years we ran PostgreSQL for a service "
                                            "with one writer. It was fine, but the "
                                            "operational cost was not.") > 0);
    assert_true(find_block(&t, INGEST_PARA, "Use the simplest thing that works.") > 0);
    assert_true(find_block(&t, INGEST_LIST_ITEM, "Backups became a file copy.") > 0);
    long code = find_block(&t, INGEST_CODE, "SELECT count(*)\n  FROM jobs\n WHERE state = 'queued';");
    assert_true(code > 0);
    assert_string_equal(t.blocks[code].lang, "sql");
    assert_true(find_block(&t, INGEST_PARA,
                           "Caf\xC3\xA9 na\xC3\xAFve r\xC3\xA9sum\xC3\xA9 <tags> & more.") > 0);
    assert_absent(&t, CHROME);
    ingest_text_release(&t);
}

static void extract(const char *html, struct ingest_text *t)
{
    struct cc_diag d;
    ingest_text_init(t, 0);
    assert_int_equal(ingest_html_extract(html, strlen(html), NULL, t, &d), CC_OK);
}

static void test_main_article_role_order(void **state)
{
    (void)state;
    struct ingest_text t;
    extract("<body><article><p>article</p></article><main><p>main</p></main></body>", &t);
    assert_int_equal(t.nblocks, 1);
    assert_string_equal(t.blocks[0].text, "main");
    ingest_text_release(&t);
    extract("<body><div role=main><p>role</p></div><article><p>article</p></article></body>",
            &t);
    assert_int_equal(t.nblocks, 1);
    assert_string_equal(t.blocks[0].text, "article");
    ingest_text_release(&t);
    extract("<body><p>outside</p><div role=\"main\"><p>role</p></div></body>", &t);
    assert_int_equal(t.nblocks, 1);
    assert_string_equal(t.blocks[0].text, "role");
    ingest_text_release(&t);
}

static void test_filters_and_words(void **state)
{
    (void)state;
    struct ingest_text t;
    extract("<html><head><title>Only Title</title></head><body class='sidebar-open'>"
            "<div class='protocol'>Protocol <b>kept</b><span>X</span>Y</div>"
            "<div id='toc'>toc gone</div><div class='md-sidebar'>side gone</div>"
            "<div hidden>hidden gone</div><div aria-hidden='true'>aria gone</div>"
            "<div role='navigation'>nav gone</div><p>a<br>b</p><h2>H<a class='headerlink'>#"
            "</a></h2><iframe src='x'></iframe><svg><text>svg gone</text></svg></body></html>",
            &t);
    assert_string_equal(t.title, "Only Title");
    assert_int_equal(t.nblocks, 3);
    assert_string_equal(t.blocks[0].text, "Protocol keptXY");
    assert_string_equal(t.blocks[1].text, "a b");
    assert_string_equal(t.blocks[2].text, "H");
    ingest_text_release(&t);
}

static void test_title_fallback_and_empty(void **state)
{
    (void)state;
    struct ingest_text t;
    extract("<p>intro</p><h2>Two</h2><h1>First &amp; only</h1>", &t);
    assert_string_equal(t.title, "First & only");
    ingest_text_release(&t);
    extract("", &t);
    assert_int_equal(t.nblocks, 0);
    assert_null(t.title);
    ingest_text_release(&t);
    extract("   \n ", &t);
    assert_int_equal(t.nblocks, 0);
    ingest_text_release(&t);
    /* A page-wide form (ASP.NET) is content; a signup form is not. */
    extract("<body><form id='aspnetForm'><h1>Page</h1><p>Body text.</p>"
            "<form><h3>Subscribe</h3><p>Newsletter</p></form></form></body>", &t);
    assert_true(find_block(&t, INGEST_PARA, "Body text.") > 0);
    assert_false(any_block_contains(&t, "Newsletter"));
    ingest_text_release(&t);
    extract("<body><div><h1>Page</h1><p>Body text.</p></div>"
            "<form><h3>Subscribe</h3><p>Newsletter</p></form></body>", &t);
    assert_false(any_block_contains(&t, "Newsletter"));
    ingest_text_release(&t);
    /* A wrapper inside a heading is the heading's text, not a paragraph. */
    extract("<h2><div class='title'>Wrapped</div> <span>heading</span></h2>", &t);
    assert_int_equal(t.nblocks, 1);
    assert_int_equal(t.blocks[0].kind, INGEST_HEADING);
    assert_string_equal(t.blocks[0].text, "Wrapped heading");
    ingest_text_release(&t);
    /* Broken markup is recovered, not refused. */
    extract("<div><p>unclosed <b>bold<li>item</div></table>", &t);
    assert_true(any_block_contains(&t, "unclosed bold"));
    assert_true(any_block_contains(&t, "item"));
    ingest_text_release(&t);
}

static void test_no_external_entities(void **state)
{
    (void)state;
    struct ingest_text t;
    extract("<!DOCTYPE html [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><p>a&x;b &lt; "
            "&#x263A;</p>", &t);
    assert_false(any_block_contains(&t, "root:"));
    assert_true(any_block_contains(&t, "\xE2\x98\xBA"));
    ingest_text_release(&t);
}

static void test_declared_latin1(void **state)
{
    (void)state;
    struct ingest_text t;
    extract("<meta charset=\"iso-8859-1\"><p>caf\xE9</p>", &t);
    assert_string_equal(t.blocks[0].text, "caf\xC3\xA9");
    ingest_text_release(&t);
}

/* Hostile encodings must not make libxml2 print to the daemon's stderr. */
static void test_encoding_errors_stay_quiet(void **state)
{
    (void)state;
    /* "<\0\0\0" makes libxml2 guess UCS-4, which the rest then breaks. */
    static const char *const CASES[] = { "<\0\0\0\0\0\0\0\x01\x90\0\0\0\0\0\0<p>item</p>",
                                         "<meta charset=\"UCS-4\"><p>abc</p>",
                                         "<meta charset=\"UTF-16\"><p>x\xff\xfe</p>" };
    static const size_t LENS[] = { 26, 0, 0 };
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    fflush(stderr);
    int saved = dup(2);
    assert_true(saved >= 0);
    dup2(fileno(tmp), 2);
    for (size_t i = 0; i < 3; i++) {
        struct ingest_text t;
        struct cc_diag d;
        ingest_text_init(&t, 0);
        size_t n = LENS[i] ? LENS[i] : strlen(CASES[i]);
        ingest_html_extract(CASES[i], n, NULL, &t, &d);
        ingest_text_release(&t);
    }
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    assert_int_equal(ftell(tmp), 0);
    fseek(tmp, 0, SEEK_END);
    assert_int_equal(ftell(tmp), 0);
    fclose(tmp);
}

/* libxml2 2.9 is quadratic in a tag's attributes: such pages are refused
 * (in milliseconds) rather than parsed for minutes. */
static void test_attribute_flood_refused(void **state)
{
    (void)state;
    struct cc_buf b;
    cc_buf_init(&b, 1 << 20);
    for (int n = 900; n <= 1001; n += 101) {
        cc_buf_reset(&b);
        cc_buf_addstr(&b, "<div");
        for (int i = 0; i < n; i++)
            cc_buf_addf(&b, " a%d=\"x > y\"", i);
        cc_buf_addstr(&b, ">text</div>");
        struct ingest_text t;
        struct cc_diag d;
        ingest_text_init(&t, 0);
        cc_err err = ingest_html_extract(cc_buf_str(&b), b.len, NULL, &t, &d);
        if (n == 900) {
            assert_int_equal(err, CC_OK);
            assert_string_equal(t.blocks[0].text, "text");
        } else {
            assert_int_equal(err, CC_ELIMIT);
            assert_non_null(strstr(d.msg, "attributes"));
        }
        ingest_text_release(&t);
    }
    cc_buf_release(&b);
}

static void test_limit(void **state)
{
    (void)state;
    struct ingest_text t;
    struct cc_diag d;
    char html[8192];
    size_t n = 0;
    while (n + 32 < sizeof(html))
        n += (size_t)snprintf(html + n, sizeof(html) - n, "<p>paragraph %zu</p>", n);
    ingest_text_init(&t, 512);
    assert_int_equal(ingest_html_extract(html, n, NULL, &t, &d), CC_ELIMIT);
    assert_int_equal(t.nblocks, 0);
    ingest_text_release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_docusaurus),
        cmocka_unit_test(test_mkdocs),
        cmocka_unit_test(test_sphinx),
        cmocka_unit_test(test_generic_page),
        cmocka_unit_test(test_main_article_role_order),
        cmocka_unit_test(test_filters_and_words),
        cmocka_unit_test(test_title_fallback_and_empty),
        cmocka_unit_test(test_no_external_entities),
        cmocka_unit_test(test_declared_latin1),
        cmocka_unit_test(test_encoding_errors_stay_quiet),
        cmocka_unit_test(test_attribute_flood_refused),
        cmocka_unit_test(test_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
