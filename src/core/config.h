/*
 * config.h - the daemon's configuration: one YAML file -> one typed struct.
 *
 * Every key is declared exactly once, in the table in config_keys.c, with its
 * type, default, limits and description; parsing, environment overrides,
 * validation, `serve --print-config` and the reference in docs/CONFIG.md
 * all come from that table. Rules:
 *   - Keys are dotted paths of nested YAML mappings ("http.listen").
 *   - An unknown key, a value of the wrong type or out of range is an error
 *     carrying file:line:col (struct cc_diag).
 *   - Environment: CC_<PATH> with dots as underscores, upper case
 *     (CC_HTTP_LISTEN) overrides the file.
 *   - Secret keys (flag CC_CFG_SECRET) may instead come from a file:
 *     "<key>_file" in YAML or CC_<PATH>_FILE in the environment. The file's
 *     trailing newline is stripped. Setting both the value and the _file at
 *     the same level (both in YAML, or both in the environment) is an error.
 *   - Durations accept "250ms", "10s", "1m"; sizes "64k", "1MiB", "10MB".
 * Owns its strings: cc_config_release frees them.
 */
#ifndef CC_CORE_CONFIG_H
#define CC_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/diag.h"
#include "core/err.h"

/* The most CIDRs fetch.allow_networks may list. */
#define CC_CFG_MAX_NETWORKS 64

struct cc_config {
    char *data_dir;              /* "" until resolved: XDG default */
    struct {
        char *listen;            /* "127.0.0.1:8470", "[::1]:8470", ":8470" */
        unsigned threads;        /* 0 = one per CPU */
        unsigned max_connections;
        uint64_t max_header_bytes;
        uint64_t max_body_bytes;
        int64_t read_timeout_ms;
        int64_t shutdown_timeout_ms;
        bool public_metrics;     /* /metrics without a token */
        double rate_limit_rps;   /* per token or client address; 0 = off */
        unsigned rate_limit_burst;
        unsigned rate_limit_clients; /* distinct clients tracked at once */
        int64_t request_timeout_ms;  /* whole request (head + body); 0 = no cap */
        unsigned max_connections_per_client; /* 0 = no per-address limit */
    } http;
    struct {
        char *level;             /* debug|info|warn|error */
        char *format;            /* auto|json|text */
        char *requests;          /* debug|info: the level of each request's line */
    } log;
    struct {
        char *admin_token;       /* secret; optional extra admin token */
        char *bootstrap_token_file; /* relative to data_dir */
        bool allow_weak_tokens;  /* start with a short/guessable admin_token */
        double failure_rate;     /* failed auths per second per address; 0 = off */
        unsigned failure_burst;
    } auth;
    struct {
        char *driver;            /* sqlite | postgres */
        char *sqlite_path;       /* relative to data_dir */
        int64_t busy_timeout_ms;
        unsigned pool_size;
        char *postgres_dsn;      /* secret */
    } store;
    struct {
        unsigned chunk_max_chars;
        uint64_t max_document_bytes;
        int64_t extract_timeout_ms;
        unsigned search_k_default;
        char *embed_url;         /* "" = no vectors; http:// or https:// */
        char *embed_api;         /* openai | ollama */
        char *embed_model;
        char *embed_api_key;     /* secret; sent as Authorization: Bearer */
        int64_t embed_timeout_ms;
        unsigned embed_batch;
    } knowledge;
    struct {
        unsigned workers;
        unsigned batch;            /* jobs claimed and written together */
        int64_t lease_ms;
        unsigned max_attempts;
        int64_t backoff_initial_ms;
        int64_t backoff_max_ms;
        unsigned queue_per_source;
        int64_t poll_ms;
        int64_t retention_ms;
    } jobs;
    struct {
        char *driver;            /* auto|docker|process: default for projects */
        char *docker_host;       /* "" = $DOCKER_HOST, else unix:///var/run/docker.sock */
        uint64_t log_max_bytes;  /* process driver: one log file before rotation */
        unsigned log_files;      /* process driver: rotated files kept */
        int64_t start_timeout_ms;
        int64_t restart_backoff_max_ms;
        int64_t restart_stable_ms; /* running this long resets the backoff */
        unsigned breaker_restarts; /* restarts within breaker_window -> failed */
        int64_t breaker_window_ms;
        unsigned unhealthy_limit;  /* failing probes in a row before restart on unhealthy */
        int64_t unhealthy_grace_ms;/* after a start, unhealthy is not acted on */
        /* Default limits for services that set none (SPEC 3, "Resources"),
         * by role: a service is matched by name, then by image. */
        struct {
            double cpus;
            uint64_t memory;
            unsigned pids;
        } limits_postgres, limits_redis, limits_backend, limits_frontend, limits_default;
    } orchestrator;
    struct {
        char *ca_file;           /* "" = the system CA bundle */
        char *proxy;             /* "" = http_proxy/https_proxy/no_proxy from the environment */
        int64_t connect_timeout_ms;
        int64_t timeout_ms;      /* one request, all redirects included */
        uint64_t low_speed_limit; /* bytes/s; slower for low_speed_time aborts; 0 = off */
        int64_t low_speed_time_ms;
        unsigned max_redirects;
        uint64_t max_bytes;      /* one answer's body */
        char *allow_networks;    /* CIDRs the SSRF guard lets through, "," or blank separated */
        unsigned per_host_concurrency;
        int64_t host_delay_ms;   /* between two request starts to one host */
        int64_t retry_after_max_ms; /* longest Retry-After wait; beyond: the job backs off */
        char *user_agent;        /* "" = CommandCenter/<version> (+docs URL) */
    } fetch;
    struct {
        char *github_secret;     /* secret; "" = per-source secrets only */
        uint64_t max_body_bytes; /* the webhook routes' body limit */
        int64_t replay_window_ms;
        int64_t delivery_retention_ms;
        unsigned max_documents;  /* per generic delivery */
    } webhooks;
    struct {
        int64_t retention_ms;      /* resolved alerts are pruned after this */
        unsigned max_stored;       /* alerts kept at once */
    } alerts;
    struct {
        char *allowed_roots;     /* ':'-separated absolute directories; "" = none */
        int64_t watch_debounce_ms;
    } sources;
};

