/*
 * fetch.c - outbound HTTP(S) over libcurl (see fetch.h).
 *
 * One easy handle per ingest_fetch() call, reset between hops so a
 * redirect to the same host reuses its connection. Redirects are followed
 * here, not by libcurl: each hop gets its own politeness turn, its scheme
 * checked, and auth dropped once the request leaves the first origin. The
 * SSRF guard sits in the open-socket callback, the last point before
 * connect() for every address libcurl tries.
 */
#include "ingest/fetch.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <strings.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/cidr.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/diag.h"
#include "core/log.h"
#include "ingest/fetch_int.h"
#include "observe/metrics.h"

#define HOST_SLOTS 256
#define PROXY_ADDRS_MAX 16

enum fetch_result {
    FR_OK, FR_NOT_MODIFIED, FR_HTTP_4XX, FR_HTTP_5XX, FR_TIMEOUT, FR_REFUSED, FR_TOO_LARGE, FR_ERROR,
    FR__COUNT
};
static const char *const result_names[FR__COUNT] = {
    "ok", "not_modified", "http_4xx", "http_5xx", "timeout", "refused", "too_large", "error"};

struct ingest_fetcher {
    char *ca_file, *proxy, *user_agent;   /* "" = unset */
    int64_t connect_timeout_ms, timeout_ms, low_speed_time_ms, host_delay_ms;
    uint64_t low_speed_limit, max_bytes;
    unsigned max_redirects;
    struct cc_cidr allow[CC_CFG_MAX_NETWORKS];
    size_t nallow;
    struct proxy_addr {
        unsigned char ip[16];
        unsigned port;
    } proxies[PROXY_ADDRS_MAX];               /* the proxies' own addresses */
    size_t nproxy;
    struct ingest__hosts hosts;
    /* libcurl and the proxies' addresses are looked up on the first request
     * (fetch_lib.c: an idle daemon does not load libcurl). */
    pthread_mutex_t ready_mu;
    bool mu_made;
    bool ready;
    struct cc_clock *clock;
    struct cc_log *log;
    struct obs_series *m_result[FR__COUNT];
    struct obs_series *m_duration;
};

/* One hop's transfer state, shared with the callbacks. */
struct hop {
    struct ingest_fetcher *f;
    struct cc_buf body;
    bool trusted;
    bool too_big;
    bool refused;               /* an address refused by the guard */
    unsigned opened;            /* sockets the guard let libcurl open */
    char refused_ip[64];
    const char *refused_why;
};

/* ---------------------------------------------------------------------------
 * The fetcher
 */

/* Adds the addresses host resolves to (numerically or by DNS) to the
 * proxies' list. */
/* The port libcurl connects to for a proxy URL: its own, else libcurl's
 * defaults (1080, 443 for an https:// proxy). */
static unsigned proxy_port(CURLU *u)
{
    const struct ingest__curl *L = ingest__curl();
    char *port = NULL, *scheme = NULL;
    unsigned p = 1080;
    if (L->curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK && port)
        p = (unsigned)strtoul(port, NULL, 10);
    else if (L->curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
             strcmp(scheme, "https") == 0)
        p = 443;
    L->curl_free(port);
    L->curl_free(scheme);
    return p;
}

/* Adds the addresses (with the port) the proxy URL resolves to, numerically
 * or by DNS, to the proxies' list. */
static void add_proxy_host(struct ingest_fetcher *f, const char *proxy_url)
{
    const struct ingest__curl *L = ingest__curl();
    CURLU *u = L->curl_url();
    char *host = NULL;
    if (!u || L->curl_url_set(u, CURLUPART_URL, proxy_url,
                              CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME) ||
        L->curl_url_get(u, CURLUPART_HOST, &host, 0))
        goto out;
    size_t n = strlen(host);
    if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
        memmove(host, host + 1, n - 2);
        host[n - 2] = '\0';
    }
    unsigned port = proxy_port(u);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) != 0) {
        if (f->log)
            cc_log_warn(f->log, "fetch", "cannot resolve the proxy", CC_LS("proxy", host));
        goto out;
    }
    for (struct addrinfo *a = res; a && f->nproxy < PROXY_ADDRS_MAX; a = a->ai_next) {
        struct proxy_addr *p = &f->proxies[f->nproxy];
        if (a->ai_family == AF_INET)
            cc_ip4_to16((const unsigned char *)&((struct sockaddr_in *)a->ai_addr)->sin_addr,
                        p->ip);
        else if (a->ai_family == AF_INET6)
            memcpy(p->ip, &((struct sockaddr_in6 *)a->ai_addr)->sin6_addr, 16);
        else
            continue;
        p->port = port;
        f->nproxy++;
    }
    freeaddrinfo(res);
