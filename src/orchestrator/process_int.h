/*
 * process_int.h - what the files of the process driver share (process.c,
 * process_shim.c, process_spec.c, process_cg.c, process_log.c).
 *
 * Layout of one instance, <state_dir>/process/<project>/<service>/:
 *   spec.json    what to run (argv, env, working dir, user, limits, labels,
 *                config hash, log settings); written by create(), read by
 *                the shim and by exec()
 *   state.json   created | running | exited, pid and its /proc start time,
 *                exit code, oom_killed, cgroup paths; written atomically
 *                (temp + rename) by create() and then only by the shim
 *   shim.lock    flock'ed by the shim for its whole life: "a shim is alive"
 *                without trusting pids
 *   shim.log     the shim's own diagnostics (its stderr)
 *   logs/        service.log, service.log.1 ... (process_log.c)
 *   secrets/     one file per secret, mode 0400, owned by the service user
 *
 * Invariants: at most one shim per instance (shim.lock); the service runs
 * in its own process group whose id is its pid; state.json is never seen
 * half written.
 */
#ifndef CC_ORCHESTRATOR_PROCESS_INT_H
#define CC_ORCHESTRATOR_PROCESS_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "orchestrator/driver.h"

#define PROC_ID_PREFIX "proc-"
#define PROC_MAX_GROUPS 64
#define PROC_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* The environment variable that names the secrets directory (a path, never
 * a secret's value). */
#define PROC_SECRETS_ENV "CC_SECRETS_DIR"

/* ---- spec.json ---- */

struct pspec {
    json_t *root;              /* owns every string below */
    const char *id, *project, *service, *config_hash;
    const char *working_dir;
    const char *user;          /* "" = the daemon's user */
    char **argv;               /* NULL-terminated; strings borrowed from root */
    char **env;                /* NULL-terminated "K=V" */
    bool no_new_privs;
    double cpus;               /* <= 0: none */
    int64_t memory, pids;      /* <= 0: none */
    uint64_t log_max_bytes;
    unsigned log_files;
    size_t nsecrets;           /* files in secrets/ */
};

/* Builds spec.json's JSON from the compose service; CC_EINVAL with hints
 * for what the process driver cannot run. not_enforced gets the names of
 * settings a plain process cannot honour (array, may stay empty). */
cc_err orch__pspec_build(const struct orch_spec *s, const char *inst_dir, uint64_t log_max,
                         unsigned log_files, json_t **out, struct orch_err *e);
/* Reads and checks <dir>/spec.json. */
cc_err orch__pspec_load(const char *dir, struct pspec *out, struct orch_err *e);
void orch__pspec_release(struct pspec *s);

/* ---- state.json ---- */

enum pstatus { PST_CREATED, PST_RUNNING, PST_EXITED };

struct pstate {
    enum pstatus status;
    int pid;                   /* service main process = its process group */
    uint64_t pid_start;        /* /proc/<pid>/stat field 22 */
    int shim_pid;
    int64_t started_ms, finished_ms;
    int exit_code;
    bool oom_killed;
    bool enforced;             /* false: limits asked for and not applied */
    char reason[256];          /* why not enforced, or why the start failed */
    char cg_memory[PATH_MAX], cg_cpu[PATH_MAX], cg_cpuacct[PATH_MAX], cg_pids[PATH_MAX];
    int cg_version;            /* 0 none, 1, 2 (then cg_memory is the one dir) */
    bool secrets_ns;           /* secrets bound at /run/secrets in the service's
                                * own mount namespace */
};

cc_err orch__pstate_load(const char *dir, struct pstate *out);
cc_err orch__pstate_save(const char *dir, const struct pstate *st);
/* Writes JSON to <dir>/<name> through a temp file and rename. */
cc_err orch__write_json_atomic(const char *dir, const char *name, json_t *j);

/* /proc/<pid>/stat start time; 0 when the process does not exist. */
uint64_t orch__proc_start_time(int pid);
/* True when pid exists, is not a zombie and started at start. */
bool orch__proc_alive(int pid, uint64_t start);

/* ---- users ---- */

struct pcred {
    bool change;               /* switch to uid/gid before exec */
    uid_t uid;
    gid_t gid;
    gid_t groups[PROC_MAX_GROUPS];
    int ngroups;
    char home[256];
};

/* "name|uid[:group|gid]"; "" or NULL = the current user. Resolved before a
 * fork (getpwnam is not async-signal-safe). */
cc_err orch__pcred_resolve(const char *user, struct pcred *out, struct orch_err *e);

/* ---- the child side of a fork: async-signal-safe only ---- */

struct pchild {
    const char *path;          /* resolved executable */
    char *const *argv, *const *envp;
    const char *cwd;
    const struct pcred *cred;
    bool no_new_privs;
    int in_fd, out_fd, err_fd; /* become 0, 1, 2 */
    int report_fd;             /* CLOEXEC pipe: "step errno" on failure */
    const char *cg_procs[4];   /* cgroup.procs files to join; NULL ends */
    int mntns_fd;              /* exec: join the service's mount namespace; -1 none */
};
#define PROC_SECRETS_MNT "/run/secrets"

