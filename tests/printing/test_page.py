"""The drawing kit: line breaking, fonts, codes, metadata and the calibration sheet."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics

from printing.calibration import CROSS_A, render_calibration_sheet
from printing.flow import NBSP, Span, layout_spans
from printing.fonts import SERIF, SERIF_BOLD, SERIF_ITALIC, register_fonts
from printing.page import DocumentInfo, PrintOptions, Sheet, choices, render_document
from tests.printing.conftest import gray_page, page_count, pdf_info, pdf_text, pdf_words


def test_fonts_register_once_from_many_threads() -> None:
    errors: list[BaseException] = []

    def go() -> None:
        try:
            register_fonts()
        except BaseException as exc:  # noqa: BLE001 — collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for name in (SERIF, SERIF_BOLD, SERIF_ITALIC):
        assert pdfmetrics.getFont(name).face.name  # registered, and the same object each time


def test_lines_never_exceed_the_width_even_for_one_endless_word() -> None:
    width = 50 * mm
    spans = [Span("Начало "), Span("Ж" * 200, underline=True), Span(" конец")]
    lines = layout_spans(spans, width, 10.5)
    assert len(lines) > 3
    for line in lines:
        for box in line.boxes:
            assert box.x + box.width <= width + 0.01
    text = "".join(b.text for line in lines for b in line.boxes)
    assert text.replace(" ", "") == "Начало" + "Ж" * 200 + "конец"


def test_answer_keeps_its_number_on_its_line() -> None:
    spans = choices([(1, "первый вариант"), (2, "второй вариант")], 2)
    assert [s.underline for s in spans] == [False, False, True]
    assert spans[2].text == f"второй вариант{NBSP}–{NBSP}2"
    # so a narrow line breaks before «вариант – 2», not before «– 2»
    lines = layout_spans(spans, 40 * mm, 10.5)
    assert all(not b.text.startswith("–") for line in lines for b in line.boxes)


def test_short_value_stands_centred_on_its_blank() -> None:
    (line,) = layout_spans([Span("12", blank=20)], 100 * mm, 10.5)
    pad, value, rest = line.boxes
    assert value.text == "12"
    assert pad.width == pytest.approx(rest.width)
    assert pad.width + value.width + rest.width == pytest.approx(20 * mm)


def test_codes_metadata_and_text_helpers(tmp_path: Path) -> None:
    def draw(sheet: Sheet) -> None:
        sheet.paragraph("Код: ")
        width = sheet.code128("2025-000123", x=20, y=30, max_width=60)
        assert 20 < width <= 60
        sheet.qr("https://example.invalid/emk?code=12345678", x=120, y=30, size=25)
        sheet.y = 70
        sheet.field("Иванов И. И.", caption="(фамилия, инициалы)", width=80, align="center")
        sheet.paragraph([Span("Пол: "), *choices([(1, "муж"), (2, "жен")], 1, end=".")], size=12)

    info = DocumentInfo(title="Проба", subject="Кит", author="Врач")
    pdf = render_document(draw, info)
    meta = pdf_info(pdf)
    assert (meta["Title"], meta["Subject"], meta["Author"], meta["Creator"]) == (
        "Проба", "Кит", "Врач", "ARM",
    )  # fmt: skip
    text = pdf_text(pdf)
    for s in ("Код:", "Иванов И. И.", "(фамилия, инициалы)", "Пол: муж – 1, жен – 2."):
        assert s in text
    width, height, pixels = gray_page(pdf, tmp_path, dpi=100)
    # the barcode's area (x 20–80 mm, y 30–39 mm) and the QR's are far from blank
    for x0, y0, x1, y1 in ((25, 31, 70, 38), (121, 31, 144, 54)):
        area = [pixels[r * width + c] for r in range(int(y0 * 100 / 25.4), int(y1 * 100 / 25.4))
                for c in range(int(x0 * 100 / 25.4), int(x1 * 100 / 25.4))]  # fmt: skip
        dark = sum(1 for p in area if p < 128) / len(area)
        assert 0.2 < dark < 0.8


def test_calibration_sheet_crosses_follow_the_offset() -> None:
    label = f"{CROSS_A[0]:g}"

    def cross_label(pdf: bytes) -> tuple[float, float]:
        return next((w.x0, w.y0) for w in pdf_words(pdf) if w.text == label)

    plain = render_calibration_sheet()
    moved = render_calibration_sheet(PrintOptions(offset_mm=(-1.5, 2.0)))
    assert page_count(plain) == 1
    (x0, y0), (x1, y1) = cross_label(plain), cross_label(moved)
    assert x1 - x0 == pytest.approx(-1.5 * mm, abs=0.05)
    assert y1 - y0 == pytest.approx(2.0 * mm, abs=0.05)
    assert "X = −1,5 мм, Y = +2,0 мм" in pdf_text(moved)
    assert "Калибровка печати" in pdf_text(plain)
