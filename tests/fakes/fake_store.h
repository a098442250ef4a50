/*
 * fake_store.h - an in-memory store for unit tests (SQLite's test_vfs idea).
 *
 * Implements the token operations of struct store_ops in memory (unique
 * names -> CC_ECONFLICT, unknown id -> CC_ENOTFOUND, ids from 1 upwards);
 * ping and info answer; every other operation returns CC_EUNSUPPORTED.
 * Each token operation can be made to fail on demand, so tests can check
 * that a store error surfaces. Thread-safe like a real backend.
 */
#ifndef CC_TESTS_FAKE_STORE_H
#define CC_TESTS_FAKE_STORE_H

#include <stddef.h>

#include "core/err.h"
#include "store/store.h"

enum fake_store_op {
    FAKE_TOKEN_INSERT,
    FAKE_TOKEN_LIST,
    FAKE_TOKEN_DELETE,
    FAKE_TOKEN_TOUCH,
    FAKE_OP__COUNT,
};

/* Free with store_close(). */
struct store *fake_store_new(void);

/* The next `times` calls of `op` return `err` without doing anything;
 * times < 0 means until told otherwise, err CC_OK (or times 0) clears. */
void fake_store_fail(struct store *s, enum fake_store_op op, cc_err err, int times);
/* How many times `op` was called (failed calls included). */
size_t fake_store_calls(struct store *s, enum fake_store_op op);
/* Tokens currently held. */
size_t fake_store_ntokens(struct store *s);

extern const struct store_ops fake_store_ops;

#endif
