/*
 * httpc.c - a small blocking HTTP/1.1 client (see httpc.h).
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/httpc.h"

struct url {
    char host[300];
    char port[8];
    char path[4096];     /* path and query, "/" when the URL has none */
};

static int parse_url(const char *url, struct url *u)
{
    if (strncmp(url, "http://", 7) != 0)
        return -1;
    const char *p = url + 7;
    const char *slash = strchr(p, '/');
    size_t hostport = slash ? (size_t)(slash - p) : strlen(p);
    char hp[300];
    if (hostport == 0 || hostport >= sizeof(hp))
        return -1;
    memcpy(hp, p, hostport);
    hp[hostport] = '\0';
    const char *port = "80";
    char *h = hp;
    if (h[0] == '[') {
        char *close = strchr(h, ']');
        if (!close)
            return -1;
        *close = '\0';
        h++;
        if (close[1] == ':')
            port = close + 2;
        else if (close[1])
            return -1;
    } else {
        char *colon = strchr(h, ':');
        if (colon) {
            *colon = '\0';
            port = colon + 1;
        }
    }
    if (!*h || strlen(port) >= sizeof(u->port) || !*port ||
        strspn(port, "0123456789") != strlen(port))
        return -1;
    snprintf(u->host, sizeof(u->host), "%s", h);
    snprintf(u->port, sizeof(u->port), "%s", port);
    if (slash && strlen(slash) >= sizeof(u->path))
        return -1;
    snprintf(u->path, sizeof(u->path), "%s", slash ? slash : "/");
    return 0;
}

static int wait_fd(int fd, short events, int64_t deadline_ms)
{
    for (;;) {
        int64_t left = deadline_ms - cc_wall_ms(cc_clock_system());
        if (left <= 0)
            return -1;
        struct pollfd pfd = {.fd = fd, .events = events};
        int r = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
        if (r > 0)
            return 0;
        if (r == 0 || errno != EINTR)
            return -1;
    }
}

static int dial_unix(const char *path, int64_t deadline_ms, const char **why)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        *why = "the unix socket path is longer than 107 bytes";
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        *why = strerror(errno);
        return -1;
    }
    int err = 0;
    socklen_t len = sizeof(err);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
        return fd;
    if ((errno == EINPROGRESS || errno == EAGAIN) && wait_fd(fd, POLLOUT, deadline_ms) == 0 &&
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
        return fd;
    *why = err ? strerror(err) : errno == EINPROGRESS || errno == EAGAIN ? "timed out"
                                                                      : strerror(errno);
    close(fd);
    return -1;
}

/* Connects to the first address that answers within the deadline. */
static int dial(const struct url *u, int64_t deadline_ms, const char **why)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(u->host, u->port, &hints, &res);
    if (gai) {
        *why = gai_strerror(gai);
        return -1;
    }
    int fd = -1;
    *why = "connection refused";
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
            continue;
        int err = 0;
        socklen_t len = sizeof(err);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
            (errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline_ms) == 0 &&
             getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0))
            break;
        *why = err ? strerror(err) : errno == EINPROGRESS ? "timed out" : strerror(errno);
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static int send_all(int fd, const char *p, size_t n, int64_t deadline_ms)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && errno == EAGAIN) {
            if (wait_fd(fd, POLLOUT, deadline_ms))
                return -1;
        } else if (!(w < 0 && errno == EINTR)) {
            return -1;
        }
    }
    return 0;
}

static int recv_all(int fd, struct cc_buf *b, int64_t deadline_ms)
{
    char chunk[16384];
    for (;;) {
        ssize_t r = recv(fd, chunk, sizeof(chunk), 0);
        if (r == 0)
            return 0;
        if (r > 0) {
            if (cc_buf_add(b, chunk, (size_t)r))
                return -1;
        } else if (errno == EAGAIN) {
            if (wait_fd(fd, POLLIN, deadline_ms))
                return -1;
        } else if (errno != EINTR) {
            return -1;
        }
    }
}

