/*
 * daemon.c - start-up and shut-down of `commandcenter serve`.
 *
 * Threads: the main thread only waits for signals (sigwait); libmicrohttpd's
 * pool runs the requests. Signals are blocked before any thread starts so
 * that every thread inherits the mask and only sigwait sees them.
 * Order: config -> log -> metrics -> data dir and its lock -> store -> auth
 * -> ingest -> orchestrator -> HTTP -> READY=1 to systemd (notify.c) and the
 * watchdog thread; teardown in reverse, after STOPPING=1.
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/ctx.h"
#include "core/lockfile.h"
#include "core/log.h"
#include "daemon/notify.h"
#include "daemon/store_metrics.h"
#include "http/auth.h"
#include "http/server.h"
#include "ingest/parse/parse.h"
#include "ingest/pipeline.h"
#include "ingest/queue.h"
#include "ingest/scheduler.h"
#include "ingest/sources/local.h"
#include "ingest/sources/sources.h"
#include "ingest/watch.h"
#include "observe/metrics.h"
#include "orchestrator/engine.h"
#include "store/store.h"

#define EXIT_STARTUP 1
#define EXIT_CONFIG 2

struct daemon {
    struct cc_config cfg;
    struct cc_log log;
    struct cc_ctx ctx;
    struct store *store;
    struct obs_registry *metrics;
    struct http_auth *auth;
    struct api_deps deps;
    struct http_server *http;
    struct ingest_pipeline_cfg pipeline;
    struct ingest_fetcher *fetcher;       /* outbound HTTP(S), shared by the workers */
    struct ingest_kind kinds[2];
    struct ingest_workers *workers;
    struct ingest_scheduler *scheduler;
    struct ingest_watcher *watcher;
    char node_id[128];
    char spool_dir[4096];                 /* <data_dir>/spool: upload bodies */
    struct obs_family *m_jobs_queue;      /* gauge {state} */
    struct obs_series *m_jobs_oldest;     /* gauge */
    struct orch_engine *engine;
    int lock_fd;                          /* data_dir/lock, held for our life */
    struct daemon_notify notify;          /* systemd readiness and watchdog */
    char url[300];                        /* where the HTTP server answers */
    struct daemon_store_metrics store_metrics;
    char **allowed_roots;                 /* sources.allowed_roots, split */
};

static int config_error(const struct cc_diag *d)
{
    char msg[1024];
    cc_diag_format(d, msg, sizeof(msg));
    fprintf(stderr, "commandcenter: %s\n", msg);
    return EXIT_CONFIG;
}

/* A guessable admin token behind a network port is found by brute force
 * (issue 13): refuse it unless the operator said this is a test. */
static int check_admin_token(const struct cc_config *c)
{
    char why[160];
    if (!c->auth.admin_token[0] || c->auth.allow_weak_tokens ||
        !http_auth_token_weak(c->auth.admin_token, why, sizeof(why)))
        return 0;
    fprintf(stderr, "commandcenter: auth.admin_token (CC_AUTH_ADMIN_TOKEN) is too weak: %s; "
            "use at least %d random characters (e.g. 'openssl rand -base64 32'), or set "
            "auth.allow_weak_tokens: true (CC_AUTH_ALLOW_WEAK_TOKENS) for a test setup\n",
            why, HTTP_TOKEN_STRONG_MIN);
    return EXIT_CONFIG;
}

static int load_config(struct daemon *d, const struct daemon_opts *opts, char *const *envp)
{
    struct cc_diag diag = {0};
    const char *path = opts->config_path;
    for (char *const *e = envp; !path && e && *e; e++)
        if (strncmp(*e, "CC_CONFIG=", 10) == 0)
            path = *e + 10;
    cc_config_init(&d->cfg);
    if (path && *path && cc_config_load_file(&d->cfg, path, &diag))
        return config_error(&diag);
    if (cc_config_apply_env(&d->cfg, envp, &diag) || cc_config_finish(&d->cfg, envp, &diag))
        return config_error(&diag);
    return 0;
}

/* mkdir -p with mode 0700 for the directories we create. */
static cc_err make_dirs(const char *path)
{
    char tmp[4096];
    if (cc_strlcpy(tmp, path, sizeof(tmp)))
        return CC_ELIMIT;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            return CC_EIO;
        *p = '/';
    }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
        return CC_EIO;
    return CC_OK;
}

