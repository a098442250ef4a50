/*
 * alerts.c - /api/v1/alerts: Alertmanager's webhook in, the alerts out.
 *
 * POST takes a version 4 notification (alerts.h), stores each alert by
 * fingerprint (store.h, alert_upsert: firing -> resolved transitions, and
 * old notifications delivered late are ignored), records an event
 * "alert.firing" / "alert.resolved" on each transition so the events
 * stream shows it, then prunes: resolved alerts older than alerts.retention
 * go, and the table never holds more than alerts.max_stored rows. It needs an admin token (a mutation); Alertmanager
 * sends one with http_config.authorization.credentials_file.
 * GET lists them, most recently updated first (?state=, ?limit=), for any
 * token.
 */
#include "api/alerts.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"

#define ALERTS_DEFAULT_LIMIT 100

/* ---- the parser ------------------------------------------------------- */

static bool status_known(const char *s)
{
    return s && (strcmp(s, "firing") == 0 || strcmp(s, "resolved") == 0);
}

/* "alerts[3].labels must be an object of strings" */
static cc_err fault(char *why, size_t whysz, size_t i, const char *field, const char *problem)
{
    snprintf(why, whysz, "alerts[%zu]%s%s %s", i, *field ? "." : "", field, problem);
    return CC_EINVAL;
}

/* Copies into the arena; a full arena sets *full (the caller answers
 * CC_ELIMIT once, rather than checking every copy). */
static const char *keep(struct cc_arena *arena, const char *s, bool *full)
{
    if (!s)
        return NULL;
    const char *copy = cc_arena_strdup(arena, s);
    if (!copy)
        *full = true;
    return copy;
}

static bool string_values(json_t *o)
{
    const char *k;
    json_t *v;
    if (!json_is_object(o))
        return false;
    json_object_foreach(o, k, v) {
        if (!json_is_string(v))
            return false;
    }
    return true;
}

/* The object dumped compactly (keys sorted) into the arena. */
static const char *dump(json_t *o, struct cc_arena *arena, bool *full)
{
    char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text) {
        *full = true;
        return NULL;
    }
    const char *copy = keep(arena, text, full);
    free(text);
    return copy;
}

static const char *opt_string(json_t *o, const char *key, struct cc_arena *arena, bool *full)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s && *s ? keep(arena, s, full) : NULL;
}

static cc_err one_alert(json_t *in, size_t i, int64_t now_ms, struct cc_arena *arena,
                        struct store_alert *a, char *why, size_t whysz)
{
    if (!json_is_object(in))
        return fault(why, whysz, i, "", "is not an object");
    const char *status = json_string_value(json_object_get(in, "status"));
    if (!status_known(status))
        return fault(why, whysz, i, "status", "must be firing or resolved");
    json_t *labels = json_object_get(in, "labels");
    if (!string_values(labels))
        return fault(why, whysz, i, "labels", "must be an object of strings");
    const char *name = json_string_value(json_object_get(labels, "alertname"));
    if (!name || !*name || strlen(name) > STORE_ALERT_NAME_MAX)
        return fault(why, whysz, i, "labels.alertname", "must be a string of 1 to 256 bytes");
    json_t *ann = json_object_get(in, "annotations");
    if (ann && !string_values(ann))
        return fault(why, whysz, i, "annotations", "must be an object of strings");
    const char *fp = json_string_value(json_object_get(in, "fingerprint"));
    size_t fplen = fp ? strlen(fp) : 0;
    bool fp_ok = fplen > 0 && fplen <= STORE_FINGERPRINT_MAX;
    for (size_t k = 0; fp_ok && k < fplen; k++)
        fp_ok = (fp[k] >= '0' && fp[k] <= '9') || (fp[k] >= 'a' && fp[k] <= 'z') ||
                (fp[k] >= 'A' && fp[k] <= 'Z');
    if (!fp_ok)
        return fault(why, whysz, i, "fingerprint",
                     "must be 1 to 64 letters and digits (Alertmanager 0.19 or later sends it)");
    const char *starts = json_string_value(json_object_get(in, "startsAt"));
    int64_t starts_ms = 0, ends_ms = 0;
    if (!starts || cc_parse_rfc3339(starts, &starts_ms) || starts_ms < 0)
        return fault(why, whysz, i, "startsAt", "must be an RFC 3339 time after 1970");
    json_t *ends = json_object_get(in, "endsAt");
    if (ends && (!json_is_string(ends) || cc_parse_rfc3339(json_string_value(ends), &ends_ms)))
        return fault(why, whysz, i, "endsAt", "must be an RFC 3339 time");
    bool resolved = strcmp(status, "resolved") == 0;
    if (!resolved || ends_ms < 0)
        ends_ms = 0;    /* "0001-01-01T00:00:00Z": not ended */
    if (resolved && ends_ms == 0)
        ends_ms = now_ms;
    bool full = false;
    *a = (struct store_alert){
        .fingerprint = keep(arena, fp, &full),
        .status = resolved ? "resolved" : "firing",
        .name = keep(arena, name, &full),
        .severity = opt_string(labels, "severity", arena, &full),
        .labels_json = dump(labels, arena, &full),
        .annotations_json = ann ? dump(ann, arena, &full) : "{}",
        .generator_url = opt_string(in, "generatorURL", arena, &full),
        .starts_ms = starts_ms,
        .ends_ms = ends_ms,
        .created_ms = now_ms,
        .updated_ms = now_ms,
    };
    if (full) {
        snprintf(why, whysz, "the notification is too large to store in one request");
        return CC_ELIMIT;
    }
    return CC_OK;
}

