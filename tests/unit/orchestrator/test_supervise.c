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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_parse),
        cmocka_unit_test(test_policies),
        cmocka_unit_test(test_on_failure_limit),
        cmocka_unit_test(test_backoff_sequence_and_reset),
        cmocka_unit_test(test_breaker),
        cmocka_unit_test(test_restart_on_unhealthy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
