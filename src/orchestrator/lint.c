/*
 * lint.c - the security checklist of SPEC 3 over a parsed stack. Each
 * check gives PASS, WARN or FAIL and one line of advice. FAIL is kept for
 * what hands the host to a container or leaks a secret (privileged, host
 * network, docker socket, dangerous capabilities, literal secrets in the
 * environment); hardening gaps are WARN. The order of checks is fixed, so
 * the JSON is stable.
 */
#include <stdarg.h>
#include <strings.h>
#include <stdio.h>
#include <string.h>

#include "orchestrator/compose_int.h"

enum status { PASS, WARN, FAIL };

struct lint {
    json_t *checks;
    json_int_t fail, warn;
};

static void check(struct lint *l, const char *id, enum status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void check(struct lint *l, const char *id, enum status st, const char *fmt, ...)
{
    static const char *const names[] = {"PASS", "WARN", "FAIL"};
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    l->fail += st == FAIL;
    l->warn += st == WARN;
    json_array_append_new(l->checks, json_pack("{s:s, s:s, s:s}", "id", id, "status",
                                               names[st], "message", msg));
}

static bool has_ci(const struct orch_strs *s, const char *want)
{
    for (size_t i = 0; i < s->n; i++) {
        const char *v = s->v[i];
        if (strncasecmp(v, "CAP_", 4) == 0)
            v += 4;
        if (strcasecmp(v, want) == 0)
            return true;
    }
    return false;
}

static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    return false;
}

static void check_user(struct lint *l, const struct orch_service *s)
{
    const char *u = s->user;
    size_t n = u ? strcspn(u, ":") : 0;
    bool root = !u || !u[0] || (n == 1 && u[0] == '0') || (n == 4 && !strncmp(u, "root", 4));
    if (root)
        check(l, "root-user", WARN, "%s; set 'user:' to a non-root uid such as \"1000:1000\"",
              u ? "runs as root" : "no 'user:' (most images then run as root)");
    else
        check(l, "root-user", PASS, "runs as user %s", u);
}

static void check_limits(struct lint *l, const struct orch_service *s)
{
    if (s->limits.memory >= 0 && s->limits.cpus >= 0)
        check(l, "resource-limits", PASS, "CPU and memory limits set");
    else
        check(l, "resource-limits", WARN, "no %s limit; set deploy.resources.limits.{cpus,"
              "memory} so one service cannot starve the host",
              s->limits.memory < 0 && s->limits.cpus < 0 ? "CPU or memory"
              : s->limits.memory < 0 ? "memory" : "CPU");
}

/* The kind of CommandCenter probe in the service's x-commandcenter.probe
 * (exec, http or tcp), or NULL: such a probe is the service's health check
 * for CommandCenter, whatever the Compose healthcheck says. */
static const char *own_probe(const struct orch_service *s)
{
    json_t *probe = json_object_get(s->x_commandcenter, "probe");
    static const char *const kinds[] = {"exec", "http", "tcp"};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (json_object_get(probe, kinds[i]))
            return kinds[i];
    return NULL;
}

static void check_health(struct lint *l, const struct orch_service *s)
{
    const char *probe = own_probe(s);
    if (s->healthcheck.present && !s->healthcheck.disable && s->healthcheck.test.n)
        check(l, "healthcheck", PASS, "has a healthcheck");
    else if (probe)
        check(l, "healthcheck", PASS, "has an x-commandcenter %s probe", probe);
    else
        check(l, "healthcheck", WARN, "no healthcheck; add one so dependants can wait for "
              "service_healthy and failures are noticed");
}

static void check_image(struct lint *l, const struct orch_service *s)
{
    if (s->has_build || !s->image) {
        check(l, "image-tag", PASS, "built from source");
        return;
    }
    const char *slash = strrchr(s->image, '/'), *tag = strrchr(s->image, ':');
    if (tag && slash && tag < slash)
        tag = NULL; /* a registry port, not a tag */
    if (strchr(s->image, '@'))
        check(l, "image-tag", PASS, "pinned by digest");
    else if (!tag || strcmp(tag, ":latest") == 0)
        check(l, "image-tag", WARN, "image '%s' uses a mutable tag; pin a version (or a "
              "digest) so deployments are repeatable", s->image);
    else
        check(l, "image-tag", PASS, "image tag %s", tag + 1);
}

