/*
 * alerts.h - Alertmanager's webhook payload (version 4) as store records.
 *
 * The parser is separate from the handlers so the fuzz target
 * (tests/fuzz/fuzz_alerts.c) and the unit tests drive exactly what
 * POST /api/v1/alerts runs. Every string it returns lives in the arena it
 * is given; nothing else is allocated.
 *
 * What is accepted (docs/OBSERVABILITY.md, "The alerts API"): a JSON object
 * with "version": "4" and "alerts", an array of at most API_ALERTS_MAX
 * objects, each with a status (firing|resolved), labels (an object of
 * strings with a non-empty alertname), optional annotations (an object of
 * strings), startsAt (RFC 3339), endsAt (RFC 3339; Alertmanager's
 * "0001-01-01T00:00:00Z" means not ended), an optional generatorURL and a
 * fingerprint ([A-Za-z0-9]{1,64}). Anything else refuses the whole payload
 * with a message naming the first fault, so a bad sender is noticed rather
 * than half stored.
 */
#ifndef CC_API_ALERTS_H
#define CC_API_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"
#include "store/store.h"

#define API_ALERTS_MAX 1000   /* alerts per notification */

/* Parses body[0..len). On success *out gets n records (created_ms and
 * updated_ms set to now_ms; a firing alert's ends_ms is 0, a resolved one
 * without endsAt ends at now_ms) in arena memory. On CC_EINVAL (bad input)
 * or CC_ELIMIT (the arena is full) `why` gets a message for the client;
 * *out and *out_n are left alone. */
cc_err api_alerts_parse(const char *body, size_t len, int64_t now_ms, struct cc_arena *arena,
                        struct store_alert **out, size_t *out_n, char *why, size_t whysz);

#endif
