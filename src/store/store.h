/*
 * store.h - the state store interface.
 *
 * The daemon remembers everything that must survive a restart through this
 * interface: API tokens, projects, the event log, knowledge sources,
 * documents with their chunks and search index, the job queue, and the
 * alerts Alertmanager sent. Backends embed `struct store` first and are chosen at
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
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct cc_clock;
struct cc_log;

struct store_cfg {
    const char *driver;        /* "sqlite" | "postgres" */
    const char *sqlite_path;   /* absolute or relative to the cwd */
    int64_t busy_timeout_ms;
    unsigned pool_size;        /* connections (sqlite: readers besides the writer) */
    const char *postgres_dsn;
    struct cc_log *log;        /* borrowed; may be NULL */
    struct cc_clock *clock;    /* borrowed; NULL = cc_clock_system() (pool waits) */
    /* Optional: told of every take from the connection pool, with the
     * nanoseconds it waited (0 when a connection was idle) and whether it
     * gave up at busy_timeout; called without the pool's lock, from any
     * thread. For the pool's metrics (pool_stats below). */
    void (*pool_wait)(void *arg, int64_t waited_ns, bool timed_out);
    void *pool_wait_arg;
};

/* The connection pool now: SQLite's readers (its one writer is not
 * pooled), PostgreSQL's connections. */
