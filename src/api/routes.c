#include "api/api.h"

/* The whole HTTP API. Access levels are enforced by the server before a
 * handler runs; see docs/API.md for the answers. */
const struct http_route api_routes[] = {
    {.methods = HTTP_GET, .template = "/health", .access = HTTP_PUBLIC, .handler = api__health},
    {.methods = HTTP_GET, .template = "/ready", .access = HTTP_PUBLIC, .handler = api__ready},
    {.methods = HTTP_GET, .template = "/metrics", .access = HTTP_METRICS, .handler = api__metrics},
    {.methods = HTTP_GET, .template = "/api/v1/status", .access = HTTP_READ, .handler = api__status},
    {.methods = HTTP_GET, .template = "/api/v1/tokens", .access = HTTP_ADMIN,
     .handler = api__tokens_list},
    {.methods = HTTP_POST, .template = "/api/v1/tokens", .access = HTTP_ADMIN,
     .handler = api__tokens_create, .max_body = 4096},
    {.methods = HTTP_DELETE, .template = "/api/v1/tokens/{id}", .access = HTTP_ADMIN,
     .handler = api__tokens_delete},
    {.methods = HTTP_GET, .template = "/api/v1/events", .access = HTTP_READ,
     .handler = api__events_list},
    {.methods = HTTP_GET, .template = "/", .access = HTTP_PUBLIC, .handler = api__hub_index},
    {.methods = HTTP_GET, .template = "/hub/{file}", .access = HTTP_PUBLIC,
     .handler = api__hub_asset},
};

const size_t api_routes_len = sizeof(api_routes) / sizeof(api_routes[0]);
