/*
 * notify.h - systemd's readiness and watchdog protocol (sd_notify(3)),
 * spoken directly: a datagram of "KEY=value" lines to the unix socket named
 * by $NOTIFY_SOCKET. No libsystemd: the protocol is a documented, stable
 * interface of a few lines, and the daemon runs the same without systemd.
 *
 * Everything here is a no-op when $NOTIFY_SOCKET is unset. The watchdog
 * runs only when $WATCHDOG_USEC is set (and $WATCHDOG_PID, if set, is us):
 * a thread that asks the daemon's own /health every WATCHDOG_USEC/2 and
 * sends WATCHDOG=1 only when it answers 200, so a daemon whose HTTP side is
 * wedged is restarted by systemd.
 */
#ifndef CC_DAEMON_NOTIFY_H
#define CC_DAEMON_NOTIFY_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/log.h"

struct daemon_notify {
    int fd;                        /* -1: not under systemd */
    char path[108];                /* sun_path; a leading '\0' for abstract names */
    size_t path_len;
    int64_t watchdog_ms;           /* 0: no watchdog */
    struct cc_log *log;
    struct cc_clock *clock;
    char health_url[320];
    pthread_t thread;
    bool running;
    bool stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

/* Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from envp and then
 * removes them from the process environment, so services the daemon
 * starts never talk to systemd in its name. Never fails: a malformed
 * variable is logged and ignored. */
void daemon_notify_init(struct daemon_notify *n, char *const *envp, struct cc_log *log,
                        struct cc_clock *clock);

/* Sends one message ("READY=1\nSTATUS=..."); errors are logged once. */
void daemon_notify_send(struct daemon_notify *n, const char *msg);

/* Starts the watchdog thread checking base_url/health (when configured). */
void daemon_notify_watchdog_start(struct daemon_notify *n, const char *base_url);

/* Stops the watchdog thread; idempotent. */
void daemon_notify_watchdog_stop(struct daemon_notify *n);

/* Stops the watchdog and closes the socket. */
void daemon_notify_release(struct daemon_notify *n);

#endif
