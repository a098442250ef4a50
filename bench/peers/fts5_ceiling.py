#!/usr/bin/env python3
"""bench/peers/fts5_ceiling.py - the ceiling for bench/knowledge.sh's ingest figure.

Reads every Markdown file under CORPUS_DIR and inserts its text into a fresh
SQLite FTS5 table shaped like the daemon's index (title, heading, body;
tokenize = 'porter unicode61 remove_diacritics 2'), all in ONE transaction on
an on-disk database in WAL mode: no HTTP, no queue, no chunking, no per-document
commit. Nothing real can ingest the same text faster with the same engine, so
the daemon's documents/s divided by this one says how much of the engine's speed
the pipeline keeps.

Two figures are measured in the same process (each on its own new database):
  per_document  one FTS5 row per file (title = first heading, body = the rest);
  per_section   one FTS5 row per "#"-headed section, the way the daemon chunks.
Both include reading the files. Prints one JSON object on stdout.

With QUERIES_FILE (one query per line, the first 100 a warm-up), it also
times those queries against the per-section table the way the daemon's store
runs them (an OR of quoted terms, the best max(20*k, 200) = 200 rows by
bm25(4, 2, 1)), without HTTP, snippets or joins: the engine's floor for the
search latency figure.

usage: fts5_ceiling.py CORPUS_DIR DB_DIR [QUERIES_FILE]
"""

import json
import math
import os
import sqlite3
import sys
import time

TOKENIZER = "porter unicode61 remove_diacritics 2"


def corpus_files(root):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(x for x in dirnames if not x.startswith("."))
        for f in sorted(filenames):
            if not f.startswith(".") and f.endswith((".md", ".markdown")):
                out.append(os.path.join(dirpath, f))
    return out


def sections(text):
    """[(heading path, body)] cut at Markdown headings."""
    path, body, out = [], [], []
    for line in text.split("\n"):
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            if body and "".join(body).strip():
                out.append((" › ".join(path), "\n".join(body).strip()))
            body = []
            path = path[:level - 1] + [line[level:].strip()]
        else:
            body.append(line)
    if body and "".join(body).strip():
        out.append((" › ".join(path), "\n".join(body).strip()))
    return out


def fresh_db(path):
    for suffix in ("", "-wal", "-shm"):
        try:
            os.unlink(path + suffix)
        except FileNotFoundError:
            pass
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE VIRTUAL TABLE chunks_fts USING fts5(title, heading, body, tokenize = '%s')"
               % TOKENIZER)
    return db


def run(files, db_path, per_section):
    t0 = time.perf_counter()
    db = fresh_db(db_path)
    rows = 0
    db.execute("BEGIN")
    for f in files:
        with open(f, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        first = text.split("\n", 1)[0].lstrip("#").strip()
        if per_section:
            for heading, body in sections(text):
                db.execute("INSERT INTO chunks_fts (title, heading, body) VALUES (?, ?, ?)",
                           (first, heading, body))
                rows += 1
        else:
            db.execute("INSERT INTO chunks_fts (title, heading, body) VALUES (?, ?, ?)",
                       (first, None, text))
            rows += 1
    db.execute("COMMIT")
    db.close()
    secs = time.perf_counter() - t0
    return {"documents": len(files), "rows": rows, "seconds": round(secs, 3),
            "documents_per_s": round(len(files) / secs, 1) if secs > 0 else None}


def search_floor(db_path, qfile, warm=100, window=200):
    with open(qfile) as f:
        qs = [ln.strip() for ln in f if ln.strip()]
    db = sqlite3.connect(db_path)
    sql = ("SELECT rowid, -bm25(chunks_fts, 4.0, 2.0, 1.0) FROM chunks_fts WHERE chunks_fts "
           "MATCH ? ORDER BY bm25(chunks_fts, 4.0, 2.0, 1.0) LIMIT %d" % window)
    lat, matched = [], []
    for i, q in enumerate(qs):
        m = " OR ".join('"%s"' % w.replace('"', '""') for w in q.split())
        t0 = time.perf_counter()
        rows = db.execute(sql, (m,)).fetchall()
        dt = (time.perf_counter() - t0) * 1000.0
        if i >= warm:
            lat.append(dt)
            matched.append(len(rows))
    # how many rows the queries match at all (a sample: this is slow)
    counts = sorted(db.execute("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?",
                               (" OR ".join('"%s"' % w for w in q.split()),)).fetchone()[0]
                    for q in qs[warm:warm + 300])
    db.close()

    def pct(v, p):
        return v[min(len(v) - 1, max(0, int(math.ceil(p / 100.0 * len(v))) - 1))]
    lat.sort()
    return {"queries": len(lat), "window": window,
            "latency_ms": {"mean": round(sum(lat) / len(lat), 3), "p50": round(pct(lat, 50), 3),
                           "p90": round(pct(lat, 90), 3), "p99": round(pct(lat, 99), 3),
                           "max": round(lat[-1], 3)},
            "matching_rows_per_query": {"p50": pct(counts, 50), "p90": pct(counts, 90),
                                        "max": counts[-1], "sample": len(counts)}}


def main():
    if len(sys.argv) not in (3, 4):
        sys.stderr.write(__doc__)
        return 2
    files = corpus_files(sys.argv[1])
    if not files:
        sys.stderr.write("fts5_ceiling: no Markdown files under %s\n" % sys.argv[1])
        return 1
    os.makedirs(sys.argv[2], exist_ok=True)
    # warm the page cache the same way for both figures (the daemon reads the
    # files after the generator wrote them, so they are cached for it too)
    for f in files:
        with open(f, "rb") as fh:
            fh.read()
    doc = {
        "engine": "sqlite %s FTS5 via python3 sqlite3, one transaction, WAL, synchronous=NORMAL"
                  % sqlite3.sqlite_version,
        "tokenizer": TOKENIZER,
        "per_document": run(files, os.path.join(sys.argv[2], "ceiling-doc.db"), False),
        "per_section": run(files, os.path.join(sys.argv[2], "ceiling-sec.db"), True),
    }
    if len(sys.argv) == 4:
        doc["search_floor"] = search_floor(os.path.join(sys.argv[2], "ceiling-sec.db"),
                                           sys.argv[3])
    json.dump(doc, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
