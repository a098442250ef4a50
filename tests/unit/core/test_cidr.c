/* CIDR networks: what parses, what is refused, and which addresses match,
 * across IPv4, IPv6 and the IPv4-mapped form that joins them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "core/cidr.h"

/* The 16-byte form of an address in text. */
static void ip(const char *text, unsigned char out[16])
{
    unsigned char v4[4];
    if (inet_pton(AF_INET, text, v4) == 1)
        cc_ip4_to16(v4, out);
    else
        assert_int_equal(inet_pton(AF_INET6, text, out), 1);
}

static bool in(const char *net, const char *addr)
{
    struct cc_cidr c;
    unsigned char a[16];
    char why[128];
    if (cc_cidr_parse(net, &c, why, sizeof(why)) != CC_OK)
        fail_msg("'%s' did not parse: %s", net, why);
    ip(addr, a);
    return cc_cidr_contains(&c, a);
}

static void test_parse_valid(void **state)
{
    (void)state;
    const struct {
        const char *text;
        unsigned prefix;
    } ok[] = {
        {"10.0.0.0/8", 104},      {"127.0.0.1", 128},  {"127.0.0.1/32", 128},
        {"0.0.0.0/0", 96},        {"192.168.1.0/24", 120}, {"::/0", 0},
        {"::1", 128},             {"fd00::/8", 8},     {"fe80::/10", 10},
        {"2001:db8::/32", 32},    {"::ffff:0:0/96", 96}, {"100.64.0.0/10", 106},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct cc_cidr c;
        assert_int_equal(cc_cidr_parse(ok[i].text, &c, NULL, 0), CC_OK);
        assert_int_equal(c.prefix, ok[i].prefix);
    }
}

static void test_parse_invalid(void **state)
{
    (void)state;
    const char *bad[] = {
        "", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/08", "10.0.0.0/8/8",
        "10.0.0/8", "10.0.0.256", "10.1.2.3/8" /* host bits */, "fe80::1/10", "::/129",
        "example.com", "10.0.0.0 /8", "10.0.0.0/ 8", "1.2.3.4/1000", " 10.0.0.0/8",
        "0x0a.0.0.0/8", "010.0.0.0/8", "10.0.0.0/8x", "::ffff:1.2.3.4/1x",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct cc_cidr c = {.prefix = 77};
        char why[160] = "";
        if (cc_cidr_parse(bad[i], &c, why, sizeof(why)) != CC_EINVAL)
            fail_msg("'%s' was accepted", bad[i]);
        assert_true(why[0] != '\0');
        assert_int_equal(c.prefix, 77); /* untouched on error */
    }
}

static void test_contains(void **state)
{
    (void)state;
    assert_true(in("10.0.0.0/8", "10.255.1.2"));
    assert_false(in("10.0.0.0/8", "11.0.0.0"));
    assert_true(in("172.16.0.0/12", "172.31.255.255"));
    assert_false(in("172.16.0.0/12", "172.32.0.0"));
    assert_false(in("172.16.0.0/12", "172.15.255.255"));
    assert_true(in("100.64.0.0/10", "100.127.0.1"));
    assert_false(in("100.64.0.0/10", "100.128.0.1"));
    assert_true(in("127.0.0.1", "127.0.0.1"));
    assert_false(in("127.0.0.1", "127.0.0.2"));
    assert_true(in("0.0.0.0/0", "8.8.8.8"));
    assert_false(in("0.0.0.0/0", "2001:db8::1")); /* IPv4's /0 is not all of IPv6 */
    assert_true(in("::/0", "2001:db8::1"));
    assert_true(in("::/0", "8.8.8.8"));
    /* an IPv4 network matches the mapped form of its addresses */
    assert_true(in("127.0.0.1/32", "::ffff:127.0.0.1"));
    assert_true(in("::ffff:10.0.0.0/104", "10.9.9.9"));
    assert_true(in("fd00::/8", "fd12:3456::1"));
    assert_false(in("fd00::/8", "fc00::1"));
    assert_true(in("fe80::/10", "febf::1"));
    assert_false(in("fe80::/10", "fec0::1"));
    assert_true(in("2001:db8::/127", "2001:db8::1"));
    assert_false(in("2001:db8::/127", "2001:db8::2"));
    assert_true(in("192.168.1.128/25", "192.168.1.200"));
    assert_false(in("192.168.1.128/25", "192.168.1.127"));
}

static void test_list(void **state)
{
    (void)state;
    struct cc_cidr nets[4];
    size_t n = 99;
    char why[160];
    assert_int_equal(cc_cidr_list_parse("", nets, 4, &n, why, sizeof(why)), CC_OK);
    assert_int_equal(n, 0);
    assert_int_equal(cc_cidr_list_parse(" 127.0.0.1/32,fd00::/8 ,\t10.0.0.0/8\n", nets, 4, &n,
                                        why, sizeof(why)),
                     CC_OK);
    assert_int_equal(n, 3);
    assert_int_equal(nets[1].prefix, 8);
    assert_int_equal(cc_cidr_list_parse("1.0.0.0/8 2.0.0.0/8 3.0.0.0/8 4.0.0.0/8 5.0.0.0/8",
                                        nets, 4, &n, why, sizeof(why)),
                     CC_ELIMIT);
    assert_int_equal(cc_cidr_list_parse("10.0.0.0/8, nope", nets, 4, &n, why, sizeof(why)),
                     CC_EINVAL);
    assert_non_null(strstr(why, "nope"));
}

static void test_format(void **state)
{
    (void)state;
    unsigned char a[16];
    char text[64];
    ip("10.1.2.3", a);
    cc_ip_format(a, text, sizeof(text));
    assert_string_equal(text, "10.1.2.3");
    assert_true(cc_ip_is_v4(a));
    ip("2001:db8:0:0:0:0:0:1", a);
    cc_ip_format(a, text, sizeof(text));
    assert_string_equal(text, "2001:db8::1");
    assert_false(cc_ip_is_v4(a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid), cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_contains),    cmocka_unit_test(test_list),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
