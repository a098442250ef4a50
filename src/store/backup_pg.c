/*
 * backup_pg.c - the PostgreSQL half of backups (backup.h).
 *
 * The payload is the rows of every table of the store's schema (the DSN's
 * current_schema(), as the backend uses it) but schema_migrations, as COPY
 * text, one section per table in creation order (pg_class oid: a table is
 * created after the tables it references, so foreign keys hold while
 * loading):
 *
 *   T <20-digit byte count> <table>\n<that many bytes of COPY text>
 *
 * Why not pg_dump: its output names the schema everywhere, so it restores
 * only into the schema it came from; rows restore into any schema the
 * store's migrations made, and need no client tools of the server's
 * version. Backup reads in one REPEATABLE READ, READ ONLY transaction, so
 * the tables are consistent with each other while the daemon runs. Restore
 * runs the migrations on the target (store_open), then in one transaction
 * empties the tables, loads them with user triggers off (the rows already
 * include what triggers derive, e.g. fts_totals), moves identities past
 * the loaded ids and commits: all or nothing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/embedded.h"
#include "store/backup_int.h"
#include "store/postgres_lib.h"
#include "store/store_sql.h"

#define PQ(f) (pg__lib->f)
#define SECTION_HEAD_MAX 128
#define NAME_MAX_LEN 63
#define MAX_TABLES 64

struct tables {
    char name[MAX_TABLES][NAME_MAX_LEN + 1];
    size_t n;
};

static int latest(void)
{
    int v = 0;
    store__migrations_latest(postgres_migrations, NULL, &v);
    return v;
}

static cc_err pg_fail(PGconn *c, const char *what, char *why, size_t whysz)
{
    const char *msg = c ? PQ(PQerrorMessage)(c) : "out of memory";
    size_t n = strlen(msg);
    while (n > 0 && msg[n - 1] == '\n')
        n--;
    return store__backup_fail(CC_EIO, why, whysz, "%s: %.*s", what, (int)n, msg);
}

static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

static cc_err connect_pg(const struct store_cfg *cfg, PGconn **out, char *why, size_t whysz)
{
    const char *lib = pg__lib_load();
    if (lib)
        return store__backup_fail(CC_EUNSUPPORTED, why, whysz, "%s", lib);
    if (!cfg->postgres_dsn || !cfg->postgres_dsn[0])
        return store__backup_fail(CC_EINVAL, why, whysz,
                                  "store.postgres_dsn is empty: no database to back up");
    PGconn *c = PQ(PQconnectdb)(cfg->postgres_dsn);
    if (!c || PQ(PQstatus)(c) != CONNECTION_OK) {
        cc_err err = pg_fail(c, "cannot connect to PostgreSQL", why, whysz);
        PQ(PQfinish)(c);
        return err;
    }
    PQ(PQsetNoticeProcessor)(c, quiet, NULL);
    *out = c;
    return CC_OK;
}

/* Runs sql; CC_OK on PGRES_COMMAND_OK or PGRES_TUPLES_OK (*res kept if
 * asked, else cleared). */
static cc_err run(PGconn *c, const char *sql, PGresult **res, char *why, size_t whysz)
{
    PGresult *r = PQ(PQexec)(c, sql);
    ExecStatusType st = r ? PQ(PQresultStatus)(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        PQ(PQclear)(r);
        return pg_fail(c, sql, why, whysz);
    }
    if (res)
        *res = r;
    else
        PQ(PQclear)(r);
    return CC_OK;
}