/* Never returns: sets up the child (own process group, signals reset,
 * cgroups, fds, cwd, credentials) and execs; on failure writes to
 * report_fd and _exit(127). */
void orch__pchild_exec(const struct pchild *c) __attribute__((noreturn));
/* The service's environment plus CC_SECRETS_DIR (when it has secrets):
 * a new NULL-terminated array of borrowed strings and one owned string
 * (*owned, free it with the array). */
char **orch__penv(const struct pspec *sp, const char *dir, bool secrets_ns, char **owned);
/* Finds argv0 in the PATH of envp (or the default PATH) when it has no
 * slash. CC_ENOTFOUND when nothing executable matches. */
cc_err orch__pexec_resolve(const char *argv0, char *const *envp, char *out, size_t outsz);
/* The shim's own environment: the allowlisted entries of envp into out
 * (see core/env.h), never the daemon's secrets. */
size_t orch__shim_env(char *const *envp, char **out, size_t max);

/* ---- cgroups (process_cg.c) ---- */

struct pcg_limits {
    double cpus;
    int64_t memory, pids;
};

/* Creates commandcenter/<name> under the daemon's own cgroup or the
 * hierarchy root (whichever is writable), per controller, and writes the
 * limits. Never fails the start: st->enforced and st->reason say what
 * could not be applied. Fills st->cg_*. */
void orch__pcg_setup(const char *name, const struct pcg_limits *l, struct pstate *st);
/* The cgroup.procs files a child writes itself into (NULL-terminated, up
 * to 4), from st->cg_*; storage is caller-provided. */
void orch__pcg_procs(const struct pstate *st, char storage[4][PATH_MAX], const char *out[5]);
/* OOM kills so far (memory.events oom_kill, or memory.oom_control). */
uint64_t orch__pcg_oom_kills(const struct pstate *st);
/* SIGKILLs every process still in the instance's cgroups. */
void orch__pcg_kill_all(const struct pstate *st);
void orch__pcg_remove(const struct pstate *st);
/* Usage: cpu ns, memory minus inactive file cache, tasks. CC_ENOTFOUND
 * when the instance has no cgroup. */
cc_err orch__pcg_usage(const struct pstate *st, uint64_t *cpu_ns, int64_t *mem, int64_t *pids);

/* ---- logs (process_log.c) ---- */

/* One record per line:  "2026-11-22T02:41:25.123456789Z O text\n"
 * (30-byte UTC timestamp with nanoseconds, space, O = stdout or E = stderr,
 * space, the text without its newline). A line longer than PLOG_MAX_TEXT is
 * split into several records. */
#define PLOG_TS_LEN 30
#define PLOG_HDR_LEN (PLOG_TS_LEN + 3)
#define PLOG_MAX_TEXT (64 * 1024)
#define PLOG_MAX_RECORD (PLOG_HDR_LEN + PLOG_MAX_TEXT + 1)
#define PLOG_CURRENT "service.log"

struct plog_writer {
    char dir[PATH_MAX];
    int fd;
    uint64_t size, max_bytes;
    unsigned files;
    char *buf;                 /* whole records not yet written, PLOG_WBUF */
    size_t blen;
};
#define PLOG_WBUF (256 * 1024)

cc_err orch__plog_open(struct plog_writer *w, const char *dir, uint64_t max_bytes,
                       unsigned files);
/* Buffers text (any length, no newline) as one or more records, rotating
 * when the current file reaches max_bytes. Errors are dropped: a full disk
 * must not stop the service. */
void orch__plog_write(struct plog_writer *w, enum orch_stream s, int64_t ts_ns,
                      const char *text, size_t len);
/* Writes the buffered records (the shim calls it after each read round). */
void orch__plog_flush(struct plog_writer *w);
/* Flushes and closes. */
void orch__plog_close(struct plog_writer *w);

/* "2026-11-22T02:41:25.123456789Z" (exactly PLOG_TS_LEN bytes + NUL). */
void orch__plog_format_ts(int64_t ns, char out[PLOG_TS_LEN + 1]);
/* Parses one record (without its newline); false when malformed. */
bool orch__plog_parse(const char *rec, size_t len, struct orch_log_line *out);

/* Is the writer still alive? (the follow loop's end condition) */
typedef bool (*plog_alive_fn)(void *arg);
cc_err orch__plog_read(const char *dir, const struct orch_log_query *q, plog_alive_fn alive,
                       void *alive_arg, orch_log_cb cb, void *arg, struct orch_err *e);

/* ---- small helpers ---- */

int64_t orch__now_ns(void);
int64_t orch__mono_ms(void);
void orch__sleep_ms(long ms);
/* mkdir -p with mode; CC_EIO on failure. */
cc_err orch__mkdirs(const char *path, mode_t mode);

/* process_exec.c: runs argv in the running instance dir (exec probes). */
cc_err orch__pexec_run(const char *dir, const struct pspec *sp, const struct pstate *st,
                       char *const argv[], int64_t timeout_ns, struct orch_exec_result *out,
                       struct orch_err *e);

#endif
