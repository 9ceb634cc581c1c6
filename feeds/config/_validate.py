"""Validation of config.yaml, node by node, collecting every problem with its line."""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import os
import re
import zoneinfo
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, cast
from urllib.parse import urlsplit

import yaml

from feeds.config import _ops
from feeds.config._access import network_problem, source_auth
from feeds.config._paths import output_dir_problem
from feeds.config._yaml import compose_text, read_text
from feeds.errors import ConfigError, Problem
from feeds.guard import redact
from feeds.markup import XML_FORBIDDEN
from feeds.store import is_server_url
from feeds.types import (
    TOPICS,
    Config,
    FeedConfig,
    FetchConfig,
    FullText,
    ScheduleConfig,
    Scrape,
    ServeConfig,
    SourceConfig,
)

_TOP_KEYS = (
    *("title", "base_url", "output_dir", "database", "schedule", "serve", "fetch"),
    *("websub_hub", "retention_days", "language", "sources", "feeds"),
    *("icon", "logo", "display_timezone", "exclude"),
    *_ops.TOP_KEYS,
)
_SOURCE_KEYS = (
    "url", "name", "max_bytes", "filter_topics", "priority", "default_tz", "user_agent", "auth",
    "full_text", "scrape",
)  # fmt: skip
_SCRAPE_KEYS = ("item", "title", "link", "date", "summary")
_FEED_KEYS = (
    *("slug", "title", "description", "topics", "include", "exclude", "languages", "limit"),
    "telegram",
)
_FETCH_KEYS = tuple(f.name for f in dataclasses.fields(FetchConfig))

_T = "tag:yaml.org,2002:"
#: The tags a plain YAML file produces, named as a message shows them.
_GOT = {
    _T + "str": "a string",
    _T + "int": "an integer",
    _T + "float": "a number",
    _T + "bool": "true/false",
    _T + "null": "an empty value",
    _T + "timestamp": "a date",
    _T + "seq": "a list",
    _T + "map": "a mapping",
}
_WANT = {
    "str": "a string",
    "int": "an integer",
    "number": "a number",
    "bool": "true or false",
    "seq": "a list",
    "map": "a mapping",
}

_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")
_LANGUAGE = re.compile(r"[a-z]{2}")
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def _describe_char(c: str) -> str:
    what = "a lone surrogate" if "\ud800" <= c <= "\udfff" else "the control character"
    return f"{what} U+{ord(c):04X}"


#: The longest interval a key takes (`schedule.interval`, a source's min and max).
LONGEST = timedelta(days=365)
_SIZE = re.compile(r"(\d+)\s*([kmg]i?b|b)?", re.IGNORECASE)
#: Size units: SI (1 MB = 10**6 bytes) and binary (1 MiB = 2**20 bytes), case-insensitive.
_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20, "gib": 2**30}

_Check = Callable[[str], str | None]  # a value's problem, or None when it is fine


# --------------------------------------------------------------------------- reading


