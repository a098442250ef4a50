/*
 * store_sql_jobs.c - the job queue both SQL backends share (store.h;
 * design in docs/KNOWLEDGE.md "Jobs"): enqueue, the lease holder's and
 * the operator's transitions, and the reads. Only the claim differs per
 * backend (sqlite_jobs.c: one writer; postgres_jobs.c: FOR UPDATE SKIP
 * LOCKED), and it decodes its rows with store__sql_row_job_copy.
 *
 * States: queued -> running -> succeeded | failed (runs again when due) |
 * dead; retry brings dead or failed back to queued. "Unfinished" means
 * queued, running or failed: those hold a dedup key and count against a
 * source's queue_limit.
 *
 * Enqueue reads before it writes, so it runs in one write transaction
 * (SQLite: BEGIN IMMEDIATE takes the file's write lock up front; the
 * PostgreSQL dialect's queue_lock locks the source row, or an advisory
 * lock for jobs without a source, when a limit applies). A dedup key taken
 * by a concurrent enqueue between the check and the insert (PostgreSQL,
 * several daemons) ends in the unique index; once more sees the winner.
 *
 * Heartbeat, succeed and fail are single guarded UPDATEs (id, state
 * running, lease_owner): a worker whose lease expired and was reclaimed
 * by another owner gets CC_ESTATE and must drop the job.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/store_sql.h"

#define UNFINISHED "('queued', 'running', 'failed')"

const struct store_sql_stmt store__sql_job_stmts[SQL__COUNT] = {
    [SQL_JOB_FIND_DEDUP] = {.name = "job_find_dedup", .sql =
        "SELECT id FROM jobs WHERE dedup_key = ?1 AND state IN " UNFINISHED},
    [SQL_JOB_COUNT_UNFINISHED] = {.name = "job_count_unfinished", .sql =
        "SELECT COUNT(*) FROM jobs WHERE source_id = ?1 AND state IN " UNFINISHED},
    [SQL_JOB_COUNT_UNFINISHED_NOSRC] = {.name = "job_count_unfinished_nosrc", .sql =
        "SELECT COUNT(*) FROM jobs WHERE source_id IS NULL AND state IN " UNFINISHED},
    [SQL_JOB_INSERT] = {.name = "job_insert", .sql =
        "INSERT INTO jobs (kind, source_id, dedup_key, payload, max_attempts, next_run_ms,"
        " created_ms, updated_ms)"
        " VALUES (?1, NULLIF(CAST(?2 AS BIGINT), 0), ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id"},
    [SQL_JOB_GET] = {.name = "job_get", .sql =
        "SELECT " STORE_SQL_JOB_COLS " FROM jobs WHERE id = ?1"},
    [SQL_JOB_EXISTS] = {.name = "job_exists", .sql = "SELECT 1 FROM jobs WHERE id = ?1"},
    [SQL_JOB_HEARTBEAT] = {.name = "job_heartbeat", .sql =
        "UPDATE jobs SET lease_until_ms = ?3, stage = COALESCE(?4, stage)"
        " WHERE id = ?1 AND state = 'running' AND lease_owner = ?2"},
    /* A succeeded job can never run again, so its payload (a whole
     * uploaded document, perhaps) is dropped at once, not at pruning. */
    [SQL_JOB_SUCCEED] = {.name = "job_succeed", .sql =
        "UPDATE jobs SET state = 'succeeded', finished_ms = ?3, updated_ms = ?3,"
        " lease_owner = NULL, lease_until_ms = 0, payload = NULL"
        " WHERE id = ?1 AND state = 'running' AND lease_owner = ?2"},
    [SQL_JOB_FAIL] = {.name = "job_fail", .sql =
        "UPDATE jobs SET state = CASE WHEN CAST(?5 AS BIGINT) > 0 THEN 'failed' ELSE 'dead' END,"
        " next_run_ms = CASE WHEN CAST(?5 AS BIGINT) > 0 THEN CAST(?5 AS BIGINT)"
        "   ELSE next_run_ms END,"
        " finished_ms = CASE WHEN CAST(?5 AS BIGINT) > 0 THEN 0 ELSE CAST(?3 AS BIGINT) END,"
        " last_error = ?4, updated_ms = ?3, lease_owner = NULL, lease_until_ms = 0"
        " WHERE id = ?1 AND state = 'running' AND lease_owner = ?2"},
    [SQL_JOB_RETRY] = {.name = "job_retry", .sql =
        "UPDATE jobs SET state = 'queued', attempts = 0, next_run_ms = ?2, updated_ms = ?2,"
        " finished_ms = 0, lease_owner = NULL, lease_until_ms = 0"
        " WHERE id = ?1 AND state IN ('dead', 'failed')"},
    [SQL_JOB_LIST] = {.name = "job_list", .sql =
        "SELECT " STORE_SQL_JOB_COLS " FROM jobs"
        " WHERE (CAST(?1 AS TEXT) IS NULL OR state = CAST(?1 AS TEXT))"
        " AND (CAST(?2 AS BIGINT) = 0 OR id < CAST(?2 AS BIGINT)) ORDER BY id DESC LIMIT ?3"},
    [SQL_JOB_COUNTS] = {.name = "job_counts", .sql =
        "SELECT state, COUNT(*) FROM jobs GROUP BY state"},
    [SQL_JOB_OLDEST] = {.name = "job_oldest", .sql =
        "SELECT COALESCE(MIN(created_ms), 0) FROM jobs WHERE state IN ('queued', 'failed')"},
    [SQL_JOB_PRUNE] = {.name = "job_prune", .sql =
        "DELETE FROM jobs WHERE state = 'succeeded' AND finished_ms < ?1"},
};

