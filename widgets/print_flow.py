"""The one way a document goes to paper: preview, print or save, then archive.

Every screen that prints hands a :class:`~services.printouts.PrintJob` (already rendered, in
the I/O lane) to a ``PrintFlow``.  The bytes the user printed or saved are the bytes archived,
with the copy number they were rendered for, so a reprint in the archive is marked exactly as
it was on paper.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QWidget

from services.printouts import PrintJob

if TYPE_CHECKING:
    from widgets.print_preview import PrintPreviewDialog
from widgets.ports import ErrorPresenter, Runner

__all__ = ["PrintFlow"]


class PrintFlow:
    def __init__(
        self, runner: Runner, archive: Callable[[PrintJob], int], show_error: ErrorPresenter
    ) -> None:
        self._runner = runner
        self._archive = archive
        self._show_error = show_error
        self.dialog: PrintPreviewDialog | None = None  # the open preview (tests drive it)
        self.archived: list[int] = []

    def __call__(self, job: PrintJob, parent: QWidget) -> PrintPreviewDialog:
        # PDFium and the form kit load on the first print, not at sign-in (~0.3 s).
        from widgets.print_preview import PrintPreviewDialog

        title = job.title + (" — ДУБЛИКАТ" if job.duplicate else "")
        dlg = PrintPreviewDialog(job.pdf, title=title, filename=job.filename, parent=parent)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        archived = False

        def printed() -> None:
            nonlocal archived
            if archived:
                return  # printed and then saved: one document, one archive entry
            archived = True
            self._runner.run(
                lambda _st: self._archive(job),
                on_success=self.archived.append,
                on_failure=lambda exc: self._failed(dlg, exc),
            )

        dlg.printed.connect(printed)
        # After the dialog is gone (the window system hands activation around first).
        dlg.finished.connect(lambda _r: QTimer.singleShot(0, lambda: _back_to(parent)))
        self.dialog = dlg
        dlg.open()
        return dlg

    def _failed(self, parent: Any, exc: BaseException) -> None:
        self._show_error(parent, exc, None)


def _back_to(widget: QWidget) -> None:
    """Closing the preview returns the keyboard to where printing was asked for."""
    widget.window().activateWindow()
    widget.setFocus()
