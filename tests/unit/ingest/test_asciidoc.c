/*
 * test_asciidoc.c - AsciiDoc: titles, delimited blocks (code kept with its
 * language, others read as content, comments and passthroughs dropped),
 * attribute entries and references, lists, tables, inline markup.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ingest/parse/parse.h"
#include "fixture.h"

static void parse(const char *src, struct ingest_text *t)
{
    struct cc_diag d = {0};
    ingest_text_init(t, 0);
    assert_int_equal(ingest_asciidoc_parse(src, strlen(src), t, &d), CC_OK);
}

static void expect(const struct ingest_text *t, size_t i, enum ingest_block_kind kind,
                   int level, const char *text)
{
    if (i >= t->nblocks)
        fail_msg("block %zu missing (have %zu), want '%s'", i, t->nblocks, text);
    if (t->blocks[i].kind != kind || t->blocks[i].level != level ||
        strcmp(t->blocks[i].text, text) != 0)
        fail_msg("block %zu: kind %d level %d '%s'; want kind %d level %d '%s'", i,
                 t->blocks[i].kind, t->blocks[i].level, t->blocks[i].text, kind, level, text);
}

static void test_titles_and_attributes(void **state)
{
    (void)state;
    struct ingest_text t;
    parse("= The Manual\nJane Doe <jane@example.test>\n:toc: left\n:product: Widget\n"
          ":!sectnums:\n\n"
          "Preamble about {product} and {unknown}.\n\n"
          "== Install\n\nSteps.\n\n=== Details\n\n"
          "// a line comment\n"
          "////\nblock comment\n////\n\n"
          "###### Six\n\n======= seven is text\n",
          &t);
    assert_string_equal(t.title, "The Manual");
    expect(&t, 0, INGEST_HEADING, 1, "The Manual");
    expect(&t, 1, INGEST_PARA, 0, "Jane Doe <jane@example.test>");
    expect(&t, 2, INGEST_PARA, 0, "Preamble about Widget and {unknown}.");
    expect(&t, 3, INGEST_HEADING, 2, "Install");
    expect(&t, 4, INGEST_PARA, 0, "Steps.");
    expect(&t, 5, INGEST_HEADING, 3, "Details");
    expect(&t, 6, INGEST_HEADING, 6, "Six");
    expect(&t, 7, INGEST_PARA, 0, "======= seven is text");
    assert_int_equal(t.nblocks, 8);
    assert_false(any_block_contains(&t, "comment"));
    assert_false(any_block_contains(&t, "toc"));
    ingest_text_release(&t);
}

static void test_blocks(void **state)
{
    (void)state;
    struct ingest_text t;
    parse("[source,python]\n----\ndef f():\n    return 1\n----\n\n"
          "....\nliteral  text\n....\n\n"
          "```sh\nmake run\n```\n\n"
          "  indented literal\n\n"
          "[NOTE]\n====\nInside an example.\n====\n\n"
          "++++\n<div>raw</div>\n++++\n\n"
          ".A block title\n****\nSidebar text.\n****\n\n"
          "image::diagram.png[Diagram]\ninclude::other.adoc[]\n\n'''\n\n<<<\n\nEnd.\n",
          &t);
    expect(&t, 0, INGEST_CODE, 0, "def f():\n    return 1");
    assert_string_equal(t.blocks[0].lang, "python");
    expect(&t, 1, INGEST_CODE, 0, "literal  text");
    assert_null(t.blocks[1].lang);
    expect(&t, 2, INGEST_CODE, 0, "make run");
    assert_string_equal(t.blocks[2].lang, "sh");
    expect(&t, 3, INGEST_CODE, 0, "indented literal");
    expect(&t, 4, INGEST_PARA, 0, "Inside an example.");
    expect(&t, 5, INGEST_PARA, 0, "A block title");
    expect(&t, 6, INGEST_PARA, 0, "Sidebar text.");
    expect(&t, 7, INGEST_PARA, 0, "End.");
    assert_int_equal(t.nblocks, 8);
    assert_false(any_block_contains(&t, "raw"));
    ingest_text_release(&t);
}

static void test_lists_tables_inline(void **state)
{
    (void)state;
    struct ingest_text t;
    parse("* first\n** nested\n- dash\n. ordered\n1. numbered\n<1> callout\n\n"
          "CPU:: the processor\nRAM::\n\n"
          "|===\n|Name |Value\n\n|a |1\n|===\n\n"
          "Use *bold*, _it_, `mono`, **un**constrained, link:https://x.test[the site], "
          "https://y.test[Y], https://z.test, xref:other.adoc[Other], <<sec,Section>>, "
          "<<plain>>, kbd:[Ctrl+C] in snake_case and a * b.\n",
          &t);
    expect(&t, 0, INGEST_LIST_ITEM, 0, "first");
    expect(&t, 1, INGEST_LIST_ITEM, 0, "nested");
    expect(&t, 2, INGEST_LIST_ITEM, 0, "dash");
    expect(&t, 3, INGEST_LIST_ITEM, 0, "ordered");
    expect(&t, 4, INGEST_LIST_ITEM, 0, "numbered");
    expect(&t, 5, INGEST_LIST_ITEM, 0, "callout");
    expect(&t, 6, INGEST_PARA, 0, "CPU: the processor");
    expect(&t, 7, INGEST_PARA, 0, "RAM:");
    expect(&t, 8, INGEST_PARA, 0, "Name Value");
    expect(&t, 9, INGEST_PARA, 0, "a 1");
    expect(&t, 10, INGEST_PARA, 0,
           "Use bold, it, mono, unconstrained, the site, Y, https://z.test, Other, Section, "
           "plain, Ctrl+C in snake_case and a * b.");
    assert_int_equal(t.nblocks, 11);
    ingest_text_release(&t);
}

static void test_dispatch_and_limits(void **state)
{
    (void)state;
    struct ingest_text t;
    struct cc_diag d = {0};
    const char *src = "= Title\n\nBody.\n";
    const char *types[] = {"text/asciidoc", "adoc", ".asciidoc", "asc"};
    for (size_t i = 0; i < 4; i++) {
        ingest_text_init(&t, 0);
        assert_int_equal(ingest_parse(types[i], src, strlen(src), &t, &d), CC_OK);
        assert_string_equal(t.title, "Title");
        ingest_text_release(&t);
    }
    ingest_text_init(&t, 32);
    const char *big = "A paragraph that is longer than thirty-two bytes of text.\n";
    assert_int_equal(ingest_asciidoc_parse(big, strlen(big), &t, &d), CC_ELIMIT);
    assert_int_equal(t.nblocks, 0);
    ingest_text_release(&t);
    const char junk[] = "\xff----\n[\n]\n<<\n{x\nlink:[\n:a:\n|\n\0``\n////\n";
    ingest_text_init(&t, 0);
    assert_int_equal(ingest_asciidoc_parse(junk, sizeof(junk) - 1, &t, &d), CC_OK);
    ingest_text_release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_titles_and_attributes),
        cmocka_unit_test(test_blocks),
        cmocka_unit_test(test_lists_tables_inline),
        cmocka_unit_test(test_dispatch_and_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
