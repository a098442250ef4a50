/*
 * sqlite_jobs.c - the durable job queue of the SQLite backend (store.h;
 * design in docs/KNOWLEDGE.md "Jobs", schema in 0002_knowledge.sql).
 *
 * States: queued -> running -> succeeded | failed (runs again when due) |
 * dead; retry brings dead or failed back to queued. "Unfinished" means
 * queued, running or failed: those hold a dedup key and count against a
 * source's queue_limit.
 *
 * Enqueue and claim read before they write, so each runs in one BEGIN
 * IMMEDIATE transaction on the writer: the file's write lock is taken up
 * front, which serializes claims across processes (two daemons, or two
 * store handles, on one file) and rules out a stale snapshot. A claimed
 * job is copied out and handed to the callback only after COMMIT, so a
 * caller never works on a claim that did not stick.
 *
 * Heartbeat, succeed and fail are single guarded UPDATEs (id, state
 * running, lease_owner): a worker whose lease expired and was reclaimed
 * by another owner gets CC_ESTATE and must drop the job.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/sqlite_int.h"
#include "store/store.h"

#define JOB_COLS                                                                       \
    "id, kind, source_id, state, dedup_key, payload, attempts, max_attempts,"          \
    " next_run_ms, lease_owner, lease_until_ms, stage, last_error, created_ms,"        \
    " updated_ms, finished_ms"
#define UNFINISHED "('queued', 'running', 'failed')"

const struct stmt_def sqlite__job_stmts[ST__COUNT] = {
    [ST_JOB_FIND_DEDUP] = {"job_find_dedup",
        "SELECT id FROM jobs WHERE dedup_key = ?1 AND state IN " UNFINISHED},
    [ST_JOB_COUNT_UNFINISHED] = {"job_count_unfinished",
        "SELECT COUNT(*) FROM jobs WHERE source_id = ?1 AND state IN " UNFINISHED},
    [ST_JOB_COUNT_UNFINISHED_NOSRC] = {"job_count_unfinished_nosrc",
        "SELECT COUNT(*) FROM jobs WHERE source_id IS NULL AND state IN " UNFINISHED},
    [ST_JOB_INSERT] = {"job_insert",
        "INSERT INTO jobs (kind, source_id, dedup_key, payload, max_attempts, next_run_ms,"
        " created_ms, updated_ms) VALUES (?1, NULLIF(?2, 0), ?3, ?4, ?5, ?6, ?7, ?8)"},
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
        " lease_until_ms = ?3, updated_ms = ?4 WHERE id = ?1 RETURNING " JOB_COLS},
    [ST_JOB_GET] = {"job_get", "SELECT " JOB_COLS " FROM jobs WHERE id = ?1"},
    [ST_JOB_EXISTS] = {"job_exists", "SELECT 1 FROM jobs WHERE id = ?1"},
    [ST_JOB_HEARTBEAT] = {"job_heartbeat",
        "UPDATE jobs SET lease_until_ms = ?3, stage = COALESCE(?4, stage)"
        " WHERE id = ?1 AND state = 'running' AND lease_owner = ?2"},
    /* A succeeded job can never run again, so its payload (a whole
     * uploaded document, perhaps) is dropped at once, not at pruning. */
    [ST_JOB_SUCCEED] = {"job_succeed",
        "UPDATE jobs SET state = 'succeeded', finished_ms = ?3, updated_ms = ?3,"
        " lease_owner = NULL, lease_until_ms = 0, payload = NULL"
        " WHERE id = ?1 AND state = 'running' AND lease_owner = ?2"},
    [ST_JOB_FAIL] = {"job_fail",
        "UPDATE jobs SET state = CASE WHEN ?5 > 0 THEN 'failed' ELSE 'dead' END,"
        " next_run_ms = CASE WHEN ?5 > 0 THEN ?5 ELSE next_run_ms END,"
        " finished_ms = CASE WHEN ?5 > 0 THEN 0 ELSE ?3 END,"
        " last_error = ?4, updated_ms = ?3, lease_owner = NULL, lease_until_ms = 0"
        " WHERE id = ?1 AND state = 'running' AND lease_owner = ?2"},
    [ST_JOB_RETRY] = {"job_retry",
        "UPDATE jobs SET state = 'queued', attempts = 0, next_run_ms = ?2, updated_ms = ?2,"
        " finished_ms = 0, lease_owner = NULL, lease_until_ms = 0"
        " WHERE id = ?1 AND state IN ('dead', 'failed')"},
    [ST_JOB_LIST] = {"job_list",
        "SELECT " JOB_COLS " FROM jobs WHERE (?1 IS NULL OR state = ?1)"
        " AND (?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?3"},
    [ST_JOB_COUNTS] = {"job_counts", "SELECT state, COUNT(*) FROM jobs GROUP BY state"},
    [ST_JOB_OLDEST] = {"job_oldest",
        "SELECT COALESCE(MIN(created_ms), 0) FROM jobs WHERE state IN ('queued', 'failed')"},
    [ST_JOB_PRUNE] = {"job_prune",
        "DELETE FROM jobs WHERE state = 'succeeded' AND finished_ms < ?1"},
};

