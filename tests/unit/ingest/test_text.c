/* The document model's invariants are what every parser and the chunker
 * rely on: valid UTF-8, no NULs, normalized whitespace, verbatim code, a
 * hard size limit, and a hash that sees content, not formatting. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "ingest/text.h"

static void test_invalid_utf8_is_replaced(void **state)
{
    (void)state;
    struct ingest_text t;
    ingest_text_init(&t, 0);
    /* lone continuation, overlong "/", surrogate, truncated 3-byte, > U+10FFFF */
    const char in[] = "a\x80" "b\xC0\xAF" "c\xED\xA0\x80" "d\xE2\x82" "e\xF5\x80\x80\x80";
    assert_int_equal(ingest_text_add(&t, INGEST_PARA, 0, in, sizeof(in) - 1, NULL), CC_OK);
    assert_int_equal(t.nblocks, 1);
    assert_string_equal(t.blocks[0].text,
                        "a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD"
                        "c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                        "d\xEF\xBF\xBD\xEF\xBF\xBD"
                        "e\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    /* Valid multi-byte text passes untouched. */
    const char ok[] = "Gr\xC3\xBC\xC3\x9F" "e \xE2\x82\xAC \xF0\x9F\x98\x80";
    assert_int_equal(ingest_text_add(&t, INGEST_PARA, 0, ok, sizeof(ok) - 1, NULL), CC_OK);
    assert_string_equal(t.blocks[1].text, ok);
    ingest_text_release(&t);
}

static void test_nul_and_whitespace_normalized(void **state)
{
    (void)state;
    struct ingest_text t;
    ingest_text_init(&t, 0);
    const char in[] = "  one\0two \t\r\n three\xC2\xA0" "four\xE2\x80\x8B  ";
    assert_int_equal(ingest_text_add(&t, INGEST_PARA, 0, in, sizeof(in) - 1, NULL), CC_OK);
    assert_string_equal(t.blocks[0].text, "one two three four");
    /* Blocks that normalize to nothing are not added. */
    assert_int_equal(ingest_text_add(&t, INGEST_PARA, 0, " \n\t ", 4, NULL), CC_OK);
    assert_int_equal(ingest_text_add(&t, INGEST_CODE, 0, "\n  \n", 4, "c"), CC_OK);
    assert_int_equal(t.nblocks, 1);
    ingest_text_release(&t);
}

static void test_code_is_verbatim(void **state)
{
    (void)state;
    struct ingest_text t;
    ingest_text_init(&t, 0);
    const char in[] = "\r\n\nif (x) {  \r\n\treturn  a  +  b;\r\n\n}\n\n";
    assert_int_equal(ingest_text_add(&t, INGEST_CODE, 0, in, sizeof(in) - 1, "c"), CC_OK);
    assert_string_equal(t.blocks[0].text, "if (x) {\n\treturn  a  +  b;\n\n}");
    assert_string_equal(t.blocks[0].lang, "c");
    /* A language with spaces or controls, or too long, is dropped. */
    assert_int_equal(ingest_text_add(&t, INGEST_CODE, 0, "x", 1, "a b"), CC_OK);
    assert_null(t.blocks[1].lang);
    ingest_text_release(&t);
}

static void test_heading_levels_clamped(void **state)
{
    (void)state;
    struct ingest_text t;
    ingest_text_init(&t, 0);
    assert_int_equal(ingest_text_add(&t, INGEST_HEADING, 9, "deep", 4, NULL), CC_OK);
    assert_int_equal(ingest_text_add(&t, INGEST_HEADING, -3, "top", 3, NULL), CC_OK);
    assert_int_equal(t.blocks[0].level, 6);
    assert_int_equal(t.blocks[1].level, 1);
    ingest_text_release(&t);
}

static void test_limit(void **state)
{
    (void)state;
    struct ingest_text t;
    ingest_text_init(&t, 100);
    char big[200];
    memset(big, 'x', sizeof(big));
    assert_int_equal(ingest_text_add(&t, INGEST_PARA, 0, big, 60, NULL), CC_OK);
    assert_int_equal(t.bytes, 60 + INGEST_BLOCK_OVERHEAD);
    /* 24 bytes left: a 20-byte block plus its overhead does not fit. */
    assert_int_equal(ingest_text_add(&t, INGEST_PARA, 0, big, 20, NULL), CC_ELIMIT);
    assert_int_equal(t.nblocks, 1);
    assert_int_equal(ingest_text_add(&t, INGEST_PARA, 0, big, 8, NULL), CC_OK);
    assert_true(t.bytes <= t.limit);
    ingest_text_release(&t);
    assert_int_equal(t.limit, 100);
}

