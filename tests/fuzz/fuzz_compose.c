/*
 * fuzz_compose.c - the Compose parser, its JSON normalization and lint on
 * arbitrary bytes, with a fixed environment and no file access; then each
 * service's x-commandcenter and healthcheck through the probe settings.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/config.h"
#include "orchestrator/compose.h"
#include "orchestrator/probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char *const env[] = {"TAG=1.0", "EMPTY=", "HOME=/home/f", NULL};
    struct orch_compose_opts o = {.file = "fuzz.yml", .envp = env, .default_name = "fuzz"};
    struct orch_stack *s = NULL;
    struct cc_diag d;
    if (orch_compose_parse((const char *)data, size, &o, &s, &d) == CC_OK) {
        json_t *j = NULL, *l = NULL;
        if (orch_compose_json(s, &j) == CC_OK) {
            char *txt = json_dumps(j, JSON_SORT_KEYS);
            free(txt);
        }
        if (orch_lint(s, &l) == CC_OK)
            json_decref(l);
        struct cc_config c;
        cc_config_init(&c);
        for (size_t i = 0; i < s->nservices; i++) {
            struct orch_svc_opts so;
            char err[512];
            if (orch__svc_opts(&s->services[i], &c, &so, err, sizeof(err)) == CC_OK)
                orch__svc_opts_release(&so);
        }
        cc_config_release(&c);
        json_decref(j);
        orch_stack_free(s);
    }
    return 0;
}
