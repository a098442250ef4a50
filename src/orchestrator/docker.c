/*
 * docker.c - the docker driver (driver.h) over the Docker Engine API:
 * lifecycle, networks, volumes and builds. Secrets are copied in by
 * docker_secrets.c; logs, exec and stats are in docker_io.c, the transport
 * in docker_api.c.
 *
 * Names follow Compose so `docker ps` reads naturally: containers
 * <project>-<service>-1, networks <project>_<name> (<project>_default for
 * services that list none), volumes <project>_<name>, built images
 * <project>-<service> unless the service names its image.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "orchestrator/docker_int.h"


static struct orch__docker *dk(struct orch_driver *d)
{
    return (struct orch__docker *)d;
}

static cc_err dk_open(const struct orch_driver_cfg *cfg, struct orch_driver **out,
                      struct orch_err *e)
{
    const char *host = cfg && cfg->docker_host && *cfg->docker_host ? cfg->docker_host : NULL;
    if (!host)
        host = getenv("DOCKER_HOST");
    if (!host || !*host)
        host = "unix:///var/run/docker.sock";
    struct orch__docker *d = cc_xcalloc(1, sizeof(*d));
    d->base.ops = &orch_docker_ops;
    d->log = cfg ? cfg->log : NULL;
    snprintf(d->host, sizeof(d->host), "%s", host);
    if (strncmp(host, "unix://", 7) == 0) {
        const char *path = host + 7;
        if (*path != '/' || strlen(path) >= sizeof(d->unix_path)) {
            free(d);
            return orch_errf(e, CC_EINVAL,
                             "use unix:///absolute/path (at most 107 bytes) or "
                             "tcp://127.0.0.1:2375",
                             "bad docker host \"%s\"", host);
        }
        snprintf(d->unix_path, sizeof(d->unix_path), "%s", path);
        snprintf(d->base_url, sizeof(d->base_url), "http://docker");
    } else if (strncmp(host, "tcp://", 6) == 0 && host[6] &&
               strlen(host) < sizeof(d->base_url) - 8 && !strchr(host + 6, '/')) {
        snprintf(d->base_url, sizeof(d->base_url), "http://%s", host + 6);
    } else {
        free(d);
        return orch_errf(e, CC_EINVAL,
                         "use unix:///path or tcp://host:port (TLS endpoints are not supported)",
                         "bad docker host \"%s\"", host);
    }
    pthread_mutex_init(&d->mu, NULL);
    *out = &d->base;
    return CC_OK;
}

static void dk_close(struct orch_driver *drv)
{
    if (!drv)
        return;
    struct orch__docker *d = dk(drv);
    pthread_mutex_destroy(&d->mu);
    free(d);
}

static cc_err dk_ping(struct orch_driver *drv, struct orch_err *e)
{
    return orch__docker_ping(dk(drv), e);
}

/* ---- helpers ----------------------------------------------------------- */

static cc_err call_json(struct orch__docker *d, const char *method, const char *path,
                        json_t *body, bool idempotent, struct orch__ans *a, struct orch_err *e)
{
    struct orch__req r = {.method = method, .idempotent = idempotent};
    snprintf(r.path, sizeof(r.path), "%s", path);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (text) {
        r.body = text;
        r.body_len = strlen(text);
    }
    cc_err rc = orch__docker_call(d, &r, a, e);
    free(text);
    return rc;
}

static void container_name(const char *project, const char *service, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s-%s-1", project, service);
}

static const struct orch_network *find_network(const struct orch_stack *s, const char *name)
{
    for (size_t i = 0; i < s->nnetworks; i++)
        if (!strcmp(s->networks[i].name, name))
            return &s->networks[i];
    return NULL;
}

static void network_name(const char *project, const struct orch_stack *s, const char *name,
                         char *out, size_t outsz)
{
    const struct orch_network *n = find_network(s, name);
    if (n && n->external)
        snprintf(out, outsz, "%s", name);
    else
        snprintf(out, outsz, "%s_%s", project, name);
}

static void volume_name(const char *project, const struct orch_stack *s, const char *name,
                        char *out, size_t outsz)
{
    for (size_t i = 0; i < s->nvolumes; i++)
        if (!strcmp(s->volumes[i].name, name) && s->volumes[i].external) {
            snprintf(out, outsz, "%s", name);
            return;
        }
    snprintf(out, outsz, "%s_%s", project, name);
}

static bool uses_default_network(const struct orch_service *svc)
{
    return svc->nnetworks == 0 && !svc->network_mode;
}

static void image_of(const char *project, const struct orch_service *svc, char *out,
                     size_t outsz)
{
    if (svc->image)
        snprintf(out, outsz, "%s", svc->image);
    else
        snprintf(out, outsz, "%s-%s", project, svc->name);
}

