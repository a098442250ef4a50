/*
 * version.c - which docs version a URL names, and MkDocs' (mike's)
 * versions.json. Pure functions (see extract.h).
 */
#include "ingest/web/extract.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"

static bool digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A pre-release tail: "-beta.1", "rc1", ".dev0", "-alpha", "b2". */
static bool prerelease(const char *s, size_t n)
{
    static const char *const TAGS[] = { "alpha", "beta", "rc", "pre", "dev", "a", "b", NULL };
    size_t i = 0;
    if (i < n && (s[i] == '-' || s[i] == '.'))
        i++;
    for (const char *const *t = TAGS; *t; t++) {
        size_t tl = strlen(*t);
        if (n - i >= tl && strncasecmp(s + i, *t, tl) == 0) {
            size_t j = i + tl;
            if (j < n && s[j] == '.')
                j++;
            while (j < n && digit(s[j]))
                j++;
            if (j == n)
                return true;
        }
    }
    return false;
}

/* v1, v1.0, 1.0, 1.2.3, 2.x, v2.0.0-beta.1, 3.12rc1; not a bare 2. */
static bool numeric_version(const char *s, size_t n)
{
    size_t i = 0, parts = 0;
    bool v = n > 0 && (s[0] == 'v' || s[0] == 'V');
    i += v;
    while (i < n) {
        size_t start = i;
        if (parts > 0 && (s[i] == 'x' || s[i] == 'X')) {
            i++;
        } else {
            while (i < n && digit(s[i]))
                i++;
        }
        if (i == start)
            return false;
        parts++;
        if (i < n && s[i] == '.' && i + 1 < n && (digit(s[i + 1]) || s[i + 1] == 'x' ||
                                                   s[i + 1] == 'X')) {
            i++;
            continue;
        }
        break;
    }
    if (parts == 0 || parts > 4 || (parts == 1 && !v))
        return false;
    return i == n || prerelease(s + i, n - i);
}

static bool seg_is(const char *s, size_t n, const char *const *words)
{
    for (; *words; words++)
        if (strlen(*words) == n && strncasecmp(s, *words, n) == 0)
            return true;
    return false;
}

/* "en", "pt-br", "zh_CN", "zh-hans". */
static bool language(const char *s, size_t n)
{
    if (n != 2 && !(n >= 4 && n <= 7 && (s[2] == '-' || s[2] == '_')))
        return false;
    for (size_t i = 0; i < n; i++)
        if (i != 2 && !alpha(s[i]))
            return false;
    return n == 2 ? s[0] >= 'a' && s[0] <= 'z' && s[1] >= 'a' && s[1] <= 'z' : true;
}

cc_err ingest_version_from_url(const char *url, char *out, size_t outsz)
{
    static const char *const NAMED[] = { "latest", "stable", "next", "current", "dev",
                                         "main", "master", "nightly", "unstable", NULL };
    static const char *const DOCS[] = { "docs", "doc", "documentation", NULL };
    const char *p = url;
    const char *scheme = strstr(p, "://");
    if (scheme && (size_t)(scheme - p) < 16) {
        p = scheme + 3;
        p += strcspn(p, "/?#");
    }
    size_t pathlen = strcspn(p, "?#");
    bool after_anchor = true;        /* the first segment counts as anchored */
    for (size_t i = 0; i < pathlen;) {
        while (i < pathlen && p[i] == '/')
            i++;
        size_t n = 0;
        while (i + n < pathlen && p[i + n] != '/')
            n++;
        if (n == 0)
            break;
        const char *s = p + i;
        bool hit = numeric_version(s, n) || (after_anchor && seg_is(s, n, NAMED));
        if (hit) {
            if (n + 1 > outsz)
                return CC_ELIMIT;
            memcpy(out, s, n);
            out[n] = '\0';
            return CC_OK;
        }
        after_anchor = language(s, n) || seg_is(s, n, DOCS);
        i += n;
    }
    return CC_ENOTFOUND;
}

/* ---- versions.json ---------------------------------------------------------- */

static void version_release(struct ingest_doc_version *v)
{
    free(v->version);
    free(v->title);
    for (size_t i = 0; i < v->naliases; i++)
        free(v->aliases[i]);
    free(v->aliases);
}

void ingest_doc_versions_release(struct ingest_doc_versions *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++)
        version_release(&v->v[i]);
    free(v->v);
    v->v = NULL;
    v->n = 0;
}

static bool usable(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n < INGEST_VERSION_MAX && !strchr(s, '/');
}

cc_err ingest_doc_versions_parse(const char *json, size_t len, struct ingest_doc_versions *out,
                                 struct cc_diag *d)
{
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    struct ingest_doc_versions res = { 0 };
    cc_err err = CC_EPARSE;
    if (!root) {
        cc_diag_set(d, "versions.json", (unsigned)(je.line > 0 ? je.line : 0),
                    (unsigned)(je.column > 0 ? je.column : 0), "not JSON: %s", je.text);
        goto out;
    }
    if (!json_is_array(root)) {
        cc_diag_set(d, "versions.json", 0, 0,
                    "not a versions list: expected a JSON array of {version, title, aliases}");
        goto out;
    }
    size_t n = json_array_size(root);
    if (n > INGEST_VERSIONS_MAX)
        n = INGEST_VERSIONS_MAX;
    res.v = cc_xcalloc(n ? n : 1, sizeof(*res.v));
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(root, i);
        const char *version = json_string_value(json_object_get(e, "version"));
        const char *title = json_string_value(json_object_get(e, "title"));
        json_t *aliases = json_object_get(e, "aliases");
        if (!usable(version))
            continue;
        struct ingest_doc_version *v = &res.v[res.n++];
        v->version = cc_xstrdup(version);
        v->title = cc_xstrdup(title && *title ? title : version);
        size_t na = json_is_array(aliases) ? json_array_size(aliases) : 0;
        if (na > INGEST_VERSION_ALIASES_MAX)
            na = INGEST_VERSION_ALIASES_MAX;
        v->aliases = cc_xcalloc(na ? na : 1, sizeof(char *));
        for (size_t j = 0; j < na; j++) {
            const char *a = json_string_value(json_array_get(aliases, j));
            if (usable(a))
                v->aliases[v->naliases++] = cc_xstrdup(a);
        }
    }
    err = CC_OK;
out:
    json_decref(root);
    if (!err) {
        *out = res;
    } else {
        ingest_doc_versions_release(&res);
    }
    return err;
}

const char *ingest_doc_versions_resolve(const struct ingest_doc_versions *v, const char *name)
{
    for (size_t i = 0; name && i < v->n; i++)
        if (strcmp(v->v[i].version, name) == 0)
            return v->v[i].version;
    for (size_t i = 0; name && i < v->n; i++)
        for (size_t j = 0; j < v->v[i].naliases; j++)
            if (strcmp(v->v[i].aliases[j], name) == 0)
                return v->v[i].version;
    return NULL;
}