static cc_err write_secret_file(const char *path, const char *content)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return CC_EIO;
    size_t len = strlen(content);
    bool ok = write(fd, content, len) == (ssize_t)len && write(fd, "\n", 1) == 1 &&
              fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return CC_EIO;
    }
    return CC_OK;
}

/* First start with an empty store: create an admin token so the operator
 * can log in, and leave it in a 0600 file under the data directory. */
static cc_err bootstrap_token(struct daemon *d)
{
    char *path = cc_config_path(&d->cfg, d->cfg.auth.bootstrap_token_file);
    cc_err err = CC_OK;
    if (http_auth_count(d->auth) > 0 || d->cfg.auth.admin_token[0]) {
        if (access(path, F_OK) == 0)
            cc_log_info(&d->log, "daemon", "admin token file", CC_LS("path", path));
        goto out;
    }
    char *plain = NULL;
    int64_t id;
    err = http_auth_create(d->auth, "bootstrap-admin", "admin", cc_wall_ms(d->ctx.clock),
                           &plain, &id);
    if (err) {
        cc_log_error(&d->log, "daemon", "cannot create the bootstrap admin token",
                     CC_LS("error", cc_err_str(err)));
        goto out;
    }
    err = write_secret_file(path, plain);
    free(plain);
    if (err) {
        /* Without the file nobody can use the token: take it back. */
        http_auth_delete(d->auth, id);
        cc_log_error(&d->log, "daemon", "cannot write the admin token file",
                     CC_LS("path", path), CC_LS("error", strerror(errno)));
        goto out;
    }
    cc_log_info(&d->log, "daemon", "bootstrap admin token written", CC_LS("path", path));
out:
    free(path);
    return err;
}

static void record_event(struct daemon *d, const char *kind, const char *message)
{
    struct store_event e = {.ts_ms = cc_wall_ms(d->ctx.clock), .kind = kind,
                            .message = message};
    int64_t id;
    cc_err err = d->store->ops->event_append(d->store, &e, &id);
    if (err)
        cc_log_warn(&d->log, "daemon", "cannot record event", CC_LS("kind", kind),
                    CC_LS("error", cc_err_str(err)));
}

/* The engine's state changes go into the event log, where /api/v1/events
 * streams them from (the engine itself logs and counts them). */
static void on_orch_event(void *arg, const char *kind, const char *project, const char *service,
                          const char *message)
{
    struct daemon *d = arg;
    struct store_event e = {.ts_ms = cc_wall_ms(d->ctx.clock), .kind = kind,
                            .project = project, .service = service, .message = message};
    int64_t id;
    cc_err err = d->store->ops->event_append(d->store, &e, &id);
    if (err)
        cc_log_warn(&d->log, "orchestrator", "cannot record event", CC_LS("kind", kind),
                    CC_LS("error", cc_err_str(err)));
}

static int start_orchestrator(struct daemon *d)
{
    char *state_dir = cc_config_path(&d->cfg, "orchestrator");
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    self[n > 0 ? n : 0] = '\0';
    struct orch_engine_cfg ec = {.ctx = &d->ctx, .state_dir = state_dir, .self_exe = self,
                                 .on_event = on_orch_event, .event_arg = d};
    struct orch_err oe = {{0}, {0}};
    cc_err err = orch_engine_create(&ec, &d->engine, &oe);
    free(state_dir);
    if (err) {
        /* Knowledge and the Hub still work; orchestration routes answer 503. */
        cc_log_error(&d->log, "daemon", "the orchestrator did not start",
                     CC_LS("error", oe.msg[0] ? oe.msg : cc_err_str(err)),
                     CC_LS("hint", oe.hint));
        return 0;
    }
    d->deps.engine = d->engine;
    return 0;
}

/* One daemon per data directory: two would share the store, the process
 * driver's state and the admin token file. */
