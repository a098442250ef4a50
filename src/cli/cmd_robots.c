/*
 * cmd_robots.c - `commandcenter robots check ROBOTS_FILE USER_AGENT URL`:
 * whether a robots.txt lets an agent fetch a URL, offline, with the parser
 * the crawler uses (ingest/web/robots.h).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "ingest/web/robots.h"

static const char usage_text[] =
    "usage: commandcenter robots check ROBOTS_FILE USER_AGENT URL\n"
    "\n"
    "Prints {\"allowed\": true|false}: whether the robots.txt in ROBOTS_FILE lets\n"
    "USER_AGENT fetch URL, as RFC 9309 says and the documentation crawler does.\n"
    "Works offline.\n"
    "\n"
    "  ROBOTS_FILE  a robots.txt file (only its first 500 KiB are read)\n"
    "  USER_AGENT   the crawler's product token, e.g. CommandCenter or\n"
    "               'FooBot/1.0 (+https://example.com/bot)' (the token is\n"
    "               its leading letters, '-' and '_')\n"
    "  URL          an absolute URL or a path such as /docs/intro?x=1\n"
    "\n"
    "Groups are chosen by the token (case-insensitive), else '*'; the longest\n"
    "matching Allow/Disallow wins, Allow on a tie; '*' and '$' are wildcards.\n";

#define HINT "see 'commandcenter robots --help'"

static int check(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage_text, stdout);
        return CLI_OK;
    }
    if (argc != 4) {
        cli__error(HINT, "'robots check' takes ROBOTS_FILE USER_AGENT URL (%d argument%s "
                   "given)", argc - 1, argc == 2 ? "" : "s");
        return CLI_USAGE;
    }
    char path[INGEST_ROBOTS_MAX_PATH];
    cc_err err = ingest_robots_path_of_url(argv[3], path, sizeof(path));
    if (err) {
        cli__error("give an http(s) URL such as https://example.com/docs/ or a path "
                   "starting with '/'", "'%s' is not a URL robots.txt applies to%s", argv[3],
                   err == CC_ELIMIT ? " (too long)" : "");
        return CLI_USAGE;
    }
    struct cc_buf b;
    cc_buf_init(&b, (size_t)64 << 20);
    int rc = cli__read_file(argv[1], b.limit, &b);
    struct ingest_robots *r = NULL;
    if (rc == CLI_OK && ingest_robots_parse(cc_buf_str(&b), b.len, &r) == CC_OK) {
        json_t *j = json_pack("{s:b}", "allowed", ingest_robots_allowed(r, argv[2], path));
        cli__print_json(j);
        json_decref(j);
    }
    ingest_robots_free(r);
    cc_buf_release(&b);
    return rc;
}

int cmd_robots(int argc, char **argv, char *const *envp)
{
    if (argc >= 2 && strcmp(argv[1], "check") == 0)
        return check(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage_text, stdout);
        return CLI_OK;
    }
    if (argc < 2)
        cli__error(HINT, "missing the subcommand: 'robots check'");
    else
        cli__error(HINT, "unknown subcommand 'robots %s' (expected 'robots check')", argv[1]);
    return CLI_USAGE;
}
