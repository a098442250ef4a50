#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"

static const char usage_text[] =
    "usage: commandcenter search QUERY [-k N] [--source S] [--tag T] [--since TIME]\n"
    "                            [--version V] [--server URL] [--json]\n"
    "\n"
    "Searches the knowledge store (BM25, weighted by each source's priority).\n"
    "Needs a read token.\n"
    "\n"
    "  -k N          passages to return, 1-100 (default 10)\n"
    "  --source S    only this source (name or id)\n"
    "  --tag T       only documents with this tag\n"
    "  --since TIME  only documents published or updated since (RFC 3339 or a date)\n"
    "  --version V   only this documentation version\n";

/* Snippets mark matches with <mark>; a terminal shows them in bold. */
static void print_snippet(const char *s, bool tty)
{
    static const struct {
        const char *from;
        const char *to_tty;
        const char *to_plain;
    } subs[] = {
        {"<mark>", "\x1b[1m", ""}, {"</mark>", "\x1b[0m", ""}, {"&lt;", "<", "<"},
        {"&gt;", ">", ">"},       {"&quot;", "\"", "\""},     {"&#39;", "'", "'"},
        {"&amp;", "&", "&"},
    };
    fputs("    ", stdout);
    while (*s) {
        bool done = false;
        for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]) && !done; i++) {
            size_t n = strlen(subs[i].from);
            if (strncmp(s, subs[i].from, n) == 0) {
                fputs(tty ? subs[i].to_tty : subs[i].to_plain, stdout);
                s += n;
                done = true;
            }
        }
        if (!done) {
            fputc(*s == '\n' ? ' ' : *s, stdout);
            s++;
        }
    }
    fputc('\n', stdout);
}

static void print_results(json_t *j)
{
    bool tty = cli__stdout_is_tty();
    json_t *results = json_object_get(j, "results");
    if (json_array_size(results) == 0) {
        printf("no results\n");
        return;
    }
    size_t i;
    json_t *r;
    json_array_foreach(results, i, r) {
        const char *title = json_string_value(json_object_get(r, "title"));
        const char *heading = json_string_value(json_object_get(r, "heading"));
        const char *url = json_string_value(json_object_get(r, "url"));
        /* A heading path usually starts with the document's own H1. */
        size_t tl = title ? strlen(title) : 0;
        if (heading && title && strncmp(heading, title, tl) == 0 &&
            (heading[tl] == '\0' || strncmp(heading + tl, " › ", 5) == 0))
            title = NULL;
        printf("%zu. %s%s%s  [%s, score %.2f]\n", i + 1, title ? title : "",
               title && heading ? " › " : "", heading ? heading : "",
               json_string_value(json_object_get(r, "source")),
               json_real_value(json_object_get(r, "score")));
        if (url)
            printf("    %s\n", url);
        const char *snip = json_string_value(json_object_get(r, "snippet"));
        if (snip)
            print_snippet(snip, tty);
    }
}

int cmd_search(int argc, char **argv, char *const *envp)
{
    static const struct option longopts[] = {
        {"server", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
        {"source", required_argument, NULL, 'S'}, {"tag", required_argument, NULL, 't'},
        {"since", required_argument, NULL, 'd'},  {"version", required_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *server = NULL, *k = NULL, *source = NULL, *tag = NULL, *since = NULL,
               *version = NULL;
    bool json = false;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "hk:", longopts, NULL)) != -1) {
        switch (ch) {
        case 's': server = optarg; break;
        case 'j': json = true; break;
        case 'k': k = optarg; break;
        case 'S': source = optarg; break;
        case 't': tag = optarg; break;
        case 'd': since = optarg; break;
        case 'v': version = optarg; break;
        case 'h': fputs(usage_text, stdout); return CLI_OK;
        default: fputs(usage_text, stderr); return CLI_USAGE;
        }
    }
    if (argc - optind != 1 || !*argv[optind]) {
        cli__error("quote a query of several words: commandcenter search 'restart policy'",
                   "search takes one QUERY argument");
        return CLI_USAGE;
    }
    struct cli_client c;
    int rc = cli__client_init(&c, server, json);
    if (rc)
        return rc;
    struct cc_buf path;
    cc_buf_init(&path, 8192);
    cc_buf_addstr(&path, "/api/v1/knowledge/search");
    cli__add_param(&path, "q", argv[optind]);
    cli__add_param(&path, "k", k);
    cli__add_param(&path, "source", source);
    cli__add_param(&path, "tag", tag);
    cli__add_param(&path, "since", since);
    cli__add_param(&path, "version", version);
    json_t *j = NULL;
    rc = cli__request(&c, "GET", cc_buf_str(&path), NULL, &j);
    if (rc == CLI_OK)
        json ? cli__print_json(j) : print_results(j);
    json_decref(j);
    cc_buf_release(&path);
    cli__client_release(&c);
    return rc;
}
