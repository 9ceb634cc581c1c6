"""The pure scheduling policy, table by table."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from feeds.errors import FeedsError, FetchError, ParseError
from feeds.policy import (
    Fetched,
    RedirectTrack,
    after_error,
    after_fetch,
    freshness_lifetime,
    is_gone,
    next_due_error,
    next_due_ok,
    parse_http_date,
    parse_retry_after,
    track_redirect,
)
from feeds.types import (
    FetchConfig,
    FetchResult,
    Outcome,
    ParsedFeed,
    SourceUpdate,
    Validators,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
LIMITS = FetchConfig(min_interval=timedelta(minutes=5), max_interval=timedelta(hours=24))
M = timedelta(minutes=1)
H = timedelta(hours=1)


def http_date(delta: timedelta) -> str:
    return (NOW + delta).strftime("%a, %d %b %Y %H:%M:%S GMT")


# --------------------------------------------------------------------------- next_due_ok

OK_CASES: list[
    tuple[str, timedelta, Mapping[str, str] | Iterable[tuple[str, str]], int | None, timedelta]
] = [
    ("plain interval", 15 * M, {}, None, 15 * M),
    ("shorter max-age is ignored", 15 * M, {"cache-control": "max-age=60"}, None, 15 * M),
    ("longer max-age lengthens", 15 * M, {"cache-control": "public, max-age=3600"}, None, H),
    ("age is subtracted", 15 * M, {"cache-control": "max-age=3600", "age": "600"}, None, 50 * M),
    ("expires lengthens", 15 * M, {"expires": http_date(2 * H)}, None, 2 * H),
    (
        "max-age beats expires",
        15 * M,
        {"cache-control": "max-age=1800", "expires": http_date(5 * H)},
        None,
        30 * M,
    ),
    ("expires in the past", 15 * M, {"expires": http_date(-H)}, None, 15 * M),
    ("expires unreadable", 15 * M, {"expires": "0"}, None, 15 * M),
    (
        "bad max-age falls to expires",
        15 * M,
        {"cache-control": "max-age=abc", "expires": http_date(H)},
        None,
        H,
    ),
    ("no-cache asks nothing", 15 * M, {"cache-control": "no-cache, max-age=0"}, None, 15 * M),
    ("rss ttl lengthens", 15 * M, {}, 60, 60 * M),
    ("ttl zero ignored", 15 * M, {}, 0, 15 * M),
    ("longest hint wins", 15 * M, {"cache-control": "max-age=7200"}, 60, 2 * H),
    ("capped at max_interval", 15 * M, {"cache-control": "max-age=999999999999999"}, None, 24 * H),
    ("huge ttl capped", 15 * M, {}, 10**12, 24 * H),
    ("raised to min_interval", 1 * M, {}, None, 5 * M),
    ("header pairs, any case", 15 * M, (("Cache-Control", "max-age=3600"),), None, H),
]


@pytest.mark.parametrize(
    ("interval", "headers", "ttl", "expected"),
    [case[1:] for case in OK_CASES],
    ids=[case[0] for case in OK_CASES],
)
def test_next_due_ok(
    interval: timedelta,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    ttl: int | None,
    expected: timedelta,
) -> None:
    for seed in range(20):
        due = next_due_ok(
            NOW,
            interval=interval,
            headers=headers,
            ttl_minutes=ttl,
            limits=LIMITS,
            rng=random.Random(seed),
        )
        # Jitter only ever delays, by at most 10 %.
        assert NOW + expected <= due <= NOW + expected * 1.1


def test_next_due_ok_jitter_spreads_sources() -> None:
    dues = {
        next_due_ok(
            NOW,
            interval=H,
            headers={},
            ttl_minutes=None,
            limits=LIMITS,
            rng=random.Random(seed),
        )
        for seed in range(20)
    }
    assert len(dues) == 20


# --------------------------------------------------------------------------- next_due_error

ERROR_CASES = [
    # id, kind, status, retry_after, errors, interval, limits, low, high
    ("first error", "connect", None, None, 1, 15 * M, LIMITS, 15 * M, 30 * M),
    ("third error", "timeout", None, None, 3, 15 * M, LIMITS, 15 * M, 2 * H),
    ("zero counts as one", "http", 500, None, 0, 15 * M, LIMITS, 15 * M, 30 * M),
    ("capped at 24 h", "http", 404, None, 50, 15 * M, LIMITS, 15 * M, 24 * H),
    ("absurd count", "http", 500, None, 10**9, 15 * M, LIMITS, 15 * M, 24 * H),
    (
        "cap follows a longer max_interval",
        "http",
        500,
        None,
        50,
        15 * M,
        FetchConfig(max_interval=48 * H),
        15 * M,
        48 * H,
    ),
    ("429 retry-after honoured", "http", 429, 7200.0, 1, 15 * M, LIMITS, 2 * H, 2.2 * H),
    ("503 retry-after honoured", "http", 503, 3600.0, 5, 15 * M, LIMITS, H, 1.1 * H),
    ("retry-after below min_interval", "http", 429, 10.0, 1, 15 * M, LIMITS, 5 * M, 5.5 * M),
    ("retry-after capped", "http", 429, 90 * 86400.0, 1, 15 * M, LIMITS, 24 * H, 24 * H),
    ("retry-after huge", "http", 503, 1e300, 1, 15 * M, LIMITS, 24 * H, 24 * H),
    ("429 without retry-after backs off", "http", 429, None, 2, 15 * M, LIMITS, 15 * M, H),
    ("retry-after on 500 is ignored", "http", 500, 5.0, 1, 15 * M, LIMITS, 15 * M, 30 * M),
    ("410 waits the cap", "http", 410, None, 1, 15 * M, LIMITS, 24 * H, 24 * H),
]


@pytest.mark.parametrize(
    ("kind", "status", "retry_after", "errors", "interval", "limits", "low", "high"),
    [case[1:] for case in ERROR_CASES],
    ids=[str(case[0]) for case in ERROR_CASES],
)
def test_next_due_error(
    kind: str,
    status: int | None,
    retry_after: float | None,
    errors: int,
    interval: timedelta,
    limits: FetchConfig,
    low: timedelta,
    high: timedelta,
) -> None:
    for seed in range(20):
        due = next_due_error(
            NOW,
            error_kind=kind,
            status=status,
            retry_after=retry_after,
            consecutive_errors=errors,
            interval=interval,
            limits=limits,
            rng=random.Random(seed),
        )
        assert NOW + low <= due <= NOW + high


def test_backoff_grows_and_is_jittered() -> None:
    def delays(errors: int) -> list[timedelta]:
        return [
            next_due_error(
                NOW,
                error_kind="connect",
                status=None,
                retry_after=None,
                consecutive_errors=errors,
                interval=15 * M,
                limits=LIMITS,
                rng=random.Random(seed),
            )
            - NOW
            for seed in range(50)
        ]

    early, late = delays(1), delays(8)
    assert len(set(late)) == 50  # no two sources retry in lock-step
    assert max(late) > 4 * max(early)  # the window grows with every error


@pytest.mark.parametrize(
    ("status", "gone"), [(410, True), (404, False), (500, False), (200, False), (None, False)]
)
def test_is_gone(status: int | None, gone: bool) -> None:
    assert is_gone(status) is gone


# --------------------------------------------------------------------------- redirects

A, B = "https://new.example/feed", "https://other.example/feed"

REDIRECT_CASES = [
    # id, steps of (hours after NOW, target seen), expected adopt on each step
    ("adopt after 3 over a day", [(0, A), (12, A), (24, A)], [False, False, True]),
    ("3 in an hour is not enough", [(0, A), (0.5, A), (1, A)], [False, False, False]),
    ("a day but only 2 fetches", [(0, A), (30, A)], [False, False]),
    ("waits for the span", [(0, A), (1, A), (2, A), (25, A)], [False, False, False, True]),
    ("different target resets", [(0, A), (12, B), (24, A), (48, A)], [False] * 4),
    ("no redirect resets", [(0, A), (12, None), (24, A), (36, A)], [False] * 4),
    ("then not redirected", [(0, A), (12, A), (24, A), (36, None)], [False, False, True, False]),
]


@pytest.mark.parametrize(
    ("steps", "expected"),
    [case[1:] for case in REDIRECT_CASES],
    ids=[str(case[0]) for case in REDIRECT_CASES],
)
def test_track_redirect(steps: list[tuple[float, str | None]], expected: list[bool]) -> None:
    track, adopted = RedirectTrack(), []
    for hours, target in steps:
        track, adopt = track_redirect(track, target, NOW + timedelta(hours=hours))
        adopted.append(adopt)
    assert adopted == expected


def test_track_redirect_records_first_sight() -> None:
    track, _ = track_redirect(RedirectTrack(), A, NOW)
    track, _ = track_redirect(track, A, NOW + H)
    assert track == RedirectTrack(A, 2, NOW)
    assert track_redirect(track, None, NOW + 2 * H) == (RedirectTrack(), False)


def test_adopting_keeps_the_target_for_the_caller() -> None:
    track = RedirectTrack(A, 2, NOW)
    assert track_redirect(track, A, NOW + 25 * H) == (RedirectTrack(A, 3, NOW), True)


# --------------------------------------------------------------------------- header parsing


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        ("0", 0.0),
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
        (None, None),
        ("٣٠", None),  # Arabic-Indic digits are not delta-seconds
        (http_date(H), 3600.0),
        (http_date(-H), 0.0),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",  # IMF-fixdate
        "Sunday, 06-Nov-94 08:49:37 GMT",  # obsolete RFC 850
        "Sun Nov  6 08:49:37 1994",  # obsolete asctime
    ],
)
def test_parse_http_date_formats(value: str) -> None:
    assert parse_http_date(value) == datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)


@pytest.mark.parametrize("value", ["", "yesterday", "Mon, 99 Foo 2026", None])
def test_parse_http_date_rejects(value: str | None) -> None:
    assert parse_http_date(value) is None


def test_freshness_lifetime_none_without_hints() -> None:
    assert freshness_lifetime({"content-type": "application/rss+xml"}, NOW) is None
    assert freshness_lifetime({"cache-control": "max-age=60"}, NOW) == M


# --------------------------------------------------------------------------- the decider

DECIDER = json.loads((Path(__file__).parent / "data/policy/decider.json").read_text("utf-8"))
URL = "https://a.example/feed"
FETCHED_AT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
ELAPSED = 1.23456  # seconds the refresh took: recorded to the millisecond


class Lowest(random.Random):
    """Jitter at its lowest value, so that each case names one due time."""

    def uniform(self, a: float, b: float) -> float:
        return a


def _ago(hours: float | None) -> datetime | None:
    return None if hours is None else FETCHED_AT - timedelta(hours=hours)


def _fetched(case: dict[str, Any]) -> Fetched:
    given, parsed = case["response"], case.get("parsed")
    body = given["body"]
    result = FetchResult(
        source_url=URL, url=URL, status=given["status"],
        content=None if body is None else body.encode(),
        headers=tuple(given.get("headers", {}).items()),
        validators=Validators(given.get("etag"), given.get("last_modified")),
        fetched_at=FETCHED_AT, elapsed=ELAPSED,
        permanent_redirect=given.get("permanent_redirect"),
    )  # fmt: skip
    if body is None:
        return Fetched(result, Outcome.NOT_MODIFIED)
    if parsed is None:  # the refresher parses only a body it had not seen
        return Fetched(result, Outcome.UNCHANGED)
    feed = ParsedFeed(url=URL, ttl_minutes=parsed.get("ttl"), repair=parsed.get("repair"))
    sha = hashlib.sha256(body.encode()).hexdigest()
    return Fetched(result, Outcome.OK, feed, parsed["items"], sha, parsed.get("discovered"))


def _error(given: dict[str, Any]) -> FeedsError:
    if "parse" in given:
        return ParseError(URL, given["parse"])
    return FetchError(
        URL, given["message"], status=given["status"], retry_after=given.get("retry_after"),
        kind=given["kind"],
    )  # fmt: skip


def _decide(case: dict[str, Any]) -> SourceUpdate:
    before = case.get("before", {})
    rules: dict[str, Any] = {
        "now": FETCHED_AT, "interval": 15 * M, "limits": FetchConfig(), "rng": Lowest(),
    }  # fmt: skip
    if "error" in case:
        return after_error(_error(case["error"]), before.get("errors", 0), ELAPSED, **rules)
    target, seen, since = before.get("redirect", (None, 0, None))
    return after_fetch(_fetched(case), RedirectTrack(target, seen, _ago(since)), **rules)


def _expected(case: dict[str, Any]) -> SourceUpdate:
    want = case["expect"]
    written: dict[str, Any] = {
        "last_fetch": FETCHED_AT, "last_status": want["status"],
        "last_outcome": want["outcome"], "last_error": want.get("error"),
        "consecutive_errors": want.get("errors", 0),
        "next_due": FETCHED_AT + timedelta(minutes=want["due_in"]),
        "duration": round(ELAPSED, 3),
    }  # fmt: skip
    if "bytes" in want:
        written["bytes"] = want["bytes"]
    if "validators" in want:
        written["validators"] = Validators(*want["validators"])
    if "redirect" in want:
        target, seen, since = want["redirect"]
        written.update(redirect_target=target, redirect_seen=seen, redirect_since=_ago(since))
    if "feed" in want:
        sha = hashlib.sha256(case["response"]["body"].encode()).hexdigest()
        written.update(body_hash=sha, items=want["feed"][0], repair=want["feed"][1], caps=None)
    for name, column in (("fetch_url", "fetch_url"), ("discovered_url", "discovered_url"),
                         ("disabled", "disabled_reason")):  # fmt: skip
        if name in want:
            written[column] = want[name]
    return SourceUpdate(**written)


@pytest.mark.parametrize("case", DECIDER["cases"], ids=[c["id"] for c in DECIDER["cases"]])
def test_what_a_refresh_writes(case: dict[str, Any]) -> None:
    assert _decide(case) == _expected(case)  # every field: what is not named is KEEP


def test_the_decider_cases_cover_every_outcome_and_are_named_once() -> None:
    cases = DECIDER["cases"]
    assert len({c["id"] for c in cases}) == len(cases)
    assert {c["expect"]["outcome"] for c in cases} == {o.value for o in Outcome} - {"skipped"}


def test_the_decider_draws_its_jitter_from_the_generator_it_is_given() -> None:
    case = DECIDER["cases"][0]
    rules: dict[str, Any] = {"now": FETCHED_AT, "interval": 15 * M, "limits": FetchConfig()}
    first, second = (
        after_fetch(_fetched(case), RedirectTrack(), rng=random.Random(7), **rules)
        for _ in range(2)
    )
    assert first == second  # the same seed: the same due time
    assert isinstance(first.next_due, datetime)
    assert FETCHED_AT + 15 * M <= first.next_due <= FETCHED_AT + 15 * M * 1.1
