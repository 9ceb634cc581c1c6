"""Writing the published files: everything rendered first, then every changed file
written beside its target, then all of them swapped in (CONTRACT.md, "What is
published"): a reader never sees a half-written file, nor a new RSS beside an old Atom."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat
import tempfile
import time
from collections.abc import Sequence

from ..errors import PublishError
from ..types import Config, FeedConfig, Story
from ._html import render_pages
from ._json import render_json
from ._opml import render_opml
from ._xml import render_atom, render_rss

log = logging.getLogger("feeds.publish")

#: Mode of a new published file: readable by the web server that serves output_dir
#: (mkstemp would leave 0600).
NEW_FILE_MODE = 0o644
#: Every temp file this program writes is named ``.feeds-tmp-<name>.XXXX.tmp``, and the
#: clean-up removes only those: output_dir may be shared, and an editor's autosave
#: (``.notes.txt.tmp``) is not ours to delete.
TEMP_PREFIX = ".feeds-tmp-"


def _unchanged(path: str, data: bytes) -> bool:
    try:
        if os.path.getsize(path) != len(data):
            return False
        with open(path, "rb") as f:
            return f.read() == data
    except OSError:  # missing or unreadable: writing will tell whether it is usable
        return False


def _mode(path: str) -> int:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return NEW_FILE_MODE


def _fsync_dir(folder: str) -> None:
    """Make the rename itself durable (the new directory entry), not just the data."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as e:
        if e.errno != errno.EINVAL:  # some file systems cannot sync a directory
            raise
    finally:
        os.close(fd)


def write_atomic(path: str | os.PathLike[str], data: bytes) -> bool:
    """Replace `path` with `data` so that a reader sees the old file or the new one,
    never a mix. Returns False, touching nothing, when the file already holds `data`."""
    return bool(write_all([(os.fspath(path), data)]))


def write_all(files: Sequence[tuple[str, bytes]]) -> tuple[str, ...]:
    """Replace each file whose bytes changed; returns their paths.

    Every new file is written and synced first, and only then are they renamed into
    place, one after the other: a write that fails (a disk full part-way through the
    third file) leaves every old file as it was, and no temp file behind. Renames need
    no space, so the set can only be torn by a rename failing, or the machine stopping,
    in the few microseconds between the first rename and the last.
    """
    changed = [(path, data) for path, data in files if not _unchanged(path, data)]
    staged: list[tuple[str, str]] = []  # (temp file, target), in the order of `files`
    target = ""
    try:
        for target, data in changed:
            staged.append((_stage(target, data), target))
        while staged:
            tmp, target = staged[0]
            os.replace(tmp, target)  # atomic on POSIX and on Windows (same volume)
            del staged[0]
        for folder in dict.fromkeys(os.path.dirname(os.path.abspath(p)) for p, _ in changed):
            _fsync_dir(folder)
    except OSError as e:
        raise PublishError(str(e), subject=target) from e
    finally:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return tuple(path for path, _ in changed)


def _stage(target: str, data: bytes) -> str:
    """A synced temp file holding `data` beside `target`, with the target's mode."""
    folder = os.path.dirname(os.path.abspath(target))
    fd, tmp = tempfile.mkstemp(
        dir=folder, prefix=f"{TEMP_PREFIX}{os.path.basename(target)}.", suffix=".tmp"
    )
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
            os.fchmod(f.fileno(), _mode(target))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def _check_slug(config: Config, slug: str) -> None:
    # config validation should have caught this; a slug like "../x" must never write
    # outside output_dir, so check again at the last moment.
    if not slug or slug != os.path.basename(slug) or slug.startswith("."):
        raise PublishError(f"unsafe feed slug {slug!r}", subject=config.output_dir)


def render_all(
    config: Config, feeds: Sequence[tuple[FeedConfig, Sequence[Story]]]
) -> tuple[tuple[str, bytes], ...]:
    """Every published file as (path, bytes): three per feed, the pages, then OPML."""
    out: list[tuple[str, bytes]] = []
    for feed, stories in feeds:
        _check_slug(config, feed.slug)
        stem = os.path.join(config.output_dir, feed.slug)
        out.append((stem + ".rss", render_rss(config, feed, stories)))
        out.append((stem + ".atom", render_atom(config, feed, stories)))
        out.append((stem + ".json", render_json(config, feed, stories)))
    out += [(os.path.join(config.output_dir, n), d) for n, d in render_pages(config, feeds)]
    out.append((os.path.join(config.output_dir, "feeds.opml"), render_opml(config)))
    return tuple(out)


def publish(config: Config, feeds: Sequence[tuple[FeedConfig, Sequence[Story]]]) -> tuple[str, ...]:
    """Render every file, then write those whose bytes changed; returns their paths.

    Rendering everything before writing anything means a rendering bug leaves the
    previous output whole instead of half old, half new.
    """
    files = render_all(config, feeds)
    try:
        os.makedirs(config.output_dir, exist_ok=True)
    except OSError as e:
        raise PublishError(str(e), subject=config.output_dir) from e
    written = write_all(files)
    log.info("published %d of %d files in %s", len(written), len(files), config.output_dir)
    _sweep(config.output_dir, time.time() - STALE_TEMP_SECONDS)
    return written


#: A temp file this old belongs to no live pass (a pass writes each file in well under
#: a second); it was left by one that was killed between mkstemp and os.replace.
STALE_TEMP_SECONDS = 3600


def _sweep(folder: str, before: float) -> None:
    """Remove our own stale temp files (`TEMP_PREFIX`) from the output folder."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if not (entry.name.startswith(TEMP_PREFIX) and entry.name.endswith(".tmp")):
            continue
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < before:
                os.unlink(entry.path)
                log.info("removed a stale temp file %s", entry.path)