struct store_pool_stats {
    unsigned in_use;           /* taken, not yet given back */
    unsigned size;             /* store.pool_size */
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
    const char *env_json;      /* {"NAME": "value"}: the caller's variables; may be NULL */
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

/* ------------------------------------------------------------------ */
/* Knowledge: sources, documents, chunks, search (docs/KNOWLEDGE.md)   */

#define STORE_NAME_MAX 64          /* source names: [A-Za-z0-9._-]{1,64} */
#define STORE_SEARCH_K_MAX 100u
#define STORE_JOB_LIST_MAX 1000u
#define STORE_DOC_LIST_MAX 1000u
#define STORE_STATE_KEY_MAX 2048u  /* source_state keys: 1..2048 bytes */
#define STORE_STATE_VALUE_MAX (4u << 20) /* and values up to 4 MiB */
#define STORE_STATE_LIST_MAX 1000u

struct store_source {
    int64_t id;
    const char *name;          /* unique */
    const char *type;          /* "rss" | "docs" | "webhook" | "file" | "manual" */
    const char *url;           /* NULL when the type has none */
    const char *path;          /* file sources: the watched folder; else NULL */
    const char *schedule;      /* cron expression or @daily...; NULL = not scheduled */
    const char *tz;            /* IANA zone for the schedule; NULL = UTC */
    int priority;              /* 1..10 */
    bool enabled;
    const char *auth_json;     /* {"type":"bearer","token_file":"..."}; NULL = none */
    const char *options_json;  /* type-specific options object; NULL = {} */
    int64_t created_ms;
    int64_t updated_ms;
    /* Run state, written by source_record_run only. */
    int64_t last_run_ms;       /* 0 = never */
    const char *last_status;   /* NULL | "ok" | "failed" */
    const char *last_error;    /* NULL after a success */
    int64_t next_run_ms;       /* 0 = nothing scheduled */
    int failures;              /* consecutive failed runs (backoff input) */
    int64_t runs_total;
    int64_t ingested_total;    /* documents created or changed by its runs */
    int64_t failed_total;      /* documents that failed */
    int64_t docs;              /* documents stored now (read-only, computed) */
};

struct store_source_run {
    int64_t source_id;
    int64_t ran_ms;
    bool ok;
    const char *error;         /* NULL when ok */
    int64_t next_run_ms;       /* 0 = none; -1 = keep the scheduled one */
    int64_t ingested;          /* added to ingested_total */
    int64_t failed;            /* added to failed_total */
};

struct store_chunk {
    int64_t id;                /* out only */
    int ord;                   /* 0-based position in the document */
    const char *heading;       /* "Install › From source"; may be NULL */
    const char *text;
};

struct store_doc {
    int64_t id;                /* out only */
    int64_t source_id;
    const char *external_id;   /* unique within the source: URL, path, guid */
    const char *url;           /* may be NULL */
    const char *path;          /* may be NULL */
    const char *title;
    const char *authors_json;  /* JSON array of strings; NULL = [] */
    int64_t published_ms;      /* 0 = unknown */
    int64_t updated_ms;        /* 0 = unknown */
    const char *tags_json;     /* JSON array of strings; NULL = [] */
    const char *version;       /* docs version ("v1.0"); may be NULL */
    const char *content_hash;  /* hex SHA-256 of the normalized content, 64 chars */
    const char *metadata_json; /* object; NULL = {} */
    int64_t ingested_ms;
    const struct store_chunk *chunks;
    size_t nchunks;
};

enum store_upsert { STORE_CREATED, STORE_UPDATED, STORE_UNCHANGED };

struct store_search {
    const char *query;         /* user text; the backend builds a safe query from it */
    unsigned k;                /* 1..STORE_SEARCH_K_MAX */
    int64_t source_id;         /* 0 = any */
    const char *tag;           /* NULL = any */
    int64_t since_ms;          /* published or updated at or after; 0 = any */
    const char *version;       /* NULL = any */
    /* Hybrid search: the query's embedding. NULL = BM25 alone. With it the
     * BM25 and the vector rankings (max(20k, 200) each) are fused by
     * reciprocal rank fusion, sum of 1 / (60 + rank), then multiplied by
     * the priority factor; relevance is then the fused score. */
    const float *vec;
    size_t dims;
    const char *model;         /* only vectors of this model are compared */
};

#define STORE_RRF_K 60
#define STORE_VECTOR_SCAN_MAX 1000000u   /* vectors compared per query, at most */

struct store_hit {
    int64_t doc_id;
    int64_t chunk_id;
    int64_t source_id;
    const char *source;        /* source name */
    int priority;
    const char *title;
    const char *heading;
    const char *url;
    const char *version;
    int64_t published_ms;
    double relevance;          /* BM25, higher is better */
    double score;              /* relevance x store_priority_factor(priority) */
    const char *snippet_html;  /* HTML-escaped text, matches in <mark></mark>; a
                                * vector-only hit: the first 200 characters */
};

/* ------------------------------------------------------------------ */
/* Jobs: the durable queue (docs/KNOWLEDGE.md, "Jobs")                 */

struct store_job {
    int64_t id;
    const char *kind;          /* "ingest.document", "source.run", ... */
    int64_t source_id;         /* 0 = none */
    const char *state;         /* queued | running | succeeded | failed | dead */
    const char *dedup_key;     /* NULL, or unique among unfinished jobs */
    const void *payload;       /* opaque bytes (JSON for our kinds) */
    size_t payload_len;
    int attempts;              /* tries started so far */
    int max_attempts;
    int64_t next_run_ms;       /* when a queued/failed job may run */
    const char *lease_owner;   /* running only */
    int64_t lease_until_ms;    /* running only */
    const char *stage;         /* last stage reached: fetch, extract, chunk, embed, index */
    const char *last_error;
    int64_t created_ms;
    int64_t updated_ms;
    int64_t finished_ms;       /* succeeded/dead; 0 otherwise */
};

struct store_job_counts {
    int64_t queued, running, succeeded, failed, dead;
    int64_t oldest_queued_ms;  /* created_ms of the oldest runnable job; 0 = none */
};

/* One item of store_doc_write_batch(): a document write and the job it
 * finishes, all or nothing. */
struct store_doc_write {
    const struct store_doc *doc;   /* upserted as by doc_upsert; NULL = no document */
    bool count;                    /* created/updated: ingested_total + 1 for doc's source */
    int64_t job_id;                /* > 0: marked succeeded (job_succeed) with the write */
    /* out */
    cc_err err;                    /* CC_OK: written; else nothing of this item was */
    enum store_upsert result;
    int64_t doc_id;
};

#define STORE_BATCH_MAX 256u       /* items per batch call, at most */

/* ------------------------------------------------------------------ */
/* Webhook deliveries: remembered for idempotency (docs/WEBHOOKS.md)   */

#define STORE_DELIVERY_ID_MAX 200u   /* bytes of a delivery id, at most */
#define STORE_DELIVERY_PRUNE_MAX 64u /* expired deliveries one record deletes */

struct store_delivery {
    const char *provider;      /* "github" | "generic" */
    const char *delivery_id;   /* unique per provider, 1..STORE_DELIVERY_ID_MAX bytes */
    int64_t source_id;         /* 0 = none (a GitHub delivery may reach several) */
    const char *event;         /* "push", "release", "documents", ...; may be NULL */
    int64_t received_ms;
    int64_t prune_before_ms;   /* > 0: up to STORE_DELIVERY_PRUNE_MAX older ones go */
};

/* Alerts: what Alertmanager's webhook reported (docs/OBSERVABILITY.md) */

#define STORE_ALERT_LIST_MAX 1000u
#define STORE_FINGERPRINT_MAX 64   /* Alertmanager's are 16 hex digits */
#define STORE_ALERT_NAME_MAX 256

struct store_alert {
    int64_t id;                /* out only */
    const char *fingerprint;   /* the key: [A-Za-z0-9]{1,STORE_FINGERPRINT_MAX} */
    const char *status;        /* "firing" | "resolved" */
    const char *name;          /* labels.alertname, 1..256 bytes */
    const char *severity;      /* labels.severity; NULL = none */
    const char *labels_json;   /* a JSON object */
    const char *annotations_json; /* a JSON object; NULL = {} */
    const char *generator_url; /* NULL = none */
    int64_t starts_ms;         /* >= 0 */
    int64_t ends_ms;           /* 0 = not ended */
    int64_t created_ms;        /* first notification about this fingerprint */
    int64_t updated_ms;        /* the last one stored */
};

/* What alert_upsert did with a notification. */
enum store_alert_change {
    STORE_ALERT_NEW,           /* a fingerprint not stored before */
    STORE_ALERT_FIRED,         /* resolved -> firing (a new occurrence) */
    STORE_ALERT_RESOLVED,      /* firing -> resolved */
    STORE_ALERT_SAME,          /* same status; the rest refreshed */
    STORE_ALERT_STALE,         /* older than what is stored: nothing written */
};

typedef void (*store_source_cb)(void *arg, const struct store_source *src);
/* One source_state entry; the strings are valid during the call only. */
typedef void (*store_state_cb)(void *arg, const char *key, const char *value,
                               int64_t updated_ms);
typedef void (*store_doc_cb)(void *arg, const struct store_doc *d);
typedef void (*store_hit_cb)(void *arg, const struct store_hit *h);
typedef void (*store_job_cb)(void *arg, const struct store_job *j);
typedef void (*store_vec_cb)(void *arg, int64_t chunk_id, double cosine);
typedef void (*store_alert_cb)(void *arg, const struct store_alert *a);

/* Priority 1..10 -> 0.5 .. 2.0, geometric: 0.5 * 4^((p-1)/9). Out-of-range
 * priorities are clamped. Shared by every backend so ranking agrees. */
double store_priority_factor(int priority);

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
    /* Events with id < before_id (0 = the newest), newest first, at most
     * `limit` (capped likewise): how a reader pages back from now. */
    cc_err (*event_list_before)(struct store *s, int64_t before_id, unsigned limit,
                                store_event_cb cb, void *arg);
    /* Deletes events older than before_ms; *out_deleted (optional) gets the count. */
    cc_err (*event_prune)(struct store *s, int64_t before_ms, int64_t *out_deleted);

