"""Loaded by `python -m feeds` in test_disk.py (via PYTHONPATH): simulate a disk that
fills up part-way through a write. Every file opened with os.fdopen for writing in
FEEDS_FAIL_DIR accepts FEEDS_FAIL_AFTER bytes, then raises ENOSPC, as write(2) does."""

from __future__ import annotations

import errno
import os
from typing import IO, Any

_DIR = os.environ.get("FEEDS_FAIL_DIR")
_AFTER = int(os.environ.get("FEEDS_FAIL_AFTER", "0"))
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
        return _Filling(f)
    return f


if _DIR:
    os.fdopen = _fdopen
