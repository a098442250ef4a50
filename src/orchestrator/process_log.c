/*
 * process_log.c - the process driver's log files: the shim writes records,
 * the driver reads them (tail, since/until, follow) in bounded memory.
 *
 * Format: one record per line, "2026-11-22T02:41:25.123456789Z O text\n";
 * see process_int.h. Files: logs/service.log (current), service.log.1 (the
 * one before) ... service.log.<files-1>. A record never spans two files.
 *
 * Memory: the reader holds one 128 KiB block for the backward scan and one
 * forward buffer of two maximal records, whatever the size of the files:
 * `tail N` walks back from the end of the newest file, so a 1 GB log costs
 * the same as a 1 MB one.
 */
#define _GNU_SOURCE
#include "orchestrator/process_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"

#define MAX_FILES 100
#define BACK_BLOCK (128 * 1024)
#define FWD_CAP (2 * PLOG_MAX_RECORD)
#define FOLLOW_POLL_MS 100

/* ---- format ---- */

void orch__plog_format_ts(int64_t ns, char out[PLOG_TS_LEN + 1])
{
    if (ns < 0)
        ns = 0;
    int64_t secs = ns / 1000000000, frac = ns % 1000000000;
    int64_t days = secs / 86400, rem = secs % 86400;
    int64_t y;
    int m, d;
    cc_civil_from_days(days, &y, &m, &d);
    if (y > 9999)
        y = 9999;
    snprintf(out, PLOG_TS_LEN + 1, "%04d-%02d-%02dT%02d:%02d:%02d.%09dZ", (int)y, m, d,
             (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), (int)frac);
}

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

bool orch__plog_parse(const char *rec, size_t len, struct orch_log_line *out)
{
    if (len < PLOG_HDR_LEN || len > PLOG_MAX_RECORD)
        return false;
    const char *s = rec;
    int y, mo, d, h, mi, se, ns;
    if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d) || s[10] != 'T' || !digits(s + 11, 2, &h) || s[13] != ':' ||
        !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &se) || s[19] != '.' ||
        !digits(s + 20, 9, &ns) || s[29] != 'Z' || s[30] != ' ' || s[32] != ' ')
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > cc_days_in_month(y, mo) || h > 23 || mi > 59 ||
        se > 60)
        return false;
    if (s[31] == 'O')
        out->stream = ORCH_STDOUT;
    else if (s[31] == 'E')
        out->stream = ORCH_STDERR;
    else
        return false;
    int64_t days = cc_days_from_civil(y, mo, d);
    if (days < 0 || days > 106750)   /* int64 nanoseconds end in April 2262 */
        return false;
    out->ts_ns = ((days * 86400 + h * 3600 + mi * 60 + se) * INT64_C(1000000000)) + ns;
    out->text = rec + PLOG_HDR_LEN;
    out->len = len - PLOG_HDR_LEN;
    return true;
}

/* ---- writer ---- */

static void cur_path(const char *dir, unsigned k, char *out, size_t outsz)
{
    if (k == 0)
        snprintf(out, outsz, "%s/%s", dir, PLOG_CURRENT);
    else
        snprintf(out, outsz, "%s/%s.%u", dir, PLOG_CURRENT, k);
}

