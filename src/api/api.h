/*
 * api.h - the daemon's HTTP routes.
 *
 * One file per resource (system.c, tokens.c, events.c, hub.c); routes.c
 * lists every route in one table so the whole API can be read in one
 * place. Handlers reach shared state through req->ctx (store, metrics,
 * clock, config) and req->server_data, which points at struct api_deps.
 */
#ifndef CC_API_API_H
#define CC_API_API_H

#include <stddef.h>

#include "http/server.h"

struct api_deps {
    struct http_auth *auth;
};

extern const struct http_route api_routes[];
extern const size_t api_routes_len;

/* Shared between the files of this module. */
void api__health(struct http_req *req, struct http_resp *resp);
void api__ready(struct http_req *req, struct http_resp *resp);
void api__metrics(struct http_req *req, struct http_resp *resp);
void api__status(struct http_req *req, struct http_resp *resp);
void api__tokens_list(struct http_req *req, struct http_resp *resp);
void api__tokens_create(struct http_req *req, struct http_resp *resp);
void api__tokens_delete(struct http_req *req, struct http_resp *resp);
void api__events_list(struct http_req *req, struct http_resp *resp);
void api__hub_index(struct http_req *req, struct http_resp *resp);
void api__hub_asset(struct http_req *req, struct http_resp *resp);

/* RFC 3339 string for Unix ms, or JSON null for 0. */
json_t *api__time(int64_t ms);
/* Parses an integer query/path value in [min, max]; CC_EINVAL otherwise. */
cc_err api__int(const char *s, long long min, long long max, long long *out);

#endif
