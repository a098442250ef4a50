/* Dispatch by content type or extension, and plain text: a user uploads a
 * file and expects it read by its type, or told which types work. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "fixture.h"
#include "ingest/parse/parse.h"

static void test_dispatch_by_type_and_extension(void **state)
{
    (void)state;
    static const struct {
        const char *type;
        const char *data;
        enum ingest_block_kind first;
    } CASES[] = {
        { "text/markdown", "# H\n", INGEST_HEADING },
        { "Text/Markdown; charset=utf-8", "# H\n", INGEST_HEADING },
        { "md", "# H\n", INGEST_HEADING },
        { ".markdown", "# H\n", INGEST_HEADING },
        { "text/plain", "# H\n", INGEST_PARA },
        { "txt", "# H\n", INGEST_PARA },
        { "text/html", "<h1>H</h1>", INGEST_HEADING },
        { "HTM", "<h1>H</h1>", INGEST_HEADING },
        { "html", "<h1>H</h1>", INGEST_HEADING },
    };
    for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
        struct ingest_text t;
        struct cc_diag d;
        ingest_text_init(&t, 0);
        assert_int_equal(ingest_parse(CASES[i].type, CASES[i].data, strlen(CASES[i].data),
                                      &t, &d), CC_OK);
        assert_int_equal(t.nblocks, 1);
        assert_int_equal(t.blocks[0].kind, CASES[i].first);
        ingest_text_release(&t);
    }
}

static void test_unknown_type_lists_supported(void **state)
{
    (void)state;
    struct ingest_text t;
    struct cc_diag d;
    ingest_text_init(&t, 0);
    assert_int_equal(ingest_parse("application/msword", "x", 1, &t, &d), CC_EUNSUPPORTED);
    assert_non_null(strstr(d.msg, "application/msword"));
    assert_non_null(strstr(d.msg, "text/markdown"));
    assert_non_null(strstr(d.msg, "docx"));
    assert_non_null(strstr(d.msg, "pdf"));
    assert_int_equal(ingest_parse(NULL, "x", 1, &t, &d), CC_EUNSUPPORTED);
    assert_int_equal(ingest_parse("", "x", 1, &t, &d), CC_EUNSUPPORTED);
    assert_int_equal(ingest_parse("text/markdownx", "x", 1, &t, &d), CC_EUNSUPPORTED);
    assert_int_equal(ingest_parse("md", "x", INGEST_PARSE_MAX_INPUT + 1, &t, &d), CC_ELIMIT);
    assert_int_equal(t.nblocks, 0);
    ingest_text_release(&t);
}

static void test_plain_paragraphs_and_title(void **state)
{
    (void)state;
    struct ingest_text t;
    struct cc_diag d;
    const char txt[] = "\n  \n   Release notes for 2.0   \nAll good.\n \t \nSecond\r\nparagraph.\f"
                       "Third, after a page break.\n\n\n";
    ingest_text_init(&t, 0);
    assert_int_equal(ingest_plain_parse(txt, sizeof(txt) - 1, &t, &d), CC_OK);
    assert_string_equal(t.title, "Release notes for 2.0");
    assert_int_equal(t.nblocks, 3);
    assert_string_equal(t.blocks[0].text, "Release notes for 2.0 All good.");
    assert_string_equal(t.blocks[1].text, "Second paragraph.");
    assert_string_equal(t.blocks[2].text, "Third, after a page break.");
    ingest_text_release(&t);
}

static void test_plain_title_capped(void **state)
{
    (void)state;
    struct ingest_text t;
    struct cc_diag d;
    char txt[1000];
    memset(txt, 'a', sizeof(txt));
    ingest_text_init(&t, 0);
    assert_int_equal(ingest_plain_parse(txt, sizeof(txt), &t, &d), CC_OK);
    assert_int_equal(strlen(t.title), 200);
    assert_int_equal(strlen(t.blocks[0].text), 1000);
    ingest_text_release(&t);
}

static void test_same_content_same_hash_across_formats(void **state)
{
    (void)state;
    struct ingest_text a, b;
    struct cc_diag d;
    char ha[65], hb[65];
    const char md[] = "# Setup\n\nInstall   the *daemon*  \nand start it.\n\n```sh\nmake  \n```\n";
    const char html[] = "<html><body><h1>Setup</h1><p>Install the daemon\n and start it. </p>"
                        "<pre><code class=\"language-sh\">make\n</code></pre></body></html>";
    ingest_text_init(&a, 0);
    ingest_text_init(&b, 0);
    assert_int_equal(ingest_parse("md", md, sizeof(md) - 1, &a, &d), CC_OK);
    assert_int_equal(ingest_parse("text/html", html, sizeof(html) - 1, &b, &d), CC_OK);
    ingest_text_hash(&a, ha);
    ingest_text_hash(&b, hb);
    assert_string_equal(ha, hb);
    ingest_text_release(&a);
    ingest_text_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dispatch_by_type_and_extension),
        cmocka_unit_test(test_unknown_type_lists_supported),
        cmocka_unit_test(test_plain_paragraphs_and_title),
        cmocka_unit_test(test_plain_title_capped),
        cmocka_unit_test(test_same_content_same_hash_across_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
