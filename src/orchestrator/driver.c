/*
 * driver.c - what every driver shares, and the registry of drivers.
 */
#include "orchestrator/driver.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const struct orch_driver_ops *const orch_drivers[] = {
    &orch_docker_ops,
    &orch_process_ops,
    NULL,
};

const struct orch_driver_ops *orch_driver_find(const struct orch_driver_ops *const *reg,
                                               const char *name)
{
    for (size_t i = 0; reg && name && reg[i]; i++)
        if (strcmp(reg[i]->name, name) == 0)
            return reg[i];
    return NULL;
}

cc_err orch_errf(struct orch_err *e, cc_err code, const char *hint, const char *fmt, ...)
{
    if (!e)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    snprintf(e->hint, sizeof(e->hint), "%s", hint ? hint : "");
    return code;
}

void orch_exec_keep_tail(struct orch_exec_result *r, const char *p, size_t n)
{
    const size_t cap = ORCH_EXEC_OUTPUT_MAX - 1;
    if (n >= cap) {
        memcpy(r->output, p + n - cap, cap);
        r->len = cap;
    } else {
        if (r->len + n > cap) {
            size_t drop = r->len + n - cap;
            memmove(r->output, r->output + drop, r->len - drop);
            r->len -= drop;
        }
        memcpy(r->output + r->len, p, n);
        r->len += n;
    }
    r->output[r->len] = '\0';
}
