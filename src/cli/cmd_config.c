/*
 * cmd_config.c - `commandcenter config COMPOSE_FILE [--env-file F]` and
 * `commandcenter lint COMPOSE_FILE [--json]`: offline tools over the stack
 * spec parser (no daemon). Warnings go to stderr; exit 0 ok, 1 invalid
 * file (or lint failures), 2 usage.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "orchestrator/compose.h"

static void print_warnings(const struct orch_stack *s)
{
    for (size_t i = 0; i < s->warnings.n; i++)
        fprintf(stderr, "warning: %s\n", s->warnings.v[i]);
}

/* Loads file; prints the error and returns CLI_FAIL on failure. */
static int load(const char *file, const char *env_file, char *const *envp,
                struct orch_stack **out)
{
    struct orch_compose_opts o = {.envp = envp, .env_file = env_file};
    struct cc_diag d = {0};
    if (orch_compose_load(file, &o, out, &d) != CC_OK) {
        char msg[1024];
        cc_diag_format(&d, msg, sizeof(msg));
        fprintf(stderr, "commandcenter: %s\n", msg);
        return CLI_FAIL;
    }
    print_warnings(*out);
    return CLI_OK;
}

static int config_usage(FILE *out, int rc)
{
    fprintf(out, "usage: commandcenter config COMPOSE_FILE [--env-file FILE]\n\n"
                 "Validates a Compose file (offline) and prints the normalized stack as JSON\n"
                 "in the shape of `docker compose config --format json`. Variables come from\n"
                 "the environment, then from .env beside the file (or --env-file).\n"
                 "Exit status: 0 valid, 1 invalid (file:line:col on stderr), 2 usage.\n");
    return rc;
}

int cmd_config(int argc, char **argv, char *const *envp)
{
    const char *file = NULL, *env_file = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return config_usage(stdout, CLI_OK);
        if (strcmp(argv[i], "--env-file") == 0 && i + 1 < argc)
            env_file = argv[++i];
        else if (argv[i][0] == '-' || file)
            return config_usage(stderr, CLI_USAGE);
        else
            file = argv[i];
    }
    if (!file)
        return config_usage(stderr, CLI_USAGE);
    struct orch_stack *s = NULL;
    json_t *j = NULL;
    int rc = load(file, env_file, envp, &s);
    if (rc == CLI_OK && orch_compose_json(s, &j) != CC_OK)
        rc = CLI_FAIL;
    if (rc == CLI_OK) {
        json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(6));
        fputc('\n', stdout);
    }
    json_decref(j);
    orch_stack_free(s);
    return rc;
}

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
    if (load(file, NULL, envp, &s) != CLI_OK)
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
