"""One pass of the pipeline, and what the runners call of it.

`run_pass_async` (`_pass`) is the one sequencer: it fetches the due sources
concurrently, parses and normalizes each body as it arrives, saves articles in one short
transaction per source (`_refresh`), then clusters the new articles into stories and
classifies them (`_cluster`), and publishes (`_publish`). A source that fails becomes a
`SourceResult` with its error recorded on the source row; it never stops the pass. What a
refresh writes on its source's row is decided by `policy.after_fetch`/`after_error`,
pure functions; the pass lock and the files beside the store are `_paths`.

The stages below the fetch (parse, normalize, dedupe, classify, stories, publish) are
imported where they are first used: a pass where every source answers 304 needs none of
them, and importing them (numpy, feedparser, ftfy, nh3, feedgen...) would be most of its
time.
"""

from __future__ import annotations

from ._cluster import BATCH, classify_stories, cluster
from ._pages import fetch_pages
from ._pass import cluster_and_publish, run_pass, run_pass_async
from ._paths import fingerprint_path, lock_path, open_for, pass_lock, utc_now
from ._publish import publish_all, publish_names
from ._refresh import Clock, Progress, derive, parse_body, refresh_source, try_source

__all__ = [
    "BATCH",
    "Clock",
    "Progress",
    "classify_stories",
    "cluster",
    "cluster_and_publish",
    "derive",
    "fetch_pages",
    "fingerprint_path",
    "lock_path",
    "open_for",
    "parse_body",
    "pass_lock",
    "publish_all",
    "publish_names",
    "refresh_source",
    "run_pass",
    "run_pass_async",
    "try_source",
    "utc_now",
]
