/*
 * cmd_orch.c - the orchestration client: projects, up, down, ps, health,
 * logs, restart, resources.
 *
 * Every command is a thin client of /api/v1/projects (docs/API.md). They
 * share one option parser: each command names the options it accepts, so
 * `--server`, `--json` and `--help` behave the same everywhere.
 *
 * `up --wait` is client-side on purpose: the daemon answers `up` at once
 * (an HTTP worker never waits on a container), and the CLI polls /health
 * until every service is ready, printing each change of state on a TTY.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/file.h"

enum {
    O_FOLLOW = 1 << 0,
    O_TAIL = 1 << 1,
    O_SINCE = 1 << 2,
    O_UNTIL = 1 << 3,
    O_TIMESTAMPS = 1 << 4,
    O_WAIT = 1 << 5,
    O_WAIT_TIMEOUT = 1 << 6,
    O_NAME = 1 << 7,
    O_DETACH = 1 << 8,   /* up -d: accepted, as `up` never holds the terminal */
};

struct orch_opts {
    const char *server;
    bool json;
    bool follow, timestamps, wait;
    const char *tail, *since, *until, *name;
    int64_t wait_timeout_ms;
    char **args;     /* positional */
    int nargs;
};

/* Parses argv for a command accepting `allowed`; CLI_OK, or an exit status
 * after printing help or the error. */
