/* robots.txt as RFC 9309 and Google's parser read it: the RFC's examples and
 * the notable cases of Google's test suite (written from their
 * descriptions), plus our limits and the fetch-outcome policy. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ingest/web/robots.h"

/* Whether agent may fetch url under robots text `txt`. */
static bool allowed(const char *txt, const char *agent, const char *url)
{
    struct ingest_robots *r = NULL;
    char path[INGEST_ROBOTS_MAX_PATH];
    assert_int_equal(ingest_robots_parse(txt, strlen(txt), &r), CC_OK);
    assert_int_equal(ingest_robots_path_of_url(url, path, sizeof(path)), CC_OK);
    bool ok = ingest_robots_allowed(r, agent, path);
    ingest_robots_free(r);
    return ok;
}

static void test_empty_and_garbage_allow(void **state)
{
    (void)state;
    assert_true(allowed("", "FooBot", "https://foo.bar/x/y"));
    assert_true(allowed("\x01\x02 not robots \xff\n<html><body>oops</body></html>",
                        "FooBot", "https://foo.bar/x"));
    struct ingest_robots *r = NULL;
    assert_int_equal(ingest_robots_parse(NULL, 0, &r), CC_OK);
    assert_true(ingest_robots_allowed(r, "FooBot", "/"));
    ingest_robots_free(r);
}

/* Google: rules before any user-agent are ignored; FooBot's two groups are
 * merged; a user-agent line after a rule starts a new group. */
static void test_groups(void **state)
{
    (void)state;
    const char *txt = "allow: /foo/bar/\n"
                      "\n"
                      "user-agent: FooBot\n"
                      "disallow: /\n"
                      "allow: /x/\n"
                      "user-agent: BarBot\n"
                      "disallow: /\n"
                      "allow: /y/\n"
                      "\n"
                      "\n"
                      "allow: /w/\n"
                      "user-agent: BazBot\n"
                      "\n"
                      "user-agent: FooBot\n"
                      "allow: /z/\n"
                      "disallow: /\n";
    assert_true(allowed(txt, "FooBot", "http://foo.bar/x/b"));
    assert_true(allowed(txt, "FooBot", "http://foo.bar/z/d"));
    assert_false(allowed(txt, "FooBot", "http://foo.bar/y/c"));
    assert_true(allowed(txt, "BarBot", "http://foo.bar/y/c"));
    assert_true(allowed(txt, "BarBot", "http://foo.bar/w/a"));
    assert_false(allowed(txt, "BarBot", "http://foo.bar/z/d"));
    assert_true(allowed(txt, "BazBot", "http://foo.bar/z/d"));
    assert_false(allowed(txt, "FooBot", "http://foo.bar/foo/bar/"));
    assert_false(allowed(txt, "BarBot", "http://foo.bar/foo/bar/"));
    assert_false(allowed(txt, "BazBot", "http://foo.bar/foo/bar/"));
}

/* Sitemap and unknown lines between user-agent lines do not split them. */
static void test_other_lines_keep_group(void **state)
{
    (void)state;
    const char *a = "User-agent: BarBot\n"
                    "Sitemap: https://foo.bar/sitemap\n"
                    "User-agent: *\n"
                    "Disallow: /\n";
    const char *b = "User-agent: FooBot\n"
                    "Invalid-Unknown-Line: unknown\n"
                    "User-agent: *\n"
                    "Disallow: /\n";
    assert_false(allowed(a, "FooBot", "http://foo.bar/"));
    assert_false(allowed(a, "BarBot", "http://foo.bar/"));
    assert_false(allowed(b, "FooBot", "http://foo.bar/"));
    assert_false(allowed(b, "BarBot", "http://foo.bar/"));
}

static void test_global_group_is_fallback(void **state)
{
    (void)state;
    const char *global = "user-agent: *\n"
                         "allow: /\n"
                         "user-agent: FooBot\n"
                         "disallow: /\n";
    const char *only_specific = "user-agent: FooBot\n"
                                "allow: /\n"
                                "user-agent: BarBot\n"
                                "disallow: /\n"
                                "user-agent: BazBot\n"
                                "disallow: /\n";
    assert_false(allowed(global, "FooBot", "http://foo.bar/x/y"));
    assert_true(allowed(global, "BarBot", "http://foo.bar/x/y"));
    assert_true(allowed(only_specific, "QuxBot", "http://foo.bar/x/y"));
    /* A specific group without rules still beats "*": FooBot may crawl. */
    assert_true(allowed("user-agent: *\ndisallow: /\nuser-agent: FooBot\n", "FooBot",
                        "http://foo.bar/x"));
}

