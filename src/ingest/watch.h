/*
 * watch.h - watched folders: one thread turning inotify events of every
 * file source with options.watch into ingest.document jobs.
 *
 * What it keeps true:
 *   - Every enabled file source with {"watch": true} whose folder lies
 *     beneath sources.allowed_roots has a recursive watch: one inotify
 *     watch per directory (hidden and excluded directories left out), new
 *     directories added as they appear and scanned, since files may land
 *     in them before their watch exists.
 *   - A file written, created or moved in is queued once it has stayed
 *     quiet for the debounce (sources.watch_debounce), as the same
 *     ingest.document job under the same dedup key a scan queues
 *     (ingest/sources/file.h), so scans and the watcher never duplicate. A
 *     file whose job is already queued or running is offered again after
 *     another debounce, so a change made while its job was reading is not
 *     lost.
 *   - A file deleted or moved away loses its document at once (and again
 *     after a debounce, in case a job in flight wrote it back); a
 *     directory deleted or moved away, a lost event queue (IN_Q_OVERFLOW)
 *     or a vanished folder make the source rescan (a source.run, which
 *     also removes the documents of files gone).
 *   - When the watcher starts, and when a source starts being watched, a
 *     source.run catches up with what changed while nobody watched.
 *   - When the kernel refuses another watch (fs.inotify.max_user_watches),
 *     the source falls back to a scan every WATCH_FALLBACK_SCAN_MS, says
 *     so in its last_error and in a log line.
 *   - A directory has one watch: a source whose folder overlaps one already
 *     watched (the same, inside or around it) is not watched, and a log
 *     line says so; its scans still run.
 * Everything it opens under a folder is opened beneath the folder's
 * descriptor (ingest/sources/local.h).
 *
 * Sources are reloaded from the store when ingest_watcher_wake is called
 * (the API does, after a source changes) and every few seconds anyway.
 */
#ifndef CC_INGEST_WATCH_H
#define CC_INGEST_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/ctx.h"
#include "core/err.h"

struct ingest_workers;
struct ingest_watcher;

struct ingest_watcher_cfg {
    int64_t debounce_ms;               /* sources.watch_debounce */
    size_t max_document_bytes;         /* knowledge.max_document_bytes */
    unsigned queue_limit;              /* jobs.queue_per_source */
    int max_attempts;                  /* jobs.max_attempts */
    const char *const *allowed_roots;  /* sources.allowed_roots; must outlive the watcher */
};

/* Starts the thread. workers (may be NULL) is woken when jobs are queued.
 * CC_EIO when inotify or the thread cannot be set up; *out untouched. */
cc_err ingest_watcher_start(struct cc_ctx *ctx, struct ingest_workers *workers,
                            const struct ingest_watcher_cfg *cfg, struct ingest_watcher **out);
/* Sources changed: reload them now. NULL-safe, async-signal-unsafe. */
void ingest_watcher_wake(struct ingest_watcher *w);
/* Stops and joins the thread. NULL-safe. */
void ingest_watcher_stop(struct ingest_watcher *w);
void ingest_watcher_free(struct ingest_watcher *w);   /* NULL-safe */

#endif
