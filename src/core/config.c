/*
 * config.c - the key table and everything derived from it apart from YAML
 * (config_yaml.c): defaults, value parsing, environment overrides,
 * validation, the effective-config dump and the Markdown reference.
 *
 * Decisions:
 *   - Defaults are strings parsed by the same code as YAML and environment
 *     values, so a default can never bypass a check; an invalid default is a
 *     programming error and aborts in cc_config_init.
 *   - Applying the environment is all-or-nothing, like loading a file: it
 *     works on a copy that replaces the caller's config only on success.
 *   - Secret files must be regular files (opened O_NONBLOCK so a FIFO cannot
 *     hang start-up); relative secret paths are relative to the working
 *     directory, as a shell user would expect.
 */
#include "core/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/config_int.h"

#define MAX_SECRET_BYTES (64 * 1024)
#define MAX_PATH         CC_CFG_MAX_PATH
#define WHY_MAX          CC_CFG_WHY_MAX

static bool check_listen(const char *s, char *why, size_t whysz);
static bool check_embed_url(const char *s, char *why, size_t whysz);

static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const log_formats[] = {"auto", "json", "text", NULL};
static const char *const store_drivers[] = {"sqlite", "postgres", NULL};
static const char *const orch_drivers[] = {"auto", "docker", "process", NULL};
static const char *const embed_apis[] = {"openai", "ollama", NULL};

#define OFF(field) offsetof(struct cc_config, field)
#define KIB        1024LL
#define MIB        (1024LL * 1024)
#define GIB        (1024LL * 1024 * 1024)
#define SEC        1000LL
#define HOUR       (3600LL * 1000)

