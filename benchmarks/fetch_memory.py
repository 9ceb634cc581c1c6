"""Peak memory of fetching hostile bodies with the default 10 MiB cap.

Run from the repository root::

    .venv/bin/python benchmarks/fetch_memory.py            # default cap (10 MiB)
    .venv/bin/python benchmarks/fetch_memory.py --cap 300000000   # no effective cap

A child process serves tests/servers.py on 127.0.0.1 (a 200 MB endless body, a gzip bomb
of 64 MiB and a brotli bomb of 256 MiB), so the bombs it builds do not count in our RSS.
This process fetches each URL once and prints the peak RSS (``ru_maxrss``, KiB on
Linux) before and after, and the outcome. With the cap, the peak should grow by little
more than the cap; with ``--cap 300000000`` the endless body shows what an unbounded
fetch costs.

Measured on the development machine (Python 3.11.7, httpx 0.28.1, brotli 1.2.1, Linux);
times include the child building each bomb on first request::

    $ .venv/bin/python benchmarks/fetch_memory.py
    start: peak RSS 32.3 MiB (cap 10485760 bytes)
    /endless       too_big  peak RSS 47.0 MiB  (+14.8)  0.17 s
    /gzip-bomb     too_big  peak RSS 56.6 MiB  (+9.6)  0.68 s
    /brotli-bomb   too_big  peak RSS 56.6 MiB  (+0.0)  0.70 s

    $ .venv/bin/python benchmarks/fetch_memory.py --cap 300000000
    start: peak RSS 32.1 MiB (cap 300000000 bytes)
    /endless       ok 200015872 bytes peak RSS 463.5 MiB  (+431.4)  1.92 s
    /gzip-bomb     ok 67108864 bytes peak RSS 463.5 MiB  (+0.0)  0.72 s
    /brotli-bomb   ok 268435456 bytes peak RSS 550.6 MiB  (+87.1)  3.90 s

So with the cap the peak stays within about 2.5 x cap of the start (the kept pieces plus
their final join, plus allocator slack); without it a 200 MB body costs over 400 MiB.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from feeds.errors import FetchError  # noqa: E402
from feeds.fetch import Fetcher  # noqa: E402
from feeds.types import FetchConfig  # noqa: E402

ENDLESS = 200 * 1000 * 1000
PATHS = ("/endless", "/gzip-bomb", "/brotli-bomb")


def serve(pipe: Connection) -> None:
    from servers import hostile_server

    with hostile_server(endless_bytes=ENDLESS, lifetime=120.0) as server:
        pipe.send(server.base)
        pipe.recv()  # until the parent says stop


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def measure(base: str, cap: int) -> None:
    config = FetchConfig(timeout=60.0, max_bytes=cap, allow_private=("127.0.0.0/8",))
    async with Fetcher(config) as fetcher:
        before = peak_mib()
        print(f"start: peak RSS {before:.1f} MiB (cap {cap} bytes)")
        for path in PATHS:
            started = time.perf_counter()
            try:
                result = await fetcher.fetch(base + path)
                outcome = f"ok {len(result.content or b'')} bytes"
                del result
            except FetchError as e:
                outcome = e.kind
            after = peak_mib()
            took = time.perf_counter() - started
            grown = after - before
            print(f"{path:14} {outcome:8} peak RSS {after:.1f} MiB  (+{grown:.1f})  {took:.2f} s")
            before = after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cap", type=int, default=FetchConfig().max_bytes)
    cap = parser.parse_args().cap
    ours, theirs = multiprocessing.Pipe()
    child = multiprocessing.Process(target=serve, args=(theirs,), daemon=True)
    child.start()
    try:
        asyncio.run(measure(ours.recv(), cap))
    finally:
        ours.send("stop")
        child.join(timeout=10)


if __name__ == "__main__":
    main()
