/*
 * env.h - the environment a child process gets: only the variables named.
 *
 * A child started with the daemon's whole environment carries its secrets
 * (CC_AUTH_ADMIN_TOKEN, database passwords) in /proc/<pid>/environ for as
 * long as it lives. Children get an allowlist instead.
 */
#ifndef CC_CORE_ENV_H
#define CC_CORE_ENV_H

#include <stddef.h>

/* Fills out[] with the entries of envp ("NAME=value") whose NAME is in the
 * NULL-terminated names, in envp's order, at most max - 1 of them, then a
 * NULL; returns how many. The strings are envp's own (not copied), so out
 * lives as long as envp. Async-signal-safe: no allocation, no locks. */
size_t cc_env_allow(char *const *envp, const char *const *names, char **out, size_t max);

#endif