static bool valid_name(const char *s, size_t n)
{
    if (n == 0 || n > NAME_MAX_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static cc_err list_tables(PGconn *c, struct tables *t, char *why, size_t whysz)
{
    PGresult *r = NULL;
    cc_err err = run(c, "SELECT c.relname FROM pg_class c JOIN pg_namespace n"
                        " ON n.oid = c.relnamespace WHERE n.nspname = current_schema()"
                        " AND c.relkind = 'r' AND c.relname <> 'schema_migrations'"
                        " ORDER BY c.oid", &r, why, whysz);
    if (err)
        return err;
    t->n = 0;
    for (int i = 0; i < PQ(PQntuples)(r) && !err; i++) {
        const char *name = PQ(PQgetvalue)(r, i, 0);
        if (t->n == MAX_TABLES || !valid_name(name, strlen(name)))
            err = store__backup_fail(CC_EUNSUPPORTED, why, whysz,
                                     "unexpected table '%s' in the store's schema", name);
        else
            snprintf(t->name[t->n++], NAME_MAX_LEN + 1, "%s", name);
    }
    PQ(PQclear)(r);
    if (!err && t->n == 0)
        err = store__backup_fail(CC_ENOTFOUND, why, whysz,
                                 "the DSN's schema has no store tables");
    return err;
}

static cc_err schema_version(PGconn *c, int *out, char *why, size_t whysz)
{
    PGresult *r = NULL;
    cc_err err = run(c, "SELECT max(version) FROM schema_migrations", &r, why, whysz);
    if (err) {
        char cause[512];
        snprintf(cause, sizeof(cause), "%s", why);
        return store__backup_fail(CC_ENOTFOUND, why, whysz,
                                  "no store in the DSN's schema (%s)", cause);
    }
    bool null = PQ(PQntuples)(r) != 1 || PQ(PQgetisnull)(r, 0, 0);
    *out = null ? 0 : (int)strtol(PQ(PQgetvalue)(r, 0, 0), NULL, 10);
    PQ(PQclear)(r);
    return null ? store__backup_fail(CC_ENOTFOUND, why, whysz, "the store has no migrations")
                : CC_OK;
}

static cc_err dump_table(PGconn *c, const char *name, FILE *f, char *why, size_t whysz)
{
    long head = ftell(f);
    if (head < 0 || fprintf(f, "T %020" PRIu64 " %s\n", (uint64_t)0, name) < 0)
        return store__backup_fail(CC_EIO, why, whysz, "write: %s", strerror(errno));
    char sql[128];
    snprintf(sql, sizeof(sql), "COPY \"%s\" TO STDOUT", name);
    PGresult *r = PQ(PQexec)(c, sql);
    bool copying = r && PQ(PQresultStatus)(r) == PGRES_COPY_OUT;
    PQ(PQclear)(r);
    if (!copying)
        return pg_fail(c, sql, why, whysz);
    uint64_t bytes = 0;
    cc_err err = CC_OK;
    char *buf = NULL;
    int n;
    while ((n = PQ(PQgetCopyData)(c, &buf, 0)) > 0) {
        if (!err && fwrite(buf, 1, (size_t)n, f) != (size_t)n)
            err = store__backup_fail(CC_EIO, why, whysz, "write: %s", strerror(errno));
        bytes += (uint64_t)n;
        PQ(PQfreemem)(buf);
    }
    while ((r = PQ(PQgetResult)(c)) != NULL) {
        if (!err && PQ(PQresultStatus)(r) != PGRES_COMMAND_OK)
            err = pg_fail(c, sql, why, whysz);
        PQ(PQclear)(r);
    }
    if (!err && n == -2)
        err = pg_fail(c, sql, why, whysz);
    if (err)
        return err;
    long end = ftell(f);
    if (end < 0 || fseek(f, head, SEEK_SET) != 0 ||
        fprintf(f, "T %020" PRIu64 " %s\n", bytes, name) < 0 || fseek(f, end, SEEK_SET) != 0)
        return store__backup_fail(CC_EIO, why, whysz, "write: %s", strerror(errno));
    return CC_OK;
}

static cc_err dump(const struct store_cfg *cfg, const char *scratch, FILE *f,
                   int *schema_version_out, char *why, size_t whysz)
{
    (void)scratch;
    PGconn *c = NULL;
    struct tables t;
    cc_err err = connect_pg(cfg, &c, why, whysz);
    if (err)
        return err;
    err = run(c, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", NULL, why, whysz);
    if (!err)
        err = schema_version(c, schema_version_out, why, whysz);
    if (!err)
        err = list_tables(c, &t, why, whysz);
    for (size_t i = 0; !err && i < t.n; i++)
        err = dump_table(c, t.name[i], f, why, whysz);
    if (!err)
        err = run(c, "COMMIT", NULL, why, whysz);
    PQ(PQfinish)(c);
    return err;
}

/* ---- restore ---------------------------------------------------------- */

static bool has_table(const struct tables *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->name[i], name) == 0)
            return true;
    return false;
}

/* Whether the target holds anything a restore would lose. fts_totals
 * always has its one row. */
static cc_err check_empty(PGconn *c, const struct tables *t, char *why, size_t whysz)
{
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->name[i], "fts_totals") == 0)
            continue;
        char sql[160];
        snprintf(sql, sizeof(sql), "SELECT 1 FROM \"%s\" LIMIT 1", t->name[i]);
        PGresult *r = NULL;
        cc_err err = run(c, sql, &r, why, whysz);
        if (err)
            return err;
        int rows = PQ(PQntuples)(r);
        PQ(PQclear)(r);
        if (rows > 0)
            return store__backup_fail(CC_ECONFLICT, why, whysz,
                                      "the PostgreSQL store already has data (table %s)",
                                      t->name[i]);
    }
    return CC_OK;
}

