#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"

static const char usage_text[] =
    "usage: commandcenter status [--server URL] [--json]\n"
    "\n"
    "Shows the daemon's version, uptime, listen address and store.\n"
    "Needs a token with the read scope (CC_TOKEN or CC_TOKEN_FILE).\n";

int cmd_status(int argc, char **argv, char *const *envp)
{
    static const struct option longopts[] = {
        {"server", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *server = NULL;
    bool json = false;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 's': server = optarg; break;
        case 'j': json = true; break;
        case 'h': fputs(usage_text, stdout); return CLI_OK;
        default: fputs(usage_text, stderr); return CLI_USAGE;
        }
    }
    if (optind < argc) {
        cli__error("see 'commandcenter status --help'", "unexpected argument '%s'",
                   argv[optind]);
        return CLI_USAGE;
    }
    struct cli_client c;
    int rc = cli__client_init(&c, server, json);
    if (rc)
        return rc;
    json_t *j = NULL;
    rc = cli__request(&c, "GET", "/api/v1/status", NULL, &j);
    if (rc == CLI_OK && json) {
        cli__print_json(j);
    } else if (rc == CLI_OK) {
        json_t *st = json_object_get(j, "store");
        printf("server    %s\n", c.server);
        printf("version   %s (revision %s)\n",
               json_string_value(json_object_get(j, "version")),
               json_string_value(json_object_get(j, "git_rev")));
        printf("started   %s (up %llds)\n",
               json_string_value(json_object_get(j, "started_at")),
               (long long)json_integer_value(json_object_get(j, "uptime_seconds")));
        printf("store     %s, schema %lld of %lld\n",
               json_string_value(json_object_get(st, "driver")),
               (long long)json_integer_value(json_object_get(st, "schema_version")),
               (long long)json_integer_value(json_object_get(st, "schema_latest")));
    }
    json_decref(j);
    cli__client_release(&c);
    return rc;
}
