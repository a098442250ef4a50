/*
 * compose_service.c - one service of the stack spec: a table of the keys
 * CommandCenter understands, each with its parser; anything else is warned
 * about and ignored. Short and long forms are both read into one typed form.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/yaml_guard.h"
#include "orchestrator/compose_int.h"

struct field {
    struct orch__parser *p;
    struct orch_service *s;
    struct fy_node *v;
    struct orch__pos kp;
    char what[320];           /* "services.web.ports" */
};

#define NOMEM(f) orch__fail((f)->p, (f)->kp, CC_ELIMIT, "out of memory for the stack")

static void *arr(struct field *f, struct fy_node *n, size_t each, size_t *count)
{
    int c = fy_node_is_sequence(n) ? fy_node_sequence_item_count(n)
          : fy_node_is_mapping(n) ? fy_node_mapping_item_count(n) : 1;
    *count = 0;
    return cc_arena_calloc(f->p->a, c > 0 ? (size_t)c : 1, each);
}

static cc_err want_mapping(struct field *f, struct fy_node *n)
{
    if (fy_node_is_mapping(n))
        return CC_OK;
    return orch__fail(f->p, orch__pos_of(n, f->kp), CC_EPARSE, "%s: expected a mapping",
                      f->what);
}

static cc_err str_field(struct field *f, char **out)
{
    return orch__scalar(f->p, f->v, f->kp, f->what, false, out);
}

static cc_err f_image(struct field *f) { return str_field(f, &f->s->image); }
static cc_err f_working_dir(struct field *f) { return str_field(f, &f->s->working_dir); }
static cc_err f_user(struct field *f) { return str_field(f, &f->s->user); }
static cc_err f_network_mode(struct field *f) { return str_field(f, &f->s->network_mode); }
static cc_err f_read_only(struct field *f) { return orch__bool(f->p, f->v, f->kp, f->what, &f->s->read_only); }
static cc_err f_privileged(struct field *f) { return orch__bool(f->p, f->v, f->kp, f->what, &f->s->privileged); }
static cc_err f_tmpfs(struct field *f) { return orch__strs(f->p, f->v, f->kp, f->what, &f->s->tmpfs); }
static cc_err f_cap_add(struct field *f) { return orch__strs(f->p, f->v, f->kp, f->what, &f->s->cap_add); }
static cc_err f_cap_drop(struct field *f) { return orch__strs(f->p, f->v, f->kp, f->what, &f->s->cap_drop); }
static cc_err f_security_opt(struct field *f) { return orch__strs(f->p, f->v, f->kp, f->what, &f->s->security_opt); }
static cc_err f_labels(struct field *f) { return orch__kvs(f->p, f->v, f->kp, f->what, &f->s->labels); }
static cc_err f_stop_grace(struct field *f) { return orch__duration(f->p, f->v, f->kp, f->what, &f->s->stop_grace_ns); }

static cc_err f_init(struct field *f)
{
    bool b = false;
    cc_err err = orch__bool(f->p, f->v, f->kp, f->what, &b);
    if (!err)
        f->s->init = b;
    return err;
}

static cc_err f_x_commandcenter(struct field *f)
{
    json_decref(f->s->x_commandcenter);
    f->s->x_commandcenter = orch__to_json(f->p, f->v, 0);
    return f->s->x_commandcenter ? CC_OK : CC_EPARSE;
}

/* command / entrypoint: a string is split like a shell would. */
static cc_err argv_field(struct field *f, struct orch_strs *out, bool *has)
{
    if (cc_yaml_is_null(f->v))
        return CC_OK;
    if (fy_node_is_sequence(f->v)) {
        cc_err err = orch__strs(f->p, f->v, f->kp, f->what, out);
        *has = !err;
        return err;
    }
    char *s = NULL;
    cc_err err = str_field(f, &s);
    if (err)
        return err;
    if (!orch__shell_split(f->p->a, s, out))
        return orch__fail(f->p, orch__pos_of(f->v, f->kp), CC_EPARSE, "%s: unterminated "
                          "quote; close it, or write the command as a list", f->what);
    *has = true;
    return CC_OK;
}

static cc_err f_command(struct field *f) { return argv_field(f, &f->s->command, &f->s->has_command); }
static cc_err f_entrypoint(struct field *f) { return argv_field(f, &f->s->entrypoint, &f->s->has_entrypoint); }

static cc_err f_build(struct field *f)
{
    struct orch_build *b = &f->s->build;
    f->s->has_build = true;
    if (fy_node_is_scalar(f->v)) {
        cc_err err = str_field(f, &b->context);
        if (!err)
            b->context = orch__path(f->p, b->context);
        return err;
    }
    cc_err err = want_mapping(f, f->v);
    void *it = NULL;
    struct fy_node_pair *pr;
    b->context = ".";
    while (!err && (pr = fy_node_mapping_iterate(f->v, &it)) != NULL) {
        char key[64];
        struct fy_node *v = fy_node_pair_value(pr);
        struct orch__pos kp = orch__pos_of(fy_node_pair_key(pr), f->kp);
        const char *k = orch__key(pr, key, sizeof(key));
        if (k && strcmp(k, "context") == 0)
            err = orch__scalar(f->p, v, kp, "build.context", false, &b->context);
        else if (k && strcmp(k, "dockerfile") == 0)
            err = orch__scalar(f->p, v, kp, "build.dockerfile", false, &b->dockerfile);
        else if (k && strcmp(k, "args") == 0)
            err = orch__kvs(f->p, v, kp, "build.args", &b->args);
        else
            orch__warn(f->p, kp, "%s: unsupported key '%s' ignored", f->what, k ? k : "?");
    }
    if (!err)
        b->context = orch__path(f->p, b->context);
    return err;
}

