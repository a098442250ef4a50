"""Web sources (issue 9): rss and docs sources run by the real daemon against
a site served on loopback. Feeds: one document per entry, conditional GET
(304 ends the run), a GUID that changes under the same link updates its
document instead of adding one, Retry-After named in the source's error,
full text fetched for summary-only entries. Documentation sites: robots.txt
rules, the sitemap's pages only (in scope), main content without the nav,
lastmod makes a re-crawl fetch only what changed, pages dropped from the
sitemap lose their documents, link following when there is no sitemap.
The fetcher refuses loopback unless fetch.allow_networks names it."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import create_source, get_source, run_source, search, wait_job, \
    wait_queue_idle

ALLOW_LOOPBACK = "fetch:\n  allow_networks: \"127.0.0.1/32\"\n"


class Site:
    """Pages served from memory: path -> (body bytes, content type). ETag is
    the body's hash; If-None-Match answers 304. Every request is logged."""

    def __init__(self):
        self.pages = {}
        self.log = []
        self.lock = threading.Lock()
        self.status = {}              # path -> (status, headers) answered instead
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                path = self.path
                with site.lock:
                    site.log.append((path, dict(self.headers)))
                    forced = site.status.get(path)
                    page = site.pages.get(path)
                if forced:
                    code, headers = forced
                    self.send_response(code)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if page is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body, ctype = page
                etag = '"%x"' % (hash(body) & 0xffffffff)
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def put(self, path, body, ctype="text/html; charset=utf-8"):
        with self.lock:
            self.pages[path] = (body.encode() if isinstance(body, str) else body, ctype)

    def requests(self, path=None):
        with self.lock:
            return [r for r in self.log if path is None or r[0] == path]

    def clear_log(self):
        with self.lock:
            self.log.clear()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site():
    s = Site()
    yield s
    s.close()


def web_daemon(daemon):
    return daemon(config=ALLOW_LOOPBACK)


def rss(items, title="Release notes"):
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           '<rss version="2.0"><channel><title>%s</title><link>http://x.test/</link>' % title]
    for guid, link, t, body in items:
        out.append("<item><guid isPermaLink=\"false\">%s</guid><link>%s</link>"
                   "<title>%s</title><pubDate>Mon, 07 Dec 2026 10:00:00 GMT</pubDate>"
                   "<description><![CDATA[%s]]></description></item>" % (guid, link, t, body))
    out.append("</channel></rss>")
    return "\n".join(out)


def docs_of(d, source):
    return get_source(d, source)["documents"]


# --------------------------------------------------------------------------
# feeds

def test_feed_entries_become_documents_and_refetch_is_conditional(daemon, site):
    d = web_daemon(daemon)
    items = [("g1", site.url + "/p/1", "Zanzibar release", "<p>The zanzibar build is out.</p>"),
             ("g2", site.url + "/p/2", "Quokka fixes", "<p>Quokka crashes are fixed.</p>"),
             ("g3", site.url + "/p/3", "Numbat notes", "<p>Numbat is <b>faster</b>.</p>")]
    site.put("/feed.xml", rss(items), "application/rss+xml")
    create_source(d, name="notes", type="rss", url=site.url + "/feed.xml", priority=6)
    run_source(d, "notes")
    assert docs_of(d, "notes") == 3
    hits = search(d, "zanzibar")["results"]
    assert hits and hits[0]["title"] == "Zanzibar release", hits
    assert hits[0]["url"] == site.url + "/p/1", hits

    # unchanged feed: the second fetch is conditional and answered 304
    site.clear_log()
    run_source(d, "notes")
    reqs = site.requests("/feed.xml")
    assert len(reqs) == 1 and reqs[0][1].get("If-None-Match"), reqs
    assert get_source(d, "notes")["last_status"] == "ok"

    # a GUID that changes under the same link updates its document
    items[0] = ("g1-renamed", items[0][1], "Zanzibar release 2",
                "<p>The zanzibar build is out, take two.</p>")
    items.append(("g4", site.url + "/p/4", "Wombat", "<p>Wombat arrives.</p>"))
    site.put("/feed.xml", rss(items), "application/rss+xml")
    run_source(d, "notes")
    assert docs_of(d, "notes") == 4
    hits = search(d, "zanzibar")["results"]
    assert len(hits) == 1 and hits[0]["title"] == "Zanzibar release 2", hits


def test_feed_retry_after_and_http_errors_are_reported(daemon, site):
    d = web_daemon(daemon)
    site.status["/feed.xml"] = (429, {"Retry-After": "120"})
    create_source(d, name="busy", type="rss", url=site.url + "/feed.xml")
    r = d.admin("POST", "/api/v1/sources/busy/run")
    assert r.status == 202, r
    job = wait_job(d, r.json["job_id"], states=("failed", "dead", "succeeded"))
    assert job["state"] in ("failed", "dead"), job
    assert "429" in job["last_error"] and "120" in job["last_error"], job


