/*
 * test_probe.c - probe settings (x-commandcenter, healthcheck, role
 * defaults, errors), Compose's health state machine over fake time, and
 * real HTTP and TCP probes against a listener on loopback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/config.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_driver.h"
#include "orchestrator/compose.h"
#include "orchestrator/probe.h"

static struct orch_stack *parse(const char *yaml)
{
    struct orch_compose_opts o = {.file = "t.yml", .default_name = "p"};
    struct orch_stack *s = NULL;
    struct cc_diag d = {0};
    cc_err err = orch_compose_parse(yaml, strlen(yaml), &o, &s, &d);
    if (err)
        print_error("%u:%u: %s\n", d.line, d.col, d.msg);
    assert_int_equal(err, CC_OK);
    return s;
}

/* Options of the first service; err (may be NULL) gets the error text. */
static cc_err opts_of(const char *yaml, struct orch_svc_opts *o, char *err, size_t errsz)
{
    struct cc_config c;
    cc_config_init(&c);
    struct orch_stack *s = parse(yaml);
    char buf[512];
    cc_err e = orch__svc_opts(&s->services[0], &c, o, err ? err : buf, err ? errsz : sizeof(buf));
    orch_stack_free(s);
    cc_config_release(&c);
    return e;
}

static void test_settings(void **state)
{
    (void)state;
    struct orch_svc_opts o;
    /* x-commandcenter http probe with its own timings */
    assert_int_equal(opts_of("services:\n  web:\n    image: nginx\n    x-commandcenter:\n"
                             "      probe: {http: {port: 8080, path: /healthz, status: 200-204},"
                             " interval: 2s, retries: 5, start_period: 1m}\n"
                             "      restart_on_unhealthy: {limit: 4, grace: 30s}\n"
                             "      start_timeout: 90s\n      driver: process\n",
                             &o, NULL, 0), CC_OK);
    assert_int_equal(o.probe.kind, ORCH_PROBE_HTTP);
    assert_int_equal(o.probe.port, 8080);
    assert_string_equal(o.probe.path, "/healthz");
    assert_int_equal(o.probe.status_lo, 200);
    assert_int_equal(o.probe.status_hi, 204);
    assert_int_equal(o.probe.interval_ms, 2000);
    assert_int_equal(o.probe.timeout_ms, 30000);
    assert_int_equal(o.probe.retries, 5);
    assert_int_equal(o.probe.start_period_ms, 60000);
    assert_int_equal(o.probe.start_interval_ms, 5000);
    assert_true(o.unhealthy.enabled);
    assert_int_equal(o.unhealthy.limit, 4);
    assert_int_equal(o.unhealthy.grace_ms, 30000);
    assert_int_equal(o.start_timeout_ms, 90000);
    assert_string_equal(o.driver, "process");
    orch__svc_opts_release(&o);

    /* CMD-SHELL -> /bin/sh -c, timings from the healthcheck */
    assert_int_equal(opts_of("services:\n  api:\n    image: a\n    healthcheck:\n"
                             "      test: [CMD-SHELL, curl -f localhost || exit 1]\n"
                             "      interval: 5s\n      timeout: 2s\n      retries: 7\n"
                             "    x-commandcenter: {restart_on_unhealthy: false}\n",
                             &o, NULL, 0), CC_OK);
    assert_int_equal(o.probe.kind, ORCH_PROBE_EXEC);
    assert_string_equal(o.probe.argv[0], "/bin/sh");
    assert_string_equal(o.probe.argv[2], "curl -f localhost || exit 1");
    assert_null(o.probe.argv[3]);
    assert_int_equal(o.probe.interval_ms, 5000);
    assert_int_equal(o.probe.timeout_ms, 2000);
    assert_int_equal(o.probe.retries, 7);
    assert_false(o.unhealthy.enabled);
    assert_int_equal(o.start_timeout_ms, 300000);   /* orchestrator.start_timeout */
    orch__svc_opts_release(&o);

    /* role defaults: by name, then by image */
    assert_int_equal(opts_of("services:\n  db:\n    image: postgres:16\n", &o, NULL, 0), CC_OK);
    assert_int_equal(o.probe.kind, ORCH_PROBE_EXEC);
    assert_string_equal(o.probe.argv[0], "pg_isready");
    assert_string_equal(o.probe.argv[2], "commandcenter");
    assert_string_equal(o.role, "postgres");
    orch__svc_opts_release(&o);
    assert_int_equal(opts_of("services:\n  cache:\n    image: redis:7\n", &o, NULL, 0), CC_OK);
    assert_string_equal(o.probe.argv[0], "redis-cli");
    orch__svc_opts_release(&o);
    assert_int_equal(opts_of("services:\n  backend:\n    image: x\n    ports: ['9000:8000']\n",
                             &o, NULL, 0), CC_OK);
    assert_int_equal(o.probe.kind, ORCH_PROBE_HTTP);
    assert_int_equal(o.probe.port, 8000);
    assert_string_equal(o.probe.path, "/health");
    orch__svc_opts_release(&o);
    assert_int_equal(opts_of("services:\n  frontend:\n    image: x\n    ports: ['80']\n",
                             &o, NULL, 0), CC_OK);
    assert_string_equal(o.probe.path, "/");
    orch__svc_opts_release(&o);
    /* disable: no probe, even for a role */
    assert_int_equal(opts_of("services:\n  postgres:\n    image: postgres\n"
                             "    healthcheck: {disable: true}\n", &o, NULL, 0), CC_OK);
    assert_int_equal(o.probe.kind, ORCH_PROBE_NONE);
    orch__svc_opts_release(&o);
    assert_int_equal(opts_of("services:\n  worker:\n    image: w\n", &o, NULL, 0), CC_OK);
    assert_int_equal(o.probe.kind, ORCH_PROBE_NONE);
    assert_null(o.role);
    orch__svc_opts_release(&o);
}