static const struct cc_cfg_key keys[] = {
    {.path = "data_dir",
     .type = CC_CFG_STRING,
     .offset = OFF(data_dir),
     .def = "",
     .help = "Directory for the database, tokens and other state. Empty means "
             "$XDG_DATA_HOME/commandcenter, or $HOME/.local/share/commandcenter."},
    {.path = "http.listen",
     .type = CC_CFG_STRING,
     .offset = OFF(http.listen),
     .def = "127.0.0.1:8470",
     .check = check_listen,
     .help = "Address of the HTTP server: host:port, [ipv6]:port, or :port for "
             "every interface."},
    {.path = "http.threads",
     .type = CC_CFG_UINT,
     .offset = OFF(http.threads),
     .def = "0",
     .min = 0,
     .max = 256,
     .help = "Worker threads; 0 means one per CPU."},
    {.path = "http.max_connections",
     .type = CC_CFG_UINT,
     .offset = OFF(http.max_connections),
     .def = "1024",
     .min = 1,
     .max = 100000,
     .help = "Connections served at once; more are refused."},
    {.path = "http.max_header_bytes",
     .type = CC_CFG_SIZE,
     .offset = OFF(http.max_header_bytes),
     .def = "16KiB",
     .min = KIB,
     .max = MIB,
     .help = "Largest request head (request line and headers)."},
    {.path = "http.max_body_bytes",
     .type = CC_CFG_SIZE,
     .offset = OFF(http.max_body_bytes),
     .def = "1MiB",
     .min = KIB,
     .max = GIB,
     .help = "Largest request body."},
    {.path = "http.read_timeout",
     .type = CC_CFG_DURATION,
     .offset = OFF(http.read_timeout_ms),
     .def = "30s",
     .min = 1,
     .max = 24 * HOUR,
     .help = "Time a client may take to send a request."},
    {.path = "http.shutdown_timeout",
     .type = CC_CFG_DURATION,
     .offset = OFF(http.shutdown_timeout_ms),
     .def = "10s",
     .min = 0,
     .max = HOUR,
     .help = "Time in-flight requests get to finish on shutdown."},
    {.path = "http.public_metrics",
     .type = CC_CFG_BOOL,
     .offset = OFF(http.public_metrics),
     .def = "true",
     .help = "Serve /metrics without a token."},
    {.path = "http.rate_limit_rps",
     .type = CC_CFG_DOUBLE,
     .offset = OFF(http.rate_limit_rps),
     .def = "50",
     .dmin = 0,
     .dmax = 1e6,
     .help = "Sustained requests per second per token or client address; 0 turns "
             "rate limiting off."},
    {.path = "http.rate_limit_burst",
     .type = CC_CFG_UINT,
     .offset = OFF(http.rate_limit_burst),
     .def = "100",
     .min = 1,
     .max = 1000000,
     .help = "Requests a client may send at once before the rate applies."},
    {.path = "http.rate_limit_clients",
     .type = CC_CFG_UINT,
     .offset = OFF(http.rate_limit_clients),
     .def = "10000",
     .min = 16,
     .max = 10000000,
     .help = "Distinct clients tracked by the rate limiter; the least recently "
             "seen are forgotten first."},
    {.path = "log.level",
     .type = CC_CFG_ENUM,
     .offset = OFF(log.level),
     .def = "info",
     .values = log_levels,
     .help = "Least severe level that is written."},
    {.path = "log.format",
     .type = CC_CFG_ENUM,
     .offset = OFF(log.format),
     .def = "auto",
     .values = log_formats,
     .help = "Log line format; auto is text on a terminal and JSON otherwise."},
    {.path = "auth.admin_token",
     .type = CC_CFG_STRING,
     .offset = OFF(auth.admin_token),
     .def = "",
     .flags = CC_CFG_SECRET,
     .help = "An extra admin token accepted besides the stored ones; empty means none."},
    {.path = "auth.bootstrap_token_file",
     .type = CC_CFG_STRING,
     .offset = OFF(auth.bootstrap_token_file),
     .def = "admin.token",
     .help = "Where the first admin token is written on first start; relative to "
             "data_dir."},
    {.path = "store.driver",
     .type = CC_CFG_ENUM,
     .offset = OFF(store.driver),
     .def = "sqlite",
     .values = store_drivers,
     .help = "Storage backend."},
    {.path = "store.sqlite_path",
     .type = CC_CFG_STRING,
     .offset = OFF(store.sqlite_path),
     .def = "commandcenter.db",
     .help = "SQLite database file; relative to data_dir."},
    {.path = "store.busy_timeout",
     .type = CC_CFG_DURATION,
     .offset = OFF(store.busy_timeout_ms),
     .def = "5s",
     .min = 0,
     .max = HOUR,
     .help = "How long a query waits for a locked database."},
    {.path = "store.pool_size",
     .type = CC_CFG_UINT,
     .offset = OFF(store.pool_size),
     .def = "4",
     .min = 1,
     .max = 64,
     .help = "Database connections kept open."},
    {.path = "store.postgres_dsn",
     .type = CC_CFG_STRING,
     .offset = OFF(store.postgres_dsn),
     .def = "",
     .flags = CC_CFG_SECRET,
     .help = "PostgreSQL connection string (libpq: \"host=... dbname=...\" or postgresql://...) for store.driver postgres."},
    {.path = "knowledge.chunk_max_chars",
     .type = CC_CFG_UINT,
     .offset = OFF(knowledge.chunk_max_chars),
     .def = "2000",
     .min = 200,
     .max = 100000,
     .help = "Longest passage, in characters; documents are cut at headings, then "
             "at paragraph, sentence and word boundaries to stay under it."},
    {.path = "knowledge.max_document_bytes",
     .type = CC_CFG_SIZE,
     .offset = OFF(knowledge.max_document_bytes),
     .def = "32MiB",
     .min = KIB,
     .max = GIB,
     .help = "Largest document (file or upload) the pipeline accepts."},
    {.path = "knowledge.extract_timeout",
     .type = CC_CFG_DURATION,
     .offset = OFF(knowledge.extract_timeout_ms),
     .def = "30s",
     .min = 1000,
     .max = HOUR,
     .help = "Time text extraction of one document may take (PDF)."},
    {.path = "knowledge.search_k_default",
     .type = CC_CFG_UINT,
     .offset = OFF(knowledge.search_k_default),
     .def = "10",
     .min = 1,
     .max = 100,
     .help = "Passages a search returns when the request gives no k."},
    {.path = "knowledge.embed_url",
     .type = CC_CFG_STRING,
     .offset = OFF(knowledge.embed_url),
     .def = "",
     .check = check_embed_url,
     .help = "Embedding endpoint; empty means search is BM25 alone. E.g. "
             "http://127.0.0.1:11434/api/embeddings (Ollama) or http://host/v1/embeddings "
             "(OpenAI-compatible). Plain http:// only: put a local proxy in front of an "
             "https endpoint."},
    {.path = "knowledge.embed_api",
     .type = CC_CFG_ENUM,
     .offset = OFF(knowledge.embed_api),
     .def = "openai",
     .values = embed_apis,
     .help = "Protocol of the embedding endpoint: openai (/v1/embeddings, batched) or "
             "ollama (/api/embeddings, one text per call)."},
    {.path = "knowledge.embed_model",
     .type = CC_CFG_STRING,
     .offset = OFF(knowledge.embed_model),
     .def = "",
     .help = "Embedding model name sent to the endpoint; required with embed_url. "
             "Changing it makes stored vectors of the old model unused until documents "
             "are re-ingested."},
    {.path = "knowledge.embed_api_key",
     .type = CC_CFG_STRING,
     .offset = OFF(knowledge.embed_api_key),
     .def = "",
     .flags = CC_CFG_SECRET,
     .help = "Sent as Authorization: Bearer to the embedding endpoint; empty means none."},
    {.path = "knowledge.embed_timeout",
     .type = CC_CFG_DURATION,
     .offset = OFF(knowledge.embed_timeout_ms),
     .def = "30s",
     .min = 100,
     .max = HOUR,
     .help = "Time one call to the embedding endpoint may take."},
    {.path = "knowledge.embed_batch",
     .type = CC_CFG_UINT,
     .offset = OFF(knowledge.embed_batch),
     .def = "32",
     .min = 1,
     .max = 256,
     .help = "Passages sent in one call to an openai endpoint."},
    {.path = "jobs.workers",
     .type = CC_CFG_UINT,
     .offset = OFF(jobs.workers),
     .def = "2",
     .min = 1,
     .max = 64,
     .help = "Threads that run ingestion jobs."},
    {.path = "jobs.lease",
     .type = CC_CFG_DURATION,
     .offset = OFF(jobs.lease_ms),
     .def = "30s",
     .min = 1000,
     .max = HOUR,
     .help = "How long a claimed job stays claimed without a heartbeat; a job whose "
             "worker died runs again after it."},
    {.path = "jobs.max_attempts",
     .type = CC_CFG_UINT,
     .offset = OFF(jobs.max_attempts),
     .def = "5",
     .min = 1,
     .max = 100,
     .help = "Tries before a failing job is dead (dead jobs wait for 'jobs retry')."},
    {.path = "jobs.backoff_initial",
     .type = CC_CFG_DURATION,
     .offset = OFF(jobs.backoff_initial_ms),
     .def = "1s",
     .min = 1,
     .max = HOUR,
     .help = "Wait before the second try; it doubles with each failure, with jitter."},
    {.path = "jobs.backoff_max",
     .type = CC_CFG_DURATION,
     .offset = OFF(jobs.backoff_max_ms),
     .def = "5m",
     .min = 1,
     .max = 24 * HOUR,
     .help = "Longest wait between tries."},
    {.path = "jobs.queue_per_source",
     .type = CC_CFG_UINT,
     .offset = OFF(jobs.queue_per_source),
     .def = "1000",
     .min = 1,
     .max = 10000000,
     .help = "Unfinished jobs one source may have; more are refused (HTTP 429) until "
             "the queue drains."},
    {.path = "jobs.batch",
     .type = CC_CFG_UINT,
     .offset = OFF(jobs.batch),
     .def = "256",
     .min = 1,
     .max = 256,
     .help = "Most jobs a worker claims at once (it claims about a second of work); their "
             "documents and results are written in one transaction."},
    {.path = "jobs.poll",
     .type = CC_CFG_DURATION,
     .offset = OFF(jobs.poll_ms),
     .def = "1s",
     .min = 10,
     .max = 60000,
     .help = "How often idle workers look for jobs queued by another daemon."},
    {.path = "jobs.retention",
     .type = CC_CFG_DURATION,
     .offset = OFF(jobs.retention_ms),
     .def = "7d",
     .min = 60000,
     .max = 3650 * 24 * HOUR,
     .help = "How long succeeded jobs are kept before they are pruned."},
    {.path = "orchestrator.driver",
     .type = CC_CFG_ENUM,
     .offset = OFF(orchestrator.driver),
     .def = "auto",
     .values = orch_drivers,
     .help = "Driver of projects whose compose file names none (x-commandcenter.driver): "
             "auto uses docker when an engine answers, else process."},
    {.path = "orchestrator.docker_host",
     .type = CC_CFG_STRING,
     .offset = OFF(orchestrator.docker_host),
     .def = "",
     .help = "Docker (or Podman) engine address, unix:///path or tcp://127.0.0.1:port. Empty "
             "means $DOCKER_HOST, else unix:///var/run/docker.sock."},
    {.path = "orchestrator.log_max_bytes",
     .type = CC_CFG_SIZE,
     .offset = OFF(orchestrator.log_max_bytes),
     .def = "10MiB",
     .min = 64 * KIB,
     .max = 64 * GIB,
     .help = "Process driver: size of a service's log file before it is rotated."},
    {.path = "orchestrator.log_files",
     .type = CC_CFG_UINT,
     .offset = OFF(orchestrator.log_files),
     .def = "3",
     .min = 1,
     .max = 100,
     .help = "Process driver: log files kept per service, the current one included."},
    {.path = "orchestrator.start_timeout",
     .type = CC_CFG_DURATION,
     .offset = OFF(orchestrator.start_timeout_ms),
     .def = "5m",
     .min = 100,
     .max = 24 * HOUR,
     .help = "Time a service may take to meet its dependants' condition (started, healthy, "
             "completed) before they are given up; x-commandcenter.start_timeout per service."},
    {.path = "orchestrator.restart_backoff_max",
     .type = CC_CFG_DURATION,
     .offset = OFF(orchestrator.restart_backoff_max_ms),
     .def = "5m",
     .min = 1000,
     .max = 24 * HOUR,
     .help = "Longest wait between restarts; waits go 1s, 2s, 4s ... with jitter."},
    {.path = "orchestrator.restart_stable",
     .type = CC_CFG_DURATION,
     .offset = OFF(orchestrator.restart_stable_ms),
     .def = "1m",
     .min = 1000,
     .max = 24 * HOUR,
     .help = "A service running this long has its restart backoff reset to 1s."},
    {.path = "orchestrator.breaker_restarts",
     .type = CC_CFG_UINT,
     .offset = OFF(orchestrator.breaker_restarts),
     .def = "5",
     .min = 1,
     .max = 1000,
     .help = "Restarts within breaker_window after which a service is marked failed and "
             "left alone until an operator restarts it."},
    {.path = "orchestrator.breaker_window",
     .type = CC_CFG_DURATION,
     .offset = OFF(orchestrator.breaker_window_ms),
     .def = "10m",
     .min = 1000,
     .max = 24 * HOUR,
     .help = "Window in which breaker_restarts restarts mark a service failed."},
    {.path = "orchestrator.unhealthy_limit",
     .type = CC_CFG_UINT,
     .offset = OFF(orchestrator.unhealthy_limit),
     .def = "3",
     .min = 1,
     .max = 1000,
     .help = "Default for x-commandcenter.restart_on_unhealthy.limit: unhealthy checks in a "
             "row (after the probe's retries) before the service is restarted."},
    {.path = "orchestrator.unhealthy_grace",
     .type = CC_CFG_DURATION,
     .offset = OFF(orchestrator.unhealthy_grace_ms),
     .def = "10s",
     .min = 0,
     .max = 24 * HOUR,
     .help = "Default for x-commandcenter.restart_on_unhealthy.grace: after a start, "
             "failing probes are not acted on for this long (on top of start_period)."},
    {.path = "orchestrator.limits.postgres.cpus",
     .type = CC_CFG_DOUBLE,
     .offset = OFF(orchestrator.limits_postgres.cpus),
     .def = "1",
     .dmin = 0,
     .dmax = 1024,
     .help = "CPUs for a postgres service that sets no deploy.resources.limits.cpus; 0 = unlimited."},
    {.path = "orchestrator.limits.postgres.memory",
     .type = CC_CFG_SIZE,
     .offset = OFF(orchestrator.limits_postgres.memory),
     .def = "2GiB",
     .min = 0,
     .max = 1024 * GIB,
     .help = "Memory for a postgres service that sets no deploy.resources.limits.memory; 0 = unlimited."},
    {.path = "orchestrator.limits.postgres.pids",
     .type = CC_CFG_UINT,
     .offset = OFF(orchestrator.limits_postgres.pids),
     .def = "512",
     .min = 0,
     .max = 4194304,
     .help = "Processes for a postgres service that sets no deploy.resources.limits.pids; 0 = unlimited."},
    {.path = "orchestrator.limits.redis.cpus",
     .type = CC_CFG_DOUBLE,
     .offset = OFF(orchestrator.limits_redis.cpus),
     .def = "0.5",
     .dmin = 0,
     .dmax = 1024,
     .help = "CPUs for a redis service that sets no deploy.resources.limits.cpus; 0 = unlimited."},
    {.path = "orchestrator.limits.redis.memory",
     .type = CC_CFG_SIZE,
     .offset = OFF(orchestrator.limits_redis.memory),
     .def = "512MiB",
     .min = 0,
     .max = 1024 * GIB,
     .help = "Memory for a redis service that sets no deploy.resources.limits.memory; 0 = unlimited."},
    {.path = "orchestrator.limits.redis.pids",
     .type = CC_CFG_UINT,
     .offset = OFF(orchestrator.limits_redis.pids),
     .def = "256",
     .min = 0,
     .max = 4194304,
     .help = "Processes for a redis service that sets no deploy.resources.limits.pids; 0 = unlimited."},
    {.path = "orchestrator.limits.backend.cpus",
     .type = CC_CFG_DOUBLE,
     .offset = OFF(orchestrator.limits_backend.cpus),
     .def = "1",
     .dmin = 0,
     .dmax = 1024,
     .help = "CPUs for a backend service that sets no deploy.resources.limits.cpus; 0 = unlimited."},
    {.path = "orchestrator.limits.backend.memory",
     .type = CC_CFG_SIZE,
     .offset = OFF(orchestrator.limits_backend.memory),
     .def = "1GiB",
     .min = 0,
     .max = 1024 * GIB,
     .help = "Memory for a backend service that sets no deploy.resources.limits.memory; 0 = unlimited."},
    {.path = "orchestrator.limits.backend.pids",
     .type = CC_CFG_UINT,
     .offset = OFF(orchestrator.limits_backend.pids),
     .def = "1024",
     .min = 0,
     .max = 4194304,
     .help = "Processes for a backend service that sets no deploy.resources.limits.pids; 0 = unlimited."},
    {.path = "orchestrator.limits.frontend.cpus",
     .type = CC_CFG_DOUBLE,
     .offset = OFF(orchestrator.limits_frontend.cpus),
     .def = "0.5",
     .dmin = 0,
     .dmax = 1024,
     .help = "CPUs for a frontend service that sets no deploy.resources.limits.cpus; 0 = unlimited."},
    {.path = "orchestrator.limits.frontend.memory",
     .type = CC_CFG_SIZE,
     .offset = OFF(orchestrator.limits_frontend.memory),
     .def = "512MiB",
     .min = 0,
     .max = 1024 * GIB,
     .help = "Memory for a frontend service that sets no deploy.resources.limits.memory; 0 = unlimited."},
    {.path = "orchestrator.limits.frontend.pids",
     .type = CC_CFG_UINT,
     .offset = OFF(orchestrator.limits_frontend.pids),
     .def = "256",
     .min = 0,
     .max = 4194304,
     .help = "Processes for a frontend service that sets no deploy.resources.limits.pids; 0 = unlimited."},
    {.path = "orchestrator.limits.default.cpus",
     .type = CC_CFG_DOUBLE,
     .offset = OFF(orchestrator.limits_default.cpus),
     .def = "0",
     .dmin = 0,
     .dmax = 1024,
     .help = "CPUs for any other service that sets no deploy.resources.limits.cpus; 0 = unlimited."},
    {.path = "orchestrator.limits.default.memory",
     .type = CC_CFG_SIZE,
     .offset = OFF(orchestrator.limits_default.memory),
     .def = "0",
     .min = 0,
     .max = 1024 * GIB,
     .help = "Memory for any other service that sets no deploy.resources.limits.memory; 0 = unlimited."},
    {.path = "orchestrator.limits.default.pids",
     .type = CC_CFG_UINT,
     .offset = OFF(orchestrator.limits_default.pids),
     .def = "0",
     .min = 0,
     .max = 4194304,
     .help = "Processes for any other service that sets no deploy.resources.limits.pids; 0 = unlimited."},
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

const struct cc_cfg_key *const cc__cfg_keys = keys;
const size_t cc__cfg_nkeys = NKEYS;

union value {
    const char *str;      /* CC_CFG_STRING, CC_CFG_ENUM: borrowed */
    bool b;
    unsigned u;
    double d;
    int64_t ms;
    uint64_t bytes;
};

/* ---------------------------------------------------------------------------
 * Formatting values (dump, reference and messages share these)
 */

static void fmt_duration(int64_t ms, char *out, size_t outsz)
{
    static const struct { const char *name; int64_t ms; } units[] = {
        {"d", 24 * HOUR}, {"h", HOUR}, {"m", 60 * SEC}, {"s", SEC},
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (ms > 0 && ms % units[i].ms == 0) {
            snprintf(out, outsz, "%" PRId64 "%s", ms / units[i].ms, units[i].name);
            return;
        }
    }
    snprintf(out, outsz, ms ? "%" PRId64 "ms" : "%" PRId64 "s", ms);
}

static void fmt_size(uint64_t bytes, char *out, size_t outsz)
{
    static const struct { const char *name; uint64_t mult; } units[] = {
        {"GiB", GIB}, {"MiB", MIB}, {"KiB", KIB},
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (bytes > 0 && bytes % units[i].mult == 0) {
            snprintf(out, outsz, "%" PRIu64 "%s", bytes / units[i].mult, units[i].name);
            return;
        }
    }
    snprintf(out, outsz, "%" PRIu64, bytes);
}

/* Shortest text that reads back as the same double. */
static void fmt_double(double v, char *out, size_t outsz)
{
    snprintf(out, outsz, "%.15g", v);
    if (strtod(out, NULL) != v)
        snprintf(out, outsz, "%.17g", v);
}

/* Non-string values as text; strings are returned as they are. */
static const char *fmt_value(const struct cc_cfg_key *k, const union value *v, char *out,
                             size_t outsz)
{
    switch (k->type) {
    case CC_CFG_STRING:
    case CC_CFG_ENUM:
        return v->str ? v->str : "";
    case CC_CFG_BOOL:
        return v->b ? "true" : "false";
    case CC_CFG_UINT:
        snprintf(out, outsz, "%u", v->u);
        break;
    case CC_CFG_DOUBLE:
        fmt_double(v->d, out, outsz);
        break;
    case CC_CFG_DURATION:
        fmt_duration(v->ms, out, outsz);
        break;
    case CC_CFG_SIZE:
        fmt_size(v->bytes, out, outsz);
        break;
    }
    return out;
}

static void enum_list(const struct cc_cfg_key *k, const char *sep, char *out, size_t outsz)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; k->values[i] && n < outsz; i++) {
        int w = snprintf(out + n, outsz - n, "%s%s", i ? sep : "", k->values[i]);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}

