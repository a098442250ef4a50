#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"

static const char usage_text[] =
    "usage: commandcenter sources list [--json]\n"
    "       commandcenter sources show SOURCE [--json]\n"
    "       commandcenter sources add NAME --type manual|file [--path DIR] [--schedule CRON]\n"
    "                                 [--tz ZONE] [--priority 1-10] [--disabled]\n"
    "       commandcenter sources edit SOURCE [--priority N] [--schedule CRON|--no-schedule]\n"
    "                                 [--tz ZONE] [--path DIR] [--name NEW]\n"
    "       commandcenter sources pause|resume|run|rm SOURCE\n"
    "\n"
    "Manages knowledge sources (SOURCE is a name or an id). Reading needs a read\n"
    "token; changes need an admin token.\n"
    "\n"
    "  --type T         manual (documents posted with 'ingest') or file (a folder)\n"
    "  --path DIR       the folder of a file source (absolute, as the daemon sees it)\n"
    "  --schedule CRON  when to run: five cron fields or @hourly, @daily, @weekly...\n"
    "  --tz ZONE        time zone of the schedule, e.g. Europe/Paris (default UTC)\n"
    "  --priority N     1-10, default 5: weighs the source's passages in search\n"
    "  --disabled       create it paused\n"
    "  --server URL     the daemon;  --json  print the server's JSON\n";

struct opts {
    const char *server, *type, *path, *schedule, *tz, *priority, *name;
    bool json, disabled, no_schedule;
};

static int parse(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        {"server", required_argument, NULL, 's'},  {"json", no_argument, NULL, 'j'},
        {"type", required_argument, NULL, 'T'},    {"path", required_argument, NULL, 'p'},
        {"schedule", required_argument, NULL, 'c'}, {"no-schedule", no_argument, NULL, 'C'},
        {"tz", required_argument, NULL, 'z'},      {"priority", required_argument, NULL, 'P'},
        {"name", required_argument, NULL, 'n'},    {"disabled", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 's': o->server = optarg; break;
        case 'j': o->json = true; break;
        case 'T': o->type = optarg; break;
        case 'p': o->path = optarg; break;
        case 'c': o->schedule = optarg; break;
        case 'C': o->no_schedule = true; break;
        case 'z': o->tz = optarg; break;
        case 'P': o->priority = optarg; break;
        case 'n': o->name = optarg; break;
        case 'd': o->disabled = true; break;
        case 'h': fputs(usage_text, stdout); return -1;
        default: fputs(usage_text, stderr); return CLI_USAGE;
        }
    }
    return CLI_OK;
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "-";
}

static void print_list(json_t *j)
{
    printf("%-5s %-20s %-7s %-4s %-8s %-24s %-7s %s\n", "ID", "NAME", "TYPE", "PRIO", "STATE",
           "LAST RUN", "STATUS", "DOCS");
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(j, "sources"), i, s) {
        printf("%-5lld %-20s %-7s %-4lld %-8s %-24s %-7s %lld\n",
               (long long)json_integer_value(json_object_get(s, "id")), str(s, "name"),
               str(s, "type"), (long long)json_integer_value(json_object_get(s, "priority")),
               json_is_true(json_object_get(s, "enabled")) ? "enabled" : "paused",
               str(s, "last_run"), str(s, "last_status"),
               (long long)json_integer_value(json_object_get(s, "documents")));
    }
}

static void print_one(json_t *s)
{
    json_t *c = json_object_get(s, "counters");
    printf("id          %lld\nname        %s\ntype        %s\n",
           (long long)json_integer_value(json_object_get(s, "id")), str(s, "name"),
           str(s, "type"));
    if (json_string_value(json_object_get(s, "path")))
        printf("path        %s\n", str(s, "path"));
    if (json_string_value(json_object_get(s, "url")))
        printf("url         %s\n", str(s, "url"));
    printf("priority    %lld\nstate       %s\nschedule    %s%s%s\nnext run    %s\n",
           (long long)json_integer_value(json_object_get(s, "priority")),
           json_is_true(json_object_get(s, "enabled")) ? "enabled" : "paused",
           str(s, "schedule"), json_string_value(json_object_get(s, "tz")) ? " " : "",
           json_string_value(json_object_get(s, "tz")) ? str(s, "tz") : "", str(s, "next_run"));
    printf("last run    %s (%s)\n", str(s, "last_run"), str(s, "last_status"));
    if (json_string_value(json_object_get(s, "last_error")))
        printf("last error  %s\n", str(s, "last_error"));
    printf("documents   %lld (ingested %lld, failed %lld, runs %lld)\n",
           (long long)json_integer_value(json_object_get(s, "documents")),
           (long long)json_integer_value(json_object_get(c, "ingested")),
           (long long)json_integer_value(json_object_get(c, "failed")),
           (long long)json_integer_value(json_object_get(c, "runs")));
}

