"""systemd's notify protocol (sd_notify(3)), for a unit with ``Type=notify``.

A datagram of ``KEY=VALUE`` lines sent to the socket named by ``$NOTIFY_SOCKET`` (a
path, or ``@name`` in the abstract namespace). `feeds serve` and `feeds worker` say
``READY=1`` once they serve and tick, ``WATCHDOG=1`` every half of ``$WATCHDOG_USEC``
from the event loop (so a loop that stopped turning stops feeding it, and systemd
restarts the service, as ``WatchdogSec=`` asks), and ``STOPPING=1`` when a signal
starts their clean stop. Without ``$NOTIFY_SOCKET`` every call does nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Mapping

__all__ = ["Notifier"]

log = logging.getLogger("feeds.sdnotify")


class Notifier:
    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        address = env.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):  # the abstract namespace: a leading NUL byte
            address = "\0" + address[1:]
        self.address = address or None
        self.watchdog_s = _watchdog_seconds(env)
        self._task: asyncio.Task[None] | None = None

    def send(self, *lines: str) -> bool:
        """Send one datagram; False when there is nowhere to send it or it failed."""
        if self.address is None:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.connect(self.address)
                sock.sendall("\n".join(lines).encode())
        except OSError as e:  # systemd gone or the socket unreachable: not our failure
            log.warning("cannot notify systemd at %s: %s", self.address.lstrip("\0"), e)
            return False
        return True

    def ready(self, status: str = "") -> None:
        self.send("READY=1", *((f"STATUS={status}",) if status else ()))
        if self.watchdog_s is not None and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._feed(self.watchdog_s))

    def stopping(self) -> None:
        self.send("STOPPING=1")

    async def _feed(self, period: float) -> None:
        while True:
            self.send("WATCHDOG=1")
            await asyncio.sleep(period / 2)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None


def _watchdog_seconds(env: Mapping[str, str]) -> float | None:
    """$WATCHDOG_USEC in seconds, when it is meant for this process ($WATCHDOG_PID)."""
    usec, pid = env.get("WATCHDOG_USEC", ""), env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and pid != str(os.getpid()):
        return None
    return int(usec) / 1e6
