#include "core/log.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/buf.h"

#define LINE_MAX_BYTES 16384

struct log_scope {
    const char *request_id;
    const char *trace_id;
    const char *span_id;
};

/* Thread-local by design: the unit of work owns the scope of its thread. */
static _Thread_local struct log_scope scope;

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

void cc_log_init(struct cc_log *l, int fd, enum cc_log_level level,
                 enum cc_log_format format, struct cc_clock *clock)
{
    l->fd = fd;
    l->level = (int)level;
    l->clock = clock ? clock : cc_clock_system();
    bool tty = isatty(fd) == 1;
    if (format == CC_LOG_AUTO)
        format = tty ? CC_LOG_TEXT : CC_LOG_JSON;
    l->format = format;
    l->color = tty && format == CC_LOG_TEXT;
}

cc_err cc_log_level_parse(const char *s, enum cc_log_level *out)
{
    for (int i = CC_LOG_DEBUG; i <= CC_LOG_OFF; i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (enum cc_log_level)i;
            return CC_OK;
        }
    }
    if (strcasecmp(s, "warning") == 0) {
        *out = CC_LOG_WARN;
        return CC_OK;
    }
    return CC_EINVAL;
}

cc_err cc_log_format_parse(const char *s, enum cc_log_format *out)
{
    static const char *const names[] = {"auto", "json", "text"};
    for (int i = 0; i < 3; i++) {
        if (strcasecmp(s, names[i]) == 0) {
            *out = (enum cc_log_format)i;
            return CC_OK;
        }
    }
    return CC_EINVAL;
}

const char *cc_log_level_str(enum cc_log_level l)
{
    if ((unsigned)l > CC_LOG_OFF)
        return "unknown";
    return level_names[l];
}

void cc_log_scope_set(const char *request_id, const char *trace_id, const char *span_id)
{
    scope.request_id = request_id;
    scope.trace_id = trace_id;
    scope.span_id = span_id;
}

bool cc_log_key_is_secret(const char *key)
{
    static const char *const words[] = {
        "token", "secret", "password", "passwd", "authorization", "cookie",
        "api_key", "apikey", "dsn", "credential", "private_key",
    };
    char lower[128];
    size_t n = 0;
    for (; key[n] && n + 1 < sizeof(lower); n++)
        lower[n] = (char)tolower((unsigned char)key[n]);
    lower[n] = '\0';
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strstr(lower, words[i]))
            return true;
    return false;
}

/* JSON string escaping; invalid UTF-8 bytes pass through unchanged because
 * the values we log come from our own code or are already validated. */
static void json_str(struct cc_buf *b, const char *s)
{
    cc_buf_addch(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': cc_buf_addstr(b, "\\\""); break;
        case '\\': cc_buf_addstr(b, "\\\\"); break;
        case '\n': cc_buf_addstr(b, "\\n"); break;
        case '\r': cc_buf_addstr(b, "\\r"); break;
        case '\t': cc_buf_addstr(b, "\\t"); break;
        default:
            if (*p < 0x20)
                cc_buf_addf(b, "\\u%04x", *p);
            else
                cc_buf_addch(b, (char)*p);
        }
    }
    cc_buf_addch(b, '"');
}

/* Text values are quoted only when they contain spaces or quotes. */
static void text_str(struct cc_buf *b, const char *s)
{
    bool plain = *s != '\0';
    for (const char *p = s; *p && plain; p++)
        if (isspace((unsigned char)*p) || *p == '"' || *p == '=')
            plain = false;
    if (plain)
        cc_buf_addstr(b, s);
    else
        json_str(b, s);
}

static void add_value(struct cc_buf *b, const struct cc_log_field *f, bool json)
{
    if (cc_log_key_is_secret(f->key)) {
        json ? json_str(b, "[REDACTED]") : cc_buf_addstr(b, "[REDACTED]");
        return;
    }
    switch (f->type) {
    case CC_LF_STR:
        if (!f->v.s)
            cc_buf_addstr(b, "null");
        else
            json ? json_str(b, f->v.s) : text_str(b, f->v.s);
        break;
    case CC_LF_INT:
        cc_buf_addf(b, "%lld", (long long)f->v.i);
        break;
    case CC_LF_DBL:
        if (isfinite(f->v.d))
            cc_buf_addf(b, "%.6g", f->v.d);
        else
            cc_buf_addstr(b, "null");
        break;
    case CC_LF_BOOL:
        cc_buf_addstr(b, f->v.b ? "true" : "false");
        break;
    default:
        cc_buf_addstr(b, "null");
    }
}

