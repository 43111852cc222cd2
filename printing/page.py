"""The one drawing kit every ARM paper form is drawn with (057/у now; prescriptions, sick-leave
printouts and the child-access application later).

Why a kit of its own rather than platypus: a Russian blank is a fixed page, read by position —
captions with gaps, small «(подпись)» captions under rules, numbered answers of which the chosen
one is underlined — and later the same forms are overlaid on pre-printed blanks, where every mark
must land where the blank expects it. So a form draws on a :class:`Sheet` in millimetres from the
paper's top-left corner (as a ruler measures the blank), with y growing down; a cursor
(``sheet.y``) carries the running paragraphs, and a line that would cross the bottom margin
starts a new page, so nothing is ever cut.

Everything a printer might need adjusting is applied here once, for every form:

* ``PrintOptions.offset_mm`` — the per-printer shift, applied as one translation of the whole
  page (text, rules, barcodes and marks alike); positive x moves right, positive y moves down;
* ``duplicate`` / ``draft`` — a boxed «ДУБЛИКАТ» / «ЧЕРНОВИК — не заменяет бланк» near the top
  right of every page and the same words in light grey across it, so a reprint or a draft can
  never pass for the original.

A form may be laid out twice: :func:`measure` runs the same drawing code on a sheet without a
canvas (nothing is drawn, the cursor and pages advance), so a form can pick the largest type
that keeps it on one page before :func:`render_document` draws it for real.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.code128 import Code128
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm as _rl_mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from printing._outline import draw_outlined
from printing.flow import NBSP, Line, Span, layout_spans
from printing.fonts import SERIF, SERIF_BOLD, register_fonts

MM: float = _rl_mm
"""Points per millimetre (reportlab's constant, typed)."""

__all__ = [
    "CAPTION_SIZE",
    "DRAFT_MARK",
    "DUPLICATE_MARK",
    "MM",
    "PLAIN",
    "DocumentInfo",
    "Margins",
    "PrintOptions",
    "Sheet",
    "choices",
    "measure",
    "render_document",
]

DUPLICATE_MARK = "ДУБЛИКАТ"
DRAFT_MARK = "ЧЕРНОВИК — не заменяет бланк"
CAPTION_SIZE = 7.0
"""Points: the small captions under rules — «(подпись)», «(наименование …)»."""

_ASCENT = 0.9  # baseline below a line's top, in ems (Times: ascender 0.89)
_UNDERLINE = 1.6  # points below the baseline: clear of the descenders' worst, inside the line
_MAX_OFFSET_MM = 30.0
_QUIET = 2.5  # mm of white each side of a barcode


@dataclass(frozen=True)
class PrintOptions:
    """How one printout differs from the plain form.

    Attributes:
        duplicate: a reprint of an issued document: «ДУБЛИКАТ» on every page.
        draft: not a valid document: «ЧЕРНОВИК — не заменяет бланк» on every page.
        offset_mm: (x, y) shift of everything drawn, for a printer that places the page off
            true (measured with the calibration sheet) or for overlay on pre-printed blanks;
            positive x moves right, positive y moves down the page.
    """

    duplicate: bool = False
    draft: bool = False
    offset_mm: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        dx, dy = self.offset_mm
        for v in (dx, dy):
            if not math.isfinite(v) or abs(v) > _MAX_OFFSET_MM:
                raise ValueError(
                    f"Смещение печати: не более {_MAX_OFFSET_MM:g} мм по каждой оси, задано {v}"
                )


PLAIN = PrintOptions()
"""The original, on the printer as it is: no marks, no offset."""


@dataclass(frozen=True)
class DocumentInfo:
    """The PDF's metadata (shown by viewers and kept in the archive); creator is always ARM."""

    title: str
    subject: str = ""
    author: str = ""


@dataclass(frozen=True)
class Margins:
    """Millimetres; the defaults are the official blanks' (057/у: 10 mm, left 15 mm)."""

    top: float = 10.0
    right: float = 10.0
    bottom: float = 10.0
    left: float = 15.0


def choices(
    items: Sequence[tuple[int, str]],
    chosen: int | Collection[int] | None,
    *,
    sep: str = ", ",
    separators: Sequence[str] | None = None,
    end: str = "",
    font: str = SERIF,
) -> list[Span]:
    """Numbered answers as the blank prints them («экстренная – 1, …»), the chosen underlined.

    Each answer's words are held together with its number, so «– 1» never starts a line.
    ``separators`` gives the text after each answer but the last, where the blank mixes
    commas and semicolons; ``end`` follows the last one.
    """
    picked = {chosen} if isinstance(chosen, int) else set(chosen or ())
    spans: list[Span] = []
    for i, (number, label) in enumerate(items):
        words = label.split(" ")
        text = " ".join(words[:-1] + [f"{words[-1]}{NBSP}–{NBSP}{number}"])
        spans.append(Span(text, font=font, underline=number in picked))
        if i < len(items) - 1:
            spans.append(Span(separators[i] if separators else sep, font=font))
    if end:
        spans.append(Span(end, font=font))
    return spans


class Sheet:
    """The page being drawn: millimetres from the paper's top-left corner, y growing down.

    ``canvas=None`` makes a measuring sheet: every drawing call is skipped while the cursor
    and the page count advance exactly as they would on paper.
    """

    def __init__(
        self,
        canvas: Canvas | None,
        options: PrintOptions = PLAIN,
        margins: Margins = Margins(),
        page_size: tuple[float, float] = A4,
    ) -> None:
        register_fonts()
        self._c = canvas
        self.options = options
        self.width: float = page_size[0] / MM
        self.height: float = page_size[1] / MM
        self.left = margins.left
        self.right = self.width - margins.right
        self.top = margins.top
        self.bottom = self.height - margins.bottom
        self.page = 0
        self.y = self.top
        self.mark_anchor: tuple[float, float] = (self.right, self.top)
        """Top-right corner of the marks' box on the current page; a form may move it."""
        self._start_page()

    # --- pages ---------------------------------------------------------------------------
    @property
    def measuring(self) -> bool:
        return self._c is None

    @property
    def content_width(self) -> float:
        return self.right - self.left

    def _marks(self) -> list[str]:
        return [m for m, on in ((DUPLICATE_MARK, self.options.duplicate),
                                (DRAFT_MARK, self.options.draft)) if on]  # fmt: skip

    def _start_page(self) -> None:
        self.page += 1
        self.y = self.top
        self.mark_anchor = (self.right, self.top)
        if self._c is None:
            return
        dx, dy = self.options.offset_mm
        self._c.translate(dx * MM, -dy * MM)  # the whole page moves: one place, every form
        self._diagonal_marks()

    def _finish_page(self) -> None:
        if self._c is not None:
            self._mark_boxes()

    def new_page(self) -> None:
        self._finish_page()
        if self._c is not None:
            self._c.showPage()
        self._start_page()

    def finish(self) -> None:
        """Close the last page (draws its marks); :func:`render_document` calls it."""
        self._finish_page()

    def ensure(self, height: float) -> None:
        """Start a new page unless ``height`` mm still fit above the bottom margin."""
        if self.y + height > self.bottom + 1e-6 and self.y > self.top:
            self.new_page()

    def space(self, height: float) -> None:
        self.y += height

    # --- primitives (mm; y of text is its baseline) ------------------------------------------
    def _pt(self, x: float, y: float) -> tuple[float, float]:
        return x * MM, (self.height - y) * MM

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        font: str = SERIF,
        size: float = 10.5,
        align: str = "left",
        gray: float = 0.0,
    ) -> None:
        if self._c is None:
            return
        px, py = self._pt(x, y)
        c = self._c
        c.setFillGray(gray)
        c.setFont(font, size)
        text = text.replace(NBSP, " ")
        if align == "center":
            c.drawCentredString(px, py, text)
        elif align == "right":
            c.drawRightString(px, py, text)
        else:
            c.drawString(px, py, text)

    def hline(self, x1: float, x2: float, y: float, *, width: float = 0.5) -> None:
        self.line(x1, y, x2, y, width=width)

    def line(self, x1: float, y1: float, x2: float, y2: float, *, width: float = 0.5) -> None:
        if self._c is None:
            return
        self._c.setStrokeGray(0)
        self._c.setLineWidth(width)
        self._c.line(*self._pt(x1, y1), *self._pt(x2, y2))

    def rect(self, x: float, y: float, w: float, h: float, *, width: float = 0.8) -> None:
        """A box with a white fill (it covers what is under it), top-left at (x, y)."""
        if self._c is None:
            return
        c = self._c
        c.setStrokeGray(0)
        c.setFillGray(1)
        c.setLineWidth(width)
        px, py = self._pt(x, y + h)
        c.rect(px, py, w * MM, h * MM, stroke=1, fill=1)

    @staticmethod
    def text_width(text: str, *, font: str = SERIF, size: float = 10.5) -> float:
        return float(stringWidth(text.replace(NBSP, " "), font, size)) / MM

    # --- running text at the cursor ----------------------------------------------------------
    def paragraph(
        self,
        spans: Sequence[Span] | str,
        *,
        size: float = 10.5,
        x: float | None = None,
        width: float | None = None,
        leading: float = 1.2,
        align: str = "left",
        indent: float = 0.0,
    ) -> None:
        """Flow ``spans`` at the cursor, breaking lines (and pages) as needed.

        ``leading`` is in ems of the largest type on each line; ``indent`` (mm) moves the
        first line only.
        """
        if isinstance(spans, str):
            spans = [Span(spans)]
        x0 = self.left if x is None else x
        w = (self.right - x0) if width is None else width
        lines = layout_spans(list(spans), w * MM, size, indent=indent * MM)
        for line in lines:
            em = (line.size or size) / MM
            self.ensure(em * leading)
            shift = 0.0
            if align == "center" and line.boxes:
                used = line.boxes[-1].x + line.boxes[-1].width
                shift = (line.width - used) / 2 / MM
            self._draw_line(line, list(spans), x0 + shift, self.y + em * _ASCENT)
            self.y += em * leading

    def _draw_line(self, line: Line, spans: list[Span], x0: float, baseline: float) -> None:
        if self._c is None:
            return
        run: list[str] = []
        run_x = 0.0
        run_style: tuple[str, float] | None = None
        end_x = 0.0

        def flush() -> None:
            if run and run_style is not None and "".join(run).strip():
                self.text(x0 + run_x / MM, baseline, "".join(run), font=run_style[0],
                          size=run_style[1])  # fmt: skip

        for b in line.boxes:
            style = (b.font, b.size)
            if not b.text:  # an empty stretch of rule: no text, and the next run starts anew
                flush()
                run, run_style = [], None
                continue
            if style != run_style or abs(b.x - end_x) > 0.01:
                flush()
                run, run_x, run_style = [], b.x, style
            run.append(b.text)
            end_x = b.x + b.width
        flush()
        # Rules: one per ruled span on this line, from its first box to its last; a gap whose
        # value goes on to the next line is ruled to the edge, as a blank's line would be.
        extent: dict[int, tuple[float, float]] = {}
        for b in line.boxes:
            lo, hi = extent.get(b.span, (b.x, b.x + b.width))
            extent[b.span] = (min(lo, b.x), max(hi, b.x + b.width))
        for idx, (lo, hi) in extent.items():
            span = spans[idx]
            if not span.ruled:
                continue
            if (span.blank > 0 or span.fill) and idx not in line.ends_spans:
                hi = line.width
            y = baseline + _UNDERLINE / MM
            self.hline(x0 + lo / MM, x0 + hi / MM, y, width=0.6 if span.underline else 0.4)

    def field(
        self,
        value: str,
        *,
        caption: str = "",
        x: float | None = None,
        width: float | None = None,
        size: float = 10.5,
        align: str = "left",
        font: str = SERIF,
        leading: float = 1.2,
    ) -> None:
        """A value written on a rule that spans ``width``, with a small caption under it.

        A long value wraps onto further rules; an empty one leaves the bare rule to fill by
        hand.
        """
        x0 = self.left if x is None else x
        w = (self.right - x0) if width is None else width
        lines = layout_spans([Span(value, font=font)], w * MM, size) or [Line(width=w * MM)]
        em = size / MM
        for line in lines:
            self.ensure(em * leading + (CAPTION_SIZE / MM * 1.1 if caption else 0))
            baseline = self.y + em * _ASCENT
            text = "".join(b.text for b in line.boxes)
            if align == "center":
                self.text(x0 + w / 2, baseline, text, font=font, size=size, align="center")
            else:
                self.text(x0, baseline, text, font=font, size=size)
            self.hline(x0, x0 + w, baseline + _UNDERLINE / MM, width=0.4)
            self.y += em * leading
        if caption:
            self.caption(caption, x=x0, width=w)

    def caption(self, text: str, *, x: float, width: float) -> None:
        """The small caption of the rule just above the cursor, centred under it."""
        em = CAPTION_SIZE / MM
        self.y -= 0.6  # tuck it up under the rule it names
        for line in layout_spans([Span(text)], width * MM, CAPTION_SIZE):
            s = "".join(b.text for b in line.boxes)
            self.text(x + width / 2, self.y + em * _ASCENT, s, size=CAPTION_SIZE, align="center")
            self.y += em * 1.1

    # --- codes ---------------------------------------------------------------------------
    @staticmethod
    def _code128(value: str, max_width: float, height: float) -> tuple[Code128, float]:
        modules = Code128(value, barWidth=1, quiet=0, humanReadable=0).width
        bar = min(0.33, max(0.19, (max_width - 2 * _QUIET) / modules))
        code = Code128(value, barWidth=bar * MM, barHeight=height * MM, quiet=0, humanReadable=0)
        return code, code.width / MM + 2 * _QUIET

    @classmethod
    def code128_width(cls, value: str, *, max_width: float) -> float:
        """The width (mm, quiet zones included) :meth:`code128` will take."""
        return cls._code128(value, max_width, 1.0)[1]

    def code128(
        self, value: str, *, x: float, y: float, max_width: float, height: float = 9.0
    ) -> float:
        """A Code128 barcode of ``value`` with its top-left at (x, y); returns its width in mm.

        Bars are 0.33 mm where there is room, down to 0.19 mm (about two dots of a 300 dpi
        printer) for a long value, never narrower: a scanner must still read it. The width
        includes a quiet zone of 2.5 mm on each side, which scanners need.
        """
        code, width = self._code128(value, max_width, height)
        if self._c is not None:
            self._c.setFillGray(0)
            code.drawOn(self._c, *self._pt(x + _QUIET, y + height))
        return width

    def qr(self, value: str, *, x: float, y: float, size: float = 20.0) -> None:
        """A QR code (error level M) of ``value``, ``size`` mm square, top-left at (x, y)."""
        if self._c is None:
            return
        widget = QrCodeWidget(value, barLevel="M")
        x1, y1, x2, y2 = widget.getBounds()
        s = size * MM
        drawing = Drawing(s, s, transform=[s / (x2 - x1), 0, 0, s / (y2 - y1), 0, 0])
        drawing.add(widget)
        renderPDF.draw(drawing, self._c, *self._pt(x, y + size))

    # --- marks -----------------------------------------------------------------------------
    def _diagonal_marks(self) -> None:
        """The marks in light grey across the page, drawn first so the form stays legible.

        They are shapes, not text (see :mod:`printing._outline`): the boxed marks carry the
        words for ``pdftotext``; these would only scatter letters through its output.
        """
        assert self._c is not None
        marks = self._marks()
        if not marks:
            return
        c = self._c
        c.saveState()
        c.setFillGray(0.88)
        cx, cy = self._pt(self.width / 2, self.height / 2)
        c.translate(cx, cy)
        c.rotate(math.degrees(math.atan2(self.height, self.width)))
        widest = max(stringWidth(m, SERIF_BOLD, 1.0) for m in marks)
        size = min(72.0, 0.55 * math.hypot(self.width, self.height) * MM / widest)
        for i, mark in enumerate(marks):
            w = stringWidth(mark, SERIF_BOLD, size)
            draw_outlined(c, mark, SERIF_BOLD, size, -w / 2, (len(marks) / 2 - i - 0.8) * size * 2)
        c.restoreState()

    def _mark_boxes(self) -> None:
        x_right, y = self.mark_anchor
        for mark in self._marks():
            size = 11.0
            w = self.text_width(mark, font=SERIF_BOLD, size=size) + 4
            h = size / MM + 2.5
            self.rect(x_right - w, y, w, h, width=1.2)
            self.text(x_right - w / 2, y + 1.2 + size / MM * 0.78, mark, font=SERIF_BOLD,
                      size=size, align="center")  # fmt: skip
            y += h + 1.5


