/*
 * github.h - what GitHub webhook deliveries say, for the sources they
 * reach (docs/WEBHOOKS.md). Pure functions over parsed JSON: no I/O, no
 * store, no secrets read here, so the fuzz target drives them directly.
 *
 * A source follows a repository through its options:
 *   "github": {"repository": "owner/name", "secret_file": "/path",
 *              "branch": "main", "path_prefix": "docs/"}
 * Every field but repository is optional. Repository names compare
 * without regard to case, as GitHub treats them.
 *
 * The signature headers of both webhook protocols are "sha256=<64 hex>"
 * (X-Hub-Signature-256, X-Signature-256); ingest_webhook_sig_parse reads
 * one into the 32 bytes to compare in constant time.
 */
#ifndef CC_INGEST_SOURCES_GITHUB_H
#define CC_INGEST_SOURCES_GITHUB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define INGEST_GITHUB_PATHS_MAX 1000   /* changed + removed paths one push job carries */
#define INGEST_GITHUB_FIELD_MAX 255    /* bytes of a repository, branch, prefix or path */

/* A source's options.github, borrowed from the parsed options object. */
struct ingest_github_opts {
    const char *repository;    /* "owner/name" */
    const char *secret_file;   /* NULL = the global webhooks.github_secret */
    const char *branch;        /* NULL = the repository's default branch */
    const char *path_prefix;   /* NULL = every path */
};

/* Reads options.github from a source's options object. CC_ENOTFOUND when
 * there is none; CC_EINVAL (why filled) when it is malformed: not an
 * object, an unknown field, an inline "secret", a repository not of the
 * form owner/name, a relative secret_file, a field too long. */
cc_err ingest_github_opts_parse(json_t *options, struct ingest_github_opts *out, char *why,
                                size_t whysz);

/* Whether a repository name ("owner/name", from a delivery) is the one
 * the options name (case-insensitive). */
bool ingest_github_repo_eq(const char *a, const char *b);

/* repository.full_name of a delivery, or NULL. */
const char *ingest_github_repository(json_t *body);

/* Whether a push delivery is for the branch a source follows: ref must be
 * refs/heads/<branch>, branch being the source's, else the repository's
 * default branch from the delivery; with neither, any branch. Tag pushes
 * and branch deletions never match. */
bool ingest_github_push_branch_ok(json_t *body, const char *branch);

/* The paths a push changed and removed under prefix (NULL = all), from
 * every commit's added/modified/removed in order, so a path's last change
 * wins; deduplicated, in first-seen order. At most
 * INGEST_GITHUB_PATHS_MAX paths in all: *out_truncated says some were
 * left out (the run should then treat everything as changed). Paths that
 * are not strings, empty, too long, absolute or with a ".." segment are
 * skipped. *changed and *removed are new arrays. */
cc_err ingest_github_push_paths(json_t *body, const char *prefix, json_t **changed,
                                json_t **removed, bool *out_truncated);

/* "sha256=<64 hex digits>" (either case) into 32 bytes; CC_EINVAL else. */
cc_err ingest_webhook_sig_parse(const char *header, uint8_t out[32]);

/* Whether X-Timestamp (Unix seconds, digits only) is within window_ms of
 * now_ms in either direction; exactly window_ms away is still inside. */
bool ingest_webhook_ts_ok(const char *ts, int64_t now_ms, int64_t window_ms);

/* Whether a delivery id is acceptable as an idempotency key: 1..200
 * bytes of A-Z a-z 0-9 - _ . : */
bool ingest_webhook_id_ok(const char *id);

#endif