static const struct store_sql_dialect *dialect_of(struct store *st)
{
    return ((struct store_sql *)st)->dialect;
}

struct first_int {
    int64_t val;
    bool found;
};

static void row_first_int(struct store_sql_row *r, void *ctx)
{
    struct first_int *f = ctx;
    if (!f->found) {
        f->val = store__sql_int(r, 0);
        f->found = true;
    }
}

/* The first column of the first row; *out left alone when there is none. */
static cc_err query_int(struct store *st, struct store_sql_conn *c, enum store_sql_id id,
                        const struct store_sql_param *params, int64_t *out, bool *out_found)
{
    struct first_int f = {0};
    cc_err err = dialect_of(st)->query(st, c, id, params, row_first_int, &f, NULL);
    if (err)
        return err;
    if (f.found && out)
        *out = f.val;
    if (out_found)
        *out_found = f.found;
    return CC_OK;
}

/* ---- rows ------------------------------------------------------------ */

static void job_from_row(struct store_sql_row *r, struct store_job *out)
{
    size_t payload_len = 0;
    const void *payload = r->d->col_blob(r, 5, &payload_len);
    *out = (struct store_job){
        .id = store__sql_int(r, 0),
        .kind = store__sql_str(r, 1),
        .source_id = store__sql_int(r, 2),
        .state = store__sql_str(r, 3),
        .dedup_key = store__sql_str(r, 4),
        .payload = payload,
        .payload_len = payload ? payload_len : 0,
        .attempts = (int)store__sql_int(r, 6),
        .max_attempts = (int)store__sql_int(r, 7),
        .next_run_ms = store__sql_int(r, 8),
        .lease_owner = store__sql_str(r, 9),
        .lease_until_ms = store__sql_int(r, 10),
        .stage = store__sql_str(r, 11),
        .last_error = store__sql_str(r, 12),
        .created_ms = store__sql_int(r, 13),
        .updated_ms = store__sql_int(r, 14),
        .finished_ms = store__sql_int(r, 15),
    };
}

struct job_ctx {
    store_job_cb cb;
    void *arg;
};

static void row_job(struct store_sql_row *r, void *ctx)
{
    struct job_ctx *c = ctx;
    struct store_job j;
    job_from_row(r, &j);
    c->cb(c->arg, &j);
}

static char *dup_or_null(const char *s)
{
    return s ? cc_xstrdup(s) : NULL;
}

void store__sql_row_job_copy(struct store_sql_row *r, void *ctx)
{
    struct store_sql_job_copy *c = ctx;
    struct store_job j;
    if (c->set)
        return;
    job_from_row(r, &j);
    void *payload = NULL;
    if (j.payload_len) {
        payload = cc_xmalloc(j.payload_len);
        memcpy(payload, j.payload, j.payload_len);
    }
    c->j = j;
    c->j.kind = dup_or_null(j.kind);
    c->j.state = dup_or_null(j.state);
    c->j.dedup_key = dup_or_null(j.dedup_key);
    c->j.payload = payload;
    c->j.lease_owner = dup_or_null(j.lease_owner);
    c->j.stage = dup_or_null(j.stage);
    c->j.last_error = dup_or_null(j.last_error);
    c->set = true;
}

