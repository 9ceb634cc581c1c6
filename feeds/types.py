"""The records passed between stages.

Data flows one way::

    Config ─► FetchResult ─► ParsedFeed(ParsedEntry…) ─► Article ─► Story ─► files

All records are frozen; collections are tuples; every datetime is timezone-aware, with
the timezone set to UTC. No third-party object (httpx, feedparser, feedgen, sqlite3)
appears here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Final, Literal, NamedTuple

#: A source's `full_text:` and where an article's published text comes from.
FullText = Literal["true", "false", "auto"]
ContentFrom = Literal["feed", "pending", "page", "failed"]


class Media(NamedTuple):
    """An item's audio or video file, as its feed's enclosure gives it."""

    url: str
    type: str  # its MIME type ("audio/mpeg"); "" when the feed names none
    length: int = 0  # its size in bytes; 0 when the feed gives none


# --------------------------------------------------------------------------- config

#: The topic taxonomy. Lexicon tables in feeds/data/ map terms to these names.
TOPICS = (
    "ai",
    "mobile",
    "security",
    "gaming",
    "space",
    "apps",  # internet, software and apps
    "hardware",
    "business",  # startups and business
    "science",
    "cars",
)

#: How each topic is shown to readers; the slug stays the category's scheme or domain
#: so that readers' filters keep working.
TOPIC_LABELS = {
    "ai": "الذكاء الاصطناعي",
    "mobile": "الهواتف",
    "security": "الأمن الرقمي",
    "gaming": "الألعاب",
    "space": "الفضاء",
    "apps": "الإنترنت والتطبيقات",
    "hardware": "العتاد",
    "business": "الشركات الناشئة والأعمال",
    "science": "العلوم",
    "cars": "السيارات",
}


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """One entry of `sources:` in config.yaml."""

    url: str
    name: str = ""
    max_bytes: int = 10 * 1024 * 1024
    filter_topics: bool = False  # general-news source: keep only stories classified tech
    priority: int = 0  # higher wins when picking a story's representative article
    default_tz: str | None = None  # IANA zone for naive date strings, e.g. "Asia/Riyadh"
    user_agent: str = ""  # this source only: some sites refuse clients that name themselves
    auth: SourceAuth | None = None  # HTTP Basic credentials, read from the environment
    # Fetch each article's page for its full text: "true", "false" or "auto" (when the
    # feed's text is short or ends like a cut excerpt).
    full_text: FullText = "false"
    scrape: Scrape | None = None  # the source is an HTML listing page, read by selectors


@dataclass(frozen=True, slots=True)
class Scrape:
    """A source's `scrape:`: CSS selectors that read an HTML listing page as a feed.
    `item` picks each item; the others are relative to it (title: the item's text;
    link: the item's own or first link; date and summary: none, by default)."""

    item: str
    title: str | None = None
    link: str | None = None
    date: str | None = None
    summary: str | None = None

    def selectors(self) -> tuple[tuple[str, str | None], ...]:
        return (
            ("item", self.item), ("title", self.title), ("link", self.link),
            ("date", self.date), ("summary", self.summary),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class SourceAuth:
    """A source's `auth:`: the environment variables that hold its credentials."""

    username_env: str
    password_env: str


@dataclass(frozen=True, slots=True)
class FeedConfig:
    """One entry of `feeds:`: a merged feed to publish."""

    slug: str
    title: str
    description: str = ""
    topics: tuple[str, ...] = ()
    include: tuple[str, ...] = ()  # regexes; a story must match one (when any are given)
    exclude: tuple[str, ...] = ()  # regexes; a story matching any is left out
    languages: tuple[str, ...] = ()  # e.g. ("ar",); empty means every language
    limit: int = 100
    telegram: TelegramChannel | None = None


@dataclass(frozen=True, slots=True)
class ScheduleConfig:
    interval: timedelta | None = timedelta(minutes=15)
    cron: str | None = None  # five-field crontab expression; replaces interval when set


@dataclass(frozen=True, slots=True)
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = 8080


@dataclass(frozen=True, slots=True)
class AccessConfig:
    """Who may read an operator endpoint (`/metrics`, `/status`)."""

    allow: tuple[str, ...] = ()  # client networks (CIDR); empty means any client
    token_env: str | None = None  # environment variable holding the bearer token


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    """`metrics:`: the opt-in Prometheus endpoint, and the listener of its own."""

    access: AccessConfig = field(default_factory=AccessConfig)
    host: str = "127.0.0.1"
    port: int | None = None  # its own port: `feeds worker`'s, or `feeds serve`'s beside serve:


@dataclass(frozen=True, slots=True)
class StatusPageConfig:
    """`status_page:`: the operator's page of every source, written with each pass."""

    path: str | None = None  # absolute; None when no file is written
    serve: bool = False  # `feeds serve` also answers /status
    stale_days: int = 7  # a source with nothing new for this long is stale
    access: AccessConfig = field(default_factory=AccessConfig)


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    """`telegram:`: the bot that posts stories to the feeds' channels."""

    token_env: str  # environment variable holding the bot token (never the file)
    api_url: str = "https://api.telegram.org"
    max_per_pass: int = 20  # stories posted to one channel by one pass, at most
    backlog: int = 0  # stories older than the channel posted when it is first seen
    min_interval: float = 3.0  # seconds between two calls for one channel
    timeout: float = 20.0


@dataclass(frozen=True, slots=True)
class TelegramChannel:
    """`feeds[].telegram:`: where a feed's stories are posted."""

    chat: str  # "@channel" or a numeric chat id
    topic: int | None = None  # a forum topic's message_thread_id


@dataclass(frozen=True, slots=True)
class FetchConfig:
    """Limits of the fetch stage (config key `fetch:`)."""

    timeout: float = 30.0  # total seconds per fetch: connect + headers + body
    pass_deadline: float = 600.0  # seconds for a whole pass's fetching
    concurrency: int = 16  # requests in flight at once
    per_host: int = 2  # requests in flight per host
    max_bytes: int = 10 * 1024 * 1024  # default body cap (decompressed)
    min_interval: timedelta = timedelta(minutes=5)
    max_interval: timedelta = timedelta(hours=24)
    user_agent: str = ""  # empty means the built-in one
    # Networks (CIDR) that may be fetched though loopback, private, link-local...
    allow_private: tuple[str, ...] = ()
    max_items: int = 1000  # entries taken from one source in one pass, newest first
    pages_per_source: int = 10  # article pages (full_text) fetched per source per pass


@dataclass(frozen=True, slots=True)
class Config:
    """A validated config.yaml. Paths are absolute (resolved against the file's folder)."""

    path: str
    title: str
    base_url: str
    output_dir: str
    database: str  # absolute SQLite path, or a postgresql:// URL
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    serve: ServeConfig | None = None
    fetch: FetchConfig = field(default_factory=FetchConfig)
    sources: tuple[SourceConfig, ...] = ()
    feeds: tuple[FeedConfig, ...] = ()
    websub_hub: str | None = None
    retention_days: int | None = None
    language: str = "ar"
    icon: str | None = None  # square picture of the feeds (RSS <image>, Atom <icon>, JSON)
    logo: str | None = None  # wide picture (Atom <logo>); defaults to the icon
    display_timezone: str | None = None  # IANA zone of the reading page's times
    exclude: tuple[str, ...] = ()  # regexes applied to every feed, as its own `exclude`
    log_format: str = "text"  # or "json": one object per line
    metrics: MetricsConfig | None = None
    status_page: StatusPageConfig = field(default_factory=StatusPageConfig)
    telegram: TelegramConfig | None = None


# --------------------------------------------------------------------------- fetch


@dataclass(frozen=True, slots=True)
class Validators:
    """HTTP cache validators kept per source for conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one successful request returned. `content` is None on 304 Not Modified.

    `url` is the final URL after redirects; `permanent_redirect` is the target of a
    301/308 chain when every hop was permanent (the pipeline decides when to adopt it).
    `headers` holds lower-cased header names.
    """

    source_url: str
    url: str
    status: int
    content: bytes | None
    headers: tuple[tuple[str, str], ...]
    validators: Validators
    fetched_at: datetime
    elapsed: float = 0.0
    permanent_redirect: str | None = None

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k == name), None)


