/*
 * test_metrics.c - the metrics registry as a scraper sees it: values,
 * escaping, cardinality limits, concurrency, both formats, content
 * negotiation, process metrics and promtool's verdict on the output.
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "observe/metrics.h"

#define RENDER_LIMIT (64u << 20)

/* Renders r into a heap string the caller frees. */
static char *render(struct obs_registry *r, enum obs_format fmt)
{
    struct cc_buf b;
    cc_buf_init(&b, RENDER_LIMIT);
    assert_int_equal(obs_render(r, fmt, &b), CC_OK);
    return cc_buf_take(&b);
}

static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p++)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return true;
    return false;
}

#define assert_line(text, line)                                           \
    do {                                                                  \
        if (!has_line((text), (line)))                                    \
            fail_msg("missing line: %s\n--- output ---\n%s", (line), (text)); \
    } while (0)

/* Value of the sample whose name-and-labels part is exactly `sample`. */
static double sample_value(const char *text, const char *sample)
{
    size_t n = strlen(sample);
    for (const char *p = text; (p = strstr(p, sample)); p++)
        if ((p == text || p[-1] == '\n') && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    fail_msg("missing sample: %s", sample);
    return NAN;
}

static size_t count_prefix(const char *text, const char *prefix)
{
    size_t n = 0, len = strlen(prefix);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, prefix, len) == 0)
            n++;
    return n;
}

/* Runs fn in a child and reports whether it died of SIGABRT. */
static bool aborts(void (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stderr))
            _exit(1);
        fn();
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void test_counter_and_gauge(void **state)
{
    struct obs_registry *r = obs_registry_new();
    struct obs_series *c = obs_series_nolabels(
        obs_counter(r, "cc_test_events_total", "Events.", NULL));
    struct obs_series *g = obs_series_nolabels(
        obs_gauge(r, "cc_test_queue_depth", "Depth.", NULL));

    obs_counter_inc(c);
    obs_counter_add(c, 2.5);
    obs_counter_add(c, -1);            /* ignored: counters never go down */
    obs_counter_add(c, NAN);           /* ignored */
    assert_true(obs_series_value(c) == 3.5);

    obs_gauge_set(g, 10);
    obs_gauge_add(g, -4);
    obs_gauge_add(g, 0.5);
    assert_true(obs_series_value(g) == 6.5);

    char *text = render(r, OBS_FMT_PROMETHEUS);
    assert_line(text, "cc_test_events_total 3.5");
    assert_line(text, "cc_test_queue_depth 6.5");
    free(text);
    obs_registry_free(r);
}

static void test_zero_samples_before_first_use(void **state)
{
    static const char *const labels[] = { "route", NULL };
    struct obs_registry *r = obs_registry_new();
    obs_counter(r, "cc_test_plain_total", "No labels.", NULL);
    obs_gauge(r, "cc_test_plain_bytes", "No labels.", NULL);
    obs_histogram(r, "cc_test_plain_seconds", "No labels.", NULL,
                  obs_latency_buckets, obs_latency_buckets_len);
    obs_counter(r, "cc_test_labelled_total", "Labels.", labels);

    char *text = render(r, OBS_FMT_PROMETHEUS);
    assert_line(text, "cc_test_plain_total 0");
    assert_line(text, "cc_test_plain_bytes 0");
    assert_line(text, "cc_test_plain_seconds_bucket{le=\"+Inf\"} 0");
    assert_line(text, "cc_test_plain_seconds_count 0");
    assert_line(text, "# TYPE cc_test_labelled_total counter");
    assert_int_equal(count_prefix(text, "cc_test_labelled_total"), 0);
    free(text);
    obs_registry_free(r);
}

