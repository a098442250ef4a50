/*
 * cmd_backup.c - `commandcenter backup` and `commandcenter restore`:
 * offline tools over the store the configuration names (the same
 * --config / CC_CONFIG / CC_* as `serve`), not clients of the daemon.
 * Backup works while the daemon runs; restore takes data_dir/lock, so it
 * refuses to run beside a daemon on the same data directory, and a daemon
 * cannot start while it runs. The format and checks: src/store/backup.h.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/diag.h"
#include "core/lockfile.h"
#include "store/backup.h"


static const char backup_usage[] =
    "usage: commandcenter backup [--output FILE] [--keep N] [--config FILE] [--json]\n"
    "\n"
    "Writes a backup of the store the configuration names (SQLite or PostgreSQL):\n"
    "a manifest (versions, schema, time, SHA-256) and a consistent copy of the\n"
    "data, taken while the daemon runs or not. Restore it with 'commandcenter\n"
    "restore'; the new file is read back and verified before this exits 0. Run it\n"
    "as the daemon's user.\n"
    "\n"
    "  -o, --output FILE  where to write it (default: DATA_DIR/backups/\n"
    "                     commandcenter-YYYYMMDDTHHMMSSZ.ccbackup); written aside\n"
    "                     and renamed into place, mode 0600\n"
    "  -k, --keep N       then delete the oldest commandcenter-*.ccbackup files in\n"
    "                     the same directory, so that N remain (1-10000)\n"
    "  -c, --config FILE  the daemon's configuration (default: $CC_CONFIG); CC_*\n"
    "                     variables override its keys, as for serve\n"
    "      --json         print the manifest as JSON\n";

static const char restore_usage[] =
    "usage: commandcenter restore FILE [--force] [--check] [--config FILE] [--json]\n"
    "\n"
    "Restores a backup made by 'commandcenter backup' into the store the\n"
    "configuration names. Stop the daemon first: restore refuses to run while a\n"
    "daemon uses the data directory. Before changing anything it checks the\n"
    "manifest, the backend, the schema version and the payload's SHA-256 (and\n"
    "SQLite's integrity check); then it replaces the store atomically.\n"
    "\n"
    "      --force        replace a store that already has data (default: refuse)\n"
    "      --check        only verify FILE (manifest, size, checksum); change nothing\n"
    "  -c, --config FILE  the daemon's configuration (default: $CC_CONFIG)\n"
    "      --json         print the manifest as JSON\n";

static int load_config(struct cc_config *cfg, const char *path, char *const *envp)
{
    struct cc_diag diag = {0};
    for (char *const *e = envp; !path && e && *e; e++)
        if (strncmp(*e, "CC_CONFIG=", 10) == 0)
            path = *e + 10;
    cc_config_init(cfg);
    if ((path && *path && cc_config_load_file(cfg, path, &diag)) ||
        cc_config_apply_env(cfg, envp, &diag) || cc_config_finish(cfg, envp, &diag)) {
        char msg[1024];
        cc_diag_format(&diag, msg, sizeof(msg));
        cli__error("see 'commandcenter serve --check-config'", "%s", msg);
        return CLI_USAGE;
    }
    return CLI_OK;
}

static void print_manifest(const struct store_backup_manifest *m, const char *file, bool json)
{
    if (json) {
        json_t *j = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:I, s:s}", "file", file,
                              "backend", m->backend, "schema_version", m->schema_version,
                              "version", m->version, "revision", m->revision,
                              "created_at", m->created_at,
                              "payload_bytes", (json_int_t)m->payload_bytes,
                              "payload_sha256", m->payload_sha256);
        cli__print_json(j);
        json_decref(j);
        return;
    }
    printf("%s\n  %s store, schema %d, made %s by commandcenter %s (%s)\n"
           "  %llu bytes of data, SHA-256 %s\n", file, m->backend, m->schema_version,
           m->created_at, m->version, m->revision, (unsigned long long)m->payload_bytes,
           m->payload_sha256);
}

/* The store the daemon would open, as store_open takes it. */
static struct store_cfg store_cfg_of(const struct cc_config *c, char *sqlite_path)
{
    return (struct store_cfg){.driver = c->store.driver, .sqlite_path = sqlite_path,
                              .busy_timeout_ms = c->store.busy_timeout_ms,
                              .pool_size = c->store.pool_size,
                              .postgres_dsn = c->store.postgres_dsn};
}

static int fail(cc_err err, const char *what, const char *why)
{
    const char *hint = NULL;
    switch (err) {
    case CC_EPARSE: hint = "the file is damaged or not a backup: use another copy"; break;
    case CC_ECONFLICT:
        hint = "restore into an empty data directory, or add --force to replace it";
        break;
    case CC_EINVAL: hint = "set store.driver (and store.postgres_dsn) to the backup's store"; break;
    default: break;
    }
    cli__error(hint, "%s: %s", what, why[0] ? why : cc_err_str(err));
    return err == CC_EINVAL || err == CC_EUNSUPPORTED ? CLI_USAGE : CLI_FAIL;
}

static void default_output(const struct cc_config *c, char *out, size_t outsz)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/backups", c->data_dir);
    mkdir(dir, 0700);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    snprintf(out, outsz, "%s/commandcenter-%s.ccbackup", dir, stamp);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Keeps the newest `keep` backups named commandcenter-<UTC time>.ccbackup
 * in the directory of path (the names sort by time); prints what it
 * removes unless quiet (--json). Other files are never touched. */