# --------------------------------------------------------------------------- parse


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    """One entry as the source feed said it, before normalization (feedparser-free).

    Text fields hold what feedparser produced: `title`, `summary` and `content` are HTML
    (parse escapes a title feedparser reports as plain text, so normalize decodes every
    title once). `published_raw` is the source's date string,
    kept for the Arabic date fallback when feedparser could not read it.
    """

    guid: str | None = None
    title: str | None = None
    link: str | None = None
    summary: str | None = None
    content: str | None = None
    published: datetime | None = None
    published_raw: str | None = None
    updated: datetime | None = None
    updated_raw: str | None = None
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    base: str | None = None  # xml:base in effect for the content
    language: str | None = None
    image: str | None = None  # enclosure or media thumbnail URL
    outlet: str | None = None  # the outlet an aggregator's item names (RSS `<source>`)
    media: Media | None = None  # an audio or video enclosure: a podcast's episode


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """The parse stage's output for one fetched body."""

    url: str  # the URL the body came from
    title: str | None = None
    link: str | None = None
    language: str | None = None
    ttl_minutes: int | None = None
    version: str = ""  # feedparser's "rss20", "atom10", "rss10", "json1", ...
    encoding: str | None = None
    entries: tuple[ParsedEntry, ...] = ()
    warnings: tuple[str, ...] = ()
    alternates: tuple[str, ...] = ()  # feed links found when the body was an HTML page
    repair: str | None = None  # the encoding repair applied to every text field, if any


