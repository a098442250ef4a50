/*
 * docker_stream.c - the docker driver's stream decoders: multiplexed
 * frames, log lines with timestamps, JSON lines. Pure functions of their
 * input; every one is fed arbitrary splits of the bytes and keeps bounded
 * state (see docker_int.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "orchestrator/docker_int.h"

bool orch__mux_feed(struct orch__mux *m, const char *p, size_t n, orch__bytes_cb cb, void *arg)
{
    while (n) {
        if (m->left == 0) {
            size_t take = 8 - m->hn;
            if (take > n)
                take = n;
            memcpy(m->hdr + m->hn, p, take);
            m->hn += (unsigned)take;
            p += take;
            n -= take;
            if (m->hn < 8)
                return true;
            m->hn = 0;
            m->stream = m->hdr[0];
            m->left = (uint32_t)m->hdr[4] << 24 | (uint32_t)m->hdr[5] << 16 |
                      (uint32_t)m->hdr[6] << 8 | (uint32_t)m->hdr[7];
            continue;
        }
        size_t take = m->left < n ? m->left : n;
        m->left -= (uint32_t)take;
        if (!cb(arg, m->stream, p, take))
            return false;
        p += take;
        n -= take;
    }
    return true;
}

static int digits(const char *p, size_t n, size_t at, size_t count)
{
    if (at + count > n)
        return -1;
    int v = 0;
    for (size_t i = 0; i < count; i++) {
        char c = p[at + i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    return v;
}

int64_t orch__parse_time_ns(const char *p, size_t n, size_t *used)
{
    int y = digits(p, n, 0, 4), mo = digits(p, n, 5, 2), d = digits(p, n, 8, 2);
    int h = digits(p, n, 11, 2), mi = digits(p, n, 14, 2), s = digits(p, n, 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
        mi > 59 || s < 0 || s > 60 || p[4] != '-' || p[7] != '-' ||
        (p[10] != 'T' && p[10] != 't') || p[13] != ':' || p[16] != ':')
        return -1;
    size_t i = 19;
    int64_t frac = 0;
    if (i < n && p[i] == '.') {
        i++;
        int nd = 0;
        while (i < n && p[i] >= '0' && p[i] <= '9') {
            if (nd < 9) {
                frac = frac * 10 + (p[i] - '0');
                nd++;
            }
            i++;
        }
        if (nd == 0)
            return -1;
        while (nd++ < 9)
            frac *= 10;
    }
    int64_t off = 0;
    if (i < n && (p[i] == 'Z' || p[i] == 'z')) {
        i++;
    } else if (i < n && (p[i] == '+' || p[i] == '-')) {
        int oh = digits(p, n, i + 1, 2), om = digits(p, n, i + 4, 2);
        if (oh < 0 || om < 0 || p[i + 3] != ':' || oh > 23 || om > 59)
            return -1;
        off = (p[i] == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
        i += 6;
    } else {
        return -1;
    }
    int64_t days = cc_days_from_civil(y, mo, d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + s - off;
    if (secs < 0 || secs >= INT64_MAX / 1000000000 - 1)   /* past 2262 */
        return -1;
    if (used)
        *used = i;
    return secs * 1000000000LL + frac;
}

static bool emit(struct orch__lines *l, const char *p, size_t n, bool continues)
{
    int64_t ts = l->last_ts;
    if (l->timestamps && !l->continued) {
        size_t used = 0;
        int64_t t = orch__parse_time_ns(p, n, &used);
        if (t >= 0) {
            ts = t;
            p += used;
            n -= used;
            if (n && *p == ' ') {
                p++;
                n--;
            }
        } else {
            ts = 0;
        }
    }
    l->last_ts = ts;
    l->continued = continues;
    if (n && p[n - 1] == '\r' && !continues)
        n--;
    struct orch_log_line line = {.stream = l->stream, .ts_ns = ts, .text = p, .len = n};
    if (!l->cb(l->arg, &line))
        l->stopped = true;
    return !l->stopped;
}

bool orch__lines_feed(struct orch__lines *l, const char *p, size_t n)
{
    if (l->stopped)
        return false;
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t seg = nl ? (size_t)(nl - p) : n;
        if (l->len == 0 && nl && seg == 0 && l->continued) {
            l->continued = false;             /* the newline ending a split line */
        } else if (l->len == 0 && nl && seg <= ORCH__LINE_MAX) {
            if (!emit(l, p, seg, false))      /* a whole line: no copy */
                return false;
        } else {
            const char *q = p;
            size_t left = seg;
            bool done = false;
            while (left) {
                if (!l->buf)
                    l->buf = cc_xmalloc(ORCH__LINE_MAX);
                size_t room = ORCH__LINE_MAX - l->len;
                size_t take = left < room ? left : room;
                memcpy(l->buf + l->len, q, take);
                l->len += take;
                q += take;
                left -= take;
                if (l->len == ORCH__LINE_MAX) {
                    l->len = 0;
                    bool cont = !(left == 0 && nl);
                    if (!emit(l, l->buf, ORCH__LINE_MAX, cont))
                        return false;
                    done = !cont;
                }
            }
            if (nl && !done) {
                size_t len = l->len;
                l->len = 0;
                if (!emit(l, l->buf ? l->buf : "", len, false))
                    return false;
            }
        }
        if (!nl)
            return true;
        p += seg + 1;
        n -= seg + 1;
    }
    return true;
}

bool orch__lines_flush(struct orch__lines *l)
{
    if (l->stopped)
        return false;
    if (l->len == 0)
        return true;
    size_t len = l->len;
    l->len = 0;
    return emit(l, l->buf, len, false);
}

void orch__lines_release(struct orch__lines *l)
{
    free(l->buf);
    l->buf = NULL;
    l->len = 0;
}

void orch__jsonl_init(struct orch__jsonl *j)
{
    cc_buf_init(&j->line, ORCH__JSONL_MAX);
    j->skipping = false;
}

static bool jsonl_line(const char *p, size_t n, orch__json_cb cb, void *arg)
{
    while (n && (p[n - 1] == '\r' || p[n - 1] == ' '))
        n--;
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    if (i == n)
        return true;
    json_t *v = json_loadb(p + i, n - i, JSON_DECODE_ANY, NULL);
    bool go = cb(arg, v);
    json_decref(v);
    return go;
}

bool orch__jsonl_feed(struct orch__jsonl *j, const char *p, size_t n, orch__json_cb cb,
                      void *arg)
{
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t seg = nl ? (size_t)(nl - p) : n;
        if (j->skipping) {
            if (nl)
                j->skipping = false;
        } else if (j->line.len == 0 && nl) {
            if (!jsonl_line(p, seg, cb, arg))
                return false;
        } else if (cc_buf_add(&j->line, p, seg)) {
            cc_buf_reset(&j->line);
            j->skipping = !nl;
            if (!cb(arg, NULL))
                return false;
        } else if (nl) {
            bool go = jsonl_line(j->line.ptr, j->line.len, cb, arg);
            cc_buf_reset(&j->line);
            if (!go)
                return false;
        }
        if (!nl)
            return true;
        size_t adv = seg + 1;
        p += adv;
        n -= adv;
    }
    return true;
}

bool orch__jsonl_flush(struct orch__jsonl *j, orch__json_cb cb, void *arg)
{
    bool go = true;
    if (!j->skipping && j->line.len)
        go = jsonl_line(j->line.ptr, j->line.len, cb, arg);
    cc_buf_reset(&j->line);
    j->skipping = false;
    return go;
}

void orch__jsonl_release(struct orch__jsonl *j)
{
    cc_buf_release(&j->line);
}