def measure(
    draw: Callable[[Sheet], None],
    options: PrintOptions = PLAIN,
    margins: Margins = Margins(),
) -> Sheet:
    """Run ``draw`` on a sheet that draws nothing; its ``page`` and ``y`` say where it ended."""
    sheet = Sheet(None, options, margins)
    draw(sheet)
    return sheet


def render_document(
    draw: Callable[[Sheet], None],
    info: DocumentInfo,
    options: PrintOptions = PLAIN,
    margins: Margins = Margins(),
) -> bytes:
    """Draw a document and return its PDF bytes (A4, fonts embedded, nothing written to disk).

    The canvas is *invariant*: no creation date, no random document id, so the same data gives
    the same bytes — tests compare renders, and an archived copy can be re-made and checked.
    """
    register_fonts()
    buf = io.BytesIO()
    canvas = Canvas(
        buf,
        pagesize=A4,
        invariant=1,
        pageCompression=1,
        lang="ru-RU",
        initialFontName=SERIF,  # else an unused, unembedded Helvetica is referenced
        initialFontSize=10.5,
    )
    canvas.setTitle(info.title)
    canvas.setSubject(info.subject)
    canvas.setAuthor(info.author)
    canvas.setCreator("ARM")
    canvas.setProducer("ARM (reportlab)")
    sheet = Sheet(canvas, options, margins)
    draw(sheet)
    sheet.finish()
    canvas.showPage()
    canvas.save()
    return buf.getvalue()
