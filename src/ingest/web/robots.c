/*
 * robots.c - robots.txt parsing and matching (see robots.h for the rules).
 *
 * Layout: the file is read once into a list of groups, each with its agent
 * tokens (a "*" token for the global group), rules and crawl-delay. Patterns
 * are stored normalized, so a query only normalizes its path. Matching a
 * pattern is the usual glob walk with a backtrack point at the last "*"
 * (O(pattern x path) at worst, both bounded: the file by
 * INGEST_ROBOTS_MAX_BYTES, the path by INGEST_ROBOTS_MAX_PATH).
 */
#include "ingest/web/robots.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"

struct rule {
    char *pattern;          /* normalized; never empty */
    size_t len;
    bool allow;
};

struct group {
    char **agents;          /* product tokens; "*" for the global group */
    size_t nagents;
    struct rule *rules;
    size_t nrules;
    int64_t delay_ms;       /* -1: none */
};

struct ingest_robots {
    struct group *groups;
    size_t ngroups;
    char **sitemaps;
    size_t nsitemaps;
    int all;                /* 0: use the groups; 1 allow all; -1 disallow all */
};

enum key { KEY_NONE, KEY_AGENT, KEY_ALLOW, KEY_DISALLOW, KEY_DELAY, KEY_SITEMAP };

enum ingest_robots_outcome ingest_robots_outcome_for(long status)
{
    if (status >= 200 && status < 300)
        return INGEST_ROBOTS_PARSE;
    if ((status >= 300 && status < 400) || (status >= 400 && status < 500 && status != 429))
        return INGEST_ROBOTS_ALLOW_ALL;
    return INGEST_ROBOTS_DISALLOW_ALL;
}

/* ---- normalization ------------------------------------------------------ */

static bool unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

/* Appends s[0..len) percent-normalized to b (see robots.h); stops quietly
 * at b's limit, which cuts overlong paths. */
static void normalize(struct cc_buf *b, const char *s, size_t len)
{
    static const char HEX[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[3] = { '%', HEX[c >> 4], HEX[c & 15] };
        cc_err err;
        if (c == '%' && i + 2 < len && cc_hex_digit(s[i + 1]) >= 0 && cc_hex_digit(s[i + 2]) >= 0) {
            unsigned char v = (unsigned char)(cc_hex_digit(s[i + 1]) * 16 + cc_hex_digit(s[i + 2]));
            i += 2;
            if (unreserved(v)) {
                err = cc_buf_addch(b, (char)v);
            } else {
                esc[1] = HEX[v >> 4];
                esc[2] = HEX[v & 15];
                err = cc_buf_add(b, esc, 3);
            }
        } else if (c <= ' ' || c >= 0x7f) {
            err = cc_buf_add(b, esc, 3);
        } else {
            err = cc_buf_addch(b, (char)c);
        }
        if (err)
            return;
    }
}

/* Length of the product token at s: the leading run of [A-Za-z_-]. */
static size_t token_len(const char *s, size_t len)
{
    size_t n = 0;
    while (n < len && ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
                       s[n] == '_' || s[n] == '-'))
        n++;
    return n;
}

/* ---- parsing ----------------------------------------------------------- */

static bool key_is(const char *k, size_t n, const char *const *names)
{
    for (; *names; names++)
        if (strlen(*names) == n && strncasecmp(k, *names, n) == 0)
            return true;
    return false;
}

static enum key classify(const char *k, size_t n)
{
    static const char *const AGENT[] = { "user-agent", "useragent", "user agent", NULL };
    static const char *const ALLOW[] = { "allow", NULL };
    static const char *const DISALLOW[] = { "disallow", "dissallow", "dissalow", "disalow",
                                            "diasllow", "disallaw", NULL };
    static const char *const DELAY[] = { "crawl-delay", "crawldelay", "crawl delay", NULL };
    static const char *const SITEMAP[] = { "sitemap", "site-map", NULL };
    if (key_is(k, n, AGENT))
        return KEY_AGENT;
    if (key_is(k, n, ALLOW))
        return KEY_ALLOW;
    if (key_is(k, n, DISALLOW))
        return KEY_DISALLOW;
    if (key_is(k, n, DELAY))
        return KEY_DELAY;
    if (key_is(k, n, SITEMAP))
        return KEY_SITEMAP;
    return KEY_NONE;
}

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

