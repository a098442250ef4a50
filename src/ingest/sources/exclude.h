/*
 * exclude.h - .gitignore-style exclusion patterns of folder sources
 * (options.exclude), as a pure function of the pattern list and a path.
 *
 * Patterns, as in .gitignore:
 *   - `*` matches any run of characters but '/', `?` one character but '/';
 *   - a pattern with no '/' but a trailing one matches a name at any depth;
 *     with a '/' at the start or in the middle it is anchored at the
 *     folder (a leading '/' is dropped);
 *   - `**` as a whole component: leading ("**" + "/x") any depth, middle
 *     ("a/" + "**" + "/b") zero or more directories, trailing ("a/" + "**")
 *     everything inside a, not a itself;
 *   - a trailing '/' matches directories only;
 *   - a leading '!' re-includes what an earlier pattern excluded; the last
 *     matching pattern wins; "\!" and "\#" match a literal '!' or '#';
 *   - blank patterns and those starting with '#' are ignored.
 * A path inside an excluded directory is excluded whatever later patterns
 * say (git cannot re-include a file of an excluded directory either).
 * Paths are relative to the folder, '/'-separated, without "." or "..".
 * Cost: O(pattern x path) per pattern; no recursion, no allocation.
 */
#ifndef CC_INGEST_SOURCES_EXCLUDE_H
#define CC_INGEST_SOURCES_EXCLUDE_H

#include <stdbool.h>
#include <stddef.h>

#define INGEST_EXCLUDE_MAX 256          /* patterns per source */
#define INGEST_EXCLUDE_MAX_LEN 256      /* bytes per pattern */

/* Does the list exclude `rel` (a directory when is_dir)? Checks rel's
 * parent directories first. */
bool ingest_excluded(const char *const *patterns, size_t n, const char *rel, bool is_dir);

/* The patterns alone, on rel alone (no parents): the last match wins. */
bool ingest_exclude_match(const char *const *patterns, size_t n, const char *rel, bool is_dir);

#endif
