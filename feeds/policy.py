"""Pure scheduling policy: when a source is next due, when a move becomes permanent, and
what a refresh writes on its source's row (`after_fetch`, `after_error`: the decider).

Nothing here does I/O or reads a clock: every function takes `now` (an aware UTC
datetime) and, where it jitters, a `random.Random`, so a test can replay any decision.

Why the pieces exist:

* Publishers tell us how often to come back (``Cache-Control: max-age`` and ``Expires``,
  RFC 9111 §4.2.1; RSS ``<ttl>``). We only ever *lengthen* our interval for them, and
  still poll at least every `max_interval` so a far-future Expires cannot orphan a feed.
* Broken sources back off exponentially with jitter instead of being disabled after a
  few errors (Miniflux #879, #3334: feeds that never recover). Only 410 Gone disables.
* ``Retry-After`` on 429/503 (RFC 9110 §10.2.3) is a direct request from the publisher;
  we honour it, capped so a hostile value cannot park a source for a month.
* Sources are jittered so that sources added together do not fall due together.
"""

from __future__ import annotations

import email.utils
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from feeds.errors import FeedsError
from feeds.types import KEEP, FetchConfig, FetchResult, Outcome, ParsedFeed, SourceUpdate

__all__ = [
    "BACKOFF_CAP",
    "REDIRECT_MIN_SEEN",
    "REDIRECT_MIN_SPAN",
    "RedirectTrack",
    "freshness_lifetime",
    "is_gone",
    "next_due_error",
    "next_due_ok",
    "parse_http_date",
    "parse_retry_after",
    "track_redirect",
]

#: Longest back-off after errors, unless `max_interval` is longer.
BACKOFF_CAP = timedelta(hours=24)
#: Upper bound of the jitter added to a healthy source's interval, as a fraction of it.
OK_JITTER = 0.10
#: A 301/308 to the same target must be seen on this many fetches...
REDIRECT_MIN_SEEN = 3
#: ...spanning at least this long, before the stored URL changes (a misconfigured
#: server that 301s for an hour must not move a source for good).
REDIRECT_MIN_SPAN = timedelta(days=1)
#: Statuses whose Retry-After we honour (RFC 9110 §10.2.3, RFC 6585 §4).
RETRY_AFTER_STATUSES = frozenset({429, 503})

#: Hints longer than this are read as this (a far-off value would overflow timedelta).
_HINT_LIMIT_S = 10 * 366 * 86400

Headers = Mapping[str, str] | Iterable[tuple[str, str]]


