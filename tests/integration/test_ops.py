"""Operations: one daemon per data directory, systemd readiness and watchdog
(sd_notify), the systemd unit, `make install`, backup and restore."""

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import CC_BIN, REPO, run_cc, clean_env


def test_second_daemon_on_same_data_dir_is_refused_naming_the_first(daemon, tmp_path):
    data = tmp_path / "shared"
    d1 = daemon(data_dir=data)
    d2 = daemon(data_dir=data, wait=False)
    rc = d2.wait_exit(timeout=30)
    assert rc is not None, "a second daemon on the same data directory kept running"
    assert rc == 1, d2.stderr_text()
    err = d2.stderr_text()
    assert "another daemon (pid %d)" % d1.proc.pid in err, err[-2000:]
    assert str(data) in err, err[-2000:]
    assert "hint:" in err
    d1.assert_serving()
    # The lock goes with its holder: once the first stops, a new one starts.
    assert d1.stop() == 0
    d3 = daemon(data_dir=data)
    d3.assert_serving()


def test_lock_is_released_when_the_holder_is_killed(daemon, tmp_path):
    data = tmp_path / "killed"
    d1 = daemon(data_dir=data)
    d1.kill()
    d2 = daemon(data_dir=data)
    d2.assert_serving()


# --------------------------------------------------------------------------
# systemd: sd_notify readiness, watchdog and stopping

class NotifySocket:
    """A unix datagram socket standing in for systemd's NOTIFY_SOCKET."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages = []

    def wait_for(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            for m in self.messages:
                if pred(m):
                    return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %s within %.0fs; got %r" % (what, timeout, self.messages))
            self.sock.settimeout(left)
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except socket.timeout:
                pass

    def close(self):
        self.sock.close()


def lines_of(msg):
    return msg.split("\n")


def ready_then_stop(d, ns):
    """Waits for READY=1, checks the daemon serves, stops it with SIGTERM
    and waits for STOPPING=1; returns READY=1's message."""
    ready = ns.wait_for(lambda m: "READY=1" in lines_of(m), 60, "READY=1")
    d.assert_serving()
    d.proc.send_signal(signal.SIGTERM)
    ns.wait_for(lambda m: "STOPPING=1" in lines_of(m), 30, "STOPPING=1")
    assert d.stop() == 0
    return ready


def test_sd_notify_ready_watchdog_and_stopping(daemon, tmp_path):
    ns = NotifySocket(tmp_path / "notify.sock")
    try:
        d = daemon(env={"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": "400000"}, wait=False)
        ready = ns.wait_for(lambda m: "READY=1" in lines_of(m), 60, "READY=1")
        # READY=1 is sent once the store and HTTP are up: /ready answers now.
        d.wait_listening()
        assert "STATUS=serving on %s" % d.url in lines_of(ready), ready
        r = d.get("/ready")
        assert r.status == 200, r
        before = len(ns.messages)
        ns.wait_for(lambda m: m == "WATCHDOG=1" and ns.messages.index(m) >= before, 30,
                    "WATCHDOG=1 after READY=1")
        # Pings keep coming at about WATCHDOG_USEC/2.
        n = ns.messages.count("WATCHDOG=1")
        ns.wait_for(lambda m: ns.messages.count("WATCHDOG=1") > n, 30, "a second WATCHDOG=1")
        d.proc.send_signal(signal.SIGTERM)
        ns.wait_for(lambda m: "STOPPING=1" in lines_of(m), 30, "STOPPING=1")
        assert d.stop() == 0
        assert any(e.get("msg") == "systemd watchdog on" and e.get("interval_ms") == 200
                   for e in d.logs()), d.stderr_text()[-2000:]
    finally:
        ns.close()


def test_no_watchdog_pings_without_watchdog_usec(daemon, tmp_path):
    ns = NotifySocket(tmp_path / "notify.sock")
    try:
        d = daemon(env={"NOTIFY_SOCKET": ns.path})
        ready_then_stop(d, ns)
        assert "WATCHDOG=1" not in ns.messages, ns.messages
        assert not any(e.get("msg") == "systemd watchdog on" for e in d.logs())
    finally:
        ns.close()


