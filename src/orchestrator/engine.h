/*
 * engine.h - projects, their plan, probes and supervisor.
 *
 * The engine is what the orchestration API calls. It keeps the registered
 * projects (persisted in the store: name, compose path, normalized spec,
 * desired state), starts them in dependency order with maximal parallelism,
 * runs the health probes itself, and supervises every service: restart
 * policies, restart on unhealthy, backoff, and a breaker that marks a
 * service `failed`. Every state change goes out through cfg.on_event.
 *
 * Threads: one supervisor thread per project that is up (it runs that
 * project's plan, probes and restarts, waking when something is posted,
 * when the next probe or restart is due, and at least every 500 ms), plus
 * the caller's. Every function here is safe to call from any thread; none
 * blocks on a service for long except orch_engine_logs (which is meant for
 * a streaming thread).
 *
 * A daemon restart: orch_engine_create loads the projects from the store;
 * those whose desired state is up are re-adopted (driver list + config hash)
 * without restarting what is running, and supervised again.
 */
#ifndef CC_ORCHESTRATOR_ENGINE_H
#define CC_ORCHESTRATOR_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/diag.h"
#include "core/err.h"
#include "orchestrator/driver.h"

struct cc_ctx;

/* Service states (the `status` of health and ps). */
#define ORCH_ST_CREATED   "created"
#define ORCH_ST_STARTING  "starting"   /* running, probe not yet passed (start_period) */
#define ORCH_ST_RUNNING   "running"    /* running, no probe */
#define ORCH_ST_HEALTHY   "healthy"
#define ORCH_ST_UNHEALTHY "unhealthy"
#define ORCH_ST_EXITED    "exited"     /* exited; completed when the code is 0 */
#define ORCH_ST_RESTARTING "restarting"/* waiting out its backoff */
#define ORCH_ST_FAILED    "failed"     /* breaker open: left alone until restart */
#define ORCH_ST_STOPPED   "stopped"    /* by down */

/* Event kinds (SPEC 3, "Events"); message says why. */
typedef void (*orch_event_fn)(void *arg, const char *kind, const char *project,
                              const char *service, const char *message);

struct orch_engine_cfg {
    const struct cc_ctx *ctx;        /* log, clock, config (orchestrator.*), store */
    const char *state_dir;           /* <data_dir>/orchestrator */
    const char *self_exe;            /* for the process driver's shim */
    orch_event_fn on_event;          /* "service.started", "service.healthy", ... */
    void *event_arg;
    /* The driver registry, NULL-terminated, in `auto`'s order of
     * preference; NULL = orch_drivers (driver.h). Tests pass fakes. */
    const struct orch_driver_ops *const *drivers;
};

struct orch_engine;

/* The most bytes of a project's variables (the JSON of env_json). */
#define ORCH_ENV_MAX (64 * 1024)

cc_err orch_engine_create(const struct orch_engine_cfg *cfg, struct orch_engine **out,
                          struct orch_err *e);
/* Stops supervising (threads joined); leaves services running so a restarted
 * daemon re-adopts them. NULL-safe. */
void orch_engine_destroy(struct orch_engine *eng);

/* Registers a project from a compose file (parsed and validated now; its
 * warnings are returned in *warnings, a JSON array, when not NULL). name
 * NULL: the file's `name`, else its directory's name; the name chosen is
 * copied to name_out (may be NULL). env_json (may be NULL): the caller's
 * variables, {"NAME": "value"}, which the file's ${NAME} take before the
 * project's .env (as Compose reads the shell first); kept with the project,
 * so a restarted daemon loads the same stack. CC_ECONFLICT if a project of
 * that name exists; CC_EINVAL with d filled for a bad file or in e for bad
 * variables. */
cc_err orch_engine_register(struct orch_engine *eng, const char *name, const char *compose_path,
                            const char *env_json, json_t **warnings, char *name_out, size_t name_outsz,
                            struct cc_diag *d, struct orch_err *e);
/* Forgets a project; CC_ESTATE unless it is down. */
cc_err orch_engine_unregister(struct orch_engine *eng, const char *name, struct orch_err *e);

/* Starts the project (re-reading its compose file) and returns at once;
 * progress shows in health and events. Already up: reconciles (starts what
 * is missing, recreates what changed). env_json: new variables for the
 * project (replacing the kept ones once the file loads with them), or NULL
 * to keep them. CC_ENOTFOUND unknown project. */
cc_err orch_engine_up(struct orch_engine *eng, const char *name, const char *env_json,
                      struct orch_err *e);
/* Stops services in reverse dependency order with their grace periods,
 * removes them and the project's networks; waits for it. */
cc_err orch_engine_down(struct orch_engine *eng, const char *name, struct orch_err *e);
/* Restarts one service now and closes its breaker. */
cc_err orch_engine_restart(struct orch_engine *eng, const char *name, const char *service,
                           struct orch_err *e);

/* JSON views, each a new reference in *out:
 *  list:      [{name, compose_path, driver, state, services, healthy, created_at}]
 *  project:   {name, compose_path, driver, state, services:[...ps rows]}
 *  ps:        [{service, status, instance, exit_code, restarts, started_at, ports}]
 *  health:    SPEC 2.2: {overall_healthy, ready, services:{NAME:{healthy, status,
 *             message, failing_streak, checked_at, last_outputs:[...]}}, timestamp}
 *             (ready: every service running or healthy, one-shots done; the
 *             CLI's `up --wait` polls it)
 *  resources: {services:{NAME:{limits:{cpus,memory,pids}, usage:{cpu_percent,
 *             memory_bytes, memory_limit, pids, pids_limit}, enforced}}} */
cc_err orch_engine_list(struct orch_engine *eng, json_t **out);
cc_err orch_engine_project(struct orch_engine *eng, const char *name, json_t **out);
cc_err orch_engine_ps(struct orch_engine *eng, const char *name, json_t **out);
cc_err orch_engine_health(struct orch_engine *eng, const char *name, json_t **out);
cc_err orch_engine_resources(struct orch_engine *eng, const char *name, json_t **out,
                             struct orch_err *e);

/* CC_OK when the driver of the project (of service, when not NULL) may be
 * called now; CC_EUPSTREAM with "engine unavailable" and a hint while its
 * breaker is open, so a stream can answer 503 before it starts.
 * CC_ENOTFOUND unknown project. Never calls the driver. */
cc_err orch_engine_reachable(struct orch_engine *eng, const char *name, const char *service,
                             struct orch_err *e);

/* Log lines of one service. With q->follow it keeps following across
 * restarts (waiting for the next instance start) until q->cancel is set or
 * cb returns false. CC_ENOTFOUND unknown project or service. */
cc_err orch_engine_logs(struct orch_engine *eng, const char *name, const char *service,
                        const struct orch_log_query *q, orch_log_cb cb, void *arg,
                        struct orch_err *e);

#endif