    /* --- sources --- */
    cc_err (*source_insert)(struct store *s, const struct store_source *src, int64_t *out_id);
    /* Updates the configuration fields (not the run state) by id. */
    cc_err (*source_update)(struct store *s, const struct store_source *src);
    cc_err (*source_get)(struct store *s, int64_t id, store_source_cb cb, void *arg);
    cc_err (*source_get_by_name)(struct store *s, const char *name, store_source_cb cb,
                                 void *arg);
    cc_err (*source_list)(struct store *s, store_source_cb cb, void *arg);
    /* Deletes the source with its documents, chunks and jobs. */
    cc_err (*source_delete)(struct store *s, int64_t id);
    cc_err (*source_record_run)(struct store *s, const struct store_source_run *run);
    /* Adds to ingested_total / failed_total without recording a run (the
     * documents a run queued finish later, one job each). */
    cc_err (*source_add_counts)(struct store *s, int64_t id, int64_t ingested, int64_t failed);
    /* Sets next_run_ms without recording a run (scheduling, pause/resume). */
    cc_err (*source_schedule)(struct store *s, int64_t id, int64_t next_run_ms);
    /* Enabled sources with 0 < next_run_ms <= now_ms. */
    cc_err (*source_due)(struct store *s, int64_t now_ms, store_source_cb cb, void *arg);

