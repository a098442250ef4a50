/*
 * ctx.h - what every module is handed instead of reaching for globals.
 *
 * The daemon builds one cc_ctx at start (src/daemon/daemon.c) and passes a
 * pointer down; modules borrow every member and never free them. The
 * members are set before any thread starts and never change afterwards, so
 * reading them needs no lock.
 */
#ifndef CC_CORE_CTX_H
#define CC_CORE_CTX_H

#include <stdint.h>

struct cc_log;
struct cc_clock;
struct cc_config;
struct obs_registry;
struct store;

struct cc_ctx {
    struct cc_log *log;
    struct cc_clock *clock;
    const struct cc_config *cfg;
    struct obs_registry *metrics;
    struct store *store;
    int64_t started_ms;          /* wall time the daemon started */
};

#endif
