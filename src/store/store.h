/*
 * store.h - the state store interface.
 *
 * The daemon remembers everything that must survive a restart through this
 * interface: API tokens, projects, and the event log (later also documents,
 * sources and jobs). Backends embed `struct store` first and are chosen at
 * run time by name from the registry in store.c; nothing outside
 * src/store/<backend>.c includes a backend's own headers.
 *
 * Rules every backend keeps:
 *   - open() creates the database if missing and runs the forward-only
 *     migrations compiled into the binary, each in its own transaction,
 *     recording them in a schema_migrations table; a database newer than
 *     the binary is refused with CC_ESTATE and a message.
 *   - All functions are safe to call from any thread at once.
 *   - Strings in records passed *in* are borrowed. Records passed *out*
 *     through callbacks are valid only during the callback, and a callback
 *     must not call back into the same store (it runs while a connection
 *     is checked out).
 *   - CC_ENOTFOUND for a missing id, CC_ECONFLICT for a unique-key clash,
 *     CC_EAGAIN when the database stayed busy past busy_timeout,
 *     CC_EIO for anything else (with the details logged).
 */
#ifndef CC_STORE_STORE_H
#define CC_STORE_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

struct cc_log;

struct store_cfg {
    const char *driver;        /* "sqlite" */
    const char *sqlite_path;   /* absolute or relative to the cwd */
    int64_t busy_timeout_ms;
    unsigned pool_size;        /* connections (sqlite: readers besides the writer) */
    const char *postgres_dsn;
    struct cc_log *log;        /* borrowed; may be NULL */
};

struct store_token {
    int64_t id;
    const char *name;          /* unique, 1..64 chars */
    const char *hash;          /* hex SHA-256 of the token, 64 chars */
    const char *scope;         /* "read" | "admin" */
    int64_t created_ms;
    int64_t last_used_ms;      /* 0 = never */
};

struct store_project {
    int64_t id;
    const char *name;          /* unique */
    const char *compose_path;
    const char *spec_json;     /* normalized stack; may be NULL */
    const char *state;         /* "registered", "up", "down", ... */
    int64_t created_ms;
    int64_t updated_ms;
};

struct store_event {
    int64_t id;
    int64_t ts_ms;
    const char *kind;          /* "daemon.started", "service.healthy", ... */
    const char *project;       /* may be NULL */
    const char *service;       /* may be NULL */
    const char *message;
};

struct store_info {
    const char *driver;
    int schema_version;        /* highest migration applied */
    int schema_latest;         /* highest migration this binary knows */
};

typedef void (*store_token_cb)(void *arg, const struct store_token *t);
typedef void (*store_project_cb)(void *arg, const struct store_project *p);
typedef void (*store_event_cb)(void *arg, const struct store_event *e);

struct store;

/* The most events one event_list call returns; callers page with after_id. */
#define STORE_EVENT_LIST_MAX 1000u

struct store_ops {
    const char *name;
    cc_err (*open)(const struct store_cfg *cfg, struct store **out);
    void (*close)(struct store *s);                       /* NULL-safe */
    /* A cheap round trip: CC_OK when the database answers. */
    cc_err (*ping)(struct store *s);
    cc_err (*info)(struct store *s, struct store_info *out);

    cc_err (*token_insert)(struct store *s, const struct store_token *t, int64_t *out_id);
    cc_err (*token_list)(struct store *s, store_token_cb cb, void *arg);
    cc_err (*token_delete)(struct store *s, int64_t id);
    cc_err (*token_touch)(struct store *s, int64_t id, int64_t used_ms);

    cc_err (*project_insert)(struct store *s, const struct store_project *p, int64_t *out_id);
    cc_err (*project_update)(struct store *s, const struct store_project *p); /* by id */
    cc_err (*project_get)(struct store *s, const char *name, store_project_cb cb, void *arg);
    cc_err (*project_list)(struct store *s, store_project_cb cb, void *arg);
    cc_err (*project_delete)(struct store *s, const char *name);

    cc_err (*event_append)(struct store *s, const struct store_event *e, int64_t *out_id);
    /* Events with id > after_id, oldest first, at most `limit` (a larger
     * limit is capped at STORE_EVENT_LIST_MAX). */
    cc_err (*event_list)(struct store *s, int64_t after_id, unsigned limit,
                         store_event_cb cb, void *arg);
    /* Deletes events older than before_ms; *out_deleted (optional) gets the count. */
    cc_err (*event_prune)(struct store *s, int64_t before_ms, int64_t *out_deleted);
};

struct store {
    const struct store_ops *ops;
};

/* Backends known to this binary, NULL-terminated (store.c). */
extern const struct store_ops *const store_backends[];

/* Looks the driver up in store_backends and opens it. CC_EINVAL with an
 * unknown driver name. */
cc_err store_open(const struct store_cfg *cfg, struct store **out);
static inline void store_close(struct store *s)
{
    if (s)
        s->ops->close(s);
}

#endif