static int parse_opts(int argc, char **argv, unsigned allowed, const char *usage,
                      int min_args, int max_args, struct orch_opts *o)
{
    static const struct option longopts[] = {
        {"server", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {"follow", no_argument, NULL, 'f'},
        {"tail", required_argument, NULL, 'n'},
        {"since", required_argument, NULL, 'S'},
        {"until", required_argument, NULL, 'U'},
        {"timestamps", no_argument, NULL, 't'},
        {"wait", no_argument, NULL, 'w'},
        {"wait-timeout", required_argument, NULL, 'W'},
        {"name", required_argument, NULL, 'N'},
        {"detach", no_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof(*o));
    o->wait_timeout_ms = 5 * 60 * 1000;
    int ch;
    optind = 1;
    opterr = 0;
    int li;
    while ((li = -1, ch = getopt_long(argc, argv, ":hfn:td", longopts, &li)) != -1) {
        unsigned need = 0;
        switch (ch) {
        case 's': o->server = optarg; continue;
        case 'j': o->json = true; continue;
        case 'h': fputs(usage, stdout); return -1;
        case 'f': need = O_FOLLOW; o->follow = true; break;
        case 'n': need = O_TAIL; o->tail = optarg; break;
        case 'S': need = O_SINCE; o->since = optarg; break;
        case 'U': need = O_UNTIL; o->until = optarg; break;
        case 't': need = O_TIMESTAMPS; o->timestamps = true; break;
        case 'w': need = O_WAIT; o->wait = true; break;
        case 'N': need = O_NAME; o->name = optarg; break;
        case 'd': need = O_DETACH; break;
        case ':':
            cli__error(NULL, "%s: option '%s' needs a value", argv[0], argv[optind - 1]);
            fputs(usage, stderr);
            return CLI_USAGE;
        case 'W':
            need = O_WAIT_TIMEOUT;
            o->wait = true;
            if (cc_parse_duration_ms(optarg, &o->wait_timeout_ms, NULL) || o->wait_timeout_ms <= 0) {
                cli__error("give a duration such as 90s or 5m", "bad --wait-timeout '%s'",
                           optarg);
                return CLI_USAGE;
            }
            break;
        default:
            cli__error(NULL, "%s: unknown option '%s'", argv[0], argv[optind - 1]);
            fputs(usage, stderr);
            return CLI_USAGE;
        }
        if (!(allowed & need)) {
            /* li: the long option just read, or -1 for a short one */
            if (li >= 0)
                cli__error(NULL, "%s: option '--%s' does not apply to this command", argv[0],
                           longopts[li].name);
            else
                cli__error(NULL, "%s: option '-%c' does not apply to this command", argv[0],
                           ch);
            fputs(usage, stderr);
            return CLI_USAGE;
        }
    }
    o->args = argv + optind;
    o->nargs = argc - optind;
    if (o->nargs < min_args || o->nargs > max_args) {
        if (o->nargs < min_args)
            cli__error(NULL, "%s: missing argument", argv[0]);
        else
            cli__error(NULL, "%s: unexpected argument '%s'", argv[0], o->args[max_args]);
        fputs(usage, stderr);
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* Appends one path segment, percent-encoded. */
static void add_segment(struct cc_buf *b, const char *seg)
{
    for (const unsigned char *p = (const unsigned char *)seg; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.')
            cc_buf_addch(b, (char)*p);
        else
            cc_buf_addf(b, "%%%02X", *p);
    }
}

/* "/api/v1/projects/<name><suffix>" with the name percent-encoded. */
static void project_path(struct cc_buf *b, const char *name, const char *suffix)
{
    cc_buf_init(b, 4096);
    cc_buf_addstr(b, "/api/v1/projects/");
    add_segment(b, name);
    if (suffix)
        cc_buf_addstr(b, suffix);
}

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static bool tty_colour(void)
{
    const char *nc = getenv("NO_COLOR");
    return cli__stdout_is_tty() && !(nc && *nc);
}

static const char *status_colour(const char *st)
{
    if (!tty_colour())
        return "";
    if (!strcmp(st, "healthy") || !strcmp(st, "running"))
        return "\033[32m";
    if (!strcmp(st, "unhealthy") || !strcmp(st, "failed"))
        return "\033[31m";
    if (!strcmp(st, "starting") || !strcmp(st, "restarting") || !strcmp(st, "created"))
        return "\033[33m";
    return "";
}

static const char *reset_colour(void)
{
    return tty_colour() ? "\033[0m" : "";
}

/* One request with the common client setup; prints JSON with --json. */
static int call(const struct orch_opts *o, const char *method, const char *path, json_t *body,
                json_t **out)
{
    struct cli_client c;
    int rc = cli__client_init(&c, o->server, o->json);
    if (rc)
        return rc;
    rc = cli__request(&c, method, path, body, out);
    cli__client_release(&c);
    return rc;
}

/* ------------------------------------------------------------------ */
/* projects                                                            */

static const char projects_usage[] =
    "usage: commandcenter projects [list]\n"
    "       commandcenter projects add COMPOSE_FILE [--name NAME]\n"
    "       commandcenter projects show PROJECT\n"
    "       commandcenter projects rm PROJECT\n"
    "\n"
    "Lists, registers, shows and forgets projects (Compose stacks). A project is\n"
    "registered from a compose file the daemon can read; its name is --name, else\n"
    "the file's `name:`, else its directory's name. `rm` needs the project down.\n"
    "\n"
    "  --server URL   daemon address (default $CC_SERVER or " CLI_DEFAULT_SERVER ")\n"
    "  --json         print the daemon's JSON answer\n";

/* The variables a compose file refers to ($NAME, ${NAME...}; $$ is a
 * literal $) that this environment sets, as {"NAME": "value"}, or NULL
 * when there is none: what `VAR=x commandcenter up FILE` hands the daemon,
 * which reads the file with them before its .env, as Compose does. */
static json_t *referenced_env(const char *file)
{
    char *text = NULL, why[512];
    size_t len = 0;
    if (cc_file_read(file, 1 << 20, &text, &len, why, sizeof(why)) != CC_OK)
        return NULL;
    json_t *env = json_object();
    static const char name_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789_";
    for (size_t i = 0; i + 1 < len; i++) {
        if (text[i] != '$')
            continue;
        if (text[i + 1] == '$') {
            i++;
            continue;
        }
        size_t at = i + 1 + (text[i + 1] == '{');
        size_t n = strspn(text + at, name_chars);
        if (n == 0 || n > 255 || isdigit((unsigned char)text[at]))
            continue;
        char name[256];
        memcpy(name, text + at, n);
        name[n] = '\0';
        const char *v = getenv(name);
        if (v)
            json_object_set_new(env, name, json_string(v));
        i = at + n - 1;
    }
    free(text);
    if (json_object_size(env) == 0) {
        json_decref(env);
        return NULL;
    }
    return env;
}

static int register_file(const struct orch_opts *o, const char *file, const char *name,
                         json_t **out)
{
    char abs[PATH_MAX];
    if (!realpath(file, abs)) {
        cli__error("give the path of a compose file", "cannot read %s: %s", file,
                   strerror(errno));
        return CLI_USAGE;
    }
    json_t *body = json_pack("{s:s, s:s?, s:o?}", "compose_file", abs, "name", name, "env",
                             referenced_env(abs));
    int rc = call(o, "POST", "/api/v1/projects", body, out);
    json_decref(body);
    if (rc == CLI_OK && !o->json) {
        size_t i;
        json_t *w;
        json_array_foreach(json_object_get(*out, "warnings"), i, w)
            fprintf(stderr, "warning: %s\n", json_string_value(w));
    }
    return rc;
}

static void print_services_table(json_t *services)
{
    printf("%-20s %-12s %-9s %-24s %s\n", "SERVICE", "STATUS", "RESTARTS", "STARTED", "EXIT");
    size_t i;
    json_t *s;
    json_array_foreach(services, i, s) {
        const char *st = jstr(s, "status");
        json_t *ec = json_object_get(s, "exit_code");
        char exitbuf[16] = "";
        if (json_is_integer(ec))
            snprintf(exitbuf, sizeof(exitbuf), "%lld", (long long)json_integer_value(ec));
        printf("%-20s %s%-12s%s %-9lld %-24s %s\n", jstr(s, "service"), status_colour(st), st,
               reset_colour(), (long long)json_integer_value(json_object_get(s, "restarts")),
               jstr(s, "started_at"), exitbuf);
    }
}

int cmd_projects(int argc, char **argv, char *const *envp)
{
    struct orch_opts o;
    int rc = parse_opts(argc, argv, O_NAME, projects_usage, 0, 2, &o);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    const char *sub = o.nargs ? o.args[0] : "list";
    json_t *j = NULL;
    struct cc_buf path;
    if (!strcmp(sub, "list") && o.nargs <= 1) {
        rc = call(&o, "GET", "/api/v1/projects", NULL, &j);
        if (rc == CLI_OK && !o.json) {
            printf("%-20s %-8s %-10s %-9s %s\n", "PROJECT", "DRIVER", "STATE", "SERVICES",
                   "COMPOSE FILE");
            size_t i;
            json_t *p;
            json_array_foreach(json_object_get(j, "projects"), i, p)
                printf("%-20s %-8s %-10s %-9lld %s\n", jstr(p, "name"), jstr(p, "driver"),
                       jstr(p, "state"),
                       (long long)json_integer_value(json_object_get(p, "services")),
                       jstr(p, "compose_path"));
        }
    } else if (!strcmp(sub, "add") && o.nargs == 2) {
        rc = register_file(&o, o.args[1], o.name, &j);
        if (rc == CLI_OK && !o.json)
            printf("registered project %s\n", jstr(json_object_get(j, "project"), "name"));
    } else if (!strcmp(sub, "show") && o.nargs == 2) {
        project_path(&path, o.args[1], NULL);
        rc = call(&o, "GET", cc_buf_str(&path), NULL, &j);
        cc_buf_release(&path);
        if (rc == CLI_OK && !o.json) {
            printf("project %s (%s driver, %s)\ncompose file %s\n\n", jstr(j, "name"),
                   jstr(j, "driver"), jstr(j, "state"), jstr(j, "compose_path"));
            print_services_table(json_object_get(j, "services"));
        }
    } else if (!strcmp(sub, "rm") && o.nargs == 2) {
        project_path(&path, o.args[1], NULL);
        rc = call(&o, "DELETE", cc_buf_str(&path), NULL, &j);
        cc_buf_release(&path);
        if (rc == CLI_OK && !o.json)
            printf("removed project %s\n", o.args[1]);
    } else {
        fputs(projects_usage, stderr);
        return CLI_USAGE;
    }
    if (rc == CLI_OK && o.json && j)
        cli__print_json(j);
    json_decref(j);
    (void)envp;
    return rc;
}

/* ------------------------------------------------------------------ */
/* up / down                                                           */

static const char up_usage[] =
    "usage: commandcenter up PROJECT|COMPOSE_FILE [--wait] [--wait-timeout D] [-d]\n"
    "\n"
    "Starts a project: networks, volumes and images first, then every service in\n"
    "dependency order, each waiting for its dependencies' conditions. Given a\n"
    "compose file, registers it first when no project uses it yet.\n"
    "\n"
    "  --wait            return when every service is running or healthy (one-shot\n"
    "                    services that exited 0 count as done); exit 1 if one fails\n"
    "  --wait-timeout D  give up after D (default 5m; implies --wait), naming the\n"
    "                    services that are not ready and their last probe output\n"
    "  -d, --detach      accepted for docker compose habits: up never holds the\n"
    "                    terminal (the daemon runs the services)\n"
    "  --server URL      daemon address\n"
    "  --json            print the daemon's JSON answer\n";

static bool is_file(const char *s)
{
    struct stat st;
    return stat(s, &st) == 0 && S_ISREG(st.st_mode);
}

/* The project a compose file is registered as, registering it if needed. */
static int project_for_file(const struct orch_opts *o, const char *file, char *name,
                            size_t namesz)
{
    char abs[PATH_MAX];
    if (!realpath(file, abs)) {
        cli__error(NULL, "cannot read %s: %s", file, strerror(errno));
        return CLI_USAGE;
    }
    json_t *list = NULL;
    struct orch_opts quiet = *o;
    quiet.json = false;
    int rc = call(&quiet, "GET", "/api/v1/projects", NULL, &list);
    if (rc)
        return rc;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(list, "projects"), i, p) {
        if (!strcmp(jstr(p, "compose_path"), abs)) {
            snprintf(name, namesz, "%s", jstr(p, "name"));
            json_decref(list);
            return CLI_OK;
        }
    }
    json_decref(list);
    json_t *j = NULL;
    rc = register_file(&quiet, abs, NULL, &j);
    if (rc == CLI_OK)
        snprintf(name, namesz, "%s", jstr(json_object_get(j, "project"), "name"));
    json_decref(j);
    return rc;
}

static const char *last_output(json_t *svc)
{
    json_t *outs = json_object_get(svc, "last_outputs");
    size_t n = json_array_size(outs);
    if (n == 0)
        return "";
    json_t *last = json_array_get(outs, n - 1);
    const char *s = json_string_value(json_object_get(last, "output"));
    return s ? s : "";
}

/* Polls /health until ready, a failure, or the deadline. */
static int wait_ready(const struct orch_opts *o, const char *project)
{
    struct cc_buf path;
    project_path(&path, project, "/health");
    struct orch_opts quiet = *o;
    quiet.json = false;
    /* The CLI has no ctx: it waits in real time, on the system clock. */
    struct cc_clock *clock = cc_clock_system();
    int64_t deadline = cc_mono_ms(clock) + o->wait_timeout_ms;
    json_t *seen = json_object();   /* service -> last printed status */
    int rc = CLI_FAIL;
    bool tty = cli__stdout_is_tty();
    for (;;) {
        json_t *h = NULL;
        int r = call(&quiet, "GET", cc_buf_str(&path), NULL, &h);
        if (r) {
            rc = r;
            break;
        }
        const char *prog = json_string_value(json_object_get(h, "progress"));
        if (tty && prog && strcmp(prog, jstr(json_object_get(seen, " progress"), "s")) != 0) {
            printf(" building   %s\n", prog);
            fflush(stdout);
            json_object_set_new(seen, " progress", json_pack("{s:s}", "s", prog));
        }
        json_t *svcs = json_object_get(h, "services");
        const char *name;
        json_t *s;
        bool failed = false;
        json_object_foreach(svcs, name, s) {
            const char *st = jstr(s, "status");
            if (!strcmp(st, "failed"))
                failed = true;
            if (tty && strcmp(jstr(json_object_get(seen, name), "s"), st) != 0) {
                printf(" %s%-10s%s %s\n", status_colour(st), st, reset_colour(), name);
                fflush(stdout);
                json_object_set_new(seen, name, json_pack("{s:s}", "s", st));
            }
        }
        if (json_is_true(json_object_get(h, "ready"))) {
            if (!o->json)
                printf("project %s is ready\n", project);
            else
                cli__print_json(h);
            json_decref(h);
            rc = CLI_OK;
            break;
        }
        if (failed || cc_mono_ms(clock) >= deadline) {
            fprintf(stderr, "commandcenter: project %s is not ready%s:\n", project,
                    failed ? " (a service failed)" : " before the --wait-timeout");
            json_object_foreach(svcs, name, s) {
                const char *st = jstr(s, "status");
                if (!strcmp(st, "healthy") || !strcmp(st, "running") ||
                    (!strcmp(st, "exited") && json_is_true(json_object_get(s, "healthy"))))
                    continue;
                fprintf(stderr, "  %s: %s%s%s%s%s\n", name, st,
                        jstr(s, "message")[0] ? " - " : "", jstr(s, "message"),
                        last_output(s)[0] ? "; last probe output: " : "", last_output(s));
            }
            fprintf(stderr, "hint: see `commandcenter health %s` and `commandcenter logs %s "
                            "SERVICE`\n", project, project);
            json_decref(h);
            break;
        }
        json_decref(h);
        /* A GET /health costs the daemon well under a millisecond; polling at
         * 500 ms added 250 ms on average to `up --wait` (bench/orchestration.sh). */
        clock->sleep_ms(clock, 100);
    }
    json_decref(seen);
    cc_buf_release(&path);
    return rc;
}

int cmd_up(int argc, char **argv, char *const *envp)
{
    struct orch_opts o;
    int rc = parse_opts(argc, argv, O_WAIT | O_WAIT_TIMEOUT | O_DETACH, up_usage, 1, 1, &o);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    char name[256];
    snprintf(name, sizeof(name), "%s", o.args[0]);
    json_t *body = NULL;
    if (is_file(o.args[0])) {
        if ((rc = project_for_file(&o, o.args[0], name, sizeof(name))))
            return rc;
        /* up FILE brings the caller's variables, as docker compose up does */
        json_t *env = referenced_env(o.args[0]);
        body = json_pack("{s:o}", "env", env ? env : json_object());
    }
    struct cc_buf path;
    project_path(&path, name, "/up");
    json_t *j = NULL;
    rc = call(&o, "POST", cc_buf_str(&path), body, &j);
    json_decref(body);
    cc_buf_release(&path);
    if (rc == CLI_OK && o.json && !o.wait)
        cli__print_json(j);
    else if (rc == CLI_OK && !o.wait)
        printf("starting project %s (see `commandcenter health %s`)\n", name, name);
    json_decref(j);
    if (rc == CLI_OK && o.wait)
        rc = wait_ready(&o, name);
    (void)envp;
    return rc;
}

/* The shape of down, ps, health, resources and restart: PROJECT [SERVICE],
 * one request to /api/v1/projects/PROJECT[/services/SERVICE]SUFFIX, then
 * the JSON (--json) or print(). *keep (optional) gets the answer; the caller
 * decrefs it. */
typedef void (*orch_print_fn)(const struct orch_opts *o, json_t *j);

static int one_call(int argc, char **argv, const char *usage, int nargs, const char *method,
                    const char *suffix, orch_print_fn print, json_t **keep)
{
    struct orch_opts o;
    int rc = parse_opts(argc, argv, 0, usage, nargs, nargs, &o);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    struct cc_buf path;
    project_path(&path, o.args[0], NULL);
    if (nargs == 2) {
        cc_buf_addstr(&path, "/services/");
        add_segment(&path, o.args[1]);
    }
    cc_buf_addstr(&path, suffix);
    json_t *j = NULL;
    rc = call(&o, method, cc_buf_str(&path), NULL, &j);
    cc_buf_release(&path);
    if (rc == CLI_OK && o.json)
        cli__print_json(j);
    else if (rc == CLI_OK)
        print(&o, j);
    if (keep)
        *keep = j;
    else
        json_decref(j);
    return rc;
}

static const char down_usage[] =
    "usage: commandcenter down PROJECT\n"
    "\n"
    "Stops a project's services in reverse dependency order, each with its\n"
    "stop_grace_period before it is killed, then removes them and the project's\n"
    "networks (volumes are kept).\n"
    "\n"
    "  --server URL   daemon address\n"
    "  --json         print the daemon's JSON answer\n";

static void print_down(const struct orch_opts *o, json_t *j)
{
    printf("project %s is down\n", o->args[0]);
}

int cmd_down(int argc, char **argv, char *const *envp)
{
    (void)envp;
    return one_call(argc, argv, down_usage, 1, "POST", "/down", print_down, NULL);
}

/* ------------------------------------------------------------------ */
/* ps / health / resources / restart                                   */

static const char ps_usage[] =
    "usage: commandcenter ps PROJECT\n"
    "\n"
    "Lists a project's services: status, restarts, last start, exit code.\n"
    "\n"
    "  --server URL   daemon address\n"
    "  --json         print the daemon's JSON answer\n";

static void print_ps(const struct orch_opts *o, json_t *j)
{
    print_services_table(json_object_get(j, "services"));
}

int cmd_ps(int argc, char **argv, char *const *envp)
{
    (void)envp;
    return one_call(argc, argv, ps_usage, 1, "GET", "/ps", print_ps, NULL);
}

static const char health_usage[] =
    "usage: commandcenter health PROJECT\n"
    "\n"
    "Shows each service's health as CommandCenter's own probes see it, with the\n"
    "failing streak and the last probe output. Exits 0 when every service is\n"
    "healthy, 1 otherwise (usable in scripts).\n"
    "\n"
    "  --server URL   daemon address\n"
    "  --json         print the daemon's JSON answer\n";

static void print_health(const struct orch_opts *o, json_t *j)
{
    printf("%-20s %-12s %-7s %-24s %s\n", "SERVICE", "STATUS", "STREAK", "CHECKED", "MESSAGE");
    const char *name;
    json_t *s;
    json_object_foreach(json_object_get(j, "services"), name, s) {
        const char *st = jstr(s, "status");
        printf("%-20s %s%-12s%s %-7lld %-24s %s\n", name, status_colour(st), st, reset_colour(),
               (long long)json_integer_value(json_object_get(s, "failing_streak")),
               jstr(s, "checked_at"), jstr(s, "message"));
    }
    printf("overall: %s\n",
           json_is_true(json_object_get(j, "overall_healthy")) ? "healthy" : "not healthy");
}

int cmd_health(int argc, char **argv, char *const *envp)
{
    json_t *j = NULL;
    int rc = one_call(argc, argv, health_usage, 1, "GET", "/health", print_health, &j);
    if (rc == CLI_OK && j && !json_is_true(json_object_get(j, "overall_healthy")))
        rc = CLI_FAIL;
    json_decref(j);
    (void)envp;
    return rc;
}

static const char resources_usage[] =
    "usage: commandcenter resources PROJECT\n"
    "\n"
    "Shows each service's limits beside its live usage (CPU as docker stats\n"
    "counts it: 100% = one CPU), and whether the limits are enforced.\n"
    "\n"
    "  --server URL   daemon address\n"
    "  --json         print the daemon's JSON answer\n";

static void human_bytes(double b, char *out, size_t outsz)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024 && u < 4) {
        b /= 1024;
        u++;
    }
    snprintf(out, outsz, u ? "%.1f%s" : "%.0f%s", b, units[u]);
}

static void print_resources(const struct orch_opts *o, json_t *j)
{
    printf("%-20s %-8s %-8s %-22s %-12s %s\n", "SERVICE", "CPU %", "CPUS", "MEM / LIMIT",
           "PIDS", "ENFORCED");
    const char *name;
    json_t *s;
    json_object_foreach(json_object_get(j, "services"), name, s) {
        json_t *u = json_object_get(s, "usage");
        json_t *l = json_object_get(s, "limits");
        char mem[16], lim[16], memcol[40], cpus[16], pids[32];
        human_bytes(json_number_value(json_object_get(u, "memory_bytes")), mem, sizeof(mem));
        double ml = json_number_value(json_object_get(u, "memory_limit"));
        if (ml > 0)
            human_bytes(ml, lim, sizeof(lim));
        else
            snprintf(lim, sizeof(lim), "-");
        snprintf(memcol, sizeof(memcol), "%s / %s", mem, lim);
        double c = json_number_value(json_object_get(l, "cpus"));
        if (c > 0)
            snprintf(cpus, sizeof(cpus), "%.2f", c);
        else
            snprintf(cpus, sizeof(cpus), "-");
        long long pl = (long long)json_number_value(json_object_get(u, "pids_limit"));
        long long p = (long long)json_number_value(json_object_get(u, "pids"));
        if (pl > 0)
            snprintf(pids, sizeof(pids), "%lld / %lld", p, pl);
        else
            snprintf(pids, sizeof(pids), "%lld", p);
        printf("%-20s %-8.1f %-8s %-22s %-12s %s\n", name,
               json_number_value(json_object_get(u, "cpu_percent")), cpus, memcol, pids,
               json_is_false(json_object_get(s, "enforced")) ? "no" : "yes");
    }
}

int cmd_resources(int argc, char **argv, char *const *envp)
{
    (void)envp;
    return one_call(argc, argv, resources_usage, 1, "GET", "/resources", print_resources, NULL);
}

static const char restart_usage[] =
    "usage: commandcenter restart PROJECT [SERVICE...]\n"
    "\n"
    "Restarts services now (stop with the grace period, then start), every\n"
    "service of the project when none is named, as docker compose restart; a\n"
    "service marked failed by the restart breaker is given a fresh start.\n"
    "Exit 1 if any restart was refused.\n"
    "\n"
    "  --server URL   daemon address\n"
    "  --json         print the daemon's JSON answers (an array)\n";

/* `ls`: docker compose users list projects with it. */
int cmd_ls(int argc, char **argv, char *const *envp)
{
    static const char ls_usage[] =
        "usage: commandcenter ls [--server URL] [--json]\n"
        "\n"
        "Lists the registered projects: name, driver, state, services, compose file\n"
        "(the same as `commandcenter projects`).\n";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(ls_usage, stdout);
            return CLI_OK;
        }
        if (argv[i][0] != '-') {
            cli__error(NULL, "ls: unexpected argument '%s'", argv[i]);
            fputs(ls_usage, stderr);
            return CLI_USAGE;
        }
    }
    return cmd_projects(argc, argv, envp);
}

