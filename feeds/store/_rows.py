"""Records the store returns, and the conversions between them and table rows.

Both backends keep the same column types: timestamps as ISO-8601 UTC text to the second
(so text order is time order, and a record read back is identical whichever backend
wrote it), lists as JSON text, flags as 0/1 integers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, cast

from ..errors import StorageError
from ..types import (
    EARLIEST_DATE,
    Article,
    ContentFrom,
    DateSource,
    Media,
    SourceConfig,
    Validators,
    plausible_date,
)
from ._schema import TABLES

Row = Mapping[str, Any]
Params = Sequence[Any] | dict[str, Any]


class Tx(Protocol):
    """One open transaction: statements run in it and commit together."""

    def execute(self, sql: str, params: Params = ()) -> list[Row]: ...

    def executemany(self, sql: str, rows: Iterable[Params]) -> None: ...


def ts(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(UTC).isoformat(timespec="seconds")


def changed_at(now: datetime) -> str:
    """An `updated` column's value: `ts` to the microsecond. The publish fingerprint reads
    the newest one (`Store.change_marker`); to the second, an article edited within the
    second of the publish before it left the fingerprint as it was, and the edit was
    never published. It sorts with the values written to the second before it."""
    return now.astimezone(UTC).isoformat(timespec="microseconds")


def dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def article_date(r: Row) -> datetime:
    """An article row's date, whatever the row holds.

    A store written before dates were checked, or edited by hand, may hold a date that
    cannot be right (year 1, year 9999) or is not a date at all; like `normalize`, such a
    date falls back to the first-seen time, so that no row's value can make date
    arithmetic overflow or a read raise. A row with neither readable has the earliest
    date there is, so it sinks to the end of every feed.
    """
    for column in ("published", "first_seen"):
        when = _readable(r[column]) if column in r.keys() else None  # noqa: SIM118
        if when is not None and plausible_date(when):
            return when
    return EARLIEST_DATE


def _readable(value: object) -> datetime | None:
    try:
        when = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return when if when is None or when.tzinfo else when.replace(tzinfo=UTC)


def _json_texts(value: object) -> tuple[str, ...]:
    """A JSON list of strings column (authors, categories); anything else reads as ()."""
    try:
        items = json.loads(value) if isinstance(value, str) else ()
    except ValueError:
        return ()
    return tuple(i for i in items if isinstance(i, str)) if isinstance(items, list) else ()


def topics_text(names: Sequence[str]) -> str:
    """`stories.topics`: the topic names as a JSON list (`story_row` reads it back)."""
    return json.dumps(list(names))


@dataclass(frozen=True, slots=True)
class SourceState:
    """What the store knows about one source between passes."""

    url: str
    name: str
    fetch_url: str
    validators: Validators
    body_hash: str | None
    consecutive_errors: int
    next_due: datetime | None
    disabled_reason: str | None
    redirect_target: str | None
    redirect_seen: int
    redirect_since: datetime | None
    discovered_url: str | None
    repair: str | None
    last_fetch: datetime | None
    last_status: int | None
    last_outcome: str | None
    last_error: str | None
    items: int
    bytes: int
    duration: float
    in_config: bool
    caps: str | None = None  # the limits the last parse applied, in words


@dataclass(frozen=True, slots=True)
class ArticleRow:
    """A stored article with the story it belongs to and its source's name."""

    article: Article
    story_id: str | None
    source_name: str


@dataclass(frozen=True, slots=True)
class PageWanted:
    """An article waiting for its page (`full_text`): where to fetch it, and the markup
    its feed gave (an extraction must have more text than that)."""

    article_id: str
    source_url: str
    url: str
    canonical_url: str
    feed_html: str


@dataclass(frozen=True, slots=True)
class PageResult:
    """What fetching one article page gave: "extracted" (with `content_html`), "failed"
    for good, or "retry" (a passing error: tried again by later passes, a few times)."""

    url: str  # the canonical URL, the page's key
    outcome: str
    detail: str = ""
    content_html: str = ""


@dataclass(frozen=True, slots=True)
class StoryRow:
    """A story as the store keeps it. `created` and `touched` are the times of the
    passes that filed its first and its latest article (the `stories.created` and
    `stories.updated` columns; the column keeps its name for the JSON Lines exports),
    not publication times: a published `Story.updated` is its newest article's date."""

    id: str
    created: datetime
    touched: datetime
    topics: tuple[str, ...]
    is_tech: bool


@dataclass(frozen=True, slots=True)
class MatchRow:
    """What clustering reads of a stored article: no bodies, the stored preparation."""

    id: str
    story_id: str | None
    source_url: str
    canonical_url: str
    guid: str | None
    title_key: str
    published: datetime
    match_features: str | None
    outlet: str = ""


@dataclass(frozen=True, slots=True)
class ScoreRow:
    """What classifying a story reads of one of its articles."""

    id: str
    story_id: str
    topic_scores: str | None


