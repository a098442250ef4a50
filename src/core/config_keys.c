/*
 * config_keys.c - the key table: every configuration key declared once, with
 * its type, default, limits, environment-visible description and any extra
 * syntax check. The machinery that reads the table is config.c (defaults,
 * values, environment, secrets, validation, dump, reference) and
 * config_yaml.c (YAML).
 */
#include "core/config.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cidr.h"
#include "core/config_int.h"

static bool check_listen(const char *s, char *why, size_t whysz);
static bool check_embed_url(const char *s, char *why, size_t whysz);
static bool check_networks(const char *s, char *why, size_t whysz);
static bool check_roots(const char *s, char *why, size_t whysz);

static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const log_formats[] = {"auto", "json", "text", NULL};
static const char *const request_log_levels[] = {"debug", "info", NULL};
static const char *const store_drivers[] = {"sqlite", "postgres", NULL};
static const char *const orch_drivers[] = {"auto", "docker", "process", NULL};
static const char *const embed_apis[] = {"openai", "ollama", NULL};

#define OFF(field) offsetof(struct cc_config, field)

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
     .def = "4096",
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
     .help = "Idle time allowed on a connection: closed when nothing arrives for "
             "this long. Any byte resets it; http.request_timeout caps the whole "
             "request."},
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
    {.path = "http.request_timeout",
     .type = CC_CFG_DURATION,
     .offset = OFF(http.request_timeout_ms),
     .def = "30s",
     .min = 0,
     .max = 24 * HOUR,
     .help = "Longest time a client may take to send one whole request (head and "
             "body), counted from when the server starts waiting for it; the "
             "connection is closed past it. 0 turns the cap off."},
    {.path = "http.max_connections_per_client",
     .type = CC_CFG_UINT,
     .offset = OFF(http.max_connections_per_client),
     .def = "256",
     .min = 0,
     .max = 100000,
     .help = "Connections one client address may hold open at once; more are "
             "closed on accept. 0 means no per-address limit."},
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
    {.path = "log.requests",
     .type = CC_CFG_ENUM,
     .offset = OFF(log.requests),
     .def = "debug",
     .values = request_log_levels,
     .help = "Level of the line logged for every HTTP request (method, path, route, "
             "status, duration, client). debug keeps a console readable; info makes "
             "it an access log. Answers with a 5xx status are logged at warn "
             "whatever this says."},
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
    {.path = "auth.allow_weak_tokens",
     .type = CC_CFG_BOOL,
     .offset = OFF(auth.allow_weak_tokens),
     .def = "false",
     .help = "Start even when auth.admin_token is shorter than 32 characters or "
             "looks guessable (few distinct characters, repeats). Only for tests."},
    {.path = "auth.failure_rate",
     .type = CC_CFG_DOUBLE,
     .offset = OFF(auth.failure_rate),
     .def = "0.2",
     .dmin = 0,
     .dmax = 1e6,
     .help = "Failed authentications per second one client address earns back; "
             "past auth.failure_burst it gets 429 with Retry-After, even with a "
             "right token, until it has earned one back. 0 turns this off."},
    {.path = "auth.failure_burst",
     .type = CC_CFG_UINT,
     .offset = OFF(auth.failure_burst),
     .def = "20",
     .min = 1,
     .max = 1000000,
     .help = "Failed authentications one client address may make at once before "
             "auth.failure_rate applies."},
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
             "(OpenAI-compatible), http:// or https:// (verified like every outbound "
             "request, see fetch.ca_file)."},
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
    {.path = "fetch.ca_file",
     .type = CC_CFG_STRING,
     .offset = OFF(fetch.ca_file),
     .def = "",
     .help = "CA bundle (PEM) that outbound HTTPS certificates are verified against; empty "
             "means the system's. Verification is never switched off."},
    {.path = "fetch.proxy",
     .type = CC_CFG_STRING,
     .offset = OFF(fetch.proxy),
     .def = "",
     .help = "Proxy for outbound HTTP(S), e.g. http://proxy.internal:3128; empty means the "
             "environment's http_proxy, https_proxy, all_proxy and no_proxy. The proxy's own "
             "address passes the SSRF guard; the proxy resolves the targets, so it should "
             "filter them too."},
    {.path = "fetch.connect_timeout",
     .type = CC_CFG_DURATION,
     .offset = OFF(fetch.connect_timeout_ms),
     .def = "10s",
     .min = 100,
     .max = 10 * 60 * SEC,
     .help = "Time an outbound connection (DNS, TCP and TLS) may take."},
    {.path = "fetch.timeout",
     .type = CC_CFG_DURATION,
     .offset = OFF(fetch.timeout_ms),
     .def = "60s",
     .min = 100,
     .max = HOUR,
     .help = "Time one outbound request may take, from its first connection to the last "
             "byte of its last redirect (waiting for a turn at a busy host not counted)."},
    {.path = "fetch.low_speed_limit",
     .type = CC_CFG_SIZE,
     .offset = OFF(fetch.low_speed_limit),
     .def = "1KiB",
     .min = 0,
     .max = GIB,
     .help = "Bytes per second below which a transfer counts as stalled; 0 = no check."},
    {.path = "fetch.low_speed_time",
     .type = CC_CFG_DURATION,
     .offset = OFF(fetch.low_speed_time_ms),
     .def = "30s",
     .min = SEC,
     .max = HOUR,
     .help = "How long a transfer may stay below fetch.low_speed_limit before it is "
             "aborted."},
    {.path = "fetch.max_redirects",
     .type = CC_CFG_UINT,
     .offset = OFF(fetch.max_redirects),
     .def = "5",
     .min = 0,
     .max = 20,
     .help = "Redirects followed per request; each hop's address is checked again."},
    {.path = "fetch.max_bytes",
     .type = CC_CFG_SIZE,
     .offset = OFF(fetch.max_bytes),
     .def = "32MiB",
     .min = KIB,
     .max = 4 * GIB,
     .help = "Largest body of an outbound answer (after decompression); a larger one is "
             "refused, by its Content-Length up front or while it is read."},
    {.path = "fetch.allow_networks",
     .type = CC_CFG_STRING,
     .offset = OFF(fetch.allow_networks),
     .def = "",
     .check = check_networks,
     .help = "Networks the SSRF guard lets outbound requests reach although they are "
             "loopback, private or link-local: CIDRs separated by commas or blanks, e.g. "
             "\"10.20.0.0/16, fd00:1::/64\" (an address alone is one host)."},
    {.path = "fetch.per_host_concurrency",
     .type = CC_CFG_UINT,
     .offset = OFF(fetch.per_host_concurrency),
     .def = "2",
     .min = 1,
     .max = 64,
     .help = "Outbound requests in flight at once to one host; more wait their turn."},
    {.path = "fetch.host_delay",
     .type = CC_CFG_DURATION,
     .offset = OFF(fetch.host_delay_ms),
     .def = "0s",
     .min = 0,
     .max = HOUR,
     .help = "Least time between the starts of two requests to one host (a source's "
             "crawl-delay can ask for more)."},
    {.path = "fetch.retry_after_max",
     .type = CC_CFG_DURATION,
     .offset = OFF(fetch.retry_after_max_ms),
     .def = "10m",
     .min = 0,
     .max = 24 * HOUR,
     .help = "After a 429 or 503 with Retry-After, requests to that host wait until then "
             "if it is at most this far away; otherwise they fail at once saying when to "
             "retry, and the job backs off."},
    {.path = "fetch.user_agent",
     .type = CC_CFG_STRING,
     .offset = OFF(fetch.user_agent),
     .def = "",
     .help = "User-Agent of outbound requests; empty means \"CommandCenter/<version> "
             "(+docs/FETCH.md)\", naming the product and where to read about it."},
    {.path = "webhooks.github_secret",
     .type = CC_CFG_STRING,
     .offset = OFF(webhooks.github_secret),
     .def = "",
     .flags = CC_CFG_SECRET,
     .help = "Secret of GitHub webhooks that reach every source naming the repository "
             "(options.github.repository) without a secret_file of its own; empty means "
             "only per-source secrets are accepted (docs/WEBHOOKS.md)."},
    {.path = "webhooks.max_body_bytes",
     .type = CC_CFG_SIZE,
     .offset = OFF(webhooks.max_body_bytes),
     .def = "25MB",
     .min = KIB,
     .max = GIB,
     .help = "Largest webhook delivery body (GitHub sends at most 25 MB); these two routes "
             "take it instead of http.max_body_bytes."},
    {.path = "webhooks.replay_window",
     .type = CC_CFG_DURATION,
     .offset = OFF(webhooks.replay_window_ms),
     .def = "5m",
     .min = SEC,
     .max = HOUR,
     .help = "Generic webhooks: how far X-Timestamp may be from the daemon's clock, in "
             "either direction."},
    {.path = "webhooks.delivery_retention",
     .type = CC_CFG_DURATION,
     .offset = OFF(webhooks.delivery_retention_ms),
     .def = "7d",
     .min = 2 * HOUR,
     .max = 3650 * 24 * HOUR,
     .help = "How long delivery ids are remembered: a delivery repeated within it is "
             "acknowledged as a duplicate and queues nothing."},
    {.path = "webhooks.max_documents",
     .type = CC_CFG_UINT,
     .offset = OFF(webhooks.max_documents),
     .def = "100",
     .min = 1,
     .max = 256,
     .help = "Documents one generic webhook delivery may carry."},
    {.path = "alerts.retention",
     .type = CC_CFG_DURATION,
     .offset = OFF(alerts.retention_ms),
     .def = "30d",
     .min = HOUR,
     .max = 3650 * 24 * HOUR,
     .help = "How long alerts received from Alertmanager are kept after they resolve."},
    {.path = "alerts.max_stored",
     .type = CC_CFG_UINT,
     .offset = OFF(alerts.max_stored),
     .def = "10000",
     .min = 100,
     .max = 1000000,
     .help = "Most alerts kept at once, firing or resolved; the least recently updated go first."},
    {.path = "sources.allowed_roots",
     .type = CC_CFG_STRING,
     .offset = OFF(sources.allowed_roots),
     .def = "",
     .check = check_roots,
     .help = "Directories file sources may read beneath, separated by ':' (like PATH), "
             "e.g. /srv/docs:/home/me/notes. Empty means no file source may be created "
             "or run. Symlinks and '..' are resolved before comparing."},
    {.path = "sources.watch_debounce",
     .type = CC_CFG_DURATION,
     .offset = OFF(sources.watch_debounce_ms),
     .def = "500ms",
     .min = 10,
     .max = 60 * SEC,
     .help = "How long a file of a watched folder must stay unchanged before it is "
             "ingested; a file written in many writes is ingested once."},
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