int cmd_restart(int argc, char **argv, char *const *envp)
{
    (void)envp;
    struct orch_opts o;
    int rc = parse_opts(argc, argv, 0, restart_usage, 1, 65, &o);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    const char *project = o.args[0];
    json_t *ps = NULL, *names = json_array();
    if (o.nargs == 1) {
        struct orch_opts quiet = o;
        quiet.json = false;
        struct cc_buf path;
        project_path(&path, project, "/ps");
        rc = call(&quiet, "GET", cc_buf_str(&path), NULL, &ps);
        cc_buf_release(&path);
        size_t i;
        json_t *svc;
        json_array_foreach(json_object_get(ps, "services"), i, svc)
            json_array_append_new(names, json_string(jstr(svc, "service")));
    } else {
        for (int i = 1; i < o.nargs; i++)
            json_array_append_new(names, json_string(o.args[i]));
    }
    json_t *answers = json_array();
    size_t i;
    json_t *name;
    json_array_foreach(names, i, name) {
        if (rc)
            break;
        struct cc_buf path;
        project_path(&path, project, "/services/");
        add_segment(&path, json_string_value(name));
        cc_buf_addstr(&path, "/restart");
        json_t *j = NULL;
        struct orch_opts quiet = o;
        quiet.json = false;
        int one = call(&quiet, "POST", cc_buf_str(&path), NULL, &j);
        cc_buf_release(&path);
        if (one == CLI_OK && !o.json)
            printf("restarted %s/%s\n", project, json_string_value(name));
        if (one == CLI_OK)
            json_array_append_new(answers, j ? j : json_null());
        else
            rc = one;     /* the error is said; the others are not tried */
    }
    if (o.json && rc == CLI_OK)
        cli__print_json(answers);
    json_decref(answers);
    json_decref(names);
    json_decref(ps);
    return rc;
}