static int lock_data_dir(struct daemon *d)
{
    char *path = cc_config_path(&d->cfg, "lock");
    long holder = 0;
    cc_err err = cc_lockfile_acquire(path, &d->lock_fd, &holder);
    if (err == CC_ECONFLICT && holder > 0)
        fprintf(stderr, "commandcenter: another daemon (pid %ld) is using the data directory %s\n"
                "hint: stop it first, or give this one its own data_dir (CC_DATA_DIR)\n",
                holder, d->cfg.data_dir);
    else if (err == CC_ECONFLICT)
        fprintf(stderr, "commandcenter: another daemon is using the data directory %s\n"
                "hint: stop it first, or give this one its own data_dir (CC_DATA_DIR)\n",
                d->cfg.data_dir);
    else if (err)
        fprintf(stderr, "commandcenter: cannot lock %s: %s\n"
                "hint: the data directory must be writable by this user\n",
                path, strerror(errno));
    free(path);
    return err ? EXIT_STARTUP : 0;
}

static int open_store(struct daemon *d)
{
    if (make_dirs(d->cfg.data_dir)) {
        fprintf(stderr, "commandcenter: cannot create the data directory %s: %s\n"
                "hint: set data_dir (or CC_DATA_DIR) to a writable directory\n",
                d->cfg.data_dir, strerror(errno));
        return EXIT_STARTUP;
    }
    if (lock_data_dir(d))
        return EXIT_STARTUP;
    char *db = cc_config_path(&d->cfg, d->cfg.store.sqlite_path);
    struct store_cfg sc = {.driver = d->cfg.store.driver, .sqlite_path = db,
                           .busy_timeout_ms = d->cfg.store.busy_timeout_ms,
                           .pool_size = d->cfg.store.pool_size,
                           .postgres_dsn = d->cfg.store.postgres_dsn, .log = &d->log,
                           .clock = d->ctx.clock, .pool_wait = daemon__store_pool_wait,
                           .pool_wait_arg = &d->store_metrics};
    cc_err err = store_open(&sc, &d->store);
    if (err) {
        bool pg = strcmp(d->cfg.store.driver, "postgres") == 0;
        fprintf(stderr, "commandcenter: cannot open the %s store at %s: %s\n"
                "hint: see the log line above for the cause\n",
                d->cfg.store.driver, pg ? "store.postgres_dsn" : db, cc_err_str(err));
        free(db);
        return EXIT_STARTUP;
    }
    free(db);
    d->ctx.store = d->store;
    return 0;
}

/* Queue depth by state and the age of the oldest runnable job, read from
 * the store at scrape time (one query). */
static void collect_jobs(void *arg, struct obs_registry *r)
{
    struct daemon *d = arg;
    struct store_job_counts c = {0};
    if (d->store->ops->job_counts(d->store, &c) != CC_OK)
        return;
    const struct {
        const char *state;
        int64_t n;
    } rows[] = {{"queued", c.queued}, {"running", c.running}, {"failed", c.failed},
                {"dead", c.dead}, {"succeeded", c.succeeded}};
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *lv[] = {rows[i].state};
        obs_gauge_set(obs_series_get(d->m_jobs_queue, lv), (double)rows[i].n);
    }
    int64_t now = cc_wall_ms(d->ctx.clock);
    obs_gauge_set(d->m_jobs_oldest,
                  c.oldest_queued_ms ? (double)(now - c.oldest_queued_ms) / 1000.0 : 0);
}

static void register_job_metrics(struct daemon *d)
{
    static const char *const state[] = {"state", NULL};
    d->m_jobs_queue = obs_gauge(d->metrics, "cc_job_queue_depth",
                                "Jobs in the store's queue by state.", state);
    d->m_jobs_oldest = obs_series_nolabels(
        obs_gauge(d->metrics, "cc_jobs_oldest_runnable_age_seconds",
                  "Age of the oldest job waiting to run (0 when none).", NULL));
    obs_register_collector(d->metrics, collect_jobs, d);
}

/* Documents posted without a source land in "manual", which always exists. */
static void found_source(void *arg, const struct store_source *s)
{
    (void)s;
    *(bool *)arg = true;
}

static void ensure_manual_source(struct daemon *d)
{
    struct store *st = d->store;
    bool found = false;
    if (st->ops->source_get_by_name(st, "manual", found_source, &found) == CC_OK && found)
        return;
    int64_t now = cc_wall_ms(d->ctx.clock), id;
    struct store_source m = {.name = "manual", .type = "manual", .priority = 5,
                             .enabled = true, .created_ms = now, .updated_ms = now};
    cc_err err = st->ops->source_insert(st, &m, &id);
    if (err && err != CC_ECONFLICT)
        cc_log_warn(&d->log, "daemon", "cannot create the manual source",
                    CC_LS("error", cc_err_str(err)));
}

