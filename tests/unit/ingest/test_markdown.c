/* Markdown as documentation is written: headings of both kinds, fences with
 * languages, lists with code inside, quotes, front matter, tables, raw
 * HTML, inline markup and entities reduced to the words a reader sees. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "fixture.h"
#include "ingest/chunk.h"
#include "ingest/parse/parse.h"

static void parse(const char *md, struct ingest_text *t)
{
    struct cc_diag d;
    ingest_text_init(t, 0);
    assert_int_equal(ingest_markdown_parse(md, strlen(md), t, &d), CC_OK);
}

static void expect(const struct ingest_text *t, size_t i, enum ingest_block_kind kind,
                   int level, const char *text)
{
    assert_true(i < t->nblocks);
    assert_int_equal(t->blocks[i].kind, kind);
    assert_int_equal(t->blocks[i].level, level);
    assert_string_equal(t->blocks[i].text, text);
}

static void test_headings_and_paragraphs(void **state)
{
    (void)state;
    struct ingest_text t;
    parse("# Guide #\n\nFirst   line\nsecond line.\n\n## Install\n\nSetext one\n==========\n\n"
          "Setext two\n---\n###### Six\n####### seven\n#nospace\n",
          &t);
    assert_string_equal(t.title, "Guide");
    expect(&t, 0, INGEST_HEADING, 1, "Guide");
    expect(&t, 1, INGEST_PARA, 0, "First line second line.");
    expect(&t, 2, INGEST_HEADING, 2, "Install");
    expect(&t, 3, INGEST_HEADING, 1, "Setext one");
    expect(&t, 4, INGEST_HEADING, 2, "Setext two");
    expect(&t, 5, INGEST_HEADING, 6, "Six");
    expect(&t, 6, INGEST_PARA, 0, "####### seven #nospace");
    assert_int_equal(t.nblocks, 7);
    ingest_text_release(&t);
}

static void test_code_blocks(void **state)
{
    (void)state;
    struct ingest_text t;
    parse("```python title=\"a.py\"\ndef f():\n    return 1\n```\n\n"
          "~~~~\n```\nnot a close\n~~~~\n\n"
          "Text\n\n    indented\n\n      deeper\n\nafter\n\n"
          "```{.rust}\nunclosed\n\n",
          &t);
    expect(&t, 0, INGEST_CODE, 0, "def f():\n    return 1");
    assert_string_equal(t.blocks[0].lang, "python");
    expect(&t, 1, INGEST_CODE, 0, "```\nnot a close");
    assert_null(t.blocks[1].lang);
    expect(&t, 2, INGEST_PARA, 0, "Text");
    expect(&t, 3, INGEST_CODE, 0, "indented\n\n  deeper");
    expect(&t, 4, INGEST_PARA, 0, "after");
    expect(&t, 5, INGEST_CODE, 0, "unclosed");
    assert_string_equal(t.blocks[5].lang, "rust");
    assert_int_equal(t.nblocks, 6);
    ingest_text_release(&t);
}

static void test_lists_and_quotes(void **state)
{
    (void)state;
    struct ingest_text t;
    parse("- one\n- two\n  continued\n  - nested\n* star\n\n"
          "1. Run:\n\n   ```sh\n   make\n   > not a quote\n   ```\n2) second\n\n"
          "> Quoted\n> text.\n>\n> > deeper\n\nafter\n",
          &t);
    expect(&t, 0, INGEST_LIST_ITEM, 0, "one");
    expect(&t, 1, INGEST_LIST_ITEM, 0, "two continued");
    expect(&t, 2, INGEST_LIST_ITEM, 0, "nested");
    expect(&t, 3, INGEST_LIST_ITEM, 0, "star");
    expect(&t, 4, INGEST_LIST_ITEM, 0, "Run:");
    expect(&t, 5, INGEST_CODE, 0, "make\n> not a quote");
    assert_string_equal(t.blocks[5].lang, "sh");
    expect(&t, 6, INGEST_LIST_ITEM, 0, "second");
    expect(&t, 7, INGEST_PARA, 0, "Quoted text.");
    expect(&t, 8, INGEST_PARA, 0, "deeper");
    expect(&t, 9, INGEST_PARA, 0, "after");
    assert_int_equal(t.nblocks, 10);
    ingest_text_release(&t);
}

static void test_front_matter(void **state)
{
    (void)state;
    struct ingest_text t;
    parse("---\nid: intro\ntitle: 'Getting Started'\ntags: [a, b]\n---\n# Welcome\n\nHi.\n", &t);
    assert_string_equal(t.title, "Getting Started");
    expect(&t, 0, INGEST_HEADING, 1, "Welcome");
    expect(&t, 1, INGEST_PARA, 0, "Hi.");
    assert_int_equal(t.nblocks, 2);
    ingest_text_release(&t);
    /* Without title: the first H1; the front matter is still skipped. */
    parse("---\nsidebar_position: 2\n---\n\nIntro\n\n# First\n\n# Second\n", &t);
    assert_string_equal(t.title, "First");
    expect(&t, 0, INGEST_PARA, 0, "Intro");
    ingest_text_release(&t);
    /* An unclosed --- is not front matter: a thematic break, then text. */
    parse("---\ntitle: x\n", &t);
    assert_null(t.title);
    expect(&t, 0, INGEST_PARA, 0, "title: x");
    ingest_text_release(&t);
}

