/* Chunks are what search returns: each must be readable on its own (cut at
 * headings, labelled with its heading path), within the size cap counted
 * in characters, never empty, never cutting a character in half, and put
 * back together they must give the section's text again. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "fixture.h"
#include "ingest/chunk.h"
#include "ingest/parse/parse.h"

static void md(const char *src, struct ingest_text *t)
{
    struct cc_diag d;
    ingest_text_init(t, 0);
    assert_int_equal(ingest_markdown_parse(src, strlen(src), t, &d), CC_OK);
}

static void check_invariants(const struct ingest_chunks *c, size_t max)
{
    for (size_t i = 0; i < c->n; i++) {
        const struct ingest_chunk *k = &c->items[i];
        size_t len = strlen(k->text);
        assert_int_equal(k->ord, i);
        assert_true(len > 0);
        assert_int_equal(k->chars, ingest_utf8_chars(k->text, len));
        assert_true(k->chars >= 1 && k->chars <= max);
        for (size_t j = 0; j < len;) {               /* every character whole */
            size_t n = ingest_utf8_len((const unsigned char *)k->text + j, len - j);
            assert_true(n > 0);
            j += n;
        }
        assert_non_null(k->heading_path);
    }
}

static void test_heading_paths(void **state)
{
    (void)state;
    struct ingest_text t;
    struct ingest_chunks c;
    md("Preface.\n\n# Install\n\nIntro.\n\n## From source\n\nRun make.\n\n"
       "#### Deep\n\nSkipped a level.\n\n## Binary\n\n- one\n- two\n\n# Use\n\n"
       "## Empty\n\n# Last\n\n```sh\nrun\n```\n", &t);
    ingest_chunks_init(&c);
    assert_int_equal(ingest_chunk(&t, 0, &c), CC_OK);
    check_invariants(&c, INGEST_CHUNK_DEFAULT_MAX);
    static const char *const WANT[][2] = {
        { "", "Preface." },
        { "Install", "Intro." },
        { "Install \xE2\x80\xBA From source", "Run make." },
        { "Install \xE2\x80\xBA From source \xE2\x80\xBA Deep", "Skipped a level." },
        { "Install \xE2\x80\xBA Binary", "- one\n- two" },
        { "Last", "run" },
    };
    assert_int_equal(c.n, 6);                  /* sections without text: no chunk */
    for (size_t i = 0; i < c.n; i++) {
        assert_string_equal(c.items[i].heading_path, WANT[i][0]);
        assert_string_equal(c.items[i].text, WANT[i][1]);
    }
    ingest_chunks_release(&c);
    ingest_text_release(&t);
}

/* Joins chunks with single spaces and compares with the paragraph. */
static void assert_rejoins(const struct ingest_chunks *c, const char *want)
{
    struct cc_buf b;
    cc_buf_init(&b, 1 << 20);
    for (size_t i = 0; i < c->n; i++) {
        if (i)
            cc_buf_addch(&b, ' ');
        cc_buf_addstr(&b, c->items[i].text);
    }
    assert_string_equal(cc_buf_str(&b), want);
    cc_buf_release(&b);
}

static void test_split_at_sentences_then_words(void **state)
{
    (void)state;
    struct ingest_text t;
    struct ingest_chunks c;
    const char *para = "First sentence is here. Second one follows it! "
                       "A third sentence that is much longer than the limit allows for sure.";
    md(para, &t);
    ingest_chunks_init(&c);
    assert_int_equal(ingest_chunk(&t, 40, &c), CC_OK);
    check_invariants(&c, 40);
    assert_string_equal(c.items[0].text, "First sentence is here.");
    assert_string_equal(c.items[1].text, "Second one follows it!");
    /* The long sentence is cut at spaces, packed up to 40 characters. */
    assert_string_equal(c.items[2].text, "A third sentence that is much longer");
    assert_string_equal(c.items[3].text, "than the limit allows for sure.");
    assert_int_equal(c.n, 4);
    assert_rejoins(&c, para);
    ingest_chunks_release(&c);
    ingest_text_release(&t);
}

