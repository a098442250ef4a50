#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static const char usage_text[] =
    "usage: commandcenter tokens list [--server URL] [--json]\n"
    "       commandcenter tokens create NAME [--scope read|admin] [--server URL] [--json]\n"
    "       commandcenter tokens rm ID [--server URL]\n"
    "\n"
    "Manages API tokens (needs an admin token in CC_TOKEN or CC_TOKEN_FILE).\n"
    "A new token is printed once, on creation; only its hash is stored.\n"
    "\n"
    "  --scope S     read (GET routes only) or admin (everything); default read\n"
    "  --server URL  the daemon (default $CC_SERVER or " CLI_DEFAULT_SERVER ")\n"
    "  --json        print the server's JSON answer\n";

static int list(struct cli_client *c)
{
    json_t *j = NULL;
    int rc = cli__request(c, "GET", "/api/v1/tokens", NULL, &j);
    if (rc)
        return rc;
    if (c->json) {
        cli__print_json(j);
    } else {
        printf("%-6s %-24s %-6s %s\n", "ID", "NAME", "SCOPE", "CREATED");
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(j, "tokens"), i, t) {
            printf("%-6lld %-24s %-6s %s\n",
                   (long long)json_integer_value(json_object_get(t, "id")),
                   json_string_value(json_object_get(t, "name")),
                   json_string_value(json_object_get(t, "scope")),
                   json_string_value(json_object_get(t, "created_at")));
        }
    }
    json_decref(j);
    return CLI_OK;
}

static int create(struct cli_client *c, const char *name, const char *scope)
{
    json_t *body = json_pack("{s:s, s:s}", "name", name, "scope", scope);
    json_t *j = NULL;
    int rc = cli__request(c, "POST", "/api/v1/tokens", body, &j);
    json_decref(body);
    if (rc)
        return rc;
    if (c->json) {
        cli__print_json(j);
    } else {
        printf("%s\n", json_string_value(json_object_get(j, "token")));
        if (isatty(fileno(stdout)) || isatty(fileno(stderr)))
            fprintf(stderr, "token '%s' (id %lld, scope %s) created; it is shown only once\n",
                    name, (long long)json_integer_value(json_object_get(j, "id")), scope);
    }
    json_decref(j);
    return CLI_OK;
}

static int rm(struct cli_client *c, const char *id)
{
    for (const char *p = id; *p; p++) {
        if (*p < '0' || *p > '9' || p - id > 18) {
            cli__error("find the id with 'commandcenter tokens list'",
                       "'%s' is not a token id", id);
            return CLI_USAGE;
        }
    }
    char path[64];
    snprintf(path, sizeof(path), "/api/v1/tokens/%s", id);
    json_t *j = NULL;
    int rc = cli__request(c, "DELETE", path, NULL, &j);
    json_decref(j);
    if (rc == CLI_OK && !c->json)
        printf("token %s revoked\n", id);
    return rc;
}

int cmd_tokens(int argc, char **argv, char *const *envp)
{
    static const struct option longopts[] = {
        {"server", required_argument, NULL, 's'},
        {"scope", required_argument, NULL, 'S'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *server = NULL, *scope = "read";
    bool json = false;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 's': server = optarg; break;
        case 'S': scope = optarg; break;
        case 'j': json = true; break;
        case 'h': fputs(usage_text, stdout); return CLI_OK;
        default: fputs(usage_text, stderr); return CLI_USAGE;
        }
    }
    int nargs = argc - optind;
    const char *sub = nargs > 0 ? argv[optind] : NULL;
    bool ok = sub && ((strcmp(sub, "list") == 0 && nargs == 1) ||
                      ((strcmp(sub, "create") == 0 || strcmp(sub, "rm") == 0) && nargs == 2));
    if (!ok) {
        cli__error("see 'commandcenter tokens --help'",
                   sub ? "wrong arguments for 'tokens %s'" : "missing subcommand%s", sub ? sub : "");
        return CLI_USAGE;
    }
    if (strcmp(scope, "read") && strcmp(scope, "admin")) {
        cli__error("use --scope read or --scope admin", "unknown scope '%s'", scope);
        return CLI_USAGE;
    }
    struct cli_client c;
    int rc = cli__client_init(&c, server, json);
    if (rc)
        return rc;
    if (strcmp(sub, "list") == 0)
        rc = list(&c);
    else if (strcmp(sub, "create") == 0)
        rc = create(&c, argv[optind + 1], scope);
    else
        rc = rm(&c, argv[optind + 1]);
    cli__client_release(&c);
    return rc;
}
