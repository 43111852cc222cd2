"""The reading pane: one document of the record, named for its patient at the top.

The document is rendered as HTML in a read-only browser (selectable, copyable, printable
later through ``printing/``).  The patient's name and birth date head it, so a document
never stands on screen without saying whose it is — even when copied elsewhere.
"""

from __future__ import annotations

import datetime as dt
from html import escape

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from services.emk import CHARACTER_TEXT, DIAGNOSIS_ROLE_TEXT, KIND_TEXT, DocumentView
from services.lab_types import LabFlag
from services.models import DocKind

__all__ = ["DocumentPane", "document_html"]

_FLAG_TEXT = {
    LabFlag.HIGH: "↑ выше нормы",
    LabFlag.LOW: "↓ ниже нормы",
    LabFlag.ABNORMAL: "! отклонение",
}


def _local(ts: dt.datetime) -> str:
    return ts.astimezone().strftime("%d.%m.%Y %H:%M")


def document_html(doc: DocumentView, patient_title: str) -> str:
    out = [
        f"<p style='color:#333; margin:0'>Пациент: <b>{escape(patient_title)}</b></p>",
        f"<h2 style='margin:6px 0 2px 0'>{escape(doc.title)}</h2>",
        f"<p style='color:#444; margin:0'>{_local(doc.occurred_at)} · "
        f"{escape(KIND_TEXT[doc.kind])}"
        + (f" · {escape(doc.specialty)}" if doc.specialty else "")
        + "</p>",
    ]
    if doc.organisation:
        out.append(f"<p style='margin:0'>{escape(doc.organisation)}</p>")
    if doc.superseded_by is not None:
        out.append(
            "<p style='background:#fff3cd; padding:4px'><b>Это не последняя версия:</b> "
            "документ исправлен, действует более новая версия.</p>"
        )
    if doc.version > 1:
        out.append(
            f"<p style='color:#9a3412'>Версия {doc.version} — исправление: "
            f"{escape(doc.amend_reason)}</p>"
        )
    for title, text in doc.sections:
        body = escape(text).replace("\n", "<br>")
        out.append(
            f"<h4 style='margin:10px 0 2px 0'>{escape(title)}</h4><p style='margin:0'>{body}</p>"
        )
    if doc.details:
        rows = "".join(
            f"<tr><td style='color:#555; padding-right:12px'>{escape(str(k))}</td>"
            f"<td>{escape(str(v))}</td></tr>"
            for k, v in doc.details.items()
            if k != "template" and v not in ("", None)
        )
        if rows:
            out.append(f"<table style='margin-top:8px'>{rows}</table>")
    if doc.diagnoses:
        out.append("<h4 style='margin:10px 0 2px 0'>Диагнозы</h4><table cellpadding='3'>")
        for d in doc.diagnoses:
            ch = f" ({CHARACTER_TEXT[d.character]})" if d.character else ""
            note = f"<br><i>{escape(d.note)}</i>" if d.note else ""
            out.append(
                f"<tr><td style='color:#555'>{DIAGNOSIS_ROLE_TEXT[d.role]}</td>"
                f"<td><b>{escape(d.code)}</b></td><td>{escape(d.name)}{ch}{note}</td></tr>"
            )
        out.append("</table>")
    if doc.labs:
        out.append(
            "<table width='100%' cellpadding='3' style='margin-top:8px; border-collapse:collapse'>"
            "<tr style='background:#eef3f8'><th align='left' width='38%'>Показатель</th>"
            "<th align='right'>Результат</th><th align='left'>Ед.</th>"
            "<th align='left'>Норма</th><th align='left'></th></tr>"
        )
        for lab in doc.labs:
            bad = lab.flag != LabFlag.NORMAL
            style = " style='color:#b00020; font-weight:700'" if bad else ""
            out.append(
                f"<tr{style}><td>{escape(lab.test_name)}</td><td align='right' style='white-space:pre'>"
                f"{escape(lab.value_text)}</td><td style='white-space:pre'>{escape(lab.unit)}</td>"
                f"<td style='white-space:pre'>{escape(lab.reference)}</td>"
                f"<td>{_FLAG_TEXT.get(lab.flag, '')}</td></tr>"
            )
        out.append("</table>")
    if doc.study_uid:
        out.append(f"<p style='color:#555'>Исследование DICOM: {escape(doc.study_uid)}</p>")
    signer = f"Подписан: {escape(doc.author_name)}, {_local(doc.signed_at)}"
    out.append(f"<p style='color:#555; margin-top:12px'>{signer}</p>")
    if len(doc.versions) > 1:
        vers = ", ".join(
            f"версия {v.version} от {_local(v.signed_at)}" + (" (эта)" if v.id == doc.id else "")
            for v in doc.versions
        )
        out.append(f"<p style='color:#555'>Все версии: {vers}</p>")
    return "".join(out)


class DocumentPane(QWidget):
    sig_amend = Signal(int)  # document id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document: DocumentView | None = None
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.browser.setObjectName("documentBrowser")
        self.placeholder = "Выберите документ в списке слева"
        self.amend = QPushButton("Исправить…")
        self.amend.setToolTip("Создать исправленную версию подписанного протокола")
        self.amend.clicked.connect(self._amend)
        self.note = QLabel()
        bar = QHBoxLayout()
        bar.addWidget(self.note, 1)
        bar.addWidget(self.amend)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.browser, 1)
        layout.addLayout(bar)
        self.can_amend = False
        self.clear()

    def show_document(self, doc: DocumentView, patient_title: str) -> None:
        self.document = doc
        self.browser.setHtml(document_html(doc, patient_title))
        amendable = doc.kind == DocKind.PROTOCOL and doc.superseded_by is None
        self.amend.setVisible(self.can_amend and amendable)

    def clear(self) -> None:
        self.document = None
        self.browser.setHtml(f"<p style='color:#777'>{self.placeholder}</p>")
        self.amend.setVisible(False)

    def _amend(self) -> None:
        if self.document is not None:
            self.sig_amend.emit(self.document.id)