/* Decodes a chunked body in place; returns the decoded length or -1. */
static long dechunk(char *body, size_t len)
{
    size_t in = 0, out = 0;
    for (;;) {
        char *end;
        errno = 0;
        unsigned long n = strtoul(body + in, &end, 16);
        if (errno || end == body + in)
            return -1;
        char *crlf = strstr(end, "\r\n");
        if (!crlf)
            return -1;
        in = (size_t)(crlf - body) + 2;
        if (n == 0)
            return (long)out;
        if (n > len - in || len - in - n < 2)
            return -1;
        memmove(body + out, body + in, n);
        out += n;
        in += n + 2;
    }
}

int cc_http_parse_answer(struct cc_buf *raw, struct cc_http_answer *a)
{
    char *p = raw->ptr;
    if (!p || strncmp(p, "HTTP/1.", 7) != 0 || raw->len < 12)
        return -1;
    char *end;
    a->status = strtol(p + 9, &end, 10);
    char *hdr_end = strstr(p, "\r\n\r\n");
    if (!hdr_end || a->status < 100 || a->status > 599)
        return -1;
    *hdr_end = '\0';
    bool chunked = false;
    for (char *line = strstr(p, "\r\n"); line && line < hdr_end; line = strstr(line + 2, "\r\n"))
        if (strncasecmp(line + 2, "Transfer-Encoding:", 18) == 0 && strstr(line + 20, "chunked"))
            chunked = true;
    char *eol = strstr(p, "\r\n");
    a->headers = eol && eol < hdr_end ? eol + 2 : hdr_end;
    a->headers_len = (size_t)(hdr_end - a->headers);
    char *body = hdr_end + 4;
    size_t len = raw->len - (size_t)(body - p);
    if (chunked) {
        long n = dechunk(body, len);
        if (n < 0)
            return -1;
        len = (size_t)n;
        body[len] = '\0';
    }
    a->body = body;
    a->len = len;
    return 0;
}


static void build_request(const struct cc_http_req *req, const struct url *u, struct cc_buf *out)
{
    bool v6 = strchr(u->host, ':') != NULL;
    cc_buf_addf(out, "%s %s HTTP/1.1\r\nHost: %s%s%s:%s\r\nConnection: close\r\n",
                req->method, u->path, v6 ? "[" : "", u->host, v6 ? "]" : "", u->port);
    for (const char *const *h = req->headers; h && *h; h++)
        cc_buf_addf(out, "%s\r\n", *h);
    if (req->body)
        cc_buf_addf(out, "Content-Length: %zu\r\n", req->body_len);
    cc_buf_addstr(out, "\r\n");
    if (req->body)
        cc_buf_add(out, req->body, req->body_len);
}

cc_err cc_http_request(const struct cc_http_req *req, struct cc_buf *raw,
                       struct cc_http_answer *ans, char *err, size_t errsz)
{
    struct url u;
    if (parse_url(req->url, &u)) {
        snprintf(err, errsz, "'%s' is not an http:// URL", req->url);
        return CC_EINVAL;
    }
    int64_t timeout = req->timeout_ms > 0 ? req->timeout_ms : 30000;
    int64_t deadline = cc_wall_ms(cc_clock_system()) + timeout;
    struct cc_buf out;
    cc_buf_init(&out, (size_t)1 << 30);
    build_request(req, &u, &out);
    const char *why = "timed out";
    cc_err rc = CC_EUPSTREAM;
    errno = 0;
    int fd = req->unix_path ? dial_unix(req->unix_path, deadline, &why) : dial(&u, deadline, &why);
    if (fd < 0)
        goto fail;
    errno = 0;
    if (send_all(fd, cc_buf_str(&out), out.len, deadline) || recv_all(fd, raw, deadline)) {
        why = errno == 0 ? "the answer was too large" : errno == EAGAIN ? "timed out"
                                                                         : strerror(errno);
        close(fd);
        goto fail;
    }
    close(fd);
    struct cc_http_answer a = {0};
    if (cc_http_parse_answer(raw, &a)) {
        snprintf(err, errsz, "the answer is not valid HTTP");
        rc = CC_EPARSE;
        goto out;
    }
    *ans = a;
    rc = CC_OK;
    goto out;
fail:
    snprintf(err, errsz, "%s", why);
out:
    cc_buf_release(&out);
    return rc;
}

