/*
 * fuzz_router.c - request targets through http_target_split,
 * http_query_parse and http_router_match, as the server runs them.
 *
 * Input: first byte picks the method, the rest (up to a NUL) is the raw
 * request-target. The arena is small so the CC_ELIMIT paths run too.
 * Invariants checked (abort on violation):
 *   - a decoded path starts with '/', holds no "/./" or "/../" segment, is
 *     no longer than the raw path, has at most HTTP_MAX_SEGMENTS segments;
 *   - query pairs are at most HTTP_MAX_QUERY, names non-empty;
 *   - the trie agrees with a naive linear matcher over the same table
 *     (same route, same allow mask, same parameter values).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "http/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define G HTTP_GET
static const struct http_route routes[] = {
    {.methods = G, .template = "/"},
    {.methods = G, .template = "/health"},
    {.methods = G, .template = "/ready"},
    {.methods = G, .template = "/metrics"},
    {.methods = G | HTTP_POST, .template = "/api/v1/projects"},
    {.methods = G | HTTP_DELETE, .template = "/api/v1/projects/{id}"},
    {.methods = HTTP_POST, .template = "/api/v1/projects/{id}/up"},
    {.methods = HTTP_POST, .template = "/api/v1/projects/{id}/down"},
    {.methods = G, .template = "/api/v1/projects/{id}/health"},
    {.methods = G, .template = "/api/v1/projects/{id}/logs/{service}"},
    {.methods = G, .template = "/api/v1/projects/{id}/resources"},
    {.methods = HTTP_POST, .template = "/api/v1/projects/{id}/services/{service}/restart"},
    {.methods = G, .template = "/api/v1/events"},
    {.methods = HTTP_POST, .template = "/api/v1/knowledge/documents"},
    {.methods = G | HTTP_DELETE, .template = "/api/v1/knowledge/documents/{id}"},
    {.methods = G, .template = "/api/v1/knowledge/search"},
    {.methods = G | HTTP_POST, .template = "/api/v1/sources"},
    {.methods = G | HTTP_PATCH | HTTP_DELETE, .template = "/api/v1/sources/{id}"},
    {.methods = HTTP_POST, .template = "/api/v1/sources/{id}/run"},
    {.methods = HTTP_POST, .template = "/api/v1/sources/{id}/pause"},
    {.methods = HTTP_POST, .template = "/api/v1/sources/{id}/resume"},
    {.methods = G, .template = "/api/v1/jobs"},
    {.methods = G, .template = "/api/v1/jobs/stats"},
    {.methods = G, .template = "/api/v1/jobs/{id}"},
    {.methods = HTTP_POST, .template = "/api/v1/jobs/{id}/retry"},
    {.methods = HTTP_POST, .template = "/api/v1/webhooks/github"},
    {.methods = HTTP_POST, .template = "/api/v1/webhooks/generic/{source}"},
    {.methods = G | HTTP_POST, .template = "/api/v1/alerts"},
    {.methods = G, .template = "/api/v1/analytics/report"},
    {.methods = G, .template = "/{a}/{b}/x"},
    {.methods = HTTP_PUT, .template = "/{a}/v1/{c}"},
    {.methods = HTTP_HEAD, .template = "/{a}/v1/{c}/x"},
    {.methods = G | HTTP_OPTIONS, .template = "/{a}/v1/{c}/x"},
};
#undef G
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "invariant failed: %s (line %d)\n", #cond,    \
                    __LINE__);                                             \
            abort();                                                       \
        }                                                                  \
    } while (0)

struct ref_hit {
    const struct http_route *route;
    unsigned allow;
    const char *vals[HTTP_MAX_PARAMS];
    size_t lens[HTTP_MAX_PARAMS];
    size_t nvals;
};

/* Does template t match path? Fills rank (bit i set: segment i was a
 * parameter) and the parameter values. */
static int ref_match_one(const char *t, const char *path, uint64_t *rank,
                         struct ref_hit *h)
{
    uint64_t r = 0;
    size_t seg = 0;
    h->nvals = 0;
    while (*t == '/' && *path == '/') {
        t++;
        path++;
        size_t tl = strcspn(t, "/"), pl = strcspn(path, "/");
        if (tl >= 2 && t[0] == '{') {
            if (pl == 0)
                return 0;
            r |= 1ull << (63 - seg);
            h->vals[h->nvals] = path;
            h->lens[h->nvals++] = pl;
        } else if (tl != pl || memcmp(t, path, tl) != 0) {
            return 0;
        }
        t += tl;
        path += pl;
        seg++;
    }
    *rank = r;
    return *t == '\0' && *path == '\0';
}

