/*
 * embedded.h - files compiled into the binary by tools/embed.c.
 * Each table ends with an entry whose name is NULL. data is NUL-terminated
 * (the NUL is not counted in size).
 */
#ifndef CC_CORE_EMBEDDED_H
#define CC_CORE_EMBEDDED_H

#include <stddef.h>

struct cc_embedded {
    const char *name;
    const unsigned char *data;
    size_t size;
};

extern const struct cc_embedded web_assets[];        /* web/ */
extern const struct cc_embedded sqlite_migrations[]; /* src/store/migrations/sqlite/, sorted */
extern const struct cc_embedded postgres_migrations[]; /* src/store/migrations/postgres/, sorted */

#endif
