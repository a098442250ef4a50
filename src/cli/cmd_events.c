#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"

static const char usage_text[] =
    "usage: commandcenter events [-f] [--project P] [--after ID | --before ID]\n"
    "                            [--limit N] [--server URL] [--json]\n"
    "\n"
    "Shows the event log (daemon starts and stops; service, job and alert state\n"
    "changes), the newest first; says on stderr when older ones exist and how to\n"
    "see them. Needs a read token.\n"
    "\n"
    "  -f, --follow  stream events as they happen (server-sent events) until\n"
    "                interrupted; with --after, first the ones after that id\n"
    "  --project P   only events of project P (with --follow)\n"
    "  --before ID   the newest events with an id below ID (paging back)\n"
    "  --after ID    the events after ID, oldest first (paging forward)\n"
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

static void print_event(json_t *e)
{
    const char *proj = json_string_value(json_object_get(e, "project"));
    const char *svc = json_string_value(json_object_get(e, "service"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    printf("%-6lld %s %-18s %s%s%s%s%s\n", (long long)json_integer_value(json_object_get(e, "id")),
           json_string_value(json_object_get(e, "ts")), json_string_value(json_object_get(e, "kind")),
           proj ? proj : "", svc ? "/" : "", svc ? svc : "", proj || svc ? " " : "",
           msg ? msg : "");
}

/* Server-sent events: only the data: lines matter to us; one event per
 * line of output (its JSON with --json). */
struct sse_reader {
    bool json;
    struct cc_buf line;
};

static bool sse_body(void *arg, const char *p, size_t n)
{
    struct sse_reader *r = arg;
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) : n;
        if (cc_buf_add(&r->line, p, take) != CC_OK)
            cc_buf_reset(&r->line);
        if (!nl)
            break;
        if (r->line.len > 6 && strncmp(r->line.ptr, "data: ", 6) == 0) {
            json_t *e = json_loadb(r->line.ptr + 6, r->line.len - 6, 0, NULL);
            if (e && r->json)
                printf("%.*s\n", (int)(r->line.len - 6), r->line.ptr + 6);
            else if (e)
                print_event(e);
            fflush(stdout);
            json_decref(e);
        }
        cc_buf_reset(&r->line);
        p = nl + 1;
        n -= take + 1;
    }
    return true;
}

int cmd_events(int argc, char **argv, char *const *envp)
{
    static const struct option longopts[] = {
        {"server", required_argument, NULL, 's'},
        {"after", required_argument, NULL, 'a'},
        {"before", required_argument, NULL, 'b'},
        {"limit", required_argument, NULL, 'l'},
        {"follow", no_argument, NULL, 'f'},
        {"project", required_argument, NULL, 'p'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *server = NULL, *after = "0", *before = "0", *limit = "100", *project = NULL;
    bool json = false, follow = false, after_set = false, before_set = false;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "hf", longopts, NULL)) != -1) {
        switch (ch) {
        case 's': server = optarg; break;
        case 'a': after = optarg; after_set = true; break;
        case 'b': before = optarg; before_set = true; break;
        case 'f': follow = true; break;
        case 'p': project = optarg; break;
        case 'l': limit = optarg; break;
        case 'j': json = true; break;
        case 'h': fputs(usage_text, stdout); return CLI_OK;
        default: fputs(usage_text, stderr); return CLI_USAGE;
        }
    }
    if (optind < argc || !digits(after, 18) || !digits(before, 18) || !digits(limit, 4) ||
        strtol(limit, NULL, 10) < 1 || strtol(limit, NULL, 10) > 1000 ||
        (after_set && before_set)) {
        cli__error("see 'commandcenter events --help'",
                   "--after and --before must be numbers (not both) and --limit a number "
                   "from 1 to 1000");
        return CLI_USAGE;
    }
    struct cli_client c;
    int rc = cli__client_init(&c, server, json);
    if (rc)
        return rc;
    if (follow) {
        struct cc_buf p;
        cc_buf_init(&p, 4096);
        cc_buf_addstr(&p, "/api/v1/events?follow=1");
        cli__add_param(&p, "after", after_set ? after : NULL);
        cli__add_param(&p, "project", project);
        struct sse_reader r = {.json = json};
        cc_buf_init(&r.line, 1u << 20);
        rc = cli__stream(&c, cc_buf_str(&p), "text/event-stream", sse_body, &r);
        cc_buf_release(&r.line);
        cc_buf_release(&p);
        cli__client_release(&c);
        return rc;
    }
    char path[128];
    if (after_set)
        snprintf(path, sizeof(path), "/api/v1/events?after=%s&limit=%s", after, limit);
    else
        snprintf(path, sizeof(path), "/api/v1/events?before=%s&limit=%s", before, limit);
    json_t *j = NULL;
    rc = cli__request(&c, "GET", path, NULL, &j);
    if (rc == CLI_OK && json) {
        cli__print_json(j);
    } else if (rc == CLI_OK) {
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(j, "events"), i, e)
            print_event(e);
        if (json_is_true(json_object_get(j, "more")) && after_set)
            fprintf(stderr, "(more: commandcenter events --after %lld)\n",
                    (long long)json_integer_value(json_object_get(j, "last_id")));
        else if (json_is_true(json_object_get(j, "more")))
            fprintf(stderr, "(older events: commandcenter events --before %lld)\n",
                    (long long)json_integer_value(json_object_get(j, "next_before")));
    }
    json_decref(j);
    cli__client_release(&c);
    return rc;
}
