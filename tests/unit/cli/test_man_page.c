/* A command's man page is its --help text in roff: what roff would read as
 * a request or an escape must come out as the text the help shows. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"

/* main.c (not in the library) owns the real table; the page of one command
 * does not read it. */
const struct cli_command cli_commands[] = {{.name = NULL}};

static void test_synopsis_description_and_escapes(void **state)
{
    (void)state;
    struct cc_buf out;
    cc_buf_init(&out, 1 << 16);
    const char *help = "usage: commandcenter x A [--flag]\n"
                       "                       [--more]\n"
                       "\n"
                       "Does x.\n"
                       ".starts with a dot\n"
                       "'starts with a quote\n"
                       "C:\\path and -k\n"
                       "\n"
                       "  --flag  a flag\n";
    assert_int_equal(cli__man_page(&out, "x", "do x", help), CC_OK);
    const char *s = cc_buf_str(&out);
    assert_non_null(strstr(s, ".TH COMMANDCENTER\\-X 1 "));
    assert_non_null(strstr(s, ".SH NAME\ncommandcenter\\-x \\- do x\n"));
    /* continuation lines keep their alignment under "commandcenter x" */
    assert_non_null(strstr(s, ".SH SYNOPSIS\n.nf\ncommandcenter x A [\\-\\-flag]\n"
                              "                [\\-\\-more]\n.fi\n"));
    assert_non_null(strstr(s, ".SH DESCRIPTION\n.nf\nDoes x.\n\\&.starts with a dot\n"
                              "\\&'starts with a quote\nC:\\epath and \\-k\n.sp\n"
                              "  \\-\\-flag  a flag\n.fi\n"));
    assert_non_null(strstr(s, ".SH SEE ALSO\n.BR commandcenter (1)\n"));
    assert_null(strstr(s, "usage:"));
    cc_buf_release(&out);
}

static void test_help_without_description(void **state)
{
    (void)state;
    struct cc_buf out;
    cc_buf_init(&out, 1 << 16);
    assert_int_equal(cli__man_page(&out, "y", "y", "usage: commandcenter y\n"), CC_OK);
    assert_null(strstr(cc_buf_str(&out), ".SH DESCRIPTION"));
    assert_non_null(strstr(cc_buf_str(&out), ".SH SYNOPSIS\n.nf\ncommandcenter y\n.fi\n"));
    cc_buf_release(&out);
}

static void test_limit_is_reported(void **state)
{
    (void)state;
    struct cc_buf out;
    cc_buf_init(&out, 64);
    assert_int_equal(cli__man_page(&out, "x", "do x", "usage: commandcenter x\n\nlong text\n"),
                     CC_ELIMIT);
    cc_buf_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_synopsis_description_and_escapes),
        cmocka_unit_test(test_help_without_description),
        cmocka_unit_test(test_limit_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
