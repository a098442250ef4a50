/*
 * test_plan.c - dependency conditions (started, healthy, completed),
 * optional dependencies, start timeouts naming the service and its last
 * probe output, and the start/stop order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "orchestrator/compose.h"
#include "orchestrator/plan.h"

static struct orch_stack *parse(const char *yaml)
{
    struct orch_compose_opts o = {.file = "t.yml", .default_name = "p"};
    struct orch_stack *s = NULL;
    struct cc_diag d = {0};
    assert_int_equal(orch_compose_parse(yaml, strlen(yaml), &o, &s, &d), CC_OK);
    return s;
}

static const char *yaml =
    "services:\n"
    "  web:\n"
    "    image: w\n"
    "    depends_on:\n"
    "      api: {condition: service_healthy}\n"
    "      metrics: {condition: service_started, required: false}\n"
    "  api:\n"
    "    image: a\n"
    "    depends_on:\n"
    "      db: {condition: service_healthy}\n"
    "      migrate: {condition: service_completed_successfully}\n"
    "  migrate: {image: m, depends_on: [db]}\n"
    "  db: {image: d}\n"
    "  metrics: {image: x}\n";

enum { WEB, API, MIGRATE, DB, METRICS };

static void test_conditions(void **state)
{
    (void)state;
    struct orch_stack *st = parse(yaml);
    struct orch_plan_state ps[5] = {0};
    for (int i = 0; i < 5; i++) {
        ps[i].has_probe = true;
        ps[i].start_timeout_ms = 60000;
    }
    char why[512];
    /* nothing started: only what has no dependency may go */
    assert_int_equal(orch__plan_check(st, DB, ps, 0, why, sizeof(why)), ORCH_READY_GO);
    assert_int_equal(orch__plan_check(st, METRICS, ps, 0, why, sizeof(why)), ORCH_READY_GO);
    assert_int_equal(orch__plan_check(st, MIGRATE, ps, 0, why, sizeof(why)), ORCH_READY_WAIT);
    assert_non_null(strstr(why, "waiting for db (service_started)"));
    /* db started: migrate (service_started by the list form) may go */
    ps[DB] = (struct orch_plan_state){.started = true, .running = true, .has_probe = true,
                                      .started_ms = 1000, .start_timeout_ms = 60000};
    assert_int_equal(orch__plan_check(st, MIGRATE, ps, 1000, why, sizeof(why)), ORCH_READY_GO);
    assert_int_equal(orch__plan_check(st, API, ps, 1000, why, sizeof(why)), ORCH_READY_WAIT);
    ps[DB].healthy = true;
    ps[MIGRATE] = (struct orch_plan_state){.started = true, .exited = true, .exit_code = 0,
                                           .started_ms = 1000};
    assert_int_equal(orch__plan_check(st, API, ps, 2000, why, sizeof(why)), ORCH_READY_GO);
    /* a failed one-shot blocks what needs it to complete */
    ps[MIGRATE].exit_code = 3;
    assert_int_equal(orch__plan_check(st, API, ps, 2000, why, sizeof(why)), ORCH_READY_BLOCKED);
    assert_non_null(strstr(why, "migrate exited with code 3"));
    /* an optional dependency that failed is skipped; a pending one is waited for */
    ps[API] = (struct orch_plan_state){.started = true, .running = true, .healthy = true,
                                       .has_probe = true, .started_ms = 2000};
    assert_int_equal(orch__plan_check(st, WEB, ps, 3000, why, sizeof(why)), ORCH_READY_WAIT);
    ps[METRICS].failed = true;
    assert_int_equal(orch__plan_check(st, WEB, ps, 3000, why, sizeof(why)), ORCH_READY_GO);
    /* healthy without a probe means running */
    ps[API].has_probe = false;
    ps[API].healthy = false;
    assert_int_equal(orch__plan_check(st, WEB, ps, 3000, why, sizeof(why)), ORCH_READY_GO);
    orch_stack_free(st);
}

static void test_start_timeout(void **state)
{
    (void)state;
    struct orch_stack *st = parse(yaml);
    struct orch_plan_state ps[5] = {0};
    ps[DB] = (struct orch_plan_state){.started = true, .running = true, .has_probe = true,
                                      .started_ms = 1000, .start_timeout_ms = 5000,
                                      .last_output = "could not connect to server"};
    ps[MIGRATE] = (struct orch_plan_state){.started = true, .exited = true, .started_ms = 1};
    char why[512];
    assert_int_equal(orch__plan_check(st, API, ps, 5999, why, sizeof(why)), ORCH_READY_WAIT);
    assert_int_equal(orch__plan_check(st, API, ps, 6000, why, sizeof(why)),
                     ORCH_READY_BLOCKED);
    assert_non_null(strstr(why, "dependency db not healthy after 5 s"));
    assert_non_null(strstr(why, "could not connect to server"));
    /* a dependency that failed (breaker) blocks at once */
    ps[DB].failed = true;
    ps[DB].start_timeout_ms = 0;
    assert_int_equal(orch__plan_check(st, API, ps, 1001, why, sizeof(why)),
                     ORCH_READY_BLOCKED);
    assert_non_null(strstr(why, "db failed"));
    orch_stack_free(st);
}

static void test_order(void **state)
{
    (void)state;
    struct orch_stack *st = parse(yaml);
    size_t order[5];
    orch__plan_order(st, order);
    size_t pos[5];
    for (size_t i = 0; i < 5; i++)
        pos[order[i]] = i;
    assert_true(pos[DB] < pos[MIGRATE]);
    assert_true(pos[MIGRATE] < pos[API]);
    assert_true(pos[DB] < pos[API]);
    assert_true(pos[API] < pos[WEB]);
    assert_true(pos[METRICS] < pos[WEB]);
    orch_stack_free(st);
    /* the parser has already refused cycles, naming them */
    const char *cyc = "services:\n  a: {image: x, depends_on: [b]}\n"
                      "  b: {image: x, depends_on: [a]}\n";
    struct orch_compose_opts o = {.file = "t.yml", .default_name = "p"};
    struct orch_stack *s = NULL;
    struct cc_diag d = {0};
    assert_int_not_equal(orch_compose_parse(cyc, strlen(cyc), &o, &s, &d), CC_OK);
    assert_non_null(strstr(d.msg, "a -> b -> a"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conditions),
        cmocka_unit_test(test_start_timeout),
        cmocka_unit_test(test_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
