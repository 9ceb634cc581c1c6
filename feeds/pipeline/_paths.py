"""The pass lock, the store a config names, and the files kept beside them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import filelock

from ..errors import FeedsError, LockedError
from ..store import Store, is_server_url, open_store
from ..types import Config


def utc_now() -> datetime:
    return datetime.now(UTC)


def lock_path(config: Config) -> str:
    """One lock per store: beside the SQLite file, or in output_dir for a server store."""
    if is_server_url(config.database):
        return os.path.join(config.output_dir, ".feeds.lock")
    return config.database + ".lock"


def fingerprint_path(config: Config) -> str:
    """Where the digest of what was last published is kept: beside the pass lock."""
    return lock_path(config).removesuffix(".lock") + ".published"


@contextmanager
def pass_lock(config: Config) -> Iterator[None]:
    """Hold the store's pass lock, or raise LockedError at once if another pass has it."""
    path = lock_path(config)
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        lock = filelock.FileLock(path, timeout=0)
        lock.acquire()
    except filelock.Timeout as e:
        raise LockedError("another pass is running on this store", subject=path) from e
    except OSError as e:
        raise FeedsError(f"cannot create the lock file ({e.strerror})", subject=path) from e
    try:
        yield
    finally:
        lock.release()


@contextmanager
def open_for(config: Config) -> Iterator[Store]:
    store = open_store(config.database)
    try:
        yield store
    finally:
        store.close()