/* Linear reference: among matching routes the smallest rank wins (literal
 * before parameter, segment by segment); on one node an explicit method
 * beats HEAD implied by GET. */
static int ref_match(unsigned method, const char *path, struct ref_hit *best)
{
    uint64_t best_rank = UINT64_MAX;
    int best_explicit = 0;
    *best = (struct ref_hit){0};
    for (size_t i = 0; i < NROUTES; i++) {
        struct ref_hit h;
        uint64_t rank;
        if (!ref_match_one(routes[i].template, path, &rank, &h))
            continue;
        unsigned m = routes[i].methods;
        best->allow |= m | ((m & HTTP_GET) ? HTTP_HEAD : 0);
        int explicit = (m & method) != 0;
        int implied = method == HTTP_HEAD && (m & HTTP_GET);
        if (!explicit && !implied)
            continue;
        if (best->route && (rank > best_rank || (rank == best_rank && best_explicit >= explicit)))
            continue;
        unsigned allow = best->allow;
        *best = h;
        best->route = &routes[i];
        best->allow = allow;
        best_rank = rank;
        best_explicit = explicit;
    }
    return best->route != NULL;
}

static void check_path(const char *path, size_t rawlen)
{
    size_t len = strlen(path);
    CHECK(path[0] == '/');
    CHECK(len <= rawlen && len <= HTTP_MAX_PATH);
    size_t segs = 0;
    for (const char *p = path; p; p = strchr(p + 1, '/')) {
        size_t sl = strcspn(p + 1, "/");
        CHECK(!(sl == 1 && p[1] == '.'));
        CHECK(!(sl == 2 && p[1] == '.' && p[2] == '.'));
        segs++;
    }
    CHECK(segs <= HTTP_MAX_SEGMENTS);
    CHECK(!strstr(path, "/../") && !strstr(path, "/./"));
}

static void check_match(const struct http_router *r, unsigned method, const char *path,
                        struct cc_arena *a)
{
    struct http_match m;
    enum http_match_result res = http_router_match(r, method, path, a, &m);
    struct ref_hit ref;
    int found = ref_match(method, path, &ref);
    if (res == HTTP_MATCH_LIMIT) {
        CHECK(found);
        return;
    }
    if (found) {
        CHECK(res == HTTP_MATCH_OK);
        CHECK(m.route == ref.route);
        CHECK(m.nparams == ref.nvals);
        for (size_t i = 0; i < m.nparams; i++) {
            CHECK(strlen(m.params[i].value) == ref.lens[i]);
            CHECK(memcmp(m.params[i].value, ref.vals[i], ref.lens[i]) == 0);
            CHECK(ref.lens[i] > 0 && !strchr(m.params[i].value, '/'));
        }
    } else if (ref.allow) {
        CHECK(res == HTTP_MATCH_BAD_METHOD);
        CHECK(m.allow == ref.allow && !(m.allow & method));
    } else {
        CHECK(res == HTTP_MATCH_NOT_FOUND);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned methods[] = {HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_PUT,
                                       HTTP_PATCH, HTTP_DELETE, HTTP_OPTIONS, 0};
    struct http_router *r = NULL;
    if (size < 1 || http_router_new(routes, NROUTES, &r, NULL, 0) != CC_OK)
        return 0;
    unsigned method = methods[data[0] % 8];
    char *target = malloc(size);
    memcpy(target, data + 1, size - 1);
    target[size - 1] = '\0';

    struct cc_arena a;
    cc_arena_init(&a, 256, 8192);
    const char *path, *query;
    if (http_target_split(target, &a, &path, &query) == CC_OK) {
        size_t rawlen = strcspn(target, "?");
        check_path(path, rawlen);
        CHECK(!query || strchr(target, '?'));
        check_match(r, method, path, &a);
        struct http_param *qp;
        size_t nq;
        if (http_query_parse(query, &a, &qp, &nq) == CC_OK) {
            CHECK(nq <= HTTP_MAX_QUERY);
            for (size_t i = 0; i < nq; i++)
                CHECK(qp[i].name[0] != '\0' && qp[i].value);
        }
    }
    /* The matcher also takes paths that never went through the splitter. */
    check_match(r, method, target, &a);
    cc_arena_release(&a);
    free(target);
    http_router_free(r);
    return 0;
}
