/* The fetcher's pure checks: every address class the SSRF guard refuses
 * (and the IPv6 forms that embed them), what fetch.allow_networks lets
 * through, Retry-After values, and the auth JSON of sources. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/diag.h"
#include "ingest/fetch.h"
#include "ingest/fetch_int.h"

static void ip(const char *text, unsigned char out[16])
{
    unsigned char v4[4];
    if (inet_pton(AF_INET, text, v4) == 1)
        cc_ip4_to16(v4, out);
    else if (inet_pton(AF_INET6, text, out) != 1)
        fail_msg("bad test address %s", text);
}

static const char *refusal(const char *text)
{
    unsigned char a[16];
    ip(text, a);
    return ingest__addr_refusal(a);
}

static void expect_refused(const char *text, const char *word)
{
    const char *why = refusal(text);
    if (!why)
        fail_msg("%s was not refused", text);
    if (!strstr(why, word))
        fail_msg("%s refused as '%s', expected '%s'", text, why, word);
}

static void expect_allowed(const char *text)
{
    const char *why = refusal(text);
    if (why)
        fail_msg("%s was refused as %s", text, why);
}

static void test_ipv4_classes(void **state)
{
    (void)state;
    expect_refused("0.0.0.0", "unspecified");
    expect_refused("0.255.255.255", "unspecified");
    expect_refused("10.0.0.1", "private");
    expect_refused("10.255.255.255", "private");
    expect_refused("100.64.0.0", "CGNAT");
    expect_refused("100.100.100.200", "CGNAT"); /* Alibaba's metadata */
    expect_refused("100.127.255.255", "CGNAT");
    expect_refused("127.0.0.1", "loopback");
    expect_refused("127.255.255.254", "loopback");
    expect_refused("169.254.169.254", "metadata");
    expect_refused("169.254.0.1", "link-local");
    expect_refused("172.16.0.1", "private");
    expect_refused("172.31.255.255", "private");
    expect_refused("192.0.0.192", "reserved"); /* Oracle's metadata */
    expect_refused("192.168.0.1", "private");
    expect_refused("198.18.0.1", "benchmarking");
    expect_refused("224.0.0.1", "multicast");
    expect_refused("239.255.255.250", "multicast");
    expect_refused("240.0.0.1", "reserved");
    expect_refused("255.255.255.255", "broadcast");
    /* the neighbours of each range are public */
    expect_allowed("1.1.1.1");
    expect_allowed("8.8.8.8");
    expect_allowed("9.255.255.255");
    expect_allowed("11.0.0.0");
    expect_allowed("100.63.255.255");
    expect_allowed("100.128.0.0");
    expect_allowed("126.255.255.255");
    expect_allowed("128.0.0.0");
    expect_allowed("169.253.255.255");
    expect_allowed("169.255.0.0");
    expect_allowed("172.15.255.255");
    expect_allowed("172.32.0.0");
    expect_allowed("192.0.1.1");
    expect_allowed("192.167.255.255");
    expect_allowed("192.169.0.0");
    expect_allowed("198.17.255.255");
    expect_allowed("198.20.0.0");
    expect_allowed("223.255.255.255");
}

static void test_ipv6_classes(void **state)
{
    (void)state;
    expect_refused("::", "unspecified");
    expect_refused("::1", "loopback");
    expect_refused("fc00::1", "private");
    expect_refused("fd00:ec2::254", "private"); /* AWS's IPv6 metadata */
    expect_refused("fdff:ffff::1", "private");
    expect_refused("fe80::1", "link-local");
    expect_refused("febf:ffff::1", "link-local");
    expect_refused("fec0::1", "site-local");
    expect_refused("ff02::1", "multicast");
    expect_refused("100::1", "discard");
    expect_refused("64:ff9b:1::a00:1", "NAT64");
    expect_allowed("2001:4860:4860::8888");
    expect_allowed("2606:4700::1111");
    expect_allowed("fbff::1");
    expect_allowed("fe7f::1");
}

