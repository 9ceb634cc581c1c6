"""The fetch stage against real hostile servers on 127.0.0.1 (see tests/servers.py)."""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import Coroutine, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

# tests/ is not a package: pytest's default "prepend" import mode puts tests/ on sys.path.
from servers import (
    FEED_BODY,
    FEED_ETAG,
    FEED_LAST_MODIFIED,
    LOOPBACK,
    HostileServer,
    hostile_server,
)

from feeds.errors import FetchError
from feeds.fetch import ACCEPT, Fetcher, default_user_agent
from feeds.types import FetchConfig, FetchResult, Validators

T = TypeVar("T")
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CAP = 1024 * 1024
CONFIG = FetchConfig(timeout=2.0, max_bytes=CAP, allow_private=LOOPBACK)


@pytest.fixture(scope="module")
def srv() -> Iterator[HostileServer]:
    with hostile_server(lifetime=10.0) as server:
        server.now_http = NOW
        yield server


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def fetch(url: str, config: FetchConfig = CONFIG, **kwargs: Any) -> FetchResult:
    async with Fetcher(config, now=lambda: NOW) as fetcher:
        return await fetcher.fetch(url, **kwargs)


def fetch_error(url: str, config: FetchConfig = CONFIG, **kwargs: Any) -> FetchError:
    with pytest.raises(FetchError) as caught:
        run(fetch(url, config, **kwargs))
    return caught.value


# --------------------------------------------------------------------------- success


def test_ok_returns_body_validators_and_lowercased_headers(srv: HostileServer) -> None:
    result = run(fetch(srv.url("/feed.xml")))
    assert result.status == 200
    assert result.content == FEED_BODY
    assert result.validators == Validators(FEED_ETAG, FEED_LAST_MODIFIED)
    assert result.header("Cache-Control") == "max-age=600"
    assert all(name == name.lower() for name, _ in result.headers)
    assert result.url == result.source_url == srv.url("/feed.xml")
    assert result.fetched_at == NOW
    assert result.elapsed >= 0
    assert result.permanent_redirect is None


@pytest.mark.parametrize(
    "validators",
    [Validators(etag=FEED_ETAG), Validators(last_modified=FEED_LAST_MODIFIED)],
    ids=["etag", "last-modified"],
)
def test_conditional_get_gives_304_and_keeps_validators(
    srv: HostileServer, validators: Validators
) -> None:
    result = run(fetch(srv.url("/feed.xml"), validators=validators))
    assert result.status == 304
    assert result.content is None
    # The server repeats both validators on its 304; we keep the fresher set.
    assert result.validators == Validators(FEED_ETAG, FEED_LAST_MODIFIED)


def test_304_without_validators_keeps_the_old_ones() -> None:
    old = Validators('"abc"', "Sun, 31 May 2026 00:00:00 GMT")
    transport = httpx.MockTransport(lambda request: httpx.Response(304))

    async def go() -> FetchResult:
        async with Fetcher(CONFIG, transport=transport) as fetcher:
            return await fetcher.fetch("http://example.test/feed", old)

    result = run(go())
    assert (result.status, result.content, result.validators) == (304, None, old)


def test_empty_body_is_a_result_not_an_error(srv: HostileServer) -> None:
    result = run(fetch(srv.url("/empty")))
    assert (result.status, result.content) == (200, b"")


def test_headers_sent(srv: HostileServer) -> None:
    validators = Validators('"old"', "Sat, 30 May 2026 10:00:00 GMT")
    run(fetch(srv.url("/hold?s=0&probe=headers"), validators=validators))
    sent = next(r.headers for r in srv.requests if r.query.get("probe") == ["headers"])
    assert sent["user-agent"] == default_user_agent()
    assert "(+https://github.com/feeds-ar/feeds)" in sent["user-agent"]
    assert sent["accept"] == ACCEPT
    assert "application/rss+xml" in sent["accept"] and "q=" in sent["accept"]
    assert sent["accept-encoding"] == "gzip, deflate, br"
    assert sent["if-none-match"] == '"old"'
    assert sent["if-modified-since"] == "Sat, 30 May 2026 10:00:00 GMT"


