/*
 * test_batch_pg.c - the cases of test_batch_sqlite.c on the PostgreSQL
 * backend (the SQLite-only ones about FTS5's external-content index left
 * out): the backend's batched document writes against store.c's generic
 * loop. Without CC_TEST_PG_DSN every case fails with a hint.
 */
#define STORE_FIXTURE_PG 1
#include "test_batch_sqlite.c"