static void test_case_insensitivity(void **state)
{
    (void)state;
    const char *keys = "USER-AGENT: FooBot\nALLOW: /x/\nDISALLOW: /\n";
    const char *mixed = "uSeR-aGeNt: FooBot\nAlLoW: /x/\nDiSaLlOw: /\n";
    assert_true(allowed(keys, "FooBot", "http://foo.bar/x/y"));
    assert_false(allowed(keys, "FooBot", "http://foo.bar/a/b"));
    assert_false(allowed(mixed, "FooBot", "http://foo.bar/a/b"));
    /* The agent value and the caller's token compare case-insensitively. */
    assert_false(allowed("User-Agent: FOO BAR\nDisallow: /\n", "foo", "http://foo.bar/x/y"));
    assert_false(allowed("User-Agent: foo\nDisallow: /\n", "Foo", "http://foo.bar/x/y"));
    /* Paths are case-sensitive. */
    assert_true(allowed("User-agent: *\nDisallow: /X/\n", "FooBot", "http://foo.bar/x/y"));
    assert_false(allowed("User-agent: *\nDisallow: /X/\n", "FooBot", "http://foo.bar/X/y"));
}

/* The caller's product token is its leading [A-Za-z_-] run; so is the
 * user-agent line's value. */
static void test_product_tokens(void **state)
{
    (void)state;
    const char *txt = "User-Agent: *\nDisallow: /\n"
                      "User-Agent: Foo Bar\nAllow: /x/\nDisallow: /\n";
    assert_true(allowed(txt, "Foo", "http://foo.bar/x/y"));
    assert_true(allowed(txt, "Foo/2.1 (+https://foo.bar/bot)", "http://foo.bar/x/y"));
    assert_false(allowed(txt, "Foo", "http://foo.bar/a"));
    assert_false(allowed("User-agent: Googlebot/2.1\nDisallow: /\n", "Googlebot",
                         "http://foo.bar/a"));
    /* A token is not a prefix match: FooBot is not Foo. */
    assert_true(allowed("User-agent: Foo\nDisallow: /\n", "FooBot", "http://foo.bar/a"));
    /* CommandCenter's own agent string. */
    assert_false(allowed("User-agent: CommandCenter\nDisallow: /private\n",
                         "CommandCenter/0.1 (+https://example.invalid)",
                         "https://docs.example/private/x"));
}

static void test_longest_match(void **state)
{
    (void)state;
    const char *url = "http://foo.bar/x/page.html";
    assert_true(allowed("user-agent: FooBot\ndisallow: /x/page.html\nallow: /x/page.html\n",
                        "FooBot", url));
    assert_true(allowed("user-agent: FooBot\nallow: /x/page.html\ndisallow: /x/\n", "FooBot",
                        url));
    assert_false(allowed("user-agent: FooBot\nallow: /x/\ndisallow: /x/page.html\n", "FooBot",
                         url));
    assert_true(allowed("user-agent: FooBot\nallow: /x/\ndisallow: /x/page.html\n", "FooBot",
                        "http://foo.bar/x/"));
    /* Equal length: allow wins, whichever comes first. */
    assert_true(allowed("user-agent: FooBot\ndisallow: \nallow: \n", "FooBot",
                        "http://foo.bar/"));
    assert_true(allowed("user-agent: FooBot\ndisallow: /\nallow: /\n", "FooBot",
                        "http://foo.bar/"));
    /* Wildcards count their bytes. */
    assert_false(allowed("user-agent: FooBot\nallow: /page\ndisallow: /*.html\n", "FooBot",
                         "http://foo.bar/page.html"));
    assert_true(allowed("user-agent: FooBot\nallow: /page\ndisallow: /*.html\n", "FooBot",
                        "http://foo.bar/page"));
    assert_true(allowed("user-agent: FooBot\nallow: /$\ndisallow: /\n", "FooBot",
                        "http://foo.bar/"));
    assert_false(allowed("user-agent: FooBot\nallow: /$\ndisallow: /\n", "FooBot",
                         "http://foo.bar/page.html"));
    /* Merged groups compete on length too. */
    assert_true(allowed("user-agent: FooBot\ndisallow: /x\nuser-agent: FooBot\nallow: /x/y\n",
                        "FooBot", "http://foo.bar/x/y/z"));
}