class _Reader:
    """Collects every problem while turning composed YAML nodes into values."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.found: list[Problem] = []
        self._columns: list[int] = []
        self._constructor = yaml.SafeLoader("")

    def report(self, node: yaml.Node | None, key: str, message: str) -> None:
        mark = node.start_mark if node is not None else None
        self.add(Problem(self.file, mark.line + 1 if mark else None, key, message), mark)

    def add(self, problem: Problem, mark: yaml.Mark | None = None) -> None:
        self.found.append(problem)
        self._columns.append(mark.column if mark else 0)

    def in_file_order(self) -> list[Problem]:
        """Sorted by line and column; problems at one place keep the order found."""
        where = [(p.line or 0, column) for p, column in zip(self.found, self._columns, strict=True)]
        return [self.found[i] for i in sorted(range(len(where)), key=where.__getitem__)]

    def value(self, node: yaml.Node, key: str, want: str) -> Any:
        """The node's value when it is of kind `want`; else None, and the problem noted."""
        got = node.tag.removeprefix(_T) if node.tag in _GOT else None
        if got == want or (want == "number" and got in ("int", "float")):
            if want == "seq":
                return list(node.value)
            value = self._constructor.construct_object(node)
            if want == "str" and (bad := XML_FORBIDDEN.search(value)):
                # YAML's "\x01" and "\ud800" escapes: no feed, OPML file or page can hold them.
                self.report(
                    node, key, f"holds {_describe_char(bad.group())}, which no feed may carry"
                )
                return None
            return value
        if got is None:
            tag = node.tag.replace(_T, "!!", 1) if node.tag.startswith(_T) else node.tag
            self.report(node, key, f"unsupported YAML tag {tag!r}")
        else:
            # Plain YAML 1.1 turns `no`, `on`, `2024-01-01` and `1.10` into non-strings.
            scalar = got in ("int", "float", "bool", "timestamp")
            hint = " (quote it to make it text)" if want == "str" and scalar else ""
            self.report(node, key, f"expected {_WANT[want]}, got {_GOT[node.tag]}{hint}")
        return None

    def section(self, node: yaml.Node, path: str, allowed: Sequence[str]) -> _Section | None:
        """A mapping node by key; unknown, duplicate and non-text keys are reported."""
        if node.tag != _T + "map":
            self.value(node, path, "map")
            return None
        found: dict[str, yaml.Node] = {}
        for knode, vnode in node.value:
            name, key = knode.value, _join(path, str(knode.value))
            if knode.tag == _T + "merge":  # "<<: *defaults"
                self.report(knode, key, "YAML merge keys (<<:) are not read; write the keys out")
            elif knode.tag != _T + "str":
                self.report(knode, key, f"keys must be text, got {_GOT.get(knode.tag, knode.tag)}")
            elif name in found:
                self.report(knode, key, f"duplicate key {name!r}")
            elif name not in allowed:
                self.report(knode, key, f"unknown key {name!r}{_suggest(name, allowed)}")
            else:
                found[name] = vnode
        return _Section(self, node, path, found)


@dataclasses.dataclass
class _Section:
    """One mapping of the file: its value nodes by key, and the key path to report."""

    r: _Reader
    node: yaml.Node
    path: str
    m: dict[str, yaml.Node]

    def key(self, name: str) -> str:
        return _join(self.path, name)

    def report(self, name: str, message: str) -> None:
        self.r.report(self.m.get(name, self.node), self.key(name), message)

    def get(self, name: str) -> yaml.Node | None:
        """The value node, or None when the key is absent or its value empty (null)."""
        node = self.m.get(name)
        return None if node is None or node.tag == _T + "null" else node

    def field(self, name: str, want: str, default: Any = None, *, required: bool = False) -> Any:
        node = self.get(name)
        if node is None:
            if required:
                self.report(
                    name, "must not be empty" if name in self.m else "required key is missing"
                )
            return default
        return self.r.value(node, self.key(name), want)

    def text(
        self, name: str, default: Any = None, *, required: bool = False, check: _Check | None = None
    ) -> Any:
        value = self.field(name, "str", default, required=required)
        problem = "must not be empty" if required and value == "" and name in self.m else None
        if not problem and value is not None and check and self.get(name) is not None:
            problem = check(value)
        if problem:
            self.report(name, problem)
            return None
        return value

    def number(self, name: str, default: int | None, low: int, high: int | None = None) -> Any:
        value = self.field(name, "int", default)
        if value is not None and value < low:
            self.report(name, f"must be at least {low}, got {value}")
            return default
        if value is not None and high is not None and value > high:
            self.report(name, f"must be at most {high}, got {value}")
            return default
        return value

    def texts(self, name: str, check: _Check) -> tuple[str, ...]:
        """A list of strings, each checked by `check` (which returns a problem or None)."""
        found = []
        for j, node in enumerate(self.field(name, "seq", []) or ()):
            key = f"{self.key(name)}[{j}]"
            value = self.r.value(node, key, "str")
            if value is not None and (problem := check(value)):
                self.r.report(node, key, problem)
            elif value is not None:
                found.append(value)
        return tuple(found)

    def items(self, name: str, what: str) -> list[yaml.Node]:
        items = self.field(name, "seq", required=True)
        if items == []:
            self.report(name, f"must list at least one {what}")
        return items or []

    def sub(self, name: str, allowed: Sequence[str]) -> _Section | None:
        node = self.get(name)
        return None if node is None else self.r.section(node, self.key(name), allowed)

    def duration(self, name: str) -> timedelta | None:
        node = self.get(name)
        if node is not None and node.tag in (_T + "int", _T + "float"):
            self.report(name, f"{node.value} has no unit (use forms like 90s, 15m, 1h30m, 2d)")
            return None
        text = self.text(name)
        match = _DURATION.fullmatch(text.strip()) if text is not None else None
        if match and any(match.groups()):
            days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
            total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
            if total > LONGEST.total_seconds():
                # A scheduler adds it to the clock: past the calendar's end, it crashed.
                self.report(name, f"must be at most {LONGEST.days}d, got {text!r}")
            elif total:
                return timedelta(seconds=total)
            else:
                self.report(name, "must be longer than zero")
        elif text is not None:
            self.report(
                name, f"cannot parse interval {text!r} (use forms like 90s, 15m, 1h30m, 2d)"
            )
        return None

    def size(self, name: str, default: int) -> int:
        node = self.get(name)
        if node is None or node.tag != _T + "str":
            return self.number(name, default, 1) or default  # type: ignore[no-any-return]
        match = _SIZE.fullmatch(node.value.strip())
        if not match:
            self.report(
                name, f"cannot parse size {node.value!r} (use forms like 512KiB, 10MiB, 5MB)"
            )
            return default
        size = int(match[1]) * _UNITS[(match[2] or "b").lower()]
        if size < 1:  # "0MiB" was the default, where a bare 0 is refused
            self.report(name, f"must be at least 1 byte, got {node.value!r}")
            return default
        return size


