/*
 * daemon.h - `commandcenter serve`: wiring only. Reads the configuration,
 * builds the cc_ctx, starts the modules in order and stops them in reverse
 * on SIGTERM/SIGINT.
 */
#ifndef CC_DAEMON_DAEMON_H
#define CC_DAEMON_DAEMON_H

#include <stdbool.h>

struct daemon_opts {
    const char *config_path;   /* NULL: CC_CONFIG, else built-in defaults */
    bool print_config;         /* print the effective configuration and exit */
    bool check_config;         /* validate and exit */
};

/* Returns the process exit status: 0 after a clean stop, 1 when a module
 * fails to start, 2 for configuration errors. */
int daemon_run(const struct daemon_opts *opts, char *const *envp);

#endif
