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
    int fd = dial(&u, deadline, &why);
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
