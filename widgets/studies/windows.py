"""The open study windows of one workstation: one window per study, raised when asked again."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from dicom.library import StudyLibrary
from services.studies import StudyRow
from widgets.ports import ErrorPresenter, Runner
from widgets.studies.window import StudyWindow
from widgets.viewer.state import ViewerSubject

__all__ = ["CD_SOURCE", "StudyWindows"]

CD_SOURCE = "CD"  # where a study imported from a patient's disc came from


class StudyWindows:
    def __init__(self, runner: Runner, library: StudyLibrary, show_error: ErrorPresenter) -> None:
        self.runner = runner
        self.library = library
        self.show_error = show_error
        self.windows: dict[str, StudyWindow] = {}

    def open(
        self,
        subject: ViewerSubject,
        *,
        source: str,
        retrievable: bool,
        size_from: QWidget | None = None,
    ) -> StudyWindow:
        win = self.windows.get(subject.study_uid)
        if win is not None and win.subject.patient_id == subject.patient_id:
            win.showNormal()
            win.raise_()
            win.activateWindow()
            return win
        win = StudyWindow(
            self.runner,
            self.library,
            subject,
            source=source,
            retrievable=retrievable,
            show_error=self.show_error,
        )
        self.windows[subject.study_uid] = win
        win.sig_closed.connect(lambda uid: self.windows.pop(uid, None))
        if size_from is not None:
            screen = size_from.screen().availableGeometry()
            win.resize(min(1600, screen.width() - 40), min(1000, screen.height() - 60))
        else:
            win.resize(1280, 860)
        win.show()
        win.start()
        return win

    def open_row(self, row: StudyRow, *, size_from: QWidget | None = None) -> StudyWindow:
        """A study of the record (the worklist's row): from the cache, else its PACS."""
        cached = self.library.cache.study(row.study_uid)
        from_cd = row.pacs == CD_SOURCE
        # A CD keeps its own Patient ID in the files; the record matched it to this patient.
        pid = cached.record.patient_id if cached is not None and from_cd else row.dicom_patient_id
        subject = ViewerSubject(
            patient_id=pid,
            patient_name=row.patient_full_name,
            study_uid=row.study_uid,
            study_date=f"{row.study_date:%Y%m%d}" if row.study_date else "",
            study_description=row.description,
        )
        return self.open(
            subject,
            source=row.pacs,
            retrievable=not from_cd and self.library.has_pacs,
            size_from=size_from,
        )

    def close_all(self) -> None:
        for win in list(self.windows.values()):
            win.close()