/* Reads one env_file and appends its pairs to *env. */
static cc_err env_file(struct field *f, const char *path, struct orch_kvs *env)
{
    char *full = orch__path(f->p, path);
    if (!f->p->dir && full[0] != '/')
        return orch__fail(f->p, orch__pos_of(f->v, f->kp), CC_EIO, "%s: '%s' cannot be "
                          "read (no base directory)", f->what, path);
    FILE *fp = fopen(full, "rb");
    if (!fp)
        return orch__fail(f->p, orch__pos_of(f->v, f->kp), CC_EIO, "%s: cannot read '%s'; "
                          "check the path (relative to the Compose file)", f->what, full);
    char *buf = cc_xmalloc(ORCH_COMPOSE_MAX_FILE + 1);
    size_t len = fread(buf, 1, ORCH_COMPOSE_MAX_FILE + 1, fp);
    fclose(fp);
    struct orch_kvs kvs = {0};
    unsigned bad = 0;
    cc_err err = len > ORCH_COMPOSE_MAX_FILE ? CC_ELIMIT
                                             : orch__dotenv_parse(f->p->a, buf, len, &kvs, &bad);
    free(buf);
    if (err)
        return orch__fail(f->p, orch__pos_of(f->v, f->kp), err, "%s: %s line %u is not "
                          "NAME=value", f->what, full, bad);
    struct orch_kv *all = cc_arena_calloc(f->p->a, env->n + kvs.n + 1, sizeof(*all));
    if (!all)
        return NOMEM(f);
    if (env->n)
        memcpy(all, env->v, env->n * sizeof(*all));
    if (kvs.n)
        memcpy(all + env->n, kvs.v, kvs.n * sizeof(*all));
    env->v = all;
    env->n += kvs.n;
    return CC_OK;
}

static cc_err f_env_file(struct field *f)
{
    struct orch_strs files = {0};
    cc_err err = orch__strs(f->p, f->v, f->kp, f->what, &files);
    for (size_t i = 0; !err && i < files.n; i++)
        err = env_file(f, files.v[i], &f->s->environment);
    return err;
}

static cc_err f_environment(struct field *f)
{
    struct orch_kvs kvs = {0};
    cc_err err = orch__kvs(f->p, f->v, f->kp, f->what, &kvs);
    if (err)
        return err;
    struct orch_kvs *env = &f->s->environment;
    struct orch_kv *all = cc_arena_calloc(f->p->a, env->n + kvs.n + 1, sizeof(*all));
    if (!all)
        return NOMEM(f);
    if (env->n)
        memcpy(all, env->v, env->n * sizeof(*all));
    for (size_t i = 0; i < kvs.n; i++) {
        struct orch_kv kv = kvs.v[i];
        if (!kv.value) /* "NAME" alone: from the environment, else unset */
            kv.value = (char *)orch__env_get(&f->p->env, kv.key, strlen(kv.key));
        all[env->n++] = kv;
    }
    env->v = all;
    return CC_OK;
}

/* ---------------------------------------------------------------------------
 * ports
 */

static bool port_number(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    if (n == 0 || n > 5)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v == 0 || v > 65535)
        return false;
    *out = v;
    return true;
}

static bool port_or_range(const char *s, size_t n)
{
    const char *dash = memchr(s, '-', n);
    unsigned a, b;
    if (!dash)
        return port_number(s, n, &a);
    return port_number(s, (size_t)(dash - s), &a) &&
           port_number(dash + 1, n - (size_t)(dash - s) - 1, &b) && a <= b;
}

/* "[HOST_IP:][PUBLISHED:]TARGET[/PROTOCOL]" */
static cc_err port_short(struct field *f, struct fy_node *n, struct orch_port *pt)
{
    char *s = NULL;
    cc_err err = orch__scalar(f->p, n, f->kp, f->what, false, &s);
    if (err)
        return err;
    struct orch__pos at = orch__pos_of(n, f->kp);
    char *proto = strrchr(s, '/');
    pt->protocol = "tcp";
    pt->mode = "ingress";
    if (proto) {
        *proto++ = '\0';
        pt->protocol = proto;
    }
    char *target = strrchr(s, ':');
    if (target) {
        *target++ = '\0';
        char *pub = strrchr(s, ':');
        if (pub) {
            *pub++ = '\0';
            size_t hl = strlen(s);
            if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') { /* [::1] */
                s[hl - 1] = '\0';
                s++;
            }
            pt->host_ip = s;
        } else {
            pub = s;
        }
        if (*pub && !port_or_range(pub, strlen(pub)))
            goto bad;
        pt->published = *pub ? pub : NULL;
    } else {
        target = s;
    }
    if (!port_number(target, strlen(target), &pt->target))
        goto bad;
    if (strcmp(pt->protocol, "tcp") != 0 && strcmp(pt->protocol, "udp") != 0 &&
        strcmp(pt->protocol, "sctp") != 0)
        return orch__fail(f->p, at, CC_EPARSE, "%s: protocol '%.20s' is not tcp, udp or "
                          "sctp", f->what, pt->protocol);
    return CC_OK;
