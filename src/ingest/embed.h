/*
 * embed.h - text embeddings from an HTTP endpoint, for vector search.
 *
 * Two protocols: "openai" (POST {"model","input":[...]} to an
 * OpenAI-compatible /v1/embeddings, answer data[i].embedding, texts sent
 * in batches of cfg->batch) and "ollama" (POST {"model","prompt"} to
 * /api/embeddings, one text per call, answer "embedding"). Answers are
 * validated: one vector per text, every vector of the same dimension
 * (1..INGEST_EMBED_MAX_DIMS), finite numbers. Calls go through the
 * fetcher (ingest/fetch.h), http:// or https://, as trusted requests: the
 * operator configured the endpoint, so the SSRF guard does not apply.
 */
#ifndef CC_INGEST_EMBED_H
#define CC_INGEST_EMBED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define INGEST_EMBED_MAX_DIMS 8192

struct ingest_fetcher;

struct ingest_embed_cfg {
    struct ingest_fetcher *fetcher; /* required when url is set */
    const char *url;       /* NULL or "" = embeddings off */
    bool ollama;           /* false: the openai protocol */
    const char *model;
    const char *api_key;   /* NULL or "" = no Authorization header */
    int64_t timeout_ms;    /* one call */
    unsigned batch;        /* texts per openai call, >= 1 */
};

static inline bool ingest_embed_enabled(const struct ingest_embed_cfg *cfg)
{
    return cfg && cfg->url && cfg->url[0];
}

/* Embeds n >= 1 texts. On success *out is a heap array of n * *dims floats
 * (text i at out[i * dims]; the caller frees it) and *dims the dimension.
 * The dimension is only known from the answer, hence the allocation here.
 * Every failure - unreachable endpoint, timeout, an error status, an
 * invalid answer - is CC_EUPSTREAM (retryable) with a message in err;
 * *out and *dims are then untouched. */
cc_err ingest_embed(const struct ingest_embed_cfg *cfg, const char *const *texts, size_t n,
                    float **out, size_t *dims, char *err, size_t errsz);

#endif