/* ---- networks and volumes ---------------------------------------------- */

static cc_err ensure_network(struct orch__docker *d, const char *project, const char *logical,
                             const char *full, const struct orch_network *n, struct orch_err *e)
{
    char path[600], enc[400];
    orch__urlenc(full, enc, sizeof(enc));
    snprintf(path, sizeof(path), "/networks/%s", enc);
    struct orch__ans a;
    cc_err rc = call_json(d, "GET", path, NULL, true, &a, e);
    if (rc)
        return rc;
    long st = a.status;
    orch__ans_release(&a);
    if (st == 200)
        return CC_OK;
    if (st != 404)
        return orch__docker_fail(d, &a, full, e);
    if (n && n->external)
        return orch_errf(e, CC_ENOTFOUND, "create it (docker network create) or drop `external`",
                         "external network \"%s\" not found", full);
    json_t *body = json_pack("{s:s, s:s, s:b, s:b, s:{s:s, s:s, s:s}}", "Name", full, "Driver",
                             n && n->driver ? n->driver : "bridge", "Internal",
                             n && n->internal, "CheckDuplicate", 1, "Labels",
                             ORCH_LABEL_PROJECT, project, "com.docker.compose.network", logical,
                             ORCH_LABEL_MANAGED, "true");
    rc = call_json(d, "POST", "/networks/create", body, false, &a, e);
    json_decref(body);
    if (!rc && a.status >= 300 && a.status != 409)
        rc = orch__docker_fail(d, &a, full, e);
    orch__ans_release(&a);
    return rc;
}

static cc_err ensure_volume(struct orch__docker *d, const char *project,
                            const struct orch_volume *v, struct orch_err *e)
{
    char full[400];
    snprintf(full, sizeof(full), "%s_%s", project, v->name);
    struct orch__ans a;
    cc_err rc;
    if (v->external) {
        char path[600], enc[400];
        orch__urlenc(v->name, enc, sizeof(enc));
        snprintf(path, sizeof(path), "/volumes/%s", enc);
        rc = call_json(d, "GET", path, NULL, true, &a, e);
        if (!rc && a.status == 404)
            rc = orch_errf(e, CC_ENOTFOUND, "create it (docker volume create) or drop `external`",
                           "external volume \"%s\" not found", v->name);
        else if (!rc && a.status >= 300)
            rc = orch__docker_fail(d, &a, v->name, e);
        orch__ans_release(&a);
        return rc;
    }
    json_t *body = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}}", "Name", full, "Driver",
                             v->driver ? v->driver : "local", "Labels", ORCH_LABEL_PROJECT,
                             project, "com.docker.compose.volume", v->name, ORCH_LABEL_MANAGED,
                             "true");
    rc = call_json(d, "POST", "/volumes/create", body, false, &a, e);
    json_decref(body);
    if (!rc && a.status >= 300)
        rc = orch__docker_fail(d, &a, full, e);
    orch__ans_release(&a);
    return rc;
}

/* ---- builds ------------------------------------------------------------ */

struct build_ctx {
    struct orch__jsonl jl;
    orch_progress_cb cb;
    void *arg;
    char error[400];
};

static bool build_line(void *arg, json_t *v)
{
    struct build_ctx *b = arg;
    if (!v)
        return true;
    const json_t *ed = json_object_get(v, "errorDetail");
    const char *err = json_string_value(json_object_get(ed, "message"));
    if (!err)
        err = json_string_value(json_object_get(v, "error"));
    if (err) {
        snprintf(b->error, sizeof(b->error), "%s", err);
        return true;
    }
    const char *text = json_string_value(json_object_get(v, "stream"));
    if (!text)
        text = json_string_value(json_object_get(v, "status"));
    if (text && b->cb) {
        char line[1024];
        snprintf(line, sizeof(line), "%s", text);
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n)
            b->cb(b->arg, line);
    }
    return true;
}

static bool build_body(void *arg, const char *p, size_t n)
{
    struct build_ctx *b = arg;
    return orch__jsonl_feed(&b->jl, p, n, build_line, b);
}

