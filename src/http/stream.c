/*
 * stream.c - streamed responses on libmicrohttpd's suspend/resume.
 *
 * One struct http_stream joins three parties:
 *   the producer thread   writes into `buf` (waits while it is full);
 *   the content reader    (an HTTP worker) copies from `buf` to the socket;
 *                         when `buf` is empty it suspends the connection,
 *                         so no worker waits on a quiet stream;
 *   the reaper thread     once a second looks at the sockets of suspended
 *                         streams and ends those whose client hung up
 *                         (nothing else would notice while suspended).
 * Suspend and resume both happen under the stream's mutex, so a resume can
 * never overtake the suspend it answers. The stream is freed by whoever
 * drops the last of its two references: the producer's and the response's
 * (libmicrohttpd's free callback).
 */
#define _GNU_SOURCE 1   /* POLLRDHUP */
#include "http/stream.h"

#include <errno.h>
#include <microhttpd.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "http/server.h"
#include "http/stream_int.h"

struct http_stream {
    pthread_mutex_t mu;
    pthread_cond_t cv;           /* producer waits: room in buf, wake, end */
    struct http_streams *owner;
    struct http_stream *next;    /* in owner's list, under owner->mu */
    struct MHD_Connection *conn;
    char *buf;
    size_t head, len;            /* ring buffer of HTTP_STREAM_BUFFER bytes */
    bool suspended;              /* under mu */
    bool done;                   /* producer returned: EOF after buf drains */
    bool woken;
    atomic_bool over;            /* client gone or server stopping */
    int refs;                    /* producer + response */
    struct http_stream_req req;
};

void http_resp_stream(struct http_resp *r, int status, const char *content_type,
                      http_stream_fn fn, void *arg, void (*arg_free)(void *))
{
    r->status = status;
    r->content_type = content_type;
    r->stream_fn = fn;
    r->stream_arg = arg;
    r->stream_arg_free = arg_free;
}

/* Stream condition variables wait through cc_wait_until, so they must
 * follow the real clock's time line (CLOCK_MONOTONIC). */
static void cond_init_mono(pthread_cond_t *cv)
{
    if (cc_clock_cond_init(cv) != 0)   /* only on resource exhaustion */
        abort();
}

/* Under st->mu: lets the reader run again if it sleeps. */
static void resume_locked(struct http_stream *st)
{
    if (st->suspended) {
        st->suspended = false;
        MHD_resume_connection(st->conn);
    }
}

static void unref(struct http_stream *st)
{
    pthread_mutex_lock(&st->mu);
    int left = --st->refs;
    pthread_mutex_unlock(&st->mu);
    if (left > 0)
        return;
    struct http_streams *ss = st->owner;
    pthread_mutex_lock(&ss->mu);
    for (struct http_stream **p = &ss->head; *p; p = &(*p)->next) {
        if (*p == st) {
            *p = st->next;
            break;
        }
    }
    ss->count--;
    pthread_cond_broadcast(&ss->cv);
    pthread_mutex_unlock(&ss->mu);
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->cv);
    free(st->buf);
    free(st);
}

/* Marks the stream over and wakes both sides. */
static void end_stream(struct http_stream *st)
{
    pthread_mutex_lock(&st->mu);
    atomic_store(&st->over, true);
    resume_locked(st);
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
}

bool http_stream_write(struct http_stream *st, const void *data, size_t len)
{
    const char *p = data;
    pthread_mutex_lock(&st->mu);
    while (len > 0) {
        while (st->len == HTTP_STREAM_BUFFER && !atomic_load(&st->over))
            cc_wait_until(st->owner->clock, &st->cv, &st->mu,
                          cc_mono_ms(st->owner->clock) + 1000);
        if (atomic_load(&st->over))
            break;
        size_t tail = (st->head + st->len) % HTTP_STREAM_BUFFER;
        size_t room = HTTP_STREAM_BUFFER - st->len;
        size_t run = HTTP_STREAM_BUFFER - tail;
        size_t n = len < room ? len : room;
        if (n > run)
            n = run;
        memcpy(st->buf + tail, p, n);
        st->len += n;
        p += n;
        len -= n;
        resume_locked(st);
    }
    bool ok = !atomic_load(&st->over);
    pthread_mutex_unlock(&st->mu);
    return ok;
}

