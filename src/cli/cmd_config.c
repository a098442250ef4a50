/*
 * cmd_config.c - `commandcenter config COMPOSE_FILE [--env-file F]`: the
 * stack spec parser as an offline tool (no daemon). Warnings go to stderr;
 * exit 0 ok, 1 invalid file (file:line:col), 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "orchestrator/compose.h"

static void print_warnings(const struct orch_stack *s)
{
    for (size_t i = 0; i < s->warnings.n; i++)
        fprintf(stderr, "warning: %s\n", s->warnings.v[i]);
}

/* Loads file; prints warnings, or the error and returns CLI_FAIL. */
int cli__compose_load(const char *file, const char *env_file, char *const *envp,
                struct orch_stack **out)
{
    struct orch_compose_opts o = {.envp = envp, .env_file = env_file};
    struct cc_diag d = {0};
    cc_err err;
    if (strcmp(file, "-") == 0) {
        /* Standard input, as `docker compose -f -`: the project directory is
         * the current one. */
        char cwd[4096];
        char *text = cc_xmalloc(ORCH_COMPOSE_MAX_FILE + 1);
        size_t len = fread(text, 1, ORCH_COMPOSE_MAX_FILE + 1, stdin);
        o.file = "-";
        o.dir = getcwd(cwd, sizeof(cwd));
        err = len > ORCH_COMPOSE_MAX_FILE ? CC_ELIMIT : orch_compose_parse(text, len, &o, out, &d);
        if (err == CC_ELIMIT)
            cc_diag_set(&d, "-", 0, 0, "the Compose file is larger than 1 MiB");
        free(text);
    } else {
        err = orch_compose_load(file, &o, out, &d);
    }
    if (err != CC_OK) {
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
    fprintf(out, "usage: commandcenter config COMPOSE_FILE|- [--env-file FILE]\n\n"
                 "Validates a Compose file (offline) and prints the normalized stack as JSON\n"
                 "in the shape of `docker compose config --format json`. Variables come from\n"
                 "the environment, then from .env beside the file (or --env-file).\n"
                 "'-' reads the file from standard input (the project directory is then\n"
                 "the current one). Only regular files are read: a FIFO or device is refused.\n"
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
        else if ((argv[i][0] == '-' && argv[i][1]) || file)
            return config_usage(stderr, CLI_USAGE);
        else
            file = argv[i];
    }
    if (!file)
        return config_usage(stderr, CLI_USAGE);
    struct orch_stack *s = NULL;
    json_t *j = NULL;
    int rc = cli__compose_load(file, env_file, envp, &s);
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

