"""`Member`: one article as the index holds it, and a new story's id."""

from __future__ import annotations

import hashlib
import math
import sys
from datetime import UTC, datetime, timedelta

from feeds.arabic.matching import match_key
from feeds.types import Article

from ._features import Prepared, _Features


class Member:
    """One article in a `StoryIndex`: what matching reads of it, and its story.

    Made by the caller from a stored row (or from an `Article`, `of`), with an empty
    `story_id` when the article is not filed yet; from then on the index owns it:
    `StoryIndex.assign` sets the story of an unfiled one, and `features` replaces the
    preparation with what scoring compares the first time it is asked for. So a member
    holds exactly one of `prepared` and `feats`. Its date is kept as integer
    microseconds (`micros`: the window test is exact, and orders like the dates) and as
    its day: what filtering thousands of candidates reads, made once here. Once indexed
    (`indexed`) its features are compact (`_Features.compact`): it is only ever the
    second article of a pair scored; and its signature is the index's (`slot`, its
    number in the index's `Bands`), not its own (`signature`) any more.
    """

    __slots__ = (
        "article_id", "canonical_url", "day", "feats", "guid", "indexed", "micros",
        "prepared", "signature", "slot", "source_url", "story_id", "title_key",
    )  # fmt: skip

    def __init__(
        self,
        article_id: str,
        story_id: str,
        source_url: str,
        canonical_url: str,
        guid: str | None,
        title_key: str,
        published: datetime,
        prepared: Prepared,
    ) -> None:
        self.article_id = article_id
        self.story_id = story_id
        self.source_url = sys.intern(source_url)  # one copy per source, not one per row
        self.canonical_url = canonical_url
        self.guid = guid
        self.title_key = title_key
        self.micros = micros(published)
        day = math.floor(published.timestamp() / 86400)
        self.day = _DAYS.setdefault(day, day)  # one int per day, not one per member
        self.signature: bytes | None = prepared.signature
        self.slot = -1
        self.prepared: Prepared | None = prepared
        self.feats: _Features | None = None
        self.indexed = False

    @classmethod
    def of(cls, article: Article, story_id: str, prepared: Prepared | None = None) -> Member:
        """`article` as a member of `story_id` ("": not filed yet); its preparation is
        computed from its keys unless given."""
        return cls(
            article.id, story_id, origin(article.source_url, article.outlet),
            article.canonical_url, article.guid,
            article.title_key, article.published,
            prepared or Prepared.of(article.title_key, article.text_key),
        )  # fmt: skip

    def features(self) -> _Features:
        """What `_score` compares of this member, made the first time it is asked for
        (most members of a large index never are); the preparation is let go then."""
        feats = self.feats
        if feats is None:
            assert self.prepared is not None  # a member holds one of the two
            feats = self.feats = self.prepared.features()
            self.prepared = None
            if self.indexed:
                feats.compact()
        return feats

    def index(self, slot: int) -> None:
        """Note that the member is in an index, its signature number `slot` there: its
        features are compact from now on."""
        self.indexed = True
        self.slot = slot
        self.signature = None
        if self.feats is not None:
            self.feats.compact()


def origin(source_url: str, outlet: str = "") -> str:
    """Who published an article, as a member's `source_url` tells publishers apart: its
    source; for an aggregator's item, the outlet it names within that source. A Google
    News feed lists several outlets' takes on one story, and as items of one source
    ("a source does not publish one story twice") they were each a story of their own."""
    return f"{source_url}#outlet={match_key(outlet)}" if outlet else source_url


def story_id_for(article: Article | Member, *, by_link: bool = True) -> str:
    """A new story's id, from its first article's canonical URL (else the article's id).

    Stable, so re-running a pass on the same articles gives the same ids; and from the
    URL rather than the article, so copies of one URL arriving in any order (a pass
    killed between two sources, workers racing) still found the same story id. Not
    `by_link` when the URL is not the article's identity (`StoryIndex._link_identifies`):
    its story id is taken already.
    """
    url = article.canonical_url
    if url and by_link:
        return "s" + hashlib.sha1(("url:" + url).encode()).hexdigest()[:20]
    ident = article.id if isinstance(article, Article) else article.article_id
    return "s" + hashlib.sha1(ident.encode()).hexdigest()[:20]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAYS: dict[int, int] = {}
_MICROSECOND = timedelta(microseconds=1)


def micros(when: datetime) -> int:
    """`when` in whole microseconds since 1970: exact, and ordered like the dates."""
    return (when - _EPOCH) // _MICROSECOND