/* ALTER TABLE ... ENABLE or DISABLE TRIGGER USER on every table. */
static cc_err user_triggers(PGconn *c, const struct tables *t, bool on, char *why, size_t whysz)
{
    cc_err err = CC_OK;
    for (size_t i = 0; i < t->n && !err; i++) {
        char sql[200];
        snprintf(sql, sizeof(sql), "ALTER TABLE \"%s\" %s TRIGGER USER", t->name[i],
                 on ? "ENABLE" : "DISABLE");
        err = run(c, sql, NULL, why, whysz);
    }
    return err;
}

static cc_err truncate_all(PGconn *c, const struct tables *t, char *why, size_t whysz)
{
    struct cc_buf sql;
    cc_buf_init(&sql, 16 * 1024);
    cc_err err = cc_buf_addstr(&sql, "TRUNCATE ");
    for (size_t i = 0; i < t->n && !err; i++)
        err = cc_buf_addf(&sql, "%s\"%s\"", i ? ", " : "", t->name[i]);
    if (!err)
        err = cc_buf_addstr(&sql, " RESTART IDENTITY");
    if (!err)
        err = run(c, cc_buf_str(&sql), NULL, why, whysz);
    cc_buf_release(&sql);
    return err;
}

cc_err store__backup_pg_section(FILE *f, uint64_t *left, char *name, uint64_t *bytes, char *why,
                                size_t whysz)
{
    char line[SECTION_HEAD_MAX];
    size_t n = 0;
    int ch = 0;
    while (n + 1 < sizeof(line) && *left > 0 && (ch = fgetc(f)) != EOF) {
        (*left)--;
        line[n++] = (char)ch;
        if (ch == '\n')
            break;
    }
    line[n] = '\0';
    if (n < 25 || line[n - 1] != '\n' || line[0] != 'T' || line[1] != ' ' || line[22] != ' ')
        return store__backup_fail(CC_EPARSE, why, whysz, "the backup's table section is malformed");
    uint64_t v = 0;
    for (int i = 2; i < 22; i++) {
        if (line[i] < '0' || line[i] > '9')
            return store__backup_fail(CC_EPARSE, why, whysz,
                "the backup's table section is malformed");
        v = v * 10 + (uint64_t)(line[i] - '0');
    }
    size_t nl = n - 1 - 23;
    if (!valid_name(line + 23, nl) || v > *left)
        return store__backup_fail(CC_EPARSE, why, whysz, "the backup's table section is malformed");
    memcpy(name, line + 23, nl);
    name[nl] = '\0';
    *bytes = v;
    return CC_OK;
}

static bool put_copy(void *arg, const char *p, size_t len)
{
    return PQ(PQputCopyData)(arg, p, (int)len) == 1;
}

static cc_err load_table(PGconn *c, FILE *f, const char *name, uint64_t bytes, char *why,
                         size_t whysz)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "COPY \"%s\" FROM STDIN", name);
    PGresult *r = PQ(PQexec)(c, sql);
    bool copying = r && PQ(PQresultStatus)(r) == PGRES_COPY_IN;
    PQ(PQclear)(r);
    if (!copying)
        return pg_fail(c, sql, why, whysz);
    cc_err err = store__backup_pump(f, bytes, put_copy, c);
    if (err == CC_EPARSE)
        store__backup_fail(err, why, whysz, "the backup is truncated");
    else if (err)
        pg_fail(c, sql, why, whysz);
    if (PQ(PQputCopyEnd)(c, err ? "aborted" : NULL) != 1 && !err)
        err = pg_fail(c, sql, why, whysz);
    while ((r = PQ(PQgetResult)(c)) != NULL) {
        if (!err && PQ(PQresultStatus)(r) != PGRES_COMMAND_OK)
            err = pg_fail(c, sql, why, whysz);
        PQ(PQclear)(r);
    }
    return err;
}

