/*
 * cmd_alerts.c - `commandcenter alerts`: what Alertmanager reported to
 * POST /api/v1/alerts, most recently updated first (read token).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"

static const char usage_text[] =
    "usage: commandcenter alerts [--state S] [--limit N] [--server URL] [--json]\n"
    "\n"
    "Shows the alerts Alertmanager delivered to the daemon, most recently updated\n"
    "first (read token).\n"
    "\n"
    "  --state S   firing or resolved (default: both)\n"
    "  --limit N   at most N alerts, 1-1000 (default 100)\n";

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "-";
}

/* "demo/web", "docs", or "-": what the alert is about. */
static void subject(json_t *labels, char *out, size_t outsz)
{
    const char *project = json_string_value(json_object_get(labels, "project"));
    const char *service = json_string_value(json_object_get(labels, "service"));
    const char *source = json_string_value(json_object_get(labels, "source"));
    const char *instance = json_string_value(json_object_get(labels, "instance"));
    if (project && service)
        snprintf(out, outsz, "%s/%s", project, service);
    else
        snprintf(out, outsz, "%s", source ? source : instance ? instance : "-");
}

static void print_alerts(json_t *j)
{
    printf("%-9s %-9s %-22s %-24s %-24s %s\n", "STATE", "SEVERITY", "ALERT", "SUBJECT",
           "SINCE", "SUMMARY");
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(j, "alerts"), i, a) {
        char subj[160];
        subject(json_object_get(a, "labels"), subj, sizeof(subj));
        const char *summary =
            json_string_value(json_object_get(json_object_get(a, "annotations"), "summary"));
        printf("%-9s %-9s %-22s %-24s %-24s %s\n", str(a, "status"), str(a, "severity"),
               str(a, "name"), subj, str(a, "starts_at"), summary ? summary : "");
    }
}

int cmd_alerts(int argc, char **argv, char *const *envp)
{
    static const struct option longopts[] = {
        {"server", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
        {"state", required_argument, NULL, 'S'},  {"limit", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *server = NULL, *state = NULL, *limit = NULL;
    bool json = false;
    int ch;
    (void)envp;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 's': server = optarg; break;
        case 'j': json = true; break;
        case 'S': state = optarg; break;
        case 'l': limit = optarg; break;
        case 'h': fputs(usage_text, stdout); return CLI_OK;
        default: fputs(usage_text, stderr); return CLI_USAGE;
        }
    }
    if (argc - optind != 0) {
        cli__error("see 'commandcenter alerts --help'", "unexpected arguments");
        return CLI_USAGE;
    }
    struct cli_client c;
    int rc = cli__client_init(&c, server, json);
    if (rc)
        return rc;
    struct cc_buf path;
    cc_buf_init(&path, 512);
    cc_buf_addstr(&path, "/api/v1/alerts");
    cli__add_param(&path, "state", state);
    cli__add_param(&path, "limit", limit);
    json_t *j = NULL;
    rc = cli__request(&c, "GET", cc_buf_str(&path), NULL, &j);
    if (rc == CLI_OK)
        json ? cli__print_json(j) : print_alerts(j);
    json_decref(j);
    cc_buf_release(&path);
    cli__client_release(&c);
    return rc;
}
