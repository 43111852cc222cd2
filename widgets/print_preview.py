"""«Предварительный просмотр»: the one place every printed form is seen, printed and saved.

A form arrives as PDF bytes from ``printing/`` (rendered in the I/O lane); this dialog shows
its pages fitted to the window's width, prints them through Qt's print dialog, or saves the
very same bytes as a PDF file. ``printed`` tells the caller that the document left the
program — on paper or as a file — so it can be archived.

Pages are drawn by PDFium through pypdfium2 (the engine QtPdf wraps), not QtPdf itself: QtPdf
is only in the ~175 MB PySide6-Addons wheel, and ARM ships PySide6-Essentials (see
``widgets/emk/lab_trend.py``); pypdfium2 is a 3 MB wheel. :class:`PdfPages` is the only code
that knows which engine it is.

Printing sends each page as a greyscale image at the printer's resolution (capped at 600 dpi,
which is ~35 MB per A4 page) with ``fullPage`` set, so the page's own margins and the
per-printer offset drawn into the PDF land where they were measured, not shifted again by the
driver's unprintable margins.
"""

from __future__ import annotations

import enum
import logging
from pathlib import Path

import pypdfium2 as pdfium
from PySide6.QtCore import QEvent, QObject, QRectF, QSizeF, QStandardPaths, Qt, QTimer, Signal
from PySide6.QtGui import (
    QGuiApplication,
    QImage,
    QKeySequence,
    QPageLayout,
    QPageSize,
    QPainter,
    QPixmap,
    QShortcut,
    QWheelEvent,
)
from PySide6.QtPrintSupport import QAbstractPrintDialog, QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from services.errors import ArmError
from widgets.ports import ErrorPresenter

__all__ = ["PdfPages", "PdfStatus", "PrintPreviewDialog"]

log = logging.getLogger(__name__)

PRINT_DPI_CAP = 600
ZOOM_STEPS = (0.5, 0.67, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0)
"""Zoom factors relative to «fit to width» (1.0)."""


class PdfStatus(enum.Enum):
    READY = "ready"
    ERROR = "error"


class PdfPages:
    """PDF bytes opened for display and printing: page count, page sizes, page images."""

    def __init__(self, data: bytes) -> None:
        self.error = ""
        self._doc: pdfium.PdfDocument | None = None
        self._sizes: list[tuple[float, float]] = []
        try:
            self._doc = pdfium.PdfDocument(data)
            self._sizes = [self._doc[i].get_size() for i in range(len(self._doc))]
        except pdfium.PdfiumError as exc:
            self.error = str(exc)
            self._doc = None

    @property
    def status(self) -> PdfStatus:
        return PdfStatus.READY if self._doc is not None and self._sizes else PdfStatus.ERROR

    @property
    def page_count(self) -> int:
        return len(self._sizes)

    def page_size(self, index: int) -> QSizeF:
        """Points (1/72 inch)."""
        w, h = self._sizes[index]
        return QSizeF(w, h)

    def render(self, index: int, scale: float, *, grayscale: bool = False) -> QImage:
        """Page ``index`` at ``scale`` pixels per point, on white."""
        assert self._doc is not None
        bitmap = self._doc[index].render(
            scale=scale, grayscale=grayscale, rev_byteorder=True, prefer_bgrx=True
        )
        fmt = QImage.Format.Format_Grayscale8 if bitmap.n_channels == 1 else (
            QImage.Format.Format_RGBX8888
        )  # fmt: skip
        image = QImage(bitmap.buffer, bitmap.width, bitmap.height, bitmap.stride, fmt)
        return image.copy()  # detach from PDFium's buffer, which goes with ``bitmap``

    def close(self) -> None:
        if self._doc is not None:
            self._doc.close()
            self._doc = None


