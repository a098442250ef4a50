/*
 * docker_int.h - what the files of the docker driver share: the stream
 * decoders (docker_stream.c), the tar writer (docker_tar.c) and the Engine
 * API transport (docker_api.c). Not for use outside src/orchestrator.
 */
#ifndef CC_ORCHESTRATOR_DOCKER_INT_H
#define CC_ORCHESTRATOR_DOCKER_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"
#include "orchestrator/driver.h"

/* ---- stream decoders (docker_stream.c); no I/O, fuzzed ---------------- */

/* The 8-byte frames of a non-TTY attach/logs/exec stream: {type, 0, 0, 0,
 * big-endian length}, then the payload. Payloads are handed on in pieces as
 * they arrive, so memory stays constant whatever the frame size. */
struct orch__mux {
    unsigned char hdr[8];
    unsigned hn;            /* header bytes collected */
    uint32_t left;          /* payload bytes left in the current frame */
    int stream;             /* 0 stdin, 1 stdout, 2 stderr, 3 engine error */
};
typedef bool (*orch__bytes_cb)(void *arg, int stream, const char *p, size_t n);
/* False when cb asked to stop. */
bool orch__mux_feed(struct orch__mux *m, const char *p, size_t n, orch__bytes_cb cb, void *arg);

/* Splits bytes into log lines for an orch_log_cb; with timestamps each line
 * starts with the engine's RFC 3339 time and a space. A line longer than
 * ORCH__LINE_MAX is handed on in pieces (the later ones keep the first's
 * time). */
#define ORCH__LINE_MAX 65536
struct orch__lines {
    char *buf;              /* ORCH__LINE_MAX bytes, allocated on first use */
    size_t len;
    enum orch_stream stream;
    bool timestamps;
    bool continued;         /* the buffer continues a line already split */
    int64_t last_ts;
    orch_log_cb cb;
    void *arg;
    bool stopped;
};
bool orch__lines_feed(struct orch__lines *l, const char *p, size_t n);
bool orch__lines_flush(struct orch__lines *l);     /* a last line without newline */
void orch__lines_release(struct orch__lines *l);

/* RFC 3339 with optional fraction (to ns) and Z or +hh:mm; returns Unix ns
 * and *used, or -1 if p does not start with one. */
int64_t orch__parse_time_ns(const char *p, size_t n, size_t *used);

/* JSON lines (build progress, events): one JSON value per line, a line at
 * most ORCH__JSONL_MAX bytes (a longer one is skipped and reported through
 * cb with NULL). */
#define ORCH__JSONL_MAX (1024 * 1024)
struct orch__jsonl {
    struct cc_buf line;
    bool skipping;          /* inside an overlong line */
};
typedef bool (*orch__json_cb)(void *arg, json_t *v);   /* v borrowed; NULL: unreadable line */
void orch__jsonl_init(struct orch__jsonl *j);
bool orch__jsonl_feed(struct orch__jsonl *j, const char *p, size_t n, orch__json_cb cb,
                      void *arg);
bool orch__jsonl_flush(struct orch__jsonl *j, orch__json_cb cb, void *arg);
void orch__jsonl_release(struct orch__jsonl *j);

/* ---- tar (docker_tar.c) ----------------------------------------------- */

struct orch__tar_entry {
    const char *name;       /* relative, '/'-separated; a directory ends in '/' */
    unsigned mode;
    unsigned uid, gid;
    const char *data;       /* files only */
    size_t len;
    int64_t mtime;
};
/* Appends one ustar entry (GNU long-name records for names over 100 bytes). */
cc_err orch__tar_add(struct cc_buf *tar, const struct orch__tar_entry *e);
/* The two zero blocks that end an archive. */
cc_err orch__tar_finish(struct cc_buf *tar);
/* The build context: every file under dir except what .dockerignore
 * excludes (patterns without '**' and '!', matched with fnmatch against the
 * relative path and its parents); at most limit bytes of archive. */
