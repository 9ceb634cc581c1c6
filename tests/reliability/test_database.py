"""The database as another process or a bad disk leaves it: locked, or corrupt.

Locked: another connection holds BEGIN EXCLUSIVE; `feeds run` waits (SQLite's busy
timeout) and goes on if the lock goes away in time, else exits 1 with a "locked" line.
Corrupt: exit 1 with one line naming the file, which is left byte for byte as it was,
never recreated (its articles may still be recoverable with sqlite3's .recover).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from harness import CorpusServer, run_feeds, write_config


def _healthy(server: CorpusServer, tmp_path: Path) -> tuple[Path, Path]:
    cfg = write_config(tmp_path, server.urls())
    proc = run_feeds("run", "--all", "-c", str(cfg))
    assert proc.returncode == 0, proc.stderr
    return cfg, tmp_path / "db" / "feeds.db"


def _hold_exclusive(db: Path, seconds: float) -> threading.Thread:
    """Hold the write lock from another connection for `seconds`, then roll back."""
    con = sqlite3.connect(db, check_same_thread=False, isolation_level=None)
    con.execute("BEGIN EXCLUSIVE")

    def release() -> None:
        threading.Event().wait(seconds)
        con.execute("ROLLBACK")
        con.close()

    thread = threading.Thread(target=release, daemon=True)
    thread.start()
    return thread


def test_a_briefly_locked_database_is_waited_for(
    two_generations: CorpusServer, tmp_path: Path
) -> None:
    cfg, db = _healthy(two_generations, tmp_path)
    two_generations.generation = 1
    holder = _hold_exclusive(db, 1.5)
    proc = run_feeds("run", "--all", "-c", str(cfg))
    holder.join()
    assert proc.returncode == 0, proc.stderr
    assert "8 ok, 0 not modified, 0 failed" in proc.stdout  # it waited, then did it all


def test_a_database_locked_for_good_is_a_clear_error(
    two_generations: CorpusServer, tmp_path: Path
) -> None:
    cfg, db = _healthy(two_generations, tmp_path)
    holder = _hold_exclusive(db, 25)  # longer than the busy timeout
    proc = run_feeds("run", "--all", "-c", str(cfg))
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "locked" in lines[0] and str(db) in lines[0], proc.stderr
    assert holder.is_alive()  # the error came from the timeout, not from a release


def _garbage(data: bytes) -> bytes:
    return b"this is not an SQLite file\n" * (len(data) // 27 + 1)


def _bad_header(data: bytes) -> bytes:
    return b"\x00" * 100 + data[100:]


def _bad_pages(data: bytes) -> bytes:
    page = 4096
    middle = bytearray(data)
    for offset in range(page, len(data), page):  # scribble over every page but the first
        middle[offset + 8 : offset + 200] = b"\xa5" * 192
    return bytes(middle)


def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2 + 17]


CORRUPTIONS: dict[str, Callable[[bytes], bytes]] = {
    "garbage": _garbage,
    "zeroed-header": _bad_header,
    "scribbled-pages": _bad_pages,
    "truncated": _truncated,
}


@pytest.mark.parametrize("corrupt", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_a_corrupt_database_is_reported_and_left_alone(
    two_generations: CorpusServer, tmp_path: Path, corrupt: Callable[[bytes], bytes]
) -> None:
    cfg, db = _healthy(two_generations, tmp_path)
    two_generations.generation = 1
    bad = corrupt(db.read_bytes())
    db.write_bytes(bad)
    before = (tmp_path / "out" / "all.json").read_bytes()
    proc = run_feeds("run", "--all", "-c", str(cfg))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(db) in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert db.read_bytes() == bad  # never repaired, truncated or recreated behind our back
    assert (tmp_path / "out" / "all.json").read_bytes() == before