bool cc_http_header(const char *headers, size_t len, const char *name, char *out,
                    size_t outsz)
{
    size_t nlen = strlen(name);
    const char *p = headers, *end = headers + len;
    if (outsz)
        out[0] = '\0';
    while (p < end) {
        const char *eol = p;
        while (eol < end && *eol != '\r' && *eol != '\n')
            eol++;
        if ((size_t)(eol - p) > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
            const char *v = p + nlen + 1, *ve = eol;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            if (outsz) {
                size_t n = (size_t)(ve - v) < outsz - 1 ? (size_t)(ve - v) : outsz - 1;
                memcpy(out, v, n);
                out[n] = '\0';
            }
            return true;
        }
        p = eol;
        while (p < end && (*p == '\r' || *p == '\n'))
            p++;
    }
    return false;
}

/* ---- streaming -------------------------------------------------------- */

enum { DC_SIZE, DC_EXT, DC_SIZE_LF, DC_DATA, DC_DATA_CR, DC_DATA_LF, DC_TRAILER,
       DC_TRAILER_LINE, DC_TRAILER_LINE_LF, DC_TRAILER_LF, DC_DONE };

int cc_http_dechunk_feed(struct cc_http_dechunk *d, const char *p, size_t n, size_t *used,
                         bool (*out)(void *arg, const char *p, size_t n), void *arg)
{
    size_t i = 0;
    int rc = 0;
    while (i < n && d->state != DC_DONE) {
        char c = p[i];
        switch (d->state) {
        case DC_SIZE: {
            int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (v >= 0) {
                if (++d->digits > 15) {   /* a chunk of 2^60 bytes is an attack */
                    rc = -1;
                    goto out;
                }
                d->left = d->left * 16 + (uint64_t)v;
            } else if (d->digits == 0) {
                rc = -1;
                goto out;
            } else if (c == ';' || c == ' ' || c == '\t') {
                d->state = DC_EXT;
            } else if (c == '\r') {
                d->state = DC_SIZE_LF;
            } else {
                rc = -1;
                goto out;
            }
            i++;
            break;
        }
        case DC_EXT:
            if (c == '\r')
                d->state = DC_SIZE_LF;
            else if (c == '\n') {
                rc = -1;
                goto out;
            }
            i++;
            break;
        case DC_SIZE_LF:
            if (c != '\n') {
                rc = -1;
                goto out;
            }
            i++;
            d->digits = 0;
            d->state = d->left ? DC_DATA : DC_TRAILER;
            break;
        case DC_DATA: {
            size_t take = n - i;
            if ((uint64_t)take > d->left)
                take = (size_t)d->left;
            d->left -= take;
            if (d->left == 0)
                d->state = DC_DATA_CR;
            const char *chunk = p + i;
            i += take;
            if (out && !out(arg, chunk, take)) {
                rc = 2;
                goto out;
            }
            break;
        }
        case DC_DATA_CR:
        case DC_DATA_LF:
            if (c != (d->state == DC_DATA_CR ? '\r' : '\n')) {
                rc = -1;
                goto out;
            }
            d->state = d->state == DC_DATA_CR ? DC_DATA_LF : DC_SIZE;
            i++;
            break;
        case DC_TRAILER:          /* at the start of a trailer line */
            d->state = c == '\r' ? DC_TRAILER_LF : DC_TRAILER_LINE;
            i++;
            break;
        case DC_TRAILER_LINE:
            if (c == '\r')
                d->state = DC_TRAILER_LINE_LF;
            i++;
            break;
        case DC_TRAILER_LF:
            if (c != '\n') {
                rc = -1;
                goto out;
            }
            d->state = DC_DONE;
            i++;
            break;
        default:                  /* DC_TRAILER_LINE_LF */
            if (c != '\n') {
                rc = -1;
                goto out;
            }
            d->state = DC_TRAILER;
            i++;
            break;
        }
    }
    if (d->state == DC_DONE)
        rc = 1;
out:
    if (used)
        *used = i;
    return rc;
}

