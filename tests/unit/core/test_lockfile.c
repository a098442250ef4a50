/* One holder per lock file: a second taker is refused and told the holder's
 * pid; the lock goes away with its holder, even one that did not release. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/lockfile.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/cc-lockfile-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof(path), "%s/lock", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    rmdir(dir);
    return 0;
}

static void test_second_taker_is_refused_with_the_pid(void **state)
{
    (void)state;
    int fd = -1, fd2 = -1;
    long holder = -1;
    assert_int_equal(cc_lockfile_acquire(path, &fd, NULL), CC_OK);
    assert_true(fd >= 0);
    assert_int_equal(cc_lockfile_acquire(path, &fd2, &holder), CC_ECONFLICT);
    assert_int_equal(fd2, -1);
    assert_int_equal(holder, (long)getpid());
    cc_lockfile_release(fd);
    assert_int_equal(cc_lockfile_acquire(path, &fd2, &holder), CC_OK);
    cc_lockfile_release(fd2);
    cc_lockfile_release(-1);
}

static void test_lock_dies_with_its_holder(void **state)
{
    (void)state;
    int ready[2], go[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(go), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd;
        char c = cc_lockfile_acquire(path, &fd, NULL) == CC_OK ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) < 0)
            _exit(2);
        _exit(0);   /* never releases: the kernel must */
    }
    char c = 0;
    assert_int_equal(read(ready[0], &c, 1), 1);
    assert_int_equal(c, 'y');
    int fd = -1;
    long holder = 0;
    assert_int_equal(cc_lockfile_acquire(path, &fd, &holder), CC_ECONFLICT);
    assert_int_equal(holder, (long)pid);
    assert_int_equal(write(go[1], "x", 1), 1);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(cc_lockfile_acquire(path, &fd, &holder), CC_OK);
    cc_lockfile_release(fd);
    close(ready[0]); close(ready[1]); close(go[0]); close(go[1]);
}

static void test_unopenable_path_is_eio(void **state)
{
    (void)state;
    int fd = -1;
    assert_int_equal(cc_lockfile_acquire("/nonexistent-dir-cc/lock", &fd, NULL), CC_EIO);
    assert_int_equal(fd, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_second_taker_is_refused_with_the_pid),
        cmocka_unit_test(test_lock_dies_with_its_holder),
        cmocka_unit_test(test_unopenable_path_is_eio),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