def test_feed_full_text_for_summary_only_entries(daemon, site):
    d = web_daemon(daemon)
    site.put("/post/1", "<html><head><title>Post</title></head><body><nav>Home Blog About"
             "</nav><article><h1>Platypus deep dive</h1><p>" + "The platypus lays eggs. " * 20 +
             "</p></article></body></html>")
    site.put("/feed.xml", rss([("a", site.url + "/post/1", "Platypus", "short teaser")]),
             "application/rss+xml")
    create_source(d, name="blog", type="rss", url=site.url + "/feed.xml",
                  options={"full_text": True})
    run_source(d, "blog")
    hits = search(d, "platypus eggs")["results"]
    assert hits, "the linked page's text should be indexed"
    assert "Home Blog About" not in hits[0]["snippet"], hits[0]


def test_loopback_refused_without_allow(served, site):
    d = served
    site.put("/feed.xml", rss([("a", "http://x.test/a", "t", "b")]), "application/rss+xml")
    create_source(d, name="local", type="rss", url=site.url + "/feed.xml")
    r = d.admin("POST", "/api/v1/sources/local/run")
    job = wait_job(d, r.json["job_id"], states=("failed", "dead", "succeeded"))
    assert job["state"] == "dead", job
    assert "allow_networks" in job["last_error"], job
    assert site.requests() == [], "nothing may reach a refused address"


def test_bad_rss_sources_are_refused(served):
    d = served
    r = create_source(d, expect=400, name="x", type="rss", url="ftp://example.test/feed")
    assert "http" in r.json["error"]["message"], r
    r = create_source(d, expect=400, name="x", type="rss")
    assert "url" in r.json["error"]["message"], r
    r = create_source(d, expect=400, name="x", type="rss", url="https://e.test/f",
                      options={"max_items": 0})
    assert "max_items" in r.json["error"]["message"], r


# --------------------------------------------------------------------------
# documentation sites

def page(title, body, nav=True):
    return ("<html><head><meta name=\"generator\" content=\"Docusaurus v3.1.0\">"
            "<title>%s | Demo</title></head><body>"
            "%s<main><article><div class=\"theme-doc-markdown markdown\"><h1>%s</h1>%s"
            "</div></article></main><footer>Copyright Demo Inc</footer></body></html>"
            % (title, "<nav class=\"navbar\">Docs Blog GitHub Sitenavword</nav>" if nav else "",
               title, body))


def sitemap(site, paths):
    urls = "".join("<url><loc>%s%s</loc><lastmod>%s</lastmod></url>" % (site.url, p, lm)
                   for p, lm in paths)
    return ('<?xml version="1.0" encoding="UTF-8"?><urlset '
            'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">%s</urlset>' % urls)


def test_docs_site_crawl_via_sitemap_and_incremental(daemon, site):
    d = web_daemon(daemon)
    site.put("/robots.txt", "User-agent: *\nDisallow: /docs/private/\nSitemap: %s/sitemap.xml\n"
             % site.url, "text/plain")
    site.put("/docs/intro", page("Introduction", "<p>Install the gizmotron with apt.</p>"
                                 "<pre><code class=\"language-sh\">apt install gizmotron"
                                 "</code></pre>"))
    site.put("/docs/guide", page("Guide", "<h2>Configure</h2><p>Set the flux capacitor.</p>"))
    site.put("/docs/private/secret", page("Secret", "<p>hushhush material</p>"))
    site.put("/blog/post", page("Blog", "<p>outofscopeword</p>"))
    pages = [("/docs/intro", "2026-12-01"), ("/docs/guide", "2026-12-01"),
             ("/docs/private/secret", "2026-12-01"), ("/blog/post", "2026-12-01")]
    site.put("/sitemap.xml", sitemap(site, pages), "application/xml")
    create_source(d, name="handbook", type="docs", url=site.url + "/docs/intro")
    run_source(d, "handbook")
    assert docs_of(d, "handbook") == 2
    hits = search(d, "gizmotron")["results"]
    assert hits and hits[0]["title"] == "Introduction", hits
    assert search(d, "hushhush")["results"] == []      # robots.txt
    assert search(d, "outofscopeword")["results"] == []  # outside /docs/
    assert search(d, "Sitenavword")["results"] == []     # the nav is not content
    assert search(d, "flux capacitor")["results"], "the guide is indexed"

    # a re-crawl with unchanged lastmod fetches no page
    site.clear_log()
    run_source(d, "handbook")
    fetched = [p for p, _ in site.requests() if p.startswith("/docs/")]
    assert fetched == [], fetched

    # a changed page is fetched again; a page dropped from the sitemap goes
    site.put("/docs/intro", page("Introduction", "<p>Install the gizmotron with snap.</p>"))
    pages = [("/docs/intro", "2030-01-01"), ("/docs/private/secret", "2026-12-01")]
    site.put("/sitemap.xml", sitemap(site, pages), "application/xml")
    site.clear_log()
    run_source(d, "handbook")
    assert [p for p, _ in site.requests() if p.startswith("/docs/")] == ["/docs/intro"]
    assert docs_of(d, "handbook") == 1
    assert search(d, "flux capacitor")["results"] == []
    hit = search(d, "gizmotron")["results"][0]
    assert "snap" in hit["snippet"], hit


