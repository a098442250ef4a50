/*
 * engine_int.h - the engine's inner structs and the functions its files
 * share:
 *   engine.c          the public API (engine.h): projects, their lookup and
 *                     references, persistence, re-adoption at start-up
 *   engine_slot.c     driver slots: the registry lookup, `auto`, the breaker
 *   engine_spec.c     services of a compose stack: options, policy, limits,
 *                     config hash
 *   engine_sup.c      the supervisor thread: one pass (step) and the
 *                     lifecycle table's actions (supervise.h)
 *   engine_run.c      the supervisor's driver calls: start, stop, inspect,
 *                     probes, adoption, prepare, down
 *   engine_logs.c     log streams that follow across restarts
 *   engine_json.c     the JSON views;  engine_metrics.c  the gauges
 *
 * Locking: eng->mu guards the project list and the driver slots; each
 * project's mu guards everything in the project and its services. Lock
 * order: eng->mu before p->mu, never the other way round. p->op_mu
 * serializes the lifecycle calls (up, down, unregister) of one project and
 * is taken before p->mu. Nobody sleeps or calls a driver while holding
 * eng->mu or p->mu: the supervisor unlocks p->mu around every driver call,
 * which is safe because it is the only thread that changes a service's
 * state (API calls and probe threads only post events to it in `posted`;
 * probe threads record results for the instance generation they probed).
 */
#ifndef CC_ORCHESTRATOR_ENGINE_INT_H
#define CC_ORCHESTRATOR_ENGINE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/breaker.h"
#include "core/config.h"
#include "core/sha256.h"
#include "orchestrator/engine.h"
#include "orchestrator/probe.h"
#include "orchestrator/supervise.h"

struct cc_clock;
struct obs_family;

/* One driver of the registry, opened lazily, shared by every project that
 * uses it. The breaker turns a dead engine into a fast "engine
 * unavailable". */
struct orch__slot {
    const struct orch_driver_ops *ops;   /* set when opened (under eng->mu) */
    const struct orch_driver_ops *want;  /* the registry's entry */
    struct orch_driver *drv;
    struct cc_breaker br;
    pthread_mutex_t err_mu;    /* guards last_err (drivers are called from many threads) */
    char last_err[256];
};

#define ORCH__DRIVERS_MAX 8
/* compose's stop_grace_period when the file sets none */
#define ORCH__STOP_GRACE_NS 10000000000LL

/* Events other threads post to the supervisor (bits of orch__svc.posted). */
#define ORCH__POST_RESTART   (1u << 0)   /* operator restart */
#define ORCH__POST_UNHEALTHY (1u << 1)   /* restart on unhealthy */

struct orch__svc {
    char name[128];
    const struct orch_service *def;     /* into the project's stack */
    struct orch_svc_opts opts;
    struct orch_policy policy;
    char hash[CC_SHA256_HEX_LEN];
    struct orch_resources limits;
    struct orch__slot *slot;

    char inst[160];                     /* "" = none */
    char inst_hash[CC_SHA256_HEX_LEN];  /* its config: != hash means recreate it */
    enum orch_state state;              /* only orch__sup_apply changes it */
    unsigned posted;                    /* ORCH__POST_* */
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
    bool probe_busy;                    /* a probe thread runs (probe_seq) */
    unsigned probe_seq;                 /* of the probe in flight */
    struct orch_sup sup;
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
    char *env_json;                     /* the caller's variables ({"NAME": "v"}); NULL = none */
    char **envp;                        /* the same as "NAME=v" strings, NULL-terminated */
    char want_driver[16];               /* auto or a driver's name */
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
    char progress[256];        /* last line of an image build under way; "" = none */
    int64_t prepare_retry_at;
    unsigned prepare_failures;
    unsigned probes_inflight;
    bool kick;                          /* something came for the next pass to see */
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
    const struct cc_config *conf;       /* ctx's, else own_conf: never NULL */
    struct cc_config own_conf;          /* the defaults, without a ctx config */
    char *state_dir, *self_exe;
    pthread_mutex_t mu;
    struct orch__project **projects;
    size_t nprojects, cap;
    struct orch__slot slots[ORCH__DRIVERS_MAX];   /* parallel to the registry */
    size_t nslots;
    struct obs_family *events_total;
    struct orch__metrics *metrics;   /* engine_metrics.c; NULL without a registry */
};