void store__sql_job_copy_release(struct store_sql_job_copy *c)
{
    if (!c->set)
        return;
    free((char *)c->j.kind);
    free((char *)c->j.state);
    free((char *)c->j.dedup_key);
    free((void *)c->j.payload);
    free((char *)c->j.lease_owner);
    free((char *)c->j.stage);
    free((char *)c->j.last_error);
    c->set = false;
}

/* ---- enqueue --------------------------------------------------------- */

/* The unfinished jobs of one source, counted once per transaction and
 * then kept up to date as it inserts: COUNT(*) walks the source's index
 * entries, which per job would make a large batch quadratic. Also marks
 * the source checked (and, with a limit, locked) in this transaction. */
struct limit_cache {
    int64_t source_id;
    int64_t unfinished;
    bool valid;
};

/* Inside the write transaction: the id of the existing unfinished job
 * holding the key (*out_existing), else the new job's id. *out_sql tells
 * whether an error came from the database (the transaction is then lost:
 * PostgreSQL aborts it) rather than from the queue's rules. */
static cc_err enqueue_one(struct store *st, struct store_sql_conn *c, const struct store_job *j,
                          unsigned queue_limit, struct limit_cache *lc, int64_t *out_id,
                          bool *out_existing, bool *out_sql)
{
    const struct store_sql_dialect *d = dialect_of(st);
    bool found = false;
    cc_err err = CC_OK;
    *out_sql = true;
    if (j->dedup_key) {
        err = query_int(st, c, SQL_JOB_FIND_DEDUP, SQL_PARAMS(SQL_T(j->dedup_key)), out_id,
                        &found);
        if (err || found) {
            *out_existing = found;
            return err;
        }
    }
    if (!lc->valid || lc->source_id != j->source_id) {
        found = true;
        if (queue_limit > 0 && d->queue_lock)
            err = d->queue_lock(st, c, j->source_id, &found);
        else if (j->source_id > 0)
            err = query_int(st, c, SQL_SOURCE_EXISTS, SQL_PARAMS(SQL_I(j->source_id)), NULL,
                            &found);
        lc->unfinished = 0;
        if (!err && found && queue_limit > 0)
            err = j->source_id > 0
                ? query_int(st, c, SQL_JOB_COUNT_UNFINISHED, SQL_PARAMS(SQL_I(j->source_id)),
                            &lc->unfinished, NULL)
                : query_int(st, c, SQL_JOB_COUNT_UNFINISHED_NOSRC, NULL, &lc->unfinished,
                            NULL);
        if (err)
            return err;
        *out_sql = false;
        if (!found)
            return CC_ENOTFOUND;
        lc->source_id = j->source_id;
        lc->valid = true;
    }
    *out_sql = false;
    if (queue_limit > 0 && lc->unfinished >= (int64_t)queue_limit)
        return CC_ELIMIT;
    *out_sql = true;
    err = query_int(st, c, SQL_JOB_INSERT,
                    SQL_PARAMS(SQL_T(j->kind), SQL_I(j->source_id), SQL_T(j->dedup_key),
                               SQL_B(j->payload, j->payload_len), SQL_I(j->max_attempts),
                               SQL_I(j->next_run_ms), SQL_I(j->created_ms),
                               SQL_I(j->updated_ms)),
                    out_id, NULL);
    if (!err) {
        lc->unfinished++;
        *out_existing = false;
    }
    return err;
}

cc_err store__sql_job_enqueue_on(struct store *st, struct store_sql_conn *c,
                                 const struct store_job *jobs, size_t n, unsigned queue_limit,
                                 int64_t *out_ids, bool *out_existing, size_t *out_done,
                                 cc_err *out_stop)
{
    struct limit_cache lc = {0};
    size_t done = 0;
    cc_err stop = CC_OK, err = CC_OK;
    bool sql = false;
    for (; done < n; done++) {
        int64_t id = 0;
        bool existing = false;
        stop = enqueue_one(st, c, &jobs[done], queue_limit, &lc, &id, &existing, &sql);
        if (stop && sql)
            err = stop;
        if (stop)
            break;
        if (out_ids)
            out_ids[done] = id;
        if (out_existing)
            out_existing[done] = existing;
    }
    *out_done = done;
    *out_stop = err ? CC_OK : stop;
    return err;
}

