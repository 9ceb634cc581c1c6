"""Bounded, polite HTTP GET of feeds; the only package that imports httpx.

`_connect` makes every connection (the address check), `_decode` inflates bodies in
bounded steps. Every fetch is bounded four ways, because real sources trickle, balloon,
loop and point inside:

* time: one deadline (``FetchConfig.timeout``) covers connect, headers and body of every
  hop, so a server sending a byte every few seconds cannot defeat per-read timeouts;
* bytes: the body is decoded in small steps, and the *decoded* size is capped while
  streaming, so a 1 KB brotli or gzip bomb is refused before it is inflated (httpx's own
  decoders inflate a whole network chunk at once, which for brotli can be gigabytes);
* hops: at most 5 redirects, http and https only, loops refused;
* addresses: the network backend resolves every host name itself and connects only to
  addresses `guard.refusal` passes (no loopback, private, link-local, metadata... unless
  ``fetch.allow_private`` lists the network), so neither a redirect, nor an HTML page's
  feed link, nor a name that resolves to 127.0.0.1 reaches inside (issue 20). Proxy
  variables (HTTPS_PROXY...) are not used: through a proxy, the address finally
  connected to could not be checked.

Credentials in a source URL (``https://user:pass@host/``) or named by its ``auth:`` are
sent as HTTP Basic only to that URL's origin, never to another host a redirect or a
feed link leads to; every URL handed back (`FetchResult.url`) is without them.

Politeness: a global and a per-host cap on requests in flight (Miniflux's
``POLLING_LIMIT_PER_HOST``), conditional GET, Accept / Accept-Encoding, and a User-Agent
that names the project. Waiting for a free slot does not count against the deadline, so
many sources on one host queue instead of timing out.

Only `FetchError` leaves this module; any other exception is a bug.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from types import TracebackType
from typing import Self

import httpx

from feeds import __version__, guard
from feeds.errors import FetchError
from feeds.fetch._connect import (
    PROXY_VARIABLES,
    GuardedTransport,
    Refused,
    Resolver,
    warn_proxies,
)
from feeds.fetch._decode import DecodeErrors, decoder
from feeds.policy import parse_retry_after
from feeds.types import FetchConfig, FetchResult, Validators

__all__ = [
    "ACCEPT",
    "ACCEPT_PAGE",
    "MAX_REDIRECTS",
    "Fetcher",
    "GuardedTransport",
    "Resolver",
    "default_user_agent",
]

log = logging.getLogger("feeds.fetch")

MAX_REDIRECTS = 5
PROJECT_URL = "https://github.com/feeds-ar/feeds"
#: Feed types first; generic XML/JSON lower; anything else last, because many servers
#: label feeds text/html or application/octet-stream and we would rather parse than 406.
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, "
    "application/json;q=0.7, */*;q=0.1"
)
#: What an article page (full text) is asked for as.
ACCEPT_PAGE = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
ACCEPT_ENCODING = "gzip, deflate, br"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
_SCHEMES = frozenset({"http", "https"})
_PORTS = {"http": 80, "https": 443}


def default_user_agent() -> str:
    # The package's own version string, not importlib.metadata's: that import and its
    # look-up cost every pass about 9 ms, and a source tree not installed has it too.
    return f"feeds/{__version__} (+{PROJECT_URL})"


@dataclass(frozen=True, slots=True)
class _Ask:
    """What every request of one fetch carries."""

    source: str  # the configured URL errors name
    home: str  # `source` without userinfo: the one origin credentials are sent to
    validators: Validators
    cap: int
    user_agent: str = ""
    credentials: tuple[str, str] | None = None
    accept: str = ""

    def auth(self, url: str) -> httpx.Auth | None:
        if self.credentials and _same_origin(url, self.home):
            return httpx.BasicAuth(*self.credentials)
        return None


@dataclass(frozen=True, slots=True)
class _Hop:
    """What one request of a redirect chain produced."""

    status: int
    headers: tuple[tuple[str, str], ...]
    content: bytes | None = None
    location: str | None = None


class Fetcher:
    """One shared HTTP client for a pass; use as ``async with Fetcher(cfg) as f``.

    `transport` replaces the `GuardedTransport` made from the config (tests pass an
    httpx.MockTransport, or a GuardedTransport with their own resolver); `now` is the
    clock for `FetchResult.fetched_at` and for Retry-After HTTP-dates.
    """

    def __init__(
        self,
        config: FetchConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._config = config
        self._now = now
        self._slots = asyncio.Semaphore(config.concurrency)
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        if transport is None:
            transport = GuardedTransport(config.allow_private, config.concurrency)
            warn_proxies(tuple(n for n in PROXY_VARIABLES if os.environ.get(n)))
        self._client = httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,
            timeout=httpx.Timeout(config.timeout),
            headers={
                "User-Agent": config.user_agent or default_user_agent(),
                "Accept": ACCEPT,
                "Accept-Encoding": ACCEPT_ENCODING,
            },
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def ping_hub(self, hub: str, topics: Sequence[str]) -> None:
        """Tell a WebSub hub that `topics` (feed URLs) changed; never raises.

        WebSub (W3C REC §6) leaves the publisher-to-hub ping to each hub; the form every
        public hub accepts is a form-encoded POST of ``hub.mode=publish&hub.url=TOPIC``.
        The pings go out together under one fetch timeout, and a hub that is down or
        slow is only logged: subscribers then fall back to polling, so it must never
        fail the pass that published the feeds.
        """
        if not topics:
            return
        try:
            async with asyncio.timeout(self._config.timeout):
                await asyncio.gather(*(self._ping(hub, topic) for topic in topics))
        except TimeoutError:
            log.warning("%s: no answer to the publish ping within %g s", hub, self._config.timeout)

    async def _ping(self, hub: str, topic: str) -> None:
        form = {"hub.mode": "publish", "hub.url": topic}
        try:
            response = await self._client.post(hub, data=form)
        except (httpx.HTTPError, httpx.InvalidURL, Refused) as e:
            log.warning(
                "%s: publish ping for %s failed: %s", guard.redact(hub), topic, _describe(e)
            )
            return
        if not 200 <= response.status_code < 300:
            status = response.status_code
            log.warning("%s: HTTP %d to the publish ping for %s", guard.redact(hub), status, topic)

    async def fetch(
        self,
        url: str,
        validators: Validators = Validators(),  # noqa: B008 - frozen, so sharing is safe
        *,
        source_url: str | None = None,
        max_bytes: int | None = None,
        user_agent: str = "",
        auth: tuple[str, str] | None = None,
        accept: str = "",
    ) -> FetchResult:
        """GET `url`, following redirects; raise `FetchError` on anything but 2xx / 304.

        `source_url` is the configured URL errors are reported against (defaults to
        `url`); `max_bytes` and `user_agent` override the config's for this source.
        `auth` (user, password), else the source URL's own userinfo, is sent to the
        source URL's origin only; userinfo in `url` itself is dropped. `accept` replaces
        the feed types of the Accept header (`ACCEPT_PAGE` for an article page).
        """
        source = source_url or url
        home, userinfo = guard.split_userinfo(source)
        cap = self._config.max_bytes if max_bytes is None else max_bytes
        ask = _Ask(source, home, validators, cap, user_agent, auth or userinfo, accept)
        url = guard.strip_userinfo(url)
        # Each URL is parsed once: the host's slot and the request read the same parse
        # (about 50 us each, 4 per conditional GET before).
        parsed = _require_http(source, url)
        started = time.monotonic()
        deadline: float | None = None
        current, chain = url, [str(parsed)]
        permanent = True
        for _ in range(MAX_REDIRECTS + 1):
            async with self._slot(parsed.host):
                if deadline is None:  # the clock starts once the first request may go out
                    deadline = asyncio.get_running_loop().time() + self._config.timeout
                hop = await self._bounded(ask, current, parsed, deadline)
            if hop.location is None:
                return self._result(source, current, hop, validators, started, permanent, url)
            permanent = permanent and hop.status in _PERMANENT
            current, parsed = _next_hop(source, parsed, hop.location, chain)
        raise FetchError(source, f"more than {MAX_REDIRECTS} redirects", kind="redirect")

    # ------------------------------------------------------------------ one request

    @asynccontextmanager
    async def _slot(self, host: str) -> AsyncIterator[None]:
        # Host first, then the global slot: a queue for one busy host must not hold
        # global slots that other hosts could use.
        host_slot = self._host_slots.setdefault(host, asyncio.Semaphore(self._config.per_host))
        async with host_slot, self._slots:
            yield

    async def _bounded(self, ask: _Ask, url: str, parsed: httpx.URL, deadline: float) -> _Hop:
        source = ask.source
        try:
            async with asyncio.timeout_at(deadline):
                return await self._request(ask, url, parsed)
        except Refused as e:
            where = "" if url == ask.home else f" for {url}"
            message = f"refused to connect{where}: {e} (fetch.allow_private lets a network through)"
            raise FetchError(source, message, kind="blocked") from e
        except TimeoutError as e:
            raise FetchError(
                source, f"no complete response within {self._config.timeout:g} s", kind="timeout"
            ) from e
        except httpx.TimeoutException as e:
            raise FetchError(source, f"timed out: {_describe(e)}", kind="timeout") from e
        except (httpx.ConnectError, httpx.ProxyError) as e:
            raise FetchError(source, f"cannot connect: {_describe(e)}", kind="connect") from e
        except httpx.NetworkError as e:  # reset or closed mid-exchange
            raise FetchError(source, f"connection lost: {_describe(e)}", kind="connect") from e
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as e:
            raise FetchError(source, f"bad URL {url!r}: {_describe(e)}", kind="url") from e
        except DecodeErrors as e:
            raise FetchError(source, f"cannot decode body: {e}", kind="protocol") from e
        except httpx.HTTPError as e:  # RemoteProtocolError, LocalProtocolError, ...
            raise FetchError(source, f"protocol error: {_describe(e)}", kind="protocol") from e

    async def _request(self, ask: _Ask, url: str, parsed: httpx.URL) -> _Hop:
        source = ask.source
        sent = _conditional(ask.validators)
        if ask.user_agent:
            sent["User-Agent"] = ask.user_agent
        if ask.accept:
            sent["Accept"] = ask.accept
        request = self._client.build_request("GET", parsed, headers=sent)
        response = await self._client.send(request, stream=True, auth=ask.auth(url))
        try:
            headers = tuple((k.lower(), v) for k, v in response.headers.multi_items())
            status = response.status_code
            if status in _REDIRECTS:
                location = response.headers.get("location")
                if not location:
                    raise FetchError(source, f"{status} without a Location", kind="redirect")
                return _Hop(status, headers, location=location)
            if not 200 <= status < 300:
                self._refuse_status(source, url, status, response.headers.get("retry-after"))
                return _Hop(status, headers)  # 304 Not Modified
            content = await _read_capped(source, response, ask.cap)
            return _Hop(status, headers, content=content)
        finally:
            await response.aclose()

    def _refuse_status(self, source: str, url: str, status: int, retry_after: str | None) -> None:
        if status == 304:
            return
        wait = parse_retry_after(retry_after, self._now())
        where = "" if url == guard.strip_userinfo(source) else f" (at {url})"
        # The reason phrase for a reader of `feeds status` ("HTTP 429 Too Many Requests"),
        # and how long the server asked to be left alone.
        try:
            phrase = f" {HTTPStatus(status).phrase}"
        except ValueError:  # a status no RFC names
            phrase = ""
        later = f"; it asks to wait {_duration(wait)}" if wait else ""
        raise FetchError(
            source, f"HTTP {status}{phrase}{where}{later}", status=status, retry_after=wait,
            kind="http",
        )  # fmt: skip

    def _result(
        self,
        source: str,
        url: str,
        hop: _Hop,
        validators: Validators,
        started: float,
        permanent: bool,
        first: str,
    ) -> FetchResult:
        found = dict(hop.headers)
        new = Validators(found.get("etag"), found.get("last-modified"))
        if hop.status == 304:
            # RFC 9111 §4.3.4: a 304 may carry fresher validators; otherwise keep ours.
            new = Validators(
                new.etag or validators.etag, new.last_modified or validators.last_modified
            )
        moved = url if permanent and url != first else None
        return FetchResult(
            source_url=source,
            url=url,
            status=hop.status,
            content=hop.content,
            headers=hop.headers,
            validators=new,
            fetched_at=self._now(),
            elapsed=time.monotonic() - started,
            permanent_redirect=moved,
        )


# --------------------------------------------------------------------------- helpers


def _require_http(source: str, url: str) -> httpx.URL:
    """`url` parsed, or FetchError unless it is an http(s) URL with a host."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as e:
        raise FetchError(source, f"bad URL {guard.redact(url)!r}: {e}", kind="url") from e
    if parsed.scheme not in _SCHEMES or not parsed.host:
        shown = guard.redact(url)
        raise FetchError(source, f"only http(s) URLs are fetched, not {shown!r}", kind="url")
    return parsed


