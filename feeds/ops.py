"""What runs for the operator around each pass, and the HTTP endpoints that tell it.

Every runner (`feeds run`, a `feeds serve` tick, a worker's publish) hands its finished
pass to `Operator.after_pass`: the pass is recorded in the store (readiness), counted
(metrics), the status page is written and the Telegram channels are brought up to date.
None of it can fail the pass: a problem is logged, and the next pass tries again.

The endpoints are plain functions from an `Asked` to a `Reply`, so that starlette stays
in `serve` (which routes them): ``/healthz`` (the process answers), ``/readyz``
(`health.readiness`), ``/metrics`` when `metrics:` is set, and ``/status`` when
`status_page.serve` is; the last two can be limited to networks and a bearer token.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from . import health, status_page
from .errors import FeedsError
from .store import Store
from .types import AccessConfig, Config, PassResult, SourceResult

if TYPE_CHECKING:
    from .metrics import Metrics
    from .serve import HttpServer

__all__ = ["Asked", "Endpoint", "Operator", "Reply"]

log = logging.getLogger("feeds.ops")

_TEXT = "text/plain; charset=utf-8"
_JSON = "application/json"
_HTML = "text/html; charset=utf-8"
#: The status page runs no script and loads nothing.
_STATUS_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


@dataclass(frozen=True, slots=True)
class Asked:
    """What an endpoint sees of a request."""

    method: str
    headers: Mapping[str, str]  # lower-cased names
    client: str | None  # the peer's address


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    content_type: str = _TEXT
    headers: tuple[tuple[str, str], ...] = ()


Endpoint = Callable[[Asked], Awaitable[Reply]]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Operator:
    """One process's operator side: its metrics, its probe of the store, its endpoints."""

    def __init__(
        self, config: Config, *, now: Callable[[], datetime] = _utc_now, metrics: bool = True
    ) -> None:
        """`metrics` False: count nothing (a `feeds run` exits before any scrape)."""
        self.config, self._now = config, now
        self.metrics: Metrics | None = None
        if metrics and config.metrics is not None:
            from .metrics import Metrics

            self.metrics = Metrics()
        self._probe: health.Probe | None = None

    # ------------------------------------------------------------------ after a pass

    def after_pass(
        self,
        store: Store,
        result: PassResult,
        *,
        pass_id: str,
        started: datetime,
        finished: datetime,
        runner: str = health.PASS,
        count_sources: bool = True,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        """Record, count and report a finished pass (blocking: call it off the loop).

        `should_stop` tells the Telegram poster to leave the rest for the next pass."""
        try:
            health.record(
                store, result, runner=runner, pass_id=pass_id, started=started, finished=finished
            )
        except FeedsError as e:
            log.error("could not record the pass: %s", e)
        if self.metrics is not None:
            seconds = (finished - started).total_seconds()
            self.metrics.observe_pass(result, seconds, finished, sources=count_sources)
        try:
            status_page.write(store, self.config, finished)
        except FeedsError as e:
            log.error("could not write the status page: %s", e)
        if self.config.telegram is not None:
            self._telegram(store, should_stop)

    def _telegram(self, store: Store, should_stop: Callable[[], bool]) -> None:
        from . import telegram

        try:
            counts = telegram.post_pass(self.config, store, now=self._now, should_stop=should_stop)
        except FeedsError as e:  # the store refused: the next pass tries again
            log.error("Telegram: %s", e)
            return
        if counts is not None and self.metrics is not None:
            self.metrics.observe_telegram(counts)
        if counts is not None and (counts.sent or counts.edited or counts.failed):
            log.info("Telegram: %d sent, %d edited, %d failed, %d unknown",
                     counts.sent, counts.edited, counts.failed, counts.unknown)  # fmt: skip

    def failed_pass(self, started: datetime, finished: datetime) -> None:
        if self.metrics is not None:
            seconds = (finished - started).total_seconds()
            self.metrics.observe_pass(None, seconds, finished, sources=False)

    def source_done(self, store: Store, result: SourceResult) -> None:
        """A worker's single refresh: its success noted, its fetch counted."""
        try:
            store.note_sources([(result.source_url, result.new)])
        except FeedsError as e:
            log.error("could not record %s: %s", result.source_url, e)
        if self.metrics is not None:
            self.metrics.observe_source(result)

    # ------------------------------------------------------------------ endpoints

    @property
    def probe(self) -> health.Probe:
        if self._probe is None:
            self._probe = health.Probe(self.config)
        return self._probe

    def endpoints(self) -> dict[str, Endpoint]:
        found: dict[str, Endpoint] = {"healthz": self._healthz, "readyz": self._readyz}
        if self.metrics is not None:
            found["metrics"] = self._metrics
        if self.config.status_page.serve:
            found["status"] = self._status
        return found

    async def _healthz(self, asked: Asked) -> Reply:
        return Reply(200, b"ok\n")

    async def _readyz(self, asked: Asked) -> Reply:
        now = self._now()
        ready = await self.probe.readiness(now)
        body = json.dumps(ready.as_dict(now), ensure_ascii=False).encode() + b"\n"
        return Reply(200 if ready.ready else 503, body, _JSON)

    async def _metrics(self, asked: Asked) -> Reply:
        assert self.metrics is not None and self.config.metrics is not None
        refused = refusal(self.config.metrics.access, asked)
        if refused is not None:
            return refused
        from .metrics import CONTENT_TYPE, snapshot

        now = self._now()
        try:
            snap = await self.probe.run(lambda store: snapshot(store, self.config, now))
        except FeedsError as e:
            log.warning("metrics without the store's gauges: %s", e)
            snap = None
        return Reply(200, self.metrics.render(snap), CONTENT_TYPE)

    async def _status(self, asked: Asked) -> Reply:
        refused = refusal(self.config.status_page.access, asked)
        if refused is not None:
            return refused
        now = self._now()
        try:
            body = await self.probe.run(lambda store: status_page.page(store, self.config, now))
        except FeedsError as e:
            return Reply(503, f"the store does not answer: {e}\n".encode())
        headers = (("Content-Security-Policy", _STATUS_CSP), ("Cache-Control", "no-store"))
        return Reply(200, body, _HTML, headers)

    async def start_http(self) -> HttpServer:
        """The operator's own port (`metrics.port`): healthz, readyz, metrics, status."""
        from . import serve  # starlette and uvicorn load only when serving

        config = self.config.metrics
        assert config is not None and config.port is not None
        server = serve.HttpServer(
            serve.ops_app(self.endpoints()), host=config.host, port=config.port
        )
        await server.start()
        log.info("operator endpoints on http://%s:%d/", server.host, server.port)
        return server

    def close(self) -> None:
        if self._probe is not None:
            self._probe.close()
            self._probe = None


def refusal(access: AccessConfig, asked: Asked) -> Reply | None:
    """None when `asked` may read an endpoint under `access`; else the refusal.

    With `token_env` named but the variable unset, nobody may: an operator who asked
    for a token must not get an open endpoint by a deployment mistake.
    """
    if access.allow and not _client_in(asked.client, access.allow):
        return Reply(403, b"forbidden\n")
    if access.token_env is None:
        return None
    token = os.environ.get(access.token_env, "")
    if not token:
        log.warning("%s is not set: refusing every request for a token", access.token_env)
        return Reply(403, b"forbidden\n")
    given = asked.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode()):
        return None
    return Reply(401, b"unauthorized\n", headers=(("WWW-Authenticate", 'Bearer realm="feeds"'),))


def _client_in(client: str | None, networks: tuple[str, ...]) -> bool:
    if client is None:
        return False
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in ipaddress.ip_network(n, strict=False) for n in networks)