const struct cc_cfg_key *const cc__cfg_keys = keys;
const size_t cc__cfg_nkeys = NKEYS;

/* ---------------------------------------------------------------------------
 * Syntax checks of string keys (cc_cfg_key.check)
 */

static bool check_port(const char *p)
{
    size_t n = strspn(p, "0123456789");
    if (n == 0 || n > 5 || p[n])
        return false;
    return strtol(p, NULL, 10) <= 65535;
}

/* The endpoint is reached through the fetcher (ingest/fetch.c). */
static bool check_embed_url(const char *s, char *why, size_t whysz)
{
    if (!s[0])
        return true;
    size_t skip = strncmp(s, "http://", 7) == 0 ? 7 : strncmp(s, "https://", 8) == 0 ? 8 : 0;
    if (!skip || !s[skip] || s[skip] == '/') {
        snprintf(why, whysz, "must be an http:// or https:// URL");
        return false;
    }
    return true;
}

static bool check_networks(const char *s, char *why, size_t whysz)
{
    struct cc_cidr nets[CC_CFG_MAX_NETWORKS];
    size_t n;
    return cc_cidr_list_parse(s, nets, CC_CFG_MAX_NETWORKS, &n, why, whysz) == CC_OK;
}

/* Absolute directories separated by ':'; empty entries are ignored. */
static bool check_roots(const char *s, char *why, size_t whysz)
{
    for (const char *p = s; *p;) {
        size_t len = strcspn(p, ":");
        if (len > 0 && p[0] != '/') {
            snprintf(why, whysz, "expected absolute directories separated by ':'");
            return false;
        }
        p += len + (p[len] == ':');
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