static bool state_valid(const char *state)
{
    static const char *const states[] = {"queued", "running", "succeeded", "failed", "dead"};
    for (size_t i = 0; state && i < sizeof(states) / sizeof(states[0]); i++) {
        if (strcmp(state, states[i]) == 0)
            return true;
    }
    return false;
}

static void job_from_row(sqlite3_stmt *st, struct store_job *out)
{
    const void *payload = sqlite3_column_blob(st, 5);
    size_t payload_len = (size_t)sqlite3_column_bytes(st, 5);
    *out = (struct store_job){
        .id = sqlite3_column_int64(st, 0),
        .kind = sqlite__col_text(st, 1),
        .source_id = sqlite3_column_int64(st, 2),
        .state = sqlite__col_text(st, 3),
        .dedup_key = sqlite__col_text(st, 4),
        .payload = payload,
        .payload_len = payload ? payload_len : 0,
        .attempts = sqlite3_column_int(st, 6),
        .max_attempts = sqlite3_column_int(st, 7),
        .next_run_ms = sqlite3_column_int64(st, 8),
        .lease_owner = sqlite__col_text(st, 9),
        .lease_until_ms = sqlite3_column_int64(st, 10),
        .stage = sqlite__col_text(st, 11),
        .last_error = sqlite__col_text(st, 12),
        .created_ms = sqlite3_column_int64(st, 13),
        .updated_ms = sqlite3_column_int64(st, 14),
        .finished_ms = sqlite3_column_int64(st, 15),
    };
}

struct job_ctx {
    store_job_cb cb;
    void *arg;
};

static void row_job(sqlite3_stmt *st, void *ctx)
{
    struct job_ctx *c = ctx;
    struct store_job j;
    job_from_row(st, &j);
    c->cb(c->arg, &j);
}

/* ---- enqueue --------------------------------------------------------- */

static bool job_valid(const struct store_job *j)
{
    return j && j->kind && *j->kind && j->source_id >= 0 && j->max_attempts >= 1 &&
           j->next_run_ms >= 0 && (j->payload || j->payload_len == 0) &&
           (!j->dedup_key || *j->dedup_key);
}

/* CC_ELIMIT when the source (or, for source_id 0, the jobs without one)
 * already has `limit` unfinished jobs. */
static cc_err check_limit(struct sqlite_store *s, struct conn *c, int64_t source_id,
                          unsigned limit)
{
    int64_t n = 0;
    cc_err err = source_id > 0
        ? sqlite__query_int(s, c, ST_JOB_COUNT_UNFINISHED, PARAMS(PI(source_id)), &n, NULL)
        : sqlite__query_int(s, c, ST_JOB_COUNT_UNFINISHED_NOSRC, NULL, &n, NULL);
    if (!err && n >= (int64_t)limit)
        err = CC_ELIMIT;
    return err;
}

/* Inside the transaction: the id of the existing unfinished job holding
 * the key (*out_existing), else the new job's id. */
static cc_err enqueue_locked(struct sqlite_store *s, struct conn *c, const struct store_job *j,
                             unsigned queue_limit, int64_t *out_id, bool *out_existing)
{
    bool found = false;
    cc_err err = CC_OK;
    if (j->dedup_key) {
        err = sqlite__query_int(s, c, ST_JOB_FIND_DEDUP, PARAMS(PT(j->dedup_key)), out_id,
                                &found);
        if (err || found) {
            *out_existing = found;
            return err;
        }
    }
    if (j->source_id > 0) {
        err = sqlite__query_int(s, c, ST_SOURCE_EXISTS, PARAMS(PI(j->source_id)), NULL,
                                &found);
        if (!err && !found)
            err = CC_ENOTFOUND;
    }
    if (!err && queue_limit > 0)
        err = check_limit(s, c, j->source_id, queue_limit);
    if (err)
        return err;
    struct write_result res = {0};
    err = sqlite__exec(s, c, ST_JOB_INSERT,
                       PARAMS(PT(j->kind), PI(j->source_id), PT(j->dedup_key),
                              PB(j->payload, j->payload_len), PI(j->max_attempts),
                              PI(j->next_run_ms), PI(j->created_ms), PI(j->updated_ms)),
                       &res);
    if (!err) {
        *out_id = res.rowid;
        *out_existing = false;
    }
    return err;
}

