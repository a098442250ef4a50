/*
 * client.c - the CLI's HTTP client and its output helpers.
 * Answers are capped at 64 MiB; a larger one is an error, not a crash.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/clock.h"

#define ANSWER_LIMIT (64u << 20)
#define TOKEN_FILE_LIMIT 4096

void cli__error(const char *hint, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("commandcenter: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (hint)
        fprintf(stderr, "hint: %s\n", hint);
}

void cli__add_param(struct cc_buf *b, const char *name, const char *value)
{
    if (!value)
        return;
    cc_buf_addf(b, "%c%s=", strchr(cc_buf_str(b), '?') ? '&' : '?', name);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~')
            cc_buf_addch(b, (char)*p);
        else
            cc_buf_addf(b, "%%%02X", *p);
    }
}

bool cli__stdout_is_tty(void)
{
    return isatty(STDOUT_FILENO) == 1;
}

void cli__print_json(json_t *j)
{
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
}

static const char *env_get(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static char *read_token_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        cli__error("CC_TOKEN_FILE must name a readable file holding the token",
                   "cannot read CC_TOKEN_FILE %s: %s", path, strerror(errno));
        return NULL;
    }
    char buf[TOKEN_FILE_LIMIT + 1];
    size_t n = fread(buf, 1, TOKEN_FILE_LIMIT + 1, f);
    fclose(f);
    if (n > TOKEN_FILE_LIMIT) {
        cli__error(NULL, "CC_TOKEN_FILE %s is larger than %d bytes", path, TOKEN_FILE_LIMIT);
        return NULL;
    }
    buf[n] = '\0';
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return cc_xstrdup(buf);
}

int cli__client_init(struct cli_client *c, const char *server_opt, bool json)
{
    memset(c, 0, sizeof(*c));
    c->json = json;
    c->timeout_s = 30;
    c->server = server_opt ? server_opt : env_get("CC_SERVER");
    if (!c->server)
        c->server = CLI_DEFAULT_SERVER;
    if (strncmp(c->server, "http://", 7) != 0) {
        cli__error("use a URL like http://127.0.0.1:8470 (the CLI speaks plain HTTP; reach a "
                   "remote daemon through an SSH tunnel or its TLS proxy's local side)",
                   "--server '%s' is not an http:// URL", c->server);
        return CLI_USAGE;
    }
    const char *tok = env_get("CC_TOKEN");
    const char *file = env_get("CC_TOKEN_FILE");
    if (tok && file) {
        cli__error("unset one of them", "both CC_TOKEN and CC_TOKEN_FILE are set");
        return CLI_USAGE;
    }
    if (tok)
        c->token = cc_xstrdup(tok);
    else if (file && !(c->token = read_token_file(file)))
        return CLI_USAGE;
    if (c->token && strpbrk(c->token, "\r\n")) {
        cli__error("a token is one line: cc_ followed by 43 characters",
                   "the token contains a line break");
        cli__client_release(c);
        return CLI_USAGE;
    }
    return CLI_OK;
}

void cli__client_release(struct cli_client *c)
{
    free(c->token);
    c->token = NULL;
}

static int report_http_error(struct cli_client *c, long status, const char *body, size_t len)
{
    json_t *j = json_loadb(body, len, 0, NULL);
    json_t *e = json_object_get(j, "error");
    const char *msg = json_string_value(json_object_get(e, "message"));
    const char *hint = json_string_value(json_object_get(e, "hint"));
    if (status == 401 && !c->token)
        hint = "set CC_TOKEN to a token, or CC_TOKEN_FILE to a file holding one "
               "('make run' writes var/admin.token)";
    cli__error(hint, "the server answered %ld: %s", status, msg ? msg : "(no message)");
    json_decref(j);
    return CLI_FAIL;
}

/* ------------------------------------------------------------------ */
/* A small HTTP/1.1 client for talking to our own daemon.             */
/*                                                                    */
/* Why not libcurl: linking it costs the daemon (the same binary) about */
/* 6 MB of idle RSS through its dependency tree, and the CLI only ever  */
/* talks plain HTTP to one server. Requests use "Connection: close", so */
/* the answer ends when the server closes; chunked bodies are decoded.  */