struct head_info {
    long status;
    bool chunked;
    bool has_length;
    uint64_t length;
};

static int parse_head(char *p, size_t hlen, struct head_info *h)
{
    if (hlen < 12 || strncmp(p, "HTTP/1.", 7) != 0)
        return -1;
    char *end;
    h->status = strtol(p + 9, &end, 10);
    if (h->status < 100 || h->status > 599)
        return -1;
    char *eol = memchr(p, '\n', hlen);
    const char *hs = eol ? eol + 1 : p + hlen;
    size_t hn = (size_t)(p + hlen - hs);
    char v[64];
    if (cc_http_header(hs, hn, "Transfer-Encoding", v, sizeof(v)) && strstr(v, "chunked"))
        h->chunked = true;
    if (!h->chunked && cc_http_header(hs, hn, "Content-Length", v, sizeof(v))) {
        errno = 0;
        unsigned long long n = strtoull(v, &end, 10);
        if (errno || end == v || *end || v[0] == '-')
            return -1;
        h->has_length = true;
        h->length = n;
    }
    return 0;
}

#define STREAM_HEAD_MAX 65536
#define STREAM_TICK_MS  250

struct body_state {
    const struct cc_http_sink *sink;
    struct head_info h;
    struct cc_http_dechunk dc;
    uint64_t got;
    bool stopped, finished;
};

/* Feeds body bytes; returns -1 on a malformed body. */
static int feed_body(struct body_state *b, const char *p, size_t n)
{
    if (b->h.chunked) {
        size_t used = 0;
        int r = cc_http_dechunk_feed(&b->dc, p, n, &used, b->sink->body, b->sink->arg);
        if (r < 0)
            return -1;
        if (r == 2)
            b->stopped = true;
        if (r == 1)
            b->finished = true;
        return 0;
    }
    if (b->h.has_length) {
        uint64_t left = b->h.length - b->got;
        if ((uint64_t)n >= left) {
            n = (size_t)left;
            b->finished = true;
        }
    }
    b->got += n;
    if (n && !b->sink->body(b->sink->arg, p, n))
        b->stopped = true;
    return 0;
}

static bool is_cancelled(const struct cc_http_sink *s)
{
    return s->cancel && atomic_load(s->cancel);
}