cc_err sqlite__job_enqueue(struct store *st, const struct store_job *j, unsigned queue_limit,
                           int64_t *out_id, bool *out_existing)
{
    struct sqlite_store *s = sqlite__from_store(st);
    int64_t id = 0;
    bool existing = false;
    if (!job_valid(j))
        return CC_EINVAL;
    struct conn *c = sqlite__writer_get(s);
    cc_err err = sqlite__begin(s, c, ST_BEGIN_IMMEDIATE);
    if (!err)
        err = enqueue_locked(s, c, j, queue_limit, &id, &existing);
    if (!err)
        err = sqlite__commit(s, c);
    if (err)
        sqlite__rollback(c);
    sqlite__writer_put(s);
    if (err)
        return err;
    if (out_id)
        *out_id = id;
    if (out_existing)
        *out_existing = existing;
    return CC_OK;
}

/* The unfinished jobs of one source, counted once per batch and then
 * kept up to date as the batch inserts: COUNT(*) walks the source's index
 * entries, which per job would make a large batch quadratic. */
struct limit_cache {
    int64_t source_id;
    int64_t unfinished;
    bool valid;
};

/* enqueue_locked with the limit check against the cache. */
static cc_err enqueue_batch_one(struct sqlite_store *s, struct conn *c,
                                const struct store_job *j, unsigned queue_limit,
                                struct limit_cache *lc, int64_t *out_id, bool *out_existing)
{
    bool found = false;
    cc_err err = CC_OK;
    if (!job_valid(j))
        return CC_EINVAL;
    if (j->dedup_key) {
        err = sqlite__query_int(s, c, ST_JOB_FIND_DEDUP, PARAMS(PT(j->dedup_key)), out_id,
                                &found);
        if (err || found) {
            *out_existing = found;
            return err;
        }
    }
    if (!lc->valid || lc->source_id != j->source_id) {
        if (j->source_id > 0) {
            err = sqlite__query_int(s, c, ST_SOURCE_EXISTS, PARAMS(PI(j->source_id)), NULL,
                                    &found);
            if (!err && !found)
                err = CC_ENOTFOUND;
        }
        lc->unfinished = 0;
        if (!err && queue_limit > 0)
            err = j->source_id > 0
                ? sqlite__query_int(s, c, ST_JOB_COUNT_UNFINISHED, PARAMS(PI(j->source_id)),
                                    &lc->unfinished, NULL)
                : sqlite__query_int(s, c, ST_JOB_COUNT_UNFINISHED_NOSRC, NULL,
                                    &lc->unfinished, NULL);
        if (err)
            return err;
        lc->source_id = j->source_id;
        lc->valid = true;
    }
    if (queue_limit > 0 && lc->unfinished >= (int64_t)queue_limit)
        return CC_ELIMIT;
    struct write_result res = {0};
    err = sqlite__exec(s, c, ST_JOB_INSERT,
                       PARAMS(PT(j->kind), PI(j->source_id), PT(j->dedup_key),
                              PB(j->payload, j->payload_len), PI(j->max_attempts),
                              PI(j->next_run_ms), PI(j->created_ms), PI(j->updated_ms)),
                       &res);
    if (!err) {
        lc->unfinished++;
        *out_id = res.rowid;
        *out_existing = false;
    }
    return err;
}

/* One BEGIN IMMEDIATE transaction; the jobs before the first that cannot
 * be queued are committed. */