def check(
    path: str | os.PathLike[str], *, cron_check: _Check | None = None
) -> tuple[Config | None, list[Problem]]:
    """The config (None when any problem was found) and every problem in file order.

    `cron_check` also judges a well-formed crontab line (`feeds check` asks APScheduler,
    which a pass never imports)."""
    file = os.fspath(path)
    r = _Reader(file)
    root = _compose(r)
    config = None if root is None else _build(r, root, file, cron_check)
    return config, r.in_file_order()


def _compose(r: _Reader) -> yaml.Node | None:
    try:
        text = read_text(r.file)
    except ConfigError as e:
        r.add(e.problems[0])
        return None
    try:
        root = compose_text(r.file, text)
    except ConfigError as e:
        r.add(e.problems[0])
        return None
    if root is None:
        r.report(None, "", "the file is empty")
    return root


# --------------------------------------------------------------------------- building


def _build(r: _Reader, root: yaml.Node, file: str, cron_check: _Check | None) -> Config | None:
    if root.tag != _T + "map":
        r.report(root, "", "the top level must be a mapping of keys (title:, sources:, ...)")
        return None
    top = r.section(root, "", _TOP_KEYS)
    assert top is not None
    fetch = _fetch(top.sub("fetch", _FETCH_KEYS))
    values = {
        "title": top.text("title", required=True),
        "base_url": top.text("base_url", required=True, check=_base_url_problem),
        "output_dir": top.text("output_dir", "public", check=_folder_problem),
        "database": top.text("database", "data/feeds.db", check=_database_problem),
        "schedule": _schedule(top.sub("schedule", ("interval", "cron")), cron_check),
        "serve": _serve(top.sub("serve", ("host", "port"))),
        "fetch": fetch,
        "websub_hub": top.text("websub_hub", check=url_problem),
        # Subtracted from the clock: past the calendar's start, the pass crashed.
        "retention_days": top.number("retention_days", None, 1, LONGEST.days * 100),
        "language": top.text("language", "ar", check=_language_problem),
        "sources": _sources(top, fetch.max_bytes),
        "feeds": _feeds(top),
        "icon": top.text("icon", check=url_problem),
        "logo": top.text("logo", check=url_problem),
        "display_timezone": top.text("display_timezone", check=_zone_problem),
        "exclude": top.texts("exclude", _regex_problem),
        **_operator_keys(top),
    }
    if any(f.telegram for f in values["feeds"]) and values["telegram"] is None:
        top.report("feeds", "a feed names a telegram channel: telegram.token_env is required")
    serve, metrics = values["serve"], values["metrics"]
    wildcard = {"0.0.0.0", "::", ""}
    if (
        serve is not None and metrics is not None and metrics.port == serve.port
        and (metrics.host == serve.host or {metrics.host, serve.host} & wildcard)
    ):  # fmt: skip
        # Both listen: the second bind failed as if another program held the port.
        top.report(
            "metrics",
            f"metrics.port is serve.port ({serve.port}); leave it out to "
            "answer /metrics on serve's port, or give another",
        )
    if r.found:
        return None
    folder = os.path.dirname(os.path.abspath(file))
    sqlite = not is_server_url(values["database"])
    if sqlite:
        values["database"] = _resolve(folder, values["database"])
    values["output_dir"] = _resolve(folder, values["output_dir"])
    database = values["database"] if sqlite else None
    if database is not None and os.path.isdir(database):
        top.report("database", f"{database} is a folder; give the SQLite file's path in it")
        return None
    if os.path.exists(values["output_dir"]) and not os.path.isdir(values["output_dir"]):
        top.report("output_dir", f"{values['output_dir']} is a file, not a folder")
        return None
    if problem := output_dir_problem(values["output_dir"], file, database):
        top.report("output_dir", problem)
        return None
    path = _ops.resolve_status_path(
        values["status_page"], explicit="status_page" in top.m, folder=folder,
        database=values["database"], output_dir=values["output_dir"],
    )  # fmt: skip
    values["status_page"] = dataclasses.replace(values["status_page"], path=path)
    values["base_url"] = values["base_url"].rstrip("/") + "/"
    # The top-level `exclude:` (sponsored posts) is every feed's own first exclusion.
    values["feeds"] = tuple(
        dataclasses.replace(f, exclude=(*values["exclude"], *f.exclude)) for f in values["feeds"]
    )
    return Config(path=os.path.abspath(file), **values)


