/*
 * test_backup.c - backups of a SQLite store through store_backup and
 * store_restore, and the head parser every restore starts with: a backup
 * restores to the same rows; a backup with a bad head, a flipped byte, a
 * cut tail or of another backend is refused and leaves the target as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "store/backup.h"
#include "store/store.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/cc_backup_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct store_cfg cfg_for(const char *path)
{
    return (struct store_cfg){.driver = "sqlite", .sqlite_path = path, .busy_timeout_ms = 5000,
                              .pool_size = 2};
}

static void count_token(void *arg, const struct store_token *t)
{
    if (strcmp(t->name, "kept") == 0)
        ++*(int *)arg;
}

static int kept_tokens(const char *path)
{
    struct store_cfg c = cfg_for(path);
    struct store *s = NULL;
    assert_int_equal(store_open(&c, &s), CC_OK);
    int n = 0;
    assert_int_equal(s->ops->token_list(s, count_token, &n), CC_OK);
    store_close(s);
    return n;
}

static void make_store(const char *path)
{
    struct store_cfg c = cfg_for(path);
    struct store *s = NULL;
    assert_int_equal(store_open(&c, &s), CC_OK);
    struct store_token t = {.name = "kept", .scope = "read", .created_ms = 1,
                            .hash = "0123456789abcdef0123456789abcdef"
                                    "0123456789abcdef0123456789abcdef"};
    int64_t id;
    assert_int_equal(s->ops->token_insert(s, &t, &id), CC_OK);
    store_close(s);
}

static void rewrite(const char *from, const char *to, long flip_from_end, long cut)
{
    FILE *f = fopen(from, "rb");
    assert_non_null(f);
    static char data[1 << 22];
    size_t n = fread(data, 1, sizeof(data), f);
    fclose(f);
    if (flip_from_end)
        data[n - (size_t)flip_from_end] ^= 1;
    if (cut)
        n -= (size_t)cut;
    f = fopen(to, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void test_round_trip_and_refusals(void **state)
{
    (void)state;
    char src[128], bk[128], dst[128], bad[128];
    snprintf(src, sizeof(src), "%s/src.db", dir);
    snprintf(bk, sizeof(bk), "%s/b.ccbackup", dir);
    snprintf(dst, sizeof(dst), "%s/dst.db", dir);
    snprintf(bad, sizeof(bad), "%s/bad.ccbackup", dir);
    make_store(src);
    struct store_cfg c = cfg_for(src), d = cfg_for(dst);
    struct store_backup_manifest m, v;
    char why[512] = "";
    assert_int_equal(store_backup(&c, bk, 1700000000000, &m, why, sizeof(why)), CC_OK);
    assert_string_equal(m.backend, "sqlite");
    assert_string_equal(m.created_at, "2023-11-14T22:13:20.000Z");
    assert_true(m.schema_version >= 1);
    assert_int_equal(store_backup_verify(bk, &v, why, sizeof(why)), CC_OK);
    assert_string_equal(v.payload_sha256, m.payload_sha256);

    /* Damaged copies: nothing is written at the target. */
    rewrite(bk, bad, 10, 0);
    assert_int_equal(store_restore(&d, bad, false, NULL, why, sizeof(why)), CC_EPARSE);
    assert_non_null(strstr(why, "corrupt"));
    rewrite(bk, bad, 0, 1000);
    assert_int_equal(store_restore(&d, bad, false, NULL, why, sizeof(why)), CC_EPARSE);
    assert_non_null(strstr(why, "truncated"));
    assert_int_equal(access(dst, F_OK), -1);
    struct store_cfg pg = {.driver = "postgres", .postgres_dsn = "host=/nonexistent"};
    assert_int_equal(store_restore(&pg, bk, false, NULL, why, sizeof(why)), CC_EINVAL);

    assert_int_equal(store_restore(&d, bk, false, &v, why, sizeof(why)), CC_OK);
    assert_int_equal(kept_tokens(dst), 1);
    /* Over a store with data only with force. */
    assert_int_equal(store_restore(&d, bk, false, NULL, why, sizeof(why)), CC_ECONFLICT);
    assert_int_equal(store_restore(&d, bk, true, NULL, why, sizeof(why)), CC_OK);
    assert_int_equal(kept_tokens(dst), 1);
    /* A damaged store (disaster recovery) is replaced with force. */
    FILE *junk = fopen(dst, "wb");
    assert_non_null(junk);
    fputs("this is not a database, it is what a bad disk left", junk);
    fclose(junk);
    assert_int_not_equal(store_restore(&d, bk, false, NULL, why, sizeof(why)), CC_OK);
    assert_int_equal(store_restore(&d, bk, true, NULL, why, sizeof(why)), CC_OK);
    assert_int_equal(kept_tokens(dst), 1);
    /* A backup of a missing database is an error, not an empty file. */
    struct store_cfg none = cfg_for("/nonexistent/x.db");
    assert_int_equal(store_backup(&none, bad, 1, NULL, why, sizeof(why)), CC_ENOTFOUND);
}

static void test_head_parser(void **state)
{
    (void)state;
    struct store_backup_manifest m;
    size_t head = 0;
    char why[256];
    const char good[] = "commandcenter-backup 1\n"
                        "{\"format\":1,\"backend\":\"sqlite\",\"schema_version\":4,"
                        "\"version\":\"0.1.0\",\"revision\":\"abc\","
                        "\"created_at\":\"2026-01-01T00:00:00.000Z\",\"created_ms\":1,"
                        "\"payload_bytes\":3,\"payload_sha256\":\""
                        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}\n"
                        "xyz";
    assert_int_equal(store_backup_parse_head(good, sizeof(good) - 1, &m, &head, why,
                                             sizeof(why)), CC_OK);
    assert_int_equal(head, sizeof(good) - 1 - 3);
    assert_int_equal(m.payload_bytes, 3);
    assert_int_equal(m.schema_version, 4);
    const struct {
        const char *text;
        cc_err err;
    } bad[] = {
        {"SQLite format 3", CC_EPARSE},
        {"commandcenter-backup 2\n{}\n", CC_EUNSUPPORTED},
        {"commandcenter-backup 1\n{\"format\":1", CC_EPARSE},
        {"commandcenter-backup 1\n[1]\n", CC_EPARSE},
        {"commandcenter-backup 1\n{\"format\":1}\n", CC_EPARSE},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(store_backup_parse_head(bad[i].text, strlen(bad[i].text), &m, &head,
                                                 why, sizeof(why)), bad[i].err);
    /* A manifest of another format version, and a short checksum. */
    char text[1024];
    snprintf(text, sizeof(text), "%s", good);
    memcpy(strstr(text, "\"format\":1") + 9, "7", 1);
    assert_int_equal(store_backup_parse_head(text, strlen(text), &m, &head, why, sizeof(why)),
                     CC_EUNSUPPORTED);
    snprintf(text, sizeof(text), "%s", good);
    memcpy(strstr(text, "0123456789abcdef\"}"), "0123456789abcde\"}\n", 18);
    assert_int_equal(store_backup_parse_head(text, strlen(text), &m, &head, why, sizeof(why)),
                     CC_EPARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_and_refusals, setup, teardown),
        cmocka_unit_test(test_head_parser),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
