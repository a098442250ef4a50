/* SHA-256 and HMAC-SHA256 (nettle behind core/sha256.h) against the
 * published vectors (FIPS 180-2 appendix B / NIST CSRC examples, RFC 4231),
 * streaming against one-shot, the padding boundaries, the wrappers' own
 * promises (NULL with length 0, wiping), hex and the constant-time compare.
 * Values not taken from a standard were computed with Python's
 * hashlib/hmac. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/sha256.h"

static void digest_hex(const void *data, size_t len, char out[CC_SHA256_HEX_LEN])
{
    uint8_t md[CC_SHA256_DIGEST_LEN];
    cc_sha256(data, len, md);
    cc_hex_encode(md, sizeof(md), out);
}

static void test_fips_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *msg;
        const char *hex;
    } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
         "klmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    };
    char hex[CC_SHA256_HEX_LEN];
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        digest_hex(v[i].msg, strlen(v[i].msg), hex);
        assert_string_equal(hex, v[i].hex);
    }
    /* The empty message may come as NULL. */
    digest_hex(NULL, 0, hex);
    assert_string_equal(hex, v[0].hex);
}

static void test_million_a_streamed_unevenly(void **state)
{
    (void)state;
    static const size_t steps[] = {1, 63, 64, 65, 127, 3, 1000, 55, 56, 4096, 7};
    char chunk[4096];
    memset(chunk, 'a', sizeof(chunk));
    struct cc_sha256 c;
    cc_sha256_init(&c);
    size_t left = 1000000;
    for (size_t i = 0; left; i++) {
        size_t n = steps[i % (sizeof(steps) / sizeof(steps[0]))];
        if (n > left)
            n = left;
        cc_sha256_update(&c, chunk, n);
        cc_sha256_update(&c, chunk, 0);
        left -= n;
    }
    uint8_t md[CC_SHA256_DIGEST_LEN];
    char hex[CC_SHA256_HEX_LEN];
    cc_sha256_final(&c, md);
    cc_hex_encode(md, sizeof(md), hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Lengths around the point where the length field no longer fits in the
 * last block (55/56) and around block edges. */
static void test_padding_boundaries(void **state)
{
    (void)state;
    static const struct {
        size_t n;
        const char *hex;
    } v[] = {
        {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {57, "f13b2d724659eb3bf47f2dd6af1accc87b81f09f59f2b75e5c0bed6589dfe8c6"},
        {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
        {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
        {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
        {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
        {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
        {128, "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e"},
    };
    char msg[128], hex[CC_SHA256_HEX_LEN];
    memset(msg, 'a', sizeof(msg));
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        digest_hex(msg, v[i].n, hex);
        assert_string_equal(hex, v[i].hex);
    }
}

static void test_streaming_matches_oneshot_at_every_split(void **state)
{
    (void)state;
    uint8_t msg[200];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 7 + 3);
    uint8_t whole[CC_SHA256_DIGEST_LEN], part[CC_SHA256_DIGEST_LEN];
    char hex[CC_SHA256_HEX_LEN];
    cc_sha256(msg, sizeof(msg), whole);
    cc_hex_encode(whole, sizeof(whole), hex);
    assert_string_equal(hex, "2c7e18c942ef065b526a2d4e5546283749cd3ddfb51d8fc71f42717363685f46");

    struct cc_sha256 c;
    for (size_t split = 0; split <= sizeof(msg); split++) {
        cc_sha256_init(&c);
        cc_sha256_update(&c, msg, split);
        cc_sha256_update(&c, msg + split, sizeof(msg) - split);
        cc_sha256_final(&c, part);
        assert_memory_equal(part, whole, sizeof(whole));
    }
    /* And one byte at a time. */
    cc_sha256_init(&c);
    for (size_t i = 0; i < sizeof(msg); i++)
        cc_sha256_update(&c, msg + i, 1);
    cc_sha256_final(&c, part);
    assert_memory_equal(part, whole, sizeof(whole));
}

/* final wipes the context (it held message bytes) and init makes it
 * usable again. */
static void test_final_wipes_and_context_reuses(void **state)
{
    (void)state;
    struct cc_sha256 c, zero;
    uint8_t md[CC_SHA256_DIGEST_LEN];
    char hex[CC_SHA256_HEX_LEN];
    memset(&zero, 0, sizeof(zero));
    cc_sha256_init(&c);
    cc_sha256_update(&c, "secret", 6);
    cc_sha256_final(&c, md);
    assert_memory_equal(&c, &zero, sizeof(c));
    cc_sha256_init(&c);
    cc_sha256_update(&c, "abc", 3);
    cc_sha256_final(&c, md);
    cc_hex_encode(md, sizeof(md), hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void hmac_hex(const void *key, size_t keylen, const void *msg, size_t len,
                     char out[CC_SHA256_HEX_LEN])
{
    uint8_t mac[CC_SHA256_DIGEST_LEN];
    cc_hmac_sha256(key, keylen, msg, len, mac);
    cc_hex_encode(mac, sizeof(mac), out);
}

static void test_hmac_rfc4231(void **state)
{
    (void)state;
    uint8_t key[131], data[50];
    char hex[CC_SHA256_HEX_LEN];

    /* Test case 1 */
    memset(key, 0x0b, 20);
    hmac_hex(key, 20, "Hi There", 8, hex);
    assert_string_equal(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");

    /* Test case 2: a key shorter than the output */
    const char *msg2 = "what do ya want for nothing?";
    hmac_hex("Jefe", 4, msg2, strlen(msg2), hex);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

    /* Test case 3 */
    memset(key, 0xaa, 20);
    memset(data, 0xdd, 50);
    hmac_hex(key, 20, data, 50, hex);
    assert_string_equal(hex, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");

    /* Test case 4 */
    for (size_t i = 0; i < 25; i++)
        key[i] = (uint8_t)(i + 1);
    memset(data, 0xcd, 50);
    hmac_hex(key, 25, data, 50, hex);
    assert_string_equal(hex, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");

    /* Test case 5: the output truncated to 128 bits */
    memset(key, 0x0c, 20);
    hmac_hex(key, 20, "Test With Truncation", 20, hex);
    assert_memory_equal(hex, "a3b6167473100ee06e0c796c2955552b", 32);

    /* Test case 6: a 131-byte key, hashed first */
    memset(key, 0xaa, 131);
    const char *msg6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    hmac_hex(key, 131, msg6, strlen(msg6), hex);
    assert_string_equal(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");

    /* Test case 7: a long key and a message longer than a block */
    const char *msg7 = "This is a test using a larger than block-size key and a larger "
                       "than block-size data. The key needs to be hashed before being "
                       "used by the HMAC algorithm.";
    hmac_hex(key, 131, msg7, strlen(msg7), hex);
    assert_string_equal(hex, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

/* Keys of exactly one block are used as they are; one byte more and they
 * are hashed. */
static void test_hmac_key_lengths(void **state)
{
    (void)state;
    static const struct {
        size_t keylen;
        const char *hex;
    } v[] = {
        {0, "eb08c1f56d5ddee07f7bdf80468083da06b64cf4fac64fe3a90883df5feacae4"},
        {63, "fec84fdb467e8527b37761ce7d882344ef35569abcb01ae86998fe3a8434b9b7"},
        {64, "2c0cad6f39bb306a50959b431754de20f89dd052f0f9ec9d01bea0a7c65a172d"},
        {65, "7a2d13317a634cfa226d4c0cc6bb3d920092720a07d209f346bffd8ef4a10fc6"},
    };
    uint8_t key[65];
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (uint8_t)(i + 1);
    char hex[CC_SHA256_HEX_LEN];
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        hmac_hex(v[i].keylen ? key : NULL, v[i].keylen, "message", 7, hex);
        assert_string_equal(hex, v[i].hex);
    }
}

/* An empty message may come as NULL, with or without a key. */
static void test_hmac_empty_message(void **state)
{
    (void)state;
    char hex[CC_SHA256_HEX_LEN];
    hmac_hex("key", 3, NULL, 0, hex);
    assert_string_equal(hex, "5d5d139563c95b5967b9bd9a8c9b233a9dedb45072794cd232dc1b74832607d0");
    hmac_hex(NULL, 0, NULL, 0, hex);
    assert_string_equal(hex, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

static void test_consttime_equal(void **state)
{
    (void)state;
    uint8_t a[64], b[64];
    for (size_t i = 0; i < sizeof(a); i++)
        a[i] = b[i] = (uint8_t)(i * 13);
    assert_true(cc_consttime_equal(a, b, sizeof(a)));
    assert_true(cc_consttime_equal(a, b, 0));
    /* A difference anywhere, including in a single bit, is seen. */
    for (size_t i = 0; i < sizeof(a); i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            b[i] ^= (uint8_t)(1u << bit);
            assert_false(cc_consttime_equal(a, b, sizeof(a)));
            b[i] ^= (uint8_t)(1u << bit);
        }
    }
    assert_true(cc_consttime_equal("abcd", "abce", 3));
    assert_false(cc_consttime_equal("abcd", "abce", 4));
}

static void test_hex_encode(void **state)
{
    (void)state;
    static const uint8_t in[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff};
    char out[2 * sizeof(in) + 1];
    memset(out, 'X', sizeof(out));
    cc_hex_encode(in, sizeof(in), out);
    assert_string_equal(out, "00017f80abcdefff");
    char empty[1] = {'X'};
    cc_hex_encode(in, 0, empty);
    assert_int_equal(empty[0], '\0');
}

static void test_secure_zero(void **state)
{
    (void)state;
    uint8_t buf[33];
    memset(buf, 0xa5, sizeof(buf));
    cc_secure_zero(buf, sizeof(buf) - 1);
    for (size_t i = 0; i < sizeof(buf) - 1; i++)
        assert_int_equal(buf[i], 0);
    assert_int_equal(buf[sizeof(buf) - 1], 0xa5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fips_vectors),
        cmocka_unit_test(test_million_a_streamed_unevenly),
        cmocka_unit_test(test_padding_boundaries),
        cmocka_unit_test(test_streaming_matches_oneshot_at_every_split),
        cmocka_unit_test(test_final_wipes_and_context_reuses),
        cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_hmac_key_lengths),
        cmocka_unit_test(test_hmac_empty_message),
        cmocka_unit_test(test_consttime_equal),
        cmocka_unit_test(test_hex_encode),
        cmocka_unit_test(test_secure_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