struct parser {
    struct ingest_robots *r;
    bool in_agents;          /* the last record was a user-agent line */
    size_t caps[3];          /* allocated groups, current group's agents, rules */
};

static struct group *current(struct parser *p)
{
    return p->r->ngroups ? &p->r->groups[p->r->ngroups - 1] : NULL;
}

static void *grow(void *arr, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return arr;
    *cap = *cap ? *cap * 2 : 4;
    return cc_xrealloc(arr, *cap * size);
}

static void add_agent(struct parser *p, const char *v, size_t n)
{
    if (!p->in_agents) {
        p->r->groups = grow(p->r->groups, p->r->ngroups, &p->caps[0], sizeof(struct group));
        p->r->groups[p->r->ngroups++] = (struct group){ .delay_ms = -1 };
        p->caps[1] = p->caps[2] = 0;
        p->in_agents = true;
    }
    struct group *g = current(p);
    size_t tl = (n > 0 && v[0] == '*') ? 1 : token_len(v, n);
    if (tl == 0)
        return;
    g->agents = grow(g->agents, g->nagents, &p->caps[1], sizeof(char *));
    g->agents[g->nagents++] = cc_xstrndup(v, tl);
}

static void add_rule(struct parser *p, const char *v, size_t n, bool allow)
{
    struct group *g = current(p);
    p->in_agents = false;
    if (!g || n == 0)
        return;
    struct cc_buf b;
    cc_buf_init(&b, INGEST_ROBOTS_MAX_BYTES * 3);
    normalize(&b, v, n);
    if (b.len == 0) {
        cc_buf_release(&b);
        return;
    }
    g->rules = grow(g->rules, g->nrules, &p->caps[2], sizeof(struct rule));
    size_t plen = b.len;
    g->rules[g->nrules++] = (struct rule){ .len = plen, .pattern = cc_buf_take(&b),
                                           .allow = allow };
}

/* "10", "0.5", "2.25s"-free: digits with an optional fraction, seconds. */
static void set_delay(struct parser *p, const char *v, size_t n)
{
    struct group *g = current(p);
    p->in_agents = false;
    if (!g)
        return;
    int64_t ms = 0;
    size_t i = 0;
    for (; i < n && v[i] >= '0' && v[i] <= '9'; i++)
        if (ms < 86400000)
            ms = ms * 10 + (v[i] - '0');
    if (i == 0)
        return;
    ms *= 1000;
    if (i < n && v[i] == '.') {
        int64_t scale = 100;
        for (i++; i < n && v[i] >= '0' && v[i] <= '9'; i++, scale /= 10)
            ms += (v[i] - '0') * scale;
    }
    if (i != n)
        return;
    if (ms > 86400000)
        ms = 86400000;      /* a day: anything longer is a typo or hostile */
    if (ms > g->delay_ms)
        g->delay_ms = ms;
}

static void add_sitemap(struct ingest_robots *r, const char *v, size_t n, size_t *cap)
{
    if (n == 0 || memchr(v, '\0', n))
        return;                 /* no URL holds a NUL byte */
    for (size_t i = 0; i < r->nsitemaps; i++)
        if (strlen(r->sitemaps[i]) == n && memcmp(r->sitemaps[i], v, n) == 0)
            return;
    r->sitemaps = grow(r->sitemaps, r->nsitemaps, cap, sizeof(char *));
    r->sitemaps[r->nsitemaps++] = cc_xstrndup(v, n);
}