cc_err api_alerts_parse(const char *body, size_t len, int64_t now_ms, struct cc_arena *arena,
                        struct store_alert **out, size_t *out_n, char *why, size_t whysz)
{
    json_error_t jerr;
    json_t *root = body ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    struct store_alert *v = NULL;
    size_t n = 0;
    cc_err err = CC_EINVAL;
    if (!json_is_object(root)) {
        snprintf(why, whysz, "the body is not a JSON object%s%s", root ? "" : ": ",
                 root ? "" : (body ? jerr.text : "it is empty"));
        goto out;
    }
    const char *version = json_string_value(json_object_get(root, "version"));
    if (!version || strcmp(version, "4") != 0) {
        snprintf(why, whysz, "version must be \"4\" (Alertmanager's webhook format)");
        goto out;
    }
    json_t *alerts = json_object_get(root, "alerts");
    if (!json_is_array(alerts) || json_array_size(alerts) > API_ALERTS_MAX) {
        snprintf(why, whysz, "alerts must be an array of at most %d alerts", API_ALERTS_MAX);
        goto out;
    }
    n = json_array_size(alerts);
    v = cc_arena_calloc(arena, n ? n : 1, sizeof(*v));
    if (!v) {
        snprintf(why, whysz, "the notification is too large to store in one request");
        err = CC_ELIMIT;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        err = one_alert(json_array_get(alerts, i), i, now_ms, arena, &v[i], why, whysz);
        if (err)
            goto out;
    }
    err = CC_OK;
    *out = v;
    *out_n = n;
out:
    json_decref(root);
    return err;
}

/* ---- the handlers ----------------------------------------------------- */

/* One event per transition, with the project and service labels when the
 * rule carries them, so the Hub can place it. */
static void record_transition(struct http_req *req, const struct store_alert *a,
                              enum store_alert_change change)
{
    bool fired = change == STORE_ALERT_NEW ? strcmp(a->status, "firing") == 0
                                           : change == STORE_ALERT_FIRED;
    if (!fired && change != STORE_ALERT_RESOLVED)
        return;
    json_t *labels = json_loads(a->labels_json, 0, NULL);
    json_t *ann = json_loads(a->annotations_json, 0, NULL);
    const char *summary = json_string_value(json_object_get(ann, "summary"));
    char *msg = cc_arena_printf(req->arena, "%s %s%s%s", a->name,
                                fired ? "firing" : "resolved", summary ? ": " : "",
                                summary ? summary : "");
    struct store_event e = {
        .ts_ms = cc_wall_ms(req->ctx->clock),
        .kind = fired ? "alert.firing" : "alert.resolved",
        .project = json_string_value(json_object_get(labels, "project")),
        .service = json_string_value(json_object_get(labels, "service")),
        .message = msg ? msg : a->name,    /* a full arena: the name alone */
    };
    int64_t id;
    struct store *st = req->ctx->store;
    cc_err err = st->ops->event_append(st, &e, &id);
    if (err)
        cc_log_warn(req->ctx->log, "alerts", "cannot record the alert's event",
                    CC_LS("alert", a->name), CC_LS("error", cc_err_str(err)));
    json_decref(ann);
    json_decref(labels);
}

