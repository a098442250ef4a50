/*
 * test_sqlite_migrate.c - the migration runner's internals: version
 * parsing, and a migration that fails halfway being rolled back. Includes
 * sqlite.c to reach its statics (the library's copy is then not linked).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "store/sqlite.c"

struct fixture {
    char dir[64];
    char path[128];
    char logpath[128];
    struct cc_log log;
    int logfd;
    struct sqlite_store *s;
};

static int setup(void **state)
{
    struct fixture *f = cc_xcalloc(1, sizeof(*f));
    cc_strlcpy(f->dir, "/tmp/cc_migrate_XXXXXX", sizeof(f->dir));
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/cc.db", f->dir);
    snprintf(f->logpath, sizeof(f->logpath), "%s/log", f->dir);
    f->logfd = open(f->logpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(f->logfd >= 0);
    cc_log_init(&f->log, f->logfd, CC_LOG_DEBUG, CC_LOG_JSON, cc_clock_system());
    struct store_cfg cfg = {.driver = "sqlite", .sqlite_path = f->path,
                            .busy_timeout_ms = 2000, .pool_size = 1, .log = &f->log};
    f->s = store_new(&cfg);
    assert_int_equal(create_file(f->s), CC_OK);
    assert_int_equal(conn_open(f->s, false, &f->s->writer), CC_OK);
    assert_int_equal(migrate(f->s), CC_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    sqlite_close(&f->s->sql.base);
    close(f->logfd);
    const char *suffix[] = {"", "-wal", "-shm"};
    char p[160];
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", f->path, suffix[i]);
        unlink(p);
    }
    unlink(f->logpath);
    rmdir(f->dir);
    free(f);
    return 0;
}

static bool log_contains(struct fixture *f, const char *needle)
{
    char buf[16384];
    ssize_t n = pread(f->logfd, buf, sizeof(buf) - 1, 0);
    assert_true(n >= 0);
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

static int64_t count(struct fixture *f, const char *sql)
{
    int64_t v = -1;
    assert_int_equal(one_off(f->s->writer.db, sql, NULL, &v, NULL), SQLITE_DONE);
    return v;
}

static struct cc_embedded migration(const char *name, const char *sql)
{
    return (struct cc_embedded){.name = name, .data = (const unsigned char *)sql,
                                .size = strlen(sql)};
}

static void test_parse_version(void **state)
{
    (void)state;
    int v = -1;
    assert_int_equal(store__migration_version("0001_init.sql", &v), CC_OK);
    assert_int_equal(v, 1);
    assert_int_equal(store__migration_version("12_more.sql", &v), CC_OK);
    assert_int_equal(v, 12);
    v = -1;
    assert_int_equal(store__migration_version("init.sql", &v), CC_EINVAL);
    assert_int_equal(store__migration_version("0000_zero.sql", &v), CC_EINVAL);
    assert_int_equal(store__migration_version("0003init.sql", &v), CC_EINVAL);
    assert_int_equal(store__migration_version("99999999999_big.sql", &v), CC_EINVAL);
    assert_int_equal(v, -1);
}

static void test_failed_migration_rolls_back(void **state)
{
    struct fixture *f = *state;
    int before = f->s->sql.schema_latest;
    struct cc_embedded bad = migration("0900_bad.sql",
                                       "CREATE TABLE half (x INTEGER);\n"
                                       "INSERT INTO no_such_table VALUES (1);\n");
    assert_int_equal(migrate_one(f->s, &bad, 900), CC_EIO);
    assert_true(log_contains(f, "migration failed"));
    assert_true(log_contains(f, "no such table: no_such_table"));
    assert_true(log_contains(f, "0900_bad.sql"));
    assert_int_equal(count(f, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'half'"), 0);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM schema_migrations WHERE version = 900"), 0);
    assert_true(sqlite3_get_autocommit(f->s->writer.db));   /* no transaction left open */
    int v = 0;
    assert_int_equal(schema_version(f->s, &v), CC_OK);
    assert_int_equal(v, before);
}

static void test_migration_applied_once(void **state)
{
    struct fixture *f = *state;
    struct cc_embedded ok = migration("0901_extra.sql", "CREATE TABLE extra (x INTEGER);");
    int64_t before = count(f, "SELECT COUNT(*) FROM schema_migrations");
    assert_int_equal(migrate_one(f->s, &ok, 901), CC_OK);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM schema_migrations WHERE version = 901"), 1);
    /* Recorded already (as when another process won the race): a no-op,
     * where re-running the SQL would fail on the existing table. */
    assert_int_equal(migrate_one(f->s, &ok, 901), CC_OK);
    assert_int_equal(count(f, "SELECT COUNT(*) FROM schema_migrations"), before + 1);
    /* This binary now sees a database newer than itself. */
    assert_int_equal(migrate(f->s), CC_ESTATE);
}

static void test_embedded_list_is_valid(void **state)
{
    struct fixture *f = *state;
    int latest = 0;
    assert_int_equal(store__migrations_latest(sqlite_migrations, f->s->log, &latest), CC_OK);
    assert_true(latest >= 2);
    assert_int_equal(latest, f->s->sql.schema_latest);
    /* The runner owns the transaction: every file, run in order inside one
     * open transaction, must neither end it (COMMIT/END/ROLLBACK) nor open
     * another (BEGIN fails inside a transaction). Trigger bodies' BEGIN ..
     * END are fine, which a text search could not tell apart. */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA foreign_keys = ON; BEGIN", NULL, NULL, NULL),
                     SQLITE_OK);
    for (const struct cc_embedded *m = sqlite_migrations; m->name; m++) {
        const char *sql = (const char *)m->data;
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        assert_false(sqlite3_get_autocommit(db));
        assert_null(strstr(sql, "INTO schema_migrations"));
        assert_null(strstr(sql, "CREATE TABLE schema_migrations"));
    }
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_version),
        cmocka_unit_test_setup_teardown(test_failed_migration_rolls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_applied_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_embedded_list_is_valid, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
