/*
 * conns.c - the receive clock of every connection and the reaper (see
 * conns.h for why).
 *
 * Layout: a doubly linked list of struct conn under one mutex, touched
 * only when a connection opens or closes and by the reaper's scan; the
 * per-request updates are two atomics in the connection's own struct.
 */
#include "http/conns.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "core/clock.h"
#include "observe/metrics.h"

#define REAP_EVERY_MS 1000   /* so a cut lands within a second of the cap */

struct conn {
    struct conn *prev, *next;
    struct http_conns *owner;
    int fd;
    atomic_bool receiving;
    _Atomic int64_t since_ms;   /* mono ms since the server waits for a request */
};

struct http_conns {
    struct cc_clock *clock;
    int64_t timeout_ms;
    struct obs_series *cut;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct conn *head;
    unsigned count;
    bool stopping;
    bool reaper_started;
    pthread_t reaper;
};

static void *reaper(void *arg)
{
    struct http_conns *cs = arg;
    pthread_mutex_lock(&cs->mu);
    while (!cs->stopping) {
        cc_wait_until(cs->clock, &cs->cv, &cs->mu, cc_mono_ms(cs->clock) + REAP_EVERY_MS);
        if (cs->stopping)
            break;
        int64_t now = cc_mono_ms(cs->clock);
        for (struct conn *k = cs->head; k; k = k->next) {
            if (!atomic_load(&k->receiving) || now - atomic_load(&k->since_ms) < cs->timeout_ms)
                continue;
            /* Not close(): the worker owning the connection closes it when
             * it sees the end of the stream, on its own thread. */
            atomic_store(&k->receiving, false);
            shutdown(k->fd, SHUT_RDWR);
            if (cs->cut)
                obs_counter_inc(cs->cut);
        }
    }
    pthread_mutex_unlock(&cs->mu);
    return NULL;
}

cc_err http__conns_new(struct cc_clock *clock, int64_t timeout_ms, struct obs_series *cut,
                       struct http_conns **out)
{
    struct http_conns *cs = cc_xcalloc(1, sizeof(*cs));
    cs->clock = clock;
    cs->timeout_ms = timeout_ms;
    cs->cut = cut;
    pthread_mutex_init(&cs->mu, NULL);
    if (cc_clock_cond_init(&cs->cv) != 0) {
        pthread_mutex_destroy(&cs->mu);
        free(cs);
        return CC_ENOMEM;
    }
    if (timeout_ms > 0) {
        if (pthread_create(&cs->reaper, NULL, reaper, cs) != 0) {
            http__conns_free(cs);
            return CC_EAGAIN;
        }
        cs->reaper_started = true;
    }
    *out = cs;
    return CC_OK;
}

void http__conns_stop(struct http_conns *cs)
{
    if (!cs)
        return;
    pthread_mutex_lock(&cs->mu);
    cs->stopping = true;
    bool started = cs->reaper_started;
    cs->reaper_started = false;
    pthread_cond_broadcast(&cs->cv);
    pthread_mutex_unlock(&cs->mu);
    if (started)
        pthread_join(cs->reaper, NULL);
}

void http__conns_free(struct http_conns *cs)
{
    if (!cs)
        return;
    http__conns_stop(cs);
    /* libmicrohttpd has stopped and told us of every close; anything left
     * was never closed through it. */
    while (cs->head) {
        struct conn *k = cs->head;
        cs->head = k->next;
        free(k);
    }
    pthread_cond_destroy(&cs->cv);
    pthread_mutex_destroy(&cs->mu);
    free(cs);
}

void http__conns_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                        enum MHD_ConnectionNotificationCode toe)
{
    struct http_conns *cs = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct conn *k = cc_xcalloc(1, sizeof(*k));
        k->owner = cs;
        k->fd = ci ? ci->connect_fd : -1;
        atomic_init(&k->receiving, k->fd >= 0);
        atomic_init(&k->since_ms, cc_mono_ms(cs->clock));
        pthread_mutex_lock(&cs->mu);
        k->next = cs->head;
        if (cs->head)
            cs->head->prev = k;
        cs->head = k;
        cs->count++;
        pthread_mutex_unlock(&cs->mu);
        *socket_context = k;
        return;
    }
    struct conn *k = *socket_context;
    if (!k)
        return;
    *socket_context = NULL;
    /* Called before libmicrohttpd closes the descriptor: once we are off
     * the list the reaper cannot shut down a descriptor reused later. */
    pthread_mutex_lock(&cs->mu);
    if (k->prev)
        k->prev->next = k->next;
    else
        cs->head = k->next;
    if (k->next)
        k->next->prev = k->prev;
    cs->count--;
    pthread_mutex_unlock(&cs->mu);
    free(k);
}

static struct conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

void http__conn_received(struct MHD_Connection *c)
{
    struct conn *k = conn_of(c);
    if (k)
        atomic_store(&k->receiving, false);
}

void http__conn_idle(struct http_conns *cs, struct MHD_Connection *c)
{
    struct conn *k = conn_of(c);
    if (!k)
        return;
    atomic_store(&k->since_ms, cc_mono_ms(cs->clock));
    atomic_store(&k->receiving, true);
}

unsigned http__conns_count(struct http_conns *cs)
{
    pthread_mutex_lock(&cs->mu);
    unsigned n = cs->count;
    pthread_mutex_unlock(&cs->mu);
    return n;
}
