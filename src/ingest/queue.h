/*
 * queue.h - the worker pool that runs jobs from the store's durable queue.
 *
 * Each worker thread loops: claim a batch (store job_claim_batch, one
 * lease each) of about a second of work judged by its recent jobs' times,
 * at most `batch` jobs, run the handler registered for each
 * job's kind in turn, then record the outcomes: the jobs that succeeded -
 * with the documents their handlers deferred (ingest_job_defer_doc) - in
 * one store_doc_write_batch() transaction; a job whose handler failed at
 * once as failed (retried later with exponential backoff and jitter) or
 * dead (attempts used up, or an error that retrying cannot fix: bad
 * input). One more thread, the lease keeper, extends the lease of every
 * claimed, unfinished job every lease/3, so a job outlives its lease only
 * if its worker died - and then another worker (or another daemon on the
 * same database) runs it again. Handlers must therefore be idempotent
 * (docs/KNOWLEDGE.md, "Jobs").
 *
 * Workers sleep on a condition variable between polls; ingest_workers_wake
 * (called after an enqueue) cuts the wait short, so a queued job starts
 * at once, while jobs queued by another node are found within poll_ms.
 */
#ifndef CC_INGEST_QUEUE_H
#define CC_INGEST_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/ctx.h"
#include "core/err.h"
#include "core/retry.h"
#include "store/store.h"

struct ingest_workers;
struct ingest_job_ctx;

/* Runs once the deferred document of a job was written with its batch
 * (err CC_OK, result and id set) or was not (err: the store's error;
 * CC_ESTATE when the job's lease was lost and another worker runs it).
 * Returns the job's outcome: CC_OK, or an error that fails the job like a
 * handler's (write the message into jc->error). The job and its arena are
 * still alive. */
typedef cc_err (*ingest_written_fn)(struct ingest_job_ctx *jc, void *arg, cc_err err,
                                    enum store_upsert result, int64_t doc_id);

/* What a handler gets. job and its strings live in the job's arena, as
 * long as the handler runs. Write a human message into `error` on failure
 * (it becomes the job's last_error). */
struct ingest_job_ctx {
    struct cc_ctx *ctx;
    struct ingest_workers *workers;
    const struct store_job *job;
    struct cc_arena *arena;
    void *data;                  /* ingest_kind.data */
    char error[512];
    /* private to queue.c */
    unsigned slot;
    int64_t stage_started_ms;
    const struct store_doc *deferred;
    bool deferred_count;
    ingest_written_fn written;
    void *written_arg;
};

typedef cc_err (*ingest_job_fn)(struct ingest_job_ctx *jc);


struct ingest_kind {
    const char *kind;            /* "ingest.document" */
    ingest_job_fn run;
    void *data;
};

struct ingest_workers_cfg {
    unsigned threads;            /* >= 1 */
    unsigned batch;              /* most jobs claimed at once, 1..STORE_BATCH_MAX; 0 = 256 */
    int64_t lease_ms;            /* e.g. 30000 */
    int max_attempts;            /* stored in each job at enqueue; used for the retry decision */
    struct cc_backoff backoff;
    int64_t poll_ms;             /* idle wait between claims, e.g. 1000 */
    const char *node_id;         /* lease owner prefix; unique per daemon */
    const struct ingest_kind *kinds;
    size_t nkinds;
};

/* Starts the threads. cfg and kinds are copied/borrowed: kinds must outlive
 * the pool. */
cc_err ingest_workers_start(struct cc_ctx *ctx, const struct ingest_workers_cfg *cfg,
                            struct ingest_workers **out);
/* Wakes idle workers (call after enqueueing). NULL-safe. */
void ingest_workers_wake(struct ingest_workers *w);
/* Stops claiming, waits up to deadline_ms for running jobs, then joins the
 * threads. A worker finishes the handler it is running and writes its
 * batch's finished jobs; the batch's jobs not started yet, like jobs still
 * running, are left to their leases (they run again). */
void ingest_workers_stop(struct ingest_workers *w, int64_t deadline_ms);
void ingest_workers_free(struct ingest_workers *w);

/* Marks the start of a pipeline stage: the lease keeper records it on the
 * job with its next heartbeat, and the previous stage is timed into
 * cc_job_stage_duration_seconds{stage,outcome="ok"}. */
void ingest_job_stage(struct ingest_job_ctx *jc, const char *stage);
/* Hands the job's document write to the queue, which writes it (as
 * doc_upsert; with count, a created or updated document adds 1 to its
 * source's ingested_total) together with the job's success and the other
 * jobs of the batch in one transaction, then calls written(). doc and
 * everything it points to must live in jc->arena; the handler then
 * returns CC_OK. At most one document per job. */
void ingest_job_defer_doc(struct ingest_job_ctx *jc, const struct store_doc *doc, bool count,
                          ingest_written_fn written, void *arg);
/* Writes the handler's error message (printf-style). */
void ingest_job_errorf(struct ingest_job_ctx *jc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* True for errors that another attempt may fix (I/O, timeouts, busy
 * store, upstream failures); bad or oversize input is permanent. */
bool ingest_err_retryable(cc_err err);

#endif
