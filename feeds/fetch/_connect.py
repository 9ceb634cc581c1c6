"""Where a fetch may connect: httpx's transport over a network backend that checks.

`GuardedBackend` resolves each host name itself, refuses the host when any address it
resolves to is refused by `guard.refusal` (unless `fetch.allow_private` lists its
network), and connects to the addresses it checked, so a later lookup cannot change the
address between the check and the connection (DNS rebinding). It sits below redirects
and feed-link discovery, so those are checked the same way. TLS is started by httpcore
on the connected stream with the URL's own host name, for SNI and certificate checks.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import itertools
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence

import httpcore
import httpx

from feeds import guard
from feeds.threads import in_daemon_thread

log = logging.getLogger("feeds.fetch")

#: RFC 8305 §5 (Happy Eyeballs): the next address is tried this long after the last
#: attempt started, as anyio does when it resolves the name itself.
_ATTEMPT_DELAY = 0.25
PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")

#: host, port -> the addresses it resolves to (tests pass their own).
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]


class Refused(Exception):
    """A connection `guard.refusal` forbids; `fetch` turns it into FetchError("blocked")."""

    def __init__(self, host: str, address: str, why: str, *, literal: bool) -> None:
        # An address as the URL spells it ([::ffff:127.0.0.1], not ::ffff:7f00:1).
        super().__init__(f"{host} is {why}" if literal else f"{host} resolves to {address}, {why}")
        self.address = address


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport over `GuardedBackend`, which makes every connection.

    httpx has no parameter for a network backend, so the connection pool it made is
    replaced by one built the same way with ours: requests, TLS and httpx's error
    mapping stay httpx's.
    """

    def __init__(
        self,
        allow_private: Iterable[str] = (),
        max_connections: int | None = None,
        *,
        resolve: Resolver | None = None,
        verify: ssl.SSLContext | None = None,
    ) -> None:
        context = verify or httpx.create_ssl_context()
        super().__init__(verify=context)
        limits = httpx.Limits(max_connections=max_connections)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(guard.networks(allow_private), resolve),
        )


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves each host itself, refuses it if any address is refused, and connects to
    the addresses it checked (the URL's host still goes to TLS, for SNI and checks)."""

    def __init__(self, allowed: Sequence[guard.Network], resolve: Resolver | None = None) -> None:
        self._allowed = tuple(allowed)
        self._resolve = resolve or _system_resolve
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._addresses(host, port)

        def attempt(address: str) -> Callable[[], Awaitable[httpcore.AsyncNetworkStream]]:
            return lambda: self._inner.connect_tcp(
                address, port, timeout, local_address, socket_options
            )

        return await _first_connected([attempt(a) for a in addresses])

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("feeds fetches over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)

    async def _addresses(self, host: str, port: int) -> list[str]:
        try:
            found, literal = [str(ipaddress.ip_address(host))], True
        except ValueError:
            found, literal = list(dict.fromkeys(await self._resolve(host, port))), False
        if not found:
            raise httpcore.ConnectError(f"{host} resolves to no address")
        # Every address, not only the one connected to: a name that also resolves
        # inside is refused whole rather than connected to by luck of the order.
        for address in found:
            why = guard.refusal(address, self._allowed)
            if why:
                raise Refused(host, address, why, literal=literal)
        return _interleave(found)


async def _system_resolve(host: str, port: int) -> list[str]:
    """The system resolver's addresses for `host`, looked up in a daemon thread of its own.

    Not in the event loop's default executor (`loop.getaddrinfo`): a lookup cannot be
    cancelled, and one for a name whose name servers do not answer runs on for the
    resolver's own time-outs (seconds, tens of seconds) after its fetch has given up.
    In that executor (cores + 4 threads) a few such names held the threads that the end
    of the pass runs in, and the pass waited for the resolver, not for its fetches.
    """
    try:
        infos = await in_daemon_thread(
            socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM, name="feeds-dns"
        )
    except (OSError, UnicodeError) as e:  # gaierror: as anyio's would read
        raise httpcore.ConnectError(str(e)) from e
    return [str(info[4][0]) for info in infos]


def _interleave(addresses: Sequence[str]) -> list[str]:
    """RFC 8305 §4: alternate the families, starting with the resolver's first."""
    first = ":" in addresses[0]
    ours = [a for a in addresses if (":" in a) == first]
    other = [a for a in addresses if (":" in a) != first]
    pairs = itertools.zip_longest(ours, other)
    return [a for pair in pairs for a in pair if a is not None]


async def _first_connected(
    attempts: Sequence[Callable[[], Awaitable[httpcore.AsyncNetworkStream]]],
) -> httpcore.AsyncNetworkStream:
    """The first attempt to connect, each started `_ATTEMPT_DELAY` after the one before
    or as soon as it failed (Happy Eyeballs); the first failure when all fail."""
    if len(attempts) == 1:
        return await attempts[0]()
    todo = list(attempts)
    pending: set[asyncio.Task[httpcore.AsyncNetworkStream]] = set()
    failures: list[BaseException] = []
    streams: list[httpcore.AsyncNetworkStream] = []
    keep = 0  # how many of `streams` to hand back: the winner, unless the wait was cut short
    try:
        while not streams and (todo or pending):
            if todo:
                pending.add(asyncio.ensure_future(todo.pop(0)()))
            done, pending = await asyncio.wait(
                pending, timeout=_ATTEMPT_DELAY if todo else None, return_when="FIRST_COMPLETED"
            )
            for task in done:
                error = task.exception()
                if error is None:
                    streams.append(task.result())
                else:
                    failures.append(error)
        keep = min(len(streams), 1)
    finally:
        for task in pending:
            task.cancel()
        # An attempt may have connected before its cancellation was seen: close it too.
        for late in await asyncio.gather(*pending, return_exceptions=True):
            if isinstance(late, httpcore.AsyncNetworkStream):
                streams.append(late)
        for extra in streams[keep:]:
            await extra.aclose()
    if keep:
        return streams[0]
    raise failures[0]


@functools.cache
def warn_proxies(names: tuple[str, ...]) -> None:
    """Once per process: `feeds serve` makes a Fetcher for every pass."""
    if names:
        log.warning(
            "%s set but not used: feeds connects directly, so that it can check the "
            "address of every connection (docs/deploy.md, Security)",
            "/".join(names),
        )