static cc_err build_image(struct orch__docker *d, const char *project,
                          const struct orch_service *svc, orch_progress_cb cb, void *arg,
                          struct orch_err *e)
{
    char tag[512], enc[1600], why[512];
    image_of(project, svc, tag, sizeof(tag));
    struct cc_buf tar;
    cc_buf_init(&tar, (size_t)512 << 20);
    cc_err rc = orch__tar_context(svc->build.context, &tar, why, sizeof(why));
    if (rc) {
        cc_buf_release(&tar);
        return orch_errf(e, rc == CC_ELIMIT ? CC_ELIMIT : CC_EINVAL,
                         "fix build.context of the service (a .dockerignore keeps it small)",
                         "service %s: %s", svc->name, why);
    }
    struct orch__req r = {.method = "POST", .ctype = "application/x-tar", .body = tar.ptr,
                          .body_len = tar.len, .timeout_ms = 60000};
    int n = snprintf(r.path, sizeof(r.path), "/build?rm=1&forcerm=1&t=");
    orch__urlenc(tag, enc, sizeof(enc));
    n += snprintf(r.path + n, sizeof(r.path) - (size_t)n, "%s", enc);
    if (svc->build.dockerfile) {
        orch__urlenc(svc->build.dockerfile, enc, sizeof(enc));
        n += snprintf(r.path + n, sizeof(r.path) - (size_t)n, "&dockerfile=%s", enc);
    }
    if (svc->build.args.n) {
        json_t *args = json_object();
        for (size_t i = 0; i < svc->build.args.n; i++)
            if (svc->build.args.v[i].value)
                json_object_set_new(args, svc->build.args.v[i].key,
                                    json_string(svc->build.args.v[i].value));
        char *text = json_dumps(args, JSON_COMPACT);
        json_decref(args);
        orch__urlenc(text, enc, sizeof(enc));
        free(text);
        n += snprintf(r.path + n, sizeof(r.path) - (size_t)n, "&buildargs=%s", enc);
    }
    if ((size_t)n >= sizeof(r.path)) {
        cc_buf_release(&tar);
        return orch_errf(e, CC_ELIMIT, "use fewer or shorter build args",
                         "service %s: the build request is too long", svc->name);
    }
    struct build_ctx b = {.cb = cb, .arg = arg};
    orch__jsonl_init(&b.jl);
    struct orch__ans a;
    rc = orch__docker_stream(d, &r, build_body, &b, NULL, 30 * 60 * 1000, &a, e);
    if (!rc)
        orch__jsonl_flush(&b.jl, build_line, &b);
    orch__jsonl_release(&b.jl);
    cc_buf_release(&tar);
    if (!rc && a.status >= 300)
        rc = orch__docker_fail(d, &a, "build", e);
    else if (!rc && b.error[0])
        rc = orch_errf(e, CC_EINVAL, "fix the Dockerfile or the build context",
                       "service %s: build failed: %s", svc->name, b.error);
    orch__ans_release(&a);
    return rc;
}

static cc_err check_secret(const struct orch_secret *sec, struct orch_err *e)
{
    if (sec->external || !sec->file)
        return CC_OK;
    if (access(sec->file, R_OK))
        return orch_errf(e, CC_EINVAL, "create the file or fix `secrets.<name>.file`",
                         "secret %s: cannot read %s: %s", sec->name, sec->file, strerror(errno));
    return CC_OK;
}

static cc_err dk_prepare(struct orch_driver *drv, const char *project, const struct orch_stack *s,
                         orch_progress_cb cb, void *arg, struct orch_err *e)
{
    struct orch__docker *d = dk(drv);
    char full[400];
    cc_err rc = CC_OK;
    for (size_t i = 0; !rc && i < s->nnetworks; i++) {
        network_name(project, s, s->networks[i].name, full, sizeof(full));
        rc = ensure_network(d, project, s->networks[i].name, full, &s->networks[i], e);
    }
    bool need_default = false;
    for (size_t i = 0; i < s->nservices; i++)
        need_default |= uses_default_network(&s->services[i]);
    if (!rc && need_default && !find_network(s, "default")) {
        snprintf(full, sizeof(full), "%s_default", project);
        rc = ensure_network(d, project, "default", full, NULL, e);
    }
    for (size_t i = 0; !rc && i < s->nvolumes; i++)
        rc = ensure_volume(d, project, &s->volumes[i], e);
    for (size_t i = 0; !rc && i < s->nsecrets; i++)
        rc = check_secret(&s->secrets[i], e);
    for (size_t i = 0; !rc && i < s->nservices; i++)
        if (s->services[i].has_build)
            rc = build_image(d, project, &s->services[i], cb, arg, e);
    return rc;
}

