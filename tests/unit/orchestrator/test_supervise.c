/*
 * test_supervise.c - restart policies, backoff with jitter bounds, reset
 * after a stable run, the breaker and restart on unhealthy, as pure
 * decisions over plain numbers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "orchestrator/supervise.h"

static const struct orch_sup_cfg cfg = {.backoff_initial_ms = 1000, .backoff_max_ms = 8000,
                                        .jitter = 0.0, .stable_ms = 60000,
                                        .breaker_restarts = 5, .breaker_window_ms = 600000};

static struct orch_policy policy(const char *s)
{
    struct orch_policy p;
    assert_int_equal(orch__policy_parse(s, &p), CC_OK);
    return p;
}

static void test_policy_parse(void **state)
{
    (void)state;
    assert_int_equal(policy(NULL).kind, ORCH_RESTART_NO);
    assert_int_equal(policy("no").kind, ORCH_RESTART_NO);
    assert_int_equal(policy("always").kind, ORCH_RESTART_ALWAYS);
    assert_int_equal(policy("unless-stopped").kind, ORCH_RESTART_UNLESS_STOPPED);
    assert_int_equal(policy("on-failure").max_retries, 0);
    assert_int_equal(policy("on-failure:4").max_retries, 4);
    struct orch_policy p;
    assert_int_equal(orch__policy_parse("sometimes", &p), CC_EINVAL);
    assert_int_equal(orch__policy_parse("on-failure:x", &p), CC_EINVAL);
    assert_int_equal(orch__policy_parse("on-failure:-1", &p), CC_EINVAL);
}

static void test_policies(void **state)
{
    (void)state;
    struct orch_sup s;
    orch__sup_init(&s, 5);
    struct orch_policy no = policy("no"), always = policy("always"),
                       onf = policy("on-failure"), us = policy("unless-stopped");
    assert_int_equal(orch__sup_on_exit(&s, &cfg, &no, 1, false, 1, 100).action, ORCH_SUP_NONE);
    assert_int_equal(orch__sup_on_exit(&s, &cfg, &onf, 0, false, 1, 100).action, ORCH_SUP_NONE);
    assert_int_equal(orch__sup_on_exit(&s, &cfg, &onf, 3, false, 1, 100).action,
                     ORCH_SUP_RESTART);
    assert_int_equal(orch__sup_on_exit(&s, &cfg, &always, 0, false, 1, 100).action,
                     ORCH_SUP_RESTART);
    orch__sup_reset(&s);
    /* down or an operator stop never restarts, whatever the policy */
    struct orch_sup_decision d = orch__sup_on_exit(&s, &cfg, &always, 143, true, 1, 100);
    assert_int_equal(d.action, ORCH_SUP_NONE);
    assert_non_null(strstr(d.why, "operator"));
    assert_int_equal(orch__sup_on_exit(&s, &cfg, &us, 143, true, 1, 100).action, ORCH_SUP_NONE);
    assert_int_equal(orch__sup_on_exit(&s, &cfg, &us, 1, false, 1, 100).action,
                     ORCH_SUP_RESTART);
    orch__sup_release(&s);
}

static void test_on_failure_limit(void **state)
{
    (void)state;
    struct orch_sup s;
    orch__sup_init(&s, 100);
    struct orch_policy p = policy("on-failure:2");
    struct orch_sup_cfg c = cfg;
    c.breaker_restarts = 100;
    assert_int_equal(orch__sup_on_exit(&s, &c, &p, 1, false, 1, 10).action, ORCH_SUP_RESTART);
    assert_int_equal(orch__sup_on_exit(&s, &c, &p, 1, false, 1, 20).action, ORCH_SUP_RESTART);
    struct orch_sup_decision d = orch__sup_on_exit(&s, &c, &p, 1, false, 1, 30);
    assert_int_equal(d.action, ORCH_SUP_NONE);
    assert_non_null(strstr(d.why, "on-failure:2"));
    orch__sup_reset(&s);   /* an operator restart gives it its retries back */
    assert_int_equal(orch__sup_on_exit(&s, &c, &p, 1, false, 1, 40).action, ORCH_SUP_RESTART);
    orch__sup_release(&s);
}

