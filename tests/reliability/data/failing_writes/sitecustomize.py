"""Loaded by `python -m feeds` in test_disk.py (via PYTHONPATH): simulate a disk that
fills up part-way through a write. Every file opened with os.fdopen for writing in
FEEDS_FAIL_DIR accepts FEEDS_FAIL_AFTER bytes, then raises ENOSPC, as write(2) does;
with FEEDS_FAIL_NTH=n only the n-th such file does (the ones before it are written whole).

FEEDS_FAIL_DB_FULL=1 makes every SQLite database stop growing past its current size
(`PRAGMA max_page_count`), so that writing to it fails with SQLITE_FULL, as on a full disk.
"""

from __future__ import annotations

import errno
import os
from typing import IO, Any

_DIR = os.environ.get("FEEDS_FAIL_DIR")
_AFTER = int(os.environ.get("FEEDS_FAIL_AFTER", "0"))
_NTH = int(os.environ.get("FEEDS_FAIL_NTH", "0"))
_opened = 0
_real_fdopen = os.fdopen


class _Filling:
    def __init__(self, f: IO[Any]) -> None:
        self._f = f
        self._left = _AFTER

    def write(self, data: bytes) -> int:
        if len(data) > self._left:
            self._f.write(data[: self._left])
            self._f.flush()
            self._left = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._left -= len(data)
        return int(self._f.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._f, name)

    def __enter__(self) -> _Filling:
        return self

    def __exit__(self, *exc: object) -> None:
        self._f.close()


def _fdopen(fd: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
    f = _real_fdopen(fd, mode, *args, **kwargs)
    path = os.readlink(f"/proc/self/fd/{fd}") if os.path.exists("/proc/self/fd") else ""
    if _DIR and "w" in mode and os.path.dirname(path) == _DIR:
        global _opened
        _opened += 1
        if not _NTH or _opened == _NTH:
            return _Filling(f)
    return f


if _DIR:
    os.fdopen = _fdopen


def _full_connect(*args: Any, **kwargs: Any) -> Any:
    db = _real_connect(*args, **kwargs)
    # max_page_count is clamped to the file's current page count: no page can be added.
    db.execute("PRAGMA max_page_count = 1")
    return db


if os.environ.get("FEEDS_FAIL_DB_FULL"):
    import sqlite3

    _real_connect = sqlite3.connect
    sqlite3.connect = _full_connect