static cc_err dk_teardown(struct orch_driver *drv, const char *project,
                          const struct orch_stack *s, struct orch_err *e)
{
    struct orch__docker *d = dk(drv);
    char full[400], enc[400], path[600];
    cc_err first = CC_OK;
    for (size_t i = 0; i <= s->nnetworks; i++) {
        if (i < s->nnetworks) {
            if (s->networks[i].external)
                continue;
            network_name(project, s, s->networks[i].name, full, sizeof(full));
        } else {
            if (find_network(s, "default"))
                continue;
            snprintf(full, sizeof(full), "%s_default", project);
        }
        orch__urlenc(full, enc, sizeof(enc));
        snprintf(path, sizeof(path), "/networks/%s", enc);
        struct orch__ans a;
        struct orch_err tmp;
        cc_err rc = call_json(d, "DELETE", path, NULL, true, &a, first ? &tmp : e);
        if (!rc && a.status >= 300 && a.status != 404)
            rc = orch__docker_fail(d, &a, full, first ? &tmp : e);
        orch__ans_release(&a);
        if (rc && !first)
            first = rc;
    }
    return first;
}

/* ---- create ------------------------------------------------------------ */

static json_t *strs(const struct orch_strs *s)
{
    json_t *a = json_array();
    for (size_t i = 0; i < s->n; i++)
        json_array_append_new(a, json_string(s->v[i]));
    return a;
}

static json_t *create_body(const struct orch_spec *spec, const char *image, const char *first_net)
{
    const struct orch_service *svc = spec->svc;
    const struct orch_stack *st = spec->stack;
    json_t *labels = json_object();
    for (size_t i = 0; i < svc->labels.n; i++)
        if (svc->labels.v[i].value)
            json_object_set_new(labels, svc->labels.v[i].key, json_string(svc->labels.v[i].value));
    json_object_set_new(labels, ORCH_LABEL_PROJECT, json_string(spec->project));
    json_object_set_new(labels, ORCH_LABEL_SERVICE, json_string(svc->name));
    json_object_set_new(labels, ORCH_LABEL_HASH, json_string(spec->config_hash ? spec->config_hash : ""));
    json_object_set_new(labels, ORCH_LABEL_MANAGED, json_string("true"));
    json_object_set_new(labels, "com.docker.compose.container-number", json_string("1"));

    json_t *env = json_array();
    for (size_t i = 0; i < svc->environment.n; i++) {
        const struct orch_kv *kv = &svc->environment.v[i];
        if (!kv->value)
            continue;
        size_t n = strlen(kv->key) + strlen(kv->value) + 2;
        char *s = cc_xmalloc(n);
        snprintf(s, n, "%s=%s", kv->key, kv->value);
        json_array_append_new(env, json_string(s));
        free(s);
    }

    json_t *body = json_object();
    json_object_set_new(body, "Image", json_string(image));
    json_object_set_new(body, "Labels", labels);
    json_object_set_new(body, "Env", env);
    if (svc->has_command)
        json_object_set_new(body, "Cmd", strs(&svc->command));
    if (svc->has_entrypoint)
        json_object_set_new(body, "Entrypoint", strs(&svc->entrypoint));
    if (svc->working_dir)
        json_object_set_new(body, "WorkingDir", json_string(svc->working_dir));
    if (svc->user)
        json_object_set_new(body, "User", json_string(svc->user));
    if (svc->stop_grace_ns >= 0)
        json_object_set_new(body, "StopTimeout",
                            json_integer((svc->stop_grace_ns + 999999999) / 1000000000));
    json_object_set_new(body, "Hostname", json_string(svc->name));

    json_t *hc = json_object();
    json_object_set_new(hc, "RestartPolicy", json_pack("{s:s}", "Name", "no"));
    json_object_set_new(hc, "ReadonlyRootfs", json_boolean(svc->read_only));
    json_object_set_new(hc, "Privileged", json_boolean(svc->privileged));
    if (svc->init >= 0)
        json_object_set_new(hc, "Init", json_boolean(svc->init == 1));
    if (svc->cap_add.n)
        json_object_set_new(hc, "CapAdd", strs(&svc->cap_add));
    if (svc->cap_drop.n)
        json_object_set_new(hc, "CapDrop", strs(&svc->cap_drop));
    if (svc->security_opt.n)
        json_object_set_new(hc, "SecurityOpt", strs(&svc->security_opt));
    if (spec->limits.cpus > 0)
        json_object_set_new(hc, "NanoCpus", json_integer((json_int_t)(spec->limits.cpus * 1e9)));
    if (spec->limits.memory > 0) {
        /* no swap beyond the limit, or a hog swaps instead of being killed */
        json_object_set_new(hc, "Memory", json_integer(spec->limits.memory));
        json_object_set_new(hc, "MemorySwap", json_integer(spec->limits.memory));
    }
    if (spec->limits.pids > 0)
        json_object_set_new(hc, "PidsLimit", json_integer(spec->limits.pids));
    if (svc->reservations.memory > 0)
        json_object_set_new(hc, "MemoryReservation", json_integer(svc->reservations.memory));

    if (svc->tmpfs.n) {
        json_t *t = json_object();
        for (size_t i = 0; i < svc->tmpfs.n; i++) {
            char path[1024];
            snprintf(path, sizeof(path), "%s", svc->tmpfs.v[i]);
            char *colon = strchr(path, ':');
            const char *opts = "";
            if (colon) {
                *colon = '\0';
                opts = colon + 1;
            }
            json_object_set_new(t, path, json_string(opts));
        }
        json_object_set_new(hc, "Tmpfs", t);
    }

    json_t *mounts = json_array();
    bool secrets_mounted = false;
    for (size_t i = 0; i < svc->nvolumes; i++) {
        const struct orch_mount *m = &svc->volumes[i];
        json_t *o = json_pack("{s:s, s:b}", "Target", m->target, "ReadOnly", m->read_only);
        if (!strcmp(m->target, "/run/secrets"))
            secrets_mounted = true;
        if (m->type == ORCH_MOUNT_BIND) {
            json_object_set_new(o, "Type", json_string("bind"));
            json_object_set_new(o, "Source", json_string(m->source));
        } else if (m->type == ORCH_MOUNT_TMPFS) {
            json_object_set_new(o, "Type", json_string("tmpfs"));
        } else {
            json_object_set_new(o, "Type", json_string("volume"));
            if (m->source) {
                char full[400];
                volume_name(spec->project, st, m->source, full, sizeof(full));
                json_object_set_new(o, "Source", json_string(full));
            }
        }
        json_array_append_new(mounts, o);
    }
    /* Secrets are copied in after create; a read-only root refuses copies
     * except into a mount, so they get one of their own. */
    if (svc->nsecrets && !secrets_mounted)
        json_array_append_new(mounts, json_pack("{s:s, s:s}", "Type", "volume", "Target",
                                                "/run/secrets"));
    json_object_set_new(hc, "Mounts", mounts);

    if (svc->nports) {
        json_t *exposed = json_object(), *bind = json_object();
        for (size_t i = 0; i < svc->nports; i++) {
            const struct orch_port *p = &svc->ports[i];
            char key[64];
            snprintf(key, sizeof(key), "%u/%s", p->target, p->protocol ? p->protocol : "tcp");
            json_object_set_new(exposed, key, json_object());
            json_t *list = json_object_get(bind, key);
            if (!list) {
                list = json_array();
                json_object_set_new(bind, key, list);
            }
            json_array_append_new(list, json_pack("{s:s, s:s}", "HostIp",
                                                  p->host_ip ? p->host_ip : "", "HostPort",
                                                  p->published ? p->published : ""));
        }
        json_object_set_new(body, "ExposedPorts", exposed);
        json_object_set_new(hc, "PortBindings", bind);
    }

    if (svc->network_mode) {
        char mode[400];
        if (strncmp(svc->network_mode, "service:", 8) == 0)
            snprintf(mode, sizeof(mode), "container:%s-%s-1", spec->project,
                     svc->network_mode + 8);
        else
            snprintf(mode, sizeof(mode), "%s", svc->network_mode);
        json_object_set_new(hc, "NetworkMode", json_string(mode));
    } else if (first_net) {
        json_object_set_new(hc, "NetworkMode", json_string(first_net));
    }
    json_object_set_new(body, "HostConfig", hc);
    return body;
}