/* A bounded, printable excerpt of user input for messages. */
void cc__cfg_excerpt(const char *s, char *out, size_t outsz)
{
    size_t n = 0;
    for (; *s && n + 4 < outsz && n < 40; s++)
        out[n++] = (*s >= 0x20 && *s != 0x7f) ? *s : '?';
    if (*s && n + 4 <= outsz) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

/* ---------------------------------------------------------------------------
 * Parsing one value: the same code for defaults, YAML and the environment
 */

static bool parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
            *out = strcasecmp(s, yes[i]) == 0;
            return true;
        }
    }
    return false;
}

static bool parse_uint(const struct cc_cfg_key *k, const char *s, unsigned *out, char *why,
                       size_t whysz)
{
    snprintf(why, whysz, "expected an integer between %" PRId64 " and %" PRId64,
             k->min, k->max);
    if (!isdigit((unsigned char)s[0]))
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < (unsigned long long)k->min || v > (unsigned long long)k->max)
        return false;
    *out = (unsigned)v;
    return true;
}

static bool parse_double(const struct cc_cfg_key *k, const char *s, double *out, char *why,
                         size_t whysz)
{
    char lo[32], hi[32];
    fmt_double(k->dmin, lo, sizeof(lo));
    fmt_double(k->dmax, hi, sizeof(hi));
    snprintf(why, whysz, "expected a number between %s and %s", lo, hi);
    /* strtod also takes "inf", "nan", hex and leading blanks: none belong here */
    if (!strchr("0123456789+-.", s[0]) || !s[0] || strpbrk(s, "xXnN"))
        return false;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < k->dmin || v > k->dmax)
        return false;
    *out = v;
    return true;
}