static void test_inline_markup(void **state)
{
    (void)state;
    struct ingest_text t;
    parse("Use **bold**, *it*, _under_ and ~~gone~~ but keep snake_case_name and 2 * 3.\n\n"
          "See [the guide](https://x.example/a(b)c \"t\"), [ref][r], ![logo](l.png) and "
          "<https://example.com/x>.\n\n"
          "Code `a *b* [c](d)` and `` x ` y `` and \\*escaped\\*.\n\n"
          "[r]: https://example.com\n\n<!-- hidden -->\n\n***\n",
          &t);
    expect(&t, 0, INGEST_PARA, 0,
           "Use bold, it, under and gone but keep snake_case_name and 2 * 3.");
    expect(&t, 1, INGEST_PARA, 0, "See the guide, ref, logo and https://example.com/x.");
    expect(&t, 2, INGEST_PARA, 0, "Code a *b* [c](d) and x ` y and *escaped*.");
    assert_int_equal(t.nblocks, 3);
    ingest_text_release(&t);
}

/* A table row reads as "Header: value — Header: value": no pipes, no
 * delimiter row, empty cells left out, inline markup and escaped pipes
 * as text. A table without a body gives its header row. */
static void test_tables(void **state)
{
    (void)state;
    struct ingest_text t;
    parse("## Options\n\n"
          "| Option | Default | Meaning |\n"
          "|:-------|:-------:|--------:|\n"
          "| `timeout` | 30s | per **request** |\n"
          "| retries |  | attempts \\| tries |\n"
          "| mode | [fast](https://x.example) |\n"
          "\n"
          "Name | Value\n"
          "--- | ---\n"
          "\n"
          "After.\n",
          &t);
    expect(&t, 0, INGEST_HEADING, 2, "Options");
    expect(&t, 1, INGEST_PARA, 0,
           "Option: timeout \xE2\x80\x94 Default: 30s \xE2\x80\x94 Meaning: per request");
    expect(&t, 2, INGEST_PARA, 0,
           "Option: retries \xE2\x80\x94 Meaning: attempts | tries");
    expect(&t, 3, INGEST_PARA, 0, "Option: mode \xE2\x80\x94 Default: fast");
    expect(&t, 4, INGEST_PARA, 0, "Name \xE2\x80\x94 Value");
    expect(&t, 5, INGEST_PARA, 0, "After.");
    assert_int_equal(t.nblocks, 6);
    ingest_text_release(&t);

    /* Empty header cells: the values stand alone. */
    parse("|   | a |\n|---|---|\n| x | y |\n", &t);
    expect(&t, 0, INGEST_PARA, 0, "x \xE2\x80\x94 a: y");
    assert_int_equal(t.nblocks, 1);
    ingest_text_release(&t);
}

/* Past TABLE_MAX_COLS columns md4c would call back columns x rows times:
 * the document is read again without tables, so the text survives as a
 * paragraph with its pipes, and the rest of the document is intact. */
