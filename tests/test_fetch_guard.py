"""Fetches refuse internal addresses, checked where the connection is made (issue 20).

Every server here is on loopback, so nothing leaves the machine: the refused one on
127.0.0.1, and an allowed one on 127.0.0.2 (Linux routes all of 127.0.0.0/8 to
loopback) let through by ``allow_private: [127.0.0.2/32]``. Names other than
`localhost` are resolved by a resolver the test passes in, never by DNS.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from servers import HostileServer, port_of

from feeds.errors import FetchError
from feeds.fetch import Fetcher, GuardedTransport, _connect
from feeds.types import FetchConfig, FetchResult

TLS = Path(__file__).parent / "data" / "tls"
ALLOWED = ("127.0.0.2/32",)


class Resolver:
    """A resolver from a table; `answers` lists what each successive lookup returns."""

    def __init__(self, *answers: Sequence[str]) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.asked.append(host)
        return self.answers[min(len(self.asked), len(self.answers)) - 1]


def fetch(
    url: str,
    allow: Sequence[str] = (),
    resolve: Resolver | None = None,
    verify: ssl.SSLContext | None = None,
) -> FetchResult:
    async def go() -> FetchResult:
        config = FetchConfig(timeout=3.0, allow_private=tuple(allow))
        transport = None
        if resolve is not None or verify is not None:
            transport = GuardedTransport(allow, resolve=resolve, verify=verify)
        async with Fetcher(config, transport=transport) as fetcher:
            return await fetcher.fetch(url)

    return asyncio.run(go())


def refused(url: str, allow: Sequence[str] = (), resolve: Resolver | None = None) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetch(url, allow, resolve)
    assert caught.value.kind == "blocked", caught.value
    return caught.value


def hits(server: HostileServer) -> int:
    return sum(server.hits.values())


# --------------------------------------------------------------------------- literal hosts


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("localhost", "127.0.0.1"),  # from /etc/hosts: no DNS traffic
        ("2130706433", "127.0.0.1"),  # one 32-bit number
        ("127.1", "127.0.0.1"),  # inet_aton's short form
        ("0x7f.1", "127.0.0.1"),  # in hexadecimal
        ("0177.1", "127.0.0.1"),  # in octal (httpx refuses 0177.0.0.1 itself)
        ("0.0.0.0", "0.0.0.0"),  # Linux connects it to this machine
        ("[::1]", "::1"),
        ("[::ffff:127.0.0.1]", "127.0.0.1"),  # IPv4-mapped
        ("[::]", "::"),
    ],
)
def test_loopback_in_any_spelling_is_refused(
    inside: HostileServer, host: str, address: str
) -> None:
    before = hits(inside)
    error = refused(f"http://{host}:{port_of(inside)}/feed.xml")
    assert address in str(error)
    assert "fetch.allow_private" in str(error)
    assert hits(inside) == before


@pytest.mark.parametrize(
    ("name", "address", "why"),
    [
        ("feed.test", "127.0.0.1", "loopback"),
        ("metadata.google.internal", "169.254.169.254", "link-local"),
        ("intranet.test", "10.1.2.3", "private"),
        ("cgnat.test", "100.64.0.1", "carrier-grade NAT"),
        ("v6.test", "fd00::1", "unique local"),
        ("nat64.test", "64:ff9b::a9fe:a9fe", "169.254.169.254"),
    ],
)
def test_a_name_that_resolves_inside_is_refused(name: str, address: str, why: str) -> None:
    # Refused before any connection is tried, so none of these addresses is contacted.
    error = refused(f"http://{name}/latest/meta-data/", resolve=Resolver([address]))
    assert f"{name} resolves to {address}" in str(error)
    assert why in str(error)


def test_one_refused_address_refuses_the_whole_name(allowed: HostileServer) -> None:
    before = hits(allowed)
    resolve = Resolver(["127.0.0.2", "127.0.0.1"])
    error = refused(f"http://feed.test:{port_of(allowed)}/feed.xml", ALLOWED, resolve)
    assert "127.0.0.1" in str(error)
    assert hits(allowed) == before


# --------------------------------------------------------------------------- connecting


def test_connects_to_the_address_it_checked(inside: HostileServer, allowed: HostileServer) -> None:
    # DNS rebinding: every lookup after the first answers 127.0.0.1. The connection
    # goes to the address that was checked, and the Host header still names the URL.
    resolve = Resolver(["127.0.0.2"], ["127.0.0.1"])
    before = hits(inside)
    result = fetch(f"http://feed.test:{port_of(allowed)}/feed.xml?probe=rebind", ALLOWED, resolve)
    assert result.status == 200
    assert resolve.asked == ["feed.test"]
    (seen,) = [r for r in allowed.requests if r.query.get("probe") == ["rebind"]]
    assert seen.headers["host"] == f"feed.test:{port_of(allowed)}"
    assert hits(inside) == before


def test_a_dead_address_is_skipped_for_the_next(allowed: HostileServer) -> None:
    # Nothing listens on 127.0.0.3: that attempt fails at once and 127.0.0.2 answers.
    resolve = Resolver(["127.0.0.3", "127.0.0.2"])
    url = f"http://feed.test:{port_of(allowed)}/feed.xml"
    assert fetch(url, ("127.0.0.0/8",), resolve).status == 200


@pytest.fixture
def black_hole(allowed: HostileServer) -> Iterator[str]:
    """127.0.0.4 at `allowed`'s port, where a connection never completes: the listener's
    queue is full and never accepted from, so Linux drops every new SYN."""
    listener = socket.socket()
    listener.bind(("127.0.0.4", port_of(allowed)))
    listener.listen(0)
    fillers = [socket.socket() for _ in range(3)]
    for filler in fillers:
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.4", port_of(allowed)))
    try:
        yield "127.0.0.4"
    finally:
        for sock in (*fillers, listener):
            sock.close()


def test_a_silent_address_does_not_hold_up_the_next(
    allowed: HostileServer, black_hole: str
) -> None:
    # Happy Eyeballs: 127.0.0.2 is tried 250 ms after the silent one, not after it timed
    # out (which, at the fetch's 3 s timeout, would have failed the fetch).
    resolve = Resolver([black_hole, "127.0.0.2"])
    started = time.monotonic()
    result = fetch(f"http://feed.test:{port_of(allowed)}/feed.xml", ("127.0.0.0/8",), resolve)
    assert result.status == 200
    assert time.monotonic() - started < 2.0


def test_allow_private_lets_only_its_networks_through(inside: HostileServer) -> None:
    url = inside.url("/feed.xml")
    refused(url)
    refused(url, ("10.0.0.0/8", "127.0.0.2/32", "::1/128"))
    assert fetch(url, ("127.0.0.0/8",)).status == 200
    assert fetch(url, ("127.0.0.1/32",)).status == 200
    assert fetch(url.replace("127.0.0.1", "[::ffff:127.0.0.1]"), ("127.0.0.1",)).status == 200


# --------------------------------------------------------------------------- redirects


@pytest.mark.parametrize("spelling", ["127.0.0.1", "localhost", "2130706433", "[::ffff:7f00:1]"])
def test_a_redirect_to_a_refused_address_is_refused(
    inside: HostileServer, allowed: HostileServer, spelling: str
) -> None:
    target = f"http://{spelling}:{port_of(inside)}/feed.xml"
    before = hits(inside)
    error = refused(allowed.url(f"/redirect?to={target}"), ALLOWED)
    assert f"for {target}" in str(error)
    assert error.url == allowed.url(f"/redirect?to={target}")
    assert hits(inside) == before


def test_a_redirect_between_allowed_addresses_is_followed(allowed: HostileServer) -> None:
    result = fetch(allowed.url("/redirect?to=/feed.xml"), ALLOWED)
    assert (result.status, result.url) == (200, allowed.url("/feed.xml"))


# --------------------------------------------------------------------------- TLS


@pytest.fixture
def tls_server() -> Iterator[tuple[HTTPServer, list[str | None]]]:
    """HTTPS on 127.0.0.2 with a certificate for feed.test; records each SNI name."""
    names: list[str | None] = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(TLS / "feed-test.pem", TLS / "feed-test.key")

    def record(sock: Any, name: str | None, ctx: Any) -> None:
        names.append(name)

    context.sni_callback = record
    server = HTTPServer(host="127.0.0.2", port=0, ssl_context=context)
    server.expect_request("/feed.xml").respond_with_data("<rss/>")
    server.start()
    try:
        yield server, names
    finally:
        server.clear()
        server.stop()


def test_tls_names_and_verifies_the_url_host(
    tls_server: tuple[HTTPServer, list[str | None]],
) -> None:
    server, names = tls_server
    trust = ssl.create_default_context(cafile=str(TLS / "ca.pem"))
    resolve = Resolver(["127.0.0.2"])
    result = fetch(f"https://feed.test:{server.port}/feed.xml", ALLOWED, resolve, trust)
    assert (result.status, result.content) == (200, b"<rss/>")
    assert names == ["feed.test"]
    # The same address under another name: the certificate does not match it.
    with pytest.raises(FetchError, match="certificate") as caught:
        fetch(f"https://other.test:{server.port}/feed.xml", ALLOWED, resolve, trust)
    assert caught.value.kind == "connect"


# --------------------------------------------------------------------------- proxies, hub


def test_proxy_variables_are_not_used_and_said_so(
    inside: HostileServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A proxy would connect for us, to an address we could not check.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9/")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9/")
    _connect.warn_proxies.cache_clear()
    with caplog.at_level(logging.WARNING, logger="feeds.fetch"):
        assert fetch(inside.url("/feed.xml"), ("127.0.0.0/8",)).status == 200
        assert fetch(inside.url("/feed.xml"), ("127.0.0.0/8",)).status == 200
    warnings = [r.getMessage() for r in caplog.records if "PROXY" in r.getMessage()]
    assert warnings == [
        "HTTP_PROXY/ALL_PROXY set but not used: feeds connects directly, so that it can "
        "check the address of every connection (docs/deploy.md, Security)"
    ]


def test_a_refused_hub_is_logged_not_raised(
    inside: HostileServer, caplog: pytest.LogCaptureFixture
) -> None:
    async def go() -> None:
        async with Fetcher(FetchConfig(timeout=2.0)) as fetcher:
            await fetcher.ping_hub(inside.url("/hub"), ["https://example.org/all.rss"])

    before = hits(inside)
    with caplog.at_level(logging.WARNING, logger="feeds.fetch"):
        asyncio.run(go())
    assert any("127.0.0.1 is a loopback address" in r.getMessage() for r in caplog.records)
    assert hits(inside) == before


def test_a_lookup_that_hangs_holds_neither_the_pass_nor_its_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A name whose name servers do not answer keeps the system resolver for its own
    # time-outs, long after its fetch gave up. Looked up in the event loop's default
    # executor, a few such names held the threads the end of a pass runs in
    # (`asyncio.to_thread`), and `asyncio.run` waited for them at its end. Now each
    # lookup has a daemon thread of its own. (`getaddrinfo` is replaced: no DNS here.)
    import threading
    from concurrent.futures import ThreadPoolExecutor

    release = threading.Event()
    safety = threading.Timer(10, release.set)  # without the fix: fail, do not hang
    real = socket.getaddrinfo

    def getaddrinfo(host: str, *args: Any, **kwargs: Any) -> Any:
        if host.endswith(".hung.test"):
            release.wait()
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    failures: list[Any] = []
    monkeypatch.setattr(threading, "excepthook", failures.append)

    async def go() -> tuple[list[BaseException], int]:
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=2))
        async with Fetcher(FetchConfig(timeout=0.3)) as fetcher:
            urls = [f"http://s{n}.hung.test/feed" for n in range(4)]
            got = await asyncio.gather(*map(fetcher.fetch, urls), return_exceptions=True)
        # What the end of a pass runs in is free while the lookups still hang.
        free = await asyncio.wait_for(asyncio.to_thread(lambda: 42), 5)
        return [g for g in got if isinstance(g, BaseException)], free

    safety.start()
    started = time.monotonic()
    errors, free = asyncio.run(go())
    took = time.monotonic() - started
    hung = not release.is_set()
    safety.cancel()
    release.set()
    for thread in [t for t in threading.enumerate() if t.name == "feeds-dns"]:
        thread.join(5)
    assert hung and took < 5  # asyncio.run did not wait for the resolver
    assert free == 42
    assert len(errors) == 4 and all(isinstance(e, FetchError) for e in errors)
    assert {e.kind for e in errors if isinstance(e, FetchError)} == {"timeout"}
    assert failures == []  # a lookup that ends after its loop closed says nothing