out:
    L->curl_free(host);
    L->curl_url_cleanup(u);
}

/* The proxies libcurl may connect to: fetch.proxy, else the environment
 * variables libcurl itself reads (lower-case http_proxy only: the upper
 * case one can be set by a CGI client). */
static void find_proxies(struct ingest_fetcher *f)
{
    static const char *const vars[] = {"https_proxy", "HTTPS_PROXY", "http_proxy",
                                       "all_proxy", "ALL_PROXY", NULL};
    if (f->proxy[0]) {
        add_proxy_host(f, f->proxy);
        return;
    }
    for (const char *const *v = vars; *v; v++) {
        const char *p = getenv(*v);
        if (p && p[0])
            add_proxy_host(f, p);
    }
}

static void register_metrics(struct ingest_fetcher *f, struct obs_registry *m)
{
    static const char *const labels[] = {"result", NULL};
    static const double buckets[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
    struct obs_family *req = obs_counter(m, "cc_fetch_requests_total",
                                         "Outbound HTTP(S) requests by result.", labels);
    for (int r = 0; r < FR__COUNT; r++) {
        const char *v[] = {result_names[r]};
        f->m_result[r] = obs_series_get(req, v);
    }
    f->m_duration = obs_series_nolabels(obs_histogram(
        m, "cc_fetch_duration_seconds",
        "Time of outbound HTTP(S) requests, redirects included, politeness waits excluded.",
        NULL, buckets, sizeof(buckets) / sizeof(buckets[0])));
}

cc_err ingest_fetcher_new(const struct cc_config *cfg, struct cc_clock *clock,
                          struct cc_log *log, struct obs_registry *metrics,
                          struct ingest_fetcher **out, struct cc_diag *d)
{
    char why[256] = "";
    struct ingest_fetcher *f = cc_xcalloc(1, sizeof(*f));
    cc_err rc = cc_cidr_list_parse(cfg->fetch.allow_networks, f->allow, CC_CFG_MAX_NETWORKS,
                                   &f->nallow, why, sizeof(why));
    if (rc) {
        cc_diag_set(d, NULL, 0, 0, "fetch.allow_networks: %s", why);
        rc = CC_EINVAL;
        goto out;
    }
    f->ca_file = cc_xstrdup(cfg->fetch.ca_file);
    f->proxy = cc_xstrdup(cfg->fetch.proxy);
    if (cfg->fetch.user_agent[0]) {
        f->user_agent = cc_xstrdup(cfg->fetch.user_agent);
    } else {
        f->user_agent = cc_xstrdup("CommandCenter/" CC_VERSION " (+docs/FETCH.md)");
    }
    f->connect_timeout_ms = cfg->fetch.connect_timeout_ms;
    f->timeout_ms = cfg->fetch.timeout_ms;
    f->low_speed_limit = cfg->fetch.low_speed_limit;
    f->low_speed_time_ms = cfg->fetch.low_speed_time_ms;
    f->max_redirects = cfg->fetch.max_redirects;
    f->max_bytes = cfg->fetch.max_bytes;
    f->host_delay_ms = cfg->fetch.host_delay_ms;
    f->clock = clock;
    f->log = log;
    if (ingest__hosts_init(&f->hosts, clock, HOST_SLOTS, cfg->fetch.per_host_concurrency,
                           cfg->fetch.retry_after_max_ms)) {
        rc = CC_ENOMEM;
        goto out;
    }
    if (pthread_mutex_init(&f->ready_mu, NULL) != 0) {
        rc = CC_ENOMEM;
        goto out;
    }
    f->mu_made = true;
    if (metrics)
        register_metrics(f, metrics);
    *out = f;
    f = NULL;
    rc = CC_OK;
out:
    ingest_fetcher_free(f);
    return rc;
}

void ingest_fetcher_free(struct ingest_fetcher *f)
{
    if (!f)
        return;
    ingest__hosts_release(&f->hosts);
    if (f->mu_made)
        pthread_mutex_destroy(&f->ready_mu);
    free(f->ca_file);
    free(f->proxy);
    free(f->user_agent);
    free(f);
}

void ingest_fetch_resp_release(struct ingest_fetch_resp *resp)
{
    if (!resp)
        return;
    free(resp->body);
    free(resp->final_url);
    resp->body = NULL;
    resp->final_url = NULL;
}

/* ---------------------------------------------------------------------------
 * Callbacks
 */

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct hop *h = arg;
    if (cc_buf_add(&h->body, p, n)) {
        h->too_big = true;
        return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    return n;
}

/* Whether a connection to ip:port is one to a proxy (the port matters: a
 * proxy on 127.0.0.1:3128 does not open 127.0.0.1:6379 to sources that
 * no_proxy sends directly). */
static bool is_proxy(const struct ingest_fetcher *f, const unsigned char ip[16], unsigned port)
{
    for (size_t i = 0; i < f->nproxy; i++)
        if (f->proxies[i].port == port && memcmp(f->proxies[i].ip, ip, 16) == 0)
            return true;
    return false;
}

/* The SSRF guard: libcurl asks for a socket for every address it is about
 * to connect to; a refused one gets none, so no packet is ever sent to it. */
static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *sa)
{
    struct hop *h = arg;
    unsigned char ip[16];
    unsigned port;
    if (sa->family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&sa->addr;
        cc_ip4_to16((const unsigned char *)&in->sin_addr, ip);
        port = ntohs(in->sin_port);
    } else if (sa->family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&sa->addr;
        memcpy(ip, &in6->sin6_addr, 16);
        port = ntohs(in6->sin6_port);
    } else {
        h->refused = true;
        cc_strlcpy(h->refused_ip, "a non-IP address", sizeof(h->refused_ip));
        h->refused_why = "not an IP address";
        return CURL_SOCKET_BAD;
    }
    const char *why = NULL;
    if (!h->trusted && !is_proxy(h->f, ip, port))
        why = ingest__guard_check(ip, h->f->allow, h->f->nallow);
    if (why) {
        cc_ip_format(ip, h->refused_ip, sizeof(h->refused_ip));
        h->refused = true;
        h->refused_why = why;
        return CURL_SOCKET_BAD;
    }
    h->opened++;
    return socket(sa->family, sa->socktype | SOCK_CLOEXEC, sa->protocol);
}