bad:
    return orch__fail(f->p, at, CC_EPARSE, "%s: invalid port; write \"8080:80\", "
                      "\"127.0.0.1:8080:80/tcp\" or just \"80\" (ports 1-65535; container "
                      "port ranges are not supported)", f->what);
}

static cc_err port_long(struct field *f, struct fy_node *n, struct orch_port *pt)
{
    void *it = NULL;
    struct fy_node_pair *pr;
    cc_err err = CC_OK;
    pt->protocol = "tcp";
    pt->mode = "ingress";
    while (!err && (pr = fy_node_mapping_iterate(n, &it)) != NULL) {
        char key[64];
        struct fy_node *v = fy_node_pair_value(pr);
        struct orch__pos kp = orch__pos_of(fy_node_pair_key(pr), f->kp);
        const char *k = orch__key(pr, key, sizeof(key));
        long target = 0;
        if (k && strcmp(k, "target") == 0) {
            err = orch__long(f->p, v, kp, "ports.target", 1, 65535, &target);
            pt->target = (unsigned)target;
        } else if (k && strcmp(k, "published") == 0) {
            err = orch__scalar(f->p, v, kp, "ports.published", true, &pt->published);
            if (!err && pt->published && !port_or_range(pt->published, strlen(pt->published)))
                err = orch__fail(f->p, orch__pos_of(v, kp), CC_EPARSE, "ports.published: "
                                 "expected a port 1-65535 or a range like 8000-8010");
        } else if (k && strcmp(k, "host_ip") == 0) {
            err = orch__scalar(f->p, v, kp, "ports.host_ip", false, &pt->host_ip);
        } else if (k && strcmp(k, "protocol") == 0) {
            err = orch__scalar(f->p, v, kp, "ports.protocol", false, &pt->protocol);
        } else if (k && strcmp(k, "mode") == 0) {
            err = orch__scalar(f->p, v, kp, "ports.mode", false, &pt->mode);
        } else {
            orch__warn(f->p, kp, "%s: unsupported key '%s' ignored", f->what, k ? k : "?");
        }
    }
    if (!err && pt->target == 0)
        err = orch__fail(f->p, orch__pos_of(n, f->kp), CC_EPARSE, "%s: the long form needs "
                         "'target:' (the container port)", f->what);
    return err;
}

static cc_err f_ports(struct field *f)
{
    if (!fy_node_is_sequence(f->v))
        return orch__fail(f->p, orch__pos_of(f->v, f->kp), CC_EPARSE, "%s: expected a list "
                          "of ports", f->what);
    struct orch_service *s = f->s;
    if (!(s->ports = arr(f, f->v, sizeof(*s->ports), &s->nports)))
        return NOMEM(f);
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(f->v, &it)) != NULL) {
        struct orch_port *pt = &s->ports[s->nports];
        cc_err err = fy_node_is_mapping(item) ? port_long(f, item, pt) : port_short(f, item, pt);
        if (err)
            return err;
        s->nports++;
    }
    return CC_OK;
}

/* ---------------------------------------------------------------------------
 * volumes
 */

static bool is_host_path(const char *s)
{
    return s[0] == '/' || s[0] == '.' || s[0] == '~';
}

static char *host_path(struct field *f, const char *src)
{
    if (src[0] == '~') {
        const char *home = orch__env_get(&f->p->env, "HOME", 4);
        char *p = cc_arena_printf(f->p->a, "%s%s", home ? home : "", src + 1);
        return p ? p : (char *)src;
    }
    return orch__path(f->p, src);
}

/* "SRC:DST[:MODE]" or "DST" (an anonymous volume). */
static cc_err volume_short(struct field *f, struct fy_node *n, struct orch_mount *m)
{
    char *s = NULL;
    cc_err err = orch__scalar(f->p, n, f->kp, f->what, false, &s);
    if (err)
        return err;
    char *parts[4] = {s, NULL, NULL, NULL};
    size_t np = 1;
    for (char *c = s; *c && np < 4; c++)
        if (*c == ':') {
            *c = '\0';
            parts[np++] = c + 1;
        }
    m->type = ORCH_MOUNT_VOLUME;
    m->target = np == 1 ? parts[0] : parts[1];
    if (np == 3) {
        for (const char *o = parts[2]; *o;) {
            size_t ol = strcspn(o, ",");
            m->read_only = m->read_only || (ol == 2 && strncmp(o, "ro", 2) == 0);
            o += ol + (o[ol] == ',');
        }
    }
    if (np == 4 || !m->target[0] || m->target[0] != '/' || (np > 1 && !parts[0][0]))
        return orch__fail(f->p, orch__pos_of(n, f->kp), CC_EPARSE, "%s: write "
                          "\"name:/container/path[:ro]\" or \"./host/path:/container/path[:ro]\" "
                          "(the container path must be absolute)", f->what);
    if (np > 1 && is_host_path(parts[0])) {
        m->type = ORCH_MOUNT_BIND;
        m->source = host_path(f, parts[0]);
    } else if (np > 1) {
        m->source = parts[0];
    }
    return CC_OK;
}

