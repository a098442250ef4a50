/*
 * engine_int.h - the engine's inner structs, shared by engine.c (threads,
 * lifecycle, driver calls) and engine_json.c (the JSON views).
 *
 * Locking: eng->mu guards the project list and the driver slots; each
 * project's mu guards everything in the project and its services. Lock
 * order: eng->mu before p->mu, never the other way round. p->op_mu
 * serializes the lifecycle calls (up, down, unregister) of one project and
 * is taken before p->mu. Nobody sleeps or calls a driver while holding
 * eng->mu or p->mu: the supervisor unlocks p->mu around every driver call,
 * which is safe because it is the only thread that changes a service's
 * run state (API calls only post requests, probe threads only record
 * results for the instance generation they probed).
 */
#ifndef CC_ORCHESTRATOR_ENGINE_INT_H
#define CC_ORCHESTRATOR_ENGINE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/breaker.h"
#include "core/sha256.h"
#include "orchestrator/engine.h"
#include "orchestrator/probe.h"
#include "orchestrator/supervise.h"

struct cc_clock;
struct obs_family;

/* One driver, opened lazily, shared by every project that uses it. The
 * breaker turns a dead engine into a fast "engine unavailable". */
struct orch__slot {
    const struct orch_driver_ops *ops;
    struct orch_driver *drv;
    struct cc_breaker br;
    pthread_mutex_t err_mu;    /* guards last_err (drivers are called from many threads) */
    char last_err[256];
};

enum orch__phase {
    ORCH__PENDING,    /* waiting for its dependencies (or to be created) */
    ORCH__UP,         /* running */
    ORCH__EXITED,     /* exited for good */
    ORCH__BACKOFF,    /* exited, restart due at restart_at */
    ORCH__FAILED,     /* breaker open, given up, or refused by the driver */
    ORCH__STOPPED,    /* by down */
};

struct orch__svc {
    char name[128];
    const struct orch_service *def;     /* into the project's stack */
    struct orch_svc_opts opts;
    struct orch_policy policy;
    char hash[CC_SHA256_HEX_LEN];
    struct orch_resources limits;
    struct orch__slot *slot;

    char inst[160];
    bool have_inst;
    enum orch__phase phase;
    char message[512];
    int exit_code;
    bool oom;
    int64_t started_mono, first_started_mono, started_wall;
    int64_t restart_at;                 /* BACKOFF */
    int64_t retry_at;                   /* after a transient driver error */
    unsigned drv_failures;
    unsigned restarts;
    struct orch_probe_state probe;
    unsigned gen;                       /* instance generation (per start) */
    bool probe_busy;
    unsigned probe_seq;                 /* of the probe in flight */
    struct orch_sup sup;
    bool restart_req;                   /* operator restart */
    bool unhealthy_req;                 /* restart on unhealthy */
    bool recreate;                      /* config hash changed */
    bool restarting;                    /* the next start is a restart */
    int64_t next_inspect;
};

#define ORCH__EVQ_MAX 256
struct orch__event {
    char kind[40];
    char service[128];
    char message[512];
};

struct orch__project {
    struct orch_engine *eng;
    unsigned refs;                      /* under eng->mu */
    bool removed;
    int64_t id, created_ms;
    char name[128];
    char *compose_path;
    char want_driver[16];               /* auto | docker | process */
    struct orch__slot *slot;            /* NULL until resolved */

    pthread_mutex_t op_mu;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool up;                            /* desired state */
    struct orch_stack *stack;
    struct orch__svc *svcs;
    size_t nsvcs;
    /* an `up` of a running project hands the new spec over here */
    struct orch_stack *next_stack;
    struct orch__svc *next_svcs;
    size_t next_n;
    bool reconcile;

    pthread_t thr;
    bool thr_running;
    bool stop_thread;                   /* destroy: leave services running */
    bool down_req;                      /* down: stop everything, then exit */
    bool adopted;
    bool prepared;
    int64_t prepare_retry_at;
    unsigned prepare_failures;
    unsigned probes_inflight;
    unsigned gen_seq;

    pthread_mutex_t ev_mu;              /* keeps events in order */
    struct orch__event *evq;
    unsigned ev_head, ev_n;
    uint64_t ev_dropped;
};

struct orch_engine {
    struct orch_engine_cfg cfg;
    const struct cc_ctx *ctx;
    struct cc_clock *clock;
    const struct cc_config *conf;
    char *state_dir, *self_exe;
    pthread_mutex_t mu;
    struct orch__project **projects;
    size_t nprojects, cap;
    struct orch__slot docker, process;
    struct obs_family *events_total;
    struct orch__metrics *metrics;   /* engine_metrics.c; NULL without a registry */
};

/* engine_metrics.c: per-service gauges (health at scrape, usage sampled). */
struct obs_registry;
struct orch__metrics *orch__metrics_start(struct orch_engine *eng, struct obs_registry *r);
void orch__metrics_stop(struct orch__metrics *m);   /* NULL-safe */

/* engine_json.c */
const char *orch__svc_status(const struct orch__svc *s);
bool orch__svc_ready(const struct orch__svc *s);
json_t *orch__ps_row(const struct orch__svc *s);
json_t *orch__health_json(const struct orch__project *p, int64_t wall_ms);
const char *orch__project_state(const struct orch__project *p);

#endif
