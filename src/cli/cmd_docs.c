/*
 * cmd_docs.c - hidden offline commands that write the installed
 * documentation from the binary itself, so it cannot drift from it:
 *
 *   commandcenter config-example   the example YAML, every key with its
 *                                  default and description (key table)
 *   commandcenter man-pages DIR    commandcenter.1 from the command table,
 *                                  commandcenter-CMD.1 from each command's
 *                                  own --help text
 *
 * `make install` runs both (cmake/install_docs.cmake). A command's help is
 * captured by running it with --help in a child process whose stdout is a
 * pipe: the commands print their usage with fputs(stdout), and a child
 * keeps their getopt state and exit paths out of this process.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/config.h"

#define HELP_MAX (256 * 1024)
#define PAGE_MAX (512 * 1024)

/* One line of text for roff: backslashes doubled as \e, a leading '.' or
 * '\'' (a request) neutralised, and '-' as \- so options copy and search
 * as ASCII hyphens. */
static cc_err roff_line(struct cc_buf *out, const char *s, size_t n)
{
    cc_err err = CC_OK;
    if (n > 0 && (s[0] == '.' || s[0] == '\''))
        err = cc_buf_addstr(out, "\\&");
    for (size_t i = 0; i < n && !err; i++) {
        if (s[i] == '\\')
            err = cc_buf_addstr(out, "\\e");
        else if (s[i] == '-')
            err = cc_buf_addstr(out, "\\-");
        else
            err = cc_buf_addch(out, s[i]);
    }
    return err ? err : cc_buf_addch(out, '\n');
}

/* Lines of text as a no-fill block; a blank line becomes a paragraph gap. */
static cc_err roff_block(struct cc_buf *out, const char *text, size_t len)
{
    cc_err err = cc_buf_addstr(out, ".nf\n");
    size_t i = 0;
    while (i < len && !err) {
        size_t n = 0;
        while (i + n < len && text[i + n] != '\n')
            n++;
        err = n ? roff_line(out, text + i, n) : cc_buf_addstr(out, ".sp\n");
        i += n + 1;
    }
    return err ? err : cc_buf_addstr(out, ".fi\n");
}

static void upper(const char *s, char *out, size_t outsz)
{
    size_t i = 0;
    for (; s[i] && i + 1 < outsz; i++)
        out[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 'a' + 'A') : s[i];
    out[i] = '\0';
}

/* The page of `commandcenter NAME` from its --help text: the "usage:" lines
 * (up to the first blank line) are the synopsis, the rest the description. */
cc_err cli__man_page(struct cc_buf *out, const char *name, const char *summary,
                     const char *help)
{
    char title[64];
    upper(name, title, sizeof(title));
    const char *body = help;
    if (strncmp(body, "usage: ", 7) == 0)
        body += 7;
    const char *gap = strstr(body, "\n\n");
    size_t synlen = gap ? (size_t)(gap - body) : strlen(body);
    const char *desc = gap ? gap + 2 : "";
    cc_err err = cc_buf_addf(out, ".TH COMMANDCENTER\\-%s 1 \"\" \"commandcenter %s\" "
                                  "\"User Commands\"\n.nh\n.SH NAME\n", title, CC_VERSION);
    if (!err) {
        char line[256];
        snprintf(line, sizeof(line), "commandcenter-%s - %s", name, summary);
        err = roff_line(out, line, strlen(line));
    }
    if (!err)
        err = cc_buf_addstr(out, ".SH SYNOPSIS\n.nf\n");
    /* Continuation lines of the usage are indented under "usage: ". */
    for (size_t i = 0; i < synlen && !err;) {
        size_t n = strcspn(body + i, "\n");
        if (n > synlen - i)
            n = synlen - i;
        size_t skip = 0;
        while (i > 0 && skip < 7 && skip < n && body[i + skip] == ' ')
            skip++;
        err = roff_line(out, body + i + skip, n - skip);
        i += n + 1;
    }
    if (!err)
        err = cc_buf_addstr(out, ".fi\n");
    if (!err && *desc) {
        err = cc_buf_addstr(out, ".SH DESCRIPTION\n");
        size_t dl = strlen(desc);
        while (dl > 0 && desc[dl - 1] == '\n')
            dl--;
        if (!err)
            err = roff_block(out, desc, dl);
    }
    if (!err)
        err = cc_buf_addstr(out, ".SH SEE ALSO\n.BR commandcenter (1)\n");
    return err;
}

