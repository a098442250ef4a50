/*
 * cmd_cron.c - `commandcenter cron next EXPR`: the next run times of a cron
 * expression, offline (no daemon), as JSON a script can rely on.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/tz.h"
#include "ingest/cron.h"

#define COUNT_MAX 1000

static const char usage_text[] =
    "usage: commandcenter cron next 'EXPR' [--from RFC3339] [--count N] [--tz ZONE]\n"
    "\n"
    "Prints the next run times of a cron expression as JSON, the way the\n"
    "scheduler computes them. Works offline.\n"
    "\n"
    "  EXPR            five fields: minute (0-59) hour (0-23) day-of-month (1-31)\n"
    "                  month (1-12, JAN-DEC) day-of-week (0-7, SUN-SAT; 0 and 7 are\n"
    "                  Sunday), each '*', N, N-M, lists with ',', steps with '/';\n"
    "                  or @hourly @daily @midnight @weekly @monthly @yearly @annually\n"
    "  --from TIME     start after this RFC 3339 time, e.g. 2026-03-29T00:30:00Z or\n"
    "                  2026-03-29T02:30:00.5+02:00 (default: now)\n"
    "  --count N       how many run times, 1-1000 (default 5)\n"
    "  --tz ZONE       evaluate in this IANA time zone, e.g. Europe/Paris (default\n"
    "                  UTC; zone files from $TZDIR or /usr/share/zoneinfo)\n"
    "\n"
    "Output: {\"expression\", \"tz\", \"from\", \"next\": [...]}, times in UTC (\"Z\").\n"
    "A local time skipped by a DST change runs at the end of the gap; one that\n"
    "occurs twice runs once, the first time.\n";

#define HINT "see 'commandcenter cron --help'"

struct next_opts {
    const char *expr;
    const char *from;
    const char *tz;
    long count;
};

static int parse_opts(int argc, char **argv, struct next_opts *o)
{
    static const struct option longopts[] = {
        {"from", required_argument, NULL, 'f'},
        {"count", required_argument, NULL, 'c'},
        {"tz", required_argument, NULL, 'z'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *count = "5";
    int ch;
    optind = 1;
    opterr = 0; /* our own messages: getopt's would say "next: ..." */
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'f': o->from = optarg; break;
        case 'c': count = optarg; break;
        case 'z': o->tz = optarg; break;
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
        cli__error(HINT, "missing the cron expression");
        return CLI_USAGE;
    }
    if (optind < argc - 1) {
        cli__error("quote the expression: commandcenter cron next '*/15 * * * *'",
                   "unexpected argument '%s' after the expression", argv[optind + 1]);
        return CLI_USAGE;
    }
    o->expr = argv[optind];
    size_t n = strlen(count);
    if (n == 0 || n > 4 || strspn(count, "0123456789") != n ||
        (o->count = strtol(count, NULL, 10)) < 1 || o->count > COUNT_MAX) {
        cli__error(HINT, "--count must be a number from 1 to %d, not '%s'", COUNT_MAX, count);
        return CLI_USAGE;
    }
    return -1; /* go on */
}

static int load_zone(const char *name, struct cc_tz **owned, const struct cc_tz **tz)
{
    struct cc_diag d = {0};
    if (!name || strcmp(name, "UTC") == 0) {
        *tz = cc_tz_utc();
        return CLI_OK;
    }
    if (cc_tz_load(name, owned, &d) != CC_OK) {
        cli__error("use an IANA zone name such as Europe/Paris or America/New_York "
                   "(the files under /usr/share/zoneinfo, or $TZDIR)", "%s", d.msg);
        return CLI_USAGE;
    }
    *tz = *owned;
    return CLI_OK;
}

static int parse_from(const char *from, int64_t *out)
{
    if (!from) {
        int64_t ms = cc_wall_ms(cc_clock_system());
        *out = ms / 1000 - (ms % 1000 < 0);
        return CLI_OK;
    }
    if (cc_time_parse_rfc3339(from, out) != CC_OK) {
        cli__error("use RFC 3339, e.g. 2026-03-29T00:30:00Z or 2026-03-29T02:30:00+02:00",
                   "--from '%s' is not an RFC 3339 date-time", from);
        return CLI_USAGE;
    }
    return CLI_OK;
}

static int parse_expr(const char *text, struct cron_expr *e)
{
    struct cc_diag d = {0};
    if (cron_parse(text, e, &d) == CC_OK)
        return CLI_OK;
    if (d.col > 0 && d.col <= strlen(text) + 1 && strlen(text) <= CRON_TEXT_MAX)
        cli__error("fields are: minute hour day-of-month month day-of-week "
                   "(see 'commandcenter cron --help')",
                   "invalid cron expression at column %u: %s\n  %s\n  %*s^", d.col, d.msg,
                   text, (int)d.col - 1, "");
    else
        cli__error(HINT, "invalid cron expression: %s", d.msg);
    return CLI_USAGE;
}

/* Appends up to o->count run times to `next`. */
static int compute(const struct next_opts *o, const struct cron_expr *e,
                   const struct cc_tz *tz, int64_t from, json_t *next)
{
    char buf[32];
    int64_t t = from;
    for (long i = 0; i < o->count; i++) {
        cc_err err = cron_next(e, tz, t, &t);
        if (err == CC_EINVAL) {
            cli__error("use a --from between the years 0001 and 9999", "--from '%s' is out "
                       "of range", o->from ? o->from : "now");
            return CLI_USAGE;
        }
        if (err && i == 0) {
            cc_time_rfc3339_s(from, buf, sizeof(buf));
            cli__error("check the day-of-month and month fields: February 30th, for one, "
                       "never comes", "'%s' has no run time within %d years after %s",
                       o->expr, CRON_HORIZON_YEARS, buf);
            return CLI_FAIL;
        }
        if (err)
            break; /* the end of year 9999: print what there is */
        cc_time_rfc3339_s(t, buf, sizeof(buf));
        json_array_append_new(next, json_string(buf));
    }
    return CLI_OK;
}

static int cron_next_cmd(int argc, char **argv)
{
    struct next_opts o = {0};
    struct cron_expr e;
    struct cc_tz *owned = NULL;
    const struct cc_tz *tz = NULL;
    int64_t from = 0;
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0)
        return rc;
    rc = parse_expr(o.expr, &e);
    if (rc == CLI_OK)
        rc = parse_from(o.from, &from);
    if (rc == CLI_OK)
        rc = load_zone(o.tz, &owned, &tz);
    if (rc != CLI_OK)
        goto out;
    char buf[32];
    cc_time_rfc3339_s(from, buf, sizeof(buf));
    json_t *j = json_object();
    json_object_set_new(j, "expression", json_string(o.expr));
    json_object_set_new(j, "tz", json_string(cc_tz_name(tz)));
    json_object_set_new(j, "from", json_string(buf));
    json_t *next = json_array();
    json_object_set_new(j, "next", next);
    rc = compute(&o, &e, tz, from, next);
    if (rc == CLI_OK)
        cli__print_json(j);
    json_decref(j);
out:
    cc_tz_free(owned);
    return rc;
}

int cmd_cron(int argc, char **argv, char *const *envp)
{
    if (argc >= 2 && strcmp(argv[1], "next") == 0)
        return cron_next_cmd(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage_text, stdout);
        return CLI_OK;
    }
    if (argc < 2)
        cli__error(HINT, "missing the subcommand: 'cron next'");
    else
        cli__error(HINT, "unknown subcommand 'cron %s' (expected 'cron next')", argv[1]);
    return CLI_USAGE;
}
