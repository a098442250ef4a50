/*
 * router.c - route templates compiled into a segment trie, path decoding
 * and query parsing.
 *
 * Layout: every template segment is one trie edge. A node has its literal
 * children in an array sorted by text (binary search) and at most one
 * parameter child. Routes live on the node their last segment reaches, as
 * endpoints (route + explicit method mask + parameter names, since two
 * templates may reach one node with different names: "{id}" vs "{name}").
 *
 * Matching is a depth-first walk that tries the literal child before the
 * parameter child and backtracks, so "/a/b/x" still reaches "/a/{p}/x"
 * when "/a/b" exists but has no "x" below it. A trie node is reached by a
 * single sequence of path segments, so one walk visits each node at most
 * once: the cost is bounded by the path's depth and the fan-out of
 * parameter nodes, never by the number of routes.
 *
 * HEAD: a route listing GET also answers HEAD. A route that lists HEAD
 * explicitly wins over that implied HEAD on the same node.
 */
#include "http/router.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/utf8.h"

#define PARAM_NAME_MAX 32

static const struct {
    unsigned bit;
    const char *name;
} methods[] = {
    {HTTP_GET, "GET"},         {HTTP_HEAD, "HEAD"},     {HTTP_POST, "POST"},
    {HTTP_PUT, "PUT"},         {HTTP_PATCH, "PATCH"},   {HTTP_DELETE, "DELETE"},
    {HTTP_OPTIONS, "OPTIONS"},
};
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))
#define ALL_METHODS 0x7fu

struct endpoint {
    const struct http_route *route;
    unsigned methods;                     /* explicit mask, as listed */
    char *names[HTTP_MAX_PARAMS];         /* owned */
    size_t nparams;
};

struct node {
    char *seg;                            /* literal text (owned); NULL for root/param */
    size_t seglen;
    struct node **lits;                   /* sorted by (seg, seglen) */
    size_t nlits;
    struct node *param;
    struct endpoint *eps;
    size_t neps;
};

struct http_router {
    struct node root;
};

/* A path or template segment: not NUL-terminated. */
struct seg {
    const char *p;
    size_t len;
    bool param;
};

unsigned http_method_parse(const char *s)
{
    if (!s)
        return 0;
    for (size_t i = 0; i < NMETHODS; i++)
        if (strcmp(s, methods[i].name) == 0)
            return methods[i].bit;
    return 0;
}

const char *http_method_str(unsigned m)
{
    for (size_t i = 0; i < NMETHODS; i++)
        if (m == methods[i].bit)
            return methods[i].name;
    return "UNKNOWN";
}

void http_methods_allow(unsigned mask, char *out, size_t outsz)
{
    if (!out || outsz == 0)
        return;
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < NMETHODS; i++) {
        if (!(mask & methods[i].bit))
            continue;
        const char *sep = len ? ", " : "";
        size_t need = strlen(sep) + strlen(methods[i].name);
        if (len + need >= outsz)
            break;    /* only whole names: a cut "DEL" would mislead */
        memcpy(out + len, sep, strlen(sep));
        memcpy(out + len + strlen(sep), methods[i].name, strlen(methods[i].name));
        len += need;
        out[len] = '\0';
    }
}

/* ---- templates ---------------------------------------------------------- */

static void seterr(char *err, size_t errsz, const struct http_route *r, const char *why)
{
    if (err && errsz)
        snprintf(err, errsz, "route \"%s\": %s", r->template ? r->template : "(null)", why);
}

static bool is_name_char(char c, bool first)
{
    if ((c >= 'a' && c <= 'z') || c == '_')
        return true;
    return !first && c >= '0' && c <= '9';
}

/* RFC 3986 pchar without pct-encoding: what a literal segment may hold. */
static bool is_literal_char(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("-._~!$&'()*+,;=:@", c) != NULL;
}

static const char *check_param(const struct seg *s, const struct seg *prev, size_t nprev)
{
    const char *name = s->p + 1;
    size_t n = s->len - 2;
    if (n == 0 || n > PARAM_NAME_MAX)
        return "parameter name must have 1..32 characters";
    for (size_t i = 0; i < n; i++)
        if (!is_name_char(name[i], i == 0))
            return "parameter name must match [a-z_][a-z0-9_]*";
    for (size_t i = 0; i < nprev; i++)
        if (prev[i].param && prev[i].len == s->len && memcmp(prev[i].p, s->p, s->len) == 0)
            return "duplicate parameter name";
    return NULL;
}