def _operator_keys(top: _Section) -> dict[str, Any]:
    values = {
        "log_format": _ops.log_format(top),
        "metrics": _ops.metrics(top.sub("metrics", _ops.METRICS_KEYS)),
        "status_page": _ops.status_page(top),
        "telegram": _ops.telegram(top.sub("telegram", _ops.TELEGRAM_KEYS), url_problem),
    }
    return values


def _schedule(s: _Section | None, cron_check: _Check | None) -> ScheduleConfig:
    if s is None:
        return ScheduleConfig()
    interval, cron = s.duration("interval"), s.text("cron")
    fields = cron.split() if cron is not None else []
    if cron is not None and len(fields) != 5:
        s.report("cron", f"cron needs 5 fields (minute hour day month weekday), got {len(fields)}")
    elif not all(re.fullmatch(r"[0-9A-Za-z*,/-]+", f) for f in fields):
        s.report("cron", f"not a crontab expression: {cron!r}")
    elif cron is not None and cron_check is not None and (why := cron_check(cron)):
        s.report("cron", why)
    if s.get("interval") and cron is not None:
        s.report("cron", "give either interval or cron, not both")
    if cron is not None:
        return ScheduleConfig(interval=None, cron=cron)
    return ScheduleConfig(interval=interval) if interval else ScheduleConfig()


def _serve(s: _Section | None) -> ServeConfig | None:
    if s is None:
        return None
    d = ServeConfig()
    port = s.field("port", "int", d.port)
    if port is not None and not 1 <= port <= 65535:
        s.report("port", f"must be a TCP port from 1 to 65535, got {port}")
    return ServeConfig(host=s.text("host", d.host, check=_host_problem), port=port or d.port)


def _fetch(s: _Section | None) -> FetchConfig:
    d = FetchConfig()
    if s is None:
        return d
    values: dict[str, Any] = {}
    for name in ("timeout", "pass_deadline"):
        values[name] = seconds = s.field(name, "number")
        if seconds is not None and not 0 < seconds < math.inf:
            s.report(name, f"must be a positive number of seconds, got {seconds}")
    values["concurrency"] = s.number("concurrency", None, 1)
    values["per_host"] = s.number("per_host", None, 1)
    values["max_items"] = s.number("max_items", None, 1)
    values["pages_per_source"] = s.number("pages_per_source", None, 0)
    values["max_bytes"] = s.size("max_bytes", d.max_bytes)
    values["min_interval"] = s.duration("min_interval")
    values["max_interval"] = s.duration("max_interval")
    values["user_agent"] = s.text("user_agent", check=_header_problem)
    values["allow_private"] = s.texts("allow_private", network_problem)
    if (values["min_interval"] or d.min_interval) > (values["max_interval"] or d.max_interval):
        s.report(
            "max_interval" if "max_interval" in s.m else "min_interval",
            "min_interval is longer than max_interval",
        )
    return dataclasses.replace(d, **{k: v for k, v in values.items() if v is not None})