static void test_backoff_sequence_and_reset(void **state)
{
    (void)state;
    struct orch_sup s;
    orch__sup_init(&s, 100);
    struct orch_policy p = policy("always");
    struct orch_sup_cfg c = cfg;
    c.breaker_restarts = 100;
    const int64_t want[] = {1000, 2000, 4000, 8000, 8000, 8000};
    int64_t now = 1000;
    for (size_t i = 0; i < 6; i++) {
        struct orch_sup_decision d = orch__sup_on_exit(&s, &c, &p, 1, false, now - 10, now);
        assert_int_equal(d.action, ORCH_SUP_RESTART);
        assert_int_equal(d.delay_ms, want[i]);
        now += d.delay_ms + 10;
    }
    /* ran longer than restart_stable: back to 1 s */
    struct orch_sup_decision d = orch__sup_on_exit(&s, &c, &p, 1, false, now, now + 60000);
    assert_int_equal(d.delay_ms, 1000);
    /* with jitter: never longer than the base, never shorter than (1-j) of it */
    c.jitter = 0.5;
    orch__sup_reset(&s);
    for (unsigned n = 0; n < 200; n++) {
        orch__sup_reset(&s);
        s.attempt = 2;   /* the next is the third: base 4 s */
        d = orch__sup_on_exit(&s, &c, &p, 1, false, 1, 2);
        assert_true(d.delay_ms <= 4000 && d.delay_ms >= 2000);
    }
    orch__sup_release(&s);
}

static void test_breaker(void **state)
{
    (void)state;
    struct orch_sup s;
    struct orch_sup_cfg c = cfg;
    c.breaker_restarts = 3;
    c.breaker_window_ms = 10000;
    orch__sup_init(&s, c.breaker_restarts);
    struct orch_policy p = policy("always");
    for (int i = 0; i < 3; i++)
        assert_int_equal(orch__sup_on_exit(&s, &c, &p, 1, false, 1, 1000 + i * 100).action,
                         ORCH_SUP_RESTART);
    struct orch_sup_decision d = orch__sup_on_exit(&s, &c, &p, 1, false, 1, 1400);
    assert_int_equal(d.action, ORCH_SUP_FAIL);
    assert_true(s.failed);
    /* open until reset: later exits, even long after the window, do nothing */
    assert_int_equal(orch__sup_on_exit(&s, &c, &p, 1, false, 1, 900000).action, ORCH_SUP_NONE);
    assert_false(orch__sup_on_probe(&s, &(struct orch_unhealthy_cfg){.enabled = true,
                                                                      .limit = 1},
                                    false, true, 0, 900000));
    orch__sup_reset(&s);
    assert_false(s.failed);
    assert_int_equal(orch__sup_on_exit(&s, &c, &p, 1, false, 1, 900100).action,
                     ORCH_SUP_RESTART);
    /* restarts spread wider than the window never trip it */
    orch__sup_reset(&s);
    for (int i = 0; i < 10; i++)
        assert_int_equal(orch__sup_on_exit(&s, &c, &p, 1, false, 1, 1000000 + i * 5000).action,
                         ORCH_SUP_RESTART);
    orch__sup_release(&s);
}

static void test_restart_on_unhealthy(void **state)
{
    (void)state;
    struct orch_sup s;
    orch__sup_init(&s, 5);
    struct orch_unhealthy_cfg u = {.enabled = true, .limit = 3, .grace_ms = 10000,
                                   .start_period_ms = 5000};
    /* inside start_period + grace: not acted on */
    for (int i = 0; i < 5; i++)
        assert_false(orch__sup_on_probe(&s, &u, false, true, 0, 14000));
    assert_false(orch__sup_on_probe(&s, &u, false, true, 0, 15000));
    assert_false(orch__sup_on_probe(&s, &u, false, true, 0, 16000));
    /* a success in between starts the count again */
    assert_false(orch__sup_on_probe(&s, &u, true, false, 0, 17000));
    assert_false(orch__sup_on_probe(&s, &u, false, true, 0, 18000));
    assert_false(orch__sup_on_probe(&s, &u, false, true, 0, 19000));
    assert_true(orch__sup_on_probe(&s, &u, false, true, 0, 20000));
    /* failures before the probe says unhealthy (retries) do not count */
    assert_false(orch__sup_on_probe(&s, &u, false, false, 0, 21000));
    u.enabled = false;
    for (int i = 0; i < 5; i++)
        assert_false(orch__sup_on_probe(&s, &u, false, true, 0, 30000 + i));
    struct orch_sup_decision d = orch__sup_on_restart_unhealthy(&s, &cfg, 0, 40000);
    assert_int_equal(d.action, ORCH_SUP_RESTART);
    assert_int_equal(d.delay_ms, 1000);
    orch__sup_release(&s);
}

