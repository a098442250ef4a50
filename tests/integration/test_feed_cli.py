"""`commandcenter feed parse FILE`: every fixture in tests/data/feeds/ parsed by
the binary and by Debian's python3-feedparser, with the same titles, links,
ids and dates, except where they differ on purpose (KNOWN_DIFFERENCES says
why); plus the behaviour feedparser has no opinion on (sanitizing, bozo
cases, limits of what the CLI reads)."""

import html
import json
import re
import time
from pathlib import Path

import pytest

from conftest import REPO, run_cc

feedparser = pytest.importorskip("feedparser")

FEEDS = REPO / "tests" / "data" / "feeds"
XML_FIXTURES = sorted(p.name for p in FEEDS.iterdir() if p.suffix in (".xml", ".rdf"))
JSON_FIXTURES = sorted(p.name for p in FEEDS.iterdir() if p.suffix == ".json")

# (fixture, entry index or "*" or "feed", field) -> why we differ from feedparser.
KNOWN_DIFFERENCES = {
    ("dates_odd.xml", "*", "link"):
        "feedparser makes any guid without isPermaLink=\"false\" the link, even 'd1'; "
        "we take a guid as the link only when it is an absolute URL",
    ("dates_odd.xml", 17, "published"):
        "feedparser 6.0.10 reads '2006/01/02 15:04:05' as 1 December 2006",
    ("dates_odd.xml", 18, "published"):
        "feedparser drops the time of the compact ISO 8601 form '20060102T150405Z'",
    ("dates_odd.xml", 19, "published"):
        "feedparser has no reader for 'Jan 2, 2006'; we read it as a date without time",
    ("entities_doctype.xml", "feed", "title"):
        "a DOCTYPE declaring entities is ignored, so '&lol9;' is undefined and dropped; "
        "feedparser's loose parser keeps the reference as text",
    ("entities_doctype.xml", 0, "title"): "as above",
    ("relative_links_rss.xml", "*", "link"):
        "relative links resolve against the channel's link when no xml:base says "
        "otherwise (SPEC 4); feedparser resolves only against the document's URL",
    ("utf16be_bom.xml", "feed", "link"):
        "feedparser uses an Atom feed's id as its link when it has no link element",
    ("utf16le_bom.xml", "feed", "link"): "as above",
    ("not_a_feed.html", "feed", "bozo"):
        "an HTML page is not a feed: we say so (bozo, exit 1); feedparser returns an "
        "empty result with bozo 0",
}

# feedparser's version names for ours where they differ (none so far).
VERSION_ALIASES = {}


def parse(path, *extra, expect_rc=0):
    res = run_cc(["feed", "parse", str(path)] + list(extra))
    assert res.returncode == expect_rc, res
    return json.loads(res.stdout)


def iso(struct_time):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", struct_time) if struct_time else None


def title_text(t, detail=None):
    """feedparser keeps (sanitized) HTML in titles; we strip it to text. Compare
    feedparser's title as text (unless it says the title is plain text)."""
    if t is None or (detail is not None and detail.get("type") == "text/plain"):
        return t
    return html.unescape(re.sub(r"<[^>]*>", "", t)).strip()


def raw(entry, key):
    # feedparser 6 answers entry["updated"] with "published" when there is no
    # updated (deprecated alias); read what the feed really had.
    return entry[key] if dict.__contains__(entry, key) else None


def known(name, where, field):
    return (name, where, field) in KNOWN_DIFFERENCES or (name, "*", field) in KNOWN_DIFFERENCES


@pytest.mark.parametrize("name", XML_FIXTURES)
def test_fixture_matches_feedparser(name):
    ours = parse(FEEDS / name)
    theirs = feedparser.parse(str(FEEDS / name))
    assert ours["version"] == VERSION_ALIASES.get(theirs.version, theirs.version)
    assert ours["bozo"] == bool(theirs.bozo) or known(name, "feed", "bozo")
    for field in ("title", "link"):
        want = theirs.feed.get(field)
        if field == "title":
            want = title_text(want, theirs.feed.get("title_detail"))
        if not known(name, "feed", field):
            assert ours["feed"][field] == want, (name, field)
    assert len(ours["entries"]) == len(theirs.entries), name
    for i, (o, t) in enumerate(zip(ours["entries"], theirs.entries)):
        want = {
            "title": title_text(t.get("title"), t.get("title_detail")),
            "link": t.get("link"),
            "id": t.get("id"),
            "published": iso(raw(t, "published_parsed")),
            "updated": iso(raw(t, "updated_parsed")),
        }
        for field, value in want.items():
            if not known(name, i, field):
                assert o[field] == value, (name, i, field)


