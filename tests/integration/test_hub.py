"""The Hub, driven in Debian's headless Chromium through playwright-core.

scripts/deps.sh installs chromium and `npm install`s tests/hub; a missing
piece fails the test with what to install, it is never skipped.
"""
import os
import shutil
import subprocess
from pathlib import Path

HUB_DIR = Path(__file__).resolve().parent.parent / "hub"


def test_hub_login_sources_jobs_search(daemon, tmp_path):
    assert shutil.which("node"), "node is missing: run scripts/deps.sh test"
    assert Path("/usr/bin/chromium").exists(), "chromium is missing: apt-get install chromium"
    assert (HUB_DIR / "node_modules" / "playwright-core").exists(), \
        "playwright-core is missing: run scripts/deps.sh test (npm install in tests/hub)"
    d = daemon()
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "airship.md").write_text("# Airships\n\nA zeppelin is a rigid airship.\n")
    (folder / "trains.md").write_text("# Trains\n\nSteam engines pull carriages.\n")
    shot = tmp_path / "hub.png"
    token_file = Path(d.data_dir) / "admin.token"
    r = subprocess.run(["node", str(HUB_DIR / "hub.test.js"), d.url + "/", str(token_file),
                        str(folder), str(shot)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "hub ok" in r.stdout
    assert shot.stat().st_size > 10000