static bool parse_duration(const struct cc_cfg_key *k, const char *s, int64_t *out,
                           char *why, size_t whysz)
{
    int64_t ms;
    if (cc_parse_duration_ms(s, &ms, NULL) != CC_OK) {
        snprintf(why, whysz, "expected a duration like 10s or 500ms");
        return false;
    }
    if (ms < k->min || ms > k->max) {
        char lo[32], hi[32];
        fmt_duration(k->min, lo, sizeof(lo));
        fmt_duration(k->max, hi, sizeof(hi));
        snprintf(why, whysz, "expected a duration between %s and %s", lo, hi);
        return false;
    }
    *out = ms;
    return true;
}

static bool parse_size(const struct cc_cfg_key *k, const char *s, uint64_t *out, char *why,
                       size_t whysz)
{
    uint64_t bytes;
    if (cc_parse_size(s, CC_SIZE_KB_IS_1000, &bytes, NULL) != CC_OK) {
        snprintf(why, whysz, "expected a size like 64k or 1MiB");
        return false;
    }
    if (bytes < (uint64_t)k->min || bytes > (uint64_t)k->max) {
        char lo[32], hi[32];
        fmt_size((uint64_t)k->min, lo, sizeof(lo));
        fmt_size((uint64_t)k->max, hi, sizeof(hi));
        snprintf(why, whysz, "expected a size between %s and %s", lo, hi);
        return false;
    }
    *out = bytes;
    return true;
}

