"""`commandcenter robots check` and `commandcenter extract`: offline tools with
the JSON shapes of SPEC 2.1, run against the documentation-site fixtures, and
usage errors that say what to fix (exit 2; unreadable input exits 1)."""

import json

import pytest

from conftest import REPO, run_cc

SITES = REPO / "tests" / "data" / "sites"


def robots(path, agent, url):
    res = run_cc(["robots", "check", path, agent, url])
    assert res.returncode == 0, res
    assert res.stderr == ""
    return res.json


@pytest.mark.parametrize("site, agent, url, allowed", [
    ("docusaurus", "CommandCenter/0.1", "http://docs.acme.test/docs/intro/", True),
    ("docusaurus", "CommandCenter/0.1", "http://docs.acme.test/search", False),
    ("docusaurus", "CommandCenter/0.1", "http://docs.acme.test/docs/intro/?page=2", True),
    ("docusaurus", "CommandCenter/0.1", "http://docs.acme.test/blog/?page=2", False),
    ("docusaurus", "GPTBot", "http://docs.acme.test/docs/intro/", False),
    ("docusaurus", "gptbot/1.1", "/", False),
    ("mkdocs-material", "CommandCenter", "http://docs.acme.test/dev/index.html", False),
    ("mkdocs-material", "CommandCenter", "http://docs.acme.test/1.1/", True),
    ("mkdocs", "CommandCenter", "/search/?q=x", False),
    ("sphinx", "CommandCenter", "http://docs.acme.test/en/v0.9/index.html", False),
    ("sphinx", "CommandCenter", "http://docs.acme.test/en/v1.0/quickstart.html", True),
    ("sphinx", "CommandCenter", "http://docs.acme.test/robots.txt", True),
])
def test_robots_check_fixture_sites(site, agent, url, allowed):
    doc = robots(SITES / site / "robots.txt", agent, url)
    assert doc == {"allowed": allowed}


def test_robots_check_longest_match_and_wildcards(tmp_path):
    f = tmp_path / "robots.txt"
    f.write_bytes(b"User-agent: *\nDisallow: /\nAllow: /docs/\nDisallow: /docs/*.pdf$\n"
                  b"Allow: /docs/%7Euser/\n")
    assert robots(f, "x", "https://h.test/docs/a.html") == {"allowed": True}
    assert robots(f, "x", "https://h.test/docs/a.pdf") == {"allowed": False}
    assert robots(f, "x", "https://h.test/docs/a.pdf?dl=1") == {"allowed": True}
    assert robots(f, "x", "https://h.test/docs/~user/x.pdf") == {"allowed": True}
    assert robots(f, "x", "https://h.test/other") == {"allowed": False}


def test_robots_help():
    res = run_cc(["robots", "--help"])
    assert res.returncode == 0 and "robots check ROBOTS_FILE USER_AGENT URL" in res.stdout
    res = run_cc(["robots", "check", "--help"])
    assert res.returncode == 0 and "allowed" in res.stdout


@pytest.mark.parametrize("args, needle", [
    ([], "missing the subcommand"),
    (["test"], "unknown subcommand 'robots test'"),
    (["check", "robots.txt", "FooBot"], "takes ROBOTS_FILE USER_AGENT URL"),
    (["check", "robots.txt", "FooBot", "mailto:x@y.z"], "not a URL robots.txt applies to"),
])
def test_robots_usage_errors_exit_2(args, needle):
    res = run_cc(["robots"] + args)
    assert res.returncode == 2, res
    assert needle in res.stderr and "hint:" in res.stderr, res.stderr
    assert res.stdout == ""


def test_robots_missing_file_exits_1(tmp_path):
    res = run_cc(["robots", "check", tmp_path / "nope.txt", "FooBot", "/"])
    assert res.returncode == 1
    assert "cannot open" in res.stderr and "hint:" in res.stderr
    assert res.stdout == ""


def extract(rel, url=None):
    args = ["extract", SITES / rel] + (["--url", url] if url else [])
    res = run_cc(args)
    assert res.returncode == 0, res
    return res.json


