#include "core/diag.h"

#include <stdarg.h>
#include <stdio.h>

#include "core/buf.h"

void cc_diag_set(struct cc_diag *d, const char *file, unsigned line, unsigned col,
                 const char *fmt, ...)
{
    if (!d)
        return;
    cc_strlcpy(d->file, file ? file : "", sizeof(d->file));
    d->line = line;
    d->col = col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
    va_end(ap);
}

void cc_diag_format(const struct cc_diag *d, char *out, size_t outsz)
{
    if (!d->file[0])
        snprintf(out, outsz, "%s", d->msg);
    else if (!d->line)
        snprintf(out, outsz, "%s: %s", d->file, d->msg);
    else if (!d->col)
        snprintf(out, outsz, "%s:%u: %s", d->file, d->line, d->msg);
    else
        snprintf(out, outsz, "%s:%u:%u: %s", d->file, d->line, d->col, d->msg);
}