def _sources(top: _Section, max_bytes: int) -> tuple[SourceConfig, ...]:
    seen: dict[tuple[str, ...], tuple[int, int]] = {}
    found = []
    for i, node in enumerate(top.items("sources", "source")):
        s = top.r.section(node, f"sources[{i}]", _SOURCE_KEYS)
        if s is None:
            continue
        url = s.text("url", required=True, check=url_problem)
        if url is not None:
            first = seen.setdefault(url_key(url), (i, s.m["url"].start_mark.line + 1))
            if first[0] != i:
                s.report(
                    "url",
                    f"duplicate source URL (same as sources[{first[0]}].url on line {first[1]})",
                )
        source = SourceConfig(
            url=url or "",
            name=s.text("name", ""),
            max_bytes=s.size("max_bytes", max_bytes),
            filter_topics=s.field("filter_topics", "bool", False),
            priority=s.field("priority", "int", 0),
            default_tz=s.text("default_tz", check=_zone_problem),
            user_agent=s.text("user_agent", "", check=_header_problem),
            auth=source_auth(s, url),
            full_text=_full_text(s),
            scrape=_scrape(s),
        )
        found.append(source)
    return tuple(found)


def _scrape(s: _Section) -> Scrape | None:
    """`scrape:`: CSS selectors (item required), each checked to be one cssselect reads."""
    sub = s.sub("scrape", _SCRAPE_KEYS)
    if sub is None:
        return None
    found = {
        key: sub.text(key, required=key == "item", check=selector_problem) for key in _SCRAPE_KEYS
    }
    if not found["item"]:
        return None
    return Scrape(**found)


def selector_problem(css: str) -> str | None:
    """Why `css` is not a CSS selector cssselect reads, or None."""
    from cssselect import GenericTranslator, SelectorError

    try:
        GenericTranslator().css_to_xpath(css)
    except SelectorError as e:
        return f"not a CSS selector: {e}"
    return None


def _full_text(s: _Section) -> FullText:
    """`full_text: true | false | auto` (YAML's booleans, or the word)."""
    node = s.get("full_text")
    if node is None:
        return "false"
    if node.tag == _T + "bool":
        return "true" if s.field("full_text", "bool") else "false"
    if node.tag == _T + "str" and node.value in ("auto", "true", "false"):
        return cast(FullText, node.value)
    s.report("full_text", f"must be true, false or auto, got {node.value!r}")
    return "false"


def _feeds(top: _Section) -> tuple[FeedConfig, ...]:
    seen: dict[str, tuple[int, int]] = {}
    found = []
    for i, node in enumerate(top.items("feeds", "feed")):
        s = top.r.section(node, f"feeds[{i}]", _FEED_KEYS)
        if s is None:
            continue
        slug = s.text("slug", required=True, check=_slug_problem)
        if slug:
            first = seen.setdefault(slug, (i, s.m["slug"].start_mark.line + 1))
            if first[0] != i:
                s.report(
                    "slug",
                    f"duplicate slug {slug!r} (same as feeds[{first[0]}].slug on line {first[1]})",
                )
        feed = FeedConfig(
            slug=slug or "",
            title=s.text("title", "", required=True),
            description=s.text("description", ""),
            topics=s.texts("topics", _topic_problem),
            include=s.texts("include", _regex_problem),
            exclude=s.texts("exclude", _regex_problem),
            languages=s.texts("languages", _language_problem),
            limit=s.number("limit", 100, 1),
            telegram=_ops.channel(s.sub("telegram", _ops.CHANNEL_KEYS)),
        )
        if feed.languages and not {"ar", "en"} & set(feed.languages):
            # Stories are told `ar` or `en` (`arabic.script.language`): "[fr]" passed
            # check and left the feed empty for good. A list that has one may hold more.
            s.report("languages", "stories are told apart as ar or en only: none would match")
        found.append(feed)
    return tuple(found)


# --------------------------------------------------------------------------- checks


def url_problem(url: str) -> str | None:
    """Why `url` is not an absolute http(s) URL, or None when it is one."""
    try:
        parts = urlsplit(url)
        ok = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        ok = False
    shown = redact(url)
    return None if ok and not re.search(r"\s", url) else f"must be an http(s) URL, got {shown!r}"