/* "# Wide", a table of `cols` columns c0.. with one row "x", then "End.". */
static void wide_table(struct cc_buf *b, int cols)
{
    cc_buf_init(b, 1 << 20);
    cc_buf_addstr(b, "# Wide\n\n");
    for (int i = 0; i < cols; i++)
        cc_buf_addf(b, "|c%d", i);
    cc_buf_addstr(b, "|\n");
    for (int i = 0; i < cols; i++)
        cc_buf_addstr(b, "|---");
    cc_buf_addstr(b, "|\n|x|\n\nEnd.\n");
}

static void test_table_too_wide_is_text(void **state)
{
    (void)state;
    struct cc_buf b;
    struct ingest_text t;
    wide_table(&b, 65);
    parse(cc_buf_str(&b), &t);
    assert_string_equal(t.title, "Wide");
    expect(&t, 0, INGEST_HEADING, 1, "Wide");
    assert_int_equal(t.blocks[1].kind, INGEST_PARA);
    assert_int_equal(strncmp(t.blocks[1].text, "|c0|c1|c2|", 10), 0);
    assert_non_null(strstr(t.blocks[1].text, "|c64| |---|"));
    expect(&t, 2, INGEST_PARA, 0, "End.");
    assert_int_equal(t.nblocks, 3);
    ingest_text_release(&t);
    cc_buf_release(&b);

    /* 64 columns are still a table. */
    wide_table(&b, 64);
    parse(cc_buf_str(&b), &t);
    expect(&t, 1, INGEST_PARA, 0, "c0: x");
    expect(&t, 2, INGEST_PARA, 0, "End.");
    assert_int_equal(t.nblocks, 3);
    ingest_text_release(&t);
    cc_buf_release(&b);
}

/* Raw HTML keeps its words: comments and HTML elements' tags go, a script
 * goes whole, and placeholders that CommonMark reads as tags (<file>)
 * stay. Entities become characters; unknown names stay as written. */
static void test_html_and_entities(void **state)
{
    (void)state;
    struct ingest_text t;
    parse("<details>\n<summary>Click &lt;here&gt;</summary>\n\nHidden text\n</details>\n\n"
          "<script>\nvar x = \"<b>\";\n</script>\n\n"
          "<!-- a\ncomment -->\n\n"
          "Press <kbd>Ctrl</kbd>+<kbd>C</kbd> <!-- inline -->&mdash; &copy; &#169; &#x1F600; "
          "&#0; &nosuch; AT&T.<br/>Run <command> <File-Name> [options].\n\n"
          "<div>\n<feature-flag> stays <span\nclass=\"x\">in</span> <<b>bold</b>\n</div>\n",
          &t);
    expect(&t, 0, INGEST_PARA, 0, "Click <here>");
    expect(&t, 1, INGEST_PARA, 0, "Hidden text");
    expect(&t, 2, INGEST_PARA, 0,
           "Press Ctrl+C \xE2\x80\x94 \xC2\xA9 \xC2\xA9 \xF0\x9F\x98\x80 \xEF\xBF\xBD &nosuch; "
           "AT&T. Run <command> <File-Name> [options].");
    expect(&t, 3, INGEST_PARA, 0, "<feature-flag> stays in < bold");
    assert_int_equal(t.nblocks, 4);
    ingest_text_release(&t);
}

/* Loose lists: each paragraph of an item is list text; text after a
 * nested list belongs to the outer item. */
static void test_loose_and_nested_items(void **state)
{
    (void)state;
    struct ingest_text t;
    parse("- first\n\n  more of first\n- second\n  - inner\n\n  back in second\n\nPara.\n", &t);
    expect(&t, 0, INGEST_LIST_ITEM, 0, "first");
    expect(&t, 1, INGEST_LIST_ITEM, 0, "more of first");
    expect(&t, 2, INGEST_LIST_ITEM, 0, "second");
    expect(&t, 3, INGEST_LIST_ITEM, 0, "inner");
    expect(&t, 4, INGEST_LIST_ITEM, 0, "back in second");
    expect(&t, 5, INGEST_PARA, 0, "Para.");
    assert_int_equal(t.nblocks, 6);
    ingest_text_release(&t);
}