# --------------------------------------------------------------------------- normalize


class DateSource(enum.StrEnum):
    FEED = "feed"  # feedparser read the date
    FALLBACK = "fallback"  # our Arabic date parser read it
    FIRST_SEEN = "first_seen"  # missing or unreadable: the first-seen time
    # The feed gave a date that cannot be right (before `EARLIEST_DATE`, or in the
    # future): the first-seen time, and this says why.
    REJECTED = "rejected"


#: No article of a web feed is older than this: an earlier date (Hugo's zero date
#: ``0001-01-01`` on section pages, a CMS's epoch 0) is a placeholder, not a date.
EARLIEST_DATE = datetime(1995, 1, 1, tzinfo=UTC)
#: Dates at or past this are placeholders too (``9999-12-31``), and date arithmetic near
#: `datetime.max` (a window of days around them) would overflow.
LATEST_DATE = datetime(9000, 1, 1, tzinfo=UTC)


def plausible_date(when: datetime) -> bool:
    """Whether a date could be an article's, whatever the clock says (`normalize` also
    refuses dates past the fetch time)."""
    return EARLIEST_DATE <= when < LATEST_DATE


@dataclass(frozen=True, slots=True)
class Article:
    """One normalized entry of one source, ready to store and cluster.

    `id` is stable across passes: a hash of the source URL and the entry's identity
    (guid, else link, else content hash). `url` is the publisher's link minus tracking
    parameters; `canonical_url` is the identity form used for de-duplication.
    `title_key` and `text_key` are Arabic matching keys, never displayed.
    """

    id: str
    source_url: str
    guid: str | None
    url: str
    canonical_url: str
    title: str
    summary_html: str
    content_html: str
    published: datetime
    date_source: DateSource
    first_seen: datetime
    language: str  # "ar", "en" (any Latin script) or "mixed"
    title_key: str
    text_key: str
    content_hash: str
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    image: str | None = None
    # Where the published text comes from: "feed"; "pending" while its page (full_text)
    # is still to fetch; "page" once extracted from it; "failed" when that did not work.
    content_from: ContentFrom = "feed"
    # The outlet an aggregator's item names (RSS `<source>`: Google News), "" for a
    # site's own article: to clustering, each outlet of one aggregator is a source.
    outlet: str = ""
    media: Media | None = None  # its audio or video enclosure (a podcast's episode)
    # Whether this pass's normalize cut its markup to `markup.MAX_HTML` characters or
    # `MAX_DEPTH` levels: counted for `feeds status`, not stored, not compared.
    trimmed: bool = field(default=False, compare=False)


