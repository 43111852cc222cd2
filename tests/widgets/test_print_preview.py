"""«Предварительный просмотр»: a real 057/у shown, printed into a PDF printer, saved, closed."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from printing.referral_057 import render_referral_057
from tests.printing.conftest import gray_page, page_count, pdf_text, sample_referral
from widgets.print_preview import PdfStatus, PrintPreviewDialog


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return render_referral_057(sample_referral())


def _open(qtbot: QtBot, pdf: bytes) -> PrintPreviewDialog:
    dlg = PrintPreviewDialog(
        pdf, "Направление 057/у № 2025-000123", filename="Направление 057у 2025-000123.pdf"
    )
    qtbot.addWidget(dlg)
    dlg.resize(1000, 700)
    with qtbot.waitSignal(dlg.view.sig_rendered, timeout=5000):
        dlg.show()
    qtbot.waitExposed(dlg)
    return dlg


def test_shows_the_form_fitted_to_the_width(qtbot: QtBot, pdf: bytes) -> None:
    dlg = _open(qtbot, pdf)
    assert dlg.document.status is PdfStatus.READY
    assert dlg.document.page_count == 1
    assert dlg.caption.text() == "Направление 057/у № 2025-000123"
    page = dlg.view.page_label(0)
    assert not page.pixmap().isNull()
    viewport = dlg.view.viewport().width()
    assert viewport - 40 <= page.width() <= viewport  # fit to width
    assert page.height() / page.width() == pytest.approx(297 / 210, rel=0.02)  # A4 portrait
    width_before = page.width()
    qtbot.keyClick(dlg, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    assert dlg.view.zoom > 1.0
    assert page.width() > width_before
    assert dlg.zoom_label.text().endswith("%")
    qtbot.keyClick(dlg, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert dlg.view.zoom == 1.0
    assert page.width() == width_before


def test_print_to_a_pdf_printer_gives_the_page_on_paper(
    qtbot: QtBot, pdf: bytes, tmp_path: Path
) -> None:
    dlg = _open(qtbot, pdf)
    out = tmp_path / "printed.pdf"
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(out))
    with qtbot.waitSignal(dlg.printed, timeout=20_000):
        dlg.print_to(printer)
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    assert page_count(data) == 1
    width, height, pixels = gray_page(data, tmp_path, dpi=50)
    assert width == pytest.approx(413, abs=2)
    assert height == pytest.approx(585, abs=2)
    dark = sum(1 for p in pixels if p < 100)
    assert dark > 0.01 * len(pixels)  # the form is there, not a blank sheet
    # …and where it belongs: nothing printed within the form's 10 mm top margin
    top_rows = pixels[: width * int(9 / 25.4 * 50)]
    assert sum(1 for p in top_rows if p < 100) == 0

    qtbot.keyClick(dlg, Qt.Key.Key_Escape)
    assert not dlg.isVisible()


def test_save_writes_the_same_bytes(
    qtbot: QtBot, pdf: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dlg = _open(qtbot, pdf)
    target = tmp_path / "сохранено"  # the user typed no extension
    offered: list[str] = []

    def choose(parent: object, caption: str, directory: str, filter: str) -> tuple[str, str]:
        offered.append(directory)
        return str(target), filter

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(choose))
    with qtbot.waitSignal(dlg.printed, timeout=5000):
        qtbot.keyClick(dlg, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    saved = target.with_name("сохранено.pdf")
    assert saved.read_bytes() == pdf
    assert offered
    assert offered[0].endswith("Направление 057у 2025-000123.pdf")
    assert "Щукина Анна Петровна" in pdf_text(saved.read_bytes())


def test_cancelled_save_and_broken_pdf_do_nothing_harmful(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    dlg = PrintPreviewDialog(b"not a pdf", "Сломанный документ")
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    assert dlg.document.status is PdfStatus.ERROR
    assert not dlg.print_button.isEnabled()
    emitted: list[None] = []
    dlg.printed.connect(lambda: emitted.append(None))
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a: ("", ""))
    )  # the user pressed «Отмена»
    qtbot.keyClick(dlg, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert emitted == []
