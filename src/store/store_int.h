/*
 * store_int.h - what the backends share: the checks every backend applies
 * to records before any SQL runs (store_valid.c), so SQLite and PostgreSQL
 * refuse exactly the same input.
 */
#ifndef CC_STORE_STORE_INT_H
#define CC_STORE_STORE_INT_H

#include <jansson.h>
#include <stdbool.h>

#include "store/store.h"

#define STORE_HASH_LEN 64   /* hex SHA-256 */

/* Name [A-Za-z0-9._-]{1,STORE_NAME_MAX}, a known type, priority 1..10. */
bool store__source_valid(const struct store_source *src);
/* Checks a document: source and external id, content hash (normalized to
 * lower case into hash), chunks, and the JSON fields; *out_tags gets its
 * parsed tags (NULL when none; the caller json_decref()s it). CC_EINVAL
 * when anything is wrong. */
cc_err store__doc_validate(const struct store_doc *d, char hash[STORE_HASH_LEN + 1],
                           json_t **out_tags);

#endif