static cc_err volume_long(struct field *f, struct fy_node *n, struct orch_mount *m)
{
    void *it = NULL;
    struct fy_node_pair *pr;
    cc_err err = CC_OK;
    char *type = "volume";
    while (!err && (pr = fy_node_mapping_iterate(n, &it)) != NULL) {
        char key[64];
        struct fy_node *v = fy_node_pair_value(pr);
        struct orch__pos kp = orch__pos_of(fy_node_pair_key(pr), f->kp);
        const char *k = orch__key(pr, key, sizeof(key));
        if (k && strcmp(k, "type") == 0)
            err = orch__scalar(f->p, v, kp, "volumes.type", false, &type);
        else if (k && strcmp(k, "source") == 0)
            err = orch__scalar(f->p, v, kp, "volumes.source", false, &m->source);
        else if (k && strcmp(k, "target") == 0)
            err = orch__scalar(f->p, v, kp, "volumes.target", false, &m->target);
        else if (k && strcmp(k, "read_only") == 0)
            err = orch__bool(f->p, v, kp, "volumes.read_only", &m->read_only);
        else
            orch__warn(f->p, kp, "%s: unsupported key '%s' ignored", f->what, k ? k : "?");
    }
    if (err)
        return err;
    struct orch__pos at = orch__pos_of(n, f->kp);
    if (strcmp(type, "volume") == 0)
        m->type = ORCH_MOUNT_VOLUME;
    else if (strcmp(type, "bind") == 0)
        m->type = ORCH_MOUNT_BIND;
    else if (strcmp(type, "tmpfs") == 0)
        m->type = ORCH_MOUNT_TMPFS;
    else
        return orch__fail(f->p, at, CC_EPARSE, "%s: type '%.20s' is not volume, bind or "
                          "tmpfs", f->what, type);
    if (!m->target || m->target[0] != '/')
        return orch__fail(f->p, at, CC_EPARSE, "%s: 'target:' must be an absolute path in "
                          "the container", f->what);
    if (m->type == ORCH_MOUNT_BIND && !m->source)
        return orch__fail(f->p, at, CC_EPARSE, "%s: a bind mount needs 'source:'", f->what);
    if (m->type == ORCH_MOUNT_BIND)
        m->source = host_path(f, m->source);
    return CC_OK;
}

static cc_err f_volumes(struct field *f)
{
    if (!fy_node_is_sequence(f->v))
        return orch__fail(f->p, orch__pos_of(f->v, f->kp), CC_EPARSE, "%s: expected a list "
                          "of mounts", f->what);
    struct orch_service *s = f->s;
    if (!(s->volumes = arr(f, f->v, sizeof(*s->volumes), &s->nvolumes)))
        return NOMEM(f);
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(f->v, &it)) != NULL) {
        struct orch_mount *m = &s->volumes[s->nvolumes];
        cc_err err = fy_node_is_mapping(item) ? volume_long(f, item, m)
                                              : volume_short(f, item, m);
        if (err)
            return err;
        s->nvolumes++;
    }
    return CC_OK;
}

/* ---------------------------------------------------------------------------
 * depends_on, healthcheck, restart
 */

static cc_err dep_long(struct field *f, struct fy_node *n, struct orch__pos kp,
                       struct orch_dep *d)
{
    if (cc_yaml_is_null(n))
        return CC_OK;
    cc_err err = want_mapping(f, n);
    void *it = NULL;
    struct fy_node_pair *pr;
    while (!err && (pr = fy_node_mapping_iterate(n, &it)) != NULL) {
        char key[64], *cond = NULL;
        struct fy_node *v = fy_node_pair_value(pr);
        struct orch__pos at = orch__pos_of(fy_node_pair_key(pr), kp);
        const char *k = orch__key(pr, key, sizeof(key));
        if (k && strcmp(k, "condition") == 0) {
            err = orch__scalar(f->p, v, at, "depends_on.condition", false, &cond);
            if (err)
                break;
            if (strcmp(cond, "service_started") == 0)
                d->condition = ORCH_COND_STARTED;
            else if (strcmp(cond, "service_healthy") == 0)
                d->condition = ORCH_COND_HEALTHY;
            else if (strcmp(cond, "service_completed_successfully") == 0)
                d->condition = ORCH_COND_COMPLETED;
            else
                err = orch__fail(f->p, orch__pos_of(v, at), CC_EPARSE, "%s: condition "
                                 "'%.40s' is not service_started, service_healthy or "
                                 "service_completed_successfully", f->what, cond);
        } else if (k && strcmp(k, "required") == 0) {
            err = orch__bool(f->p, v, at, "depends_on.required", &d->required);
        } else if (!k || strcmp(k, "restart") != 0) {
            orch__warn(f->p, at, "%s: unsupported key '%s' ignored", f->what, k ? k : "?");
        }
    }
    return err;
}