/* What search indexes and shows: a table under a heading gives chunks with
 * that heading path whose text has each row as words, no "| |" pipes. */
static void test_table_chunks_read_as_text(void **state)
{
    (void)state;
    struct ingest_text t;
    struct ingest_chunks c;
    parse("# Guide\n\n## Limits\n\n| Setting | Default |\n|---|---|\n"
          "| max_body | 1 MiB |\n| timeout | 30 s |\n",
          &t);
    ingest_chunks_init(&c);
    assert_int_equal(ingest_chunk(&t, 0, &c), CC_OK);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0].heading_path, "Guide \xE2\x80\xBA Limits");
    assert_string_equal(c.items[0].text,
                        "Setting: max_body \xE2\x80\x94 Default: 1 MiB\n\n"
                        "Setting: timeout \xE2\x80\x94 Default: 30 s");
    assert_null(strchr(c.items[0].text, '|'));
    ingest_chunks_release(&c);
    ingest_text_release(&t);
}

static void test_crlf_bom_and_invalid_bytes(void **state)
{
    (void)state;
    struct ingest_text t;
    struct cc_diag d;
    const char md[] = "\xEF\xBB\xBF# T\xFFtle\r\n\r\nBody\0text\r\n";
    ingest_text_init(&t, 0);
    assert_int_equal(ingest_markdown_parse(md, sizeof(md) - 1, &t, &d), CC_OK);
    assert_string_equal(t.title, "T\xEF\xBF\xBDtle");
    expect(&t, 1, INGEST_PARA, 0, "Bodytext");
    ingest_text_release(&t);
}

static void test_limit_and_out_untouched(void **state)
{
    (void)state;
    struct ingest_text t;
    struct cc_diag d;
    char big[4096];
    memset(big, 'w', sizeof(big));
    for (size_t i = 5; i < sizeof(big); i += 6)
        big[i] = i % 60 == 5 ? '\n' : ' ';
    ingest_text_init(&t, 1024);
    assert_int_equal(ingest_text_add(&t, INGEST_PARA, 0, "old", 3, NULL), CC_OK);
    assert_int_equal(ingest_markdown_parse(big, sizeof(big), &t, &d), CC_ELIMIT);
    assert_non_null(strstr(d.msg, "limit"));
    assert_int_equal(t.nblocks, 1);               /* written only on success */
    assert_string_equal(t.blocks[0].text, "old");
    assert_int_equal(ingest_markdown_parse("# New", 5, &t, &d), CC_OK);
    assert_int_equal(t.nblocks, 1);
    assert_string_equal(t.blocks[0].text, "New");
    ingest_text_release(&t);
}

/* Inputs built to make inline scanning quadratic ("[[[[...", backtick runs
 * of every length) parse in well under a second per MiB; before the scan
 * budget the backtick case took minutes. */
static void test_hostile_inline_stays_linear(void **state)
{
    (void)state;
    struct cc_buf b;
    cc_buf_init(&b, 4 << 20);
    for (int k = 1; k < 1400; k++) {
        for (int i = 0; i < k; i++)
            cc_buf_addch(&b, '`');
        cc_buf_addch(&b, ' ');
    }
    for (int i = 0; i < 1 << 19; i++)
        cc_buf_addstr(&b, i % 2 ? "[" : "<a:");
    struct ingest_text t;
    struct cc_diag d;
    ingest_text_init(&t, 0);
    struct timespec a, z;
    clock_gettime(CLOCK_MONOTONIC, &a);
    assert_int_equal(ingest_markdown_parse(cc_buf_str(&b), b.len, &t, &d), CC_OK);
    clock_gettime(CLOCK_MONOTONIC, &z);
    double s = (double)(z.tv_sec - a.tv_sec) + (double)(z.tv_nsec - a.tv_nsec) / 1e9;
    assert_true(s < 10.0);
    assert_int_equal(t.nblocks, 1);
    assert_int_equal(strncmp(t.blocks[0].text, "` `` ```", 8), 0);
    ingest_text_release(&t);
    cc_buf_release(&b);
}