/* RFC 9309 2.2.2 and 5.1: an empty Disallow allows everything. */
static void test_empty_disallow(void **state)
{
    (void)state;
    assert_true(allowed("user-agent: FooBot\ndisallow:\n", "FooBot", "http://foo.bar/x"));
    assert_true(allowed("user-agent: FooBot\ndisallow:    # nothing\n", "FooBot",
                        "http://foo.bar/x"));
}

static void test_wildcards(void **state)
{
    (void)state;
    const char *txt = "User-agent: FooBot\n"
                      "Disallow: /foo/bar/quz\n"
                      "Allow: /foo/*/qux\n"
                      "Disallow: /*.php$\n"
                      "Disallow: /fish*\n"
                      "Disallow: /a$b\n";
    assert_false(allowed(txt, "FooBot", "https://foo.bar/foo/bar/quz"));
    assert_true(allowed(txt, "FooBot", "https://foo.bar/foo/quz"));
    assert_true(allowed(txt, "FooBot", "https://foo.bar/foo//quz"));
    assert_true(allowed(txt, "FooBot", "https://foo.bar/foo/bax/quz"));
    assert_true(allowed(txt, "FooBot", "https://foo.bar/foo/bar/qux"));
    assert_false(allowed(txt, "FooBot", "https://foo.bar/x/index.php"));
    assert_true(allowed(txt, "FooBot", "https://foo.bar/x/index.php?a=1"));
    assert_true(allowed(txt, "FooBot", "https://foo.bar/x/index.php5"));
    assert_false(allowed(txt, "FooBot", "https://foo.bar/fish"));
    assert_false(allowed(txt, "FooBot", "https://foo.bar/fish.html"));
    assert_false(allowed(txt, "FooBot", "https://foo.bar/fishheads/yummy.html"));
    assert_true(allowed(txt, "FooBot", "https://foo.bar/Fish.asp"));
    assert_true(allowed(txt, "FooBot", "https://foo.bar/catfish"));
    /* "$" inside a pattern is a literal. */
    assert_false(allowed(txt, "FooBot", "https://foo.bar/a$bc"));
    assert_true(allowed(txt, "FooBot", "https://foo.bar/ab"));
    /* Many stars stay cheap and correct. */
    assert_false(allowed("user-agent: *\ndisallow: /*a*b*c*d$\n", "x",
                         "http://foo.bar/xxaxxbxxcxxd"));
    assert_true(allowed("user-agent: *\ndisallow: /*a*b*c*d$\n", "x",
                        "http://foo.bar/xxaxxbxxcxxdx"));
}

/* Google's path-matching examples (the fish and .php families). */
static void test_google_path_examples(void **state)
{
    (void)state;
    const char *fish_slash = "user-agent: FooBot\ndisallow: /\nallow: /fish/\n";
    assert_false(allowed(fish_slash, "FooBot", "http://foo.bar/fish"));
    assert_true(allowed(fish_slash, "FooBot", "http://foo.bar/fish/"));
    assert_true(allowed(fish_slash, "FooBot", "http://foo.bar/fish/salmon.htm"));
    assert_false(allowed(fish_slash, "FooBot", "http://foo.bar/fish.html"));
    const char *php = "user-agent: FooBot\ndisallow: /\nallow: /*.php\n";
    assert_true(allowed(php, "FooBot", "http://foo.bar/index.php"));
    assert_true(allowed(php, "FooBot", "http://foo.bar/folder/any.php.file.html"));
    assert_true(allowed(php, "FooBot", "http://foo.bar/filename.php?parameters"));
    assert_false(allowed(php, "FooBot", "http://foo.bar/"));
    assert_false(allowed(php, "FooBot", "http://foo.bar/windows.PHP"));
    const char *fish_php = "user-agent: FooBot\ndisallow: /\nallow: /fish*.php\n";
    assert_true(allowed(fish_php, "FooBot", "http://foo.bar/fish.php"));
    assert_true(allowed(fish_php, "FooBot", "http://foo.bar/fishheads/catfish.php?parameters"));
    assert_false(allowed(fish_php, "FooBot", "http://foo.bar/Fish.PHP"));
}

