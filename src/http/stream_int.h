/*
 * stream_int.h - what server.c and stream.c share about streams.
 */
#ifndef CC_HTTP_STREAM_INT_H
#define CC_HTTP_STREAM_INT_H

#include <pthread.h>

#include "http/stream.h"

struct MHD_Connection;
struct MHD_Response;
struct cc_clock;
struct cc_log;

/* What a handler asked for (kept in struct http_resp). */
struct http_stream_req {
    http_stream_fn fn;
    void *arg;
    void (*arg_free)(void *);
};

/* Every live stream of one server: the cap, the reaper, the stop. */
struct http_streams {
    pthread_mutex_t mu;
    pthread_cond_t cv;         /* signalled when a stream ends or the reaper should stop */
    struct http_stream *head;
    unsigned count;            /* streams whose response or producer is alive */
    unsigned max;
    bool stopping;
    bool reaper_started;
    pthread_t reaper;
    struct cc_log *log;
    struct cc_clock *clock;    /* deadlines: its mono_ms must be CLOCK_MONOTONIC */
};

void http_streams_init(struct http_streams *ss, unsigned max, struct cc_log *log,
                       struct cc_clock *clock);
/* Ends every stream, waits up to deadline_ms for the producers to return
 * and stops the reaper. */
void http_streams_stop(struct http_streams *ss, int64_t deadline_ms);
void http_streams_destroy(struct http_streams *ss);

/* Builds the libmicrohttpd response for a stream on connection c; NULL when
 * the cap is reached or a thread cannot start (answer 503 then). */
struct MHD_Response *http_stream_start(struct http_streams *ss, struct MHD_Connection *c,
                                       const struct http_stream_req *req);

#endif
