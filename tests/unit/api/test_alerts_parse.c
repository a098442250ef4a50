/*
 * test_alerts_parse.c - Alertmanager's webhook payload (version 4) as the
 * store records POST /api/v1/alerts writes: what is taken from each alert,
 * how "not ended" is read, and the message a bad payload gets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "api/alerts.h"
#include "core/arena.h"

#define NOW 1800000000000LL

struct parsed {
    struct cc_arena arena;
    struct store_alert *v;
    size_t n;
    char why[256];
    cc_err err;
};

static void parse(struct parsed *p, const char *body)
{
    memset(p, 0, sizeof(*p));
    cc_arena_init(&p->arena, 4096, 1u << 20);
    p->err = api_alerts_parse(body, strlen(body), NOW, &p->arena, &p->v, &p->n, p->why,
                              sizeof(p->why));
}

static void done(struct parsed *p)
{
    cc_arena_release(&p->arena);
}

static const char FIRING[] =
    "{\"version\":\"4\",\"groupKey\":\"{}:{}\",\"status\":\"firing\",\"receiver\":\"cc\","
    "\"alerts\":[{\"status\":\"firing\",\"labels\":{\"severity\":\"critical\","
    "\"alertname\":\"CCServiceDown\",\"service\":\"web\"},\"annotations\":{\"summary\":"
    "\"web is down\"},\"startsAt\":\"2026-12-07T20:30:15.123456789Z\",\"endsAt\":"
    "\"0001-01-01T00:00:00Z\",\"generatorURL\":\"http://127.0.0.1:9090/graph\","
    "\"fingerprint\":\"0123abcd0123abcd\"},"
    "{\"status\":\"resolved\",\"labels\":{\"alertname\":\"CCSourceStale\"},"
    "\"startsAt\":\"2026-12-07T20:00:00Z\",\"endsAt\":\"2026-12-07T21:00:00+01:00\","
    "\"fingerprint\":\"ff\"},"
    "{\"status\":\"resolved\",\"labels\":{\"alertname\":\"X\"},"
    "\"startsAt\":\"2026-12-07T20:00:00Z\",\"fingerprint\":\"ee\"}]}";

static void test_a_real_notification(void **state)
{
    (void)state;
    struct parsed p;
    parse(&p, FIRING);
    assert_int_equal(p.err, CC_OK);
    assert_int_equal(p.n, 3);
    const struct store_alert *a = &p.v[0];
    assert_string_equal(a->fingerprint, "0123abcd0123abcd");
    assert_string_equal(a->status, "firing");
    assert_string_equal(a->name, "CCServiceDown");
    assert_string_equal(a->severity, "critical");
    /* labels come back compact with their keys sorted */
    assert_string_equal(a->labels_json,
                        "{\"alertname\":\"CCServiceDown\",\"service\":\"web\","
                        "\"severity\":\"critical\"}");
    assert_string_equal(a->annotations_json, "{\"summary\":\"web is down\"}");
    assert_string_equal(a->generator_url, "http://127.0.0.1:9090/graph");
    assert_int_equal(a->starts_ms, 1796675415123LL);
    assert_int_equal(a->ends_ms, 0);            /* 0001-01-01: not ended */
    assert_int_equal(a->created_ms, NOW);
    assert_int_equal(a->updated_ms, NOW);
    /* resolved: its endsAt, with the offset applied */
    assert_string_equal(p.v[1].status, "resolved");
    assert_null(p.v[1].severity);
    assert_null(p.v[1].generator_url);
    assert_string_equal(p.v[1].annotations_json, "{}");
    assert_int_equal(p.v[1].ends_ms, 1796673600000LL);  /* 20:00Z */
    /* resolved without endsAt: ended now */
    assert_int_equal(p.v[2].ends_ms, NOW);
    done(&p);
}

static void test_empty_list(void **state)
{
    (void)state;
    struct parsed p;
    parse(&p, "{\"version\":\"4\",\"alerts\":[]}");
    assert_int_equal(p.err, CC_OK);
    assert_int_equal(p.n, 0);
    done(&p);
}

static void expect_refusal(const char *body, const char *message)
{
    struct parsed p;
    parse(&p, body);
    assert_int_equal(p.err, CC_EINVAL);
    assert_int_equal(p.n, 0);
    assert_null(p.v);
    if (!strstr(p.why, message))
        fail_msg("'%s' does not say '%s'", p.why, message);
    done(&p);
}

