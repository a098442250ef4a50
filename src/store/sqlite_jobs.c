/*
 * sqlite_jobs.c - the job claim of the SQLite backend (store.h; design in
 * docs/KNOWLEDGE.md "Jobs"). The rest of the queue is the shared SQL
 * layer's (store_sql_jobs.c).
 *
 * A claim reads before it writes, so it runs in one BEGIN IMMEDIATE
 * transaction on the writer: the file's write lock is taken up front,
 * which serializes claims across processes (two daemons, or two store
 * handles, on one file) and rules out a stale snapshot. A claimed job is
 * copied out and handed to the callback only after COMMIT, so a caller
 * never works on a claim that did not stick.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/sqlite_int.h"
#include "store/store.h"

const struct stmt_def sqlite__job_stmts[ST__COUNT] = {
    /* Each arm walks jobs_claim (state, next_run_ms, id) for one row; the
     * union of three rows is then ordered. An OR over the states would
     * sort every due job instead. */
    [ST_JOB_PICK] = {"job_pick",
        "SELECT id FROM ("
        " SELECT * FROM (SELECT id, next_run_ms FROM jobs WHERE state = 'queued'"
        "   AND next_run_ms <= ?1 ORDER BY next_run_ms, id LIMIT 1)"
        " UNION ALL"
        " SELECT * FROM (SELECT id, next_run_ms FROM jobs WHERE state = 'failed'"
        "   AND next_run_ms <= ?1 ORDER BY next_run_ms, id LIMIT 1)"
        " UNION ALL"
        " SELECT * FROM (SELECT id, next_run_ms FROM jobs WHERE state = 'running'"
        "   AND lease_until_ms < ?1 ORDER BY next_run_ms, id LIMIT 1)"
        ") ORDER BY next_run_ms, id LIMIT 1"},
    /* job_pick for a batch: each arm's best ?2 rows, merged; the same jobs
     * ?2 single picks would take one after another (a pick never takes a
     * job an earlier pick claimed: claimed jobs are running with a lease
     * into the future), but the running arm - which reads the lease of
     * every running job - runs once per batch instead of once per job. */
    [ST_JOB_PICK_MANY] = {"job_pick_many",
        "SELECT id FROM ("
        " SELECT * FROM (SELECT id, next_run_ms FROM jobs WHERE state = 'queued'"
        "   AND next_run_ms <= ?1 ORDER BY next_run_ms, id LIMIT ?2)"
        " UNION ALL"
        " SELECT * FROM (SELECT id, next_run_ms FROM jobs WHERE state = 'failed'"
        "   AND next_run_ms <= ?1 ORDER BY next_run_ms, id LIMIT ?2)"
        " UNION ALL"
        " SELECT * FROM (SELECT id, next_run_ms FROM jobs WHERE state = 'running'"
        "   AND lease_until_ms < ?1 ORDER BY next_run_ms, id LIMIT ?2)"
        ") ORDER BY next_run_ms, id LIMIT ?2"},
    [ST_JOB_CLAIM] = {"job_claim",
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = ?2,"
        " lease_until_ms = ?3, updated_ms = ?4 WHERE id = ?1 RETURNING " STORE_SQL_JOB_COLS},
};

static void row_job_copy(sqlite3_stmt *st, void *ctx)
{
    struct store_sql_row r = sqlite__row(st);
    store__sql_row_job_copy(&r, ctx);
}

static cc_err claim_locked(struct sqlite_store *s, struct conn *c, const char *owner,
                           int64_t now_ms, int64_t lease_ms, struct store_sql_job_copy *out)
{
    int64_t id = 0;
    bool found = false;
    cc_err err = sqlite__query_int(s, c, ST_JOB_PICK, PARAMS(PI(now_ms)), &id, &found);
    if (!err && !found)
        err = CC_ENOTFOUND;
    /* RETURNING (SQLite 3.35) gives the claimed row without a second read. */
    if (!err)
        err = sqlite__query(s, c, ST_JOB_CLAIM,
                            PARAMS(PI(id), PT(owner), PI(now_ms + lease_ms), PI(now_ms)),
                            row_job_copy, out, NULL);
    if (!err && !out->set)
        err = CC_EIO;
    return err;
}

cc_err sqlite__job_claim(struct store *st, const char *owner, int64_t now_ms, int64_t lease_ms,
                         store_job_cb cb, void *arg)
{
    struct sqlite_store *s = sqlite__from_store(st);
    struct store_sql_job_copy job = {0};
    struct conn *c = sqlite__writer_get(s);
    cc_err err = sqlite__begin(s, c, ST_BEGIN_IMMEDIATE);
    if (!err)
        err = claim_locked(s, c, owner, now_ms, lease_ms, &job);
    if (!err)
        err = sqlite__commit(s, c);
    if (err)
        sqlite__rollback(c);
    sqlite__writer_put(s);
    if (!err)
        cb(arg, &job.j);
    store__sql_job_copy_release(&job);
    return err;
}

struct id_list {
    int64_t *v;
    size_t n, cap;
};

static void row_id(sqlite3_stmt *st, void *ctx)
{
    struct id_list *l = ctx;
    if (l->n < l->cap)
        l->v[l->n++] = sqlite3_column_int64(st, 0);
}

/* Up to max claims in one transaction: one pick of the next max jobs in
 * claim order (job_pick_many), then one UPDATE ... RETURNING each. Copies
 * go to the callback after COMMIT. Arguments checked by
 * store_job_claim_batch(). */
cc_err sqlite__job_claim_batch(struct store *st, const char *owner, int64_t now_ms,
                               int64_t lease_ms, size_t max, store_job_cb cb, void *arg)
{
    struct sqlite_store *s = sqlite__from_store(st);
    struct store_sql_job_copy *jobs = cc_xcalloc(max, sizeof(*jobs));
    struct id_list ids = {.v = cc_xcalloc(max, sizeof(int64_t)), .cap = max};
    size_t got = 0;
    struct conn *c = sqlite__writer_get(s);
    cc_err err = sqlite__begin(s, c, ST_BEGIN_IMMEDIATE);
    if (!err)
        err = sqlite__query(s, c, ST_JOB_PICK_MANY, PARAMS(PI(now_ms), PI(max)), row_id, &ids,
                            NULL);
    for (; !err && got < ids.n; got++) {
        err = sqlite__query(s, c, ST_JOB_CLAIM,
                            PARAMS(PI(ids.v[got]), PT(owner), PI(now_ms + lease_ms), PI(now_ms)),
                            row_job_copy, &jobs[got], NULL);
        if (!err && !jobs[got].set)
            err = CC_EIO;
    }
    if (!err && got == 0)
        err = CC_ENOTFOUND;
    free(ids.v);
    if (!err)
        err = sqlite__commit(s, c);
    if (err)
        sqlite__rollback(c);
    sqlite__writer_put(s);
    for (size_t i = 0; i < got; i++) {
        if (!err)
            cb(arg, &jobs[i].j);
        store__sql_job_copy_release(&jobs[i]);
    }
    free(jobs);
    return err;
}

cc_err sqlite__job_succeed_locked(struct sqlite_store *s, struct conn *c, int64_t id,
                                  const char *owner, int64_t now_ms)
{
    return store__sql_job_succeed_on(&s->sql.base, (struct store_sql_conn *)c, id, owner,
                                     now_ms);
}
