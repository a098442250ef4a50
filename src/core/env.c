/*
 * env.c - allowlisted child environments (env.h).
 */
#include "core/env.h"

#include <string.h>

static int named(const char *entry, const char *const *names)
{
    for (const char *const *n = names; *n; n++) {
        size_t len = strlen(*n);
        if (strncmp(entry, *n, len) == 0 && entry[len] == '=')
            return 1;
    }
    return 0;
}

size_t cc_env_allow(char *const *envp, const char *const *names, char **out, size_t max)
{
    size_t k = 0;
    if (max == 0)
        return 0;
    for (char *const *e = envp; e && *e && k + 1 < max; e++)
        if (named(*e, names))
            out[k++] = *e;
    out[k] = NULL;
    return k;
}
