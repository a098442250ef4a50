/*
 * skips.c - counting and reporting what a folder walk left out (skips.h).
 */
#include "ingest/skips.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ingest_skips_unsupported(struct ingest_skips *k, const char *name)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    const char *dot = strrchr(base, '.');
    const char *ext = dot && dot != base && strlen(dot) < sizeof(k->ext[0]) ? dot : "no extension";
    k->unsupported++;
    for (size_t i = 0; i < INGEST_SKIP_EXTS; i++) {
        if (!k->ext[i][0])
            snprintf(k->ext[i], sizeof(k->ext[i]), "%s", ext);
        if (strcmp(k->ext[i], ext) == 0) {
            k->ext_n[i]++;
            return;
        }
    }
}

struct out {
    char *s;
    size_t size, len;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends, never past the end; a cut sentence stays terminated. */
static void put(struct out *o, const char *fmt, ...)
{
    if (o->len + 1 >= o->size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->s + o->len, o->size - o->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len = o->len + (size_t)n < o->size ? o->len + (size_t)n : o->size - 1;
}

int64_t ingest_skips_format(const struct ingest_skips *k, char *out, size_t outsz)
{
    int64_t total = k->too_big + k->unsupported + k->not_regular + k->excluded;
    struct out o = {.s = out, .size = outsz};
    const char *sep = "";
    if (outsz == 0)
        return total;
    out[0] = '\0';
    if (k->too_big) {
        put(&o, "%lld over the size cap", (long long)k->too_big);
        sep = ", ";
    }
    if (k->unsupported) {
        put(&o, "%s%lld unsupported type%s (", sep, (long long)k->unsupported,
            k->unsupported == 1 ? "" : "s");
        int64_t listed = 0;
        for (size_t i = 0; i < INGEST_SKIP_EXTS && k->ext[i][0]; i++) {
            listed += k->ext_n[i];
            if (k->ext_n[i] == k->unsupported)
                put(&o, "%s", k->ext[i]);
            else
                put(&o, "%s%lld %s", i ? ", " : "", (long long)k->ext_n[i], k->ext[i]);
        }
        put(&o, "%s)", listed < k->unsupported ? ", ..." : "");
        sep = ", ";
    }
    if (k->not_regular) {
        put(&o, "%s%lld not regular file%s (symlinks are not followed)", sep,
            (long long)k->not_regular, k->not_regular == 1 ? "" : "s");
        sep = ", ";
    }
    if (k->excluded)
        put(&o, "%s%lld excluded by options.exclude", sep, (long long)k->excluded);
    return total;
}
