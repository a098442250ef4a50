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

#include "ingest/embed.h"
#include "ingest/sources/sources.h"

struct ingest_workers;
struct ingest_scheduler;
struct ingest_watcher;
struct store_source;

/* Knobs of the knowledge routes, from the configuration. */
struct api_knowledge_cfg {
    unsigned queue_limit;        /* jobs.queue_per_source */
    int max_attempts;            /* jobs.max_attempts */
    unsigned search_k_default;
    size_t max_document_bytes;   /* knowledge.max_document_bytes */
    struct ingest_embed_cfg embed; /* url "" = BM25 alone */
};

struct orch_engine;

struct api_deps {
    struct http_auth *auth;
    struct orch_engine *engine;          /* NULL: orchestration routes answer 503 */
    struct ingest_workers *workers;      /* NULL: nothing to wake */
    struct ingest_scheduler *scheduler;  /* NULL: nothing to wake */
    struct ingest_watcher *watcher;      /* NULL: nothing to wake */
    struct api_knowledge_cfg knowledge;
    struct ingest_source_env sources_env;  /* what source checks consult */
    struct obs_series *m_search_duration;  /* set by api_init */
    struct obs_series *m_search_results;
    struct obs_family *m_webhooks;          /* cc_webhook_deliveries_total{provider,result} */
};

struct obs_registry;
/* Registers the metrics the handlers update. Call once before serving. */
void api_init(struct api_deps *deps, struct obs_registry *metrics);

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
void api__sources_list(struct http_req *req, struct http_resp *resp);
void api__sources_get(struct http_req *req, struct http_resp *resp);
void api__sources_create(struct http_req *req, struct http_resp *resp);
void api__sources_edit(struct http_req *req, struct http_resp *resp);
void api__sources_delete(struct http_req *req, struct http_resp *resp);
void api__sources_run(struct http_req *req, struct http_resp *resp);
void api__sources_pause(struct http_req *req, struct http_resp *resp);
void api__sources_resume(struct http_req *req, struct http_resp *resp);
void api__documents_create(struct http_req *req, struct http_resp *resp);
void api__documents_get(struct http_req *req, struct http_resp *resp);
void api__documents_delete(struct http_req *req, struct http_resp *resp);
void api__search(struct http_req *req, struct http_resp *resp);
void api__jobs_list(struct http_req *req, struct http_resp *resp);
void api__jobs_get(struct http_req *req, struct http_resp *resp);
void api__jobs_retry(struct http_req *req, struct http_resp *resp);
void api__hub_asset(struct http_req *req, struct http_resp *resp);
void api__projects_list(struct http_req *req, struct http_resp *resp);
void api__projects_create(struct http_req *req, struct http_resp *resp);
void api__projects_get(struct http_req *req, struct http_resp *resp);
void api__projects_delete(struct http_req *req, struct http_resp *resp);
void api__projects_up(struct http_req *req, struct http_resp *resp);
void api__projects_down(struct http_req *req, struct http_resp *resp);
void api__projects_ps(struct http_req *req, struct http_resp *resp);
void api__projects_health(struct http_req *req, struct http_resp *resp);
void api__projects_resources(struct http_req *req, struct http_resp *resp);
void api__projects_restart(struct http_req *req, struct http_resp *resp);
void api__projects_logs(struct http_req *req, struct http_resp *resp);
void api__alerts_receive(struct http_req *req, struct http_resp *resp);
void api__alerts_list(struct http_req *req, struct http_resp *resp);

void api__webhook_github(struct http_req *req, struct http_resp *resp);
void api__webhook_generic(struct http_req *req, struct http_resp *resp);

/* A document as POST /api/v1/knowledge/documents takes it (without
 * "source" when !with_source), checked completely. CC_OK with *type_out
 * its content type; else the answer's error (CC_EINVAL, CC_ELIMIT,
 * CC_EUNSUPPORTED: 415) with msg and hint filled. */
struct api_doc_problem {
    char msg[256];
    const char *hint;          /* static text, or NULL */
};
cc_err api__document_check(const struct api_deps *deps, json_t *doc, bool with_source,
                           const char **type_out, struct api_doc_problem *p);
/* The ingest.document job payload of a checked document (heap, the
 * caller frees): the document without "source", with source_id,
 * source_name, content_type and an external_id (the URL, else the
 * content's SHA-256: the same content posted twice is one document).
 * With `external_id`, that id is also copied into the arena `a` (NULL
 * when the arena is full). doc itself is changed (used, not copied). */
char *api__document_payload(json_t *doc, int64_t source_id, const char *source_name,
                            const char *type, struct cc_arena *a, const char **external_id);

/* A source as the API shows it (new reference). */
json_t *api__source_json(const struct store_source *s);
/* Looks a source up by id or name from a path parameter; on failure the
 * 404/5xx answer is written and NULL returned. */
json_t *api__source_lookup(struct http_req *req, struct http_resp *resp, const char *ref);

/* RFC 3339 string for Unix ms, or JSON null for 0. */
json_t *api__time(int64_t ms);
/* Parses an integer query/path value in [min, max]; CC_EINVAL otherwise. */
cc_err api__int(const char *s, long long min, long long max, long long *out);

#endif