static bool parse_enum(const struct cc_cfg_key *k, const char *s, const char **out,
                       char *why, size_t whysz)
{
    for (size_t i = 0; k->values[i]; i++) {
        if (strcasecmp(s, k->values[i]) == 0) {
            *out = k->values[i];
            return true;
        }
    }
    char list[128];
    enum_list(k, ", ", list, sizeof(list));
    snprintf(why, whysz, "expected one of: %s", list);
    return false;
}

/* Parses `s` for key `k`; on failure `why` says what is expected. */
static bool parse_value(const struct cc_cfg_key *k, const char *s, union value *out,
                        char *why, size_t whysz)
{
    union value v = {0};
    bool ok = false;
    switch (k->type) {
    case CC_CFG_STRING:
        v.str = s;
        ok = !k->check || k->check(s, why, whysz);
        break;
    case CC_CFG_BOOL:
        ok = parse_bool(s, &v.b);
        if (!ok)
            snprintf(why, whysz, "expected a boolean (true/false)");
        break;
    case CC_CFG_UINT:
        ok = parse_uint(k, s, &v.u, why, whysz);
        break;
    case CC_CFG_DOUBLE:
        ok = parse_double(k, s, &v.d, why, whysz);
        break;
    case CC_CFG_DURATION:
        ok = parse_duration(k, s, &v.ms, why, whysz);
        break;
    case CC_CFG_SIZE:
        ok = parse_size(k, s, &v.bytes, why, whysz);
        break;
    case CC_CFG_ENUM:
        ok = parse_enum(k, s, &v.str, why, whysz);
        break;
    }
    if (ok)
        *out = v;
    return ok;
}

/* What a key wants, for "expected X, got a mapping". */
void cc__cfg_expected_noun(const struct cc_cfg_key *k, char *out, size_t outsz)
{
    static const char *const nouns[] = {
        [CC_CFG_STRING] = "a string", [CC_CFG_BOOL] = "a boolean (true/false)",
        [CC_CFG_UINT] = "an integer", [CC_CFG_DOUBLE] = "a number",
        [CC_CFG_DURATION] = "a duration like 10s or 500ms",
        [CC_CFG_SIZE] = "a size like 64k or 1MiB",
    };
    if (k->type == CC_CFG_ENUM) {
        char list[128];
        enum_list(k, ", ", list, sizeof(list));
        snprintf(out, outsz, "one of: %s", list);
    } else {
        snprintf(out, outsz, "%s", nouns[k->type]);
    }
}

/* ---------------------------------------------------------------------------
 * Storing values into struct cc_config through the table
 */

static void *field(struct cc_config *c, const struct cc_cfg_key *k)
{
    return (char *)c + k->offset;
}

static const void *cfield(const struct cc_config *c, const struct cc_cfg_key *k)
{
    return (const char *)c + k->offset;
}

static bool is_string(const struct cc_cfg_key *k)
{
    return k->type == CC_CFG_STRING || k->type == CC_CFG_ENUM;
}

static void store_value(struct cc_config *c, const struct cc_cfg_key *k,
                        const union value *v)
{
    void *f = field(c, k);
    switch (k->type) {
    case CC_CFG_STRING:
    case CC_CFG_ENUM: {
        char *copy = cc_xstrdup(v->str);
        free(*(char **)f);
        *(char **)f = copy;
        break;
    }
    case CC_CFG_BOOL:
        *(bool *)f = v->b;
        break;
    case CC_CFG_UINT:
        *(unsigned *)f = v->u;
        break;
    case CC_CFG_DOUBLE:
        *(double *)f = v->d;
        break;
    case CC_CFG_DURATION:
        *(int64_t *)f = v->ms;
        break;
    case CC_CFG_SIZE:
        *(uint64_t *)f = v->bytes;
        break;
    }
}

static void load_value(const struct cc_config *c, const struct cc_cfg_key *k,
                       union value *v)
{
    const void *f = cfield(c, k);
    switch (k->type) {
    case CC_CFG_STRING:
    case CC_CFG_ENUM:
        v->str = *(char *const *)f;
        break;
    case CC_CFG_BOOL:
        v->b = *(const bool *)f;
        break;
    case CC_CFG_UINT:
        v->u = *(const unsigned *)f;
        break;
    case CC_CFG_DOUBLE:
        v->d = *(const double *)f;
        break;
    case CC_CFG_DURATION:
        v->ms = *(const int64_t *)f;
        break;
    case CC_CFG_SIZE:
        v->bytes = *(const uint64_t *)f;
        break;
    }
}

/* Parses and stores `s`; on failure `why` says what is expected. */
bool cc__cfg_set_text(struct cc_config *c, const struct cc_cfg_key *k, const char *s,
                      char *why, size_t whysz)
{
    union value v;
    if (!parse_value(k, s, &v, why, whysz))
        return false;
    store_value(c, k, &v);
    return true;
}

/* The table's own invariants; a violation is a programming error. */
static const char *table_error(const struct cc_cfg_key *k)
{
    if (k->check && k->type != CC_CFG_STRING)
        return "a check is for string keys only";
    if (k->type == CC_CFG_ENUM && !k->values)
        return "an enum needs its values";
    if ((k->type == CC_CFG_UINT || k->type == CC_CFG_DURATION || k->type == CC_CFG_SIZE) &&
        (k->min < 0 || k->min > k->max || (k->type == CC_CFG_UINT && k->max > UINT_MAX)))
        return "bad range";
    if (k->type == CC_CFG_DOUBLE && !(k->dmin <= k->dmax))
        return "bad range";
    return NULL;
}

void cc_config_init(struct cc_config *c)
{
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < NKEYS; i++) {
        char why[WHY_MAX];
        const char *bad = table_error(&keys[i]);
        if (!bad && !cc__cfg_set_text(c, &keys[i], keys[i].def, why, sizeof(why)))
            bad = why;
        if (bad) {
            fprintf(stderr, "config: key table: %s: %s\n", keys[i].path, bad);
            abort();
        }
    }
}

