/*
 * test_driver.c - the driver registry (auto's order of preference, lookup
 * by name, the only place a driver is chosen by its name) and the exec
 * output both drivers keep.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "orchestrator/driver.h"

static void test_registry(void **state)
{
    (void)state;
    /* auto prefers docker, then falls back to process */
    assert_ptr_equal(orch_drivers[0], &orch_docker_ops);
    assert_ptr_equal(orch_drivers[1], &orch_process_ops);
    assert_null(orch_drivers[2]);
    assert_ptr_equal(orch_driver_find(orch_drivers, "docker"), &orch_docker_ops);
    assert_ptr_equal(orch_driver_find(orch_drivers, "process"), &orch_process_ops);
    assert_null(orch_driver_find(orch_drivers, ORCH_DRIVER_AUTO));   /* not a driver */
    assert_null(orch_driver_find(orch_drivers, "podman"));
    assert_null(orch_driver_find(orch_drivers, NULL));
    assert_null(orch_driver_find(NULL, "docker"));
    const struct orch_driver_ops *const only[] = {&orch_process_ops, NULL};
    assert_null(orch_driver_find(only, "docker"));
}

static void test_exec_keeps_the_tail(void **state)
{
    (void)state;
    struct orch_exec_result r = {0};
    orch_exec_keep_tail(&r, "hello ", 6);
    orch_exec_keep_tail(&r, "world", 5);
    assert_string_equal(r.output, "hello world");
    assert_int_equal(r.len, 11);
    char big[ORCH_EXEC_OUTPUT_MAX + 10];
    memset(big, 'x', sizeof(big));
    big[sizeof(big) - 1] = 'E';
    orch_exec_keep_tail(&r, big, sizeof(big));
    assert_int_equal(r.len, ORCH_EXEC_OUTPUT_MAX - 1);
    assert_int_equal(r.output[r.len - 1], 'E');
    assert_int_equal(r.output[r.len], '\0');
    orch_exec_keep_tail(&r, "!", 1);   /* the oldest byte goes */
    assert_int_equal(r.len, ORCH_EXEC_OUTPUT_MAX - 1);
    assert_string_equal(r.output + r.len - 2, "E!");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_exec_keeps_the_tail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