/* One line (without its end): splits key and value and records them. */
static void parse_line(struct parser *p, const char *s, size_t n, size_t *sitemap_cap)
{
    const char *hash = memchr(s, '#', n);
    if (hash)
        n = (size_t)(hash - s);
    while (n && blank(*s))
        s++, n--;
    while (n && blank(s[n - 1]))
        n--;
    if (n == 0)
        return;
    const char *colon = memchr(s, ':', n);
    size_t kn, vstart;
    if (colon) {
        kn = (size_t)(colon - s);
        vstart = kn + 1;
    } else {
        /* "Disallow /x": a key and one value separated by white space. */
        kn = 0;
        while (kn < n && !blank(s[kn]))
            kn++;
        vstart = kn;
        while (vstart < n && blank(s[vstart]))
            vstart++;
        if (vstart == n || vstart == kn)
            return;
        for (size_t i = vstart; i < n; i++)
            if (blank(s[i]))
                return;
    }
    while (kn && blank(s[kn - 1]))
        kn--;
    const char *v = s + vstart;
    size_t vn = n - vstart;
    while (vn && blank(*v))
        v++, vn--;
    switch (classify(s, kn)) {
    case KEY_AGENT: add_agent(p, v, vn); break;
    case KEY_ALLOW: add_rule(p, v, vn, true); break;
    case KEY_DISALLOW: add_rule(p, v, vn, false); break;
    case KEY_DELAY: set_delay(p, v, vn); break;
    case KEY_SITEMAP: add_sitemap(p->r, v, vn, sitemap_cap); break;
    case KEY_NONE: break;
    }
}

cc_err ingest_robots_parse(const char *data, size_t len, struct ingest_robots **out)
{
    struct ingest_robots *r = cc_xcalloc(1, sizeof(*r));
    struct parser p = { .r = r };
    size_t sitemap_cap = 0;
    if (len > INGEST_ROBOTS_MAX_BYTES)
        len = INGEST_ROBOTS_MAX_BYTES;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        data += 3, len -= 3;
    for (size_t i = 0; i < len;) {
        size_t e = i;
        while (e < len && data[e] != '\n' && data[e] != '\r')
            e++;
        parse_line(&p, data + i, e - i, &sitemap_cap);
        if (e < len && data[e] == '\r' && e + 1 < len && data[e + 1] == '\n')
            e++;
        i = e + 1;
    }
    *out = r;
    return CC_OK;
}

struct ingest_robots *ingest_robots_new_all(bool allow)
{
    struct ingest_robots *r = cc_xcalloc(1, sizeof(*r));
    r->all = allow ? 1 : -1;
    return r;
}

void ingest_robots_free(struct ingest_robots *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->ngroups; i++) {
        struct group *g = &r->groups[i];
        for (size_t j = 0; j < g->nagents; j++)
            free(g->agents[j]);
        for (size_t j = 0; j < g->nrules; j++)
            free(g->rules[j].pattern);
        free(g->agents);
        free(g->rules);
    }
    for (size_t i = 0; i < r->nsitemaps; i++)
        free(r->sitemaps[i]);
    free(r->sitemaps);
    free(r->groups);
    free(r);
}

/* ---- matching ------------------------------------------------------------ */

/* Whether glob p[0..pn) matches a prefix of s[0..sn), or all of it when
 * anchored. */
static bool glob(const char *p, size_t pn, bool anchored, const char *s, size_t sn)
{
    size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;
    for (;;) {
        if (pi == pn && (!anchored || si == sn))
            return true;
        if (pi < pn && p[pi] == '*') {
            star_p = ++pi;
            star_s = si;
            continue;
        }
        if (pi < pn && si < sn && p[pi] == s[si]) {
            pi++, si++;
            continue;
        }
        if (star_p == SIZE_MAX || star_s >= sn)
            return false;
        pi = star_p;
        si = ++star_s;
    }
}

/* A rule's pattern: a trailing "$" anchors it. */
static bool matches(const char *p, size_t pn, const char *s, size_t sn)
{
    bool anchored = pn > 0 && p[pn - 1] == '$';
    return glob(p, pn - anchored, anchored, s, sn);
}

static bool group_applies(const struct group *g, const char *tok, size_t tn)
{
    for (size_t i = 0; i < g->nagents; i++)
        if (tn ? (strlen(g->agents[i]) == tn && strncasecmp(g->agents[i], tok, tn) == 0)
               : strcmp(g->agents[i], "*") == 0)
            return true;
    return false;
}