class _PageView(QScrollArea):
    """The pages one under another on grey, fitted to the width times ``zoom``."""

    sig_rendered = Signal()
    sig_zoom_changed = Signal(float)

    def __init__(self, pages: PdfPages, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pages = pages
        self.zoom = 1.0
        self._rendered_for: tuple[int, float, float] | None = None
        self._labels: list[QLabel] = []
        self.setWidgetResizable(True)
        self.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        body = QWidget()
        body.setObjectName("pdfPages")
        body.setStyleSheet("#pdfPages { background: #808a93; }")
        lay = QVBoxLayout(body)
        lay.setContentsMargins(12, 12, 12, 12)
        lay.setSpacing(12)
        for _ in range(pages.page_count):
            label = QLabel()
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setStyleSheet("background: white; border: 1px solid #5c646b;")
            lay.addWidget(label, 0, Qt.AlignmentFlag.AlignHCenter)
            self._labels.append(label)
        if pages.status is PdfStatus.ERROR:
            msg = QLabel(f"Документ не открывается: {pages.error or 'пустой файл'}")
            msg.setStyleSheet("color: white; font-size: 12pt;")
            lay.addWidget(msg, 0, Qt.AlignmentFlag.AlignCenter)
        lay.addStretch(1)
        self.setWidget(body)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)  # coalesce a burst of resizes into one render
        self._timer.timeout.connect(self.render_pages)
        self.viewport().installEventFilter(self)

    def page_label(self, index: int) -> QLabel:
        return self._labels[index]

    def set_zoom(self, zoom: float) -> None:
        zoom = min(max(zoom, ZOOM_STEPS[0]), ZOOM_STEPS[-1])
        if zoom != self.zoom:
            self.zoom = zoom
            self.sig_zoom_changed.emit(zoom)
            self.render_pages()

    def step_zoom(self, direction: int) -> None:
        if direction > 0:
            self.set_zoom(next((z for z in ZOOM_STEPS if z > self.zoom + 1e-6), ZOOM_STEPS[-1]))
        else:
            lower = [z for z in ZOOM_STEPS if z < self.zoom - 1e-6]
            self.set_zoom(lower[-1] if lower else ZOOM_STEPS[0])

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.viewport():
            if event.type() == QEvent.Type.Resize:
                self._timer.start()
            elif event.type() == QEvent.Type.Wheel:
                wheel: QWheelEvent = event  # type: ignore[assignment]
                if wheel.modifiers() & Qt.KeyboardModifier.ControlModifier:
                    self.step_zoom(1 if wheel.angleDelta().y() > 0 else -1)
                    return True
        return super().eventFilter(watched, event)

    def render_pages(self) -> None:
        """Draw every page at the width the viewport allows (fit to width) times ``zoom``."""
        if self._pages.status is not PdfStatus.READY:
            return
        avail = max(self.viewport().width() - 24 - 2, 100)
        dpr = self.devicePixelRatioF()
        key = (avail, self.zoom, dpr)
        if key == self._rendered_for:
            return
        self._rendered_for = key
        widest = max(self._pages.page_size(i).width() for i in range(self._pages.page_count))
        scale = avail / widest * self.zoom  # logical pixels per point
        for i, label in enumerate(self._labels):
            image = self._pages.render(i, scale * dpr)
            pixmap = QPixmap.fromImage(image)
            pixmap.setDevicePixelRatio(dpr)
            label.setPixmap(pixmap)
            label.setFixedSize(round(image.width() / dpr) + 2, round(image.height() / dpr) + 2)
        self.sig_rendered.emit()