/* RFC 9309 2.2.2's encoding table, and Google's cases around it. */
static void test_percent_encoding(void **state)
{
    (void)state;
    const char *query = "User-agent: FooBot\nDisallow: /\n"
                        "Allow: /foo/bar?qux=taz&baz=http://foo.bar?tar&par\n";
    assert_true(allowed(query, "FooBot", "http://foo.bar/foo/bar?qux=taz&baz=http://foo.bar?tar&par"));
    assert_false(allowed(query, "FooBot", "http://foo.bar/foo/bar?qux=taz"));
    /* Non-ASCII in the pattern equals its UTF-8 escapes in the URL. */
    const char *utf8 = "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/\xE3\x83\x84\n";
    assert_true(allowed(utf8, "FooBot", "http://foo.bar/foo/bar/%E3%83%84"));
    assert_true(allowed(utf8, "FooBot", "http://foo.bar/foo/bar/\xE3\x83\x84"));
    assert_false(allowed(utf8, "FooBot", "http://foo.bar/foo/bar/%E3%83"));
    /* Escapes compare case-insensitively. */
    const char *esc = "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/%E3%83%84\n";
    assert_true(allowed(esc, "FooBot", "http://foo.bar/foo/bar/%e3%83%84"));
    assert_true(allowed(esc, "FooBot", "http://foo.bar/foo/bar/\xE3\x83\x84"));
    /* An escaped unreserved character is that character ("/%62%61%7A" is "/baz"). */
    const char *unres = "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/%62%61%7A\n";
    assert_true(allowed(unres, "FooBot", "http://foo.bar/foo/bar/baz"));
    assert_true(allowed("User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/baz\n", "FooBot",
                        "http://foo.bar/foo/bar/%62%61%7a"));
    /* A reserved character stays distinct from its escape. */
    const char *slash = "User-agent: FooBot\nDisallow: /a%2Fb\n";
    assert_false(allowed(slash, "FooBot", "http://foo.bar/a%2fb"));
    assert_true(allowed(slash, "FooBot", "http://foo.bar/a/b"));
    /* A space in the URL is its escape. */
    assert_false(allowed("User-agent: *\nDisallow: /a%20b\n", "x", "http://foo.bar/a b"));
}

static void test_line_syntax(void **state)
{
    (void)state;
    /* Line ends: LF, CRLF, CR alone; a final line without one. */
    assert_false(allowed("User-agent: FooBot\r\nDisallow: /\r\n", "FooBot", "http://f.b/x"));
    assert_false(allowed("User-agent: FooBot\rDisallow: /\r", "FooBot", "http://f.b/x"));
    assert_false(allowed("User-agent: FooBot\nDisallow: /", "FooBot", "http://f.b/x"));
    /* White space around keys and values; comments anywhere. */
    assert_false(allowed("  User-agent :   FooBot   # me\n\tDisallow\t:\t/ # all\n", "FooBot",
                         "http://f.b/x"));
    assert_true(allowed("User-agent: FooBot\n# Disallow: /\n", "FooBot", "http://f.b/x"));
    /* A missing colon is tolerated when key and value are two words. */
    assert_false(allowed("User-agent FooBot\nDisallow /\n", "FooBot", "http://f.b/x"));
    /* A UTF-8 BOM is skipped; elsewhere it is garbage. */
    assert_false(allowed("\xEF\xBB\xBFUser-agent: FooBot\nDisallow: /\n", "FooBot",
                         "http://f.b/x"));
    /* Typos Google accepts. */
    assert_false(allowed("useragent: FooBot\ndissallow: /\n", "FooBot", "http://f.b/x"));
    assert_false(allowed("user agent: FooBot\ndisalow: /\n", "FooBot", "http://f.b/x"));
    /* Unknown and broken lines are skipped. */
    assert_false(allowed("User-agent: FooBot\nfoo bar baz\n:::\nNoindex: /\nDisallow: /\n",
                         "FooBot", "http://f.b/x"));
}

static void test_robots_txt_always_allowed(void **state)
{
    (void)state;
    assert_true(allowed("User-agent: *\nDisallow: /\n", "FooBot", "http://foo.bar/robots.txt"));
    assert_false(allowed("User-agent: *\nDisallow: /\n", "FooBot", "http://foo.bar/robots.txtx"));
}

static void test_index_html_is_directory(void **state)
{
    (void)state;
    const char *txt = "user-agent: *\nallow: /allowed-slash/index.html\ndisallow: /\n";
    assert_true(allowed(txt, "FooBot", "http://foo.com/allowed-slash/"));
    assert_true(allowed(txt, "FooBot", "http://foo.com/allowed-slash/index.html"));
    assert_false(allowed(txt, "FooBot", "http://foo.com/allowed-slash/index.htm"));
    assert_false(allowed(txt, "FooBot", "http://foo.com/allowed-slash/other"));
    assert_false(allowed(txt, "FooBot", "http://foo.com/anyother-url"));
}