static void expect_bad(const char *xcc, const char *text)
{
    char yaml[512], err[512] = "";
    snprintf(yaml, sizeof(yaml), "services:\n  web:\n    image: w\n    x-commandcenter: %s\n",
             xcc);
    struct orch_svc_opts o;
    assert_int_equal(opts_of(yaml, &o, err, sizeof(err)), CC_EINVAL);
    if (!strstr(err, text))
        print_error("got: %s\n", err);
    assert_non_null(strstr(err, text));
}

static void test_settings_errors(void **state)
{
    (void)state;
    expect_bad("{probes: {}}", "services.web.x-commandcenter.probes: unknown key");
    expect_bad("{probe: {http: {port: 0}}}", "probe.http.port: expected a port");
    expect_bad("{probe: {http: {path: /x}}}", "probe.http.port: missing");
    expect_bad("{probe: {http: {port: 80, status: 900}}}", "probe.http.status");
    expect_bad("{probe: {http: {port: 80, path: x}}}", "probe.http.path");
    expect_bad("{probe: {tcp: {port: 80}, exec: x}}", "exactly one of exec, http, tcp");
    expect_bad("{probe: {exec: []}}", "probe.exec");
    expect_bad("{probe: {tcp: {port: 1}, interval: soon}}", "probe.interval: 'soon' is not");
    expect_bad("{probe: {tcp: {port: 1}, retries: 0}}", "probe.retries");
    expect_bad("{restart_on_unhealthy: {limit: many}}", "restart_on_unhealthy.limit");
    expect_bad("{restart_on_unhealthy: maybe}", "restart_on_unhealthy: expected");
    expect_bad("{driver: kubernetes}", "driver: expected docker or process");
    expect_bad("[1, 2]", "x-commandcenter: expected a mapping");
    int lo, hi;
    assert_int_equal(orch__status_range("204", &lo, &hi), CC_OK);
    assert_int_equal(lo, 204);
    assert_int_equal(hi, 204);
    assert_int_equal(orch__status_range("300-200", &lo, &hi), CC_EINVAL);
    assert_int_equal(orch__status_range("2xx", &lo, &hi), CC_EINVAL);
}