/* ---------------------------------------------------------------------------
 * One request
 */

/* What a request keeps across hops. */
struct call {
    struct ingest_fetcher *f;
    const struct ingest_fetch_req *req;
    struct ingest_fetch_auth auth;
    char *secret;               /* the auth secret, read at request time */
    char *origin;               /* scheme://host:port of the first URL */
    struct curl_slist *resolve; /* req->resolve */
    const char *method;         /* may turn into GET on 301/302/303 */
    bool send_body;
    uint64_t cap;
    int64_t timeout_ms;
    int64_t deadline_mono;      /* of the transfers: set when the first hop starts */
    int64_t wait_deadline_mono; /* of the politeness waits */
    double seconds;             /* time in transfers */
};

/* scheme://host:port of url (lower case host), for origin comparisons, and
 * the host alone; CC_EINVAL for anything but a valid http(s) URL. */
static cc_err split_url(const char *url, char **origin, char *host, size_t hostsz,
                        unsigned char literal[16], bool *is_literal)
{
    const struct ingest__curl *L = ingest__curl();
    CURLU *u = L->curl_url();
    char *scheme = NULL, *h = NULL, *port = NULL;
    cc_err rc = CC_EINVAL;
    if (!u)
        return CC_ENOMEM;
    if (L->curl_url_set(u, CURLUPART_URL, url, 0) ||
        L->curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) ||
        L->curl_url_get(u, CURLUPART_HOST, &h, 0) ||
        L->curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) || !h[0])
        goto out;
    for (char *p = h; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (origin) {
        struct cc_buf b;
        cc_buf_init(&b, 1024);
        if (cc_buf_addf(&b, "%s://%s:%s", scheme, h, port)) {
            cc_buf_release(&b);
            goto out;
        }
        *origin = cc_buf_take(&b);
    }
    size_t n = strlen(h);
    const char *bare = h;
    if (n > 2 && h[0] == '[' && h[n - 1] == ']') {
        h[n - 1] = '\0';
        bare = h + 1;
    }
    unsigned char v4[4];
    *is_literal = false;
    if (inet_pton(AF_INET, bare, v4) == 1) {
        cc_ip4_to16(v4, literal);
        *is_literal = true;
    } else if (inet_pton(AF_INET6, bare, literal) == 1) {
        *is_literal = true;
    }
    cc_strlcpy(host, bare, hostsz);
    rc = CC_OK;
out:
    L->curl_free(scheme);
    L->curl_free(h);
    L->curl_free(port);
    L->curl_url_cleanup(u);
    return rc;
}

