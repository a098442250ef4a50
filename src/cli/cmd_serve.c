#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "daemon/daemon.h"

static const char usage_text[] =
    "usage: commandcenter serve [--config FILE] [--check-config] [--print-config]\n"
    "\n"
    "Runs the daemon: the HTTP API, the Hub and the background work.\n"
    "\n"
    "  -c, --config FILE   YAML configuration (default: $CC_CONFIG, else built-in\n"
    "                      defaults); CC_* variables override its keys\n"
    "      --check-config  validate the configuration and exit\n"
    "      --print-config  print the effective configuration (secrets redacted)\n"
    "  -h, --help          show this help\n"
    "\n"
    "Stops cleanly on SIGTERM or SIGINT. Keys are listed in docs/CONFIG.md.\n";

int cmd_serve(int argc, char **argv, char *const *envp)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 'C'},
        {"print-config", no_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct daemon_opts opts = {0};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': opts.config_path = optarg; break;
        case 'C': opts.check_config = true; break;
        case 'P': opts.print_config = true; break;
        case 'h': fputs(usage_text, stdout); return CLI_OK;
        default: fputs(usage_text, stderr); return CLI_USAGE;
        }
    }
    if (optind < argc) {
        cli__error("see 'commandcenter serve --help'", "unexpected argument '%s'", argv[optind]);
        return CLI_USAGE;
    }
    return daemon_run(&opts, envp);
}
