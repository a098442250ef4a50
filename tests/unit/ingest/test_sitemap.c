/* Sitemaps: the fixture sites' urlsets, index and .gz files; W3C dates;
 * the caps (50,000 URLs, 50 MB inflated, a gzip bomb); broken XML; no
 * entity expansion. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/buf.h"
#include "core/clock.h"
#include "fixture.h"
#include "ingest/web/sitemap.h"

static int64_t ms(const char *rfc3339)
{
    int64_t v;
    assert_int_equal(cc_parse_rfc3339(rfc3339, &v), CC_OK);
    return v;
}

static void parse_fixture(const char *rel, struct ingest_sitemap *s)
{
    size_t len;
    char *data = fixture_read(rel, &len);
    struct cc_diag d = { 0 };
    assert_int_equal(ingest_sitemap_parse(data, len, rel, s, &d), CC_OK);
    free(data);
}

static void test_urlset(void **state)
{
    (void)state;
    struct ingest_sitemap s;
    parse_fixture("sites/docusaurus/sitemap.xml", &s);
    assert_int_equal(s.kind, INGEST_SITEMAP_URLSET);
    assert_false(s.gzipped);
    assert_false(s.truncated);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.entries[0].loc, "http://docs.acme.test/");
    assert_true(s.entries[0].lastmod_ms == INGEST_SITEMAP_NO_TIME);
    assert_string_equal(s.entries[0].changefreq, "weekly");
    assert_true(s.entries[0].priority == 0.5);
    assert_string_equal(s.entries[1].loc, "http://docs.acme.test/docs/1.0/intro/");
    assert_true(s.entries[1].lastmod_ms == ms("2024-01-15T00:00:00Z"));
    assert_true(s.entries[2].lastmod_ms == ms("2024-03-02T09:15:00Z"));
    assert_true(s.entries[3].lastmod_ms == ms("2024-03-01T09:00:00Z"));
    ingest_sitemap_release(&s);
}

static void test_index(void **state)
{
    (void)state;
    struct ingest_sitemap s;
    parse_fixture("sites/sphinx/sitemap.xml", &s);
    assert_int_equal(s.kind, INGEST_SITEMAP_INDEX);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.entries[0].loc, "http://docs.acme.test/en/latest/sitemap.xml");
    assert_true(s.entries[0].lastmod_ms == ms("2024-03-05T12:00:00Z"));
    assert_string_equal(s.entries[1].loc, "http://docs.acme.test/en/v1.0/sitemap.xml");
    assert_true(s.entries[1].priority == -1);
    ingest_sitemap_release(&s);

    /* The per-version sitemap: unknown elements (xhtml:link) skipped. */
    parse_fixture("sites/sphinx/en/latest/sitemap.xml", &s);
    assert_int_equal(s.n, 2);
    assert_true(s.entries[0].priority == 1.0);
    assert_string_equal(s.entries[1].loc, "http://docs.acme.test/en/latest/quickstart.html");
    ingest_sitemap_release(&s);
}

static void test_gzip(void **state)
{
    (void)state;
    struct ingest_sitemap plain, gz;
    parse_fixture("sites/mkdocs/sitemap.xml", &plain);
    parse_fixture("sites/mkdocs/sitemap.xml.gz", &gz);
    assert_true(gz.gzipped);
    assert_int_equal(gz.n, 2);
    assert_int_equal(gz.n, plain.n);
    for (size_t i = 0; i < gz.n; i++) {
        assert_string_equal(gz.entries[i].loc, plain.entries[i].loc);
        assert_true(gz.entries[i].lastmod_ms == plain.entries[i].lastmod_ms);
    }
    assert_true(gz.entries[1].lastmod_ms == ms("2024-02-11T00:00:00Z"));
    ingest_sitemap_release(&plain);
    ingest_sitemap_release(&gz);
}

static void test_text_sitemap(void **state)
{
    (void)state;
    const char *txt = "\xEF\xBB\xBFhttps://docs.acme.test/a\r\n\n  http://docs.acme.test/b  \n";
    struct ingest_sitemap s;
    assert_int_equal(ingest_sitemap_parse(txt, strlen(txt), "t.txt", &s, NULL), CC_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.entries[1].loc, "http://docs.acme.test/b");
    ingest_sitemap_release(&s);
    struct cc_diag d = { 0 };
    const char *bad = "https://docs.acme.test/a\nnot a url\n";
    assert_int_equal(ingest_sitemap_parse(bad, strlen(bad), "t.txt", &s, &d), CC_EPARSE);
    assert_int_equal(d.line, 2);
    assert_int_equal(ingest_sitemap_parse("", 0, "empty", &s, &d), CC_EPARSE);
}