def test_watchdog_pid_of_another_process_is_ignored(daemon, tmp_path):
    ns = NotifySocket(tmp_path / "notify.sock")
    try:
        d = daemon(env={"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": "100000",
                        "WATCHDOG_PID": str(os.getpid())})
        ready_then_stop(d, ns)
        assert "WATCHDOG=1" not in ns.messages, ns.messages
        assert not any(e.get("msg") == "systemd watchdog on" for e in d.logs())
    finally:
        ns.close()


UNIT = REPO / "deploy" / "systemd" / "commandcenter.service"
UNITS = ("commandcenter.service", "commandcenter-backup.service", "commandcenter-backup.timer")


def systemd_analyze():
    exe = shutil.which("systemd-analyze")
    if not exe:
        pytest.skip("systemd-analyze is not installed (scripts/deps.sh test installs systemd)")
    return exe


def unit_settings(text):
    out = {}
    for ln in text.splitlines():
        if "=" in ln and not ln.startswith(("#", "[")):
            k, v = ln.split("=", 1)
            out.setdefault(k, []).append(v)
    return out


def test_systemd_unit_verifies_and_is_hardened(tmp_path):
    exe = systemd_analyze()
    units = []
    for name in UNITS:
        unit = tmp_path / name
        unit.write_text((UNIT.parent / name).read_text().replace("/usr/local/bin/commandcenter",
                                                                CC_BIN))
        units.append(str(unit))
    unit = tmp_path / "commandcenter.service"
    p = subprocess.run([exe, "verify", "--man=no"] + units, cwd=str(tmp_path),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    assert p.returncode == 0 and not p.stdout.strip(), p.stdout.decode()
    s = unit_settings(UNIT.read_text())
    for key, want in (("Type", "notify"), ("User", "commandcenter"), ("ProtectSystem", "strict"),
                      ("StateDirectory", "commandcenter"), ("Delegate", "yes"),
                      ("NoNewPrivileges", "yes"), ("CapabilityBoundingSet", "")):
        assert s.get(key) == [want], "%s=%r, want %r" % (key, s.get(key), want)
    p = subprocess.run([exe, "security", "--offline=yes", str(unit)], cwd=str(tmp_path),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", p.stdout.decode())
    assert m, p.stdout.decode()[-2000:]
    # 10 is an unhardened service; systemd calls below 2 "OK".
    assert float(m.group(1)) < 2.0, p.stdout.decode()[-4000:]


# --------------------------------------------------------------------------
# make install

def listed_commands():
    out = run_cc(["--help"]).stdout
    block = out.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    names = [ln.split()[0] for ln in block.splitlines() if ln.strip()]
    assert "serve" in names and "version" in names and len(names) >= 20, names
    return names


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """`make install DESTDIR=... PREFIX=/usr` from the build CC_BIN belongs to
    (-o build: use that build as it is, do not reconfigure it)."""
    dest = tmp_path_factory.mktemp("destdir")
    build = str(Path(CC_BIN).parent)
    p = subprocess.run(["make", "-o", "build", "install", "BUILD=" + build,
                        "DESTDIR=" + str(dest), "PREFIX=/usr"], cwd=str(REPO),
                       env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=600)
    assert p.returncode == 0, p.stdout.decode()[-4000:]
    return dest


def test_install_lays_out_binary_unit_config_and_man_pages(installed):
    dest = installed
    exe = dest / "usr/bin/commandcenter"
    assert os.access(str(exe), os.X_OK)
    p = subprocess.run([str(exe), "version"], stdout=subprocess.PIPE, env=clean_env(),
                       timeout=60)
    assert p.returncode == 0 and p.stdout.startswith(b"commandcenter "), p
    sections = subprocess.run(["readelf", "-S", str(exe)], stdout=subprocess.PIPE,
                              timeout=60).stdout.decode()
    assert ".symtab" not in sections and ".debug_info" not in sections, "binary not stripped"
    unit = (dest / "usr/lib/systemd/system/commandcenter.service").read_text()
    assert unit_settings(unit)["ExecStart"] == [
        "/usr/bin/commandcenter serve --config /etc/commandcenter/commandcenter.yml"]
    assert (dest / "usr/lib/sysusers.d/commandcenter.conf").read_text().startswith("#")
    example = (dest / "usr/share/doc/commandcenter/commandcenter.example.yml").read_text()
    assert example == run_cc(["config-example"]).stdout
    assert example == (REPO / "deploy/commandcenter.example.yml").read_text()
    etc = dest / "etc/commandcenter/commandcenter.yml"
    assert etc.read_text() == example
    r = run_cc(["serve", "--check-config", "--config", str(etc)])
    assert r.returncode == 0 and "valid" in r.stdout, r
    man = dest / "usr/share/man/man1"
    want = {"commandcenter.1"} | {"commandcenter-%s.1" % c for c in listed_commands()}
    assert {p.name for p in man.iterdir()} == want


def test_every_man_page_renders_without_warnings(installed):
    groff = shutil.which("groff")
    if not groff:
        pytest.skip("groff is not installed (scripts/deps.sh test installs groff-base)")
    man = installed / "usr/share/man/man1"
    for page in sorted(man.iterdir()):
        p = subprocess.run([groff, "-man", "-Tutf8", "-ww", "-z", str(page)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        assert p.returncode == 0 and not p.stderr, "%s: %s" % (page.name, p.stderr.decode())
        text = subprocess.run([groff, "-man", "-Tutf8", "-P-c", str(page)],
                              stdout=subprocess.PIPE, timeout=60).stdout.decode()
        text = re.sub(r".\x08", "", text)
        for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "SEE ALSO"):
            assert "\n" + section in text, "%s lacks %s:\n%s" % (page.name, section, text)
    # A command's page says what its --help says.
    text = subprocess.run([groff, "-man", "-Tutf8", "-P-cbou",
                           str(man / "commandcenter-cron.1")],
                          stdout=subprocess.PIPE, timeout=60).stdout.decode()
    assert "commandcenter cron next 'EXPR'" in text, text
    assert "--tz ZONE" in text and "evaluate in this IANA time zone" in text, text


def test_installed_unit_verifies_with_its_man_pages(installed, tmp_path):
    exe = systemd_analyze()
    # The binary is under DESTDIR, not yet at /usr/bin; the man pages are
    # looked up where install put them (Documentation=man:... is checked).
    local = []
    for name in UNITS:
        unit = (installed / "usr/lib/systemd/system" / name).read_text()
        assert "/usr/local" not in unit, (name, unit)
        (tmp_path / name).write_text(unit.replace("/usr/bin/commandcenter",
                                                  str(installed / "usr/bin/commandcenter")))
        local.append(str(tmp_path / name))
    env = clean_env({"MANPATH": str(installed / "usr/share/man")})
    p = subprocess.run([exe, "verify"] + local, cwd=str(tmp_path), env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    assert p.returncode == 0 and not p.stdout.strip(), p.stdout.decode()


# --------------------------------------------------------------------------
# backup and restore

from conftest import (create_source, new_token, post_document, search,  # noqa: E402
                      wait_queue_idle)

QUERIES = ("backup", "restore drill", "lighthouse keeper", "zebra")


def populate(d):
    """Documents in two sources, a read token and finished jobs; returns what
    a user would see, to compare after a restore."""
    create_source(d, name="handbook", type="manual", priority=8)
    for i in range(12):
        post_document(d, source="handbook" if i % 2 else "manual", external_id="doc%02d" % i,
                      title="Document %d" % i,
                      content="# Document %d\n\nThe lighthouse keeper wrote note %d about the "
                              "backup and the restore drill. %s\n" % (i, i, "zebra " * (i % 3)))
    wait_queue_idle(d, timeout=120)
    reader = d.create_token("reader")
    return snapshot(d), reader["token"]


def snapshot(d):
    out = {"search": {}}
    for q in QUERIES:
        answer = search(d, q, k=20)
        answer.pop("took_ms")     # the one field that is about this run
        out["search"][q] = answer
    for what, path in (("sources", "/api/v1/sources"), ("tokens", "/api/v1/tokens"),
                       ("jobs", "/api/v1/jobs?limit=1000")):
        r = d.admin("GET", path)
        assert r.status == 200, r
        out[what] = r.json
    for q in QUERIES[:3]:
        assert out["search"][q]["results"], "no hits for %r: %r" % (q, out["search"][q])
    return out


def backup_env(d):
    return {k: v for k, v in d.env.items() if k.startswith("CC_")}


def corrupt_copies(src, tmp_path):
    data = src.read_bytes()
    flipped = bytearray(data)
    flipped[-100] ^= 0x01
    bad = tmp_path / "flipped.ccbackup"
    bad.write_bytes(bytes(flipped))
    short = tmp_path / "truncated.ccbackup"
    short.write_bytes(data[:len(data) // 2])
    junk = tmp_path / "junk.ccbackup"
    junk.write_bytes(b"PK\x03\x04 not a backup\n")
    return {bad: "corrupt", short: "truncated", junk: "not a commandcenter backup"}


def round_trip(daemon, tmp_path, env_a, env_b, admin_token=None):
    a = daemon(env=env_a)
    if admin_token:
        a._admin_token = admin_token
    before, reader = populate(a)
    out = tmp_path / "store.ccbackup"
    r = run_cc(["backup", "--output", out, "--json"], env=backup_env(a))
    assert r.returncode == 0, r
    m = r.json
    assert m["file"] == str(out) and m["schema_version"] >= 1
    assert re.fullmatch(r"[0-9a-f]{64}", m["payload_sha256"])
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    v = run_cc(["restore", "--check", out, "--json"])
    assert v.returncode == 0 and v.json["payload_sha256"] == m["payload_sha256"], v
    # Damaged copies are refused before anything changes.
    env_b_cli = dict(env_b)
    for bad, word in corrupt_copies(out, tmp_path).items():
        r = run_cc(["restore", bad], env=env_b_cli)
        assert r.returncode == 1 and word in r.stderr, r
    assert a.stop() == 0

    r = run_cc(["restore", out], env=env_b_cli)
    assert r.returncode == 0 and r.stdout.startswith("restored "), r
    # A second restore over the data now there needs --force.
    r = run_cc(["restore", out], env=env_b_cli)
    assert r.returncode == 1 and "--force" in r.stderr, r
    b = daemon(env=env_b)
    b._admin_token = a.admin_token
    after = snapshot(b)
    assert after == before
    assert search(b, "lighthouse keeper", token=reader)["results"], "the read token is lost"
    # The restored store keeps working: a new document is searchable.
    post_document(b, external_id="new", content="# New\n\nquokka after restore\n")
    wait_queue_idle(b, timeout=120)
    assert search(b, "quokka")["results"]
    # While it runs, restore refuses (one daemon per data directory).
    r = run_cc(["restore", "--force", out], env=env_b_cli)
    assert r.returncode == 1 and "a daemon (pid %d)" % b.proc.pid in r.stderr, r
    return a, b, out


def test_sqlite_backup_restore_round_trip(daemon, tmp_path):
    env_a = {"CC_HTTP_RATE_LIMIT_RPS": "0"}
    data_b = tmp_path / "restored"
    env_b = {"CC_DATA_DIR": str(data_b), "CC_HTTP_RATE_LIMIT_RPS": "0"}
    a, b, out = round_trip(daemon, tmp_path, env_a, env_b)
    assert not list(data_b.glob("*.tmp")), list(data_b.iterdir())
    # --force replaces a stopped daemon's store, which then answers as before.
    assert b.stop() == 0
    r = run_cc(["restore", "--force", out], env=env_b)
    assert r.returncode == 0, r
    c = daemon(env=env_b, data_dir=data_b)
    c._admin_token = a.admin_token
    assert not search(c, "quokka")["results"], "--force did not replace the store"


def test_backup_refuses_another_backends_file_and_bad_usage(daemon, tmp_path):
    d = daemon()
    out = tmp_path / "x.ccbackup"
    assert run_cc(["backup", "-o", out], env=backup_env(d)).returncode == 0
    r = run_cc(["restore", out], env={"CC_DATA_DIR": str(tmp_path / "pg"),
                                      "CC_STORE_DRIVER": "postgres",
                                      "CC_STORE_POSTGRES_DSN": "host=/nonexistent"})
    assert r.returncode == 2 and "sqlite store" in r.stderr and "postgres" in r.stderr, r
    r = run_cc(["restore"])
    assert r.returncode == 2, r
    r = run_cc(["backup", "extra"])
    assert r.returncode == 2, r
    # The default output lands in DATA_DIR/backups with a UTC time stamp.
    r = run_cc(["backup"], env=backup_env(d))
    assert r.returncode == 0, r
    made = list((d.data_dir / "backups").glob("commandcenter-*Z.ccbackup"))
    assert len(made) == 1 and r.stdout.startswith(str(made[0])), (made, r)
    # --keep N leaves the newest N backups of that directory and nothing else
    # is touched.
    keep = tmp_path / "kept"
    keep.mkdir()
    for stamp in ("20250101T000000Z", "20250102T000000Z", "20250103T000000Z"):
        (keep / ("commandcenter-%s.ccbackup" % stamp)).write_text("old")
    (keep / "notes.txt").write_text("mine")
    newest = keep / "commandcenter-20991231T000000Z.ccbackup"
    r = run_cc(["backup", "-o", newest, "--keep", "2"], env=backup_env(d))
    assert r.returncode == 0, r
    assert sorted(p.name for p in keep.iterdir()) == [
        "commandcenter-20250103T000000Z.ccbackup", newest.name, "notes.txt"], r
    assert "removed %s" % (keep / "commandcenter-20250101T000000Z.ccbackup") in r.stdout
    assert run_cc(["backup", "--keep", "0"], env=backup_env(d)).returncode == 2


@pytest.fixture
def two_pg_schemas():
    from test_postgres import pg_base_dsn, psql
    import uuid
    base = pg_base_dsn()
    names = ["cc_bk_" + uuid.uuid4().hex[:12] for _ in range(2)]
    for n in names:
        psql(base, "CREATE SCHEMA %s" % n)
    yield ["%s options='-csearch_path=%s'" % (base, n) for n in names]
    for n in names:
        psql(base, "SET client_min_messages = warning; DROP SCHEMA %s CASCADE" % n)


def test_postgres_backup_restore_round_trip(daemon, tmp_path, two_pg_schemas):
    token = new_token()
    common = {"CC_STORE_DRIVER": "postgres", "CC_AUTH_ADMIN_TOKEN": token,
              "CC_HTTP_RATE_LIMIT_RPS": "0", "CC_STORE_POOL_SIZE": "4"}
    env_a = dict(common, CC_STORE_POSTGRES_DSN=two_pg_schemas[0])
    env_b = dict(common, CC_STORE_POSTGRES_DSN=two_pg_schemas[1],
                 CC_DATA_DIR=str(tmp_path / "restored"))
    a, b, out = round_trip(daemon, tmp_path, env_a, env_b, admin_token=token)
    assert out.read_bytes().split(b"\n", 2)[1].find(b'"backend":"postgres"') > 0
    # Identities continue after the restored ids: new rows get fresh ones.
    t = b.create_token("after-restore")
    assert t["id"] > max(x["id"] for x in snapshot(b)["tokens"]["tokens"] if x["name"] != "after-restore"), t


def test_backup_during_ingest_restores_a_consistent_store(daemon, tmp_path):
    """A backup taken while documents stream in: every document whose POST
    was answered before the backup started is in the restored store and
    searchable once the restored daemon has run the jobs it inherited (jobs
    that were running at backup time come back when their lease ends)."""
    import threading
    a = daemon(env={"CC_HTTP_RATE_LIMIT_RPS": "0", "CC_JOBS_WORKERS": "1"})
    answered = []
    stop = threading.Event()
    errors = []

    def poster():
        i = 0
        try:
            while not stop.is_set() and i < 400:
                post_document(a, external_id="d%03d" % i,
                              content="# D %d\n\nuniq%03dword in the stream.\n" % (i, i))
                answered.append(i)
                i += 1
        except AssertionError as e:
            errors.append(str(e))

    t = threading.Thread(target=poster)
    t.start()
    deadline = time.monotonic() + 60
    while len(answered) < 40 and time.monotonic() < deadline and t.is_alive():
        time.sleep(0.05)
    before = len(answered)
    out = tmp_path / "mid-ingest.ccbackup"
    r = run_cc(["backup", "-o", out], env=backup_env(a))
    stop.set()
    t.join(timeout=120)
    assert not errors, errors
    assert r.returncode == 0, r
    assert before >= 40, "only %d documents posted in 60s" % before
    assert a.stop() == 0

    data_b = tmp_path / "b"
    env_b = {"CC_DATA_DIR": str(data_b), "CC_HTTP_RATE_LIMIT_RPS": "0", "CC_JOBS_LEASE": "1s"}
    assert run_cc(["restore", out], env=env_b).returncode == 0
    b = daemon(env=env_b, data_dir=data_b)
    b._admin_token = a.admin_token
    counts = wait_queue_idle(b, timeout=180)
    assert counts["dead"] == 0, counts
    for i in range(before):
        hits = search(b, "uniq%03dword" % i)["results"]
        assert hits, "document d%03d was answered before the backup but is not in the " \
                     "restored store (%d answered before, counts %r)" % (i, before, counts)