def _same_origin(url: str, other: str) -> bool:
    """RFC 6454 origins: scheme, host and port (so no credentials over a downgrade)."""
    try:
        a, b = httpx.URL(url), httpx.URL(other)
    except (httpx.InvalidURL, TypeError, ValueError):
        return False
    return (a.scheme, a.host, a.port or _PORTS.get(a.scheme)) == (
        b.scheme, b.host, b.port or _PORTS.get(b.scheme),
    )  # fmt: skip


def _next_hop(
    source: str, current: httpx.URL, location: str, chain: list[str]
) -> tuple[str, httpx.URL]:
    """Location resolved against the current URL (RFC 9110 §10.2.2 allows relative), as
    text and parsed."""
    shown = guard.redact(location.strip())
    try:
        # A Location's own userinfo is dropped: credentials are the config's to give.
        target = guard.strip_userinfo(str(current.join(location.strip())))
        parsed = httpx.URL(target)
        scheme = parsed.scheme
    except (httpx.InvalidURL, TypeError, ValueError) as e:
        raise FetchError(source, f"bad redirect target {shown!r}", kind="redirect") from e
    if scheme not in _SCHEMES:
        # file:, ftp:, data:, javascript: ... a feed must never make us read local files.
        raise FetchError(source, f"refused redirect to {shown!r}", kind="redirect")
    if target in chain:
        raise FetchError(source, f"redirect loop at {target}", kind="redirect")
    chain.append(target)
    log.debug("%s: redirected to %s", guard.redact(source), target)
    return target, parsed