static json_t *endpoint_config(const struct orch_service *svc, const struct orch_net_ref *ref)
{
    json_t *aliases = json_array();
    json_array_append_new(aliases, json_string(svc->name));
    for (size_t i = 0; ref && i < ref->aliases.n; i++)
        json_array_append_new(aliases, json_string(ref->aliases.v[i]));
    return json_pack("{s:o}", "Aliases", aliases);
}

static cc_err remove_named(struct orch__docker *d, const char *name, struct orch_err *e)
{
    char path[600], enc[400];
    orch__urlenc(name, enc, sizeof(enc));
    snprintf(path, sizeof(path), "/containers/%s?force=1&v=1", enc);
    struct orch__ans a;
    cc_err rc = call_json(d, "DELETE", path, NULL, true, &a, e);
    if (!rc && a.status >= 300 && a.status != 404)
        rc = orch__docker_fail(d, &a, name, e);
    orch__ans_release(&a);
    return rc;
}

static cc_err dk_inspect(struct orch_driver *drv, const char *id, orch_inst_cb cb, void *arg,
                         struct orch_err *e);

static cc_err dk_create(struct orch_driver *drv, const struct orch_spec *spec, orch_inst_cb cb,
                        void *arg, struct orch_err *e)
{
    struct orch__docker *d = dk(drv);
    const struct orch_service *svc = spec->svc;
    char name[400], image[512], first[400] = "", enc[400];
    if (!svc->image && !svc->has_build)
        return orch_errf(e, CC_EINVAL, "set image: or build: for it (only the process driver "
                         "runs a service from its command alone)",
                         "service %s has neither an image nor a build", svc->name);
    container_name(spec->project, svc->name, name, sizeof(name));
    image_of(spec->project, svc, image, sizeof(image));
    cc_err rc = remove_named(d, name, e);
    if (rc)
        return rc;
    const struct orch_net_ref *first_ref = NULL;
    if (!svc->network_mode) {
        if (svc->nnetworks) {
            first_ref = &svc->networks[0];
            network_name(spec->project, spec->stack, first_ref->name, first, sizeof(first));
        } else {
            snprintf(first, sizeof(first), "%s_default", spec->project);
        }
    }
    json_t *body = create_body(spec, image, first[0] ? first : NULL);
    if (first[0]) {
        json_t *ep = json_object();
        json_object_set_new(ep, first, endpoint_config(svc, first_ref));
        json_object_set_new(body, "NetworkingConfig", json_pack("{s:o}", "EndpointsConfig", ep));
    }
    orch__urlenc(name, enc, sizeof(enc));
    char path[600];
    snprintf(path, sizeof(path), "/containers/create?name=%s", enc);
    struct orch__ans a;
    rc = call_json(d, "POST", path, body, false, &a, e);
    json_decref(body);
    if (rc)
        return rc;
    if (a.status >= 300) {
        char what[500];
        snprintf(what, sizeof(what), "service %s", svc->name);
        rc = orch__docker_fail(d, &a, what, e);
        orch__ans_release(&a);
        return rc;
    }
    char id[128];
    snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(a.json, "Id")) ?: "");
    orch__ans_release(&a);
    if (!id[0])
        return orch_errf(e, CC_EUPSTREAM, NULL, "the engine created %s without an id", name);
    /* Further networks: one per connect call (API < 1.44 takes one at create). */
    for (size_t i = 1; !rc && !svc->network_mode && i < svc->nnetworks; i++) {
        char net[400], np[600];
        network_name(spec->project, spec->stack, svc->networks[i].name, net, sizeof(net));
        orch__urlenc(net, enc, sizeof(enc));
        snprintf(np, sizeof(np), "/networks/%s/connect", enc);
        json_t *cb_body = json_pack("{s:s, s:o}", "Container", id, "EndpointConfig",
                                    endpoint_config(svc, &svc->networks[i]));
        rc = call_json(d, "POST", np, cb_body, false, &a, e);
        json_decref(cb_body);
        if (!rc && a.status >= 300)
            rc = orch__docker_fail(d, &a, net, e);
        orch__ans_release(&a);
    }
    if (!rc)
        rc = orch__docker_copy_secrets(d, spec, id, e);
    if (rc) {
        remove_named(d, id, NULL);
        return rc;
    }
    return dk_inspect(drv, id, cb, arg, e);
}

