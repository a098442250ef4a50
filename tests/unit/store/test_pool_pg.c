/*
 * test_pool_pg.c - the cases of test_pool_sqlite.c on the PostgreSQL
 * backend: the same file, compiled with the fixture's PostgreSQL parameter
 * (a fresh schema per test in the database of $CC_TEST_PG_DSN; see
 * store_fixture.h). Without CC_TEST_PG_DSN every case fails with a hint.
 */
#define STORE_FIXTURE_PG 1
#include "test_pool_sqlite.c"
