/*
 * reply.c - request accessors and response builders shared by handlers,
 * and the single mapping from cc_err to an HTTP status.
 */
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/utf8.h"
#include "http/server.h"

/* No default: a cc_err added without a status here fails to compile
 * (-Wswitch), and a number that is no cc_err (a status passed by mistake)
 * falls out of the switch as 500. */
int http_status_for(cc_err err)
{
    switch (err) {
    case CC_OK: return 200;
    case CC_EINVAL:
    case CC_EPARSE: return 400;
    case CC_EAUTH: return 401;
    case CC_EPERM: return 403;
    case CC_ENOTFOUND: return 404;
    case CC_EMETHOD: return 405;
    case CC_ECONFLICT:
    case CC_ESTATE: return 409;
    case CC_ELIMIT: return 413;
    case CC_EUNSUPPORTED: return 501;
    case CC_EAGAIN:
    case CC_EUPSTREAM: return 503;
    case CC_ETIMEOUT: return 504;
    case CC_ENOMEM:
    case CC_EIO:
    case CC_ERR__COUNT: return 500;
    }
    return 500;
}

const char *http_req_header(const struct http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_req_param(const struct http_req *r, const char *name)
{
    for (size_t i = 0; i < r->nparams; i++)
        if (strcmp(r->params[i].name, name) == 0)
            return r->params[i].value;
    return NULL;
}

const char *http_req_query(const struct http_req *r, const char *name)
{
    for (size_t i = 0; i < r->nquery; i++)
        if (strcmp(r->query[i].name, name) == 0)
            return r->query[i].value;
    return NULL;
}

static bool is_json_type(const char *ct)
{
    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    size_t n = strlen("application/json");
    return strncasecmp(ct, "application/json", n) == 0 && (ct[n] == '\0' || ct[n] == ';' ||
                                                          ct[n] == ' ');
}

cc_err http_req_json(struct http_req *r, struct http_resp *resp, json_t **out)
{
    if (!is_json_type(http_req_header(r, "Content-Type"))) {
        http_resp_unsupported_media(resp, "the request body must be JSON",
                                    "send 'Content-Type: application/json'");
        return CC_EINVAL;
    }
    if (!r->body || r->body_len == 0) {
        http_resp_err(resp, CC_EINVAL, "the request body is empty", "send a JSON object");
        return CC_EINVAL;
    }
    json_error_t je;
    json_t *j = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        char msg[300];
        snprintf(msg, sizeof(msg), "malformed JSON at line %d, column %d: %s", je.line,
                 je.column, je.text);
        http_resp_err(resp, CC_EPARSE, msg, "send a valid JSON object");
        return CC_EINVAL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        http_resp_err(resp, CC_EINVAL, "the request body must be a JSON object", NULL);
        return CC_EINVAL;
    }
    *out = j;
    return CC_OK;
}

static size_t utf8_seq_len(unsigned char lead)
{
    return lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xe ? 3
                                                 : (lead >> 3) == 0x1e ? 4 : 0;
}

json_t *http_json_strn(const char *s, size_t len)
{
    if (!s)
        return json_null();
    if (cc_utf8_valid(s, len))
        return json_stringn(s, len);
    /* Each byte that does not start a valid sequence becomes U+FFFD, as a
     * browser decodes it; 3 bytes out for 1 in at most. */
    struct cc_buf b;
    cc_buf_init(&b, len * 3 + 1);
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq_len((unsigned char)s[i]);
        if (n && i + n <= len && cc_utf8_valid(s + i, n)) {
            cc_buf_add(&b, s + i, n);
            i += n;
        } else {
            cc_buf_add(&b, "\xef\xbf\xbd", 3);
            i++;
        }
    }
    json_t *j = json_stringn(b.ptr ? b.ptr : "", b.len);
    cc_buf_release(&b);
    return j;
}

json_t *http_json_str(const char *s)
{
    return http_json_strn(s, s ? strlen(s) : 0);
}

static int dump_cb(const char *buf, size_t size, void *data)
{
    return cc_buf_add(data, buf, size) == CC_OK ? 0 : -1;
}

void http_resp_json(struct http_resp *r, int status, json_t *j)
{
    cc_buf_reset(&r->body);
    r->status = status;
    r->content_type = "application/json";
    if (!j) {
        /* json_pack refused a value (text that is not UTF-8 is the usual
         * cause): our bug, not the client's, and not a size problem. */
        http_resp_err(r, CC_EIO, "the answer could not be built",
                      "report this: a value in it could not be written as JSON");
        return;
    }
    if (json_dump_callback(j, dump_cb, &r->body, JSON_COMPACT | JSON_ENSURE_ASCII) != 0) {
        json_decref(j);
        /* Our own buffer's cap, not the client's fault: a 500. */
        http_resp_err(r, CC_ENOMEM, "the response is too large to build", NULL);
        return;
    }
    cc_buf_addch(&r->body, '\n');
    json_decref(j);
}

/* The only writer of error bodies; static so that no caller can pick a
 * status by number (tests/unit/http/test_reply.c keeps it that way). */
static void error_body(struct http_resp *r, int status, cc_err err, const char *message,
                       const char *hint)
{
    const char *code = cc_err_name(err);
    /* message and hint may quote what the client sent: never let their
     * bytes make the answer fail. */
    json_t *e = json_pack("{s:s, s:o}", "code", code,
                          "message", http_json_str(message ? message : cc_err_str(err)));
    if (e && hint)
        json_object_set_new(e, "hint", http_json_str(hint));
    json_t *j = e ? json_pack("{s:o}", "error", e) : NULL;
    cc_buf_reset(&r->body);
    r->status = status;
    r->content_type = "application/json";
    if (!j || json_dump_callback(j, dump_cb, &r->body, JSON_COMPACT | JSON_ENSURE_ASCII)) {
        cc_buf_reset(&r->body);
        cc_buf_addstr(&r->body, "{\"error\":{\"code\":\"EIO\",\"message\":\"error\"}}");
    }
    cc_buf_addch(&r->body, '\n');
    json_decref(j);
}

void http_resp_err(struct http_resp *r, cc_err err, const char *message, const char *hint)
{
    int status = http_status_for(err);
    if (status == 503)
        http_resp_header(r, "Retry-After", "5");
    error_body(r, status, err, message, hint);
}

void http_resp_unsupported_media(struct http_resp *r, const char *message, const char *hint)
{
    error_body(r, 415, CC_EUNSUPPORTED, message, hint);
}

void http_resp_too_many(struct http_resp *r, int64_t retry_after_s, const char *message,
                        const char *hint)
{
    snprintf(r->retry_after, sizeof(r->retry_after), "%lld",
             (long long)(retry_after_s > 1 ? retry_after_s : 1));
    http_resp_header(r, "Retry-After", r->retry_after);
    error_body(r, 429, CC_ELIMIT, message, hint);
}

void http_resp_header(struct http_resp *r, const char *name, const char *value)
{
    if (r->nheaders >= HTTP_MAX_RESP_HEADERS)
        return;   /* a programming error; the fixed array is sized for our own use */
    r->headers[r->nheaders].name = name;
    r->headers[r->nheaders].value = value;
    r->nheaders++;
}
