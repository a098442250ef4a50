/*
 * probe.h - health probes run by CommandCenter itself, and the per-service
 * settings under `x-commandcenter`.
 *
 * A probe is exec (argv run inside the instance through driver->exec: the
 * healthcheck's CMD as argv, CMD-SHELL as /bin/sh -c), HTTP (GET
 * host:port/path at driver->endpoint(), healthy when the status is in a
 * range) or TCP (a connect). Which one a service gets, first match wins:
 *   1. x-commandcenter.probe  (exec | http | tcp, with its own timings);
 *   2. the compose healthcheck (test; disable or ["NONE"] means no probe);
 *   3. the default of its role (service name, then image, containing
 *      postgres | redis | backend | frontend): pg_isready -U commandcenter,
 *      redis-cli ping, GET /health, GET / on the first container port;
 *   4. none: the service is "running" once started.
 *
 * The state machine is Compose's: status starts "starting"; during
 * start_period failures are not counted and the probe runs every
 * start_interval; a success ends the start period and makes it healthy;
 * `retries` failures in a row make it unhealthy. orch__probe_reset starts
 * it over on every (re)start. The last ORCH_PROBE_OUTPUTS results are kept.
 * Pure functions of (state, result, now) except orch__probe_run, which
 * performs one probe and blocks at most the probe's timeout (plus the
 * driver's own overhead for exec).
 */
#ifndef CC_ORCHESTRATOR_PROBE_H
#define CC_ORCHESTRATOR_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "orchestrator/compose.h"
#include "orchestrator/driver.h"
#include "orchestrator/supervise.h"

struct cc_config;

enum orch_probe_kind { ORCH_PROBE_NONE, ORCH_PROBE_EXEC, ORCH_PROBE_HTTP, ORCH_PROBE_TCP };

#define ORCH_PROBE_OUTPUTS 5
#define ORCH_PROBE_OUTPUT_MAX 256
#define ORCH_PROBE_ARGV_MAX 64

/* Compose's defaults. */
#define ORCH_PROBE_INTERVAL_MS       30000
#define ORCH_PROBE_TIMEOUT_MS        30000
#define ORCH_PROBE_RETRIES           3
#define ORCH_PROBE_START_INTERVAL_MS 5000

struct orch_probe_cfg {
    enum orch_probe_kind kind;
    char **argv;               /* EXEC: NULL-terminated, owned */
    unsigned port;             /* HTTP, TCP: the container port */
    char *path;                /* HTTP: "/health", owned */
    int status_lo, status_hi;  /* HTTP: healthy range, default 200-399 */
    int64_t interval_ms, timeout_ms, start_period_ms, start_interval_ms;
    unsigned retries;
    char source[40];           /* "healthcheck", "x-commandcenter", "default (postgres)" */
};

/* Everything x-commandcenter (and the defaults) says about one service. */
struct orch_svc_opts {
    struct orch_probe_cfg probe;
    struct orch_unhealthy_cfg unhealthy;
    int64_t start_timeout_ms;
    char driver[16];           /* "" = the project's */
    const char *role;          /* "postgres" ... or NULL; static */
};

/* The role of a service: name first, then image, containing one of
 * postgres, redis, backend, frontend. NULL for none. */
const char *orch__role(const struct orch_service *svc);

/* Reads svc's healthcheck and x-commandcenter over cfg's defaults. On a
 * bad value returns CC_EINVAL with err naming the service and key. */
cc_err orch__svc_opts(const struct orch_service *svc, const struct cc_config *cfg,
                      struct orch_svc_opts *out, char *err, size_t errsz);
void orch__svc_opts_release(struct orch_svc_opts *o);
/* Deep copy (for a probe run on another thread). */
void orch__probe_cfg_copy(struct orch_probe_cfg *dst, const struct orch_probe_cfg *src);
void orch__probe_cfg_release(struct orch_probe_cfg *c);

/* "200-399" or "200" -> range; CC_EINVAL otherwise. */
cc_err orch__status_range(const char *s, int *lo, int *hi);

/* ---- state machine ---- */

enum orch_hstatus { ORCH_HEALTH_STARTING, ORCH_HEALTH_HEALTHY, ORCH_HEALTH_UNHEALTHY };

struct orch_probe_output {
    int64_t at_ms;             /* wall */
    int code;                  /* exit code or HTTP status; -1 = did not complete */
    bool ok;
    char text[ORCH_PROBE_OUTPUT_MAX];
};

#define ORCH_PROBE_EARLY_MS 100   /* first early check after a start */

struct orch_probe_state {
    enum orch_hstatus status;
    unsigned failing_streak;
    bool start_done;           /* a success was seen: start_period is over */
    int64_t started_ms;        /* mono, of the instance start */
    int64_t next_ms;           /* mono, when the next probe is due */
    int64_t first_ms;          /* mono, the first probe Compose would run */
    int64_t early_gap_ms;      /* early checks before first_ms: 100 ms, doubling */
    int64_t checked_at_ms;     /* wall of the last result; 0 = none */
    struct orch_probe_output out[ORCH_PROBE_OUTPUTS];
    unsigned nout, head;       /* ring: head is the next slot written */
};

enum orch_probe_change { ORCH_PROBE_SAME, ORCH_PROBE_TO_HEALTHY, ORCH_PROBE_TO_UNHEALTHY };

void orch__probe_reset(struct orch_probe_state *st, const struct orch_probe_cfg *c,
                       int64_t now_ms);
/* Records one result; says whether the status changed. */
enum orch_probe_change orch__probe_record(struct orch_probe_state *st,
                                          const struct orch_probe_cfg *c, bool ok, int code,
                                          const char *text, int64_t now_ms, int64_t wall_ms);
/* The i-th newest output (0 = newest) or NULL. */
const struct orch_probe_output *orch__probe_output(const struct orch_probe_state *st,
                                                   unsigned i);
const char *orch__health_str(enum orch_hstatus h);

/* ---- running one probe ---- */

struct orch_probe_result {
    bool ok;
    int code;
    char text[ORCH_PROBE_OUTPUT_MAX];
};

/* Runs c against instance id. A probe that runs and fails is CC_OK with
 * r->ok false; a driver error (the engine unreachable) is returned as is,
 * with e filled, so the caller can tell "unhealthy" from "cannot tell". */
cc_err orch__probe_run(const struct orch_probe_cfg *c, const struct orch_driver_ops *ops,
                       struct orch_driver *d, const char *id, struct orch_probe_result *r,
                       struct orch_err *e);

/* HTTP GET and TCP connect against host:port, bounded by timeout_ms. */
void orch__probe_http(const char *host, unsigned port, const char *path, int lo, int hi,
                      int64_t timeout_ms, struct orch_probe_result *r);
void orch__probe_tcp(const char *host, unsigned port, int64_t timeout_ms,
                     struct orch_probe_result *r);

#endif