/* RFC 9309 5.1's example file. */
static void test_rfc_example(void **state)
{
    (void)state;
    const char *txt = "User-Agent: *\n"
                      "Disallow: *.gif$\n"
                      "Disallow: /example/\n"
                      "Allow: /publications/\n"
                      "\n"
                      "User-Agent: foobot\n"
                      "Disallow:/\n"
                      "Allow:/example/page.html\n"
                      "Allow:/example/allowed.gif\n"
                      "\n"
                      "User-Agent: barbot\n"
                      "User-Agent: bazbot\n"
                      "Disallow: /example/page.html\n"
                      "\n"
                      "User-Agent: quxbot\n";
    assert_false(allowed(txt, "foobot", "https://www.example.com/"));
    assert_true(allowed(txt, "foobot", "https://www.example.com/example/page.html"));
    assert_true(allowed(txt, "foobot", "https://www.example.com/example/allowed.gif"));
    assert_false(allowed(txt, "foobot", "https://www.example.com/example/other.gif"));
    assert_false(allowed(txt, "barbot", "https://www.example.com/example/page.html"));
    assert_true(allowed(txt, "bazbot", "https://www.example.com/example/other.html"));
    assert_true(allowed(txt, "quxbot", "https://www.example.com/example/page.html"));
    assert_true(allowed(txt, "otherbot", "https://www.example.com/publications/a.html"));
    assert_false(allowed(txt, "otherbot", "https://www.example.com/example/a.html"));
    assert_true(allowed(txt, "otherbot", "https://www.example.com/a.html"));
    assert_false(allowed(txt, "otherbot", "https://www.example.com/img/logo.gif"));
}

static void test_crawl_delay_and_sitemaps(void **state)
{
    (void)state;
    const char *txt = "Sitemap: https://foo.bar/sitemap.xml\n"
                      "User-agent: *\n"
                      "Crawl-delay: 2\n"
                      "Disallow: /private/\n"
                      "Sitemap: https://foo.bar/sitemap-docs.xml.gz\n"
                      "User-agent: FooBot\n"
                      "Crawl-delay: 0.5\n"
                      "User-agent: BarBot\n"
                      "Crawl-delay: soon\n"
                      "Site-map: https://foo.bar/sitemap.xml\n";
    struct ingest_robots *r = NULL;
    assert_int_equal(ingest_robots_parse(txt, strlen(txt), &r), CC_OK);
    assert_int_equal(ingest_robots_crawl_delay_ms(r, "SomeBot"), 2000);
    assert_int_equal(ingest_robots_crawl_delay_ms(r, "FooBot/1.0"), 500);
    assert_int_equal(ingest_robots_crawl_delay_ms(r, "BarBot"), -1);
    const char *const *maps;
    assert_int_equal(ingest_robots_sitemaps(r, &maps), 2);
    assert_string_equal(maps[0], "https://foo.bar/sitemap.xml");
    assert_string_equal(maps[1], "https://foo.bar/sitemap-docs.xml.gz");
    ingest_robots_free(r);
    /* A value with a NUL byte is no URL (found by fuzz_robots). */
    static const char nul[] = "Sitemap: \0\0https://x\nSitemap: https://ok.test/s.xml\n";
    assert_int_equal(ingest_robots_parse(nul, sizeof(nul) - 1, &r), CC_OK);
    assert_int_equal(ingest_robots_sitemaps(r, &maps), 1);
    assert_string_equal(maps[0], "https://ok.test/s.xml");
    ingest_robots_free(r);
}

/* Content past 500 KiB is ignored, not an error. */
static void test_size_cap(void **state)
{
    (void)state;
    size_t n = INGEST_ROBOTS_MAX_BYTES + 4096;
    char *big = malloc(n + 1);
    const char *head = "User-agent: *\nDisallow: /a\n";
    memcpy(big, head, strlen(head));
    memset(big + strlen(head), '#', n - strlen(head));
    const char *tail = "\nDisallow: /b\n";
    memcpy(big + n - strlen(tail), tail, strlen(tail));
    big[n] = '\0';
    struct ingest_robots *r = NULL;
    assert_int_equal(ingest_robots_parse(big, n, &r), CC_OK);
    assert_false(ingest_robots_allowed(r, "x", "/a"));
    assert_true(ingest_robots_allowed(r, "x", "/b"));
    ingest_robots_free(r);
    free(big);
}

