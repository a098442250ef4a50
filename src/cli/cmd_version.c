#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"

static const char usage_text[] =
    "usage: commandcenter version [--json]\n"
    "\n"
    "Prints the version and source revision of this binary.\n";

int cmd_version(int argc, char **argv, char *const *envp)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool json = false;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'j': json = true; break;
        case 'h': fputs(usage_text, stdout); return CLI_OK;
        default: fputs(usage_text, stderr); return CLI_USAGE;
        }
    }
    if (optind < argc) {
        cli__error("see 'commandcenter version --help'", "unexpected argument '%s'",
                   argv[optind]);
        return CLI_USAGE;
    }
    if (json)
        printf("{\"version\":\"%s\",\"git_rev\":\"%s\"}\n", CC_VERSION, CC_GIT_REV);
    else
        printf("commandcenter %s (revision %s)\n", CC_VERSION, CC_GIT_REV);
    return CLI_OK;
}
