/*
 * test_feed.c - the feed parser through its public API: encodings (BOMs,
 * HTTP charset over the prolog, wrong declarations), the sanitizer's
 * allow-list, dedup keys (ids, repeated ids, normalized URLs, content
 * hashes), limits, and what is not a feed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "ingest/feed/feed.h"
#include "ingest/feed/feed_int.h"

static struct feed *parse_ct(const char *doc, size_t len, const char *ctype,
                             const struct feed_limits *lim)
{
    struct feed *f = NULL;
    struct cc_diag d = {0};
    cc_err err = feed_parse((const uint8_t *)doc, len, ctype, NULL, lim, &f, &d);
    if (err)
        fail_msg("feed_parse: %s: %s", cc_err_str(err), d.msg);
    return f;
}

static struct feed *parse(const char *doc)
{
    return parse_ct(doc, strlen(doc), NULL, NULL);
}

#define RSS_HEAD "<rss version=\"2.0\"><channel><title>t</title><link>http://x.example/</link>"
#define RSS_TAIL "</channel></rss>"

/* ---- encodings ---- */

static void test_encoding_order(void **state)
{
    (void)state;
    /* "é" as latin-1 (0xE9) and as UTF-8 (C3 A9) */
    const char latin[] = "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>" RSS_HEAD
                         "<item><title>caf\xE9</title></item>" RSS_TAIL;
    struct feed *f = parse_ct(latin, sizeof(latin) - 1, NULL, NULL);
    assert_string_equal(f->encoding, "iso-8859-1");
    assert_string_equal(f->entries[0].title, "caf\xC3\xA9");
    assert_false(f->bozo);
    feed_free(f);

    /* HTTP charset beats the prolog */
    const char utf8[] = "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>" RSS_HEAD
                        "<item><title>caf\xC3\xA9</title></item>" RSS_TAIL;
    f = parse_ct(utf8, sizeof(utf8) - 1, "application/rss+xml; charset=\"UTF-8\"", NULL);
    assert_string_equal(f->encoding, "utf-8");
    assert_string_equal(f->entries[0].title, "caf\xC3\xA9");
    assert_false(f->bozo);
    feed_free(f);

    /* a UTF-8 BOM beats both */
    const char bom[] = "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>" RSS_HEAD
                       "<item><title>caf\xC3\xA9</title></item>" RSS_TAIL;
    f = parse_ct(bom, sizeof(bom) - 1, "text/xml; charset=iso-8859-1", NULL);
    assert_string_equal(f->encoding, "utf-8");
    assert_string_equal(f->entries[0].title, "caf\xC3\xA9");
    feed_free(f);

    /* latin-1 declared as UTF-8: windows-1252 and bozo */
    const char lie[] = "<?xml version=\"1.0\" encoding=\"utf-8\"?>" RSS_HEAD
                       "<item><title>caf\xE9 \x80</title></item>" RSS_TAIL;
    f = parse_ct(lie, sizeof(lie) - 1, NULL, NULL);
    assert_true(f->bozo);
    assert_string_equal(f->encoding, "windows-1252");
    assert_string_equal(f->entries[0].title, "caf\xC3\xA9 \xE2\x82\xAC");
    assert_string_equal(f->bozo_message, "document declared as utf-8, but parsed as windows-1252");
    feed_free(f);

    /* bytes windows-1252 leaves undefined: latin-1 */
    const char undefined[] = RSS_HEAD "<item><title>a\x81z</title></item>" RSS_TAIL;
    f = parse_ct(undefined, sizeof(undefined) - 1, NULL, NULL);
    assert_string_equal(f->encoding, "iso-8859-1");
    assert_string_equal(f->entries[0].title, "a\xC2\x81z");
    feed_free(f);

    /* an encoding iconv does not know, over valid UTF-8 */
    const char unknown[] = "<?xml version=\"1.0\" encoding=\"x-klingon\"?>" RSS_HEAD
                           "<item><title>ok</title></item>" RSS_TAIL;
    f = parse_ct(unknown, sizeof(unknown) - 1, NULL, NULL);
    assert_true(f->bozo);
    assert_string_equal(f->encoding, "utf-8");
    feed_free(f);
}