void api__alerts_receive(struct http_req *req, struct http_resp *resp)
{
    struct store *st = req->ctx->store;
    int64_t now = cc_wall_ms(req->ctx->clock);
    struct store_alert *v = NULL;
    size_t n = 0;
    char why[256];
    cc_err perr = api_alerts_parse(req->body, req->body_len, now, req->arena, &v, &n, why,
                                   sizeof(why));
    if (perr) {
        http_resp_err(resp, perr, why,
                      perr == CC_ELIMIT ? "lower max_alerts in Alertmanager's webhook_config"
                                        : "send Alertmanager's webhook payload (version 4) "
                                          "unchanged");
        return;
    }
    size_t counts[STORE_ALERT_STALE + 1] = {0};
    for (size_t i = 0; i < n; i++) {
        enum store_alert_change change;
        cc_err err = st->ops->alert_upsert(st, &v[i], &change);
        if (err) {
            /* Alertmanager retries a notification that failed with a 5xx. */
            http_resp_err(resp, err, "cannot store the alerts", NULL);
            return;
        }
        counts[change]++;
        record_transition(req, &v[i], change);
    }
    int64_t pruned = 0;
    const struct cc_config *cfg = req->ctx->cfg;
    cc_err err = st->ops->alert_prune(st, now - cfg->alerts.retention_ms, cfg->alerts.max_stored,
                                      &pruned);
    if (err)
        cc_log_warn(req->ctx->log, "alerts", "cannot prune old alerts",
                    CC_LS("error", cc_err_str(err)));
    http_resp_json(resp, 200,
                   json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "received", (json_int_t)n,
                             "new", (json_int_t)counts[STORE_ALERT_NEW], "fired",
                             (json_int_t)counts[STORE_ALERT_FIRED], "resolved",
                             (json_int_t)counts[STORE_ALERT_RESOLVED], "unchanged",
                             (json_int_t)counts[STORE_ALERT_SAME], "stale",
                             (json_int_t)counts[STORE_ALERT_STALE]));
}

static void add_alert(void *arg, const struct store_alert *a)
{
    json_t *labels = json_loads(a->labels_json, 0, NULL);
    json_t *ann = json_loads(a->annotations_json, 0, NULL);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s?, s:o, s:o, s:o, s:o, s:s?, s:o, s:o}",
                          "fingerprint", a->fingerprint, "status", a->status, "name", a->name,
                          "severity", a->severity, "labels", labels ? labels : json_object(),
                          "annotations", ann ? ann : json_object(), "starts_at",
                          api__time(a->starts_ms), "ends_at", api__time(a->ends_ms),
                          "generator_url", a->generator_url, "received_at",
                          api__time(a->created_ms), "updated_at", api__time(a->updated_ms));
    if (o)
        json_array_append_new(arg, o);
}

void api__alerts_list(struct http_req *req, struct http_resp *resp)
{
    const char *state = http_req_query(req, "state");
    if (state && !status_known(state)) {
        http_resp_err(resp, CC_EINVAL, "unknown alert state", "state is firing or resolved");
        return;
    }
    long long limit = ALERTS_DEFAULT_LIMIT;
    const char *l = http_req_query(req, "limit");
    if (l && api__int(l, 1, STORE_ALERT_LIST_MAX, &limit)) {
        http_resp_err(resp, CC_EINVAL, "'limit' must be an integer", "1 <= limit <= 1000");
        return;
    }
    struct store *st = req->ctx->store;
    json_t *list = json_array();
    cc_err err = st->ops->alert_list(st, state, (unsigned)limit, add_alert, list);
    if (err) {
        json_decref(list);
        http_resp_err(resp, err, "cannot list alerts", NULL);
        return;
    }
    http_resp_json(resp, 200, json_pack("{s:o}", "alerts", list));
}
