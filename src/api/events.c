/*
 * events.c - /api/v1/events: the event log, oldest first, paged by id.
 */
#include <stdint.h>

#include "api/api.h"
#include "store/store.h"

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

void api__events_list(struct http_req *req, struct http_resp *resp)
{
    long long after = 0, limit = EVENTS_DEFAULT_LIMIT;
    const char *a = http_req_query(req, "after");
    const char *l = http_req_query(req, "limit");
    if ((a && api__int(a, 0, INT64_MAX, &after)) ||
        (l && api__int(l, 1, EVENTS_MAX_LIMIT, &limit))) {
        http_resp_error(resp, 400, "EINVAL", "'after' and 'limit' must be integers",
                        "after >= 0 is the last id you have seen; 1 <= limit <= 1000");
        return;
    }
    struct store *st = req->ctx->store;
    json_t *list = json_array();
    cc_err err = st->ops->event_list(st, after, (unsigned)limit, add_event, list);
    if (err) {
        json_decref(list);
        http_resp_err(resp, err, "cannot read the event log", NULL);
        return;
    }
    size_t n = json_array_size(list);
    json_int_t last = n ? json_integer_value(json_object_get(json_array_get(list, n - 1), "id"))
                        : (json_int_t)after;
    http_resp_json(resp, 200, json_pack("{s:o, s:I}", "events", list, "last_id", last));
}