static void say(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(char *err, size_t errsz, const char *fmt, ...)
{
    if (!err || !errsz)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
}

static void refusal(char *err, size_t errsz, const char *ip, const char *why, const char *url)
{
    say(err, errsz, "refused to connect to %s for %s: the address is %s, which outbound "
        "requests may not reach unless fetch.allow_networks lists it", ip, url, why);
}

/* The request's header lines for this hop; NULL on a value that would
 * break the request (CR/LF). */
static cc_err build_headers(struct call *c, bool same_origin, struct curl_slist **out,
                            char *err, size_t errsz)
{
    const struct ingest__curl *L = ingest__curl();
    const struct ingest_fetch_req *r = c->req;
    struct curl_slist *l = NULL;
    struct cc_buf line;
    cc_err rc = CC_EINVAL;
    cc_buf_init(&line, 16384);
#define ADD(...)                                                                  \
    do {                                                                          \
        cc_buf_reset(&line);                                                      \
        if (cc_buf_addf(&line, __VA_ARGS__) || !ingest__header_value_ok(line.ptr)) \
            goto bad;                                                             \
        struct curl_slist *n_ = L->curl_slist_append(l, line.ptr);                   \
        if (!n_) {                                                                \
            rc = CC_ENOMEM;                                                       \
            goto fail;                                                            \
        }                                                                         \
        l = n_;                                                                   \
    } while (0)
    if (r->accept && r->accept[0])
        ADD("Accept: %s", r->accept);
    if (r->etag && r->etag[0])
        ADD("If-None-Match: %s", r->etag);
    if (r->last_modified && r->last_modified[0])
        ADD("If-Modified-Since: %s", r->last_modified);
    if (same_origin) {
        for (const char *const *hl = r->headers; hl && *hl; hl++)
            ADD("%s", *hl);
        if (c->auth.type == INGEST_AUTH_BEARER)
            ADD("Authorization: Bearer %s", c->secret);
        else if (c->auth.type == INGEST_AUTH_HEADER)
            ADD("%s: %s", c->auth.name, c->secret);
    }
    /* libcurl adds "Expect: 100-continue" to large POSTs; a round trip lost. */
    if (c->send_body)
        ADD("Expect:");
#undef ADD
    *out = l;
    l = NULL;
    rc = CC_OK;
    goto fail;
bad:
    say(err, errsz, "a request header is too long or holds a line break");
fail:
    L->curl_slist_free_all(l);
    cc_buf_release(&line);
    return rc;
}

static void set_options(struct call *c, CURL *e, struct hop *h, const char *url,
                        struct curl_slist *headers, bool same_origin, char *errbuf)
{
    const struct ingest__curl *L = ingest__curl();
    struct ingest_fetcher *f = c->f;
    int64_t left = c->deadline_mono - cc_mono_ms(f->clock);
    L->curl_easy_setopt(e, CURLOPT_URL, url);
    L->curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    L->curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    L->curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    L->curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    L->curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    L->curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    L->curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    L->curl_easy_setopt(e, CURLOPT_PROXY_SSL_VERIFYPEER, 1L);
    L->curl_easy_setopt(e, CURLOPT_PROXY_SSL_VERIFYHOST, 2L);
    if (f->ca_file[0]) {
        L->curl_easy_setopt(e, CURLOPT_CAINFO, f->ca_file);
        L->curl_easy_setopt(e, CURLOPT_PROXY_CAINFO, f->ca_file);
    }
    if (f->proxy[0])
        L->curl_easy_setopt(e, CURLOPT_PROXY, f->proxy); /* else libcurl reads the environment */
    L->curl_easy_setopt(e, CURLOPT_USERAGENT, f->user_agent);
    L->curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    L->curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)f->connect_timeout_ms);
    L->curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(left > 1 ? left : 1));
    if (f->low_speed_limit) {
        L->curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, (long)f->low_speed_limit);
        L->curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)(f->low_speed_time_ms / 1000));
    }
    L->curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->cap);
    L->curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    L->curl_easy_setopt(e, CURLOPT_WRITEDATA, h);
    L->curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    L->curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, h);
    L->curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    L->curl_easy_setopt(e, CURLOPT_RESOLVE, c->resolve);
    if (same_origin && c->auth.type == INGEST_AUTH_BASIC) {
        L->curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        L->curl_easy_setopt(e, CURLOPT_USERNAME, c->auth.name);
        L->curl_easy_setopt(e, CURLOPT_PASSWORD, c->secret);
    }
    if (strcmp(c->method, "HEAD") == 0)
        L->curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else if (strcmp(c->method, "GET") != 0 && strcmp(c->method, "POST") != 0)
        L->curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, c->method);
    if (c->send_body) {
        L->curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->req->body_len);
        L->curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->req->body ? c->req->body : "");
    } else if (strcmp(c->method, "POST") == 0) {
        L->curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
        L->curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
    }
}