static const char *check_literal(const struct seg *s)
{
    if (s->len == 0)
        return "empty segment (\"//\" or a trailing '/')";
    if ((s->len == 1 && s->p[0] == '.') || (s->len == 2 && memcmp(s->p, "..", 2) == 0))
        return "\".\" and \"..\" segments never match a path";
    for (size_t i = 0; i < s->len; i++)
        if (!is_literal_char((unsigned char)s->p[i]))
            return "bad character in a literal segment (or a partial {param})";
    return NULL;
}

/* Splits a template into segments; returns a message on error. The
 * template "/" is one empty literal segment, as the path "/" is. */
static const char *parse_template(const char *t, struct seg *segs, size_t *nsegs)
{
    if (!t || t[0] != '/')
        return "template must start with '/'";
    if (strlen(t) > HTTP_MAX_PATH)
        return "template longer than HTTP_MAX_PATH";
    if (strcmp(t, "/") == 0) {
        segs[0] = (struct seg){.p = t + 1, .len = 0, .param = false};
        *nsegs = 1;
        return NULL;
    }
    size_t n = 0, nparams = 0;
    const char *p = t + 1;
    for (;;) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (n == HTTP_MAX_SEGMENTS)
            return "more than HTTP_MAX_SEGMENTS segments";
        struct seg s = {.p = p, .len = len, .param = len >= 2 && p[0] == '{' && p[len - 1] == '}'};
        const char *why = s.param ? check_param(&s, segs, n) : check_literal(&s);
        if (why)
            return why;
        if (s.param && ++nparams > HTTP_MAX_PARAMS)
            return "more than HTTP_MAX_PARAMS parameters";
        segs[n++] = s;
        if (!end)
            break;
        p = end + 1;
    }
    *nsegs = n;
    return NULL;
}

/* ---- the trie ----------------------------------------------------------- */

static int seg_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

