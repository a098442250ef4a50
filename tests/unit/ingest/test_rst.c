/*
 * test_rst.c - reStructuredText: titles and their adornment hierarchy,
 * literal blocks and code directives, prose directives, comments and
 * targets, lists, tables, roles and inline markup.
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
    assert_int_equal(ingest_rst_parse(src, strlen(src), t, &d), CC_OK);
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

static void test_titles(void **state)
{
    (void)state;
    struct ingest_text t;
    parse("=========\n Project\n=========\n\nIntro text\non two lines.\n\n"
          "Install\n-------\n\nRun it.\n\nDetails\n~~~~~~~\n\nMore.\n\n"
          "Usage\n-----\n\n----------\n\nAfter a transition.\n\n"
          "Overlined again\n===============\n",
          &t);
    assert_string_equal(t.title, "Project");
    expect(&t, 0, INGEST_HEADING, 1, "Project");        /* over+under '=' */
    expect(&t, 1, INGEST_PARA, 0, "Intro text on two lines.");
    expect(&t, 2, INGEST_HEADING, 2, "Install");        /* under '-' */
    expect(&t, 3, INGEST_PARA, 0, "Run it.");
    expect(&t, 4, INGEST_HEADING, 3, "Details");        /* under '~' */
    expect(&t, 5, INGEST_PARA, 0, "More.");
    expect(&t, 6, INGEST_HEADING, 2, "Usage");          /* '-' again: level 2 */
    expect(&t, 7, INGEST_PARA, 0, "After a transition.");
    expect(&t, 8, INGEST_HEADING, 4, "Overlined again"); /* under '=' differs from over+under */
    assert_int_equal(t.nblocks, 9);
    ingest_text_release(&t);
}

static void test_code(void **state)
{
    (void)state;
    struct ingest_text t;
    parse("Example::\n\n    $ make run\n      indented more\n\nBack to text.\n\n"
          ".. code-block:: python\n   :linenos:\n\n   def f():\n       return 1\n\n"
          "Paragraph ::\n\n  literal two\n\n"
          "::\n\n  bare literal\n\n"
          ">>> 1 + 1\n2\n\n"
          ".. code:: c\n\n   int x;\n",
          &t);
    expect(&t, 0, INGEST_PARA, 0, "Example:");
    expect(&t, 1, INGEST_CODE, 0, "$ make run\n  indented more");
    expect(&t, 2, INGEST_PARA, 0, "Back to text.");
    expect(&t, 3, INGEST_CODE, 0, "def f():\n    return 1");
    assert_string_equal(t.blocks[3].lang, "python");
    expect(&t, 4, INGEST_PARA, 0, "Paragraph");
    expect(&t, 5, INGEST_CODE, 0, "literal two");
    expect(&t, 6, INGEST_CODE, 0, "bare literal");
    expect(&t, 7, INGEST_CODE, 0, ">>> 1 + 1\n2");
    expect(&t, 8, INGEST_CODE, 0, "int x;");
    assert_string_equal(t.blocks[8].lang, "c");
    assert_int_equal(t.nblocks, 9);
    ingest_text_release(&t);
}

static void test_directives_and_comments(void **state)
{
    (void)state;
    struct ingest_text t;
    parse(".. _install-guide:\n\n.. This is a comment\n   spanning lines.\n\n"
          ".. note:: Mind the gap.\n\n   Second paragraph of the note.\n\n"
          ".. toctree::\n   :maxdepth: 2\n\n   intro\n   usage\n\n"
          ".. image:: pic.png\n\n"
          ".. [1] A footnote text.\n\n"
          "..\n   bare comment\n\nEnd.\n",
          &t);
    expect(&t, 0, INGEST_PARA, 0, "Mind the gap.");
    expect(&t, 1, INGEST_PARA, 0, "Second paragraph of the note.");
    expect(&t, 2, INGEST_PARA, 0, "A footnote text.");
    expect(&t, 3, INGEST_PARA, 0, "End.");
    assert_int_equal(t.nblocks, 4);
    assert_false(any_block_contains(&t, "comment"));
    assert_false(any_block_contains(&t, "intro"));
    ingest_text_release(&t);
}

static void test_inline(void **state)
{
    (void)state;
    struct ingest_text t;
    parse("See :ref:`the guide <install-guide>` and :func:`~pkg.mod.run`, the ``--flag``\n"
          "option, `Python <https://python.org>`_, *emphasis*, **strong**, |name|,\n"
          "a link_ and `phrase link`__ and :doc:`usage`. Escaped \\*star\\*. snake_case.\n",
          &t);
    expect(&t, 0, INGEST_PARA, 0,
           "See the guide and run, the --flag option, Python, emphasis, strong, name, "
           "a link and phrase link and usage. Escaped *star*. snake_case.");
    ingest_text_release(&t);
}

static void test_lists_and_tables(void **state)
{
    (void)state;
    struct ingest_text t;
    parse("- first item\n  continues\n- second\n\n1. one\n#. two\n(a) three\n\n"
          "+-----+-----+\n| a   | b   |\n+=====+=====+\n| 1   | 2   |\n+-----+-----+\n\n"
          "=====  =====\nkey    value\n=====  =====\n",
          &t);
    expect(&t, 0, INGEST_LIST_ITEM, 0, "first item continues");
    expect(&t, 1, INGEST_LIST_ITEM, 0, "second");
    expect(&t, 2, INGEST_LIST_ITEM, 0, "one");
    expect(&t, 3, INGEST_LIST_ITEM, 0, "two");
    expect(&t, 4, INGEST_LIST_ITEM, 0, "three");
    expect(&t, 5, INGEST_PARA, 0, "a b 1 2");
    expect(&t, 6, INGEST_PARA, 0, "key value");
    assert_int_equal(t.nblocks, 7);
    ingest_text_release(&t);
}

static void test_dispatch_and_limits(void **state)
{
    (void)state;
    struct ingest_text t;
    struct cc_diag d = {0};
    const char *src = "Title\n=====\n\nBody.\n";
    ingest_text_init(&t, 0);
    assert_int_equal(ingest_parse("text/x-rst", src, strlen(src), &t, &d), CC_OK);
    assert_string_equal(t.title, "Title");
    ingest_text_release(&t);
    ingest_text_init(&t, 0);
    assert_int_equal(ingest_parse(".rest", src, strlen(src), &t, &d), CC_OK);
    ingest_text_release(&t);
    ingest_text_init(&t, 32);   /* over the text limit: refused, t untouched */
    const char *big = "A paragraph that is longer than thirty-two bytes of text.\n";
    assert_int_equal(ingest_rst_parse(big, strlen(big), &t, &d), CC_ELIMIT);
    assert_int_equal(t.nblocks, 0);
    ingest_text_release(&t);
    /* garbage: invalid UTF-8, NULs, lone adornments, unclosed markup */
    const char junk[] = "\xff\xfe``x `y :r:`z\n===\n\0\n..\n.. ::\n::\n|a\n";
    ingest_text_init(&t, 0);
    assert_int_equal(ingest_rst_parse(junk, sizeof(junk) - 1, &t, &d), CC_OK);
    ingest_text_release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_titles),
        cmocka_unit_test(test_code),
        cmocka_unit_test(test_directives_and_comments),
        cmocka_unit_test(test_inline),
        cmocka_unit_test(test_lists_and_tables),
        cmocka_unit_test(test_dispatch_and_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
