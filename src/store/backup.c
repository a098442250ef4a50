/*
 * backup.c - the backup file format (backup.h) and the steps every backend
 * shares: manifest, checksum, writing aside and renaming, verification.
 * The backend halves are in backup_sqlite.c and backup_pg.c, chosen from
 * `backends` by the store driver's name.
 */
#include "store/backup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/sha256.h"
#include "store/backup_int.h"

#define COPY_CHUNK (64 * 1024)

static const struct store__backup_ops *const backends[] = {
    &store__backup_sqlite,
    &store__backup_pg,
    NULL,
};

static const struct store__backup_ops *find_backend(const char *name)
{
    for (size_t i = 0; backends[i]; i++)
        if (strcmp(backends[i]->name, name) == 0)
            return backends[i];
    return NULL;
}

cc_err store__backup_fail(cc_err err, char *why, size_t whysz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whysz, fmt, ap);
    va_end(ap);
    return err;
}

/* ---- the head -------------------------------------------------------- */

static bool copy_str(json_t *o, const char *key, char *out, size_t outsz)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s && cc_strlcpy(out, s, outsz) == CC_OK;
}

static bool is_hex64(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return false;
    return n == 64;
}

cc_err store_backup_parse_head(const char *buf, size_t len, struct store_backup_manifest *out,
                               size_t *head_len, char *why, size_t whysz)
{
    const size_t ml = sizeof(STORE_BACKUP_MAGIC) - 1;
    const char *prefix = "commandcenter-backup ";
    if (len < strlen(prefix) || memcmp(buf, prefix, strlen(prefix)) != 0)
        return store__backup_fail(CC_EPARSE, why, whysz,
            "not a commandcenter backup (no magic line)");
    if (len < ml || memcmp(buf, STORE_BACKUP_MAGIC, ml) != 0)
        return store__backup_fail(CC_EUNSUPPORTED, why, whysz,
                     "a backup format this binary does not read (a newer version made it?)");
    size_t limit = len < STORE_BACKUP_HEAD_MAX ? len : STORE_BACKUP_HEAD_MAX;
    const char *nl = memchr(buf + ml, '\n', limit - ml);
    if (!nl)
        return store__backup_fail(CC_EPARSE, why, whysz,
            "the manifest line is missing or too long");
    json_error_t jerr;
    json_t *j = json_loadb(buf + ml, (size_t)(nl - buf - ml), JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(j)) {
        json_decref(j);
        return store__backup_fail(CC_EPARSE, why, whysz, "the manifest is not a JSON object");
    }
    struct store_backup_manifest m = {0};
    json_t *format = json_object_get(j, "format"), *schema = json_object_get(j, "schema_version");
    json_t *created = json_object_get(j, "created_ms");
    json_t *bytes = json_object_get(j, "payload_bytes");
    cc_err err = CC_EPARSE;
    if (!json_is_integer(format) || !json_is_integer(schema) || !json_is_integer(created) ||
        !json_is_integer(bytes) || !copy_str(j, "backend", m.backend, sizeof(m.backend)) ||
        !copy_str(j, "version", m.version, sizeof(m.version)) ||
        !copy_str(j, "revision", m.revision, sizeof(m.revision)) ||
        !copy_str(j, "created_at", m.created_at, sizeof(m.created_at)) ||
        !copy_str(j, "payload_sha256", m.payload_sha256, sizeof(m.payload_sha256)) ||
        !is_hex64(m.payload_sha256) || json_integer_value(schema) < 1 ||
        json_integer_value(schema) > 1000000 || json_integer_value(bytes) < 0) {
        store__backup_fail(err, why, whysz,
            "the manifest lacks a field or has one of the wrong type");
        goto out;
    }
    if (json_integer_value(format) != STORE_BACKUP_FORMAT) {
        err = store__backup_fail(CC_EUNSUPPORTED, why, whysz,
            "manifest format %" JSON_INTEGER_FORMAT
            " is not %d", json_integer_value(format), STORE_BACKUP_FORMAT);
        goto out;
    }
    m.format = STORE_BACKUP_FORMAT;
    m.schema_version = (int)json_integer_value(schema);
    m.created_ms = json_integer_value(created);
    m.payload_bytes = (uint64_t)json_integer_value(bytes);
    *out = m;
    *head_len = (size_t)(nl - buf) + 1;
    err = CC_OK;
out:
    json_decref(j);
    return err;
}

static cc_err write_head(FILE *f, const struct store_backup_manifest *m)
{
    json_t *j = json_pack("{s:i, s:s, s:i, s:s, s:s, s:s, s:I, s:I, s:s}",
                          "format", m->format, "backend", m->backend,
                          "schema_version", m->schema_version, "version", m->version,
                          "revision", m->revision, "created_at", m->created_at,
                          "created_ms", (json_int_t)m->created_ms,
                          "payload_bytes", (json_int_t)m->payload_bytes,
                          "payload_sha256", m->payload_sha256);
    if (!j)
        return CC_ENOMEM;
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!text)
        return CC_ENOMEM;
    bool ok = fputs(STORE_BACKUP_MAGIC, f) >= 0 && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    free(text);
    return ok ? CC_OK : CC_EIO;
}

