/* Word documents as people write them (styles, lists, tables, text boxes,
 * tracked changes), and the files that must be refused with a clear reason:
 * corrupt archives, archives that are not DOCX, zip bombs, DTD tricks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "ingest/parse/parse.h"

static cc_err parse_fixture(const char *name, struct ingest_text *t, struct cc_diag *d)
{
    size_t len;
    char *data = fixture_read(name, &len);
    ingest_text_init(t, 0);
    memset(d, 0, sizeof(*d));
    cc_err err = ingest_parse("docx", data, len, t, d);
    free(data);
    return err;
}

static void test_normal(void **state)
{
    (void)state;
    struct ingest_text t;
    struct cc_diag d;
    assert_int_equal(parse_fixture("docx/normal.docx", &t, &d), CC_OK);
    assert_string_equal(t.title, "Operations Handbook");       /* core.xml wins */
    static const struct {
        enum ingest_block_kind kind;
        int level;
        const char *text;
    } WANT[] = {
        { INGEST_HEADING, 1, "Handbook" },
        { INGEST_HEADING, 1, "Getting started" },
        { INGEST_PARA, 0, "Columns: name and & value <3" },
        { INGEST_HEADING, 2, "On-call rota" },
        { INGEST_LIST_ITEM, 0, "Page the secondary after 15 minutes." },
        { INGEST_HEADING, 2, "Escalations" },
        { INGEST_PARA, 0, "Kept text." },
        { INGEST_PARA, 0, "Cell one" },
        { INGEST_PARA, 0, "Cell two" },
        { INGEST_PARA, 0, "Outer." },
        { INGEST_PARA, 0, "Boxed text." },
    };
    assert_int_equal(t.nblocks, sizeof(WANT) / sizeof(WANT[0]));
    for (size_t i = 0; i < t.nblocks; i++) {
        assert_int_equal(t.blocks[i].kind, WANT[i].kind);
        assert_int_equal(t.blocks[i].level, WANT[i].level);
        assert_string_equal(t.blocks[i].text, WANT[i].text);
    }
    ingest_text_release(&t);
}

static void test_title_from_title_style(void **state)
{
    (void)state;
    struct ingest_text t;
    struct cc_diag d;
    assert_int_equal(parse_fixture("docx/title_style.docx", &t, &d), CC_OK);
    assert_string_equal(t.title, "Handbook");
    ingest_text_release(&t);
}

static void expect_refused(const char *name, cc_err want, const char *msg)
{
    struct ingest_text t;
    struct cc_diag d;
    cc_err err = parse_fixture(name, &t, &d);
    if (err != want || !strstr(d.msg, msg))
        fail_msg("%s: got %s \"%s\", want %s \"...%s...\"", name, cc_err_name(err), d.msg,
                 cc_err_name(want), msg);
    assert_int_equal(t.nblocks, 0);
    assert_null(t.title);
    ingest_text_release(&t);
}

static void test_refused(void **state)
{
    (void)state;
    expect_refused("docx/corrupt.docx", CC_EPARSE, "not a DOCX file: ");
    expect_refused("docx/no_document.docx", CC_EPARSE,
                   "not a DOCX file: the archive has no word/document.xml");
    expect_refused("docx/bomb.docx", CC_ELIMIT, "over the 52428800-byte limit");
    expect_refused("docx/doctype.docx", CC_EPARSE, "DOCTYPE");
    /* UTF-16: no "<!DOCTYPE" bytes for a scan to find; the parsed tree has it. */
    expect_refused("docx/doctype_utf16.docx", CC_EPARSE, "DOCTYPE");
    /* A PDF renamed .docx, and nothing at all. */
    expect_refused("pdf/two_paragraphs.pdf", CC_EPARSE, "not a DOCX file: ");
    struct ingest_text t;
    struct cc_diag d;
    ingest_text_init(&t, 0);
    assert_int_equal(ingest_docx_parse(NULL, 0, &t, &d), CC_EPARSE);
    assert_non_null(strstr(d.msg, "not a DOCX file"));
    ingest_text_release(&t);
}

static void test_text_limit(void **state)
{
    (void)state;
    size_t len;
    char *data = fixture_read("docx/normal.docx", &len);
    struct ingest_text t;
    struct cc_diag d;
    ingest_text_init(&t, 100);
    assert_int_equal(ingest_docx_parse(data, len, &t, &d), CC_ELIMIT);
    assert_int_equal(t.nblocks, 0);
    ingest_text_release(&t);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normal),
        cmocka_unit_test(test_title_from_title_style),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_text_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