/* Index of the literal child equal to (p, len), or where it would go. */
static size_t lit_search(const struct node *n, const char *p, size_t len, bool *found)
{
    size_t lo = 0, hi = n->nlits;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = seg_cmp(n->lits[mid]->seg, n->lits[mid]->seglen, p, len);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static struct node *child_for(struct node *n, const struct seg *s)
{
    if (s->param) {
        if (!n->param)
            n->param = cc_xcalloc(1, sizeof(*n->param));
        return n->param;
    }
    bool found;
    size_t i = lit_search(n, s->p, s->len, &found);
    if (found)
        return n->lits[i];
    struct node *c = cc_xcalloc(1, sizeof(*c));
    c->seg = cc_xstrndup(s->p, s->len);
    c->seglen = s->len;
    n->lits = cc_xrealloc(n->lits, (n->nlits + 1) * sizeof(*n->lits));
    memmove(n->lits + i + 1, n->lits + i, (n->nlits - i) * sizeof(*n->lits));
    n->lits[i] = c;
    n->nlits++;
    return c;
}

static void node_release(struct node *n)
{
    for (size_t i = 0; i < n->nlits; i++) {
        node_release(n->lits[i]);
        free(n->lits[i]);
    }
    free(n->lits);
    if (n->param) {
        node_release(n->param);
        free(n->param);
    }
    for (size_t i = 0; i < n->neps; i++)
        for (size_t j = 0; j < n->eps[i].nparams; j++)
            free(n->eps[i].names[j]);
    free(n->eps);
    free(n->seg);
}

static cc_err add_route(struct http_router *r, const struct http_route *route, char *err,
                        size_t errsz)
{
    struct seg segs[HTTP_MAX_SEGMENTS];
    size_t nsegs = 0;
    const char *why = parse_template(route->template, segs, &nsegs);
    if (!why && (route->methods == 0 || (route->methods & ~ALL_METHODS)))
        why = "methods must be a non-empty mask of enum http_method";
    if (why) {
        seterr(err, errsz, route, why);
        return CC_EINVAL;
    }
    struct node *n = &r->root;
    for (size_t i = 0; i < nsegs; i++)
        n = child_for(n, &segs[i]);
    for (size_t i = 0; i < n->neps; i++) {
        if (n->eps[i].methods & route->methods) {
            char why2[HTTP_MAX_PATH + 64];
            snprintf(why2, sizeof(why2), "a method overlaps with route \"%s\"",
                     n->eps[i].route->template);
            seterr(err, errsz, route, why2);
            return CC_EINVAL;
        }
    }
    n->eps = cc_xrealloc(n->eps, (n->neps + 1) * sizeof(*n->eps));
    struct endpoint *ep = &n->eps[n->neps++];
    *ep = (struct endpoint){.route = route, .methods = route->methods};
    for (size_t i = 0; i < nsegs; i++)
        if (segs[i].param)
            ep->names[ep->nparams++] = cc_xstrndup(segs[i].p + 1, segs[i].len - 2);
    return CC_OK;
}

cc_err http_router_new(const struct http_route *routes, size_t nroutes,
                       struct http_router **out, char *err, size_t errsz)
{
    cc_err rc = CC_OK;
    struct http_router *r = cc_xcalloc(1, sizeof(*r));
    if (nroutes && !routes) {
        rc = CC_EINVAL;
        goto out;
    }
    for (size_t i = 0; i < nroutes; i++) {
        rc = add_route(r, &routes[i], err, errsz);
        if (rc)
            goto out;
    }
    *out = r;
    r = NULL;
out:
    http_router_free(r);
    return rc;
}

void http_router_free(struct http_router *r)
{
    if (!r)
        return;
    node_release(&r->root);
    free(r);
}

/* ---- matching ----------------------------------------------------------- */

struct walk {
    const struct seg *segs;
    size_t nsegs;
    unsigned method;
    size_t pidx[HTTP_MAX_PARAMS];     /* segment index of each parameter on the branch */
    size_t np;
    const struct endpoint *hit;
    size_t hit_pidx[HTTP_MAX_PARAMS];
    unsigned allow;
};

static unsigned implied(unsigned mask)
{
    return (mask & HTTP_GET) ? (mask | HTTP_HEAD) : mask;
}

static const struct endpoint *pick(const struct node *n, unsigned method, unsigned *allow)
{
    const struct endpoint *get = NULL;
    for (size_t i = 0; i < n->neps; i++)
        *allow |= implied(n->eps[i].methods);
    for (size_t i = 0; i < n->neps; i++) {
        if (n->eps[i].methods & method)
            return &n->eps[i];
        if (n->eps[i].methods & HTTP_GET)
            get = &n->eps[i];
    }
    return method == HTTP_HEAD ? get : NULL;
}

static bool walk(const struct node *n, size_t i, struct walk *w)
{
    if (i == w->nsegs) {
        const struct endpoint *ep = pick(n, w->method, &w->allow);
        if (!ep)
            return false;
        w->hit = ep;
        memcpy(w->hit_pidx, w->pidx, sizeof(w->pidx));
        return true;
    }
    const struct seg *s = &w->segs[i];
    bool found;
    size_t li = lit_search(n, s->p, s->len, &found);
    if (found && walk(n->lits[li], i + 1, w))
        return true;
    /* A parameter matches exactly one non-empty segment. Templates carry at
     * most HTTP_MAX_PARAMS parameters, so np never overflows below. */
    if (!n->param || s->len == 0 || w->np == HTTP_MAX_PARAMS)
        return false;
    w->pidx[w->np++] = i;
    bool ok = walk(n->param, i + 1, w);
    w->np--;
    return ok;
}

/* Splits a decoded path into segments without copying; false when it
 * cannot match any route (not absolute, too many segments). */
static bool split_path(const char *path, struct seg *segs, size_t *nsegs)
{
    if (!path || path[0] != '/')
        return false;
    size_t n = 0;
    const char *p = path + 1;
    for (;;) {
        const char *end = strchr(p, '/');
        if (n == HTTP_MAX_SEGMENTS)
            return false;
        segs[n++] = (struct seg){.p = p, .len = end ? (size_t)(end - p) : strlen(p)};
        if (!end)
            break;
        p = end + 1;
    }
    *nsegs = n;
    return true;
}

enum http_match_result http_router_match(const struct http_router *r, unsigned method,
                                         const char *path, struct cc_arena *a,
                                         struct http_match *out)
{
    struct seg segs[HTTP_MAX_SEGMENTS];
    struct walk w = {.segs = segs, .method = method};
    memset(out, 0, sizeof(*out));
    if (!split_path(path, segs, &w.nsegs))
        return HTTP_MATCH_NOT_FOUND;
    if (!walk(&r->root, 0, &w)) {
        if (!w.allow)
            return HTTP_MATCH_NOT_FOUND;
        out->allow = w.allow;
        return HTTP_MATCH_BAD_METHOD;
    }
    struct http_param params[HTTP_MAX_PARAMS];
    for (size_t i = 0; i < w.hit->nparams; i++) {
        const struct seg *s = &segs[w.hit_pidx[i]];
        char *v = cc_arena_strndup(a, s->p, s->len);
        if (!v)
            return HTTP_MATCH_LIMIT;
        params[i] = (struct http_param){.name = w.hit->names[i], .value = v};
    }
    out->route = w.hit->route;
    memcpy(out->params, params, w.hit->nparams * sizeof(params[0]));
    out->nparams = w.hit->nparams;
    return HTTP_MATCH_OK;
}

/* ---- request targets and queries ---------------------------------------- */

/* Decodes the %XX at s (s[0] == '%'); -1 for a bad escape. The caller
 * guarantees s is NUL-terminated, so reading s[1] and s[2] stays in bounds
 * (a NUL there is simply not a hex digit). */
static int unescape(const char *s)
{
    int hi = cc_hex_digit((unsigned char)s[1]);
    if (hi < 0)
        return -1;
    int lo = cc_hex_digit((unsigned char)s[2]);
    if (lo < 0)
        return -1;
    return hi * 16 + lo;
}

static bool dot_segment(const char *seg, size_t len)
{
    return (len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.');
}

/* Decodes raw[0..len) (starting with '/') into out, enforcing the path
 * rules of router.h. */
static cc_err decode_path(const char *raw, size_t len, char *out)
{
    size_t o = 0, seg_start = 1, nsegs = 1;
    out[o++] = '/';
    for (size_t i = 1; i < len; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c < 0x20 || c == 0x7f)
            return CC_EINVAL;    /* raw control bytes are never valid in a target */
        if (c == '/') {
            if (dot_segment(out + seg_start, o - seg_start) || ++nsegs > HTTP_MAX_SEGMENTS)
                return CC_EINVAL;
            out[o++] = '/';
            seg_start = o;
            continue;
        }
        if (c == '%') {
            int v = i + 2 < len ? unescape(raw + i) : -1;
            if (v <= 0 || v == '/')
                return CC_EINVAL;
            c = (unsigned char)v;
            i += 2;
        }
        out[o++] = (char)c;
    }
    if (dot_segment(out + seg_start, o - seg_start) || !cc_utf8_valid(out, o))
        return CC_EINVAL;
    out[o] = '\0';
    return CC_OK;
}

cc_err http_target_split(const char *target, struct cc_arena *a,
                         const char **path_out, const char **query_out)
{
    if (!target || target[0] != '/')
        return CC_EINVAL;
    const char *q = strchr(target, '?');
    size_t len = q ? (size_t)(q - target) : strlen(target);
    if (len > HTTP_MAX_PATH)
        return CC_EINVAL;
    char *path = cc_arena_alloc(a, len + 1);
    if (!path)
        return CC_ELIMIT;
    cc_err rc = decode_path(target, len, path);
    if (rc)
        return rc;
    const char *query = NULL;
    if (q) {
        query = cc_arena_strdup(a, q + 1);
        if (!query)
            return CC_ELIMIT;
    }
    *path_out = path;
    *query_out = query;
    return CC_OK;
}

/* Decodes a query key or value: '+' is a space, %XX decoded, %00 and
 * anything that is not UTF-8 once decoded refused. */
static cc_err decode_query_part(const char *s, size_t len, struct cc_arena *a, const char **out)
{
    char *d = cc_arena_alloc(a, len + 1);
    if (!d)
        return CC_ELIMIT;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int v = i + 2 < len ? unescape(s + i) : -1;
            if (v <= 0)
                return CC_EINVAL;
            c = (char)v;
            i += 2;
        }
        d[o++] = c;
    }
    if (!cc_utf8_valid(d, o))
        return CC_EINVAL;
    d[o] = '\0';
    *out = d;
    return CC_OK;
}

