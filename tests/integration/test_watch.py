"""Watched folders (issue 9, item 5): a file source with options.watch
follows its folder through inotify - files created, written in many
writes, edited, renamed and deleted, new directories, excludes - and a
watcher seeing 1,000 files changed in bursts ends with a store matching
the folder."""
import os
import random
import shutil
import time

from conftest import create_source, db_query, get_source, search, wait_queue_idle


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")   # an unsupported type: the watcher ignores it
    tmp.write_text(text)
    os.replace(tmp, path)


def external_ids(d, source_id):
    return sorted(r[0] for r in db_query(
        d, "SELECT external_id FROM documents WHERE source_id = ?", (source_id,)))


def wait_for(what, pred, timeout=120.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        ok, last = pred()
        if ok:
            return last
        time.sleep(0.1)
    raise AssertionError("%s not reached within %.0fs; last: %r" % (what, timeout, last))


def found(d, word):
    return [r["doc_id"] for r in search(d, word)["results"]]


def folder_ids(root):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [n for n in dirnames if not n.startswith(".")]
        for f in filenames:
            if f.endswith(".md") and not f.startswith("."):
                out.append(os.path.relpath(os.path.join(dirpath, f), root))
    return sorted(out)


def watched(daemon, root, **options):
    d = daemon(env={"CC_SOURCES_ALLOWED_ROOTS": str(root), "CC_HTTP_RATE_LIMIT_RPS": "0"})
    opts = {"watch": True}
    opts.update(options)
    s = create_source(d, name="watched", type="file", path=str(root), options=opts)
    return d, s


def test_watch_follows_the_folder(daemon, tmp_path):
    root = tmp_path / "w"
    write(root / "before.md", "# before\n\nThe catchupword was there first.\n")
    d, s = watched(daemon, root, exclude=["drafts/", "*.tmp.md"])
    # catch-up scan when the source starts being watched
    wait_for("catch-up scan", lambda: (bool(found(d, "catchupword")), None))

    write(root / "new.md", "# new\n\nThe createdword arrived.\n")
    wait_for("a new file", lambda: (bool(found(d, "createdword")), None))
    doc = found(d, "createdword")[0]

    write(root / "new.md", "# new\n\nThe editedword replaced it.\n")
    wait_for("an edit", lambda: (found(d, "editedword") == [doc] and not found(d, "createdword"),
                                 found(d, "createdword")))

    os.rename(root / "new.md", root / "renamed.md")
    wait_for("a rename", lambda: (external_ids(d, s["id"]) == ["before.md", "renamed.md"],
                                  external_ids(d, s["id"])))

    os.unlink(root / "renamed.md")
    wait_for("a delete", lambda: (external_ids(d, s["id"]) == ["before.md"],
                                  external_ids(d, s["id"])))

    # a new directory tree, filled at once (files may land before its watch)
    (root / "a" / "b" / "c").mkdir(parents=True)
    for i in range(5):
        (root / "a" / "b" / "c" / ("f%d.md" % i)).write_text("# f\n\nnesteddirword%d\n" % i)
    (root / "a" / "top.md").write_text("# top\n\nThe nestedtopword.\n")
    wait_for("a new directory tree",
             lambda: (len(external_ids(d, s["id"])) == 7, external_ids(d, s["id"])))

    # excluded, hidden and unsupported files are never ingested
    write(root / "drafts" / "x.md", "# x\n\nexcludeddirword\n")
    write(root / "y.tmp.md", "# y\n\nexcludedpatternword\n")
    write(root / ".hidden.md", "# h\n\nhiddenwatchword\n")
    write(root / "z.xyz", "unsupportedwatchword\n")
    write(root / "sentinel.md", "# s\n\nsentinelword\n")
    wait_for("the sentinel", lambda: (bool(found(d, "sentinelword")), None))
    wait_queue_idle(d)
    for w in ("excludeddirword", "excludedpatternword", "hiddenwatchword",
              "unsupportedwatchword"):
        assert found(d, w) == [], w

    # a directory moved away takes its documents; moved back, they return
    shutil.move(str(root / "a"), str(tmp_path / "away"))
    wait_for("a directory moved out",
             lambda: (external_ids(d, s["id"]) == ["before.md", "sentinel.md"],
                      external_ids(d, s["id"])))
    shutil.move(str(tmp_path / "away"), str(root / "back"))
    wait_for("a directory moved in",
             lambda: ("back/b/c/f4.md" in external_ids(d, s["id"]), external_ids(d, s["id"])))
    assert get_source(d, "watched")["last_status"] in (None, "ok")


def test_a_file_written_in_many_writes_is_ingested_once(daemon, tmp_path):
    root = tmp_path / "w"
    root.mkdir()
    d, s = watched(daemon, root)
    # the catch-up scan has run and will not queue the file itself
    wait_for("the catch-up scan", lambda: (get_source(d, "watched")["counters"]["runs"] >= 1,
                                          None))
    wait_queue_idle(d)
    with open(root / "slow.md", "w") as f:
        f.write("# slow\n\n")
        for i in range(12):   # a slow writer: each write well within the debounce
            f.write("slowpart%d " % i)
            f.flush()
            time.sleep(0.05)
        f.write("slowendword\n")
    wait_for("the slow file", lambda: (bool(found(d, "slowendword")), None))
    wait_queue_idle(d)
    jobs = db_query(d, "SELECT count(*) FROM jobs WHERE dedup_key = ?",
                    ("file:%d:slow.md" % s["id"],))[0][0]
    assert jobs == 1, "a file written in many writes was queued %d times" % jobs


def test_watcher_stops_for_paused_and_deleted_sources(daemon, tmp_path):
    root = tmp_path / "w"
    root.mkdir()
    d, s = watched(daemon, root)
    write(root / "one.md", "# one\n\nfirstwatchword\n")
    wait_for("first file", lambda: (bool(found(d, "firstwatchword")), None))
    r = d.admin("POST", "/api/v1/sources/watched/pause")
    assert r.status == 200, r
    d.wait_log(lambda e: e.get("msg") == "no longer watching a folder", timeout=30,
               what="the watcher dropping a paused source")
    write(root / "two.md", "# two\n\npausedwatchword\n")
    r = d.admin("POST", "/api/v1/sources/watched/resume")
    assert r.status == 200, r
    # resumed: the catch-up scan finds what changed meanwhile
    wait_for("catch-up after resume", lambda: (bool(found(d, "pausedwatchword")), None))


def test_a_thousand_files_in_bursts(daemon, tmp_path):
    root = tmp_path / "w"
    root.mkdir()
    d, s = watched(daemon, root)
    wait_queue_idle(d)
    rng = random.Random(9)
    files = {}   # rel -> word of its current version
    n = 0

    def put(rel):
        nonlocal n
        n += 1
        word = "burstword%dx" % n
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("# %s\n\nThe %s is version %d.\n" % (rel, word, n))
        files[rel] = word

    # bursts of creations, some in directories that appear mid-burst
    for burst in range(10):
        for i in range(100):
            sub = "d%d" % (i % 7) if burst % 2 else "n%d/deep%d" % (burst, i % 3)
            put("%s/f%d_%d.md" % (sub, burst, i))
    assert len(files) == 1000
    # edits, renames, deletes, in bursts
    rels = sorted(files)
    rng.shuffle(rels)
    edited, renamed, deleted = rels[:300], rels[300:400], rels[400:550]
    old_words = []
    for rel in edited:
        old_words.append(files[rel])
        put(rel)
    for rel in renamed:
        new = rel.replace(".md", "_mv.md")
        os.rename(root / rel, root / new)
        files[new] = files.pop(rel)
    for rel in deleted:
        os.unlink(root / rel)
        files.pop(rel)
    # a whole directory renamed
    os.rename(root / "n0", root / "n0_renamed")
    for rel in [r for r in files if r.startswith("n0/")]:
        files["n0_renamed/" + rel[3:]] = files.pop(rel)

    want = sorted(files)
    assert want == folder_ids(root)
    wait_for("the store to match the folder",
             lambda: (external_ids(d, s["id"]) == want and
                      job_idle(d), (len(external_ids(d, s["id"])), len(want))),
             timeout=300)
    # the latest version of every file is what search finds, under its path
    sample = rng.sample(sorted(files), 60)
    for rel in sample:
        res = search(d, files[rel])["results"]
        assert len(res) == 1, (rel, res)
        doc = d.admin("GET", "/api/v1/knowledge/documents/%s" % res[0]["doc_id"]).json
        assert doc["external_id"] == rel, (rel, doc)
    # old versions of edited files, and deleted files, are not found
    for word in old_words[:40]:
        assert search(d, word)["results"] == [], word
    ids = external_ids(d, s["id"])
    assert len(ids) == len(set(ids)), "duplicate documents"


def job_idle(d):
    r = d.admin("GET", "/api/v1/jobs?limit=1")
    c = r.json["counts"]
    return c["queued"] + c["running"] == 0