/* Identities continue after the loaded ids (RESTART IDENTITY reset them). */
static cc_err reset_identities(PGconn *c, char *why, size_t whysz)
{
    PGresult *r = NULL;
    cc_err err = run(c, "SELECT table_name, column_name FROM information_schema.columns"
                        " WHERE table_schema = current_schema() AND is_identity = 'YES'",
                     &r, why, whysz);
    for (int i = 0; !err && i < PQ(PQntuples)(r); i++) {
        const char *t = PQ(PQgetvalue)(r, i, 0), *col = PQ(PQgetvalue)(r, i, 1);
        if (!valid_name(t, strlen(t)) || !valid_name(col, strlen(col)))
            continue;
        char sql[400];
        snprintf(sql, sizeof(sql),
                 "SELECT setval(pg_get_serial_sequence('\"%s\"', '%s'),"
                 " COALESCE((SELECT max(\"%s\") FROM \"%s\"), 0) + 1, false)",
                 t, col, col, t);
        err = run(c, sql, NULL, why, whysz);
    }
    PQ(PQclear)(r);
    return err;
}

static cc_err load_sections(PGconn *c, FILE *f, const struct store_backup_manifest *m,
                            const struct tables *t, char *why, size_t whysz)
{
    uint64_t left = m->payload_bytes;
    cc_err err = CC_OK;
    while (left > 0 && !err) {
        char name[NAME_MAX_LEN + 1];
        uint64_t bytes = 0;
        err = store__backup_pg_section(f, &left, name, &bytes, why, whysz);
        if (!err && !has_table(t, name))
            err = store__backup_fail(CC_EPARSE, why, whysz,
                                     "the backup has a table this store does not: %s", name);
        if (!err)
            err = load_table(c, f, name, bytes, why, whysz);
        left -= err ? 0 : bytes;
    }
    return err;
}

static cc_err load(const struct store_cfg *cfg, FILE *f, const struct store_backup_manifest *m,
                   bool force, char *why, size_t whysz)
{
    /* The target gets this binary's schema first (an empty schema is fine). */
    struct store *st = NULL;
    cc_err err = store_open(cfg, &st);
    store_close(st);
    if (err)
        return store__backup_fail(err, why, whysz, "cannot open the PostgreSQL store: %s",
                                  cc_err_str(err));
    PGconn *c = NULL;
    struct tables t;
    int version = 0;
    err = connect_pg(cfg, &c, why, whysz);
    if (err)
        return err;
    err = run(c, "BEGIN", NULL, why, whysz);
    if (!err)
        err = schema_version(c, &version, why, whysz);
    if (!err && version != m->schema_version)
        err = store__backup_fail(CC_ESTATE, why, whysz,
                                 "the backup's schema is version %d, this store's %d: restore "
                                 "with commandcenter %s, then upgrade", m->schema_version,
                                 version, m->version);
    if (!err)
        err = list_tables(c, &t, why, whysz);
    if (!err && !force)
        err = check_empty(c, &t, why, whysz);
    if (!err)
        err = user_triggers(c, &t, false, why, whysz);
    if (!err)
        err = truncate_all(c, &t, why, whysz);
    if (!err)
        err = load_sections(c, f, m, &t, why, whysz);
    if (!err)
        err = user_triggers(c, &t, true, why, whysz);
    if (!err)
        err = reset_identities(c, why, whysz);
    if (!err)
        err = run(c, "COMMIT", NULL, why, whysz);
    else
        PQ(PQclear)(PQ(PQexec)(c, "ROLLBACK"));
    PQ(PQfinish)(c);
    return err;
}

const struct store__backup_ops store__backup_pg = {
    .name = "postgres",
    .schema_latest = latest,
    .dump = dump,
    .load = load,
};