static void test_state_machine(void **state)
{
    (void)state;
    struct fake_clock fc;
    fake_clock_init(&fc, 1700000000000);
    struct orch_probe_cfg c = {.kind = ORCH_PROBE_EXEC, .interval_ms = 30000,
                               .timeout_ms = 1000, .start_period_ms = 20000,
                               .start_interval_ms = 5000, .retries = 3};
    struct orch_probe_state st;
    orch__probe_reset(&st, &c, fc.mono_ms);
    assert_int_equal(st.status, ORCH_HEALTH_STARTING);
    int64_t t0 = fc.mono_ms;
    /* early checks 100 ms, then 200, 400 ... ms apart until Compose's first
     * probe: their failures are shown but never counted */
    assert_int_equal(st.next_ms, t0 + ORCH_PROBE_EARLY_MS);
    fake_clock_advance(&fc, 100);
    assert_int_equal(orch__probe_record(&st, &c, false, 1, "early", fc.mono_ms, fc.wall_ms),
                     ORCH_PROBE_SAME);
    assert_int_equal(st.next_ms, t0 + 300);
    assert_int_equal(st.failing_streak, 0);
    assert_int_equal(st.nout, 1);
    fake_clock_advance(&fc, 200);
    orch__probe_record(&st, &c, false, 1, "early", fc.mono_ms, fc.wall_ms);
    assert_int_equal(st.next_ms, t0 + 700);
    /* the early schedule never passes the first regular probe (start_interval) */
    for (int i = 0; i < 3; i++) {   /* at 700, 1500 and 3100 ms */
        fc.mono_ms = st.next_ms;
        fc.wall_ms += 1;
        orch__probe_record(&st, &c, false, 1, "early", fc.mono_ms, fc.wall_ms);
        assert_true(st.next_ms <= t0 + 5000);
    }
    assert_int_equal(st.next_ms, t0 + 5000);
    assert_int_equal(st.status, ORCH_HEALTH_STARTING);
    fc.mono_ms = t0;
    /* failures inside start_period do not count */
    for (int i = 0; i < 3; i++) {
        fake_clock_advance(&fc, 5000);
        assert_int_equal(orch__probe_record(&st, &c, false, 1, "refused", fc.mono_ms,
                                            fc.wall_ms), ORCH_PROBE_SAME);
    }
    assert_int_equal(st.failing_streak, 0);
    assert_int_equal(st.next_ms, fc.mono_ms + 5000);
    /* a success ends the start period at once */
    fake_clock_advance(&fc, 1000);
    assert_int_equal(orch__probe_record(&st, &c, true, 0, "ok", fc.mono_ms, fc.wall_ms),
                     ORCH_PROBE_TO_HEALTHY);
    assert_int_equal(st.next_ms, fc.mono_ms + 30000);
    /* retries failures in a row: unhealthy; fewer: still healthy */
    for (int i = 1; i <= 2; i++) {
        fake_clock_advance(&fc, 30000);
        assert_int_equal(orch__probe_record(&st, &c, false, 1, "err", fc.mono_ms, fc.wall_ms),
                         ORCH_PROBE_SAME);
        assert_int_equal(st.failing_streak, (unsigned)i);
        assert_int_equal(st.status, ORCH_HEALTH_HEALTHY);
    }
    fake_clock_advance(&fc, 30000);
    assert_int_equal(orch__probe_record(&st, &c, false, 1, "err3", fc.mono_ms, fc.wall_ms),
                     ORCH_PROBE_TO_UNHEALTHY);
    assert_int_equal(orch__probe_record(&st, &c, false, 1, "err4", fc.mono_ms, fc.wall_ms),
                     ORCH_PROBE_SAME);
    /* the last five outputs, newest first */
    assert_int_equal(st.nout, 5);
    assert_string_equal(orch__probe_output(&st, 0)->text, "err4");
    assert_string_equal(orch__probe_output(&st, 1)->text, "err3");
    assert_string_equal(orch__probe_output(&st, 4)->text, "ok");
    assert_null(orch__probe_output(&st, 5));
    assert_int_equal(st.checked_at_ms, fc.wall_ms);
    /* a restart starts over */
    orch__probe_reset(&st, &c, fc.mono_ms);
    assert_int_equal(st.status, ORCH_HEALTH_STARTING);
    assert_int_equal(st.failing_streak, 0);
    assert_int_equal(st.nout, 0);
    /* the start period also ends by time: then failures count */
    fake_clock_advance(&fc, 20000);
    orch__probe_record(&st, &c, false, 1, "x", fc.mono_ms, fc.wall_ms);
    assert_int_equal(st.failing_streak, 1);
}