def next_due_ok(
    now: datetime,
    *,
    interval: timedelta,
    headers: Headers,
    ttl_minutes: int | None,
    limits: FetchConfig,
    rng: random.Random,
) -> datetime:
    """When to fetch a source again after a successful (200 or 304) fetch.

    The configured interval is lengthened (never shortened) by the publisher's freshness
    hints, bounded to [min_interval, max_interval], then pushed later by up to 10 % so
    the result is never earlier than what the publisher asked for.
    """
    delay = interval
    lifetime = freshness_lifetime(headers, now)
    if lifetime is not None:
        delay = max(delay, lifetime)
    if ttl_minutes is not None and ttl_minutes > 0:
        delay = max(delay, timedelta(minutes=min(ttl_minutes, _HINT_LIMIT_S // 60)))
    delay = _clamp(delay, limits.min_interval, limits.max_interval)
    return now + delay * (1.0 + rng.uniform(0.0, OK_JITTER))


def next_due_error(
    now: datetime,
    *,
    error_kind: str,
    status: int | None,
    retry_after: float | None,
    consecutive_errors: int,
    interval: timedelta,
    limits: FetchConfig,
    rng: random.Random,
) -> datetime:
    """When to try a failing source again. Never "never": a source recovers by itself.

    `consecutive_errors` counts this error too (1 on the first failure). The delay is
    drawn uniformly between the normal interval and ``interval * 2**errors`` ("full
    jitter" over the back-off window, so failing sources spread out rather than retry in
    lock-step), and the window is capped at 24 h or `max_interval` if that is longer.
    A Retry-After on 429/503 replaces the back-off, capped the same way. `error_kind`
    is accepted so kinds can be weighed differently later; today every kind backs off.
    """
    del error_kind  # every kind backs off the same way for now
    cap = max(BACKOFF_CAP, limits.max_interval)
    base = _clamp(interval, limits.min_interval, cap)
    if status in RETRY_AFTER_STATUSES and retry_after is not None:
        asked = timedelta(seconds=min(max(retry_after, 0.0), cap.total_seconds()))
        delay = _clamp(asked, limits.min_interval, cap)
        # Jitter only forward: retrying before the publisher asked would be rude.
        return now + min(delay * (1.0 + rng.uniform(0.0, OK_JITTER)), cap)
    if is_gone(status):
        return now + cap
    exponent = min(max(consecutive_errors, 1), 40)  # 2**40 intervals is far past any cap
    window = min(base.total_seconds() * 2.0**exponent, cap.total_seconds())
    seconds = rng.uniform(base.total_seconds(), max(window, base.total_seconds()))
    return now + timedelta(seconds=seconds)


def is_gone(status: int | None) -> bool:
    """410 Gone: the publisher says the feed will not come back (RFC 9110 §15.5.11).

    The source stays disabled until its config entry changes; 404 is *not* gone, since
    sites lose feeds during redesigns and restore them.
    """
    return status == 410


# --------------------------------------------------------------------------- redirects


@dataclass(frozen=True, slots=True)
class RedirectTrack:
    """What a source's permanent redirects have looked like so far.

    `target` is the 301/308 target seen last, `seen` how many fetches in a row showed it,
    `since` when it was first seen. The empty track means "no redirect pending".
    """

    target: str | None = None
    seen: int = 0
    since: datetime | None = None


def track_redirect(
    track: RedirectTrack, target: str | None, now: datetime
) -> tuple[RedirectTrack, bool]:
    """Fold one fetch's permanent-redirect target into `track`; say whether to adopt it.

    Adopt only when the same target was seen on at least 3 fetches spanning at least a
    day (reader #246, feedbin #100: following a 301 forever costs publishers; adopting a
    transient one loses the feed). Any other outcome (no redirect, a different target)
    starts over. When adopting, the returned track still names the target (the caller
    stores it with the new URL; the next fetch of that URL, not redirected, resets it).
    """
    if target is None:
        return RedirectTrack(), False
    if target != track.target or track.since is None:
        return RedirectTrack(target, 1, now), False
    grown = RedirectTrack(target, track.seen + 1, track.since)
    adopt = grown.seen >= REDIRECT_MIN_SEEN and now - track.since >= REDIRECT_MIN_SPAN
    return grown, adopt


# --------------------------------------------------------------------------- headers


def freshness_lifetime(headers: Headers, now: datetime) -> timedelta | None:
    """How long the response stays fresh, per RFC 9111 §4.2.1 and §4.2.3.

    ``max-age`` wins over ``Expires``; ``Age`` (time already spent in caches on the way)
    is subtracted. ``no-store`` / ``no-cache`` give no hint, since they ask nothing about
    *how often* to poll. Malformed values are ignored: a hint, never an error.
    """
    found = _lower(headers)
    age = _seconds(found.get("age")) or 0
    directives = _cache_control(found.get("cache-control", ""))
    if "max-age" in directives:
        max_age = _seconds(directives["max-age"])
        if max_age is not None:
            return timedelta(seconds=max(max_age - age, 0))
    expires = parse_http_date(found.get("expires"))
    if expires is None:
        return None
    return max(expires - now - timedelta(seconds=age), timedelta(0))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After value: delay-seconds or an HTTP-date.

    A date in the past means "now" (0). Anything unreadable is None, not an error:
    the back-off applies instead.
    """
    if value is None:
        return None
    seconds = _seconds(value)
    if seconds is not None:
        return float(seconds)
    when = parse_http_date(value)
    if when is None:
        return None
    return max((when - now).total_seconds(), 0.0)


def parse_http_date(value: str | None) -> datetime | None:
    """An IMF-fixdate (or obsolete RFC 850 / asctime) string as an aware UTC datetime."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:  # "-0000" and asctime mean UTC for HTTP (RFC 9110 §5.6.7)
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _lower(headers: Headers) -> dict[str, str]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    found: dict[str, str] = {}
    for name, value in items:
        found.setdefault(name.lower(), value)  # the first of a repeated header wins
    return found


def _cache_control(value: str) -> dict[str, str]:
    directives: dict[str, str] = {}
    for part in value.split(","):
        name, _, arg = part.strip().partition("=")
        if name:
            directives.setdefault(name.strip().lower(), arg.strip().strip('"'))
    return directives


def _seconds(value: str | None) -> int | None:
    """A non-negative integer of seconds (RFC 9111 §1.2.2 delta-seconds), else None."""
    if value is None:
        return None
    value = value.strip()
    if not value.isascii() or not value.isdigit():
        return None
    return min(int(value), _HINT_LIMIT_S)


def _clamp(value: timedelta, low: timedelta, high: timedelta) -> timedelta:
    return max(low, min(value, high))


# --------------------------------------------------------------------------- outcomes


@dataclass(frozen=True, slots=True)
class Fetched:
    """What a successful fetch of one source came to, as `after_fetch` weighs it."""

    result: FetchResult
    outcome: Outcome
    feed: ParsedFeed | None = None  # None: no body was parsed (304, or the same body)
    items: int = 0
    body_hash: str | None = None  # of the body parsed (a discovered feed's, if any)
    discovered: str | None = None  # the feed an HTML page led to, when it did
    caps: str | None = None  # the limits the parse applied (`pipeline.caps_words`)


def after_fetch(
    fetched: Fetched,
    redirect: RedirectTrack,
    *,
    now: datetime,
    interval: timedelta,
    limits: FetchConfig,
    rng: random.Random,
) -> SourceUpdate:
    """The source row after a fetch that succeeded (200 or 304): errors cleared, the
    next due time from the publisher's hints, the validators and the redirect track;
    the item count and the encoding repair when a body was parsed."""
    result, feed = fetched.result, fetched.feed
    due = next_due_ok(
        now, interval=interval, headers=result.headers,
        ttl_minutes=feed.ttl_minutes if feed else None, limits=limits, rng=rng,
    )  # fmt: skip
    track, adopt = track_redirect(redirect, result.permanent_redirect, now)
    return SourceUpdate(
        last_fetch=now, last_status=result.status, last_outcome=fetched.outcome.value,
        last_error=None, consecutive_errors=0, next_due=due,
        bytes=len(result.content or b""), duration=round(result.elapsed, 3),
        validators=result.validators,
        body_hash=fetched.body_hash if fetched.body_hash is not None else KEEP,
        items=fetched.items if feed is not None else KEEP,
        repair=feed.repair if feed is not None else KEEP,
        caps=fetched.caps if feed is not None else KEEP,
        redirect_target=track.target, redirect_seen=track.seen, redirect_since=track.since,
        fetch_url=track.target if adopt and track.target else KEEP,
        discovered_url=fetched.discovered or KEEP,
    )  # fmt: skip


def after_error(
    err: FeedsError,
    errors_before: int,
    elapsed: float,
    *,
    now: datetime,
    interval: timedelta,
    limits: FetchConfig,
    rng: random.Random,
) -> SourceUpdate:
    """The source row after a failed refresh: the error in words, one more consecutive
    error, the back-off; a 410 disables the source until its config changes."""
    errors = errors_before + 1
    status = getattr(err, "status", None)
    due = next_due_error(
        now, error_kind=getattr(err, "kind", "parse"), status=status,
        retry_after=getattr(err, "retry_after", None), consecutive_errors=errors,
        interval=interval, limits=limits, rng=rng,
    )  # fmt: skip
    return SourceUpdate(
        last_fetch=now, last_status=status, last_outcome=Outcome.ERROR.value,
        last_error=err.message, consecutive_errors=errors, duration=round(elapsed, 3),
        next_due=due,
        disabled_reason="410 Gone: the publisher removed this feed" if is_gone(status) else KEEP,
    )  # fmt: skip