static void test_ipv6_forms_of_ipv4(void **state)
{
    (void)state;
    /* IPv4-mapped: the IPv4 address itself */
    expect_refused("::ffff:127.0.0.1", "loopback");
    expect_refused("::ffff:169.254.169.254", "metadata");
    expect_refused("::ffff:10.1.2.3", "private");
    expect_allowed("::ffff:8.8.8.8");
    /* IPv4-compatible (deprecated): refused whatever it embeds */
    expect_refused("::127.0.0.1", "loopback");
    expect_refused("::10.0.0.1", "private");
    expect_refused("::8.8.8.8", "IPv4-compatible");
    /* NAT64 well-known prefix: judged by the IPv4 address */
    expect_refused("64:ff9b::127.0.0.1", "loopback");
    expect_refused("64:ff9b::a9fe:a9fe", "metadata");
    expect_refused("64:ff9b::192.168.1.1", "private");
    expect_allowed("64:ff9b::8.8.8.8");
    /* 6to4: 2002:AABB:CCDD:: carries AA.BB.CC.DD */
    expect_refused("2002:7f00:1::", "loopback");
    expect_refused("2002:a9fe:a9fe::1", "metadata");
    expect_refused("2002:c0a8:0101::1", "private");
    expect_allowed("2002:0808:0808::1");
    /* Teredo: server in bits 32-63, client inverted in the last 32 */
    expect_refused("2001:0:7f00:1::", "loopback");
    expect_refused("2001:0:808:808::f5ff:fffe", "private"); /* client ~ = 10.0.0.1 */
    expect_allowed("2001:0:808:808::f7f7:f7f7");            /* client 8.8.8.8 */
}

static void test_allow_networks(void **state)
{
    (void)state;
    struct cc_cidr allow[3];
    size_t n;
    assert_int_equal(cc_cidr_list_parse("127.0.0.1/32, 10.20.0.0/16 fd00:1::/64", allow, 3,
                                        &n, NULL, 0),
                     CC_OK);
    const struct {
        const char *addr;
        bool allowed;
    } cases[] = {
        {"127.0.0.1", true},         {"::ffff:127.0.0.1", true}, /* the same host */
        {"127.0.0.2", false},        {"::1", false}, /* IPv6 loopback is not 127.0.0.1 */
        {"10.20.9.9", true},         {"10.21.0.1", false},
        {"fd00:1::5", true},         {"fd00:2::5", false},
        {"169.254.169.254", false},  {"8.8.8.8", true},
    };
    unsigned char a[16];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ip(cases[i].addr, a);
        if ((ingest__guard_check(a, allow, n) == NULL) != cases[i].allowed)
            fail_msg("%s: expected %s", cases[i].addr, cases[i].allowed ? "allowed" : "refused");
    }
    ip("8.8.8.8", a);
    assert_null(ingest__guard_check(a, NULL, 0));
}

static void test_retry_after(void **state)
{
    (void)state;
    const int64_t now = 784111777000LL; /* Sun, 06 Nov 1994 08:49:37 GMT */
    int64_t ms = -1;
    assert_true(ingest__retry_after_parse("120", now, &ms));
    assert_int_equal(ms, 120000);
    assert_true(ingest__retry_after_parse(" 0 ", now, &ms));
    assert_int_equal(ms, 0);
    assert_true(ingest__retry_after_parse("99999999999999", now, &ms));
    assert_int_equal(ms, 366LL * 24 * 3600 * 1000); /* clamped */
    /* the three HTTP-date forms, 30 s ahead */
    assert_true(ingest__retry_after_parse("Sun, 06 Nov 1994 08:50:07 GMT", now, &ms));
    assert_int_equal(ms, 30000);
    assert_true(ingest__retry_after_parse("Sunday, 06-Nov-94 08:50:07 GMT", now, &ms));
    assert_int_equal(ms, 30000);
    assert_true(ingest__retry_after_parse("Sun Nov  6 08:50:07 1994", now, &ms));
    assert_int_equal(ms, 30000);
    /* a date in the past means now */
    assert_true(ingest__retry_after_parse("Sat, 05 Nov 1994 08:49:37 GMT", now, &ms));
    assert_int_equal(ms, 0);
    const char *garbage[] = {"", "  ", "-5", "1.5", "12s", "soon", "tomorrow 10:00",
                             "Sun, 99 Foo 1994 99:99:99 GMT", "0x10",
                             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
        ms = -7;
        if (ingest__retry_after_parse(garbage[i], now, &ms))
            fail_msg("'%s' parsed as %lld ms", garbage[i], (long long)ms);
        assert_int_equal(ms, -7);
    }
}

static void test_header_values(void **state)
{
    (void)state;
    assert_true(ingest__header_value_ok("W/\"abc\""));
    assert_false(ingest__header_value_ok("a\r\nX-Evil: 1"));
    assert_false(ingest__header_value_ok("a\n"));
}

static cc_err auth(const char *json, struct ingest_fetch_auth *a, char *msg)
{
    struct cc_diag d = {0};
    cc_err e = ingest_fetch_auth_parse(json, a, &d);
    snprintf(msg, 512, "%s", d.msg);
    return e;
}

