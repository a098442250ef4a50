/*
 * sources.h - the source types: one file each, chosen through a registry.
 *
 * A source type says what a source of its kind is pointed at (a URL, a
 * folder, or nothing), checks a source's type-specific fields and options
 * before the API stores it, and runs it. The "source.run" job handler
 * (ingest_handle_source_run) looks the type up here, never by strcmp at the
 * call sites, copies the stored source into the job's arena and calls the
 * type's run. A run that has more to do than one job should hold (a folder
 * bigger than the source's queue) queues a continuation and reports
 * *finished = false: the source's run is recorded when its last part ends.
 *
 * Runs never ingest documents themselves: they queue "ingest.document"
 * jobs (ingest_source_queue_docs), so every type shares the document
 * pipeline, its idempotence and its backpressure.
 */
#ifndef CC_INGEST_SOURCES_H
#define CC_INGEST_SOURCES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "ingest/text.h"
#include "ingest/queue.h"
#include "store/store.h"

/* A source as a run sees it: copied into the job's arena. */
struct ingest_source {
    int64_t id;
    const char *name;
    const char *type;
    const char *url;           /* NULL unless the type takes one */
    const char *path;          /* NULL unless the type takes one */
    int priority;
    bool enabled;
    const char *auth_json;     /* NULL = none */
    const char *options_json;  /* NULL = {} */
};

/* What a source of a type points at. */
enum ingest_source_locator {
    INGEST_SOURCE_NOTHING,     /* documents arrive through the API or a webhook */
    INGEST_SOURCE_URL,
    INGEST_SOURCE_PATH,
};

/* Why a source cannot be stored, for the API's error body. */
struct ingest_source_problem {
    char msg[256];
    const char *hint;          /* static text, or NULL */
};

/* What a check may consult besides the source itself. */
struct ingest_source_env {
    const char *const *allowed_roots;  /* sources.allowed_roots; NULL-terminated, may be NULL */
};

struct ingest_source_type {
    const char *name;                  /* "file" */
    const char *what;                  /* one line for messages: "a folder scanned ..." */
    enum ingest_source_locator locator;
    /* A source of this type about to be created or edited: the locator is
     * already known to be present. CC_OK, or an error (CC_EINVAL: 400,
     * CC_EPERM: 403) with the problem filled in. NULL = nothing to check. */
    cc_err (*check)(const struct store_source *s, const struct ingest_source_env *env,
                    struct ingest_source_problem *p);
    /* One run, or one part of it. `payload` is the job's JSON object (the
     * continuation's state, a webhook's list of changes). On failure write
     * the message into jc->error. NULL = nothing to run on a schedule. */
    cc_err (*run)(struct ingest_job_ctx *jc, const struct ingest_source *src, json_t *payload,
                  bool *finished);
};

/* The registered types, in the order messages list them; NULL-terminated. */
extern const struct ingest_source_type *const ingest_source_types[];

/* The type called `name`, or NULL. */
const struct ingest_source_type *ingest_source_type_find(const char *name);

/* "rss, docs, webhook, file or manual" - for messages. */
void ingest_source_type_names(char *out, size_t outsz);

/* Checks a source about to be stored against its type: known type, its
 * locator present (and the other one absent), then the type's check. */
cc_err ingest_source_check(const struct store_source *s, const struct ingest_source_env *env,
                           struct ingest_source_problem *p);

/* A type's check of the source's auth JSON, as the fetcher will read it. */
cc_err ingest_source_check_auth(const struct store_source *s, struct ingest_source_problem *p);

/* The "source.run" job handler (data: struct ingest_pipeline_cfg). */
cc_err ingest_handle_source_run(struct ingest_job_ctx *jc);

/* Queues "ingest.document" jobs built by a run, in one store call. On
 * CC_ELIMIT (the source's queue is full) the jobs before the refused one
 * are queued and *done says how many; *queued counts the new ones (not
 * already queued under the same dedup key). Workers are woken. */
