/*
 * postgres_jobs.c - the job claim of the PostgreSQL backend and the lock
 * the shared enqueue takes (store.h; the rest of the queue is the shared
 * SQL layer's, store_sql_jobs.c).
 *
 * Several daemons may share the database. job_claim is one UPDATE whose
 * candidate rows come from `FOR UPDATE SKIP LOCKED` subqueries: a claimer
 * skips rows another claimer has locked (instead of waiting for it), and
 * the row it locks is re-checked against the WHERE clause on its newest
 * version, so a job claimed and committed by another session meanwhile is
 * passed over; each job is claimed by one session. The claimed row comes
 * back through RETURNING and is given to the callback after the statement
 * committed.
 *
 * The shared enqueue checks the dedup key and the queue limit, then
 * inserts, in one transaction; when a limit applies it first calls
 * pg__queue_lock, which locks the source row (or, for jobs without a
 * source, an advisory lock), so two enqueuers cannot both see room for
 * one more.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/postgres_int.h"
#include "store/store.h"

const struct pg_stmt_def pg__job_stmts[PS__COUNT] = {
    [PS_JOB_LOCK_SOURCE] = {"job_lock_source",
        "SELECT 1 FROM sources WHERE id = $1 FOR NO KEY UPDATE"},
    [PS_JOB_LOCK_NOSRC] = {"job_lock_nosrc",
        "SELECT pg_advisory_xact_lock(hashtext('commandcenter.jobs.nosrc.'"
        " || current_schema()))"},
    /* The oldest waiting job and the oldest expired lease, each found by
     * its own index and locked with SKIP LOCKED; the better of the two is
     * claimed (the other's lock ends with the statement). */
    [PS_JOB_CLAIM] = {"job_claim",
        "WITH w AS (SELECT id, next_run_ms FROM jobs"
        "   WHERE state IN ('queued', 'failed') AND next_run_ms <= $1"
        "   ORDER BY next_run_ms, id LIMIT 1 FOR UPDATE SKIP LOCKED),"
        " r AS (SELECT id, next_run_ms FROM jobs"
        "   WHERE state = 'running' AND lease_until_ms < $1"
        "   ORDER BY next_run_ms, id LIMIT 1 FOR UPDATE SKIP LOCKED),"
        " pick AS (SELECT id FROM (SELECT * FROM w UNION ALL SELECT * FROM r) x"
        "   ORDER BY next_run_ms, id LIMIT 1)"
        " UPDATE jobs j SET state = 'running', attempts = attempts + 1, lease_owner = $2,"
        " lease_until_ms = $3, updated_ms = $1 FROM pick WHERE j.id = pick.id"
        " RETURNING j.id, j.kind, j.source_id, j.state, j.dedup_key, j.payload, j.attempts,"
        " j.max_attempts, j.next_run_ms, j.lease_owner, j.lease_until_ms, j.stage,"
        " j.last_error, j.created_ms, j.updated_ms, j.finished_ms"},
    /* job_claim for up to $4 jobs. */
    [PS_JOB_CLAIM_MANY] = {"job_claim_many",
        "WITH w AS (SELECT id, next_run_ms FROM jobs"
        "   WHERE state IN ('queued', 'failed') AND next_run_ms <= $1"
        "   ORDER BY next_run_ms, id LIMIT $4 FOR UPDATE SKIP LOCKED),"
        " r AS (SELECT id, next_run_ms FROM jobs"
        "   WHERE state = 'running' AND lease_until_ms < $1"
        "   ORDER BY next_run_ms, id LIMIT $4 FOR UPDATE SKIP LOCKED),"
        " pick AS (SELECT id FROM (SELECT * FROM w UNION ALL SELECT * FROM r) x"
        "   ORDER BY next_run_ms, id LIMIT $4)"
        " UPDATE jobs j SET state = 'running', attempts = attempts + 1, lease_owner = $2,"
        " lease_until_ms = $3, updated_ms = $1 FROM pick WHERE j.id = pick.id"
        " RETURNING j.id, j.kind, j.source_id, j.state, j.dedup_key, j.payload, j.attempts,"
        " j.max_attempts, j.next_run_ms, j.lease_owner, j.lease_until_ms, j.stage,"
        " j.last_error, j.created_ms, j.updated_ms, j.finished_ms"},
};

cc_err pg__queue_lock(struct store *st, struct store_sql_conn *c, int64_t source_id,
                      bool *out_found)
{
    struct pg_store *s = pg__from_store(st);
    struct pg_conn *conn = (struct pg_conn *)c;
    if (source_id > 0)
        return pg__query_int(s, conn, PS_JOB_LOCK_SOURCE, QPARAMS(QI(source_id)), NULL,
                             out_found);
    *out_found = true;
    return pg__query(s, conn, PS_JOB_LOCK_NOSRC, NULL, NULL, NULL, NULL);
}

static void row_claimed(const struct pg_row *r, void *ctx)
{
    struct store_sql_row row = pg__sql_row(r);
    store__sql_row_job_copy(&row, ctx);
    free(row.blob);
}

/* Arguments checked by store.c's wrapper. */
cc_err pg__job_claim(struct store *st, const char *owner, int64_t now_ms, int64_t lease_ms,
                     store_job_cb cb, void *arg)
{
    struct store_sql_job_copy job = {0};
    cc_err err = pg__run(pg__from_store(st), PS_JOB_CLAIM,
                         QPARAMS(QI(now_ms), QT(owner), QI(now_ms + lease_ms)), row_claimed,
                         &job, NULL);
    if (!err && !job.set)
        err = CC_ENOTFOUND;
    if (!err)
        cb(arg, &job.j);
    store__sql_job_copy_release(&job);
    return err;
}

/* ---- batches --------------------------------------------------------- */

struct claim_many {
    struct store_sql_job_copy *v;
    size_t n, cap;
};

static void row_claim_many(const struct pg_row *r, void *ctx)
{
    struct claim_many *m = ctx;
    if (m->n < m->cap) {
        struct store_sql_row row = pg__sql_row(r);
        store__sql_row_job_copy(&row, &m->v[m->n++]);
        free(row.blob);
    }
}

static int claim_cmp(const void *a, const void *b)
{
    const struct store_sql_job_copy *x = a, *y = b;
    if (x->j.next_run_ms != y->j.next_run_ms)
        return x->j.next_run_ms < y->j.next_run_ms ? -1 : 1;
    return (x->j.id > y->j.id) - (x->j.id < y->j.id);
}

/* One statement claims up to max jobs (job_claim's, with LIMIT max); the
 * copies go to the callback in claim order after it committed. Arguments
 * checked by store.c's wrapper. */
cc_err pg__job_claim_batch(struct store *st, const char *owner, int64_t now_ms, int64_t lease_ms,
                           size_t max, store_job_cb cb, void *arg)
{
    struct pg_store *s = pg__from_store(st);
    struct claim_many m = {.v = cc_xcalloc(max, sizeof(*m.v)), .cap = max};
    cc_err err = pg__run(s, PS_JOB_CLAIM_MANY,
                         QPARAMS(QI(now_ms), QT(owner), QI(now_ms + lease_ms), QI(max)),
                         row_claim_many, &m, NULL);
    if (!err && m.n == 0)
        err = CC_ENOTFOUND;
    qsort(m.v, m.n, sizeof(*m.v), claim_cmp);
    for (size_t i = 0; i < m.n; i++) {
        if (!err)
            cb(arg, &m.v[i].j);
        store__sql_job_copy_release(&m.v[i]);
    }
    free(m.v);
    return err;
}
