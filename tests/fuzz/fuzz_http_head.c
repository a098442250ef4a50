/*
 * fuzz_http_head.c - raw request heads (and whatever follows them) through
 * the real server: libmicrohttpd's parser, then ours - framing checks
 * (Content-Length with Transfer-Encoding, two Content-Lengths), header
 * size, target splitting and query decoding, routing, authentication with
 * the failed-authentication guard, the deferred refusals that keep a
 * connection alive, the body limits - as a client on loopback sends them.
 *
 * One server for the whole run (port 0 on 127.0.0.1, two threads, a small
 * body limit, one admin token "fuzz-token-..."). Each input is sent on a
 * fresh connection, which is then half-closed; the answer is read until the
 * server closes or a short deadline passes.
 * Invariants (abort on violation):
 *   - whatever the server sends starts with "HTTP/1.";
 *   - an answer our code built (it has X-Request-Id) has the security
 *     headers and a JSON body;
 *   - after every input the server still answers GET /health with 200.
 * ASan/UBSan in the replay build catch the rest.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/ctx.h"
#include "core/log.h"
#include "http/auth.h"
#include "http/server.h"
#include "observe/metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TOKEN "fuzz-token-0123456789abcdefghijklmnopqrstuvwxyz"
#define READ_CAP (256 * 1024)

static void h_ok(struct http_req *r, struct http_resp *resp)
{
    json_t *j = json_object();
    json_object_set_new(j, "q", http_json_str(http_req_query(r, "q")));
    json_object_set_new(j, "id", http_json_str(http_req_param(r, "id")));
    json_object_set_new(j, "len", json_integer((json_int_t)r->body_len));
    http_resp_json(resp, 200, j);
}

static const struct http_route routes[] = {
    {.methods = HTTP_GET, .template = "/health", .access = HTTP_PUBLIC, .handler = h_ok},
    {.methods = HTTP_GET | HTTP_POST, .template = "/api/v1/things", .access = HTTP_ADMIN,
     .handler = h_ok, .max_body = 4096},
    {.methods = HTTP_GET, .template = "/api/v1/things/{id}", .access = HTTP_READ,
     .handler = h_ok},
};

static struct {
    struct cc_log log;
    struct cc_ctx ctx;
    struct http_auth *auth;
    struct http_server *srv;
    unsigned port;
} g;

static void start_once(void)
{
    if (g.srv)
        return;
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    g.ctx.clock = cc_clock_system();
    cc_log_init(&g.log, devnull >= 0 ? devnull : STDERR_FILENO, CC_LOG_ERROR, CC_LOG_JSON,
                g.ctx.clock);
    g.ctx.log = &g.log;
    g.ctx.metrics = obs_registry_new();
    char err[256] = "";
    if (http_auth_new(NULL, TOKEN, &g.auth) != CC_OK)
        abort();
    struct http_server_cfg cfg = {
        .listen = "127.0.0.1:0", .threads = 2, .max_connections = 64,
        .max_header_bytes = 8192, .max_body_bytes = 65536, .max_upload_bytes = 65536,
        .read_timeout_ms = 5000, .request_timeout_ms = 5000, .max_connections_per_client = 0,
        .rate_limit_rps = 0, .rate_limit_burst = 1, .rate_limit_clients = 64,
        .auth_failure_rate = 1000, .auth_failure_burst = 1000, .auth = g.auth,
    };
    if (http_server_new(&g.ctx, &cfg, routes, sizeof(routes) / sizeof(routes[0]), &g.srv, err,
                        sizeof(err)) != CC_OK ||
        http_server_start(g.srv, err, sizeof(err)) != CC_OK) {
        fprintf(stderr, "fuzz_http_head: %s\n", err);
        abort();
    }
    g.port = http_server_port(g.srv);
}

static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g.port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
        abort();
    return fd;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads until the server closes, READ_CAP bytes, or deadline_ms pass. */
static size_t read_all(int fd, char *buf, size_t cap, int64_t deadline_ms)
{
    size_t len = 0;
    int64_t until = now_ms() + deadline_ms;
    while (len < cap - 1) {
        int64_t left = until - now_ms();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            break;
        ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    return len;
}

static void send_all(int fd, const uint8_t *data, size_t size)
{
    while (size) {
        ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
        if (n <= 0)
            return;   /* the server closed early: fine */
        data += n;
        size -= (size_t)n;
    }
}

/* Every answer in buf: starts with HTTP/1., and ours carry the headers. */
static void check_answers(const char *buf, size_t len)
{
    if (len == 0)
        return;
    if (strncmp(buf, "HTTP/1.", 7) != 0)
        abort();
    const char *head_end = strstr(buf, "\r\n\r\n");
    if (!head_end)
        return;   /* cut at our deadline or cap */
    size_t head_len = (size_t)(head_end - buf);
    char head[16384];
    if (head_len >= sizeof(head))
        abort();
    memcpy(head, buf, head_len);
    head[head_len] = '\0';
    if (strstr(head, "X-Request-Id:")) {
        if (!strstr(head, "X-Content-Type-Options: nosniff") ||
            !strstr(head, "Content-Type: application/json"))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char buf[READ_CAP];
    start_once();
    int fd = dial();
    send_all(fd, data, size);
    shutdown(fd, SHUT_WR);
    size_t len = read_all(fd, buf, sizeof(buf), 2000);
    close(fd);
    check_answers(buf, len);

    fd = dial();
    static const char health[] = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    send_all(fd, (const uint8_t *)health, sizeof(health) - 1);
    len = read_all(fd, buf, sizeof(buf), 10000);
    close(fd);
    if (strncmp(buf, "HTTP/1.1 200", 12) != 0)
        abort();
    return 0;
}
