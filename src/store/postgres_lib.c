/*
 * postgres_lib.c - dlopen of libpq (postgres_lib.h).
 */
#include "store/postgres_lib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static struct pg_lib lib;
const struct pg_lib *pg__lib;
static char load_error[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
    static const char *const names[] = {"libpq.so.5", "libpq.so", NULL};
    void *h = NULL;
    for (const char *const *n = names; *n && !h; n++)
        h = dlopen(*n, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(load_error, sizeof(load_error),
                 "cannot load libpq: %s (install libpq5)", dlerror());
        return;
    }
    const char *missing = NULL;
#define PG_LIB_LOAD(f)                                  \
    if (!missing && !(*(void **)&lib.f = dlsym(h, #f))) \
        missing = #f;
    PG_LIB_FUNCS(PG_LIB_LOAD)
#undef PG_LIB_LOAD
    if (missing) {
        snprintf(load_error, sizeof(load_error), "the installed libpq lacks %s", missing);
        return;
    }
    pg__lib = &lib;
}

const char *pg__lib_load(void)
{
    pthread_once(&once, load);
    return pg__lib ? NULL : load_error;
}
