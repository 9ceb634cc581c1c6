"""The schema both backends share, written once, with the few words that differ.

`MIGRATIONS[n]` takes a database from schema version n to n + 1, on either backend.
Text columns sort by code point on PostgreSQL too (``COLLATE "C"``), as SQLite's BINARY
collation does, so every ORDER BY, and hence every list and export, is the same.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Literal

Dialect = Literal["sqlite", "postgresql"]

_SCHEMA_V1 = """
CREATE TABLE sources (
    url TEXT PRIMARY KEY,
    name TEXT NOT NULL DEFAULT '',
    fetch_url TEXT NOT NULL,
    config_hash TEXT,
    in_config INTEGER NOT NULL DEFAULT 1,
    etag TEXT,
    last_modified TEXT,
    body_hash TEXT,
    last_fetch TEXT,
    last_status INTEGER,
    last_outcome TEXT,
    last_error TEXT,
    items INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    duration REAL NOT NULL DEFAULT 0,
    consecutive_errors INTEGER NOT NULL DEFAULT 0,
    next_due TEXT,
    disabled_reason TEXT,
    redirect_target TEXT,
    redirect_seen INTEGER NOT NULL DEFAULT 0,
    redirect_since TEXT,
    discovered_url TEXT,
    repair TEXT,
    lease_owner TEXT,
    lease_until TEXT
);
CREATE TABLE stories (
    id TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    topics TEXT NOT NULL DEFAULT '[]',
    is_tech INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE articles (
    id TEXT PRIMARY KEY,
    source_url TEXT NOT NULL REFERENCES sources(url),
    story_id TEXT REFERENCES stories(id),
    guid TEXT,
    url TEXT NOT NULL,
    canonical_url TEXT NOT NULL,
    title TEXT NOT NULL,
    summary_html TEXT NOT NULL,
    content_html TEXT NOT NULL,
    published TEXT NOT NULL,
    date_source TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    updated TEXT NOT NULL,
    language TEXT NOT NULL,
    title_key TEXT NOT NULL,
    text_key TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    authors TEXT NOT NULL DEFAULT '[]',
    categories TEXT NOT NULL DEFAULT '[]',
    image TEXT
);
CREATE INDEX articles_story ON articles(story_id);
CREATE INDEX articles_published ON articles(published);
CREATE INDEX articles_canonical ON articles(canonical_url);
CREATE INDEX stories_updated ON stories(updated);
"""

# The claim looks for due sources whose lease is free; without this index every tick
# scans the whole table.
_SCHEMA_V2 = """
CREATE INDEX sources_due ON sources(next_due)
"""


# What the parse stage computed for matching and topics (feeds.dedupe.Prepared.dumps and
# feeds.classify.dumps_scores), so clustering and classifying never recompute them from
# the text. Opaque JSON text to the store; NULL means "compute it from the keys".
_SCHEMA_V3 = """
ALTER TABLE articles ADD COLUMN match_features TEXT;
ALTER TABLE articles ADD COLUMN topic_scores TEXT
"""


# Indexes clustering's reads need once a store holds months of articles: the exact
# tier's guid look-up, and the first-seen half of the window query.
_SCHEMA_V4 = """
CREATE INDEX articles_guid ON articles(guid);
CREATE INDEX articles_first_seen ON articles(first_seen)
"""


# The publish fingerprint asks for the newest article change on every pass, the passes
# that find nothing new included: without this index that is a scan of every article.
_SCHEMA_V5 = """
CREATE INDEX articles_updated ON articles(updated)
"""


# A link shared by a source's items stopped counting as their identity (a podcast's
# homepage link had put 123 episodes in one story). Every article that shares a story
# with an earlier one of its own source is unfiled, for the next clustering step to file
# again under that rule: a genuine repost joins its story again, and each of the rest
# finds its own. The earliest article of each keeps the story, so published ids stay.
# The stories that lose articles are left unclassified, to be classified again.
_SCHEMA_V6 = """
UPDATE stories SET topics = '[]', is_tech = 1 WHERE id IN (
    SELECT story_id FROM articles WHERE story_id IS NOT NULL
    GROUP BY story_id, source_url HAVING count(*) > 1
);
UPDATE articles SET story_id = NULL WHERE id IN (
    SELECT id FROM (
        SELECT id, row_number() OVER (
            PARTITION BY story_id, source_url ORDER BY published, id
        ) AS n
        FROM articles WHERE story_id IS NOT NULL
    ) AS ranked WHERE n > 1
)
"""


# What the operator's health checks, metrics and status page read (feeds.health): when
# the last pass of each runner ended, and each source's last success and last new
# article, which its own row forgets at the next failure. Filled from what is known.
# Written to run again harmlessly (IF NOT EXISTS, upserts), like the Telegram tables':
# a store whose user_version was set back, as tests do, migrates forward again.
_SCHEMA_OPS = """
CREATE TABLE IF NOT EXISTS pass_log (
    runner TEXT PRIMARY KEY,
    pass_id TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT NOT NULL,
    duration REAL NOT NULL,
    sources INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS source_health (
    url TEXT PRIMARY KEY,
    last_success TEXT,
    last_new TEXT
);
INSERT INTO source_health (url, last_new)
    SELECT source_url, max(first_seen) FROM articles WHERE true GROUP BY source_url
    ON CONFLICT (url) DO NOTHING;
INSERT INTO source_health (url, last_success)
    SELECT url, last_fetch FROM sources
    WHERE last_outcome IN ('ok', 'not_modified', 'unchanged') AND last_fetch IS NOT NULL
    ON CONFLICT (url) DO UPDATE SET last_success = excluded.last_success
"""


# What the Telegram poster (feeds.telegram) sent where. A channel's `added` is when it
# was first seen: stories filed before it are its backlog, not news. A post's row is
# written before the Bot API call ('sending') and after it ('sent', with the message
# id to edit); a row left 'sending' by a crash is never sent again. `marker` is the
# store's change marker when a channel was last left with nothing to do.
_SCHEMA_TELEGRAM = """
CREATE TABLE IF NOT EXISTS telegram_channels (
    chat TEXT NOT NULL,
    topic BIGINT NOT NULL DEFAULT 0,
    added TEXT NOT NULL,
    marker TEXT,
    PRIMARY KEY (chat, topic)
);
CREATE TABLE IF NOT EXISTS telegram_posts (
    chat TEXT NOT NULL,
    topic BIGINT NOT NULL DEFAULT 0,
    story_id TEXT NOT NULL,
    state TEXT NOT NULL,
    message_id BIGINT,
    digest TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    updated TEXT NOT NULL,
    PRIMARY KEY (chat, topic, story_id)
)
"""


def statements(script: str, dialect: Dialect) -> list[str]:
    if dialect == "postgresql":
        # REAL is 4 bytes there: 0.123 would read back as 0.123000003.
        script = script.replace(" REAL ", " DOUBLE PRECISION ").replace(
            " TEXT", ' TEXT COLLATE "C"'
        )
    return [s.strip() for s in script.split(";") if s.strip()]


Execute = Callable[[str], object]


Migration = Callable[[Execute, Dialect], None]


def _script(script: str) -> Migration:
    """The migration that runs each statement of `script`, in the backend's dialect."""

    def migrate(execute: Execute, dialect: Dialect) -> None:
        for statement in statements(script, dialect):
            execute(statement)

    return migrate


def _add_column(execute: Execute, dialect: Dialect, table: str, column: str) -> None:
    """ALTER TABLE ADD COLUMN that runs again harmlessly, on either backend."""
    if dialect == "postgresql":
        typed = column.replace(" TEXT", ' TEXT COLLATE "C"')
        execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {typed}")
        return
    try:
        execute(f"ALTER TABLE {table} ADD COLUMN {column}")
    except sqlite3.OperationalError as e:
        if "duplicate column" not in str(e):
            raise


def _caps(execute: Execute, dialect: Dialect) -> None:
    """Each source's `caps`: the limits its last parse applied, in words (`feeds status`).
    Runs again harmlessly, like the two before it."""
    _add_column(execute, dialect, "sources", "caps TEXT")


# Full text (issue 22): where each article's published text comes from, and each
# article page fetched, once ever, by canonical URL: what it gave (`content_html`,
# sanitized) or why not (`detail`), and how often a passing failure was tried.
_SCHEMA_PAGES = """
CREATE TABLE IF NOT EXISTS pages (
    url TEXT PRIMARY KEY,
    fetched_at TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    content_html TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS articles_pending_page ON articles (source_url, published)
    WHERE content_from = 'pending';
CREATE INDEX IF NOT EXISTS articles_page_text ON articles (source_url, content_from)
    WHERE content_from <> 'feed'
"""


def _pages(execute: Execute, dialect: Dialect) -> None:
    _add_column(execute, dialect, "articles", "content_from TEXT NOT NULL DEFAULT 'feed'")
    _script(_SCHEMA_PAGES)(execute, dialect)


# Every pass asks for the stories a killed pass left unclassified; without this index
# that is a scan of every story (34 ms on a store of 128,000), for the few or none
# there are. A story leaves it when it is classified.
_SCHEMA_UNCLASSIFIED = """
CREATE INDEX IF NOT EXISTS stories_unclassified ON stories (id)
    WHERE topics = '[]' AND is_tech = 1
"""


def _outlet(execute: Execute, dialect: Dialect) -> None:
    """Each article's `outlet`: the outlet an aggregator's item names (RSS `<source>`,
    as Google News gives), '' for a site's own article. Clustering tells outlets of one
    aggregator apart by it, as it tells sources apart."""
    _add_column(execute, dialect, "articles", "outlet TEXT NOT NULL DEFAULT ''")


def _media(execute: Execute, dialect: Dialect) -> None:
    """Each article's `media`: its audio or video enclosure (a podcast's episode), as
    JSON `[url, type, length]`; '' for none."""
    _add_column(execute, dialect, "articles", "media TEXT NOT NULL DEFAULT ''")


MIGRATIONS: tuple[Migration, ...] = (
    tuple(map(_script, (_SCHEMA_V1, _SCHEMA_V2, _SCHEMA_V3, _SCHEMA_V4, _SCHEMA_V5, _SCHEMA_V6)))
    + tuple(map(_script, (_SCHEMA_OPS, _SCHEMA_TELEGRAM)))
    + (_caps, _pages, _script(_SCHEMA_UNCLASSIFIED), _outlet, _media)
)
SCHEMA_VERSION = len(MIGRATIONS)

#: Every table in foreign-key order (a row's parents come first), with its key and columns.
TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "sources": ("url", (
        "url", "name", "fetch_url", "config_hash", "in_config", "etag", "last_modified",
        "body_hash", "last_fetch", "last_status", "last_outcome", "last_error", "items",
        "bytes", "duration", "consecutive_errors", "next_due", "disabled_reason",
        "redirect_target", "redirect_seen", "redirect_since", "discovered_url", "repair",
        "lease_owner", "lease_until", "caps",
    )),
    "stories": ("id", ("id", "created", "updated", "topics", "is_tech")),
    "articles": ("id", (
        "id", "source_url", "story_id", "guid", "url", "canonical_url", "title",
        "summary_html", "content_html", "published", "date_source", "first_seen", "updated",
        "language", "title_key", "text_key", "content_hash", "authors", "categories", "image",
        "match_features", "topic_scores", "content_from", "outlet", "media",
    )),
    "pages": ("url", ("url", "fetched_at", "outcome", "detail", "content_html", "attempts")),
}  # fmt: skip

SOURCE_COLUMNS = frozenset(TABLES["sources"][1]) - {"url", "config_hash", "in_config"}

ARTICLE_COLUMNS = tuple(c for c in TABLES["articles"][1] if c != "story_id")
# first_seen and story_id survive an update; everything the source may edit is replaced.
_ARTICLE_UPDATE = tuple(c for c in ARTICLE_COLUMNS if c not in ("id", "source_url", "first_seen"))
# An undated article keeps the date it was first given, so an edit does not move it up.
UPSERT_SET = ", ".join(
    "published = CASE WHEN excluded.date_source IN ('first_seen', 'rejected') "
    "THEN articles.published "
    "ELSE excluded.published END"
    if c == "published"
    else f"{c} = excluded.{c}"
    for c in _ARTICLE_UPDATE
)
