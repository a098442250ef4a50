/*
 * cli.h - the command line: one cmd_*.c per command, dispatched by main.c.
 *
 * Client commands talk to the daemon only over HTTP (client.c),
 * like curl's src/ never reaching into lib/. Exit statuses: 0 success,
 * 1 the operation failed (server answered an error, or cannot be reached),
 * 2 usage or configuration error. Errors go to stderr as
 * "commandcenter: <what>" followed by "hint: <what to do>".
 */
#ifndef CC_CLI_CLI_H
#define CC_CLI_CLI_H

#include <jansson.h>
#include <stdbool.h>

#include "core/err.h"

#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2

#define CLI_DEFAULT_SERVER "http://127.0.0.1:8470"

struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv, char *const *envp);
    bool hidden;          /* internal (the process driver's shim): not in the help */
};

extern const struct cli_command cli_commands[];

int cli_main(int argc, char **argv, char *const *envp);

int cmd_serve(int argc, char **argv, char *const *envp);
int cmd_version(int argc, char **argv, char *const *envp);
int cmd_status(int argc, char **argv, char *const *envp);
int cmd_tokens(int argc, char **argv, char *const *envp);
int cmd_events(int argc, char **argv, char *const *envp);
int cmd_search(int argc, char **argv, char *const *envp);
int cmd_sources(int argc, char **argv, char *const *envp);
int cmd_jobs(int argc, char **argv, char *const *envp);
int cmd_alerts(int argc, char **argv, char *const *envp);
int cmd_ingest(int argc, char **argv, char *const *envp);
int cmd_cron(int argc, char **argv, char *const *envp);
int cmd_robots(int argc, char **argv, char *const *envp);
int cmd_extract(int argc, char **argv, char *const *envp);
int cmd_feed(int argc, char **argv, char *const *envp);
int cmd_config(int argc, char **argv, char *const *envp);
int cmd_lint(int argc, char **argv, char *const *envp);
int cmd_projects(int argc, char **argv, char *const *envp);
int cmd_up(int argc, char **argv, char *const *envp);
int cmd_down(int argc, char **argv, char *const *envp);
int cmd_ps(int argc, char **argv, char *const *envp);
int cmd_health(int argc, char **argv, char *const *envp);
int cmd_logs(int argc, char **argv, char *const *envp);
int cmd_restart(int argc, char **argv, char *const *envp);
int cmd_ls(int argc, char **argv, char *const *envp);
int cmd_resources(int argc, char **argv, char *const *envp);
int cmd_shim(int argc, char **argv, char *const *envp);
int cmd_backup(int argc, char **argv, char *const *envp);
int cmd_restore(int argc, char **argv, char *const *envp);
int cmd_man_pages(int argc, char **argv, char *const *envp);
int cmd_config_example(int argc, char **argv, char *const *envp);

struct cc_buf;
/* The roff man page of `commandcenter name` from its --help text (the
 * "usage:" lines are the synopsis, the rest the description). */
cc_err cli__man_page(struct cc_buf *out, const char *name, const char *summary,
                     const char *help);
int cmd_fetch(int argc, char **argv, char *const *envp);

/* Options every client command accepts. */
struct cli_client {
    const char *server;   /* --server, CC_SERVER, or the default */
    char *token;          /* CC_TOKEN or the contents of CC_TOKEN_FILE; owned */
    bool json;            /* --json: print the server's JSON as is */
    long timeout_s;
    long quiet_status;    /* an HTTP status cli__request does not report (0 = none) */
    long last_status;     /* of the last request; 0 when the server was not reached */
};

/* Reads CC_SERVER/CC_TOKEN/CC_TOKEN_FILE. Returns CLI_OK or CLI_USAGE
 * (after printing why). */
int cli__client_init(struct cli_client *c, const char *server_opt, bool json);
void cli__client_release(struct cli_client *c);

/* Performs one request; body may be NULL (borrowed). On a 2xx answer sets
 * *out to the parsed JSON (NULL for an empty body) and returns CLI_OK.
 * Otherwise prints the server's error (message and hint) or the transport
 * failure with a hint and returns CLI_FAIL. */
int cli__request(struct cli_client *c, const char *method, const char *path, json_t *body,
                 json_t **out);

/* GET with a streamed answer: each piece of a 2xx body goes to on_body
 * (false stops); an error answer is reported like cli__request. The
 * request has no overall deadline, only the connect/head one. */
int cli__stream(struct cli_client *c, const char *path, const char *accept,
                bool (*on_body)(void *arg, const char *p, size_t n), void *arg);

struct cc_buf;
/* Prints "commandcenter: <msg>" and an optional "hint: <hint>" to stderr. */
void cli__error(const char *hint, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends "?name=value" or "&name=value", value percent-encoded; nothing
 * when value is NULL. */
void cli__add_param(struct cc_buf *b, const char *name, const char *value);
/* True when stdout is a terminal (colours, progress bars). */
bool cli__stdout_is_tty(void);

struct orch_stack;
/* Loads a Compose file for the offline tools: prints its warnings, or the
 * error (file:line:col) and returns CLI_FAIL. */
int cli__compose_load(const char *file, const char *env_file, char *const *envp,
                      struct orch_stack **out);

/* Prints JSON pretty (indent 2) to stdout. */
void cli__print_json(json_t *j);

/* Appends the whole of the file at path to out (initialized by the caller;
 * out's limit is `limit`, named in the message). CLI_OK, or CLI_FAIL after
 * printing why (missing, unreadable, over the limit). */
int cli__read_file(const char *path, size_t limit, struct cc_buf *out);

#endif
