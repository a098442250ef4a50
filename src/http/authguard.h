/*
 * authguard.h - throttling of password guessing.
 *
 * Failed authentications (a token presented and not valid) are counted per
 * client address in a token bucket stricter than the request rate
 * (auth.failure_burst at once, auth.failure_rate per second earned back).
 * Once an address has spent its bucket it is blocked: every request of it
 * that presents a token gets 429 with Retry-After - also one with a right
 * token, as fail2ban and Vault's lockout do, so that a guess that happens
 * to be right during a block tells the guesser nothing. A request without
 * any token is not a guess and is not counted or blocked (it gets 401).
 *
 * Failures are counted in cc_http_auth_failures_total{result} (result is
 * "rejected" for a 401, "blocked" for a 429) and logged at most once per
 * LOG_EVERY_MS with how many happened since the last line, so a flood
 * cannot flood the log. server.c only.
 */
#ifndef CC_HTTP_AUTHGUARD_H
#define CC_HTTP_AUTHGUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "core/ctx.h"
#include "core/err.h"

struct http_authguard;

/* rate <= 0 turns blocking off (failures are still counted and logged).
 * clients bounds the addresses tracked (least recently seen forgotten). */
cc_err http__authguard_new(struct cc_ctx *ctx, double rate, unsigned burst, unsigned clients,
                           struct http_authguard **out);
void http__authguard_free(struct http_authguard *g);

/* Whether addr is blocked now; if so *retry_after_s (>= 1) says for how
 * long, and the request is counted as blocked. */
bool http__authguard_blocked(struct http_authguard *g, const char *addr,
                             int64_t *retry_after_s);
/* Records a failed authentication of addr. true when this failure went
 * over the limit (answer 429 with *retry_after_s), false for a 401. */
bool http__authguard_failed(struct http_authguard *g, const char *addr,
                            int64_t *retry_after_s);

#endif