static void test_outcomes(void **state)
{
    (void)state;
    assert_int_equal(ingest_robots_outcome_for(200), INGEST_ROBOTS_PARSE);
    assert_int_equal(ingest_robots_outcome_for(204), INGEST_ROBOTS_PARSE);
    assert_int_equal(ingest_robots_outcome_for(301), INGEST_ROBOTS_ALLOW_ALL);
    assert_int_equal(ingest_robots_outcome_for(401), INGEST_ROBOTS_ALLOW_ALL);
    assert_int_equal(ingest_robots_outcome_for(403), INGEST_ROBOTS_ALLOW_ALL);
    assert_int_equal(ingest_robots_outcome_for(404), INGEST_ROBOTS_ALLOW_ALL);
    assert_int_equal(ingest_robots_outcome_for(410), INGEST_ROBOTS_ALLOW_ALL);
    assert_int_equal(ingest_robots_outcome_for(429), INGEST_ROBOTS_DISALLOW_ALL);
    assert_int_equal(ingest_robots_outcome_for(500), INGEST_ROBOTS_DISALLOW_ALL);
    assert_int_equal(ingest_robots_outcome_for(503), INGEST_ROBOTS_DISALLOW_ALL);
    assert_int_equal(ingest_robots_outcome_for(0), INGEST_ROBOTS_DISALLOW_ALL);
    struct ingest_robots *all = ingest_robots_new_all(true);
    struct ingest_robots *none = ingest_robots_new_all(false);
    assert_true(ingest_robots_allowed(all, "x", "/anything"));
    assert_false(ingest_robots_allowed(none, "x", "/anything"));
    assert_false(ingest_robots_allowed(none, "x", "/robots.txt"));
    assert_int_equal(ingest_robots_crawl_delay_ms(none, "x"), -1);
    ingest_robots_free(all);
    ingest_robots_free(none);
    ingest_robots_free(NULL);
}

static void test_path_of_url(void **state)
{
    (void)state;
    char p[64];
    assert_int_equal(ingest_robots_path_of_url("https://foo.bar/a/b?c=d#frag", p, sizeof(p)),
                     CC_OK);
    assert_string_equal(p, "/a/b?c=d");
    assert_int_equal(ingest_robots_path_of_url("http://foo.bar", p, sizeof(p)), CC_OK);
    assert_string_equal(p, "/");
    assert_int_equal(ingest_robots_path_of_url("http://foo.bar?x=1", p, sizeof(p)), CC_OK);
    assert_string_equal(p, "/?x=1");
    assert_int_equal(ingest_robots_path_of_url("http://u:p@foo.bar:8080/x", p, sizeof(p)),
                     CC_OK);
    assert_string_equal(p, "/x");
    assert_int_equal(ingest_robots_path_of_url("//foo.bar/x", p, sizeof(p)), CC_OK);
    assert_string_equal(p, "/x");
    assert_int_equal(ingest_robots_path_of_url("/x/y", p, sizeof(p)), CC_OK);
    assert_string_equal(p, "/x/y");
    assert_int_equal(ingest_robots_path_of_url("", p, sizeof(p)), CC_OK);
    assert_string_equal(p, "/");
    assert_int_equal(ingest_robots_path_of_url("mailto:a@b", p, sizeof(p)), CC_EINVAL);
    assert_int_equal(ingest_robots_path_of_url("http://foo.bar/0123456789", p, 8), CC_ELIMIT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_and_garbage_allow),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_other_lines_keep_group),
        cmocka_unit_test(test_global_group_is_fallback),
        cmocka_unit_test(test_case_insensitivity),
        cmocka_unit_test(test_product_tokens),
        cmocka_unit_test(test_longest_match),
        cmocka_unit_test(test_empty_disallow),
        cmocka_unit_test(test_wildcards),
        cmocka_unit_test(test_google_path_examples),
        cmocka_unit_test(test_percent_encoding),
        cmocka_unit_test(test_line_syntax),
        cmocka_unit_test(test_robots_txt_always_allowed),
        cmocka_unit_test(test_index_html_is_directory),
        cmocka_unit_test(test_rfc_example),
        cmocka_unit_test(test_crawl_delay_and_sitemaps),
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_outcomes),
        cmocka_unit_test(test_path_of_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
