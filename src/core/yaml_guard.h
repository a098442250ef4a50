/*
 * yaml_guard.h - what every YAML front end checks before libfyaml 0.7.12
 * sees a document: a pre-scan of the text that refuses inputs known to crash
 * it, hang it, make it return wrong text or cost quadratic time, and a
 * budget on the size of the tree after alias expansion (billion laughs).
 *
 * Shared by the configuration loader and the Compose parser; each passes
 * its own limits and the noun used in messages ("a configuration").
 */
#ifndef CC_CORE_YAML_GUARD_H
#define CC_CORE_YAML_GUARD_H

#include <stdbool.h>
#include <stddef.h>

#include <libfyaml.h>

#include "core/err.h"

struct cc_yaml_limits {
    size_t max_blank_run;   /* blank lines in a row */
    size_t max_entries;     /* ':', ',', '?' and '{': bounds keys per mapping */
    size_t max_anchors;
    const char *what;       /* "a configuration": used in limit messages */
    const char *entries_hint; /* "a few dozen": how many entries are normal */
};

/* Where and why the pre-scan refused the text; line and col are 1-based. */
struct cc_yaml_fault {
    unsigned line, col;
    char msg[256];
};

/* Checks that text is UTF-8 YAML text clear of libfyaml's known problems.
 * Returns CC_OK, or CC_EPARSE / CC_ELIMIT with *f filled in. */
cc_err cc_yaml_check_text(const char *text, size_t len, const struct cc_yaml_limits *lim,
                          struct cc_yaml_fault *f);

/* Spends one unit of *budget per node the resolved tree under n would hold
 * (following aliases); false once it would exceed the budget or nest deeper
 * than max_depth. Costs at most *budget steps. */
/* A libfyaml parser whose diagnostics are collected, never printed. */
struct cc_yaml {
    struct fy_diag *diag;
    struct fy_parser *parser;
    struct fy_document *doc;   /* set by the caller from fy_parse_load_document */
};

/* Sets up a quiet parser over text (borrowed; must outlive y). The
 * document is not resolved: callers resolve after their expansion check.
 * CC_ENOMEM on failure; cc_yaml_close is safe either way. */
cc_err cc_yaml_open(struct cc_yaml *y, const char *text, size_t len);
void cc_yaml_close(struct cc_yaml *y);
/* libfyaml's first collected error: its message (or `fallback`) into msg,
 * its 1-based position into line/col (0 when unknown). "duplicate key" is
 * spelled out for users. */
void cc_yaml_first_error(const struct cc_yaml *y, const char *fallback, char *msg,
                         size_t msgsz, unsigned *line, unsigned *col);

/* Where a node starts, 1-based: a scalar's own token (the opening quote of
 * a quoted one), else the first scalar inside it, searched at most
 * max_depth deep. False when libfyaml has no mark for it. */
bool cc_yaml_node_pos(struct fy_node *n, unsigned max_depth, unsigned *line, unsigned *col);
/* True for a missing node and for YAML's plain nulls: empty, ~, null. */
bool cc_yaml_is_null(struct fy_node *n);

bool cc_yaml_within_budget(struct fy_node *n, unsigned max_depth, size_t *budget);

#endif