def test_extract_shape_docusaurus():
    doc = extract("docusaurus/docs/installation/index.html",
                  "http://docs.acme.test/docs/installation/")
    # SPEC 2.1's fields first, then the documented extras.
    assert list(doc)[:4] == ["title", "text", "headings", "code_blocks"]
    assert set(doc) == {"title", "text", "headings", "code_blocks", "needs_javascript",
                        "version", "site"}
    assert doc["title"] == "Installation"
    assert doc["site"] == "docusaurus" and doc["version"] == "2.x"
    assert doc["needs_javascript"] is False
    assert doc["headings"] == [
        {"level": 1, "text": "Installation"}, {"level": 2, "text": "From npm"},
        {"level": 2, "text": "From source"}, {"level": 3, "text": "Configuration"},
    ]
    assert doc["code_blocks"][0] == {"language": "bash",
                                     "text": "npm install --global acme-cli\nacme --version"}
    lines = doc["text"].split("\n")
    assert lines[:2] == ["Installation",
                         "Acme runs on Linux and macOS. You need Node.js 18 or newer."]
    for chrome in ("Edit this page", "On this page", "Copyright", "Version: 2.x", "Previous"):
        assert chrome not in doc["text"]


@pytest.mark.parametrize("rel, url, site, title, version, first_heading", [
    ("mkdocs-material/1.1/getting-started/index.html",
     "http://docs.acme.test/1.1/getting-started/", "mkdocs-material", "Getting started", "1.1",
     {"level": 1, "text": "Getting started"}),
    ("mkdocs/user-guide/configuration/index.html", None, "mkdocs", "Configuration", None,
     {"level": 1, "text": "Configuration"}),
    ("sphinx/en/latest/quickstart.html", "http://docs.acme.test/en/latest/quickstart.html",
     "sphinx", "Quickstart", "latest", {"level": 1, "text": "Quickstart"}),
    ("sphinx/en/v1.0/quickstart.html", "http://docs.acme.test/en/v1.0/quickstart.html",
     "sphinx", "Quickstart", "v1.0", {"level": 1, "text": "Quickstart"}),
    ("gitbook/getting-started/quickstart/index.html", None, "gitbook", "Quickstart", None,
     {"level": 1, "text": "Quickstart"}),
    ("blog/posts/why-sqlite/index.html", None, "generic", "Why we moved our queue to SQLite",
     None, {"level": 1, "text": "Why we moved our queue to SQLite"}),
])
def test_extract_each_generator(rel, url, site, title, version, first_heading):
    doc = extract(rel, url)
    assert doc["site"] == site
    assert doc["title"] == title
    assert doc["version"] == version
    assert doc["headings"][0] == first_heading
    assert doc["code_blocks"] and all(c["language"] for c in doc["code_blocks"])
    assert doc["needs_javascript"] is False


def test_extract_javascript_only_page():
    doc = extract("spa/index.html", "http://app.acme.test/")
    assert doc["needs_javascript"] is True
    assert doc["text"] == "" and doc["headings"] == [] and doc["code_blocks"] == []
    assert doc["title"] == "Acme Console"


def test_extract_code_without_language_is_null(tmp_path):
    f = tmp_path / "p.html"
    f.write_text("<html><body><main><h1>T</h1><p>Run it.</p><pre>make\n  make install</pre>"
                 "</main></body></html>")
    doc = extract(f)
    assert doc["code_blocks"] == [{"language": None, "text": "make\n  make install"}]
    assert doc["text"] == "T\nRun it.\nmake\n  make install"
    assert doc["title"] == "T"


def test_extract_help():
    res = run_cc(["extract", "--help"])
    assert res.returncode == 0 and "--url" in res.stdout and "needs_javascript" in res.stdout


@pytest.mark.parametrize("args, needle", [
    ([], "missing the HTML file"),
    (["a.html", "b.html"], "extract takes one HTML file"),
    (["a.html", "--url"], "option '--url' needs a value"),
    (["a.html", "--bogus"], "unknown option '--bogus'"),
])
def test_extract_usage_errors_exit_2(args, needle):
    res = run_cc(["extract"] + args)
    assert res.returncode == 2, res
    assert needle in res.stderr and "hint:" in res.stderr, res.stderr
    assert res.stdout == ""


def test_extract_missing_file_exits_1(tmp_path):
    res = run_cc(["extract", tmp_path / "nope.html"])
    assert res.returncode == 1
    assert "cannot open" in res.stderr and res.stdout == ""