/* The body of add/edit from the options given. */
static json_t *body_of(const struct opts *o, const char *name, bool creating)
{
    json_t *b = json_object();
    if (name)
        json_object_set_new(b, "name", json_string(name));
    if (o->type)
        json_object_set_new(b, "type", json_string(o->type));
    if (o->path)
        json_object_set_new(b, "path", json_string(o->path));
    if (o->schedule)
        json_object_set_new(b, "schedule", json_string(o->schedule));
    if (o->no_schedule)
        json_object_set_new(b, "schedule", json_null());
    if (o->tz)
        json_object_set_new(b, "tz", json_string(o->tz));
    if (o->priority) {
        char *end;
        long p = strtol(o->priority, &end, 10);
        json_object_set_new(b, "priority", *end || end == o->priority
                                               ? json_string(o->priority) : json_integer(p));
    }
    if (creating && o->disabled)
        json_object_set_new(b, "enabled", json_false());
    return b;
}

static int request(struct cli_client *c, const char *method, const char *path, json_t *body,
                   bool show)
{
    json_t *j = NULL;
    int rc = cli__request(c, method, path, body, &j);
    if (rc == CLI_OK && (c->json || show)) {
        if (c->json && j)
            cli__print_json(j);
        else if (j && json_object_get(j, "sources"))
            print_list(j);
        else if (j && json_object_get(j, "job_id"))
            printf("run queued as job %lld\n",
                   (long long)json_integer_value(json_object_get(j, "job_id")));
        else if (j)
            print_one(j);
    }
    json_decref(j);
    return rc;
}

static int dispatch(struct cli_client *c, const struct opts *o, const char *sub, const char *arg)
{
    struct cc_buf path;
    cc_buf_init(&path, 1024);
    cc_buf_addstr(&path, "/api/v1/sources");
    if (arg && strcmp(sub, "add") != 0) {
        cc_buf_addch(&path, '/');
        for (const char *p = arg; *p; p++)   /* names are [A-Za-z0-9._-]: encode the rest */
            strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-", *p)
                ? cc_buf_addch(&path, *p) : cc_buf_addf(&path, "%%%02X", (unsigned char)*p);
    }
    int rc;
    json_t *body = NULL;
    if (!strcmp(sub, "list") || !strcmp(sub, "show")) {
        rc = request(c, "GET", cc_buf_str(&path), NULL, true);
    } else if (!strcmp(sub, "add")) {
        body = body_of(o, arg, true);
        rc = request(c, "POST", cc_buf_str(&path), body, true);
    } else if (!strcmp(sub, "edit")) {
        body = body_of(o, o->name, false);
        rc = request(c, "PATCH", cc_buf_str(&path), body, true);
    } else if (!strcmp(sub, "rm")) {
        rc = request(c, "DELETE", cc_buf_str(&path), NULL, false);
        if (rc == CLI_OK && !c->json)
            printf("source %s deleted with its documents\n", arg);
    } else {
        cc_buf_addf(&path, "/%s", sub);   /* pause, resume, run */
        rc = request(c, "POST", cc_buf_str(&path), NULL, !strcmp(sub, "run"));
        if (rc == CLI_OK && !c->json && strcmp(sub, "run"))
            printf("source %s %s\n", arg, !strcmp(sub, "pause") ? "paused" : "resumed");
    }
    json_decref(body);
    cc_buf_release(&path);
    return rc;
}

int cmd_sources(int argc, char **argv, char *const *envp)
{
    struct opts o = {0};
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    int nargs = argc - optind;
    const char *sub = nargs > 0 ? argv[optind] : NULL;
    static const char *const one_arg[] = {"show", "add", "edit", "pause", "resume", "run",
                                          "rm", NULL};
    bool ok = sub && !strcmp(sub, "list") && nargs == 1;
    for (const char *const *s = one_arg; sub && *s && !ok; s++)
        ok = !strcmp(sub, *s) && nargs == 2;
    if (!ok) {
        cli__error("see 'commandcenter sources --help'",
                   sub ? "wrong arguments for 'sources %s'" : "missing subcommand%s",
                   sub ? sub : "");
        return CLI_USAGE;
    }
    if (!strcmp(sub, "add") && !o.type) {
        cli__error("add --type manual or --type file --path DIR", "a new source needs --type");
        return CLI_USAGE;
    }
    struct cli_client c;
    rc = cli__client_init(&c, o.server, o.json);
    if (rc)
        return rc;
    rc = dispatch(&c, &o, sub, nargs == 2 ? argv[optind + 1] : NULL);
    cli__client_release(&c);
    return rc;
}
