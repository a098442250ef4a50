/*
 * driver.h - what runs a service: the interface every driver implements.
 *
 * Two drivers, listed in orch_drivers[] (driver.c): "docker" (the Docker
 * Engine API, or Podman's compatible socket; docker.c) and "process"
 * (supervised local processes; process.c).
 * The engine (engine.c) owns the plan, the probes and the supervisor and
 * talks to drivers only through this table, so every behaviour above the
 * driver (health gating, restart policies, backoff, breaker, events) is the
 * same on both.
 *
 * The model: one *instance* per service (no replicas). An instance is what
 * the driver created for the service: a container, or a process tree run by
 * a shim. It carries the labels project, service and config hash, so a
 * restarted daemon finds (list) and re-adopts what is running instead of
 * recreating it; a changed config hash means "recreate".
 *
 * Restarts are ours, not the engine's: instances are created with no engine
 * restart policy, and the supervisor calls start() again on the same
 * instance (as `docker compose restart` does), so logs continue in place.
 *
 * Rules every driver keeps:
 *   - Safe to call from any thread at once.
 *   - Records passed out through callbacks are valid only during the call.
 *   - Errors: CC_ENOTFOUND unknown instance/image; CC_EUPSTREAM the engine
 *     cannot be reached or failed transiently (connection refused, timeout,
 *     5xx) - worth retrying; CC_EINVAL the engine refused the spec (4xx) -
 *     permanent; CC_ECONFLICT name or port already taken; CC_EUNSUPPORTED
 *     the driver cannot do this. On error, `struct orch_err` (when given)
 *     says what happened and what to do, in words for an operator.
 */
#ifndef CC_ORCHESTRATOR_DRIVER_H
#define CC_ORCHESTRATOR_DRIVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "orchestrator/compose.h"

struct cc_log;

/* Labels every instance carries (docker: container labels; process: the
 * shim's state file). The first two match Compose's, so `docker ps
 * --filter label=com.docker.compose.project=X` shows our containers too. */
#define ORCH_LABEL_PROJECT "com.docker.compose.project"
#define ORCH_LABEL_SERVICE "com.docker.compose.service"
#define ORCH_LABEL_HASH    "io.commandcenter.config-hash"
#define ORCH_LABEL_MANAGED "io.commandcenter.managed"    /* "true" */

struct orch_err {
    char msg[512];   /* what happened: "image \"web:1\" not found" */
    char hint[256];  /* what to do: "build it or pull it, then run up again" */
};

