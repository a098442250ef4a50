/*
 * file.h - what the file source (file.c) shares with the folder watcher
 * (ingest/watch.c): its options and the document jobs it queues, so a
 * scan and the watcher build the same jobs under the same dedup keys and
 * never queue a file twice.
 */
#ifndef CC_INGEST_SOURCES_FILE_H
#define CC_INGEST_SOURCES_FILE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "ingest/sources/exclude.h"

/* A file source's options: {"watch": bool, "exclude": ["pattern", ...]}. */
struct ingest__file_opts {
    bool watch;
    const char *exclude[INGEST_EXCLUDE_MAX];   /* point into `json` */
    size_t nexclude;
    json_t *json;                               /* owned */
};

/* Parses options_json (NULL = {}). CC_EINVAL with a message in why when
 * an option is of the wrong type or unknown; o is then released. */
cc_err ingest__file_opts_parse(const char *options_json, struct ingest__file_opts *o,
                               char *why, size_t whysz);
void ingest__file_opts_release(struct ingest__file_opts *o);

/* The ingest.document payload of file `rel` beneath the resolved folder
 * `root` (new reference), and its dedup key "file:<source id>:<rel>"
 * (heap). NULL on allocation failure. */
json_t *ingest__file_payload(const char *root, const char *rel, const char *type);
char *ingest__file_dedup_key(int64_t source_id, const char *rel);

/* Why files of a folder were not queued, counted by reason. */
#define INGEST_SKIP_EXTS 8
struct ingest__skips {
    int64_t too_big, unsupported, not_regular, excluded;
    char ext[INGEST_SKIP_EXTS][16];   /* unsupported extensions seen, "" = none */
    int64_t ext_n[INGEST_SKIP_EXTS];
};
/* Counts an unsupported file by its extension ("(none)" without one). */
void ingest__skips_unsupported(struct ingest__skips *k, const char *name);
/* "2 over the size cap, 1 unsupported type (.xyz)"; "" when nothing was
 * skipped. Returns the total skipped. */
int64_t ingest__skips_format(const struct ingest__skips *k, char *out, size_t outsz);

#endif