/* Seconds ingest_markdown_parse takes on b's text, which must parse; the
 * block count goes to *nblocks. */
static double parse_seconds(const struct cc_buf *b, size_t *nblocks)
{
    struct ingest_text t;
    struct cc_diag d;
    struct timespec a, z;
    ingest_text_init(&t, 0);
    clock_gettime(CLOCK_MONOTONIC, &a);
    assert_int_equal(ingest_markdown_parse(cc_buf_str(b), b->len, &t, &d), CC_OK);
    clock_gettime(CLOCK_MONOTONIC, &z);
    *nblocks = t.nblocks;
    ingest_text_release(&t);
    return (double)(z.tv_sec - a.tv_sec) + (double)(z.tv_nsec - a.tv_nsec) / 1e9;
}

/* A table of 50,000 columns and 50,000 one-cell rows, whose delimiter row
 * is `delim` per column ("|---" makes it a table, "|--x" a paragraph). */
static void table_flood(struct cc_buf *b, const char *delim)
{
    cc_buf_init(b, 4 << 20);
    for (int i = 0; i < 50000; i++)
        cc_buf_addstr(b, "|c");
    cc_buf_addstr(b, "|\n");
    for (int i = 0; i < 50000; i++)
        cc_buf_addstr(b, delim);
    cc_buf_addstr(b, "|\n");
    for (int i = 0; i < 50000; i++)
        cc_buf_addstr(b, "|x\n");
}

/* An HTML block of a million `c` before "b>text". */
static void html_flood(struct cc_buf *b, char c)
{
    cc_buf_init(b, 4 << 20);
    cc_buf_addstr(b, "<div>\n");
    for (int i = 0; i < 1 << 20; i++)
        cc_buf_addch(b, c);
    cc_buf_addstr(b, "b>text\n");
}

/* The two costs markdown.c bounds itself, beyond md4c: a table of 50,000
 * columns and 50,000 short rows (md4c would call back 2.5e9 times for its
 * cells) and an HTML block of a million '<' before one '>' (a '>' search
 * from each '<' is quadratic). Each is timed against an input of the same
 * size that parses plainly linearly, so a loaded machine slows both
 * alike: within 20 times that, plus a second; quadratic takes minutes. */
static void test_hostile_tables_and_html_stay_linear(void **state)
{
    (void)state;
    struct cc_buf b;
    size_t n;
    table_flood(&b, "|--x");
    double base = parse_seconds(&b, &n);
    cc_buf_release(&b);
    table_flood(&b, "|---");
    double hostile = parse_seconds(&b, &n);
    cc_buf_release(&b);
    assert_int_equal(n, 1);                          /* the pipes, as a paragraph */
    assert_true(hostile < 20 * base + 1.0);

    html_flood(&b, 'x');
    base = parse_seconds(&b, &n);
    cc_buf_release(&b);
    html_flood(&b, '<');
    hostile = parse_seconds(&b, &n);
    cc_buf_release(&b);
    assert_int_equal(n, 1);
    assert_true(hostile < 20 * base + 1.0);
}

static void test_empty(void **state)
{
    (void)state;
    struct ingest_text t;
    struct cc_diag d;
    ingest_text_init(&t, 0);
    assert_int_equal(ingest_markdown_parse(NULL, 0, &t, &d), CC_OK);
    assert_int_equal(t.nblocks, 0);
    assert_null(t.title);
    ingest_text_release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_headings_and_paragraphs),
        cmocka_unit_test(test_code_blocks),
        cmocka_unit_test(test_lists_and_quotes),
        cmocka_unit_test(test_front_matter),
        cmocka_unit_test(test_inline_markup),
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_table_too_wide_is_text),
        cmocka_unit_test(test_html_and_entities),
        cmocka_unit_test(test_loose_and_nested_items),
        cmocka_unit_test(test_table_chunks_read_as_text),
        cmocka_unit_test(test_crlf_bom_and_invalid_bytes),
        cmocka_unit_test(test_limit_and_out_untouched),
        cmocka_unit_test(test_hostile_inline_stays_linear),
        cmocka_unit_test(test_hostile_tables_and_html_stay_linear),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