/* engine.c */
struct cc_log *orch__log(const struct orch_engine *eng);
int64_t orch__now(const struct orch_engine *eng);        /* mono ms */
int64_t orch__now_wall(const struct orch_engine *eng);   /* Unix ms */
struct orch__project *orch__project_ref(struct orch_engine *eng, const char *name);
void orch__project_put(struct orch__project *p);
struct orch__svc *orch__svc_find(struct orch__project *p, const char *name);
void orch__emit(struct orch__project *p, const char *state, const char *service,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void orch__flush_events(struct orch__project *p);        /* without p->mu */

/* engine_slot.c */
void orch__slots_init(struct orch_engine *eng);
void orch__slots_release(struct orch_engine *eng);       /* closes the drivers */
bool orch__slot_allow(struct orch__slot *sl, struct orch_err *e);
void orch__slot_note(struct orch__slot *sl, cc_err err, const struct orch_err *e);
cc_err orch__slot_ping(struct orch__slot *sl, struct orch_err *e);
/* The slot of driver `name` (opened on first use); `auto`: the first of
 * the registry whose engine answers. */
cc_err orch__slot_resolve(struct orch_engine *eng, const char *name, struct orch__slot **out,
                          struct orch_err *e);
/* Without opening or pinging: `auto` is the registry's first. NULL unknown. */
struct orch__slot *orch__slot_lookup(struct orch_engine *eng, const char *name);
bool orch__driver_known(const struct orch_engine *eng, const char *name);  /* or auto */
/* CC_EUPSTREAM with "engine unavailable" while sl's breaker is open. */
cc_err orch__slot_unreachable(struct orch__slot *sl, struct orch_err *e);
/* Every service's slot: its own x-commandcenter.driver, else proj. */
cc_err orch__slots_assign(struct orch_engine *eng, struct orch__slot *proj,
                          struct orch__svc *v, size_t n, struct orch_err *e);
#define ORCH__UNAVAILABLE_HINT "start the container engine (or set " \
    "x-commandcenter.driver: process); CommandCenter retries by itself"

/* engine_spec.c */
void orch__svcs_free(struct orch__svc *v, size_t n);
const char *orch__stack_driver(const struct orch_stack *st);   /* NULL: not set */
/* Reads and validates a compose file into a stack and its services, with
 * envp ("NAME=value", NULL-terminated; may be NULL) as the environment its
 * variables come from before the project's .env. */
cc_err orch__spec_load(struct orch_engine *eng, const char *path, const char *name,
                       char *const *envp, struct orch_stack **st_out,
                       struct orch__svc **svcs_out, struct cc_diag *d, struct orch_err *e);
/* The caller's variables as JSON ({"NAME": "value"}, NULL or "" = none) ->
 * a NULL-terminated "NAME=value" array (*out NULL for none). CC_EINVAL
 * with why in e for a name that is not [A-Za-z_][A-Za-z0-9_]*, a value
 * that is not a string or holds a NUL, or more than ORCH_ENV_MAX bytes. */
cc_err orch__env_parse(const char *json, char ***out, struct orch_err *e);
void orch__env_free(char **envp);   /* NULL-safe */

/* engine_sup.c (p->mu held) */
cc_err orch__sup_thread_start(struct orch__project *p, struct orch_err *e);
void orch__sup_thread_join(struct orch__project *p);     /* without p->mu */
void orch__sup_down(struct orch__project *p);
/* Applies the table's transition for ev; false when s ignores ev (or a
 * driver call failed and it stays as it was). */
bool orch__sup_apply(struct orch__project *p, struct orch__svc *s, enum orch_event ev);

/* engine_run.c (p->mu held; released around driver calls) */
struct orch_sup_cfg orch__sup_cfg(const struct orch_engine *eng);
void orch__backoff_retry(struct orch__project *p, struct orch__svc *s, const char *what,
                         const struct orch_err *de);
void orch__start_many(struct orch__project *p, struct orch__svc **go, size_t n);
cc_err orch__stop_inst(struct orch__project *p, struct orch__svc *s, bool remove,
                       struct orch_err *de);
void orch__inspect(struct orch__project *p, struct orch__svc *s);
void orch__exited(struct orch__project *p, struct orch__svc *s, int code, bool oom);
void orch__started(struct orch__project *p, struct orch__svc *s);
void orch__launch_probe(struct orch__project *p, struct orch__svc *s);
bool orch__adopt(struct orch__project *p);
bool orch__prepare(struct orch__project *p);
void orch__teardown(struct orch__project *p);

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