    /* --- source state: values a source type keeps between runs --- */
    /* The value of (source_id, key); CC_ENOTFOUND when there is none. */
    cc_err (*source_state_get)(struct store *s, int64_t source_id, const char *key,
                               store_state_cb cb, void *arg);
    /* Sets (source_id, key) to value, or deletes it when value is NULL (no
     * error when it was absent). CC_ENOTFOUND for an unknown source. */
    cc_err (*source_state_put)(struct store *s, int64_t source_id, const char *key,
                               const char *value, int64_t now_ms);
    /* Entries whose key starts with prefix ("" = all) and sorts after
     * after_key (byte order; NULL = from the first), by key, at most limit
     * (capped at STORE_STATE_LIST_MAX). */
    cc_err (*source_state_list)(struct store *s, int64_t source_id, const char *prefix,
                                const char *after_key, unsigned limit, store_state_cb cb,
                                void *arg);

    /* --- documents --- */
    /* Inserts or replaces the document keyed by (source_id, external_id),
     * with all its chunks, in one transaction. Same content_hash as stored:
     * nothing is written and *out_result is STORE_UNCHANGED. */
    cc_err (*doc_upsert)(struct store *s, const struct store_doc *d,
                         enum store_upsert *out_result, int64_t *out_id);
    /* The stored content hash (65 bytes) of (source_id, external_id). */
    cc_err (*doc_hash)(struct store *s, int64_t source_id, const char *external_id,
                       char out_hash[65]);
    /* The document with its chunks (ordered by ord). */
    cc_err (*doc_get)(struct store *s, int64_t id, store_doc_cb cb, void *arg);
    cc_err (*doc_delete)(struct store *s, int64_t id);
    cc_err (*doc_delete_external)(struct store *s, int64_t source_id, const char *external_id);
    /* The source's documents with id > after_id, by id, at most `limit`
     * (capped at STORE_DOC_LIST_MAX). Only id, source_id, external_id,
     * path, title and content_hash are set; no chunks. */
    cc_err (*doc_list)(struct store *s, int64_t source_id, int64_t after_id, unsigned limit,
                       store_doc_cb cb, void *arg);
    /* Hits best first, at most q->k. CC_EINVAL for an empty query. */
    cc_err (*search)(struct store *s, const struct store_search *q, store_hit_cb cb, void *arg);

    /* --- vectors (optional embeddings of chunks) --- */
    /* Stores one vector per chunk of the document, vecs[i * dims] for the
     * chunk of the i-th smallest ord, replacing earlier ones. CC_EINVAL if n
     * is not the document's chunk count or dims is outside 1..8192;
     * CC_ENOTFOUND for an unknown document. */
    cc_err (*vectors_put)(struct store *s, int64_t doc_id, size_t dims, const char *model,
                          const float *vecs, size_t n);
    /* *out_missing: chunks of (source_id, external_id) without a vector of
     * model (0 when the document does not exist). */
    cc_err (*vectors_missing)(struct store *s, int64_t source_id, const char *external_id,
                              const char *model, int64_t *out_missing);
    /* Brute-force cosine over the stored vectors of model and dims with the
     * filters of f (its query/k/vec are ignored); the best `limit` by
     * cosine, best first. Reads at most STORE_VECTOR_SCAN_MAX vectors: about
     * dims x 4 bytes and dims multiply-adds each, so ~1M vectors of 768
     * dims is the practical ceiling for interactive latency. */
    cc_err (*vector_search)(struct store *s, const float *q, size_t dims, const char *model,
                            const struct store_search *f, unsigned limit, store_vec_cb cb,
                            void *arg);

