"""Blocking calls that may never end, run off the event loop in a daemon thread each.

A call in the event loop's default executor, or in any ThreadPoolExecutor, cannot be
cancelled, and the interpreter joins those threads at exit: one call that runs on (a
name lookup whose name servers do not answer, a parse that runs away on a hostile body)
holds the threads the rest of the pass needs (`asyncio.to_thread`), then its exit.
A daemon thread of its own holds neither: when its caller stops waiting, the call runs
on unobserved, and the process may end under it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["in_daemon_thread"]

T = TypeVar("T")


async def in_daemon_thread(fn: Callable[..., T], /, *args: Any, name: str) -> T:
    """`fn(*args)` in a new daemon thread called `name`: its result, or its error.

    Cancelling the awaiting task stops the wait, not the call.
    """
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[T] = loop.create_future()

    def call() -> None:
        try:
            outcome: tuple[bool, Any] = (True, fn(*args))
        except BaseException as e:  # handed to the caller, if it still waits
            outcome = (False, e)
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits
            loop.call_soon_threadsafe(_settle, answer, outcome)

    threading.Thread(target=call, name=name, daemon=True).start()
    return await answer


def _settle(answer: asyncio.Future[Any], outcome: tuple[bool, Any]) -> None:
    if answer.done():  # cancelled: the caller gave up
        return
    ok, value = outcome
    if ok:
        answer.set_result(value)
    else:
        answer.set_exception(value)
