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

#endif