static int open_current(const char *dir)
{
    char p[PATH_MAX + 32];
    cur_path(dir, 0, p, sizeof(p));
    return open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

cc_err orch__plog_open(struct plog_writer *w, const char *dir, uint64_t max_bytes,
                       unsigned files)
{
    *w = (struct plog_writer){.fd = -1, .max_bytes = max_bytes ? max_bytes : 10u << 20,
                              .files = files ? (files > MAX_FILES ? MAX_FILES : files) : 1};
    w->buf = cc_xmalloc(PLOG_WBUF);
    if (cc_strlcpy(w->dir, dir, sizeof(w->dir)) != CC_OK || orch__mkdirs(dir, 0750) != CC_OK)
        return CC_EIO;
    w->fd = open_current(dir);
    if (w->fd < 0)
        return CC_EIO;
    struct stat st;
    w->size = fstat(w->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    return CC_OK;
}

static void rotate(struct plog_writer *w)
{
    char from[PATH_MAX + 32], to[PATH_MAX + 32];
    close(w->fd);
    w->fd = -1;
    if (w->files <= 1) {
        cur_path(w->dir, 0, from, sizeof(from));
        unlink(from);
    } else {
        for (unsigned k = w->files - 1; k >= 1; k--) {
            cur_path(w->dir, k - 1, from, sizeof(from));
            cur_path(w->dir, k, to, sizeof(to));
            rename(from, to);   /* ENOENT for files not there yet */
        }
    }
    w->fd = open_current(w->dir);
    w->size = 0;
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return;
        p += k;
        n -= (size_t)k;
    }
}

void orch__plog_flush(struct plog_writer *w)
{
    if (w->fd >= 0 && w->blen)
        write_all(w->fd, w->buf, w->blen);
    w->blen = 0;
}

void orch__plog_write(struct plog_writer *w, enum orch_stream s, int64_t ts_ns,
                      const char *text, size_t len)
{
    char hdr[PLOG_HDR_LEN + 1];
    orch__plog_format_ts(ts_ns, hdr);
    hdr[PLOG_TS_LEN] = ' ';
    hdr[PLOG_TS_LEN + 1] = s == ORCH_STDERR ? 'E' : 'O';
    hdr[PLOG_TS_LEN + 2] = ' ';
    do {
        size_t n = len > PLOG_MAX_TEXT ? PLOG_MAX_TEXT : len;
        size_t total = PLOG_HDR_LEN + n + 1;
        /* Whole records only reach the file: a reader sees at most one
         * torn record at the end, while a write is in progress. */
        if (w->blen + total > PLOG_WBUF)
            orch__plog_flush(w);
        char *out = w->buf + w->blen;
        memcpy(out, hdr, PLOG_HDR_LEN);
        memcpy(out + PLOG_HDR_LEN, text, n);
        out[PLOG_HDR_LEN + n] = '\n';
        w->blen += total;
        w->size += total;
        if (w->size >= w->max_bytes) {
            orch__plog_flush(w);
            rotate(w);
        }
        text += n;
        len -= n;
    } while (len > 0);
}

void orch__plog_close(struct plog_writer *w)
{
    orch__plog_flush(w);
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    free(w->buf);
    w->buf = NULL;
}

/* ---- reader ---- */

struct lfile {
    int fd;
    off_t end;                 /* end of the complete records at open time */
};

struct reader {
    const struct orch_log_query *q;
    orch_log_cb cb;
    void *arg;
    struct lfile f[MAX_FILES]; /* f[0] newest (service.log) */
    unsigned n;
    bool has_current;          /* f[0] is service.log (not .1) */
    char *fwd;                 /* forward buffer, FWD_CAP */
    size_t flen;
    bool skipping;             /* inside a line too long to be a record */
    bool stop;                 /* cb said stop, or past until */
};

static bool cancelled(const struct reader *r)
{
    return r->q->cancel && atomic_load(r->q->cancel);
}

static bool passes(const struct reader *r, const struct orch_log_line *l)
{
    if (r->q->since_ns && l->ts_ns < r->q->since_ns)
        return false;
    if (r->q->until_ns && l->ts_ns > r->q->until_ns)
        return false;
    return true;
}

/* Offset just past the last newline, so a torn last record is left out. */
static off_t complete_end(int fd, off_t size)
{
    char b[4096];
    off_t end = size;
    while (end > 0) {
        size_t want = end > (off_t)sizeof(b) ? sizeof(b) : (size_t)end;
        ssize_t k = pread(fd, b, want, end - (off_t)want);
        if (k != (ssize_t)want)
            return 0;
        char *nl = memrchr(b, '\n', want);
        if (nl)
            return end - (off_t)want + (nl - b) + 1;
        end -= (off_t)want;
        if (size - end > PLOG_MAX_RECORD)
            return 0;
    }
    return 0;
}

static void open_files(struct reader *r, const char *dir)
{
    char p[PATH_MAX + 32];
    for (unsigned k = 0; k < MAX_FILES; k++) {
        cur_path(dir, k, p, sizeof(p));
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            if (k == 0)
                continue;   /* no current file yet: still look at .1 */
            break;
        }
        if (k == 0)
            r->has_current = true;
        struct stat st;
        if (fstat(fd, &st) != 0) {
            close(fd);
            break;
        }
        r->f[r->n].fd = fd;
        r->f[r->n].end = complete_end(fd, st.st_size);
        r->n++;
    }
}

