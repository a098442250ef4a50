#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/base64.h"

static void decodes(const char *in, const char *want)
{
    uint8_t out[128];
    size_t n = 0;
    assert_int_equal(cc_base64_decode(in, strlen(in), out, &n), CC_OK);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n);
}

static void test_rfc4648_vectors(void **state)
{
    (void)state;
    decodes("", "");
    decodes("Zg==", "f");
    decodes("Zm8=", "fo");
    decodes("Zm9v", "foo");
    decodes("Zm9vYg==", "foob");
    decodes("Zm9vYmE=", "fooba");
    decodes("Zm9vYmFy", "foobar");
}

static void test_lenient_forms(void **state)
{
    (void)state;
    decodes("Zm9v\r\nYmFy", "foobar");
    decodes("Zm9vYg", "foob");      /* missing padding */
    decodes("Zm9vYmE", "fooba");
    decodes("Zm9vYg=", "foob");     /* half the padding */
    decodes(" Zm8 = ", "fo");
    decodes("Zm9v\tYmFy\n", "foobar");
}

static void test_rejects(void **state)
{
    (void)state;
    const char *bad[] = {
        "Zm9v!", "Z", "Zm9vY", "Zg==Zg==", "Zm-_", "Zg===", /* bad character, stray, data after padding */
        "=", "==", "Zg=a",                                  /* padding first, data after it */
        "Zh==", "Zm9=",                                     /* non-zero leftover bits */
        "Zm9v\fYmFy", "Zm9v\vYmFy", "Zm9v\0YmFy",          /* only CR, LF, space, tab skipped */
        "Zm9v\xc3\xa9",                                      /* non-ASCII */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t out[32];
        size_t n = 99;
        /* strlen would stop at the embedded NUL: give the whole literal. */
        size_t len = i == 13 ? 9 : strlen(bad[i]);
        assert_int_equal(cc_base64_decode(bad[i], len, out, &n), CC_EINVAL);
        assert_int_equal(n, 99);
    }
}

static void test_binary_roundtrip(void **state)
{
    (void)state;
    /* All 256 byte values, encoded by hand with the standard alphabet. */
    static const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint8_t raw[256];
    for (int i = 0; i < 256; i++)
        raw[i] = (uint8_t)i;
    char enc[400];
    size_t e = 0;
    for (size_t i = 0; i < 256; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16;
        size_t left = 256 - i;
        if (left > 1)
            v |= (uint32_t)raw[i + 1] << 8;
        if (left > 2)
            v |= raw[i + 2];
        enc[e++] = alpha[(v >> 18) & 63];
        enc[e++] = alpha[(v >> 12) & 63];
        enc[e++] = left > 1 ? alpha[(v >> 6) & 63] : '=';
        enc[e++] = left > 2 ? alpha[v & 63] : '=';
    }
    uint8_t out[400];
    size_t n = 0;
    assert_int_equal(cc_base64_decode(enc, e, out, &n), CC_OK);
    assert_int_equal(n, 256);
    assert_memory_equal(out, raw, 256);
}

/* All 256 byte values against Python's base64.b64encode(bytes(range(256))). */
static void test_encode_all_bytes(void **state)
{
    (void)state;
    static const char want[] =
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+"
        "P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9"
        "fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8"
        "vb6/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7"
        "/P3+/w==";
    uint8_t raw[256];
    for (int i = 0; i < 256; i++)
        raw[i] = (uint8_t)i;
    char out[sizeof(want) + 8];
    memset(out, 'X', sizeof(out));
    cc_base64_encode(raw, sizeof(raw), out);
    assert_string_equal(out, want);
    assert_int_equal(cc_base64_encoded_size(sizeof(raw)), sizeof(want));
}

/* cc_base64_decoded_max is enough for every length, padded or not: decode
 * into a buffer of exactly that size (ASan sees an overrun). */
static void test_decoded_max_is_enough(void **state)
{
    (void)state;
    static const char plain[] = "foobarbazqux!";
    for (size_t n = 0; n < sizeof(plain); n++) {
        char enc[32];
        cc_base64_encode((const uint8_t *)plain, n, enc);
        for (int strip = 0; strip < 2; strip++) {
            size_t len = strlen(enc);
            while (strip && len && enc[len - 1] == '=')
                len--;
            uint8_t *out = malloc(cc_base64_decoded_max(len));
            size_t got = 0;
            assert_int_equal(cc_base64_decode(enc, len, out, &got), CC_OK);
            assert_int_equal(got, n);
            assert_memory_equal(out, plain, n);
            free(out);
        }
    }
}

static void test_encode(void **state)
{
    (void)state;
    const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        char out[16];
        cc_base64_encode((const uint8_t *)plain[i], strlen(plain[i]), out);
        assert_string_equal(out, enc[i]);
        assert_int_equal(strlen(out) + 1, cc_base64_encoded_size(strlen(plain[i])));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_lenient_forms),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_binary_roundtrip),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_encode_all_bytes),
        cmocka_unit_test(test_decoded_max_is_enough),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
