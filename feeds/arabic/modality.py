"""What a headline claims: a leak or rumour, a report or forecast, or an announcement.

A leak about a product and the product's launch two days later are two stories, however
alike their words ("تسريب: مواصفات Pixel 9a" and "جوجل تعلن عن Pixel 9a"). `modality`
reads that from a title's tokens (matching-key words with proclitics stripped, as
`feeds.arabic.matching.tokens` makes them). Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from feeds.arabic.matching import strip_clitics

__all__ = ["Modality", "modality"]


class Modality(Enum):
    LEAK = "leak"  # a leak or rumour
    SPECULATIVE = "speculative"  # a report, a forecast, "may"
    OFFICIAL = "official"  # the company announces, launches, unveils
    PLAIN = "plain"  # none of these said


def _stripped(words: str) -> frozenset[str]:
    return frozenset(strip_clitics(w) for w in words.split())


_LEAK = _stripped(
    """تسريب تسريبات مسرب مسربه مسربا مسربون يسرب تسرب شائعات شائعه اشاعات اشاعه leak leaks
    leaked rumor rumors rumour rumours"""
)
_SPECULATIVE = _stripped(
    """قد يتوقع متوقع متوقعه مرتقب مرتقبه تقرير تقارير reportedly report reports rumored
    expected"""
)
_OFFICIAL = _stripped(
    """رسميا رسمي رسميه تطلق اطلقت يطلق تعلن اعلنت يعلن تكشف كشفت يكشف تطرح طرحت تزيح
    تدشن دشنت official officially launches launched announces announced unveils unveiled"""
)
# "تسريب بيانات" is a data breach, not a product leak.
_BREACH = _stripped("بيانات معلومات بياناتهم")


def modality(title: Iterable[str]) -> Modality:
    """The claim a title makes. A leak word wins over a launch word ("تسريب يكشف ...")
    unless the title says "officially" ("... رسميا بعد تسريبات")."""
    words = frozenset(title)
    official = not _OFFICIAL.isdisjoint(words)
    if not _LEAK.isdisjoint(words) and _BREACH.isdisjoint(words) and "رسميا" not in words:
        return Modality.LEAK
    if not _SPECULATIVE.isdisjoint(words):
        return Modality.SPECULATIVE
    return Modality.OFFICIAL if official else Modality.PLAIN