cc_err ingest_source_queue_docs(struct ingest_job_ctx *jc, struct store_job *jobs, size_t n,
                                size_t *done, int64_t *queued);

/* A document job for source `src`: payload is the ingest.document JSON
 * (source_id and source_name are added here), dedup_key its key; both are
 * copied into the job's arena. CC_ELIMIT if the arena is full. */
cc_err ingest_source_doc_job(struct ingest_job_ctx *jc, const struct ingest_source *src,
                             json_t *payload, const char *dedup_key, struct store_job *out);

/* Queues a follow-up source.run of `src` carrying `payload` (the state to
 * resume from), to start after delay_ms. Not held to the queue limit, or
 * a full queue could never be resumed. */
cc_err ingest_source_continue(struct ingest_job_ctx *jc, const struct ingest_source *src,
                              json_t *payload, int64_t delay_ms);

/* Replaces a source's options (a docs release adding a version), keeping
 * everything else. */
cc_err ingest_source_set_options(struct ingest_job_ctx *jc, int64_t id, const char *options_json);

/* ---- web pages as documents (page.c) ---------------------------------
 * An "ingest.document" job whose payload has "fetch": true gets its bytes
 * from its "url" through the daemon's fetcher, with the validators of the
 * page's last fetch (a 304 leaves the document as it is), and with
 * "extract": "page" its text from the main-content extractor instead of
 * the plain HTML parser. */

struct ingest_page_fetch {
    uint8_t *data;             /* malloc'd body; NULL when not_modified */
    size_t len;
    char type[128];            /* media type, e.g. "text/html" */
    bool not_modified;         /* 304: the stored document is current */
    char etag[256];            /* the new validators, to remember once stored */
    char last_modified[64];
};

/* Whether two absolute URLs share scheme and authority (case-insensitive). */
bool ingest_same_origin(const char *a, const char *b);

/* What an HTTP status means for a job: CC_OK for 2xx and 304; 404/410
 * CC_ENOTFOUND (gone), 401/403 CC_EAUTH, anything else CC_EUPSTREAM
 * (retried later; the Retry-After wait is named), with why in jc->error. */
cc_err ingest_http_outcome(struct ingest_job_ctx *jc, const char *url, long status,
                           int64_t retry_after_ms);

/* Fetches url for source_id (with the source's auth). HTTP outcomes map
 * to errors a job understands: 404/410 CC_ENOTFOUND (the page is gone),
 * 401/403 CC_EAUTH, 429/5xx CC_EUPSTREAM (retried later), with why in
 * jc->error. */
cc_err ingest_page_get(struct ingest_job_ctx *jc, int64_t source_id, const char *url,
                       struct ingest_page_fetch *out);
void ingest_page_fetch_release(struct ingest_page_fetch *f);   /* NULL-safe */
/* After the page's document was stored: keep its validators for the next
 * conditional GET. Failures are logged, not returned. */
void ingest_page_remember(struct ingest_job_ctx *jc, int64_t source_id, const char *url,
                          const char *etag, const char *last_modified);
/* A page is gone: forget its validators. */
void ingest_page_forget(struct ingest_job_ctx *jc, int64_t source_id, const char *url);
/* When the page was last stored (ms), 0 if never: for crawls that skip pages
 * whose sitemap lastmod is older. */
int64_t ingest_page_fetched_ms(struct ingest_job_ctx *jc, int64_t source_id, const char *url);
/* Whether an HTML page is an immediate redirect (<meta http-equiv=refresh
 * content="0; url=...">, as mike's version aliases are): not a page to
 * index. */
bool ingest_page_is_redirect(const char *html, size_t len);
/* The main content of an HTML page as text (the site's version into
 * version, "" if none). A page that needs JavaScript is CC_EUNSUPPORTED,
 * never indexed as "enable JavaScript". out is replaced only on success. */
cc_err ingest_page_text(struct ingest_job_ctx *jc, const char *html, size_t len, const char *url,
                        struct ingest_text *out, char *version, size_t versionsz);

#endif