/* ---- copying and hashing --------------------------------------------- */

cc_err store__backup_pump(FILE *in, uint64_t n, bool (*sink)(void *arg, const char *p, size_t len),
                          void *arg)
{
    char *chunk = cc_xmalloc(COPY_CHUNK);
    cc_err err = CC_OK;
    while (n > 0 && !err) {
        size_t want = n < COPY_CHUNK ? (size_t)n : COPY_CHUNK;
        size_t got = fread(chunk, 1, want, in);
        if (got == 0)
            err = ferror(in) ? CC_EIO : CC_EPARSE;
        else if (!sink(arg, chunk, got))
            err = CC_EIO;
        n -= got;
    }
    free(chunk);
    return err;
}

static bool to_file(void *arg, const char *p, size_t len)
{
    return fwrite(p, 1, len, arg) == len;
}

static bool to_hash(void *arg, const char *p, size_t len)
{
    cc_sha256_update(arg, p, len);
    return true;
}

cc_err store__backup_copy(FILE *in, FILE *out, uint64_t n, char *why, size_t whysz)
{
    cc_err err = store__backup_pump(in, n, to_file, out);
    if (err == CC_EPARSE)
        return store__backup_fail(err, why, whysz, "the backup is truncated");
    if (err)
        return store__backup_fail(err, why, whysz, "copy: %s", strerror(errno));
    return CC_OK;
}

/* Hashes n bytes of f from its position; *extra is set when bytes follow. */
static cc_err hash_stream(FILE *f, uint64_t n, char hex[CC_SHA256_HEX_LEN], bool *extra)
{
    struct cc_sha256 h;
    cc_sha256_init(&h);
    cc_err err = store__backup_pump(f, n, to_hash, &h);
    uint8_t d[CC_SHA256_DIGEST_LEN];
    cc_sha256_final(&h, d);
    cc_hex_encode(d, sizeof(d), hex);
    if (extra)
        *extra = err == CC_OK && fgetc(f) != EOF;
    return err;
}

cc_err store__backup_sync_close(FILE *f)
{
    bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
    return (fclose(f) == 0 && ok) ? CC_OK : CC_EIO;
}

/* fsync of the directory holding path, so a rename in it is durable. */
void store__backup_sync_dir(const char *path)
{
    char dir[4096];
    if (cc_strlcpy(dir, path, sizeof(dir)))
        return;
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof(dir), ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

FILE *store__backup_create(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "w+b");
    if (!f)
        close(fd);
    return f;
}

/* ---- backup ---------------------------------------------------------- */

cc_err store_backup(const struct store_cfg *cfg, const char *output, int64_t now_ms,
                    struct store_backup_manifest *out, char *why, size_t whysz)
{
    const struct store__backup_ops *b = find_backend(cfg->driver);
    if (!b)
        return store__backup_fail(CC_EINVAL, why, whysz,
            "no backup for store driver '%s'", cfg->driver);
    char payload_path[4200], part[4200], scratch[4200];
    snprintf(payload_path, sizeof(payload_path), "%s.payload.tmp", output);
    snprintf(part, sizeof(part), "%s.partial", output);
    snprintf(scratch, sizeof(scratch), "%s.scratch.tmp", output);
    FILE *payload = NULL, *f = NULL;
    struct store_backup_manifest m = {.format = STORE_BACKUP_FORMAT, .created_ms = now_ms};
    cc_err err = CC_EIO;
    payload = store__backup_create(payload_path);
    if (!payload) {
        err = store__backup_fail(CC_EIO, why, whysz,
            "cannot create %s: %s", payload_path, strerror(errno));
        goto out;
    }
    err = b->dump(cfg, scratch, payload, &m.schema_version, why, whysz);
    if (err)
        goto out;
    if (fflush(payload) != 0) {
        err = store__backup_fail(CC_EIO, why, whysz, "write %s: %s", payload_path, strerror(errno));
        goto out;
    }
    long end = ftell(payload);
    rewind(payload);
    m.payload_bytes = end > 0 ? (uint64_t)end : 0;
    err = hash_stream(payload, m.payload_bytes, m.payload_sha256, NULL);
    if (err) {
        store__backup_fail(err, why, whysz, "cannot read back %s", payload_path);
        goto out;
    }
    snprintf(m.backend, sizeof(m.backend), "%s", b->name);
    snprintf(m.version, sizeof(m.version), "%s", CC_VERSION);
    snprintf(m.revision, sizeof(m.revision), "%s", CC_GIT_REV);
    cc_time_rfc3339(now_ms, m.created_at, sizeof(m.created_at));
    f = store__backup_create(part);
    if (!f) {
        err = store__backup_fail(CC_EIO, why, whysz, "cannot create %s: %s", part, strerror(errno));
        goto out;
    }
    rewind(payload);
    err = write_head(f, &m);
    if (!err)
        err = store__backup_copy(payload, f, m.payload_bytes, why, whysz);
    if (!err) {
        err = store__backup_sync_close(f);
        f = NULL;
    }
    if (err) {
        if (!why[0])
            store__backup_fail(err, why, whysz, "cannot write %s", part);
        goto out;
    }
    if (rename(part, output) != 0) {
        err = store__backup_fail(CC_EIO, why, whysz, "cannot rename %s to %s: %s", part, output,
                    strerror(errno));
        goto out;
    }
    store__backup_sync_dir(output);
    if (out)
        *out = m;
out:
    if (f)
        fclose(f);
    if (payload)
        fclose(payload);
    unlink(payload_path);
    if (err)
        unlink(part);
    return err;
}

