/*
 * cmd_feed.c - `commandcenter feed parse FILE`: a feed file parsed offline
 * (no daemon) into SPEC 2.1's JSON, by the parser the RSS source uses.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "ingest/feed/feed.h"

/* Bigger files are refused: no real feed comes near it. */
#define FEED_FILE_MAX (64u * 1024 * 1024)

static const char usage_text[] =
    "usage: commandcenter feed parse FILE [--content-type TYPE] [--base URL]\n"
    "\n"
    "Parses an RSS 0.9x/1.0/2.0, Atom 0.3/1.0 or JSON Feed 1.0/1.1 file and prints\n"
    "it as JSON, the way the rss source reads feeds. Works offline (no network).\n"
    "\n"
    "  FILE                 the feed; '-' reads standard input (at most 64 MiB)\n"
    "  --content-type TYPE  the HTTP Content-Type it was served with, whose\n"
    "                       charset wins over the XML prolog, e.g.\n"
    "                       'application/rss+xml; charset=iso-8859-1'\n"
    "  --base URL           the URL it was fetched from; relative links resolve\n"
    "                       against xml:base, then the feed's link, then this\n"
    "\n"
    "Output: {bozo, bozo_message, version, encoding, feed:{...}, entries:[...]};\n"
    "dates are RFC 3339 UTC or null. bozo is true for a feed that was broken but\n"
    "readable (its message says how). A file that is no feed at all prints the\n"
    "same shape with bozo true and no entries, and exits 1. See docs/FEEDS.md.\n";

#define HINT "see 'commandcenter feed --help'"

static int read_file(const char *path, struct cc_buf *b)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!fp) {
        cli__error("check the path and its permissions", "cannot read '%s': %s", path,
                   strerror(errno));
        return CLI_FAIL;
    }
    char chunk[65536];
    size_t n;
    int rc = CLI_OK;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
        if (cc_buf_add(b, chunk, n) != CC_OK) {
            cli__error("feeds are parsed whole; split the file", "'%s' is larger than %u MiB",
                       path, FEED_FILE_MAX / (1024 * 1024));
            rc = CLI_FAIL;
            break;
        }
    }
    if (rc == CLI_OK && ferror(fp)) {
        cli__error("check the path: it must be a regular file", "cannot read '%s': %s", path,
                   strerror(errno));
        rc = CLI_FAIL;
    }
    if (fp != stdin)
        fclose(fp);
    return rc;
}

static int parse_cmd(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"content-type", required_argument, NULL, 't'},
        {"base", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *ctype = NULL, *base = NULL;
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (ch) {
        case 't': ctype = optarg; break;
        case 'b': base = optarg; break;
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
        cli__error(HINT, optind >= argc ? "missing the feed file" : "expected one feed file");
        return CLI_USAGE;
    }
    const char *path = argv[optind];
    struct cc_buf b;
    cc_buf_init(&b, FEED_FILE_MAX);
    int rc = read_file(path, &b);
    if (rc != CLI_OK)
        goto out;
    struct feed *f = NULL;
    struct cc_diag d = {0};
    const struct feed_limits lim = {.max_bytes = FEED_FILE_MAX};
    cc_err err = feed_parse((const uint8_t *)cc_buf_str(&b), b.len, ctype, base, &lim, &f, &d);
    struct cc_buf out;
    cc_buf_init(&out, SIZE_MAX / 2);
    if (err == CC_EPARSE) {
        /* feedparser's answer to a non-feed: bozo, no entries. */
        struct feed empty = {.bozo = true, .bozo_message = d.msg, .version = "",
                             .feed = {.updated = FEED_NO_DATE}};
        feed_write_json(&empty, &out);
        fwrite(out.ptr, 1, out.len, stdout);
        cli__error("give an RSS, Atom or JSON Feed document", "'%s': %s", path,
                   d.msg);
        rc = CLI_FAIL;
    } else if (err) {
        cli__error(HINT, "cannot parse '%s': %s", path, d.msg[0] ? d.msg : cc_err_str(err));
        rc = CLI_FAIL;
    } else if (feed_write_json(f, &out) == CC_OK) {
        /* written whole, in one go: the JSON is most of what this command costs */
        fwrite(out.ptr, 1, out.len, stdout);
    }
    cc_buf_release(&out);
    feed_free(f);
out:
    cc_buf_release(&b);
    return rc;
}

int cmd_feed(int argc, char **argv, char *const *envp)
{
    if (argc >= 2 && strcmp(argv[1], "parse") == 0)
        return parse_cmd(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage_text, stdout);
        return CLI_OK;
    }
    if (argc < 2)
        cli__error(HINT, "missing the subcommand: 'feed parse FILE'");
    else
        cli__error(HINT, "unknown subcommand 'feed %s' (expected 'feed parse')", argv[1]);
    return CLI_USAGE;
}
