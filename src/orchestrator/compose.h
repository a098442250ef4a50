/*
 * compose.h - the stack spec: a Docker Compose file parsed into typed
 * structs (the subset of SPEC 3), with variable interpolation, anchors and
 * merge keys, warnings for unsupported keys and errors with file:line:col.
 *
 * Invariants of a parsed struct orch_stack:
 *   - everything it points to lives in its arena and is freed by
 *     orch_stack_free(); nothing is shared with the caller;
 *   - every service has an image, a build or a command (the process driver
 *     needs no image); every depends_on, network,
 *     volume and secret reference names something defined; the dependency
 *     graph has no cycle;
 *   - paths (build context, bind sources, env_file, secret files) are
 *     absolute when a base directory was given, else as written;
 *   - durations are nanoseconds, sizes bytes; -1 means "not set".
 * Limits: 1 MiB of text, 1000 services, nesting depth 64, and a node
 * budget after alias expansion (see compose.c).
 */
#ifndef CC_ORCHESTRATOR_COMPOSE_H
#define CC_ORCHESTRATOR_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/arena.h"
#include "core/diag.h"
#include "core/err.h"

#define ORCH_COMPOSE_MAX_FILE     (1024 * 1024)
#define ORCH_COMPOSE_MAX_SERVICES 1000
#define ORCH_COMPOSE_MAX_DEPTH    64

struct orch_strs {
    char **v;
    size_t n;
};

/* One KEY=VALUE; value NULL is YAML null / "unset". */
struct orch_kv {
    char *key;
    char *value;
};

struct orch_kvs {
    struct orch_kv *v;
    size_t n;
};

struct orch_build {
    char *context;
    char *dockerfile;          /* NULL: "Dockerfile" */
    struct orch_kvs args;
};

struct orch_port {
    char *host_ip;             /* NULL: all addresses */
    char *published;           /* NULL: an ephemeral port; may be a range "8000-8010" */
    unsigned target;
    char *protocol;            /* "tcp" or "udp" */
    char *mode;                /* "ingress" or "host" */
};

enum orch_mount_type { ORCH_MOUNT_VOLUME, ORCH_MOUNT_BIND, ORCH_MOUNT_TMPFS };

struct orch_mount {
    enum orch_mount_type type;
    char *source;              /* volume name or host path; NULL for anonymous/tmpfs */
    char *target;
    bool read_only;
};

enum orch_condition {
    ORCH_COND_STARTED,
    ORCH_COND_HEALTHY,
    ORCH_COND_COMPLETED,
};

struct orch_dep {
    char *service;
    enum orch_condition condition;
    bool required;
    unsigned line, col;
};

struct orch_health {
    bool present;
    bool disable;              /* disable: true, or test: ["NONE"] */
    struct orch_strs test;     /* "CMD"/"CMD-SHELL" first; empty when not given */
    int64_t interval_ns, timeout_ns, start_period_ns, start_interval_ns;
    long retries;
};

struct orch_resources {
    double cpus;               /* < 0: not set */
    int64_t memory;            /* bytes */
    int64_t pids;
};

struct orch_secret_ref {
    char *source;
    char *target;              /* NULL: /run/secrets/<source> */
    char *uid, *gid;
    long mode;                 /* -1: not set */
    unsigned line, col;
};

struct orch_net_ref {
    char *name;
    struct orch_strs aliases;
    unsigned line, col;
};

struct orch_service {
    char *name;
    unsigned line, col;        /* of its key */
    char *image;
    bool has_build;
    struct orch_build build;
    bool has_command, has_entrypoint;
    struct orch_strs command, entrypoint;     /* argv (a string is shell-split) */
    struct orch_kvs environment;              /* env_file first, then environment */
    char *working_dir;
    struct orch_port *ports;
    size_t nports;
    struct orch_mount *volumes;
    size_t nvolumes;
    struct orch_dep *depends_on;
    size_t ndeps;
    struct orch_health healthcheck;
    char *restart;             /* no | always | on-failure[:N] | unless-stopped */
    char *user;
    bool read_only;
    bool privileged;
    char *network_mode;
    struct orch_strs tmpfs, cap_add, cap_drop, security_opt;
    struct orch_resources limits, reservations;
    struct orch_secret_ref *secrets;
    size_t nsecrets;
    struct orch_net_ref *networks;
    size_t nnetworks;
    struct orch_kvs labels;
    int64_t stop_grace_ns;
    int init;                  /* -1 not set, 0 false, 1 true */
    json_t *x_commandcenter;   /* opaque; owned by the stack (decref'd on free) */
};

struct orch_network {
    char *name;
    char *driver;
    bool internal;
    bool external;
};

struct orch_volume {
    char *name;
    char *driver;
    bool external;
};

struct orch_secret {
    char *name;
    char *file;                /* absolute when a base directory was given */
    char *environment;         /* secret from a variable (not recommended) */
    bool external;
};

struct orch_stack {
    struct cc_arena arena;
    char *name;
    char *dir;                 /* the compose file's directory, or NULL */
    struct orch_service *services;
    size_t nservices;
    struct orch_network *networks;
    size_t nnetworks;
    struct orch_volume *volumes;
    size_t nvolumes;
    struct orch_secret *secrets;
    size_t nsecrets;
    struct orch_strs warnings; /* "file:line:col: ..." for the tools to print */
    json_t *x_commandcenter;   /* top-level x-commandcenter, opaque; owned (decref'd on free) */
};

struct orch_compose_opts {
    const char *file;          /* for messages; "compose.yaml" if NULL */
    const char *dir;           /* base of relative paths; NULL: no file access */
    char *const *envp;         /* process environment; overrides the .env file */
    const char *env_file;      /* replaces <dir>/.env when set */
    const char *default_name;  /* project name when the file has none */
};

/* Parses text. On success *out is a new stack (orch_stack_free it). On
 * error *out is untouched and d says where and what. */
cc_err orch_compose_parse(const char *text, size_t len, const struct orch_compose_opts *o,
                          struct orch_stack **out, struct cc_diag *d);

/* Reads path (at most ORCH_COMPOSE_MAX_FILE bytes) and parses it with dir
 * and default_name taken from the path when o leaves them NULL. */
cc_err orch_compose_load(const char *path, const struct orch_compose_opts *o,
                         struct orch_stack **out, struct cc_diag *d);

void orch_stack_free(struct orch_stack *s);   /* NULL-safe */

const struct orch_service *orch_stack_service(const struct orch_stack *s, const char *name);

/* The stack as `docker compose config --format json` prints it (for the
 * supported subset). *out is a new reference. */
cc_err orch_compose_json(const struct orch_stack *s, json_t **out);

/* Go's time.Duration.String() of ns ("1m30s", "500ms", "0s"). */
void orch_duration_format(int64_t ns, char *out, size_t outsz);

/* The security checklist of SPEC 3 as JSON: {"services":{NAME:{"checks":
 * [{"id","status","message","advice"}]}},"summary":{"fail":N,"warn":N}}. */
cc_err orch_lint(const struct orch_stack *s, json_t **out);

#endif