static cc_err f_depends_on(struct field *f)
{
    struct orch_service *s = f->s;
    bool map = fy_node_is_mapping(f->v);
    if (!map && !fy_node_is_sequence(f->v))
        return orch__fail(f->p, orch__pos_of(f->v, f->kp), CC_EPARSE, "%s: expected a list "
                          "of service names or a mapping of name: {condition: ...}", f->what);
    if (!(s->depends_on = arr(f, f->v, sizeof(*s->depends_on), &s->ndeps)))
        return NOMEM(f);
    void *it = NULL;
    for (;;) {
        struct orch_dep *d = &s->depends_on[s->ndeps];
        struct fy_node_pair *pr = map ? fy_node_mapping_iterate(f->v, &it) : NULL;
        struct fy_node *name = map ? (pr ? fy_node_pair_key(pr) : NULL)
                                   : fy_node_sequence_iterate(f->v, &it);
        if (!name)
            break;
        struct orch__pos at = orch__pos_of(name, f->kp);
        *d = (struct orch_dep){.condition = ORCH_COND_STARTED, .required = true,
                               .line = at.line, .col = at.col};
        cc_err err = orch__scalar(f->p, name, f->kp, f->what, false, &d->service);
        if (!err && map)
            err = dep_long(f, fy_node_pair_value(pr), at, d);
        if (err)
            return err;
        s->ndeps++;
    }
    return CC_OK;
}

static cc_err health_test(struct field *f, struct fy_node *v, struct orch__pos kp,
                          struct orch_health *h)
{
    if (fy_node_is_scalar(v)) {
        char *cmd = NULL;
        cc_err err = orch__scalar(f->p, v, kp, "healthcheck.test", false, &cmd);
        if (err)
            return err;
        h->test.v = cc_arena_calloc(f->p->a, 2, sizeof(char *));
        if (!h->test.v)
            return NOMEM(f);
        h->test.v[0] = "CMD-SHELL";
        h->test.v[1] = cmd;
        h->test.n = 2;
        return CC_OK;
    }
    cc_err err = orch__strs(f->p, v, kp, "healthcheck.test", &h->test);
    if (err)
        return err;
    const char *first = h->test.n ? h->test.v[0] : "";
    if (strcmp(first, "NONE") == 0) {
        h->disable = true;
        return CC_OK;
    }
    if ((strcmp(first, "CMD") != 0 && strcmp(first, "CMD-SHELL") != 0) || h->test.n < 2)
        return orch__fail(f->p, orch__pos_of(v, kp), CC_EPARSE, "healthcheck.test: a list "
                          "starts with CMD (then the program and its arguments), CMD-SHELL "
                          "(then one shell command) or NONE");
    return CC_OK;
}

static cc_err health_pair(struct field *f, struct fy_node_pair *pr, struct orch_health *h)
{
    char key[64], what[96];
    struct fy_node *v = fy_node_pair_value(pr);
    struct orch__pos kp = orch__pos_of(fy_node_pair_key(pr), f->kp);
    const char *k = orch__key(pr, key, sizeof(key));
    snprintf(what, sizeof(what), "healthcheck.%s", k ? k : "?");
    if (!k)
        return orch__fail(f->p, kp, CC_EPARSE, "healthcheck: keys must be plain names");
    if (strcmp(k, "test") == 0)
        return health_test(f, v, kp, h);
    if (strcmp(k, "interval") == 0)
        return orch__duration(f->p, v, kp, what, &h->interval_ns);
    if (strcmp(k, "timeout") == 0)
        return orch__duration(f->p, v, kp, what, &h->timeout_ns);
    if (strcmp(k, "start_period") == 0)
        return orch__duration(f->p, v, kp, what, &h->start_period_ns);
    if (strcmp(k, "start_interval") == 0)
        return orch__duration(f->p, v, kp, what, &h->start_interval_ns);
    if (strcmp(k, "retries") == 0)
        return orch__long(f->p, v, kp, what, 0, 1000000, &h->retries);
    if (strcmp(k, "disable") == 0)
        return orch__bool(f->p, v, kp, what, &h->disable);
    orch__warn(f->p, kp, "%s: unsupported key '%s' ignored", f->what, k);
    return CC_OK;
}

static cc_err f_healthcheck(struct field *f)
{
    struct orch_health *h = &f->s->healthcheck;
    cc_err err = want_mapping(f, f->v);
    void *it = NULL;
    struct fy_node_pair *pr;
    h->present = true;
    while (!err && (pr = fy_node_mapping_iterate(f->v, &it)) != NULL)
        err = health_pair(f, pr, h);
    return err;
}