def test_every_known_difference_is_still_a_difference():
    """A listed difference that no longer differs is stale: remove it."""
    for (name, where, field) in KNOWN_DIFFERENCES:
        path = FEEDS / name
        res = run_cc(["feed", "parse", str(path)])
        ours = json.loads(res.stdout)
        theirs = feedparser.parse(str(path))
        if field == "bozo":
            assert ours["bozo"] != bool(theirs.bozo)
            continue
        if where == "feed":
            pairs = [(ours["feed"][field], theirs.feed.get(field))]
        elif where == "*":
            pairs = [(o[field], t.get(field)) for o, t in zip(ours["entries"], theirs.entries)]
        else:
            t = theirs.entries[where]
            value = iso(raw(t, field + "_parsed")) if field in ("published", "updated") \
                else t.get(field)
            pairs = [(ours["entries"][where][field], value)]
        if field == "title":
            pairs = [(a, title_text(b)) for a, b in pairs]
        assert any(a != b for a, b in pairs), (name, where, field)


@pytest.mark.parametrize("name", JSON_FIXTURES)
def test_json_feed_matches_its_source(name):
    """feedparser 6.0.10 (Debian 12) has no JSON Feed reader: compare with the
    JSON itself."""
    src = json.loads((FEEDS / name).read_text())
    ours = parse(FEEDS / name)
    assert ours["version"] == ("json11" if src["version"].endswith("/1.1") else "json1")
    assert ours["bozo"] is False
    assert ours["feed"]["title"] == src["title"]
    assert ours["feed"]["link"] == src["home_page_url"]
    assert len(ours["entries"]) == len(src["items"])
    for o, item in zip(ours["entries"], src["items"]):
        assert o["id"] == str(item["id"])
        assert o["link"] == feedparser.urls.make_safe_absolute_uri(src["home_page_url"],
                                                                   item["url"])
        assert o["title"] == (title_text(item["title"]) if "title" in item else None)
        for ours_key, key in (("published", "date_published"), ("updated", "date_modified")):
            want = iso(feedparser.datetimes._parse_date(item[key])) if key in item else None
            assert o[ours_key] == want


def test_json_feed_fields():
    doc = parse(FEEDS / "json10.json")
    first, second = doc["entries"]
    assert first["tags"] == [{"term": "a", "scheme": None, "label": None},
                             {"term": "b", "scheme": None, "label": None}]
    assert first["content"][0]["type"] == "text/html"
    assert "script" not in first["content"][0]["value"]
    assert 'href="https://json.example.org/rel"' in first["content"][0]["value"]
    assert second["enclosures"] == [{"href": "https://json.example.org/2.mp3", "length": 42,
                                     "type": "audio/mpeg"}]
    assert doc["feed"]["authors"][0]["name"] == "Jay Son"
    doc11 = parse(FEEDS / "json11.json")
    assert doc11["feed"]["language"] == "de"
    assert doc11["entries"][0]["summary"] == "Kurz"
    assert doc11["entries"][0]["content"][0]["language"] == "de-AT"


