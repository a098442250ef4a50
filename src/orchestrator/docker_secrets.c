/*
 * docker_secrets.c - the docker driver's secrets: files, never environment
 * variables. After create, each secret of the service is copied into
 * /run/secrets/<target> through the engine's archive API, owned by the
 * service's user and mode 0400 (or the uid/gid/mode of its secrets entry).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "orchestrator/docker_int.h"

#define SECRET_MAX (1 << 20)

/* Resolves "uid[:gid]" when numeric; false for names (the engine resolves
 * those with copyUIDGID). */
static bool numeric_user(const char *u, unsigned *uid, unsigned *gid)
{
    char *end;
    errno = 0;
    unsigned long a = strtoul(u, &end, 10);
    if (errno || end == u || (*end && *end != ':') || a > 0x7fffffff)
        return false;
    *uid = (unsigned)a;
    *gid = (unsigned)a;
    if (*end == ':') {
        const char *g = end + 1;
        unsigned long b = strtoul(g, &end, 10);
        if (end == g || *end || b > 0x7fffffff)
            return false;
        *gid = (unsigned)b;
    }
    return true;
}

static const struct orch_secret *find_secret(const struct orch_stack *s, const char *name)
{
    for (size_t i = 0; i < s->nsecrets; i++)
        if (!strcmp(s->secrets[i].name, name))
            return &s->secrets[i];
    return NULL;
}

static cc_err read_secret(const struct orch_secret *sec, struct cc_buf *out, struct orch_err *e)
{
    if (sec->environment) {
        const char *v = getenv(sec->environment);
        if (!v)
            return orch_errf(e, CC_EINVAL, "set the variable before starting the stack",
                             "secret %s: the variable %s is not set", sec->name, sec->environment);
        cc_buf_addstr(out, v);
        return CC_OK;
    }
    if (!sec->file)
        return orch_errf(e, CC_EUNSUPPORTED, "give the secret a `file:`",
                         "secret %s: only file and environment secrets are supported", sec->name);
    FILE *f = fopen(sec->file, "rb");
    if (!f)
        return orch_errf(e, CC_EINVAL, "create the file or fix `secrets.<name>.file`",
                         "secret %s: cannot read %s: %s", sec->name, sec->file, strerror(errno));
    char chunk[8192];
    size_t n;
    cc_err rc = CC_OK;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (cc_buf_add(out, chunk, n)) {
            rc = orch_errf(e, CC_ELIMIT, "keep secrets under 1 MiB",
                           "secret %s: %s is too large", sec->name, sec->file);
            break;
        }
    fclose(f);
    return rc;
}

/* Copies the service's secrets into the created container: a tar of
 * <target> files extracted in /run/secrets (a volume of its own, see
 * create_body), owned by the service's user, mode 0400. */
cc_err orch__docker_copy_secrets(struct orch__docker *d, const struct orch_spec *spec,
                                 const char *id, struct orch_err *e)
{
    const struct orch_service *svc = spec->svc;
    if (!svc->nsecrets)
        return CC_OK;
    unsigned uid = 0, gid = 0;
    bool by_engine = svc->user && !numeric_user(svc->user, &uid, &gid);
    struct cc_buf tar;
    cc_buf_init(&tar, (size_t)64 << 20);
    cc_err rc = CC_OK;
    int64_t now = cc_wall_ms(cc_clock_system()) / 1000;
    for (size_t i = 0; !rc && i < svc->nsecrets; i++) {
        const struct orch_secret_ref *ref = &svc->secrets[i];
        const struct orch_secret *sec = find_secret(spec->stack, ref->source);
        if (!sec) {
            rc = orch_errf(e, CC_EINVAL, "define it under top-level `secrets`",
                           "service %s: unknown secret %s", svc->name, ref->source);
            break;
        }
        const char *target = ref->target ? ref->target : ref->source;
        char name[1024];
        if (target[0] == '/') {
            if (strncmp(target, "/run/secrets/", 13) != 0) {
                rc = orch_errf(e, CC_EUNSUPPORTED, "use a target under /run/secrets",
                               "service %s: secret target %s is outside /run/secrets",
                               svc->name, target);
                break;
            }
            snprintf(name, sizeof(name), "%s", target + 13);
        } else {
            snprintf(name, sizeof(name), "%s", target);
        }
        if (!name[0] || strstr(name, "..")) {
            rc = orch_errf(e, CC_EINVAL, "name the target without '..'",
                           "service %s: bad secret target %s", svc->name, target);
            break;
        }
        struct cc_buf data;
        cc_buf_init(&data, SECRET_MAX);
        rc = read_secret(sec, &data, e);
        if (!rc) {
            unsigned fuid = uid, fgid = gid;
            char *end;
            if (ref->uid) {
                fuid = (unsigned)strtoul(ref->uid, &end, 10);
                by_engine = false;
            }
            if (ref->gid)
                fgid = (unsigned)strtoul(ref->gid, &end, 10);
            struct orch__tar_entry f = {.name = name, .mode = ref->mode >= 0 ? (unsigned)ref->mode
                                                                             : 0400,
                                        .uid = fuid, .gid = fgid, .data = cc_buf_str(&data),
                                        .len = data.len, .mtime = now};
            rc = orch__tar_add(&tar, &f);
        }
        /* the plaintext does not outlive the copy */
        if (data.ptr)
            memset(data.ptr, 0, data.len);
        cc_buf_release(&data);
    }
    if (!rc)
        rc = orch__tar_finish(&tar);
    if (!rc) {
        struct orch__req r = {.method = "PUT", .ctype = "application/x-tar", .body = tar.ptr,
                              .body_len = tar.len};
        /* Into the secrets mount: the engine refuses copies into a
         * read-only root but not into a writable mount. */
        snprintf(r.path, sizeof(r.path), "/containers/%s/archive?path=%%2Frun%%2Fsecrets%s", id,
                 by_engine ? "&copyUIDGID=1" : "");
        struct orch__ans a;
        rc = orch__docker_call(d, &r, &a, e);
        if (!rc && a.status >= 300)
            rc = orch__docker_fail(d, &a, "copying secrets", e);
        orch__ans_release(&a);
    }
    if (tar.ptr)
        memset(tar.ptr, 0, tar.len);
    cc_buf_release(&tar);
    return rc;
}
