/*
 * fuzz_webhook.c - what a webhook delivery's bytes reach before and after
 * its signature verifies (ingest/sources/github.h): the body as JSON, the
 * repository it names, options.github read from it as if it were a
 * source's options, the branch filter and the changed/removed paths of a
 * push, and the header parsers (signature, timestamp, delivery id) on the
 * input's first line. Besides crashes it checks what a user would notice:
 * the paths handed to a run are relative, free of "..", under the prefix,
 * never both changed and removed, and at most INGEST_GITHUB_PATHS_MAX.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ingest/sources/github.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_paths(json_t *list, const char *prefix, json_t *other)
{
    size_t i, j;
    json_t *v, *w;
    json_array_foreach(list, i, v) {
        const char *p = json_string_value(v);
        if (!p || p[0] == '/' || strstr(p, "/../") || strncmp(p, "../", 3) == 0 ||
            (prefix && strncmp(p, prefix, strlen(prefix)) != 0))
            abort();
        json_array_foreach(other, j, w)
            if (strcmp(p, json_string_value(w)) == 0)
                abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The first line: header values. */
    const uint8_t *nl = memchr(data, '\n', size);
    size_t hl = nl ? (size_t)(nl - data) : 0;
    char header[256];
    if (hl < sizeof(header)) {
        memcpy(header, data, hl);
        header[hl] = '\0';
        uint8_t sig[32];
        ingest_webhook_sig_parse(header, sig);
        ingest_webhook_ts_ok(header, 1765000000000LL, 300000);
        ingest_webhook_id_ok(header);
    }
    json_t *body = json_loadb((const char *)data + (nl ? hl + 1 : 0), size - (nl ? hl + 1 : 0),
                              JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(body)) {
        json_decref(body);
        return 0;
    }
    const char *repo = ingest_github_repository(body);
    if (repo && !ingest_github_repo_eq(repo, repo))
        abort();
    struct ingest_github_opts o;
    char why[200];
    const char *prefix = NULL, *branch = NULL;
    if (ingest_github_opts_parse(body, &o, why, sizeof(why)) == CC_OK) {
        if (!o.repository || strchr(o.repository, '/') == NULL)
            abort();
        prefix = o.path_prefix;
        branch = o.branch;
    }
    ingest_github_push_branch_ok(body, branch);
    json_t *changed = NULL, *removed = NULL;
    bool truncated = false;
    if (ingest_github_push_paths(body, prefix, &changed, &removed, &truncated) == CC_OK) {
        if (json_array_size(changed) + json_array_size(removed) > INGEST_GITHUB_PATHS_MAX)
            abort();
        check_paths(changed, prefix, removed);
        check_paths(removed, prefix, changed);
        json_decref(changed);
        json_decref(removed);
    }
    json_decref(body);
    return 0;
}
