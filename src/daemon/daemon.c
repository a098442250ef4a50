/*
 * daemon.c - start-up and shut-down of `commandcenter serve`.
 *
 * Threads: the main thread only waits for signals (sigwait); libmicrohttpd's
 * pool runs the requests. Signals are blocked before any thread starts so
 * that every thread inherits the mask and only sigwait sees them.
 * Order: config -> log -> data dir -> store -> metrics -> auth -> HTTP.
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
#include "core/log.h"
#include "http/auth.h"
#include "http/server.h"
#include "observe/metrics.h"
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
};

static int config_error(const struct cc_diag *d)
{
    char msg[1024];
    cc_diag_format(d, msg, sizeof(msg));
    fprintf(stderr, "commandcenter: %s\n", msg);
    return EXIT_CONFIG;
}

static int load_config(struct daemon *d, const struct daemon_opts *opts, char *const *envp)
{
    struct cc_diag diag = {0};
    const char *path = opts->config_path;
    if (!path)
        path = getenv("CC_CONFIG");
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

static int open_store(struct daemon *d)
{
    if (make_dirs(d->cfg.data_dir)) {
        fprintf(stderr, "commandcenter: cannot create the data directory %s: %s\n"
                "hint: set data_dir (or CC_DATA_DIR) to a writable directory\n",
                d->cfg.data_dir, strerror(errno));
        return EXIT_STARTUP;
    }
    char *db = cc_config_path(&d->cfg, d->cfg.store.sqlite_path);
    struct store_cfg sc = {.driver = d->cfg.store.driver, .sqlite_path = db,
                           .busy_timeout_ms = d->cfg.store.busy_timeout_ms,
                           .pool_size = d->cfg.store.pool_size,
                           .postgres_dsn = d->cfg.store.postgres_dsn, .log = &d->log};
    cc_err err = store_open(&sc, &d->store);
    if (err) {
        fprintf(stderr, "commandcenter: cannot open the %s store at %s: %s\n"
                "hint: see the log line above for the cause\n",
                d->cfg.store.driver, db, cc_err_str(err));
        free(db);
        return EXIT_STARTUP;
    }
    free(db);
    d->ctx.store = d->store;
    return 0;
}

static void collect_info(void *arg, struct obs_registry *r)
{
    (void)arg;
    (void)r;
}

static int start_http(struct daemon *d)
{
    char err[512] = "";
    const struct cc_config *c = &d->cfg;
    struct http_server_cfg hc = {
        .listen = c->http.listen, .threads = c->http.threads,
        .max_connections = c->http.max_connections,
        .max_header_bytes = c->http.max_header_bytes,
        .max_body_bytes = c->http.max_body_bytes, .read_timeout_ms = c->http.read_timeout_ms,
        .public_metrics = c->http.public_metrics, .rate_limit_rps = c->http.rate_limit_rps,
        .rate_limit_burst = c->http.rate_limit_burst,
        .rate_limit_clients = c->http.rate_limit_clients, .auth = d->auth,
        .handler_data = &d->deps,
    };
    if (http_server_new(&d->ctx, &hc, api_routes, api_routes_len, &d->http, err, sizeof(err)) ||
        http_server_start(d->http, err, sizeof(err))) {
        fprintf(stderr, "commandcenter: %s\n", err);
        return EXIT_STARTUP;
    }
    char url[300];
    const char *host = c->http.listen;
    const char *colon = strrchr(host, ':');
    int hostlen = colon ? (int)(colon - host) : 0;
    if (hostlen == 0 || (hostlen == 7 && strncmp(host, "0.0.0.0", 7) == 0))
        snprintf(url, sizeof(url), "http://127.0.0.1:%u", http_server_port(d->http));
    else
        snprintf(url, sizeof(url), "http://%.*s:%u", hostlen, host, http_server_port(d->http));
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
    if (d->store)
        record_event(d, "daemon.stopped", "daemon stopped");
    http_auth_free(d->auth);
    store_close(d->store);
    obs_registry_free(d->metrics);
    if (d->ctx.log)
        cc_log_info(&d->log, "daemon", "stopped");
    cc_config_release(&d->cfg);
}

int daemon_run(const struct daemon_opts *opts, char *const *envp)
{
    struct daemon d;
    memset(&d, 0, sizeof(d));
    int rc = load_config(&d, opts, envp);
    if (rc) {
        cc_config_release(&d.cfg);
        return rc;
    }
    if (opts->print_config || opts->check_config) {
        struct cc_buf out;
        cc_buf_init(&out, 1 << 20);
        if (opts->print_config && cc_config_dump(&d.cfg, &out) == CC_OK)
            fputs(cc_buf_str(&out), stdout);
        else if (opts->check_config)
            puts("configuration is valid");
        cc_buf_release(&out);
        cc_config_release(&d.cfg);
        return 0;
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

    rc = open_store(&d);
    if (rc)
        goto out;
    d.metrics = obs_registry_new();
    d.ctx.metrics = d.metrics;
    obs_register_process_metrics(d.metrics);
    obs_register_collector(d.metrics, collect_info, &d);
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
    rc = start_http(&d);
    if (rc)
        goto out;
    record_event(&d, "daemon.started", "daemon started");
    wait_for_stop(&d, &set);
out:
    teardown(&d);
    return rc;
}
