/*
 * fuzz_alerts.c - api_alerts_parse (Alertmanager's webhook payload) on
 * arbitrary bytes. Besides crashes it checks what the store would refuse:
 * every record it accepts passes the store's own checks (store_valid.c),
 * so a payload the parser takes is never half stored.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/alerts.h"
#include "core/arena.h"
#include "store/store_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cc_arena arena;
    cc_arena_init(&arena, 4096, 64u << 20);
    struct store_alert *v = NULL;
    size_t n = 0;
    char why[256];
    if (api_alerts_parse((const char *)data, size, 1700000000000, &arena, &v, &n, why,
                         sizeof(why)) == CC_OK) {
        for (size_t i = 0; i < n; i++)
            if (!store__alert_valid(&v[i]))
                abort();
    } else if (!why[0]) {
        abort();   /* a refusal always says why */
    }
    cc_arena_release(&arena);
    return 0;
}