/* Fills every key with its default. Must be called before anything else. */
void cc_config_init(struct cc_config *c);
void cc_config_release(struct cc_config *c);

/* Applies a YAML file over the current values. `name` is used in messages. */
cc_err cc_config_load_file(struct cc_config *c, const char *path, struct cc_diag *d);
cc_err cc_config_load_string(struct cc_config *c, const char *yaml, size_t len,
                             const char *name, struct cc_diag *d);
/* Applies CC_* variables from envp (NULL-terminated "K=V" list). */
cc_err cc_config_apply_env(struct cc_config *c, char *const *envp, struct cc_diag *d);
/* Cross-key checks and derived values (data_dir default from XDG_DATA_HOME
 * or HOME; relative paths are left relative to data_dir). */
cc_err cc_config_finish(struct cc_config *c, char *const *envp, struct cc_diag *d);

/* The effective configuration as YAML, secrets shown as "[REDACTED]". */
cc_err cc_config_dump(const struct cc_config *c, struct cc_buf *out);
/* Markdown reference of every key: path, type, default, env var, text. */
cc_err cc_config_reference(struct cc_buf *out);
/* The example configuration file: every key commented out with its
 * default and its description, as YAML (deploy/commandcenter.example.yml). */
cc_err cc_config_example(struct cc_buf *out);

/* Joins data_dir and a relative path (absolute paths returned as copies).
 * Caller frees. */
char *cc_config_path(const struct cc_config *c, const char *rel);

/* Reads a secret file the way secret keys' *_file are read: a regular
 * file of at most 64 KiB, one trailing "\n" or "\r\n" stripped. On CC_OK
 * *out is a heap string the caller frees; CC_EIO with why otherwise. */
cc_err cc_config_read_secret(const char *path, char **out, char *why, size_t whysz);

#endif
