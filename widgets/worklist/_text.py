"""The editor's text: template blanks, undoable replacement, and how a study is introduced."""

from __future__ import annotations

import datetime as dt
import re
from html import escape

from PySide6.QtCore import QRegularExpression
from PySide6.QtGui import QTextCursor, QTextDocument
from PySide6.QtWidgets import QPlainTextEdit

from services.clock import clinic_tz, now_utc
from services.conclusion_templates import BLANK
from services.errors import ValidationError
from services.models import ReadingStatus
from services.studies import StudyRow
from widgets.formatting import age_text, fmt_date
from widgets.worklist.model import CITO_COLOUR, STATUS_COLOUR

__all__ = [
    "blank_errors",
    "clock",
    "find_blank",
    "header_html",
    "replace_text",
    "status_html",
]

_BLANK = QRegularExpression(re.escape(BLANK) + "_*")  # «___», or a longer run of underscores
_BLANK_RE = re.compile(re.escape(BLANK) + "_*")


def clock() -> str:
    """Now, on the polyclinic's clock: «14:05»."""
    return f"{now_utc().astimezone(clinic_tz()):%H:%M}"


def _when(ts: dt.datetime | None) -> str:
    return f"{ts.astimezone(clinic_tz()):%d.%m.%Y %H:%M}" if ts is not None else ""


def replace_text(edit: QPlainTextEdit, text: str) -> None:
    """Replace the field's text as one step of its undo stack (``setPlainText`` clears it)."""
    cursor = QTextCursor(edit.document())
    cursor.beginEditBlock()
    cursor.select(QTextCursor.SelectionType.Document)
    cursor.insertText(text)
    cursor.endEditBlock()
    edit.moveCursor(QTextCursor.MoveOperation.Start)


def find_blank(edit: QPlainTextEdit, start: QTextCursor, *, backward: bool) -> bool:
    """Select the first blank after (before) ``start`` in ``edit``; False when there is none."""
    flags = QTextDocument.FindFlag.FindBackward if backward else QTextDocument.FindFlag(0)
    found = edit.document().find(_BLANK, start, flags)
    if found.isNull():
        return False
    edit.setTextCursor(found)
    edit.ensureCursorVisible()
    return True


def blank_errors(findings: str, conclusion: str) -> list[ValidationError]:
    """A template's unfilled blanks, as rules under their fields: they are not signed."""
    out = []
    for key, field, text in (("findings", "Описание", findings),
                             ("conclusion", "Заключение", conclusion)):  # fmt: skip
        n = len(_BLANK_RE.findall(text))
        if n:
            rule = f"не заполнены пропуски «{BLANK}» ({n}) — F3 выделит следующий"
            out.append(ValidationError(field, rule, key=key))
    return out


def header_html(r: StudyRow) -> str:
    """Whose study, what, when, on which referral — above the text, always in sight."""
    nbsp = "\u00a0"  # «№ RAD-1» and «снимков: 312» never broken over two lines
    images = "" if r.images is None else f" · снимков:{nbsp}{r.images}"
    number = f" · №{nbsp}{escape(r.accession)}" if r.accession else ""
    ref = (
        f"Направление {escape(r.referral_text)}"
        if r.referral_text
        else "<span style='color:#5a6b7d'>Без направления в ARM</span>"
    )
    if r.cito:
        ref = f"<span style='color:{CITO_COLOUR}; font-weight:600'>CITO</span> · {ref}"
    return (
        f"<span style='font-size:12pt; font-weight:600'>{escape(r.patient_full_name)}</span>"
        f", {fmt_date(r.birth_date)} ({age_text(r.birth_date)})<br>"
        f"<b>{escape(r.description or 'Исследование')}</b> · "
        f"{escape(r.modality.replace(chr(92), ', '))} · {fmt_date(r.study_date)}"
        f"{images}{number}<br>{ref}"
    )


def status_html(r: StudyRow) -> str:
    """«Статус: черновик, сохранён 12.11.2026 10:42 — Достоевский А. В.»."""
    colour = STATUS_COLOUR[r.status]
    text = f"Статус: <span style='color:{colour}; font-weight:600'>{r.status_text}</span>"
    if r.status == ReadingStatus.SIGNED:
        text += f" {_when(r.signed_at)} — {escape(r.radiologist)}"
    elif r.status == ReadingStatus.DRAFT:
        text += f", сохранён {_when(r.draft_saved_at)} — {escape(r.radiologist)}"
    return text