void cc_config_release(struct cc_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < NKEYS; i++) {
        if (is_string(&keys[i])) {
            char **p = field(c, &keys[i]);
            free(*p);
            *p = NULL;
        }
    }
}

/* A deep copy, so a failed load leaves the caller's config untouched. */
void cc__cfg_copy(struct cc_config *dst, const struct cc_config *src)
{
    *dst = *src;
    for (size_t i = 0; i < NKEYS; i++) {
        if (is_string(&keys[i])) {
            char **p = field(dst, &keys[i]);
            *p = cc_xstrdup(*p ? *p : "");
        }
    }
}

void cc__cfg_replace(struct cc_config *c, struct cc_config *next)
{
    cc_config_release(c);
    *c = *next;
    memset(next, 0, sizeof(*next));
}

/* ---------------------------------------------------------------------------
 * Key lookup
 */

const struct cc_cfg_key *cc__cfg_find(const char *path)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].path, path) == 0)
            return &keys[i];
    return NULL;
}

/* True if some key lives below `path` ("http" for "http.listen"). */
bool cc__cfg_is_section(const char *path)
{
    size_t n = strlen(path);
    for (size_t i = 0; i < NKEYS; i++)
        if (strncmp(keys[i].path, path, n) == 0 && keys[i].path[n] == '.')
            return true;
    return false;
}

/* "auth.admin_token_file" -> the secret key auth.admin_token. */
const struct cc_cfg_key *cc__cfg_find_secret_file(const char *path)
{
    size_t n = strlen(path);
    if (n <= 5 || strcmp(path + n - 5, "_file") != 0)
        return NULL;
    for (size_t i = 0; i < NKEYS; i++)
        if ((keys[i].flags & CC_CFG_SECRET) && strlen(keys[i].path) == n - 5 &&
            strncmp(keys[i].path, path, n - 5) == 0)
            return &keys[i];
    return NULL;
}

/* ---------------------------------------------------------------------------
 * Secret files
 */

void cc__cfg_errno_why(char *why, size_t whysz, const char *path, int err)
{
    char text[128];
    if (strerror_r(err, text, sizeof(text)) != 0)
        snprintf(text, sizeof(text), "error %d", err);
    snprintf(why, whysz, "cannot read '%s': %s", path, text);
}

/* Reads a secret file (at most MAX_SECRET_BYTES) and strips one trailing
 * "\n" or "\r\n". On success *out is a heap string the caller frees. */
bool cc__cfg_read_secret(const char *path, char **out, char *why, size_t whysz)
{
    bool ok = false;
    char *data = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        cc__cfg_errno_why(why, whysz, path, errno);
        goto out;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        cc__cfg_errno_why(why, whysz, path, errno);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, whysz, "cannot read '%s': not a regular file", path);
        goto out;
    }
    data = cc_xmalloc(MAX_SECRET_BYTES + 2);
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, data + len, MAX_SECRET_BYTES + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            cc__cfg_errno_why(why, whysz, path, errno);
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > MAX_SECRET_BYTES) {
            snprintf(why, whysz, "'%s' is larger than %d KiB", path,
                     MAX_SECRET_BYTES / 1024);
            goto out;
        }
    }
    if (memchr(data, '\0', len)) {
        snprintf(why, whysz, "'%s' contains a NUL byte", path);
        goto out;
    }
    if (len && data[len - 1] == '\n') {
        len--;
        if (len && data[len - 1] == '\r')
            len--;
    }
    data[len] = '\0';
    *out = data;
    data = NULL;
    ok = true;
out:
    if (fd >= 0)
        close(fd);
    free(data);
    return ok;
}

/* ---------------------------------------------------------------------------
 * Environment
 */

static const char *env_get(char *const *envp, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; envp && envp[i]; i++)
        if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
            return envp[i] + n + 1;
    return NULL;
}

/* "http.listen" -> "CC_HTTP_LISTEN" (+ "_FILE"). */
static void env_name(const struct cc_cfg_key *k, bool file, char *out, size_t outsz)
{
    size_t n = 0;
    for (const char *s = "CC_"; *s && n + 1 < outsz; s++)
        out[n++] = *s;
    for (const char *s = k->path; *s && n + 1 < outsz; s++)
        out[n++] = *s == '.' ? '_' : (char)toupper((unsigned char)*s);
    for (const char *s = file ? "_FILE" : ""; *s && n + 1 < outsz; s++)
        out[n++] = *s;
    out[n] = '\0';
}

static cc_err apply_env_key(struct cc_config *c, const struct cc_cfg_key *k,
                            char *const *envp, struct cc_diag *d)
{
    char name[MAX_PATH + 8], fname[MAX_PATH + 8], why[WHY_MAX], shown[64];
    char *secret = NULL;
    cc_err err = CC_OK;
    env_name(k, false, name, sizeof(name));
    env_name(k, true, fname, sizeof(fname));
    const char *v = env_get(envp, name);
    const char *vf = (k->flags & CC_CFG_SECRET) ? env_get(envp, fname) : NULL;
    if (v && vf) {
        cc_diag_set(d, name, 0, 0, "both %s and %s are set; set only one of them", name,
                    fname);
        err = CC_EINVAL;
        goto out;
    }
    if (vf && !cc__cfg_read_secret(vf, &secret, why, sizeof(why))) {
        cc_diag_set(d, fname, 0, 0, "%s", why);
        err = CC_EIO;
        goto out;
    }
    if ((v || secret) && !cc__cfg_set_text(c, k, secret ? secret : v, why, sizeof(why))) {
        cc__cfg_excerpt(v ? v : "", shown, sizeof(shown));
        if (k->flags & CC_CFG_SECRET)
            cc_diag_set(d, secret ? fname : name, 0, 0, "%s", why);
        else
            cc_diag_set(d, name, 0, 0, "%s, got '%s'", why, shown);
        err = CC_EINVAL;
    }
out:
    free(secret);
    return err;
}

cc_err cc_config_apply_env(struct cc_config *c, char *const *envp, struct cc_diag *d)
{
    struct cc_config next;
    cc_err err = CC_OK;
    cc__cfg_copy(&next, c);
    for (size_t i = 0; i < NKEYS && !err; i++)
        err = apply_env_key(&next, &keys[i], envp, d);
    if (!err)
        cc__cfg_replace(c, &next);
    cc_config_release(&next);
    return err;
}

/* ---------------------------------------------------------------------------
 * Validation and derived values
 */

