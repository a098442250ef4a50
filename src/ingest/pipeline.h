/*
 * pipeline.h - the job handlers of the knowledge pipeline.
 *
 * "ingest.document": fetch (a file source's file; uploads carry their
 * content) -> extract (parse by content type) -> chunk -> index
 * (content-hash upsert) -> embed (only with an embedding endpoint: the
 * chunks' vectors, stored right after the upsert). Every stage is a pure
 * function of its input or an idempotent upsert, so a job that runs twice
 * leaves the store as if it ran once. A failed embed fails the job
 * (CC_EUPSTREAM, retried); the retry finds the document unchanged but its
 * vectors missing and embeds again. An unchanged document whose vectors
 * exist skips both.
 *
 * "source.run" is in ingest/sources/: each source type in its own file.
 */
#ifndef CC_INGEST_PIPELINE_H
#define CC_INGEST_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>

#include "ingest/embed.h"
#include "ingest/fetch.h"
#include "ingest/queue.h"

struct ingest_pipeline_cfg {
    size_t chunk_max_chars;      /* knowledge.chunk_max_chars */
    size_t max_document_bytes;   /* knowledge.max_document_bytes: files and decoded uploads */
    unsigned queue_limit;        /* jobs.queue_per_source, for the jobs a run queues */
    int max_attempts;            /* jobs.max_attempts, likewise */
    int64_t extract_timeout_ms;  /* pdftotext */
    struct ingest_embed_cfg embed; /* knowledge.embed_*; url "" = no vectors */
    const char *const *allowed_roots; /* sources.allowed_roots; NULL-terminated, may be NULL */
    struct obs_family *m_documents; /* set by ingest_pipeline_init */
    struct ingest_fetcher *fetcher; /* ingest/fetch.h: every outbound HTTP(S) request */
};

struct ingest_fetcher;
struct obs_registry;
/* Registers cc_ingest_documents_total{source,result}. */
void ingest_pipeline_init(struct ingest_pipeline_cfg *cfg, struct obs_registry *metrics);

/* The handlers, with `data` pointing at a struct ingest_pipeline_cfg that
 * outlives the worker pool. */
cc_err ingest_handle_document(struct ingest_job_ctx *jc);

/* Content types the extract stage understands ("text/markdown",
 * "text/plain", "text/x-rst", "text/asciidoc", "text/html",
 * "application/pdf", DOCX). */
bool ingest_content_type_supported(const char *type);
/* PDF and DOCX: must arrive base64-encoded in uploads. */
bool ingest_content_type_binary(const char *type);
/* The content type for a file name's extension, or NULL if unsupported. */
const char *ingest_content_type_for_path(const char *path);

#endif
