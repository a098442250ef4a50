/*
 * cmd_lint.c - `commandcenter lint COMPOSE_FILE [--json]`: the security
 * checklist of a Compose file (offline). Exit 0 no FAIL, 1 any FAIL,
 * 2 usage or an invalid file.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "orchestrator/compose.h"

static int lint_usage(FILE *out, int rc)
{
    fprintf(out, "usage: commandcenter lint COMPOSE_FILE [--json]\n\n"
                 "Reports the security checklist of every service (offline): root user,\n"
                 "limits, healthcheck, mutable tags, secrets in environment, privileged,\n"
                 "host network, Docker socket, capabilities, read-only root,\n"
                 "no-new-privileges. Exit status: 0 no FAIL, 1 any FAIL, 2 usage or an\n"
                 "invalid file.\n");
    return rc;
}

static void print_table(json_t *report)
{
    const char *name;
    json_t *svc;
    json_object_foreach(json_object_get(report, "services"), name, svc) {
        printf("%s\n", name);
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(svc, "checks"), i, c)
            printf("  %-4s  %-18s %s\n", json_string_value(json_object_get(c, "status")),
                   json_string_value(json_object_get(c, "id")),
                   json_string_value(json_object_get(c, "message")));
    }
    json_t *sum = json_object_get(report, "summary");
    printf("\n%lld failed, %lld warnings\n",
           (long long)json_integer_value(json_object_get(sum, "fail")),
           (long long)json_integer_value(json_object_get(sum, "warn")));
}

int cmd_lint(int argc, char **argv, char *const *envp)
{
    const char *file = NULL;
    bool as_json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return lint_usage(stdout, CLI_OK);
        if (strcmp(argv[i], "--json") == 0)
            as_json = true;
        else if (argv[i][0] == '-' || file)
            return lint_usage(stderr, CLI_USAGE);
        else
            file = argv[i];
    }
    if (!file)
        return lint_usage(stderr, CLI_USAGE);
    struct orch_stack *s = NULL;
    json_t *report = NULL;
    if (cli__compose_load(file, NULL, envp, &s) != CLI_OK)
        return CLI_USAGE;
    int rc = CLI_USAGE;
    if (orch_lint(s, &report) == CC_OK) {
        if (as_json) {
            json_dumpf(report, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            fputc('\n', stdout);
        } else {
            print_table(report);
        }
        rc = json_integer_value(json_object_get(json_object_get(report, "summary"), "fail"))
                 ? CLI_FAIL : CLI_OK;
    }
    json_decref(report);
    orch_stack_free(s);
    return rc;
}