def match_row(r: Row) -> MatchRow:
    return MatchRow(
        id=r["id"],
        story_id=r["story_id"],
        source_url=r["source_url"],
        canonical_url=r["canonical_url"],
        guid=r["guid"],
        title_key=r["title_key"],
        published=article_date(r),
        match_features=r["match_features"],
        outlet=r["outlet"],
    )


def article_params(
    a: Article, now: datetime, derived: tuple[str | None, str | None] = (None, None)
) -> dict[str, Any]:
    return {
        "match_features": derived[0],
        "topic_scores": derived[1],
        "id": a.id,
        "source_url": a.source_url,
        "guid": a.guid,
        "url": a.url,
        "canonical_url": a.canonical_url,
        "title": a.title,
        "summary_html": a.summary_html,
        "content_html": a.content_html,
        "published": ts(a.published),
        "date_source": a.date_source.value,
        "first_seen": ts(a.first_seen),
        "updated": changed_at(now),
        "language": a.language,
        "title_key": a.title_key,
        "text_key": a.text_key,
        "content_hash": a.content_hash,
        "authors": json.dumps(list(a.authors), ensure_ascii=False),
        "categories": json.dumps(list(a.categories), ensure_ascii=False),
        "image": a.image,
        "content_from": a.content_from,
        "outlet": a.outlet,
        "media": json.dumps(list(a.media), ensure_ascii=False) if a.media else "",
    }


def article(r: Row) -> Article:
    return Article(
        id=r["id"],
        source_url=r["source_url"],
        guid=r["guid"],
        url=r["url"],
        canonical_url=r["canonical_url"],
        title=r["title"],
        summary_html=r["summary_html"],
        content_html=r["content_html"],
        published=article_date(r),
        date_source=_date_source(r["date_source"]),
        first_seen=_readable(r["first_seen"]) or article_date(r),
        language=r["language"],
        title_key=r["title_key"],
        text_key=r["text_key"],
        content_hash=r["content_hash"],
        authors=_json_texts(r["authors"]),
        categories=_json_texts(r["categories"]),
        image=r["image"],
        content_from=_content_from(r["content_from"]),
        outlet=r["outlet"],
        media=_media(r["media"]),
    )


def _media(text: str | None) -> Media | None:
    """An article's stored enclosure (`article_params`), or None for '' or a bad value."""
    if not text:
        return None
    try:
        url, kind, length = json.loads(text)
        return Media(str(url), str(kind), int(length))
    except (ValueError, TypeError):
        return None


def _content_from(value: str) -> ContentFrom:
    return cast(ContentFrom, value) if value in ("feed", "pending", "page", "failed") else "feed"


def _date_source(value: str) -> DateSource:
    try:
        return DateSource(value)
    except ValueError:  # written by a newer version, or by hand
        return DateSource.FIRST_SEEN


def story_row(r: Row) -> StoryRow:
    return StoryRow(
        id=r["id"],
        created=datetime.fromisoformat(r["created"]),
        touched=datetime.fromisoformat(r["updated"]),
        topics=tuple(json.loads(r["topics"])),
        is_tech=bool(r["is_tech"]),
    )


def source_state(r: Row) -> SourceState:
    return SourceState(
        url=r["url"],
        name=r["name"],
        fetch_url=r["fetch_url"],
        validators=Validators(r["etag"], r["last_modified"]),
        body_hash=r["body_hash"],
        consecutive_errors=r["consecutive_errors"],
        next_due=dt(r["next_due"]),
        disabled_reason=r["disabled_reason"],
        redirect_target=r["redirect_target"],
        redirect_seen=r["redirect_seen"],
        redirect_since=dt(r["redirect_since"]),
        discovered_url=r["discovered_url"],
        repair=r["repair"],
        caps=r["caps"],
        last_fetch=dt(r["last_fetch"]),
        last_status=r["last_status"],
        last_outcome=r["last_outcome"],
        last_error=r["last_error"],
        items=r["items"],
        bytes=r["bytes"],
        duration=float(r["duration"]),
        in_config=bool(r["in_config"]),
    )


def config_hash(src: SourceConfig) -> str:
    return hashlib.sha1(repr(src).encode()).hexdigest()[:16]


def chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def checked_import_row(line: int, row: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A JSON Lines row of an export as (table, its columns); StorageError naming the line
    when it names no table, unknown columns or no key."""
    values = dict(row)
    table = values.pop("table", None)
    if table not in TABLES:
        raise StorageError(f"unknown table {table!r}", subject=f"line {line}")
    key, columns = TABLES[str(table)]
    unknown = sorted(set(values) - set(columns))
    if unknown:
        raise StorageError(f"unknown {table} columns {unknown}", subject=f"line {line}")
    if key not in values:
        raise StorageError(f"{table} row without its {key}", subject=f"line {line}")
    return str(table), values
