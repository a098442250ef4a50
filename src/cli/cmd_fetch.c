/*
 * cmd_fetch.c - `commandcenter fetch URL...`: one outbound request per URL
 * through the daemon's own fetcher (ingest/fetch.h), offline, with the
 * fetch.* configuration the daemon would use. For operators checking what
 * a source would get (TLS, proxy, SSRF guard, auth) and for the tests.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/diag.h"
#include "core/utf8.h"
#include "ingest/fetch.h"

#define RESOLVE_MAX 16

static const char usage_text[] =
    "usage: commandcenter fetch URL... [--config FILE] [options]\n"
    "\n"
    "Fetches each URL the way the daemon's sources do (TLS verification, proxy,\n"
    "SSRF guard, size cap, redirects, per-host politeness, Retry-After) and prints\n"
    "one JSON line per URL: {\"url\", \"status\", \"not_modified\", \"content_type\",\n"
    "\"charset\", \"etag\", \"last_modified\", \"final_url\", \"bytes\", \"retry_after_ms\"},\n"
    "or {\"url\", \"error\", \"message\"} when the request fails. Works offline: the\n"
    "fetch.* keys come from --config (or CC_CONFIG) and CC_FETCH_* variables.\n"
    "\n"
    "  --config FILE        the daemon's configuration file\n"
    "  --auth JSON          a source's auth, e.g. '{\"type\":\"bearer\",\"token_file\":\"/run/t\"}'\n"
    "  --etag VALUE         send If-None-Match (conditional GET)\n"
    "  --last-modified DATE send If-Modified-Since\n"
    "  --accept TYPE        send Accept\n"
    "  --max-bytes N        cap the body (default fetch.max_bytes)\n"
    "  --method M           request method (default GET)\n"
    "  --data TEXT          request body\n"
    "  --resolve H:P:ADDR   connect to ADDR for host H port P instead of asking DNS\n"
    "                       (the SSRF guard still judges ADDR); may repeat\n"
    "  --body               add the body as \"body\" (if it is UTF-8 text)\n"
    "\n"
    "Exit status 0 when every request got an answer (any HTTP status), 1 if one\n"
    "failed, 2 on a usage or configuration error.\n";

#define HINT "see 'commandcenter fetch --help'"

struct fetch_opts {
    const char *config, *auth, *etag, *last_modified, *accept, *method, *data;
    const char *resolve[RESOLVE_MAX + 1];
    size_t nresolve;
    uint64_t max_bytes;
    bool body;
};

static int parse_opts(int argc, char **argv, struct fetch_opts *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"auth", required_argument, NULL, 'a'},
        {"etag", required_argument, NULL, 'e'},
        {"last-modified", required_argument, NULL, 'l'},
        {"accept", required_argument, NULL, 'A'},
        {"max-bytes", required_argument, NULL, 'm'},
        {"method", required_argument, NULL, 'X'},
        {"data", required_argument, NULL, 'd'},
        {"resolve", required_argument, NULL, 'r'},
        {"body", no_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': o->config = optarg; break;
        case 'a': o->auth = optarg; break;
        case 'e': o->etag = optarg; break;
        case 'l': o->last_modified = optarg; break;
        case 'A': o->accept = optarg; break;
        case 'X': o->method = optarg; break;
        case 'd': o->data = optarg; break;
        case 'b': o->body = true; break;
        case 'r':
            if (o->nresolve == RESOLVE_MAX) {
                cli__error(HINT, "at most %d --resolve", RESOLVE_MAX);
                return CLI_USAGE;
            }
            o->resolve[o->nresolve++] = optarg;
            break;
        case 'm':
            if (cc_parse_size(optarg, CC_SIZE_KB_IS_1000, &o->max_bytes, NULL) ||
                o->max_bytes == 0) {
                cli__error(HINT, "--max-bytes wants a size such as 65536 or 10MB, not '%s'",
                           optarg);
                return CLI_USAGE;
            }
            break;
        case 'h': fputs(usage_text, stdout); return CLI_OK;
        case ':':
            cli__error(HINT, "option '%s' needs a value", argv[optind - 1]);
            return CLI_USAGE;
        default:
            cli__error(HINT, "unknown option '%s'", argv[optind - 1]);
            return CLI_USAGE;
        }
    }
    if (optind >= argc) {
        cli__error(HINT, "missing the URL");
        return CLI_USAGE;
    }
    return -1; /* go on */
}

static int load_config(const struct fetch_opts *o, char *const *envp, struct cc_config *cfg)
{
    struct cc_diag d = {0};
    const char *path = o->config;
    for (char *const *e = envp; !path && e && *e; e++)
        if (strncmp(*e, "CC_CONFIG=", 10) == 0)
            path = *e + 10;
    if ((path && path[0] && cc_config_load_file(cfg, path, &d)) ||
        cc_config_apply_env(cfg, envp, &d)) {
        char msg[1024];
        cc_diag_format(&d, msg, sizeof(msg));
        cli__error("see docs/CONFIG.md", "%s", msg);
        return CLI_USAGE;
    }
    return CLI_OK;
}

static json_t *answer_json(const char *url, const struct ingest_fetch_resp *r, bool body)
{
    json_t *j = json_pack("{s:s, s:I, s:b, s:s, s:s, s:s, s:s, s:s, s:I}", "url", url,
                          "status", (json_int_t)r->status, "not_modified", r->not_modified,
                          "content_type", r->content_type, "charset", r->charset, "etag",
                          r->etag, "last_modified", r->last_modified, "final_url",
                          r->final_url, "bytes", (json_int_t)r->len);
    json_object_set_new(j, "retry_after_ms", r->retry_after_ms >= 0
                                                 ? json_integer(r->retry_after_ms)
                                                 : json_null());
    if (body)
        json_object_set_new(j, "body", cc_utf8_valid(r->body, r->len)
                                           ? json_stringn(r->body, r->len) : json_null());
    return j;
}

int cmd_fetch(int argc, char **argv, char *const *envp)
{
    struct fetch_opts o = {0};
    struct cc_config cfg;
    struct ingest_fetcher *f = NULL;
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0)
        return rc;
    cc_config_init(&cfg);
    if ((rc = load_config(&o, envp, &cfg)))
        goto out;
    struct cc_diag d = {0};
    if (ingest_fetcher_new(&cfg, cc_clock_system(), NULL, NULL, &f, &d)) {
        cli__error("see docs/FETCH.md", "%s", d.msg);
        rc = CLI_USAGE;
        goto out;
    }
    for (int i = optind; i < argc; i++) {
        struct ingest_fetch_req req = {
            .method = o.method, .url = argv[i], .accept = o.accept, .etag = o.etag,
            .last_modified = o.last_modified, .auth_json = o.auth, .max_bytes = o.max_bytes,
            .body = o.data, .body_len = o.data ? strlen(o.data) : 0,
            .resolve = o.nresolve ? o.resolve : NULL};
        struct ingest_fetch_resp r = {0};
        char err[1024] = "";
        cc_err e = ingest_fetch(f, &req, &r, err, sizeof(err));
        json_t *j = e ? json_pack("{s:s, s:s, s:s}", "url", argv[i], "error", cc_err_name(e),
                                  "message", err)
                      : answer_json(argv[i], &r, o.body);
        if (e) {
            cli__error("see docs/FETCH.md", "%s", err);
            rc = CLI_FAIL;
        }
        json_dumpf(j, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        fflush(stdout);
        json_decref(j);
        ingest_fetch_resp_release(&r);
    }
out:
    ingest_fetcher_free(f);
    cc_config_release(&cfg);
    return rc;
}