static void test_early_success(void **state)
{
    (void)state;
    struct orch_probe_cfg c = {.kind = ORCH_PROBE_EXEC, .interval_ms = 1000, .timeout_ms = 1000,
                               .retries = 3};
    struct orch_probe_state st;
    orch__probe_reset(&st, &c, 5000);
    assert_int_equal(st.next_ms, 5100);
    /* ready at the first early check: healthy 100 ms after the start, not 1 s */
    assert_int_equal(orch__probe_record(&st, &c, true, 0, "PONG", 5100, 1), ORCH_PROBE_TO_HEALTHY);
    assert_int_equal(st.next_ms, 6100);
    /* an interval of 100 ms or less leaves no room for early checks */
    c.interval_ms = 50;
    orch__probe_reset(&st, &c, 5000);
    assert_int_equal(st.next_ms, 5050);
    assert_int_equal(orch__probe_record(&st, &c, false, 1, "no", 5050, 2), ORCH_PROBE_SAME);
    assert_int_equal(st.failing_streak, 1);
}

/* ---- loopback servers ---- */

struct server {
    int fd;
    unsigned port;
    const char *answer;
    unsigned served;
    pthread_t t;
};

static void *serve(void *arg)
{
    struct server *s = arg;
    int c = accept(s->fd, NULL, NULL);
    if (c >= 0) {
        char req[1024];
        ssize_t n = recv(c, req, sizeof(req) - 1, 0);
        (void)n;
        if (s->answer)
            (void)!send(c, s->answer, strlen(s->answer), MSG_NOSIGNAL);
        close(c);
        s->served++;
    }
    return NULL;
}

static void listen_on(struct server *s, const char *answer)
{
    memset(s, 0, sizeof(*s));
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->fd, 4), 0);
    socklen_t len = sizeof(a);
    getsockname(s->fd, (struct sockaddr *)&a, &len);
    s->port = ntohs(a.sin_port);
    s->answer = answer;
}