static void add_field(struct cc_buf *b, const char *key, const struct cc_log_field *f,
                      bool json)
{
    if (json) {
        cc_buf_addch(b, ',');
        json_str(b, key);
        cc_buf_addch(b, ':');
    } else {
        cc_buf_addf(b, " %s=", key);
    }
    add_value(b, f, json);
}

/* Room kept free at the end of a line for the closing of the object. */
#define LINE_RESERVE 256
#define MSG_MAX 2048   /* 6x after worst-case escaping still fits a line */

/* Formats the line without its terminator. Each field is appended whole or
 * not at all: a field that would reach into the reserve is rolled back and
 * the line marked truncated, so JSON output always stays well formed. */
static bool format_line(const struct cc_log *l, struct cc_buf *b, enum cc_log_level lvl,
                        const char *module, const char *msg,
                        const struct cc_log_field *fields)
{
    bool json = l->format == CC_LOG_JSON;
    char ts[32];
    char short_msg[MSG_MAX + 1];
    if (strlen(msg) > MSG_MAX) {
        memcpy(short_msg, msg, MSG_MAX);
        short_msg[MSG_MAX] = '\0';
        msg = short_msg;
    }
    cc_time_rfc3339(cc_wall_ms(l->clock), ts, sizeof(ts));
    if (json) {
        cc_buf_addf(b, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", ts, level_names[lvl]);
        json_str(b, msg);
        cc_buf_addstr(b, ",\"module\":");
        json_str(b, module ? module : "main");
    } else {
        static const char *const colors[] = {"\x1b[2m", "\x1b[32m", "\x1b[33m", "\x1b[31m"};
        char upper[8];
        snprintf(upper, sizeof(upper), "%-5s", level_names[lvl]);
        for (char *p = upper; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        if (l->color)
            cc_buf_addf(b, "%s %s%s\x1b[0m %s: %s", ts, colors[lvl], upper,
                        module ? module : "main", msg);
        else
            cc_buf_addf(b, "%s %s %s: %s", ts, upper, module ? module : "main", msg);
    }
    const struct { const char *key; const char *val; } ids[] = {
        {"request_id", scope.request_id},
        {"trace_id", scope.trace_id},
        {"span_id", scope.span_id},
    };
    for (size_t i = 0; i < 3; i++) {
        if (!ids[i].val)
            continue;
        struct cc_log_field f = CC_LS(ids[i].key, ids[i].val);
        add_field(b, ids[i].key, &f, json);
    }
    for (const struct cc_log_field *f = fields; f && f->key; f++) {
        size_t mark = b->len;
        add_field(b, f->key, f, json);
        if (b->len + LINE_RESERVE >= b->limit) {
            b->len = mark;
            b->ptr[mark] = '\0';
            return true;
        }
    }
    return false;
}

void cc_log_emit(struct cc_log *l, enum cc_log_level lvl, const char *module,
                 const char *msg, const struct cc_log_field *fields)
{
    if (!cc_log_enabled(l, lvl) || lvl >= CC_LOG_OFF)
        return;
    /* A stack buffer posing as a cc_buf: limit < cap, so it never reallocs. */
    char stack[LINE_MAX_BYTES];
    struct cc_buf b = {.ptr = stack, .len = 0, .cap = sizeof(stack),
                       .limit = sizeof(stack) - 1};
    stack[0] = '\0';
    bool json = l->format == CC_LOG_JSON;
    if (format_line(l, &b, lvl, module, msg ? msg : "", fields))
        cc_buf_addstr(&b, json ? ",\"truncated\":true" : " truncated=true");
    if (json)
        cc_buf_addch(&b, '}');
    cc_buf_addch(&b, '\n');
    const char *p = b.ptr;
    size_t left = b.len;
    while (left > 0) {
        ssize_t n = write(l->fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;   /* nowhere left to report a failing log */
        }
        p += n;
        left -= (size_t)n;
    }
}