def test_default_user_agent_names_the_released_version() -> None:
    # The version is read from the package, not from installed metadata: it must be the
    # one pyproject.toml releases.
    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    assert default_user_agent().startswith(f"feeds/{project['project']['version']} (+http")


def test_configured_user_agent_replaces_ours(srv: HostileServer) -> None:
    config = replace(CONFIG, user_agent="custom/1.0 (+https://example.org)")
    run(fetch(srv.url("/hold?s=0&probe=ua"), config))
    sent = next(r.headers for r in srv.requests if r.query.get("probe") == ["ua"])
    assert sent["user-agent"] == "custom/1.0 (+https://example.org)"


def test_a_source_can_send_its_own_user_agent_through_redirects(srv: HostileServer) -> None:
    ua = "Mozilla/5.0 (X11; Linux x86_64) feeds"
    before = len(srv.requests)
    run(fetch(srv.url("/moved"), user_agent=ua))
    sent = [r.headers["user-agent"] for r in srv.requests[before:]]
    assert len(sent) == 3 and all(value == ua for value in sent)  # /moved, /moved2, /feed.xml
    run(fetch(srv.url("/hold?s=0&probe=plain")))
    plain = next(r.headers for r in srv.requests if r.query.get("probe") == ["plain"])
    assert plain["user-agent"] == default_user_agent()  # the override was for that call only


# --------------------------------------------------------------------------- bounded


def test_trickle_hits_the_total_deadline(srv: HostileServer) -> None:
    error = fetch_error(srv.url("/slow"))
    assert error.kind == "timeout"


def test_deadline_is_total_not_per_read(srv: HostileServer) -> None:
    # A byte every 0.3 s never trips a 2 s read timeout; only a total deadline stops it.
    error = fetch_error(srv.url("/slow?every=0.3&n=40"))
    assert error.kind == "timeout"
    assert "2 s" in error.message


def test_server_that_never_answers_times_out(srv: HostileServer) -> None:
    assert fetch_error(srv.url("/silent")).kind == "timeout"


@pytest.mark.parametrize(
    "path",
    ["/endless", "/gzip-bomb", "/deflate-bomb", "/brotli-bomb", "/declared-big",
     "/gzip-unlabelled-bomb"],
)  # fmt: skip
def test_body_over_the_cap_is_refused(srv: HostileServer, path: str) -> None:
    error = fetch_error(srv.url(path))
    assert error.kind == "too_big"
    assert str(CAP) in error.message
    assert error.url == srv.url(path)


def test_per_source_cap_overrides_config(srv: HostileServer) -> None:
    assert run(fetch(srv.url("/feed.xml"), max_bytes=len(FEED_BODY))).content == FEED_BODY
    error = fetch_error(srv.url("/feed.xml"), max_bytes=len(FEED_BODY) - 1)
    assert (error.kind, str(len(FEED_BODY) - 1) in error.message) == ("too_big", True)


@pytest.mark.parametrize(
    "path",
    ["/gzip-feed", "/deflate-feed", "/zlib-feed", "/br-feed",
     "/gzip-unlabelled", "/gzip-twice"],  # a .gz file served as XML; a CDN's second gzip
)  # fmt: skip
def test_compressed_body_is_decoded(srv: HostileServer, path: str) -> None:
    result = run(fetch(srv.url(path)))
    assert result.content == FEED_BODY


@pytest.mark.parametrize("bomb", ["/gzip-bomb", "/deflate-bomb", "/brotli-bomb"])
def test_body_exactly_at_the_cap_is_accepted(srv: HostileServer, bomb: str) -> None:
    # 4 MiB of zeros from a few KB: inflated in small steps, every byte counted and kept.
    async def measure() -> tuple[int, int]:
        # Only sizes leave the coroutine: a repr of megabytes (asyncio debug) is slow.
        result = await fetch(srv.url(f"{bomb}?mib=4"), max_bytes=4 << 20)
        content = result.content or b""
        return (len(content), content.count(0))

    assert run(measure()) == (4 << 20, 4 << 20)
    error = fetch_error(srv.url(f"{bomb}?mib=4"), max_bytes=(4 << 20) - 1)
    assert error.kind == "too_big"