    /* --- jobs --- */
    /* Queues a job. queue_limit > 0 bounds the unfinished jobs of its
     * source: CC_ELIMIT when full. A dedup_key already held by an
     * unfinished job: nothing is queued, *out_id is that job and
     * *out_existing (optional) is set. */
    cc_err (*job_enqueue)(struct store *s, const struct store_job *j, unsigned queue_limit,
                          int64_t *out_id, bool *out_existing);
    /* Claims the oldest runnable job: queued or failed with next_run_ms <=
     * now, or running with an expired lease (its worker died). The claim
     * sets running, attempts + 1 and the lease. CC_ENOTFOUND when none. */
    cc_err (*job_claim)(struct store *s, const char *owner, int64_t now_ms, int64_t lease_ms,
                        store_job_cb cb, void *arg);
    /* Extends the lease; CC_ESTATE if the job is no longer ours. */
    cc_err (*job_heartbeat)(struct store *s, int64_t id, const char *owner,
                            int64_t lease_until_ms, const char *stage);
    cc_err (*job_succeed)(struct store *s, int64_t id, const char *owner, int64_t now_ms);
    /* retry_at_ms > 0: state failed, runs again then; 0: state dead. */
    cc_err (*job_fail)(struct store *s, int64_t id, const char *owner, int64_t now_ms,
                       const char *error, int64_t retry_at_ms);
    cc_err (*job_get)(struct store *s, int64_t id, store_job_cb cb, void *arg);
    /* Newest first; state NULL = all; before_id 0 = from the newest. */
    cc_err (*job_list)(struct store *s, const char *state, int64_t before_id, unsigned limit,
                       store_job_cb cb, void *arg);
    /* dead or failed -> queued now, attempts reset. CC_ESTATE otherwise. */
    cc_err (*job_retry)(struct store *s, int64_t id, int64_t now_ms);
    cc_err (*job_counts)(struct store *s, struct store_job_counts *out);
    /* Deletes succeeded jobs finished before before_ms. */
    cc_err (*job_prune)(struct store *s, int64_t before_ms, int64_t *out_deleted);

    /* --- webhooks ---
     * Records a delivery and queues its jobs in one write transaction,
     * all or nothing. A delivery already recorded under (provider,
     * delivery_id): nothing is written and *out_duplicate is true.
     * Otherwise the jobs are queued as job_enqueue would one by one
     * (dedup keys, queue_limit per source; out_ids / out_existing,
     * optional, get n entries); a job that cannot be queued (CC_ELIMIT:
     * its source's queue is full; CC_ENOTFOUND: no such source) rolls the
     * whole delivery back and its error is returned, so a retried
     * delivery is not a duplicate. Also deletes up to
     * STORE_DELIVERY_PRUNE_MAX deliveries received before
     * prune_before_ms. n <= STORE_BATCH_MAX. */
    cc_err (*webhook_delivery)(struct store *s, const struct store_delivery *d,
                               const struct store_job *jobs, size_t n, unsigned queue_limit,
                               int64_t *out_ids, bool *out_existing, bool *out_duplicate);
    /* Deletes the deliveries received before before_ms. */
    cc_err (*webhook_prune)(struct store *s, int64_t before_ms, int64_t *out_deleted);
    /* --- alerts --- */
    /* Stores a notification keyed by fingerprint, in one transaction: a
     * new fingerprint is inserted; a stored one is replaced unless the
     * notification is older (starts_ms before the stored occurrence's, or
     * a firing repeat of an occurrence already resolved): STORE_ALERT_STALE,
     * nothing written. created_ms is kept from the first row. */
    cc_err (*alert_upsert)(struct store *s, const struct store_alert *a,
                           enum store_alert_change *out_change);
    /* Most recently updated first; status NULL = both; at most `limit`
     * (capped at STORE_ALERT_LIST_MAX). */
    cc_err (*alert_list)(struct store *s, const char *status, unsigned limit,
                         store_alert_cb cb, void *arg);
    /* Deletes resolved alerts updated before resolved_before_ms, then the
     * oldest rows (by updated_ms) past keep_max, whatever their status. */
    cc_err (*alert_prune)(struct store *s, int64_t resolved_before_ms, unsigned keep_max,
                          int64_t *out_deleted);