/* ---- start, stop, remove, inspect, list ---------------------------------- */

static cc_err simple(struct orch__docker *d, const char *method, const char *id,
                     const char *suffix, int64_t timeout_ms, bool idempotent, struct orch_err *e)
{
    char enc[400];
    orch__urlenc(id, enc, sizeof(enc));
    struct orch__req r = {.method = method, .timeout_ms = timeout_ms, .idempotent = idempotent};
    snprintf(r.path, sizeof(r.path), "/containers/%s%s", enc, suffix);
    struct orch__ans a;
    cc_err rc = orch__docker_call(d, &r, &a, e);
    if (!rc && a.status >= 300 && a.status != 304) {
        char what[500];
        snprintf(what, sizeof(what), "container %s", id);
        rc = orch__docker_fail(d, &a, what, e);
    }
    orch__ans_release(&a);
    return rc;
}

static int64_t mono_ms(void)
{
    return cc_mono_ms(cc_clock_system());
}

/* The address cache (struct orch__docker.addrs). */
static bool addr_get(struct orch__docker *d, const char *id, char *ip, size_t ipsz)
{
    bool hit = false;
    int64_t now = mono_ms();
    pthread_mutex_lock(&d->mu);
    for (size_t i = 0; i < ORCH_DOCKER_ADDR_CACHE; i++) {
        struct orch__addr *a = &d->addrs[i];
        if (a->at_ms && strcmp(a->id, id) == 0) {
            hit = now - a->at_ms < ORCH_DOCKER_ADDR_TTL_MS;
            if (hit)
                snprintf(ip, ipsz, "%s", a->ip);
            else
                a->at_ms = 0;
            break;
        }
    }
    pthread_mutex_unlock(&d->mu);
    return hit;
}

