/*
 * diag.h - diagnostics for parsers of user input.
 *
 * A parser that can fail on user input takes an optional `struct cc_diag *`
 * and, on error, fills it with where (file:line:col, 1-based; 0 = unknown)
 * and what, in words a user can act on. cc_diag_format renders
 * "file:line:col: message" (parts that are unknown are left out).
 */
#ifndef CC_CORE_DIAG_H
#define CC_CORE_DIAG_H

#include <stddef.h>

struct cc_diag {
    char file[256];
    unsigned line;
    unsigned col;
    char msg[512];
};

/* NULL-safe: does nothing when d is NULL. */
void cc_diag_set(struct cc_diag *d, const char *file, unsigned line, unsigned col,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void cc_diag_format(const struct cc_diag *d, char *out, size_t outsz);

#endif