static const char main_head[] =
    ".TH COMMANDCENTER 1 \"\" \"commandcenter " CC_VERSION "\" \"User Commands\"\n"
    ".nh\n"
    ".SH NAME\n"
    "commandcenter \\- orchestrate project stacks, ingest knowledge, observe both\n"
    ".SH SYNOPSIS\n"
    ".B commandcenter\n"
    ".I COMMAND\n"
    ".RI [ OPTIONS ]\n"
    ".SH DESCRIPTION\n"
    ".B commandcenter serve\n"
    "runs the daemon: an HTTP API under\n"
    ".I /api/v1\n"
    "with\n"
    ".IR /health ,\n"
    ".I /ready\n"
    "and\n"
    ".IR /metrics ,\n"
    "and the Hub web UI at\n"
    ".IR / .\n"
    "Most other commands are clients of that API; the ones marked offline work\n"
    "without a daemon. Each command's options are in its own page and in\n"
    ".BR \"commandcenter COMMAND \\-\\-help\" .\n"
    ".SH COMMANDS\n";

static const char main_tail[] =
    ".SH ENVIRONMENT\n"
    ".TP\n"
    ".B CC_SERVER\n"
    "The daemon client commands talk to (default http://127.0.0.1:8470).\n"
    ".TP\n"
    ".BR CC_TOKEN \", \" CC_TOKEN_FILE\n"
    "The API token of client commands, or a file holding it.\n"
    ".TP\n"
    ".B CC_CONFIG\n"
    "The configuration file of\n"
    ".B serve\n"
    "when\n"
    ".B \\-\\-config\n"
    "is not given.\n"
    ".TP\n"
    ".B CC_*\n"
    "Any configuration key, upper case, dots as underscores (for example\n"
    ".BR CC_HTTP_LISTEN ).\n"
    "Secret keys also take\n"
    ".BR CC_*_FILE .\n"
    ".SH EXIT STATUS\n"
    "0 on success; 1 when the operation failed or the daemon could not be reached or\n"
    "started; 2 for usage and configuration errors.\n"
    ".SH SIGNALS\n"
    ".B SIGTERM\n"
    "and\n"
    ".B SIGINT\n"
    "make the daemon stop accepting connections, finish requests in flight (up to\n"
    ".BR http.shutdown_timeout )\n"
    "and exit 0.\n"
    "Under systemd it reports readiness and answers the watchdog (sd_notify).\n"
    ".SH FILES\n"
    ".TP\n"
    ".I $XDG_DATA_HOME/commandcenter\n"
    "Default data directory (the SQLite database and the admin token);\n"
    ".I /var/lib/commandcenter\n"
    "under the systemd unit.\n"
    ".TP\n"
    ".I DATA_DIR/lock\n"
    "Held by the daemon while it runs: a second daemon on the same data directory\n"
    "refuses to start and names the first one's pid.\n"
    ".SH SEE ALSO\n";

static cc_err main_page(struct cc_buf *out)
{
    cc_err err = cc_buf_addstr(out, main_head);
    for (const struct cli_command *c = cli_commands; c->name && !err; c++) {
        if (c->hidden)
            continue;
        err = cc_buf_addf(out, ".TP\n.B %s\n", c->name);
        if (!err)
            err = roff_line(out, c->summary, strlen(c->summary));
        if (!err)
            err = cc_buf_addf(out, "(see\n.BR commandcenter\\-%s (1))\n", c->name);
    }
    if (!err)
        err = cc_buf_addstr(out, main_tail);
    bool first = true;
    for (const struct cli_command *c = cli_commands; c->name && !err; c++) {
        if (c->hidden)
            continue;
        err = cc_buf_addf(out, "%s.BR commandcenter\\-%s (1)", first ? "" : ",\n", c->name);
        first = false;
    }
    return err ? err : cc_buf_addch(out, '\n');
}

