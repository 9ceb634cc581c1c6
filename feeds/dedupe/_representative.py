"""Which of a story's articles represents it (title, link and text of the story's item)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime

_LATIN = re.compile(r"[A-Za-z]")
_LETTER = re.compile(r"[^\W\d_]")


def _latin_first(title: str) -> bool:
    first = _LETTER.search(title)
    return first is not None and _LATIN.match(first.group()) is not None


def representative(
    members: Sequence[tuple[str, str, datetime, str]], priorities: Mapping[str, int]
) -> int:
    """Index in `members` of the article that represents the story.

    `members` are (article_id, source_url, published, title) tuples;
    `priorities` maps a source URL to `SourceConfig.priority` (missing means 0). The rule
    is stable whatever the order of `members`: highest priority, then earliest published,
    then a title that starts with an Arabic word (a Latin first word loses ties), then
    the smallest article id.
    """
    if not members:
        raise ValueError("representative() of no members")

    def rank(i: int) -> tuple[int, datetime, bool, str]:
        article_id, source_url, published, title = members[i]
        return (-priorities.get(source_url, 0), published, _latin_first(title), article_id)

    return min(range(len(members)), key=rank)