static int prune(const char *path, long keep, bool quiet)
{
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof(dir), ".");
    DIR *d = opendir(dir);
    if (!d) {
        cli__error(NULL, "cannot list %s to apply --keep: %s", dir, strerror(errno));
        return CLI_FAIL;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    const char *pre = "commandcenter-", *suf = ".ccbackup";
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len <= strlen(pre) + strlen(suf) || strncmp(e->d_name, pre, strlen(pre)) != 0 ||
            strcmp(e->d_name + len - strlen(suf), suf) != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = cc_xrealloc(names, cap * sizeof(*names));
        }
        names[n++] = cc_xstrdup(e->d_name);
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof(*names), by_name);
    int rc = CLI_OK;
    for (size_t i = 0; i < n; i++) {
        if ((long)(n - i) > keep) {
            char p[4500];
            snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
            if (unlink(p) == 0) {
                if (!quiet)
                    printf("removed %s\n", p);
            } else {
                cli__error(NULL, "cannot remove %s: %s", p, strerror(errno));
                rc = CLI_FAIL;
            }
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int cmd_backup(int argc, char **argv, char *const *envp)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"config", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},         {"help", no_argument, NULL, 'h'},
        {"keep", required_argument, NULL, 'k'},   {NULL, 0, NULL, 0},
    };
    const char *output = NULL, *config = NULL;
    bool json = false;
    long keep = 0;
    char *end = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "o:c:k:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'o': output = optarg; break;
        case 'k':
            errno = 0;
            keep = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || keep < 1 || keep > 10000) {
                cli__error("see 'commandcenter backup --help'",
                           "--keep takes a number of backups from 1 to 10000, not '%s'", optarg);
                return CLI_USAGE;
            }
            break;
        case 'c': config = optarg; break;
        case 'j': json = true; break;
        case 'h': fputs(backup_usage, stdout); return CLI_OK;
        default: fputs(backup_usage, stderr); return CLI_USAGE;
        }
    }
    if (optind < argc) {
        cli__error("see 'commandcenter backup --help'", "unexpected argument '%s'", argv[optind]);
        return CLI_USAGE;
    }
    struct cc_config cfg;
    int rc = load_config(&cfg, config, envp);
    if (rc) {
        cc_config_release(&cfg);
        return rc;
    }
    char path[4200];
    if (output)
        snprintf(path, sizeof(path), "%s", output);
    else
        default_output(&cfg, path, sizeof(path));
    char *db = cc_config_path(&cfg, cfg.store.sqlite_path);
    struct store_cfg sc = store_cfg_of(&cfg, db);
    struct store_backup_manifest m;
    char why[1024] = "";
    cc_err err = store_backup(&sc, path, cc_wall_ms(cc_clock_system()), &m, why, sizeof(why));
    if (!err && (err = store_backup_verify(path, NULL, why, sizeof(why))) != CC_OK)
        rc = fail(err, "the backup just written does not verify", why);
    else if (err)
        rc = fail(err, "backup failed", why);
    else
        print_manifest(&m, path, json);
    if (!rc && keep > 0)
        rc = prune(path, keep, json);
    free(db);
    cc_config_release(&cfg);
    return rc;
}

static int restore_locked(const struct cc_config *cfg, const char *file, bool force, bool json)
{
    char *lock = cc_config_path(cfg, "lock");
    char *db = cc_config_path(cfg, cfg->store.sqlite_path);
    int fd = -1, rc = CLI_OK;
    long holder = 0;
    if (mkdir(cfg->data_dir, 0700) != 0 && errno != EEXIST) {
        cli__error("create the data directory's parent, or set data_dir", "cannot create %s: %s",
                   cfg->data_dir, strerror(errno));
        rc = CLI_FAIL;
        goto out;
    }
    cc_err err = cc_lockfile_acquire(lock, &fd, &holder);
    if (err == CC_ECONFLICT) {
        cli__error("stop the daemon first (systemctl stop commandcenter), then restore",
                   "a daemon (pid %ld) is using the data directory %s", holder, cfg->data_dir);
        rc = CLI_FAIL;
        goto out;
    }
    if (err) {
        cli__error("the data directory must be writable by this user", "cannot lock %s: %s",
                   lock, strerror(errno));
        rc = CLI_FAIL;
        goto out;
    }
    struct store_cfg sc = store_cfg_of(cfg, db);
    struct store_backup_manifest m;
    char why[1024] = "";
    err = store_restore(&sc, file, force, &m, why, sizeof(why));
    if (err) {
        rc = fail(err, "restore refused", why);
        goto out;
    }
    if (!json)
        printf("restored ");
    print_manifest(&m, file, json);
out:
    cc_lockfile_release(fd);
    free(lock);
    free(db);
    return rc;
}

int cmd_restore(int argc, char **argv, char *const *envp)
{
    static const struct option longopts[] = {
        {"force", no_argument, NULL, 'f'},        {"check", no_argument, NULL, 'k'},
        {"config", required_argument, NULL, 'c'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *config = NULL;
    bool force = false, check = false, json = false;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'f': force = true; break;
        case 'k': check = true; break;
        case 'c': config = optarg; break;
        case 'j': json = true; break;
        case 'h': fputs(restore_usage, stdout); return CLI_OK;
        default: fputs(restore_usage, stderr); return CLI_USAGE;
        }
    }
    if (optind + 1 != argc) {
        cli__error("see 'commandcenter restore --help'", "give exactly one backup FILE");
        return CLI_USAGE;
    }
    const char *file = argv[optind];
    if (check) {
        struct store_backup_manifest m;
        char why[1024] = "";
        cc_err err = store_backup_verify(file, &m, why, sizeof(why));
        if (err)
            return fail(err, "the backup does not verify", why);
        if (!json)
            printf("verified ");
        print_manifest(&m, file, json);
        return CLI_OK;
    }
    struct cc_config cfg;
    int rc = load_config(&cfg, config, envp);
    if (!rc)
        rc = restore_locked(&cfg, file, force, json);
    cc_config_release(&cfg);
    return rc;
}
