/*
 * local.h - where local sources (file folders, watched or not) may read,
 * and how they open what is beneath their folder.
 *
 * Two rules, both here so every reader of a source's folder shares them:
 *   - A folder must lie beneath one of sources.allowed_roots. Roots and
 *     folder are compared after realpath() (symlinks and ".." resolved),
 *     component by component: "/srv/docs" does not admit "/srv/docs-old".
 *     No roots = nothing is allowed.
 *   - Everything under a folder is opened relative to the folder's
 *     descriptor and never leaves it: openat2() with RESOLVE_BENEATH |
 *     RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, or, where the kernel has
 *     no openat2 (ENOSYS), a walk opening one component at a time with
 *     O_NOFOLLOW. A symlink anywhere on the way, or a directory swapped for
 *     one between a scan and a read, makes the open fail (ELOOP/EXDEV).
 */
#ifndef CC_INGEST_SOURCES_LOCAL_H
#define CC_INGEST_SOURCES_LOCAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

/* Splits a ':'-separated list ("/srv/docs:/home/me/notes") into a
 * NULL-terminated heap array of heap strings (empty entries dropped);
 * free it with ingest_local_roots_free. Entries must be absolute
 * (CC_EINVAL otherwise; *out untouched). */
cc_err ingest_local_roots_parse(const char *list, char ***out);
void ingest_local_roots_free(char **roots);   /* NULL-safe */

/* Pure: is the resolved path `path` the resolved `root` or beneath it,
 * comparing whole components? Both must be absolute and canonical. */
bool ingest_local_beneath(const char *root, const char *path);

/* Resolves `path` (realpath) into out and checks it lies beneath one of
 * `roots` (each resolved too; NULL or empty = none). CC_ENOTFOUND when
 * `path` cannot be resolved, CC_EPERM when it is outside every root; out
 * is written only on CC_OK. */
cc_err ingest_local_allowed(const char *const *roots, const char *path, char out[PATH_MAX]);

/* Opens the directory at the absolute, resolved path `dir` (O_DIRECTORY |
 * O_NOFOLLOW: a root swapped for a symlink after it was resolved is
 * refused). Returns the descriptor, or -1 with errno set. */
int ingest_local_open_dir(const char *dir);

/* Opens `rel` (relative, no "." or ".." components, no leading '/')
 * beneath the directory descriptor `dirfd` with `flags` (O_RDONLY,
 * O_DIRECTORY...; O_CLOEXEC and O_NOFOLLOW are added). Returns the
 * descriptor, or -1 with errno set: ELOOP, EXDEV or ENOTDIR when the
 * path would leave dirfd or pass a symlink, EINVAL for a malformed rel. */
int ingest_local_openat(int dirfd, const char *rel, int flags);

/* The fallback walk ingest_local_openat uses without openat2; exposed so
 * tests reach it on kernels that have openat2. */
int ingest_local_openat_walk(int dirfd, const char *rel, int flags);

#endif