    /* OPTIONAL (NULL: a store without a pool, e.g. a test fake; the
     * wrapper answers CC_EUNSUPPORTED). Never waits. */
    cc_err (*pool_stats)(struct store *s, struct store_pool_stats *out);

    /* --- batches (OPTIONAL: NULL is fine) ---
     * Each does in one call what a loop over the single-item ops above
     * does, with the same rules per item; a backend that implements one
     * does it in one transaction, which is what makes bulk ingestion fast
     * (one commit per batch instead of one per job). Callers never call
     * these pointers directly but store_job_enqueue_batch(),
     * store_job_claim_batch() and store_doc_write_batch() below, which run
     * the generic loop when the pointer is NULL. */
    cc_err (*job_enqueue_batch)(struct store *s, const struct store_job *jobs, size_t n,
                                unsigned queue_limit, int64_t *out_ids, bool *out_existing,
                                size_t *out_done);
    cc_err (*job_claim_batch)(struct store *s, const char *owner, int64_t now_ms,
                              int64_t lease_ms, size_t max, store_job_cb cb, void *arg);
    cc_err (*doc_write_batch)(struct store *s, const char *owner, int64_t now_ms,
                              struct store_doc_write *items, size_t n);
};

/* store_open() puts store.c's checks in front of the backend: ops is then
 * `checked`, a copy of store.c's wrappers named as the backend, and each
 * wrapper validates its arguments (store_valid.c) before calling
 * `backend`, so every backend refuses exactly the same input. A store made
 * without store_open() (a test fake) has only ops. */
struct store {
    const struct store_ops *ops;
    const struct store_ops *backend;   /* NULL unless opened by store_open() */
    struct store_ops checked;
};

/* Backends known to this binary, NULL-terminated (store.c). */
extern const struct store_ops *const store_backends[];

/* Looks the driver up in store_backends and opens it. CC_EINVAL with an
 * unknown driver name. */
cc_err store_open(const struct store_cfg *cfg, struct store **out);
/* Queues jobs[0..n) in order, as job_enqueue would one by one (dedup,
 * queue_limit per job). Stops at the first job that cannot be queued and
 * returns its error (CC_ELIMIT when the source's queue is full):
 * *out_done (required) jobs before it are queued or were found by their
 * dedup key, even then. out_ids / out_existing (optional) get n entries,
 * the first *out_done of them set. n > STORE_BATCH_MAX is CC_EINVAL. */
cc_err store_job_enqueue_batch(struct store *s, const struct store_job *jobs, size_t n,
                               unsigned queue_limit, int64_t *out_ids, bool *out_existing,
                               size_t *out_done);
/* Claims up to max runnable jobs for owner, the ones job_claim would give
 * one after another, each with its own lease; cb runs once per claimed
 * job (after the claim is committed). CC_ENOTFOUND when there was none.
 * max is capped at STORE_BATCH_MAX. */
cc_err store_job_claim_batch(struct store *s, const char *owner, int64_t now_ms,
                             int64_t lease_ms, size_t max, store_job_cb cb, void *arg);
/* Writes every item: its document (doc_upsert), its count
 * (source_add_counts +1 ingested when created or updated) and its job's
 * success (job_succeed with owner and now_ms). One item's failure never
 * loses the others: it gets its error in ->err (CC_ESTATE: the job is no
 * longer ours) and its job stays running, for the caller to fail. A
 * backend's op writes each item all or nothing; the generic loop runs
 * the three steps in that order, so there a failed step can leave the
 * earlier ones written (harmless: the upsert is idempotent and the job
 * runs again). Returns CC_OK when every item was tried; an error when the
 * batch as a whole failed (every ->err is then set to it). */
cc_err store_doc_write_batch(struct store *s, const char *owner, int64_t now_ms,
                             struct store_doc_write *items, size_t n);

static inline void store_close(struct store *s)
{
    if (s)
        s->ops->close(s);
}

#endif
