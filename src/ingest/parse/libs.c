#include "ingest/parse/libs.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

/* Written once under pthread_once, read-only afterwards. */
static struct ingest_libs libs;
static const struct ingest_libs *loaded;
static char load_error[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void *open_lib(const char *const *names)
{
    for (; *names; names++) {
        void *h = dlopen(*names, RTLD_NOW | RTLD_LOCAL);
        if (h)
            return h;
    }
    return NULL;
}

static void load(void)
{
    static const char *const xml_names[] = {"libxml2.so.2", "libxml2.so", NULL};
    static const char *const zip_names[] = {"libzip.so.4", "libzip.so.5", "libzip.so", NULL};
    void *xml = open_lib(xml_names);
    void *zip = open_lib(zip_names);
    if (!xml || !zip) {
        snprintf(load_error, sizeof(load_error), "cannot load %s: %s (install %s)",
                 !xml ? "libxml2" : "libzip", dlerror(), !xml ? "libxml2" : "libzip4");
        return;
    }
    const char *missing = NULL;
#define INGEST_LIB_LOAD(f)                                                \
    if (!missing && !(*(void **)&libs.f = dlsym(XML_OR_ZIP, #f)))         \
        missing = #f;
#define XML_OR_ZIP xml
    INGEST_XML_FUNCS(INGEST_LIB_LOAD)
#undef XML_OR_ZIP
#define XML_OR_ZIP zip
    INGEST_ZIP_FUNCS(INGEST_LIB_LOAD)
#undef XML_OR_ZIP
#undef INGEST_LIB_LOAD
    if (missing) {
        snprintf(load_error, sizeof(load_error), "the installed libxml2 or libzip lacks %s",
                 missing);
        return;
    }
    libs.xmlInitParser();
    loaded = &libs;
}

const struct ingest_libs *ingest__libs(void)
{
    pthread_once(&once, load);
    return loaded;
}

const char *ingest__libs_error(void)
{
    pthread_once(&once, load);
    return load_error[0] ? load_error : "libxml2 and libzip are loaded";
}