def test_undecodable_body_is_a_protocol_error(srv: HostileServer) -> None:
    assert fetch_error(srv.url("/bad-gzip")).kind == "protocol"


# --------------------------------------------------------------------------- redirects


def test_permanent_chain_reports_the_final_url(srv: HostileServer) -> None:
    result = run(fetch(srv.url("/moved")))
    assert result.content == FEED_BODY
    assert result.url == srv.url("/feed.xml")
    assert result.source_url == srv.url("/moved")
    assert result.permanent_redirect == srv.url("/feed.xml")


@pytest.mark.parametrize("path", ["/temporary", "/mixed"])
def test_chain_with_a_temporary_hop_is_not_permanent(srv: HostileServer, path: str) -> None:
    result = run(fetch(srv.url(path)))
    assert result.url == srv.url("/feed.xml")
    assert result.permanent_redirect is None


def test_five_redirects_are_followed_six_are_not(srv: HostileServer) -> None:
    assert run(fetch(srv.url("/hop/6"))).url == srv.url("/feed.xml")
    error = fetch_error(srv.url("/hop/5"))
    assert (error.kind, "more than 5 redirects" in error.message) == ("redirect", True)


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/loop/a", "loop"),
        ("/to-file", "file:///etc/passwd"),
        ("/to-ftp", "ftp://"),
        ("/no-location", "Location"),
    ],
    ids=["loop", "file", "ftp", "no-location"],
)
def test_bad_redirects_are_refused(srv: HostileServer, path: str, words: str) -> None:
    error = fetch_error(srv.url(path))
    assert error.kind == "redirect"
    assert words in error.message


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://127.0.0.1/feed.xml", "data:,hello", "http://", "x"]
)
def test_only_http_urls_are_fetched(url: str) -> None:
    assert fetch_error(url).kind == "url"


# --------------------------------------------------------------------------- statuses


@pytest.mark.parametrize(
    ("path", "status", "retry_after", "says"),
    [
        ("/gone", 410, None, "HTTP 410 Gone"),
        ("/not-found", 404, None, "HTTP 404 Not Found"),
        ("/error", 500, None, "HTTP 500 Internal Server Error"),
        ("/ratelimited", 429, 120.0, "HTTP 429 Too Many Requests; it asks to wait 2 min"),
        ("/unavailable", 503, 3600.0, "HTTP 503 Service Unavailable; it asks to wait 1 h"),
    ],
    ids=["410", "404", "500", "429-seconds", "503-http-date"],
)
def test_http_errors(
    srv: HostileServer, path: str, status: int, retry_after: float | None, says: str
) -> None:
    error = fetch_error(srv.url(path))
    assert (error.kind, error.status, error.retry_after) == ("http", status, retry_after)
    assert str(error).endswith(says)


@pytest.mark.parametrize(
    ("path", "kinds"),
    [
        ("/reset", {"connect", "protocol"}),
        ("/truncated", {"protocol"}),
        ("/garbage", {"protocol"}),
    ],
)
def test_broken_connections(srv: HostileServer, path: str, kinds: set[str]) -> None:
    assert fetch_error(srv.url(path)).kind in kinds


def test_connection_refused() -> None:
    with hostile_server() as server:
        url = server.url("/feed.xml")
    # The listener is closed now: nothing accepts on that port.
    assert fetch_error(url).kind == "connect"


