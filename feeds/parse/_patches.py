"""Fast paths in feedparser's own code, applied on import by `feeds.parse`.

A profile of the parse workers put a third of feedparser's time in three places in its
own code that run for every element, and its URI joins in a fourth. Each fast path
returns exactly what feedparser computes; tests/test_parse.py parses both corpora with
and without them and compares feedparser's raw results. They lean on feedparser's
internals (`FeedParserDict`'s keymap and computed keys, `mixin._cp1252`,
`mixin._urljoin`), so they are applied only to the feedparser versions they were tested
with (`TESTED`); any other version runs as installed, only slower. pyproject.toml bounds
feedparser below the next minor version for the same reason.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Mapping
from typing import Any

import feedparser


def _memoize_uri_joins() -> None:
    """Make feedparser's URI joins cached: the same few pairs, thousands of times.

    Given a base URI (we pass the feed's URL as Content-Location), feedparser joins it
    with each element's xml:base on every start tag (`mixin.unknown_starttag`), ten times
    per RSS item, almost always with the same two strings; and each `<link>` and `<guid>`
    is joined with it too. Those joins were 15% of parsing. Both functions are pure (of
    their arguments and a constant scheme list), so a cache changes no result; a test
    parses both corpora with and without it and compares. Long arguments bypass the
    cache, so a daemon's cache stays small whatever the feeds hold.
    """
    mixin = feedparser.mixin
    for name in ("make_safe_absolute_uri", "_urljoin"):
        original = getattr(mixin, name)
        if not hasattr(original, "cache_info"):
            setattr(mixin, name, _memoized(original))


_MEMO_CHARS = 2048  # longer arguments (a hostile feed's) are joined, never kept


def _memoized(join: Callable[..., Any]) -> Callable[..., Any]:
    cached = functools.lru_cache(maxsize=4096)(join)

    @functools.wraps(join)
    def memoized(*args: Any, **kwargs: Any) -> Any:
        if kwargs or sum(len(a) for a in args if isinstance(a, str)) > _MEMO_CHARS:
            return join(*args, **kwargs)
        return cached(*args)

    memoized.cache_info = cached.cache_info  # type: ignore[attr-defined]
    return memoized


# Keys a FeedParserDict resolves with more than a plain lookup: the aliases of its
# keymap ("guid" is "id") and the keys it computes ("category", "enclosures", ...).
_COMPUTED_KEYS = ("category", "enclosures", "license", "updated", "updated_parsed")
_ATOMS = (str, int, float, bool, type(None))


def _fast_feedparser_dicts() -> None:
    """Give feedparser's dict and its win-1252 table fast paths that return the same.

    feedparser calls `FeedParserDict.get` and `in` about 70 times per RSS item, mostly
    on its content parameters (`type`, `base64`, `mode`); each goes through the alias
    lookup of `__getitem__` and, for a missing key, a raised and caught KeyError. For a
    key with no alias and no computed value that is exactly `dict.get`/`dict.__contains__`,
    so those keys take the plain path. feedparser also deep-copies its content
    parameters for every content element (`copy.deepcopy` of a FeedParserDict, which
    goes through `__getattr__`'s KeyError and the pickle protocol); when they hold only
    strings and numbers a dict copy is the same, so `__deepcopy__` makes one. And it maps
    every text through its win-1252 table with `str.translate`, which raises and clears
    a KeyError for each character outside the table's 27 entries: the same table as a
    list indexed by code point (`_translate_table`) gives the same text in 40 % of the
    time on Arabic text.

    Together they take parsing from about 0.38 to 0.28 ms per item (docs/performance.md);
    a test parses both corpora with and without them and compares feedparser's results.
    """
    cls = feedparser.FeedParserDict
    if getattr(cls, "_feeds_fast", False):
        return
    special = frozenset((*_COMPUTED_KEYS, *cls.keymap))
    slow_get, slow_contains = cls.get, cls.__contains__
    plain_get, plain_contains = dict.get, dict.__contains__

    @functools.wraps(slow_get)
    def get(self: Any, key: Any, default: Any = None) -> Any:
        if key in special:
            return slow_get(self, key, default)
        return plain_get(self, key, default)

    @functools.wraps(slow_contains)
    def contains(self: Any, key: Any) -> bool:
        if key in special:
            return slow_contains(self, key)  # type: ignore[no-any-return]
        return plain_contains(self, key)

    def deepcopy(self: Any, memo: dict[int, Any]) -> Any:
        if (
            not self.__dict__
            and special.isdisjoint(self)
            and all(type(v) in _ATOMS for v in self.values())
        ):
            return cls(self)  # what the generic copy builds, without its detours
        out = cls()
        memo[id(self)] = out
        out.__dict__.update(copy.deepcopy(self.__dict__, memo))
        for key, value in self.items():
            out[copy.deepcopy(key, memo)] = copy.deepcopy(value, memo)
        return out

    cls.get, cls.__contains__, cls.__deepcopy__ = get, contains, deepcopy  # type: ignore[method-assign]
    cls._feeds_fast = True
    mixin = feedparser.mixin
    table = getattr(mixin, "_cp1252", None)
    if isinstance(table, dict) and all(
        type(k) is int and k < _TABLE_SIZE and len(v) == 1 for k, v in table.items()
    ):
        mixin._cp1252 = _translate_table(table)


#: Code points below this map through a list in feedparser's win-1252 step; the rest
#: (rare in news text) through the lookup that fails and leaves them as they are.
_TABLE_SIZE = 0x3000


def _translate_table(table: Mapping[int, str]) -> list[int]:
    """`table` (code point -> replacement) as a list indexed by code point, identity
    elsewhere: `str.translate` gives the same text, and looks each character up by index
    where a dict lookup of a character the table lacks raised and cleared a KeyError."""
    out = list(range(_TABLE_SIZE))
    for cp, replacement in table.items():
        out[cp] = ord(replacement)
    return out


#: The feedparser versions these fast paths were checked against (the corpus test).
TESTED = frozenset({"6.0.11", "6.0.12", "6.0.13", "6.0.14"})


def apply() -> bool:
    """Install the fast paths, once, if this feedparser is one they were tested with."""
    if feedparser.__version__ not in TESTED:
        return False
    _memoize_uri_joins()
    _fast_feedparser_dicts()
    return True
