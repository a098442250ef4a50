/*
 * client.c - the CLI's HTTP client and its output helpers.
 * Answers are capped at 64 MiB; a larger one is an error, not a crash.
 */
#include <errno.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/httpc.h"

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

/* The API's hints name routes; a person at the CLI wants the command. */
static const struct {
    const char *route;         /* a hint naming this ... */
    const char *command;       /* ... is replaced by this */
} cli_hints[] = {
    {"GET /api/v1/sources", "list sources with 'commandcenter sources list'"},
    {"GET /api/v1/tokens", "list tokens with 'commandcenter tokens list'"},
    {"GET /api/v1/jobs", "see the queue with 'commandcenter jobs --state queued'"},
    {"GET /api/v1/projects/{id}/ps", "list its services with 'commandcenter ps PROJECT'"},
    {"GET /api/v1/projects", "list projects with 'commandcenter projects'"},
    {"GET /api/v1/knowledge/search", "search with 'commandcenter search QUERY'"},
    {"POST /api/v1/sources/{id}/resume", "resume it with 'commandcenter sources resume NAME'"},
    {"GET /api/v1/projects/{id}/health", "wait with 'commandcenter up PROJECT --wait'"},
};

static const char *cli_hint(const char *hint)
{
    for (size_t i = 0; hint && i < sizeof(cli_hints) / sizeof(cli_hints[0]); i++)
        if (strstr(hint, cli_hints[i].route))
            return cli_hints[i].command;
    return hint;
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
    if (c->json) {
        /* --json: scripts read the error as JSON too, with the API's code
         * and the HTTP status, on stderr (stdout stays for answers). */
        json_t *out = json_pack("{s:{s:s, s:s, s:s?, s:I}}", "error", "code",
                                json_string_value(json_object_get(e, "code"))
                                    ? json_string_value(json_object_get(e, "code")) : "EIO",
                                "message", msg ? msg : "(no message)", "hint", hint,
                                "status", (json_int_t)status);
        char *text = out ? json_dumps(out, JSON_COMPACT) : NULL;
        if (text)
            fprintf(stderr, "%s\n", text);
        free(text);
        json_decref(out);
    } else {
        cli__error(cli_hint(hint), "the server answered %ld: %s", status,
                   msg ? msg : "(no message)");
    }
    json_decref(j);
    return CLI_FAIL;
}

/* One request/response exchange; on transport failure prints why. */
static int exchange(struct cli_client *c, const char *method, const char *path,
                    const char *payload, struct cc_buf *raw, struct cc_http_answer *a)
{
    struct cc_buf url;
    cc_buf_init(&url, 1u << 20);
    cc_buf_addstr(&url, c->server);
    while (url.len > 7 && url.ptr[url.len - 1] == '/')
        url.ptr[--url.len] = '\0';
    cc_buf_addstr(&url, path);
    char auth[TOKEN_FILE_LIMIT + 32];
    const char *headers[5] = {"User-Agent: commandcenter-cli/" CC_VERSION,
                              "Accept: application/json"};
    size_t nh = 2;
    if (c->token) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
        headers[nh++] = auth;
    }
    if (payload)
        headers[nh++] = "Content-Type: application/json";
    struct cc_http_req req = {.method = method, .url = cc_buf_str(&url), .headers = headers,
                              .body = payload, .body_len = payload ? strlen(payload) : 0,
                              .timeout_ms = c->timeout_s * 1000};
    char why[256];
    int rc = CLI_FAIL;
    cc_err e = cc_http_request(&req, raw, a, why, sizeof(why));
    if (e == CC_EINVAL) {
        cli__error("use a URL like http://127.0.0.1:8470 (the CLI speaks plain HTTP; put a "
                   "TLS proxy's local side or an SSH tunnel in front of a remote daemon)",
                   "--server '%s' is not an http:// URL", c->server);
        rc = CLI_USAGE;
    } else if (e == CC_EPARSE) {
        cli__error("check that --server points at a CommandCenter daemon",
                   "the answer from %s is not valid HTTP", c->server);
    } else if (e) {
        cli__error("is the daemon running? start it with 'commandcenter serve', or point "
                   "--server / CC_SERVER at it",
                   "cannot reach the daemon at %s: %s", c->server, why);
    } else {
        rc = CLI_OK;
    }
    cc_buf_release(&url);
    return rc;
}

/* Streaming: an error answer is collected (bounded) and reported like
 * cli__request does; a 2xx body goes to the caller's callback. */