/* Header of the record at off, or false. */
static bool header_at(int fd, off_t off, struct orch_log_line *l)
{
    char h[PLOG_HDR_LEN];
    if (pread(fd, h, sizeof(h), off) != (ssize_t)sizeof(h))
        return false;
    return orch__plog_parse(h, sizeof(h), l);
}

/* Where forward reading starts for `tail` matching records: file index and
 * offset. Walks back from the end with one block of memory. */
static void tail_start(struct reader *r, long tail, unsigned *fi, off_t *off, char *blk)
{
    long count = 0;
    *fi = 0;
    *off = r->n ? r->f[0].end : 0;
    if (tail == 0)
        return;
    for (unsigned i = 0; i < r->n; i++) {
        int fd = r->f[i].fd;
        off_t cur_end = r->f[i].end;
        off_t bstart = 0, blen = 0;   /* cached block [bstart, bstart+blen) */
        while (cur_end > 0) {
            /* find the last '\n' before cur_end - 1 */
            off_t scan = cur_end - 1, start = 0;
            for (;;) {
                if (scan <= 0) {
                    start = 0;
                    break;
                }
                if (!(scan > bstart && scan <= bstart + blen)) {
                    bstart = scan > BACK_BLOCK ? scan - BACK_BLOCK : 0;
                    ssize_t k = pread(fd, blk, (size_t)(scan - bstart), bstart);
                    if (k != scan - bstart) {
                        start = 0;
                        break;
                    }
                    blen = scan - bstart;
                }
                char *nl = memrchr(blk, '\n', (size_t)(scan - bstart));
                if (nl) {
                    start = bstart + (nl - blk) + 1;
                    break;
                }
                scan = bstart;
            }
            struct orch_log_line l;
            /* the same verdict as the forward pass: too long is malformed */
            if (cur_end - 1 - start <= PLOG_MAX_RECORD && header_at(fd, start, &l)) {
                if (r->q->since_ns && l.ts_ns < r->q->since_ns) {
                    *fi = i;
                    *off = cur_end;   /* everything older is out of range */
                    return;
                }
                if (passes(r, &l) && ++count == tail) {
                    *fi = i;
                    *off = start;
                    return;
                }
            }
            cur_end = start;
        }
        *fi = i;
        *off = 0;
    }
}

/* Where forward reading starts for `since` without tail: the newest file
 * whose first record is not after since. */
static void since_start(struct reader *r, unsigned *fi)
{
    *fi = r->n ? r->n - 1 : 0;
    for (unsigned i = 0; i < r->n; i++) {
        struct orch_log_line l;
        if (header_at(r->f[i].fd, 0, &l) && l.ts_ns <= r->q->since_ns) {
            *fi = i;
            return;
        }
    }
}

static void emit_line(struct reader *r, const char *p, size_t n)
{
    struct orch_log_line l;
    if (!orch__plog_parse(p, n, &l))
        return;
    if (r->q->until_ns && l.ts_ns > r->q->until_ns) {
        r->stop = true;
        return;
    }
    if (passes(r, &l) && !r->cb(r->arg, &l))
        r->stop = true;
}

/* Reads fd from its position up to limit (or EOF when limit < 0), emitting
 * whole records; a partial last record stays in the buffer. */
static cc_err pump(struct reader *r, int fd, off_t limit)
{
    off_t pos = lseek(fd, 0, SEEK_CUR);
    while (!r->stop) {
        size_t room = FWD_CAP - r->flen;
        if (limit >= 0 && pos >= limit)
            break;
        if (limit >= 0 && (off_t)room > limit - pos)
            room = (size_t)(limit - pos);
        ssize_t k = read(fd, r->fwd + r->flen, room);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return CC_EIO;
        if (k == 0)
            break;
        pos += k;
        r->flen += (size_t)k;
        size_t done = 0;
        while (!r->stop) {
            char *nl = memchr(r->fwd + done, '\n', r->flen - done);
            if (!nl)
                break;
            size_t n = (size_t)(nl - (r->fwd + done));
            if (!r->skipping)
                emit_line(r, r->fwd + done, n);
            r->skipping = false;
            done += n + 1;
        }
        memmove(r->fwd, r->fwd + done, r->flen - done);
        r->flen -= done;
        if (r->flen == FWD_CAP) {   /* no newline in two records' worth: junk */
            r->flen = 0;
            r->skipping = true;
        }
    }
    return CC_OK;
}