static void addr_put(struct orch__docker *d, const char *id, const char *ip)
{
    if (strlen(id) >= sizeof(d->addrs[0].id) || strlen(ip) >= sizeof(d->addrs[0].ip))
        return;
    int64_t now = mono_ms();
    pthread_mutex_lock(&d->mu);
    struct orch__addr *slot = &d->addrs[0];
    for (size_t i = 0; i < ORCH_DOCKER_ADDR_CACHE; i++) {
        struct orch__addr *a = &d->addrs[i];
        if (!a->at_ms || strcmp(a->id, id) == 0) {
            slot = a;
            break;
        }
        if (a->at_ms < slot->at_ms)
            slot = a;   /* the oldest goes when the cache is full */
    }
    snprintf(slot->id, sizeof(slot->id), "%s", id);
    snprintf(slot->ip, sizeof(slot->ip), "%s", ip);
    slot->at_ms = now;
    pthread_mutex_unlock(&d->mu);
}

static void addr_drop(struct orch__docker *d, const char *id)
{
    pthread_mutex_lock(&d->mu);
    for (size_t i = 0; i < ORCH_DOCKER_ADDR_CACHE; i++)
        if (d->addrs[i].at_ms && strcmp(d->addrs[i].id, id) == 0)
            d->addrs[i].at_ms = 0;
    pthread_mutex_unlock(&d->mu);
}

static cc_err dk_start(struct orch_driver *drv, const char *id, struct orch_err *e)
{
    addr_drop(dk(drv), id);
    return simple(dk(drv), "POST", id, "/start", 60000, false, e);
}

static cc_err dk_stop(struct orch_driver *drv, const char *id, int64_t grace_ns,
                      struct orch_err *e)
{
    addr_drop(dk(drv), id);
    int64_t secs = grace_ns > 0 ? (grace_ns + 999999999) / 1000000000 : 0;
    char suffix[64];
    snprintf(suffix, sizeof(suffix), "/stop?t=%" PRId64, secs);
    return simple(dk(drv), "POST", id, suffix, secs * 1000 + 30000, true, e);
}

static cc_err dk_remove(struct orch_driver *drv, const char *id, struct orch_err *e)
{
    addr_drop(dk(drv), id);
    return simple(dk(drv), "DELETE", id, "?force=1&v=1", 60000, true, e);
}

static int64_t time_ms(const char *s)
{
    if (!s || strncmp(s, "0001-", 5) == 0)
        return 0;
    int64_t ns = orch__parse_time_ns(s, strlen(s), NULL);
    return ns > 0 ? ns / 1000000 : 0;
}

static void report(const json_t *j, orch_inst_cb cb, void *arg)
{
    const json_t *state = json_object_get(j, "State");
    const json_t *labels = json_object_get(json_object_get(j, "Config"), "Labels");
    const char *status = json_string_value(json_object_get(state, "Status"));
    struct orch_inst i = {
        .id = json_string_value(json_object_get(j, "Id")),
        .project = json_string_value(json_object_get(labels, ORCH_LABEL_PROJECT)),
        .service = json_string_value(json_object_get(labels, ORCH_LABEL_SERVICE)),
        .config_hash = json_string_value(json_object_get(labels, ORCH_LABEL_HASH)),
        .exit_code = (int)json_integer_value(json_object_get(state, "ExitCode")),
        .oom_killed = json_is_true(json_object_get(state, "OOMKilled")),
        .started_ms = time_ms(json_string_value(json_object_get(state, "StartedAt"))),
        .finished_ms = time_ms(json_string_value(json_object_get(state, "FinishedAt"))),
        .pid = (int)json_integer_value(json_object_get(state, "Pid")),
    };
    if (!status || !strcmp(status, "created"))
        i.state = ORCH_RUN_CREATED;
    else if (!strcmp(status, "running") || !strcmp(status, "paused") ||
             !strcmp(status, "restarting"))
        i.state = ORCH_RUN_RUNNING;
    else
        i.state = ORCH_RUN_EXITED;   /* exited, dead, removing */
    if (i.state == ORCH_RUN_CREATED && i.started_ms)
        i.state = ORCH_RUN_EXITED;
    if (cb)
        cb(arg, &i);
}