/* Maps a failed transfer to cc_err, a message and a metrics result. */
static cc_err transfer_error(struct call *c, struct hop *h, CURLcode cr, const char *url,
                             const char *errbuf, enum fetch_result *res, char *err,
                             size_t errsz)
{
    const struct ingest__curl *L = ingest__curl();
    const char *detail = errbuf[0] ? errbuf : L->curl_easy_strerror(cr);
    if (h->refused && !h->opened) {
        *res = FR_REFUSED;
        refusal(err, errsz, h->refused_ip, h->refused_why, url);
        return CC_EPERM;
    }
    if (h->too_big || cr == CURLE_FILESIZE_EXCEEDED) {
        *res = FR_TOO_LARGE;
        say(err, errsz, "%s: the answer is larger than %llu bytes (the request's cap, or "
            "fetch.max_bytes)", url, (unsigned long long)c->cap);
        return CC_ELIMIT;
    }
    switch (cr) {
    case CURLE_OPERATION_TIMEDOUT:
        *res = FR_TIMEOUT;
        say(err, errsz, "%s: timed out (fetch.connect_timeout, fetch.timeout or "
            "fetch.low_speed_limit): %s", url, detail);
        return CC_EUPSTREAM;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        *res = FR_ERROR;
        say(err, errsz, "%s: not a valid http(s) URL: %s", url, detail);
        return CC_EINVAL;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        *res = FR_ERROR;
        say(err, errsz, "%s: DNS: %s", url, detail);
        return CC_EUPSTREAM;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
        *res = FR_ERROR;
        say(err, errsz, "%s: TLS: %s (the certificate must verify against the system CAs "
            "or fetch.ca_file)", url, detail);
        return CC_EUPSTREAM;
    default:
        *res = FR_ERROR;
        say(err, errsz, "%s: %s", url, detail);
        return CC_EUPSTREAM;
    }
}