/* Runs `commandcenter NAME --help` in a child; its stdout into out. */
static cc_err capture_help(const struct cli_command *c, char *const *envp, struct cc_buf *out)
{
    int p[2];
    if (pipe(p) != 0)
        return CC_EIO;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return CC_EIO;
    }
    if (pid == 0) {
        close(p[0]);
        if (dup2(p[1], STDOUT_FILENO) < 0)
            _exit(127);
        char name[64], help[] = "--help";
        snprintf(name, sizeof(name), "%s", c->name);
        char *argv[] = {name, help, NULL};
        int rc = c->run(2, argv, envp);
        fflush(stdout);
        _exit(rc);
    }
    close(p[1]);
    cc_err err = CC_OK;
    char chunk[4096];
    ssize_t n;
    while ((n = read(p[0], chunk, sizeof(chunk))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || (!err && cc_buf_add(out, chunk, (size_t)n))) {
            err = err ? err : CC_ELIMIT;
            if (n < 0)
                break;
        }
    }
    close(p[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!err && (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || out->len == 0))
        err = CC_EIO;
    return err;
}

static cc_err write_page(const char *dir, const char *file, const struct cc_buf *page)
{
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
        return CC_ELIMIT;
    FILE *f = fopen(path, "w");
    if (!f)
        return CC_EIO;
    bool ok = fwrite(cc_buf_str(page), 1, page->len, f) == page->len;
    ok = fclose(f) == 0 && ok;
    return ok ? CC_OK : CC_EIO;
}

static const char man_usage[] =
    "usage: commandcenter man-pages DIR\n"
    "\n"
    "Writes commandcenter.1 and one commandcenter-COMMAND.1 per command into DIR\n"
    "(made if missing), from the command table and each command's --help.\n";

int cmd_man_pages(int argc, char **argv, char *const *envp)
{
    if (argc != 2 || argv[1][0] == '-') {
        bool help = argc == 2 && strcmp(argv[1], "--help") == 0;
        fputs(man_usage, help ? stdout : stderr);
        return help ? CLI_OK : CLI_USAGE;
    }
    const char *dir = argv[1];
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        cli__error("give a writable directory", "cannot create %s: %s", dir, strerror(errno));
        return CLI_FAIL;
    }
    struct cc_buf page, help;
    cc_buf_init(&page, PAGE_MAX);
    cc_buf_init(&help, HELP_MAX);
    cc_err err = main_page(&page);
    const char *what = "commandcenter.1";
    if (!err)
        err = write_page(dir, what, &page);
    for (const struct cli_command *c = cli_commands; c->name && !err; c++) {
        if (c->hidden)
            continue;
        char file[96];
        snprintf(file, sizeof(file), "commandcenter-%s.1", c->name);
        what = c->name;
        cc_buf_reset(&page);
        cc_buf_reset(&help);
        err = capture_help(c, envp, &help);
        if (!err)
            err = cli__man_page(&page, c->name, c->summary, cc_buf_str(&help));
        if (!err)
            err = write_page(dir, file, &page);
    }
    cc_buf_release(&page);
    cc_buf_release(&help);
    if (err) {
        cli__error(NULL, "cannot write the man page of %s into %s: %s", what, dir,
                   cc_err_str(err));
        return CLI_FAIL;
    }
    return CLI_OK;
}

int cmd_config_example(int argc, char **argv, char *const *envp)
{
    if (argc > 1) {
        bool help = strcmp(argv[1], "--help") == 0;
        fputs("usage: commandcenter config-example\n\n"
              "Prints the example configuration: every key commented out with its\n"
              "default and description.\n", help ? stdout : stderr);
        return help ? CLI_OK : CLI_USAGE;
    }
    struct cc_buf out;
    cc_buf_init(&out, PAGE_MAX);
    cc_err err = cc_config_example(&out);
    if (!err)
        fputs(cc_buf_str(&out), stdout);
    else
        cli__error(NULL, "cannot print the example configuration: %s", cc_err_str(err));
    cc_buf_release(&out);
    return err ? CLI_FAIL : CLI_OK;
}
