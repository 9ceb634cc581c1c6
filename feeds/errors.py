"""The one error hierarchy of `feeds`.

Every error renders as ``subject: message`` so the CLI can print it on one line::

    FeedsError                  base; str() == "subject: message"
    ├── ConfigError             config.yaml unreadable or invalid; holds every Problem found
    ├── SourceError             anything about one source; subject is its URL, password masked
    │   ├── FetchError          network, timeout, too big, refused address/redirect, HTTP >= 400
    │   └── ParseError          not a feed, or no usable entry
    ├── StorageError            the store cannot be opened, read or written
    │   └── SchemaVersionError  the database was written by a newer `feeds`
    ├── PublishError            an output file cannot be rendered or written
    ├── LockedError             another pass holds the store's lock (exit 75)
    └── TelegramError           a Bot API call failed; `kind` says whether it was sent

A failing source is a result, not a crash: the pipeline records a `SourceError` on the
source and goes on. Anything that is not a `FeedsError` is a bug and propagates.
"""

from __future__ import annotations

from dataclasses import dataclass

from feeds.guard import redact

__all__ = [
    "ConfigError",
    "FeedsError",
    "FetchError",
    "LockedError",
    "ParseError",
    "Problem",
    "PublishError",
    "SchemaVersionError",
    "SourceError",
    "StorageError",
    "TelegramError",
]


class FeedsError(Exception):
    """Base of every error `feeds` raises on purpose."""

    def __init__(self, message: str, subject: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.subject = subject

    def __str__(self) -> str:
        return f"{self.subject}: {self.message}" if self.subject else self.message

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle as the class and its attributes. An error raised in a pool worker
        reaches the pass by pickle, which by default calls the class again with
        `self.args` (the message alone): the subclasses take other arguments, the call
        failed in the pass's result thread, and the pool was broken for every source
        still parsing."""
        return _restore, (type(self), self.args, dict(self.__dict__))


def _restore(
    cls: type[FeedsError], args: tuple[object, ...], state: dict[str, object]
) -> FeedsError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a config file: ``FILE:LINE: key.path: what is wrong``."""

    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class ConfigError(FeedsError):
    """The config is invalid; `problems` lists every problem found, in file order."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems = tuple(problems)
        first = str(self.problems[0]) if self.problems else "invalid config"
        super().__init__(first)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems) or self.message


class SourceError(FeedsError):
    """Something went wrong with one source; `url` is the source's configured URL.

    The subject shown is `url` with any password masked (``user:***@``).
    """

    def __init__(self, url: str, message: str) -> None:
        super().__init__(message, subject=redact(url))
        self.url = url


class FetchError(SourceError):
    """The source could not be fetched.

    `status` is the HTTP status when there was one; `retry_after` is the server's
    Retry-After in seconds when it sent one; `kind` is a short machine-readable tag
    (``timeout``, ``too_big``, ``redirect``, ``http``, ``connect``, ...).
    """

    def __init__(
        self,
        url: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        kind: str = "fetch",
    ) -> None:
        super().__init__(url, message)
        self.status = status
        self.retry_after = retry_after
        self.kind = kind


class ParseError(SourceError):
    """The body is not a usable feed."""


class StorageError(FeedsError):
    """The store cannot be opened, read or written; subject is the database path."""


class SchemaVersionError(StorageError):
    """The database schema is newer than this version of `feeds` understands."""


class PublishError(FeedsError):
    """An output file could not be rendered or written; subject is the path."""


class LockedError(FeedsError):
    """Another pass holds the lock on this store."""


class TelegramError(FeedsError):
    """A Bot API call failed; subject is the method (never the URL: it holds the token).

    `kind` tells what became of the message: ``refused`` (Telegram answered no: not
    sent), ``unreachable`` (no connection was made: not sent) or ``unknown`` (the call
    may have reached Telegram). `retry_after` is set on 429 Too Many Requests.
    """

    def __init__(
        self, method: str, message: str, *, kind: str, retry_after: float | None = None
    ) -> None:
        super().__init__(message, subject=method)
        self.kind = kind
        self.retry_after = retry_after