/* ---- the lifecycle table ---- */

static void expect(enum orch_state st, enum orch_event ev, enum orch_state next,
                   enum orch_action act)
{
    struct orch_transition t = orch__sup_step(st, ev);
    if (t.next != next || t.action != act)
        print_error("%s + %s -> %s (action %d), wanted %s (action %d)\n", orch__state_name(st),
                    orch__event_name(ev), orch__state_name(t.next), (int)t.action,
                    orch__state_name(next), (int)act);
    assert_int_equal(t.next, next);
    assert_int_equal(t.action, act);
}

/* The life of a service as the engine tests see it, one row at a time. */
static void test_table_walk(void **state)
{
    (void)state;
    expect(ORCH_S_PENDING, ORCH_E_DEPS_READY, ORCH_S_STARTING, ORCH_A_START);
    expect(ORCH_S_STARTING, ORCH_E_START_OK, ORCH_S_UP, ORCH_A_STARTED);
    expect(ORCH_S_UP, ORCH_E_EXIT_RESTART, ORCH_S_BACKOFF, ORCH_A_SCHEDULE);
    expect(ORCH_S_BACKOFF, ORCH_E_BACKOFF_DUE, ORCH_S_RESTARTING, ORCH_A_START);
    expect(ORCH_S_RESTARTING, ORCH_E_START_OK, ORCH_S_UP, ORCH_A_RESTARTED);
    /* restart on unhealthy stops it; the exit is then decided as any other */
    expect(ORCH_S_UP, ORCH_E_UNHEALTHY, ORCH_S_UP, ORCH_A_STOP);
    expect(ORCH_S_UP, ORCH_E_EXIT_BREAKER, ORCH_S_FAILED, ORCH_A_FAIL);
    /* failed stays failed until an operator (or an up) acts */
    expect(ORCH_S_FAILED, ORCH_E_BACKOFF_DUE, ORCH_S_FAILED, ORCH_A_IGNORE);
    expect(ORCH_S_FAILED, ORCH_E_RESTART, ORCH_S_RESTARTING, ORCH_A_START);
    expect(ORCH_S_UP, ORCH_E_RESTART, ORCH_S_RESTARTING, ORCH_A_RESTART);
    expect(ORCH_S_UP, ORCH_E_EXIT, ORCH_S_EXITED, ORCH_A_NONE);
    expect(ORCH_S_EXITED, ORCH_E_DOWN, ORCH_S_STOPPED, ORCH_A_REMOVE);
    expect(ORCH_S_STOPPED, ORCH_E_UP_AGAIN, ORCH_S_PENDING, ORCH_A_REPLAN);
    /* a dependency that gives up, a refused spec, a project that cannot be prepared */
    expect(ORCH_S_PENDING, ORCH_E_DEPS_BLOCKED, ORCH_S_FAILED, ORCH_A_FAIL);
    expect(ORCH_S_STARTING, ORCH_E_START_FAILED, ORCH_S_FAILED, ORCH_A_FAIL);
    expect(ORCH_S_PENDING, ORCH_E_PREPARE_FAILED, ORCH_S_FAILED, ORCH_A_FAIL);
    /* the engine unreachable during a start: tried again later, status kept */
    expect(ORCH_S_STARTING, ORCH_E_START_AGAIN, ORCH_S_PENDING, ORCH_A_RETRY);
    expect(ORCH_S_RESTARTING, ORCH_E_START_AGAIN, ORCH_S_BACKOFF, ORCH_A_RETRY);
    /* re-adoption and reconcile */
    expect(ORCH_S_PENDING, ORCH_E_ADOPT_RUNNING, ORCH_S_UP, ORCH_A_ADOPT);
    expect(ORCH_S_PENDING, ORCH_E_ADOPT_DONE, ORCH_S_EXITED, ORCH_A_NONE);
    expect(ORCH_S_UP, ORCH_E_ADOPT_RUNNING, ORCH_S_UP, ORCH_A_IGNORE);
    expect(ORCH_S_UP, ORCH_E_RECONFIG, ORCH_S_PENDING, ORCH_A_RECREATE);
    expect(ORCH_S_FAILED, ORCH_E_RECONFIG, ORCH_S_PENDING, ORCH_A_REPLAN);
    expect(ORCH_S_UP, ORCH_E_UP_AGAIN, ORCH_S_UP, ORCH_A_IGNORE);
    expect(ORCH_S_EXITED, ORCH_E_UP_AGAIN, ORCH_S_EXITED, ORCH_A_IGNORE);   /* one-shot done */
    expect(ORCH_S_FAILED, ORCH_E_UP_AGAIN, ORCH_S_PENDING, ORCH_A_REPLAN);
    expect(ORCH_S_FAILED, ORCH_E_REPLAN, ORCH_S_PENDING, ORCH_A_REPLAN);
    /* down never restarts: once stopped, only an up brings it back */
    expect(ORCH_S_STOPPED, ORCH_E_EXIT_RESTART, ORCH_S_STOPPED, ORCH_A_IGNORE);
    expect(ORCH_S_STOPPED, ORCH_E_RESTART, ORCH_S_STOPPED, ORCH_A_IGNORE);
    /* out of range: ignored */
    expect((enum orch_state)99, ORCH_E_DOWN, (enum orch_state)99, ORCH_A_IGNORE);
    expect(ORCH_S_UP, (enum orch_event)99, ORCH_S_UP, ORCH_A_IGNORE);
}