def test_prints_the_spec_shape():
    doc = parse(FEEDS / "rss20.xml")
    assert list(doc) == ["bozo", "bozo_message", "version", "encoding", "feed", "entries"]
    assert list(doc["feed"]) == ["title", "subtitle", "link", "links", "id", "language",
                                 "updated", "authors", "tags", "image", "generator"]
    assert list(doc["entries"][0]) == ["id", "title", "link", "links", "published", "updated",
                                       "authors", "tags", "summary", "content", "enclosures",
                                       "comments"]
    feed, first = doc["feed"], doc["entries"][0]
    assert feed["updated"] == "2026-03-03T09:30:00Z"
    assert feed["authors"] == [{"name": "Ed Itor", "email": "editor@example.org", "uri": None}]
    assert feed["image"] == {"href": "https://blog.example.org/logo.png", "title": "Example",
                             "link": "https://blog.example.org/"}
    assert feed["generator"] == "Hugo 0.120"
    assert first["published"] == "2026-03-02T13:00:00Z"
    assert first["authors"][0]["name"] == "Ada Lovelace"
    assert [t["term"] for t in first["tags"]] == ["scheduling", "cron"]
    assert first["comments"] == "https://blog.example.org/2026/03/scheduler#comments"
    assert first["enclosures"][0] == {"href": "https://cdn.example.org/talk.mp3",
                                      "length": 12345678, "type": "audio/mpeg"}
    second = doc["entries"][1]
    assert second["authors"] == [{"name": "Bob Builder", "email": "bob@example.org",
                                  "uri": None}]
    assert second["published"] == "2026-02-27T13:15:00Z"  # EST is -5
    assert doc["entries"][2]["link"] is None  # isPermaLink="false"


def test_html_is_sanitized_and_links_made_absolute():
    first = parse(FEEDS / "rss20.xml")["entries"][0]
    summary, content = first["summary"], first["content"][0]["value"]
    for bad in ("<script", "alert", "onerror", "onclick", "javascript:", "<iframe", "evil"):
        assert bad not in summary and bad not in content, bad
    assert '<img src="https://blog.example.org/img/a.png" />' in summary
    assert '<a href="https://blog.example.org/docs/cron">docs</a>' in content
    assert "<b>scheduler</b>" in summary
    atom = parse(FEEDS / "atom10.xml")["entries"][0]
    xhtml = atom["content"][0]
    assert xhtml["type"] == "application/xhtml+xml"
    assert 'href="https://atom.example.net/other/page"' in xhtml["value"]
    assert "bad()" not in xhtml["value"]


def test_titles_are_text():
    entries = parse(FEEDS / "html_titles.xml")["entries"]
    assert [e["title"] for e in entries] == [
        "Bold and emphasis", "CDATA title & ampersand", "Fish & chips < 5 pounds",
        "Entity \u00e9t\u00e9 \u2014 double"]
    atom = parse(FEEDS / "atom10.xml")["entries"]
    assert atom[0]["title"] == "Bold move & more"
    assert atom[1]["title"] == "Text type keeps <tags> literal"


def test_nested_xml_base():
    entries = parse(FEEDS / "xmlbase_nested.xml")["entries"]
    assert [e["link"] for e in entries] == [
        "http://base.example.org/root/sub/one.html", "http://other.example.com/two.html",
        "http://base.example.org/abs/three"]
    content = entries[0]["content"][0]
    assert content["base"] == "http://base.example.org/root/sub/deeper/"
    assert 'href="http://base.example.org/root/sub/deeper/c.html"' in content["value"]
    assert 'src="http://base.example.org/root/sub/i.png"' in content["value"]


def test_base_argument_is_the_last_resort(tmp_path):
    p = tmp_path / "nolink.xml"
    p.write_text('<rss version="2.0"><channel><title>t</title>'
                 '<item><title>a</title><link>a.html</link></item></channel></rss>')
    doc = parse(p, "--base", "https://host.example/feeds/main.xml")
    assert doc["entries"][0]["link"] == "https://host.example/feeds/a.html"
    assert parse(p)["entries"][0]["link"] == "a.html"


@pytest.mark.parametrize("name,encoding,title", [
    ("latin1_declared_utf8.xml", "windows-1252", "Cr\u00e8me br\u00fbl\u00e9e"),
    ("latin1_prolog.xml", "iso-8859-1", "D\u00e9j\u00e0 vu"),
    ("utf16le_bom.xml", "utf-16le", "\u65e5\u672c\u8a9e entry"),
    ("utf16be_bom.xml", "utf-16be", "\u65e5\u672c\u8a9e entry"),
    ("utf8_bom.xml", "utf-8", "Na\u00efve \u2014 caf\u00e9"),
    ("cp1252_smart_quotes.xml", "windows-1252", "It\u2019s \u20ac 5"),
])
def test_encodings(name, encoding, title):
    doc = parse(FEEDS / name)
    assert doc["encoding"] == encoding
    assert doc["entries"][0]["title"] == title
    assert doc["bozo"] == (name == "latin1_declared_utf8.xml")
    if doc["bozo"]:
        assert doc["bozo_message"] == "document declared as utf-8, but parsed as windows-1252"


