/*
 * embed.c - embeddings over HTTP (see embed.h).
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "ingest/embed.h"
#include "ingest/fetch.h"

#define ANSWER_LIMIT (64u << 20)   /* 256 texts x 8192 dims of JSON numbers fit */

/* The vectors gathered so far; v is allocated once the first answer tells
 * the dimension. */
struct vecs {
    float *v;
    size_t n;      /* vectors expected */
    size_t dims;   /* 0 until the first vector */
};

static cc_err bad(char *err, size_t errsz, const char *what)
{
    snprintf(err, errsz, "the embedding endpoint's answer is invalid: %s", what);
    return CC_EUPSTREAM;
}

/* Stores the JSON array arr as vector idx of acc. */
static cc_err take_vector(const json_t *arr, struct vecs *acc, size_t idx, char *err,
                          size_t errsz)
{
    if (!json_is_array(arr))
        return bad(err, errsz, "an embedding is not an array of numbers");
    size_t d = json_array_size(arr);
    if (d == 0 || d > INGEST_EMBED_MAX_DIMS)
        return bad(err, errsz, "an embedding has no numbers or more than 8192");
    if (acc->dims && d != acc->dims)
        return bad(err, errsz, "embeddings of different dimensions");
    if (idx >= acc->n)
        return bad(err, errsz, "more embeddings than texts");
    if (!acc->dims) {
        acc->dims = d;
        acc->v = cc_xcalloc(acc->n * d, sizeof(float));
    }
    float *dst = acc->v + idx * d;
    for (size_t i = 0; i < d; i++) {
        const json_t *x = json_array_get(arr, i);
        if (!json_is_number(x))
            return bad(err, errsz, "an embedding holds something other than a number");
        dst[i] = (float)json_number_value(x);
        if (!isfinite(dst[i]))
            return bad(err, errsz, "an embedding holds a number that is not finite");
    }
    return CC_OK;
}

/* {"data":[{"index":i,"embedding":[...]}, ...]} for texts first..first+count-1;
 * "index" is optional (order is then the input order). */
static cc_err parse_openai(const json_t *ans, struct vecs *acc, size_t first, size_t count,
                           char *err, size_t errsz)
{
    const json_t *data = json_object_get(ans, "data");
    if (!json_is_array(data))
        return bad(err, errsz, "no \"data\" array");
    if (json_array_size(data) != count)
        return bad(err, errsz, "not one embedding per text");
    for (size_t i = 0; i < count; i++) {
        const json_t *item = json_array_get(data, i);
        const json_t *ix = json_object_get(item, "index");
        size_t at = i;
        if (ix) {
            if (!json_is_integer(ix) || json_integer_value(ix) < 0 ||
                (size_t)json_integer_value(ix) >= count)
                return bad(err, errsz, "an \"index\" out of range");
            at = (size_t)json_integer_value(ix);
        }
        cc_err e = take_vector(json_object_get(item, "embedding"), acc, first + at, err, errsz);
        if (e)
            return e;
    }
    return CC_OK;
}

/* {"embedding":[...]} for text idx. */
static cc_err parse_ollama(const json_t *ans, struct vecs *acc, size_t idx, char *err,
                           size_t errsz)
{
    const json_t *e = json_object_get(ans, "embedding");
    if (!e)
        return bad(err, errsz, "no \"embedding\"");
    return take_vector(e, acc, idx, err, errsz);
}

/* POSTs req as JSON and parses a 2xx JSON answer into *ans. */
static cc_err post_json(const struct ingest_embed_cfg *cfg, json_t *req, json_t **ans,
                        char *err, size_t errsz)
{
    char *payload = json_dumps(req, JSON_COMPACT);
    struct cc_buf auth;
    cc_buf_init(&auth, 8192);
    const char *headers[3] = {"Content-Type: application/json", NULL, NULL};
    if (cfg->api_key && cfg->api_key[0]) {
        cc_buf_addf(&auth, "Authorization: Bearer %s", cfg->api_key);
        headers[1] = cc_buf_str(&auth);
    }
    struct ingest_fetch_req fr = {.method = "POST", .url = cfg->url, .headers = headers,
                                  .body = payload ? payload : "",
                                  .body_len = payload ? strlen(payload) : 0,
                                  .accept = "application/json", .max_bytes = ANSWER_LIMIT,
                                  .timeout_ms = cfg->timeout_ms, .trusted = true};
    struct ingest_fetch_resp a = {0};
    char why[512];
    cc_err rc = CC_EUPSTREAM;
    if (!payload) {
        snprintf(err, errsz, "cannot encode the embedding request");
        goto out;
    }
    if (!cfg->fetcher) {
        snprintf(err, errsz, "embedding endpoint %s: no fetcher to reach it", cfg->url);
        goto out;
    }
    if (ingest_fetch(cfg->fetcher, &fr, &a, why, sizeof(why))) {
        snprintf(err, errsz, "embedding endpoint %s: %s", cfg->url, why);
        goto out;
    }
    if (a.status < 200 || a.status > 299) {
        snprintf(err, errsz, "embedding endpoint %s answered %ld: %.200s", cfg->url,
                 a.status, a.body);
        goto out;
    }
    json_error_t je;
    *ans = json_loadb(a.body, a.len, 0, &je);
    if (!*ans) {
        rc = bad(err, errsz, "not JSON");
        goto out;
    }
    rc = CC_OK;
out:
    ingest_fetch_resp_release(&a);
    free(payload);
    cc_buf_release(&auth);
    return rc;
}

static cc_err embed_call(const struct ingest_embed_cfg *cfg, const char *const *texts,
                         size_t first, size_t count, struct vecs *acc, char *err,
                         size_t errsz)
{
    json_t *req = json_object(), *ans = NULL;
    json_object_set_new(req, "model", json_string(cfg->model ? cfg->model : ""));
    if (cfg->ollama) {
        json_object_set_new(req, "prompt", json_string(texts[first]));
    } else {
        json_t *in = json_array();
        for (size_t i = 0; i < count; i++)
            json_array_append_new(in, json_string(texts[first + i]));
        json_object_set_new(req, "input", in);
    }
    cc_err rc = post_json(cfg, req, &ans, err, errsz);
    if (rc == CC_OK)
        rc = cfg->ollama ? parse_ollama(ans, acc, first, err, errsz)
                         : parse_openai(ans, acc, first, count, err, errsz);
    json_decref(ans);
    json_decref(req);
    return rc;
}

cc_err ingest_embed(const struct ingest_embed_cfg *cfg, const char *const *texts, size_t n,
                    float **out, size_t *dims, char *err, size_t errsz)
{
    struct vecs acc = {.n = n};
    cc_err rc = CC_EUPSTREAM;
    if (!ingest_embed_enabled(cfg) || n == 0) {
        snprintf(err, errsz, "no embedding endpoint or nothing to embed");
        goto out;
    }
    size_t step = cfg->ollama ? 1 : (cfg->batch ? cfg->batch : 1);
    for (size_t first = 0; first < n; first += step) {
        size_t count = n - first < step ? n - first : step;
        rc = embed_call(cfg, texts, first, count, &acc, err, errsz);
        if (rc)
            goto out;
    }
    *out = acc.v;
    *dims = acc.dims;
    acc.v = NULL;
    rc = CC_OK;
out:
    free(acc.v);
    return rc;
}