static void test_http_probe(void **state)
{
    (void)state;
    struct server s;
    struct orch_probe_result r;
    listen_on(&s, "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
    pthread_create(&s.t, NULL, serve, &s);
    orch__probe_http("127.0.0.1", s.port, "/health", 200, 399, 2000, &r);
    pthread_join(s.t, NULL);
    close(s.fd);
    assert_true(r.ok);
    assert_int_equal(r.code, 204);
    assert_non_null(strstr(r.text, "204 No Content"));

    listen_on(&s, "HTTP/1.0 503 Service Unavailable\r\n\r\ndatabase down\n");
    pthread_create(&s.t, NULL, serve, &s);
    orch__probe_http("127.0.0.1", s.port, "/", 200, 399, 2000, &r);
    pthread_join(s.t, NULL);
    close(s.fd);
    assert_false(r.ok);
    assert_int_equal(r.code, 503);
    assert_non_null(strstr(r.text, "database down"));

    /* not HTTP */
    listen_on(&s, "SSH-2.0-OpenSSH\r\n");
    pthread_create(&s.t, NULL, serve, &s);
    orch__probe_http("127.0.0.1", s.port, "/", 200, 399, 2000, &r);
    pthread_join(s.t, NULL);
    close(s.fd);
    assert_false(r.ok);
    assert_non_null(strstr(r.text, "not an HTTP answer"));

    /* a server that never answers: bounded by the timeout */
    listen_on(&s, NULL);
    orch__probe_http("127.0.0.1", s.port, "/", 200, 399, 200, &r);
    close(s.fd);
    assert_false(r.ok);
    assert_non_null(strstr(r.text, "timed out"));
}

static void test_tcp_probe(void **state)
{
    (void)state;
    struct server s;
    struct orch_probe_result r;
    listen_on(&s, NULL);
    orch__probe_tcp("127.0.0.1", s.port, 1000, &r);
    assert_true(r.ok);
    unsigned port = s.port;
    close(s.fd);
    orch__probe_tcp("127.0.0.1", port, 1000, &r);
    assert_false(r.ok);
    assert_non_null(strstr(r.text, "refused"));
}

static void spec_cb(void *arg, const struct orch_inst *i)
{
    snprintf(arg, 96, "%s", i->id);
}

static void test_run_through_driver(void **state)
{
    (void)state;
    struct fake_driver fd;
    fake_driver_init(&fd);
    struct orch_stack *st = parse("services:\n  db:\n    image: postgres\n");
    struct orch_spec spec = {.project = "p", .stack = st, .svc = &st->services[0],
                             .config_hash = "h"};
    char id[96];
    struct orch_err e = {0};
    assert_int_equal(fake_driver_ops.create(&fd.base, &spec, spec_cb, id, &e), CC_OK);
    assert_int_equal(fake_driver_ops.start(&fd.base, id, &e), CC_OK);
    struct orch_svc_opts o;
    struct cc_config c;
    cc_config_init(&c);
    assert_int_equal(orch__svc_opts(&st->services[0], &c, &o, e.msg, sizeof(e.msg)), CC_OK);
    struct orch_probe_result r;
    fake_driver_set_exec(&fd, "db", 2, "no response");
    assert_int_equal(orch__probe_run(&o.probe, &fake_driver_ops, &fd.base, id, &r, &e), CC_OK);
    assert_false(r.ok);
    assert_int_equal(r.code, 2);
    assert_string_equal(r.text, "pg_isready: no response");
    fake_driver_set_exec(&fd, "db", 0, "accepting connections");
    assert_int_equal(orch__probe_run(&o.probe, &fake_driver_ops, &fd.base, id, &r, &e), CC_OK);
    assert_true(r.ok);
    /* the engine unreachable: an error, not a failed probe */
    fake_driver_set_down(&fd, true, 0);
    assert_int_equal(orch__probe_run(&o.probe, &fake_driver_ops, &fd.base, id, &r, &e),
                     CC_EUPSTREAM);
    fake_driver_set_down(&fd, false, 0);
    /* an HTTP probe at the driver's endpoint */
    struct orch_probe_cfg hc = {.kind = ORCH_PROBE_HTTP, .port = 80, .path = "/",
                                .status_lo = 200, .status_hi = 399, .timeout_ms = 2000};
    struct server s;
    listen_on(&s, "HTTP/1.1 200 OK\r\n\r\nfine");
    fake_driver_script(&fd, "db")->http_port = s.port;
    pthread_create(&s.t, NULL, serve, &s);
    assert_int_equal(orch__probe_run(&hc, &fake_driver_ops, &fd.base, id, &r, &e), CC_OK);
    pthread_join(s.t, NULL);
    close(s.fd);
    assert_true(r.ok);
    assert_int_equal(r.code, 200);
    orch__svc_opts_release(&o);
    cc_config_release(&c);
    orch_stack_free(st);
    fake_driver_release(&fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings),
        cmocka_unit_test(test_settings_errors),
        cmocka_unit_test(test_state_machine),
        cmocka_unit_test(test_early_success),
        cmocka_unit_test(test_http_probe),
        cmocka_unit_test(test_tcp_probe),
        cmocka_unit_test(test_run_through_driver),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
