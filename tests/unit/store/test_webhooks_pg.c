/*
 * test_webhooks_pg.c - the cases of test_webhooks_sqlite.c on the
 * PostgreSQL backend (a fresh schema per test in the database of
 * $CC_TEST_PG_DSN; see store_fixture.h).
 */
#define STORE_FIXTURE_PG 1
#include "test_webhooks_sqlite.c"
