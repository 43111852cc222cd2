"""The calibration sheet: how far off does this printer put the page?

Printers shift the page by a millimetre or two (more on pre-printed blanks fed by hand). The
sheet has two crosses at known places — А at 20 mm from the paper's left and top edges, Б at
100 mm — and a millimetre ruler. The user prints it at 100 % scale, measures cross А from the
paper's edges with a ruler, and enters the difference, negated, as the printer's offset; the
ruler between the crosses checks that the driver did not scale the page («по размеру
страницы»). The sheet is drawn *with* the current offset applied, like every form, so printing
it again shows whether the offset now set is right.
"""

from __future__ import annotations

from printing.flow import Span
from printing.fonts import SERIF, SERIF_BOLD
from printing.page import PLAIN, DocumentInfo, Margins, PrintOptions, Sheet, render_document

__all__ = ["CROSS_A", "CROSS_B", "render_calibration_sheet"]

CROSS_A = (20.0, 20.0)
CROSS_B = (100.0, 100.0)
"""Millimetres from the paper's left and top edges to the centres of the two crosses."""


def _cross(sheet: Sheet, x: float, y: float, name: str) -> None:
    sheet.line(x - 8, y, x + 8, y, width=0.3)
    sheet.line(x, y - 8, x, y + 8, width=0.3)
    sheet.text(x + 1.5, y - 1.5, name, font=SERIF_BOLD, size=10)
    sheet.text(x + 1.5, y + 4.5, f"{x:g} мм / {y:g} мм", size=7)


def _ruler(sheet: Sheet, x0: float, x1: float, y: float) -> None:
    """A horizontal millimetre ruler: a tick per mm, longer every 5 and 10, numbered in cm."""
    sheet.line(x0, y, x1, y, width=0.3)
    for i in range(int(x1 - x0) + 1):
        x = x0 + i
        tick = 5.0 if i % 10 == 0 else 3.0 if i % 5 == 0 else 1.8
        sheet.line(x, y, x, y + tick, width=0.2)
        if i % 10 == 0:
            sheet.text(x, y + 8.5, f"{i // 10}", size=7, align="center")
    sheet.text(x1 + 2, y + 5, "см", size=7)


def _num(v: float) -> str:
    return f"{v:+.1f}".replace(".", ",").replace("-", "−")


def render_calibration_sheet(options: PrintOptions = PLAIN) -> bytes:
    """An A4 page to measure a printer's shift, drawn with ``options.offset_mm`` applied."""

    def draw(sheet: Sheet) -> None:
        _cross(sheet, *CROSS_A, "А")
        _cross(sheet, *CROSS_B, "Б")
        # Between the crosses, from x = 20 mm: the ruler's 8 cm should measure 80 mm.
        _ruler(sheet, CROSS_A[0], CROSS_B[0], 60.0)
        dx, dy = options.offset_mm
        sheet.y = 125.0
        sheet.paragraph([Span("Калибровка печати", font=SERIF_BOLD)], size=14, x=20, width=170)
        sheet.space(2)
        steps = [
            "1. Печатайте в масштабе 100 % (без «подогнать по размеру страницы»). Между "
            "делениями 0 и 8 линейки на листе должно быть ровно 80 мм; иначе принтер "
            "масштабирует лист, и смещение не поможет.",
            "2. Измерьте линейкой расстояние от левого края листа до вертикальной линии креста А "
            "и от верхнего края листа до его горизонтальной линии. Должно быть 20 мм и 20 мм.",
            "3. Разница с 20 мм — это сдвиг принтера. Смещение печати задайте с обратным знаком: "
            "крест правее на 2 мм — смещение по X −2 мм; ниже на 1,5 мм — по Y −1,5 мм "
            "(положительное X сдвигает печать вправо, положительное Y — вниз).",
            "4. Напечатайте этот лист ещё раз: крест А должен оказаться на 20 мм от краёв, "
            "крест Б — на 100 мм.",
            f"Смещение, с которым напечатан этот лист: X = {_num(dx)} мм, Y = {_num(dy)} мм.",
        ]
        for step in steps:
            sheet.paragraph([Span(step, font=SERIF)], size=11, x=20, width=170, leading=1.3)
            sheet.space(1.5)

    info = DocumentInfo(title="Калибровка печати", subject="Лист калибровки смещения принтера")
    return render_document(draw, info, options, Margins(top=5, right=5, bottom=5, left=5))