static void test_bad_xml(void **state)
{
    (void)state;
    static const char *const BAD[] = {
        "<urlset><url><loc>http://a.test/</loc></url>",                 /* unclosed */
        "<?xml version=\"1.0\"?><rss><channel></channel></rss>",         /* not a sitemap */
        "<html><body>Not found</body></html>",
        "<urlset><url><loc>http://a.test/</loc></url></urlset><x/>",     /* two roots */
        NULL,
    };
    for (const char *const *b = BAD; *b; b++) {
        struct ingest_sitemap s = { 0 };
        struct cc_diag d = { 0 };
        if (ingest_sitemap_parse(*b, strlen(*b), "bad.xml", &s, &d) != CC_EPARSE)
            fail_msg("accepted: %s", *b);
        assert_true(d.msg[0] != '\0');
        assert_int_equal(s.n, 0);
    }
    struct cc_diag d = { 0 };
    struct ingest_sitemap s;
    assert_int_equal(ingest_sitemap_parse(BAD[1], strlen(BAD[1]), "feed.xml", &s, &d),
                     CC_EPARSE);
    assert_non_null(strstr(d.msg, "<rss>"));
}

/* Entries without a loc are skipped; bad fields are ignored; no namespace is fine. */
static void test_odd_entries(void **state)
{
    (void)state;
    const char *x = "<urlset>"
                    "<url><lastmod>2024-01-01</lastmod></url>"
                    "<url><loc>   </loc></url>"
                    "<url><loc>\n  http://a.test/x?a=1&amp;b=2  \n</loc>"
                    "<lastmod>yesterday</lastmod><changefreq>Sometimes</changefreq>"
                    "<priority>1.5</priority></url>"
                    "<url><loc><![CDATA[http://a.test/cdata]]></loc><changefreq>DAILY</changefreq>"
                    "<priority>0.25</priority><lastmod>2024-05</lastmod></url>"
                    "</urlset>";
    struct ingest_sitemap s;
    assert_int_equal(ingest_sitemap_parse(x, strlen(x), NULL, &s, NULL), CC_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.skipped, 2);
    assert_string_equal(s.entries[0].loc, "http://a.test/x?a=1&b=2");
    assert_true(s.entries[0].lastmod_ms == INGEST_SITEMAP_NO_TIME);
    assert_string_equal(s.entries[0].changefreq, "");
    assert_true(s.entries[0].priority == -1);
    assert_string_equal(s.entries[1].loc, "http://a.test/cdata");
    assert_string_equal(s.entries[1].changefreq, "daily");
    assert_true(s.entries[1].priority == 0.25);
    assert_true(s.entries[1].lastmod_ms == ms("2024-05-01T00:00:00Z"));
    ingest_sitemap_release(&s);
}

/* Entities a document declares are never expanded (billion laughs), and
 * external ones are never loaded. */
static void test_entities(void **state)
{
    (void)state;
    const char *lol = "<?xml version=\"1.0\"?>\n"
                      "<!DOCTYPE urlset [\n"
                      " <!ENTITY a \"aaaaaaaaaa\">\n"
                      " <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
                      " <!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n"
                      " <!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">\n"
                      " <!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">\n"
                      " <!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">\n"
                      " <!ENTITY x SYSTEM \"file:///etc/passwd\">\n"
                      "]>\n"
                      "<urlset><url><loc>http://a.test/&f;</loc></url>"
                      "<url><loc>&x;</loc></url></urlset>";
    struct ingest_sitemap s = { 0 };
    cc_err err = ingest_sitemap_parse(lol, strlen(lol), "lol.xml", &s, NULL);
    if (err == CC_OK) {
        assert_int_equal(s.n, 1);
        assert_string_equal(s.entries[0].loc, "http://a.test/");
        assert_int_equal(s.skipped, 1);
        ingest_sitemap_release(&s);
    } else {
        assert_int_equal(err, CC_EPARSE);    /* libxml2 may refuse it outright */
    }
}

