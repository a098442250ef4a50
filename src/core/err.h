/*
 * err.h - the one error type of CommandCenter.
 *
 * Every fallible function returns cc_err; CC_OK is zero so `if (err)` reads
 * naturally. Results travel through trailing out-parameters that are written
 * only on success. The list is an X-macro (libuv's UV_ERRNO_MAP) so the enum,
 * the names and the messages can never drift apart. HTTP status codes are
 * derived from cc_err in exactly one place: http_status_for() in http/reply.c.
 */
#ifndef CC_CORE_ERR_H
#define CC_CORE_ERR_H

#define CC_ERR_MAP(X)                                                     \
    X(OK,        "ok")                                                    \
    X(ENOMEM,    "out of memory")                                         \
    X(EINVAL,    "invalid argument")                                      \
    X(EIO,       "input/output error")                                    \
    X(ETIMEOUT,  "timed out")                                             \
    X(ENOTFOUND, "not found")                                             \
    X(ECONFLICT, "conflict")                                              \
    X(EPARSE,    "parse error")                                           \
    X(ELIMIT,    "limit exceeded")                                        \
    X(EUPSTREAM, "upstream dependency failed")                            \
    X(EAGAIN,    "temporarily unavailable, try again")                    \
    X(EAUTH,     "authentication required")                               \
    X(EPERM,     "permission denied")                                     \
    X(EUNSUPPORTED, "not supported")                                      \
    X(ESTATE,    "operation not allowed in the current state")          \
    X(EMETHOD,   "method not allowed")

typedef enum {
#define CC_ERR_ENUM(name, msg) CC_##name,
    CC_ERR_MAP(CC_ERR_ENUM)
#undef CC_ERR_ENUM
    CC_ERR__COUNT
} cc_err;

/* Short human message ("timed out"); never NULL, "unknown error" if out of range. */
const char *cc_err_str(cc_err e);
/* Stable machine name ("ETIMEOUT"); used as the `code` of API errors. */
const char *cc_err_name(cc_err e);

#endif