def test_docs_site_without_sitemap_follows_links(daemon, site):
    d = web_daemon(daemon)
    site.put("/robots.txt", "User-agent: *\nAllow: /\n", "text/plain")
    site.put("/docs/", page("Home", "<p>Welcome. <a href=\"a\">A</a> <a href=\"/docs/b#x\">B"
                            "</a> <a href=\"http://elsewhere.test/c\">C</a></p>"))
    site.put("/docs/a", page("Alpha", "<p>alphaword <a href=\"b\">B</a></p>"))
    site.put("/docs/b", page("Beta", "<p>betaword</p>"))
    create_source(d, name="linked", type="docs", url=site.url + "/docs/")
    run_source(d, "linked")
    assert docs_of(d, "linked") == 3
    assert search(d, "betaword")["results"]


def test_docs_page_that_needs_javascript_is_not_indexed(daemon, site):
    d = web_daemon(daemon)
    site.put("/robots.txt", "", "text/plain")
    site.put("/app/", "<html><head><title>App</title></head><body><div id=\"root\"></div>"
             "<noscript>You need to enable JavaScript to run this app.</noscript>"
             "<script src=\"/main.js\"></script></body></html>")
    create_source(d, name="spa", type="docs", url=site.url + "/app/")
    r = d.admin("POST", "/api/v1/sources/spa/run")
    wait_job(d, r.json["job_id"])
    wait_queue_idle(d, allow_failed=True)
    assert docs_of(d, "spa") == 0
    assert search(d, "enable JavaScript")["results"] == []
    jobs = d.admin("GET", "/api/v1/jobs?state=dead").json["jobs"]
    assert any("JavaScript" in (j.get("last_error") or "") for j in jobs), jobs


def test_docs_redirect_pages_are_followed_not_indexed(daemon, site):
    """mike's version aliases are meta-refresh pages: the crawl follows them
    to the real page and never indexes "Redirecting..." as content."""
    d = web_daemon(daemon)
    site.put("/robots.txt", "User-agent: *\nAllow: /\n", "text/plain")
    site.put("/docs/", page("Home", "<p>Start here. <a href=\"latest/\">Latest docs</a></p>"))
    site.put("/docs/latest/", "<html><head><meta http-equiv=\"refresh\" content=\"0; "
             "url='../1.1/'\"><title>Redirecting</title></head><body>Redirecting... "
             "zebrafishword</body></html>")
    site.put("/docs/1.1/", page("Version 1.1", "<p>The ocelotword release notes.</p>"))
    create_source(d, name="aliased", type="docs", url=site.url + "/docs/")
    run_source(d, "aliased")
    assert search(d, "ocelotword")["results"], "the alias's target is crawled"
    assert search(d, "zebrafishword")["results"] == [], "the redirect page is not indexed"
    assert docs_of(d, "aliased") == 2


def test_docs_sitemap_found_at_its_usual_place(daemon, site):
    """No Sitemap line in robots.txt: /sitemap.xml is tried (a large one too)."""
    d = web_daemon(daemon)
    site.put("/robots.txt", "User-agent: *\nAllow: /\n", "text/plain")
    paths = [("/docs/p%03d" % i, "2026-12-01") for i in range(60)]
    for p, _ in paths:
        site.put(p, page("Page " + p[-3:], "<p>capybara%s</p>" % p[-3:]))
    site.put("/docs/start", page("Start", "<p>no links here</p>"))
    site.put("/sitemap.xml", sitemap(site, paths), "application/xml")
    create_source(d, name="usual", type="docs", url=site.url + "/docs/start",
                  options={"scope": "/docs/"})
    run_source(d, "usual")
    assert docs_of(d, "usual") == 60
    assert search(d, "capybara042")["results"]


def test_source_credentials_stay_on_the_source_site(daemon, site, tmp_path):
    """A feed's bearer token goes with the feed's requests, never to the sites
    its entries link to (full-text fetches)."""
    other = Site()
    try:
        d = web_daemon(daemon)
        tok = tmp_path / "feed.token"
        tok.write_text("s3cret-feed-token\n")
        other.put("/post", "<html><body><article><h1>Elsewhere</h1><p>" +
                  "The narwhalword lives far away. " * 20 + "</p></article></body></html>")
        site.put("/feed.xml", rss([("a", other.url + "/post", "Far", "teaser")]),
                 "application/rss+xml")
        create_source(d, name="authfeed", type="rss", url=site.url + "/feed.xml",
                      auth={"type": "bearer", "token_file": str(tok)},
                      options={"full_text": True})
        run_source(d, "authfeed")
        assert search(d, "narwhalword")["results"], "the linked page is indexed"
        feed_reqs = site.requests("/feed.xml")
        assert feed_reqs and all(h.get("Authorization") == "Bearer s3cret-feed-token"
                                 for _, h in feed_reqs), feed_reqs
        page_reqs = other.requests("/post")
        assert page_reqs and all("Authorization" not in h for _, h in page_reqs), page_reqs
    finally:
        other.close()
