/*
 * driver.c - what every driver shares.
 */
#include "orchestrator/driver.h"

#include <stdarg.h>
#include <stdio.h>

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
