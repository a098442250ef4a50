/*
 * compose_int.h - shared between the files of the compose parser
 * (compose.c, compose_interp.c, compose_json.c, lint.c); not an API.
 */
#ifndef CC_ORCHESTRATOR_COMPOSE_INT_H
#define CC_ORCHESTRATOR_COMPOSE_INT_H

#include "core/buf.h"
#include "orchestrator/compose.h"

#define ORCH__INTERP_DEPTH 8   /* ${A:-${B:-${C}}} nesting */

/* Where variables come from: envp first, then the .env pairs. */
struct orch__env {
    char *const *envp;
    const struct orch_kvs *dotenv;
};

/* Interpolates s[0..len) into out (appended). Names of missing variables
 * without a default are appended to missing (", "-separated, bounded). On
 * an error (":?" / "?" or bad syntax) returns CC_EPARSE with why set. */
cc_err orch__interp(const struct orch__env *env, const char *s, size_t len,
                    struct cc_buf *out, struct cc_buf *missing, char *why, size_t whysz);

/* Looks a variable up: envp, then dotenv; NULL when unset. */
const char *orch__env_get(const struct orch__env *env, const char *name, size_t nlen);

/* Parses a .env file (KEY=VALUE lines, '#' comments, "export ", quotes)
 * into arena storage. On error returns CC_EPARSE with *bad_line set. */
cc_err orch__dotenv_parse(struct cc_arena *a, const char *text, size_t len,
                          struct orch_kvs *out, unsigned *bad_line);

/* Splits a command line like a POSIX shell would split words (quotes and
 * backslashes; no expansion). False on an unterminated quote. */
bool orch__shell_split(struct cc_arena *a, const char *s, struct orch_strs *out);

/* ---- the parser's state, shared by compose.c and compose_service.c ---- */

#include <libfyaml.h>

struct orch__pos {
    unsigned line, col;   /* 1-based; 0 = unknown */
};

struct orch__parser {
    struct orch_stack *st;
    struct cc_arena *a;
    const char *file;
    const char *dir;
    struct orch__env env;
    struct cc_diag *d;
};

struct orch__pos orch__pos_of(struct fy_node *n, struct orch__pos fallback);
cc_err orch__fail(struct orch__parser *p, struct orch__pos at, cc_err e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void orch__warn(struct orch__parser *p, struct orch__pos at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The raw text of a scalar key (no interpolation), bounded, or NULL. */
const char *orch__key(struct fy_node_pair *pr, char *buf, size_t bufsz);
/* A scalar value, interpolated, copied into the arena. `what` names it in
 * errors ("services.web.image"). Null is refused unless nullable (then
 * *out = NULL). */
cc_err orch__scalar(struct orch__parser *p, struct fy_node *n, struct orch__pos kp,
                    const char *what, bool nullable, char **out);
cc_err orch__bool(struct orch__parser *p, struct fy_node *n, struct orch__pos kp,
                  const char *what, bool *out);
cc_err orch__long(struct orch__parser *p, struct fy_node *n, struct orch__pos kp,
                  const char *what, long min, long max, long *out);
cc_err orch__duration(struct orch__parser *p, struct fy_node *n, struct orch__pos kp,
                      const char *what, int64_t *out);
/* A string or a list of strings. */
cc_err orch__strs(struct orch__parser *p, struct fy_node *n, struct orch__pos kp,
                  const char *what, struct orch_strs *out);
/* A mapping or a list of "KEY=VALUE" ("KEY" alone: value NULL). */
cc_err orch__kvs(struct orch__parser *p, struct fy_node *n, struct orch__pos kp,
                 const char *what, struct orch_kvs *out);
/* rel made absolute against the compose file's directory (when known). */
char *orch__path(struct orch__parser *p, const char *rel);
/* The node as JSON with scalars interpolated (all strings); NULL after an
 * interpolation error (the parser's diag says where). */
json_t *orch__to_json(struct orch__parser *p, struct fy_node *n, unsigned depth);

cc_err orch__service(struct orch__parser *p, struct fy_node_pair *pr,
                     struct orch_service *out);

#endif