cc_err orch__docker_inspect_json(struct orch__docker *d, const char *id, json_t **out,
                                 struct orch_err *e)
{
    char path[600], enc[400];
    orch__urlenc(id, enc, sizeof(enc));
    snprintf(path, sizeof(path), "/containers/%s/json", enc);
    struct orch__ans a;
    cc_err rc = call_json(d, "GET", path, NULL, true, &a, e);
    if (rc)
        return rc;
    if (a.status != 200 || !json_is_object(a.json)) {
        char what[500];
        snprintf(what, sizeof(what), "container %s", id);
        rc = a.status == 200 ? orch_errf(e, CC_EUPSTREAM, NULL, "the engine's inspect of %s is not JSON", id)
                             : orch__docker_fail(d, &a, what, e);
        orch__ans_release(&a);
        return rc;
    }
    *out = a.json;
    return CC_OK;
}

static cc_err dk_inspect(struct orch_driver *drv, const char *id, orch_inst_cb cb, void *arg,
                         struct orch_err *e)
{
    json_t *j = NULL;
    cc_err rc = orch__docker_inspect_json(dk(drv), id, &j, e);
    if (rc)
        return rc;
    report(j, cb, arg);
    json_decref(j);
    return CC_OK;
}

static cc_err dk_list(struct orch_driver *drv, const char *project, orch_inst_cb cb, void *arg,
                      struct orch_err *e)
{
    struct orch__docker *d = dk(drv);
    json_t *labels = json_array();
    json_array_append_new(labels, json_string(ORCH_LABEL_MANAGED "=true"));
    if (project) {
        char l[400];
        snprintf(l, sizeof(l), "%s=%s", ORCH_LABEL_PROJECT, project);
        json_array_append_new(labels, json_string(l));
    }
    json_t *filters = json_pack("{s:o}", "label", labels);
    char *ftext = json_dumps(filters, JSON_COMPACT);
    json_decref(filters);
    char enc[1200], path[1400];
    orch__urlenc(ftext, enc, sizeof(enc));
    free(ftext);
    snprintf(path, sizeof(path), "/containers/json?all=1&filters=%s", enc);
    struct orch__ans a;
    cc_err rc = call_json(d, "GET", path, NULL, true, &a, e);
    if (rc)
        return rc;
    if (a.status != 200 || !json_is_array(a.json)) {
        rc = orch__docker_fail(d, &a, "listing containers", e);
        orch__ans_release(&a);
        return rc;
    }
    size_t i;
    json_t *c;
    json_array_foreach(a.json, i, c) {
        const char *id = json_string_value(json_object_get(c, "Id"));
        if (!id)
            continue;
        struct orch_err tmp;
        json_t *j = NULL;
        cc_err irc = orch__docker_inspect_json(d, id, &j, &tmp);
        if (irc == CC_ENOTFOUND)      /* removed between the list and now */
            continue;
        if (irc) {
            if (e)
                *e = tmp;
            rc = irc;
            break;
        }
        report(j, cb, arg);
        json_decref(j);
    }
    orch__ans_release(&a);
    return rc;
}

static cc_err dk_endpoint(struct orch_driver *drv, const char *id, unsigned port, char *host,
                          size_t hostsz, unsigned *port_out, struct orch_err *e)
{
    if (addr_get(dk(drv), id, host, hostsz)) {
        *port_out = port;
        return CC_OK;
    }
    json_t *j = NULL;
    cc_err rc = orch__docker_inspect_json(dk(drv), id, &j, e);
    if (rc)
        return rc;
    const json_t *hc = json_object_get(j, "HostConfig");
    const char *mode = json_string_value(json_object_get(hc, "NetworkMode"));
    const char *ip = NULL;
    if (mode && !strcmp(mode, "host")) {
        ip = "127.0.0.1";
    } else {
        const json_t *nets = json_object_get(json_object_get(j, "NetworkSettings"), "Networks");
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)nets, k, v) {
            const char *a = json_string_value(json_object_get(v, "IPAddress"));
            if (a && *a) {
                ip = a;
                break;
            }
        }
    }
    if (!ip) {
        rc = orch_errf(e, CC_ESTATE, "start the service, or give it a network",
                       "container %s has no address (not running, or network_mode none)", id);
    } else {
        snprintf(host, hostsz, "%s", ip);
        *port_out = port;
        addr_put(dk(drv), id, ip);
    }
    json_decref(j);
    return rc;
}

const struct orch_driver_ops orch_docker_ops = {
    .name = "docker",
    .open = dk_open,
    .close = dk_close,
    .ping = dk_ping,
    .prepare = dk_prepare,
    .teardown = dk_teardown,
    .create = dk_create,
    .start = dk_start,
    .stop = dk_stop,
    .remove = dk_remove,
    .inspect = dk_inspect,
    .list = dk_list,
    .exec = orch__docker_exec,
    .logs = orch__docker_logs,
    .stats = orch__docker_stats,
    .endpoint = dk_endpoint,
};