static struct ingest_embed_cfg embed_cfg(const struct daemon *d)
{
    const struct cc_config *c = &d->cfg;
    return (struct ingest_embed_cfg){.fetcher = d->fetcher,
                                     .url = c->knowledge.embed_url,
                                     .ollama = strcmp(c->knowledge.embed_api, "ollama") == 0,
                                     .model = c->knowledge.embed_model,
                                     .api_key = c->knowledge.embed_api_key,
                                     .timeout_ms = c->knowledge.embed_timeout_ms,
                                     .batch = c->knowledge.embed_batch};
}

static int start_ingest(struct daemon *d)
{
    const struct cc_config *c = &d->cfg;
    struct cc_diag diag = {0};
    if (ingest_fetcher_new(c, d->ctx.clock, &d->log, d->metrics, &d->fetcher, &diag))
        return config_error(&diag);
    if (ingest_local_roots_parse(c->sources.allowed_roots, &d->allowed_roots)) {
        fprintf(stderr, "commandcenter: sources.allowed_roots: at most 64 absolute "
                        "directories separated by ':'\n");
        return EXIT_CONFIG;
    }
    const char *const *roots = (const char *const *)d->allowed_roots;
    d->pipeline = (struct ingest_pipeline_cfg){
        .chunk_max_chars = c->knowledge.chunk_max_chars,
        .max_document_bytes = c->knowledge.max_document_bytes,
        .queue_limit = c->jobs.queue_per_source, .max_attempts = (int)c->jobs.max_attempts,
        .extract_timeout_ms = c->knowledge.extract_timeout_ms,
        .embed = embed_cfg(d), .fetcher = d->fetcher, .allowed_roots = roots};
    ingest_pipeline_init(&d->pipeline, d->metrics);
    d->kinds[0] = (struct ingest_kind){.kind = "ingest.document",
                                       .run = ingest_handle_document, .data = &d->pipeline};
    d->kinds[1] = (struct ingest_kind){.kind = "source.run", .run = ingest_handle_source_run,
                                       .data = &d->pipeline};
    char host[64] = "host";
    gethostname(host, sizeof(host) - 1);
    snprintf(d->node_id, sizeof(d->node_id), "%s:%ld", host, (long)getpid());
    struct ingest_workers_cfg wc = {
        .threads = c->jobs.workers, .batch = c->jobs.batch, .lease_ms = c->jobs.lease_ms,
        .max_attempts = (int)c->jobs.max_attempts,
        .backoff = {.initial_ms = c->jobs.backoff_initial_ms, .max_ms = c->jobs.backoff_max_ms,
                    .multiplier = 2.0, .jitter = 0.2},
        .poll_ms = c->jobs.poll_ms, .node_id = d->node_id, .kinds = d->kinds, .nkinds = 2};
    struct ingest_scheduler_cfg sc = {.queue_limit = c->jobs.queue_per_source,
                                      .max_attempts = (int)c->jobs.max_attempts,
                                      .job_retention_ms = c->jobs.retention_ms};
    if (ingest_workers_start(&d->ctx, &wc, &d->workers) ||
        ingest_scheduler_start(&d->ctx, d->workers, &sc, &d->scheduler)) {
        fprintf(stderr, "commandcenter: cannot start the ingestion threads\n");
        return EXIT_STARTUP;
    }
    struct ingest_watcher_cfg wcfg = {.debounce_ms = c->sources.watch_debounce_ms,
                                      .max_document_bytes = c->knowledge.max_document_bytes,
                                      .queue_limit = c->jobs.queue_per_source,
                                      .max_attempts = (int)c->jobs.max_attempts,
                                      .allowed_roots = roots};
    if (ingest_watcher_start(&d->ctx, d->workers, &wcfg, &d->watcher)) {
        fprintf(stderr, "commandcenter: cannot start the folder watcher\n");
        return EXIT_STARTUP;
    }
    d->deps.workers = d->workers;
    d->deps.scheduler = d->scheduler;
    d->deps.watcher = d->watcher;
    d->deps.sources_env = (struct ingest_source_env){.allowed_roots = roots};
    d->deps.knowledge = (struct api_knowledge_cfg){
        .queue_limit = c->jobs.queue_per_source, .max_attempts = (int)c->jobs.max_attempts,
        .search_k_default = c->knowledge.search_k_default,
        .max_document_bytes = c->knowledge.max_document_bytes,
        .embed = embed_cfg(d)};
    return 0;
}

