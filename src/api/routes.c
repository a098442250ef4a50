#include "api/api.h"
#include "observe/metrics.h"

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
    {.methods = HTTP_GET, .template = "/api/v1/projects", .access = HTTP_READ,
     .handler = api__projects_list},
    {.methods = HTTP_POST, .template = "/api/v1/projects", .access = HTTP_ADMIN,
     .handler = api__projects_create, .max_body = 8192},
    {.methods = HTTP_GET, .template = "/api/v1/projects/{id}", .access = HTTP_READ,
     .handler = api__projects_get},
    {.methods = HTTP_DELETE, .template = "/api/v1/projects/{id}", .access = HTTP_ADMIN,
     .handler = api__projects_delete},
    {.methods = HTTP_POST, .template = "/api/v1/projects/{id}/up", .access = HTTP_ADMIN,
     .handler = api__projects_up},
    {.methods = HTTP_POST, .template = "/api/v1/projects/{id}/down", .access = HTTP_ADMIN,
     .handler = api__projects_down},
    {.methods = HTTP_GET, .template = "/api/v1/projects/{id}/ps", .access = HTTP_READ,
     .handler = api__projects_ps},
    {.methods = HTTP_GET, .template = "/api/v1/projects/{id}/health", .access = HTTP_READ,
     .handler = api__projects_health},
    {.methods = HTTP_GET, .template = "/api/v1/projects/{id}/resources", .access = HTTP_READ,
     .handler = api__projects_resources},
    {.methods = HTTP_GET, .template = "/api/v1/projects/{id}/logs/{service}",
     .access = HTTP_READ, .handler = api__projects_logs},
    {.methods = HTTP_POST, .template = "/api/v1/projects/{id}/services/{service}/restart",
     .access = HTTP_ADMIN, .handler = api__projects_restart},
    {.methods = HTTP_GET, .template = "/api/v1/sources", .access = HTTP_READ,
     .handler = api__sources_list},
    {.methods = HTTP_POST, .template = "/api/v1/sources", .access = HTTP_ADMIN,
     .handler = api__sources_create, .max_body = 65536},
    {.methods = HTTP_GET, .template = "/api/v1/sources/{id}", .access = HTTP_READ,
     .handler = api__sources_get},
    {.methods = HTTP_PATCH, .template = "/api/v1/sources/{id}", .access = HTTP_ADMIN,
     .handler = api__sources_edit, .max_body = 65536},
    {.methods = HTTP_DELETE, .template = "/api/v1/sources/{id}", .access = HTTP_ADMIN,
     .handler = api__sources_delete},
    {.methods = HTTP_POST, .template = "/api/v1/sources/{id}/run", .access = HTTP_ADMIN,
     .handler = api__sources_run},
    {.methods = HTTP_POST, .template = "/api/v1/sources/{id}/pause", .access = HTTP_ADMIN,
     .handler = api__sources_pause},
    {.methods = HTTP_POST, .template = "/api/v1/sources/{id}/resume", .access = HTTP_ADMIN,
     .handler = api__sources_resume},
    {.methods = HTTP_POST, .template = "/api/v1/knowledge/documents", .access = HTTP_ADMIN,
     .handler = api__documents_create, .upload = true},
    {.methods = HTTP_GET, .template = "/api/v1/knowledge/documents/{id}", .access = HTTP_READ,
     .handler = api__documents_get},
    {.methods = HTTP_DELETE, .template = "/api/v1/knowledge/documents/{id}",
     .access = HTTP_ADMIN, .handler = api__documents_delete},
    {.methods = HTTP_GET, .template = "/api/v1/knowledge/search", .access = HTTP_READ,
     .handler = api__search},
    {.methods = HTTP_GET, .template = "/api/v1/jobs", .access = HTTP_READ,
     .handler = api__jobs_list},
    {.methods = HTTP_GET, .template = "/api/v1/jobs/{id}", .access = HTTP_READ,
     .handler = api__jobs_get},
    {.methods = HTTP_POST, .template = "/api/v1/jobs/{id}/retry", .access = HTTP_ADMIN,
     .handler = api__jobs_retry},
    {.methods = HTTP_POST, .template = "/api/v1/webhooks/github", .access = HTTP_SIGNED,
     .handler = api__webhook_github},
    {.methods = HTTP_POST, .template = "/api/v1/webhooks/generic/{source}",
     .access = HTTP_SIGNED, .handler = api__webhook_generic},
    {.methods = HTTP_POST, .template = "/api/v1/alerts", .access = HTTP_ADMIN,
     .handler = api__alerts_receive},
    {.methods = HTTP_GET, .template = "/api/v1/alerts", .access = HTTP_READ,
     .handler = api__alerts_list},
    {.methods = HTTP_GET, .template = "/", .access = HTTP_PUBLIC, .handler = api__hub_index},
    {.methods = HTTP_GET, .template = "/hub/{file}", .access = HTTP_PUBLIC,
     .handler = api__hub_asset},
};

const size_t api_routes_len = sizeof(api_routes) / sizeof(api_routes[0]);

void api_init(struct api_deps *deps, struct obs_registry *metrics)
{
    static const double result_buckets[] = {0, 1, 2, 5, 10, 20, 50, 100};
    deps->m_search_duration = obs_series_nolabels(
        obs_histogram(metrics, "cc_search_duration_seconds",
                      "Time the store took to answer a search.", NULL, obs_latency_buckets,
                      obs_latency_buckets_len));
    deps->m_search_results = obs_series_nolabels(
        obs_histogram(metrics, "cc_search_results", "Passages returned per search.", NULL,
                      result_buckets, sizeof(result_buckets) / sizeof(result_buckets[0])));
    static const char *const webhook_labels[] = {"provider", "result", NULL};
    deps->m_webhooks = obs_counter(metrics, "cc_webhook_deliveries_total",
                                   "Webhook deliveries by provider and result (accepted, "
                                   "duplicate, bad_signature, ignored, error).",
                                   webhook_labels);
}
