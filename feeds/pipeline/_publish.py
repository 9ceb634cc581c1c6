"""Publishing from the store, skipped when nothing that reaches a published byte changed."""

from __future__ import annotations

import functools
import hashlib
import os

from ..store import Store
from ..types import Config
from ._paths import fingerprint_path


def publish_all(config: Config, store: Store) -> tuple[str, ...]:
    """Render every configured feed from the store and write the files that changed.

    Most passes find nothing new. When neither the store nor the publishing config has
    changed since the last publish, and every file is still there, rendering would give
    the same bytes: skip it (it reads thousands of stories). The fingerprint is written
    last, so a pass killed mid-publish renders everything again next time.
    """
    stamp = _publish_fingerprint(config, store)
    marker = fingerprint_path(config)
    if _read(marker) == stamp and all(
        os.path.exists(os.path.join(config.output_dir, name)) for name in publish_names(config)
    ):
        return ()
    from .. import publish, stories

    written = publish.publish(config, stories.select(config, store))
    publish.write_atomic(marker, stamp)
    return written


def publish_names(config: Config) -> tuple[str, ...]:
    feeds = (f"{f.slug}.{ext}" for f in config.feeds for ext in ("rss", "atom", "json", "html"))
    return (*feeds, "index.html", "feeds.opml")


def _publish_fingerprint(config: Config, store: Store) -> bytes:
    # Everything of the config that reaches a published byte (all but fetch/schedule).
    relevant = (
        config.title, config.base_url, config.language, config.websub_hub,
        config.feeds, [(s.url, s.name, s.priority, s.filter_topics) for s in config.sources],
    )  # fmt: skip
    text = f"{_renderer_digest()}\n{relevant!r}\n{store.change_marker()}"
    return hashlib.sha256(text.encode()).hexdigest().encode() + b"\n"


@functools.cache
def _renderer_digest() -> str:
    """A digest of the code that turns stories into bytes: an upgrade republishes.

    Read from the files, without importing them: a pass that publishes nothing never
    imports the renderers. A file that cannot be read is an error, not an empty text:
    a digest that silently left a renderer out would not change when that renderer did
    (the files moved once already, when pipeline became a package)."""
    package = os.path.dirname(os.path.dirname(__file__))
    folder = os.path.join(package, "publish")
    files = [os.path.join(folder, n) for n in sorted(os.listdir(folder)) if n.endswith(".py")]
    digest = hashlib.sha256()
    for path in (*files, os.path.join(package, "stories.py")):
        with open(path, "rb") as fh:
            digest.update(fh.read())
    return digest.hexdigest()


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None