static void test_histogram(void **state)
{
    static const double bounds[] = { 0.1, 1, 10 };
    static const char *const labels[] = { "stage", NULL };
    struct obs_registry *r = obs_registry_new();
    struct obs_family *f = obs_histogram(r, "cc_test_duration_seconds", "Durations.",
                                         labels, bounds, 3);
    const char *v[] = { "fetch" };
    struct obs_series *s = obs_series_get(f, v);

    obs_histogram_observe(s, 0.05);
    obs_histogram_observe(s, 0.1);     /* le is inclusive */
    obs_histogram_observe(s, 0.5);
    obs_histogram_observe(s, 5);
    obs_histogram_observe(s, 50);
    assert_int_equal(obs_histogram_count(s), 5);
    assert_true(fabs(obs_series_value(s) - 55.65) < 1e-9);

    char *text = render(r, OBS_FMT_PROMETHEUS);
    assert_line(text, "# TYPE cc_test_duration_seconds histogram");
    assert_line(text, "cc_test_duration_seconds_bucket{stage=\"fetch\",le=\"0.1\"} 2");
    assert_line(text, "cc_test_duration_seconds_bucket{stage=\"fetch\",le=\"1\"} 3");
    assert_line(text, "cc_test_duration_seconds_bucket{stage=\"fetch\",le=\"10\"} 4");
    assert_line(text, "cc_test_duration_seconds_bucket{stage=\"fetch\",le=\"+Inf\"} 5");
    assert_line(text, "cc_test_duration_seconds_count{stage=\"fetch\"} 5");
    assert_true(fabs(sample_value(text, "cc_test_duration_seconds_sum{stage=\"fetch\"}")
                     - 55.65) < 1e-9);
    free(text);
    obs_registry_free(r);
}

static void test_latency_buckets_le(void **state)
{
    struct obs_registry *r = obs_registry_new();
    obs_histogram(r, "cc_test_latency_seconds", "Latency.", NULL,
                  obs_latency_buckets, obs_latency_buckets_len);
    assert_int_equal(obs_latency_buckets_len, 14);
    char *text = render(r, OBS_FMT_PROMETHEUS);
    assert_line(text, "cc_test_latency_seconds_bucket{le=\"0.0005\"} 0");
    assert_line(text, "cc_test_latency_seconds_bucket{le=\"0.005\"} 0");
    assert_line(text, "cc_test_latency_seconds_bucket{le=\"2.5\"} 0");
    assert_line(text, "cc_test_latency_seconds_bucket{le=\"10\"} 0");
    assert_int_equal(count_prefix(text, "cc_test_latency_seconds_bucket"), 15);
    free(text);
    obs_registry_free(r);
}

static void test_number_formats(void **state)
{
    static const char *const labels[] = { "case", NULL };
    static const struct { const char *name; double v; const char *want; } cases[] = {
        { "int", 3, "3" },         { "neg", -2.5, "-2.5" },
        { "tenth", 0.1, "0.1" },   { "third", 1.0 / 3, "0.3333333333333333" },
        { "big", 1e20, "1e+20" },  { "large_int", 123456789012, "123456789012" },
        { "tiny", 1e-7, "1e-07" }, { "nan", NAN, "NaN" },
        { "inf", INFINITY, "+Inf" }, { "ninf", -INFINITY, "-Inf" },
        { "negzero", -0.0, "0" },
    };
    struct obs_registry *r = obs_registry_new();
    struct obs_family *f = obs_gauge(r, "cc_test_value_ratio", "Values.", labels);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *v[] = { cases[i].name };
        obs_gauge_set(obs_series_get(f, v), cases[i].v);
    }
    char *text = render(r, OBS_FMT_PROMETHEUS);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char line[128];
        snprintf(line, sizeof line, "cc_test_value_ratio{case=\"%s\"} %s",
                 cases[i].name, cases[i].want);
        assert_line(text, line);
    }
    free(text);
    obs_registry_free(r);
}

static void test_escaping(void **state)
{
    static const char *const labels[] = { "path", "user", NULL };
    struct obs_registry *r = obs_registry_new();
    struct obs_family *f = obs_counter(r, "cc_test_hits_total",
                                       "Hits with \"quotes\", a \\ and\na newline.", labels);
    const char *v[] = { "a\"b\\c\nd", "j\xc3\xbcrgen \xe2\x9c\x93" };
    obs_counter_inc(obs_series_get(f, v));

    char *text = render(r, OBS_FMT_PROMETHEUS);
    assert_line(text, "# HELP cc_test_hits_total Hits with \"quotes\", a \\\\ and\\na newline.");
    assert_line(text, "cc_test_hits_total{path=\"a\\\"b\\\\c\\nd\",user=\"j\xc3\xbcrgen \xe2\x9c\x93\"} 1");
    free(text);

    text = render(r, OBS_FMT_OPENMETRICS);
    assert_line(text, "# HELP cc_test_hits Hits with \\\"quotes\\\", a \\\\ and\\na newline.");
    assert_line(text, "cc_test_hits_total{path=\"a\\\"b\\\\c\\nd\",user=\"j\xc3\xbcrgen \xe2\x9c\x93\"} 1");
    free(text);
    obs_registry_free(r);
}

