"""The EMK's «Исследования» tab: the patient's studies from the PACS and the cache, with their
conclusions, and «Открыть снимки».

The list comes in two steps so the doctor never waits on the archive: what the record
already knows (one DB query), then what every PACS and the local cache say (IO lane), which
the record keeps (``StudyDesk.record``) before the list is read again.  A PACS that does not
answer is named above the list; the studies known to the record and the cache stay usable.
Every answer names its patient and request, and one for a patient no longer on screen is
dropped — a study list never shows another patient's studies.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from dicom.importer import MediaScan, import_scan, scan_media
from dicom.library import FoundStudy, Lookup
from dicom.patient_match import EmkPatient, compare_patient, split_dicom_name
from services.clock import clinic_tz
from services.models.study import ReadingStatus
from services.studies import StudyFacts, StudyRow
from widgets.ports import ErrorPresenter, Runner
from widgets.rows_model import Column, RowsModel, size_columns
from widgets.studies.windows import CD_SOURCE as CD
from widgets.studies.windows import StudyWindows
from widgets.viewer.state import ViewerSubject

__all__ = ["StudyLine", "StudyList", "study_facts"]

_TZ = clinic_tz()
_STATUS_COLOUR = {
    ReadingStatus.UNREAD: "#1565c0",
    ReadingStatus.DRAFT: "#9a6700",
    ReadingStatus.SIGNED: "#2e7d32",
}


@dataclass(frozen=True)
class StudyLine:
    """One study as the tab shows it: the record's side joined with the PACS/cache's."""

    row: StudyRow
    found: FoundStudy | None

    @property
    def file_patient_id(self) -> str:
        """The Patient ID in the files (a CD's own may differ from the EMK's)."""
        return self.found.info.patient_id if self.found is not None else self.row.dicom_patient_id

    @property
    def where(self) -> str:
        if self.found is not None and self.found.cached:
            return "на этом ПК"
        if self.found is not None:
            return self.found.source
        return self.row.pacs or "—"


def study_facts(found: list[FoundStudy]) -> list[StudyFacts]:
    """What the record keeps of studies the PACS or the cache reported."""
    return [
        StudyFacts(
            f.info.study_uid,
            f.info.patient_id,
            f.info.study_date,
            f.info.modalities,
            f.info.description,
            f.info.accession,
            f.source,
            f.info.instance_count,
        )
        for f in found
    ]


def _columns() -> list[Column[StudyLine]]:
    return [
        Column(
            "Дата",
            lambda x: f"{x.row.study_date:%d.%m.%Y}" if x.row.study_date else "—",
            "00.00.0000",
        ),
        Column("Вид", lambda x: x.row.modality.replace("\\", ", "), "CT, SR"),
        Column("Исследование", lambda x: x.row.description, "КТ органов грудной клетки с контр."),
        Column("Снимков", lambda x: str(x.row.images or "") or "—", "0000"),
        Column("Заключение", _conclusion_cell, "подписано: Двусторонняя пневмония"),
        Column("Где", lambda x: x.where, "Демо-PACS (Orthanc)", optional=True),
    ]


def _conclusion_cell(x: StudyLine) -> str:
    r = x.row
    if r.status == ReadingStatus.SIGNED:
        return " ".join(r.conclusion.split()) or "подписано"
    return r.status_text


class StudyList(QWidget):
    def __init__(
        self,
        runner: Runner,
        desk: Any,  # services.study_desk.StudyDesk
        windows: StudyWindows,
        show_error: ErrorPresenter,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._desk = desk
        self.windows = windows
        self.library = windows.library
        self._show_error = show_error
        self.patient_id: int | None = None
        self.patient: EmkPatient | None = None
        self.dicom_patient_id = ""
        self._request = 0
        self.lookup: Lookup | None = None
        self.columns = _columns()
        self.model: RowsModel[StudyLine] = RowsModel(
            self.columns,
            tooltip=lambda x: x.row.description,
            foreground=lambda x: QBrush(QColor(_STATUS_COLOUR[x.row.status])),
        )
        self.table = QTableView()
        self.table.setObjectName("studyTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        size_columns(self.table, self.columns, stretch=4)
        self.setFocusProxy(self.table)
        self.detail = QTextBrowser()
        self.detail.setOpenLinks(False)
        self.open_button = QPushButton("Открыть снимки  Enter")
        self.import_button = QPushButton("Загрузить с диска…  Ctrl+Shift+I")
        self.refresh_button = QPushButton("Обновить  F5")
        self.warning = QLabel()
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #9a3412;")
        self.warning.hide()
        self.summary = QLabel()
        self.summary.setStyleSheet("color: #555;")
        buttons = QHBoxLayout()
        for b in (self.open_button, self.import_button, self.refresh_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.summary)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(buttons)
        layout.addWidget(self.warning)
        layout.addWidget(split, 1)

        self.open_button.clicked.connect(self.open_selected)
        self.import_button.clicked.connect(self.import_media)
        self.refresh_button.clicked.connect(self.reload)
        self.table.doubleClicked.connect(lambda _i: self.open_selected())
        self.table.selectionModel().currentRowChanged.connect(lambda _c, _p: self._selected())
        ctx = Qt.ShortcutContext.WidgetWithChildrenShortcut
        QShortcut(QKeySequence("Return"), self.table, self.open_selected, context=ctx)
        QShortcut(QKeySequence("F5"), self, self.reload, context=ctx)
        QShortcut(QKeySequence("Ctrl+Shift+I"), self, self.import_media, context=ctx)
        self._selected()

    # --- the patient -----------------------------------------------------------------------
    def set_patient(
        self,
        patient_id: int | None,
        patient: EmkPatient | None = None,
        dicom_patient_id: str = "",
    ) -> None:
        self._request += 1
        self.patient_id = patient_id
        self.patient = patient
        self.dicom_patient_id = dicom_patient_id
        self.lookup = None
        self.model.set_rows([])
        self.warning.hide()
        self.summary.clear()
        self._selected()
        if patient_id is not None:
            self.reload()

    def reload(self) -> None:
        pid = self.patient_id
        if pid is None:
            return
        self._request += 1
        token = self._request
        self.summary.setText("Запрос в PACS…" if self.library.has_pacs else "")

        def alive() -> bool:
            return token == self._request and pid == self.patient_id

        def got_rows(rows: list[StudyRow]) -> None:
            if alive():
                self._show(rows)

        def looked(lookup: Lookup) -> None:
            if not alive():
                return
            self.lookup = lookup
            self._warn(lookup)
            self._runner.run(
                lambda _st: self._record_and_read(pid, lookup),
                on_success=got_rows,
                on_failure=failed,
            )

        def failed(exc: BaseException) -> None:
            if alive():
                self.summary.clear()
                self._show_error(self, exc, self.reload)

        # The record's list first (fast), then the PACS and the cache.
        self._runner.run(lambda _st: self._desk.of_patient(pid), on_success=got_rows)
        also = [x.row.study_uid for x in self.model.rows if x.row.pacs == CD]
        dpid = self.dicom_patient_id
        self._runner.run(
            lambda _st: self._ask_library(pid, dpid, also),
            lane="io",
            on_success=looked,
            on_failure=failed,
        )

    def _ask_library(self, pid: int, dicom_pid: str, also: list[str]) -> Lookup:  # IO lane
        if not also:
            also = [r.study_uid for r in self._desk.of_patient(pid) if r.pacs == CD]
        return self.library.patient_studies(dicom_pid, also)

    def _record_and_read(self, pid: int, lookup: Lookup) -> list[StudyRow]:  # DB lane
        mine = [f for f in lookup.studies if f.info.patient_id == self.dicom_patient_id]
        if mine:
            self._desk.record(study_facts(mine))
        rows: list[StudyRow] = self._desk.of_patient(pid)
        return rows

    def _warn(self, lookup: Lookup) -> None:
        if lookup.failures:
            names = "; ".join(f"{name}: {exc}" for name, exc in lookup.failures)
            self.warning.setText(
                f"PACS не ответил — {names}. Показаны исследования, известные ARM и сохранённые "
                "на этом компьютере. F5 — повторить."
            )
            self.warning.show()
        else:
            self.warning.hide()

    def _show(self, rows: list[StudyRow]) -> None:
        if any(r.patient_id != self.patient_id for r in rows):
            return  # never another patient's studies under this name
        found = {f.info.study_uid: f for f in (self.lookup.studies if self.lookup else [])}
        keep = self.selected()
        lines = [StudyLine(r, found.get(r.study_uid)) for r in rows]
        self.model.set_rows(lines)
        unread = sum(r.status != ReadingStatus.SIGNED for r in rows)
        self.summary.setText(
            f"Исследований: {len(rows)}" + (f", без заключения: {unread}" if unread else "")
        )
        if lines:
            i = next(
                (k for k, x in enumerate(lines) if keep and x.row.study_uid == keep.row.study_uid),
                0,
            )
            self.table.selectRow(i)
        self._selected()

    def selected(self) -> StudyLine | None:
        idx = self.table.currentIndex()
        return self.model.row_at(idx.row()) if idx.isValid() else None

    def _selected(self) -> None:
        x = self.selected()
        self.open_button.setEnabled(x is not None)
        self.import_button.setEnabled(self.patient_id is not None)
        self.refresh_button.setEnabled(self.patient_id is not None)
        self.detail.setHtml(_detail_html(x) if x is not None else "")

    # --- images ----------------------------------------------------------------------------
    def open_selected(self) -> None:
        x = self.selected()
        if x is None or self.patient is None:
            return
        name = " ".join(
            p for p in (self.patient.surname, self.patient.first_name, self.patient.patronymic) if p
        )
        subject = ViewerSubject(
            patient_id=x.file_patient_id,
            patient_name=name,
            study_uid=x.row.study_uid,
            study_date=f"{x.row.study_date:%Y%m%d}" if x.row.study_date else "",
            study_description=x.row.description,
        )
        retrievable = x.found.retrievable if x.found is not None else x.row.pacs != CD
        source = x.found.source if x.found is not None else x.row.pacs
        self.windows.open(subject, source=source, retrievable=retrievable, size_from=self)

    # --- a patient's CD --------------------------------------------------------------------
    def import_media(self) -> None:
        pid, patient = self.patient_id, self.patient
        if pid is None or patient is None:
            return
        folder = QFileDialog.getExistingDirectory(
            self, "Диск или папка с исследованиями (DICOMDIR)", str(Path.home())
        )
        if not folder:
            return
        token = self._request

        def scanned(scan: MediaScan) -> None:
            if token != self._request or pid != self.patient_id:
                return
            self._confirm_import(pid, patient, scan)

        self._runner.run(
            lambda st: scan_media(Path(folder), st),
            lane="io",
            on_success=scanned,
            on_failure=self._failed_quietly,
            progress_label="Чтение диска…",
            parent=self,
        )

    def _confirm_import(self, pid: int, patient: EmkPatient, scan: MediaScan) -> None:
        if not scan.patients:
            QMessageBox.information(
                self,
                "Загрузка с диска",
                f"В «{scan.root}» нет исследований DICOM (пропущено файлов: {scan.skipped}).",
            )
            return
        lines: list[str] = []
        differ = False
        for p in scan.patients:
            family, given, middle = split_dicom_name(p.name)
            who = " ".join(x for x in (family, given, middle) if x) or "(без имени)"
            born = p.birth_date
            born_text = f"{born[6:8]}.{born[4:6]}.{born[:4]}" if len(born) == 8 else "—"
            diffs = compare_patient(p.name, p.birth_date, patient)
            differ = differ or bool(diffs)
            studies = ", ".join(
                f"{s.description or '/'.join(s.modalities)} ({s.instances} изобр.)"
                for s in p.studies
            )
            line = f"<b>{escape(who)}</b>, {born_text}: {escape(studies)}"
            if diffs:
                line += f"<br><span style='color:#b00020'>Не совпадает с ЭМК: {escape('; '.join(diffs))}</span>"
            lines.append(line)
        emk_name = " ".join(
            x for x in (patient.surname, patient.first_name, patient.patronymic) if x
        )
        box = QMessageBox(self)
        box.setWindowTitle("Загрузка с диска")
        box.setIcon(QMessageBox.Icon.Warning if differ else QMessageBox.Icon.Question)
        box.setTextFormat(Qt.TextFormat.RichText)
        question = (
            f"Данные пациента на диске <b>отличаются</b> от ЭМК. Это точно исследования пациента "
            f"{escape(emk_name)}?"
            if differ
            else f"Загрузить исследования в карту пациента {escape(emk_name)}?"
        )
        box.setText("На диске:<br>" + "<br>".join(lines) + f"<br><br>{question}")
        load = box.addButton("Загрузить в ЭМК", QMessageBox.ButtonRole.AcceptRole)
        cancel = box.addButton("Отмена", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(cancel if differ else load)
        box.exec()
        if box.clickedButton() is not load:
            return
        self._import(pid, scan)

    def _failed_quietly(self, exc: BaseException) -> None:
        self._show_error(self, exc, None)

    def _import(self, pid: int, scan: MediaScan) -> None:
        def work(state: Any) -> int:
            uids = set(import_scan(scan, self.library.cache, state))
            facts = [
                StudyFacts(
                    s.study_uid, p.patient_id, s.study_date, s.modalities, s.description,
                    "", CD, s.instances,
                )
                for p in scan.patients
                for s in p.studies
                if s.study_uid in uids
            ]  # fmt: skip
            n: int = self._desk.record(facts, patient_id=pid)
            return n

        def done(n: int) -> None:
            if pid == self.patient_id:
                self.summary.setText(f"С диска загружено исследований: {n}")
                self.reload()

        self._runner.run(
            work,
            lane="io",
            on_success=done,
            on_failure=self._failed_quietly,
            progress_label="Загрузка исследований с диска…",
            parent=self,
        )


def _detail_html(x: StudyLine) -> str:
    r = x.row
    head = escape(r.description or r.modality)
    date = f"{r.study_date:%d.%m.%Y}" if r.study_date else ""
    parts = [
        f"<h3 style='margin:0'>{head}</h3>",
        f"<p style='color:#555'>{date} · {escape(r.modality)}",
    ]
    if r.accession:
        parts[-1] += f" · № {escape(r.accession)}"
    if r.referral_text:
        parts[-1] += f" · направление {escape(r.referral_text)}"
    parts[-1] += "</p>"
    if r.status == ReadingStatus.SIGNED:
        signed = f"{r.signed_at.astimezone(_TZ):%d.%m.%Y %H:%M}" if r.signed_at else ""
        parts.append(
            f"<p><b>Описание.</b> {escape(r.findings)}</p>"
            f"<p><b>Заключение.</b> {escape(r.conclusion)}</p>"
            f"<p style='color:#555'>Подписал: {escape(r.radiologist or '—')} {signed}</p>"
        )
    elif r.status == ReadingStatus.DRAFT:
        parts.append("<p style='color:#9a6700'>Заключение пишется (черновик рентгенолога).</p>")
    else:
        parts.append("<p style='color:#1565c0'>Заключения ещё нет.</p>")
    return "".join(parts)