# --------------------------------------------------------------------------- stories


@dataclass(frozen=True, slots=True)
class SourceRef:
    """One article merged into a story, as listed in `_feeds.sources`."""

    url: str  # the article's link
    name: str  # the source's display name; for an aggregator's item, its outlet's
    source_url: str = ""  # the source feed's configured URL
    title: str = ""  # the article's own headline
    published: datetime | None = None  # the article's publication time
    outlet: str = ""  # the outlet an aggregator's item names (`Article.outlet`)


@dataclass(frozen=True, slots=True)
class Story:
    """One published item: one or more articles about the same story.

    `id` is set when the story is created and never changes. `title`, `url`,
    `summary_html` and `content_html` come from the representative article.
    `updated` is the newest publication time among its articles: derived from the
    articles alone, so an unchanged story renders byte-identically on any machine.
    """

    id: str
    title: str
    url: str
    summary_html: str
    content_html: str
    published: datetime
    updated: datetime
    language: str
    sources: tuple[SourceRef, ...]
    topics: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    image: str | None = None  # the lead image: the first article picture found
    article_id: str = ""  # the representative article's id
    first_seen: datetime | None = None  # the earliest publication among its articles
    content_from: ContentFrom = "feed"  # of the representative article (Article's)
    media: Media | None = None  # the representative article's audio or video enclosure


# --------------------------------------------------------------------------- results


class Outcome(enum.StrEnum):
    OK = "ok"
    NOT_MODIFIED = "not_modified"
    UNCHANGED = "unchanged"  # 200 but the same body hash as last time
    ERROR = "error"
    SKIPPED = "skipped"  # disabled (410) or not due


@dataclass(frozen=True, slots=True)
class SourceResult:
    """One per source per pass."""

    source_url: str
    outcome: Outcome
    status: int | None = None
    items: int = 0
    new: int = 0
    bytes: int = 0
    elapsed: float = 0.0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class PassResult:
    """What one pass did; the CLI prints its summary line."""

    sources: tuple[SourceResult, ...]
    new_articles: int
    stories_published: int
    files_written: tuple[str, ...]

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.sources if r.outcome is outcome)


# --------------------------------------------------------------------------- store writes


class Filed(NamedTuple):
    """One clustering decision: the story an article was filed in, and whether filing
    it created that story."""

    article_id: str
    story_id: str
    new: bool


class Topics(NamedTuple):
    """A story's topics (best first) and whether it is tech news at all."""

    topics: tuple[str, ...]
    is_tech: bool


class Keep(enum.Enum):
    """The value of a `SourceUpdate` field that leaves its column as it is."""

    KEEP = "keep"


KEEP: Final = Keep.KEEP


@dataclass(frozen=True, slots=True)
class SourceUpdate:
    """What one refresh writes on its source's row (`policy.after_fetch` and
    `policy.after_error` decide it; `Store.update_source` writes it). A field left at
    `KEEP` leaves its column as it is."""

    last_fetch: datetime | Keep = KEEP
    last_status: int | Keep | None = KEEP
    last_outcome: str | Keep = KEEP
    last_error: str | Keep | None = KEEP
    consecutive_errors: int | Keep = KEEP
    next_due: datetime | Keep = KEEP
    duration: float | Keep = KEEP
    bytes: int | Keep = KEEP
    validators: Validators | Keep = KEEP
    body_hash: str | Keep | None = KEEP
    items: int | Keep = KEEP
    repair: str | Keep | None = KEEP
    redirect_target: str | Keep | None = KEEP
    redirect_seen: int | Keep = KEEP
    redirect_since: datetime | Keep | None = KEEP
    fetch_url: str | Keep = KEEP
    discovered_url: str | Keep = KEEP
    disabled_reason: str | Keep | None = KEEP
    caps: str | Keep | None = KEEP  # the limits the last parse applied, in words

    def changes(self) -> dict[str, object]:
        """The fields to write, by column name."""
        values = ((f.name, getattr(self, f.name)) for f in fields(self))
        return {name: value for name, value in values if value is not KEEP}