def test_http_charset_wins_over_the_prolog():
    # The file says iso-8859-1 and is; an HTTP header claiming UTF-8 is wrong,
    # so the bytes are read as windows-1252 with bozo, and the text survives.
    doc = parse(FEEDS / "latin1_prolog.xml", "--content-type", "text/xml; charset=UTF-8")
    assert doc["bozo"] is True
    assert "declared as utf-8" in doc["bozo_message"]
    assert doc["entries"][0]["title"] == "D\u00e9j\u00e0 vu"


def test_broken_xml_is_bozo_and_still_read():
    doc = parse(FEEDS / "broken_unclosed.xml")
    assert doc["bozo"] is True and doc["bozo_message"]
    assert [e["title"] for e in doc["entries"]] == ["Still readable", "Second item survives"]


def test_entity_declarations_are_never_expanded():
    res = run_cc(["feed", "parse", str(FEEDS / "entities_doctype.xml")], timeout=20)
    assert res.returncode == 0, res
    doc = json.loads(res.stdout)
    assert doc["bozo"] is True and "entity" in doc["bozo_message"]
    assert len(res.stdout) < 10000
    assert "lollol" not in res.stdout and "root:" not in res.stdout


def test_duplicate_guids_keep_both_entries():
    entries = parse(FEEDS / "duplicate_guids.xml")["entries"]
    assert [e["id"] for e in entries] == ["7", "7", "8", None, None]
    assert entries[0]["link"] != entries[1]["link"]


def test_dates():
    entries = {e["id"]: e["published"] for e in parse(FEEDS / "dates_odd.xml")["entries"]}
    assert entries["d1"] == "2006-01-02T22:04:05Z"
    assert entries["d2"] == "2006-01-02T20:04:00Z"
    assert entries["d3"] == "2006-01-02T15:04:05Z"    # wrong weekday ignored
    assert entries["d9"] == "2006-01-01T00:00:00Z"
    assert entries["d15"] is None                      # never "now"
    assert entries["d16"] is None                      # 31 February does not exist
    assert entries["d17"] is None


def test_not_a_feed_is_bozo_and_exits_1():
    res = run_cc(["feed", "parse", str(FEEDS / "not_a_feed.html")])
    assert res.returncode == 1
    doc = json.loads(res.stdout)
    assert doc["bozo"] is True and doc["entries"] == [] and doc["version"] == ""
    assert "not a feed" in res.stderr and "<html>" in res.stderr


def test_unreadable_file_says_so(tmp_path):
    res = run_cc(["feed", "parse", str(tmp_path / "missing.xml")])
    assert res.returncode == 1
    assert "cannot read" in res.stderr and "missing.xml" in res.stderr and res.stdout == ""
    res = run_cc(["feed", "parse", str(tmp_path)])
    assert res.returncode == 1 and "cannot read" in res.stderr


def test_usage():
    res = run_cc(["feed", "--help"])
    assert res.returncode == 0 and "feed parse FILE" in res.stdout
    res = run_cc(["feed", "parse"])
    assert res.returncode == 2 and "missing the feed file" in res.stderr
    res = run_cc(["feed", "frobnicate"])
    assert res.returncode == 2


def test_huge_feed(tmp_path):
    n = 20000
    items = "".join(
        "<item><title>Item %d &amp; more</title><link>https://huge.example/%d</link>"
        "<guid>g%d</guid><pubDate>Mon, 02 Jan 2006 15:04:05 GMT</pubDate>"
        "<description>&lt;p&gt;Body %d&lt;/p&gt;</description></item>" % (i, i, i, i)
        for i in range(n))
    p = tmp_path / "huge.xml"
    p.write_text('<?xml version="1.0"?><rss version="2.0"><channel><title>Huge</title>'
                 "<link>https://huge.example/</link>" + items + "</channel></rss>")
    res = run_cc(["feed", "parse", str(p)], timeout=120)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert len(doc["entries"]) == n
    assert doc["entries"][-1]["title"] == "Item %d & more" % (n - 1)
    assert doc["entries"][-1]["summary"] == "<p>Body %d</p>" % (n - 1)
