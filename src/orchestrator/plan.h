/*
 * plan.h - the dependency graph: which service may start now, and the
 * order to stop them.
 *
 * compose.c has already rejected unknown services and cycles (naming the
 * cycle), so the graph here is a DAG over stack->services by index. The
 * supervisor asks orch__plan_check for every service not yet started on
 * each tick and starts every one that answers GO at once: independent
 * services start in parallel, nothing is serialized that need not be.
 *
 * A dependency's condition:
 *   service_started                 it has been started (running or not);
 *   service_healthy                 its probe passed (no probe: running);
 *   service_completed_successfully  it exited with code 0.
 * It blocks the dependant for good when the dependency failed, exited
 * non-zero where completion was asked, or did not meet the condition
 * within its start timeout after it started; with `required: false` a
 * blocked dependency is skipped instead.
 */
#ifndef CC_ORCHESTRATOR_PLAN_H
#define CC_ORCHESTRATOR_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "orchestrator/compose.h"

/* What the supervisor knows of one service, indexed like stack->services. */
struct orch_plan_state {
    bool started;              /* started at least once since `up` */
    bool running;
    bool healthy;              /* probe passed */
    bool has_probe;
    bool exited;
    int exit_code;
    bool failed;               /* breaker open, given up, or could not be created */
    int64_t started_ms;        /* mono of the first start */
    int64_t start_timeout_ms;
    const char *last_output;   /* newest probe output; may be NULL */
};

enum orch_ready { ORCH_READY_WAIT, ORCH_READY_GO, ORCH_READY_BLOCKED };

/* May service i start at now_ms? BLOCKED and WAIT say why in why. */
enum orch_ready orch__plan_check(const struct orch_stack *st, size_t i,
                                 const struct orch_plan_state *states, int64_t now_ms,
                                 char *why, size_t whysz);

/* order[0..n) = service indexes, every dependency before its dependants
 * (ties in file order). Stop in the reverse of it. */
void orch__plan_order(const struct orch_stack *st, size_t *order);

const char *orch__condition_str(enum orch_condition c);

#endif