cc_err orch__tar_context(const char *dir, struct cc_buf *tar, char *why, size_t whysz);

/* ---- the Engine API transport (docker_api.c) --------------------------- */

#define ORCH_DOCKER_ADDR_CACHE 64
#define ORCH_DOCKER_ADDR_TTL_MS 30000

struct orch__docker {
    struct orch_driver base;
    char host[256];         /* as configured, for messages */
    char unix_path[108];    /* "" for tcp */
    char base_url[128];     /* "http://docker" or "http://127.0.0.1:2375" */
    pthread_mutex_t mu;     /* guards api and addrs */
    char api[16];           /* "v1.41"; "" until negotiated */
    struct cc_log *log;
    /* Addresses found by endpoint(), so an HTTP/TCP probe every few seconds
     * does not fetch the whole container record each time; an entry is
     * dropped when we start, stop or remove the container, and trusted for
     * ORCH_DOCKER_ADDR_TTL_MS at most (the container may be restarted behind
     * our back). Guarded by mu. */
    struct orch__addr {
        char id[80];
        char ip[64];
        int64_t at_ms;      /* monotonic; 0 = free */
    } addrs[ORCH_DOCKER_ADDR_CACHE];
};

struct orch__req {
    const char *method;
    char path[2048];        /* after the version: "/containers/json?all=1" */
    const char *ctype;      /* NULL: application/json when there is a body */
    const char *body;
    size_t body_len;
    int64_t timeout_ms;     /* <= 0: 30 s */
    bool idempotent;        /* retried on transient failures */
};

struct orch__ans {
    long status;
    json_t *json;           /* the body when it is JSON; NULL otherwise */
    char msg[400];          /* the engine's "message", or the body's start */
};
void orch__ans_release(struct orch__ans *a);

/* Performs r; CC_OK for any HTTP status (a->status). Transport failures
 * are CC_EUPSTREAM "engine unavailable at <host>: <why>". Idempotent
 * requests are retried on those and on 5xx. */
cc_err orch__docker_call(struct orch__docker *d, const struct orch__req *r, struct orch__ans *a,
                         struct orch_err *e);
/* The same with the body streamed to sink->body (after the head has been
 * checked: a status >= 300 is read whole into a). */
cc_err orch__docker_stream(struct orch__docker *d, const struct orch__req *r,
                           bool (*body)(void *arg, const char *p, size_t n), void *arg,
                           const atomic_bool *cancel, int64_t body_timeout_ms,
                           struct orch__ans *a, struct orch_err *e);
/* Maps a non-2xx answer to the driver's errors (driver.h); what names the
 * thing acted on ("container x"). */
cc_err orch__docker_fail(struct orch__docker *d, const struct orch__ans *a, const char *what,
                         struct orch_err *e);
/* Negotiates the API version with /_ping (min(server, 1.41)). */
cc_err orch__docker_ping(struct orch__docker *d, struct orch_err *e);
/* GET /containers/{id}/json; *out is a new reference. */
/* docker_secrets.c: copies spec's secrets into the created container id. */
cc_err orch__docker_copy_secrets(struct orch__docker *d, const struct orch_spec *spec,
                                 const char *id, struct orch_err *e);
cc_err orch__docker_inspect_json(struct orch__docker *d, const char *id, json_t **out,
                                 struct orch_err *e);

/* The ops of docker_io.c. */
cc_err orch__docker_exec(struct orch_driver *d, const char *id, char *const argv[],
                         int64_t timeout_ns, struct orch_exec_result *out, struct orch_err *e);
cc_err orch__docker_logs(struct orch_driver *d, const char *id, const struct orch_log_query *q,
                         orch_log_cb cb, void *arg, struct orch_err *e);
cc_err orch__docker_stats(struct orch_driver *d, const char *id, struct orch_usage *out,
                          struct orch_err *e);

/* Percent-encodes s for a query string. */
void orch__urlenc(const char *s, char *out, size_t outsz);

#endif