def test_source_url_is_the_error_subject(srv: HostileServer) -> None:
    error = fetch_error(srv.url("/gone"), source_url="http://configured.example/feed")
    assert error.url == "http://configured.example/feed"
    assert str(error).startswith("http://configured.example/feed: HTTP 410")


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("boom"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("bad"),
        httpx.ProxyError("proxy"),
        httpx.DecodingError("enc"),
        httpx.UnsupportedProtocol("nope"),
        httpx.LocalProtocolError("local"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_no_httpx_exception_escapes(exc: Exception) -> None:
    def raise_it(request: httpx.Request) -> httpx.Response:
        raise exc

    async def go() -> FetchResult:
        async with Fetcher(CONFIG, transport=httpx.MockTransport(raise_it)) as fetcher:
            return await fetcher.fetch("http://example.test/feed")

    with pytest.raises(FetchError) as caught:
        run(go())
    assert caught.value.__cause__ is exc


# --------------------------------------------------------------------------- politeness


@pytest.mark.parametrize(
    ("concurrency", "per_host", "expected"), [(16, 2, 2), (3, 10, 3), (16, 1, 1)]
)
def test_concurrency_limits_hold(concurrency: int, per_host: int, expected: int) -> None:
    config = FetchConfig(
        timeout=5.0, concurrency=concurrency, per_host=per_host, allow_private=LOOPBACK
    )

    async def go(server: HostileServer) -> list[FetchResult]:
        async with Fetcher(config) as fetcher:
            urls = [server.url(f"/hold?s=0.2&n={i}") for i in range(6)]
            return list(await asyncio.gather(*(fetcher.fetch(u) for u in urls)))

    with hostile_server() as server:
        results = run(go(server))
    assert [r.status for r in results] == [200] * 6
    assert server.max_in_flight == expected


def test_waiting_for_a_host_slot_does_not_eat_the_deadline() -> None:
    # 8 requests of 0.2 s through one slot take 1.6 s in all, longer than the 1 s
    # deadline; each still succeeds because its clock starts when its turn comes.
    config = FetchConfig(timeout=1.0, per_host=1, allow_private=LOOPBACK)

    async def go(server: HostileServer) -> list[int]:
        async with Fetcher(config) as fetcher:
            urls = [server.url(f"/hold?s=0.2&q={i}") for i in range(8)]
            return [r.status for r in await asyncio.gather(*map(fetcher.fetch, urls))]

    with hostile_server() as server:
        assert run(go(server)) == [200] * 8
        assert server.max_in_flight == 1


# --------------------------------------------------------------------------- credentials


def authorization(server: HostileServer, probe: str) -> str | None:
    (request,) = [r for r in server.requests if r.query.get("probe") == [probe]]
    return request.headers.get("authorization")


def test_userinfo_is_sent_as_basic_auth_and_left_out_of_urls(srv: HostileServer) -> None:
    source = srv.url("/feed.xml?probe=userinfo").replace("://", "://reader:pa55@")
    result = run(fetch(source))
    assert authorization(srv, "userinfo") == "Basic cmVhZGVyOnBhNTU="  # reader:pa55
    assert result.url == srv.url("/feed.xml?probe=userinfo")
    assert result.source_url == source


def test_credentials_go_to_the_source_origin_only(
    inside: HostileServer, allowed: HostileServer
) -> None:
    # One redirect stays on the source's origin, one leaves it for another address,
    # and one names its own user:password, which a server has no business giving.
    same = inside.url("/redirect?to=/feed.xml%3Fprobe=same")
    away = inside.url(f"/redirect?to={allowed.base}/feed.xml%3Fprobe=away")
    given = allowed.url("/feed.xml%3Fprobe=given").replace("://", "://evil:pw@")
    run(fetch(same, auth=("reader", "pa55")))
    run(fetch(away, auth=("reader", "pa55")))
    run(fetch(inside.url(f"/redirect?to={given}")))
    assert authorization(inside, "same") == "Basic cmVhZGVyOnBhNTU="
    assert authorization(allowed, "away") is None
    assert authorization(allowed, "given") is None


def test_a_password_in_a_bad_url_is_not_shown() -> None:
    error = fetch_error("ftp://reader:pa55@127.0.0.1/feed.xml")
    assert "pa55" not in str(error)
    assert "reader:***@" in str(error)


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(5, "5 s"), (90, "2 min"), (3600, "1 h"), (113_400, "32 h"), (172_800, "2 d")],
)
def test_a_wait_is_said_in_the_unit_an_operator_reads(seconds: float, said: str) -> None:
    from feeds.fetch import _duration

    assert _duration(seconds) == said
