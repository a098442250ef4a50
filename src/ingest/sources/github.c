/*
 * github.c - reading GitHub deliveries and a source's options.github
 * (github.h). Everything here is bounded by the parsed JSON it is given.
 */
#include "ingest/sources/github.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"

#define REPO_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."

static bool repo_ok(const char *s)
{
    size_t owner = strspn(s, REPO_CHARS);
    if (owner == 0 || s[owner] != '/')
        return false;
    size_t name = strspn(s + owner + 1, REPO_CHARS);
    return name > 0 && s[owner + 1 + name] == '\0' && owner + 1 + name <= 200;
}

static cc_err opt_string(json_t *gh, const char *key, const char **out, char *why, size_t whysz)
{
    json_t *v = json_object_get(gh, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return CC_OK;
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        json_string_length(v) > INGEST_GITHUB_FIELD_MAX ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        snprintf(why, whysz, "options.github.%s must be a string of 1-%d bytes", key,
                 INGEST_GITHUB_FIELD_MAX);
        return CC_EINVAL;
    }
    *out = json_string_value(v);
    return CC_OK;
}

cc_err ingest_github_opts_parse(json_t *options, struct ingest_github_opts *out, char *why,
                                size_t whysz)
{
    static const char *const fields[] = {"repository", "secret_file", "branch", "path_prefix",
                                         NULL};
    json_t *gh = json_object_get(options, "github");
    if (!gh || json_is_null(gh))
        return CC_ENOTFOUND;
    if (!json_is_object(gh)) {
        snprintf(why, whysz, "options.github must be an object");
        return CC_EINVAL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(gh, key, v) {
        bool known = false;
        for (const char *const *f = fields; *f && !known; f++)
            known = strcmp(*f, key) == 0;
        if (!known) {
            snprintf(why, whysz, "%s in options.github: %.64s",
                     strcmp(key, "secret") == 0 ? "secrets must come from files, not inline"
                                                : "unknown field",
                     key);
            return CC_EINVAL;
        }
    }
    struct ingest_github_opts o = {0};
    cc_err err = opt_string(gh, "repository", &o.repository, why, whysz);
    if (!err)
        err = opt_string(gh, "secret_file", &o.secret_file, why, whysz);
    if (!err)
        err = opt_string(gh, "branch", &o.branch, why, whysz);
    if (!err)
        err = opt_string(gh, "path_prefix", &o.path_prefix, why, whysz);
    if (err)
        return err;
    if (!o.repository || !repo_ok(o.repository)) {
        snprintf(why, whysz, "options.github.repository must be 'owner/name'");
        return CC_EINVAL;
    }
    if (o.secret_file && o.secret_file[0] != '/') {
        snprintf(why, whysz, "options.github.secret_file must be an absolute path");
        return CC_EINVAL;
    }
    *out = o;
    return CC_OK;
}

bool ingest_github_repo_eq(const char *a, const char *b)
{
    return a && b && strcasecmp(a, b) == 0;
}

const char *ingest_github_repository(json_t *body)
{
    json_t *repo = json_object_get(body, "repository");
    const char *name = json_string_value(json_object_get(repo, "full_name"));
    return name && repo_ok(name) ? name : NULL;
}

bool ingest_github_push_branch_ok(json_t *body, const char *branch)
{
    const char *ref = json_string_value(json_object_get(body, "ref"));
    if (!ref || strncmp(ref, "refs/heads/", 11) != 0 || json_is_true(json_object_get(body, "deleted")))
        return false;
    if (!branch)
        branch = json_string_value(
            json_object_get(json_object_get(body, "repository"), "default_branch"));
    return !branch || strcmp(ref + 11, branch) == 0;
}

/* A repository path we are willing to pass on: relative, no "..". */
static bool path_ok(const char *p, size_t len)
{
    if (len == 0 || len > INGEST_GITHUB_FIELD_MAX || strlen(p) != len || p[0] == '/')
        return false;
    for (const char *s = p; s; s = strchr(s, '/')) {
        if (*s == '/')
            s++;
        if (strncmp(s, "..", 2) == 0 && (s[2] == '/' || s[2] == '\0'))
            return false;
    }
    return true;
}

struct path_set {
    json_t *state;             /* path -> "changed" | "removed", in first-seen order */
    const char *prefix;
    size_t prefix_len;
    bool truncated;
};

static void note_paths(struct path_set *ps, json_t *list, const char *state)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        const char *p = json_string_value(v);
        if (!p || !path_ok(p, json_string_length(v)) ||
            (ps->prefix && strncmp(p, ps->prefix, ps->prefix_len) != 0))
            continue;
        if (!json_object_get(ps->state, p) &&
            json_object_size(ps->state) >= INGEST_GITHUB_PATHS_MAX) {
            ps->truncated = true;
            continue;
        }
        json_object_set_new(ps->state, p, json_string(state));
    }
}

cc_err ingest_github_push_paths(json_t *body, const char *prefix, json_t **changed,
                                json_t **removed, bool *out_truncated)
{
    struct path_set ps = {.state = json_object(), .prefix = prefix,
                          .prefix_len = prefix ? strlen(prefix) : 0};
    json_t *ch = json_array(), *rm = json_array();
    if (!ps.state || !ch || !rm) {
        json_decref(ps.state);
        json_decref(ch);
        json_decref(rm);
        return CC_ENOMEM;
    }
    json_t *commits = json_object_get(body, "commits");
    size_t i;
    json_t *c;
    json_array_foreach(commits, i, c) {
        note_paths(&ps, json_object_get(c, "added"), "changed");
        note_paths(&ps, json_object_get(c, "modified"), "changed");
        note_paths(&ps, json_object_get(c, "removed"), "removed");
    }
    const char *path;
    json_t *st;
    json_object_foreach(ps.state, path, st) {
        bool gone = strcmp(json_string_value(st), "removed") == 0;
        json_array_append_new(gone ? rm : ch, json_string(path));
    }
    json_decref(ps.state);
    *changed = ch;
    *removed = rm;
    *out_truncated = ps.truncated;
    return CC_OK;
}

cc_err ingest_webhook_sig_parse(const char *header, uint8_t out[32])
{
    if (!header || strncmp(header, "sha256=", 7) != 0 || strlen(header + 7) != 64)
        return CC_EINVAL;
    uint8_t tmp[32];
    for (size_t i = 0; i < 32; i++) {
        int hi = cc_hex_digit(header[7 + 2 * i]), lo = cc_hex_digit(header[8 + 2 * i]);
        if (hi < 0 || lo < 0)
            return CC_EINVAL;
        tmp[i] = (uint8_t)(hi << 4 | lo);
    }
    memcpy(out, tmp, sizeof(tmp));
    return CC_OK;
}

bool ingest_webhook_ts_ok(const char *ts, int64_t now_ms, int64_t window_ms)
{
    size_t n = ts ? strlen(ts) : 0;
    if (n == 0 || n > 12 || strspn(ts, "0123456789") != n)
        return false;
    int64_t secs = 0;
    for (size_t i = 0; i < n; i++)
        secs = secs * 10 + (ts[i] - '0');
    int64_t diff = now_ms - secs * 1000;
    return diff <= window_ms && -diff <= window_ms;
}

bool ingest_webhook_id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    return n > 0 && n <= 200 &&
           strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:") == n;
}