static void drop_partial(struct reader *r)
{
    r->flen = 0;
    r->skipping = false;
}

/* Follows service.log after the snapshot: reopens it on rotation, ends when
 * the writer is gone and everything is read. */
static cc_err follow(struct reader *r, const char *dir, plog_alive_fn alive, void *alive_arg)
{
    char p[PATH_MAX + 32];
    cur_path(dir, 0, p, sizeof(p));
    int fd = -1;
    if (r->n && r->has_current) {
        fd = dup(r->f[0].fd);   /* positioned at f[0].end by the caller */
        if (fd < 0)
            return CC_EIO;
        fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    cc_err err = CC_OK;
    while (!r->stop && !cancelled(r)) {
        bool was_alive = alive(alive_arg);
        if (fd >= 0 && (err = pump(r, fd, -1)) != CC_OK)
            break;
        /* Rotated (or created) since we opened it? */
        struct stat now, ours;
        if (stat(p, &now) == 0 && (fd < 0 || (fstat(fd, &ours) == 0 &&
                                              (now.st_ino != ours.st_ino ||
                                               now.st_dev != ours.st_dev)))) {
            int nfd = open(p, O_RDONLY | O_CLOEXEC);
            if (nfd >= 0) {
                if (fd >= 0 && (err = pump(r, fd, -1)) != CC_OK) {
                    close(nfd);
                    break;
                }
                if (fd >= 0)
                    close(fd);
                fd = nfd;
                drop_partial(r);
                continue;
            }
        }
        if (!was_alive)
            break;
        orch__sleep_ms(FOLLOW_POLL_MS);
    }
    if (fd >= 0)
        close(fd);
    return err;
}

cc_err orch__plog_read(const char *dir, const struct orch_log_query *q, plog_alive_fn alive,
                       void *alive_arg, orch_log_cb cb, void *arg, struct orch_err *e)
{
    struct reader *r = cc_xcalloc(1, sizeof(*r));
    r->q = q;
    r->cb = cb;
    r->arg = arg;
    r->fwd = cc_xmalloc(FWD_CAP);
    open_files(r, dir);
    cc_err err = CC_OK;
    unsigned fi = r->n ? r->n - 1 : 0;
    off_t off = 0;
    if (q->tail >= 0) {
        char *blk = cc_xmalloc(BACK_BLOCK);
        tail_start(r, q->tail, &fi, &off, blk);
        free(blk);
    } else if (q->since_ns) {
        since_start(r, &fi);
    }
    for (unsigned i = fi + 1; i-- > 0 && r->n && !r->stop;) {
        if (lseek(r->f[i].fd, i == fi ? off : 0, SEEK_SET) < 0) {
            err = orch_errf(e, CC_EIO, "check the state directory's disk",
                            "cannot read the log files in %s: %s", dir, strerror(errno));
            goto out;
        }
        if ((err = pump(r, r->f[i].fd, r->f[i].end)) != CC_OK) {
            orch_errf(e, err, "check the state directory's disk",
                      "cannot read the log files in %s", dir);
            goto out;
        }
        drop_partial(r);
    }
    if (q->follow && !r->stop && alive) {
        if (r->n)
            lseek(r->f[0].fd, r->f[0].end, SEEK_SET);
        if ((err = follow(r, dir, alive, alive_arg)) != CC_OK)
            orch_errf(e, err, "check the state directory's disk",
                      "cannot follow the log files in %s", dir);
    }
out:
    for (unsigned i = 0; i < r->n; i++)
        close(r->f[i].fd);
    free(r->fwd);
    free(r);
    return err;
}