static cc_err f_restart(struct field *f)
{
    cc_err err = str_field(f, &f->s->restart);
    if (err)
        return err;
    const char *r = f->s->restart;
    char *end = NULL;
    if (strcmp(r, "no") == 0 || strcmp(r, "always") == 0 ||
        strcmp(r, "unless-stopped") == 0 || strcmp(r, "on-failure") == 0)
        return CC_OK;
    if (strncmp(r, "on-failure:", 11) == 0 && isdigit((unsigned char)r[11]) &&
        strtol(r + 11, &end, 10) >= 0 && !*end)
        return CC_OK;
    return orch__fail(f->p, orch__pos_of(f->v, f->kp), CC_EPARSE, "%s: '%.40s' is not a "
                      "restart policy; write no, always, on-failure, on-failure:N or "
                      "unless-stopped", f->what, r);
}

/* ---------------------------------------------------------------------------
 * deploy.resources, secrets, networks
 */

static cc_err resource_pair(struct field *f, struct fy_node_pair *pr, struct orch_resources *r)
{
    char key[64], *s = NULL;
    struct fy_node *v = fy_node_pair_value(pr);
    struct orch__pos kp = orch__pos_of(fy_node_pair_key(pr), f->kp);
    const char *k = orch__key(pr, key, sizeof(key));
    struct orch__pos at = orch__pos_of(v, kp);
    if (k && strcmp(k, "cpus") == 0) {
        cc_err err = orch__scalar(f->p, v, kp, "deploy.resources.cpus", false, &s);
        char *end = NULL;
        double c = err ? 0 : strtod(s, &end);
        if (!err && (!*s || *end || !(c > 0 && c <= 1024)))
            err = orch__fail(f->p, at, CC_EPARSE, "deploy.resources.cpus: '%.40s' is not a "
                             "CPU count; write a decimal such as 0.5 or '1.5'", s);
        if (!err)
            r->cpus = c;
        return err;
    }
    if (k && strcmp(k, "memory") == 0) {
        cc_err err = orch__scalar(f->p, v, kp, "deploy.resources.memory", false, &s);
        uint64_t bytes = 0;
        if (!err && (cc_parse_size(s, CC_SIZE_KB_IS_1024, &bytes, NULL) || bytes > INT64_MAX))
            err = orch__fail(f->p, at, CC_EPARSE, "deploy.resources.memory: '%.40s' is not "
                             "a size; write it like 512m, 2g or 1073741824 (bytes)", s);
        if (!err)
            r->memory = (int64_t)bytes;
        return err;
    }
    if (k && strcmp(k, "pids") == 0) {
        long pids = 0;
        cc_err err = orch__long(f->p, v, kp, "deploy.resources.pids", 1, 1L << 30, &pids);
        if (!err)
            r->pids = pids;
        return err;
    }
    orch__warn(f->p, kp, "%s.resources: unsupported key '%s' ignored", f->what, k ? k : "?");
    return CC_OK;
}

static cc_err resources(struct field *f, struct fy_node *n, struct orch__pos kp)
{
    void *it = NULL;
    struct fy_node_pair *pr;
    cc_err err = want_mapping(f, n);
    while (!err && (pr = fy_node_mapping_iterate(n, &it)) != NULL) {
        char key[64];
        const char *k = orch__key(pr, key, sizeof(key));
        struct fy_node *v = fy_node_pair_value(pr);
        struct orch__pos at = orch__pos_of(fy_node_pair_key(pr), kp);
        struct orch_resources *r = !k ? NULL : strcmp(k, "limits") == 0 ? &f->s->limits
                                 : strcmp(k, "reservations") == 0 ? &f->s->reservations : NULL;
        if (!r) {
            orch__warn(f->p, at, "%s.resources: unsupported key '%s' ignored", f->what,
                       k ? k : "?");
            continue;
        }
        err = want_mapping(f, v);
        void *it2 = NULL;
        struct fy_node_pair *pr2;
        while (!err && (pr2 = fy_node_mapping_iterate(v, &it2)) != NULL)
            err = resource_pair(f, pr2, r);
    }
    return err;
}

static cc_err f_deploy(struct field *f)
{
    void *it = NULL;
    struct fy_node_pair *pr;
    cc_err err = want_mapping(f, f->v);
    while (!err && (pr = fy_node_mapping_iterate(f->v, &it)) != NULL) {
        char key[64];
        const char *k = orch__key(pr, key, sizeof(key));
        struct orch__pos at = orch__pos_of(fy_node_pair_key(pr), f->kp);
        if (k && strcmp(k, "resources") == 0)
            err = resources(f, fy_node_pair_value(pr), at);
        else
            orch__warn(f->p, at, "%s: unsupported key '%s' ignored", f->what, k ? k : "?");
    }
    return err;
}

