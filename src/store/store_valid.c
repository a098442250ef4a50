/*
 * store_valid.c - the record checks store.c's wrappers run before any
 * backend sees a call (store_int.h), so every backend refuses the same
 * input.
 */
#include <string.h>

#include "store/store_int.h"

static bool name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > STORE_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

bool store__source_valid(const struct store_source *src)
{
    static const char *const types[] = {"rss", "docs", "webhook", "file", "manual"};
    if (!src || !name_valid(src->name) || !src->type)
        return false;
    if (src->priority < 1 || src->priority > 10)
        return false;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(src->type, types[i]) == 0)
            return true;
    }
    return false;
}

bool store__token_valid(const struct store_token *t)
{
    if (!t || !t->name || !t->hash || !t->scope)
        return false;
    size_t n = strlen(t->name);
    if (n == 0 || n > STORE_NAME_MAX || strlen(t->hash) != STORE_HASH_LEN)
        return false;
    return strcmp(t->scope, "read") == 0 || strcmp(t->scope, "admin") == 0;
}

bool store__project_valid(const struct store_project *p)
{
    return p && p->name && *p->name && p->compose_path && p->state && *p->state;
}

bool store__event_valid(const struct store_event *e)
{
    return e && e->kind && *e->kind && e->message;
}

bool store__job_valid(const struct store_job *j)
{
    return j && j->kind && *j->kind && j->source_id >= 0 && j->max_attempts >= 1 &&
           j->next_run_ms >= 0 && (j->payload || j->payload_len == 0) &&
           (!j->dedup_key || *j->dedup_key);
}

bool store__delivery_valid(const struct store_delivery *d)
{
    size_t n = d && d->delivery_id ? strlen(d->delivery_id) : 0;
    return d && d->provider && *d->provider && n > 0 && n <= STORE_DELIVERY_ID_MAX &&
           d->source_id >= 0 && d->received_ms >= 0 && d->prune_before_ms >= 0;
}

bool store__job_state_valid(const char *state)
{
    static const char *const states[] = {"queued", "running", "succeeded", "failed", "dead"};
    for (size_t i = 0; state && i < sizeof(states) / sizeof(states[0]); i++) {
        if (strcmp(state, states[i]) == 0)
            return true;
    }
    return false;
}

bool store__lease_valid(const char *owner, int64_t now_ms, int64_t lease_ms)
{
    return owner && *owner && lease_ms > 0 && now_ms >= 0 && now_ms <= INT64_MAX - lease_ms;
}

/* 64 hex digits, copied lowercased so a hash compares equal in any case. */
static bool hash_normalize(const char *hash, char out[STORE_HASH_LEN + 1])
{
    if (!hash || strlen(hash) != STORE_HASH_LEN)
        return false;
    for (size_t i = 0; i < STORE_HASH_LEN; i++) {
        char c = hash[i];
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
        out[i] = c;
    }
    out[STORE_HASH_LEN] = '\0';
    return true;
}

/* NULL, or JSON text of the wanted type (arrays must hold only strings).
 * *out (optional) gets the parsed value; the caller json_decref()s it. */
static bool json_field_valid(const char *text, bool array, json_t **out)
{
    if (!text)
        return true;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    bool ok = j && (array ? json_is_array(j) : json_is_object(j));
    for (size_t i = 0; ok && array && i < json_array_size(j); i++)
        ok = json_is_string(json_array_get(j, i));
    if (ok && out)
        *out = j;
    else
        json_decref(j);
    return ok;
}

static bool chunks_valid(const struct store_doc *d)
{
    if (d->nchunks > 0 && !d->chunks)
        return false;
    for (size_t i = 0; i < d->nchunks; i++) {
        if (!d->chunks[i].text || d->chunks[i].ord < 0)
            return false;
    }
    return true;
}

/* Checks a document before any SQL runs; *out_tags gets its parsed tags
 * (NULL when it has none). */
cc_err store__doc_validate(const struct store_doc *d, char hash[STORE_HASH_LEN + 1],
                           json_t **out_tags)
{
    json_t *tags = NULL;
    if (!d || d->source_id <= 0 || !d->external_id || !*d->external_id)
        return CC_EINVAL;
    if (!hash_normalize(d->content_hash, hash) || !chunks_valid(d))
        return CC_EINVAL;
    if (!json_field_valid(d->authors_json, true, NULL) ||
        !json_field_valid(d->metadata_json, false, NULL) ||
        !json_field_valid(d->tags_json, true, &tags))
        return CC_EINVAL;
    *out_tags = tags;
    return CC_OK;
}

bool store__alert_status_valid(const char *status)
{
    return status && (strcmp(status, "firing") == 0 || strcmp(status, "resolved") == 0);
}

static bool json_object_text(const char *text)
{
    json_t *o = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
    bool ok = json_is_object(o);
    json_decref(o);
    return ok;
}

bool store__alert_valid(const struct store_alert *a)
{
    if (!a || !store__alert_status_valid(a->status) || !a->fingerprint || !a->name)
        return false;
    size_t n = strlen(a->fingerprint), nn = strlen(a->name);
    if (n == 0 || n > STORE_FINGERPRINT_MAX || nn == 0 || nn > STORE_ALERT_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = a->fingerprint[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return false;
    }
    if (a->starts_ms < 0 || a->ends_ms < 0 || a->updated_ms < 0)
        return false;
    return json_object_text(a->labels_json) &&
           (!a->annotations_json || json_object_text(a->annotations_json));
}