cc_err sqlite__job_enqueue_batch(struct store *st, const struct store_job *jobs, size_t n,
                                 unsigned queue_limit, int64_t *out_ids, bool *out_existing,
                                 size_t *out_done)
{
    struct sqlite_store *s = sqlite__from_store(st);
    struct limit_cache lc = {0};
    size_t done = 0;
    *out_done = 0;
    struct conn *c = sqlite__writer_get(s);
    cc_err err = sqlite__begin(s, c, ST_BEGIN_IMMEDIATE);
    cc_err stop = CC_OK;
    for (; !err && !stop && done < n; done++) {
        int64_t id = 0;
        bool existing = false;
        stop = enqueue_batch_one(s, c, &jobs[done], queue_limit, &lc, &id, &existing);
        if (stop)
            break;
        if (out_ids)
            out_ids[done] = id;
        if (out_existing)
            out_existing[done] = existing;
    }
    /* A failed statement leaves the transaction open (SQLite rolls back
     * only the statement), unless it ended it; then nothing is kept. */
    if (!err && sqlite3_get_autocommit(c->db))
        err = stop ? stop : CC_EIO;
    if (!err)
        err = sqlite__commit(s, c);
    if (err) {
        sqlite__rollback(c);
        done = 0;
    }
    sqlite__writer_put(s);
    *out_done = done;
    return err ? err : stop;
}

/* ---- claim ----------------------------------------------------------- */

/* A job that outlives its statement: every string and the payload owned. */
struct job_copy {
    struct store_job j;
    bool set;
};

static char *dup_or_null(const char *s)
{
    return s ? cc_xstrdup(s) : NULL;
}

static void row_job_copy(sqlite3_stmt *st, void *ctx)
{
    struct job_copy *c = ctx;
    struct store_job j;
    job_from_row(st, &j);
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

static void job_copy_release(struct job_copy *c)
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
}

static cc_err claim_locked(struct sqlite_store *s, struct conn *c, const char *owner,
                           int64_t now_ms, int64_t lease_ms, struct job_copy *out)
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
    struct job_copy job = {0};
    if (!owner || !*owner || !cb || lease_ms <= 0 || now_ms < 0 ||
        now_ms > INT64_MAX - lease_ms)
        return CC_EINVAL;
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
    job_copy_release(&job);
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
 * go to the callback after COMMIT. */
cc_err sqlite__job_claim_batch(struct store *st, const char *owner, int64_t now_ms,
                               int64_t lease_ms, size_t max, store_job_cb cb, void *arg)
{
    struct sqlite_store *s = sqlite__from_store(st);
    if (!owner || !*owner || !cb || lease_ms <= 0 || now_ms < 0 ||
        now_ms > INT64_MAX - lease_ms || max == 0)
        return CC_EINVAL;
    struct job_copy *jobs = cc_xcalloc(max, sizeof(*jobs));
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
        job_copy_release(&jobs[i]);
    }
    free(jobs);
    return err;
}

/* ---- transitions by the lease holder or the operator ------------------ */

/* One guarded UPDATE of job `id`. No row changed: CC_ENOTFOUND when the
 * job does not exist, CC_ESTATE when it is not in the state (or not held
 * by the owner) the guard asks for. */
static cc_err guarded_update_locked(struct sqlite_store *s, struct conn *c, int64_t id,
                                    enum stmt_id stmt, const struct param *params)
{
    struct write_result res = {0};
    bool exists = false;
    cc_err err = sqlite__exec(s, c, stmt, params, &res);
    if (!err && res.changes == 0) {
        err = sqlite__query_int(s, c, ST_JOB_EXISTS, PARAMS(PI(id)), NULL, &exists);
        if (!err)
            err = exists ? CC_ESTATE : CC_ENOTFOUND;
    }
    return err;
}

static cc_err guarded_update(struct sqlite_store *s, int64_t id, enum stmt_id stmt,
                             const struct param *params)
{
    struct conn *c = sqlite__writer_get(s);
    cc_err err = guarded_update_locked(s, c, id, stmt, params);
    sqlite__writer_put(s);
    return err;
}

cc_err sqlite__job_succeed_locked(struct sqlite_store *s, struct conn *c, int64_t id,
                                  const char *owner, int64_t now_ms)
{
    return guarded_update_locked(s, c, id, ST_JOB_SUCCEED,
                                 PARAMS(PI(id), PT(owner), PI(now_ms)));
}

cc_err sqlite__job_heartbeat(struct store *st, int64_t id, const char *owner,
                             int64_t lease_until_ms, const char *stage)
{
    if (!owner || !*owner)
        return CC_EINVAL;
    return guarded_update(sqlite__from_store(st), id, ST_JOB_HEARTBEAT,
                          PARAMS(PI(id), PT(owner), PI(lease_until_ms), PT(stage)));
}