#define ALERT(fields) "{\"version\":\"4\",\"alerts\":[" fields "]}"
#define GOOD_REST "\"startsAt\":\"2026-12-07T20:00:00Z\",\"fingerprint\":\"ab\""

static void test_bad_payloads_say_what_is_wrong(void **state)
{
    (void)state;
    expect_refusal("", "not a JSON object");
    expect_refusal("[1]", "not a JSON object");
    expect_refusal("{\"version\":\"4\",\"version\":\"4\",\"alerts\":[]}", "not a JSON object");
    expect_refusal("{\"version\":\"3\",\"alerts\":[]}", "version must be \"4\"");
    expect_refusal("{\"version\":4,\"alerts\":[]}", "version must be \"4\"");
    expect_refusal("{\"version\":\"4\"}", "alerts must be an array");
    expect_refusal(ALERT("1"), "alerts[0] is not an object");
    expect_refusal(ALERT("{\"status\":\"pending\",\"labels\":{\"alertname\":\"A\"}," GOOD_REST
                         "}"),
                   "alerts[0].status must be firing or resolved");
    expect_refusal(ALERT("{\"status\":\"firing\",\"labels\":{\"alertname\":\"A\",\"n\":1},"
                         GOOD_REST "}"),
                   "alerts[0].labels must be an object of strings");
    expect_refusal(ALERT("{\"status\":\"firing\",\"labels\":{}," GOOD_REST "}"),
                   "alerts[0].labels.alertname");
    expect_refusal(ALERT("{\"status\":\"firing\",\"labels\":{\"alertname\":\"A\"},"
                         "\"annotations\":[]," GOOD_REST "}"),
                   "alerts[0].annotations must be an object of strings");
    expect_refusal(ALERT("{\"status\":\"firing\",\"labels\":{\"alertname\":\"A\"},"
                         "\"startsAt\":\"2026-12-07T20:00:00Z\",\"fingerprint\":\"a-b\"}"),
                   "alerts[0].fingerprint");
    expect_refusal(ALERT("{\"status\":\"firing\",\"labels\":{\"alertname\":\"A\"},"
                         "\"startsAt\":\"2026-12-07T20:00:00Z\"}"),
                   "alerts[0].fingerprint");
    expect_refusal(ALERT("{\"status\":\"firing\",\"labels\":{\"alertname\":\"A\"},"
                         "\"startsAt\":\"yesterday\",\"fingerprint\":\"ab\"}"),
                   "alerts[0].startsAt");
    expect_refusal(ALERT("{\"status\":\"firing\",\"labels\":{\"alertname\":\"A\"},"
                         "\"startsAt\":\"1969-12-31T23:59:59Z\",\"fingerprint\":\"ab\"}"),
                   "alerts[0].startsAt");
    expect_refusal(ALERT("{\"status\":\"firing\",\"labels\":{\"alertname\":\"A\"},"
                         "\"endsAt\":5," GOOD_REST "}"),
                   "alerts[0].endsAt");
    /* the first fault is named, with its index */
    expect_refusal(ALERT("{\"status\":\"firing\",\"labels\":{\"alertname\":\"A\"}," GOOD_REST
                         "},{\"status\":\"pending\"}"),
                   "alerts[1].status");
}

static void test_too_many_alerts(void **state)
{
    (void)state;
    static char body[64 * (API_ALERTS_MAX + 2)];
    size_t len = (size_t)snprintf(body, sizeof(body), "{\"version\":\"4\",\"alerts\":[");
    for (int i = 0; i <= API_ALERTS_MAX; i++)
        len += (size_t)snprintf(body + len, sizeof(body) - len, "%s{}", i ? "," : "");
    snprintf(body + len, sizeof(body) - len, "]}");
    expect_refusal(body, "at most 1000 alerts");
}

static void test_a_full_arena_is_a_limit(void **state)
{
    (void)state;
    struct cc_arena arena;
    cc_arena_init(&arena, 64, 128);
    struct store_alert *v = NULL;
    size_t n = 0;
    char why[256] = "";
    assert_int_equal(api_alerts_parse(FIRING, strlen(FIRING), NOW, &arena, &v, &n, why,
                                      sizeof(why)),
                     CC_ELIMIT);
    assert_null(v);
    assert_non_null(strstr(why, "too large"));
    cc_arena_release(&arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_real_notification),
        cmocka_unit_test(test_empty_list),
        cmocka_unit_test(test_bad_payloads_say_what_is_wrong),
        cmocka_unit_test(test_too_many_alerts),
        cmocka_unit_test(test_a_full_arena_is_a_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
