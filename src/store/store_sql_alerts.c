/*
 * store_sql_alerts.c - the alerts Alertmanager's webhook reported, shared
 * by both SQL backends (store.h, "alerts"; docs/OBSERVABILITY.md).
 *
 * One row per fingerprint. Alertmanager resends a group's alerts on every
 * repeat and may deliver an old notification after a newer one (a retry
 * after a timeout), so an upsert reads the stored row first and refuses
 * what is older, in one write transaction:
 *   - starts_ms before the stored one: an earlier occurrence, stale;
 *   - firing with the same starts_ms as a row already resolved: a repeat
 *     sent before the resolution, stale;
 *   - otherwise the notification replaces the row (created_ms is kept).
 * Records were checked by store.c's wrappers (store_valid.c).
 */
#include <string.h>

#include "store/store_sql.h"

#define ALERT_COLS                                                                     \
    "id, fingerprint, status, name, severity, labels_json, annotations_json,"          \
    " generator_url, starts_ms, ends_ms, created_ms, updated_ms"

const struct store_sql_stmt store__sql_alert_stmts[SQL__COUNT] = {
    [SQL_ALERT_GET] = {.name = "alert_get", .sql =
        "SELECT status, starts_ms FROM alerts WHERE fingerprint = ?1"},
    [SQL_ALERT_INSERT] = {.name = "alert_insert", .sql =
        "INSERT INTO alerts (fingerprint, status, name, severity, labels_json,"
        " annotations_json, generator_url, starts_ms, ends_ms, created_ms, updated_ms)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10) RETURNING id"},
    [SQL_ALERT_UPDATE] = {.name = "alert_update", .sql =
        "UPDATE alerts SET status = ?2, name = ?3, severity = ?4, labels_json = ?5,"
        " annotations_json = ?6, generator_url = ?7, starts_ms = ?8, ends_ms = ?9,"
        " updated_ms = ?10 WHERE fingerprint = ?1"},
    [SQL_ALERT_LIST] = {.name = "alert_list", .sql =
        "SELECT " ALERT_COLS " FROM alerts"
        " WHERE (CAST(?1 AS TEXT) IS NULL OR status = CAST(?1 AS TEXT))"
        " ORDER BY updated_ms DESC, id DESC LIMIT ?2"},
    [SQL_ALERT_PRUNE_RESOLVED] = {.name = "alert_prune_resolved", .sql =
        "DELETE FROM alerts WHERE status = 'resolved' AND updated_ms < ?1"},
    [SQL_ALERT_PRUNE_CAP] = {.name = "alert_prune_cap", .sql =
        "DELETE FROM alerts WHERE id NOT IN"
        " (SELECT id FROM alerts ORDER BY updated_ms DESC, id DESC LIMIT ?1)"},
};

static const struct store_sql_dialect *dialect_of(struct store *st)
{
    return ((struct store_sql *)st)->dialect;
}

struct stored {
    bool found;
    bool resolved;
    int64_t starts_ms;
};

static void row_stored(struct store_sql_row *r, void *ctx)
{
    struct stored *s = ctx;
    const char *status = store__sql_str(r, 0);
    s->found = true;
    s->resolved = status && strcmp(status, "resolved") == 0;
    s->starts_ms = store__sql_int(r, 1);
}

static enum store_alert_change decide(const struct stored *old, const struct store_alert *a)
{
    bool resolved = strcmp(a->status, "resolved") == 0;
    if (!old->found)
        return STORE_ALERT_NEW;
    if (a->starts_ms < old->starts_ms || (old->resolved && !resolved &&
                                          a->starts_ms == old->starts_ms))
        return STORE_ALERT_STALE;
    if (old->resolved == resolved)
        return STORE_ALERT_SAME;
    return resolved ? STORE_ALERT_RESOLVED : STORE_ALERT_FIRED;
}