static void test_title_cut_at_characters(void **state)
{
    (void)state;
    struct ingest_text t;
    ingest_text_init(&t, 0);
    char in[1000];
    size_t n = 0;
    for (int i = 0; i < 300; i++) {           /* 300 x "é" = 600 bytes */
        in[n++] = '\xC3';
        in[n++] = '\xA9';
    }
    assert_int_equal(ingest_text_set_title(&t, in, n), CC_OK);
    assert_int_equal(ingest_utf8_chars(t.title, strlen(t.title)), INGEST_TITLE_MAX_CHARS);
    assert_int_equal(strlen(t.title), 2 * INGEST_TITLE_MAX_CHARS);
    assert_int_equal(ingest_text_set_title(&t, "  ", 2), CC_OK);
    assert_null(t.title);
    assert_int_equal(t.bytes, 0);
    ingest_text_release(&t);
}

static void build(struct ingest_text *t, const char *title, const char *heading,
                  const char *para, const char *code)
{
    ingest_text_init(t, 0);
    assert_int_equal(ingest_text_set_title(t, title, strlen(title)), CC_OK);
    assert_int_equal(ingest_text_add(t, INGEST_HEADING, 2, heading, strlen(heading), NULL),
                     CC_OK);
    assert_int_equal(ingest_text_add(t, INGEST_PARA, 0, para, strlen(para), NULL), CC_OK);
    assert_int_equal(ingest_text_add(t, INGEST_CODE, 0, code, strlen(code), "sh"), CC_OK);
}

static void test_hash_sees_content_not_formatting(void **state)
{
    (void)state;
    struct ingest_text a, b, c, e;
    char ha[65], hb[65], hc[65], he[65];
    build(&a, "Guide", "Install", "Run the installer.", "make\nmake install");
    build(&b, " Guide\n", "Install  ", "Run   the\r\ninstaller. ", "make  \r\nmake install\n\n");
    build(&c, "Guide", "Install", "Run the installer!", "make\nmake install");
    ingest_text_init(&e, 0);
    ingest_text_hash(&a, ha);
    ingest_text_hash(&b, hb);
    ingest_text_hash(&c, hc);
    ingest_text_hash(&e, he);
    assert_int_equal(strlen(ha), 64);
    assert_string_equal(ha, hb);
    assert_string_not_equal(ha, hc);
    /* The kind matters: the same words as a heading hash differently. */
    a.blocks[1].kind = INGEST_HEADING;
    a.blocks[1].level = 3;
    ingest_text_hash(&a, hc);
    assert_string_not_equal(ha, hc);
    /* Known values (computed independently, with Python's hashlib, from the
     * serialization text.h describes): stored hashes stay comparable. */
    assert_string_equal(he, "b4a884d199605577e98191e4facba7a872f27d200e15b7b94dd7bf82aa7d4500");
    assert_string_equal(hb, "953f819bd4bdfd903b4ae664b45499c174ef3da9bbbac5656209891c8c836e9a");
    ingest_text_release(&a);
    ingest_text_release(&b);
    ingest_text_release(&c);
}

static void test_utf8_helpers(void **state)
{
    (void)state;
    const char s[] = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z";   /* a é € 😀 z */
    size_t n = sizeof(s) - 1;
    assert_int_equal(ingest_utf8_chars(s, n), 5);
    assert_int_equal(ingest_utf8_offset(s, n, 0), 0);
    assert_int_equal(ingest_utf8_offset(s, n, 2), 3);
    assert_int_equal(ingest_utf8_offset(s, n, 4), 10);
    assert_int_equal(ingest_utf8_offset(s, n, 99), n);
    assert_int_equal(ingest_utf8_len((const unsigned char *)s + 1, n - 1), 2);
    assert_int_equal(ingest_utf8_len((const unsigned char *)s + 2, n - 2), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invalid_utf8_is_replaced),
        cmocka_unit_test(test_nul_and_whitespace_normalized),
        cmocka_unit_test(test_code_is_verbatim),
        cmocka_unit_test(test_heading_levels_clamped),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_title_cut_at_characters),
        cmocka_unit_test(test_hash_sees_content_not_formatting),
        cmocka_unit_test(test_utf8_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
