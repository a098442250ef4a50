/*
 * types.h - the source types registry.c lists; private to src/ingest/sources.
 */
#ifndef CC_INGEST_SOURCES_TYPES_H
#define CC_INGEST_SOURCES_TYPES_H

#include "ingest/sources/sources.h"

extern const struct ingest_source_type ingest_source_file;
extern const struct ingest_source_type ingest_source_webhook;
extern const struct ingest_source_type ingest_source_rss;
extern const struct ingest_source_type ingest_source_docs;

#endif