/* ---- verify and restore ---------------------------------------------- */

/* Opens file, parses its head and checks the payload; f is left at the
 * payload's start. */
static cc_err open_verified(const char *file, FILE **out_f, struct store_backup_manifest *m,
                            char *why, size_t whysz)
{
    FILE *f = fopen(file, "rbe");
    if (!f)
        return store__backup_fail(CC_EIO, why, whysz, "cannot open %s: %s", file, strerror(errno));
    char *head = cc_xmalloc(STORE_BACKUP_HEAD_MAX);
    size_t n = fread(head, 1, STORE_BACKUP_HEAD_MAX, f), head_len = 0;
    cc_err err = store_backup_parse_head(head, n, m, &head_len, why, whysz);
    free(head);
    if (err)
        goto out;
    char hex[CC_SHA256_HEX_LEN];
    bool extra = false;
    if (fseek(f, (long)head_len, SEEK_SET) != 0) {
        err = store__backup_fail(CC_EIO, why, whysz, "cannot read %s: %s", file, strerror(errno));
        goto out;
    }
    err = hash_stream(f, m->payload_bytes, hex, &extra);
    if (err == CC_EPARSE || (!err && extra)) {
        err = store__backup_fail(CC_EPARSE, why, whysz,
            "the backup is %s: its manifest says %" PRIu64
            " bytes of payload", extra ? "longer than it should be" : "truncated",
            m->payload_bytes);
        goto out;
    }
    if (err) {
        store__backup_fail(err, why, whysz, "cannot read %s: %s", file, strerror(errno));
        goto out;
    }
    if (strcmp(hex, m->payload_sha256) != 0) {
        err = store__backup_fail(CC_EPARSE, why, whysz,
            "the backup is corrupt: its payload's SHA-256 is %s, "
            "the manifest says %s", hex, m->payload_sha256);
        goto out;
    }
    if (fseek(f, (long)head_len, SEEK_SET) != 0) {
        err = store__backup_fail(CC_EIO, why, whysz, "cannot read %s: %s", file, strerror(errno));
        goto out;
    }
    *out_f = f;
    f = NULL;
out:
    if (f)
        fclose(f);
    return err;
}

cc_err store_backup_verify(const char *file, struct store_backup_manifest *out, char *why,
                           size_t whysz)
{
    struct store_backup_manifest m;
    FILE *f = NULL;
    cc_err err = open_verified(file, &f, &m, why, whysz);
    if (err)
        return err;
    fclose(f);
    if (out)
        *out = m;
    return CC_OK;
}

cc_err store_restore(const struct store_cfg *cfg, const char *file, bool force,
                     struct store_backup_manifest *out, char *why, size_t whysz)
{
    struct store_backup_manifest m;
    FILE *f = NULL;
    cc_err err = open_verified(file, &f, &m, why, whysz);
    if (err)
        return err;
    const struct store__backup_ops *b = find_backend(m.backend);
    if (!b) {
        err = store__backup_fail(CC_EPARSE, why, whysz,
            "the backup is of an unknown store '%s'", m.backend);
        goto out;
    }
    if (strcmp(m.backend, cfg->driver) != 0) {
        err = store__backup_fail(CC_EINVAL, why, whysz,
            "the backup is of a %s store; this configuration "
            "uses %s (store.driver)", m.backend, cfg->driver);
        goto out;
    }
    int latest = b->schema_latest();
    if (m.schema_version > latest) {
        err = store__backup_fail(CC_ESTATE, why, whysz,
            "the backup's schema (version %d) is newer than "
            "this binary's (%d): restore it with commandcenter %s or later",
            m.schema_version, latest, m.version);
        goto out;
    }
    err = b->load(cfg, f, &m, force, why, whysz);
    if (!err && out)
        *out = m;
out:
    fclose(f);
    return err;
}
