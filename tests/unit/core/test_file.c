/*
 * test_file.c - cc_file_read: a regular file is read whole; a FIFO (with
 * no writer: the open must not wait), a directory and /dev/null are
 * refused as not regular; size caps at and past the limit; a missing
 * file and an unreadable one get their own codes.
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

#include "core/file.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/cc_file_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_regular(void **state)
{
    (void)state;
    char path[128], *data = NULL, why[256];
    size_t len = 0;
    snprintf(path, sizeof(path), "%s/a.txt", dir);
    write_file(path, "hello\n");
    assert_int_equal(cc_file_read(path, 6, &data, &len, why, sizeof(why)), CC_OK);
    assert_int_equal(len, 6);
    assert_string_equal(data, "hello\n");
    free(data);
    data = NULL;
    assert_int_equal(cc_file_read(path, 5, &data, &len, why, sizeof(why)), CC_ELIMIT);
    assert_null(data);
    assert_non_null(strstr(why, "larger than 5 bytes"));
    snprintf(path, sizeof(path), "%s/empty", dir);
    write_file(path, "");
    assert_int_equal(cc_file_read(path, 0, &data, &len, NULL, 0), CC_OK);
    assert_int_equal(len, 0);
    assert_string_equal(data, "");
    free(data);
}

static void test_not_regular(void **state)
{
    (void)state;
    char path[128], *data = NULL, why[256];
    size_t len = 0;
    snprintf(path, sizeof(path), "%s/fifo", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(cc_file_read(path, 100, &data, &len, why, sizeof(why)), CC_EINVAL);
    assert_non_null(strstr(why, "not a regular file"));
    assert_int_equal(cc_file_read(dir, 100, &data, &len, why, sizeof(why)), CC_EINVAL);
    assert_int_equal(cc_file_read("/dev/null", 100, &data, &len, why, sizeof(why)), CC_EINVAL);
    assert_null(data);
}

static void test_missing_and_denied(void **state)
{
    (void)state;
    char path[128], *data = NULL, why[256];
    size_t len = 0;
    snprintf(path, sizeof(path), "%s/nope", dir);
    assert_int_equal(cc_file_read(path, 100, &data, &len, why, sizeof(why)), CC_ENOTFOUND);
    assert_non_null(strstr(why, path));
    snprintf(path, sizeof(path), "%s/nope/deeper", dir);
    assert_int_equal(cc_file_read(path, 100, &data, &len, why, sizeof(why)), CC_ENOTFOUND);
    if (geteuid() != 0) {   /* root reads anything */
        snprintf(path, sizeof(path), "%s/secret", dir);
        write_file(path, "x");
        chmod(path, 0);
        assert_int_equal(cc_file_read(path, 100, &data, &len, why, sizeof(why)), CC_EPERM);
    }
    assert_null(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_regular, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_regular, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_and_denied, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