static void copy_header(CURL *e, const char *name, char *out, size_t outsz)
{
    const struct ingest__curl *L = ingest__curl();
    struct curl_header *hd = NULL;
    out[0] = '\0';
    if (L->curl_easy_header(e, name, 0, CURLH_HEADER, -1, &hd) == CURLHE_OK && hd->value &&
        strlen(hd->value) < outsz)
        cc_strlcpy(out, hd->value, outsz);
}

/* Content type and charset from "text/html; charset=UTF-8". */
static void split_content_type(const char *ct, struct ingest_fetch_resp *r)
{
    size_t n = strcspn(ct, ";");
    while (n && isspace((unsigned char)ct[n - 1]))
        n--;
    if (n < sizeof(r->content_type)) {
        for (size_t i = 0; i < n; i++)
            r->content_type[i] = (char)tolower((unsigned char)ct[i]);
        r->content_type[n] = '\0';
    }
    for (const char *p = strchr(ct, ';'); p; p = strchr(p + 1, ';')) {
        const char *q = p + 1 + strspn(p + 1, " \t");
        if (strncasecmp(q, "charset=", 8) != 0)
            continue;
        q += 8;
        if (*q == '"')
            q++;
        size_t len = strcspn(q, "\"; \t");
        if (len < sizeof(r->charset)) {
            for (size_t i = 0; i < len; i++)
                r->charset[i] = (char)tolower((unsigned char)q[i]);
            r->charset[len] = '\0';
        }
        break;
    }
}

/* Fills resp from the finished hop. */
static void take_answer(struct call *c, CURL *e, struct hop *h, long status,
                        struct ingest_fetch_resp *resp)
{
    const struct ingest__curl *L = ingest__curl();
    struct ingest_fetch_resp r = {.status = status, .not_modified = status == 304,
                                  .retry_after_ms = -1};
    char *ct = NULL, *eff = NULL, ra[128];
    if (L->curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
        split_content_type(ct, &r);
    copy_header(e, "ETag", r.etag, sizeof(r.etag));
    copy_header(e, "Last-Modified", r.last_modified, sizeof(r.last_modified));
    copy_header(e, "Retry-After", ra, sizeof(ra));
    int64_t ms;
    if (ra[0] && ingest__retry_after_parse(ra, cc_wall_ms(c->f->clock), &ms))
        r.retry_after_ms = ms;
    L->curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &eff);
    r.final_url = cc_xstrdup(eff ? eff : c->req->url);
    r.len = h->body.len;
    r.body = cc_buf_take(&h->body);
    if (!r.body)
        r.body = cc_xstrdup("");
    *resp = r;
}

