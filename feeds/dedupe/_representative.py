"""Which of a story's articles represents it (title, link and text of the story's item)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import NamedTuple

_LATIN = re.compile(r"[A-Za-z]")
_LETTER = re.compile(r"[^\W\d_]")
#: Characters of markup from which an article counts as complete (a whole article),
#: and as long (more than an excerpt). Within one tier the earliest article leads:
#: a few characters more must not hand the story to a later rewrite.
COMPLETE = 2000
LONG = 600

# What a newsroom puts before or after a headline to say what kind of item it is
# ("عاجل: …", "فيديو | …", "… (بالصور)", "… - إنفوغراف"): set off by a colon, a bar, a
# dash or two dots, or in brackets; a headline that only starts with the word ("تحديث
# جديد لنظام iOS", "شاهد أول صور …") is not tagged.
_TAGS = (
    "عاجل", "عاجلة", "فيديو", "بالفيديو", "صور", "بالصور", "شاهد", "شاهدوا", "إنفوجراف",
    "إنفوغراف", "انفوجراف", "انفوغراف", "فيديوجراف", "حصري", "حصريا", "خاص", "مباشر",
    "محدث", "تحديث", "تقرير", "breaking", "video", "live", "exclusive", "update", "updated",
)  # fmt: skip
_TAG = "(?:" + "|".join(_TAGS) + ")"
_TAGGED = re.compile(
    rf"^\W*(?:[\[(]\s*{_TAG}\s*[\])]|{_TAG}\s*(?:[:|\-–—]|\.\.))"
    rf"|(?:[\[(]\s*{_TAG}\s*[\])]|(?:[|\-–—]|\.\.)\s*{_TAG})\W*$",
    re.IGNORECASE,
)


class Candidate(NamedTuple):
    """What the choice of a story's lead looks at, for one of its articles."""

    article_id: str
    source_url: str
    published: datetime
    title: str
    language: str = "ar"
    length: int = 0  # characters of its longest markup (content, else summary)
    headline: bool = True  # its title is its own, not a label its feed gives others


def _latin_first(title: str) -> bool:
    first = _LETTER.search(title)
    return first is not None and _LATIN.match(first.group()) is not None


def _tagged(title: str) -> bool:
    """Whether `title` carries a newsroom's tag (`_TAGS`) before or after the headline."""
    return _TAGGED.search(title) is not None


def _tier(length: int) -> int:
    return 0 if length >= COMPLETE else 1 if length >= LONG else 2 if length else 3


def representative(members: Sequence[Candidate], priorities: Mapping[str, int]) -> int:
    """Index in `members` of the article that represents the story.

    `priorities` maps a source URL to `SourceConfig.priority` (missing means 0). The
    rule is stable whatever the order of `members`: highest priority; then a headline
    of its own (a label, "منشور جديد" over every post of a feed, names no story); then
    an Arabic article; then a title without a tag ("عاجل:", "(فيديو)": `_TAGS`); then a
    title that starts with an Arabic word (a Latin first word loses); then the most
    complete (a whole article, then more than an excerpt, then an excerpt, then a
    title alone: an aggregator's item that only links the story); then the
    earliest published; then the smallest id.
    """
    if not members:
        raise ValueError("representative() of no members")

    def rank(i: int) -> tuple[int, bool, bool, bool, bool, int, datetime, str]:
        m = members[i]
        return (
            -priorities.get(m.source_url, 0),
            not m.headline,
            m.language != "ar",
            _tagged(m.title),
            _latin_first(m.title),
            _tier(m.length),
            m.published,
            m.article_id,
        )

    return min(range(len(members)), key=rank)
