"""Inline text flow: spans of printed captions, filled-in values and answers, broken into lines.

A Russian blank reads like running text with gaps: «Дата рождения: «__» ______ г. Пол: муж – 1,
жен – 2». Filled by a computer, each gap is a value standing on its rule, and the chosen answer
is underlined (057/у p. 6). So a form's paragraph is a list of :class:`Span`\\ s laid out
left to right and broken at spaces; a word longer than the whole line (a 60-character drug name,
a hostile test) is cut between characters rather than running off the page, and nothing is
ever dropped or replaced with «…».

This module only measures and places (points, relative to the paragraph's left edge); drawing
and page breaks are :mod:`printing.page`'s job, so the same layout can be measured first and
drawn afterwards (the forms shrink their type until everything fits on one page).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reportlab.lib.units import mm as _rl_mm
from reportlab.pdfbase.pdfmetrics import stringWidth

from printing.fonts import SERIF

MM: float = _rl_mm
"""Points per millimetre (reportlab's constant, typed)."""

__all__ = ["NBSP", "Line", "Placed", "Span", "layout_spans"]

NBSP = "\u00a0"
"""Joins words that must stay on one line («муж – 1»); printed as an ordinary space."""

_TOKENS = re.compile(r"\n| +|[^ \n]+")


@dataclass(frozen=True)
class Span:
    """A piece of a paragraph in one style.

    Attributes:
        text: the words; NBSP keeps two words together, ``\\n`` breaks the line.
        font: a name from :mod:`printing.fonts`.
        size: points; ``None`` takes the paragraph's size.
        underline: underline the words (a chosen answer).
        blank: a fill-in gap: the text stands on a rule at least this many millimetres long.
        fill: the rule runs on to the right edge and the line ends there (a gap that takes the
            rest of the line, as on the blank).
    """

    text: str
    font: str = SERIF
    size: float | None = None
    underline: bool = False
    blank: float = 0.0
    fill: bool = False

    @property
    def ruled(self) -> bool:
        return self.underline or self.blank > 0 or self.fill


@dataclass(frozen=True)
class Placed:
    """One word (or run of spaces, or an empty stretch of rule) at ``x`` points on its line."""

    x: float
    width: float
    text: str
    font: str
    size: float
    span: int  # index into the paragraph's spans: decorations join boxes of the same span
    space: bool


@dataclass
class Line:
    boxes: list[Placed] = field(default_factory=list)
    width: float = 0.0  # the line's full width, for rules that run to the edge
    ends_spans: set[int] = field(default_factory=set)  # spans whose last box is on this line

    @property
    def size(self) -> float:
        """The largest type on the line: what the line's height follows."""
        return max((b.size for b in self.boxes if b.text.strip()), default=0.0)


def _cut(word: str, font: str, size: float, room: float) -> tuple[str, str]:
    """The longest head of ``word`` that fits in ``room`` (at least one character)."""
    lo, hi = 1, len(word)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if stringWidth(word[:mid], font, size) <= room:
            lo = mid
        else:
            hi = mid - 1
    return word[:lo], word[lo:]


def layout_spans(
    spans: list[Span], width: float, size: float, *, indent: float = 0.0
) -> list[Line]:
    """Break ``spans`` into lines no wider than ``width`` points; the first starts at ``indent``."""
    lines = [Line(width=width)]
    x = indent

    def new_line() -> None:
        nonlocal x
        line = lines[-1]
        while line.boxes and line.boxes[-1].space and line.boxes[-1].text:
            line.boxes.pop()  # a space ending a line would only lengthen its underline
        lines.append(Line(width=width))
        x = 0.0

    def put(text: str, w: float, font: str, sz: float, idx: int, space: bool = False) -> None:
        nonlocal x
        lines[-1].boxes.append(Placed(x, w, text, font, sz, idx, space))
        x += w

    for idx, span in enumerate(spans):
        font, sz = span.font, span.size or size
        start_line, start_x = len(lines), x
        blank = span.blank * MM
        short = stringWidth(span.text, font, sz) if blank > 0 else 0.0
        if 0 < blank <= width and short <= blank and "\n" not in span.text:
            # A value shorter than its gap stands centred on it, like a date typed on a blank.
            if x + blank > width:
                new_line()
            lead = (blank - short) / 2
            put("", lead, font, sz, idx, space=True)
            if span.text:
                put(span.text, short, font, sz, idx)
            put("", blank - short - lead, font, sz, idx, space=True)
            lines[-1].ends_spans.add(idx)
            if span.fill:
                if width - x > 0:
                    put("", width - x, font, sz, idx, space=True)
                new_line()
            continue
        for token in _TOKENS.findall(span.text):
            if token == "\n":
                new_line()
                continue
            w = stringWidth(token, font, sz)
            if token.startswith(" "):
                if x > 0:  # a space opening a line is dropped
                    put(token, min(w, max(width - x, 0.0)), font, sz, idx, space=True)
                continue
            if x + w > width and x > 0:
                new_line()
            while w > width:  # longer than a whole line: cut it
                head, token = _cut(token, font, sz, width - x)
                put(head, stringWidth(head, font, sz), font, sz, idx)
                new_line()
                w = stringWidth(token, font, sz)
            put(token, w, font, sz, idx)
        if span.blank > 0:
            drawn = (
                x - start_x
                if len(lines) == start_line
                else sum(b.width for b in lines[-1].boxes if b.span == idx)
            )
            pad = min(blank - drawn, width - x)
            if pad > 0:
                put("", pad, font, sz, idx, space=True)
        lines[-1].ends_spans.add(idx)
        if span.fill:
            rest = width - x
            if rest > 0:
                put("", rest, font, sz, idx, space=True)
            new_line()
    if not lines[-1].boxes and len(lines) > 1:
        lines.pop()
    return lines
