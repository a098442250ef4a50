/*
 * main.c - `commandcenter COMMAND ...`: finds the command and runs it.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

extern char **environ;

const struct cli_command cli_commands[] = {
    {.name = "serve", .summary = "run the daemon (HTTP API and Hub)", .run = cmd_serve},
    {.name = "status", .summary = "show the daemon's version, uptime and store", .run = cmd_status},
    {.name = "tokens", .summary = "list, create and revoke API tokens", .run = cmd_tokens},
    {.name = "projects", .summary = "list, register, show and forget projects",
     .run = cmd_projects},
    {.name = "ls", .summary = "list projects (as docker compose ls)", .run = cmd_ls},
    {.name = "up", .summary = "start a project (--wait: until it is ready)", .run = cmd_up},
    {.name = "down", .summary = "stop a project in reverse dependency order", .run = cmd_down},
    {.name = "ps", .summary = "list a project's services", .run = cmd_ps},
    {.name = "health", .summary = "show a project's health from CommandCenter's probes",
     .run = cmd_health},
    {.name = "logs", .summary = "show or follow a service's logs", .run = cmd_logs},
    {.name = "restart", .summary = "restart one service", .run = cmd_restart},
    {.name = "resources", .summary = "show limits and live usage per service",
     .run = cmd_resources},
    {.name = "events", .summary = "show or follow the event log", .run = cmd_events},
    {.name = "sources", .summary = "manage knowledge sources", .run = cmd_sources},
    {.name = "ingest", .summary = "upload files or folders into the knowledge store",
     .run = cmd_ingest},
    {.name = "search", .summary = "search the knowledge store", .run = cmd_search},
    {.name = "jobs", .summary = "show the ingestion queue; retry failed jobs", .run = cmd_jobs},
    {.name = "alerts", .summary = "show the alerts Alertmanager delivered", .run = cmd_alerts},
    {.name = "cron", .summary = "offline: next run times of a cron expression", .run = cmd_cron},
    {.name = "robots", .summary = "offline: whether robots.txt lets an agent fetch a URL",
     .run = cmd_robots},
    {.name = "extract", .summary = "offline: main content of an HTML page as JSON",
     .run = cmd_extract},
    {.name = "feed", .summary = "offline: parse an RSS, Atom or JSON feed file into JSON",
     .run = cmd_feed},
    {.name = "config", .summary = "offline: validate a Compose file and print it normalized as JSON",
     .run = cmd_config},
    {.name = "lint", .summary = "security checklist of a Compose file (exit 1 on failures)",
     .run = cmd_lint},
    {.name = "backup", .summary = "offline: back up the store (SQLite or PostgreSQL)",
     .run = cmd_backup},
    {.name = "restore", .summary = "offline: restore a backup into a stopped daemon's store",
     .run = cmd_restore},
    {.name = "version", .summary = "print the version of this binary", .run = cmd_version},
    {.name = "shim", .summary = "internal: the process driver's per-service shim",
     .run = cmd_shim, .hidden = true},
    {.name = "man-pages", .summary = "internal: write the man pages (make install)",
     .run = cmd_man_pages, .hidden = true},
    {.name = "config-example", .summary = "internal: print the example configuration",
     .run = cmd_config_example, .hidden = true},
    {.name = "fetch", .summary = "offline: fetch URLs the way sources do (JSON per URL)",
     .run = cmd_fetch, .hidden = true},
    {.name = NULL},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: commandcenter COMMAND [OPTIONS]\n\n"
                 "Orchestrates project stacks, ingests knowledge and observes both.\n\n"
                 "Commands:\n");
    for (const struct cli_command *c = cli_commands; c->name; c++)
        if (!c->hidden)
            fprintf(out, "  %-10s %s\n", c->name, c->summary);
    fprintf(out, "\nRun 'commandcenter COMMAND --help' for a command's options.\n"
                 "Client commands take --server URL (or CC_SERVER) and a token from\n"
                 "CC_TOKEN or CC_TOKEN_FILE.\n");
}

/* Optimal string alignment distance (Damerau-Levenshtein with adjacent
 * transpositions), for "did you mean"; names longer than 31 bytes are far
 * from every command anyway. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 31 || lb > 31)
        return 99;
    size_t d[32][32];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best)
                best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

/* The visible command nearest to name (at most 2 edits, and fewer than
 * half its letters), or NULL. */
static const char *closest_command(const char *name)
{
    const char *best = NULL;
    size_t best_d = 3;
    for (const struct cli_command *c = cli_commands; c->name; c++) {
        size_t dist = c->hidden ? 99 : edit_distance(name, c->name);
        if (dist < best_d && dist * 2 < strlen(c->name)) {
            best = c->name;
            best_d = dist;
        }
    }
    return best;
}

int cli_main(int argc, char **argv, char *const *envp)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        if (argc > 2 && strcmp(name, "help") == 0) {
            char *sub[] = {argv[2], "--help", NULL};
            for (const struct cli_command *c = cli_commands; c->name; c++)
                if (strcmp(c->name, argv[2]) == 0)
                    return c->run(2, sub, envp);
        }
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(name, "--version") == 0)
        name = "version";
    for (const struct cli_command *c = cli_commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c->run(argc - 1, argv + 1, envp);
    const char *near = closest_command(name);
    if (near)
        cli__error("run 'commandcenter --help' for the list of commands",
                   "unknown command '%s'; did you mean '%s'?", name, near);
    else
        cli__error("run 'commandcenter --help' for the list of commands",
                   "unknown command '%s'", name);
    return CLI_USAGE;
}

int main(int argc, char **argv)
{
    return cli_main(argc, argv, environ);
}