static cc_err secret_long(struct field *f, struct fy_node *n, struct orch_secret_ref *r)
{
    void *it = NULL;
    struct fy_node_pair *pr;
    cc_err err = CC_OK;
    while (!err && (pr = fy_node_mapping_iterate(n, &it)) != NULL) {
        char key[64];
        struct fy_node *v = fy_node_pair_value(pr);
        struct orch__pos kp = orch__pos_of(fy_node_pair_key(pr), f->kp);
        const char *k = orch__key(pr, key, sizeof(key));
        if (k && strcmp(k, "source") == 0) {
            err = orch__scalar(f->p, v, kp, "secrets.source", false, &r->source);
            r->line = kp.line;
            r->col = kp.col;
        } else if (k && strcmp(k, "target") == 0) {
            err = orch__scalar(f->p, v, kp, "secrets.target", false, &r->target);
        } else if (k && strcmp(k, "uid") == 0) {
            err = orch__scalar(f->p, v, kp, "secrets.uid", false, &r->uid);
        } else if (k && strcmp(k, "gid") == 0) {
            err = orch__scalar(f->p, v, kp, "secrets.gid", false, &r->gid);
        } else if (k && strcmp(k, "mode") == 0) {
            char *s = NULL, *end = NULL;
            err = orch__scalar(f->p, v, kp, "secrets.mode", false, &s);
            long mode = err ? 0 : strtol(s, &end, s[0] == '0' ? 8 : 10);
            if (!err && (!*s || *end || mode < 0 || mode > 0777))
                err = orch__fail(f->p, orch__pos_of(v, kp), CC_EPARSE, "secrets.mode: "
                                 "expected a file mode such as 0400");
            r->mode = mode;
        } else {
            orch__warn(f->p, kp, "%s: unsupported key '%s' ignored", f->what, k ? k : "?");
        }
    }
    if (!err && !r->source)
        err = orch__fail(f->p, orch__pos_of(n, f->kp), CC_EPARSE, "%s: the long form needs "
                         "'source:' (the secret's name)", f->what);
    return err;
}

static cc_err f_secrets(struct field *f)
{
    struct orch_service *s = f->s;
    if (!fy_node_is_sequence(f->v))
        return orch__fail(f->p, orch__pos_of(f->v, f->kp), CC_EPARSE, "%s: expected a list "
                          "of secret names", f->what);
    if (!(s->secrets = arr(f, f->v, sizeof(*s->secrets), &s->nsecrets)))
        return NOMEM(f);
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(f->v, &it)) != NULL) {
        struct orch_secret_ref *r = &s->secrets[s->nsecrets];
        struct orch__pos at = orch__pos_of(item, f->kp);
        *r = (struct orch_secret_ref){.mode = -1, .line = at.line, .col = at.col};
        cc_err err = fy_node_is_mapping(item)
                         ? secret_long(f, item, r)
                         : orch__scalar(f->p, item, f->kp, f->what, false, &r->source);
        if (err)
            return err;
        s->nsecrets++;
    }
    return CC_OK;
}

static cc_err f_networks(struct field *f)
{
    struct orch_service *s = f->s;
    bool map = fy_node_is_mapping(f->v);
    if (!map && !fy_node_is_sequence(f->v))
        return orch__fail(f->p, orch__pos_of(f->v, f->kp), CC_EPARSE, "%s: expected a list "
                          "of network names or a mapping", f->what);
    if (!(s->networks = arr(f, f->v, sizeof(*s->networks), &s->nnetworks)))
        return NOMEM(f);
    void *it = NULL;
    for (;;) {
        struct fy_node_pair *pr = map ? fy_node_mapping_iterate(f->v, &it) : NULL;
        struct fy_node *name = map ? (pr ? fy_node_pair_key(pr) : NULL)
                                   : fy_node_sequence_iterate(f->v, &it);
        if (!name)
            break;
        struct orch_net_ref *r = &s->networks[s->nnetworks];
        struct orch__pos at = orch__pos_of(name, f->kp);
        r->line = at.line;
        r->col = at.col;
        cc_err err = orch__scalar(f->p, name, f->kp, f->what, false, &r->name);
        struct fy_node *v = map ? fy_node_pair_value(pr) : NULL;
        void *it2 = NULL;
        struct fy_node_pair *pr2;
        if (!err && v && !cc_yaml_is_null(v))
            err = want_mapping(f, v);
        while (!err && v && !cc_yaml_is_null(v) && (pr2 = fy_node_mapping_iterate(v, &it2))) {
            char key[64];
            const char *k = orch__key(pr2, key, sizeof(key));
            struct orch__pos kp = orch__pos_of(fy_node_pair_key(pr2), at);
            if (k && strcmp(k, "aliases") == 0)
                err = orch__strs(f->p, fy_node_pair_value(pr2), kp, "networks.aliases",
                                 &r->aliases);
            else
                orch__warn(f->p, kp, "%s.%s: unsupported key '%s' ignored", f->what, r->name,
                           k ? k : "?");
        }
        if (err)
            return err;
        s->nnetworks++;
    }
    return CC_OK;
}

/* ---------------------------------------------------------------------------
 * The service
 */