static void test_url_cap(void **state)
{
    (void)state;
    struct cc_buf b;
    cc_buf_init(&b, (size_t)16 << 20);
    cc_buf_addstr(&b, "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">");
    for (int i = 0; i < INGEST_SITEMAP_MAX_URLS + 5; i++)
        cc_buf_addf(&b, "<url><loc>http://a.test/%d</loc></url>", i);
    cc_buf_addstr(&b, "</urlset>");
    struct ingest_sitemap s;
    assert_int_equal(ingest_sitemap_parse(b.ptr, b.len, NULL, &s, NULL), CC_OK);
    assert_int_equal(s.n, INGEST_SITEMAP_MAX_URLS);
    assert_true(s.truncated);
    assert_string_equal(s.entries[INGEST_SITEMAP_MAX_URLS - 1].loc, "http://a.test/49999");
    ingest_sitemap_release(&s);
    cc_buf_release(&b);
}

static char *gzip_bytes(const void *data, size_t len, size_t *out_len)
{
    z_stream z = { 0 };
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY),
                     Z_OK);
    size_t cap = deflateBound(&z, len) + 64;
    char *out = malloc(cap);
    z.next_in = (unsigned char *)data;
    z.avail_in = (unsigned)len;
    z.next_out = (unsigned char *)out;
    z.avail_out = (unsigned)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_len = z.total_out;
    deflateEnd(&z);
    return out;
}

/* 60 MB of spaces compress to ~60 KB: refused at 50 MB, without holding more. */
static void test_gzip_bomb(void **state)
{
    (void)state;
    size_t n = (size_t)60 << 20;
    char *big = malloc(n);
    memset(big, ' ', n);
    memcpy(big, "<urlset>", 8);
    size_t zlen;
    char *z = gzip_bytes(big, n, &zlen);
    free(big);
    assert_true(zlen < n / 100);
    struct ingest_sitemap s;
    struct cc_diag d = { 0 };
    assert_int_equal(ingest_sitemap_parse(z, zlen, "bomb.xml.gz", &s, &d), CC_ELIMIT);
    assert_non_null(strstr(d.msg, "limit"));
    free(z);

    /* A damaged stream is a parse error. */
    size_t glen;
    const char *x = "<urlset><url><loc>http://a.test/</loc></url></urlset>";
    char *g = gzip_bytes(x, strlen(x), &glen);
    assert_int_equal(ingest_sitemap_parse(g, glen / 2, "cut.gz", &s, &d), CC_EPARSE);
    assert_int_equal(ingest_sitemap_parse(g, glen, "ok.gz", &s, &d), CC_OK);
    assert_int_equal(s.n, 1);
    ingest_sitemap_release(&s);
    free(g);
}

static void test_w3c_datetime(void **state)
{
    (void)state;
    static const struct { const char *in, *rfc; } OK[] = {
        { "1997", "1997-01-01T00:00:00Z" },
        { "1997-07", "1997-07-01T00:00:00Z" },
        { "1997-07-16", "1997-07-16T00:00:00Z" },
        { "1997-07-16T19:20+01:00", "1997-07-16T18:20:00Z" },
        { "1997-07-16T19:20:30+01:00", "1997-07-16T18:20:30Z" },
        { "1997-07-16T19:20:30.45+01:00", "1997-07-16T18:20:30.450Z" },
        { "1997-07-16T19:20:30Z", "1997-07-16T19:20:30Z" },
        { "1997-07-16T19:20:30", "1997-07-16T19:20:30Z" },
        { "1997-07-16T19:20:30+0100", "1997-07-16T18:20:30Z" },
        { "1997-07-16 19:20:30-05:00", "1997-07-17T00:20:30Z" },
        { NULL, NULL },
    };
    static const char *const BAD[] = { "", "97", "1997-7", "1997-13", "1997-02-30",
                                       "1997-07-16T25:00Z", "yesterday", "1997-07-16T19",
                                       "1997-07-16T19:20:30+01:00:00", NULL };
    for (size_t i = 0; OK[i].in; i++) {
        int64_t got;
        if (ingest_w3c_datetime_parse(OK[i].in, &got) != CC_OK)
            fail_msg("refused %s", OK[i].in);
        assert_true(got == ms(OK[i].rfc));
    }
    for (const char *const *b = BAD; *b; b++) {
        int64_t got;
        if (ingest_w3c_datetime_parse(*b, &got) == CC_OK)
            fail_msg("accepted %s", *b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urlset),
        cmocka_unit_test(test_index),
        cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_text_sitemap),
        cmocka_unit_test(test_bad_xml),
        cmocka_unit_test(test_odd_entries),
        cmocka_unit_test(test_entities),
        cmocka_unit_test(test_url_cap),
        cmocka_unit_test(test_gzip_bomb),
        cmocka_unit_test(test_w3c_datetime),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