/* ------------------------------------------------------------------ */
/* logs                                                                */

static const char logs_usage[] =
    "usage: commandcenter logs PROJECT [SERVICE...] [-f] [--tail N] [--since T]\n"
    "                          [--until T] [--timestamps]\n"
    "\n"
    "Shows a project's service logs (all services when none is named). On a\n"
    "terminal, or with several services, each line is prefixed with its service,\n"
    "in a colour per service, like docker compose logs.\n"
    "\n"
    "  -f, --follow     keep streaming new lines, across restarts of the service,\n"
    "                   until interrupted\n"
    "  -n, --tail N     the last N lines of each service first (default 100; 'all')\n"
    "  --since T        lines at or after T: RFC 3339, Unix seconds, or a duration\n"
    "                   back from now (10m)\n"
    "  --until T        lines before T (same forms)\n"
    "  -t, --timestamps prefix each line with the time it was written\n"
    "  --server URL     daemon address\n";

struct log_feed {
    const struct orch_opts *o;
    const char *project;
    const char *service;
    const char *colour;
    int width;                  /* of the service column; 0 = no prefix */
    pthread_mutex_t *out_mu;
    struct cc_buf part;         /* an incomplete line */
    int rc;
};

static void print_log_line(struct log_feed *f, const char *line, size_t len)
{
    json_error_t je;
    json_t *j = json_loadb(line, len, 0, &je);
    if (!j)
        return;   /* not ours: skip rather than print garbage */
    const char *text = jstr(j, "line");
    const char *ts = jstr(j, "ts");
    pthread_mutex_lock(f->out_mu);
    if (f->width)
        printf("%s%-*s |%s ", f->colour, f->width, f->service, tty_colour() ? "\033[0m" : "");
    if (f->o->timestamps && ts[0])
        printf("%s ", ts);
    fputs(text, stdout);
    fputc('\n', stdout);
    if (f->o->follow)
        fflush(stdout);
    pthread_mutex_unlock(f->out_mu);
    json_decref(j);
}

