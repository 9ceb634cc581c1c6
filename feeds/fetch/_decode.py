"""Body decoding in bounded steps: gzip, deflate (zlib or raw) and brotli, chained.

httpx's own decoders inflate a whole network chunk at once, which for brotli can be
gigabytes; these give at most `_STEP` bytes per step, so the caller can count the
decoded size against its cap as it grows.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterator
from typing import Protocol

import brotli  # type: ignore[import-untyped]

log = logging.getLogger("feeds.fetch")

#: Largest decoded piece produced from one step of decompression; bounds memory per step.
_STEP = 64 * 1024
#: What a body that cannot be decoded raises.
DecodeErrors = (zlib.error, brotli.error)


class Decoder(Protocol):
    def feed(self, data: bytes) -> Iterator[bytes]: ...
    def flush(self) -> Iterator[bytes]: ...


class _Identity:
    def feed(self, data: bytes) -> Iterator[bytes]:
        yield data

    def flush(self) -> Iterator[bytes]:
        yield from ()


class _Zlib:
    """gzip or deflate, inflated at most `_STEP` bytes at a time.

    HTTP "deflate" is meant to be zlib-wrapped (RFC 9110 §8.4.1.2) but some servers send
    raw deflate; like browsers, retry raw when the first bytes are not a zlib header.
    """

    def __init__(self, wbits: int) -> None:
        self._wbits = wbits
        self._inflate = zlib.decompressobj(wbits)
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        while True:
            try:
                out = self._inflate.decompress(data, _STEP)
            except zlib.error:
                if self._started or self._wbits != zlib.MAX_WBITS:
                    raise
                self._wbits = -zlib.MAX_WBITS
                self._inflate = zlib.decompressobj(self._wbits)
                continue
            self._started = True
            yield out
            data = self._inflate.unconsumed_tail
            if self._inflate.eof or (not data and len(out) < _STEP):
                return

    def flush(self) -> Iterator[bytes]:
        yield from self.feed(b"")


class _Brotli:
    """brotli, with the output of each step limited (brotli >= 1.2 `output_buffer_limit`)."""

    def __init__(self) -> None:
        self._inflate = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        out = self._inflate.process(data, output_buffer_limit=_STEP)
        yield out
        # can_accept_more_data() turns True while output is still pending, so drain until
        # a step yields nothing. Each pass yields bytes the caller counts against the
        # cap, so this loop cannot spin without progress.
        while out and not self._inflate.is_finished():
            out = self._inflate.process(b"", output_buffer_limit=_STEP)
            yield out

    def flush(self) -> Iterator[bytes]:
        yield from ()


class _Chain:
    """Several codings, applied in the order listed, so undone in reverse (RFC 9110 §8.4)."""

    def __init__(self, decoders: list[Decoder]) -> None:
        self._decoders = decoders

    def feed(self, data: bytes) -> Iterator[bytes]:
        return self._through(0, data)

    def flush(self) -> Iterator[bytes]:
        for i, decoder in enumerate(self._decoders):
            for piece in decoder.flush():
                yield from self._through(i + 1, piece)

    def _through(self, i: int, data: bytes) -> Iterator[bytes]:
        if i == len(self._decoders):
            yield data
            return
        for piece in self._decoders[i].feed(data):
            yield from self._through(i + 1, piece)


def decoder(source: str, content_encoding: str) -> Decoder:
    decoders: list[Decoder] = []
    for coding in reversed([c.strip().lower() for c in content_encoding.split(",")]):
        if coding in ("gzip", "x-gzip"):
            decoders.append(_Zlib(zlib.MAX_WBITS | 16))
        elif coding == "deflate":
            decoders.append(_Zlib(zlib.MAX_WBITS))
        elif coding == "br":
            decoders.append(_Brotli())
        elif coding not in ("", "identity"):
            # Seen in the wild: "Content-Encoding: UTF-8". Pass the bytes on; if they
            # really were encoded, the parser will say it is not a feed.
            log.info("%s: unknown Content-Encoding %r, reading as is", source, coding)
    return _Chain(decoders) if decoders else _Identity()