/* Pairs with an empty key ("&&", "=x") carry nothing a handler could ask
 * for and are skipped; they do not count against HTTP_MAX_QUERY. */
static size_t count_pairs(const char *q)
{
    size_t n = 0;
    for (const char *p = q; *p; p++)
        if (*p != '&' && *p != '=' && (p == q || p[-1] == '&'))
            n++;
    return n;
}

cc_err http_query_parse(const char *query, struct cc_arena *a,
                        struct http_param **out, size_t *nout)
{
    size_t n = query ? count_pairs(query) : 0;
    if (n > HTTP_MAX_QUERY)
        return CC_EINVAL;
    struct http_param *pairs = NULL;
    if (n) {
        pairs = cc_arena_calloc(a, n, sizeof(*pairs));
        if (!pairs)
            return CC_ELIMIT;
    }
    size_t k = 0;
    for (const char *p = query; n && *p;) {
        size_t len = strcspn(p, "&");
        size_t klen = strcspn(p, "=&");
        if (klen > 0) {
            const char *v = p + klen + (klen < len);    /* skip '=' if present */
            cc_err rc = decode_query_part(p, klen, a, &pairs[k].name);
            if (!rc)
                rc = decode_query_part(v, (size_t)(p + len - v), a, &pairs[k].value);
            if (rc)
                return rc;
            k++;
        }
        p += len + (p[len] == '&');
    }
    *out = pairs;
    *nout = k;
    return CC_OK;
}