static cc_err upsert_in(struct store *st, struct store_sql_conn *c, const struct store_alert *a,
                        enum store_alert_change *out_change)
{
    const struct store_sql_dialect *d = dialect_of(st);
    struct stored old = {0};
    cc_err err = d->query(st, c, SQL_ALERT_GET, SQL_PARAMS(SQL_T(a->fingerprint)), row_stored,
                          &old, NULL);
    if (err)
        return err;
    enum store_alert_change change = decide(&old, a);
    const char *ann = a->annotations_json ? a->annotations_json : "{}";
    /* both statements take the same ten parameters */
    if (change != STORE_ALERT_STALE)
        err = d->query(st, c, change == STORE_ALERT_NEW ? SQL_ALERT_INSERT : SQL_ALERT_UPDATE,
                       SQL_PARAMS(SQL_T(a->fingerprint), SQL_T(a->status), SQL_T(a->name),
                                  SQL_T(a->severity), SQL_T(a->labels_json), SQL_T(ann),
                                  SQL_T(a->generator_url), SQL_I(a->starts_ms),
                                  SQL_I(a->ends_ms), SQL_I(a->updated_ms)),
                       NULL, NULL, NULL);
    if (!err)
        *out_change = change;
    return err;
}

cc_err store__sql_alert_upsert(struct store *st, const struct store_alert *a,
                               enum store_alert_change *out_change)
{
    const struct store_sql_dialect *d = dialect_of(st);
    struct store_sql_conn *c = NULL;
    enum store_alert_change change = STORE_ALERT_SAME;
    cc_err err = d->conn_get(st, STORE_SQL_WRITE, &c);
    if (err)
        return err;
    /* Two daemons inserting the same new fingerprint at once: the loser's
     * insert hits the unique index (CC_ECONFLICT) and its second try sees
     * the winner's row. */
    for (int attempt = 0; attempt < 2; attempt++) {
        err = d->begin(st, c, STORE_SQL_WRITE);
        if (!err)
            err = upsert_in(st, c, a, &change);
        if (!err)
            err = d->commit(st, c);
        if (err)
            d->rollback(st, c);
        if (err != CC_ECONFLICT)
            break;
    }
    d->conn_put(st, STORE_SQL_WRITE, c);
    if (!err && out_change)
        *out_change = change;
    return err;
}

struct list_ctx {
    store_alert_cb cb;
    void *arg;
};

static void row_alert(struct store_sql_row *r, void *ctx)
{
    struct list_ctx *c = ctx;
    struct store_alert a = {
        .id = store__sql_int(r, 0),
        .fingerprint = store__sql_str(r, 1),
        .status = store__sql_str(r, 2),
        .name = store__sql_str(r, 3),
        .severity = store__sql_str(r, 4),
        .labels_json = store__sql_str(r, 5),
        .annotations_json = store__sql_str(r, 6),
        .generator_url = store__sql_str(r, 7),
        .starts_ms = store__sql_int(r, 8),
        .ends_ms = store__sql_int(r, 9),
        .created_ms = store__sql_int(r, 10),
        .updated_ms = store__sql_int(r, 11),
    };
    c->cb(c->arg, &a);
}

cc_err store__sql_alert_list(struct store *st, const char *status, unsigned limit,
                             store_alert_cb cb, void *arg)
{
    struct list_ctx c = {.cb = cb, .arg = arg};
    return store__sql_run(st, STORE_SQL_READ, SQL_ALERT_LIST,
                          SQL_PARAMS(SQL_T(status), SQL_I(limit)), row_alert, &c, NULL);
}

cc_err store__sql_alert_prune(struct store *st, int64_t resolved_before_ms, unsigned keep_max,
                              int64_t *out_deleted)
{
    int64_t aged = 0, capped = 0;
    cc_err err = store__sql_run(st, STORE_SQL_WRITE, SQL_ALERT_PRUNE_RESOLVED,
                                SQL_PARAMS(SQL_I(resolved_before_ms)), NULL, NULL, &aged);
    if (!err)
        err = store__sql_run(st, STORE_SQL_WRITE, SQL_ALERT_PRUNE_CAP,
                             SQL_PARAMS(SQL_I(keep_max)), NULL, NULL, &capped);
    if (!err && out_deleted)
        *out_deleted = aged + capped;
    return err;
}