static void test_utf16(void **state)
{
    (void)state;
    const char *ascii = "<?xml version=\"1.0\" encoding=\"utf-16\"?>" RSS_HEAD
                        "<item><title>sixteen</title></item>" RSS_TAIL;
    size_t n = strlen(ascii);
    for (int variant = 0; variant < 3; variant++) {
        /* 0: LE with BOM, 1: BE with BOM, 2: LE without BOM */
        char *b = malloc(2 * n + 2);
        size_t off = 0;
        if (variant == 0) {
            b[off++] = (char)0xFF;
            b[off++] = (char)0xFE;
        } else if (variant == 1) {
            b[off++] = (char)0xFE;
            b[off++] = (char)0xFF;
        }
        for (size_t i = 0; i < n; i++) {
            b[off++] = variant == 1 ? 0 : ascii[i];
            b[off++] = variant == 1 ? ascii[i] : 0;
        }
        struct feed *f = parse_ct(b, off, NULL, NULL);
        assert_string_equal(f->encoding, variant == 1 ? "utf-16be" : "utf-16le");
        assert_int_equal(f->n_entries, 1);
        assert_string_equal(f->entries[0].title, "sixteen");
        feed_free(f);
        free(b);
    }
}

/* ---- the sanitizer ---- */

static const char *sanitize(struct feed *f, const char *html)
{
    return feed__sanitize(f, html, "https://base.example/dir/page");
}

