/*
 * fetch_lib.c - libcurl, loaded on first use (see fetch_int.h).
 *
 * Linked normally, libcurl with its dependencies (OpenSSL, nghttp2, ssh2,
 * rtmp, LDAP, Kerberos ...) and curl_global_init add about 5.5 MB to the
 * daemon's resident memory from the moment it starts, whether or not it
 * ever fetches anything; loaded on the first request, an idle daemon does
 * not carry it (the same reasoning as ingest/parse/libs.c).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "ingest/fetch_int.h"

/* Written once under pthread_once, read-only afterwards. */
static struct ingest__curl lib;
static const struct ingest__curl *loaded;
static char load_error[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
    static const char *const names[] = {"libcurl.so.4", "libcurl.so", NULL};
    void *h = NULL;
    for (const char *const *n = names; *n && !h; n++)
        h = dlopen(*n, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(load_error, sizeof(load_error), "cannot load libcurl: %s (install libcurl4)",
                 dlerror());
        return;
    }
    const char *missing = NULL;
#define INGEST_CURL_LOAD(f)                                 \
    if (!missing && !(*(void **)&lib.f = dlsym(h, #f)))     \
        missing = #f;
    INGEST_CURL_FUNCS(INGEST_CURL_LOAD)
#undef INGEST_CURL_LOAD
    if (missing) {
        snprintf(load_error, sizeof(load_error),
                 "the installed libcurl lacks %s (7.85 or later is needed)", missing);
        return;
    }
    CURLcode rc = lib.curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        snprintf(load_error, sizeof(load_error), "libcurl cannot start: %s",
                 lib.curl_easy_strerror(rc));
        return;
    }
    loaded = &lib;
}

const struct ingest__curl *ingest__curl(void)
{
    pthread_once(&once, load);
    return loaded;
}

const char *ingest__curl_error(void)
{
    pthread_once(&once, load);
    return load_error[0] ? load_error : "libcurl is loaded";
}