/* Sets e (NULL-safe); returns code so a caller can `return orch_errf(...)`. */
cc_err orch_errf(struct orch_err *e, cc_err code, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

struct orch_driver_cfg {
    const char *docker_host;   /* docker: unix:///path or tcp://127.0.0.1:port */
    const char *state_dir;     /* process: <data_dir>/orchestrator (logs, shims, secrets) */
    uint64_t log_max_bytes;    /* process: rotate a log file at this size */
    unsigned log_files;        /* process: files kept, the current one included */
    const char *self_exe;      /* process: this binary, to exec its shim */
    struct cc_log *log;        /* borrowed; may be NULL */
};

/* What to run: one service of one project, limits already defaulted. */
struct orch_spec {
    const char *project;
    const struct orch_stack *stack;
    const struct orch_service *svc;
    const char *config_hash;       /* hex SHA-256 of the service's normalized JSON */
    struct orch_resources limits;  /* < 0 / 0: none */
};

enum orch_run_state {
    ORCH_RUN_CREATED,   /* exists, never started */
    ORCH_RUN_RUNNING,
    ORCH_RUN_EXITED,    /* stopped or exited; exit_code/oom_killed say how */
};

struct orch_inst {
    const char *id;            /* the driver's handle: container id, "proc-<project>-<service>" */
    const char *project;
    const char *service;
    const char *config_hash;
    enum orch_run_state state;
    int exit_code;             /* EXITED: 0..255, 128+signal for a signal */
    bool oom_killed;
    int64_t started_ms;        /* last start; 0 = never */
    int64_t finished_ms;       /* last exit; 0 = not exited */
    int pid;                   /* main process on the host; 0 = unknown */
};
typedef void (*orch_inst_cb)(void *arg, const struct orch_inst *i);

enum orch_stream { ORCH_STDOUT = 1, ORCH_STDERR = 2 };

struct orch_log_line {
    enum orch_stream stream;
    int64_t ts_ns;             /* when it was written (Unix ns); 0 = unknown */
    const char *text;          /* one line without its newline; not NUL-terminated */
    size_t len;
};
/* Return false to stop (the call then returns CC_OK). */
typedef bool (*orch_log_cb)(void *arg, const struct orch_log_line *l);

struct orch_log_query {
    long tail;                 /* last N lines; < 0 = all */
    int64_t since_ns, until_ns;/* Unix ns; 0 = unbounded */
    bool follow;               /* keep reading until the instance stops or cancel */
    const atomic_bool *cancel; /* may be NULL; checked at least every 250 ms */
};

struct orch_usage {
    double cpu_percent;        /* like docker stats: share of one CPU x 100, so 2 CPUs busy = 200 */
    double cpu_seconds;        /* CPU time the instance used since it started (0 = unknown) */
    int64_t mem_bytes;         /* usage minus page cache (docker stats' rule) */
    int64_t mem_limit;         /* 0 = none */
    int64_t pids;
    int64_t pids_limit;        /* 0 = none */
    bool enforced;             /* false: limits were asked for but cannot be applied */
};

#define ORCH_EXEC_OUTPUT_MAX 4096
struct orch_exec_result {
    int exit_code;             /* -1 when it did not run to the end */
    bool timed_out;
    char output[ORCH_EXEC_OUTPUT_MAX]; /* stdout+stderr, the last bytes if longer; NUL-terminated */
    size_t len;
};

/* Appends n bytes of output to r, keeping the last ORCH_EXEC_OUTPUT_MAX - 1
 * (the end of a command's output says why it failed); NUL-terminated. */
void orch_exec_keep_tail(struct orch_exec_result *r, const char *p, size_t n);

/* A line of progress from a long operation (image build); may be NULL. */
typedef void (*orch_progress_cb)(void *arg, const char *line);

struct orch_driver;

struct orch_driver_ops {
    const char *name;          /* "docker" | "process" */
    cc_err (*open)(const struct orch_driver_cfg *cfg, struct orch_driver **out,
                   struct orch_err *e);
    void (*close)(struct orch_driver *d);        /* NULL-safe; leaves instances running */
    /* A cheap round trip: CC_OK when the engine answers (docker: /_ping). */
    cc_err (*ping)(struct orch_driver *d, struct orch_err *e);

    /* Creates what the stack's services share: networks (internal ones
     * included), named volumes, secrets; builds the images of services with
     * `build` (progress lines to cb). Idempotent. */
    cc_err (*prepare)(struct orch_driver *d, const char *project, const struct orch_stack *s,
                      orch_progress_cb cb, void *arg, struct orch_err *e);
    /* Removes the project's networks (not its volumes, as `compose down`). */
    cc_err (*teardown)(struct orch_driver *d, const char *project, const struct orch_stack *s,
                       struct orch_err *e);

    /* Creates the service's instance (not started); an existing one of the
     * same project/service is removed first. Reports it through cb. */
    cc_err (*create)(struct orch_driver *d, const struct orch_spec *spec, orch_inst_cb cb,
                     void *arg, struct orch_err *e);
    cc_err (*start)(struct orch_driver *d, const char *id, struct orch_err *e);
    /* SIGTERM (or the image's stop signal), grace_ns, then SIGKILL. */
    cc_err (*stop)(struct orch_driver *d, const char *id, int64_t grace_ns, struct orch_err *e);
    cc_err (*remove)(struct orch_driver *d, const char *id, struct orch_err *e);
    cc_err (*inspect)(struct orch_driver *d, const char *id, orch_inst_cb cb, void *arg,
                      struct orch_err *e);
    /* Every instance labelled with project (NULL: every managed instance). */
    cc_err (*list)(struct orch_driver *d, const char *project, orch_inst_cb cb, void *arg,
                   struct orch_err *e);

    /* Runs argv in the running instance (docker: exec API; process: fork/exec
     * with the service's user, environment and working dir). */
    cc_err (*exec)(struct orch_driver *d, const char *id, char *const argv[],
                   int64_t timeout_ns, struct orch_exec_result *out, struct orch_err *e);
    /* Log lines, oldest first, memory bounded whatever the log size. With
     * follow, returns when the instance stops, cancel is set or cb says stop. */
    cc_err (*logs)(struct orch_driver *d, const char *id, const struct orch_log_query *q,
                   orch_log_cb cb, void *arg, struct orch_err *e);
    cc_err (*stats)(struct orch_driver *d, const char *id, struct orch_usage *out,
                    struct orch_err *e);
    /* Where the daemon reaches the instance's container port `port` (HTTP
     * and TCP probes): docker: the container's address on one of its
     * networks; process: 127.0.0.1 and the same port. */
    cc_err (*endpoint)(struct orch_driver *d, const char *id, unsigned port, char *host,
                       size_t hostsz, unsigned *port_out, struct orch_err *e);
};

struct orch_driver {
    const struct orch_driver_ops *ops;
};

extern const struct orch_driver_ops orch_docker_ops;
extern const struct orch_driver_ops orch_process_ops;

/* The drivers built into the daemon, NULL-terminated, in the order `auto`
 * prefers them: the first whose engine answers its ping is taken (docker,
 * else process). A new driver is one file and one line here. */
#define ORCH_DRIVER_AUTO "auto"
extern const struct orch_driver_ops *const orch_drivers[];

/* The entry of reg (NULL-terminated) called name; NULL when none. The only
 * place a driver is chosen by its name. */
const struct orch_driver_ops *orch_driver_find(const struct orch_driver_ops *const *reg,
                                               const char *name);

#endif