static int start_http(struct daemon *d)
{
    char err[512] = "";
    const struct cc_config *c = &d->cfg;
    snprintf(d->spool_dir, sizeof(d->spool_dir), "%s/spool", c->data_dir);
    struct http_server_cfg hc = {
        .listen = c->http.listen, .threads = c->http.threads,
        .max_connections = c->http.max_connections,
        .max_header_bytes = c->http.max_header_bytes,
        .max_body_bytes = c->http.max_body_bytes, .read_timeout_ms = c->http.read_timeout_ms,
        /* A document travels base64-encoded inside JSON: 4/3 of it, plus fields. */
        .max_upload_bytes = c->knowledge.max_document_bytes / 3 * 4 + 64 * 1024,
        .max_signed_bytes = c->webhooks.max_body_bytes,
        .public_metrics = c->http.public_metrics, .rate_limit_rps = c->http.rate_limit_rps,
        .log_requests_info = strcmp(c->log.requests, "info") == 0,
        .rate_limit_burst = c->http.rate_limit_burst,
        .rate_limit_clients = c->http.rate_limit_clients, .auth = d->auth,
        .request_timeout_ms = c->http.request_timeout_ms,
        .max_connections_per_client = c->http.max_connections_per_client,
        .auth_failure_rate = c->auth.failure_rate, .auth_failure_burst = c->auth.failure_burst,
        .spool_dir = d->spool_dir,
        .handler_data = &d->deps,
    };
    if (http_server_new(&d->ctx, &hc, api_routes, api_routes_len, &d->http, err, sizeof(err)) ||
        http_server_start(d->http, err, sizeof(err))) {
        fprintf(stderr, "commandcenter: %s\n", err);
        return EXIT_STARTUP;
    }
    char *url = d->url;
    size_t urlsz = sizeof(d->url);
    const char *host = c->http.listen;
    const char *colon = strrchr(host, ':');
    int hostlen = colon ? (int)(colon - host) : 0;
    if (hostlen == 0 || (hostlen == 7 && strncmp(host, "0.0.0.0", 7) == 0))
        snprintf(url, urlsz, "http://127.0.0.1:%u", http_server_port(d->http));
    else
        snprintf(url, urlsz, "http://%.*s:%u", hostlen, host, http_server_port(d->http));
    cc_log_info(&d->log, "daemon", "listening", CC_LS("url", url),
                CC_LS("version", CC_VERSION), CC_LS("data_dir", c->data_dir));
    return 0;
}