/* Marks the groups that apply to agent in `use` (true if any does). */
static bool select_groups(const struct ingest_robots *r, const char *agent, bool *use)
{
    size_t tn = token_len(agent, strlen(agent));
    bool any = false;
    for (int pass = 0; pass < 2 && !any; pass++) {
        if (pass == 0 && tn == 0)
            continue;
        for (size_t i = 0; i < r->ngroups; i++) {
            use[i] = group_applies(&r->groups[i], agent, pass == 0 ? tn : 0);
            any |= use[i];
        }
    }
    return any;
}

/* "/dir/index.html" allows "/dir/" (Google's parser does the same). */
static bool index_allows(const struct rule *ru, const char *s, size_t sn)
{
    static const char *const INDEX[] = { "/index.html", "/index.htm", NULL };
    for (const char *const *x = INDEX; *x; x++) {
        size_t xl = strlen(*x);
        if (ru->len >= xl && strcmp(ru->pattern + ru->len - xl, *x) == 0 &&
            glob(ru->pattern, ru->len - xl + 1, true, s, sn))
            return true;
    }
    return false;
}

bool ingest_robots_allowed(const struct ingest_robots *r, const char *agent, const char *path)
{
    if (r->all)
        return r->all > 0;
    if (!path || !*path)
        path = "/";
    struct cc_buf b;
    cc_buf_init(&b, INGEST_ROBOTS_MAX_PATH);
    normalize(&b, path, strlen(path));
    const char *s = cc_buf_str(&b);
    size_t sn = b.len;
    bool allowed = true;
    if (strcmp(s, "/robots.txt") == 0 || r->ngroups == 0)
        goto out;
    bool *use = cc_xcalloc(r->ngroups, sizeof(bool));
    if (select_groups(r, agent ? agent : "", use)) {
        size_t best = 0;
        bool found = false;
        for (size_t i = 0; i < r->ngroups; i++) {
            for (size_t j = 0; use[i] && j < r->groups[i].nrules; j++) {
                const struct rule *ru = &r->groups[i].rules[j];
                if (ru->len < best || (ru->len == best && found && allowed))
                    continue;
                bool m = matches(ru->pattern, ru->len, s, sn) ||
                         (ru->allow && index_allows(ru, s, sn));
                if (!m)
                    continue;
                if (!found || ru->len > best || ru->allow)
                    allowed = ru->allow;
                best = ru->len;
                found = true;
            }
        }
    }
    free(use);
out:
    cc_buf_release(&b);
    return allowed;
}

int64_t ingest_robots_crawl_delay_ms(const struct ingest_robots *r, const char *agent)
{
    int64_t delay = -1;
    if (r->ngroups == 0)
        return -1;
    bool *use = cc_xcalloc(r->ngroups, sizeof(bool));
    if (select_groups(r, agent ? agent : "", use))
        for (size_t i = 0; i < r->ngroups; i++)
            if (use[i] && r->groups[i].delay_ms > delay)
                delay = r->groups[i].delay_ms;
    free(use);
    return delay;
}

size_t ingest_robots_sitemaps(const struct ingest_robots *r, const char *const **out)
{
    *out = (const char *const *)r->sitemaps;
    return r->nsitemaps;
}

cc_err ingest_robots_path_of_url(const char *url, char *out, size_t outsz)
{
    const char *p = url;
    size_t scheme = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
    if (scheme > 0 && p[scheme] == ':' && !(p[0] >= '0' && p[0] <= '9')) {
        if (strncmp(p + scheme + 1, "//", 2) != 0)
            return CC_EINVAL;
        p += scheme + 3;
        p += strcspn(p, "/?#");
    } else if (strncmp(p, "//", 2) == 0) {
        p += 2;
        p += strcspn(p, "/?#");
    }
    size_t n = strcspn(p, "#");
    bool slash = n == 0 || p[0] != '/';
    if (n + slash >= outsz)
        return CC_ELIMIT;
    if (slash)
        out[0] = '/';
    memcpy(out + slash, p, n);
    out[n + slash] = '\0';
    return CC_OK;
}
