/*
 * client.c - the CLI's HTTP client (libcurl) and its output helpers.
 * Answers are capped at 64 MiB; a larger one is an error, not a crash.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"

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
    if (strncmp(c->server, "http://", 7) != 0 && strncmp(c->server, "https://", 8) != 0) {
        cli__error("use a URL like http://127.0.0.1:8470", "--server '%s' is not an http(s) URL",
                   c->server);
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
    return CLI_OK;
}

void cli__client_release(struct cli_client *c)
{
    free(c->token);
    c->token = NULL;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct cc_buf *b = arg;
    return cc_buf_add(b, ptr, size * nmemb) == CC_OK ? size * nmemb : 0;
}

static int report_http_error(struct cli_client *c, long status, const struct cc_buf *body)
{
    json_t *j = json_loadb(cc_buf_str(body), body->len, 0, NULL);
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

int cli__request(struct cli_client *c, const char *method, const char *path, json_t *body,
                 json_t **out)
{
    int rc = CLI_FAIL;
    struct cc_buf answer, url, auth;
    cc_buf_init(&answer, ANSWER_LIMIT);
    cc_buf_init(&url, 8192);
    cc_buf_init(&auth, TOKEN_FILE_LIMIT + 64);
    char *payload = body ? json_dumps(body, JSON_COMPACT) : NULL;
    struct curl_slist *hdrs = NULL;
    CURL *h = curl_easy_init();
    if (!h)
        goto out;
    size_t slen = strlen(c->server);
    cc_buf_add(&url, c->server, slen && c->server[slen - 1] == '/' ? slen - 1 : slen);
    cc_buf_addstr(&url, path);
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    if (c->token) {
        cc_buf_addf(&auth, "Authorization: Bearer %s", c->token);
        hdrs = curl_slist_append(hdrs, cc_buf_str(&auth));
    }
    if (payload) {
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
    }
    curl_easy_setopt(h, CURLOPT_URL, cc_buf_str(&url));
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, c->timeout_s);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "commandcenter-cli/" CC_VERSION);
    CURLcode cr = curl_easy_perform(h);
    if (cr != CURLE_OK) {
        cli__error("is the daemon running? start it with 'commandcenter serve', or point "
                   "--server / CC_SERVER at it",
                   "cannot reach the daemon at %s: %s", c->server, curl_easy_strerror(cr));
        goto out;
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        rc = report_http_error(c, status, &answer);
        goto out;
    }
    json_t *j = NULL;
    if (answer.len) {
        json_error_t je;
        j = json_loadb(cc_buf_str(&answer), answer.len, 0, &je);
        if (!j) {
            cli__error("check that --server points at a CommandCenter daemon",
                       "the server's answer is not JSON: %s", je.text);
            goto out;
        }
    }
    *out = j;
    rc = CLI_OK;
out:
    curl_slist_free_all(hdrs);
    if (h)
        curl_easy_cleanup(h);
    free(payload);
    cc_buf_release(&answer);
    cc_buf_release(&url);
    cc_buf_release(&auth);
    return rc;
}