static void test_paragraphs_packed(void **state)
{
    (void)state;
    struct ingest_text t;
    struct ingest_chunks c;
    md("Alpha.\n\nBeta.\n\nGamma is longer.\n\nDelta.\n", &t);
    ingest_chunks_init(&c);
    assert_int_equal(ingest_chunk(&t, 20, &c), CC_OK);
    check_invariants(&c, 20);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.items[0].text, "Alpha.\n\nBeta.");
    assert_string_equal(c.items[1].text, "Gamma is longer.");
    assert_string_equal(c.items[2].text, "Delta.");
    ingest_chunks_release(&c);
    ingest_text_release(&t);
}

static void test_utf8_counted_in_characters(void **state)
{
    (void)state;
    struct ingest_text t;
    struct ingest_chunks c;
    /* 30 characters of 2, 3 and 4 bytes, no spaces: forced character cuts. */
    char word[256];
    size_t n = 0;
    static const char *const CH[] = { "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80" };
    for (int i = 0; i < 30; i++) {
        size_t k = strlen(CH[i % 3]);
        memcpy(word + n, CH[i % 3], k);
        n += k;
    }
    word[n] = '\0';
    md(word, &t);
    ingest_chunks_init(&c);
    assert_int_equal(ingest_chunk(&t, 7, &c), CC_OK);
    check_invariants(&c, 7);
    assert_int_equal(c.n, 5);                   /* 7 + 7 + 7 + 7 + 2 */
    assert_int_equal(c.items[0].chars, 7);
    assert_int_equal(c.items[4].chars, 2);
    struct cc_buf b;
    cc_buf_init(&b, 4096);
    for (size_t i = 0; i < c.n; i++)
        cc_buf_addstr(&b, c.items[i].text);
    assert_string_equal(cc_buf_str(&b), word);
    cc_buf_release(&b);
    ingest_chunks_release(&c);
    ingest_text_release(&t);
}

static void test_code_split_at_lines(void **state)
{
    (void)state;
    struct ingest_text t;
    struct ingest_chunks c;
    md("```\nline one\nline two\n\nline four is long\n```\n", &t);
    ingest_chunks_init(&c);
    assert_int_equal(ingest_chunk(&t, 18, &c), CC_OK);
    check_invariants(&c, 18);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.items[0].text, "line one\nline two");
    assert_string_equal(c.items[1].text, "line four is long");
    ingest_chunks_release(&c);
    ingest_text_release(&t);
}

static void test_max_one_and_empty(void **state)
{
    (void)state;
    struct ingest_text t;
    struct ingest_chunks c;
    md("ab c\n", &t);
    ingest_chunks_init(&c);
    assert_int_equal(ingest_chunk(&t, 1, &c), CC_OK);
    check_invariants(&c, 1);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.items[2].text, "c");
    ingest_text_release(&t);
    /* Re-chunking replaces the old result; an empty text gives no chunks. */
    ingest_text_init(&t, 0);
    assert_int_equal(ingest_chunk(&t, 10, &c), CC_OK);
    assert_int_equal(c.n, 0);
    assert_int_equal(ingest_chunk(NULL, 10, &c), CC_EINVAL);
    ingest_chunks_release(&c);
    ingest_text_release(&t);
}

static void test_real_page(void **state)
{
    (void)state;
    size_t len;
    char *html = fixture_read("html/docusaurus.html", &len);
    struct ingest_text t;
    struct ingest_chunks c;
    struct cc_diag d;
    ingest_text_init(&t, 0);
    assert_int_equal(ingest_parse("html", html, len, &t, &d), CC_OK);
    ingest_chunks_init(&c);
    assert_int_equal(ingest_chunk(&t, 0, &c), CC_OK);
    check_invariants(&c, INGEST_CHUNK_DEFAULT_MAX);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.items[1].heading_path, "Installation \xE2\x80\xBA From npm");
    assert_string_equal(c.items[1].text, "Install the CLI globally:\n\n"
                                         "npm install --global acme-cli\nacme --version");
    ingest_chunks_release(&c);
    ingest_text_release(&t);
    free(html);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heading_paths),
        cmocka_unit_test(test_split_at_sentences_then_words),
        cmocka_unit_test(test_paragraphs_packed),
        cmocka_unit_test(test_utf8_counted_in_characters),
        cmocka_unit_test(test_code_split_at_lines),
        cmocka_unit_test(test_max_one_and_empty),
        cmocka_unit_test(test_real_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
