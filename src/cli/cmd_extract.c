/*
 * cmd_extract.c - `commandcenter extract FILE.html --url URL`: the main
 * content of a page as the documentation crawler extracts it
 * (ingest/web/extract.h), offline.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "ingest/parse/parse.h"
#include "ingest/web/extract.h"

static const char usage_text[] =
    "usage: commandcenter extract FILE.html [--url URL]\n"
    "\n"
    "Prints the main content of an HTML page as JSON, the way the documentation\n"
    "crawler extracts it. Works offline; nothing is fetched.\n"
    "\n"
    "  FILE.html    the page ('-' reads standard input)\n"
    "  --url URL    where the page was served from: names it in errors and is\n"
    "               where the docs version comes from (/v1.0/, /en/latest/ ...)\n"
    "\n"
    "Output: {\"title\", \"text\", \"headings\": [{\"level\", \"text\"}],\n"
    "\"code_blocks\": [{\"language\", \"text\"}], \"needs_javascript\", \"version\",\n"
    "\"site\"}. Content is found by the generator's layout (Docusaurus, MkDocs,\n"
    "MkDocs Material, Sphinx, GitBook) or else by scoring text density;\n"
    "navigation, sidebars, tables of contents, footers and \"edit this page\"\n"
    "links are left out. A page that needs JavaScript to show its content has\n"
    "\"needs_javascript\": true and no text.\n";

#define HINT "see 'commandcenter extract --help'"

static json_t *page_json(const struct ingest_page *p, const char *text)
{
    json_t *headings = json_array(), *code = json_array();
    for (size_t i = 0; i < p->text.nblocks; i++) {
        const struct ingest_block *b = &p->text.blocks[i];
        if (b->kind == INGEST_HEADING)
            json_array_append_new(headings, json_pack("{s:i, s:s}", "level", b->level, "text",
                                                      b->text));
        else if (b->kind == INGEST_CODE)
            json_array_append_new(code, json_pack("{s:s?, s:s}", "language", b->lang, "text",
                                                   b->text));
    }
    return json_pack("{s:s?, s:s, s:o, s:o, s:b, s:s?, s:s}", "title", p->text.title, "text",
                     text, "headings", headings, "code_blocks", code, "needs_javascript",
                     p->needs_javascript, "version", p->version[0] ? p->version : NULL,
                     "site", ingest_site_name(p->site));
}

static int read_input(const char *file, struct cc_buf *b)
{
    if (strcmp(file, "-") != 0)
        return cli__read_file(file, b->limit, b);
    return cli__read_file("/dev/stdin", b->limit, b);
}

int cmd_extract(int argc, char **argv, char *const *envp)
{
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *url = NULL;
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'u': url = optarg; break;
        case 'h': fputs(usage_text, stdout); return CLI_OK;
        case ':':
            cli__error(HINT, "option '%s' needs a value", argv[optind - 1]);
            return CLI_USAGE;
        default:
            cli__error(HINT, "unknown option '%s'", argv[optind - 1]);
            return CLI_USAGE;
        }
    }
    if (optind != argc - 1) {
        cli__error(HINT, optind >= argc ? "missing the HTML file"
                                        : "extract takes one HTML file");
        return CLI_USAGE;
    }
    const char *file = argv[optind];
    struct cc_buf in, text;
    cc_buf_init(&in, INGEST_PARSE_MAX_INPUT);
    cc_buf_init(&text, INGEST_TEXT_DEFAULT_LIMIT * 2);
    struct ingest_page page;
    ingest_page_init(&page, 0);
    struct cc_diag d = { 0 };
    int rc = read_input(file, &in);
    if (rc != CLI_OK)
        goto out;
    cc_err err = ingest_page_extract(cc_buf_str(&in), in.len, url ? url : file, &page, &d);
    if (!err)
        err = ingest_page_plain_text(&page.text, &text);
    if (err) {
        char msg[1024];
        cc_diag_format(&d, msg, sizeof(msg));
        cli__error(err == CC_EUNSUPPORTED ? "install libxml2 (apt-get install libxml2)"
                                          : "the page is too large to extract",
                   "%s: %s", file, d.msg[0] ? msg : cc_err_str(err));
        rc = CLI_FAIL;
        goto out;
    }
    json_t *j = page_json(&page, cc_buf_str(&text));
    cli__print_json(j);
    json_decref(j);
out:
    ingest_page_release(&page);
    cc_buf_release(&text);
    cc_buf_release(&in);
    return rc;
}
