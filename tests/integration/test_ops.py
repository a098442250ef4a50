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