cc_err cc_http_stream(const struct cc_http_req *req, const struct cc_http_sink *sink,
                      bool *cancelled, char *err, size_t errsz)
{
    struct url u;
    if (cancelled)
        *cancelled = false;
    if (parse_url(req->url, &u)) {
        snprintf(err, errsz, "'%s' is not an http:// URL", req->url);
        return CC_EINVAL;
    }
    int64_t now = cc_wall_ms(cc_clock_system());
    int64_t deadline = now + (req->timeout_ms > 0 ? req->timeout_ms : 30000);
    struct cc_buf out, head;
    cc_buf_init(&out, (size_t)1 << 20);
    cc_buf_init(&head, STREAM_HEAD_MAX);
    struct cc_http_req hreq = *req;
    hreq.body = NULL;
    build_request(&hreq, &u, &out);
    if (req->body) {            /* the length line; the body goes out unbuffered */
        out.len -= 2;
        out.ptr[out.len] = '\0';
        cc_buf_addf(&out, "Content-Length: %zu\r\n\r\n", req->body_len);
    }
    const char *why = "timed out";
    cc_err rc = CC_EUPSTREAM;
    char why_buf[128];
    errno = 0;
    int fd = req->unix_path ? dial_unix(req->unix_path, deadline, &why) : dial(&u, deadline, &why);
    if (fd < 0)
        goto fail;
    errno = 0;
    if (send_all(fd, cc_buf_str(&out), out.len, deadline) ||
        (req->body && send_all(fd, req->body, req->body_len, deadline))) {
        why = errno == EAGAIN || errno == 0 ? "timed out" : strerror(errno);
        goto fail_fd;
    }
    struct body_state b = {.sink = sink};
    bool have_head = false;
    int64_t body_deadline = 0;
    char chunk[16384];
    for (;;) {
        if (is_cancelled(sink)) {
            if (cancelled)
                *cancelled = true;
            rc = CC_OK;
            goto done;
        }
        now = cc_wall_ms(cc_clock_system());
        int64_t limit = have_head ? body_deadline : deadline;
        if (limit && now >= limit) {
            why = "timed out";
            goto fail_fd;
        }
        int64_t wait = STREAM_TICK_MS;
        if (limit && limit - now < wait)
            wait = limit - now;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int pr = poll(&pfd, 1, (int)wait);
        if (pr < 0 && errno != EINTR) {
            why = strerror(errno);
            goto fail_fd;
        }
        if (pr <= 0)
            continue;
        ssize_t r = recv(fd, chunk, sizeof(chunk), 0);
        if (r < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            why = strerror(errno);
            goto fail_fd;
        }
        if (r == 0) {
            if (!have_head) {
                why = "the server closed the connection before answering";
                goto fail_fd;
            }
            if (b.h.chunked || (b.h.has_length && b.got < b.h.length)) {
                why = "the server closed the connection in the middle of the body";
                goto fail_fd;
            }
            rc = CC_OK;
            goto done;
        }
        const char *bp = chunk;
        size_t bn = (size_t)r;
        if (!have_head) {
            if (cc_buf_add(&head, chunk, bn)) {
                snprintf(err, errsz, "the answer's head is larger than %d bytes", STREAM_HEAD_MAX);
                rc = CC_EPARSE;
                goto done;
            }
            char *he = strstr(head.ptr, "\r\n\r\n");
            if (!he)
                continue;
            size_t hlen = (size_t)(he - head.ptr);
            if (parse_head(head.ptr, hlen, &b.h)) {
                snprintf(err, errsz, "the answer is not valid HTTP");
                rc = CC_EPARSE;
                goto done;
            }
            have_head = true;
            if (sink->body_timeout_ms > 0)
                body_deadline = cc_wall_ms(cc_clock_system()) + sink->body_timeout_ms;
            char *eol = memchr(head.ptr, '\n', hlen);
            const char *hs = eol ? eol + 1 : he;
            if (sink->head && !sink->head(sink->arg, b.h.status, hs, (size_t)(he - hs))) {
                rc = CC_OK;
                goto done;
            }
            size_t off = hlen + 4;
            /* The body bytes that came with the head: from the head buffer,
             * whose tail is the current chunk's tail. */
            bp = head.ptr + off;
            bn = head.len - off;
            if (b.h.has_length && b.h.length == 0)
                b.finished = true;
        }
        if (bn && !b.finished && feed_body(&b, bp, bn)) {
            snprintf(err, errsz, "the answer's chunked body is malformed");
            rc = CC_EPARSE;
            goto done;
        }
        if (b.stopped || b.finished) {
            rc = CC_OK;
            goto done;
        }
    }
fail_fd:
    close(fd);
    fd = -1;
fail:
    snprintf(why_buf, sizeof(why_buf), "%s", why);
    snprintf(err, errsz, "%s", why_buf);
    rc = CC_EUPSTREAM;
done:
    if (fd >= 0)
        close(fd);
    cc_buf_release(&out);
    cc_buf_release(&head);
    return rc;
}
