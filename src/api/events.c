/*
 * events.c - /api/v1/events: the event log.
 *
 * Two answers from one route. A plain GET is a page of the log, oldest
 * first, paged by id (?after=, ?limit=). A client that accepts
 * text/event-stream (or asks ?follow=1) gets server-sent events: every
 * event after Last-Event-ID / ?after= (default: only new ones), then new
 * ones as they are recorded, each as `id:`, `event:` (its kind) and `data:`
 * (the JSON object of the page). The stream polls the store, so events
 * recorded by another daemon on the same database show up too; a comment
 * line every 15 s keeps proxies from closing a quiet stream.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "core/clock.h"
#include "http/stream.h"
#include "store/store.h"

#define SSE_POLL_MS 250
#define SSE_KEEPALIVE_MS 15000

#define EVENTS_DEFAULT_LIMIT 100
#define EVENTS_MAX_LIMIT 1000

static void add_event(void *arg, const struct store_event *e)
{
    json_t *list = arg;
    json_t *o = json_pack("{s:I, s:o, s:s, s:s?, s:s?, s:s?}", "id", (json_int_t)e->id,
                          "ts", api__time(e->ts_ms), "kind", e->kind, "project", e->project,
                          "service", e->service, "message", e->message);
    if (o)
        json_array_append_new(list, o);
}

struct sse {
    struct store *store;
    struct cc_clock *clock;
    int64_t after;
    char project[128];         /* "" = every project */
    char kind[64];             /* prefix; "" = every kind */
};

struct sse_page {
    struct sse *s;
    struct http_stream *st;
    bool ok;
    unsigned n;
};

static void send_event(void *arg, const struct store_event *e)
{
    struct sse_page *pg = arg;
    pg->n++;
    pg->s->after = e->id;
    if (!pg->ok)
        return;
    if (pg->s->project[0] && (!e->project || strcmp(e->project, pg->s->project) != 0))
        return;
    if (pg->s->kind[0] && strncmp(e->kind, pg->s->kind, strlen(pg->s->kind)) != 0)
        return;
    json_t *list = json_array();
    add_event(list, e);
    char *data = json_dumps(json_array_get(list, 0), JSON_COMPACT);
    json_decref(list);
    if (!data)
        return;
    pg->ok = http_stream_printf(pg->st, "id: %lld\nevent: %s\ndata: %s\n\n", (long long)e->id,
                                e->kind, data);
    free(data);
}

static void sse_run(struct http_stream *st, void *arg)
{
    struct sse *s = arg;
    int64_t quiet_since = cc_mono_ms(s->clock);
    if (!http_stream_printf(st, "retry: 2000\n\n"))
        return;
    for (;;) {
        struct sse_page pg = {.s = s, .st = st, .ok = true};
        do {
            pg.n = 0;
            if (s->store->ops->event_list(s->store, s->after, STORE_EVENT_LIST_MAX, send_event,
                                          &pg) != CC_OK)
                break;   /* the store is busy or down: try again on the next tick */
        } while (pg.ok && pg.n == STORE_EVENT_LIST_MAX);
        if (!pg.ok)
            return;
        int64_t now = cc_mono_ms(s->clock);
        if (now - quiet_since >= SSE_KEEPALIVE_MS) {
            if (!http_stream_printf(st, ": keepalive\n\n"))
                return;
            quiet_since = now;
        }
        if (!http_stream_wait(st, SSE_POLL_MS))
            return;
    }
}

struct last_acc {
    int64_t last;
    unsigned n;
};

static void last_id_cb(void *arg, const struct store_event *e)
{
    struct last_acc *a = arg;
    a->last = e->id;
    a->n++;
}

/* The newest event's id (0 when the log is empty): the stream then shows
 * only new events. */
static int64_t last_event_id(struct store *st)
{
    struct last_acc acc = {0, 0};
    if (st->ops->event_list_before(st, 0, 1, last_id_cb, &acc) != CC_OK)
        return 0;
    return acc.last;
}

static bool wants_stream(struct http_req *req)
{
    const char *f = http_req_query(req, "follow");
    if (f && (strcmp(f, "1") == 0 || strcmp(f, "true") == 0))
        return true;
    const char *acc = http_req_header(req, "Accept");
    return acc && strstr(acc, "text/event-stream") != NULL;
}

void api__events_list(struct http_req *req, struct http_resp *resp)
{
    long long after = 0, before = 0, limit = EVENTS_DEFAULT_LIMIT;
    const char *a = http_req_query(req, "after");
    const char *b = http_req_query(req, "before");
    const char *l = http_req_query(req, "limit");
    if ((a && api__int(a, 0, INT64_MAX, &after)) || (b && api__int(b, 0, INT64_MAX, &before)) ||
        (l && api__int(l, 1, EVENTS_MAX_LIMIT, &limit)) || (a && b)) {
        http_resp_err(resp, CC_EINVAL, "'after', 'before' and 'limit' must be integers, and "
                      "'after' and 'before' cannot go together",
                      "after >= 0 is the last id you have seen (oldest first); before pages "
                      "back from the newest (0 = from now, newest first); 1 <= limit <= 1000");
        return;
    }
    struct store *st = req->ctx->store;
    if (wants_stream(req)) {
        const char *lei = http_req_header(req, "Last-Event-ID");
        long long from = -1;
        if (lei && api__int(lei, 0, INT64_MAX, &from)) {
            http_resp_err(resp, CC_EINVAL, "Last-Event-ID must be an event id",
                          "send the id of the last event you received, or none");
            return;
        }
        if (from < 0 && a)
            from = after;
        struct sse *s = calloc(1, sizeof(*s));
        if (!s) {
            http_resp_err(resp, CC_ENOMEM, "cannot open the event stream", NULL);
            return;
        }
        s->store = st;
        s->clock = req->ctx->clock;
        s->after = from >= 0 ? from : last_event_id(st);
        const char *p = http_req_query(req, "project");
        const char *k = http_req_query(req, "kind");
        snprintf(s->project, sizeof(s->project), "%s", p ? p : "");
        snprintf(s->kind, sizeof(s->kind), "%s", k ? k : "");
        http_resp_stream(resp, 200, "text/event-stream", sse_run, s, free);
        return;
    }
    /* One more than asked says whether more exist. */
    json_t *list = json_array();
    cc_err err = b ? st->ops->event_list_before(st, before, (unsigned)limit + 1, add_event, list)
                   : st->ops->event_list(st, after, (unsigned)limit + 1, add_event, list);
    if (err) {
        json_decref(list);
        http_resp_err(resp, err, "cannot read the event log", NULL);
        return;
    }
    bool more = json_array_size(list) > (size_t)limit;
    if (more)
        json_array_remove(list, json_array_size(list) - 1);
    size_t n = json_array_size(list);
    json_int_t edge = n ? json_integer_value(json_object_get(json_array_get(list, n - 1), "id"))
                        : (json_int_t)(b ? before : after);
    /* last_id: where ?after= resumes (ascending); next_before: where
     * ?before= continues (descending). */
    http_resp_json(resp, 200, json_pack("{s:o, s:I, s:b}", "events", list,
                                        b ? "next_before" : "last_id", edge, "more", more));
}
