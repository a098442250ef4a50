/*
 * fake_driver.h - an in-memory orchestration driver whose behaviour a test
 * scripts: instances that run until the test kills them (or exit at once,
 * like a one-shot), exec results per service (what probes see), OOM kills,
 * a spec refused (CC_EINVAL) and an engine that is down (CC_EUPSTREAM on
 * every call, optionally after a delay, as a hung socket would).
 *
 * Every call is logged ("start database", with the wall time in ms) so a
 * test can assert order and parallelism. Thread-safe: the engine calls it
 * from its supervisor and probe threads while the test scripts it.
 *
 * The ops table's open() cannot be told which fake to return, so a test
 * installs one first with fake_driver_install (the one piece of static
 * state, as the fake clock's origin is for time).
 */
#ifndef CC_TESTS_FAKE_DRIVER_H
#define CC_TESTS_FAKE_DRIVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "orchestrator/driver.h"

#define FAKE_DRV_MAX_INST  64
#define FAKE_DRV_MAX_CALLS 1024
#define FAKE_DRV_MAX_LINES 256
#define FAKE_DRV_MAX_SCRIPTS 32

struct fake_script {
    char service[64];
    int exec_exit;              /* what exec answers (probes); 0 = healthy */
    char exec_output[128];
    bool exit_on_start;         /* one-shot: exits right after start */
    int exit_code;              /* ... with this code */
    cc_err create_err;          /* create fails with this */
    unsigned http_port;         /* endpoint answers 127.0.0.1:http_port; 0 = CC_EUNSUPPORTED */
    struct orch_usage usage;    /* what stats answers */
};

struct fake_inst {
    bool used;
    char id[96];
    char project[64], service[64], hash[72];
    enum orch_run_state state;
    int exit_code;
    bool oom;
    int64_t started_ms, finished_ms;
    unsigned starts;
    struct orch_resources limits;
    int64_t grace_ns;           /* of the last stop */
    /* log lines written (wall ns, text) */
    unsigned nlines;
    int64_t line_ts[FAKE_DRV_MAX_LINES];
    char line[FAKE_DRV_MAX_LINES][64];
};

struct fake_driver {
    struct orch_driver base;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool down;                  /* every call: CC_EUPSTREAM */
    int64_t down_delay_ms;      /* ... after sleeping this long */
    unsigned opens;
    struct fake_script scripts[FAKE_DRV_MAX_SCRIPTS];
    unsigned nscripts;
    struct fake_inst inst[FAKE_DRV_MAX_INST];
    unsigned next_id;
    unsigned ncalls;
    char calls[FAKE_DRV_MAX_CALLS][96];
    int64_t call_ms[FAKE_DRV_MAX_CALLS];
    unsigned prepares, teardowns;
};

extern const struct orch_driver_ops fake_driver_ops;   /* name "docker" */
extern const struct orch_driver_ops fake_process_ops;  /* name "process", same fake */

void fake_driver_init(struct fake_driver *f);
void fake_driver_release(struct fake_driver *f);
void fake_driver_install(struct fake_driver *f);

/* The script of a service (created on first use); change it under
 * fake_driver_lock/unlock when the engine is running. */
struct fake_script *fake_driver_script(struct fake_driver *f, const char *service);
void fake_driver_lock(struct fake_driver *f);
void fake_driver_unlock(struct fake_driver *f);
void fake_driver_set_down(struct fake_driver *f, bool down, int64_t delay_ms);
void fake_driver_set_exec(struct fake_driver *f, const char *service, int exit_code,
                          const char *output);

/* The running instance of project/service exits with code (oom: killed by
 * the kernel's OOM killer, code 137). false if none is running. */
bool fake_driver_kill(struct fake_driver *f, const char *project, const char *service,
                      int code, bool oom);
/* Appends a log line to the service's instance. */
bool fake_driver_log(struct fake_driver *f, const char *project, const char *service,
                     const char *text);
/* A copy of the instance of project/service; false if none. */
bool fake_driver_inst(struct fake_driver *f, const char *project, const char *service,
                      struct fake_inst *out);
/* Index of the first logged call equal to text at or after from, or -1. */
int fake_driver_find_call(struct fake_driver *f, const char *text, unsigned from);
unsigned fake_driver_count_calls(struct fake_driver *f, const char *text);
int64_t fake_driver_call_ms(struct fake_driver *f, int idx);

#endif
