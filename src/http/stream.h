/*
 * stream.h - responses that are written while they are sent: server-sent
 * events and log follow.
 *
 * A handler that wants to stream calls http_resp_stream() instead of
 * filling a body. The server then answers with the status and headers at
 * once and runs `fn` on a thread of its own (the producer); fn writes with
 * http_stream_write() and returns when it is done, which ends the response.
 * The HTTP worker threads are never held: while the producer has nothing
 * to say, the connection is suspended (libmicrohttpd's suspend/resume) and
 * resumed by the next write.
 *
 * A producer learns that it should stop in three ways: a write returns
 * false, http_stream_cancelled() is set (it may pass that flag to blocking
 * calls that poll it), or http_stream_wait() returns false. That happens
 * when the client hangs up (noticed within about a second even while the
 * stream is idle: a reaper looks at suspended sockets) or the server stops.
 *
 * Memory is bounded: a stream buffers at most HTTP_STREAM_BUFFER bytes; a
 * write to a full buffer waits for the client to read (a slow client slows
 * its producer, nobody else). At most http.max_streams streams exist at
 * once; one more is answered 503.
 */
#ifndef CC_HTTP_STREAM_H
#define CC_HTTP_STREAM_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_STREAM_BUFFER (256u * 1024)
#define HTTP_STREAM_MAX 64u

struct http_stream;
struct http_resp;

/* Runs on the stream's own thread; arg is the handler's (freed with
 * arg_free after fn returns, whatever happened). */
typedef void (*http_stream_fn)(struct http_stream *st, void *arg);

/* Turns the response into a stream with this status and content type.
 * arg must not point into the request arena: the producer may outlive the
 * request's handler. */
void http_resp_stream(struct http_resp *r, int status, const char *content_type,
                      http_stream_fn fn, void *arg, void (*arg_free)(void *));

/* Queues bytes for the client; false once the stream is over (client gone,
 * server stopping): the producer should return. */
bool http_stream_write(struct http_stream *st, const void *data, size_t len);
bool http_stream_printf(struct http_stream *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Set when the stream is over; stays set. */
const atomic_bool *http_stream_cancelled(const struct http_stream *st);
/* Sleeps up to ms, waking early when the stream ends or http_stream_wake()
 * is called. Returns false when the stream is over. */
bool http_stream_wait(struct http_stream *st, int64_t ms);
/* Wakes a producer sleeping in http_stream_wait (from any thread). */
void http_stream_wake(struct http_stream *st);

#endif
