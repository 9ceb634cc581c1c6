"""Two passes on one store: one runs, the other leaves at once with exit 75.

The pass lock is a file lock beside the database (pipeline.pass_lock). These tests race
real `feeds run` processes against each other, against a process standing in for the
daemon (it holds the same lock, as a tick in progress does), and against a real
`feeds serve`, and then check the SQLite file with PRAGMA integrity_check.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import feedparser
from harness import (
    CorpusServer,
    check_output,
    feeds_cmd,
    feeds_env,
    run_feeds,
    story_count,
    write_config,
)


def _integrity(db: Path) -> str:
    con = sqlite3.connect(db)
    try:
        return str(con.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        con.close()


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        feeds_cmd(*args), env=feeds_env(), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_two_passes_started_together_one_exits_75_at_once(
    small_server: CorpusServer, tmp_path: Path
) -> None:
    cfg = write_config(tmp_path, small_server.urls())
    procs = [_start("run", "--all", "-c", str(cfg)) for _ in range(2)]
    outs = [p.communicate(timeout=60) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 75], outs
    busy = outs[[p.returncode for p in procs].index(75)]
    lines = busy[1].strip().splitlines()
    assert len(lines) == 1 and "another pass" in lines[0], busy[1]
    assert busy[0] == ""
    assert _integrity(tmp_path / "db" / "feeds.db") == "ok"
    assert len(check_output(tmp_path / "out")["all.json"]) == story_count(8)


_HOLDER = """
import sys, filelock
lock = filelock.FileLock(sys.argv[1], timeout=0)
lock.acquire()
print("held", flush=True)
sys.stdin.read()  # until the test closes our stdin
"""


def test_a_pass_while_the_daemon_holds_the_lock_exits_75(
    small_server: CorpusServer, tmp_path: Path
) -> None:
    cfg = write_config(tmp_path, small_server.urls())
    assert run_feeds("run", "--all", "-c", str(cfg)).returncode == 0
    lock = tmp_path / "db" / "feeds.db.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(lock)], env=feeds_env(),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        before = (tmp_path / "out" / "all.rss").read_bytes()
        proc = run_feeds("run", "-c", str(cfg))
        assert proc.returncode == 75, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
        assert str(lock) in proc.stderr
        assert (tmp_path / "out" / "all.rss").read_bytes() == before
    finally:
        holder.communicate("", timeout=10)
    assert run_feeds("run", "-c", str(cfg)).returncode == 0  # released with its holder
    assert _integrity(tmp_path / "db" / "feeds.db") == "ok"


def test_cron_passes_beside_a_real_daemon_do_not_corrupt_the_store(
    small_server: CorpusServer, tmp_path: Path
) -> None:
    cfg = write_config(tmp_path, small_server.urls(), extra="schedule: {interval: 5m}\n")
    daemon = _start("serve", "-c", str(cfg))
    try:
        time.sleep(1.5)  # the daemon's first tick is in its 3 s fetch of source 5
        codes = []
        for _ in range(4):
            proc = run_feeds("run", "--all", "-c", str(cfg))
            assert proc.returncode in (0, 75), proc.stderr
            codes.append(proc.returncode)
        assert 75 in codes  # at least one cron pass met the daemon's tick
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, err = daemon.communicate(timeout=40)
    assert daemon.returncode == 0, err
    assert _integrity(tmp_path / "db" / "feeds.db") == "ok"
    published = check_output(tmp_path / "out")
    assert len(published["all.json"]) == story_count(8)
    assert len(
        feedparser.parse((tmp_path / "out" / "all.atom").read_bytes()).entries
    ) == story_count(8)
