#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char usage_text[] =
    "usage: commandcenter events [--after ID] [--limit N] [--server URL] [--json]\n"
    "\n"
    "Shows the event log (daemon starts and stops; service and job state changes),\n"
    "oldest first. Needs a read token.\n"
    "\n"
    "  --after ID    only events with an id greater than ID (default 0)\n"
    "  --limit N     at most N events, 1-1000 (default 100)\n";

static bool digits(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

int cmd_events(int argc, char **argv, char *const *envp)
{
    static const struct option longopts[] = {
        {"server", required_argument, NULL, 's'},
        {"after", required_argument, NULL, 'a'},
        {"limit", required_argument, NULL, 'l'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *server = NULL, *after = "0", *limit = "100";
    bool json = false;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 's': server = optarg; break;
        case 'a': after = optarg; break;
        case 'l': limit = optarg; break;
        case 'j': json = true; break;
        case 'h': fputs(usage_text, stdout); return CLI_OK;
        default: fputs(usage_text, stderr); return CLI_USAGE;
        }
    }
    if (optind < argc || !digits(after, 18) || !digits(limit, 4) || strtol(limit, NULL, 10) < 1 ||
        strtol(limit, NULL, 10) > 1000) {
        cli__error("see 'commandcenter events --help'",
                   "--after must be a number and --limit a number from 1 to 1000");
        return CLI_USAGE;
    }
    struct cli_client c;
    int rc = cli__client_init(&c, server, json);
    if (rc)
        return rc;
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/events?after=%s&limit=%s", after, limit);
    json_t *j = NULL;
    rc = cli__request(&c, "GET", path, NULL, &j);
    if (rc == CLI_OK && json) {
        cli__print_json(j);
    } else if (rc == CLI_OK) {
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(j, "events"), i, e) {
            const char *proj = json_string_value(json_object_get(e, "project"));
            const char *svc = json_string_value(json_object_get(e, "service"));
            const char *msg = json_string_value(json_object_get(e, "message"));
            printf("%-6lld %s %-18s %s%s%s%s%s\n",
                   (long long)json_integer_value(json_object_get(e, "id")),
                   json_string_value(json_object_get(e, "ts")),
                   json_string_value(json_object_get(e, "kind")), proj ? proj : "",
                   svc ? "/" : "", svc ? svc : "", proj || svc ? " " : "",
                   msg ? msg : "");
        }
    }
    json_decref(j);
    cli__client_release(&c);
    return rc;
}