static bool feed_body(void *arg, const char *p, size_t n)
{
    struct log_feed *f = arg;
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) : n;
        if (cc_buf_add(&f->part, p, take) != CC_OK)
            cc_buf_reset(&f->part);   /* a line over the cap: dropped, not fatal */
        if (!nl)
            break;
        print_log_line(f, f->part.ptr ? f->part.ptr : "", f->part.len);
        cc_buf_reset(&f->part);
        p = nl + 1;
        n -= take + 1;
    }
    return true;
}

static void *feed_run(void *arg)
{
    struct log_feed *f = arg;
    struct cc_buf path;
    project_path(&path, f->project, "/logs/");
    add_segment(&path, f->service);
    cc_buf_addstr(&path, "?format=json");
    if (f->o->follow)
        cc_buf_addstr(&path, "&follow=1");
    cli__add_param(&path, "tail", f->o->tail ? f->o->tail : "100");
    cli__add_param(&path, "since", f->o->since);
    cli__add_param(&path, "until", f->o->until);
    struct cli_client c;
    f->rc = cli__client_init(&c, f->o->server, false);
    if (f->rc == CLI_OK) {
        f->rc = cli__stream(&c, cc_buf_str(&path), "application/x-ndjson", feed_body, f);
        cli__client_release(&c);
    }
    cc_buf_release(&path);
    return NULL;
}