/* One try at jobs[0..n) in one write transaction. Stopped by the queue's
 * rules (an unknown source, a full queue), the jobs before are committed;
 * a database error loses them all (*out_done 0). */
static cc_err enqueue_try(struct store *st, struct store_sql_conn *c,
                          const struct store_job *jobs, size_t n, unsigned queue_limit,
                          int64_t *out_ids, bool *out_existing, size_t *out_done,
                          cc_err *out_stop)
{
    const struct store_sql_dialect *d = dialect_of(st);
    size_t done = 0;
    cc_err stop = CC_OK;
    cc_err err = d->begin(st, c, STORE_SQL_WRITE);
    if (!err)
        err = store__sql_job_enqueue_on(st, c, jobs, n, queue_limit, out_ids, out_existing,
                                        &done, &stop);
    if (!err)
        err = d->commit(st, c);
    if (err) {
        d->rollback(st, c);
        done = 0;
        stop = CC_OK;
    }
    *out_done = done;
    *out_stop = stop;
    return err;
}

cc_err store__sql_job_enqueue_batch(struct store *st, const struct store_job *jobs, size_t n,
                                    unsigned queue_limit, int64_t *out_ids, bool *out_existing,
                                    size_t *out_done)
{
    const struct store_sql_dialect *d = dialect_of(st);
    struct store_sql_conn *c = NULL;
    cc_err stop = CC_OK;
    *out_done = 0;
    cc_err err = d->conn_get(st, STORE_SQL_WRITE, &c);
    if (err)
        return err;
    for (int attempt = 0; attempt < 2; attempt++) {
        err = enqueue_try(st, c, jobs, n, queue_limit, out_ids, out_existing, out_done, &stop);
        if (err != CC_ECONFLICT)
            break;
    }
    d->conn_put(st, STORE_SQL_WRITE, c);
    return err ? err : stop;
}

cc_err store__sql_job_enqueue(struct store *st, const struct store_job *j, unsigned queue_limit,
                              int64_t *out_id, bool *out_existing)
{
    int64_t id = 0;
    bool existing = false;
    size_t done = 0;
    cc_err err = store__sql_job_enqueue_batch(st, j, 1, queue_limit, &id, &existing, &done);
    if (err)
        return err;
    if (out_id)
        *out_id = id;
    if (out_existing)
        *out_existing = existing;
    return CC_OK;
}

/* ---- transitions by the lease holder or the operator ------------------ */

/* One guarded UPDATE of job `id`. No row changed: CC_ENOTFOUND when the
 * job does not exist, CC_ESTATE when it is not in the state (or not held
 * by the owner) the guard asks for. */
static cc_err guarded_on(struct store *st, struct store_sql_conn *c, int64_t id,
                         enum store_sql_id stmt, const struct store_sql_param *params)
{
    int64_t changed = 0;
    bool exists = false;
    cc_err err = dialect_of(st)->query(st, c, stmt, params, NULL, NULL, &changed);
    if (!err && changed == 0) {
        err = query_int(st, c, SQL_JOB_EXISTS, SQL_PARAMS(SQL_I(id)), NULL, &exists);
        if (!err)
            err = exists ? CC_ESTATE : CC_ENOTFOUND;
    }
    return err;
}

static cc_err guarded_update(struct store *st, int64_t id, enum store_sql_id stmt,
                             const struct store_sql_param *params)
{
    const struct store_sql_dialect *d = dialect_of(st);
    struct store_sql_conn *c = NULL;
    cc_err err = d->conn_get(st, STORE_SQL_WRITE, &c);
    if (err)
        return err;
    err = guarded_on(st, c, id, stmt, params);
    d->conn_put(st, STORE_SQL_WRITE, c);
    return err;
}

cc_err store__sql_job_succeed_on(struct store *st, struct store_sql_conn *c, int64_t id,
                                 const char *owner, int64_t now_ms)
{
    return guarded_on(st, c, id, SQL_JOB_SUCCEED,
                      SQL_PARAMS(SQL_I(id), SQL_T(owner), SQL_I(now_ms)));
}

cc_err store__sql_job_heartbeat(struct store *st, int64_t id, const char *owner,
                                int64_t lease_until_ms, const char *stage)
{
    return guarded_update(st, id, SQL_JOB_HEARTBEAT,
                          SQL_PARAMS(SQL_I(id), SQL_T(owner), SQL_I(lease_until_ms),
                                     SQL_T(stage)));
}