struct url {
    char host[300];
    char port[8];
    char prefix[1024];   /* path prefix without a trailing '/' */
};

static int parse_url(const char *server, struct url *u)
{
    if (strncmp(server, "http://", 7) != 0)
        return -1;
    const char *p = server + 7;
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
    snprintf(u->prefix, sizeof(u->prefix), "%s", slash ? slash : "");
    size_t n = strlen(u->prefix);
    while (n && u->prefix[n - 1] == '/')
        u->prefix[--n] = '\0';
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

int cli__parse_answer(struct cc_buf *raw, struct cli_answer *a)
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

/* One request/response exchange; on transport failure prints why. */
static int exchange(struct cli_client *c, const char *method, const char *path,
                    const char *payload, struct cc_buf *raw, struct cli_answer *a)
{
    struct url u;
    if (parse_url(c->server, &u)) {
        cli__error("use a URL like http://127.0.0.1:8470 (the CLI speaks plain HTTP; put a "
                   "TLS proxy's local side or an SSH tunnel in front of a remote daemon)",
                   "--server '%s' is not an http:// URL", c->server);
        return CLI_USAGE;
    }
    int64_t deadline = cc_wall_ms(cc_clock_system()) + c->timeout_s * 1000;
    struct cc_buf req;
    cc_buf_init(&req, 1u << 20);
    bool v6 = strchr(u.host, ':') != NULL;
    cc_buf_addf(&req, "%s %s%s HTTP/1.1\r\nHost: %s%s%s:%s\r\n"
                "User-Agent: commandcenter-cli/" CC_VERSION "\r\n"
                "Accept: application/json\r\nConnection: close\r\n",
                method, u.prefix, path, v6 ? "[" : "", u.host, v6 ? "]" : "", u.port);
    if (c->token)
        cc_buf_addf(&req, "Authorization: Bearer %s\r\n", c->token);
    if (payload)
        cc_buf_addf(&req, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
                    strlen(payload));
    cc_buf_addstr(&req, "\r\n");
    if (payload)
        cc_buf_addstr(&req, payload);
    const char *why = "timed out";
    int rc = CLI_FAIL;
    int fd = dial(&u, deadline, &why);
    if (fd < 0)
        goto unreachable;
    if (send_all(fd, cc_buf_str(&req), req.len, deadline) || recv_all(fd, raw, deadline)) {
        why = errno == 0 ? "the answer was too large" : strerror(errno);
        close(fd);
        goto unreachable;
    }
    close(fd);
    if (cli__parse_answer(raw, a)) {
        cli__error("check that --server points at a CommandCenter daemon",
                   "the answer from %s is not valid HTTP", c->server);
        goto out;
    }
    rc = CLI_OK;
    goto out;
unreachable:
    cli__error("is the daemon running? start it with 'commandcenter serve', or point "
               "--server / CC_SERVER at it",
               "cannot reach the daemon at %s: %s", c->server, why);
out:
    cc_buf_release(&req);
    return rc;
}

int cli__request(struct cli_client *c, const char *method, const char *path, json_t *body,
                 json_t **out)
{
    struct cc_buf raw;
    cc_buf_init(&raw, ANSWER_LIMIT);
    char *payload = body ? json_dumps(body, JSON_COMPACT) : NULL;
    struct cli_answer a = {0};
    c->last_status = 0;
    int rc = exchange(c, method, path, payload, &raw, &a);
    if (rc)
        goto out;
    c->last_status = a.status;
    rc = CLI_FAIL;
    if (a.status < 200 || a.status > 299) {
        if (a.status != c->quiet_status)
            report_http_error(c, a.status, a.body, a.len);
        goto out;
    }
    json_t *j = NULL;
    if (a.len) {
        json_error_t je;
        j = json_loadb(a.body, a.len, 0, &je);
        if (!j) {
            cli__error("check that --server points at a CommandCenter daemon",
                       "the server's answer is not JSON: %s", je.text);
            goto out;
        }
    }
    *out = j;
    rc = CLI_OK;
out:
    free(payload);
    cc_buf_release(&raw);
    return rc;
}