static bool check_port(const char *p)
{
    size_t n = strspn(p, "0123456789");
    if (n == 0 || n > 5 || p[n])
        return false;
    return strtol(p, NULL, 10) <= 65535;
}

/* The daemon has no TLS client (core/httpc.c): an https endpoint needs a
 * local proxy in front of it. */
static bool check_embed_url(const char *s, char *why, size_t whysz)
{
    if (!s[0])
        return true;
    if (strncmp(s, "http://", 7) != 0 || !s[7] || s[7] == '/') {
        snprintf(why, whysz, "must be an http:// URL (no TLS client: put a local proxy "
                             "in front of an https endpoint)");
        return false;
    }
    return true;
}

static bool check_listen(const char *s, char *why, size_t whysz)
{
    const char *colon = NULL;
    snprintf(why, whysz,
             "expected host:port, [ipv6]:port or :port with a port from 0 to 65535");
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        char host[INET6_ADDRSTRLEN];
        unsigned char addr[16];
        size_t hl = close ? (size_t)(close - s - 1) : 0;
        if (!close || close[1] != ':' || hl == 0 || hl >= sizeof(host))
            return false;
        memcpy(host, s + 1, hl);
        host[hl] = '\0';
        if (inet_pton(AF_INET6, host, addr) != 1)
            return false;
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return false;
        if (memchr(s, ':', (size_t)(colon - s))) {
            snprintf(why, whysz, "IPv6 addresses need brackets, like [::1]:8470");
            return false;
        }
        size_t hl = (size_t)(colon - s);
        if (hl > 253 || strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                  "0123456789-.") != hl)
            return false;
    }
    return check_port(colon + 1);
}

static char *join_path(const char *dir, const char *rel)
{
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    size_t rl = strlen(rel);
    char *out = cc_xmalloc(dl + 1 + rl + 1);
    memcpy(out, dir, dl);
    size_t n = dl;
    if (n == 0 || out[n - 1] != '/')
        out[n++] = '/';
    memcpy(out + n, rel, rl + 1);
    return out;
}

/* $XDG_DATA_HOME/commandcenter, else $HOME/.local/share/commandcenter. */
static char *default_data_dir(char *const *envp)
{
    const char *xdg = env_get(envp, "XDG_DATA_HOME");
    if (xdg && xdg[0] == '/') /* the XDG spec says relative values are ignored */
        return join_path(xdg, "commandcenter");
    const char *home = env_get(envp, "HOME");
    if (home && home[0])
        return join_path(home, ".local/share/commandcenter");
    return NULL;
}

cc_err cc_config_finish(struct cc_config *c, char *const *envp, struct cc_diag *d)
{
    char why[WHY_MAX], shown[64];
    char *dir = NULL;
    if (!c->data_dir || !c->data_dir[0]) {
        dir = default_data_dir(envp);
        if (!dir) {
            cc_diag_set(d, NULL, 0, 0, "data_dir is not set and neither XDG_DATA_HOME nor "
                                       "HOME is; set data_dir or CC_DATA_DIR");
            return CC_EINVAL;
        }
    }
    for (size_t i = 0; i < NKEYS; i++) {
        const struct cc_cfg_key *k = &keys[i];
        if (!k->check) /* checks exist for string keys only */
            continue;
        const char *s = *(char *const *)cfield(c, k);
        if (!k->check(s ? s : "", why, sizeof(why))) {
            cc__cfg_excerpt(s ? s : "", shown, sizeof(shown));
            cc_diag_set(d, NULL, 0, 0, "%s: %s, got '%s'", k->path, why, shown);
            free(dir);
            return CC_EINVAL;
        }
    }
    if (c->knowledge.embed_url[0] && !c->knowledge.embed_model[0]) {
        cc_diag_set(d, NULL, 0, 0, "knowledge.embed_model must be set when "
                                   "knowledge.embed_url is");
        free(dir);
        return CC_EINVAL;
    }
    if (strcmp(c->store.driver, "sqlite") == 0 && !c->store.sqlite_path[0]) {
        cc_diag_set(d, NULL, 0, 0, "store.sqlite_path must not be empty with the sqlite "
                                   "driver");
        free(dir);
        return CC_EINVAL;
    }
    if (dir) {
        free(c->data_dir);
        c->data_dir = dir;
    }
    return CC_OK;
}

char *cc_config_path(const struct cc_config *c, const char *rel)
{
    if (rel[0] == '/' || !c->data_dir || !c->data_dir[0])
        return cc_xstrdup(rel);
    return join_path(c->data_dir, rel);
}

/* ---------------------------------------------------------------------------
 * Dump and reference
 */

static cc_err add_quoted(struct cc_buf *out, const char *s)
{
    cc_err err = cc_buf_addch(out, '"');
    for (; *s && !err; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            err = cc_buf_addf(out, "\\%c", ch);
        else if (ch == '\n')
            err = cc_buf_addstr(out, "\\n");
        else if (ch == '\t')
            err = cc_buf_addstr(out, "\\t");
        else if (ch < 0x20 || ch == 0x7f)
            err = cc_buf_addf(out, "\\x%02x", ch);
        else
            err = cc_buf_addch(out, (char)ch);
    }
    return err ? err : cc_buf_addch(out, '"');
}

/* Component j of a dotted path; false past the end. */
static bool component(const char *path, size_t j, const char **start, size_t *len)
{
    const char *p = path;
    for (size_t i = 0; i < j; i++) {
        p = strchr(p, '.');
        if (!p)
            return false;
        p++;
    }
    *start = p;
    *len = strcspn(p, ".");
    return true;
}

static size_t count_sections(const char *path)
{
    size_t n = 0;
    for (; *path; path++)
        n += *path == '.';
    return n;
}

/* Opens the mappings `path` needs that `prev` did not; returns the depth. */
static cc_err open_sections(struct cc_buf *out, const char *prev, const char *path)
{
    size_t n = count_sections(path), pn = prev ? count_sections(prev) : 0, j = 0;
    const char *a, *b;
    size_t al, bl;
    while (j < n && j < pn && component(prev, j, &a, &al) && component(path, j, &b, &bl) &&
           al == bl && memcmp(a, b, al) == 0)
        j++;
    cc_err err = CC_OK;
    for (; j < n && !err; j++) {
        component(path, j, &b, &bl);
        err = cc_buf_addf(out, "%*s%.*s:\n", (int)(2 * j), "", (int)bl, b);
    }
    return err;
}

