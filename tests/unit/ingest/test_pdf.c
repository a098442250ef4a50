/* PDFs go through a real pdftotext: this test fails (it does not skip)
 * where pdftotext is missing, because then the daemon cannot read PDFs
 * either. Timeouts and a missing tool are checked with stand-ins. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "ingest/parse/parse.h"

static void test_two_paragraphs(void **state)
{
    (void)state;
    size_t len;
    char *pdf = fixture_read("pdf/two_paragraphs.pdf", &len);
    struct ingest_text t;
    struct cc_diag d = { 0 };
    ingest_text_init(&t, 0);
    cc_err err = ingest_parse("application/pdf", pdf, len, &t, &d);
    if (err)
        fail_msg("pdftotext: %s: %s", cc_err_name(err), d.msg);
    assert_string_equal(t.title, "Release Notes");
    assert_int_equal(t.nblocks, 4);
    assert_string_equal(t.blocks[0].text, "Release Notes");
    assert_string_equal(t.blocks[1].text, "The scheduler now runs missed jobs once at start. "
                                          "It no longer runs them once per missed slot.");
    assert_string_equal(t.blocks[2].text, "Search ranks titles above body text.");
    assert_string_equal(t.blocks[3].text, "Upgrading needs no manual steps.");   /* page 2 */
    ingest_text_release(&t);
    free(pdf);
}

static void expect_damaged(const char *name)
{
    size_t len;
    char *pdf = fixture_read(name, &len);
    struct ingest_text t;
    struct cc_diag d = { 0 };
    ingest_text_init(&t, 0);
    assert_int_equal(ingest_pdf_parse(pdf, len, NULL, 0, &t, &d), CC_EPARSE);
    assert_non_null(strstr(d.msg, "not a PDF or damaged: "));
    assert_true(strlen(d.msg) > strlen("not a PDF or damaged: "));
    assert_int_equal(t.nblocks, 0);
    ingest_text_release(&t);
    free(pdf);
}

static void test_damaged(void **state)
{
    (void)state;
    expect_damaged("pdf/truncated.pdf");
    expect_damaged("pdf/not_a_pdf.pdf");
}

static void test_missing_tool(void **state)
{
    (void)state;
    struct ingest_text t;
    struct cc_diag d = { 0 };
    ingest_text_init(&t, 0);
    assert_int_equal(ingest_pdf_parse("%PDF", 4, "/nonexistent/pdftotext", 0, &t, &d),
                     CC_EUPSTREAM);
    assert_non_null(strstr(d.msg, "/nonexistent/pdftotext"));
    ingest_text_release(&t);
}

/* A stand-in that never answers, spawning a grandchild that must die too. */
static void test_timeout_kills_group(void **state)
{
    (void)state;
    char dir[] = "/tmp/cc-pdf-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char tool[256], mark[256], script[1024];
    snprintf(tool, sizeof(tool), "%s/slow", dir);
    snprintf(mark, sizeof(mark), "%s/grandchild-alive", dir);
    snprintf(script, sizeof(script),
             "#!/bin/sh\n(sleep 2; touch %s) &\nexec sleep 30\n", mark);
    FILE *f = fopen(tool, "w");
    assert_non_null(f);
    fputs(script, f);
    fclose(f);
    chmod(tool, 0700);
    struct ingest_text t;
    struct cc_diag d = { 0 };
    ingest_text_init(&t, 0);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    assert_int_equal(ingest_pdf_parse("%PDF-1.4", 8, tool, 300, &t, &d), CC_ETIMEOUT);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    assert_true(ms >= 250 && ms < 5000);
    assert_non_null(strstr(d.msg, "300 ms"));
    sleep(3);
    assert_int_equal(access(mark, F_OK), -1);    /* the process group was killed */
    unlink(tool);
    rmdir(dir);
    ingest_text_release(&t);
}

static void test_output_limit(void **state)
{
    (void)state;
    size_t len;
    char *pdf = fixture_read("pdf/two_paragraphs.pdf", &len);
    struct ingest_text t;
    struct cc_diag d = { 0 };
    ingest_text_init(&t, 40);
    assert_int_equal(ingest_pdf_parse(pdf, len, NULL, 0, &t, &d), CC_ELIMIT);
    assert_int_equal(t.nblocks, 0);
    ingest_text_release(&t);
    free(pdf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_paragraphs),
        cmocka_unit_test(test_damaged),
        cmocka_unit_test(test_missing_tool),
        cmocka_unit_test(test_timeout_kills_group),
        cmocka_unit_test(test_output_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
