/*
 * feed_bench.c - the feed parser in-process over many files, for
 * bench/sources_feeds.sh: what `feed parse` does per file (read, parse,
 * write the JSON) without a process start per file, so it can be set
 * against feedparser.parse() in one Python process.
 * Usage: bench_feed FILE...   Prints {"files", "items", "cpu_s", "wall_s"}.
 * libxml2 is loaded (one small feed parsed) before the clock starts, as
 * feedparser is imported before its clock starts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "ingest/feed/feed.h"

static double secs(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int read_all(const char *path, struct cc_buf *b)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -1;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        cc_buf_add(b, chunk, n);
    fclose(fp);
    return 0;
}

int main(int argc, char **argv)
{
    static const char warm[] = "<rss version=\"2.0\"><channel><title>w</title><item>"
                               "<description>&lt;p&gt;&lt;a href=\"x\"&gt;w&lt;/a&gt;"
                               "</description></item></channel></rss>";
    struct feed *wf = NULL;
    if (feed_parse((const uint8_t *)warm, sizeof(warm) - 1, NULL, NULL, NULL, &wf, NULL) != CC_OK)
        return 1;
    feed_free(wf);
    size_t items = 0;
    double c0 = secs(CLOCK_PROCESS_CPUTIME_ID), w0 = secs(CLOCK_MONOTONIC);
    struct cc_buf in, out;
    cc_buf_init(&in, 256u << 20);
    cc_buf_init(&out, SIZE_MAX / 2);
    for (int i = 1; i < argc; i++) {
        struct feed *f = NULL;
        struct cc_diag d = {0};
        cc_buf_reset(&in);
        cc_buf_reset(&out);
        if (read_all(argv[i], &in) != 0 ||
            feed_parse((const uint8_t *)cc_buf_str(&in), in.len, NULL, NULL, NULL, &f, &d) ||
            feed_write_json(f, &out)) {
            fprintf(stderr, "bench_feed: %s: %s\n", argv[i], d.msg);
            return 1;
        }
        items += f->n_entries;
        feed_free(f);
    }
    printf("{\"files\": %d, \"items\": %zu, \"cpu_s\": %.6f, \"wall_s\": %.6f}\n", argc - 1,
           items, secs(CLOCK_PROCESS_CPUTIME_ID) - c0, secs(CLOCK_MONOTONIC) - w0);
    cc_buf_release(&in);
    cc_buf_release(&out);
    return 0;
}
