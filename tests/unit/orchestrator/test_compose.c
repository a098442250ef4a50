/*
 * test_compose.c - the stack spec parser: field forms, interpolation,
 * errors with exact positions, cycles, warnings, anchors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "orchestrator/compose.h"

static char *const test_env[] = {"HOME=/home/u", "TAG=1.2", "EMPTY=", NULL};

static struct orch_stack *parse_ok(const char *yaml)
{
    struct orch_compose_opts o = {.file = "t.yml", .envp = test_env, .default_name = "proj"};
    struct orch_stack *s = NULL;
    struct cc_diag d = {0};
    cc_err err = orch_compose_parse(yaml, strlen(yaml), &o, &s, &d);
    if (err)
        print_error("unexpected error: %s:%u:%u: %s\n", d.file, d.line, d.col, d.msg);
    assert_int_equal(err, CC_OK);
    return s;
}

static void expect_error(const char *yaml, unsigned line, unsigned col, const char *text)
{
    struct orch_compose_opts o = {.file = "t.yml", .envp = test_env};
    struct orch_stack *s = NULL;
    struct cc_diag d = {0};
    assert_int_not_equal(orch_compose_parse(yaml, strlen(yaml), &o, &s, &d), CC_OK);
    assert_null(s);
    if (!strstr(d.msg, text) || d.line != line || d.col != col)
        print_error("got %u:%u: %s\n", d.line, d.col, d.msg);
    assert_int_equal(d.line, line);
    assert_int_equal(d.col, col);
    assert_non_null(strstr(d.msg, text));
}

static void test_forms(void **state)
{
    struct orch_stack *s = parse_ok(
        "services:\n"
        "  web:\n"
        "    image: nginx:${TAG}\n"
        "    command: sh -c 'echo \"hi there\"'\n"
        "    entrypoint: [/bin/tini, --]\n"
        "    environment: [A=1, B, C=]\n"
        "    ports: [\"80\", \"127.0.0.1:8080:80/udp\", {target: 443, published: 8443}]\n"
        "    volumes: [\"data:/d:ro\", \"./x:/x\", \"~/y:/y\", {type: tmpfs, target: /t}]\n"
        "    restart: on-failure:5\n"
        "    healthcheck: {test: [\"NONE\"]}\n"
        "    stop_grace_period: 1m30s\n"
        "    labels: [a=b]\n"
        "    deploy: {resources: {limits: {cpus: '0.5', memory: 512m, pids: 10}}}\n"
        "volumes: {data: {}}\n");
    const struct orch_service *w = orch_stack_service(s, "web");
    assert_string_equal(w->image, "nginx:1.2");
    assert_int_equal(w->command.n, 3);
    assert_string_equal(w->command.v[2], "echo \"hi there\"");
    assert_int_equal(w->entrypoint.n, 2);
    assert_null(w->environment.v[1].value);
    assert_string_equal(w->environment.v[2].value, "");
    assert_int_equal(w->nports, 3);
    assert_null(w->ports[0].published);
    assert_string_equal(w->ports[1].host_ip, "127.0.0.1");
    assert_string_equal(w->ports[1].protocol, "udp");
    assert_string_equal(w->ports[2].published, "8443");
    assert_true(w->volumes[0].read_only);
    assert_int_equal(w->volumes[1].type, ORCH_MOUNT_BIND);
    assert_string_equal(w->volumes[2].source, "/home/u/y");
    assert_int_equal(w->volumes[3].type, ORCH_MOUNT_TMPFS);
    assert_true(w->healthcheck.disable);
    assert_true(w->stop_grace_ns == 90000000000LL);
    assert_true(w->limits.memory == 512LL << 20);
    assert_true(w->limits.cpus == 0.5);
    assert_string_equal(s->name, "proj");
    orch_stack_free(s);
}

static void test_interpolation(void **state)
{
    struct orch_stack *s = parse_ok(
        "services:\n"
        "  a:\n"
        "    image: x\n"
        "    environment:\n"
        "      D: $$HOME\n"
        "      N: ${NOPE:-${ALSO:-${TAG}}}\n"
        "      E1: ${EMPTY:-d}\n"
        "      E2: ${EMPTY-d}\n"
        "      M: a${MISSING}b\n"
        "      P: ${TAG:+set}\n");
    const struct orch_kvs *e = &s->services[0].environment;
    assert_string_equal(e->v[0].value, "$HOME");
    assert_string_equal(e->v[1].value, "1.2");
    assert_string_equal(e->v[2].value, "d");
    assert_string_equal(e->v[3].value, "");
    assert_string_equal(e->v[4].value, "ab");
    assert_string_equal(e->v[5].value, "set");
    assert_int_equal(s->warnings.n, 1);
    assert_non_null(strstr(s->warnings.v[0], "t.yml:9:10: variable MISSING is not set"));
    orch_stack_free(s);
    expect_error("services:\n  a:\n    image: ${X?no X}\n", 3, 12, "required variable X is "
                 "missing: no X");
    expect_error("services:\n  a:\n    image: ${EMPTY:?}\n", 3, 12, "EMPTY is empty");
    expect_error("services:\n  a:\n    image: ${A\n", 3, 12, "unterminated");
}

static void test_errors(void **state)
{
    expect_error("services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: "
                 "{a: {condition: service_healthy}}}\n", 3, 30, "a -> b -> a");
    expect_error("services:\n  a: {image: x, depends_on: [a]}\n", 2, 30, "cycle: a -> a");
    expect_error("services:\n  a:\n    image: x\n    ports: ['70000']\n", 4, 13,
                 "invalid port");
    expect_error("services:\n  a:\n    image: x\n    restart: maybe\n", 4, 14, "restart");
    expect_error("services:\n  a:\n    image: x\n    depends_on:\n      b:\n        "
                 "condition: up\n  b: {image: y}\n", 6, 20, "service_healthy");
    expect_error("services:\n  a:\n    image: x\n    read_only: maybe\n", 4, 16,
                 "true or false");
    expect_error("version: '3'\n", 1, 1, "no 'services:'");
}

static void test_warnings_and_anchors(void **state)
{
    struct orch_stack *s = parse_ok(
        "x-base: &b\n  image: base:1\n  user: '1000'\n"
        "services:\n  a:\n    <<: *b\n    ulimits: {}\n  b:\n    <<: *b\n    image: other:2\n");
    assert_string_equal(orch_stack_service(s, "a")->image, "base:1");
    assert_string_equal(orch_stack_service(s, "b")->image, "other:2");
    assert_string_equal(orch_stack_service(s, "b")->user, "1000");
    assert_int_equal(s->warnings.n, 1);
    assert_non_null(strstr(s->warnings.v[0], "unsupported key 'ulimits'"));
    orch_stack_free(s);
}

static void test_durations(void **state)
{
    char buf[32];
    orch_duration_format(90000000000LL, buf, sizeof(buf));
    assert_string_equal(buf, "1m30s");
    orch_duration_format(500000000LL, buf, sizeof(buf));
    assert_string_equal(buf, "500ms");
    orch_duration_format(3600000000000LL, buf, sizeof(buf));
    assert_string_equal(buf, "1h0m0s");
    orch_duration_format(1500000000LL, buf, sizeof(buf));
    assert_string_equal(buf, "1.5s");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_interpolation),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_warnings_and_anchors),
        cmocka_unit_test(test_durations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