def _conditional(validators: Validators) -> dict[str, str]:
    headers = {}
    if validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    return headers


def _describe(e: Exception) -> str:
    return str(e) or type(e).__name__


async def _read_capped(source: str, response: httpx.Response, cap: int) -> bytes:
    """The decoded body, or FetchError(kind="too_big") as soon as it passes `cap` bytes.

    Content-Length is checked first so an honest server's huge body is never read.
    The raw (encoded) size is capped too: a body that does not compress can't be
    smaller encoded than decoded, and a stream of empty deflate blocks decodes to
    nothing while it runs on forever.
    """
    too_big = FetchError(source, f"body larger than the {cap}-byte cap", kind="too_big")
    declared = response.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > cap:
        raise too_big
    decode = decoder(guard.redact(source), response.headers.get("content-encoding", ""))
    parts: list[bytes] = []
    raw = size = 0
    async for chunk in response.aiter_raw():
        raw += len(chunk)
        for piece in decode.feed(chunk):
            size += len(piece)
            if size > cap or raw > cap:
                raise too_big
            parts.append(piece)
    for piece in decode.flush():
        size += len(piece)
        if size > cap:
            raise too_big
        parts.append(piece)
    body = b"".join(parts)
    if body.startswith(_GZIP_MAGIC):
        return _gunzipped(source, body, cap, too_big)
    return body


#: How a gzip stream starts (RFC 1952: ID1, ID2, CM = deflate).
_GZIP_MAGIC = b"\x1f\x8b\x08"


def _gunzipped(source: str, body: bytes, cap: int, too_big: FetchError) -> bytes:
    """`body`, a gzip stream once any Content-Encoding is undone, inflated under the same
    `cap`: a feed.xml.gz served as XML, or a body that a server or CDN compressed twice.
    Unread, it failed in XML's words ("not well-formed (invalid token)")."""
    decode = decoder(guard.redact(source), "gzip")
    parts: list[bytes] = []
    size = 0
    for step in (decode.feed(body), decode.flush()):
        for piece in step:
            size += len(piece)
            if size > cap:
                raise too_big
            parts.append(piece)
    return b"".join(parts)


def _duration(seconds: float) -> str:
    """ "90 s", "15 min", "2 h", "3 d": a wait as an operator reads it."""
    for unit, size, least in (("d", 86400, 2), ("h", 3600, 1), ("min", 60, 1)):
        if seconds >= least * size:  # "32 h", not "1 d", for a day and a third
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"