class PrintPreviewDialog(QDialog):
    """Shows a printed form's PDF; «Печать…», «Сохранить PDF…», «Закрыть».

    Args:
        pdf: the document, as ``printing`` rendered it.
        title: what it is, shown above the pages and as the print job's name
            («Направление 057/у № 2025-000123»); no patient's name, it reaches the print queue.
        filename: the name «Сохранить PDF…» offers.
        show_error: the application's error presenter; a message box when not given.
    """

    printed = Signal()
    """The document was sent to a printer or saved as a file: the caller archives it."""

    def __init__(
        self,
        pdf: bytes,
        title: str,
        *,
        filename: str = "документ.pdf",
        show_error: ErrorPresenter | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.pdf = pdf
        self.title = title
        self.filename = filename
        self._show_error = show_error
        self.document = PdfPages(pdf)

        self.setWindowTitle(f"Предварительный просмотр — {title}")
        self.resize(900, 760)
        self.caption = QLabel(title)
        self.caption.setStyleSheet("font-size: 13pt; font-weight: 700;")
        self.zoom_label = QLabel("По ширине")
        self.zoom_label.setToolTip("Ctrl+колесо, Ctrl++ и Ctrl+− — масштаб; Ctrl+0 — по ширине")
        self.view = _PageView(self.document)
        self.print_button = QPushButton("Печать… (Ctrl+P)")
        self.save_button = QPushButton("Сохранить PDF… (Ctrl+S)")
        self.close_button = QPushButton("Закрыть (Esc)")
        self.print_button.setDefault(True)
        ready = self.document.status is PdfStatus.READY
        self.print_button.setEnabled(ready)
        self.save_button.setEnabled(bool(pdf))

        top = QHBoxLayout()
        top.addWidget(self.caption, 1)
        top.addWidget(self.zoom_label)
        buttons = QHBoxLayout()
        buttons.addWidget(self.print_button)
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)

        self.print_button.clicked.connect(self.print_with_dialog)
        self.save_button.clicked.connect(self.save_with_dialog)
        self.close_button.clicked.connect(self.reject)
        self.view.sig_zoom_changed.connect(self._show_zoom)
        for keys, slot in (
            (QKeySequence.StandardKey.Print, self.print_with_dialog),
            (QKeySequence.StandardKey.Save, self.save_with_dialog),
            (QKeySequence.StandardKey.ZoomIn, lambda: self.view.step_zoom(1)),
            (QKeySequence("Ctrl+="), lambda: self.view.step_zoom(1)),
            (QKeySequence.StandardKey.ZoomOut, lambda: self.view.step_zoom(-1)),
            (QKeySequence("Ctrl+0"), lambda: self.view.set_zoom(1.0)),
        ):
            QShortcut(keys, self, slot)
        self.view.setFocus()

    # --- printing -------------------------------------------------------------------------
    def print_with_dialog(self) -> None:
        """Ctrl+P: Qt's print dialog (printer, copies, page range), then :meth:`print_to`."""
        if self.document.status is not PdfStatus.READY:
            return
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(self.title)
        size = self.document.page_size(0)
        printer.setPageSize(
            QPageSize(size, QPageSize.Unit.Point, matchPolicy=QPageSize.SizeMatchPolicy.FuzzyMatch)
        )
        printer.setPageOrientation(
            QPageLayout.Orientation.Landscape
            if size.width() > size.height()
            else QPageLayout.Orientation.Portrait
        )
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle("Печать")
        dialog.setMinMax(1, self.document.page_count)
        dialog.setOption(QAbstractPrintDialog.PrintDialogOption.PrintPageRange, True)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        self.print_to(printer)

    def print_to(self, printer: QPrinter) -> None:
        """Print every page (or the range chosen in the dialog) onto ``printer``."""
        count = self.document.page_count
        first, last = 1, count
        if printer.printRange() == QPrinter.PrintRange.PageRange and printer.fromPage() > 0:
            first, last = max(printer.fromPage(), 1), min(printer.toPage() or count, count)
        printer.setFullPage(True)  # the PDF's own margins and offset are the truth
        dpi = printer.resolution()
        scale = min(dpi, PRINT_DPI_CAP) / 72
        painter = QPainter()
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            if not painter.begin(printer):
                raise ArmError(f"Принтер «{printer.printerName() or 'PDF'}» не принял задание")
            for n, index in enumerate(range(first - 1, last)):
                if n and not printer.newPage():
                    raise ArmError("Принтер прервал печать")
                size = self.document.page_size(index)
                target = QRectF(0, 0, size.width() / 72 * dpi, size.height() / 72 * dpi)
                painter.drawImage(target, self.document.render(index, scale, grayscale=True))
        except ArmError as exc:
            self._error(exc)
            return
        finally:
            if painter.isActive():
                painter.end()
            QGuiApplication.restoreOverrideCursor()
        log.info("printed %d page(s) to %s", last - first + 1, printer.printerName() or "file")
        self.printed.emit()

    # --- saving ----------------------------------------------------------------------------
    def default_save_path(self) -> str:
        folder = QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.DocumentsLocation
        ) or str(Path.home())
        return str(Path(folder) / self.filename)

    def save_with_dialog(self) -> None:
        """Ctrl+S: ask where, then write the bytes exactly as rendered."""
        if not self.pdf:
            return
        path, _filter = QFileDialog.getSaveFileName(
            self, "Сохранить PDF", self.default_save_path(), "PDF (*.pdf)"
        )
        if not path:
            return
        if not path.lower().endswith(".pdf"):
            path += ".pdf"
        try:
            Path(path).write_bytes(self.pdf)
        except OSError as exc:
            self._error(ArmError(f"Не удалось сохранить {path}: {exc.strerror or exc}"))
            return
        self.printed.emit()

    # --- the rest --------------------------------------------------------------------------
    def _show_zoom(self, zoom: float) -> None:
        self.zoom_label.setText("По ширине" if zoom == 1.0 else f"{round(zoom * 100)} %")

    def _error(self, exc: BaseException) -> None:
        if self._show_error is not None:
            self._show_error(self, exc, None)
        else:
            QMessageBox.warning(self, "Печать", str(exc))

    def done(self, result: int) -> None:
        super().done(result)
        self.document.close()
