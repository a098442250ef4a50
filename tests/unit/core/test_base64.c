#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
    decodes(" Zm8 = ", "fo");
}

static void test_rejects(void **state)
{
    (void)state;
    const char *bad[] = {"Zm9v!", "Z", "Zm9vY", "Zg==Zg==", "Zm-_", "Zg==="};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t out[32];
        size_t n = 99;
        assert_int_equal(cc_base64_decode(bad[i], strlen(bad[i]), out, &n), CC_EINVAL);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