cc_err store__sql_job_succeed(struct store *st, int64_t id, const char *owner, int64_t now_ms)
{
    return guarded_update(st, id, SQL_JOB_SUCCEED,
                          SQL_PARAMS(SQL_I(id), SQL_T(owner), SQL_I(now_ms)));
}

cc_err store__sql_job_fail(struct store *st, int64_t id, const char *owner, int64_t now_ms,
                           const char *error, int64_t retry_at_ms)
{
    return guarded_update(st, id, SQL_JOB_FAIL,
                          SQL_PARAMS(SQL_I(id), SQL_T(owner), SQL_I(now_ms), SQL_T(error),
                                     SQL_I(retry_at_ms)));
}

/* last_error is kept: the operator retrying wants to see what happened. A
 * dead job whose dedup key was meanwhile taken by a new job: CC_ECONFLICT. */
cc_err store__sql_job_retry(struct store *st, int64_t id, int64_t now_ms)
{
    return guarded_update(st, id, SQL_JOB_RETRY, SQL_PARAMS(SQL_I(id), SQL_I(now_ms)));
}

/* ---- reading --------------------------------------------------------- */

cc_err store__sql_job_get(struct store *st, int64_t id, store_job_cb cb, void *arg)
{
    struct job_ctx c = {.cb = cb, .arg = arg};
    int64_t rows = 0;
    cc_err err = store__sql_run(st, STORE_SQL_READ, SQL_JOB_GET, SQL_PARAMS(SQL_I(id)), row_job,
                                &c, &rows);
    if (!err && rows == 0)
        err = CC_ENOTFOUND;
    return err;
}

cc_err store__sql_job_list(struct store *st, const char *state, int64_t before_id,
                           unsigned limit, store_job_cb cb, void *arg)
{
    struct job_ctx c = {.cb = cb, .arg = arg};
    return store__sql_run(st, STORE_SQL_READ, SQL_JOB_LIST,
                          SQL_PARAMS(SQL_T(state), SQL_I(before_id), SQL_I(limit)), row_job, &c,
                          NULL);
}

static void row_count(struct store_sql_row *r, void *ctx)
{
    static const struct {
        const char *state;
        size_t off;
    } fields[] = {
        {"queued", offsetof(struct store_job_counts, queued)},
        {"running", offsetof(struct store_job_counts, running)},
        {"succeeded", offsetof(struct store_job_counts, succeeded)},
        {"failed", offsetof(struct store_job_counts, failed)},
        {"dead", offsetof(struct store_job_counts, dead)},
    };
    const char *state = store__sql_str(r, 0);
    for (size_t i = 0; state && i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (strcmp(state, fields[i].state) == 0)
            *(int64_t *)((char *)ctx + fields[i].off) = store__sql_int(r, 1);
    }
}

/* Both reads in one transaction so the counts and the age agree. Without
 * a clock, "runnable" means waiting: queued or failed, due or not. */
cc_err store__sql_job_counts(struct store *st, struct store_job_counts *out)
{
    const struct store_sql_dialect *d = dialect_of(st);
    struct store_job_counts n = {0};
    struct store_sql_conn *c = NULL;
    cc_err err = d->conn_get(st, STORE_SQL_READ, &c);
    if (err)
        return err;
    err = d->begin(st, c, STORE_SQL_READ);
    if (!err)
        err = d->query(st, c, SQL_JOB_COUNTS, NULL, row_count, &n, NULL);
    if (!err)
        err = query_int(st, c, SQL_JOB_OLDEST, NULL, &n.oldest_queued_ms, NULL);
    if (!err)
        err = d->commit(st, c);
    if (err)
        d->rollback(st, c);
    d->conn_put(st, STORE_SQL_READ, c);
    if (!err)
        *out = n;
    return err;
}

cc_err store__sql_job_prune(struct store *st, int64_t before_ms, int64_t *out_deleted)
{
    int64_t rows = 0;
    cc_err err = store__sql_run(st, STORE_SQL_WRITE, SQL_JOB_PRUNE, SQL_PARAMS(SQL_I(before_ms)),
                                NULL, NULL, &rows);
    if (!err && out_deleted)
        *out_deleted = rows;
    return err;
}