struct stream_state {
    struct cli_client *c;
    long status;
    struct cc_buf err;
    bool (*on_body)(void *arg, const char *p, size_t n);
    void *arg;
};

static bool stream_head(void *arg, long status, const char *headers, size_t len)
{
    struct stream_state *ss = arg;
    ss->status = status;
    ss->c->last_status = status;
    return true;
}

static bool stream_body(void *arg, const char *p, size_t n)
{
    struct stream_state *ss = arg;
    if (ss->status < 200 || ss->status > 299) {
        cc_buf_add(&ss->err, p, n);   /* bounded: the rest is dropped */
        return true;
    }
    return ss->on_body(ss->arg, p, n);
}

int cli__stream(struct cli_client *c, const char *path, const char *accept,
                bool (*on_body)(void *arg, const char *p, size_t n), void *arg)
{
    struct cc_buf url;
    cc_buf_init(&url, 1u << 20);
    cc_buf_addstr(&url, c->server);
    while (url.len > 7 && url.ptr[url.len - 1] == '/')
        url.ptr[--url.len] = '\0';
    cc_buf_addstr(&url, path);
    char auth[TOKEN_FILE_LIMIT + 32], acc[128];
    snprintf(acc, sizeof(acc), "Accept: %s", accept);
    const char *headers[4] = {"User-Agent: commandcenter-cli/" CC_VERSION, acc};
    size_t nh = 2;
    if (c->token) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
        headers[nh++] = auth;
    }
    struct cc_http_req req = {.method = "GET", .url = cc_buf_str(&url), .headers = headers,
                              .timeout_ms = c->timeout_s * 1000};
    struct stream_state ss = {.c = c, .on_body = on_body, .arg = arg};
    cc_buf_init(&ss.err, 64 * 1024);
    struct cc_http_sink sink = {.head = stream_head, .body = stream_body, .arg = &ss};
    char why[256] = "";
    int rc = CLI_OK;
    c->last_status = 0;
    cc_err e = cc_http_stream(&req, &sink, NULL, why, sizeof(why));
    if (e == CC_EINVAL) {
        cli__error("use a URL like http://127.0.0.1:8470", "--server '%s' is not an http:// URL",
                   c->server);
        rc = CLI_USAGE;
    } else if (e && ss.status == 0) {
        cli__error("is the daemon running? start it with 'commandcenter serve', or point "
                   "--server / CC_SERVER at it",
                   "cannot reach the daemon at %s: %s", c->server, why);
        rc = CLI_FAIL;
    } else if (ss.status < 200 || ss.status > 299) {
        rc = report_http_error(c, ss.status, ss.err.ptr ? ss.err.ptr : "", ss.err.len);
    } else if (e) {
        cli__error("the daemon may have stopped; run the command again",
                   "the stream from %s broke off: %s", c->server, why);
        rc = CLI_FAIL;
    }
    cc_buf_release(&ss.err);
    cc_buf_release(&url);
    return rc;
}

#define RETRY_MAX 5
#define RETRY_WAIT_MAX_S 60

int cli__request(struct cli_client *c, const char *method, const char *path, json_t *body,
                 json_t **out)
{
    struct cc_buf raw;
    cc_buf_init(&raw, ANSWER_LIMIT);
    char *payload = body ? json_dumps(body, JSON_COMPACT) : NULL;
    struct cc_http_answer a = {0};
    c->last_status = 0;
    int rc;
    /* 429 (refused before any work) is retried for any method, 503 for
     * reads only, after the server's Retry-After: at most RETRY_MAX times
     * and RETRY_WAIT_MAX_S seconds in all, so a script never hangs. */
    for (int tries = 0, waited = 0;; tries++) {
        cc_buf_reset(&raw);
        a = (struct cc_http_answer){0};
        rc = exchange(c, method, path, payload, &raw, &a);
        if (rc)
            goto out;
        bool again = a.status == 429 || (a.status == 503 && strcmp(method, "GET") == 0);
        char ra[32];
        long secs = again && cc_http_header(a.headers, a.headers_len, "Retry-After", ra,
                                            sizeof(ra))
                        ? strtol(ra, NULL, 10) : 1;
        if (secs < 1)
            secs = 1;
        if (!again || a.status == c->quiet_status || tries >= RETRY_MAX ||
            waited + secs > RETRY_WAIT_MAX_S)
            break;
        sleep((unsigned)secs);
        waited += (int)secs;
    }
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