cc_err cc_config_dump(const struct cc_config *c, struct cc_buf *out)
{
    cc_err err = CC_OK;
    for (size_t i = 0; i < NKEYS && !err; i++) {
        const struct cc_cfg_key *k = &keys[i];
        const char *leaf = strrchr(k->path, '.');
        leaf = leaf ? leaf + 1 : k->path;
        union value v;
        char text[64];
        load_value(c, k, &v);
        err = open_sections(out, i ? keys[i - 1].path : NULL, k->path);
        if (!err)
            err = cc_buf_addf(out, "%*s%s: ", (int)(2 * count_sections(k->path)), "", leaf);
        if (err)
            break;
        if (k->type == CC_CFG_STRING && (k->flags & CC_CFG_SECRET) && v.str && v.str[0])
            err = add_quoted(out, "[REDACTED]");
        else if (k->type == CC_CFG_STRING)
            err = add_quoted(out, v.str ? v.str : "");
        else
            err = cc_buf_addstr(out, fmt_value(k, &v, text, sizeof(text)));
        if (!err)
            err = cc_buf_addch(out, '\n');
    }
    return err;
}

static void type_text(const struct cc_cfg_key *k, char *out, size_t outsz)
{
    char lo[32], hi[32], list[128];
    switch (k->type) {
    case CC_CFG_STRING:
        snprintf(out, outsz, "string");
        return;
    case CC_CFG_BOOL:
        snprintf(out, outsz, "boolean");
        return;
    case CC_CFG_ENUM:
        enum_list(k, "`, `", list, sizeof(list));
        snprintf(out, outsz, "one of `%s`", list);
        return;
    case CC_CFG_UINT:
        snprintf(lo, sizeof(lo), "%" PRId64, k->min);
        snprintf(hi, sizeof(hi), "%" PRId64, k->max);
        break;
    case CC_CFG_DOUBLE:
        fmt_double(k->dmin, lo, sizeof(lo));
        fmt_double(k->dmax, hi, sizeof(hi));
        break;
    case CC_CFG_DURATION:
        fmt_duration(k->min, lo, sizeof(lo));
        fmt_duration(k->max, hi, sizeof(hi));
        break;
    case CC_CFG_SIZE:
        fmt_size((uint64_t)k->min, lo, sizeof(lo));
        fmt_size((uint64_t)k->max, hi, sizeof(hi));
        break;
    }
    static const char *const names[] = {[CC_CFG_UINT] = "integer",
                                        [CC_CFG_DOUBLE] = "number",
                                        [CC_CFG_DURATION] = "duration",
                                        [CC_CFG_SIZE] = "size"};
    snprintf(out, outsz, "%s, %s to %s", names[k->type], lo, hi);
}

static const char reference_intro[] =
    "# Configuration reference\n"
    "\n"
    "CommandCenter reads one YAML file (see `deploy/commandcenter.example.yml`).\n"
    "Keys are nested mappings: `http.listen` is written as\n"
    "\n"
    "```yaml\n"
    "http:\n"
    "  listen: \"127.0.0.1:8470\"\n"
    "```\n"
    "\n"
    "- Every key can be set with the environment variable in the table; the\n"
    "  environment wins over the file.\n"
    "- An unknown key, a value of the wrong type or out of range is an error that\n"
    "  names the file, line and column. An empty file means all defaults, and so\n"
    "  does an empty section; an empty value (`listen:`) is an error.\n"
    "- Booleans: `true`/`false`, `yes`/`no`, `on`/`off`.\n"
    "- Durations: `250ms`, `1.5s`, `10s`, `1m30s`, `2h`, `1d` (units `ns`, `us`, `ms`, `s`,\n"
    "  `m`, `h`, `d`, fractions allowed; whole milliseconds here); a bare number is seconds.\n"
    "  Compose files use the same syntax (`cc_parse_duration_*` in `src/core/clock.c`).\n"
    "- Sizes: `512` (bytes), `64k` or `64KiB` (x1024), `10MB` (x1000000), `1MiB`, `1GiB`,\n"
    "  `1.5g`, `2t`; a fraction is rounded down to a byte. Compose files use the same syntax,\n"
    "  except that there, as in Docker, `kb`/`mb`/`gb`/`tb` are binary too.\n"
    "- Secret keys can be read from a file instead: `<key>_file` in YAML\n"
    "  (`auth.admin_token_file`) or `<VARIABLE>_FILE` in the environment. The file\n"
    "  must be a regular file of at most 64 KiB; one trailing newline is stripped.\n"
    "  Setting both the value and the file in the same place is an error.\n"
    "  `serve --print-config` shows secrets as `[REDACTED]`.\n"
    "- Relative paths in `auth.bootstrap_token_file` and `store.sqlite_path` are\n"
    "  relative to `data_dir`.\n"
    "- Anchors, aliases and merge keys (`<<`) work; a file may be at most 1 MiB and\n"
    "  expand to at most 10000 nodes.\n"
    "- The file must be UTF-8 without control characters other than tab. To keep\n"
    "  the YAML parser safe and fast, a tab may not separate two indicators\n"
    "  (`key:<TAB>|`; use spaces), the text of a block scalar (`|`, `>`) must be\n"
    "  indented more than its key, and a file may hold at most 100 anchors, 1000\n"
    "  of the characters `:` `,` `?` `{` (outside full-line comments), 100\n"
    "  blank lines in a row and 3 single quotes in a row.\n"
    "\n"
    "| Key | Type | Default | Environment | Description |\n"
    "|-----|------|---------|-------------|-------------|\n";

static cc_err reference_row(struct cc_buf *out, const struct cc_cfg_key *k)
{
    char type[160], def[64], env[MAX_PATH + 8], fenv[MAX_PATH + 8];
    union value v;
    char why[WHY_MAX];
    if (!parse_value(k, k->def, &v, why, sizeof(why)))
        return CC_EINVAL;
    type_text(k, type, sizeof(type));
    const char *shown = fmt_value(k, &v, def, sizeof(def));
    env_name(k, false, env, sizeof(env));
    env_name(k, true, fenv, sizeof(fenv));
    cc_err err = cc_buf_addf(out, "| `%s` | %s | %s%s%s | `%s` | %s", k->path, type,
                             shown[0] ? "`" : "", shown[0] ? shown : "(empty)",
                             shown[0] ? "`" : "", env, k->help);
    if (!err && (k->flags & CC_CFG_SECRET))
        err = cc_buf_addf(out, " Secret: or from a file with `%s_file` / `%s`.", k->path,
                          fenv);
    return err ? err : cc_buf_addstr(out, " |\n");
}

cc_err cc_config_reference(struct cc_buf *out)
{
    cc_err err = cc_buf_addstr(out, reference_intro);
    for (size_t i = 0; i < NKEYS && !err; i++)
        err = reference_row(out, &keys[i]);
    return err;
}