int cmd_logs(int argc, char **argv, char *const *envp)
{
    struct orch_opts o;
    int rc = parse_opts(argc, argv, O_FOLLOW | O_TAIL | O_SINCE | O_UNTIL | O_TIMESTAMPS,
                        logs_usage, 1, 64, &o);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    const char *project = o.args[0];
    const char **services = NULL;
    size_t n = 0;
    json_t *ps = NULL;
    if (o.nargs > 1) {
        services = (const char **)(o.args + 1);
        n = (size_t)o.nargs - 1;
    } else {
        struct cc_buf path;
        project_path(&path, project, "/ps");
        struct orch_opts quiet = o;
        quiet.json = false;
        rc = call(&quiet, "GET", cc_buf_str(&path), NULL, &ps);
        cc_buf_release(&path);
        if (rc)
            return rc;
        json_t *list = json_object_get(ps, "services");
        n = json_array_size(list);
        services = calloc(n ? n : 1, sizeof(*services));
        for (size_t i = 0; i < n; i++)
            services[i] = jstr(json_array_get(list, i), "service");
    }
    static const char *const colours[] = {"\033[36m", "\033[33m", "\033[32m", "\033[35m",
                                          "\033[34m", "\033[96m", "\033[93m", "\033[92m"};
    int width = 0;
    for (size_t i = 0; i < n; i++)
        if ((int)strlen(services[i]) > width)
            width = (int)strlen(services[i]);
    bool prefix = n > 1 || cli__stdout_is_tty();
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    struct log_feed *feeds = calloc(n ? n : 1, sizeof(*feeds));
    pthread_t *threads = calloc(n ? n : 1, sizeof(*threads));
    for (size_t i = 0; i < n; i++) {
        feeds[i] = (struct log_feed){.o = &o, .project = project, .service = services[i],
                                     .colour = tty_colour() ? colours[i % 8] : "",
                                     .width = prefix ? width : 0, .out_mu = &mu};
        cc_buf_init(&feeds[i].part, 1u << 20);
    }
    /* One stream per service; the first runs on this thread. */
    bool *started = calloc(n ? n : 1, sizeof(*started));
    for (size_t i = 1; i < n; i++)
        started[i] = pthread_create(&threads[i], NULL, feed_run, &feeds[i]) == 0;
    for (size_t i = 1; i < n; i++)
        if (!started[i])
            feed_run(&feeds[i]);
    if (n)
        feed_run(&feeds[0]);
    rc = CLI_OK;
    for (size_t i = 0; i < n; i++) {
        if (started[i])
            pthread_join(threads[i], NULL);
        if (feeds[i].rc)
            rc = feeds[i].rc;
        cc_buf_release(&feeds[i].part);
    }
    fflush(stdout);
    free(feeds);
    free(threads);
    free(started);
    if (ps)
        free(services);
    json_decref(ps);
    (void)envp;
    return rc;
}
