/*
 * scheduler.h - runs sources on their cron schedules.
 *
 * One thread. Every second (or when woken) it asks the store for enabled
 * sources whose next_run has come, queues a "source.run" job for each
 * (deduplicated, so a slow run is never queued twice), and sets the next
 * run from the source's cron expression in its time zone. A run missed
 * while the daemon was down is simply due at start: it runs once, and the
 * next run is computed from now, so N missed slots make one run.
 * A source whose last runs failed is held back: its next run is at least
 * min(2^failures minutes, 6 h) after the last one.
 * Once an hour it also prunes succeeded jobs older than the retention.
 */
#ifndef CC_INGEST_SCHEDULER_H
#define CC_INGEST_SCHEDULER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/ctx.h"
#include "core/diag.h"
#include "core/err.h"

struct ingest_scheduler;
struct ingest_workers;

struct ingest_scheduler_cfg {
    unsigned queue_limit;        /* jobs.queue_per_source */
    int max_attempts;            /* jobs.max_attempts */
    int64_t job_retention_ms;    /* succeeded jobs older than this are pruned hourly */
};

/* workers may be NULL (then nobody is woken after an enqueue). */
cc_err ingest_scheduler_start(struct cc_ctx *ctx, struct ingest_workers *workers,
                              const struct ingest_scheduler_cfg *cfg,
                              struct ingest_scheduler **out);
void ingest_scheduler_wake(struct ingest_scheduler *s);     /* NULL-safe */
void ingest_scheduler_stop(struct ingest_scheduler *s);     /* joins; NULL-safe */
void ingest_scheduler_free(struct ingest_scheduler *s);

/* The first run of `schedule` (cron or @macro) in zone `tz` (NULL/"" =
 * UTC) strictly after after_ms. CC_EINVAL/CC_EPARSE with a message in d
 * for a bad expression or zone; CC_ENOTFOUND if it never fires. */
cc_err ingest_schedule_next(const char *schedule, const char *tz, int64_t after_ms,
                            int64_t *out_ms, struct cc_diag *d);

/* The backoff floor for a source with `failures` consecutive failed runs. */
int64_t ingest_failure_backoff_ms(int failures);

/* Queues a source.run job for the source now. *out_job (optional) is the
 * job id; *out_existing is set when one was already queued. */
cc_err ingest_enqueue_source_run(struct cc_ctx *ctx, int64_t source_id, unsigned queue_limit,
                                 int max_attempts, int64_t *out_job, bool *out_existing);

#endif