static void wait_for_stop(struct daemon *d, const sigset_t *set)
{
    for (;;) {
        int sig = 0;
        if (sigwait(set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            cc_log_info(&d->log, "daemon", "SIGHUP ignored: restart to apply a new configuration");
            continue;
        }
        cc_log_info(&d->log, "daemon", "stopping", CC_LS("signal", strsignal(sig)));
        return;
    }
}

static void teardown(struct daemon *d)
{
    if (d->http) {
        if (http_server_stop(d->http, d->cfg.http.shutdown_timeout_ms) == CC_ETIMEOUT)
            cc_log_warn(&d->log, "daemon", "shutdown deadline passed with requests in flight");
        http_server_free(d->http);
    }
    /* Stop supervising; services keep running and are re-adopted next start. */
    orch_engine_destroy(d->engine);
    d->engine = NULL;
    /* No request can queue work now; stop making more, then finish it. */
    ingest_watcher_free(d->watcher);
    ingest_scheduler_stop(d->scheduler);
    ingest_scheduler_free(d->scheduler);
    ingest_workers_stop(d->workers, d->cfg.http.shutdown_timeout_ms);
    ingest_workers_free(d->workers);
    ingest_fetcher_free(d->fetcher);
    if (d->store)
        record_event(d, "daemon.stopped", "daemon stopped");
    http_auth_free(d->auth);
    daemon__store_metrics_stop(&d->store_metrics);
    store_close(d->store);
    obs_registry_free(d->metrics);
    if (d->ctx.log)
        cc_log_info(&d->log, "daemon", "stopped");
    cc_lockfile_release(d->lock_fd);
    d->lock_fd = -1;
    ingest_local_roots_free(d->allowed_roots);
    cc_config_release(&d->cfg);
}

int daemon_run(const struct daemon_opts *opts, char *const *envp)
{
    struct daemon d;
    memset(&d, 0, sizeof(d));
    d.lock_fd = -1;
    int rc = load_config(&d, opts, envp);
    if (rc) {
        cc_config_release(&d.cfg);
        return rc;
    }
    rc = check_admin_token(&d.cfg);
    if (rc) {
        cc_config_release(&d.cfg);
        return rc;
    }
    if (opts->print_config || opts->check_config) {
        struct cc_buf out;
        cc_buf_init(&out, 1 << 20);
        cc_err err = CC_OK;
        if (opts->print_config && (err = cc_config_dump(&d.cfg, &out)) == CC_OK)
            fputs(cc_buf_str(&out), stdout);
        else if (err)
            fprintf(stderr, "commandcenter: cannot print the configuration: %s\n",
                    cc_err_str(err));
        else
            puts("configuration is valid");
        cc_buf_release(&out);
        cc_config_release(&d.cfg);
        return err ? EXIT_STARTUP : 0;
    }
    enum cc_log_level level = CC_LOG_INFO;
    enum cc_log_format format = CC_LOG_AUTO;
    cc_log_level_parse(d.cfg.log.level, &level);
    cc_log_format_parse(d.cfg.log.format, &format);
    cc_log_init(&d.log, STDERR_FILENO, level, format, NULL);
    d.ctx.log = &d.log;
    d.ctx.clock = cc_clock_system();
    d.ctx.cfg = &d.cfg;
    d.ctx.started_ms = cc_wall_ms(d.ctx.clock);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    daemon_notify_init(&d.notify, envp, &d.log, d.ctx.clock);
    daemon_notify_send(&d.notify, "STATUS=opening the store");

    /* The registry before the store: the pool reports its waits into it. */
    d.metrics = obs_registry_new();
    d.ctx.metrics = d.metrics;
    daemon__store_metrics_init(&d.store_metrics, d.metrics);
    rc = open_store(&d);
    if (rc)
        goto out;
    daemon__store_metrics_start(&d.store_metrics, d.store);
    obs_register_process_metrics(d.metrics);
    register_job_metrics(&d);
    api_init(&d.deps, d.metrics);
    static const char *const build_labels[] = {"version", "revision", NULL};
    const char *build_values[] = {CC_VERSION, CC_GIT_REV};
    obs_gauge_set(obs_series_get(obs_gauge(d.metrics, "cc_build_info",
                                           "Version of this binary; always 1.", build_labels),
                                 build_values), 1);
    const char *admin = d.cfg.auth.admin_token[0] ? d.cfg.auth.admin_token : NULL;
    cc_err err = http_auth_new(d.store, admin, &d.auth);
    if (err) {
        fprintf(stderr, "commandcenter: cannot load API tokens: %s\n", cc_err_str(err));
        rc = EXIT_STARTUP;
        goto out;
    }
    d.deps.auth = d.auth;
    bootstrap_token(&d);
    ensure_manual_source(&d);
    rc = start_ingest(&d);
    if (rc)
        goto out;
    rc = start_orchestrator(&d);
    if (rc)
        goto out;
    rc = start_http(&d);
    if (rc)
        goto out;
    record_event(&d, "daemon.started", "daemon started");
    char status[400];
    snprintf(status, sizeof(status), "READY=1\nSTATUS=serving on %s", d.url);
    daemon_notify_send(&d.notify, status);
    daemon_notify_watchdog_start(&d.notify, d.url);
    wait_for_stop(&d, &set);
    daemon_notify_watchdog_stop(&d.notify);
    daemon_notify_send(&d.notify, "STOPPING=1\nSTATUS=stopping");
out:
    if (rc)
        daemon_notify_send(&d.notify, "STATUS=start-up failed; see the log");
    teardown(&d);
    daemon_notify_release(&d.notify);
    return rc;
}