static void test_auth_valid(void **state)
{
    (void)state;
    struct ingest_fetch_auth a;
    char msg[512];
    assert_int_equal(auth(NULL, &a, msg), CC_OK);
    assert_int_equal(a.type, INGEST_AUTH_NONE);
    assert_int_equal(auth("null", &a, msg), CC_OK);
    assert_int_equal(a.type, INGEST_AUTH_NONE);
    assert_int_equal(auth("{\"type\":\"basic\",\"username\":\"u\",\"password_file\":\"/p\"}", &a,
                          msg),
                     CC_OK);
    assert_int_equal(a.type, INGEST_AUTH_BASIC);
    assert_string_equal(a.name, "u");
    assert_string_equal(a.secret_file, "/p");
    assert_string_equal(a.secret, "");
    assert_int_equal(auth("{\"type\":\"basic\",\"username\":\"u\",\"password\":\"pw\"}", &a, msg),
                     CC_OK);
    assert_string_equal(a.secret, "pw");
    assert_int_equal(auth("{\"type\":\"bearer\",\"token_file\":\"/t\"}", &a, msg), CC_OK);
    assert_int_equal(a.type, INGEST_AUTH_BEARER);
    assert_int_equal(auth("{\"type\":\"bearer\",\"token\":\"tk\"}", &a, msg), CC_OK);
    assert_string_equal(a.secret, "tk");
    assert_int_equal(auth("{\"type\":\"header\",\"name\":\"X-Api-Key\",\"value_file\":\"/v\"}",
                          &a, msg),
                     CC_OK);
    assert_int_equal(a.type, INGEST_AUTH_HEADER);
    assert_string_equal(a.name, "X-Api-Key");
    /* the sources API's spelling */
    assert_int_equal(auth("{\"type\":\"header\",\"header\":\"X-K\",\"value\":\"v\"}", &a, msg),
                     CC_OK);
    assert_string_equal(a.name, "X-K");
}

static void test_auth_invalid(void **state)
{
    (void)state;
    const struct {
        const char *json, *says;
    } bad[] = {
        {"{", "not valid JSON"},
        {"[]", "object"},
        {"{}", "type"},
        {"{\"type\":\"digest\"}", "unknown type"},
        {"{\"type\":\"basic\",\"password_file\":\"/p\"}", "username"},
        {"{\"type\":\"basic\",\"username\":\"a:b\",\"password\":\"p\"}", "username"},
        {"{\"type\":\"basic\",\"username\":\"u\"}", "password_file"},
        {"{\"type\":\"basic\",\"username\":\"u\",\"password\":\"p\",\"password_file\":\"/p\"}",
         "not both"},
        {"{\"type\":\"bearer\",\"token\":\"t\",\"token_file\":\"/t\"}", "not both"},
        {"{\"type\":\"bearer\"}", "token_file"},
        {"{\"type\":\"bearer\",\"token\":\"\"}", "token"},
        {"{\"type\":\"bearer\",\"token\":\"a\\r\\nX: y\"}", "one line"},
        {"{\"type\":\"bearer\",\"token_file\":\"\"}", "path"},
        {"{\"type\":\"bearer\",\"token_file\":5}", "string"},
        {"{\"type\":\"bearer\",\"token_file\":\"/t\",\"extra\":\"x\"}", "unknown field"},
        {"{\"type\":\"header\",\"value\":\"v\"}", "name"},
        {"{\"type\":\"header\",\"name\":\"X Key\",\"value\":\"v\"}", "name"},
        {"{\"type\":\"header\",\"name\":\"X:K\",\"value\":\"v\"}", "name"},
        {"{\"type\":\"header\",\"name\":\"A\",\"header\":\"B\",\"value\":\"v\"}", "differ"},
        {"{\"type\":\"header\",\"name\":\"X-K\"}", "value_file"},
        {"{\"type\":\"bearer\",\"token\":\"a\",\"token\":\"b\"}", "JSON"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct ingest_fetch_auth a = {.type = 99};
        char msg[512] = "";
        if (auth(bad[i].json, &a, msg) != CC_EINVAL)
            fail_msg("%s was accepted", bad[i].json);
        if (!strstr(msg, bad[i].says))
            fail_msg("%s: '%s' does not say '%s'", bad[i].json, msg, bad[i].says);
        assert_int_equal(a.type, 99); /* untouched */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_classes),     cmocka_unit_test(test_ipv6_classes),
        cmocka_unit_test(test_ipv6_forms_of_ipv4), cmocka_unit_test(test_allow_networks),
        cmocka_unit_test(test_retry_after),      cmocka_unit_test(test_header_values),
        cmocka_unit_test(test_auth_valid),       cmocka_unit_test(test_auth_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
