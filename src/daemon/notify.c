/*
 * notify.c - see notify.h.
 */
#include "daemon/notify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/httpc.h"

#define HEALTH_TIMEOUT_MS 5000

static const char *env_get(char *const *envp, const char *name)
{
    size_t len = strlen(name);
    for (char *const *e = envp; e && *e; e++)
        if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
            return *e + len + 1;
    return NULL;
}

static bool parse_long(const char *s, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v <= 0)
        return false;
    *out = v;
    return true;
}

static void read_watchdog(struct daemon_notify *n, const char *usec, const char *pid)
{
    long long us = 0, p = 0;
    if (!usec)
        return;
    if (pid && (!parse_long(pid, &p) || p != (long long)getpid()))
        return;   /* meant for another process (e.g. our parent shell) */
    if (!parse_long(usec, &us)) {
        cc_log_warn(n->log, "daemon", "WATCHDOG_USEC is not a positive number; no watchdog",
                    CC_LS("value", usec));
        return;
    }
    n->watchdog_ms = us / 1000 > 0 ? us / 1000 : 1;
}

void daemon_notify_init(struct daemon_notify *n, char *const *envp, struct cc_log *log,
                        struct cc_clock *clock)
{
    *n = (struct daemon_notify){.fd = -1, .log = log, .clock = clock};
    pthread_mutex_init(&n->mu, NULL);
    cc_clock_cond_init(&n->cv);
    const char *sock = env_get(envp, "NOTIFY_SOCKET");
    if (sock && *sock) {
        size_t len = strlen(sock);
        if ((sock[0] != '/' && sock[0] != '@') || len >= sizeof(n->path)) {
            cc_log_warn(log, "daemon", "NOTIFY_SOCKET is not a unix socket path; ignored",
                        CC_LS("value", sock));
        } else {
            memcpy(n->path, sock, len);
            if (sock[0] == '@')
                n->path[0] = '\0';   /* Linux abstract namespace */
            n->path_len = len;
            n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (n->fd < 0)
                cc_log_warn(log, "daemon", "cannot create the notify socket",
                            CC_LS("error", strerror(errno)));
        }
        read_watchdog(n, env_get(envp, "WATCHDOG_USEC"), env_get(envp, "WATCHDOG_PID"));
    }
    /* Start-up is single-threaded here: changing the environment is safe. */
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
}

void daemon_notify_send(struct daemon_notify *n, const char *msg)
{
    if (n->fd < 0)
        return;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, n->path, n->path_len);
    socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n->path_len);
    ssize_t r;
    do
        r = sendto(n->fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        cc_log_warn(n->log, "daemon", "cannot notify systemd", CC_LS("error", strerror(errno)));
}

static bool healthy(struct daemon_notify *n, int64_t timeout_ms)
{
    struct cc_buf raw;
    cc_buf_init(&raw, 64 * 1024);
    struct cc_http_req req = {.method = "GET", .url = n->health_url, .timeout_ms = timeout_ms};
    struct cc_http_answer ans;
    char why[256] = "";
    cc_err err = cc_http_request(&req, &raw, &ans, why, sizeof(why));
    bool ok = err == CC_OK && ans.status == 200;
    if (!ok)
        cc_log_warn(n->log, "daemon", "watchdog: /health did not answer 200; not pinging systemd",
                    CC_LS("error", err ? (why[0] ? why : cc_err_str(err)) : "bad status"));
    cc_buf_release(&raw);
    return ok;
}

static void *watchdog_main(void *arg)
{
    struct daemon_notify *n = arg;
    int64_t every = n->watchdog_ms / 2 > 0 ? n->watchdog_ms / 2 : 1;
    int64_t timeout = every < HEALTH_TIMEOUT_MS ? every : HEALTH_TIMEOUT_MS;
    pthread_mutex_lock(&n->mu);
    while (!n->stop) {
        int64_t next = cc_mono_ms(n->clock) + every;
        pthread_mutex_unlock(&n->mu);
        if (healthy(n, timeout))
            daemon_notify_send(n, "WATCHDOG=1");
        pthread_mutex_lock(&n->mu);
        while (!n->stop && cc_mono_ms(n->clock) < next)
            cc_wait_until(n->clock, &n->cv, &n->mu, next);
    }
    pthread_mutex_unlock(&n->mu);
    return NULL;
}

void daemon_notify_watchdog_start(struct daemon_notify *n, const char *base_url)
{
    if (n->fd < 0 || n->watchdog_ms <= 0 || n->running)
        return;
    snprintf(n->health_url, sizeof(n->health_url), "%s/health", base_url);
    n->stop = false;
    if (pthread_create(&n->thread, NULL, watchdog_main, n) != 0) {
        cc_log_warn(n->log, "daemon", "cannot start the watchdog thread");
        return;
    }
    n->running = true;
    cc_log_info(n->log, "daemon", "systemd watchdog on",
                CC_LI("interval_ms", n->watchdog_ms / 2));
}

void daemon_notify_watchdog_stop(struct daemon_notify *n)
{
    if (!n->running)
        return;
    pthread_mutex_lock(&n->mu);
    n->stop = true;
    pthread_cond_broadcast(&n->cv);
    pthread_mutex_unlock(&n->mu);
    pthread_join(n->thread, NULL);
    n->running = false;
}

void daemon_notify_release(struct daemon_notify *n)
{
    daemon_notify_watchdog_stop(n);
    if (n->fd >= 0)
        close(n->fd);
    n->fd = -1;
    pthread_cond_destroy(&n->cv);
    pthread_mutex_destroy(&n->mu);
}