static void test_sanitizer(void **state)
{
    (void)state;
    struct feed *f = parse(RSS_HEAD RSS_TAIL);
    static const struct { const char *in, *want; } cases[] = {
        {"plain text", "plain text"},
        {"<p>a <b>b</b> <i>c</i></p>", "<p>a <b>b</b> <i>c</i></p>"},
        {"<script>alert(1)</script>x", "x"},
        {"<style>p{}</style><p>y</p>", "<p>y</p>"},
        {"<iframe src=\"https://e.example/\"></iframe>z", "z"},
        {"<p onclick=\"x()\" class=\"c\">t</p>", "<p class=\"c\">t</p>"},
        {"<a href=\"javascript:alert(1)\">j</a>", "<a>j</a>"},
        {"<a href=\" JavaScript:alert(1)\">j</a>", "<a>j</a>"},
        {"<a href=\"vbscript:x\">v</a>", "<a>v</a>"},
        {"<a href=\"data:text/html,x\">d</a>", "<a>d</a>"},
        {"<img src=\"data:image/png;base64,AAAA\">",
         "<img src=\"data:image/png;base64,AAAA\" />"},
        {"<img src=\"data:image/svg+xml,<svg/>\">", "<img />"},
        {"<a href=\"../up\">u</a>", "<a href=\"https://base.example/up\">u</a>"},
        {"<img src=\"i.png\" onerror=\"x()\" alt=\"a\">",
         "<img src=\"https://base.example/dir/i.png\" alt=\"a\" />"},
        {"<a href=\"mailto:a@b.example\">m</a>", "<a href=\"mailto:a@b.example\">m</a>"},
        {"<blink>un<u>wrapped</u></blink>", "un<u>wrapped</u>"},
        {"<form><input value=\"x\"></form>after", "after"},
        {"a &amp; b &lt; c", "a &amp; b &lt; c"},
        {"<p title='q\"uote'>x</p>", "<p title=\"q&quot;uote\">x</p>"},
        {"<p>unclosed <b>bold", "<p>unclosed <b>bold</b></p>"},
        {"<svg><script>x</script></svg>ok", "ok"},
        {"<object data=\"x\"><embed src=\"y\"></object>k", "k"},
        {"<br><hr>", "<br /><hr />"},
        /* the fast path (no libxml2) agrees with the slow one */
        {"<p>a <b>b</b> &amp; <em>c</em><br /></p>", "<p>a <b>b</b> &amp; <em>c</em><br /></p>"},
        {"<p>unbalanced <b>x</p>", "<p>unbalanced <b>x</b></p>"},
        {"<P>upper</P>", "<p>upper</p>"},
        {"a > b", "a &gt; b"},
        {"&quot;q&quot; &#8212;", "\"q\" \xE2\x80\x94"},
        {"<b onclick=\"x\">y</b>", "<b>y</b>"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = sanitize(f, cases[i].in);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("sanitize '%s': want '%s', got '%s'", cases[i].in, cases[i].want, got);
    }
    assert_string_equal(feed__html_text(f, "<b>Bold</b> &amp; <i>it</i>"), "Bold & it");
    assert_string_equal(feed__html_text(f, "a < b"), "a < b");
    assert_true(feed__looks_like_html("x &eacute; y"));
    assert_false(feed__looks_like_html("fish & chips < 5"));
    feed_free(f);
}

/* ---- dedup keys ---- */

static const char *key(const struct feed *f, size_t i, char *buf)
{
    assert_int_equal(feed_entry_key(f, i, buf, FEED_KEY_MAX + 1), CC_OK);
    return buf;
}

static void test_entry_keys(void **state)
{
    (void)state;
    char a[FEED_KEY_MAX + 1], b[FEED_KEY_MAX + 1];
    struct feed *f = parse(RSS_HEAD
        "<item><title>one</title><link>http://x.example/1</link><guid>g1</guid></item>"
        "<item><title>dup a</title><link>http://x.example/a</link><guid>same</guid></item>"
        "<item><title>dup b</title><link>http://x.example/b</link><guid>same</guid></item>"
        "<item><title>no guid</title><link>HTTP://X.Example:80/p?q=1#frag</link></item>"
        "<item><title>bare</title><description>body</description></item>"
        "<item><title>bare</title><description>other body</description></item>"
        RSS_TAIL);
    assert_string_equal(key(f, 0, a), "id:g1");
    key(f, 1, a);
    key(f, 2, b);
    assert_true(strncmp(a, "id:same#", 8) == 0);
    assert_int_equal(strlen(a), 8 + 16);
    assert_string_not_equal(a, b); /* both entries survive */
    assert_string_equal(key(f, 3, a), "url:http://x.example/p?q=1");
    key(f, 4, a);
    key(f, 5, b);
    assert_true(strncmp(a, "hash:", 5) == 0 && strlen(a) == 5 + 32);
    assert_string_not_equal(a, b);
    assert_int_equal(feed_entry_key(f, 6, a, sizeof(a)), CC_EINVAL);
    assert_int_equal(feed_entry_key(f, 0, a, 10), CC_ELIMIT);
    feed_free(f);

    /* the same entries in a re-fetch, in another order, give the same keys */
    struct feed *g = parse(RSS_HEAD
        "<item><title>dup b</title><link>http://x.example/b</link><guid>same</guid></item>"
        "<item><title>bare</title><description>other body</description></item>"
        "<item><title>dup a</title><link>http://x.example/a</link><guid>same</guid></item>"
        RSS_TAIL);
    char first[FEED_KEY_MAX + 1];
    struct feed *h = parse(RSS_HEAD
        "<item><title>dup a</title><link>http://x.example/a</link><guid>same</guid></item>"
        "<item><title>dup b</title><link>http://x.example/b</link><guid>same</guid></item>"
        RSS_TAIL);
    assert_string_equal(key(h, 1, first), key(g, 0, a));
    assert_string_equal(key(h, 0, first), key(g, 2, a));
    feed_free(g);
    feed_free(h);

    /* a long id is hashed to fit */
    struct cc_buf doc;
    cc_buf_init(&doc, 1 << 20);
    cc_buf_addstr(&doc, RSS_HEAD "<item><guid>");
    for (int i = 0; i < 600; i++)
        cc_buf_addch(&doc, 'x');
    cc_buf_addstr(&doc, "</guid></item>" RSS_TAIL);
    f = parse(cc_buf_str(&doc));
    assert_true(strncmp(key(f, 0, a), "id~", 3) == 0);
    assert_int_equal(strlen(a), 3 + 64);
    feed_free(f);
    cc_buf_release(&doc);
}

/* ---- limits and non-feeds ---- */

static void test_limits(void **state)
{
    (void)state;
    const char *doc = RSS_HEAD
        "<item><title>new</title><pubDate>Mon, 02 Mar 2026 00:00:00 GMT</pubDate></item>"
        "<item><title>old</title><pubDate>Mon, 02 Jan 2006 00:00:00 GMT</pubDate></item>"
        "<item><title>undated</title></item>"
        "<item><title>newer</title><pubDate>Tue, 03 Mar 2026 00:00:00 GMT</pubDate></item>"
        RSS_TAIL;
    struct feed_limits lim = {.max_age_days = 30, .now_s = 1772755200 /* 2026-03-06 */};
    struct feed *f = parse_ct(doc, strlen(doc), NULL, &lim);
    assert_int_equal(f->n_entries, 3);
    assert_int_equal(f->dropped_old, 1);
    assert_string_equal(f->entries[1].title, "undated");
    feed_free(f);
    lim = (struct feed_limits){.max_items = 2};
    f = parse_ct(doc, strlen(doc), NULL, &lim);
    assert_int_equal(f->n_entries, 2);
    assert_int_equal(f->dropped_items, 2);
    assert_string_equal(f->entries[1].title, "old");
    feed_free(f);

    struct feed *none = NULL;
    struct cc_diag d = {0};
    lim = (struct feed_limits){.max_bytes = 10};
    assert_int_equal(feed_parse((const uint8_t *)doc, strlen(doc), NULL, NULL, &lim, &none, &d),
                     CC_ELIMIT);
    assert_null(none);
    static const char *const not_feeds[] = {"", "   ", "hello", "<html><body>x</body></html>",
                                            "{\"a\": 1}", "{broken", "<?xml version=\"1.0\"?>"};
    for (size_t i = 0; i < sizeof(not_feeds) / sizeof(not_feeds[0]); i++) {
        d = (struct cc_diag){0};
        assert_int_equal(feed_parse((const uint8_t *)not_feeds[i], strlen(not_feeds[i]), NULL,
                                    NULL, NULL, &none, &d), CC_EPARSE);
        assert_null(none);
        assert_non_null(strstr(d.msg, "not a feed"));
    }
}

static void test_entities_never_expand(void **state)
{
    (void)state;
    /* A comment before the DOCTYPE, a ']' inside an entity value, and an
     * attribute using an entity: none may expand (the doc would be ~1 GB). */
    static const char *const docs[] = {
        "<?xml version=\"1.0\"?><!-- <a> ] --><!DOCTYPE rss [\n"
        "<!ENTITY a \"x]y\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
        "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">"
        "<!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\"><!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">"
        "<!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\"><!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\">"
        "<!ENTITY i \"&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;\">]>"
        "<rss version=\"2.0\"><channel><title>t &i;</title><item><title>x &i;</title>"
        "<enclosure url=\"http://e.example/&i;\" type=\"a\"/></item></channel></rss>",
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        struct feed *f = parse(docs[i]);
        assert_true(f->bozo);
        assert_non_null(strstr(f->bozo_message, "entity"));
        assert_int_equal(f->n_entries, 1);
        assert_true(strlen(f->entries[0].title) < 10);
        for (size_t k = 0; k < f->entries[0].n_enclosures; k++)
            assert_true(strlen(f->entries[0].enclosures[k].href) < 100);
        feed_free(f);
    }
}

static void test_json_out(void **state)
{
    (void)state;
    struct feed *f = parse(RSS_HEAD "<item><title>t</title><pubDate>2026-01-02</pubDate></item>"
                           "<item><title>u</title></item>" RSS_TAIL);
    json_t *j = NULL;
    assert_int_equal(feed_to_json(f, &j), CC_OK);
    json_t *e = json_object_get(j, "entries");
    assert_string_equal(json_string_value(json_object_get(json_array_get(e, 0), "published")),
                        "2026-01-02T00:00:00Z");
    assert_true(json_is_null(json_object_get(json_array_get(e, 1), "published")));
    assert_true(json_is_false(json_object_get(j, "bozo")));
    json_decref(j);
    feed_free(f);
    /* strings that need escaping survive the text round trip */
    f = parse(RSS_HEAD "<item><title>q\"b\\s&#9;t&#127;c \xE2\x82\xAC</title></item>" RSS_TAIL);
    assert_int_equal(feed_to_json(f, &j), CC_OK);
    e = json_object_get(j, "entries");
    assert_string_equal(json_string_value(json_object_get(json_array_get(e, 0), "title")),
                        "q\"b\\s\tt\x7f" "c \xE2\x82\xAC");
    /* a buffer too small is left as it was */
    struct cc_buf small;
    cc_buf_init(&small, 64);
    cc_buf_addstr(&small, "keep");
    assert_int_equal(feed_write_json(f, &small), CC_ELIMIT);
    assert_string_equal(cc_buf_str(&small), "keep");
    cc_buf_release(&small);
    assert_string_equal(json_string_value(json_object_get(j, "version")), "rss20");
    json_decref(j);
    feed_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encoding_order),
        cmocka_unit_test(test_utf16),
        cmocka_unit_test(test_sanitizer),
        cmocka_unit_test(test_entry_keys),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_entities_never_expand),
        cmocka_unit_test(test_json_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
