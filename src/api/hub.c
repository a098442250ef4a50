/*
 * hub.c - the Hub's static files, compiled into the binary from web/.
 * Only files that exist in the table are served; names are looked up, never
 * joined into a filesystem path, so there is nothing to traverse.
 */
#include <string.h>

#include "api/api.h"
#include "core/embedded.h"

static const char *content_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return "application/octet-stream";
    static const struct {
        const char *ext;
        const char *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},   {".svg", "image/svg+xml"},
        {".png", "image/png"},                 {".ico", "image/x-icon"},
        {".json", "application/json"},
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

static void serve(struct http_resp *resp, const char *name)
{
    for (const struct cc_embedded *e = web_assets; e->name; e++) {
        if (strcmp(e->name, name) != 0)
            continue;
        cc_buf_reset(&resp->body);
        if (cc_buf_add(&resp->body, e->data, e->size)) {
            /* The response cap is ours, not the client's doing: a 500. */
            http_resp_err(resp, CC_ENOMEM, "asset too large", NULL);
            return;
        }
        resp->status = 200;
        resp->content_type = content_type(name);
        return;
    }
    http_resp_err(resp, CC_ENOTFOUND, "no such file in the Hub", NULL);
}

void api__hub_index(struct http_req *req, struct http_resp *resp)
{
    serve(resp, "index.html");
}

void api__hub_asset(struct http_req *req, struct http_resp *resp)
{
    serve(resp, http_req_param(req, "file"));
}
