/*
 * conns.h - every open connection's receive clock, and the reaper that
 * cuts clients too slow to send a request.
 *
 * libmicrohttpd's connection timeout (http.read_timeout) is an idle
 * timeout: any byte resets it, so a client sending one header line every
 * few seconds keeps its connection forever. Here each connection records
 * since when the server has been waiting for its current request; a
 * reaper thread looks once a second and shuts down the socket of every
 * connection still receiving past http.request_timeout. The worker that
 * owns the connection then sees the end of the stream and closes it on its
 * own thread: the reaper never closes a descriptor, and it holds the lock
 * that the close notification takes, so a descriptor it shuts down cannot
 * have been reused by another connection meanwhile.
 *
 * A connection is "receiving" from its accept, or from the end of its
 * previous request (keep-alive), until its request has been fully read;
 * a streamed answer or a running handler is not receiving. So an idle
 * keep-alive connection is also cut at the cap.
 *
 * server.c and stream.c only; the functions take the libmicrohttpd
 * connection and find their state in its socket context.
 */
#ifndef CC_HTTP_CONNS_H
#define CC_HTTP_CONNS_H

#include <microhttpd.h>
#include <stdint.h>

#include "core/err.h"

struct cc_clock;
struct obs_series;
struct http_conns;

/* timeout_ms <= 0: no cap (the reaper is not started). cut counts the
 * connections cut (may be NULL). */
cc_err http__conns_new(struct cc_clock *clock, int64_t timeout_ms, struct obs_series *cut,
                       struct http_conns **out);
/* Stops the reaper; connections already tracked stay tracked. */
void http__conns_stop(struct http_conns *cs);
/* Stops the reaper and frees; call after libmicrohttpd has stopped. */
void http__conns_free(struct http_conns *cs);

/* The MHD_OPTION_NOTIFY_CONNECTION callback (cls is the http_conns). */
void http__conns_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                        enum MHD_ConnectionNotificationCode toe);
/* The current request has been read: it is no longer receiving. */
void http__conn_received(struct MHD_Connection *c);
/* The request is over: the connection waits for the next one from now. */
void http__conn_idle(struct http_conns *cs, struct MHD_Connection *c);
/* Connections open right now. */
unsigned http__conns_count(struct http_conns *cs);

#endif