/* Properties of the whole table, checked on every state x event pair. */
static void test_table_properties(void **state)
{
    (void)state;
    bool reached[ORCH_STATE_COUNT] = {[ORCH_S_PENDING] = true};
    for (int round = 0; round < ORCH_STATE_COUNT; round++)
        for (int st = 0; st < ORCH_STATE_COUNT; st++)
            for (int ev = 0; ev < ORCH_EVENT_COUNT && reached[st]; ev++)
                reached[orch__sup_step(st, ev).next] = true;
    for (int st = 0; st < ORCH_STATE_COUNT; st++) {
        assert_true(reached[st]);   /* every state can be reached from pending */
        assert_string_not_equal(orch__state_name(st), "?");
        for (int ev = 0; ev < ORCH_EVENT_COUNT; ev++) {
            struct orch_transition t = orch__sup_step(st, ev);
            assert_string_not_equal(orch__event_name(ev), "?");
            if (t.action == ORCH_A_IGNORE)
                assert_int_equal(t.next, st);
            /* a start always goes through starting or restarting, then up */
            if (t.action == ORCH_A_START || t.action == ORCH_A_RESTART)
                assert_true(t.next == ORCH_S_STARTING || t.next == ORCH_S_RESTARTING);
            if (t.action == ORCH_A_STARTED || t.action == ORCH_A_RESTARTED)
                assert_int_equal(t.next, ORCH_S_UP);
            /* down stops everything that is not stopped, and nothing else stops */
            if (ev == ORCH_E_DOWN)
                assert_int_equal(t.next, ORCH_S_STOPPED);
            if (t.next == ORCH_S_STOPPED && st != ORCH_S_STOPPED)
                assert_int_equal(ev, ORCH_E_DOWN);
            /* failed and stopped are left only when an operator or an up says so */
            if ((st == ORCH_S_FAILED || st == ORCH_S_STOPPED) && t.action != ORCH_A_IGNORE)
                assert_true(ev == ORCH_E_RESTART || ev == ORCH_E_REPLAN ||
                            ev == ORCH_E_UP_AGAIN || ev == ORCH_E_RECONFIG ||
                            ev == ORCH_E_DOWN);
            /* a start result means something only while a start is under way */
            if (ev == ORCH_E_START_OK || ev == ORCH_E_START_AGAIN || ev == ORCH_E_START_FAILED)
                assert_true(t.action == ORCH_A_IGNORE || st == ORCH_S_STARTING ||
                            st == ORCH_S_RESTARTING);
            /* exits and probes matter only for a running instance */
            if (ev == ORCH_E_EXIT || ev == ORCH_E_EXIT_RESTART || ev == ORCH_E_EXIT_BREAKER ||
                ev == ORCH_E_UNHEALTHY)
                assert_true(t.action == ORCH_A_IGNORE || st == ORCH_S_UP);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_parse),
        cmocka_unit_test(test_policies),
        cmocka_unit_test(test_on_failure_limit),
        cmocka_unit_test(test_backoff_sequence_and_reset),
        cmocka_unit_test(test_breaker),
        cmocka_unit_test(test_restart_on_unhealthy),
        cmocka_unit_test(test_table_walk),
        cmocka_unit_test(test_table_properties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