bool http_stream_printf(struct http_stream *st, const char *fmt, ...)
{
    char small[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return !atomic_load(&st->over);
    if ((size_t)n < sizeof(small))
        return http_stream_write(st, small, (size_t)n);
    char *big = cc_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    bool ok = http_stream_write(st, big, (size_t)n);
    free(big);
    return ok;
}

const atomic_bool *http_stream_cancelled(const struct http_stream *st)
{
    return &st->over;
}

bool http_stream_wait(struct http_stream *st, int64_t ms)
{
    pthread_mutex_lock(&st->mu);
    if (!st->woken && !atomic_load(&st->over) && ms > 0) {
        int64_t deadline = cc_mono_ms(st->owner->clock) + ms;
        while (!st->woken && !atomic_load(&st->over))
            if (cc_wait_until(st->owner->clock, &st->cv, &st->mu, deadline))
                break;
    }
    st->woken = false;
    bool ok = !atomic_load(&st->over);
    pthread_mutex_unlock(&st->mu);
    return ok;
}

void http_stream_wake(struct http_stream *st)
{
    pthread_mutex_lock(&st->mu);
    st->woken = true;
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
}

/* ------------------------------------------------------------------ */
/* The libmicrohttpd side                                              */

static ssize_t reader(void *cls, uint64_t pos, char *out, size_t max)
{
    struct http_stream *st = cls;
    ssize_t ret;
    pthread_mutex_lock(&st->mu);
    if (st->len > 0) {
        size_t run = HTTP_STREAM_BUFFER - st->head;
        size_t n = st->len < max ? st->len : max;
        if (n > run)
            n = run;
        memcpy(out, st->buf + st->head, n);
        st->head = (st->head + n) % HTTP_STREAM_BUFFER;
        st->len -= n;
        pthread_cond_broadcast(&st->cv);   /* room for the producer */
        ret = (ssize_t)n;
    } else if (atomic_load(&st->over)) {
        ret = MHD_CONTENT_READER_END_WITH_ERROR;
    } else if (st->done) {
        ret = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        /* Nothing to send: park the connection until the next write. */
        st->suspended = true;
        MHD_suspend_connection(st->conn);
        ret = 0;
    }
    pthread_mutex_unlock(&st->mu);
    return ret;
}

static void response_free(void *cls)
{
    struct http_stream *st = cls;
    /* The client is gone or the response ended: the producer should stop. */
    pthread_mutex_lock(&st->mu);
    atomic_store(&st->over, true);
    st->suspended = false;
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
    unref(st);
}

static void *producer(void *arg)
{
    struct http_stream *st = arg;
    st->req.fn(st, st->req.arg);
    if (st->req.arg_free)
        st->req.arg_free(st->req.arg);
    pthread_mutex_lock(&st->mu);
    st->done = true;
    resume_locked(st);
    pthread_mutex_unlock(&st->mu);
    unref(st);
    return NULL;
}

/* A suspended connection is not watched by libmicrohttpd: look at its
 * socket ourselves. A peer that closed reads as EOF or an error. */
static bool peer_gone(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci)
        return false;
    struct pollfd pfd = {.fd = ci->connect_fd, .events = POLLIN | POLLRDHUP};
    if (poll(&pfd, 1, 0) <= 0)
        return false;
    if (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))
        return true;
    char b;
    ssize_t n = recv(ci->connect_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static void *reaper(void *arg)
{
    struct http_streams *ss = arg;
    pthread_mutex_lock(&ss->mu);
    while (!ss->stopping) {
        cc_wait_until(ss->clock, &ss->cv, &ss->mu, cc_mono_ms(ss->clock) + 1000);
        if (ss->stopping)
            break;
        for (struct http_stream *st = ss->head; st; st = st->next) {
            pthread_mutex_lock(&st->mu);
            if (st->suspended && !atomic_load(&st->over) && peer_gone(st->conn)) {
                atomic_store(&st->over, true);
                resume_locked(st);
                pthread_cond_broadcast(&st->cv);
            }
            pthread_mutex_unlock(&st->mu);
        }
    }
    pthread_mutex_unlock(&ss->mu);
    return NULL;
}

void http_streams_init(struct http_streams *ss, unsigned max, struct cc_log *log,
                       struct cc_clock *clock)
{
    memset(ss, 0, sizeof(*ss));
    pthread_mutex_init(&ss->mu, NULL);
    cond_init_mono(&ss->cv);
    ss->max = max ? max : HTTP_STREAM_MAX;
    ss->log = log;
    ss->clock = clock;
}

struct MHD_Response *http_stream_start(struct http_streams *ss, struct MHD_Connection *c,
                                       const struct http_stream_req *req)
{
    pthread_mutex_lock(&ss->mu);
    if (ss->stopping || ss->count >= ss->max) {
        pthread_mutex_unlock(&ss->mu);
        return NULL;
    }
    if (!ss->reaper_started) {
        if (pthread_create(&ss->reaper, NULL, reaper, ss) != 0) {
            pthread_mutex_unlock(&ss->mu);
            return NULL;
        }
        ss->reaper_started = true;
    }
    struct http_stream *st = cc_xcalloc(1, sizeof(*st));
    pthread_mutex_init(&st->mu, NULL);
    cond_init_mono(&st->cv);
    st->owner = ss;
    st->conn = c;
    st->buf = cc_xmalloc(HTTP_STREAM_BUFFER);
    st->req = *req;
    st->refs = 2;
    atomic_init(&st->over, false);
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, reader, st, response_free);
    if (!r) {
        pthread_mutex_unlock(&ss->mu);
        free(st->buf);
        free(st);
        return NULL;
    }
    st->next = ss->head;
    ss->head = st;
    ss->count++;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    int rc = pthread_create(&t, &a, producer, st);
    pthread_attr_destroy(&a);
    pthread_mutex_unlock(&ss->mu);
    if (rc != 0) {
        /* No producer: the response ends at once (as an error). */
        cc_log_error(ss->log, "http", "cannot start a stream thread");
        st->req.fn = NULL;
        if (req->arg_free)
            req->arg_free(req->arg);
        pthread_mutex_lock(&st->mu);
        st->done = true;
        atomic_store(&st->over, true);
        pthread_mutex_unlock(&st->mu);
        unref(st);
    }
    return r;
}

void http_streams_stop(struct http_streams *ss, int64_t deadline_ms)
{
    pthread_mutex_lock(&ss->mu);
    ss->stopping = true;
    for (struct http_stream *st = ss->head; st; st = st->next)
        end_stream(st);
    pthread_cond_broadcast(&ss->cv);
    bool reaper = ss->reaper_started;
    ss->reaper_started = false;
    pthread_mutex_unlock(&ss->mu);
    if (reaper)
        pthread_join(ss->reaper, NULL);
    /* Producers return once they see `over`; responses end as libmicrohttpd
     * gets to them. Both drop their references. */
    int64_t deadline = cc_mono_ms(ss->clock) + (deadline_ms > 0 ? deadline_ms : 0);
    pthread_mutex_lock(&ss->mu);
    while (ss->count > 0)
        if (cc_wait_until(ss->clock, &ss->cv, &ss->mu, deadline))
            break;
    pthread_mutex_unlock(&ss->mu);
}

void http_streams_destroy(struct http_streams *ss)
{
    pthread_mutex_destroy(&ss->mu);
    pthread_cond_destroy(&ss->cv);
}
