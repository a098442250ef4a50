/*
 * exclude.c - .gitignore-style patterns (exclude.h).
 *
 * Two levels of the same greedy matcher with one backtrack point: inside
 * a component, `*` against characters; across components, `**` against
 * whole components. One backtrack point suffices at each level because
 * the wildcard there matches any sequence of its units, so neither level
 * recurses and the cost stays O(pattern x path).
 */
#include "ingest/sources/exclude.h"

#include <stdint.h>
#include <string.h>

/* One component: `*`, `?`, `\x` (literal x), other bytes literally. */
static bool match_seg(const char *p, size_t pn, const char *s, size_t sn)
{
    size_t pi = 0, si = 0, star = SIZE_MAX, mark = 0;
    while (si < sn) {
        if (pi < pn && p[pi] == '*') {
            star = pi++;
            mark = si;
            continue;
        }
        if (pi < pn) {
            bool esc = p[pi] == '\\' && pi + 1 < pn;
            char c = esc ? p[pi + 1] : p[pi];
            if ((!esc && c == '?') || c == s[si]) {
                pi += esc ? 2 : 1;
                si++;
                continue;
            }
        }
        if (star == SIZE_MAX)
            return false;
        pi = star + 1;
        si = ++mark;
    }
    while (pi < pn && p[pi] == '*')
        pi++;
    return pi == pn;
}

static size_t seg_end(const char *x, size_t n, size_t i)
{
    while (i < n && x[i] != '/')
        i++;
    return i;
}

static size_t seg_next(size_t n, size_t end)
{
    return end < n ? end + 1 : n;
}

static bool is_globstar(const char *p, size_t pi, size_t pe)
{
    return pe - pi == 2 && p[pi] == '*' && p[pi + 1] == '*';
}

/* Whole paths, component by component; `**` spans any number of them. */
static bool match_path(const char *p, size_t pn, const char *s, size_t sn)
{
    size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;
    while (si < sn) {
        if (pi < pn) {
            size_t pe = seg_end(p, pn, pi);
            if (is_globstar(p, pi, pe)) {
                pi = star_p = seg_next(pn, pe);
                star_s = si;
                continue;
            }
            size_t se = seg_end(s, sn, si);
            if (match_seg(p + pi, pe - pi, s + si, se - si)) {
                pi = seg_next(pn, pe);
                si = seg_next(sn, se);
                continue;
            }
        }
        if (star_p == SIZE_MAX)
            return false;
        si = star_s = seg_next(sn, seg_end(s, sn, star_s));
        pi = star_p;
    }
    while (pi < pn) {
        size_t pe = seg_end(p, pn, pi);
        if (!is_globstar(p, pi, pe))
            return false;
        pi = seg_next(pn, pe);
    }
    return true;
}

/* -1: the pattern does not apply; 1: excludes; 0: re-includes. */
static int match_one(const char *pat, const char *rel, size_t rn, bool is_dir)
{
    const char *p = pat;
    bool neg = p[0] == '!';
    if (!p[0] || p[0] == '#')
        return -1;
    p += neg;
    size_t n = strnlen(p, INGEST_EXCLUDE_MAX_LEN);
    bool dir_only = n > 0 && p[n - 1] == '/';
    n -= dir_only;
    if (dir_only && !is_dir)
        return -1;
    bool anchored = memchr(p, '/', n) != NULL;
    if (n > 0 && p[0] == '/') {
        p++;
        n--;
    }
    if (n == 0)
        return -1;
    bool hit;
    if (!anchored) {
        const char *base = rel + rn;
        while (base > rel && base[-1] != '/')
            base--;
        hit = match_seg(p, n, base, (size_t)(rel + rn - base));
    } else if (n >= 3 && memcmp(p + n - 3, "/**", 3) == 0) {
        /* "a/" + "**": what is inside a matching directory, not itself */
        hit = false;
        for (size_t k = 0; k < rn && !hit; k++)
            hit = rel[k] == '/' && match_path(p, n - 3, rel, k);
    } else {
        hit = match_path(p, n, rel, rn);
    }
    return hit ? !neg : -1;
}

static bool match_list(const char *const *patterns, size_t n, const char *rel, size_t rn,
                       bool is_dir)
{
    bool out = false;
    for (size_t i = 0; i < n; i++) {
        int r = patterns[i] ? match_one(patterns[i], rel, rn, is_dir) : -1;
        if (r >= 0)
            out = r == 1;
    }
    return out;
}

bool ingest_exclude_match(const char *const *patterns, size_t n, const char *rel, bool is_dir)
{
    return match_list(patterns, n, rel, strlen(rel), is_dir);
}

bool ingest_excluded(const char *const *patterns, size_t n, const char *rel, bool is_dir)
{
    size_t rn = strlen(rel);
    if (n == 0)
        return false;
    for (size_t k = 0; k < rn; k++)
        if (rel[k] == '/' && match_list(patterns, n, rel, k, true))
            return true;
    return match_list(patterns, n, rel, rn, is_dir);
}