static bool is_redirect(long status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* Runs one hop: a politeness turn, the transfer, the answer in *resp. */
static cc_err run_hop(struct call *c, CURL *e, const char *url, const char *host,
                      bool same_origin, struct ingest_fetch_resp *resp,
                      enum fetch_result *res, char *err, size_t errsz)
{
    const struct ingest__curl *L = ingest__curl();
    struct ingest_fetcher *f = c->f;
    struct hop h = {.f = f, .trusted = c->req->trusted};
    struct curl_slist *headers = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    bool entered = false;
    int64_t retry_after = -1;
    cc_buf_init(&h.body, c->cap);
    cc_err rc = build_headers(c, same_origin, &headers, err, errsz);
    if (rc) {
        *res = FR_ERROR;
        goto out;
    }
    if (!c->req->trusted) {
        int64_t delay = c->req->min_delay_ms > f->host_delay_ms ? c->req->min_delay_ms
                                                                : f->host_delay_ms;
        rc = ingest__hosts_enter(&f->hosts, host, delay, c->wait_deadline_mono, err, errsz);
        if (rc) {
            *res = FR_ERROR;
            goto out;
        }
        entered = true;
    }
    /* The timeout counts transfers, not the turn waited for. */
    if (!c->deadline_mono)
        c->deadline_mono = cc_mono_ms(f->clock) + c->timeout_ms;
    L->curl_easy_reset(e);
    set_options(c, e, &h, url, headers, same_origin, errbuf);
    CURLcode cr = L->curl_easy_perform(e);
    double secs = 0;
    L->curl_easy_getinfo(e, CURLINFO_TOTAL_TIME, &secs);
    c->seconds += secs;
    if (cr != CURLE_OK) {
        rc = transfer_error(c, &h, cr, url, errbuf, res, err, errsz);
        goto out;
    }
    long status = 0;
    L->curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    take_answer(c, e, &h, status, resp);
    if ((status == 429 || status == 503) && resp->retry_after_ms >= 0)
        retry_after = resp->retry_after_ms;
    rc = CC_OK;
out:
    if (entered)
        ingest__hosts_leave(&f->hosts, host, retry_after);
    L->curl_slist_free_all(headers);
    cc_buf_release(&h.body);
    return rc;
}

/* Reads the auth secret from its file (or copies the inline one). */
static cc_err load_auth(struct call *c, char *err, size_t errsz)
{
    struct cc_diag d = {0};
    char why[320];
    if (ingest_fetch_auth_parse(c->req->auth_json, &c->auth, &d)) {
        say(err, errsz, "%s", d.msg);
        return CC_EINVAL;
    }
    if (c->auth.type == INGEST_AUTH_NONE)
        return CC_OK;
    if (!c->auth.secret_file[0]) {
        c->secret = cc_xstrdup(c->auth.secret);
        return CC_OK;
    }
    if (cc_config_read_secret(c->auth.secret_file, &c->secret, why, sizeof(why))) {
        say(err, errsz, "auth: cannot read the secret: %s", why);
        return CC_EIO;
    }
    if (!c->secret[0] || !ingest__header_value_ok(c->secret)) {
        say(err, errsz, "auth: the secret in '%s' is empty or has more than one line",
            c->auth.secret_file);
        return CC_EINVAL;
    }
    return CC_OK;
}

/* The next hop's URL from the Location of a redirect, or an error. */
static cc_err next_url(CURL *e, char **url, char *err, size_t errsz)
{
    const struct ingest__curl *L = ingest__curl();
    char *loc = NULL;
    if (L->curl_easy_getinfo(e, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK || !loc) {
        say(err, errsz, "%s answered a redirect without a usable Location", *url);
        return CC_EUPSTREAM;
    }
    char *next = cc_xstrdup(loc);
    free(*url);
    *url = next;
    return CC_OK;
}

/* Loads libcurl (once per process) and finds the proxies (once per
 * fetcher) before the first request. */
static cc_err get_ready(struct ingest_fetcher *f, char *err, size_t errsz)
{
    if (!ingest__curl()) {
        say(err, errsz, "%s", ingest__curl_error());
        return CC_EUPSTREAM;
    }
    pthread_mutex_lock(&f->ready_mu);
    if (!f->ready) {
        find_proxies(f);
        f->ready = true;
    }
    pthread_mutex_unlock(&f->ready_mu);
    return CC_OK;
}

/* Follows the request from url (owned, replaced on redirects) to its last
 * hop; the answer in *r. */
static cc_err follow(struct call *c, CURL *e, char **url, struct ingest_fetch_resp *r,
                     enum fetch_result *res, char *err, size_t errsz)
{
    struct ingest_fetcher *f = c->f;
    for (unsigned hop = 0;; hop++) {
        char *origin = NULL, host[256];
        unsigned char literal[16];
        bool is_literal;
        if (split_url(*url, &origin, host, sizeof(host), literal, &is_literal)) {
            say(err, errsz, "a redirect leads to '%.200s', not an http(s) URL", *url);
            return CC_EUPSTREAM;
        }
        bool same_origin = hop == 0 || strcmp(origin, c->origin) == 0;
        free(origin);
        /* Through a proxy libcurl never resolves the target; an address
         * literal can still be judged here. */
        const char *why = is_literal && !c->req->trusted
                              ? ingest__guard_check(literal, f->allow, f->nallow) : NULL;
        if (why) {
            char text[64];
            cc_ip_format(literal, text, sizeof(text));
            refusal(err, errsz, text, why, *url);
            *res = FR_REFUSED;
            return CC_EPERM;
        }
        ingest_fetch_resp_release(r);
        cc_err rc = run_hop(c, e, *url, host, same_origin, r, res, err, errsz);
        if (rc)
            return rc;
        if (!is_redirect(r->status))
            return CC_OK;
        if (hop >= f->max_redirects) {
            say(err, errsz, "%s: more than %u redirects (fetch.max_redirects)", c->req->url,
                f->max_redirects);
            *res = FR_ERROR;
            return CC_EUPSTREAM;
        }
        if ((rc = next_url(e, url, err, errsz)))
            return rc;
        if (r->status == 303 || ((r->status == 301 || r->status == 302) &&
                                 strcmp(c->method, "POST") == 0)) {
            c->method = strcmp(c->method, "HEAD") == 0 ? "HEAD" : "GET";
            c->send_body = false;
        }
    }
}

/* What the first hop needs: the URL's origin, the auth secret, the
 * --resolve entries. */
static cc_err prepare(struct call *c, const char *url, char *err, size_t errsz)
{
    const struct ingest__curl *L = ingest__curl();
    char host[256];
    unsigned char literal[16];
    bool is_literal;
    if (split_url(url, &c->origin, host, sizeof(host), literal, &is_literal)) {
        say(err, errsz, "'%.200s' is not an http:// or https:// URL", url);
        return CC_EINVAL;
    }
    cc_err rc = load_auth(c, err, errsz);
    if (rc)
        return rc;
    for (const char *const *rl = c->req->resolve; rl && *rl; rl++) {
        struct curl_slist *n = L->curl_slist_append(c->resolve, *rl);
        if (!n)
            return CC_ENOMEM;
        c->resolve = n;
    }
    return CC_OK;
}

cc_err ingest_fetch(struct ingest_fetcher *f, const struct ingest_fetch_req *req,
                    struct ingest_fetch_resp *resp, char *err, size_t errsz)
{
    char local[512];
    if (!err || !errsz) {
        err = local;
        errsz = sizeof(local);
    }
    err[0] = '\0';
    struct call c = {.f = f, .req = req, .method = req->method ? req->method : "GET",
                     .cap = req->max_bytes ? req->max_bytes : f->max_bytes,
                     .send_body = req->body != NULL,
                     .timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : f->timeout_ms};
    c.wait_deadline_mono = cc_mono_ms(f->clock) + c.timeout_ms + f->hosts.retry_after_max_ms;
    struct ingest_fetch_resp r = {0};
    enum fetch_result res = FR_ERROR;
    char *url = cc_xstrdup(req->url ? req->url : "");
    CURL *e = NULL;
    const struct ingest__curl *L = NULL;
    cc_err rc = get_ready(f, err, errsz);
    if (rc)
        goto out;
    L = ingest__curl();
    if ((rc = prepare(&c, url, err, errsz)))
        goto out;
    if (!(e = L->curl_easy_init())) {
        rc = CC_ENOMEM;
        goto out;
    }
    if ((rc = follow(&c, e, &url, &r, &res, err, errsz)))
        goto out;
    res = r.status == 304 ? FR_NOT_MODIFIED : r.status >= 500 ? FR_HTTP_5XX
                                           : r.status >= 400 ? FR_HTTP_4XX : FR_OK;
    *resp = r;
    r = (struct ingest_fetch_resp){0};
out:
    if (f->m_result[res])
        obs_counter_inc(f->m_result[res]);
    if (f->m_duration)
        obs_histogram_observe(f->m_duration, c.seconds);
    if (rc && f->log)
        cc_log_debug(f->log, "fetch", "outbound request failed", CC_LS("error", err));
    ingest_fetch_resp_release(&r);
    if (L) {
        L->curl_easy_cleanup(e);
        L->curl_slist_free_all(c.resolve);
    }
    if (c.secret) {
        memset(c.secret, 0, strlen(c.secret));
        free(c.secret);
    }
    memset(&c.auth, 0, sizeof(c.auth));
    free(c.origin);
    free(url);
    return rc;
}