static void check_env(struct lint *l, const struct orch_service *s)
{
    static const char *const words[] = {"token", "secret", "password", "passwd", "api_key",
                                        "apikey", "private_key"};
    for (size_t i = 0; i < s->environment.n; i++) {
        const struct orch_kv *kv = &s->environment.v[i];
        if (!kv->value || !kv->value[0])
            continue;
        for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++)
            if (contains_ci(kv->key, words[w]) && !contains_ci(kv->key, "_file")) {
                check(l, "env-secrets", FAIL, "environment %s holds a literal secret; deliver "
                      "it as a file with secrets: (read it from /run/secrets)", kv->key);
                return;
            }
    }
    check(l, "env-secrets", PASS, "no literal secrets in environment");
}

static void check_host_access(struct lint *l, const struct orch_service *s)
{
    if (s->privileged)
        check(l, "privileged", FAIL, "privileged: true gives the container the host; remove "
              "it and add only the capabilities needed");
    else
        check(l, "privileged", PASS, "not privileged");
    if (s->network_mode && strcmp(s->network_mode, "host") == 0)
        check(l, "host-network", FAIL, "network_mode: host bypasses network isolation; use "
              "networks: and publish only needed ports");
    else
        check(l, "host-network", PASS, "not on the host network");
    const char *sock = NULL;
    for (size_t i = 0; i < s->nvolumes && !sock; i++)
        if (s->volumes[i].source && strstr(s->volumes[i].source, "docker.sock"))
            sock = s->volumes[i].source;
    if (sock)
        check(l, "docker-socket", FAIL, "mounts %s, which is root on the host; remove the "
              "mount or use a socket proxy with a narrow allow-list", sock);
    else
        check(l, "docker-socket", PASS, "no Docker socket mount");
}

static void check_caps(struct lint *l, const struct orch_service *s)
{
    static const char *const bad[] = {"ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE",
                                      "SYS_MODULE", "DAC_READ_SEARCH"};
    const char *found = NULL;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]) && !found; i++)
        if (has_ci(&s->cap_add, bad[i]))
            found = bad[i];
    if (found)
        check(l, "cap-add", FAIL, "cap_add: %s is close to root on the host; drop it", found);
    else
        check(l, "cap-add", PASS, "no dangerous capabilities added");
    if (has_ci(&s->cap_drop, "ALL"))
        check(l, "cap-drop", PASS, "drops all capabilities");
    else
        check(l, "cap-drop", WARN, "capabilities not dropped; add cap_drop: [ALL] and cap_add "
              "back only what is needed");
    if (s->read_only)
        check(l, "read-only", PASS, "read-only root filesystem");
    else
        check(l, "read-only", WARN, "writable root filesystem; set read_only: true and use "
              "tmpfs: or volumes for the paths that must be written");
    bool nnp = false;
    for (size_t i = 0; i < s->security_opt.n; i++)
        nnp = nnp || strncmp(s->security_opt.v[i], "no-new-privileges", 17) == 0;
    if (nnp)
        check(l, "no-new-privileges", PASS, "no-new-privileges set");
    else
        check(l, "no-new-privileges", WARN, "setuid binaries can gain privileges; add "
              "security_opt: [\"no-new-privileges:true\"]");
}

cc_err orch_lint(const struct orch_stack *st, json_t **out)
{
    json_t *services = json_object();
    json_int_t fail = 0, warn = 0;
    for (size_t i = 0; i < st->nservices; i++) {
        const struct orch_service *s = &st->services[i];
        struct lint l = {.checks = json_array()};
        check_user(&l, s);
        check_limits(&l, s);
        check_health(&l, s);
        check_image(&l, s);
        check_env(&l, s);
        check_host_access(&l, s);
        check_caps(&l, s);
        fail += l.fail;
        warn += l.warn;
        json_object_set_new(services, s->name, json_pack("{s:o}", "checks", l.checks));
    }
    *out = json_pack("{s:o, s:{s:I, s:I}}", "services", services, "summary", "fail", fail,
                     "warn", warn);
    return *out ? CC_OK : CC_ENOMEM;
}
