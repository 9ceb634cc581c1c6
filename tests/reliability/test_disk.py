"""An output folder that cannot be written: exit 1 with one line naming the path, the
previous files byte for byte, the store intact, and the next healthy pass catches up.

Tests run as root, so chmod cannot make a folder read-only: where the sandbox lets us
mount, output_dir is a small tmpfs (remounted read-only, or filled up); everywhere, a
sitecustomize.py on PYTHONPATH (data/failing_writes/) makes writes in output_dir fail
with ENOSPC part-way through a file.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import CorpusServer, check_output, run_feeds, snapshot, story_count, write_config

FAILING_WRITES = Path(__file__).parent / "data" / "failing_writes"


def _articles(db: Path) -> int:
    con = sqlite3.connect(db)
    try:
        return int(con.execute("SELECT count(*) FROM articles").fetchone()[0])
    finally:
        con.close()


def _mount(*args: str) -> bool:
    proc = subprocess.run(["mount", *args], capture_output=True, check=False)
    return proc.returncode == 0


@pytest.fixture
def tmpfs_out(tmp_path: Path) -> Iterator[Path]:
    out = tmp_path / "out"
    out.mkdir()
    if os.geteuid() != 0 or not _mount("-t", "tmpfs", "-o", "size=256k", "tmpfs", str(out)):
        pytest.skip("cannot mount a tmpfs here (needs root in a permissive sandbox)")
    try:
        yield out
    finally:
        subprocess.run(["umount", "-l", str(out)], check=False)


def _first_then_grow(server: CorpusServer, tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """A healthy pass on generation 0; then generation 1 brings new items."""
    cfg = write_config(tmp_path, server.urls())
    proc = run_feeds("run", "--all", "-c", str(cfg))
    assert proc.returncode == 0, proc.stderr
    server.generation = 1
    return cfg, snapshot(tmp_path / "out")


def _assert_failed_cleanly(
    proc: subprocess.CompletedProcess[str], out: Path, before: dict[str, bytes]
) -> None:
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert str(out) in lines[0] and "Traceback" not in proc.stderr
    assert snapshot(out) == before  # nothing replaced, no temp file left behind


def _assert_recovers(cfg: Path, tmp_path: Path, server: CorpusServer) -> None:
    db = tmp_path / "db" / "feeds.db"
    saved = _articles(db)
    assert saved == 8 * 4  # the failed pass still stored every article of generation 1
    proc = run_feeds("run", "--all", "-c", str(cfg))
    assert proc.returncode == 0, proc.stderr
    assert len(check_output(tmp_path / "out")["all.json"]) == story_count(8)
    assert _articles(db) == saved


def test_read_only_output_dir(
    two_generations: CorpusServer, tmp_path: Path, tmpfs_out: Path
) -> None:
    cfg, before = _first_then_grow(two_generations, tmp_path)
    assert _mount("-o", "remount,ro", str(tmpfs_out))
    proc = run_feeds("run", "--all", "-c", str(cfg))
    _assert_failed_cleanly(proc, tmpfs_out, before)
    assert "read-only" in proc.stderr.lower()
    assert _mount("-o", "remount,rw", str(tmpfs_out))
    _assert_recovers(cfg, tmp_path, two_generations)


def test_disk_full(two_generations: CorpusServer, tmp_path: Path, tmpfs_out: Path) -> None:
    cfg, before = _first_then_grow(two_generations, tmp_path)
    filler = tmpfs_out / ".filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:  # fill the file system up to the last byte
        while os.write(fd, b"\0" * 512):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    before[filler.name] = filler.read_bytes()
    proc = run_feeds("run", "--all", "-c", str(cfg))
    _assert_failed_cleanly(proc, tmpfs_out, before)
    assert "no space" in proc.stderr.lower()
    filler.unlink()
    _assert_recovers(cfg, tmp_path, two_generations)


def _run_with_faults(cfg: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`feeds run --all` with the faults of data/failing_writes/ that `env` turns on."""
    os.environ.update(env)
    try:
        return run_feeds("run", "--all", "-c", str(cfg), extra_path=str(FAILING_WRITES))
    finally:
        for key in env:
            del os.environ[key]


@pytest.mark.parametrize(
    ("after", "nth"),
    [(0, 0), (1, 0), (700, 0), (700, 3)],
    ids=["first-byte", "one-byte", "mid-file", "third-file-only"],
)
def test_write_fails_part_way(
    two_generations: CorpusServer, tmp_path: Path, after: int, nth: int
) -> None:
    """Every file of the pass fails, or (nth=3) only the third: the two before it were
    written whole, and still none of the old files is replaced."""
    cfg, before = _first_then_grow(two_generations, tmp_path)
    out = tmp_path / "out"
    proc = _run_with_faults(
        cfg, FEEDS_FAIL_DIR=str(out), FEEDS_FAIL_AFTER=str(after), FEEDS_FAIL_NTH=str(nth)
    )
    _assert_failed_cleanly(proc, out, before)
    assert "no space" in proc.stderr.lower()
    _assert_recovers(cfg, tmp_path, two_generations)


def test_database_on_a_full_disk_says_so(two_generations: CorpusServer, tmp_path: Path) -> None:
    cfg, before = _first_then_grow(two_generations, tmp_path)
    db = tmp_path / "db" / "feeds.db"
    proc = _run_with_faults(cfg, FEEDS_FAIL_DB_FULL="1")
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert f"{db}: the disk is full" in proc.stderr
    assert "no transaction is active" not in proc.stderr and "Traceback" not in proc.stderr
    assert snapshot(tmp_path / "out") == before
    proc = run_feeds("run", "--all", "-c", str(cfg))
    assert proc.returncode == 0, proc.stderr
    assert len(check_output(tmp_path / "out")["all.json"]) == story_count(8)
