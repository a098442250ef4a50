/*
 * log.h - structured logging.
 *
 * One line per event, written with a single write(2) so lines from several
 * threads never interleave. Two formats: JSON lines
 *   {"ts":"2026-11-22T00:19:20.123Z","level":"info","msg":"...","module":"http",
 *    "request_id":"...", ...fields}
 * and a readable text form for terminals
 *   2026-11-22T00:19:20.123Z INFO  http: request served method=GET status=200
 * Format "auto" picks text when the fd is a TTY, JSON otherwise.
 *
 * Field values whose key names a secret (token, secret, password, passwd,
 * authorization, cookie, api_key, apikey, dsn, credential, private_key; any
 * case, as a substring of the key) are written as "[REDACTED]".
 *
 * request_id, trace_id and span_id come from a thread-local log scope set by
 * whoever owns the unit of work (the HTTP layer for a request, the worker
 * for a job) and are added to every line logged on that thread meanwhile.
 * A line longer than 16 KiB loses its trailing fields and is marked
 * "truncated":true; a msg longer than 2 KiB is cut.
 */
#ifndef CC_CORE_LOG_H
#define CC_CORE_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/err.h"

enum cc_log_level { CC_LOG_DEBUG, CC_LOG_INFO, CC_LOG_WARN, CC_LOG_ERROR, CC_LOG_OFF };
enum cc_log_format { CC_LOG_AUTO, CC_LOG_JSON, CC_LOG_TEXT };

struct cc_log {
    int fd;
    int level;               /* enum cc_log_level; read without locking */
    enum cc_log_format format; /* resolved: JSON or TEXT, never AUTO */
    bool color;              /* text format on a TTY */
    struct cc_clock *clock;
};

enum cc_log_ftype { CC_LF_NONE = 0, CC_LF_STR, CC_LF_INT, CC_LF_DBL, CC_LF_BOOL };

struct cc_log_field {
    const char *key;         /* NULL terminates a field list */
    enum cc_log_ftype type;
    union {
        const char *s;
        int64_t i;
        double d;
        bool b;
    } v;
};

#define CC_LS(k, val) ((struct cc_log_field){.key = (k), .type = CC_LF_STR, .v.s = (val)})
#define CC_LI(k, val) ((struct cc_log_field){.key = (k), .type = CC_LF_INT, .v.i = (int64_t)(val)})
#define CC_LD(k, val) ((struct cc_log_field){.key = (k), .type = CC_LF_DBL, .v.d = (double)(val)})
#define CC_LB(k, val) ((struct cc_log_field){.key = (k), .type = CC_LF_BOOL, .v.b = (val)})
#define CC_LOG_FIELDS(...) ((const struct cc_log_field[]){__VA_ARGS__ __VA_OPT__(,) {0}})

/* fd is borrowed (not closed). format AUTO resolves with isatty(fd). */
void cc_log_init(struct cc_log *l, int fd, enum cc_log_level level,
                 enum cc_log_format format, struct cc_clock *clock);

cc_err cc_log_level_parse(const char *s, enum cc_log_level *out);
cc_err cc_log_format_parse(const char *s, enum cc_log_format *out);
const char *cc_log_level_str(enum cc_log_level l);

static inline bool cc_log_enabled(const struct cc_log *l, enum cc_log_level lvl)
{
    return l && (int)lvl >= __atomic_load_n(&l->level, __ATOMIC_RELAXED);
}

/* `fields` is a {0}-terminated array (see CC_LOG_FIELDS); may be NULL. */
void cc_log_emit(struct cc_log *l, enum cc_log_level lvl, const char *module,
                 const char *msg, const struct cc_log_field *fields);

#define cc_log_debug(l, mod, msg, ...) \
    cc_log_emit((l), CC_LOG_DEBUG, (mod), (msg), CC_LOG_FIELDS(__VA_ARGS__))
#define cc_log_info(l, mod, msg, ...) \
    cc_log_emit((l), CC_LOG_INFO, (mod), (msg), CC_LOG_FIELDS(__VA_ARGS__))
#define cc_log_warn(l, mod, msg, ...) \
    cc_log_emit((l), CC_LOG_WARN, (mod), (msg), CC_LOG_FIELDS(__VA_ARGS__))
#define cc_log_error(l, mod, msg, ...) \
    cc_log_emit((l), CC_LOG_ERROR, (mod), (msg), CC_LOG_FIELDS(__VA_ARGS__))

/* Thread-local scope: the strings are borrowed and must outlive the scope.
 * Pass NULL to clear. */
void cc_log_scope_set(const char *request_id, const char *trace_id, const char *span_id);

/* True if a key names a secret (the redaction rule above). */
bool cc_log_key_is_secret(const char *key);

#endif