cc_err sqlite__job_succeed(struct store *st, int64_t id, const char *owner, int64_t now_ms)
{
    if (!owner || !*owner)
        return CC_EINVAL;
    return guarded_update(sqlite__from_store(st), id, ST_JOB_SUCCEED,
                          PARAMS(PI(id), PT(owner), PI(now_ms)));
}

cc_err sqlite__job_fail(struct store *st, int64_t id, const char *owner, int64_t now_ms,
                        const char *error, int64_t retry_at_ms)
{
    if (!owner || !*owner || retry_at_ms < 0)
        return CC_EINVAL;
    return guarded_update(sqlite__from_store(st), id, ST_JOB_FAIL,
                          PARAMS(PI(id), PT(owner), PI(now_ms), PT(error), PI(retry_at_ms)));
}

/* last_error is kept: the operator retrying wants to see what happened. A
 * dead job whose dedup key was meanwhile taken by a new job: CC_ECONFLICT. */
cc_err sqlite__job_retry(struct store *st, int64_t id, int64_t now_ms)
{
    return guarded_update(sqlite__from_store(st), id, ST_JOB_RETRY,
                          PARAMS(PI(id), PI(now_ms)));
}

/* ---- reading --------------------------------------------------------- */

cc_err sqlite__job_get(struct store *st, int64_t id, store_job_cb cb, void *arg)
{
    if (!cb)
        return CC_EINVAL;
    struct job_ctx c = {.cb = cb, .arg = arg};
    int64_t rows = 0;
    cc_err err = sqlite__run_read(sqlite__from_store(st), ST_JOB_GET, PARAMS(PI(id)), row_job,
                                  &c, &rows);
    if (!err && rows == 0)
        err = CC_ENOTFOUND;
    return err;
}

cc_err sqlite__job_list(struct store *st, const char *state, int64_t before_id, unsigned limit,
                        store_job_cb cb, void *arg)
{
    if (!cb || (state && !state_valid(state)) || before_id < 0)
        return CC_EINVAL;
    if (limit > STORE_JOB_LIST_MAX)
        limit = STORE_JOB_LIST_MAX;
    struct job_ctx c = {.cb = cb, .arg = arg};
    return sqlite__run_read(sqlite__from_store(st), ST_JOB_LIST,
                            PARAMS(PT(state), PI(before_id), PI(limit)), row_job, &c, NULL);
}

static void row_count(sqlite3_stmt *st, void *ctx)
{
    struct store_job_counts *n = ctx;
    const char *state = sqlite__col_text(st, 0);
    int64_t count = sqlite3_column_int64(st, 1);
    if (!state)
        return;
    if (strcmp(state, "queued") == 0)
        n->queued = count;
    else if (strcmp(state, "running") == 0)
        n->running = count;
    else if (strcmp(state, "succeeded") == 0)
        n->succeeded = count;
    else if (strcmp(state, "failed") == 0)
        n->failed = count;
    else if (strcmp(state, "dead") == 0)
        n->dead = count;
}

/* Both reads in one transaction so the counts and the age agree. Without
 * a clock, "runnable" means waiting: queued or failed, due or not. */
cc_err sqlite__job_counts(struct store *st, struct store_job_counts *out)
{
    struct sqlite_store *s = sqlite__from_store(st);
    struct store_job_counts n = {0};
    struct conn *c = NULL;
    if (!out)
        return CC_EINVAL;
    cc_err err = sqlite__reader_get(s, &c);
    if (err)
        return err;
    err = sqlite__begin(s, c, ST_BEGIN);
    if (!err)
        err = sqlite__query(s, c, ST_JOB_COUNTS, NULL, row_count, &n, NULL);
    if (!err)
        err = sqlite__query_int(s, c, ST_JOB_OLDEST, NULL, &n.oldest_queued_ms, NULL);
    if (!err)
        err = sqlite__commit(s, c);
    if (err)
        sqlite__rollback(c);
    sqlite__reader_put(s, c);
    if (!err)
        *out = n;
    return err;
}

cc_err sqlite__job_prune(struct store *st, int64_t before_ms, int64_t *out_deleted)
{
    struct write_result res = {0};
    cc_err err = sqlite__run_write(sqlite__from_store(st), ST_JOB_PRUNE, PARAMS(PI(before_ms)),
                                   &res);
    if (!err && out_deleted)
        *out_deleted = res.changes;
    return err;
}