def _base_url_problem(url: str) -> str | None:
    """`url_problem`, and a query or fragment: each file's URL is base_url + its name,
    so "https://example.org/feeds/?x=1" published self links ".../?x=1/all.rss"."""
    if problem := url_problem(url):
        return problem
    parts = urlsplit(url)
    if parts.query or parts.fragment or url.rstrip().endswith(("?", "#")):
        return f"must be the folder's URL, without a query or fragment, got {redact(url)!r}"
    return None


def _host_problem(host: str) -> str | None:
    return None if host.strip() else "must not be empty"


def _slug_problem(slug: str) -> str | None:
    if slug == "index":  # <slug>.html is the feed's page; index.html is the front page
        return "'index' is reserved for the front page (index.html)"
    if not _SLUG.fullmatch(slug):
        return f"must match [a-z0-9][a-z0-9_-]*, got {slug!r}"
    if len(slug) > SLUG_LIMIT:  # <slug>.atom and its temporary file must be a file name
        return f"must be at most {SLUG_LIMIT} characters, got {len(slug)}"
    return None


#: The longest feed slug: a file name holds 255 bytes, and the temporary file beside
#: `<slug>.atom` needs room for its prefix and random part.
SLUG_LIMIT = 100


def _header_problem(value: str) -> str | None:
    """Why a User-Agent cannot be sent: a line break or another control character, or
    a letter outside ASCII (an HTTP header's text; httpx refuses to encode it)."""
    if any((ord(ch) < 32 and ch != "\t") or ord(ch) == 127 for ch in value):
        return "must be one line of text (no line break or control character)"
    if not value.isascii():
        return f"must be ASCII text, as an HTTP header is, got {value!r}"
    return None


def _zone_problem(zone: str) -> str | None:
    return None if zone in _zones() else f"unknown time zone {zone!r}{_suggest(zone, _zones())}"


def _topic_problem(topic: str) -> str | None:
    if topic in TOPICS:
        return None
    hint = _suggest(topic, TOPICS) or f" (known topics: {', '.join(TOPICS)})"
    return f"unknown topic {topic!r}{hint}"


def _regex_problem(pattern: str) -> str | None:
    try:
        re.compile(pattern)
    except re.error as e:
        return f"invalid regex: {e}"
    return None


_URL_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")


def _folder_problem(folder: str) -> str | None:
    """Why `output_dir:` is a URL, not a folder: "https://example.org/feeds/" made a
    folder "https:" beside config.yaml (the URL the files are read from is `base_url`)."""
    if _URL_SCHEME.match(folder):
        return f"must be a folder's path, got the URL {folder!r} (base_url is where it is served)"
    return None


def _database_problem(database: str) -> str | None:
    """Why `database:` names neither an SQLite file nor a PostgreSQL server: a URL of
    another scheme ("mysql://…", "sqlite:///x.db") was taken as a file path, and a pass
    made a folder "mysql:" with an SQLite file in it."""
    if not database.strip():
        return "must not be empty (an SQLite file's path, or a postgresql:// URL)"
    scheme = _URL_SCHEME.match(database)
    if scheme is None and database.rstrip().endswith(("/", os.sep)):
        return f"must be an SQLite file's path, not a folder's, got {database!r}"
    if scheme is None or is_server_url(database):
        return None
    # Earlier versions took the URL as a path: a store they kept is in that folder.
    kept = f"(a store kept by an earlier version is in the folder '{scheme[1]}:' beside this file)"
    if scheme[1].lower() == "sqlite":
        return f"give the SQLite file's path itself (e.g. data/feeds.db), not {database!r} {kept}"
    return f"must be an SQLite file's path or a postgresql:// URL, got {scheme[1]}://… {kept}"


def _language_problem(code: str) -> str | None:
    if _LANGUAGE.fullmatch(code):
        return None
    return f"must be a 2-letter lower-case language code like 'ar', got {code!r}"


# --------------------------------------------------------------------------- helpers


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _suggest(name: str, choices: Sequence[str] | frozenset[str] | set[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _resolve(folder: str, path: str) -> str:
    return os.path.normpath(os.path.join(folder, os.path.expanduser(path)))


def url_key(url: str) -> tuple[str, ...]:
    """Identity of a source URL: scheme and host are case-insensitive; a final / is noise."""
    parts = urlsplit(url.strip())
    return (parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query)