static void test_invalid_utf8_and_long_values(void **state)
{
    static const char *const labels[] = { "v", NULL };
    struct obs_registry *r = obs_registry_new();
    struct obs_family *f = obs_counter(r, "cc_test_raw_total", "Raw bytes.", labels);
    const char *bad[] = { "a\xff" "b\xc0\xaf" };
    struct obs_series *s = obs_series_get(f, bad);
    obs_counter_inc(s);
    /* The cleaned value is the identity: the same bytes find the same series. */
    assert_ptr_equal(obs_series_get(f, bad), s);

    char longv[3000];
    memset(longv, 'x', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    const char *lv[] = { longv };
    obs_counter_inc(obs_series_get(f, lv));

    char *text = render(r, OBS_FMT_PROMETHEUS);
    assert_line(text, "cc_test_raw_total{v=\"a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd\"} 1");
    char want[1100];
    snprintf(want, sizeof want, "cc_test_raw_total{v=\"%.1024s\"} 1", longv);
    assert_line(text, want);
    free(text);
    obs_registry_free(r);
}

static void test_cardinality_cap(void **state)
{
    static const char *const labels[] = { "id", NULL };
    struct obs_registry *r = obs_registry_new();
    struct obs_family *f = obs_gauge(r, "cc_test_items_count", "Items.", labels);
    char id[32];
    const char *v[] = { id };
    struct obs_series *first = NULL;

    for (int i = 0; i < 10000; i++) {
        snprintf(id, sizeof id, "item-%d", i);
        struct obs_series *s = obs_series_get(f, v);
        obs_gauge_set(s, i);
        if (i == 0)
            first = s;
    }
    snprintf(id, sizeof id, "item-10000");
    struct obs_series *sink = obs_series_get(f, v);
    snprintf(id, sizeof id, "item-10001");
    assert_ptr_equal(obs_series_get(f, v), sink);
    assert_ptr_not_equal(sink, first);
    obs_gauge_set(sink, 42);           /* usable, never rendered */
    snprintf(id, sizeof id, "item-0");
    assert_ptr_equal(obs_series_get(f, v), first);

    char *text = render(r, OBS_FMT_PROMETHEUS);
    assert_int_equal(count_prefix(text, "cc_test_items_count{"), 10000);
    assert_null(strstr(text, "item-10000"));
    assert_line(text, "cc_metrics_series_dropped_total{metric=\"cc_test_items_count\"} 2");
    free(text);
    obs_registry_free(r);
}

#define THREADS 4
#define PER_THREAD 200000

struct race {
    struct obs_registry *r;
    struct obs_family *labelled;
    struct obs_series *counter, *hist;
    atomic_int done;
    int renders;
};

static void *bump(void *arg)
{
    struct race *race = arg;
    const char *v[] = { "shared" };
    for (int i = 0; i < PER_THREAD; i++) {
        obs_counter_inc(race->counter);
        obs_histogram_observe(race->hist, 0.001 * (i % 100));
        if (i % 1000 == 0)
            obs_counter_add(obs_series_get(race->labelled, v), 1000);
    }
    return NULL;
}

static void *scrape(void *arg)
{
    struct race *race = arg;
    while (!atomic_load(&race->done)) {
        char *text = render(race->r, race->renders % 2 ? OBS_FMT_OPENMETRICS
                                                       : OBS_FMT_PROMETHEUS);
        free(text);
        race->renders++;
    }
    return NULL;
}

static void test_concurrent_updates(void **state)
{
    static const char *const labels[] = { "kind", NULL };
    struct race race = { .r = obs_registry_new() };
    race.counter = obs_series_nolabels(obs_counter(race.r, "cc_test_ops_total", "Ops.", NULL));
    race.hist = obs_series_nolabels(obs_histogram(race.r, "cc_test_op_seconds", "Op time.",
                                                  NULL, obs_latency_buckets,
                                                  obs_latency_buckets_len));
    race.labelled = obs_counter(race.r, "cc_test_batches_total", "Batches.", labels);
    obs_register_process_metrics(race.r);
    atomic_init(&race.done, 0);

    pthread_t workers[THREADS], scraper;
    assert_int_equal(pthread_create(&scraper, NULL, scrape, &race), 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&workers[i], NULL, bump, &race), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(workers[i], NULL);
    atomic_store(&race.done, 1);
    pthread_join(scraper, NULL);

    assert_true(obs_series_value(race.counter) == (double)THREADS * PER_THREAD);
    assert_int_equal(obs_histogram_count(race.hist), THREADS * PER_THREAD);
    char *text = render(race.r, OBS_FMT_PROMETHEUS);
    assert_line(text, "cc_test_ops_total 800000");
    assert_line(text, "cc_test_op_seconds_count 800000");
    assert_line(text, "cc_test_op_seconds_bucket{le=\"+Inf\"} 800000");
    assert_line(text, "cc_test_batches_total{kind=\"shared\"} 800000");
    free(text);
    assert_true(race.renders > 0);
    obs_registry_free(race.r);
}

static void test_openmetrics_vs_text(void **state)
{
    static const double bounds[] = { 0.5, 1 };
    struct obs_registry *r = obs_registry_new();
    obs_counter_inc(obs_series_nolabels(obs_counter(r, "cc_test_jobs_total", "Jobs.", NULL)));
    obs_histogram_observe(obs_series_nolabels(obs_histogram(r, "cc_test_job_seconds",
                                                            "Job time.", NULL, bounds, 2)),
                          0.7);

    char *text = render(r, OBS_FMT_PROMETHEUS);
    assert_line(text, "# TYPE cc_test_jobs_total counter");
    assert_line(text, "# HELP cc_test_jobs_total Jobs.");
    assert_line(text, "cc_test_jobs_total 1");
    assert_line(text, "cc_test_job_seconds_bucket{le=\"1\"} 1");
    assert_null(strstr(text, "# EOF"));
    free(text);

    text = render(r, OBS_FMT_OPENMETRICS);
    assert_line(text, "# TYPE cc_test_jobs counter");
    assert_line(text, "# HELP cc_test_jobs Jobs.");
    assert_line(text, "cc_test_jobs_total 1");
    assert_line(text, "cc_test_job_seconds_bucket{le=\"0.5\"} 0");
    assert_line(text, "cc_test_job_seconds_bucket{le=\"1.0\"} 1");
    assert_line(text, "cc_test_job_seconds_bucket{le=\"+Inf\"} 1");
    size_t len = strlen(text);
    assert_true(len > 6 && strcmp(text + len - 6, "# EOF\n") == 0);
    assert_int_equal(count_prefix(text, "# EOF"), 1);
    free(text);
    obs_registry_free(r);
}

static void test_accept_negotiation(void **state)
{
    assert_int_equal(obs_format_from_accept(NULL), OBS_FMT_PROMETHEUS);
    assert_int_equal(obs_format_from_accept(""), OBS_FMT_PROMETHEUS);
    assert_int_equal(obs_format_from_accept("*/*"), OBS_FMT_PROMETHEUS);
    assert_int_equal(obs_format_from_accept("text/plain;version=0.0.4"), OBS_FMT_PROMETHEUS);
    assert_int_equal(obs_format_from_accept("application/json"), OBS_FMT_PROMETHEUS);
    assert_int_equal(obs_format_from_accept("application/openmetrics-text"),
                     OBS_FMT_OPENMETRICS);
    assert_int_equal(obs_format_from_accept("Application/OpenMetrics-Text; version=1.0.0"),
                     OBS_FMT_OPENMETRICS);
    /* What Prometheus 2.x sends by default. */
    assert_int_equal(obs_format_from_accept(
                         "application/openmetrics-text;version=1.0.0,application/"
                         "openmetrics-text;version=0.0.1;q=0.75,text/plain;"
                         "version=0.0.4;q=0.5,*/*;q=0.1"),
                     OBS_FMT_OPENMETRICS);
    assert_int_equal(obs_format_from_accept("application/openmetrics-text; q=0, text/plain"),
                     OBS_FMT_PROMETHEUS);
    assert_int_equal(obs_format_from_accept("application/openmetrics-text;q=0"),
                     OBS_FMT_PROMETHEUS);
    assert_int_equal(obs_format_from_accept(
                         "text/plain;q=0.5, application/openmetrics-text;q=0.9"),
                     OBS_FMT_OPENMETRICS);
    assert_int_equal(obs_format_from_accept(
                         "application/openmetrics-text;q=0.2, text/plain;q=0.8"),
                     OBS_FMT_PROMETHEUS);
    assert_int_equal(obs_format_from_accept("application/openmetrics-text;version=9.9.9"),
                     OBS_FMT_PROMETHEUS);
    assert_int_equal(obs_format_from_accept("application/openmetrics-text;q=bogus"),
                     OBS_FMT_PROMETHEUS);
    assert_string_equal(obs_content_type(OBS_FMT_PROMETHEUS),
                        "text/plain; version=0.0.4; charset=utf-8");
    assert_string_equal(obs_content_type(OBS_FMT_OPENMETRICS),
                        "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

static void test_process_metrics(void **state)
{
    struct obs_registry *r = obs_registry_new();
    obs_register_process_metrics(r);
    obs_register_process_metrics(r);   /* idempotent */

    char *text = render(r, OBS_FMT_PROMETHEUS);
    assert_int_equal(count_prefix(text, "# TYPE process_cpu_seconds_total counter"), 1);
    assert_true(sample_value(text, "process_resident_memory_bytes") > 0);
    assert_true(sample_value(text, "process_virtual_memory_bytes") >=
                sample_value(text, "process_resident_memory_bytes"));
    assert_true(sample_value(text, "process_open_fds") >= 3);
    assert_true(sample_value(text, "process_max_fds") >= sample_value(text, "process_open_fds"));
    assert_true(sample_value(text, "process_threads") >= 1);
    assert_true(sample_value(text, "process_cpu_seconds_total") >= 0);
    double start = sample_value(text, "process_start_time_seconds");
    double now = (double)time(NULL);
    assert_true(start > now - 86400 && start <= now + 2);
    free(text);
    obs_registry_free(r);
}

struct tick {
    struct obs_series *g;
    int calls;
};

static void collect_ticks(void *arg, struct obs_registry *r)
{
    struct tick *t = arg;
    obs_gauge_set(t->g, ++t->calls);
}

static void test_collectors_run_before_render(void **state)
{
    struct obs_registry *r = obs_registry_new();
    struct tick t = { .g = obs_series_nolabels(obs_gauge(r, "cc_test_scrapes", "Scrapes.",
                                                         NULL)) };
    obs_register_collector(r, collect_ticks, &t);
    char *text = render(r, OBS_FMT_PROMETHEUS);
    assert_line(text, "cc_test_scrapes 1");
    free(text);
    text = render(r, OBS_FMT_PROMETHEUS);
    assert_line(text, "cc_test_scrapes 2");
    free(text);
    obs_registry_free(r);
}

static void test_render_limit_leaves_buffer_unchanged(void **state)
{
    struct obs_registry *r = obs_registry_new();
    obs_gauge(r, "cc_test_small_bytes", "Small.", NULL);
    struct cc_buf b;
    cc_buf_init(&b, 40);
    assert_int_equal(cc_buf_addstr(&b, "keep"), CC_OK);
    assert_int_equal(obs_render(r, OBS_FMT_PROMETHEUS, &b), CC_ELIMIT);
    assert_string_equal(cc_buf_str(&b), "keep");
    cc_buf_release(&b);
    obs_registry_free(r);
}

static void test_render_1000_series(void **state)
{
    static const char *const labels[] = { "route", "method", NULL };
    struct obs_registry *r = obs_registry_new();
    struct obs_family *f = obs_histogram(r, "cc_test_request_seconds", "Requests.", labels,
                                         obs_latency_buckets, obs_latency_buckets_len);
    char route[32];
    const char *v[] = { route, "GET" };
    for (int i = 0; i < 1000; i++) {
        snprintf(route, sizeof route, "/r/%d", i);
        obs_histogram_observe(obs_series_get(f, v), i * 0.001);
    }
    char *text = render(r, OBS_FMT_PROMETHEUS);
    assert_int_equal(count_prefix(text, "cc_test_request_seconds_count{"), 1000);
    assert_int_equal(count_prefix(text, "cc_test_request_seconds_bucket{"), 15000);
    /* Series render in creation order. */
    assert_true(strstr(text, "route=\"/r/1\",") < strstr(text, "route=\"/r/999\","));
    free(text);
    obs_registry_free(r);
}

static void test_reregistration(void **state)
{
    static const char *const labels[] = { "a", NULL };
    struct obs_registry *r = obs_registry_new();
    struct obs_family *f = obs_counter(r, "cc_test_same_total", "Same.", labels);
    assert_ptr_equal(obs_counter(r, "cc_test_same_total", "Same.", labels), f);
    obs_registry_free(r);
}

static void bad_name(void)
{
    obs_gauge(obs_registry_new(), "cc-bad", "x", NULL);
}

static void counter_without_total(void)
{
    obs_counter(obs_registry_new(), "cc_test_requests", "x", NULL);
}

static void bad_label(void)
{
    static const char *const labels[] = { "ok", "__reserved", NULL };
    obs_gauge(obs_registry_new(), "cc_test_x", "x", labels);
}

static void type_clash(void)
{
    struct obs_registry *r = obs_registry_new();
    obs_gauge(r, "cc_test_thing", "x", NULL);
    obs_histogram(r, "cc_test_thing", "x", NULL, obs_latency_buckets, 3);
}

static void label_clash(void)
{
    static const char *const a[] = { "a", NULL }, *const b[] = { "b", NULL };
    struct obs_registry *r = obs_registry_new();
    obs_gauge(r, "cc_test_thing", "x", a);
    obs_gauge(r, "cc_test_thing", "x", b);
}

static void suffix_clash(void)
{
    struct obs_registry *r = obs_registry_new();
    obs_histogram(r, "cc_test_wait_seconds", "x", NULL, obs_latency_buckets, 3);
    obs_gauge(r, "cc_test_wait_seconds_count", "x", NULL);
}

static void unsorted_buckets(void)
{
    static const double b[] = { 1, 0.5 };
    obs_histogram(obs_registry_new(), "cc_test_h", "x", NULL, b, 2);
}

static void wrong_type_update(void)
{
    struct obs_registry *r = obs_registry_new();
    obs_gauge_set(obs_series_nolabels(obs_counter(r, "cc_test_c_total", "x", NULL)), 1);
}

static void test_registration_errors_abort(void **state)
{
    assert_true(aborts(bad_name));
    assert_true(aborts(counter_without_total));
    assert_true(aborts(bad_label));
    assert_true(aborts(type_clash));
    assert_true(aborts(label_clash));
    assert_true(aborts(suffix_clash));
    assert_true(aborts(unsorted_buckets));
    assert_true(aborts(wrong_type_update));
}

/* Everything tricky in one exposition; promtool must find nothing to say. */
static void test_promtool_accepts_output(void **state)
{
    static const char *const labels[] = { "path", "who", NULL };
    static const char *const one[] = { "stage", NULL };
    /* promtool is a test dependency (scripts/deps.sh installs it): its
     * absence is a failure, never a skip. */
    if (system("command -v promtool >/dev/null 2>&1") != 0)
        fail_msg("promtool is not installed: run scripts/deps.sh (Debian package prometheus)");
    struct obs_registry *r = obs_registry_new();
    struct obs_family *hits = obs_counter(r, "cc_test_requests_total",
                                          "Requests with a \\ backslash\nand \"quotes\".",
                                          labels);
    const char *tricky[][2] = {
        { "/a\"quoted\"", "back\\slash" }, { "new\nline", "\xe6\x97\xa5\xe6\x9c\xac" },
        { "", "emoji \xf0\x9f\x9a\x80" },  { "bad\xff" "byte", "x" },
    };
    for (size_t i = 0; i < 4; i++)
        obs_counter_add(obs_series_get(hits, tricky[i]), (double)i + 0.25);
    struct obs_family *h = obs_histogram(r, "cc_test_stage_duration_seconds", "Stages.", one,
                                         obs_latency_buckets, obs_latency_buckets_len);
    const char *stage[] = { "parse" };
    obs_histogram_observe(obs_series_get(h, stage), 0.003);
    obs_histogram_observe(obs_series_get(h, stage), 42);
    obs_gauge_set(obs_series_nolabels(obs_gauge(r, "cc_test_ratio", "A ratio.", NULL)), NAN);
    obs_register_process_metrics(r);

    char path[] = "/tmp/cc_metrics_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char *text = render(r, OBS_FMT_PROMETHEUS);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);

    char cmd[256], out[4096] = "";
    snprintf(cmd, sizeof cmd, "promtool check metrics < %s 2>&1", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    unlink(path);
    if (status != 0 || n != 0)
        fail_msg("promtool status %d:\n%s\n--- exposition ---\n%s", status, out, text);
    free(text);
    obs_registry_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_and_gauge),
        cmocka_unit_test(test_zero_samples_before_first_use),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_latency_buckets_le),
        cmocka_unit_test(test_number_formats),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_invalid_utf8_and_long_values),
        cmocka_unit_test(test_cardinality_cap),
        cmocka_unit_test(test_concurrent_updates),
        cmocka_unit_test(test_openmetrics_vs_text),
        cmocka_unit_test(test_accept_negotiation),
        cmocka_unit_test(test_process_metrics),
        cmocka_unit_test(test_collectors_run_before_render),
        cmocka_unit_test(test_render_limit_leaves_buffer_unchanged),
        cmocka_unit_test(test_render_1000_series),
        cmocka_unit_test(test_reregistration),
        cmocka_unit_test(test_registration_errors_abort),
        cmocka_unit_test(test_promtool_accepts_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
