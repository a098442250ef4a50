#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"

static const char usage_text[] =
    "usage: commandcenter jobs [--state S] [--limit N] [--server URL] [--json]\n"
    "       commandcenter jobs retry ID [--server URL] [--json]\n"
    "\n"
    "Shows the ingestion job queue, newest first (read token), or puts a failed or\n"
    "dead job back in the queue (admin token).\n"
    "\n"
    "  --state S   queued, running, succeeded, failed (will retry) or dead\n"
    "  --limit N   at most N jobs, 1-1000 (default 50)\n";

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "-";
}

static void print_jobs(json_t *j)
{
    json_t *c = json_object_get(j, "counts");
    printf("queued %lld, running %lld, failed %lld, dead %lld, succeeded %lld\n\n",
           (long long)json_integer_value(json_object_get(c, "queued")),
           (long long)json_integer_value(json_object_get(c, "running")),
           (long long)json_integer_value(json_object_get(c, "failed")),
           (long long)json_integer_value(json_object_get(c, "dead")),
           (long long)json_integer_value(json_object_get(c, "succeeded")));
    printf("%-7s %-16s %-10s %-8s %-24s %s\n", "ID", "KIND", "STATE", "TRIES", "UPDATED",
           "ERROR");
    size_t i;
    json_t *job;
    json_array_foreach(json_object_get(j, "jobs"), i, job) {
        char tries[24];
        snprintf(tries, sizeof(tries), "%lld/%lld",
                 (long long)json_integer_value(json_object_get(job, "attempts")),
                 (long long)json_integer_value(json_object_get(job, "max_attempts")));
        printf("%-7lld %-16s %-10s %-8s %-24s %s\n",
               (long long)json_integer_value(json_object_get(job, "id")), str(job, "kind"),
               str(job, "state"), tries, str(job, "updated_at"),
               json_string_value(json_object_get(job, "last_error")) ? str(job, "last_error")
                                                                    : "");
    }
}

int cmd_jobs(int argc, char **argv, char *const *envp)
{
    static const struct option longopts[] = {
        {"server", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
        {"state", required_argument, NULL, 'S'},  {"limit", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *server = NULL, *state = NULL, *limit = NULL;
    bool json = false;
    int ch;
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
    int nargs = argc - optind;
    bool retry = nargs == 2 && !strcmp(argv[optind], "retry");
    if (nargs != 0 && !retry) {
        cli__error("see 'commandcenter jobs --help'", "unexpected arguments");
        return CLI_USAGE;
    }
    const char *id = retry ? argv[optind + 1] : NULL;
    if (id && (strspn(id, "0123456789") != strlen(id) || strlen(id) > 18 || !*id)) {
        cli__error("find the id with 'commandcenter jobs'", "'%s' is not a job id", id);
        return CLI_USAGE;
    }
    struct cli_client c;
    int rc = cli__client_init(&c, server, json);
    if (rc)
        return rc;
    struct cc_buf path;
    cc_buf_init(&path, 512);
    json_t *j = NULL;
    if (retry) {
        cc_buf_addf(&path, "/api/v1/jobs/%s/retry", id);
        rc = cli__request(&c, "POST", cc_buf_str(&path), NULL, &j);
        if (rc == CLI_OK && !json)
            printf("job %s queued again\n", id);
    } else {
        cc_buf_addstr(&path, "/api/v1/jobs");
        cli__add_param(&path, "state", state);
        cli__add_param(&path, "limit", limit);
        rc = cli__request(&c, "GET", cc_buf_str(&path), NULL, &j);
        if (rc == CLI_OK && !json)
            print_jobs(j);
    }
    if (rc == CLI_OK && json)
        cli__print_json(j);
    json_decref(j);
    cc_buf_release(&path);
    cli__client_release(&c);
    return rc;
}