static const struct {
    const char *key;
    cc_err (*parse)(struct field *f);
} fields[] = {
    {"image", f_image}, {"build", f_build}, {"command", f_command},
    {"entrypoint", f_entrypoint}, {"environment", f_environment},
    {"working_dir", f_working_dir}, {"ports", f_ports}, {"volumes", f_volumes},
    {"depends_on", f_depends_on}, {"healthcheck", f_healthcheck}, {"restart", f_restart},
    {"user", f_user}, {"read_only", f_read_only}, {"tmpfs", f_tmpfs},
    {"cap_add", f_cap_add}, {"cap_drop", f_cap_drop}, {"security_opt", f_security_opt},
    {"deploy", f_deploy}, {"secrets", f_secrets}, {"networks", f_networks},
    {"labels", f_labels}, {"stop_grace_period", f_stop_grace}, {"init", f_init},
    {"privileged", f_privileged}, {"network_mode", f_network_mode},
    {"x-commandcenter", f_x_commandcenter},
};

static cc_err service_pair(struct field *f, struct fy_node_pair *pr)
{
    char key[64];
    const char *k = orch__key(pr, key, sizeof(key));
    f->kp = orch__pos_of(fy_node_pair_key(pr), (struct orch__pos){f->s->line, f->s->col});
    f->v = fy_node_pair_value(pr);
    if (!k)
        return orch__fail(f->p, f->kp, CC_EPARSE, "services.%s: keys must be plain names",
                          f->s->name);
    snprintf(f->what, sizeof(f->what), "services.%s.%s", f->s->name, k);
    if (strcmp(k, "env_file") == 0) /* read first: environment overrides it */
        return CC_OK;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (strcmp(k, fields[i].key) == 0)
            return cc_yaml_is_null(f->v) && strcmp(k, "command") != 0 &&
                           strcmp(k, "entrypoint") != 0
                       ? CC_OK
                       : fields[i].parse(f);
    if (strncmp(k, "x-", 2) != 0)
        orch__warn(f->p, f->kp, "services.%s: unsupported key '%s' ignored", f->s->name, k);
    return CC_OK;
}

static cc_err service_body(struct field *f, struct fy_node *body)
{
    struct fy_node *ef = fy_node_mapping_lookup_by_string(body, "env_file", 8);
    cc_err err = CC_OK;
    if (ef && !cc_yaml_is_null(ef)) {
        f->v = ef;
        f->kp = orch__pos_of(ef, (struct orch__pos){f->s->line, f->s->col});
        snprintf(f->what, sizeof(f->what), "services.%s.env_file", f->s->name);
        err = f_env_file(f);
    }
    void *it = NULL;
    struct fy_node_pair *pr;
    while (!err && (pr = fy_node_mapping_iterate(body, &it)) != NULL)
        err = service_pair(f, pr);
    /* A bare command is enough for the process driver; the docker driver
     * refuses such a service when it is created. */
    if (!err && !f->s->image && !f->s->has_build && !f->s->has_command &&
        !f->s->has_entrypoint)
        err = orch__fail(f->p, (struct orch__pos){f->s->line, f->s->col}, CC_EPARSE,
                         "services.%s: set 'image:' or 'build:' (or, for the process "
                         "driver, 'command:')", f->s->name);
    return err;
}

cc_err orch__service(struct orch__parser *p, struct fy_node_pair *pr,
                     struct orch_service *out)
{
    char name[256];
    struct orch__pos at = orch__pos_of(fy_node_pair_key(pr), (struct orch__pos){0, 0});
    struct fy_node *body = fy_node_pair_value(pr);
    const char *n = orch__key(pr, name, sizeof(name));
    bool ok = n != NULL;
    for (const char *c = n; ok && *c; c++)
        ok = isalnum((unsigned char)*c) || *c == '_' || *c == '-' || *c == '.';
    if (!ok || !isalnum((unsigned char)name[0]))
        return orch__fail(p, at, CC_EPARSE, "services: a service name is letters, digits, "
                          "'.', '_' and '-', starting with a letter or digit");
    if (!fy_node_is_mapping(body))
        return orch__fail(p, at, CC_EPARSE, "services.%s: expected a mapping of settings "
                          "such as 'image:'", name);
    struct orch_service s = {.name = cc_arena_strdup(p->a, name), .line = at.line,
                             .col = at.col, .init = -1, .stop_grace_ns = -1,
                             .limits = {-1, -1, -1}, .reservations = {-1, -1, -1},
                             .healthcheck = {.interval_ns = -1, .timeout_ns = -1,
                                             .start_period_ns = -1, .start_interval_ns = -1,
                                             .retries = -1}};
    struct field f = {.p = p, .s = &s};
    cc_err err = s.name ? service_body(&f, body) : orch__fail(p, at, CC_ELIMIT, "out of memory");
    if (!err && !s.nnetworks && !s.network_mode) {
        s.networks = cc_arena_calloc(p->a, 1, sizeof(*s.networks));
        if (s.networks)
            s.networks[s.nnetworks++] = (struct orch_net_ref){.name = "default"};
    }
    if (err) {
        json_decref(s.x_commandcenter);
        return err;
    }
    *out = s;
    return CC_OK;
}
