"""One story as a card of the reading page: picture, headline, outlet, times, coverage.

Direction is decided per block from the detected language of its own text, never left
to `dir="auto"`: an Arabic headline that starts with a product name ("Gemini 4 يعمل
محليًا") would otherwise be laid out left to right, its phrases reversed. Latin runs
inside Arabic text are isolated in `<bdi>` so that their neutral neighbours (spaces,
digits, punctuation) stay on the Arabic side.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from html import escape

from ..arabic import script
from ..types import SourceRef, Story
from . import _common as c

#: Other outlets named on a card before "and N more".
SHOWN_OUTLETS = 3
#: Characters of the summary shown as the card's excerpt.
EXCERPT = 220
#: The thumbnail's box, in CSS pixels (16:9, the usual news picture).
THUMB = (160, 90)

MONTHS = (
    "يناير",
    "فبراير",
    "مارس",
    "أبريل",
    "مايو",
    "يونيو",
    "يوليو",
    "أغسطس",
    "سبتمبر",
    "أكتوبر",
    "نوفمبر",
    "ديسمبر",
)

_L = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f"
# Latin words with their digits and product-name punctuation, ending on a letter or
# digit so that a sentence's final period stays outside the isolate.
_LATIN_RUN = re.compile(rf"[0-9]*[{_L}](?:[{_L}0-9+#.\-'’_/&]|\s+(?=[{_L}0-9]))*(?<=[{_L}0-9+#])")


def attrs(text: str) -> str:
    """`dir` and `lang` of a block from its own text: only English reads left to right."""
    if script.language(text) == "en":
        return 'dir="ltr" lang="en"'
    return 'dir="rtl" lang="ar"'


def isolated(text: str) -> str:
    """`text` escaped, with each Latin run inside Arabic text wrapped in `<bdi>`."""
    if script.language(text) == "en":
        return escape(text)
    out, last = [], 0
    for run in _LATIN_RUN.finditer(text):
        out.append(escape(text[last : run.start()]))
        out.append(f"<bdi>{escape(run[0])}</bdi>")
        last = run.end()
    out.append(escape(text[last:]))
    return "".join(out)


def date_label(when: datetime, zone: tzinfo) -> str:
    local = c.utc(when).astimezone(zone)
    return f"{local.day} {MONTHS[local.month - 1]} {local.year}، {local:%H:%M}"


def time_html(when: datetime, zone: tzinfo) -> str:
    """A date an Arabic reader reads at a glance; the machine-readable one in `datetime`."""
    return f'<time datetime="{c.rfc3339(when)}">{escape(date_label(when, zone))}</time>'


def _outlet(ref: SourceRef) -> str:
    label = c.source_label(ref)
    title = f' title="{escape(ref.title)}"' if ref.title else ""
    return c.linked(ref.url, f"<bdi>{escape(label)}</bdi>", title)


def _coverage(story: Story) -> str:
    others = c.other_sources(story)
    if not others:
        return ""
    links = "، ".join(_outlet(s) for s in others[:SHOWN_OUTLETS])
    more = len(others) - SHOWN_OUTLETS
    tail = f" و{more} غيرها" if more > 0 else ""  # "and N more"
    return f'<p class="also">{c.ALSO_COVERED}: {links}{tail}</p>'


def _excerpt(story: Story) -> str:
    text = c.plain_text(story.summary_html or story.content_html)
    if len(text) > EXCERPT:
        text = text[:EXCERPT].rsplit(" ", 1)[0].rstrip(" ,.;:-–—|،؛") + "…"
    if not c.says_more(text, story.title):
        return ""
    return f'<p class="excerpt" {attrs(text)}>{isolated(text)}</p>'


def _thumb(story: Story) -> str:
    if not story.image or c.safe_href(story.image) == "#":
        return ""
    width, height = THUMB
    return (
        f'<img class="thumb" src="{escape(story.image)}" alt="" width="{width}" '
        f'height="{height}" loading="lazy" decoding="async" referrerpolicy="no-referrer">'
    )


def _meta(story: Story, zone: tzinfo) -> str:
    lead = story.sources[0] if story.sources else None
    parts = [f'<span class="lead">{_outlet(lead)}</span>'] if lead else []
    parts.append(time_html(c.first_seen(story), zone))
    if story.updated > c.first_seen(story):
        parts.append(f"آخر تحديث {time_html(story.updated, zone)}")
    if (told := c.outlets(story)) > 1:
        parts.append(count_sources(told))
    return f'<p class="meta">{" · ".join(parts)}</p>'


def count_sources(n: int) -> str:
    """ "3 مصادر": the counted noun's Arabic number agreement (dual, plural, accusative)."""
    if n == 2:
        return "مصدران"
    return f"{n} مصادر" if 3 <= n % 100 <= 10 else f"{n} مصدرًا" if n > 10 else f"{n} مصدر"


def _episode(story: Story) -> str:
    """A link to the episode's file (a podcast's MP3): the page plays nothing itself."""
    if not story.media:
        return ""
    what = "الفيديو" if story.media.type.startswith("video/") else "الحلقة الصوتية"
    return f'<p class="also">{c.linked(story.media.url, f"▶ {what}")}</p>'


def _topics(story: Story) -> str:
    if not story.topics:
        return ""
    labels = "".join(f"<li>{escape(c.topic_label(t))}</li>" for t in story.topics)
    return f'<ul class="topics" aria-label="الموضوعات">{labels}</ul>'


def card(story: Story, zone: tzinfo) -> str:
    """The card of one cleaned story (`_common.prepare`)."""
    headline = c.linked(story.url, isolated(story.title))
    return "".join(
        (
            f'<li><article class="card" {attrs(story.title)}>',
            _thumb(story),
            f'<div class="body"><h3>{headline}</h3>',
            f'<div lang="ar" dir="rtl">{_meta(story, zone)}</div>',
            _excerpt(story),
            f'<div lang="ar" dir="rtl">{_episode(story)}{_coverage(story)}{_topics(story)}</div>',
            "</div></article></li>",
        )
    )
